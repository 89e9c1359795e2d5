"""API: a provider's stations and canteens, its caregivers and their qualifications. The bureau and
the provider's own manager write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from sanshe.catalog import access
from sanshe.catalog.actions import providers as provider_actions
from sanshe.catalog.actions import staff as actions
from sanshe.catalog.models import Caregiver, CaregiverQualification, Facility

router = Router(tags=["服务目录与服务机构"])


class FacilityIn(Schema):
    kind: str = Field(description="service_station 居家养老服务站、day_care_centre 日间照料中心、elder_canteen 长者饭堂")
    name: str
    region: str = Field(description="所在社区（村）的区划代码")
    address: str
    latitude: Decimal = Field(description="纬度（WGS-84，3–54）")
    longitude: Decimal = Field(description="经度（WGS-84，73–136）")
    opening_hours: str = ""


class FacilityOut(Schema):
    id: int
    provider_id: int
    kind: str
    kind_label: str
    name: str
    region_code: str
    region_name: str
    address: str
    latitude: Decimal
    longitude: Decimal
    opening_hours: str
    is_active: bool


class ActiveIn(Schema):
    is_active: bool


class QualificationIn(Schema):
    qualification: str = Field("", description="资质：caregiver_certificate 养老护理员证、nurse_licence 护士执业证书等；修改时不填")
    certificate_no: str
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None


class QualificationOut(Schema):
    id: int
    qualification: str
    qualification_label: str
    certificate_no: str
    issued_on: dt.date | None
    expires_on: dt.date | None


class CaregiverIn(Schema):
    name: str
    phone: str
    station_id: int | None = Field(None, description="所属服务站（本机构的服务设施）")
    home_address: str = ""
    home_latitude: Decimal
    home_longitude: Decimal
    travel_mode: str = Field("ebike", description="walk 步行、bicycle 自行车、ebike 电动自行车、car 汽车")
    work_days: list[int] = Field([1, 2, 3, 4, 5], description="工作日，1 为周一")
    shift_start: dt.time = Field(dt.time(8, 0))
    shift_end: dt.time = Field(dt.time(17, 0))
    break_minutes: int = 60
    insurance_policy_no: str = ""
    insurance_expires_on: dt.date | None = None
    username: str = Field("", description="关联的登录账号（须为本机构护理员）；留空为不关联")


class CaregiverOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    name: str
    phone: str
    station_id: int | None
    station_name: str
    home_address: str
    home_latitude: Decimal
    home_longitude: Decimal
    travel_mode: str
    work_days: list[int]
    shift_start: dt.time
    shift_end: dt.time
    break_minutes: int
    insurance_policy_no: str
    insurance_expires_on: dt.date | None
    username: str
    is_active: bool
    qualifications: list[QualificationOut]


def facility_out(f: Facility) -> dict[str, Any]:
    return {"id": f.pk, "provider_id": f.provider_id, "kind": f.kind, "kind_label": f.get_kind_display(),
            "name": f.name, "region_code": f.region.code, "region_name": f.region.name, "address": f.address,
            "latitude": f.latitude, "longitude": f.longitude, "opening_hours": f.opening_hours,
            "is_active": f.is_active}


def qualification_out(q: CaregiverQualification) -> dict[str, Any]:
    return {"id": q.pk, "qualification": q.qualification, "qualification_label": q.get_qualification_display(),
            "certificate_no": q.certificate_no, "issued_on": q.issued_on, "expires_on": q.expires_on}


def caregiver_out(c: Caregiver) -> dict[str, Any]:
    return {
        "id": c.pk, "provider_id": c.provider_id, "provider_name": c.provider.name, "name": c.name, "phone": c.phone,
        "station_id": c.station_id, "station_name": c.station.name if c.station else "",
        "home_address": c.home_address, "home_latitude": c.home_latitude, "home_longitude": c.home_longitude,
        "travel_mode": c.travel_mode, "work_days": list(c.work_days), "shift_start": c.shift_start,
        "shift_end": c.shift_end, "break_minutes": c.break_minutes, "insurance_policy_no": c.insurance_policy_no,
        "insurance_expires_on": c.insurance_expires_on, "username": c.user.username if c.user else "",
        "is_active": c.is_active, "qualifications": [qualification_out(q) for q in c.qualifications.all()],
    }


def _caregiver_values(payload: CaregiverIn) -> dict[str, Any]:
    values = payload.dict()
    values["shift_start"] = payload.shift_start.strftime("%H:%M")
    values["shift_end"] = payload.shift_end.strftime("%H:%M")
    return values


# --- facilities ---------------------------------------------------------------------------------------


@router.get("/catalog/facilities", response=list[FacilityOut], summary="服务站和长者饭堂")
def list_facilities(request: HttpRequest, provider_id: int | None = None) -> list[dict[str, Any]]:
    qs = access.visible_facilities(request.user).select_related("region")
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    return [facility_out(f) for f in qs]


@router.post("/catalog/providers/{int:provider_id}/facilities", response={201: FacilityOut},
             summary="新建服务站或长者饭堂（区民政或本机构）")
def create_facility(request: HttpRequest, provider_id: int, payload: FacilityIn) -> Status:
    provider = access.access_provider(request.user, provider_id, for_staff=True)
    facility = provider_actions.save_facility(provider, values=payload.dict(), acting_user=request.user,
                                              request=request)
    return Status(201, facility_out(facility))


@router.put("/catalog/facilities/{int:facility_id}", response=FacilityOut, summary="修改服务设施")
def update_facility(request: HttpRequest, facility_id: int, payload: FacilityIn) -> dict[str, Any]:
    facility = access.access_facility(request.user, facility_id, for_write=True)
    saved = provider_actions.save_facility(facility.provider, values=payload.dict(), facility=facility,
                                           acting_user=request.user, request=request)
    return facility_out(saved)


@router.post("/catalog/facilities/{int:facility_id}/active", response=FacilityOut, summary="停用或启用服务设施")
def set_facility_active(request: HttpRequest, facility_id: int, payload: ActiveIn) -> dict[str, Any]:
    facility = access.access_facility(request.user, facility_id, for_write=True)
    saved = provider_actions.set_facility_active(facility, payload.is_active, acting_user=request.user,
                                                 request=request)
    return facility_out(Facility.objects.select_related("region").get(pk=saved.pk))


# --- caregivers ---------------------------------------------------------------------------------------


def _fresh(caregiver: Caregiver) -> Caregiver:
    return Caregiver.objects.select_related("provider", "station", "user").get(pk=caregiver.pk)


@router.get("/catalog/caregivers", response=list[CaregiverOut], summary="护理员")
def list_caregivers(request: HttpRequest, provider_id: int | None = None,
                    active: bool | None = None) -> list[dict[str, Any]]:
    qs = access.visible_caregivers(request.user).select_related("provider", "station", "user").prefetch_related(
        "qualifications")
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return [caregiver_out(c) for c in qs]


@router.post("/catalog/providers/{int:provider_id}/caregivers", response={201: CaregiverOut},
             summary="新建护理员（区民政或本机构）")
def create_caregiver(request: HttpRequest, provider_id: int, payload: CaregiverIn) -> Status:
    provider = access.access_provider(request.user, provider_id, for_staff=True)
    caregiver = actions.save_caregiver(provider, values=_caregiver_values(payload), acting_user=request.user,
                                       request=request)
    return Status(201, caregiver_out(_fresh(caregiver)))


@router.get("/catalog/caregivers/{int:caregiver_id}", response=CaregiverOut, summary="护理员详情及资质")
def get_caregiver(request: HttpRequest, caregiver_id: int) -> dict[str, Any]:
    return caregiver_out(access.access_caregiver(request.user, caregiver_id))


@router.put("/catalog/caregivers/{int:caregiver_id}", response=CaregiverOut, summary="修改护理员")
def update_caregiver(request: HttpRequest, caregiver_id: int, payload: CaregiverIn) -> dict[str, Any]:
    caregiver = access.access_caregiver(request.user, caregiver_id, for_write=True)
    saved = actions.save_caregiver(caregiver.provider, values=_caregiver_values(payload), caregiver=caregiver,
                                   acting_user=request.user, request=request)
    return caregiver_out(_fresh(saved))


@router.post("/catalog/caregivers/{int:caregiver_id}/active", response=CaregiverOut, summary="离职或复职")
def set_caregiver_active(request: HttpRequest, caregiver_id: int, payload: ActiveIn) -> dict[str, Any]:
    caregiver = access.access_caregiver(request.user, caregiver_id, for_write=True)
    saved = actions.set_caregiver_active(caregiver, payload.is_active, acting_user=request.user, request=request)
    return caregiver_out(_fresh(saved))


@router.post("/catalog/caregivers/{int:caregiver_id}/qualifications", response={201: QualificationOut},
             summary="登记护理员资质")
def create_qualification(request: HttpRequest, caregiver_id: int, payload: QualificationIn) -> Status:
    caregiver = access.access_caregiver(request.user, caregiver_id, for_write=True)
    q = actions.save_qualification(caregiver, values=payload.dict(), acting_user=request.user, request=request)
    return Status(201, qualification_out(q))


@router.put("/catalog/qualifications/{int:qualification_id}", response=QualificationOut,
            summary="修改护理员资质（证书编号、有效期）")
def update_qualification(request: HttpRequest, qualification_id: int, payload: QualificationIn) -> dict[str, Any]:
    found = access.access_qualification(request.user, qualification_id, for_write=True)
    q = actions.save_qualification(found.caregiver, values=payload.dict(), qualification=found,
                                   acting_user=request.user, request=request)
    return qualification_out(q)


@router.delete("/catalog/qualifications/{int:qualification_id}", response={204: None}, summary="删除护理员资质")
def delete_qualification(request: HttpRequest, qualification_id: int) -> Status:
    found = access.access_qualification(request.user, qualification_id, for_write=True)
    actions.delete_qualification(found, acting_user=request.user, request=request)
    return Status(204, None)
