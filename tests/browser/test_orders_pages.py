"""A community worker drafts a care plan from the person's file and signs it on screen; once the
provider and the elder have signed, orders are generated and handled from the order pages; a
personal link opens the elder's phone page (关怀版), which passes an accessibility check."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from sanshe.orders import plans
from sanshe.orders.generation import generate_orders
from sanshe.orders.models import CarePlan, CarePlanStatus, OrderSource, OrderStatus, ServiceOrder, SignerRole
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas, signature_png
from tests.service_factories import ServiceWorld, build_service_world
from tests.test_orders_builders import assess, entitle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# An automated accessibility check run in the page (no network, no extra package): the page
# language, a label for every control, a name for every button, text at least 18 px, touch
# targets at least 44 px, and WCAG AAA contrast (7:1, or 4.5:1 for large text) for every text.
A11Y = """() => {
  const problems = [];
  if (document.documentElement.lang !== 'zh-CN') problems.push('lang');
  const lum = (c) => { const m = c.match(/[\\d.]+/g).map(Number); const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor;
    const m = b.match(/[\\d.]+/g); if (m && (m.length < 4 || Number(m[3]) > 0)) return b; } return 'rgb(255,255,255)'; };
  for (const input of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = input.labels && input.labels.length > 0 || input.getAttribute('aria-label');
    if (!labelled) problems.push('no label: ' + input.name);
  }
  for (const b of document.querySelectorAll('button')) if (!b.innerText.trim()) problems.push('button without name');
  for (const el of document.querySelectorAll('body *')) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (!text || el.offsetParent === null) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    if (size < 18) problems.push('small text ' + size + 'px: ' + text.slice(0, 10));
    const a = lum(style.color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 4.5 : 7)) problems.push('contrast ' + ratio.toFixed(2) + ': ' + text.slice(0, 10));
  }
  for (const t of document.querySelectorAll('.care-choice span, .care-submit')) {
    if (t.getBoundingClientRect().height < 44) problems.push('small target: ' + t.innerText);
  }
  return problems;
}"""


@pytest.fixture
def world(live_server: Any) -> ServiceWorld:
    d = build_district()
    w = build_service_world(d, build_personas(d))
    assess(w.elder, 2, by=w.p.district_officer)
    entitle(w, w.elder, quota="400", tier="low_cost", month=timezone.localdate().replace(day=1))
    return w


def _draw(page: Any, canvas: str) -> None:
    page.locator(canvas).scroll_into_view_if_needed()
    box = page.locator(canvas).bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    for x, y in ((70, 20), (120, 70), (170, 25), (230, 60)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def test_a_plan_is_drafted_signed_run_and_the_elder_orders_from_a_phone(page: Any, phone_page: Any,
                                                                        world: ServiceWorld) -> None:
    log_in(page, "worker", PASSWORD)
    page.goto(page.base + f"/people/{world.elder.pk}/")
    page.wait_for_selector("#orders-panel")
    shot(page, "orders-person-panel")
    page.click("#draft-plan button")
    page.wait_for_selector("#plan-items")
    plan = CarePlan.objects.get(person=world.elder)
    assert page.locator("#plan-items tbody tr").count() == 3
    assert page.locator("#quota-warning").count() == 1  # meals daily + cleaning + bath exceed 400 yuan
    page.click("details.add-item summary")
    shot(page, "care-plan-draft")

    _draw(page, "#sign-community canvas")
    page.click("#sign-community button[type=submit]")
    page.wait_for_selector("#sign-community .signature-img")
    plans.sign_care_plan(plan, role=SignerRole.PROVIDER, signer_name="陈站长", image=signature_png(),
                         acting_user=world.manager)
    plans.sign_care_plan(plan, role=SignerRole.ELDER, signer_name="钱老太", image=signature_png(),
                         acting_user=world.manager)
    assert CarePlan.objects.get(pk=plan.pk).status == CarePlanStatus.ACTIVE
    generate_orders(today=timezone.localdate(), days=7)
    page.goto(page.base + f"/orders/plans/{plan.pk}/")
    page.wait_for_selector("#plan-status:has-text('执行中')")
    shot(page, "care-plan-active")

    page.goto(page.base + "/orders/plans/")
    shot(page, "care-plan-list")
    page.goto(page.base + "/orders/")
    page.wait_for_selector("#order-table")
    shot(page, "orders-list")
    order = ServiceOrder.objects.filter(source=OrderSource.CARE_PLAN).order_by("window_start").first()
    assert order is not None
    page.goto(page.base + f"/orders/{order.pk}/")
    page.fill("#id_reason", "老人当天去医院复查")
    page.click("#moves button[type=submit]")
    page.wait_for_selector("h1:has-text('已取消')")
    assert ServiceOrder.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    shot(page, "order-detail-cancelled")

    page.goto(page.base + f"/orders/person/{world.elder.pk}/request/")
    shot(page, "order-request-form")
    page.goto(page.base + f"/people/{world.elder.pk}/")
    page.wait_for_selector("#create-link")
    page.click("#create-link button")
    page.wait_for_selector("#link-url")
    shot(page, "request-link-created")
    url = page.input_value("#link-url")

    phone_page.goto(url)
    assert phone_page.evaluate(A11Y) == []
    shot(phone_page, "self-service-phone")
    phone_page.click(".care-choice:has-text('居室清洁')")
    phone_page.click(".care-days .care-choice:has-text('明天')")
    phone_page.click(".care-halves .care-choice:has-text('下午')")
    phone_page.click(".care-submit")
    phone_page.wait_for_selector("#care-done")
    assert phone_page.evaluate(A11Y) == []
    shot(phone_page, "self-service-phone-done")
    assert ServiceOrder.objects.filter(source=OrderSource.ELDER, item=world.cleaning).count() == 1
