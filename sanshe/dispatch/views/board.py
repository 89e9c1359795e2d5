"""The dispatch board (派单调度): unassigned and urgent orders; per order the ranked candidates
with their reasons and the excluded caregivers with why; 自动派单, 指定护理员 (with a reason) and
广播抢单. Operators see their district, provider managers their own provider's orders."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.dispatch.access import (
    access_dispatch_order,
    access_pickable_caregiver,
    dispatchable_orders,
    pickable_caregivers,
    require_dispatcher,
)
from sanshe.dispatch.actions import auto_assign, broadcast_order, override_assign
from sanshe.dispatch.matching import match_order
from sanshe.orders.models import OfferResponse, OrderStatus, ServiceOrder

S = OrderStatus
BOARD_SIZE = 60
URGENT_SHOWN = (S.REQUESTED, S.ASSIGNED, S.ACCEPTED, S.ON_THE_WAY, S.IN_SERVICE)


def board(request: AuthedRequest) -> HttpResponse:
    """Unassigned orders (urgent first) and today's urgent orders in whatever state."""
    user = request.user
    require_dispatcher(user)
    now = timezone.now()
    scoped = dispatchable_orders(user).select_related("person", "item", "community", "provider", "caregiver")
    unassigned = list(scoped.filter(status=S.REQUESTED, window_end__gte=now - dt.timedelta(hours=12))
                      .order_by("-urgent", "window_start", "id")[:BOARD_SIZE])
    urgent = list(scoped.filter(urgent=True, status__in=URGENT_SHOWN[1:], window_start__gte=now - dt.timedelta(hours=24))
                  .order_by("-window_start")[:BOARD_SIZE])
    offered = set(
        ServiceOrder.objects.filter(pk__in=[o.pk for o in unassigned], offers__response=OfferResponse.OPEN)
        .values_list("pk", flat=True))
    record_event(user, AuditAction.VIEW_SERVICE, request=request, subject="派单调度台",
                 row_count=len(unassigned) + len(urgent))
    return render(request, "dispatch/board.html", {
        "unassigned": unassigned, "urgent": urgent, "offered": offered, "now": now,
    })


def order_page(request: AuthedRequest, order_id: int) -> HttpResponse:
    """One order: why the top caregiver is proposed, the others ranked, the excluded with why."""
    user = request.user
    order = access_dispatch_order(user, order_id)
    result = match_order(order) if order.status in (S.REQUESTED, S.ASSIGNED, S.ACCEPTED) else None
    record_event(user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                 subject=f"派单：工单 {order.pk}")
    offers = list(order.offers.select_related("caregiver").order_by("sent_at", "id"))
    choices = pickable_caregivers(user, order)
    if order.provider_id:
        choices = choices.filter(provider_id=order.provider_id)
    return render(request, "dispatch/order.html", {
        "order": order, "result": result, "offers": offers, "choices": choices.order_by("name")[:300],
        "assignment": order.assignment or {}, "events": list(order.events.select_related("caregiver").order_by("at", "id")),
        "can_auto": order.status == S.REQUESTED, "can_override": order.status in (S.REQUESTED, S.ASSIGNED, S.ACCEPTED),
    })


@require_POST
def auto(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = access_dispatch_order(request.user, order_id)
    try:
        outcome = auto_assign(order, acting_user=request.user)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:order", order_id=order.pk)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"自动派单：工单 {order.pk}", detail={"caregiver": outcome.assigned.caregiver_id
                                                              if outcome.assigned else None,
                                                              "offers": outcome.offers})
    (messages.success if outcome.assigned else messages.warning)(request, outcome.message)
    return redirect("dispatch:order", order_id=order.pk)


@require_POST
def override(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = access_dispatch_order(request.user, order_id)
    reason = (request.POST.get("reason") or "").strip()
    if not request.POST.get("caregiver"):
        messages.error(request, "请选择护理员")
        return redirect("dispatch:order", order_id=order.pk)
    caregiver = access_pickable_caregiver(request.user, order, request.POST.get("caregiver"))
    try:
        order = override_assign(order, caregiver, acting_user=request.user, reason=reason)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:order", order_id=order.pk)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"指定护理员：工单 {order.pk}", reason=reason, detail={"caregiver": caregiver.pk})
    messages.success(request, f"已指定{caregiver.name}，原因已记录")
    return redirect("dispatch:order", order_id=order.pk)


@require_POST
def broadcast(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = access_dispatch_order(request.user, order_id)
    try:
        offers = broadcast_order(order)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:order", order_id=order.pk)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"广播抢单：工单 {order.pk}", row_count=len(offers))
    if offers:
        messages.success(request, f"已向 {len(offers)} 名护理员广播抢单")
    else:
        messages.warning(request, "附近没有可以再邀请的护理员")
    return redirect("dispatch:order", order_id=order.pk)
