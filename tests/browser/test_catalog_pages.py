"""The catalogue in the browser: the district officer walks every catalogue, price, provider,
contract, caregiver, warning and settings page (screenshots in test-artifacts/), sets a price for
next month in the grid, and the provider manager opens their provider on a phone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanshe.catalog.models import CaregiverQualification, Price, PriceList, ProviderLicence
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas
from tests.service_factories import ServiceWorld, build_service_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def service_world(live_server: Any) -> ServiceWorld:
    d = build_district()
    w = build_service_world(d, build_personas(d))
    today = dt.date.today()
    ProviderLicence.objects.create(provider=d.provider, kind="elder_care", number="青养备2025018",
                                   issued_on=today - dt.timedelta(days=700), expires_on=today + dt.timedelta(days=12))
    CaregiverQualification.objects.filter(caregiver=w.nurse, qualification="nurse_licence").update(
        expires_on=today - dt.timedelta(days=1))
    return w


def test_the_officer_walks_the_catalogue_and_prices_next_month(page: Any, service_world: ServiceWorld) -> None:
    w = service_world
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, "district", PASSWORD)
    page.click("nav >> text=服务目录")
    assert page.locator("#item-table tbody tr").count() == 4
    shot(page, "catalog-items")
    page.click("text=家庭病床护理")
    shot(page, "catalog-item-detail")
    page.goto(page.base + "/catalog/items/new/")
    shot(page, "catalog-item-form")

    page.goto(page.base + "/catalog/prices/new/")
    page.fill("#id_name", "下月起居家养老服务价格")
    page.fill(f"input[name='price-{w.meal.pk}-standard_price']", "16.50")
    shot(page, "catalog-price-form")
    page.click("#save-prices")
    page.wait_for_selector("text=已新建价格表")
    new = PriceList.objects.exclude(pk=w.price_list.pk).get()
    assert Price.objects.get(price_list=new, item=w.meal).standard_price == 16.5
    page.fill(f"input[name='price-{w.meal.pk}-low_cost_copay']", "99")
    page.click("#save-prices")
    page.wait_for_selector("#price-grid tr.has-error")
    assert "“助餐送餐”的低偿自付（99.00 元）不能高于标准价（16.50 元）" in page.inner_text("#price-grid")
    shot(page, "catalog-price-form-error")
    page.click("text=返回价格表")
    shot(page, "catalog-prices")

    for name, url in [
        ("providers", "/catalog/providers/"), ("provider", f"/catalog/providers/{w.d.provider.pk}/"),
        ("contracts", "/catalog/contracts/"), ("contract", f"/catalog/contracts/{w.contract.pk}/"),
        ("contract-form", "/catalog/contracts/new/"), ("caregiver", f"/catalog/caregivers/{w.nurse.pk}/"),
        ("caregiver-form", f"/catalog/providers/{w.d.provider.pk}/caregivers/new/"),
        ("facility-form", f"/catalog/providers/{w.d.provider.pk}/facilities/new/"),
        ("expiring", "/catalog/expiring/"), ("settings", "/catalog/settings/"),
    ]:
        response = page.goto(page.base + url)
        assert response is not None
        assert response.status == 200, url
        shot(page, f"catalog-{name}")
    page.goto(page.base + "/catalog/expiring/")
    assert page.locator("#expiry-table tbody tr").count() == 2
    assert errors == []


def test_the_provider_manager_sees_their_provider_on_a_phone(phone_page: Any, service_world: ServiceWorld) -> None:
    page = phone_page
    log_in(page, "providerboss", PASSWORD)
    page.goto(page.base + "/catalog/providers/")
    page.wait_for_selector("#expiry-badge")
    assert "到期提醒 2" in page.inner_text("#expiry-badge")
    assert page.locator("text=新建合同").count() == 0
    shot(page, "catalog-provider-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
