"""Approval pages: what waits for me, a batch with its rows and history and the step I may take,
the public notices (printable, exportable), objections, activation, and the notice period."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.access import capability_scope, has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.downloads import xlsx_response
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.eligibility import access, approvals
from sanshe.eligibility.lists import page_number
from sanshe.eligibility.models import (
    ApprovalBatch,
    BatchStatus,
    Entitlement,
    EntitlementStatus,
    NoticeObjection,
    ObjectionResolution,
    StepDecision,
)

B = BatchStatus
T = TypeVar("T")
ROWS_PER_PAGE = 100
BATCHES_PER_PAGE = 30


# --- forms --------------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    comment = forms.CharField(label="审核意见", max_length=300, required=False,
                              widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：经入户核实，情况属实"}))


class RejectForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=300,
                             widget=forms.Textarea(attrs={"rows": 2, "placeholder": "写明需要经办人核实或修改的内容"}),
                             error_messages={"required": "退回时请写明原因"})


class WithdrawForm(forms.Form):
    reason = forms.CharField(label="撤回原因", max_length=200, error_messages={"required": "撤回时请写明原因"})


class ResubmitForm(forms.Form):
    comment = forms.CharField(label="修改说明", max_length=300, required=False,
                              widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：已撤回不符合条件的 1 人"}))


def _row_choices(batch: ApprovalBatch, blank: str) -> list[tuple[Any, str]]:
    rows = (batch.entitlements.filter(status=EntitlementStatus.NOTICE).select_related("person", "policy")
            .order_by("person_id", "policy_id"))
    return [("", blank), *[(r.pk, f"{r.person.masked_name}（{r.person.id_number_masked}）· {r.policy.name}")
                           for r in rows]]


class ObjectionForm(forms.Form):
    objector = forms.CharField(label="异议人", max_length=100, help_text="姓名或单位；匿名反映的写“匿名”",
                               error_messages={"required": "请填写异议人"})
    contact = forms.CharField(label="联系方式", max_length=50, required=False)
    content = forms.CharField(label="异议内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": "请写明异议内容"})

    def __init__(self, *args: Any, batch: ApprovalBatch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entitlement"] = forms.TypedChoiceField(
            label="异议对象", required=False, coerce=int, empty_value=None,
            choices=_row_choices(batch, "未指明具体人员"), help_text="反映的是某一位公示对象时请选择")
        self.order_fields(["objector", "contact", "entitlement", "content"])


class ResolveForm(PlatformForm, forms.Form):
    resolution = forms.ChoiceField(label="处理结果", choices=[
        ("", "请选择"), (ObjectionResolution.UPHELD, ObjectionResolution.UPHELD.label),
        (ObjectionResolution.DISMISSED, ObjectionResolution.DISMISSED.label)],
        error_messages={"required": "请选择处理结果"})
    note = forms.CharField(label="核实情况", max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "请写明核实情况"})

    def __init__(self, *args: Any, batch: ApprovalBatch, objection: NoticeObjection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if objection.entitlement_id is None:
            self.fields["entitlement"] = forms.TypedChoiceField(
                label="被取消的待遇", required=False, coerce=int, empty_value=None,
                choices=_row_choices(batch, "请选择（异议成立时必选）"))


class SettingsForm(PlatformForm, forms.Form):
    # The range is checked by approvals.update_settings so every channel gives the same message.
    notice_days = forms.IntegerField(label="公示天数", help_text="区民政审批通过后公示的天数（含公示首日）",
                                     error_messages={"required": "请填写公示天数", "invalid": "请填写整数"})


def _form_problems(form: forms.Form) -> str:
    return "；".join(str(e) for errors in form.errors.values() for e in errors)


# --- helpers ------------------------------------------------------------------------------------


def _require_any(request: AuthedRequest) -> None:
    if not access.can_read_batches(request.user):
        raise PermissionDenied("您没有查看待遇审批的权限")


def reason_checks(row: Entitlement) -> list[str]:
    reason = row.reason if isinstance(row.reason, dict) else {}
    checks = reason.get("checks")
    return [str(c) for c in checks] if isinstance(checks, list) else []


def _round_of_steps(batch: ApprovalBatch) -> list[dict[str, Any]]:
    """The history, oldest first, with a marker where each new round begins."""
    items = []
    for step in batch.steps.select_related("decided_by").all():
        items.append({"step": step, "warn": step.decision == StepDecision.REJECTED,
                      "label": ("修改后重新提交" if step.decision == StepDecision.RESUBMITTED
                                else f"{step.get_level_display()}：{step.get_decision_display()}")})
    return items


PROGRESS = ((B.COMMUNITY, "社区审核"), (B.STREET, "街道审核"), (B.DISTRICT, "区民政审批"), (B.NOTICE, "公示"),
            (B.ACTIVE, "生效"))


def _progress(b: ApprovalBatch, history: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The chain as a strip of steps: done, current (or returned there), still to come."""
    current = b.status
    returned = b.status == B.RETURNED
    if returned:
        rejected = [h["step"] for h in history if h["step"].decision == StepDecision.REJECTED]
        current = rejected[-1].level if rejected else B.COMMUNITY
    order: list[str] = [str(s) for s, _ in PROGRESS]
    at = order.index(current) if current in order else 0
    items = []
    for i, (_, label) in enumerate(PROGRESS):
        if i < at or b.status == B.ACTIVE:
            state = "done"
        elif i == at:
            state = "returned" if returned else "current"
        else:
            state = "todo"
        items.append({"label": label, "state": state})
    return items


