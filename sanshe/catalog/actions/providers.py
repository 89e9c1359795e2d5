"""A provider's licences, its purchase contracts (政府购买服务合同) and its stations and canteens.

Licences and contracts are the bureau's to write; facilities also the provider's own manager's.
A contract is drafted, put in force, and terminated with a reason; only a draft is edited.
Overlapping contracts for one provider, item and area are allowed (a top-up purchase is common)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel
from sanshe.catalog.access import (
    NOT_MANAGER,
    NOT_STAFF_MANAGER,
    can_manage_provider,
    can_manage_staff,
    district_code_of,
    require_manage_catalog,
)
from sanshe.catalog.actions import audit_catalog
from sanshe.catalog.checks import Checker
from sanshe.catalog.models import (
    Contract,
    ContractItem,
    ContractStatus,
    Facility,
    FacilityKind,
    LicenceKind,
    ProviderLicence,
    ServiceItem,
)
from sanshe.core.audit import changed_fields
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.eligibility.models import Fund

# Status changes of a contract: draft → active → terminated (with a reason); nothing goes back.
CONTRACT_TRANSITIONS = {(ContractStatus.DRAFT, ContractStatus.ACTIVE), (ContractStatus.ACTIVE, ContractStatus.TERMINATED)}



def district_of(provider: Organization) -> Region:
    found = Region.objects.filter(code=district_code_of(provider.region)).first()
    if found is None:
        raise UserError(f"{provider.name}不在任何区县之内")
    return found


# --- licences -----------------------------------------------------------------------------------------


def _checked_licence(values: Mapping[str, Any]) -> dict[str, Any]:
    c = Checker(values)
    issued, expires = c.date("issued_on", "发证日期", required=False), c.date("expires_on", "有效期至", required=False)
    if issued and expires and expires < issued:
        c.fail("expires_on", "有效期至不能早于发证日期")
    data = {"kind": c.choice("kind", "证照类型", LicenceKind), "number": c.text("number", "证号", max_length=60),
            "issued_on": issued, "expires_on": expires}
    c.done()
    return data


@transaction.atomic
def save_licence(provider: Organization, *, values: Mapping[str, Any], licence: ProviderLicence | None = None,
                 acting_user: Any, request: HttpRequest | None = None) -> ProviderLicence:
    """Record a provider's licence, or correct one (number, dates)."""
    if not can_manage_provider(acting_user, provider):
        raise PermissionDenied(NOT_MANAGER)
    data = _checked_licence(values)
    if licence is None:
        licence = ProviderLicence.objects.create(provider=provider, **data)
        change = "create_licence"
    else:
        for name, value in data.items():
            setattr(licence, name, value)
        licence.save(update_fields=list(data))
        change = "update_licence"
    audit_catalog(acting_user, request, f"{'登记' if change == 'create_licence' else '修改'}证照：{provider.name}",
           {"change": change, "provider": provider.pk, "licence": licence.pk,
            "values": {k: str(v) if v is not None else None for k, v in data.items()}})
    return licence


@transaction.atomic
def delete_licence(licence: ProviderLicence, *, acting_user: Any, request: HttpRequest | None = None) -> None:
    """Remove a licence entered by mistake or replaced."""
    if not can_manage_provider(acting_user, licence.provider):
        raise PermissionDenied(NOT_MANAGER)
    audit_catalog(acting_user, request, f"删除证照：{licence.provider.name}",
           {"change": "delete_licence", "provider": licence.provider_id, "kind": licence.kind,
            "number": licence.number, "expires_on": str(licence.expires_on) if licence.expires_on else None})
    licence.delete()


# --- contracts ----------------------------------------------------------------------------------------


