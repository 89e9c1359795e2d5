"""A dispatcher opens an unassigned bath order, sees why the top caregiver is proposed and why the
others are not, overrides to another qualified caregiver with a reason, and the order shows it.
Then the caregiver's phone page 抢单 for a broadcast order."""

from __future__ import annotations

from typing import Any

import pytest

from sanshe.dispatch.actions import broadcast_order
from sanshe.orders.models import OrderStatus, ServiceOrder
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas
from tests.service_factories import build_service_world
from tests.test_dispatch_builders import at, booking, order_for, served

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dispatcher_sees_why_and_overrides_with_a_reason(page: Any) -> None:
    d = build_district()
    p = build_personas(d)
    w = build_service_world(d, p)
    served(w, w.certified, 4)
    booking(w, w.nurse, at(15), minutes=90)
    order = order_for(w, w.bath)
    log_in(page, p.operator.username, PASSWORD)
    page.click("nav >> text=派单调度")
    page.wait_for_selector("#unassigned-table")
    shot(page, "dispatch-1-board")
    page.click(f"#unassigned-table a[href='/dispatch/orders/{order.pk}/']")
    page.wait_for_selector("#candidates")
    first = page.locator("#candidates .candidate-first")
    assert "周护理" in first.inner_text()
    assert "排名第一：近 90 天服务该老人最多（4 次）" in first.inner_text()
    assert "持有养老护理员职业技能等级证书" in first.inner_text()
    assert "没有“养老护理员职业技能等级证书”" in page.locator("#excluded").inner_text()
    shot(page, "dispatch-2-candidates")

    page.select_option("#id_caregiver", str(w.nurse.pk))
    page.fill("#id_reason", "老人今天需要测血糖，改派持护士证的吴护士")
    page.click("#override-submit")
    page.wait_for_selector("#assignment")
    text = page.locator("#assignment").inner_text()
    assert "吴护士" in text
    assert "调度员指定：老人今天需要测血糖，改派持护士证的吴护士" in text
    assert "系统推荐为周护理" in text
    shot(page, "dispatch-3-overridden")
    order.refresh_from_db()
    assert order.status == OrderStatus.ASSIGNED
    assert order.caregiver_id == w.nurse.pk


def test_caregiver_grabs_a_broadcast_order_on_the_phone(phone_page: Any) -> None:
    d = build_district()
    p = build_personas(d)
    w = build_service_world(d, p)
    order = order_for(w, w.bath)
    broadcast_order(order)
    log_in(phone_page, "certified", PASSWORD)
    phone_page.goto(phone_page.base + "/dispatch/offers/")
    phone_page.wait_for_selector(".offer-card")
    shot(phone_page, "dispatch-4-offers-phone")
    phone_page.click(".offer-card button:has-text('抢单')")
    phone_page.wait_for_selector(".alert-success")
    assert "抢单成功" in phone_page.locator(".messages").inner_text()
    shot(phone_page, "dispatch-5-grabbed-phone")
    assert ServiceOrder.objects.get(pk=order.pk).status == OrderStatus.ACCEPTED


def test_operator_places_an_urgent_order_and_sees_who_was_chosen(page: Any) -> None:
    d = build_district()
    p = build_personas(d)
    w = build_service_world(d, p)
    log_in(page, p.operator.username, PASSWORD)
    page.click("nav >> text=紧急下单")
    page.fill("#q", "钱老太")
    page.click("#find-person button")
    page.click("#found a:has-text('为其下单')")
    page.select_option("#id_item", str(w.cleaning.pk))
    page.fill("#id_caller", "女儿 李芳")
    page.fill("#id_notes", "老人摔倒后家里凌乱，需要尽快上门整理")
    shot(page, "dispatch-6-urgent-form")
    page.click("#urgent-submit")
    page.wait_for_selector("#assignment")
    assert "紧急工单已创建" in page.locator(".messages").inner_text()
    assert "分钟服务圈内" in page.locator("#assignment").inner_text()
    shot(page, "dispatch-7-urgent-assigned")
    order = ServiceOrder.objects.get(person=w.elder, urgent=True)
    assert order.status == OrderStatus.ASSIGNED
