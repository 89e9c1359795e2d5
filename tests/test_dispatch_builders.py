"""Builders the dispatch tests share: orders on a fixed future day, bookings, history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from sanshe.catalog.models import Caregiver, ServiceItem
from sanshe.orders.actions import create_order
from sanshe.orders.models import OrderSource, OrderStatus, ServiceOrder
from sanshe.people.models import Person
from tests.service_factories import ServiceWorld

TZ = ZoneInfo("Asia/Shanghai")


_DAY = dt.date.today() + dt.timedelta(days=2)


def service_day() -> dt.datetime:
    """Local midnight of a day two days ahead (inside the contract, never in the past); fixed when
    the module loads, so tests that move the clock keep the same day."""
    return dt.datetime(_DAY.year, _DAY.month, _DAY.day, tzinfo=TZ)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return service_day().replace(hour=hour, minute=minute)


def order_for(w: ServiceWorld, item: ServiceItem, *, start: dt.datetime | None = None, minutes: int | None = None,
              person: Person | None = None, **extra: Any) -> ServiceOrder:
    start = start or at(10)
    order = create_order(person=person or w.elder, item=item, window_start=start,
                         window_end=start + dt.timedelta(hours=1), source=OrderSource.COMMUNITY,
                         acting_user=w.p.community_worker, minutes=minutes)
    if extra:
        ServiceOrder.objects.filter(pk=order.pk).update(**extra)
        order.refresh_from_db()
    return order


def booking(w: ServiceWorld, caregiver: Caregiver, start: dt.datetime, minutes: int = 60,
            status: str = OrderStatus.ASSIGNED, lat: Decimal | None = None, lon: Decimal | None = None) -> ServiceOrder:
    """An order already on the caregiver's day (written directly: test setup, not the flow)."""
    return ServiceOrder.objects.create(
        person=w.elder, item=w.cleaning, community=w.d.community_a1, provider=caregiver.provider, caregiver=caregiver,
        source=OrderSource.COMMUNITY, window_start=start, window_end=start + dt.timedelta(hours=1), minutes=minutes,
        address="杏林社区", latitude=lat if lat is not None else w.elder.latitude,
        longitude=lon if lon is not None else w.elder.longitude, status=status,
    )


def served(w: ServiceWorld, caregiver: Caregiver, times: int, *, days_ago: int = 10) -> None:
    start = timezone.now() - dt.timedelta(days=days_ago)
    for i in range(times):
        booking(w, caregiver, start - dt.timedelta(days=i), status=OrderStatus.CONFIRMED)
