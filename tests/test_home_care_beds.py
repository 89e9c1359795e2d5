"""Home care beds (家庭养老床位) per seed 001_47f0e4c388d9ed24.txt:

  "每天上门服务时间不少于1小时,每月累计不少于30小时。"
  "按照每张床位不超过5000元的标准给予一次性建设补贴,其中适老化改造补贴不超过3000元、智能化改造补贴不超过2000元。"
  "家庭养老床位的主要服务对象是居家养老且有生活照护需求的轻度及以上失能等级(含失智,下同)老年人。"
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from sanshe.accounts.actions import issue_api_token
from sanshe.assessments.models import Assessment, CapabilityRecord
from sanshe.core.errors import UserError
from sanshe.orders import beds
from sanshe.orders.actions import create_order
from sanshe.orders.models import (
    Alert,
    AlertKind,
    CarePlan,
    CarePlanStatus,
    HomeCareBed,
    HomeCareBedStatus,
    OrderSource,
    OutboundMessage,
    ReviewStatus,
    ServiceRecord,
)
from sanshe.orders.watch import watch_beds
from sanshe.people.models import Person
from tests.delivery_helpers import TZ
from tests.factories import client_for
from tests.service_factories import ServiceWorld

SEED = Path("/work/shared/seeds/001_47f0e4c388d9ed24.txt")
TODAY = dt.date(2026, 11, 30)


def assessed(world: ServiceWorld, person: Person, level: int) -> CapabilityRecord:
    a = Assessment.objects.create(person=person, number=f"T{person.pk}-{level}", reason="first",
                                  requested_by=world.p.community_worker, instrument_code="GB/T 42195-2022",
                                  instrument_version="2022.1", status="published", final_level=level)
    return CapabilityRecord.objects.create(person=person, assessment=a, level=level, assessed_on=dt.date(2026, 9, 1),
                                           valid_until=dt.date(2027, 9, 1))


def active_plan(world: ServiceWorld, person: Person | None = None) -> CarePlan:
    return CarePlan.objects.create(person=person or world.elder, provider=world.d.provider,
                                   status=CarePlanStatus.ACTIVE, starts_on=dt.date(2026, 10, 1),
                                   created_by=world.p.community_worker, needs="生活照料", goals="居家安全")


def running_bed(world: ServiceWorld, opened_on: dt.date = dt.date(2026, 11, 1)) -> HomeCareBed:
    assessed(world, world.elder, 2)
    bed = beds.open_bed(active_plan(world), acting_user=world.manager, today=TODAY)
    work = beds.add_adaptation(bed, acting_user=world.manager, description="卫生间加装扶手", budget="1800")
    beds.complete_adaptation(work, acting_user=world.manager, cost="1750.50", completed_on=dt.date(2026, 10, 20))
    beds.accept_adaptation(work, acting_user=world.manager, accepted_by="赵助老")
    beds.add_device(bed, acting_user=world.manager, kind="紧急呼叫器", serial="SOS-001", cost="600",
                    installed_on=dt.date(2026, 10, 25))
    return beds.activate_bed(bed, acting_user=world.manager, opened_on=opened_on)


def delivered(world: ServiceWorld, day: dt.date, minutes: int, *, review: str = "") -> ServiceRecord:
    start = dt.datetime.combine(day, dt.time(9), tzinfo=TZ)
    order = create_order(person=world.elder, item=world.cleaning, window_start=start,
                         window_end=start + dt.timedelta(hours=1), source=OrderSource.CARE_PLAN,
                         acting_user=world.manager)
    return ServiceRecord.objects.create(
        order=order, person=world.elder, caregiver=world.near, item=world.cleaning, provider=world.d.provider,
        service_date=day, address=order.address, check_in_at=start, check_out_at=start + dt.timedelta(minutes=minutes),
        review_status=review,
    )


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(8), tzinfo=TZ), tick=False)
    return time_machine


def test_the_seed_sets_the_minimums_and_the_caps() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert "每天上门服务时间不少于1小时,每月累计不少于30小时" in text
    assert "适老化改造补贴不超过3000元、智能化改造补贴不超过2000元" in text
    bed = HomeCareBed()
    assert bed.daily_minimum_minutes == 60
    assert bed.monthly_minimum_minutes == 30 * 60
    assert Decimal("3000") == beds.ADAPTATION_CAP
    assert Decimal("2000") == beds.DEVICE_CAP


def test_a_bed_needs_an_active_plan_and_mild_disability_or_worse(world: ServiceWorld, clock: Any) -> None:
    plan = active_plan(world)
    with pytest.raises(UserError, match="没有有效期内的能力评估"):
        beds.open_bed(plan, acting_user=world.manager)
    assessed(world, world.elder, 0)
    with pytest.raises(UserError, match="轻度及以上失能"):
        beds.open_bed(plan, acting_user=world.manager)
    CapabilityRecord.objects.filter(person=world.elder).update(level=1)
    draft = CarePlan.objects.create(person=world.elder, provider=world.d.provider, version=2,
                                    starts_on=dt.date(2026, 12, 1), created_by=world.manager)
    with pytest.raises(UserError, match="执行中的照护方案"):
        beds.open_bed(draft, acting_user=world.manager)
    bed = beds.open_bed(plan, acting_user=world.manager)
    assert bed.status == HomeCareBedStatus.PREPARING
    assert bed.assessment is not None
    with pytest.raises(UserError, match="已有未撤销的家庭养老床位"):
        beds.open_bed(plan, acting_user=world.manager)
    assert HomeCareBed.objects.count() == 1


def test_adaptations_stay_within_3000_and_devices_within_2000(world: ServiceWorld, clock: Any) -> None:
    assessed(world, world.elder, 2)
    bed = beds.open_bed(active_plan(world), acting_user=world.manager)
    work = beds.add_adaptation(bed, acting_user=world.manager, description="地面防滑", budget="2500")
    with pytest.raises(UserError, match=r"不能超过 3000\.00 元"):
        beds.add_adaptation(bed, acting_user=world.manager, description="加装扶手", budget="500.01")
    beds.add_adaptation(bed, acting_user=world.manager, description="加装扶手", budget="500")
    with pytest.raises(UserError, match="实际费用不能超过预算"):
        beds.complete_adaptation(work, acting_user=world.manager, cost="2600", completed_on=TODAY)
    with pytest.raises(UserError, match="完工后才能验收"):
        beds.accept_adaptation(work, acting_user=world.manager, accepted_by="赵助老")
    beds.add_device(bed, acting_user=world.manager, kind="智能床垫", serial="", cost="1500", installed_on=TODAY)
    with pytest.raises(UserError, match=r"不能超过 2000\.00 元"):
        beds.add_device(bed, acting_user=world.manager, kind="烟感", serial="", cost="600", installed_on=TODAY)
    with pytest.raises(UserError, match="应为金额"):
        beds.add_device(bed, acting_user=world.manager, kind="烟感", serial="", cost="六百", installed_on=TODAY)
    with pytest.raises(UserError, match="未验收的适老化改造"):
        beds.activate_bed(bed, acting_user=world.manager)
    assert bed.adaptations.count() == 2
    assert bed.devices.count() == 1
    bed.refresh_from_db()
    assert bed.status == HomeCareBedStatus.PREPARING


def test_a_bed_runs_and_closes_with_a_reason(world: ServiceWorld, clock: Any) -> None:
    bed = running_bed(world)
    assert bed.status == HomeCareBedStatus.ACTIVE
    with pytest.raises(UserError, match="撤床须填写原因"):
        beds.close_bed(bed, acting_user=world.manager, reason=" ")
    beds.close_bed(bed, acting_user=world.manager, reason="入住养老机构")
    bed.refresh_from_db()
    assert bed.status == HomeCareBedStatus.CLOSED
    assert bed.closed_on == TODAY


def test_the_month_counts_minutes_per_day_and_marks_shortfall_days(world: ServiceWorld, clock: Any) -> None:
    bed = running_bed(world)
    for n in range(1, 29):
        day = dt.date(2026, 11, n)
        if n == 5:
            delivered(world, day, 40)
        elif n == 12:
            delivered(world, day, 90, review=ReviewStatus.REJECTED)  # rejected in review: not delivered
        else:
            delivered(world, day, 65)
    delivered(world, TODAY, 30)  # today is not over yet
    month = beds.bed_month(bed, 2026, 11, today=TODAY)
    by_day = {d.day.day: d for d in month.days}
    assert by_day[1].minutes == 65
    assert by_day[1].shortfall == 0
    assert by_day[5].shortfall == 20
    assert by_day[12].minutes == 0
    assert by_day[12].shortfall == 60
    assert by_day[29].shortfall == 60
    assert by_day[30].counted is False
    assert [d.day.day for d in month.shortfall_days] == [5, 12, 29]
    assert month.total == 26 * 65 + 40 + 30
    assert month.required == 1800
    assert month.finished is False
    assert month.monthly_shortfall == 0  # judged when the month is over

    december = dt.date(2026, 12, 2)
    finished = beds.bed_month(bed, 2026, 11, today=december)
    assert finished.finished is True
    assert finished.total == 1760
    assert finished.monthly_shortfall == 40  # 29 h 20 min against 30 h
    assert [d.day.day for d in finished.shortfall_days] == [5, 12, 29, 30]


def test_a_bed_opened_mid_month_needs_its_share_of_30_hours(world: ServiceWorld, clock: Any) -> None:
    bed = running_bed(world, opened_on=dt.date(2026, 11, 16))
    month = beds.summarise_month(bed, {}, 2026, 11, dt.date(2026, 12, 1))
    assert month.required == 900  # 15 of 30 days
    assert month.monthly_shortfall == 900
    assert len(month.shortfall_days) == 15


def test_the_watch_raises_a_shortfall_for_yesterday_once(world: ServiceWorld, clock: Any) -> None:
    world.d.provider.contact_phone = "13911112222"
    world.d.provider.save()
    running_bed(world)
    delivered(world, TODAY - dt.timedelta(days=1), 35)
    assert watch_beds(TODAY) == 1
    assert watch_beds(TODAY) == 0
    alert = Alert.objects.get(kind=AlertKind.SHORTFALL)
    assert alert.message.startswith("2026-11-29")
    assert "服务 35 分钟，低于每日 60 分钟" in alert.message
    assert alert.order is None
    assert alert.day == TODAY - dt.timedelta(days=1)
    assert OutboundMessage.objects.filter(phone="13911112222").count() == 1
    assert watch_beds(TODAY + dt.timedelta(days=1)) == 1  # the next day's shortfall is an alert of its own


def test_a_day_that_met_the_minimum_raises_nothing(world: ServiceWorld, clock: Any) -> None:
    running_bed(world)
    delivered(world, TODAY - dt.timedelta(days=1), 60)
    assert watch_beds(TODAY) == 0
    assert not Alert.objects.exists()


def test_the_pages_list_beds_with_shortfalls_and_show_the_calendar(world: ServiceWorld, clock: Any) -> None:
    bed = running_bed(world)
    delivered(world, dt.date(2026, 11, 3), 45)
    client = client_for(world.p.community_worker)
    html = client.get("/service/beds/?month=2026-11&shortfall=1").content.decode()
    assert f"/service/beds/{bed.pk}/" in html
    detail = client.get(f"/service/beds/{bed.pk}/?month=2026-11").content.decode()
    assert "差15" in detail
    assert "本月累计 <strong>45</strong> 分钟" in detail
    assert client_for(world.p.neighbour_worker).get(f"/service/beds/{bed.pk}/").status_code == 404
    assert client_for(world.p.outsider).get(f"/service/beds/{bed.pk}/").status_code == 404


def test_the_provider_manages_a_bed_from_the_pages(world: ServiceWorld, clock: Any) -> None:
    assessed(world, world.elder, 3)
    plan = active_plan(world)
    client = client_for(world.manager)
    response = client.post("/service/beds/new/", {"care_plan": plan.pk})
    bed = HomeCareBed.objects.get()
    assert response.url == f"/service/beds/{bed.pk}/"  # type: ignore[attr-defined]
    client.post(f"/service/beds/{bed.pk}/adaptation/", {"description": "卧室加装夜灯", "budget": "300"})
    page = client.post(f"/service/beds/{bed.pk}/device/", {"kind": "跌倒报警器", "cost": "2500",
                                                           "installed_on": "2026-11-29"}, follow=True)
    assert "智能设备费用合计不能超过 2000.00 元" in page.content.decode()
    assert bed.adaptations.count() == 1
    assert not bed.devices.exists()
    neighbour = client_for(world.p.neighbour_worker)
    assert neighbour.post(f"/service/beds/{bed.pk}/close/", {"reason": "x"}).status_code == 404
    bed.refresh_from_db()
    assert bed.status == HomeCareBedStatus.PREPARING


def test_the_api_lists_beds_with_their_month_and_opens_one(world: ServiceWorld, clock: Any) -> None:
    assessed(world, world.elder, 2)
    token, _ = issue_api_token(world.manager)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    plan = active_plan(world)
    opened = client.post("/api/v1/service/beds", {"care_plan_id": plan.pk}, content_type="application/json", **auth)
    assert opened.status_code == 201
    bed_id = opened.json()["id"]
    refused = client.post(f"/api/v1/service/beds/{bed_id}/adaptations", {"description": "扶手", "budget": "3500"},
                          content_type="application/json", **auth)
    assert refused.status_code == 400
    assert "不能超过 3000.00 元" in refused.json()["detail"]
    listed = client.get("/api/v1/service/beds?month=2026-11", **auth).json()
    assert listed[0]["id"] == bed_id
    assert listed[0]["month"]["required_minutes"] == 0  # still preparing
    detail = client.get(f"/api/v1/service/beds/{bed_id}?month=2026-11", **auth).json()
    assert len(detail["days"]) == 30
