"""Orders from active care plans on a rolling horizon: the plan's weekdays and windows, idempotent
runs, the preferred caregiver, people no longer served, and the management command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sanshe.catalog.models import Tier
from sanshe.orders.generation import generate_orders
from sanshe.orders.models import CarePlan, CarePlanItem, CarePlanStatus, OrderSource, OrderStatus, ServiceOrder
from sanshe.people.models import Person
from tests.factories import make_person
from tests.service_factories import ServiceWorld
from tests.test_orders_builders import TODAY, active_plan, clock, sign_all

pytestmark = pytest.mark.django_db
__all__ = ["clock"]


def test_orders_are_made_on_the_plan_weekdays_inside_the_horizon(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world, weekdays=(1, 3, 5))
    result = generate_orders(today=TODAY, days=14)
    orders = list(ServiceOrder.objects.order_by("window_start"))
    days = [timezone.localtime(o.window_start).date() for o in orders]
    assert days == [dt.date(2026, 6, d) for d in (1, 3, 5, 8, 10, 12)]
    assert result.created == 6
    first = orders[0]
    assert (first.source, first.provider, first.tier, first.minutes) == (OrderSource.CARE_PLAN, world.d.provider,
                                                                         Tier.LOW_COST, 60)
    assert first.plan_item == plan.items.get()
    assert f"{timezone.localtime(first.window_start):%H:%M}-{timezone.localtime(first.window_end):%H:%M}" == \
        "09:00-10:00"
    assert first.status == OrderStatus.REQUESTED


def test_running_again_creates_nothing_new(world: ServiceWorld, clock: object) -> None:
    active_plan(world)
    generate_orders(today=TODAY, days=14)
    again = generate_orders(today=TODAY, days=14)
    assert (again.created, again.existing) == (0, 6)
    later = generate_orders(today=TODAY + dt.timedelta(days=7), days=14)  # the horizon rolls on
    assert later.created == 3
    assert ServiceOrder.objects.count() == 9


def test_the_preferred_caregiver_gets_the_order_when_qualified(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world, weekdays=(2,))
    CarePlanItem.objects.create(plan=plan, item=world.bath, tier=Tier.FREE, weekdays=[4], window_start=dt.time(14),
                                window_end=dt.time(15), minutes=60, preferred_caregiver=world.certified)
    result = generate_orders(today=TODAY, days=7)
    bath = ServiceOrder.objects.get(item=world.bath)
    assert (bath.status, bath.caregiver) == (OrderStatus.ASSIGNED, world.certified)
    assert "固定护理员" in bath.assignment["lines"][0]
    assert result.assigned == 1
    assert ServiceOrder.objects.get(item=world.cleaning).caregiver is None


def test_plans_of_people_no_longer_served_and_ended_plans_make_nothing(world: ServiceWorld, clock: object) -> None:
    gone = make_person(world.d.community_a1, by=world.p.district_officer, name="林奶奶")
    active_plan(world, person=gone)
    Person.objects.filter(pk=gone.pk).update(status="deceased")
    ended = active_plan(world)
    CarePlan.objects.filter(pk=ended.pk).update(status=CarePlanStatus.ENDED, ends_on=TODAY - dt.timedelta(days=1))
    result = generate_orders(today=TODAY, days=14)
    assert result.created == 0
    assert result.skipped_people == 1
    assert not ServiceOrder.objects.exists()


def test_a_plan_starting_later_and_ending_soon_bounds_its_orders(world: ServiceWorld, clock: object) -> None:
    plan = CarePlan.objects.create(person=world.elder, provider=world.d.provider, starts_on=dt.date(2026, 6, 4),
                                   ends_on=dt.date(2026, 6, 9), created_by=world.p.community_worker)
    CarePlanItem.objects.create(plan=plan, item=world.meal, tier=Tier.PAID, weekdays=list(range(1, 8)),
                                window_start=dt.time(11), window_end=dt.time(11, 30), minutes=20)
    sign_all(plan, world)
    generate_orders(today=TODAY, days=14)
    days = sorted(timezone.localtime(o.window_start).day for o in ServiceOrder.objects.all())
    assert days == [4, 5, 6, 7, 8, 9]


def test_a_lapsed_contract_is_reported_and_skipped(world: ServiceWorld, clock: object) -> None:
    active_plan(world)
    world.contract.ends_on = dt.date(2026, 6, 5)
    world.contract.save()
    result = generate_orders(today=TODAY, days=14)
    assert result.created == 3  # 1, 3, 5 June
    assert len(result.problems) == 3
    assert "没有承接" in result.problems[0]


def test_the_command_generates_and_reports(world: ServiceWorld, clock: object) -> None:
    active_plan(world)
    out = io.StringIO()
    call_command("generate_orders", "--days", "7", "--date", "2026-06-01", stdout=out)
    assert "新生成 3 张工单" in out.getvalue()
    assert ServiceOrder.objects.count() == 3
    with pytest.raises(CommandError, match="--days"):
        call_command("generate_orders", "--days", "0")
    with pytest.raises(CommandError, match="日期格式"):
        call_command("generate_orders", "--date", "六月一日")


def test_a_window_already_over_today_is_not_generated(world: ServiceWorld, clock: object) -> None:
    import time_machine

    from tests.test_orders_builders import SHANGHAI

    active_plan(world, weekdays=(1, 3))
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, tzinfo=SHANGHAI)):
        result = generate_orders(today=TODAY, days=3)
    assert result.created == 1  # Wednesday only; Monday's 09:00–10:00 has passed
    assert timezone.localtime(ServiceOrder.objects.get().window_start).day == 3
