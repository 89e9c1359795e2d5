"""Workflow pages: the lists each role works from, the request form, an assessment's page with
the actions the user may take on it, and the panel shown on the person's file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.access import community_ids_in_scope, has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Organization, OrganizationKind, User
from sanshe.assessments import actions, rules
from sanshe.assessments.access import (
    access_assessment,
    agency_ids,
    can_assign,
    can_cancel,
    can_fill,
    can_manage,
    can_record_objection,
    can_request,
    can_review,
    visible_assessments,
)
from sanshe.assessments.models import (
    OPEN_STATUSES,
    Assessment,
    AssessmentReason,
    AssessmentStatus,
    CapabilityRecord,
    SignerRole,
    TriggerKind,
)
from sanshe.assessments.views.report import has_report
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.people import actions as people_actions
from sanshe.people.access import access_person
from sanshe.people.models import Person

S = AssessmentStatus
PAGE_SIZE = 30
CANCELLABLE = (S.REQUESTED, S.ASSIGNED, S.SCHEDULED, S.IN_PROGRESS)


# --- forms --------------------------------------------------------------------------------------


class RequestForm(PlatformForm, forms.Form):
    # A review after an objection is opened from the objection form, never requested directly.
    reason = forms.ChoiceField(label="评估原因", choices=[
        ("", "请选择"), *[(v, label) for v, label in AssessmentReason.choices if v != AssessmentReason.REVIEW]])
    note = forms.CharField(label="申请说明", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="例如：近期跌倒住院，出院后生活自理能力明显下降")
    requester_name = forms.CharField(label="申请人姓名", max_length=50, required=False,
                                     help_text="家属申请时填写；工作人员本人申请可不填")
    requester_relation = forms.CharField(label="申请人与老人关系", max_length=20, required=False,
                                         help_text="如：子女、配偶、本人")


class AssignForm(forms.Form):
    def __init__(self, *args: Any, agencies: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"] = forms.TypedChoiceField(label="评估机构", coerce=int, choices=agencies)


class ScheduleForm(forms.Form):
    def __init__(self, *args: Any, assessors: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessor_1"] = forms.TypedChoiceField(label="评估员一", coerce=int, choices=assessors)
        self.fields["assessor_2"] = forms.TypedChoiceField(label="评估员二", coerce=int, choices=assessors)
        self.order_fields(["assessor_1", "assessor_2", "visit_at"])

    visit_at = forms.DateTimeField(label="预约上门时间", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                              format="%Y-%m-%dT%H:%M"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "审核通过并发布"), ("return", "退回修改")])
    note = forms.CharField(label="审核意见", max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=300)


class ObjectionForm(forms.Form):
    raised_by_name = forms.CharField(label="提出人", max_length=50)
    raised_by_relation = forms.CharField(label="与老人关系", max_length=20, help_text="如：本人、子女")
    reason = forms.CharField(label="异议理由", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class TriggerForm(forms.Form):
    kind = forms.ChoiceField(label="事件", choices=TriggerKind.choices)
    occurred_on = forms.DateField(label="发生日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="说明", max_length=300, required=False)


def _form_problems(form: forms.Form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


# --- helpers ------------------------------------------------------------------------------------


def level_name(code: str, version: str, level: int | None) -> str:
    """The instrument's name for a level ("能力轻度受损（轻度失能）"), or '' when unknown."""
    if level is None:
        return ""
    try:
        return rules.load_instrument(code, version).level_name(level)
    except (rules.InstrumentError, StopIteration):
        return f"{level}级"


