"""Dispatch actions: automatic assignment, the dispatcher's override, broadcast offers (抢单) and
their answers, the call centre's urgent order, and the worker's pass over due orders. Every status
change goes through orders.actions (assign_order / transition_order)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sanshe.catalog.models import Caregiver, ServiceItem
from sanshe.core.errors import UserError
from sanshe.dispatch.matching import MatchResult, explain_caregiver, match_order
from sanshe.dispatch.rules import SOFT, Candidate
from sanshe.orders.actions import assign_order, create_order, transition_order
from sanshe.orders.models import OfferResponse, OrderOffer, OrderSource, OrderStatus, ServiceOrder
from sanshe.people.models import Person

S = OrderStatus
BROADCAST_SIZE = 10
URGENT_WINDOW = dt.timedelta(hours=2)
DUE_WITHIN = dt.timedelta(hours=24)
REASSIGNABLE = (S.REQUESTED, S.ASSIGNED, S.ACCEPTED)
RELATED = ("item", "community", "person", "plan_item", "provider", "caregiver")


@dataclass
class DispatchOutcome:
    """What an automatic dispatch did: assigned to the best candidate, or broadcast offers."""

    order: ServiceOrder
    result: MatchResult
    assigned: Candidate | None = None
    offers: int = 0

    @property
    def message(self) -> str:
        if self.assigned is not None:
            return f"已派给{self.assigned.name}（{self.assigned.provider_name}）"
        if self.offers:
            return f"没有完全符合条件的护理员，已向 {self.offers} 名护理员广播抢单"
        return self.result.problem or "附近没有可派的护理员，工单仍待派单，请人工指定"


def _lock(order: ServiceOrder) -> ServiceOrder:
    return ServiceOrder.objects.select_for_update(of=("self",)).select_related(*RELATED).get(pk=order.pk)


def _withdraw_offers(order: ServiceOrder, *, keep: int | None = None) -> None:
    still_open = OrderOffer.objects.filter(order=order, response=OfferResponse.OPEN)
    if keep is not None:
        still_open = still_open.exclude(pk=keep)
    still_open.update(response=OfferResponse.WITHDRAWN, responded_at=timezone.now())


def auto_assign(order: ServiceOrder, *, acting_user: Any) -> DispatchOutcome:
    """Assign a requested order to its best candidate; with none, broadcast it to nearby caregivers."""
    with transaction.atomic():
        locked = _lock(order)
        if locked.status != S.REQUESTED:
            raise UserError(f"工单当前为“{S(locked.status).label}”，只有待派单的工单可以自动派单", field="status")
        result = match_order(locked, explain=False)
        best = result.best
        if best is None:
            # The near misses (a little outside the circle, or busy) are offered the order.
            result = match_order(locked)
            offers = broadcast_order(locked, result=result) if not result.problem else []
            return DispatchOutcome(order=locked, result=result, offers=len(offers))
        caregiver = Caregiver.objects.select_related("provider").get(pk=best.caregiver_id)
        assigned = assign_order(locked, caregiver, acting_user=acting_user, lines=best.lines, by="auto")
        _withdraw_offers(assigned)
    return DispatchOutcome(order=assigned, result=result, assigned=best)


def override_assign(order: ServiceOrder, caregiver: Caregiver, *, acting_user: Any, reason: str) -> ServiceOrder:
    """The dispatcher's choice of caregiver, with a reason. An unqualified caregiver or one of
    another provider is still refused; outside the circle or busy is allowed and recorded as a warning."""
    reason = reason.strip()
    if not reason:
        raise UserError("指定护理员须填写原因", field="reason")
    with transaction.atomic():
        locked = _lock(order)
        if locked.status not in REASSIGNABLE:
            raise UserError(f"工单当前为“{S(locked.status).label}”，不能再指定护理员", field="status")
        if locked.caregiver_id == caregiver.pk and locked.status != S.REQUESTED:
            raise UserError(f"该工单已派给{caregiver.name}", field="caregiver")
        found = explain_caregiver(locked, caregiver)
        lines = [f"调度员指定：{reason}"]
        if found is not None and not found.eligible:
            lines.append(f"⚠ 不符合自动派单条件：{found.excluded_reason}")
        elif found is not None:
            lines += found.lines
        best = match_order(locked, explain=False).best
        if best is not None and best.caregiver_id != caregiver.pk:
            lines.append(f"系统推荐为{best.name}")
        assigned = assign_order(locked, caregiver, acting_user=acting_user, lines=lines, by="dispatcher",
                                reason=reason)
        _withdraw_offers(assigned)
    return assigned


def broadcast_order(order: ServiceOrder, *, result: MatchResult | None = None,
                    limit: int = BROADCAST_SIZE) -> list[OrderOffer]:
    """Offer a requested order to up to `limit` caregivers: the eligible ones first, then those
    only a little outside the circle or busy (they judge whether they can make it)."""
    if order.status != S.REQUESTED:
        raise UserError(f"工单当前为“{S(order.status).label}”，只有待派单的工单可以广播抢单", field="status")
    result = result or match_order(order)
    if result.problem:
        raise UserError(result.problem, field="order")
    already = set(OrderOffer.objects.filter(order=order).values_list("caregiver_id", flat=True))
    soft = [c for c in result.excluded if c.severity == SOFT]
    targets = [c for c in [*result.candidates, *soft] if c.caregiver_id not in already][:limit]
    offers = [OrderOffer(order=order, caregiver_id=c.caregiver_id) for c in targets]
    return OrderOffer.objects.bulk_create(offers, ignore_conflicts=True) if offers else []


def accept_offer(offer: OrderOffer, *, acting_user: Any) -> ServiceOrder:
    """The caregiver takes a broadcast order; the first to accept gets it, the others' offers are withdrawn."""
    with transaction.atomic():
        # The order row lock serialises concurrent accepts: the second one sees it taken.
        order = _lock(offer.order)
        locked = OrderOffer.objects.select_for_update(of=("self",)).select_related("caregiver__provider").get(pk=offer.pk)
        if locked.response != OfferResponse.OPEN:
            raise UserError(f"该抢单邀请{OfferResponse(locked.response).label}，不能再接单", field="offer")
        if order.status != S.REQUESTED:
            locked.response, locked.responded_at = OfferResponse.WITHDRAWN, timezone.now()
            locked.save(update_fields=["response", "responded_at"])
            raise UserError("该工单已被其他护理员接单或已由调度员派出", field="offer")
        caregiver = locked.caregiver
        found = explain_caregiver(order, caregiver)
        lines = [f"抢单：{caregiver.name}于 {timezone.localtime():%m-%d %H:%M} 接受广播邀请"]
        if found is not None:
            lines += [f"⚠ {found.excluded_reason}"] if not found.eligible else found.lines
        assigned = assign_order(order, caregiver, acting_user=acting_user, lines=lines, by="offer")
        assigned = transition_order(assigned, S.ACCEPTED, acting_user=acting_user, caregiver=caregiver)
        locked.response, locked.responded_at = OfferResponse.ACCEPTED, timezone.now()
        locked.save(update_fields=["response", "responded_at"])
        _withdraw_offers(assigned, keep=locked.pk)
    return assigned


