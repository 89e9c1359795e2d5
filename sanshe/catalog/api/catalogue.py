"""API: the district's service list, its versioned price lists and the prices in force on a day,
the service settings and rural communities, and expiry warnings. The same actions and messages as
the pages (sanshe.catalog.actions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.accounts.models import Region, RegionLevel
from sanshe.catalog import access
from sanshe.catalog.actions import items as item_actions
from sanshe.catalog.actions import settings as setting_actions
from sanshe.catalog.models import Price, PriceList, ServiceItem, ServiceSettings
from sanshe.catalog.queries import expiring, price_on
from sanshe.core.errors import UserError

router = Router(tags=["服务目录与服务机构"])


class ItemIn(Schema):
    code: str = Field(description="编码：英文字母、数字、下划线和短横线，区内唯一，创建后不能修改")
    name: str
    category: str = Field(description="类别：meal 助餐、bath 助浴、cleaning 助洁、mobility 助行、medical 助医、"
                                      "emergency 助急、shopping 助购、companionship 精神慰藉、rehabilitation 康复护理、"
                                      "day_care 日间照料、respite 喘息服务、repair 家电维修")
    unit: str = Field(description="计量单位：visit 次、hour 小时、meal 餐")
    standard_minutes: int = Field(description="标准时长（分钟，1–600）")
    required_qualification: str = Field("", description="所需资质（留空为不限）：caregiver_certificate、nurse_licence 等")
    tasks: list[str] = Field([], description="上门服务清单，按顺序")
    description: str = ""
    district_code: str = Field("", description="区县区划代码；只维护一个区县时可不填")


class ItemPatch(Schema):
    name: str | None = None
    category: str | None = None
    unit: str | None = None
    standard_minutes: int | None = None
    required_qualification: str | None = None
    tasks: list[str] | None = None
    description: str | None = None


class ActiveIn(Schema):
    is_active: bool


class PriceOut(Schema):
    item_id: int
    item_code: str
    item_name: str
    standard_price: Decimal
    low_cost_copay: Decimal
    paid_price: Decimal
    price_list_id: int
    effective_from: dt.date


class ItemOut(Schema):
    id: int
    district_code: str
    code: str
    name: str
    category: str
    category_label: str
    unit: str
    unit_label: str
    standard_minutes: int
    required_qualification: str
    tasks: list[str]
    description: str
    is_active: bool
    price_today: PriceOut | None = Field(description="今天适用的价格")


class ItemDetailOut(ItemOut):
    price_history: list[PriceOut] = Field(description="各版本价格，新的在前")


class PriceIn(Schema):
    item_id: int
    standard_price: Decimal | None = Field(None, description="标准价（元，≥0，最多两位小数）")
    low_cost_copay: Decimal | None = Field(None, description="低偿自付（元，不高于标准价）")
    paid_price: Decimal | None = Field(None, description="有偿价格（元）")


class PriceListIn(Schema):
    name: str
    legal_basis: str = ""
    effective_from: dt.date = Field(description="生效日期：须晚于今天（本区第一个价格表除外），同一天只能有一个价格表")
    prices: list[PriceIn] = Field([], description="与生效日适用价格不同的项目；其余项目沿用生效日适用的价格。三项均为空则不列入本表")
    district_code: str = ""


class PriceListPatch(Schema):
    name: str | None = None
    legal_basis: str | None = None
    prices: list[PriceIn] = Field([], description="要修改的项目；三项均为空则从本表删除该项目")


class PriceListOut(Schema):
    id: int
    district_code: str
    name: str
    legal_basis: str
    effective_from: dt.date
    editable: bool = Field(description="生效日期未到，可以修改")
    created_by: str
    prices: list[PriceOut]


class SettingsOut(Schema):
    district_code: str
    town_circle_minutes: int
    country_circle_minutes: int
    geofence_metres: int
    detour_factor: Decimal
    walk_kmh: Decimal
    bicycle_kmh: Decimal
    ebike_kmh: Decimal
    car_kmh: Decimal
    late_after_minutes: int
    short_visit_percent: int
    expiry_warning_days: int
    rural_communities: list[str] = Field(description="农村社区（村）的区划代码")


class SettingsPatch(Schema):
    town_circle_minutes: int | None = None
    country_circle_minutes: int | None = None
    geofence_metres: int | None = None
    detour_factor: Decimal | None = None
    walk_kmh: Decimal | None = None
    bicycle_kmh: Decimal | None = None
    ebike_kmh: Decimal | None = None
    car_kmh: Decimal | None = None
    late_after_minutes: int | None = None
    short_visit_percent: int | None = None
    expiry_warning_days: int | None = None
    rural_communities: list[str] | None = Field(None, description="给出时，恰好这些社区为农村，其余为城镇")


class ExpiryOut(Schema):
    kind: str = Field(description="licence 机构证照、contract 合同、qualification 护理员资质、insurance 护理员保险")
    kind_label: str
    provider_id: int
    provider_name: str
    subject: str
    object_id: int = Field(description="证照、合同或护理员的编号")
    expires_on: dt.date
    days_left: int = Field(description="剩余天数；负数为已过期")
    expired: bool


def price_out(price: Price) -> dict[str, Any]:
    return {"item_id": price.item_id, "item_code": price.item.code, "item_name": price.item.name,
            "standard_price": price.standard_price, "low_cost_copay": price.low_cost_copay,
            "paid_price": price.paid_price, "price_list_id": price.price_list_id,
            "effective_from": price.price_list.effective_from}


def item_out(item: ServiceItem, *, detail: bool = False) -> dict[str, Any]:
    today = price_on(item, timezone.localdate())
    data: dict[str, Any] = {
        "id": item.pk, "district_code": item.district.code, "code": item.code, "name": item.name,
        "category": item.category, "category_label": item.get_category_display(), "unit": item.unit,
        "unit_label": item.get_unit_display(), "standard_minutes": item.standard_minutes,
        "required_qualification": item.required_qualification, "tasks": list(item.tasks),
        "description": item.description, "is_active": item.is_active,
        "price_today": price_out(today) if today else None,
    }
    if detail:
        data["price_history"] = [price_out(p) for p in item_actions.price_history(item)]
    return data


def price_list_out(price_list: PriceList) -> dict[str, Any]:
    prices = price_list.prices.select_related("item", "price_list").order_by("item__category", "item__code")
    return {"id": price_list.pk, "district_code": price_list.district.code, "name": price_list.name,
            "legal_basis": price_list.legal_basis, "effective_from": price_list.effective_from,
            "editable": item_actions.is_editable(price_list), "created_by": price_list.created_by.display_name,
            "prices": [price_out(p) for p in prices]}


def _prices(rows: list[PriceIn]) -> dict[Any, dict[str, Any]]:
    return {row.item_id: row.dict() for row in rows}


# --- items ---------------------------------------------------------------------------------------------


@router.get("/catalog/items", response=list[ItemOut], summary="服务项目（服务清单）")
def list_items(request: HttpRequest, district_code: str = "", active: bool | None = None) -> list[dict[str, Any]]:
    district = access.pick_district(access.readable_districts(request.user), district_code)
    qs = ServiceItem.objects.filter(district=district).select_related("district")
    if active is not None:
        qs = qs.filter(is_active=active)
    return [item_out(i) for i in qs]


@router.post("/catalog/items", response={201: ItemDetailOut}, summary="新建服务项目（区民政）")
def create_item(request: HttpRequest, payload: ItemIn) -> Status:
    district = access.pick_district(access.managed_districts(request.user), payload.district_code)
    item = item_actions.create_item(district, code=payload.code, values=payload.dict(), acting_user=request.user,
                                    request=request)
    return Status(201, item_out(item, detail=True))


@router.get("/catalog/items/{int:item_id}", response=ItemDetailOut, summary="服务项目及价格历史")
def get_item(request: HttpRequest, item_id: int) -> dict[str, Any]:
    return item_out(access.access_item(request.user, item_id), detail=True)


@router.patch("/catalog/items/{int:item_id}", response=ItemDetailOut, summary="修改服务项目（区民政）")
def update_item(request: HttpRequest, item_id: int, payload: ItemPatch) -> dict[str, Any]:
    item = access.access_item(request.user, item_id, for_write=True)
    values = {**item_actions.item_values(item), **payload.dict(exclude_unset=True)}
    updated = item_actions.update_item(item, values=values, acting_user=request.user, request=request)
    return item_out(updated, detail=True)


@router.post("/catalog/items/{int:item_id}/active", response=ItemDetailOut, summary="停用或启用服务项目（区民政）")
def set_item_active(request: HttpRequest, item_id: int, payload: ActiveIn) -> dict[str, Any]:
    item = access.access_item(request.user, item_id, for_write=True)
    updated = item_actions.set_item_active(item, payload.is_active, acting_user=request.user, request=request)
    return item_out(updated, detail=True)


# --- prices --------------------------------------------------------------------------------------------


@router.get("/catalog/price-lists", response=list[PriceListOut], summary="价格表（各版本）")
def list_price_lists(request: HttpRequest, district_code: str = "") -> list[dict[str, Any]]:
    district = access.pick_district(access.readable_districts(request.user), district_code)
    lists = PriceList.objects.filter(district=district).select_related("district", "created_by")
    return [price_list_out(p) for p in lists]


@router.post("/catalog/price-lists", response={201: PriceListOut},
             summary="新建价格表：以生效日适用的价格为底，按给出的价格修改（区民政）")
def create_price_list(request: HttpRequest, payload: PriceListIn) -> Status:
    district = access.pick_district(access.managed_districts(request.user), payload.district_code)
    created = item_actions.create_price_list(
        district, name=payload.name, legal_basis=payload.legal_basis, effective_from=payload.effective_from,
        prices=_prices(payload.prices), acting_user=request.user, request=request)
    return Status(201, price_list_out(created))


@router.get("/catalog/price-lists/{int:price_list_id}", response=PriceListOut, summary="价格表详情")
def get_price_list(request: HttpRequest, price_list_id: int) -> dict[str, Any]:
    return price_list_out(access.access_price_list(request.user, price_list_id))


@router.patch("/catalog/price-lists/{int:price_list_id}", response=PriceListOut,
              summary="修改尚未生效的价格表（已生效的不能修改）（区民政）")
def update_price_list(request: HttpRequest, price_list_id: int, payload: PriceListPatch) -> dict[str, Any]:
    found = access.access_price_list(request.user, price_list_id, for_write=True)
    updated = item_actions.update_price_list(found, prices=_prices(payload.prices), name=payload.name,
                                             legal_basis=payload.legal_basis, acting_user=request.user,
                                             request=request)
    return price_list_out(updated)


@router.get("/catalog/prices", response=list[PriceOut], summary="某日适用的价格（默认今天）")
def prices_on(request: HttpRequest, on: dt.date | None = None, district_code: str = "") -> list[dict[str, Any]]:
    district = access.pick_district(access.readable_districts(request.user), district_code)
    day = on or timezone.localdate()
    rows = []
    for item in ServiceItem.objects.filter(district=district, is_active=True):
        price = price_on(item, day)
        if price is not None:
            rows.append(price_out(price))
    return rows


# --- settings and warnings ------------------------------------------------------------------------------


def settings_out(district: Region) -> dict[str, Any]:
    found = ServiceSettings.for_district(district)
    rural = Region.objects.filter(code__startswith=district.prefix, level=RegionLevel.COMMUNITY, is_rural=True)
    return {"district_code": district.code, **setting_actions.settings_values(found),
            "rural_communities": sorted(rural.values_list("code", flat=True))}


@router.get("/catalog/settings", response=SettingsOut, summary="服务参数和农村社区")
def get_settings(request: HttpRequest, district_code: str = "") -> dict[str, Any]:
    return settings_out(access.pick_district(access.readable_districts(request.user), district_code))


@router.patch("/catalog/settings", response=SettingsOut, summary="修改服务参数和农村社区（区民政）")
def update_settings(request: HttpRequest, payload: SettingsPatch, district_code: str = "") -> dict[str, Any]:
    district = access.pick_district(access.managed_districts(request.user), district_code)
    given = payload.dict(exclude_unset=True)
    rural = given.pop("rural_communities", None)
    with transaction.atomic():  # both or neither
        setting_actions.update_service_settings(district, values={k: v for k, v in given.items() if v is not None},
                                                acting_user=request.user, request=request)
        if rural is not None:
            setting_actions.set_rural_communities(district, rural_codes=rural, acting_user=request.user,
                                                  request=request)
    return settings_out(district)


@router.get("/catalog/expiring", response=list[ExpiryOut],
            summary="到期提醒：证照、合同、护理员资质和保险（将到期或已过期）")
def list_expiring(request: HttpRequest, district_code: str = "", within_days: int | None = None) -> list[Any]:
    if not access.can_read_providers(request.user):
        raise PermissionDenied("您没有查看服务机构的权限")
    district = access.pick_district(access.provider_districts(request.user), district_code)
    if within_days is not None and not 0 <= within_days <= 3650:
        raise UserError("within_days 应在 0–3650 之间", field="within_days")
    rows = expiring(district, timezone.localdate(), within_days,
                    provider_ids=access.warning_providers(request.user, district))
    return [{"kind": r.kind, "kind_label": r.kind_label, "provider_id": r.provider_id,
             "provider_name": r.provider_name, "subject": r.subject, "object_id": r.object_id,
             "expires_on": r.expires_on, "days_left": r.days_left, "expired": r.expired} for r in rows]