def _timeline(a: Assessment) -> list[dict[str, Any]]:
    """What happened so far, oldest first, for the page's status timeline."""
    requester = a.requested_by.display_name
    if a.requester_name:
        requester += f"（代{a.requester_name}{'·' + a.requester_relation if a.requester_relation else ''}申请）"
    steps: list[dict[str, Any]] = [
        {"label": "提出申请", "at": a.requested_at, "text": f"{a.get_reason_display()} · {requester}"}]
    if a.assigned_at:
        steps.append({"label": "指派评估机构", "at": a.assigned_at, "text": a.agency.name if a.agency else ""})
    if a.visit_at:
        names = "、".join(u.display_name for u in a.assessors())
        steps.append({"label": "派员并预约上门", "at": None,
                      "text": f"预约 {timezone.localtime(a.visit_at):%Y-%m-%d %H:%M} 上门 · 评估员：{names}"})
    if a.assessed_on:
        steps.append({"label": "开始现场评估", "at": None, "day": a.assessed_on, "text": ""})
    if a.submitted_at:
        steps.append({"label": "提交评估结果", "at": a.submitted_at, "text": ""})
    if a.reviewed_at and a.status == S.PUBLISHED:
        text = a.reviewed_by.display_name if a.reviewed_by else ""
        steps.append({"label": "机构审核通过", "at": a.reviewed_at,
                      "text": text + (f"：{a.review_note}" if a.review_note else "")})
    elif a.reviewed_at and a.status == S.IN_PROGRESS:
        steps.append({"label": "机构退回修改", "at": a.reviewed_at, "text": a.review_note, "warn": True})
    if a.published_at:
        steps.append({"label": "结果生效", "at": a.published_at,
                      "text": f"有效期 {a.valid_from:%Y-%m-%d} 至 {a.valid_until:%Y-%m-%d}"
                      if a.valid_from and a.valid_until else ""})
    if a.status == S.CANCELLED:
        steps.append({"label": "已取消", "at": None, "text": a.cancel_reason, "warn": True})
    return steps


SIGNER_LABELS = ((SignerRole.ASSESSOR_1, "评估员一"), (SignerRole.ASSESSOR_2, "评估员二"),
                 (SignerRole.INFORMANT, "信息提供者"))


def signature_rows(a: Assessment) -> list[dict[str, Any]]:
    """The three signature slots with who is expected to sign and what was signed."""
    signed = {s.role: s for s in a.signatures.all()}
    who = {SignerRole.ASSESSOR_1: a.assessor_1.display_name if a.assessor_1 else "",
           SignerRole.ASSESSOR_2: a.assessor_2.display_name if a.assessor_2 else "",
           SignerRole.INFORMANT: str(a.basic_info.get("informant_name", ""))}
    return [{"role": role, "label": label, "who": who[role], "sig": signed.get(role)} for role, label in SIGNER_LABELS]


def _agency_choices(person: Person) -> list[tuple[Any, str]]:
    today = timezone.localdate()
    choices: list[tuple[Any, str]] = [("", "请选择")]
    for agency in Organization.objects.filter(kind=OrganizationKind.ASSESSMENT_AGENCY, is_active=True).order_by("name"):
        conflicted = actions.conflict_of_interest(person, agency, today=today)
        choices.append((agency.pk, agency.name + ("（存在利益冲突，不可指派）" if conflicted else "")))
    return choices


def _assessor_choices(a: Assessment) -> list[tuple[Any, str]]:
    earlier: set[int | None] = set()
    if a.review_of_id is not None:
        original = Assessment.objects.only("assessor_1_id", "assessor_2_id").get(pk=a.review_of_id)
        earlier = {original.assessor_1_id, original.assessor_2_id}
    people = actions.assessors_of(a.agency_id or 0)
    return [("", "请选择"), *[(u.pk, u.display_name + ("（参加过原评估）" if u.pk in earlier else ""))
                             for u in people]]


