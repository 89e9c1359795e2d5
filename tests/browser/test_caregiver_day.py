"""A caregiver's visit on a phone (390×844, location granted): sign in, today's list, accept,
check in inside the geofence, tick the checklist, check out, the elder signs and rates; the record
is confirmed. Screenshots of each step go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from sanshe.assessments.models import Assessment, CapabilityRecord
from sanshe.orders import beds, delivery
from sanshe.orders.actions import assign_order, create_order
from sanshe.orders.models import (
    CarePlan,
    CarePlanStatus,
    Confirmation,
    OrderSource,
    OrderStatus,
    ServiceOrder,
    ServiceRecord,
)
from sanshe.orders.watch import run_watch
from sanshe.people.models import Contact
from tests.browser.conftest import ARTIFACTS, PHONE, log_in
from tests.factories import PASSWORD, build_district, build_personas
from tests.service_factories import ServiceWorld, build_service_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server: Any) -> ServiceWorld:
    d = build_district()
    w = build_service_world(d, build_personas(d))
    w.elder.allergies = "青霉素过敏"
    w.elder.medications = "苯磺酸氨氯地平 每日一次"
    w.elder.save()
    Contact.objects.create(person=w.elder, name="钱小明", relation="son", phone="13700001111",
                           is_emergency_contact=True, may_confirm_services=True)
    now = timezone.now()
    # Check-in is only accepted on the order's day: keep the first window inside today.
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    first = max(now - dt.timedelta(minutes=5), midnight)
    for start, item in ((first, w.cleaning), (first + dt.timedelta(hours=2), w.meal)):
        order = create_order(person=w.elder, item=item, window_start=start, window_end=start + dt.timedelta(hours=1),
                             source=OrderSource.CARE_PLAN, acting_user=w.p.community_worker)
        assign_order(order, w.near, acting_user=w.manager, lines=["距离最近"], by="dispatcher")
    return w


@pytest.fixture
def phone(browser: Any, live_server: Any, world: ServiceWorld) -> Iterator[Any]:
    # Standing about 25 m from the elder's door.
    here = {"latitude": float(world.elder.latitude + Decimal("0.0002")), "longitude": float(world.elder.longitude)}
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True,
                                  geolocation=here, permissions=["geolocation"])
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.base = live_server.url
    yield pg
    context.close()


def screen(page: Any, name: str, *, full: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def draw(page: Any, canvas: Any) -> None:
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.35 * ((i % 4) / 3)), steps=2)
    page.mouse.up()


def test_a_caregiver_delivers_and_the_elder_confirms_on_the_phone(phone: Any, world: ServiceWorld) -> None:
    cleaning = ServiceOrder.objects.get(item=world.cleaning)
    log_in(phone, "near", PASSWORD)
    phone.goto(phone.base + "/service/mine/")
    cards = phone.locator("article.delivery-card")
    assert cards.count() == 2
    assert "居室清洁" in cards.nth(0).inner_text()  # sorted by window start
    assert "青霉素过敏" in cards.nth(0).inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 2, "no sideways scrolling"
    screen(phone, "caregiver-1-today")

    cards.nth(0).locator("button", has_text="接单").click()
    phone.wait_for_selector("text=已接单")
    screen(phone, "caregiver-2-accepted", full=False)

    phone.locator("button[data-geo]", has_text="签到").first.click()
    phone.wait_for_selector("text=已签到（距服务地址约")
    record = ServiceRecord.objects.get(order=cleaning)
    assert record.flags == []
    assert record.check_in_distance_m is not None
    assert record.check_in_distance_m < 60
    screen(phone, "caregiver-3-checked-in")

    # The visit took 50 minutes.
    ServiceRecord.objects.filter(pk=record.pk).update(check_in_at=record.check_in_at - dt.timedelta(minutes=50))
    for task in ("清扫地面", "整理床铺", "清洁厨卫", "倒垃圾"):
        phone.locator("label.check-row", has_text=task).click()
    phone.fill("#visit-notes", "老人精神状态良好，已提醒按时服药。")
    phone.locator("#checklist").scroll_into_view_if_needed()
    screen(phone, "caregiver-4-checklist", full=False)
    phone.locator("button[data-geo]", has_text="签退").click()
    phone.wait_for_selector("text=已签退，服务 50 分钟")
    record.refresh_from_db()
    assert record.tasks_done == ["清扫地面", "整理床铺", "清洁厨卫", "倒垃圾"]
    assert record.flags == []

    form = phone.locator("#confirm form.sign-form")
    form.scroll_into_view_if_needed()
    confirm = form.locator("button[data-confirm]")
    assert confirm.is_disabled(), "nothing to confirm before signing"
    draw(phone, form.locator("canvas"))
    form.locator("label.star-option", has_text="5星").click()
    phone.fill("#sign-comment", "小刘很细心")
    screen(phone, "caregiver-5-signature", full=False)
    confirm.click()
    phone.wait_for_selector("text=钱老太已确认本次服务")
    screen(phone, "caregiver-6-confirmed")

    record.refresh_from_db()
    cleaning.refresh_from_db()
    assert cleaning.status == OrderStatus.CONFIRMED
    assert record.confirmation == Confirmation.SIGNATURE
    assert record.confirmed_by_name == "钱老太"
    assert record.signature.startswith("data:image/png;base64,")
    assert record.rating == 5
    assert record.rating_comment == "小刘很细心"


def test_a_community_worker_reviews_a_flagged_visit_and_checks_a_bed(page: Any, world: ServiceWorld) -> None:
    """The reviewer's side on a desktop: the alert, the flagged record, clearing it; a bed's month."""
    order = ServiceOrder.objects.get(item=world.cleaning)
    delivery.accept_order(order, caregiver=world.near, acting_user=world.near.user)
    far = {"latitude": str(world.elder.latitude + Decimal("0.01")), "longitude": str(world.elder.longitude)}
    record = delivery.check_in(order, caregiver=world.near, acting_user=world.near.user, **far)
    ServiceRecord.objects.filter(pk=record.pk).update(check_in_at=record.check_in_at - dt.timedelta(minutes=45))
    record.refresh_from_db()
    delivery.check_out(record, caregiver=world.near, acting_user=world.near.user)
    later = ServiceOrder.objects.get(item=world.meal)
    ServiceOrder.objects.filter(pk=later.pk).update(window_start=timezone.now() - dt.timedelta(hours=3),
                                                    window_end=timezone.now() - dt.timedelta(hours=2))
    run_watch()

    a = Assessment.objects.create(person=world.elder, number="T-bed", reason="first", requested_by=world.p.district_officer,
                                  instrument_code="GB/T 42195-2022", instrument_version="2022.1", status="published",
                                  final_level=2)
    CapabilityRecord.objects.create(person=world.elder, assessment=a, level=2, assessed_on=timezone.localdate(),
                                    valid_until=timezone.localdate() + dt.timedelta(days=365))
    plan = CarePlan.objects.create(person=world.elder, provider=world.d.provider, status=CarePlanStatus.ACTIVE,
                                   starts_on=timezone.localdate(), created_by=world.manager)
    bed = beds.open_bed(plan, acting_user=world.manager)
    work = beds.add_adaptation(bed, acting_user=world.manager, description="卫生间加装扶手", budget="1800")
    beds.complete_adaptation(work, acting_user=world.manager, cost="1750", completed_on=timezone.localdate())
    beds.accept_adaptation(work, acting_user=world.manager, accepted_by="赵助老")
    beds.add_device(bed, acting_user=world.manager, kind="紧急呼叫器", serial="SOS-001", cost="600",
                    installed_on=timezone.localdate())
    beds.activate_bed(bed, acting_user=world.manager, opened_on=timezone.localdate().replace(day=1))

    log_in(page, "worker", PASSWORD)
    page.goto(page.base + "/service/alerts/")
    page.wait_for_selector("text=疑似漏服务")
    screen(page, "review-1-alerts")
    page.goto(page.base + "/service/records/?flag=any")
    page.wait_for_selector(".records-table .badge-red")
    screen(page, "review-2-records")
    page.click(f"a[href='/service/records/{record.pk}/']")
    page.fill("#review-note", "已电话回访老人，确认当日服务属实（定位漂移）")
    screen(page, "review-3-record")
    page.click("button[value=clear]")
    page.wait_for_selector("text=核查通过，工单已确认")
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED

    page.goto(page.base + f"/service/beds/{bed.pk}/")
    page.wait_for_selector("table.bed-calendar")
    screen(page, "review-4-bed")
    page.goto(page.base + "/service/beds/?shortfall=1")
    screen(page, "review-5-beds")
