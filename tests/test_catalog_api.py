"""The catalogue API round-trips: items, price lists and the prices in force, providers, licences,
contracts through their statuses, facilities, caregivers and qualifications, settings and expiry
warnings — with the same Chinese messages as the pages, and nothing written when refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from sanshe.accounts.models import Role
from sanshe.catalog.models import (
    Caregiver,
    Contract,
    ContractStatus,
    Facility,
    PriceList,
    ProviderLicence,
    ServiceItem,
    ServiceSettings,
)
from sanshe.core.models import AuditAction, AuditEvent
from tests.factories import PASSWORD, make_user
from tests.service_factories import ServiceWorld

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


def api_client(user: Any) -> Client:
    response = Client().post("/api/v1/auth/token", json.dumps({"username": user.username, "password": PASSWORD}),
                             content_type="application/json")
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def send(c: Client, method: str, url: str, data: Any = None) -> Any:
    if method in ("get", "delete"):
        return getattr(c, method)(url)
    return getattr(c, method)(url, json.dumps(data or {}), content_type="application/json")


def test_an_item_round_trips_and_a_duplicate_code_is_refused(world: ServiceWorld) -> None:
    c = api_client(world.p.district_officer)
    body = {"code": "walk01", "name": "陪同散步", "category": "companionship", "unit": "hour", "standard_minutes": 60,
            "tasks": ["陪同外出", "聊天"]}
    created = send(c, "post", "/api/v1/catalog/items", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["code"] == "WALK01"
    assert data["category_label"] == "精神慰藉"
    assert data["price_today"] is None
    again = send(c, "post", "/api/v1/catalog/items", body)
    assert again.status_code == 400
    assert again.json()["detail"] == "本区已有编码为“WALK01”的服务项目"
    patched = send(c, "patch", f"/api/v1/catalog/items/{data['id']}", {"standard_minutes": 601})
    assert patched.status_code == 400
    assert patched.json()["detail"] == "标准时长应在 1–600 分钟 之间"
    patched = send(c, "patch", f"/api/v1/catalog/items/{data['id']}", {"standard_minutes": 45})
    assert patched.json()["standard_minutes"] == 45
    stopped = send(c, "post", f"/api/v1/catalog/items/{data['id']}/active", {"is_active": False})
    assert stopped.json()["is_active"] is False
    assert ServiceItem.objects.filter(code="WALK01", is_active=False, standard_minutes=45).count() == 1


def test_a_price_list_is_created_from_the_prices_in_force_and_only_a_future_one_changes(world: ServiceWorld) -> None:
    c = api_client(world.p.district_officer)
    response = send(c, "post", "/api/v1/catalog/price-lists", {
        "name": "2026年下半年价格", "legal_basis": "青民〔2026〕30号", "effective_from": "2026-07-01",
        "prices": [{"item_id": world.meal.pk, "standard_price": "18.00", "low_cost_copay": "3.60", "paid_price": "21.6"}],
    })
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["editable"] is True
    by_code = {p["item_code"]: p for p in new["prices"]}
    assert by_code["MEAL01"]["standard_price"] == "18.00"
    assert by_code["CLEAN01"]["standard_price"] == "40.00"  # copied from the list in force

    june = send(c, "get", "/api/v1/catalog/prices?on=2026-06-30").json()
    july = send(c, "get", "/api/v1/catalog/prices?on=2026-07-01").json()
    assert {p["item_code"]: p["standard_price"] for p in june}["MEAL01"] == "15.00"
    assert {p["item_code"]: p["standard_price"] for p in july}["MEAL01"] == "18.00"

    changed = send(c, "patch", f"/api/v1/catalog/price-lists/{new['id']}", {
        "prices": [{"item_id": world.meal.pk, "standard_price": "17.00", "low_cost_copay": "3.40",
                    "paid_price": "20.40"}]})
    assert changed.status_code == 200
    old = send(c, "patch", f"/api/v1/catalog/price-lists/{world.price_list.pk}", {
        "prices": [{"item_id": world.meal.pk, "standard_price": "1.00", "low_cost_copay": "0", "paid_price": "1"}]})
    assert old.status_code == 400
    assert "已于 2026-01-01 生效，不能再修改" in old.json()["detail"]
    item = send(c, "get", f"/api/v1/catalog/items/{world.meal.pk}").json()
    assert [(h["effective_from"], h["standard_price"]) for h in item["price_history"]] == [
        ("2026-07-01", "17.00"), ("2026-01-01", "15.00")]


def test_price_mistakes_are_named_per_item(world: ServiceWorld) -> None:
    c = api_client(world.p.district_officer)
    response = send(c, "post", "/api/v1/catalog/price-lists", {
        "name": "价格", "effective_from": "2026-08-01",
        "prices": [{"item_id": world.bath.pk, "standard_price": "80", "low_cost_copay": "90", "paid_price": "96"}]})
    assert response.status_code == 400
    assert response.json()["detail"] == "“上门助浴”的低偿自付（90.00 元）不能高于标准价（80.00 元）"
    assert response.json()["field"] == f"prices.{world.bath.pk}.low_cost_copay"
    assert PriceList.objects.count() == 1


def test_a_contract_goes_from_draft_to_active_to_terminated(world: ServiceWorld) -> None:
    c = api_client(world.p.district_officer)
    d = world.d
    body = {"provider_id": world.other_provider.pk, "number": "QX-2026-009", "title": "桂花街道助餐服务",
            "fund_id": world.fund.pk, "starts_on": "2026-07-01", "ends_on": "2026-12-31",
            "service_area": [d.street_b.code], "items": [{"item_id": world.meal.pk, "price": "14.50"}],
            "amount_cap": "200000"}
    created = send(c, "post", "/api/v1/catalog/contracts", body)
    assert created.status_code == 201, created.content
    contract = created.json()
    assert contract["status"] == "draft"
    assert contract["items"][0]["price"] == "14.50"
    active = send(c, "post", f"/api/v1/catalog/contracts/{contract['id']}/status", {"status": "active"})
    assert active.json()["status_label"] == "履行中"
    refused = send(c, "post", f"/api/v1/catalog/contracts/{contract['id']}/status", {"status": "terminated"})
    assert refused.json()["detail"] == "终止合同须填写原因"
    done = send(c, "post", f"/api/v1/catalog/contracts/{contract['id']}/status",
                {"status": "terminated", "reason": "服务质量考核不合格"})
    assert done.json()["terminated_reason"] == "服务质量考核不合格"
    assert AuditEvent.objects.filter(action=AuditAction.MANAGE_CATALOG, detail__change="set_contract_status").count() == 2


def test_the_provider_manager_reads_own_contracts_but_cannot_change_them(world: ServiceWorld) -> None:
    c = api_client(world.manager)
    listed = send(c, "get", "/api/v1/catalog/contracts").json()
    assert [x["number"] for x in listed] == ["QX-2026-001"]
    assert listed[0]["may_manage"] is False
    refused = send(c, "post", f"/api/v1/catalog/contracts/{world.contract.pk}/status",
                   {"status": "terminated", "reason": "x"})
    assert refused.status_code == 403
    world.contract.refresh_from_db()
    assert world.contract.status == ContractStatus.ACTIVE
    providers = send(c, "get", "/api/v1/catalog/providers").json()
    assert [p["name"] for p in providers] == [world.d.provider.name]
    assert providers[0]["may_manage_staff"] is True


def test_facilities_caregivers_and_qualifications_round_trip_for_the_provider_manager(world: ServiceWorld) -> None:
    c = api_client(world.manager)
    provider = world.d.provider.pk
    station = send(c, "post", f"/api/v1/catalog/providers/{provider}/facilities", {
        "kind": "elder_canteen", "name": "柳岸长者饭堂", "region": world.d.community_a2.code, "address": "柳岸路8号",
        "latitude": "30.2600", "longitude": "120.1600", "opening_hours": "11:00-13:00"})
    assert station.status_code == 201, station.content
    outside = send(c, "post", f"/api/v1/catalog/providers/{provider}/facilities", {
        "kind": "elder_canteen", "name": "海外饭堂", "region": world.d.community_a2.code, "address": "某路",
        "latitude": "60.0", "longitude": "120.1600"})
    assert outside.status_code == 400
    assert outside.json()["detail"] == "纬度应在 3–54°（中国境内） 之间"
    assert Facility.objects.filter(name="海外饭堂").count() == 0

    created = send(c, "post", f"/api/v1/catalog/providers/{provider}/caregivers", {
        "name": "郑护理", "phone": "139 0000 1234", "station_id": station.json()["id"], "home_latitude": "30.26",
        "home_longitude": "120.16", "travel_mode": "bicycle", "work_days": [1, 3, 5], "shift_start": "08:00",
        "shift_end": "16:00", "break_minutes": 30, "insurance_policy_no": "PA-1", "insurance_expires_on": "2026-07-01"})
    assert created.status_code == 201, created.content
    caregiver = created.json()
    assert caregiver["phone"] == "13900001234"
    q = send(c, "post", f"/api/v1/catalog/caregivers/{caregiver['id']}/qualifications", {
        "qualification": "caregiver_certificate", "certificate_no": "YL-001", "expires_on": "2026-06-20"})
    assert q.status_code == 201
    warnings = send(c, "get", "/api/v1/catalog/expiring").json()
    subjects = {(w["kind"], w["object_id"]) for w in warnings}
    assert ("qualification", caregiver["id"]) in subjects
    assert ("insurance", caregiver["id"]) in subjects
    left = send(c, "post", f"/api/v1/catalog/caregivers/{caregiver['id']}/active", {"is_active": False})
    assert left.json()["is_active"] is False


def test_another_providers_manager_gets_404_and_nothing_changes(world: ServiceWorld) -> None:
    other_boss = make_user("otherboss", world.other_provider, Role.PROVIDER_MANAGER)
    c = api_client(other_boss)
    assert send(c, "get", f"/api/v1/catalog/caregivers/{world.near.pk}").status_code == 404
    response = send(c, "post", f"/api/v1/catalog/caregivers/{world.near.pk}/active", {"is_active": False})
    assert response.status_code == 404
    assert send(c, "get", f"/api/v1/catalog/contracts/{world.contract.pk}").status_code == 404
    world.near.refresh_from_db()
    assert world.near.is_active
    assert Caregiver.objects.filter(provider=world.d.provider, is_active=True).count() == 4


def test_licences_round_trip_and_the_settings_are_range_checked(world: ServiceWorld) -> None:
    c = api_client(world.p.district_officer)
    lic = send(c, "post", f"/api/v1/catalog/providers/{world.d.provider.pk}/licences", {
        "kind": "elder_care", "number": "青养备2026001", "issued_on": "2025-01-01", "expires_on": "2026-06-01"})
    assert lic.status_code == 201
    assert send(c, "get", "/api/v1/catalog/expiring").json()[0]["days_left"] == -14
    assert send(c, "delete", f"/api/v1/catalog/licences/{lic.json()['id']}").status_code == 204
    assert ProviderLicence.objects.count() == 0

    bad = send(c, "patch", "/api/v1/catalog/settings", {"geofence_metres": 5})
    assert bad.status_code == 400
    assert bad.json()["detail"] == "签到范围应在 20–2000 米 之间"
    good = send(c, "patch", "/api/v1/catalog/settings", {"detour_factor": "1.45", "rural_communities": [
        world.d.community_b1.code]})
    assert good.status_code == 200, good.content
    assert good.json()["detour_factor"] == "1.45"
    assert good.json()["rural_communities"] == [world.d.community_b1.code]
    assert ServiceSettings.for_district(world.d.district).detour_factor == Decimal("1.45")


def test_a_community_worker_reads_the_catalogue_but_writes_nothing(world: ServiceWorld) -> None:
    c = api_client(world.p.community_worker)
    items = send(c, "get", "/api/v1/catalog/items").json()
    assert len(items) == 4
    refused = send(c, "post", "/api/v1/catalog/items", {"code": "X1", "name": "x", "category": "meal", "unit": "meal",
                                                        "standard_minutes": 10})
    assert refused.status_code == 403
    assert send(c, "get", f"/api/v1/catalog/contracts/{world.contract.pk}").status_code == 404
    assert send(c, "get", "/api/v1/catalog/providers").status_code == 403
    assert ServiceItem.objects.count() == 4
    assert Contract.objects.count() == 1
