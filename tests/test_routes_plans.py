"""Daily route plans through the pages, the API and the command: a small provider day (7 orders,
3 caregivers) planned inside windows, shifts and qualifications with a lunch break; publishing
assigns the orders; a supplied matrix changes the plan; other providers get 404 and change nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from sanshe.accounts.models import Role
from sanshe.catalog.models import Caregiver
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.dispatch.models import RoutePlan, RoutePlanStatus, RouteStop
from sanshe.dispatch.route_plans import SuppliedMatrix, plan_routes, publish_route_plan
from sanshe.orders.actions import assign_order, create_order
from sanshe.orders.models import OrderEvent, OrderSource, OrderStatus, ServiceOrder
from tests.factories import client_for, make_person, make_user
from tests.service_factories import BASE_LAT, BASE_LON, ServiceWorld

pytestmark = pytest.mark.django_db


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


def make_day(world: ServiceWorld, day: dt.date) -> list[ServiceOrder]:
    """Seven orders around the station; `far` is off, `certified` works a morning shift."""
    Caregiver.objects.filter(pk=world.far.pk).update(is_active=False)
    Caregiver.objects.filter(pk=world.certified.pk).update(shift_start=dt.time(8, 0), shift_end=dt.time(12, 0))
    d, p = world.d, world.p
    spots = [("0.004", "0.002"), ("-0.003", "0.004"), ("0.006", "-0.002"), ("0.001", "0.007"),
             ("-0.005", "-0.003"), ("0.008", "0.005"), ("-0.002", "-0.006")]
    names = ["赵大娘", "钱大爷", "孙奶奶", "李爷爷", "周阿姨", "吴大伯", "郑婆婆"]
    elders = [make_person(d.community_a1, by=p.community_worker, name=names[n],
                          latitude=BASE_LAT + Decimal(a), longitude=BASE_LON + Decimal(b))
              for n, (a, b) in enumerate(spots)]
    plan = [(world.meal, 11, 0, 11, 45), (world.meal, 11, 0, 12, 0), (world.cleaning, 9, 0, 10, 0),
            (world.bath, 9, 0, 10, 30), (world.nursing, 14, 0, 15, 30), (world.cleaning, 14, 30, 16, 0),
            (world.meal, 8, 30, 9, 30)]
    return [create_order(person=elder, item=item, window_start=at(day, h1, m1), window_end=at(day, h2, m2),
                         source=OrderSource.COMMUNITY, acting_user=p.community_worker, provider=d.provider)
            for elder, (item, h1, m1, h2, m2) in zip(elders, plan, strict=True)]


@pytest.fixture
def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def busy_intervals(stops: list[RouteStop]) -> list[tuple[dt.datetime, dt.datetime]]:
    """From leaving for a stop to finishing it."""
    return [(s.arrive_at - dt.timedelta(minutes=s.travel_minutes), s.end_at) for s in stops]


def test_a_provider_day_is_planned_inside_windows_shifts_and_qualifications(world: ServiceWorld,
                                                                           tomorrow: dt.date) -> None:
    orders = make_day(world, tomorrow)
    plan = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    stops = list(plan.stops.select_related("order__item", "caregiver"))
    assert plan.status == RoutePlanStatus.PROPOSED
    assert plan.unplanned == []
    assert sorted(s.order_id for s in stops) == sorted(o.pk for o in orders)
    assert plan.order_count == 7
    assert plan.build_seconds > 0
    assert plan.solve_seconds > 0
    for stop in stops:
        order = stop.order
        assert order.window_start <= stop.start_at <= order.window_end
        assert stop.end_at == stop.start_at + dt.timedelta(minutes=order.minutes)
        assert stop.caregiver_id != world.far.pk
        local = timezone.localtime(stop.start_at)
        cg = stop.caregiver
        assert cg.shift_start <= local.time()
        assert timezone.localtime(stop.end_at).time() <= cg.shift_end
        if order.item == world.nursing:
            assert stop.caregiver_id == world.nurse.pk
        if order.item == world.bath:
            assert stop.caregiver_id in (world.nurse.pk, world.certified.pk)
    # Nothing changed on the orders yet.
    assert set(ServiceOrder.objects.values_list("status", flat=True)) == {OrderStatus.REQUESTED}
    assert AuditEvent.objects.filter(action=AuditAction.PLAN_ROUTES).count() == 1


def test_full_day_caregivers_keep_an_hour_free_at_midday(world: ServiceWorld, tomorrow: dt.date) -> None:
    make_day(world, tomorrow)
    plan = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    for caregiver in (world.near, world.nurse):
        stops = list(plan.stops.filter(caregiver=caregiver).order_by("sequence"))
        busy = busy_intervals(stops)
        # Some 60-minute slot starting between 11:00 and 13:00 touches no stop or travel.
        free = any(
            all(end <= at(tomorrow, 11) + dt.timedelta(minutes=m) or begin >= at(tomorrow, 12) + dt.timedelta(minutes=m)
                for begin, end in busy)
            for m in range(0, 121, 1)
        )
        assert free, caregiver.name


def test_publishing_assigns_every_order_to_its_caregiver(world: ServiceWorld, tomorrow: dt.date) -> None:
    orders = make_day(world, tomorrow)
    # One order was already given to someone else by hand: publishing reassigns it with a reason.
    assign_order(orders[0], world.certified, acting_user=world.manager, lines=["人工派单"], by="dispatcher")
    plan = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    response = client_for(world.manager).post(f"/routes/{plan.pk}/publish/")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == RoutePlanStatus.PUBLISHED
    assert plan.published_at is not None
    for stop in plan.stops.select_related("order"):
        order = stop.order
        assert order.status == OrderStatus.ASSIGNED
        assert order.caregiver_id == stop.caregiver_id
        if not (order.pk == orders[0].pk and stop.caregiver_id == world.certified.pk):
            assert order.assignment["by"] == "auto"
            assert order.assignment["lines"][0].startswith(f"路线规划：第 {stop.sequence} 站，预计 ")
    first = plan.stops.get(order=orders[0])
    if first.caregiver_id != world.certified.pk:
        assert OrderEvent.objects.filter(order=orders[0], reason="路线规划调整").exists()


def test_publishing_refuses_when_an_order_changed_and_changes_nothing(world: ServiceWorld,
                                                                      tomorrow: dt.date) -> None:
    orders = make_day(world, tomorrow)
    plan = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    from sanshe.orders.actions import transition_order

    transition_order(orders[3], OrderStatus.CANCELLED, acting_user=world.manager, reason="老人住院")
    response = client_for(world.manager).post(f"/routes/{plan.pk}/publish/", follow=True)
    assert "在规划后已有变化，请重新规划" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == RoutePlanStatus.PROPOSED
    assert not ServiceOrder.objects.filter(status=OrderStatus.ASSIGNED).exists()


def test_discarding_leaves_the_orders_alone(world: ServiceWorld, tomorrow: dt.date) -> None:
    make_day(world, tomorrow)
    plan = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    client_for(world.manager).post(f"/routes/{plan.pk}/discard/")
    plan.refresh_from_db()
    assert plan.status == RoutePlanStatus.DISCARDED
    assert set(ServiceOrder.objects.values_list("status", flat=True)) == {OrderStatus.REQUESTED}
    with pytest.raises(Exception, match="不能发布"):
        publish_route_plan(plan, acting_user=world.manager)


def test_a_supplied_matrix_changes_the_plan(world: ServiceWorld, tomorrow: dt.date) -> None:
    make_day(world, tomorrow)
    Caregiver.objects.filter(pk=world.certified.pk).update(is_active=False)
    ServiceOrder.objects.exclude(item=world.meal).delete()
    estimated = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    orders = list(ServiceOrder.objects.order_by("pk"))
    caregivers = [world.near, world.nurse]
    keys = [f"caregiver:{c.pk}" for c in caregivers] + [f"order:{o.pk}" for o in orders]
    # By road, the nurse's home is 60 minutes from every meal order and the station 5 minutes.
    minutes = [[0.0 if i == j else 5.0 for j in range(len(keys))] for i in range(len(keys))]
    for j in range(2, len(keys)):
        minutes[1][j] = minutes[j][1] = 60.0
    supplied = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1,
                           matrix=SuppliedMatrix(points=keys, minutes=minutes, source="路网测算"))
    assert supplied.matrix_source == "路网测算"
    assert {s.caregiver_id for s in supplied.stops.all()} == {world.near.pk}
    assert supplied.travel_minutes != estimated.travel_minutes
    assert all(s.travel_minutes in (5, 60) for s in supplied.stops.all())
    estimated.refresh_from_db()
    assert estimated.status == RoutePlanStatus.DISCARDED  # a new proposal replaces the old one


def test_the_pages_show_the_map_and_the_lists(world: ServiceWorld, tomorrow: dt.date) -> None:
    make_day(world, tomorrow)
    client = client_for(world.manager)
    page = client.get("/routes/")
    assert page.status_code == 200
    assert "开始规划" in page.content.decode()
    response = client.post("/routes/", {"provider": world.d.provider.pk, "date": tomorrow.isoformat(),
                                        "seconds": "1"})
    assert response.status_code == 302
    plan = RoutePlan.objects.get()
    html = client.get(f"/routes/{plan.pk}/").content.decode()
    assert "<svg" in html
    assert "<polyline" in html
    for caregiver in Caregiver.objects.filter(pk__in=plan.stops.values("caregiver")):
        assert caregiver.name in html
    # The nurse works all day: her list shows the lunch break.
    assert "午休 60 分钟" in html
    assert "发布并派单" in html
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_SERVICE, subject=f"路线计划 {plan.pk}").exists()


def test_bad_form_input_is_refused_in_chinese(world: ServiceWorld, tomorrow: dt.date) -> None:
    client = client_for(world.manager)
    html = client.post("/routes/", {"provider": world.d.provider.pk, "date": "明天", "seconds": "0"}).content.decode()
    assert "日期格式应为" in html
    assert "至少 1 秒" in html
    html = client.post("/routes/", {"provider": world.d.provider.pk, "date": tomorrow.isoformat(),
                                    "seconds": "1"}).content.decode()
    assert "没有待派单或已派单的工单" in html
    assert not RoutePlan.objects.exists()


def test_other_providers_and_caregivers_get_404_and_change_nothing(world: ServiceWorld, tomorrow: dt.date) -> None:
    make_day(world, tomorrow)
    plan = plan_routes(world.d.provider, tomorrow, acting_user=world.manager, seconds=1)
    other = client_for(make_user("otherboss", world.other_provider, Role.PROVIDER_MANAGER))
    caregiver = client_for(world.near.user)  # type: ignore[arg-type]
    for client in (other, caregiver, client_for(world.p.district_officer)):
        assert client.get(f"/routes/{plan.pk}/").status_code == 404
        assert client.post(f"/routes/{plan.pk}/publish/").status_code == 404
        assert client.post(f"/routes/{plan.pk}/discard/").status_code == 404
    assert other.post("/routes/", {"provider": world.d.provider.pk, "date": tomorrow.isoformat(),
                                   "seconds": "1"}).status_code in (200, 404)
    plan.refresh_from_db()
    assert plan.status == RoutePlanStatus.PROPOSED
    assert RoutePlan.objects.count() == 1
    assert not ServiceOrder.objects.filter(status=OrderStatus.ASSIGNED).exists()


def test_a_caregiver_sees_todays_published_route_in_order(world: ServiceWorld) -> None:
    today = timezone.localdate()
    make_day(world, today)
    plan = plan_routes(world.d.provider, today, acting_user=world.manager, seconds=1)
    client = client_for(world.nurse.user)  # type: ignore[arg-type]
    assert "今天还没有发布的路线" in client.get("/routes/mine/").content.decode()
    publish_route_plan(plan, acting_user=world.manager)
    html = client.get("/routes/mine/").content.decode()
    mine = list(plan.stops.filter(caregiver=world.nurse).order_by("sequence").select_related("order__item"))
    assert mine
    assert "<svg" in html
    positions = [html.index(timezone.localtime(s.start_at).strftime("%H:%M")) for s in mine]
    assert positions == sorted(positions)
    assert "家庭病床护理" in html
    assert client_for(world.manager).get("/routes/mine/").status_code == 404


def api_headers(client: Any, username: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", {"username": username, "password": "Sanshe-test-2026!"},
                        content_type="application/json").json()["token"]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_api_plans_with_a_matrix_and_publishes(world: ServiceWorld, tomorrow: dt.date) -> None:
    from django.test import Client

    make_day(world, tomorrow)
    client = Client()
    auth = api_headers(client, "providerboss")
    bad = client.post("/api/v1/routes/plans", json.dumps({"provider_id": world.d.provider.pk,
                                                          "date": tomorrow.isoformat(), "seconds": 1,
                                                          "matrix": {"points": ["order:1"], "minutes": [[0, 1]]}}),
                      content_type="application/json", **auth)
    assert bad.status_code == 400
    assert "1×1" in bad.json()["detail"]
    missing = client.post("/api/v1/routes/plans", json.dumps({"provider_id": world.d.provider.pk,
                                                              "date": tomorrow.isoformat(), "seconds": 1,
                                                              "matrix": {"points": ["order:1"], "minutes": [[0]]}}),
                          content_type="application/json", **auth)
    assert missing.status_code == 400
    assert "行程时间矩阵缺少地点" in missing.json()["detail"]
    assert not RoutePlan.objects.exists()
    created = client.post("/api/v1/routes/plans", json.dumps({"provider_id": world.d.provider.pk,
                                                              "date": tomorrow.isoformat(), "seconds": 1}),
                          content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["stops"]) == 7
    assert body["status"] == "proposed"
    published = client.post(f"/api/v1/routes/plans/{body['id']}/publish", **auth)
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert ServiceOrder.objects.filter(status=OrderStatus.ASSIGNED).count() == 7
    make_user("otherboss", world.other_provider, Role.PROVIDER_MANAGER)
    other = api_headers(client, "otherboss")
    assert client.get(f"/api/v1/routes/plans/{body['id']}", **other).status_code == 404
    assert client.post("/api/v1/routes/plans", json.dumps({"provider_id": world.d.provider.pk,
                                                           "date": tomorrow.isoformat()}),
                       content_type="application/json", **other).status_code == 404


def test_the_command_plans_a_day(world: ServiceWorld, tomorrow: dt.date, capsys: Any) -> None:
    make_day(world, tomorrow)
    call_command("plan_routes", "--provider", str(world.d.provider.pk), "--date", tomorrow.isoformat(),
                 "--seconds", "1")
    assert "排入 7 单" in capsys.readouterr().out
    plan = RoutePlan.objects.get()
    assert plan.created_by == world.manager
    with pytest.raises(CommandError, match="没有编号为"):
        call_command("plan_routes", "--provider", "999999", "--date", tomorrow.isoformat())