def _detail_context(request: AuthedRequest, a: Assessment, *, forms_in: dict[str, forms.Form] | None = None,
                    errors: dict[str, str] | None = None) -> dict[str, Any]:
    user = request.user
    bound = forms_in or {}
    today = timezone.localdate()
    may_assign = a.status == S.REQUESTED and can_assign(user, a)
    may_schedule = a.status in (S.ASSIGNED, S.SCHEDULED) and can_manage(user, a)
    may_cancel = a.status in CANCELLABLE and can_cancel(user, a)
    may_object = (a.status == S.PUBLISHED and a.objection_until is not None and today <= a.objection_until
                  and can_record_objection(user, a))
    objections = list(a.objections.select_related("review").all())
    rows = signature_rows(a)
    context: dict[str, Any] = {
        "a": a, "person": a.person, "age": a.person.age(), "timeline": _timeline(a),
        "signature_rows": rows,
        "show_signatures": any(r["sig"] for r in rows) or a.status in (S.IN_PROGRESS, S.SUBMITTED, S.PUBLISHED),
        "objections": objections,
        "reviews": a.reviews.all(),
        "objection_review_ids": {o.review_id for o in objections},
        "can_fill": can_fill(user, a), "errors": errors or {}, "has_report": has_report(user, a),
        "may_assign": may_assign, "may_schedule": may_schedule, "may_review": can_review(user, a),
        "may_cancel": may_cancel, "may_object": may_object,
    }
    if a.status in (S.SUBMITTED, S.PUBLISHED) and a.result:
        context["result"] = _result_view(a)
    if may_assign:
        context["assign_form"] = bound.get("assign") or AssignForm(agencies=_agency_choices(a.person))
    if may_schedule:
        initial = {"assessor_1": a.assessor_1_id, "assessor_2": a.assessor_2_id,
                   "visit_at": timezone.localtime(a.visit_at) if a.visit_at else None}
        context["schedule_form"] = bound.get("schedule") or ScheduleForm(initial=initial,
                                                                          assessors=_assessor_choices(a))
    if context["may_review"]:
        context["review_form"] = bound.get("review") or ReviewForm()
    if may_cancel:
        context["cancel_form"] = bound.get("cancel") or CancelForm()
    if may_object:
        context["objection_form"] = bound.get("objection") or ObjectionForm()
    return context


def _result_view(a: Assessment) -> dict[str, Any]:
    """C.1–C.5 for display, from the result frozen at submission."""
    result = a.result
    scores = result.get("dimension_scores", {})
    grades = result.get("dimension_grades", {})
    try:
        dimensions = rules.load_instrument(a.instrument_code, a.instrument_version).dimensions
        dims = [{"code": d.code, "name": d.name, "max": d.max_score, "score": scores.get(d.code),
                 "grade": grades.get(d.code)} for d in dimensions]
    except rules.InstrumentError:
        dims = [{"code": code, "name": "", "max": "", "score": value, "grade": grades.get(code)}
                for code, value in scores.items()]
    return {
        "dimensions": dims, "total": result.get("total"),
        "preliminary": a.preliminary_level,
        "preliminary_name": level_name(a.instrument_code, a.instrument_version, a.preliminary_level),
        "final": a.final_level,
        "final_name": level_name(a.instrument_code, a.instrument_version, a.final_level),
        "reasons": result.get("change_reason_texts", []),
    }


def _detail(request: AuthedRequest, a: Assessment, *, status: int = 200, **kwargs: Any) -> HttpResponse:
    return render(request, "assessments/detail.html", _detail_context(request, a, **kwargs), status=status)


# --- lists --------------------------------------------------------------------------------------


def assessment_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    region_staff = has_capability(user, Capability.VIEW_ASSESSMENTS)
    managed = agency_ids(user, Capability.MANAGE_AGENCY_ASSESSMENTS)
    performing = agency_ids(user, Capability.PERFORM_ASSESSMENT)
    if not (region_staff or managed or performing):
        raise PermissionDenied("您没有查看能力评估的权限")
    base = visible_assessments(user).select_related("person__residence_region__parent", "agency",
                                                     "assessor_1", "assessor_2")
    context: dict[str, Any] = {"statuses": S.choices}
    if performing:
        mine = (base.filter(agency_id__in=performing).filter(Q(assessor_1=user) | Q(assessor_2=user))
                .filter(status__in=(S.SCHEDULED, S.IN_PROGRESS, S.SUBMITTED)).order_by("visit_at", "id"))
        context["my_visits"] = [{"a": a, "answered": len(a.answers), "can_fill": can_fill(user, a)} for a in mine]
    if managed:
        queue = base.filter(agency_id__in=managed)
        context["agency_queue"] = {
            "to_schedule": list(queue.filter(status=S.ASSIGNED).order_by("assigned_at", "id")),
            "to_review": list(queue.filter(status=S.SUBMITTED).order_by("submitted_at", "id")),
            "in_field": list(queue.filter(status__in=(S.SCHEDULED, S.IN_PROGRESS)).order_by("visit_at", "id")),
            "recent": list(queue.filter(status=S.PUBLISHED).order_by("-published_at")[:10]),
        }
        context["reviewable"] = {a.pk for a in context["agency_queue"]["to_review"] if can_review(user, a)}
    if region_staff:
        status = request.GET.get("status", "")
        qs = base.filter(person__residence_region_id__in=_region_ids(user))
        if status == "open":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif status in S.values:
            qs = qs.filter(status=status)
        try:
            page = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            page = 1
        start = (page - 1) * PAGE_SIZE
        rows = list(qs.order_by("-requested_at", "-id")[start:start + PAGE_SIZE + 1])
        context["region"] = {"rows": rows[:PAGE_SIZE], "status": status, "page": page,
                             "has_next": len(rows) > PAGE_SIZE}
        context["can_configure"] = has_capability(user, Capability.CONFIGURE_ASSESSMENT)
    return render(request, "assessments/list.html", context)


