"""Builders for the delivery tests: orders assigned to the world's caregivers at fixed times,
positions inside and outside the geofence, a family contact who may confirm services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sanshe.catalog.models import Caregiver, ServiceItem
from sanshe.orders import delivery
from sanshe.orders.actions import assign_order, create_order, transition_order
from sanshe.orders.models import OrderSource, OrderStatus, ServiceOrder, ServiceRecord
from sanshe.people.models import Contact, Person
from tests.service_factories import ServiceWorld

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 30)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def make_order(world: ServiceWorld, *, caregiver: Caregiver | None = None, item: ServiceItem | None = None,
               start: dt.datetime | None = None, person: Person | None = None, accepted: bool = False,
               window_minutes: int = 60) -> ServiceOrder:
    start = start or at(9)
    order = create_order(person=person or world.elder, item=item or world.cleaning, window_start=start,
                         window_end=start + dt.timedelta(minutes=window_minutes), source=OrderSource.COMMUNITY,
                         acting_user=world.p.community_worker)
    if caregiver is not None:
        order = assign_order(order, caregiver, acting_user=world.manager, lines=["距离最近"], by="dispatcher")
        if accepted:
            order = transition_order(order, OrderStatus.ACCEPTED, acting_user=caregiver.user)
    return order


def inside(world: ServiceWorld) -> dict[str, str]:
    """About 30 m from the elder's home."""
    return {"latitude": str(world.elder.latitude + Decimal("0.00025")), "longitude": str(world.elder.longitude)}


def outside(world: ServiceWorld) -> dict[str, str]:
    """About 1.1 km from the elder's home."""
    return {"latitude": str(world.elder.latitude + Decimal("0.01")), "longitude": str(world.elder.longitude)}


def confirming_contact(person: Person, *, phone: str = "13700001111") -> Contact:
    return Contact.objects.create(person=person, name="钱小明", relation="son", phone=phone,
                                  is_emergency_contact=True, may_confirm_services=True)


def visit(world: ServiceWorld, order: ServiceOrder, traveller: Any, *, minutes: int = 60,
          where: dict[str, str] | None = None) -> ServiceRecord:
    """Check in now (inside the fence unless told), wait, check out."""
    caregiver = order.caregiver
    assert caregiver is not None
    where = inside(world) if where is None else where
    record = delivery.check_in(order, caregiver=caregiver, acting_user=caregiver.user, **where)
    traveller.shift(dt.timedelta(minutes=minutes))
    return delivery.check_out(record, caregiver=caregiver, acting_user=caregiver.user)
