"""An assessor fills in the on-site form on a phone: half the items, a reload, a lost
connection, the rest, signatures, submit; the agency approves; the person's file shows the level.

The second assessor signs in a second browser context logged in as themselves, as on their own
phone (an assessor may only sign their own slot)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sanshe.accounts.models import Organization, OrganizationKind, Role
from sanshe.assessments import actions, rules
from sanshe.assessments.models import Assessment, AssessmentReason, AssessmentStatus, CapabilityRecord
from tests.browser.conftest import ARTIFACTS, PHONE, log_in, shot
from tests.factories import PASSWORD, build_district, build_personas, make_person, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Scores chosen for each item (a frail elder): total 50 → level 2 (中度失能).
PLAN = {
    "B.1.1": 3, "B.1.2": 2, "B.1.3": 1, "B.1.4": 2, "B.1.5": 2, "B.1.6": 2, "B.1.7": 3, "B.1.8": 2,
    "B.2.1": 3, "B.2.2": 2, "B.2.3": 2, "B.2.4": 1,
    "B.3.1": 3, "B.3.2": 3, "B.3.3": 4, "B.3.4": 2, "B.3.5": 3, "B.3.6": 3, "B.3.7": 1, "B.3.8": 0, "B.3.9": 2,
    "B.4.1": 1, "B.4.2": 1, "B.4.3": 1, "B.4.4": 0, "B.4.5": 1,
}


@pytest.fixture
def world(live_server: Any) -> dict[str, Any]:
    d = build_district()
    p = build_personas(d)
    agency = Organization.objects.create(name="青溪康评老年人能力评估中心", kind=OrganizationKind.ASSESSMENT_AGENCY,
                                         region=d.district, credit_code="52330199MJA1234567")
    one = make_user("pg_zhou", agency, Role.ASSESSOR, full_name="周评估")
    two = make_user("pg_wu", agency, Role.ASSESSOR, full_name="吴评估")
    manager = make_user("pg_boss", agency, Role.AGENCY_MANAGER, full_name="郑主任")
    elder = make_person(d.community_a1, by=p.district_officer, name="王秀英", birth_date=dt.date(1936, 4, 12))
    a = actions.request_assessment(elder, reason=AssessmentReason.FIRST, acting_user=p.community_worker)
    actions.assign_agency(a, agency=agency, acting_user=p.district_officer)
    actions.schedule_visit(a, assessor_1=one, assessor_2=two, visit_at=timezone.now() + dt.timedelta(hours=2),
                           acting_user=manager)
    return {"d": d, "p": p, "elder": elder, "a": a, "one": one, "two": two, "manager": manager}


def screen(page: Any, name: str) -> None:
    """What the assessor sees on the phone's screen (the sticky totals bar included)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def answer(page: Any, code: str, score: int, expect_count: int) -> None:
    card = page.locator(f"#f-{code.replace('.', '-')}")
    card.locator(f"input[value='{score}']").locator("xpath=..").click()
    page.wait_for_selector(f"#answered-count:has-text('已答 {expect_count}/')")


def draw(page: Any, canvas: Any) -> None:
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.12, y + h * 0.65)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.12 + 0.035 * i), y + h * (0.65 - 0.35 * ((i % 4) / 3)), steps=2)
    page.mouse.up()


def sign(page: Any, role: str, name: str | None = None) -> None:
    slot = page.locator(f"#sign-{role}")
    slot.scroll_into_view_if_needed()
    if name is not None:
        slot.locator("input[name=name]").fill(name)
    confirm = slot.locator("button[data-confirm]")
    assert confirm.is_disabled(), "nothing to confirm before drawing"
    draw(page, slot.locator("canvas"))
    confirm.click()
    page.wait_for_selector(f"#sign-{role}.is-signed")


