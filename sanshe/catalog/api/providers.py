"""API: providers with their licences, and purchase contracts (draft → in force → terminated).
A provider's manager reads their own provider and contracts; the bureau writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.accounts.models import Organization
from sanshe.catalog import access
from sanshe.catalog.actions import providers as actions
from sanshe.catalog.models import Contract, ProviderLicence
from sanshe.catalog.queries import expiring

router = Router(tags=["服务目录与服务机构"])


class LicenceIn(Schema):
    kind: str = Field(description="business 营业执照/登记证书、elder_care 养老服务机构备案、food 食品经营许可证、"
                                  "medical 医疗机构执业许可证")
    number: str
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None


class LicenceOut(Schema):
    id: int
    kind: str
    kind_label: str
    number: str
    issued_on: dt.date | None
    expires_on: dt.date | None


class ProviderOut(Schema):
    id: int
    name: str
    region_code: str
    credit_code: str
    contact_phone: str
    address: str
    is_active: bool
    facility_count: int
    caregiver_count: int
    expiring_count: int = Field(description="将到期或已过期的证照、合同、资质和保险")
    may_manage: bool = Field(description="可维护证照和合同（区民政）")
    may_manage_staff: bool = Field(description="可维护服务设施和护理员")


class ProviderDetailOut(ProviderOut):
    licences: list[LicenceOut]


class ContractItemIn(Schema):
    item_id: int
    price: Decimal = Field(description="合同单价（元）")
    quantity_cap: int | None = None


class ContractIn(Schema):
    provider_id: int
    number: str
    title: str
    fund_id: int
    starts_on: dt.date
    ends_on: dt.date
    service_area: list[str] = Field(description="服务区域：本区街道或社区的区划代码")
    items: list[ContractItemIn]
    amount_cap: Decimal | None = Field(None, description="合同金额上限（元）")
    district_code: str = ""


class ContractStatusIn(Schema):
    status: str = Field(description="active 生效（草稿须有项目和区域）或 terminated 终止（须填原因）")
    reason: str = ""


class ContractItemOut(Schema):
    item_id: int
    item_code: str
    item_name: str
    price: Decimal
    quantity_cap: int | None


class ContractOut(Schema):
    id: int
    district_code: str
    provider_id: int
    provider_name: str
    number: str
    title: str
    fund_id: int
    fund_name: str
    starts_on: dt.date
    ends_on: dt.date
    amount_cap: Decimal | None
    status: str
    status_label: str
    terminated_reason: str
    service_area: list[str]
    items: list[ContractItemOut]
    may_manage: bool


def licence_out(licence: ProviderLicence) -> dict[str, Any]:
    return {"id": licence.pk, "kind": licence.kind, "kind_label": licence.get_kind_display(),
            "number": licence.number, "issued_on": licence.issued_on, "expires_on": licence.expires_on}


def provider_out(user: Any, provider: Organization, *, detail: bool = False) -> dict[str, Any]:
    district = actions.district_of(provider)
    warnings = expiring(district, timezone.localdate(), provider_ids={provider.pk})
    data: dict[str, Any] = {
        "id": provider.pk, "name": provider.name, "region_code": provider.region.code,
        "credit_code": provider.credit_code, "contact_phone": provider.contact_phone, "address": provider.address,
        "is_active": provider.is_active, "facility_count": provider.facilities.count(),
        "caregiver_count": provider.caregivers.filter(is_active=True).count(), "expiring_count": len(warnings),
        "may_manage": access.can_manage_provider(user, provider),
        "may_manage_staff": access.can_manage_staff(user, provider),
    }
    if detail:
        data["licences"] = [licence_out(lic) for lic in provider.licences.all()]
    return data


def contract_out(user: Any, contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.pk, "district_code": contract.district.code, "provider_id": contract.provider_id,
        "provider_name": contract.provider.name, "number": contract.number, "title": contract.title,
        "fund_id": contract.fund_id, "fund_name": contract.fund.name, "starts_on": contract.starts_on,
        "ends_on": contract.ends_on, "amount_cap": contract.amount_cap, "status": contract.status,
        "status_label": contract.get_status_display(), "terminated_reason": contract.terminated_reason,
        "service_area": sorted(r.code for r in contract.service_area.all()),
        "items": [{"item_id": ci.item_id, "item_code": ci.item.code, "item_name": ci.item.name, "price": ci.price,
                   "quantity_cap": ci.quantity_cap} for ci in contract.items.select_related("item")],
        "may_manage": access.can_manage_catalog(user, contract.district),
    }


def _contract_values(payload: ContractIn) -> dict[str, Any]:
    values = payload.dict()
    values["items"] = [row.dict() for row in payload.items]
    return values


# --- providers and licences ----------------------------------------------------------------------------


@router.get("/catalog/providers", response=list[ProviderOut], summary="服务机构")
def list_providers(request: HttpRequest) -> list[dict[str, Any]]:
    if not access.can_read_providers(request.user):
        raise PermissionDenied("您没有查看服务机构的权限")
    providers = access.visible_providers(request.user).select_related("region").order_by("region__code", "name")
    return [provider_out(request.user, p) for p in providers]


@router.get("/catalog/providers/{int:provider_id}", response=ProviderDetailOut, summary="服务机构详情及证照")
def get_provider(request: HttpRequest, provider_id: int) -> dict[str, Any]:
    return provider_out(request.user, access.access_provider(request.user, provider_id), detail=True)


@router.post("/catalog/providers/{int:provider_id}/licences", response={201: LicenceOut},
             summary="登记机构证照（区民政）")
def create_licence(request: HttpRequest, provider_id: int, payload: LicenceIn) -> Status:
    provider = access.access_provider(request.user, provider_id, for_write=True)
    licence = actions.save_licence(provider, values=payload.dict(), acting_user=request.user, request=request)
    return Status(201, licence_out(licence))


@router.put("/catalog/licences/{int:licence_id}", response=LicenceOut, summary="修改机构证照（区民政）")
def update_licence(request: HttpRequest, licence_id: int, payload: LicenceIn) -> dict[str, Any]:
    licence = access.access_licence(request.user, licence_id, for_write=True)
    saved = actions.save_licence(licence.provider, values=payload.dict(), licence=licence, acting_user=request.user,
                                 request=request)
    return licence_out(saved)


@router.delete("/catalog/licences/{int:licence_id}", response={204: None}, summary="删除机构证照（区民政）")
def delete_licence(request: HttpRequest, licence_id: int) -> Status:
    licence = access.access_licence(request.user, licence_id, for_write=True)
    actions.delete_licence(licence, acting_user=request.user, request=request)
    return Status(204, None)


# --- contracts ----------------------------------------------------------------------------------------


@router.get("/catalog/contracts", response=list[ContractOut], summary="购买服务合同")
def list_contracts(request: HttpRequest, provider_id: int | None = None, status: str = "") -> list[dict[str, Any]]:
    if not access.can_read_providers(request.user):
        raise PermissionDenied("您没有查看购买服务合同的权限")
    qs = access.visible_contracts(request.user).select_related("district", "provider", "fund")
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if status:
        qs = qs.filter(status=status)
    return [contract_out(request.user, c) for c in qs.prefetch_related("service_area")]


@router.post("/catalog/contracts", response={201: ContractOut}, summary="新建购买服务合同（草稿；区民政）")
def create_contract(request: HttpRequest, payload: ContractIn) -> Status:
    district = access.pick_district(access.managed_districts(request.user), payload.district_code)
    contract = actions.create_contract(district, values=_contract_values(payload), acting_user=request.user,
                                       request=request)
    return Status(201, contract_out(request.user, contract))


@router.get("/catalog/contracts/{int:contract_id}", response=ContractOut, summary="合同详情")
def get_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    return contract_out(request.user, access.access_contract(request.user, contract_id))


@router.put("/catalog/contracts/{int:contract_id}", response=ContractOut, summary="修改草稿合同（区民政）")
def update_contract(request: HttpRequest, contract_id: int, payload: ContractIn) -> dict[str, Any]:
    contract = access.access_contract(request.user, contract_id, for_write=True)
    updated = actions.update_contract(contract, values=_contract_values(payload), acting_user=request.user,
                                      request=request)
    return contract_out(request.user, updated)


@router.post("/catalog/contracts/{int:contract_id}/status", response=ContractOut,
             summary="合同生效或终止（区民政）")
def set_contract_status(request: HttpRequest, contract_id: int, payload: ContractStatusIn) -> dict[str, Any]:
    contract = access.access_contract(request.user, contract_id, for_write=True)
    updated = actions.set_contract_status(contract, payload.status, reason=payload.reason, acting_user=request.user,
                                          request=request)
    return contract_out(request.user, updated)
