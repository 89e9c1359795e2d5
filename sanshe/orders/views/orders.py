"""Order pages: the list with filters, recording an ad hoc request, and an order's page with its
timeline, the reasons for its assignment and the status changes this user may make."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.access import community_ids_in_scope, has_capability
from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Capability, Organization, Region, RegionLevel
from sanshe.catalog.models import ServiceItem, Tier
from sanshe.catalog.queries import contracted_providers
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.core.models import AuditAction
from sanshe.orders.access import access_order, allowed_moves, can_request_for, filter_orders, may_list_orders
from sanshe.orders.actions import change_order_status, create_order
from sanshe.orders.models import OrderSource, OrderStatus, ServiceOrder
from sanshe.orders.plans import funding_of
from sanshe.people.access import access_person, visible_people
from sanshe.people.models import Person

PAGE_SIZE = 40
S = OrderStatus


class FilterForm(PlatformForm, forms.Form):
    status = forms.ChoiceField(label="状态", required=False,
                               choices=[("", "全部"), ("open", "未完成"), *OrderStatus.choices])
    date_from = forms.DateField(label="服务日期自", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    item = forms.ModelChoiceField(label="服务项目", required=False, queryset=ServiceItem.objects.none(),
                                  empty_label="全部")
    community = forms.ModelChoiceField(label="社区", required=False, queryset=Region.objects.none(),
                                       empty_label="全部")
    provider = forms.ModelChoiceField(label="服务机构", required=False, queryset=Organization.objects.none(),
                                      empty_label="全部")
    urgent = forms.ChoiceField(label="加急", required=False, choices=[("", "全部"), ("1", "仅加急"), ("0", "非加急")])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f: Any = self.fields
        f["item"].queryset = ServiceItem.objects.order_by("category", "code")
        regions = set(community_ids_in_scope(user, Capability.VIEW_SERVICES)) | set(
            community_ids_in_scope(user, Capability.DISPATCH_ORDERS))
        f["community"].queryset = Region.objects.filter(pk__in=regions, level=RegionLevel.COMMUNITY).order_by("code")
        f["provider"].queryset = Organization.objects.filter(kind="provider").order_by("name")


def _order_rows(qs: QuerySet[ServiceOrder]) -> QuerySet[ServiceOrder]:
    return qs.select_related("person", "item", "community__parent", "provider", "caregiver")


def order_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not may_list_orders(user):
        raise PermissionDenied("您没有查看服务工单的权限")
    form = FilterForm(request.GET or None, user=user)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    urgent = {"1": True, "0": False}.get(data.get("urgent") or "")
    qs = filter_orders(
        user, status=data.get("status") or "", date_from=data.get("date_from"), date_to=data.get("date_to"),
        item_id=data["item"].pk if data.get("item") else None,
        community_id=data["community"].pk if data.get("community") else None,
        provider_id=data["provider"].pk if data.get("provider") else None, urgent=urgent)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE_SIZE
    rows = list(_order_rows(qs).order_by("-window_start", "-id")[start:start + PAGE_SIZE + 1])
    shown = rows[:PAGE_SIZE]
    record_event(user, AuditAction.VIEW_SERVICE, request=request, subject="服务工单列表", row_count=len(shown),
                 detail={"page": page, "filters": {k: str(v) for k, v in request.GET.items() if k != "page"}})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "orders/list.html", {
        "form": form, "rows": shown, "page": page, "has_next": len(rows) > PAGE_SIZE, "query": query.urlencode(),
        "may_request": has_capability(user, Capability.REQUEST_SERVICE),
    })


# --- ad hoc requests ----------------------------------------------------------------------------


class RequestForm(PlatformForm, forms.Form):
    item = forms.ModelChoiceField(label="服务项目", queryset=ServiceItem.objects.none())
    day = forms.DateField(label="服务日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    window_start = forms.TimeField(label="最早开始", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    window_end = forms.TimeField(label="最晚开始", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    tier = forms.ChoiceField(label="收费档次", choices=Tier.choices)
    source = forms.ChoiceField(label="来源", choices=[(OrderSource.COMMUNITY, OrderSource.COMMUNITY.label),
                                                     (OrderSource.CALL_CENTRE, OrderSource.CALL_CENTRE.label)])
    requested_by_name = forms.CharField(label="申请人", max_length=50, required=False,
                                        help_text="老人本人或家属来电时填写其姓名和关系，如“女儿 李芳”")
    urgent = forms.BooleanField(label="加急", required=False)
    notes = forms.CharField(label="需求说明", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        items = [i.pk for i in ServiceItem.objects.filter(is_active=True)
                 if contracted_providers(person.residence_region, i, today).exists()]
        f: Any = self.fields
        f["item"].queryset = ServiceItem.objects.filter(pk__in=items).order_by("category", "code")
        self.localise_blank_choices()


def _person_for_request(request: AuthedRequest, person_id: Any) -> Person:
    person = access_person(request.user, person_id)
    if not can_request_for(request.user, person):
        raise PermissionDenied("您没有为该老人代为申请服务的权限")
    return person


def order_new(request: AuthedRequest, person_id: int | None = None) -> HttpResponse:
    user = request.user
    if not has_capability(user, Capability.REQUEST_SERVICE):
        raise PermissionDenied("您没有代为申请服务的权限")
    if person_id is None:
        q = request.GET.get("q", "").strip()
        found = []
        if q:
            found = list(visible_people(user, Capability.REQUEST_SERVICE).filter(name__contains=q)
                         .select_related("residence_region__parent").order_by("name")[:20])
        return render(request, "orders/find_person.html", {"q": q, "found": found})
    person = _person_for_request(request, person_id)
    today = timezone.localdate()
    source = OrderSource.CALL_CENTRE if has_capability(user, Capability.DISPATCH_ORDERS) else OrderSource.COMMUNITY
    initial = {"day": today + dt.timedelta(days=1), "window_start": dt.time(9, 0), "window_end": dt.time(11, 0),
               "tier": funding_of(person, today).tier, "source": source}
    form = RequestForm(request.POST or None, initial=initial, person=person)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            order = create_order(
                person=person, item=d["item"], source=d["source"], acting_user=user, urgent=d["urgent"],
                notes=d["notes"], tier=d["tier"], requested_by_name=d["requested_by_name"] or user.display_name,
                window_start=timezone.make_aware(dt.datetime.combine(d["day"], d["window_start"])),
                window_end=timezone.make_aware(dt.datetime.combine(d["day"], d["window_end"])),
            )
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            record_event(user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                         subject=f"工单 {order.pk}", reason=f"代为申请：{order.item.name}")
            messages.success(request, f"已下单：{order.item.name}，工单号 {order.pk}"
                                      + ("，等待派单" if order.provider_id else "，等待调度选择服务机构"))
            return redirect("orders:detail", order_id=order.pk)
    return render(request, "orders/new.html", {"form": form, "person": person, "age": person.age()},
                  status=400 if request.method == "POST" else 200)


# --- one order ----------------------------------------------------------------------------------


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label="变更为", choices=OrderStatus.choices)
    reason = forms.CharField(label="原因", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _detail(request: AuthedRequest, order: ServiceOrder, *, error: str = "", status: int = 200,
            form: TransitionForm | None = None) -> HttpResponse:
    events = list(order.events.select_related("caregiver").all())
    return render(request, "orders/detail.html", {
        "o": order, "person": order.person, "events": events, "moves": allowed_moves(request.user, order),
        "assignment_lines": (order.assignment or {}).get("lines", []), "assignment_by": (order.assignment or {}).get("by"),
        "error": error, "form": form or TransitionForm(),
    }, status=status)


def order_detail(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = access_order(request.user, order_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                 subject=f"工单 {order.pk}")
    return _detail(request, order)


@require_POST
def order_transition(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = access_order(request.user, order_id, for_write=True)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _detail(request, order, error="请选择要变更的状态", status=400, form=form)
    to = form.cleaned_data["to_status"]
    reason = form.cleaned_data["reason"]
    try:
        change_order_status(order, to, reason=reason, acting_user=request.user, request=request)
    except UserError as exc:
        return _detail(request, order, error=exc.message, status=400, form=form)
    messages.success(request, f"工单已变更为“{OrderStatus(to).label}”")
    return redirect("orders:detail", order_id=order.pk)