def test_an_assessor_completes_the_form_on_a_phone_through_a_reload_and_a_lost_connection(
    phone_page: Any, page: Any, browser: Any, world: dict[str, Any]
) -> None:
    phone, a = phone_page, world["a"]
    codes = list(PLAN)
    log_in(phone, "pg_zhou", PASSWORD)
    phone.goto(phone.base + "/assessments/")
    phone.wait_for_selector("text=我的上门评估")
    shot(phone, "assessment-phone-my-visits")
    phone.click("text=开始评估")
    phone.wait_for_selector("#f-B-1-1")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 2, "no sideways scrolling"
    screen(phone, "assessment-phone-form-start")

    # Basic information and the first half of the items.
    phone.fill("#in-f-info-height_cm", "152")
    phone.fill("#in-f-info-weight_kg", "48.5")
    phone.fill("#in-f-info-informant_name", "李建国")
    phone.locator("#f-info-informant_relation label.pill", has_text="子女").click()
    phone.locator("#f-risk-fall label.pill", has_text="1次").click()
    phone.wait_for_selector("#sync-state.is-saved")
    for n, code in enumerate(codes[:13], start=1):
        answer(phone, code, PLAN[code], n)
    phone.evaluate("document.getElementById('sec-B.2').scrollIntoView()")
    screen(phone, "assessment-phone-form-half")

    # A reload loses nothing: the page renders the server's draft.
    phone.reload()
    phone.wait_for_selector("#answered-count:has-text('已答 13/26')")
    for code in codes[:13]:
        assert phone.locator(f"#f-{code.replace('.', '-')} input[value='{PLAN[code]}']").is_checked(), code
    assert phone.input_value("#in-f-info-height_cm") == "152"
    assert phone.input_value("#in-f-info-informant_name") == "李建国"

    # The connection drops: the answer waits on the phone and goes up when it comes back.
    phone.context.set_offline(True)
    phone.locator(f"#f-{codes[13].replace('.', '-')} input[value='{PLAN[codes[13]]}']").locator("xpath=..").click()
    phone.wait_for_selector("#sync-state.is-offline")
    assert "已暂存在本机" in phone.inner_text("#sync-state")
    screen(phone, "assessment-phone-offline")
    phone.context.set_offline(False)
    phone.wait_for_selector("#answered-count:has-text('已答 14/26')")

    # A change that never reached the server survives a reload from this phone's storage.
    phone.route("**/form/save/", lambda route: route.abort())
    card = f"#f-{codes[14].replace('.', '-')}"
    phone.locator(f"{card} input[value='{PLAN[codes[14]]}']").locator("xpath=..").click()
    phone.wait_for_function("Object.keys(JSON.parse(localStorage.getItem("
                            f"'sanshe.assessment.{a.pk}.unsent') || '{{}}')).length === 1")
    assert Assessment.objects.get(pk=a.pk).answers.get(codes[14]) is None
    phone.unroute("**/form/save/")
    phone.reload()
    phone.wait_for_selector("#answered-count:has-text('已答 15/26')")
    assert phone.locator(f"{card} input[value='{PLAN[codes[14]]}']").is_checked()
    assert Assessment.objects.get(pk=a.pk).answers[codes[14]] == PLAN[codes[14]]

    for n, code in enumerate(codes[15:], start=16):
        answer(phone, code, PLAN[code], n)
    phone.wait_for_selector("#live-level:has-text('最终等级')")
    # Total 50 → level 2; one fall in 30 days does not raise it.
    assert "初步等级 2级" in phone.inner_text("#live-level")
    phone.select_option("#in-f-need-meal", "daily")
    phone.select_option("#in-f-need-bath", "weekly")
    phone.locator("#f-env-grab_bars label.pill", has_text="无").click()
    phone.locator("#f-env-adaptation label.pill", has_text="建议改造").click()
    phone.wait_for_selector("#sync-state.is-saved")
    phone.evaluate("document.getElementById('sec-needs').scrollIntoView()")
    screen(phone, "assessment-phone-form-complete")

    # Signatures: this assessor and the information provider on this phone.
    sign(phone, "assessor_1")
    sign(phone, "informant", "李建国")
    assert "吴评估用本人账号登录" in phone.inner_text("#sign-assessor_2")
    assert phone.locator("#submit-assessment").is_disabled()
    phone.locator("#sign-assessor_2").scroll_into_view_if_needed()
    screen(phone, "assessment-phone-signatures")

    # The second assessor signs on their own phone.
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    second = context.new_page()
    second.set_default_timeout(10_000)
    second.base = phone.base
    log_in(second, "pg_wu", PASSWORD)
    second.goto(second.base + f"/assessments/{a.pk}/form/")
    assert second.locator("#sign-assessor_1 canvas").count() == 0
    sign(second, "assessor_2")
    context.close()

    phone.reload()
    phone.locator("#submit").scroll_into_view_if_needed()
    phone.click("#submit-assessment")
    phone.wait_for_selector("#final-level")
    assert "2 级" in phone.inner_text("#final-level")
    shot(phone, "assessment-phone-submitted")
    stored = Assessment.objects.get(pk=a.pk)
    assert (stored.status, stored.total_score, stored.final_level) == (AssessmentStatus.SUBMITTED, 50, 2)
    instrument = rules.load_instrument(stored.instrument_code, stored.instrument_version)
    assert stored.total_score == sum(PLAN.values()) <= instrument.max_total

    # The agency manager approves at the desk.
    log_in(page, "pg_boss", PASSWORD)
    page.goto(page.base + "/assessments/")
    page.click(f"text={stored.number}")
    page.fill("#id_note", "资料齐全，同意发布")
    shot(page, "assessment-review")
    page.click("text=审核通过并发布")
    page.wait_for_selector("text=评估结果已发布")
    assert CapabilityRecord.objects.get(person=world["elder"]).level == 2

    # The person's file shows the new level.
    page.click("text=退出")
    log_in(page, "worker", PASSWORD)
    page.goto(page.base + f"/people/{world['elder'].pk}/")
    page.wait_for_selector("#capability-level")
    assert "能力中度受损（中度失能）" in page.inner_text("#assessment-panel")
    page.locator("#assessment-panel").scroll_into_view_if_needed()
    shot(page, "assessment-person-file-level")
