"""API: home care beds (家庭养老床位) — list with each bed's month against the service minimums,
open a bed from a care plan, a bed with its month calendar, adaptations, devices, activation and
closing. Joined to the delivery router (tag 上门服务与核验)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import beds
from sanshe.orders.models import BedAdaptation, HomeCareBed
from sanshe.orders.record_access import access_bed, bed_plan_candidates, can_manage_bed, visible_beds

router = Router(tags=["上门服务与核验"])


class DayOut(Schema):
    day: dt.date
    minutes: int
    counted: bool = Field(description="床位当天运营且当天已结束")
    shortfall: int = Field(description="距每日最少服务时长的差额（分钟）")


class MonthOut(Schema):
    month: str
    total_minutes: int
    required_minutes: int = Field(description="当月应达分钟数（部分月份按运营天数折算）")
    finished: bool
    monthly_shortfall: int
    shortfall_days: int


class AdaptationOut(Schema):
    id: int
    description: str
    budget: Decimal
    cost: Decimal | None
    status: str
    completed_on: dt.date | None
    accepted_by: str


class DeviceOut(Schema):
    id: int
    kind: str
    serial: str
    cost: Decimal
    installed_on: dt.date


class BedOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    community: str
    provider: str
    status: str
    opened_on: dt.date | None
    closed_on: dt.date | None
    closed_reason: str
    care_plan_id: int | None
    assessment_id: int | None
    month: MonthOut


class BedDetailOut(BedOut):
    days: list[DayOut]
    adaptations: list[AdaptationOut]
    devices: list[DeviceOut]


def _month_out(m: beds.BedMonth) -> dict[str, Any]:
    return {"month": f"{m.year:04d}-{m.month:02d}", "total_minutes": m.total, "required_minutes": m.required,
            "finished": m.finished, "monthly_shortfall": m.monthly_shortfall,
            "shortfall_days": len(m.shortfall_days)}


def bed_out(bed: HomeCareBed, m: beds.BedMonth) -> dict[str, Any]:
    return {
        "id": bed.pk, "person_id": bed.person_id, "person_name": bed.person.masked_name,
        "community": bed.person.residence_region.name, "provider": bed.provider.name, "status": bed.status,
        "opened_on": bed.opened_on, "closed_on": bed.closed_on, "closed_reason": bed.closed_reason,
        "care_plan_id": bed.care_plan_id, "assessment_id": bed.assessment_id, "month": _month_out(m),
    }


def detail_out(bed: HomeCareBed, month: str | None) -> dict[str, Any]:
    year, number = beds.parse_month(month)
    m = beds.bed_month(bed, year, number)
    return {**bed_out(bed, m), "days": [
        {"day": d.day, "minutes": d.minutes, "counted": d.counted, "shortfall": d.shortfall} for d in m.days],
        "adaptations": list(bed.adaptations.order_by("id")), "devices": list(bed.devices.order_by("id"))}


def _managed(request: HttpRequest, bed_id: int) -> HomeCareBed:
    bed = access_bed(request.user, bed_id)
    if not can_manage_bed(request.user, bed):
        raise Http404("没有找到该家庭养老床位")
    return bed


def _work(bed: HomeCareBed, work_id: int) -> BedAdaptation:
    work = bed.adaptations.filter(pk=work_id).first()
    if work is None:
        raise Http404("没有找到该改造项目")
    return work


@router.get("/service/beds", response=list[BedOut], summary="家庭养老床位及当月服务时长（shortfall=true 只看服务不足）")
def list_beds(request: HttpRequest, month: str = "", shortfall: bool = False) -> list[dict[str, Any]]:
    year, number = beds.parse_month(month)
    found = visible_beds(request.user).select_related("person__residence_region", "provider").order_by("id")
    rows = beds.months_of(found, year, number)
    if shortfall:
        rows = [(b, m) for b, m in rows if m.shortfall_days or m.monthly_shortfall]
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="家庭养老床位列表",
                 row_count=len(rows))
    return [bed_out(b, m) for b, m in rows]


class OpenIn(Schema):
    care_plan_id: int


@router.post("/service/beds", response={201: BedDetailOut}, summary="依据执行中的照护方案建床")
def open_bed(request: HttpRequest, payload: OpenIn) -> Status:
    plan = bed_plan_candidates(request.user).select_related("person").filter(pk=payload.care_plan_id).first()
    if plan is None:
        raise UserError("没有找到可以建床的照护方案（须为执行中且尚未建床）", field="care_plan_id")
    bed = beds.open_bed(plan, acting_user=request.user)
    return Status(201, detail_out(access_bed(request.user, bed.pk), None))


@router.get("/service/beds/{int:bed_id}", response=BedDetailOut, summary="一张床位：当月每日服务时长、改造和设备")
def get_bed(request: HttpRequest, bed_id: int, month: str = "") -> dict[str, Any]:
    bed = access_bed(request.user, bed_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=bed.person_id,
                 subject=f"家庭养老床位 {bed.pk}")
    return detail_out(bed, month)


class AdaptationIn(Schema):
    description: str = Field(max_length=300)
    budget: Decimal = Field(description="预算（元）；一张床位的改造预算合计不超过 3000 元")


class CompleteIn(Schema):
    cost: Decimal
    completed_on: dt.date


class AcceptIn(Schema):
    accepted_by: str = Field(max_length=50)


class DeviceIn(Schema):
    kind: str = Field(max_length=50)
    serial: str = Field("", max_length=60)
    cost: Decimal = Field(description="费用（元）；一张床位的智能设备合计不超过 2000 元")
    installed_on: dt.date


class ReasonIn(Schema):
    reason: str = Field(max_length=300)


@router.post("/service/beds/{int:bed_id}/adaptations", response={201: BedDetailOut}, summary="登记适老化改造")
def add_adaptation(request: HttpRequest, bed_id: int, payload: AdaptationIn) -> Status:
    bed = _managed(request, bed_id)
    beds.add_adaptation(bed, acting_user=request.user, description=payload.description, budget=payload.budget)
    return Status(201, detail_out(bed, None))


@router.post("/service/beds/{int:bed_id}/adaptations/{int:work_id}/complete", response=BedDetailOut,
             summary="改造完工（实际费用不超过预算）")
def complete_adaptation(request: HttpRequest, bed_id: int, work_id: int, payload: CompleteIn) -> dict[str, Any]:
    bed = _managed(request, bed_id)
    beds.complete_adaptation(_work(bed, work_id), acting_user=request.user, cost=payload.cost,
                             completed_on=payload.completed_on)
    return detail_out(bed, None)


@router.post("/service/beds/{int:bed_id}/adaptations/{int:work_id}/accept", response=BedDetailOut,
             summary="改造验收")
def accept_adaptation(request: HttpRequest, bed_id: int, work_id: int, payload: AcceptIn) -> dict[str, Any]:
    bed = _managed(request, bed_id)
    beds.accept_adaptation(_work(bed, work_id), acting_user=request.user, accepted_by=payload.accepted_by)
    return detail_out(bed, None)


@router.post("/service/beds/{int:bed_id}/devices", response={201: BedDetailOut}, summary="登记安装的智能设备")
def add_device(request: HttpRequest, bed_id: int, payload: DeviceIn) -> Status:
    bed = _managed(request, bed_id)
    beds.add_device(bed, acting_user=request.user, kind=payload.kind, serial=payload.serial, cost=payload.cost,
                    installed_on=payload.installed_on)
    return Status(201, detail_out(bed, None))


@router.post("/service/beds/{int:bed_id}/activate", response=BedDetailOut, summary="启用床位（改造全部验收、已登记设备）")
def activate(request: HttpRequest, bed_id: int) -> dict[str, Any]:
    bed = _managed(request, bed_id)
    beds.activate_bed(bed, acting_user=request.user)
    return detail_out(bed, None)


@router.post("/service/beds/{int:bed_id}/close", response=BedDetailOut, summary="撤床（须填写原因）")
def close(request: HttpRequest, bed_id: int, payload: ReasonIn) -> dict[str, Any]:
    bed = _managed(request, bed_id)
    beds.close_bed(bed, acting_user=request.user, reason=payload.reason)
    return detail_out(bed, None)