def _detail_context(request: AuthedRequest, b: ApprovalBatch, *, bound: dict[str, forms.Form] | None = None,
                    errors: dict[str, str] | None = None, withdraw_row: Entitlement | None = None) -> dict[str, Any]:
    user = request.user
    bound = bound or {}
    today = timezone.localdate()
    live = Q(status__in=approvals.LIVE)
    totals = b.entitlements.aggregate(
        rows=Count("id", filter=live), amount=Sum("amount", filter=live), payable=Sum("payable", filter=live),
        withdrawn=Count("id", filter=Q(status=EntitlementStatus.REJECTED)),
        new=Count("id", filter=live & Q(change="new")), changed=Count("id", filter=live & Q(change="changed")))
    page = page_number(request)
    start = (page - 1) * ROWS_PER_PAGE
    rows = list(b.entitlements.select_related("person__residence_region", "policy")
                .order_by("person_id", "policy_id", "id")[start:start + ROWS_PER_PAGE + 1])
    has_next = len(rows) > ROWS_PER_PAGE
    rows = rows[:ROWS_PER_PAGE]
    deciding = b.status in approvals.STEP_OF
    verdict = approvals.can_decide(user, b) if deciding else approvals.Verdict(False)
    may_fix = b.status == B.RETURNED and approvals.can_fix(user, b)
    on_notice = b.status == B.NOTICE
    notice_running = on_notice and not approvals.notice_over(b, today)
    objections = list(b.objections.select_related("entitlement__person", "entitlement__policy", "recorded_by",
                                                  "resolved_by"))
    open_objections = [o for o in objections if o.resolution == ObjectionResolution.OPEN]
    may_resolve = on_notice and approvals.can_resolve_objection(user, b)
    history = _round_of_steps(b)
    context: dict[str, Any] = {
        "b": b, "rows": [{"e": e, "checks": reason_checks(e)} for e in rows], "totals": totals,
        "page": page, "has_next": has_next, "start": start,
        "history": history, "progress": _progress(b, history), "errors": errors or {},
        "deciding": deciding, "may_decide": bool(verdict), "refusal": verdict.reason,
        "holds_approval": capability_scope(user, Capability.APPROVE_ENTITLEMENTS).covers(b.community.code),
        "may_fix": may_fix, "objections": objections, "open_objections": len(open_objections),
        "may_object": notice_running and approvals.can_record_objection(user, b),
        "may_resolve": may_resolve,
        "may_activate": on_notice and approvals.can_activate(user, b),
        "activation_ready": on_notice and not notice_running and not open_objections,
        "notice_running": notice_running, "today": today,
        "can_view_people": has_capability(user, Capability.VIEW_PEOPLE),
        "settings": approvals.settings_for(b.district),
    }
    if verdict:
        context["approve_form"] = bound.get("approve") or ApproveForm()
        context["reject_form"] = bound.get("reject") or RejectForm()
    if may_fix:
        context["resubmit_form"] = bound.get("resubmit") or ResubmitForm()
        context["withdraw_form"] = bound.get("withdraw") or WithdrawForm()
        context["withdraw_row"] = withdraw_row.pk if withdraw_row is not None else None
    if context["may_object"]:
        context["objection_form"] = bound.get("objection") or ObjectionForm(batch=b)
    if may_resolve:
        resolving = bound.get("resolve")
        context["resolve_forms"] = [
            {"o": o, "form": resolving if resolving is not None and getattr(resolving, "objection_id", None) == o.pk
             else ResolveForm(batch=b, objection=o, prefix=f"o{o.pk}")} for o in open_objections]
    approvals.record_rows_view(b, acting_user=user, rows=len(rows), request=request)
    return context