def _region_codes(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace("，", ",").split(",")
    return [str(x).strip() for x in (raw or []) if str(x).strip()]


def _checked_area(district: Region, raw: Any, c: Checker) -> list[Region]:
    codes = _region_codes(raw)
    if not codes:
        c.fail("service_area", "请选择服务区域（街道或社区）")
        return []
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    area: list[Region] = []
    for code in dict.fromkeys(codes):
        region = found.get(code)
        if region is None:
            c.fail("service_area", f"没有区划代码为 {code} 的区划")
        elif not region.code.startswith(district.prefix) or region.level not in (
                RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY):
            c.fail("service_area", f"“{region.name}”不在{district.name}之内，不能作为服务区域")
        else:
            area.append(region)
    return area


def _checked_items(district: Region, raw: Any, c: Checker) -> list[dict[str, Any]]:
    rows = raw if isinstance(raw, list) else []
    if not rows:
        c.fail("items", "请至少选择一个服务项目并填写合同单价")
        return []
    items = {i.pk: i for i in ServiceItem.objects.filter(district=district)}
    result: list[dict[str, Any]] = []
    seen: set[int] = set()
    for index, row in enumerate(rows):
        field = f"items.{index}"
        try:
            item_id = int(row.get("item_id"))
        except (TypeError, ValueError, AttributeError):
            c.fail(field, f"第 {index + 1} 项：请选择服务项目")
            continue
        item = items.get(item_id)
        if item is None:
            c.fail(field, f"第 {index + 1} 项：编号为 {item_id} 的服务项目不属于{district.name}的服务清单")
            continue
        if not item.is_active:
            c.fail(field, f"服务项目“{item.name}”已停用，不能纳入合同")
            continue
        if item_id in seen:
            c.fail(field, f"服务项目“{item.name}”重复")
            continue
        seen.add(item_id)
        sub = Checker(row)
        price = sub.money("price", f"“{item.name}”的合同单价")
        cap = sub.integer("quantity_cap", f"“{item.name}”的数量上限", low=1, high=10_000_000, required=False)
        for messages in sub.errors.values():
            for message in messages:
                c.fail(field, message)
        if not sub.errors:
            result.append({"item": item, "price": price, "quantity_cap": cap})
    return result


def _checked_contract(district: Region, values: Mapping[str, Any], *, own: Contract | None) -> dict[str, Any]:
    c = Checker(values)
    data: dict[str, Any] = {"number": c.text("number", "合同编号", max_length=60),
                            "title": c.text("title", "项目名称", max_length=200)}
    provider = Organization.objects.filter(pk=_int(values.get("provider_id"))).select_related("region").first()
    if provider is None or provider.kind != OrganizationKind.PROVIDER or not provider.region.code.startswith(
            district.prefix):
        c.fail("provider_id", f"请选择{district.name}的服务机构")
    elif not provider.is_active:
        c.fail("provider_id", f"{provider.name}已停用，不能签订合同")
    fund = Fund.objects.filter(pk=_int(values.get("fund_id")), district=district).first()
    if fund is None:
        c.fail("fund_id", f"请选择{district.name}的资金来源")
    data.update(provider=provider, fund=fund, starts_on=c.date("starts_on", "开始日期"),
                ends_on=c.date("ends_on", "结束日期"), amount_cap=c.money("amount_cap", "合同金额上限", required=False))
    if data["starts_on"] and data["ends_on"] and data["ends_on"] < data["starts_on"]:
        c.fail("ends_on", "结束日期不能早于开始日期")
    if data["number"]:
        same = Contract.objects.filter(district=district, number=data["number"])
        if own is not None:
            same = same.exclude(pk=own.pk)
        if same.exists():
            c.fail("number", f"本区已有编号为“{data['number']}”的合同")
    area = _checked_area(district, values.get("service_area"), c)
    items = _checked_items(district, values.get("items"), c)
    c.done()
    return {"fields": data, "area": area, "items": items}


def _int(raw: Any) -> int:
    """An id as submitted; 0 (never a row) when it is not a number."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


def contract_snapshot(contract: Contract) -> dict[str, Any]:
    return {"number": contract.number, "title": contract.title, "provider": contract.provider_id,
            "fund": contract.fund_id, "starts_on": str(contract.starts_on), "ends_on": str(contract.ends_on),
            "amount_cap": str(contract.amount_cap) if contract.amount_cap is not None else None,
            "service_area": sorted(r.code for r in contract.service_area.all()),
            "items": {ci.item.code: [str(ci.price), ci.quantity_cap] for ci in contract.items.select_related("item")}}


def _write_lines(contract: Contract, area: Iterable[Region], items: list[dict[str, Any]]) -> None:
    contract.service_area.set(list(area))
    contract.items.all().delete()
    ContractItem.objects.bulk_create([ContractItem(contract=contract, **row) for row in items])


@transaction.atomic
def create_contract(district: Region, *, values: Mapping[str, Any], acting_user: Any,
                    request: HttpRequest | None = None) -> Contract:
    """Draft a purchase contract: provider, fund, period, area, items and their contract prices."""
    require_manage_catalog(acting_user, district)
    checked = _checked_contract(district, values, own=None)
    try:
        with transaction.atomic():
            contract = Contract.objects.create(district=district, created_by=acting_user, **checked["fields"])
    except IntegrityError:
        raise ValidationFailed({"number": [f"本区已有编号为“{checked['fields']['number']}”的合同"]}) from None
    _write_lines(contract, checked["area"], checked["items"])
    audit_catalog(acting_user, request, f"新建合同：{contract.title}（{contract.number}）",
           {"change": "create_contract", "contract": contract.pk, "values": contract_snapshot(contract)})
    return contract


@transaction.atomic
def update_contract(contract: Contract, *, values: Mapping[str, Any], acting_user: Any,
                    request: HttpRequest | None = None) -> Contract:
    """Change a draft contract; a contract in force is only terminated, never rewritten."""
    require_manage_catalog(acting_user, contract.district)
    locked = Contract.objects.select_for_update(of=("self",)).select_related("district").get(pk=contract.pk)
    if locked.status != ContractStatus.DRAFT:
        raise UserError(f"合同已{locked.get_status_display()}，不能修改；只有草稿可以修改", field="status")
    checked = _checked_contract(locked.district, values, own=locked)
    before = contract_snapshot(locked)
    for name, value in checked["fields"].items():
        setattr(locked, name, value)
    locked.save(update_fields=list(checked["fields"]))
    _write_lines(locked, checked["area"], checked["items"])
    after = contract_snapshot(locked)
    changed = changed_fields(before, after)
    if changed:
        audit_catalog(acting_user, request, f"修改合同：{locked.title}（{locked.number}）",
               {"change": "update_contract", "contract": locked.pk, "changed": changed})
    return locked


@transaction.atomic
def set_contract_status(contract: Contract, status: str, *, reason: str = "", acting_user: Any,
                        request: HttpRequest | None = None, today: dt.date | None = None) -> Contract:
    """Put a draft in force (it needs items and an area, and must not have ended) or terminate a
    contract in force with a reason."""
    require_manage_catalog(acting_user, contract.district)
    locked = Contract.objects.select_for_update(of=("self",)).select_related("district", "provider").get(pk=contract.pk)
    today = today or timezone.localdate()
    reason = (reason or "").strip()
    if status not in ContractStatus.values:
        raise UserError("合同状态应为 active（生效）或 terminated（终止）", field="status")
    if status == locked.status:
        raise UserError(f"合同已是“{locked.get_status_display()}”状态", field="status")
    if (locked.status, status) not in CONTRACT_TRANSITIONS:
        raise UserError(f"合同“{locked.get_status_display()}”不能变为“{ContractStatus(status).label}”", field="status")
    if status == ContractStatus.ACTIVE:
        if not locked.items.exists() or not locked.service_area.exists():
            raise UserError("合同须有服务项目和服务区域才能生效", field="status")
        if locked.ends_on < today:
            raise UserError(f"合同已于 {locked.ends_on} 到期，不能生效", field="status")
        if not locked.provider.is_active:
            raise UserError(f"{locked.provider.name}已停用，合同不能生效", field="status")
    if status == ContractStatus.TERMINATED:
        if not reason:
            raise UserError("终止合同须填写原因", field="reason")
        if len(reason) > 300:
            raise UserError("终止原因不能超过 300 个字", field="reason")
        locked.terminated_reason = reason
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status", "terminated_reason"])
    audit_catalog(acting_user, request, f"{'合同生效' if status == ContractStatus.ACTIVE else '终止合同'}：{locked.title}",
           {"change": "set_contract_status", "contract": locked.pk, "from": before, "to": status, "reason": reason})
    return locked


# --- facilities ---------------------------------------------------------------------------------------


def facility_values(facility: Facility) -> dict[str, Any]:
    return {"kind": facility.kind, "name": facility.name, "region": facility.region.code,
            "address": facility.address, "latitude": str(facility.latitude), "longitude": str(facility.longitude),
            "opening_hours": facility.opening_hours}


def _checked_facility(provider: Organization, values: Mapping[str, Any]) -> dict[str, Any]:
    c = Checker(values)
    data: dict[str, Any] = {"kind": c.choice("kind", "类型", FacilityKind), "name": c.text("name", "名称", max_length=100),
                            "address": c.text("address", "地址", max_length=200),
                            "opening_hours": c.text("opening_hours", "开放时间", max_length=60, required=False)}
    data["latitude"], data["longitude"] = c.coordinates("latitude", "longitude")
    code = str(values.get("region") or "").strip()
    prefix = district_code_of(provider.region)[:6]
    region = Region.objects.filter(code=code, level=RegionLevel.COMMUNITY).first() if code else None
    if region is None or not region.code.startswith(prefix):
        c.fail("region", "请选择本区的社区（村）" if not code else f"区划代码 {code} 不是本区的社区（村）")
    data["region"] = region
    c.done()
    return data


@transaction.atomic
def save_facility(provider: Organization, *, values: Mapping[str, Any], facility: Facility | None = None,
                  acting_user: Any, request: HttpRequest | None = None) -> Facility:
    """Record a station or canteen with its community and coordinates, or correct one."""
    if not can_manage_staff(acting_user, provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)
    data = _checked_facility(provider, values)
    if facility is None:
        facility = Facility.objects.create(provider=provider, **data)
        audit_catalog(acting_user, request, f"新建服务设施：{facility.name}",
               {"change": "create_facility", "facility": facility.pk, "values": facility_values(facility)})
        return facility
    locked = Facility.objects.select_for_update(of=("self",)).select_related("region").get(pk=facility.pk)
    before = facility_values(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(data))
    after = facility_values(locked)
    changed = changed_fields(before, after)
    if changed:
        audit_catalog(acting_user, request, f"修改服务设施：{locked.name}",
               {"change": "update_facility", "facility": locked.pk, "changed": changed})
    return locked


@transaction.atomic
def set_facility_active(facility: Facility, active: bool, *, acting_user: Any,
                        request: HttpRequest | None = None) -> Facility:
    """Close (or reopen) a station or canteen; its caregivers keep their records."""
    if not can_manage_staff(acting_user, facility.provider):
        raise PermissionDenied(NOT_STAFF_MANAGER)
    locked = Facility.objects.select_for_update().get(pk=facility.pk)
    if locked.is_active == active:
        raise UserError(f"“{locked.name}”已{'在用' if active else '停用'}", field="is_active")
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    audit_catalog(acting_user, request, f"{'启用' if active else '停用'}服务设施：{locked.name}",
           {"change": "set_facility_active", "facility": locked.pk, "active": active})
    return locked
