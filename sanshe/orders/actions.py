"""Order transitions: every status change of a service order goes through `transition_order`,
which enforces the declared TRANSITIONS table, requires a reason on exceptional steps and records
an OrderEvent. Assignment checks the caregiver may deliver the item (qualification, provider)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from sanshe.accounts.models import Organization
from sanshe.catalog.models import Caregiver, ServiceItem, Tier
from sanshe.catalog.queries import contracted_providers, unqualified_reason
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders.access import order_targets
from sanshe.orders.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    CarePlanItem,
    OfferResponse,
    OrderEvent,
    OrderSource,
    OrderStatus,
    RequestLink,
    ServiceOrder,
)
from sanshe.people.models import Person


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


CLOSED_PERSON_STATUSES = {"deceased": "已故", "moved_away": "已迁出", "in_institution": "已入住养老机构"}


def create_order(
    *, person: Person, item: ServiceItem, window_start: dt.datetime, window_end: dt.datetime, source: str,
    acting_user: Any, urgent: bool = False, notes: str = "", tier: str = Tier.FREE, minutes: int | None = None,
    requested_by_name: str = "", plan_item: CarePlanItem | None = None, provider: Organization | None = None,
) -> ServiceOrder:
    """Record a service to deliver at the person's home. The provider is the given one (a care
    plan's), else the only provider contracted for the item in the person's community, else left
    for dispatch to choose among the contracted ones."""
    if person.status in CLOSED_PERSON_STATUSES:
        raise UserError(f"{person.name}{CLOSED_PERSON_STATUSES[person.status]}，不能下单", field="person")
    if not item.is_active:
        raise UserError(f"服务项目“{item.name}”已停用", field="item")
    if window_end < window_start:
        raise UserError("最晚开始时间不能早于最早开始时间", field="window_end")
    if source not in OrderSource.values:
        raise UserError("工单来源不正确", field="source")
    if tier not in Tier.values:
        raise UserError("收费档次不正确", field="tier")
    community = person.residence_region
    day = timezone.localtime(window_start).date()
    contracted = list(contracted_providers(community, item, day))
    if not contracted:
        raise UserError(f"{community.name}在 {day} 没有承接“{item.name}”的签约服务机构", field="item")
    if provider is not None and provider not in contracted:
        raise UserError(f"{provider.name}在 {day} 没有承接{community.name}“{item.name}”的有效合同", field="provider")
    if provider is None and len(contracted) == 1:
        provider = contracted[0]
    is_user = acting_user is not None and getattr(acting_user, "is_authenticated", False)
    with transaction.atomic():
        order = ServiceOrder.objects.create(
            person=person, item=item, tier=tier, community=community, provider=provider, plan_item=plan_item,
            source=source, urgent=urgent, window_start=window_start, window_end=window_end,
            minutes=minutes or item.standard_minutes, address=person.address, latitude=person.latitude,
            longitude=person.longitude, notes=notes[:300], requested_by=acting_user if is_user else None,
            requested_by_name=(requested_by_name or (acting_user.display_name if is_user else ""))[:50],
        )
        OrderEvent.objects.create(
            order=order, from_status=OrderStatus.REQUESTED, to_status=OrderStatus.REQUESTED,
            actor=acting_user if is_user else None, actor_name=order.requested_by_name,
            reason=f"下单：{OrderSource(source).label}",
        )
    return order


def cancel_order(order: ServiceOrder, *, reason: str, acting_user: Any, actor_name: str = "") -> ServiceOrder:
    """Cancel an order with a reason (the cancel button, the API and plan changes all come here);
    offers still open to caregivers are withdrawn with it."""
    with transaction.atomic():
        order = transition_order(order, OrderStatus.CANCELLED, acting_user=acting_user, reason=reason,
                                 actor_name=actor_name)
        order.offers.filter(response=OfferResponse.OPEN).update(response=OfferResponse.WITHDRAWN,
                                                                 responded_at=timezone.now())
    return order


# --- the elder's personal request link (自助下单) ---------------------------------------------------

# A link may have this many requests open at once, so a lost phone cannot flood the providers.
MAX_OPEN_PER_LINK = 5
# What "上午" and "下午" mean on the phone page: the visit starts inside the window.
HALF_DAYS: dict[str, tuple[dt.time, dt.time, str]] = {
    "morning": (dt.time(8, 30), dt.time(11, 30), "上午"),
    "afternoon": (dt.time(14, 0), dt.time(17, 0), "下午"),
}
# How far ahead an elder may ask for a visit.
SELF_SERVICE_DAYS = 14


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_request_link(person: Person, *, acting_user: Any) -> tuple[RequestLink, str]:
    """A new personal link for the person; the secret is returned once and only its hash is kept.
    Earlier links of the person stay valid until revoked."""
    token = secrets.token_urlsafe(24)
    link = RequestLink.objects.create(person=person, token_hash=token_hash(token), created_by=acting_user)
    return link, token


def revoke_request_link(link: RequestLink, *, acting_user: Any) -> RequestLink:
    """Stop a link from working (a lost phone, a moved elder)."""
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def link_for_token(token: str) -> RequestLink | None:
    """The live link a token opens, or None (unknown, revoked, or the person no longer served)."""
    if not token or len(token) > 100:
        return None
    link = (RequestLink.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True)
            .select_related("person__residence_region").first())
    if link is None or link.person.status in CLOSED_PERSON_STATUSES:
        return None
    return link


def open_link_requests(link: RequestLink) -> int:
    return ServiceOrder.objects.filter(person=link.person, source=OrderSource.ELDER, status__in=OPEN_STATUSES,
                                       created_at__gte=link.created_at).count()


def request_by_link(link: RequestLink, *, item: ServiceItem, day: dt.date, half: str, today: dt.date,
                    tier: str = Tier.PAID) -> ServiceOrder:
    """An order the elder or family asks for through the personal link (no account)."""
    if half not in HALF_DAYS:
        raise UserError("请选择上午或下午", field="half")
    if day < today or day > today + dt.timedelta(days=SELF_SERVICE_DAYS):
        raise UserError(f"请选择今天起 {SELF_SERVICE_DAYS} 天内的日期", field="day")
    start, end, label = HALF_DAYS[half]
    with transaction.atomic():
        # One request at a time per link: the count and the new row are decided together.
        RequestLink.objects.select_for_update().filter(pk=link.pk).first()
        if open_link_requests(link) >= MAX_OPEN_PER_LINK:
            raise UserError(f"您已有 {MAX_OPEN_PER_LINK} 个服务在等待安排，请等服务完成后再申请，或致电社区", field="item")
        window_start = timezone.make_aware(dt.datetime.combine(day, start))
        if window_start < timezone.now():
            raise UserError(f"今天{label}已过，请选择其他时间", field="half")
        return create_order(
            person=link.person, item=item, window_start=window_start,
            window_end=timezone.make_aware(dt.datetime.combine(day, end)), source=OrderSource.ELDER,
            acting_user=None, tier=tier, requested_by_name="老人或家属（自助链接）", notes=f"自助下单：{day:%m月%d日}{label}",
        )


def change_order_status(order: ServiceOrder, to: str, *, reason: str, acting_user: Any, request: Any = None) -> ServiceOrder:
    """One status change by a user from the order page or the API: the role decides which targets
    are open to them, the status table decides the rest."""
    if to not in OrderStatus.values:
        raise UserError("目标状态不正确", field="to_status")
    if to not in order_targets(acting_user, order):
        raise UserError(f"您不能将工单变为“{OrderStatus(to).label}”", field="to_status")
    if needs_reason(order.status, to) and not reason.strip():
        raise UserError(f"工单由“{OrderStatus(order.status).label}”变为“{OrderStatus(to).label}”须填写原因",
                        field="reason")
    if to == OrderStatus.CANCELLED:
        done = cancel_order(order, reason=reason, acting_user=acting_user)
    else:
        done = transition_order(order, to, acting_user=acting_user, reason=reason)
    record_event(acting_user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"工单 {order.pk}", reason=f"变更为{OrderStatus(to).label}" + (f"：{reason}" if reason else ""))
    return done
