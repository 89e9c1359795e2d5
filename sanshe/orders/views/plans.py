"""Care-plan pages: the list, the panel on the person's file (plans, requests, personal links),
drafting, editing a draft's items, the three signatures, revising, ending, the planned-vs-delivered
month and the printable agreement."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import segno
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.access import has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Organization
from sanshe.catalog.access import provider_ids_of
from sanshe.catalog.models import Caregiver, ServiceItem, Tier
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.core.models import AuditAction
from sanshe.orders import plans as plan_actions
from sanshe.orders import rules
from sanshe.orders.access import (
    access_care_plan,
    can_draft_plan_for,
    can_edit_plan,
    can_request_for,
    visible_care_plans,
    visible_orders,
)
from sanshe.orders.actions import create_request_link, link_for_token, revoke_request_link
from sanshe.orders.models import CarePlan, CarePlanStatus, RequestLink, SignerRole
from sanshe.orders.plan_pdf import care_plan_pdf
from sanshe.people.access import access_person
from sanshe.people.models import Person

PAGE_SIZE = 40


def plan_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not (has_capability(user, Capability.VIEW_SERVICES) or provider_ids_of(user)):
        raise PermissionDenied("您没有查看照护方案的权限")
    status = request.GET.get("status", "")
    qs = visible_care_plans(user).select_related("person__residence_region__parent", "provider")
    if status in CarePlanStatus.values:
        qs = qs.filter(status=status)
    rows = list(qs.order_by("-created_at", "-id")[:200])
    record_event(user, AuditAction.VIEW_SERVICE, request=request, subject="照护方案列表", row_count=len(rows))
    return render(request, "orders/plans/list.html", {"rows": rows, "status": status,
                                                       "statuses": CarePlanStatus.choices})


# --- the panel on the person's file --------------------------------------------------------------


def _panel_context(request: AuthedRequest, person: Person) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    plans = list(visible_care_plans(user).filter(person=person).select_related("provider").order_by("-created_at"))
    may_draft = can_draft_plan_for(user, person)
    may_request = can_request_for(user, person)
    return {
        "person": person, "plans": plans, "may_draft": may_draft, "may_request": may_request,
        "providers": list(plan_actions.providers_for(person.residence_region, today)) if may_draft else [],
        "links": list(RequestLink.objects.filter(person=person, revoked_at__isnull=True).select_related("created_by"))
        if may_request else [],
        "orders": list(visible_orders(user).filter(person=person).select_related("item", "provider")
                       .order_by("-window_start")[:8]),
    }


def person_panel(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    return render(request, "orders/_person_panel.html", _panel_context(request, person))


@require_POST
def plan_new(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    if not can_draft_plan_for(request.user, person):
        raise PermissionDenied("您没有为该老人制定照护方案的权限")
    provider = Organization.objects.filter(pk=request.POST.get("provider") or 0, kind="provider").first()
    if provider is None:
        messages.error(request, "请选择服务机构")
        return redirect(reverse("people:detail", args=[person.pk]) + "#orders-panel")
    try:
        plan = plan_actions.draft_care_plan(person, provider, acting_user=request.user, request=request)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("people:detail", args=[person.pk]) + "#orders-panel")
    messages.success(request, "已按能力评估和享受的待遇起草方案，请核对服务项目后三方签署")
    return redirect("orders:plan", plan_id=plan.pk)


# --- one plan -----------------------------------------------------------------------------------


class DetailsForm(forms.Form):
    needs = forms.CharField(label="服务需求", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    goals = forms.CharField(label="照护目标", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    ends_on = forms.DateField(label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class ItemForm(PlatformForm, forms.Form):
    item = forms.ModelChoiceField(label="服务项目", queryset=ServiceItem.objects.none())
    tier = forms.ChoiceField(label="收费档次", choices=Tier.choices)
    weekdays = forms.TypedMultipleChoiceField(label="服务日", coerce=int, choices=list(rules.WEEKDAY_NAMES.items()),
                                              widget=forms.CheckboxSelectMultiple)
    window_start = forms.TimeField(label="期望开始", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    window_end = forms.TimeField(label="最晚开始", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    minutes = forms.IntegerField(label="每次时长（分钟）", min_value=5, max_value=480)
    preferred_caregiver = forms.ModelChoiceField(label="固定护理员", required=False, queryset=Caregiver.objects.none(),
                                                 empty_label="不指定（由调度安排）")
    notes = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, plan: CarePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields
        items = plan_actions.contracted_items(plan, plan.starts_on)
        f["item"].queryset = ServiceItem.objects.filter(pk__in=[i.pk for i in items]).order_by("category", "code")
        f["preferred_caregiver"].queryset = Caregiver.objects.filter(provider=plan.provider, is_active=True)
        self.localise_blank_choices()


class SignForm(forms.Form):
    role = forms.ChoiceField(choices=SignerRole.choices)
    signer_name = forms.CharField(max_length=50)
    image = forms.CharField(required=False)


def _month_of(request: AuthedRequest, plan: CarePlan) -> dt.date:
    raw = request.GET.get("month", "")
    try:
        return dt.date.fromisoformat(raw + "-01") if raw else timezone.localdate().replace(day=1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def _signers(request: AuthedRequest, plan: CarePlan) -> list[dict[str, Any]]:
    signed = {s.role: s for s in plan.signatures.select_related("recorded_by")}
    user = request.user
    defaults = {SignerRole.COMMUNITY: user.display_name, SignerRole.PROVIDER: user.display_name,
                SignerRole.ELDER: plan.person.name, SignerRole.GUARDIAN: ""}
    party_signed = SignerRole.ELDER in signed or SignerRole.GUARDIAN in signed
    rows = []
    for role in SignerRole:
        if role in (SignerRole.ELDER, SignerRole.GUARDIAN) and party_signed and role not in signed:
            continue  # the elder or a guardian: one of them is enough
        rows.append({"role": role.value, "label": role.label, "sig": signed.get(role),
                     "may_sign": plan.status == CarePlanStatus.DRAFT and plan_actions.may_sign(user, plan, role),
                     "default_name": defaults[role]})
    return rows


def _plan_page(request: AuthedRequest, plan: CarePlan, *, status: int = 200, item_form: ItemForm | None = None,
               details_form: DetailsForm | None = None, error: str = "", error_at: str = "") -> HttpResponse:
    month = _month_of(request, plan)
    rows, cost = plan_actions.plan_month(plan, month.year, month.month)
    editable = plan.status == CarePlanStatus.DRAFT and can_edit_plan(request.user, plan)
    context: dict[str, Any] = {
        "plan": plan, "person": plan.person, "rows": rows, "cost": cost, "month": month,
        "prev_month": (month - dt.timedelta(days=1)).replace(day=1),
        "next_month": (month + dt.timedelta(days=32)).replace(day=1),
        "editable": editable, "signers": _signers(request, plan),
        "may_manage": can_edit_plan(request.user, plan),
        "versions": list(CarePlan.objects.filter(person=plan.person, provider=plan.provider).order_by("-version")),
        "has_link": RequestLink.objects.filter(person=plan.person, revoked_at__isnull=True).exists(),
        "error": error, "error_at": error_at,
    }
    if editable:
        last = plan.items.order_by("-pk").first()
        context["item_form"] = item_form or ItemForm(plan=plan, initial={
            "tier": last.tier if last else plan_actions.funding_of(plan.person, timezone.localdate()).tier,
            "weekdays": [1, 3, 5], "window_start": dt.time(9, 0), "window_end": dt.time(10, 0), "minutes": 60})
        context["details_form"] = details_form or DetailsForm(initial={
            "needs": plan.needs, "goals": plan.goals, "starts_on": plan.starts_on, "ends_on": plan.ends_on})
    return render(request, "orders/plans/detail.html", context, status=status)


def plan_detail(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=plan.person_id,
                 subject=f"照护方案 {plan.pk}")
    return _plan_page(request, plan)


@require_POST
def plan_details(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    form = DetailsForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, plan, details_form=form, status=400, error="请填写有效的开始日期",
                          error_at="details")
    d = form.cleaned_data
    try:
        plan_actions.update_plan_details(plan, needs=d["needs"], goals=d["goals"], starts_on=d["starts_on"],
                                         ends_on=d["ends_on"], acting_user=request.user)
    except UserError as exc:
        return _plan_page(request, plan, details_form=form, status=400, error=exc.message, error_at="details")
    messages.success(request, "已保存方案内容")
    return redirect("orders:plan", plan_id=plan.pk)


@require_POST
def plan_item_add(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    form = ItemForm(request.POST, plan=plan)
    if not form.is_valid():
        problems = "；".join(f"{form.fields[k].label}：{v[0]}" if k in form.fields else str(v[0])
                            for k, v in form.errors.items())
        return _plan_page(request, plan, item_form=form, status=400, error=problems, error_at="item")
    d = form.cleaned_data
    try:
        plan_actions.add_plan_item(plan, item=d["item"], tier=d["tier"], weekdays=d["weekdays"],
                                   window_start=d["window_start"], window_end=d["window_end"], minutes=d["minutes"],
                                   preferred_caregiver=d["preferred_caregiver"], notes=d["notes"],
                                   acting_user=request.user)
    except UserError as exc:
        return _plan_page(request, plan, item_form=form, status=400, error=exc.message, error_at="item")
    messages.success(request, f"已添加服务项目：{d['item'].name}")
    return redirect(reverse("orders:plan", args=[plan.pk]) + "#plan-items")


@require_POST
def plan_item_remove(request: AuthedRequest, plan_id: int, item_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    try:
        plan_actions.remove_plan_item(plan, item_id, acting_user=request.user)
    except UserError as exc:
        return _plan_page(request, plan, status=400, error=exc.message, error_at="item")
    messages.success(request, "已删除该服务项目")
    return redirect(reverse("orders:plan", args=[plan.pk]) + "#plan-items")


@require_POST
def plan_sign(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    form = SignForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, plan, status=400, error="请填写签署人姓名并在签名框内签名", error_at="sign")
    d = form.cleaned_data
    try:
        plan = plan_actions.sign_care_plan(plan, role=d["role"], signer_name=d["signer_name"], image=d["image"],
                                           acting_user=request.user, request=request)
    except UserError as exc:
        return _plan_page(request, plan, status=400, error=exc.message, error_at="sign")
    if plan.status == CarePlanStatus.ACTIVE:
        messages.success(request, "三方签署完成，方案已生效，将按服务日自动生成工单")
    else:
        messages.success(request, f"已记录{SignerRole(d['role']).label}签名")
    return redirect(reverse("orders:plan", args=[plan.pk]) + "#signatures")


@require_POST
def plan_revise(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    try:
        new = plan_actions.revise_care_plan(plan, acting_user=request.user, request=request)
    except UserError as exc:
        return _plan_page(request, plan, status=400, error=exc.message, error_at="manage")
    messages.success(request, f"已生成第{new.version}版草稿，原方案在新版签署生效前继续执行")
    return redirect("orders:plan", plan_id=new.pk)


@require_POST
def plan_end(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    try:
        plan_actions.end_care_plan(plan, reason=request.POST.get("reason", ""), acting_user=request.user,
                                   request=request)
    except UserError as exc:
        return _plan_page(request, plan, status=400, error=exc.message, error_at="manage")
    messages.success(request, "方案已终止，之后尚未开始的工单已取消")
    return redirect("orders:plan", plan_id=plan.pk)


@require_POST
def plan_discard(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    person_id = plan.person_id
    try:
        plan_actions.discard_draft(plan, acting_user=request.user)
    except UserError as exc:
        return _plan_page(request, plan, status=400, error=exc.message, error_at="manage")
    messages.success(request, "已放弃该草稿")
    return redirect(reverse("people:detail", args=[person_id]) + "#orders-panel")


def plan_pdf(request: AuthedRequest, plan_id: int) -> HttpResponse:
    """The agreement; posted with a just-made link's token it carries the link's QR code."""
    plan = access_care_plan(request.user, plan_id)
    link_url = ""
    if request.method == "POST":
        token = request.POST.get("token", "")
        link = link_for_token(token)
        if link is None or link.person_id != plan.person_id:
            raise Http404("自助下单链接无效或已停用")
        link_url = request.build_absolute_uri(reverse("orders:self_service", args=[token]))
    has_link = RequestLink.objects.filter(person=plan.person, revoked_at__isnull=True).exists()
    pdf = care_plan_pdf(plan, printed_by=request.user.display_name, link_url=link_url, has_link=has_link)
    record_event(request.user, AuditAction.EXPORT_SERVICES, request=request, person_id=plan.person_id,
                 subject=f"照护方案 {plan.pk} 三方协议（PDF）")
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"三方协议-{plan.person.masked_name}-第{plan.version}版.pdf"
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "private, no-store"
    return response


# --- personal request links ----------------------------------------------------------------------


@require_POST
def link_create(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = access_person(request.user, person_id)
    if not can_request_for(request.user, person):
        raise PermissionDenied("您没有为该老人开通自助下单的权限")
    link, token = create_request_link(person, acting_user=request.user)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                 subject=f"自助下单链接 {link.pk}", reason="开通自助下单链接")
    url = request.build_absolute_uri(reverse("orders:self_service", args=[token]))
    qr = segno.make(url, error="m").svg_data_uri(scale=6, border=2)
    plans = list(visible_care_plans(request.user).filter(person=person, status__in=(
        CarePlanStatus.ACTIVE, CarePlanStatus.DRAFT)).select_related("provider"))
    # The secret is shown once, on this answer; it is not kept anywhere.
    response = render(request, "orders/link_created.html", {"person": person, "url": url, "qr": qr, "token": token,
                                                            "plans": plans})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def link_revoke(request: AuthedRequest, link_id: int) -> HttpResponse:
    link = RequestLink.objects.filter(pk=link_id).select_related("person").first()
    if link is None:
        raise Http404("没有找到该链接")
    person = access_person(request.user, link.person_id)
    if not can_request_for(request.user, person):
        raise PermissionDenied("您没有停用该链接的权限")
    revoke_request_link(link, acting_user=request.user)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                 subject=f"自助下单链接 {link.pk}", reason="停用自助下单链接")
    messages.success(request, "已停用该自助下单链接")
    return redirect(reverse("people:detail", args=[person.pk]) + "#orders-panel")
