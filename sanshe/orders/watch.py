"""Watching deliveries: an order with no check-in `late_after_minutes` after its window opened is
LATE; with none when the window closed, MISSED; a home care bed that had less than its daily
minimum of service yesterday is SHORTFALL. Each alert is raised once (the (order, kind) unique
constraint, and the day in a bed alert's message), seen by the provider and the community, and
texted to the provider's contact phone through the outbox.

`watch_deliveries` runs `run_watch` in a loop; several workers may run side by side: on
PostgreSQL each claims orders with SELECT … FOR UPDATE SKIP LOCKED, and the unique constraint
stops a second alert wherever two workers meet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sanshe.catalog.models import ServiceSettings
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.lib.masking import mask_name
from sanshe.orders.beds import day_minutes
from sanshe.orders.delivery import district_of
from sanshe.orders.messages import queue_message
from sanshe.orders.models import (
    Alert,
    AlertKind,
    HomeCareBed,
    HomeCareBedStatus,
    OrderStatus,
    ServiceOrder,
)

# Orders still waiting for a check-in; older ones than this are left to dispatch's own review.
WAITING = (OrderStatus.REQUESTED, OrderStatus.ASSIGNED, OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY)
LOOKBACK = dt.timedelta(days=2)
BATCH = 500


@dataclass
class WatchResult:
    late: int = 0
    missed: int = 0
    shortfall: int = 0


def _raise(order: ServiceOrder, kind: AlertKind, message: str) -> bool:
    """Raise one alert and queue its text in one transaction; False when it already existed."""
    try:
        with transaction.atomic():
            Alert.objects.create(kind=kind, order=order, person_id=order.person_id, provider_id=order.provider_id,
                                 community_id=order.community_id, message=message[:300])
            if order.provider is not None:
                queue_message(order.provider.contact_phone, f"【三社联动养老服务平台】服务预警：{message}"[:300])
    except IntegrityError:
        return False
    return True


def _describe(order: ServiceOrder, what: str) -> str:
    who = f"，护理员{order.caregiver.name}" if order.caregiver else "，尚未派单"
    start = timezone.localtime(order.window_start)
    return f"{mask_name(order.person.name)}的“{order.item.name}”（工单 {order.pk}，{start:%m-%d %H:%M} 开始{who}）{what}"


def watch_orders(now: dt.datetime | None = None) -> tuple[int, int]:
    """Raise LATE and MISSED alerts for orders without a check-in; returns (late, missed)."""
    now = now or timezone.now()
    settings_by_community: dict[int, ServiceSettings] = {}
    late = missed = 0
    with transaction.atomic():
        candidates = (
            ServiceOrder.objects.filter(status__in=WAITING, window_start__lte=now, window_start__gte=now - LOOKBACK,
                                        record__isnull=True)
            .exclude(alerts__kind=AlertKind.MISSED)
            .select_related("person", "item", "caregiver", "provider", "community__parent__parent")
            .order_by("window_start", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        orders = list(candidates[:BATCH])
        already = set(Alert.objects.filter(order__in=orders, kind=AlertKind.LATE).values_list("order_id", flat=True))
        for order in orders:
            service = settings_by_community.get(order.community_id)
            if service is None:
                service = ServiceSettings.for_district(district_of(order.community))
                settings_by_community[order.community_id] = service
            if now >= order.window_end:
                if _raise(order, AlertKind.MISSED, _describe(order, "服务时段已过仍未签到，疑似漏服务")):
                    missed += 1
            elif order.pk not in already and now >= order.window_start + dt.timedelta(
                    minutes=service.late_after_minutes):
                minutes = int((now - order.window_start).total_seconds() // 60)
                if _raise(order, AlertKind.LATE, _describe(order, f"已超过 {minutes} 分钟未签到")):
                    late += 1
    return late, missed


def watch_beds(today: dt.date | None = None) -> int:
    """Raise a SHORTFALL alert for each active bed that had less than its daily minimum yesterday."""
    today = today or timezone.localdate()
    day = today - dt.timedelta(days=1)
    raised = 0
    beds = (HomeCareBed.objects.filter(status=HomeCareBedStatus.ACTIVE, opened_on__lte=day)
            .select_related("person", "provider"))
    for bed in beds:
        minutes = day_minutes(bed, day, day).get(day, 0)
        if minutes >= bed.daily_minimum_minutes:
            continue
        message = (f"{day:%Y-%m-%d} {mask_name(bed.person.name)}的家庭养老床位服务 {minutes} 分钟，"
                   f"低于每日 {bed.daily_minimum_minutes} 分钟")
        try:
            with transaction.atomic():
                # One alert per person and day (a unique constraint): a second worker's insert fails here.
                Alert.objects.create(kind=AlertKind.SHORTFALL, order=None, day=day, person_id=bed.person_id,
                                     provider_id=bed.provider_id, community_id=bed.person.residence_region_id,
                                     message=message)
                queue_message(bed.provider.contact_phone, f"【三社联动养老服务平台】服务预警：{message}")
        except IntegrityError:
            continue
        raised += 1
    return raised


def run_watch(now: dt.datetime | None = None) -> WatchResult:
    """One pass of the watch: orders, then beds."""
    now = now or timezone.now()
    late, missed = watch_orders(now)
    return WatchResult(late=late, missed=missed, shortfall=watch_beds(timezone.localtime(now).date()))


def resolve_alert(alert: Alert, *, acting_user: Any, note: str) -> Alert:
    """Close an alert with what was done about it; the caller checks `can_resolve_alert`."""
    note = note.strip()
    if alert.resolved_at is not None:
        raise UserError("该预警已处理")
    if not note:
        raise UserError("请填写处理说明", field="note")
    alert.resolved_at = timezone.now()
    alert.resolved_by = acting_user
    alert.resolution = note[:300]
    alert.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    record_event(acting_user, AuditAction.REVIEW_SERVICE, person_id=alert.person_id,
                 subject=f"处理预警 {alert.pk}（{alert.get_kind_display()}）")
    return alert
