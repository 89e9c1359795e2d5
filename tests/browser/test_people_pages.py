"""A community worker finds an elder, opens the file, reveals the ID with a reason; the
auditor then finds that reveal in the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sanshe.core.models import AuditAction, AuditEvent
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server: Any) -> dict[str, Any]:
    d = build_district()
    p = build_personas(d)
    zsf = make_person(d.community_a1, by=p.district_officer, name="张三丰", living_arrangement="alone",
                      economic_status="dibao", chronic_conditions=["高血压", "糖尿病"])
    make_person(d.community_a1, by=p.district_officer, name="李四")
    make_person(d.community_a2, by=p.district_officer, name="张小凤")
    return {"d": d, "p": p, "zsf": zsf}


def test_a_community_worker_searches_opens_a_file_and_reveals_the_id_which_the_auditor_sees(
    page: Any, world: dict[str, Any]
) -> None:
    log_in(page, "worker", PASSWORD)
    shot(page, "home-community-worker")
    page.click("text=人员档案")
    page.fill("#id_q", "zsf")
    page.wait_for_selector("#result-count:has-text('共 1 人')")
    rows = page.locator(".people-table tbody tr")
    assert rows.count() == 1
    assert "张*丰" in rows.first.inner_text()
    shot(page, "people-list-search")
    # The neighbouring community's 张小凤 is never listed for this worker.
    page.fill("#id_q", "张")
    page.wait_for_selector("#result-count:has-text('共 1 人')")
    assert "张*凤" not in page.content()

    rows.first.locator("a").first.click()
    page.wait_for_selector("h1:has-text('张三丰')")
    assert re.search(r"330199\*{8}\d{3}[\dX]", page.inner_text("#id-number-box"))
    page.click("text=查看完整号码")  # no reason: refused by the browser's required check
    assert page.locator("#full-id").count() == 0
    page.fill("#reveal-reason", "办理低保复核")
    page.click("text=查看完整号码")
    page.wait_for_selector("#full-id")
    assert re.fullmatch(r"330199\d{11}[\dX]", page.inner_text("#full-id"))
    shot(page, "person-detail-revealed")
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL_ID, reason="办理低保复核").count() == 1

    page.click("text=退出")
    log_in(page, "auditor", PASSWORD)
    page.goto(page.base + "/audit/?action=reveal_id")
    table = page.inner_text("#audit-table")
    assert "办理低保复核" in table
    assert "赵助老" in table
    shot(page, "audit-log")


def test_the_people_list_and_a_file_are_usable_on_a_phone(phone_page: Any, world: dict[str, Any]) -> None:
    page = phone_page
    log_in(page, "worker", PASSWORD)
    page.goto(page.base + "/people/")
    assert page.locator(".sidenav").is_hidden()
    shot(page, "phone-people-list")
    page.click(".nav-toggle")
    assert page.locator(".sidenav").is_visible()
    page.goto(page.base + f"/people/{world['zsf'].pk}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "the file page must not scroll sideways on a phone"
    shot(page, "phone-person-detail")


def test_a_wrong_password_shows_a_chinese_message_and_does_not_sign_in(page: Any, world: dict[str, Any]) -> None:
    page.goto(page.base + "/login/")
    page.fill("#id_login", "worker")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".alert-error")
    assert "用户名或密码错误" in page.inner_text(".alert-error")
    shot(page, "login-error")