def _region_ids(user: User) -> list[int]:
    return community_ids_in_scope(user, Capability.VIEW_ASSESSMENTS)


# --- request ------------------------------------------------------------------------------------


def request_new(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    if not can_request(request.user, person):
        raise PermissionDenied("您没有为该老人申请评估的权限")
    initial = {"reason": AssessmentReason.ROUTINE if CapabilityRecord.objects.filter(person=person).exists()
               else AssessmentReason.FIRST}
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            a = actions.request_assessment(person, reason=data["reason"], acting_user=request.user,
                                           note=data["note"], requester_name=data["requester_name"],
                                           requester_relation=data["requester_relation"])
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已提交评估申请，编号 {a.number}，等待区民政部门指派评估机构")
            return redirect("assessments:detail", assessment_id=a.pk)
    return render(request, "assessments/request.html", {"form": form, "person": person, "age": person.age()})


# --- one assessment -----------------------------------------------------------------------------


def assessment_detail(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = access_assessment(request.user, assessment_id)
    people_actions.record_person_view(a.person, acting_user=request.user, request=request)
    return _detail(request, a)


@require_POST
def assign(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = access_assessment(request.user, assessment_id)
    if not can_assign(request.user, a):
        raise PermissionDenied("您没有指派评估机构的权限")
    form = AssignForm(request.POST, agencies=_agency_choices(a.person))
    if not form.is_valid():
        return _detail(request, a, forms_in={"assign": form}, errors={"assign": "请选择评估机构"}, status=400)
    agency = Organization.objects.get(pk=form.cleaned_data["agency"])
    try:
        actions.assign_agency(a, agency=agency, acting_user=request.user)
    except UserError as exc:
        return _detail(request, a, forms_in={"assign": form}, errors={"assign": exc.message}, status=400)
    messages.success(request, f"已指派 {agency.name}")
    return redirect("assessments:detail", assessment_id=a.pk)


@require_POST
def schedule(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = access_assessment(request.user, assessment_id)
    if not can_manage(request.user, a):
        raise PermissionDenied("您没有为该评估派员的权限")
    form = ScheduleForm(request.POST, assessors=_assessor_choices(a))
    if not form.is_valid():
        return _detail(request, a, forms_in={"schedule": form},
                       errors={"schedule": "请选择两名评估员并填写预约时间"}, status=400)
    data = form.cleaned_data
    users = {u.pk: u for u in User.objects.filter(pk__in=[data["assessor_1"], data["assessor_2"]])}
    try:
        actions.schedule_visit(a, assessor_1=users.get(data["assessor_1"]), assessor_2=users.get(data["assessor_2"]),
                               visit_at=data["visit_at"], acting_user=request.user)
    except UserError as exc:
        return _detail(request, a, forms_in={"schedule": form}, errors={"schedule": exc.message}, status=400)
    messages.success(request, "已派员并预约上门时间")
    return redirect("assessments:detail", assessment_id=a.pk)


@require_POST
def review(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = access_assessment(request.user, assessment_id)
    if not can_review(request.user, a):
        raise PermissionDenied("只有评估机构中未参与本次评估的负责人可以审核")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _detail(request, a, forms_in={"review": form}, errors={"review": "请选择审核结论"}, status=400)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        done = actions.review_assessment(a, approve=approve, note=form.cleaned_data["note"], acting_user=request.user)
    except UserError as exc:
        return _detail(request, a, forms_in={"review": form}, errors={"review": exc.message}, status=400)
    if approve:
        messages.success(request, f"评估结果已发布，有效期至 {done.valid_until:%Y-%m-%d}；"
                                  f"异议期截止 {done.objection_until:%Y-%m-%d}")
    else:
        messages.success(request, "已退回评估员修改，签名需重新采集")
    return redirect("assessments:detail", assessment_id=a.pk)


@require_POST
def cancel(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = access_assessment(request.user, assessment_id)
    if not can_cancel(request.user, a):
        raise PermissionDenied("您没有取消该评估的权限")
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _detail(request, a, forms_in={"cancel": form}, errors={"cancel": "请填写取消原因"}, status=400)
    try:
        actions.cancel_assessment(a, reason=form.cleaned_data["reason"], acting_user=request.user)
    except UserError as exc:
        return _detail(request, a, forms_in={"cancel": form}, errors={"cancel": exc.message}, status=400)
    messages.success(request, "评估已取消")
    return redirect("assessments:detail", assessment_id=a.pk)


@require_POST
def objection(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = access_assessment(request.user, assessment_id)
    if not can_record_objection(request.user, a):
        raise PermissionDenied("您没有登记评估异议的权限")
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return _detail(request, a, forms_in={"objection": form}, errors={"objection": _form_problems(form)},
                       status=400)
    data = form.cleaned_data
    try:
        found = actions.raise_objection(a, raised_by_name=data["raised_by_name"],
                                        raised_by_relation=data["raised_by_relation"], reason=data["reason"],
                                        acting_user=request.user)
    except UserError as exc:
        return _detail(request, a, forms_in={"objection": form}, errors={"objection": exc.message}, status=400)
    messages.success(request, f"异议已登记，已启动复评（编号 {found.review.number if found.review else ''}），"
                              "复评将由未参加原评估的评估员进行")
    return redirect("assessments:detail", assessment_id=found.review_id or a.pk)


# --- the panel on the person's file ---------------------------------------------------------------


def _panel_context(request: AuthedRequest, person: Person, *, trigger_form: TriggerForm | None = None,
                   trigger_error: str = "") -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    record = CapabilityRecord.objects.filter(person=person).select_related("assessment").first()
    current: dict[str, Any] | None = None
    if record is not None:
        a = record.assessment
        days_left = (record.valid_until - today).days
        current = {"record": record, "name": level_name(a.instrument_code, a.instrument_version, record.level),
                   "expired": days_left < 0, "due_soon": 0 <= days_left <= 30, "days_left": days_left,
                   "visible": visible_assessments(user).filter(pk=a.pk).exists()}
    mine = visible_assessments(user).filter(person=person).select_related("agency")
    open_one = mine.filter(status__in=OPEN_STATUSES).first()
    requestable = can_request(user, person)
    return {
        "person": person, "current": current, "open": open_one,
        "history": list(mine.exclude(status__in=OPEN_STATUSES)[:5]),
        "can_request": requestable and open_one is None,
        "triggers": list(person.reassessment_triggers.all()[:5]) if requestable else [],
        "trigger_form": trigger_form or TriggerForm(initial={"occurred_on": today}),
        "trigger_error": trigger_error, "can_trigger": requestable, "today": today,
    }


def person_panel(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    return render(request, "assessments/_person_panel.html", _panel_context(request, person))


@require_POST
def record_trigger(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    if not can_request(request.user, person):
        raise PermissionDenied("您没有为该老人登记事件的权限")
    form = TriggerForm(request.POST)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_trigger(person, kind=data["kind"], occurred_on=data["occurred_on"], note=data["note"],
                                   acting_user=request.user)
        except UserError as exc:
            error = exc.message
        else:
            form = TriggerForm(initial={"occurred_on": timezone.localdate()})
    else:
        error = "事件未登记：" + _form_problems(form)
    if request.htmx:
        # htmx swaps only 2xx answers: the refusal is shown inside the panel, next to the form.
        context = _panel_context(request, person, trigger_form=form, trigger_error=error)
        context["trigger_saved"] = not error
        return render(request, "assessments/_person_panel.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "已登记即时评估事件")
    return redirect(reverse("people:detail", args=[person.pk]) + "#assessment-panel")


