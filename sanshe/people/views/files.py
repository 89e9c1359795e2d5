"""Pages of the person file: list and search, the file itself, edits, status, contacts,
attachments and the audited reveal of a full ID number."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.access import has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability
from sanshe.core.downloads import private_file_response
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.lib.masking import mask_phone
from sanshe.people import actions
from sanshe.people.access import access_attachment, access_person, can_edit_person, can_reveal_id, visible_people
from sanshe.people.forms import AttachmentForm, ContactForm, PersonFilterForm, PersonForm, RevealForm, StatusForm
from sanshe.people.models import Person
from sanshe.people.queries import bounded_count, filter_people

PAGE_SIZE = 20


def _require(request: AuthedRequest, capability: Capability) -> None:
    if not has_capability(request.user, capability):
        raise PermissionDenied("您没有此项权限")


def person_list(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.VIEW_PEOPLE)
    form = PersonFilterForm(request.GET or None, user=request.user)
    person_filter = form.to_filter()
    qs = filter_people(visible_people(request.user), person_filter, today=timezone.localdate())
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE_SIZE
    rows = list(
        qs.select_related("residence_region__parent").order_by("id")[start : start + PAGE_SIZE + 1]
    )
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    count, more = bounded_count(qs)
    today = timezone.localdate()
    people = [
        {"person": p, "age": p.age(today), "phone": mask_phone(p.phone) if p.phone else ""} for p in rows
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "people": people, "count": count, "count_more": more, "page": page,
        "has_next": has_next, "query": query.urlencode(), "can_export": has_capability(request.user, Capability.EXPORT_PEOPLE),
        "can_create": has_capability(request.user, Capability.EDIT_PEOPLE),
        "can_export_full": has_capability(request.user, Capability.EXPORT_PEOPLE)
        and has_capability(request.user, Capability.REVEAL_ID),
        "full_export_limit": settings.EXPORT_FULL_MAX_ROWS,
    }
    if request.htmx:
        return render(request, "people/_results.html", context)
    return render(request, "people/list.html", context)


def person_detail(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    actions.record_person_view(person, acting_user=request.user, request=request)
    context = {
        "person": person,
        "age": person.age(),
        "contacts": person.contacts.all(),
        "attachments": person.attachments.all(),
        "changes": person.changes.all()[:50],
        "status_changes": person.status_changes.all()[:20],
        "can_edit": can_edit_person(request.user, person),
        "can_reveal": can_reveal_id(request.user, person) and bool(person.id_number_cipher),
        "status_form": StatusForm(initial={"effective_date": timezone.localdate()}),
        "contact_form": ContactForm(),
        "attachment_form": AttachmentForm(),
        "reveal_form": RevealForm(),
    }
    return render(request, "people/detail.html", context)


def person_create(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.EDIT_PEOPLE)
    form = PersonForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.create_person(values=form.values(), acting_user=request.user, request=request)
        except ValidationFailed as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"已为 {person.name} 建立档案，档案编号 {person.file_number}")
            return redirect("people:detail", person_id=person.pk)
    return render(request, "people/form.html", {"form": form, "person": None})


def person_edit(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id, for_write=True)
    form = PersonForm(request.POST or None, instance=person, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_person(
                Person.objects.get(pk=person.pk), values=form.values(), acting_user=request.user,
                reason=form.cleaned_data["reason"], expected_version=form.cleaned_data.get("version"),
                request=request,
            )
        except ValidationFailed as exc:
            _attach_errors(form, exc)
        except UserError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "档案已保存，修改已记入变更历史")
            return redirect("people:detail", person_id=person.pk)
    return render(request, "people/form.html", {"form": form, "person": person})


def _attach_errors(form: Any, exc: ValidationFailed) -> None:
    for field, problems in exc.errors.items():
        target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, problem)


@require_POST
def person_status(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id, for_write=True)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "状态变更未保存：" + "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("people:detail", person_id=person.pk)
    try:
        actions.change_status(person, acting_user=request.user, request=request, **form.cleaned_data)
    except UserError as exc:
        messages.error(request, f"状态变更未保存：{exc.message}")
    else:
        messages.success(request, "状态已变更")
    return redirect("people:detail", person_id=person.pk)


@require_POST
def reveal_id(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    form = RevealForm(request.POST)
    context: dict[str, Any] = {"person": person, "reveal_form": form, "can_reveal": True}
    if not form.is_valid():
        context["reveal_error"] = "请填写查看事由（至少2个字）"
    else:
        try:
            context["full_id"] = actions.reveal_id_number(
                person, acting_user=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except UserError as exc:
            context["reveal_error"] = exc.message
    return render(request, "people/_reveal.html", context)


@require_POST
def contact_add(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id, for_write=True)
    form = ContactForm(request.POST)
    if form.is_valid():
        actions.add_contact(person, values=form.cleaned_data, acting_user=request.user)
        messages.success(request, "联系人已添加")
    else:
        messages.error(request, "联系人未添加：" + "；".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(f"/people/{person.pk}/#contacts")


@require_POST
def contact_remove(request: AuthedRequest, person_id: int, contact_id: int) -> HttpResponse:
    person = access_person(request.user, person_id, for_write=True)
    contact = get_object_or_404(person.contacts, pk=contact_id)
    actions.remove_contact(contact, acting_user=request.user)
    messages.success(request, "联系人已删除")
    return redirect(f"/people/{person.pk}/#contacts")


@require_POST
def attachment_add(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id, for_write=True)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "附件未上传：请选择类型和文件")
    else:
        try:
            actions.add_attachment(person, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"],
                                   acting_user=request.user)
        except UserError as exc:
            messages.error(request, f"附件未上传：{exc.message}")
        else:
            messages.success(request, "附件已上传")
    return redirect(f"/people/{person.pk}/#attachments")


def attachment_download(request: AuthedRequest, person_id: int, attachment_id: int) -> FileResponse:
    person = access_person(request.user, person_id)
    attachment = access_attachment(request.user, person, attachment_id)
    actions.record_attachment_view(attachment, acting_user=request.user, request=request)
    return private_file_response(attachment.file, content_type=attachment.content_type,
                                 filename=attachment.original_name)