# Where each form's refusal is shown; when the form is not on the page, it goes to the messages.
SHOWN_WITH = {"approve": "may_decide", "reject": "may_decide", "resubmit": "may_fix", "withdraw": "may_fix",
              "objection": "may_object", "resolve": "may_resolve", "activate": "may_activate"}


def _detail(request: AuthedRequest, b: ApprovalBatch, *, status: int = 200, **kwargs: Any) -> HttpResponse:
    context = _detail_context(request, b, **kwargs)
    for key, message in list(context["errors"].items()):
        if not context.get(SHOWN_WITH.get(key, "")):
            if message != context["refusal"]:  # the refusal is already explained where the forms would be
                messages.error(request, message)
            del context["errors"][key]
    return render(request, "eligibility/approvals/detail.html", context, status=status)


def _refused(request: AuthedRequest, b: ApprovalBatch, key: str, form: forms.Form, exc: Exception,
             **kwargs: Any) -> HttpResponse:
    message = exc.message if isinstance(exc, UserError) else (str(exc) or "无权执行此操作")
    status = 403 if isinstance(exc, PermissionDenied) else 400
    fresh = access.access_batch(request.user, b.pk)
    return _detail(request, fresh, bound={key: form}, errors={key: message}, status=status, **kwargs)


def _back(b: ApprovalBatch, anchor: str = "") -> HttpResponse:
    return redirect(reverse("eligibility:approval_batch", args=[b.pk]) + (f"#{anchor}" if anchor else ""))


# --- lists --------------------------------------------------------------------------------------


def approval_queue(request: AuthedRequest) -> HttpResponse:
    """待我审批: batches I may decide now, returned batches I may fix, and every batch in my area."""
    _require_any(request)
    user = request.user
    status = request.GET.get("status", "")
    qs = approvals.with_totals(access.visible_batches(user)).select_related("community__parent", "district",
                                                                               "maker")
    if status in B.values:
        qs = qs.filter(status=status)
    page = page_number(request)
    start = (page - 1) * BATCHES_PER_PAGE
    batches = list(qs.order_by("-month", "community__code", "-id")[start:start + BATCHES_PER_PAGE + 1])
    counts = dict(access.visible_batches(user).order_by().values_list("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    context = {
        "to_decide": approvals.batches_to_decide(user), "to_fix": approvals.batches_to_fix(user),
        "batches": batches[:BATCHES_PER_PAGE], "has_next": len(batches) > BATCHES_PER_PAGE, "page": page,
        "status": status, "statuses": [(v, label, counts.get(v, 0)) for v, label in B.choices],
        "total": sum(counts.values()),
    }
    return render(request, "eligibility/approvals/queue.html", context)


def notice_list(request: AuthedRequest) -> HttpResponse:
    """Batches on public notice (and those that took effect recently), with what still blocks them."""
    _require_any(request)
    user = request.user
    today = timezone.localdate()
    base = approvals.with_totals(access.visible_batches(user)).select_related("community__parent", "district")
    on_notice = list(base.filter(status=B.NOTICE).order_by("notice_ends", "community__code", "id"))
    for b in on_notice:
        b.days_left = (b.notice_ends - today).days + 1 if b.notice_ends else 0  # type: ignore[attr-defined]
        b.may_activate = approvals.can_activate(user, b)  # type: ignore[attr-defined]
    recent = list(base.filter(status=B.ACTIVE).order_by("-activated_at", "-id")[:20])
    districts = _districts(user, Capability.VIEW_ENTITLEMENTS) or _districts(user, Capability.APPROVE_ENTITLEMENTS)
    context = {"on_notice": on_notice, "recent": recent, "today": today,
               "notice_days": approvals.settings_for(districts[0]).notice_days if districts else None,
               "can_configure": any(access.can_manage(user, d) for d in districts)}
    return render(request, "eligibility/approvals/notices.html", context)


# --- one batch ----------------------------------------------------------------------------------


def batch_detail(request: AuthedRequest, batch_id: int) -> HttpResponse:
    return _detail(request, access.access_batch(request.user, batch_id))


def _take_step(request: AuthedRequest, b: ApprovalBatch, key: str, form: forms.Form,
               step: Callable[[dict[str, Any]], T], **kwargs: Any) -> T | HttpResponse:
    """The step taken with the form's data, or the batch's page again with what stopped it: the
    form's problems (400) or the action's refusal (400, or 403 without the right)."""
    if not form.is_valid():
        return _detail(request, b, bound={key: form}, errors={key: _form_problems(form)}, status=400, **kwargs)
    try:
        return step(form.cleaned_data)
    except (UserError, PermissionDenied) as exc:
        return _refused(request, b, key, form, exc, **kwargs)


def _chosen_row(b: ApprovalBatch, data: dict[str, Any]) -> Entitlement | None:
    return b.entitlements.filter(pk=data["entitlement"]).first() if data.get("entitlement") else None


@require_POST
def batch_approve(request: AuthedRequest, batch_id: int) -> HttpResponse:
    b = access.access_batch(request.user, batch_id)
    done = _take_step(request, b, "approve", ApproveForm(request.POST), lambda data: approvals.approve(
        b, acting_user=request.user, comment=data["comment"], request=request))
    if isinstance(done, HttpResponse):
        return done
    if done.status == B.NOTICE:
        messages.success(request, f"已审批通过，进入公示：{approvals.cn_date(done.notice_starts)} 至 "
                                  f"{approvals.cn_date(done.notice_ends)}")
    else:
        messages.success(request, f"已审核通过，转{done.get_status_display().removeprefix('待')}")
    return _back(done)


@require_POST
def batch_reject(request: AuthedRequest, batch_id: int) -> HttpResponse:
    b = access.access_batch(request.user, batch_id)
    done = _take_step(request, b, "reject", RejectForm(request.POST), lambda data: approvals.reject(
        b, acting_user=request.user, reason=data["reason"], request=request))
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, "已退回经办人，经办人修改后可重新提交")
    return _back(b)


