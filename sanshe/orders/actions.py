"""Order transitions: every status change of a service order goes through `transition_order`,
which enforces the declared TRANSITIONS table, requires a reason on exceptional steps and records
an OrderEvent. Assignment checks the caregiver may deliver the item (qualification, provider)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sanshe.catalog.models import Caregiver
from sanshe.catalog.queries import unqualified_reason
from sanshe.core.errors import UserError
from sanshe.orders.models import TRANSITIONS, OrderEvent, OrderStatus, ServiceOrder


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, {})


def needs_reason(from_status: str, to_status: str) -> bool:
    return TRANSITIONS.get(from_status, {}).get(to_status, False)


def transition_order(
    order: ServiceOrder, to_status: str, *, acting_user: Any, reason: str = "", caregiver: Caregiver | None = None,
    actor_name: str = "",
) -> ServiceOrder:
    """Move an order to a new status by the table; the order row is locked for the change."""
    reason = reason.strip()
    with transaction.atomic():
        locked = ServiceOrder.objects.select_for_update().get(pk=order.pk)
        current = locked.status
        if not can_transition(current, to_status):
            raise UserError(
                f"工单当前为“{OrderStatus(current).label}”，不能变为“{OrderStatus(to_status).label}”", field="status"
            )
        if needs_reason(current, to_status) and not reason:
            raise UserError(f"工单由“{OrderStatus(current).label}”变为“{OrderStatus(to_status).label}”须填写原因",
                            field="reason")
        locked.status = to_status
        if to_status == OrderStatus.REQUESTED:
            locked.caregiver = None
            locked.assignment = {}
        if caregiver is not None:
            locked.caregiver = caregiver
        locked.save(update_fields=["status", "caregiver", "assignment", "updated_at"])
        is_user = acting_user is not None and getattr(acting_user, "is_authenticated", False)
        OrderEvent.objects.create(
            order=locked, from_status=current, to_status=to_status, reason=reason[:300],
            actor=acting_user if is_user else None,
            actor_name=(actor_name or (acting_user.display_name if is_user else ""))[:50],
            caregiver=caregiver if caregiver is not None else locked.caregiver,
        )
    order.refresh_from_db()
    return order


def assign_order(
    order: ServiceOrder, caregiver: Caregiver, *, acting_user: Any, lines: list[str], by: str, reason: str = ""
) -> ServiceOrder:
    """Assign (or reassign) an order to a caregiver; `lines` say why, `by` is "auto" or "dispatcher".

    A caregiver without the item's valid qualification, or of a provider other than the order's,
    is refused whoever asks."""
    refusal = unqualified_reason(caregiver, order.item, timezone.localtime(order.window_start).date())
    if refusal:
        raise UserError(refusal, field="caregiver")
    if order.provider_id is not None and caregiver.provider_id != order.provider_id:
        raise UserError(f"{caregiver.name}不属于承接该工单的服务机构", field="caregiver")
    with transaction.atomic():
        order = transition_order(order, OrderStatus.ASSIGNED, acting_user=acting_user, reason=reason,
                                 caregiver=caregiver)
        order.provider_id = caregiver.provider_id
        order.assignment = {"by": by, "lines": lines, "at": timezone.now().isoformat(timespec="seconds")}
        order.save(update_fields=["provider", "assignment", "updated_at"])
    return order
