"""The catalogue's pages: every page renders for the people who use it, the forms save through the
actions and show their Chinese messages in place, and a refused form changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    ContractStatus,
    Facility,
    Price,
    PriceList,
    ProviderLicence,
    ServiceItem,
    ServiceSettings,
)
from sanshe.core.models import AuditAction, AuditEvent
from tests.factories import client_for
from tests.service_factories import ServiceWorld

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


def text(response: Any) -> str:
    return response.content.decode()


def test_every_page_renders_for_the_district_officer(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    licence = ProviderLicence.objects.create(provider=world.d.provider, kind="elder_care", number="L-1",
                                             expires_on=dt.date(2026, 6, 20))
    q = CaregiverQualification.objects.filter(caregiver=world.nurse).first()
    assert q is not None
    urls = [
        "/catalog/items/", "/catalog/items/?status=all&category=meal", "/catalog/items/new/",
        f"/catalog/items/{world.meal.pk}/", f"/catalog/items/{world.meal.pk}/edit/", "/catalog/prices/",
        "/catalog/prices/?on=2026-01-01", "/catalog/prices/?on=bad", "/catalog/prices/new/",
        f"/catalog/prices/{world.price_list.pk}/", "/catalog/providers/", f"/catalog/providers/{world.d.provider.pk}/",
        f"/catalog/providers/{world.d.provider.pk}/licences/new/", f"/catalog/licences/{licence.pk}/edit/",
        f"/catalog/providers/{world.d.provider.pk}/facilities/new/", f"/catalog/facilities/{world.station.pk}/edit/",
        f"/catalog/providers/{world.d.provider.pk}/caregivers/new/", f"/catalog/caregivers/{world.nurse.pk}/",
        f"/catalog/caregivers/{world.nurse.pk}/edit/", f"/catalog/caregivers/{world.nurse.pk}/qualifications/new/",
        f"/catalog/qualifications/{q.pk}/edit/", "/catalog/contracts/", "/catalog/contracts/new/",
        f"/catalog/contracts/{world.contract.pk}/", "/catalog/expiring/", "/catalog/settings/",
    ]
    for url in urls:
        response = c.get(url)
        assert response.status_code == 200, (url, response.status_code)
    page = text(c.get(f"/catalog/providers/{world.d.provider.pk}/"))
    assert "到期提醒 1" in page
    assert "养老服务机构备案（L-1）" in page


def test_the_officer_adds_an_item_and_a_duplicate_code_is_shown_on_the_form(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    form = {"code": "repair01", "name": "家电维修", "category": "repair", "unit": "visit", "standard_minutes": "90",
            "tasks": "检查电器\n维修或更换配件\n\n试用", "required_qualification": "electrician_certificate"}
    response = c.post("/catalog/items/new/", form)
    item = ServiceItem.objects.get(code="REPAIR01")
    assert response.status_code == 302
    assert item.tasks == ["检查电器", "维修或更换配件", "试用"]
    again = c.post("/catalog/items/new/", {**form, "standard_minutes": "0"})
    assert again.status_code == 200
    assert "本区已有编码为“REPAIR01”的服务项目" in text(again)
    assert "标准时长应在 1–600 分钟 之间" in text(again)
    assert ServiceItem.objects.filter(code="REPAIR01").count() == 1
    c.post(f"/catalog/items/{item.pk}/active/", {"active": "0"})
    item.refresh_from_db()
    assert not item.is_active


def test_a_new_price_list_from_july_leaves_junes_price_alone(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    page = text(c.get("/catalog/prices/new/"))
    assert f'name="price-{world.meal.pk}-standard_price" value="15.00"' in page  # prefilled from the list in force
    grid = {f"price-{i.pk}-{f}": str(getattr(p, f)) for i in (world.meal, world.cleaning, world.bath, world.nursing)
            for p in [Price.objects.get(item=i)] for f in ("standard_price", "low_cost_copay", "paid_price")}
    grid[f"price-{world.meal.pk}-standard_price"] = "18.00"
    response = c.post("/catalog/prices/new/", {"name": "2026年7月起价格", "effective_from": "2026-07-01", **grid})
    assert response.status_code == 302
    june = text(c.get("/catalog/prices/?on=2026-06-30"))
    july = text(c.get("/catalog/prices/?on=2026-07-01"))
    assert "<td class=\"num\">15.00</td>" in june
    assert "<td class=\"num\">18.00</td>" in july

    new = PriceList.objects.get(effective_from=dt.date(2026, 7, 1))
    grid[f"price-{world.meal.pk}-low_cost_copay"] = "19.00"
    refused = c.post(f"/catalog/prices/{new.pk}/", {"name": new.name, **grid})
    assert "“助餐送餐”的低偿自付（19.00 元）不能高于标准价（18.00 元）" in text(refused)
    assert Price.objects.get(price_list=new, item=world.meal).low_cost_copay == Decimal("3.00")

    old = c.post(f"/catalog/prices/{world.price_list.pk}/", {"name": "x", **grid})
    assert old.status_code == 302
    assert Price.objects.get(price_list=world.price_list, item=world.meal).standard_price == Decimal("15.00")
    page = text(c.get(f"/catalog/prices/{world.price_list.pk}/"))
    assert "已于 2026-01-01 生效，不能再修改" in page
    assert 'name="price-' not in page


def test_two_price_lists_on_one_date_are_refused(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    c.post("/catalog/prices/new/", {"name": "A", "effective_from": "2026-08-01"})
    response = c.post("/catalog/prices/new/", {"name": "B", "effective_from": "2026-08-01"})
    assert "2026-08-01 已有生效的价格表，同一天只能有一个价格表" in text(response)
    past = c.post("/catalog/prices/new/", {"name": "C", "effective_from": "2026-06-15"})
    assert "生效日期须晚于今天（2026-06-15）" in text(past)
    assert PriceList.objects.count() == 2


def test_the_officer_drafts_activates_and_terminates_a_contract_on_the_pages(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    form = {"provider_id": str(world.other_provider.pk), "number": "QX-2026-020", "title": "桂花街道助洁服务",
            "fund_id": str(world.fund.pk), "starts_on": "2026-07-01", "ends_on": "2026-06-30",
            "service_area": [world.d.street_b.code], f"item-{world.cleaning.pk}": "on",
            f"item-{world.cleaning.pk}-price": "38.5"}
    refused = c.post("/catalog/contracts/new/", form)
    assert "结束日期不能早于开始日期" in text(refused)
    assert Contract.objects.count() == 1
    form["ends_on"] = "2026-12-31"
    response = c.post("/catalog/contracts/new/", form)
    contract = Contract.objects.get(number="QX-2026-020")
    assert response.status_code == 302
    assert contract.items.get().price == Decimal("38.50")
    c.post(f"/catalog/contracts/{contract.pk}/status/", {"status": "active"})
    c.post(f"/catalog/contracts/{contract.pk}/status/", {"status": "terminated", "reason": ""})
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    c.post(f"/catalog/contracts/{contract.pk}/status/", {"status": "terminated", "reason": "机构申请退出"})
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED
    assert "机构申请退出" in text(c.get(f"/catalog/contracts/{contract.pk}/"))


def test_the_provider_manager_adds_a_station_and_a_caregiver_with_a_qualification(world: ServiceWorld) -> None:
    c = client_for(world.manager)
    assert c.get("/catalog/providers/").status_code == 302  # straight to their own provider
    response = c.post(f"/catalog/providers/{world.d.provider.pk}/facilities/new/", {
        "kind": "service_station", "name": "柳岸服务站", "region": world.d.community_a2.code, "address": "柳岸路2号",
        "latitude": "30.26", "longitude": "200"})
    assert "经度应在 73–136°（中国境内） 之间" in text(response)
    assert not Facility.objects.filter(name="柳岸服务站").exists()
    response = c.post(f"/catalog/providers/{world.d.provider.pk}/caregivers/new/", {
        "name": "冯护理", "phone": "13912345678", "station_id": str(world.station.pk), "home_latitude": "30.25",
        "home_longitude": "120.15", "travel_mode": "walk", "work_days": ["1", "2", "6"], "shift_start": "09:00",
        "shift_end": "18:00", "break_minutes": "60"})
    caregiver = Caregiver.objects.get(name="冯护理")
    assert response.status_code == 302
    assert caregiver.work_days == [1, 2, 6]
    c.post(f"/catalog/caregivers/{caregiver.pk}/qualifications/new/", {
        "qualification": "health_certificate", "certificate_no": "JK-9", "expires_on": "2026-07-01"})
    assert caregiver.qualifications.get().certificate_no == "JK-9"
    page = text(c.get(f"/catalog/caregivers/{caregiver.pk}/"))
    assert "16 天后到期" in page
    assert AuditEvent.objects.filter(action=AuditAction.MANAGE_CATALOG, actor=world.manager).count() == 2


def test_the_settings_page_saves_ranges_and_rural_communities_together(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    values = {"town_circle_minutes": "15", "country_circle_minutes": "30", "geofence_metres": "300",
              "detour_factor": "1.3", "walk_kmh": "4.5", "bicycle_kmh": "12", "ebike_kmh": "18", "car_kmh": "25",
              "late_after_minutes": "30", "short_visit_percent": "50", "expiry_warning_days": "45"}
    refused = c.post("/catalog/settings/", {**values, "car_kmh": "300", "rural": [world.d.community_b1.code]})
    assert "汽车速度应在 10.0–80.0 公里/小时 之间" in text(refused)
    world.d.community_b1.refresh_from_db()
    assert not world.d.community_b1.is_rural
    assert ServiceSettings.for_district(world.d.district).geofence_metres == 200
    response = c.post("/catalog/settings/", {**values, "rural": [world.d.community_b1.code]})
    assert response.status_code == 302
    world.d.community_b1.refresh_from_db()
    assert world.d.community_b1.is_rural
    found = ServiceSettings.for_district(world.d.district)
    assert (found.geofence_metres, found.expiry_warning_days) == (300, 45)


def test_the_edit_forms_save_licences_facilities_caregivers_qualifications_and_drafts(world: ServiceWorld) -> None:
    c = client_for(world.p.district_officer)
    provider = world.d.provider.pk
    response = c.post(f"/catalog/providers/{provider}/licences/new/", {
        "kind": "food", "number": "JY-1", "issued_on": "2026-01-01", "expires_on": "2025-12-31"})
    assert "有效期至不能早于发证日期" in text(response)
    c.post(f"/catalog/providers/{provider}/licences/new/", {"kind": "food", "number": "JY-1"})
    licence = ProviderLicence.objects.get(number="JY-1")
    c.post(f"/catalog/licences/{licence.pk}/edit/", {"kind": "food", "number": "JY-2", "expires_on": "2030-01-01"})
    licence.refresh_from_db()
    assert (licence.number, licence.expires_on) == ("JY-2", dt.date(2030, 1, 1))
    c.post(f"/catalog/licences/{licence.pk}/delete/")
    assert not ProviderLicence.objects.exists()

    c.post(f"/catalog/facilities/{world.station.pk}/edit/", {
        "kind": "day_care_centre", "name": "杏林日间照料中心", "region": world.d.community_a1.code,
        "address": "幸福路1号", "latitude": "30.25", "longitude": "120.15"})
    world.station.refresh_from_db()
    assert (world.station.kind, world.station.name) == ("day_care_centre", "杏林日间照料中心")

    values = {"name": "刘护理", "phone": "13800000000", "station_id": "", "home_latitude": "30.25",
              "home_longitude": "120.15", "travel_mode": "car", "work_days": ["1"], "shift_start": "08:00",
              "shift_end": "12:00", "break_minutes": "0", "username": "near"}
    response = c.post(f"/catalog/caregivers/{world.near.pk}/edit/", values)
    assert response.status_code == 302
    world.near.refresh_from_db()
    assert (world.near.travel_mode, world.near.station_id, world.near.user_id) == ("car", None, world.near.user_id)

    q = CaregiverQualification.objects.get(caregiver=world.certified)
    c.post(f"/catalog/qualifications/{q.pk}/edit/", {"certificate_no": "YL-2026", "expires_on": "2029-05-01"})
    q.refresh_from_db()
    assert (q.certificate_no, q.expires_on) == ("YL-2026", dt.date(2029, 5, 1))
    c.post(f"/catalog/qualifications/{q.pk}/delete/")
    assert not CaregiverQualification.objects.filter(caregiver=world.certified).exists()

    draft = {"provider_id": str(world.other_provider.pk), "number": "QX-2026-030", "title": "助浴",
             "fund_id": str(world.fund.pk), "starts_on": "2026-07-01", "ends_on": "2026-12-31",
             "service_area": [world.d.community_b1.code], f"item-{world.bath.pk}": "on",
             f"item-{world.bath.pk}-price": "75", f"item-{world.bath.pk}-cap": "200"}
    c.post("/catalog/contracts/new/", draft)
    contract = Contract.objects.get(number="QX-2026-030")
    assert "75.00" in text(c.get(f"/catalog/contracts/{contract.pk}/edit/"))
    c.post(f"/catalog/contracts/{contract.pk}/edit/", {**draft, "title": "金桂社区助浴", f"item-{world.bath.pk}-price": "70"})
    contract.refresh_from_db()
    line = contract.items.get()
    assert (contract.title, line.price, line.quantity_cap) == ("金桂社区助浴", Decimal("70.00"), 200)
    assert [r.code for r in contract.service_area.all()] == [world.d.community_b1.code]
    assert c.get(f"/catalog/contracts/{world.contract.pk}/edit/").status_code == 302  # in force: not editable
