"""A month's new entitlements of one community pass three people in their own browsers: the
community worker reviews, the street officer reviews on a phone, a second district officer
approves; the maker (who ran the month) may not; the notice then shows names and ID numbers masked."""

from __future__ import annotations

from typing import Any

import pytest

from sanshe.eligibility.models import ApprovalBatch, BatchStatus, EntitlementStatus
from tests.browser.conftest import PHONE, log_in, shot
from tests.factories import PASSWORD, build_district, build_personas
from tests.test_eligibility_approvals import NAMES_A1, World, full_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chain(live_server: Any) -> tuple[World, ApprovalBatch]:
    d = build_district()
    w = World(d, build_personas(d))
    a1, _ = w.batches()
    return w, a1


def session(browser: Any, live_server: Any, username: str, *, phone: bool = False) -> tuple[Any, Any]:
    options: dict[str, Any] = {"locale": "zh-CN"}
    options.update({"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone
                   else {"viewport": {"width": 1280, "height": 900}})
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    log_in(page, username, PASSWORD)
    return context, page


def test_three_people_approve_a_batch_step_by_step_and_the_notice_is_masked(
    browser: Any, live_server: Any, chain: tuple[World, ApprovalBatch]
) -> None:
    w, batch = chain
    link = f"#to-decide a:has-text('#{batch.pk}')"

    context, page = session(browser, live_server, "district")  # the maker
    page.goto(page.base + f"/eligibility/approvals/{batch.pk}/")
    assert "经办人不能审核自己经办的待遇" in page.inner_text("#refusal")
    assert page.locator("#approve").count() == 0
    context.close()

    context, page = session(browser, live_server, "worker")
    page.click("nav.sidenav >> text=待遇审批")
    page.click(link)
    assert "王*英" in page.inner_text("#rows")
    page.fill("#approve textarea", "经入户核实，情况属实")
    page.click("#approve button[type=submit]")
    page.wait_for_selector(".alert-success:has-text('已审核通过')")
    shot(page, "approval-after-community")
    context.close()

    context, page = session(browser, live_server, "street", phone=True)
    page.goto(page.base + "/eligibility/approvals/")
    page.click(link)
    page.click("#approve button[type=submit]")
    page.wait_for_selector(".alert-success:has-text('已审核通过')")
    assert page.locator(".chain-current").inner_text() == "区民政审批"
    shot(page, "approval-street-phone")
    context.close()

    context, page = session(browser, live_server, "district2")
    page.goto(page.base + "/eligibility/approvals/")
    page.click(link)
    page.click("#approve button[type=submit]")
    page.wait_for_selector(".alert-success:has-text('进入公示')")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.NOTICE
    assert set(batch.entitlements.values_list("status", flat=True)) == {EntitlementStatus.NOTICE}
    steps = list(batch.steps.values_list("decided_by__username", flat=True))
    assert steps == ["worker", "street", "district2"]

    page.click("#notice-link")
    page.wait_for_selector("#notice")
    sheet = page.inner_text("#notice")
    assert "青溪区2026年12月养老服务补贴享受对象公示" in sheet
    for person in w.people:
        assert person.masked_name in sheet
        assert person.id_number_masked in sheet
        assert person.name not in sheet
        assert full_id(person) not in sheet
    assert all(name not in page.content() for name in NAMES_A1)
    shot(page, "approval-notice")
    # Printing gives the sheet alone: no menu, no buttons.
    page.emulate_media(media="print")
    assert not page.locator("nav.sidenav").is_visible()
    assert not page.locator("text=打印").first.is_visible()
    assert page.locator("#notice").is_visible()
    context.close()
