"""Orders from active care plans on a rolling horizon. Idempotent: a plan item makes at most one
order per start time (a unique constraint), so several runs, or several workers, never duplicate."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from sanshe.catalog.queries import unqualified_reason
from sanshe.core.errors import UserError
from sanshe.orders.actions import CLOSED_PERSON_STATUSES, assign_order, create_order
from sanshe.orders.models import CarePlan, CarePlanItem, CarePlanStatus, OrderSource, ServiceOrder

log = logging.getLogger(__name__)
GENERATED_BY = "照护方案自动生成"


@dataclass
class GenerationResult:
    created: int = 0
    existing: int = 0
    assigned: int = 0
    skipped_people: int = 0
    problems: list[str] = field(default_factory=list)


def plan_item_days(item: CarePlanItem, plan: CarePlan, first: dt.date, days: int) -> list[dt.date]:
    """The days in [first, first + days) on the item's weekdays inside the plan's period."""
    wanted = set(item.weekdays)
    found = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        if day.isoweekday() not in wanted or day < plan.starts_on:
            continue
        if plan.ends_on is not None and day > plan.ends_on:
            continue
        found.append(day)
    return found


def generate_orders(*, today: dt.date, days: int) -> GenerationResult:
    """Create the orders of every active plan item for the next `days` days (today included)."""
    result = GenerationResult()
    horizon_end = today + dt.timedelta(days=days)
    plans = (CarePlan.objects.filter(status=CarePlanStatus.ACTIVE, starts_on__lt=horizon_end)
             .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
             .select_related("person__residence_region", "provider").prefetch_related("items__item",
                                                                                      "items__preferred_caregiver"))
    for plan in plans:
        person = plan.person
        if person.status in CLOSED_PERSON_STATUSES:
            result.skipped_people += 1
            continue
        for item in plan.items.all():
            for day in plan_item_days(item, plan, today, days):
                _one(plan, item, day, result)
    return result


def _one(plan: CarePlan, item: CarePlanItem, day: dt.date, result: GenerationResult) -> None:
    start = timezone.make_aware(dt.datetime.combine(day, item.window_start))
    end = timezone.make_aware(dt.datetime.combine(day, item.window_end))
    if end <= timezone.now():  # a window already over today is not worth dispatching
        return
    if ServiceOrder.objects.filter(plan_item=item, window_start=start).exists():
        result.existing += 1
        return
    try:
        with transaction.atomic():
            order = create_order(
                person=plan.person, item=item.item, window_start=start,
                window_end=end, source=OrderSource.CARE_PLAN, acting_user=None, tier=item.tier, minutes=item.minutes,
                requested_by_name=GENERATED_BY, plan_item=item, provider=plan.provider,
                notes=item.notes,
            )
    except IntegrityError:  # another worker made it between the check and the insert
        result.existing += 1
        return
    except UserError as exc:
        result.problems.append(f"{plan.person.masked_name} {day:%m-%d} {item.item.name}：{exc.message}")
        return
    result.created += 1
    caregiver = item.preferred_caregiver
    if caregiver is not None and caregiver.provider_id == plan.provider_id \
            and not unqualified_reason(caregiver, item.item, day):
        try:
            assign_order(order, caregiver, acting_user=None, by="auto",
                         lines=[f"照护方案约定的固定护理员：{caregiver.name}"])
        except UserError as exc:
            log.info("preferred caregiver not assigned to order %s: %s", order.pk, exc.message)
        else:
            result.assigned += 1
