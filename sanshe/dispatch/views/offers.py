"""The caregiver's phone page 抢单: open broadcast offers with accept and decline. The first
caregiver to accept gets the order; the others' offers are withdrawn."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.catalog.access import caregiver_of
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.dispatch.access import access_offer, visible_offers
from sanshe.dispatch.actions import accept_offer, decline_offer
from sanshe.dispatch.matching import explain_caregiver
from sanshe.orders.models import OfferResponse, OrderStatus


def offer_list(request: AuthedRequest) -> HttpResponse:
    caregiver = caregiver_of(request.user)
    if caregiver is None:
        raise PermissionDenied("只有在职护理员可以抢单")
    offers = list(visible_offers(request.user).filter(response=OfferResponse.OPEN, order__status=OrderStatus.REQUESTED,
                                                     order__window_end__gte=timezone.now())
                  .select_related("order__item", "order__community", "order__person", "order__plan_item")
                  .order_by("order__window_start"))
    rows = []
    for offer in offers:
        found = explain_caregiver(offer.order, caregiver)
        rows.append({"offer": offer, "order": offer.order, "facts": found})
    recent = list(visible_offers(request.user).exclude(response=OfferResponse.OPEN)
                  .select_related("order__item").order_by("-responded_at")[:10])
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="抢单", row_count=len(rows))
    return render(request, "dispatch/offers.html", {"rows": rows, "recent": recent, "caregiver": caregiver})


@require_POST
def accept(request: AuthedRequest, offer_id: int) -> HttpResponse:
    offer = access_offer(request.user, offer_id)
    try:
        order = accept_offer(offer, acting_user=request.user)
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:offers")
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"抢单成功：工单 {order.pk}")
    messages.success(request, f"抢单成功：{order.item.name}，{timezone.localtime(order.window_start):%m-%d %H:%M} 起")
    return redirect("dispatch:offers")


@require_POST
def decline(request: AuthedRequest, offer_id: int) -> HttpResponse:
    offer = access_offer(request.user, offer_id)
    try:
        decline_offer(offer, acting_user=request.user, reason=request.POST.get("reason") or "")
    except UserError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch:offers")
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=offer.order.person_id,
                 subject=f"放弃抢单：工单 {offer.order_id}")
    messages.info(request, "已放弃该单")
    return redirect("dispatch:offers")
