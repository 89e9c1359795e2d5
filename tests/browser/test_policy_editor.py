"""The district officer writes seed 001's "80岁以上低保老人" condition with clicks in the condition
builder, saves it as a version and reads it back as text on the policy's page; then a condition with an
empty number is refused in Chinese, naming the row, and the tree comes back as it was. On a phone the
builder stays usable without sideways scrolling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from sanshe.eligibility import authoring
from sanshe.eligibility.models import PolicyVersion
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server: Any) -> dict[str, Any]:
    d = build_district()
    p = build_personas(d)
    fund = authoring.create_fund(d.district, code="welfare", name="福利彩票公益金", acting_user=p.district_officer)
    values = authoring.PolicyValues(name="高龄低保老人居家养老服务补贴", legal_basis="青民〔2026〕12号", fund=fund,
                                    benefit_kind="monthly_quota", exclusivity_group="home_care_subsidy")
    policy = authoring.create_policy(d.district, code="aged_80_dibao", values=values, acting_user=p.district_officer)
    return {"d": d, "p": p, "policy": policy}


def leaf(page: Any, index: int) -> Any:
    return page.locator(".cb-leaf").nth(index)


def test_the_officer_builds_a_condition_with_clicks_and_a_bad_value_keeps_the_tree(
    page: Any, world: dict[str, Any]
) -> None:
    policy = world["policy"]
    log_in(page, "district", PASSWORD)
    page.click("nav >> text=补贴政策")
    page.click(f"text={policy.name}")
    page.click("text=添加第一个版本")
    page.wait_for_selector("#condition-builder .cb-group")
    page.fill("#id_amount", "500")

    page.click(".cb-add-leaf")
    leaf(page, 0).locator("select.cb-field").select_option("age")
    assert leaf(page, 0).locator("select.cb-op").input_value() == "gte"
    leaf(page, 0).locator("input.cb-number").fill("80")
    page.click(".cb-add-leaf")
    leaf(page, 1).locator("select.cb-field").select_option("economic_status")
    assert leaf(page, 1).locator("select.cb-op").input_value() == "in"
    leaf(page, 1).get_by_label("低保", exact=True).check()
    assert page.inner_text("#cb-preview-text") == "年龄 ≥ 80 且 经济状况 属于 低保"
    shot(page, "policy-version-builder")

    page.click("#save-version")
    page.wait_for_url(page.base + f"/eligibility/policies/{policy.pk}/")
    assert page.inner_text("#version-1 .version-condition") == "年龄 ≥ 80 且 经济状况 属于 低保"
    assert "每月 500.00 元" in page.inner_text("#version-1")
    version = PolicyVersion.objects.get(policy=policy)
    assert version.condition == {"all": [{"field": "age", "op": "gte", "value": 80},
                                         {"field": "economic_status", "op": "in", "value": ["dibao"]}]}
    assert version.amount == Decimal("500")
    shot(page, "policy-detail")

    # A second version starts from the first one's tree; a row without its number is refused.
    page.click("text=新增版本")
    page.wait_for_selector(".cb-leaf")
    assert page.locator(".cb-leaf").count() == 2
    page.click("#cb-tree > .cb-group > .cb-group-foot .cb-add-group")
    inner = page.locator(".cb-group .cb-group")
    inner.locator("select.cb-field").select_option("monthly_income")
    assert inner.locator("select.cb-op").input_value() == "lt"
    page.click("#save-version")
    page.wait_for_selector("#condition-error")
    assert "请填写月收入的比较值（位置：第 3 项 › 第 1 项）" in page.inner_text("#condition-error")
    marked = page.locator(".cb-has-error")
    assert marked.count() == 1
    assert "请填写月收入的比较值" in marked.inner_text()
    assert page.locator(".cb-leaf").count() == 3
    assert leaf(page, 0).locator("input.cb-number").input_value() == "80"
    assert leaf(page, 1).get_by_label("低保", exact=True).is_checked()
    assert PolicyVersion.objects.filter(policy=policy).count() == 1
    shot(page, "policy-version-refused")

    # Filling the number clears the mark and saves version 2.
    marked.locator("input.cb-number").fill("3000")
    assert page.locator(".cb-has-error").count() == 0
    assert page.inner_text("#cb-preview-text") == "年龄 ≥ 80 且 经济状况 属于 低保 且 月收入 < 3000元"
    page.click("#save-version")
    page.wait_for_url(page.base + f"/eligibility/policies/{policy.pk}/")
    assert page.inner_text("#version-2 .version-condition") == "年龄 ≥ 80 且 经济状况 属于 低保 且 月收入 < 3000元"
    first = PolicyVersion.objects.get(policy=policy, number=1)
    assert first.effective_to == PolicyVersion.objects.get(policy=policy, number=2).effective_from - dt.timedelta(1)


def test_the_builder_is_usable_on_a_phone(phone_page: Any, world: dict[str, Any]) -> None:
    page = phone_page
    policy = world["policy"]
    log_in(page, "district", PASSWORD)
    page.goto(page.base + f"/eligibility/policies/{policy.pk}/versions/new/")
    page.fill("#id_amount", "500")
    page.click(".cb-add-leaf")
    leaf(page, 0).locator("select.cb-field").select_option("residence_region")
    leaf(page, 0).locator("select.cb-region").select_option(label="溪口街道")
    page.click(".cb-add-group")
    inner = page.locator(".cb-group .cb-group")
    inner.locator("select.cb-mode").select_option("none")
    inner.locator("select.cb-field").select_option("economic_status")
    inner.locator("select.cb-op").select_option("eq")
    inner.locator("select.cb-choice").select_option("tekun")
    page.click("#cb-tree > .cb-group > .cb-group-foot .cb-add-leaf")
    leaf(page, 2).locator("select.cb-field").select_option("age")
    leaf(page, 2).locator("select.cb-op").select_option("between")
    leaf(page, 2).locator("input.cb-number").nth(0).fill("60")
    leaf(page, 2).locator("input.cb-number").nth(1).fill("79")
    assert page.inner_text("#cb-preview-text") == (
        "居住地 在 溪口街道 且 并非（经济状况 = 特困供养）且 年龄 介于 60–79")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400, "the builder must not scroll sideways"
    shot(page, "phone-policy-version-builder")
    page.click("#save-version")
    page.wait_for_url(page.base + f"/eligibility/policies/{policy.pk}/")
    assert PolicyVersion.objects.get(policy=policy).condition == {"all": [
        {"field": "residence_region", "op": "within", "value": "330199001000"},
        {"not": {"field": "economic_status", "op": "eq", "value": "tekun"}},
        {"field": "age", "op": "between", "value": [60, 79]}]}
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    shot(page, "phone-policy-detail")