def decline_offer(offer: OrderOffer, *, acting_user: Any, reason: str = "") -> OrderOffer:
    """The caregiver passes on a broadcast order."""
    with transaction.atomic():
        locked = OrderOffer.objects.select_for_update().get(pk=offer.pk)
        if locked.response != OfferResponse.OPEN:
            raise UserError(f"该抢单邀请{OfferResponse(locked.response).label}", field="offer")
        locked.response, locked.responded_at = OfferResponse.DECLINED, timezone.now()
        locked.reason = reason.strip()[:200]
        locked.save(update_fields=["response", "responded_at", "reason"])
    return locked


def place_urgent_order(*, person: Person, item: ServiceItem, acting_user: Any, notes: str = "",
                       requested_by_name: str = "") -> DispatchOutcome:
    """The call centre's urgent order (紧急下单): from now to two hours on, assigned at once."""
    now = timezone.now().replace(second=0, microsecond=0)
    order = create_order(person=person, item=item, window_start=now, window_end=now + URGENT_WINDOW,
                         source=OrderSource.CALL_CENTRE, acting_user=acting_user, urgent=True, notes=notes,
                         requested_by_name=requested_by_name)
    return auto_assign(order, acting_user=acting_user)


def due_orders(now: dt.datetime) -> Any:
    """Requested orders starting within 24 hours and not yet past, not waiting on open offers."""
    return (ServiceOrder.objects.filter(status=S.REQUESTED, window_start__lt=now + DUE_WITHIN, window_end__gte=now)
            .exclude(offers__response=OfferResponse.OPEN).order_by("-urgent", "window_start", "id"))


def dispatch_due_orders(*, now: dt.datetime | None = None, batch: int = 200) -> Counter[str]:
    """One worker pass: claim each due order (SKIP LOCKED on PostgreSQL, so workers run side by
    side) and auto-assign it. Idempotent: only orders still requested are touched."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    for pk in list(due_orders(now).values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            claim = ServiceOrder.objects.filter(pk=pk, status=S.REQUESTED)
            if connection.features.has_select_for_update_skip_locked:
                claim = claim.select_for_update(skip_locked=True)
            order = claim.first()
            if order is None:
                counts["skipped"] += 1
                continue
            outcome = auto_assign(order, acting_user=None)
        counts["assigned" if outcome.assigned else "broadcast" if outcome.offers else "unmatched"] += 1
    return counts
