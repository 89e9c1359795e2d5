"""The catalogue's actions and their checks, table-driven where the rules are a table: items,
prices, contracts, facilities, caregivers, settings; price history; expiry warnings; and an
expired nurse licence stopping assignment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel
from sanshe.catalog.actions import items, providers, settings, staff
from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    ContractStatus,
    Facility,
    PriceList,
    ProviderLicence,
    Qualification,
    ServiceItem,
)
from sanshe.catalog.queries import expiring, price_on
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.orders.actions import assign_order, create_order
from sanshe.orders.models import OrderSource, OrderStatus
from tests.factories import make_user
from tests.service_factories import ServiceWorld

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 15)
ITEM = {"name": "理发", "category": "companionship", "unit": "visit", "standard_minutes": 30}


def errors_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, list[str]]:
    return exc.value.errors


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"standard_minutes": 0}, "standard_minutes", "标准时长应在 1–600 分钟 之间"),
    ({"standard_minutes": 601}, "standard_minutes", "标准时长应在 1–600 分钟 之间"),
    ({"standard_minutes": "半小时"}, "standard_minutes", "标准时长应为整数"),
    ({"name": ""}, "name", "请填写名称"),
    ({"category": "massage"}, "category", "类别“massage”不在可选范围内"),
    ({"unit": ""}, "unit", "请选择计量单位"),
    ({"required_qualification": "driver"}, "required_qualification", "所需资质“driver”不在可选范围内"),
    ({"tasks": ["x" * 101]}, "tasks", "服务内容每项不能超过 100 个字：“xxxxxxxxxxxxxxxxxxxx…”"),
])
def test_an_item_with_a_bad_value_is_refused(world: ServiceWorld, change: dict[str, Any], field: str,
                                             message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        items.create_item(world.d.district, code="CUT01", values={**ITEM, **change},
                          acting_user=world.p.district_officer)
    assert errors_of(exc)[field] == [message]
    assert not ServiceItem.objects.filter(code="CUT01").exists()


@pytest.mark.parametrize(("code", "message"), [
    ("", "请填写编码"), ("剪发", "编码只能由英文字母、数字、下划线和短横线组成，最多 32 位，如 MEAL01"),
    ("meal01", "本区已有编码为“MEAL01”的服务项目"),
])
def test_an_item_code_must_be_new_and_plain(world: ServiceWorld, code: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        items.create_item(world.d.district, code=code, values=ITEM, acting_user=world.p.district_officer)
    assert errors_of(exc)["code"] == [message]
    assert ServiceItem.objects.count() == 4


def test_an_item_change_is_audited_with_what_changed(world: ServiceWorld) -> None:
    values = {**items.item_values(world.meal), "standard_minutes": 25}
    items.update_item(world.meal, values=values, acting_user=world.p.district_officer)
    event = AuditEvent.objects.get(action=AuditAction.MANAGE_CATALOG, detail__change="update_item")
    assert event.detail["changed"] == {"standard_minutes": [20, 25]}
    items.update_item(world.meal, values=values, acting_user=world.p.district_officer)
    assert AuditEvent.objects.filter(detail__change="update_item").count() == 1  # nothing changed, nothing logged


@pytest.mark.parametrize(("price", "field", "message"), [
    ({"standard_price": "-1", "low_cost_copay": "0", "paid_price": "0"}, "standard_price",
     "“助餐送餐”的标准价应在 0–9999999.99 元 之间"),
    ({"standard_price": "10", "low_cost_copay": "11", "paid_price": "12"}, "low_cost_copay",
     "“助餐送餐”的低偿自付（11.00 元）不能高于标准价（10.00 元）"),
    ({"standard_price": "10.005", "low_cost_copay": "1", "paid_price": "12"}, "standard_price",
     "“助餐送餐”的标准价最多保留 2 位小数"),
    ({"standard_price": "10", "low_cost_copay": "", "paid_price": "12"}, "low_cost_copay",
     "请填写“助餐送餐”的低偿自付"),
    ({"standard_price": "十元", "low_cost_copay": "1", "paid_price": "12"}, "standard_price",
     "“助餐送餐”的标准价“十元”应为数字"),
])
def test_a_bad_price_is_refused_and_no_list_is_written(world: ServiceWorld, price: dict[str, str], field: str,
                                                       message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        items.create_price_list(world.d.district, name="新价格", effective_from=dt.date(2026, 7, 1),
                                prices={world.meal.pk: price}, acting_user=world.p.district_officer, today=TODAY)
    assert errors_of(exc)[f"prices.{world.meal.pk}.{field}"] == [message]
    assert PriceList.objects.count() == 1


def test_a_change_from_july_does_not_alter_junes_price(world: ServiceWorld) -> None:
    july = items.create_price_list(
        world.d.district, name="2026年7月起", effective_from=dt.date(2026, 7, 1), acting_user=world.p.district_officer,
        prices={world.meal.pk: {"standard_price": "18", "low_cost_copay": "3.6", "paid_price": "21.6"}}, today=TODAY)
    assert july.prices.count() == 4  # a copy of the prices in force, with the meal changed
    june = price_on(world.meal, dt.date(2026, 6, 30))
    assert june is not None
    assert (june.price_list_id, june.standard_price) == (world.price_list.pk, Decimal("15.00"))
    after = price_on(world.meal, dt.date(2026, 7, 1))
    assert after is not None
    assert after.standard_price == Decimal("18.00")
    with pytest.raises(UserError, match="已于 2026-01-01 生效，不能再修改"):
        items.update_price_list(world.price_list, prices={world.meal.pk: {
            "standard_price": "1", "low_cost_copay": "0", "paid_price": "1"}}, acting_user=world.p.district_officer,
            today=TODAY)
    # On July 1st the July list is in force and frozen too.
    with pytest.raises(UserError, match="已于 2026-07-01 生效"):
        items.update_price_list(july, prices={}, name="改名", acting_user=world.p.district_officer,
                                today=dt.date(2026, 7, 1))
    assert [p.price_list.effective_from for p in items.price_history(world.meal)] == [
        dt.date(2026, 7, 1), dt.date(2026, 1, 1)]


def test_clearing_a_future_price_removes_the_item_from_that_version_only(world: ServiceWorld) -> None:
    july = items.create_price_list(world.d.district, name="7月", effective_from=dt.date(2026, 7, 1),
                                   acting_user=world.p.district_officer, today=TODAY)
    items.update_price_list(july, prices={world.bath.pk: {"standard_price": "", "low_cost_copay": "",
                                                          "paid_price": ""}},
                            acting_user=world.p.district_officer, today=TODAY)
    assert not july.prices.filter(item=world.bath).exists()
    assert world.price_list.prices.filter(item=world.bath).exists()


@pytest.mark.parametrize(("starts", "message"), [
    (dt.date(2026, 6, 15), "生效日期须晚于今天（2026-06-15）：已经开始的价格不能更改，请新建以后生效的价格表"),
    (dt.date(2026, 1, 1), "生效日期须晚于今天（2026-06-15）：已经开始的价格不能更改，请新建以后生效的价格表"),
    (None, "请填写生效日期"),
])
def test_a_price_list_starts_in_the_future(world: ServiceWorld, starts: dt.date | None, message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        items.create_price_list(world.d.district, name="x", effective_from=starts,
                                acting_user=world.p.district_officer, today=TODAY)
    assert errors_of(exc)["effective_from"] == [message]


def _contract(world: ServiceWorld, **change: Any) -> dict[str, Any]:
    return {"provider_id": world.other_provider.pk, "number": "QX-2026-100", "title": "助餐", "fund_id": world.fund.pk,
            "starts_on": "2026-07-01", "ends_on": "2026-12-31", "service_area": [world.d.street_b.code],
            "items": [{"item_id": world.meal.pk, "price": "14"}], **change}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"ends_on": "2026-06-30"}, "ends_on", "结束日期不能早于开始日期"),
    ({"service_area": ["110101001000"]}, "service_area", "没有区划代码为 110101001000 的区划"),
    ({"service_area": []}, "service_area", "请选择服务区域（街道或社区）"),
    ({"items": []}, "items", "请至少选择一个服务项目并填写合同单价"),
    ({"items": [{"item_id": 999999, "price": "1"}]}, "items.0", "第 1 项：编号为 999999 的服务项目不属于青溪区的服务清单"),
    ({"items": [{"item_id": "meal", "price": "1"}]}, "items.0", "第 1 项：请选择服务项目"),
    ({"number": "QX-2026-001"}, "number", "本区已有编号为“QX-2026-001”的合同"),
    ({"fund_id": 0}, "fund_id", "请选择青溪区的资金来源"),
])
def test_a_contract_with_a_bad_value_is_refused(world: ServiceWorld, change: dict[str, Any], field: str,
                                                message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        providers.create_contract(world.d.district, values=_contract(world, **change),
                                  acting_user=world.p.district_officer)
    assert errors_of(exc)[field] == [message]
    assert Contract.objects.count() == 1


def test_an_area_or_item_of_another_district_is_refused(world: ServiceWorld) -> None:
    elsewhere = Region.objects.create(code="330200000000", name="邻区", level=RegionLevel.DISTRICT)
    street = Region.objects.create(code="330200001000", name="邻区街道", level=RegionLevel.STREET, parent=elsewhere)
    foreign = ServiceItem.objects.create(district=elsewhere, code="MEAL01", name="邻区助餐", category="meal",
                                         unit="meal", standard_minutes=20)
    with pytest.raises(ValidationFailed) as exc:
        providers.create_contract(world.d.district, values=_contract(
            world, service_area=[street.code], items=[{"item_id": foreign.pk, "price": "10"}]),
            acting_user=world.p.district_officer)
    assert errors_of(exc)["service_area"] == ["“邻区街道”不在青溪区之内，不能作为服务区域"]
    assert errors_of(exc)["items.0"] == [f"第 1 项：编号为 {foreign.pk} 的服务项目不属于青溪区的服务清单"]


def test_overlapping_contracts_for_the_same_provider_item_and_area_are_allowed(world: ServiceWorld) -> None:
    second = providers.create_contract(world.d.district, values=_contract(
        world, provider_id=world.d.provider.pk, service_area=[world.d.street_a.code]),
        acting_user=world.p.district_officer)
    providers.set_contract_status(second, ContractStatus.ACTIVE, acting_user=world.p.district_officer, today=TODAY)
    assert Contract.objects.filter(provider=world.d.provider, status=ContractStatus.ACTIVE).count() == 2


def test_only_a_draft_is_edited_and_statuses_only_move_forward(world: ServiceWorld) -> None:
    with pytest.raises(UserError, match="只有草稿可以修改"):
        providers.update_contract(world.contract, values=_contract(world), acting_user=world.p.district_officer)
    with pytest.raises(UserError, match="不能变为“草稿”"):
        providers.set_contract_status(world.contract, ContractStatus.DRAFT, acting_user=world.p.district_officer)
    draft = providers.create_contract(world.d.district, values=_contract(world), acting_user=world.p.district_officer)
    with pytest.raises(UserError, match="不能变为“已终止”"):
        providers.set_contract_status(draft, ContractStatus.TERMINATED, reason="x", acting_user=world.p.district_officer)
    with pytest.raises(UserError, match="已于 2026-12-31 到期，不能生效"):
        providers.set_contract_status(draft, ContractStatus.ACTIVE, acting_user=world.p.district_officer,
                                      today=dt.date(2027, 1, 5))
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT


@pytest.mark.parametrize(("lat", "lon", "field", "message"), [
    ("2.9", "120", "latitude", "纬度应在 3–54°（中国境内） 之间"),
    ("54.1", "120", "latitude", "纬度应在 3–54°（中国境内） 之间"),
    ("30", "72.9", "longitude", "经度应在 73–136°（中国境内） 之间"),
    ("30", "136.5", "longitude", "经度应在 73–136°（中国境内） 之间"),
    ("30.1234567", "120", "latitude", "纬度最多保留 6 位小数"),
    ("", "120", "latitude", "请填写纬度"),
])
def test_a_facility_outside_china_is_refused(world: ServiceWorld, lat: str, lon: str, field: str,
                                             message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        providers.save_facility(world.d.provider, values={
            "kind": "elder_canteen", "name": "饭堂", "region": world.d.community_a1.code, "address": "路1号",
            "latitude": lat, "longitude": lon}, acting_user=world.manager)
    assert errors_of(exc)[field] == [message]
    assert Facility.objects.count() == 1


def test_a_facility_must_be_in_a_community_of_the_providers_district(world: ServiceWorld) -> None:
    with pytest.raises(ValidationFailed) as exc:
        providers.save_facility(world.d.provider, values={
            "kind": "elder_canteen", "name": "饭堂", "region": world.d.street_a.code, "address": "路1号",
            "latitude": "30.2", "longitude": "120.1"}, acting_user=world.manager)
    assert errors_of(exc)["region"] == [f"区划代码 {world.d.street_a.code} 不是本区的社区（村）"]


CAREGIVER = {"name": "郑护理", "phone": "13912345678", "home_latitude": "30.25", "home_longitude": "120.15",
             "travel_mode": "ebike", "work_days": [1, 2, 3], "shift_start": "08:00", "shift_end": "17:00",
             "break_minutes": 60}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"phone": "123"}, "phone", "电话号码“123”格式不正确（手机号11位，座机请带区号）"),
    ({"work_days": []}, "work_days", "请选择工作日"),
    ({"work_days": [0, 8]}, "work_days", "工作日应为 1–7（1 为周一）"),
    ({"shift_end": "07:00"}, "shift_end", "下班时间应晚于上班时间"),
    ({"break_minutes": 600}, "break_minutes", "午休应在 0–240 分钟 之间"),
    ({"break_minutes": 240, "shift_start": "08:00", "shift_end": "11:00"}, "break_minutes", "午休不能长于整个班次"),
    ({"travel_mode": "plane"}, "travel_mode", "出行方式“plane”不在可选范围内"),
    ({"insurance_expires_on": "2027-01-01"}, "insurance_policy_no", "填写了保险有效期，请同时填写保单号"),
    ({"username": "nobody"}, "username", "没有用户名为“nobody”的有效账号"),
    ({"username": "near"}, "username", "账号“near”已关联护理员刘护理"),
    ({"username": "district"}, "username", "账号“district”不是青溪颐康居家养老服务中心的护理员，请先在账号管理中为其添加护理员身份"),
])
def test_a_caregiver_with_a_bad_value_is_refused(world: ServiceWorld, change: dict[str, Any], field: str,
                                                 message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        staff.save_caregiver(world.d.provider, values={**CAREGIVER, **change}, acting_user=world.manager)
    assert errors_of(exc)[field] == [message]
    assert Caregiver.objects.count() == 4


def test_a_caregiver_account_links_when_it_belongs_to_the_provider(world: ServiceWorld) -> None:
    caregiver = staff.save_caregiver(world.d.provider, values={**CAREGIVER, "username": "caregiver"},
                                     acting_user=world.manager)
    assert caregiver.user == world.p.caregiver
    with pytest.raises(ValidationFailed) as exc:
        staff.save_qualification(world.nurse, values={"qualification": Qualification.NURSE_LICENCE,
                                                      "certificate_no": "N-2"}, acting_user=world.manager)
    assert errors_of(exc)["qualification"] == ["吴护士已登记“护士执业证书”，请修改原记录"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"town_circle_minutes": 4}, "town_circle_minutes", "城镇服务圈应在 5–60 分钟 之间"),
    ({"country_circle_minutes": 10}, "country_circle_minutes", "农村服务圈不能小于城镇服务圈"),
    ({"detour_factor": "0.9"}, "detour_factor", "绕行系数应在 1.00–3.00 之间"),
    ({"detour_factor": "1.255"}, "detour_factor", "绕行系数最多保留 2 位小数"),
    ({"walk_kmh": "9"}, "walk_kmh", "步行速度应在 2.0–8.0 公里/小时 之间"),
    ({"short_visit_percent": 0}, "short_visit_percent", "时长不足判定应在 10–100% 之间"),
    ({"expiry_warning_days": 0}, "expiry_warning_days", "证照到期提前提醒应在 1–365 天 之间"),
])
def test_settings_out_of_range_are_refused(world: ServiceWorld, change: dict[str, Any], field: str,
                                           message: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        settings.update_service_settings(world.d.district, values=change, acting_user=world.p.district_officer)
    assert errors_of(exc)[field] == [message]


def test_an_unknown_community_is_refused_when_marking_rural(world: ServiceWorld) -> None:
    with pytest.raises(ValidationFailed):
        settings.set_rural_communities(world.d.district, rural_codes=[world.d.community_a1.code, "330199009009"],
                                       acting_user=world.p.district_officer)
    world.d.community_a1.refresh_from_db()
    assert not world.d.community_a1.is_rural


def test_expiring_lists_what_runs_out_within_the_warning_days_or_already_has(world: ServiceWorld) -> None:
    settings.update_service_settings(world.d.district, values={"expiry_warning_days": 30},
                                     acting_user=world.p.district_officer)
    ProviderLicence.objects.create(provider=world.d.provider, kind="food", number="F-1", expires_on=dt.date(2026, 7, 15))
    ProviderLicence.objects.create(provider=world.d.provider, kind="business", number="B-1",
                                   expires_on=dt.date(2026, 7, 16))  # 31 days: not yet
    CaregiverQualification.objects.filter(caregiver=world.nurse, qualification=Qualification.NURSE_LICENCE).update(
        expires_on=dt.date(2026, 6, 14))
    Caregiver.objects.filter(pk=world.far.pk).update(insurance_expires_on=dt.date(2026, 6, 20))
    Caregiver.objects.filter(pk=world.near.pk).update(insurance_expires_on=dt.date(2026, 6, 1), is_active=False)
    Contract.objects.filter(pk=world.contract.pk).update(ends_on=dt.date(2026, 6, 30))
    rows = expiring(world.d.district, TODAY)
    assert [(r.kind, r.days_left) for r in rows] == [
        ("qualification", -1), ("insurance", 5), ("contract", 15), ("licence", 30)]
    assert rows[0].expired
    assert [r.kind for r in expiring(world.d.district, TODAY, 5)] == ["qualification", "insurance"]
    assert expiring(world.d.district, TODAY, provider_ids={world.other_provider.pk}) == []


def test_a_nurse_whose_licence_expired_yesterday_is_refused_for_nursing(world: ServiceWorld) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    start = dt.datetime(2026, 6, 15, 9, 0, tzinfo=tz)
    CaregiverQualification.objects.filter(caregiver=world.nurse, qualification=Qualification.NURSE_LICENCE).update(
        expires_on=dt.date(2026, 6, 14))
    order = create_order(person=world.elder, item=world.nursing, window_start=start,
                         window_end=start + dt.timedelta(hours=1), source=OrderSource.COMMUNITY,
                         acting_user=world.p.community_worker)
    with pytest.raises(UserError) as exc:
        assign_order(order, world.nurse, acting_user=world.manager, lines=["持证护士"], by="dispatcher")
    assert exc.value.message == "吴护士的“护士执业证书”已于 2026-06-14 过期，不能提供“家庭病床护理”"
    order.refresh_from_db()
    assert (order.status, order.caregiver_id) == (OrderStatus.REQUESTED, None)
    # Renewed, the same nurse is assigned.
    staff.save_qualification(world.nurse, qualification=CaregiverQualification.objects.get(
        caregiver=world.nurse, qualification=Qualification.NURSE_LICENCE), values={
        "certificate_no": "NURS-2026", "expires_on": "2031-06-14"}, acting_user=world.manager)
    assert assign_order(order, world.nurse, acting_user=world.manager, lines=["持证护士"],
                        by="dispatcher").status == OrderStatus.ASSIGNED


def test_the_first_price_list_of_a_district_may_start_on_any_date(world: ServiceWorld) -> None:
    fresh = Region.objects.create(code="330200000000", name="新区", level=RegionLevel.DISTRICT)
    bureau = Organization.objects.create(name="新区民政局", kind=OrganizationKind.CIVIL_AFFAIRS_BUREAU, region=fresh)
    officer = make_user("freshofficer", bureau, "district_officer")
    item = items.create_item(fresh, code="MEAL01", values=ITEM, acting_user=officer)
    first = items.create_price_list(fresh, name="起始价格", effective_from=dt.date(2026, 1, 1), acting_user=officer,
                                    prices={item.pk: {"standard_price": "12", "low_cost_copay": "2",
                                                      "paid_price": "15"}}, today=TODAY)
    assert first.prices.get().standard_price == Decimal("12.00")
    with pytest.raises(ValidationFailed):
        items.create_price_list(fresh, name="补录", effective_from=dt.date(2026, 3, 1), acting_user=officer,
                                today=TODAY)
    # The other district's officer cannot write here.
    with pytest.raises(PermissionDenied):
        items.create_item(fresh, code="X1", values=ITEM, acting_user=world.p.district_officer)
    assert ServiceItem.objects.filter(district=fresh).count() == 1