@require_POST
def row_withdraw(request: AuthedRequest, batch_id: int, row_id: int) -> HttpResponse:
    b = access.access_batch(request.user, batch_id)
    row = b.entitlements.filter(pk=row_id).first()
    if row is None:
        raise Http404("没有找到该待遇")
    done = _take_step(request, b, "withdraw", WithdrawForm(request.POST), lambda data: approvals.withdraw(
        row, acting_user=request.user, reason=data["reason"], request=request), withdraw_row=row)
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, f"已撤回 {row.person.masked_name} 的{row.policy.name}")
    return _back(b, "rows")


@require_POST
def batch_resubmit(request: AuthedRequest, batch_id: int) -> HttpResponse:
    b = access.access_batch(request.user, batch_id)
    done = _take_step(request, b, "resubmit", ResubmitForm(request.POST), lambda data: approvals.resubmit(
        b, acting_user=request.user, comment=data["comment"], request=request))
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, "已重新提交，从社区审核环节重新开始")
    return _back(b)


@require_POST
def objection_record(request: AuthedRequest, batch_id: int) -> HttpResponse:
    b = access.access_batch(request.user, batch_id)
    done = _take_step(request, b, "objection", ObjectionForm(request.POST, batch=b), lambda data: (
        approvals.record_objection(b, objector=data["objector"], contact=data["contact"], content=data["content"],
                                   entitlement=_chosen_row(b, data), acting_user=request.user, request=request)))
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, "异议已登记；异议处理完毕前，该批次不能生效")
    return _back(b, "objections")


@require_POST
def objection_resolve(request: AuthedRequest, objection_id: int) -> HttpResponse:
    objection = access.access_objection(request.user, objection_id)
    b = access.access_batch(request.user, objection.batch_id)
    form = ResolveForm(request.POST, batch=b, objection=objection, prefix=f"o{objection.pk}")
    form.objection_id = objection.pk  # type: ignore[attr-defined]
    done = _take_step(request, b, "resolve", form, lambda data: approvals.resolve_objection(
        objection, resolution=data["resolution"], note=data["note"], entitlement=_chosen_row(b, data),
        acting_user=request.user, request=request))
    if isinstance(done, HttpResponse):
        return done
    if done.resolution == ObjectionResolution.UPHELD and done.entitlement is not None:
        messages.success(request, f"异议成立，已取消 {done.entitlement.person.masked_name} 的{done.entitlement.policy.name}")
    else:
        messages.success(request, "异议不成立，维持公示")
    return _back(b, "objections")


