"""Matching against the database: qualification, the circle (town and country), continuity,
availability (shift, day off, overlap), workload, provider scope and a constant number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanshe.catalog.models import CaregiverQualification, Qualification, ServiceSettings
from sanshe.dispatch.matching import match_order
from sanshe.orders.models import CarePlan, CarePlanItem, CarePlanStatus
from tests.service_factories import BASE_LAT, BASE_LON, ServiceWorld, make_caregiver
from tests.test_dispatch_builders import at, booking, order_for, served


def ids(cs: list) -> list[int]:  # type: ignore[type-arg]
    return [c.caregiver_id for c in cs]


def test_a_bath_goes_only_to_caregivers_holding_the_certificate(world: ServiceWorld) -> None:
    w = world
    result = match_order(order_for(w, w.bath))
    assert set(ids(result.candidates)) == {w.certified.pk, w.nurse.pk}
    near = result.for_caregiver(w.near.pk)
    assert near is not None
    assert not near.eligible
    assert near.excluded_reason == "没有“养老护理员职业技能等级证书”"
    top = result.candidates[0]
    assert "持有养老护理员职业技能等级证书" in top.lines


def test_an_expired_certificate_excludes_with_its_date(world: ServiceWorld) -> None:
    w = world
    CaregiverQualification.objects.filter(caregiver=w.certified).update(expires_on=dt.date(2026, 1, 31))
    result = match_order(order_for(w, w.bath))
    assert ids(result.candidates) == [w.nurse.pk]
    certified = result.for_caregiver(w.certified.pk)
    assert certified is not None
    assert certified.excluded_reason == "“养老护理员职业技能等级证书”已于 2026-01-31 过期"


def test_the_town_circle_leaves_out_a_caregiver_six_km_away_but_the_country_circle_takes_them(
        world: ServiceWorld) -> None:
    w = world
    town = match_order(order_for(w, w.meal))
    assert town.circle_minutes == 15
    assert w.far.pk not in ids(town.candidates)
    w.d.community_a1.is_rural = True
    w.d.community_a1.save()
    country = match_order(order_for(w, w.meal, start=at(11)))
    assert country.circle_minutes == 30
    far = country.for_caregiver(w.far.pk)
    assert far is not None
    assert far.eligible
    assert any("电动自行车约" in line and "在 30 分钟服务圈内" in line for line in far.lines)


def test_a_slow_mode_puts_a_caregiver_outside_the_circle_with_the_reason(world: ServiceWorld) -> None:
    w = world
    walker = make_caregiver(w.d.provider, "郑步行", lat=BASE_LAT + Decimal("0.012"), lon=BASE_LON, mode="walk")
    result = match_order(order_for(w, w.meal))
    c = result.for_caregiver(walker.pk)
    assert c is not None
    assert not c.eligible
    assert c.excluded_reason.startswith("距出发地 1.0 公里，步行约 ")
    assert c.excluded_reason.endswith("超出 15 分钟服务圈")


def test_the_caregiver_who_served_the_person_most_comes_first(world: ServiceWorld) -> None:
    w = world
    served(w, w.certified, 6)
    served(w, w.near, 2)
    served(w, w.nurse, 9, days_ago=95)  # older than 90 days: not counted
    result = match_order(order_for(w, w.meal))
    assert ids(result.candidates)[:2] == [w.certified.pk, w.near.pk]
    assert result.candidates[0].lines[0] == "排名第一：近 90 天服务该老人最多（6 次）"
    assert "近 90 天为该老人服务 6 次" in result.candidates[0].lines


def test_the_care_plans_preferred_caregiver_comes_before_history(world: ServiceWorld) -> None:
    w = world
    served(w, w.certified, 6)
    plan = CarePlan.objects.create(person=w.elder, provider=w.d.provider, status=CarePlanStatus.ACTIVE,
                                   starts_on=dt.date(2026, 1, 1), created_by=w.p.community_worker)
    item = CarePlanItem.objects.create(plan=plan, item=w.meal, weekdays=[1, 2, 3, 4, 5, 6, 7],
                                       window_start=dt.time(10), window_end=dt.time(11), minutes=20,
                                       preferred_caregiver=w.nurse)
    result = match_order(order_for(w, w.meal, plan_item=item))
    assert result.candidates[0].caregiver_id == w.nurse.pk
    assert "照护方案指定的固定护理员" in result.candidates[0].lines


def test_availability_shift_day_off_and_overlap(world: ServiceWorld) -> None:
    w = world
    weekday = at(10).isoweekday()
    w.near.work_days = [d for d in range(1, 8) if d != weekday]
    w.near.save()
    w.certified.shift_start, w.certified.shift_end = dt.time(13), dt.time(20)
    w.certified.save()
    booking(w, w.nurse, at(9, 30), minutes=120)
    result = match_order(order_for(w, w.meal))
    assert result.candidates == []
    why = {c.caregiver_id: c.excluded_reason for c in result.excluded}
    assert why[w.near.pk].startswith("当天（周")
    assert why[w.near.pk].endswith("）休息")
    assert why[w.certified.pk] == "服务时段不在其班次 13:00–20:00 内"
    assert why[w.nurse.pk] == "与其 09:30–11:30 的工单时间冲突（含路程）"


def test_a_cancelled_or_requested_order_does_not_block_the_caregiver(world: ServiceWorld) -> None:
    w = world
    booking(w, w.nurse, at(10), status="cancelled")
    result = match_order(order_for(w, w.nursing))
    assert ids(result.candidates) == [w.nurse.pk]


def test_equal_history_goes_to_the_lighter_day(world: ServiceWorld) -> None:
    w = world
    booking(w, w.certified, at(7), minutes=60)
    booking(w, w.certified, at(15), minutes=60)
    booking(w, w.near, at(16), minutes=30)
    result = match_order(order_for(w, w.meal))
    assert ids(result.candidates) == [w.nurse.pk, w.near.pk, w.certified.pk]
    assert "当天已排 2 单共 120 分钟" in result.candidates[-1].lines
    assert "当天已排 1 单共 30 分钟" in result.candidates[1].lines
    assert result.candidates[0].lines[0] == "排名第一：当天工作量最少（0 分钟）"


def test_only_the_orders_provider_is_searched(world: ServiceWorld) -> None:
    w = world
    stranger = make_caregiver(w.other_provider, "何外援", lat=BASE_LAT, lon=BASE_LON)
    result = match_order(order_for(w, w.meal))
    assert result.for_caregiver(stranger.pk) is None


def test_an_order_without_coordinates_says_so(world: ServiceWorld) -> None:
    w = world
    result = match_order(order_for(w, w.meal, latitude=None, longitude=None))
    assert result.candidates == []
    assert "没有坐标" in result.problem


def test_matching_costs_the_same_number_of_queries_for_many_caregivers(world: ServiceWorld) -> None:
    w = world
    ServiceSettings.for_district(w.d.district)
    order = order_for(w, w.bath)
    with CaptureQueriesContext(connection) as few:
        match_order(order)
    for i in range(25):
        c = make_caregiver(w.d.provider, f"新护理员{i}", lat=BASE_LAT + Decimal(i) / 10000, lon=BASE_LON,
                           qualifications=(Qualification.CAREGIVER_CERTIFICATE,))
        booking(w, c, at(8))
        served(w, c, 1)
    order = order_for(w, w.bath, start=at(12))
    with CaptureQueriesContext(connection) as many:
        result = match_order(order)
    assert len(result.candidates) > 25
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_quick_path_of_automatic_assignment_picks_the_same_caregiver_as_the_full_ranking(
        world: ServiceWorld) -> None:
    import random

    w = world
    rng = random.Random(7)
    pool = [w.near, w.certified, w.nurse]
    for i in range(30):
        c = make_caregiver(
            w.d.provider, f"随机{i}", lat=BASE_LAT + Decimal(rng.randint(-200, 200)) / 10000,
            lon=BASE_LON + Decimal(rng.randint(-200, 200)) / 10000, mode=rng.choice(["walk", "bicycle", "ebike", "car"]),
            qualifications=(Qualification.CAREGIVER_CERTIFICATE,) if rng.random() < 0.5 else ())
        pool.append(c)
    for c in pool:
        for _ in range(rng.randint(0, 3)):
            booking(w, c, at(rng.randint(7, 16), rng.choice([0, 30])), minutes=rng.choice([30, 60, 90]),
                    lat=BASE_LAT + Decimal(rng.randint(-150, 150)) / 10000,
                    lon=BASE_LON + Decimal(rng.randint(-150, 150)) / 10000)
        if rng.random() < 0.3:
            served(w, c, rng.randint(1, 2))
    for hour in range(7, 18):
        for item in (w.meal, w.bath, w.cleaning):
            order = order_for(w, item, start=at(hour, rng.choice([0, 15, 30, 45])))
            full, quick = match_order(order), match_order(order, explain=False)
            assert (quick.best.caregiver_id if quick.best else None) == (full.best.caregiver_id if full.best else None)
            if full.best and quick.best:
                assert quick.best.lines == full.best.lines
