"""A provider manager plans today's routes, checks the map and the lists, publishes; the nurse
then opens "今日路线" on the phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from sanshe.dispatch.models import RoutePlan, RoutePlanStatus
from sanshe.orders.actions import create_order
from sanshe.orders.models import OrderSource, OrderStatus, ServiceOrder
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas
from tests.service_factories import ServiceWorld, build_service_world
from tests.test_routes_plans import at, make_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server: Any) -> ServiceWorld:
    d = build_district()
    return build_service_world(d, build_personas(d))


def test_a_manager_plans_and_publishes_and_the_nurse_sees_her_route(page: Any, phone_page: Any,
                                                                     world: ServiceWorld) -> None:
    today = timezone.localdate()
    make_day(world, today)
    # An evening visit no shift covers: left out, with the reason, drawn as a cross.
    create_order(person=world.elder, item=world.meal, window_start=at(today, 20), window_end=at(today, 21),
                 source=OrderSource.COMMUNITY, acting_user=world.p.community_worker, provider=world.d.provider)
    log_in(page, "providerboss", PASSWORD)
    page.click("nav >> text=路线规划")
    page.fill("#id_date", today.isoformat())
    page.fill("#id_seconds", "1")
    shot(page, "routes-index")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-status")
    assert page.locator(".route-map svg polyline").count() >= 2
    assert page.locator(".route-card").count() >= 2
    assert "服务时段不在任何符合条件的护理员班次之内" in page.inner_text("#unplanned")
    shot(page, "routes-detail-proposed")
    page.click("#publish")
    page.wait_for_selector("#plan-status:has-text('已发布')")
    assert RoutePlan.objects.get().status == RoutePlanStatus.PUBLISHED
    assert ServiceOrder.objects.filter(status=OrderStatus.ASSIGNED).count() == 7

    log_in(phone_page, "nurse", PASSWORD)
    phone_page.goto(phone_page.base + "/routes/mine/")
    phone_page.wait_for_selector(".route-stops")
    assert phone_page.locator(".route-stop").count() >= 1
    shot(phone_page, "routes-mine-phone")