@require_POST
def batch_activate(request: AuthedRequest, batch_id: int) -> HttpResponse:
    b = access.access_batch(request.user, batch_id)
    # No fields: the form only carries the refusal back to the page.
    done = _take_step(request, b, "activate", forms.Form(request.POST), lambda data: approvals.activate(
        b, acting_user=request.user, request=request))
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, f"公示期满，{done.entitlements.filter(status=EntitlementStatus.ACTIVE).count()} "
                              "项待遇已确认生效")
    return _back(b)


# --- the notice ---------------------------------------------------------------------------------


def _published(request: AuthedRequest, batch_id: int) -> ApprovalBatch:
    b = access.access_batch(request.user, batch_id)
    if b.status not in (B.NOTICE, B.ACTIVE) or b.notice_starts is None:
        raise Http404("该批次尚未进入公示")
    return b


def notice_page(request: AuthedRequest, batch_id: int) -> HttpResponse:
    """The notice to print and post in the community: masked names and ID numbers."""
    b = _published(request, batch_id)
    rows = approvals.notice_rows(b)
    approvals.record_notice_export(b, acting_user=request.user, rows=len(rows), kind="print", request=request)
    days = (b.notice_ends - b.notice_starts).days + 1 if b.notice_ends and b.notice_starts else 0
    context = {"b": b, "rows": rows, "title": approvals.notice_title(b), "intro": approvals.notice_text(b),
               "contacts": approvals.objection_contacts(b), "days": days, "today": timezone.localdate(),
               "total": sum((r.amount for r in rows), start=Decimal(0))}
    return render(request, "eligibility/approvals/notice.html", context)


def notice_export(request: AuthedRequest, batch_id: int) -> HttpResponse:
    b = _published(request, batch_id)
    rows = approvals.notice_rows(b)
    content = approvals.notice_xlsx(b, rows)
    approvals.record_notice_export(b, acting_user=request.user, rows=len(rows), kind="xlsx", request=request)
    return xlsx_response(content, f"{approvals.notice_title(b)}-{b.community.name}.xlsx")


# --- the notice period --------------------------------------------------------------------------


def _districts(user: Any, capability: Capability) -> list[Region]:
    scope = capability_scope(user, capability)
    found = list(Region.objects.filter(scope.region_q(), level=RegionLevel.DISTRICT).order_by("code"))
    if found:
        return found
    # A street or community membership: the district above it.
    codes = {p[:6].ljust(12, "0") for p in scope.prefixes}
    return list(Region.objects.filter(code__in=codes, level=RegionLevel.DISTRICT).order_by("code"))


def settings_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    districts = _districts(user, Capability.MANAGE_POLICIES)
    editable = {d.pk for d in districts}
    districts += [d for d in _districts(user, Capability.VIEW_ENTITLEMENTS) if d.pk not in editable]
    if not districts:
        raise PermissionDenied("您没有查看待遇公示设置的权限")
    district = districts[0]
    raw = request.GET.get("district") or request.POST.get("district")
    if raw:
        chosen = next((d for d in districts if str(d.pk) == raw), None)
        if chosen is None:
            raise Http404("没有找到该区县")
        district = chosen
    may_edit = district.pk in editable
    current = approvals.settings_for(district)
    form = SettingsForm(request.POST or None, initial={"notice_days": current.notice_days})
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("您没有设置公示天数的权限")
        if form.is_valid():
            try:
                approvals.update_settings(district, notice_days=form.cleaned_data["notice_days"], acting_user=user,
                                          request=request)
            except UserError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{district.name}的公示天数已保存，此后进入公示的批次按新天数公示")
                return redirect(f"{request.path}?district={district.pk}")
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "district": district, "districts": districts, "may_edit": may_edit,
               "settings": current, "is_default": current.pk is None,
               "min_days": approvals.MIN_NOTICE_DAYS, "max_days": approvals.MAX_NOTICE_DAYS}
    return render(request, "eligibility/approvals/settings.html", context)
