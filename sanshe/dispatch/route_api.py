"""API: daily route plans — plan a provider's day (optionally with a supplied travel-time matrix),
read a plan with each caregiver's stops, publish or discard it; a caregiver's route of today.
The same actions and access checks as the pages (dispatch.views.routes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.catalog.access import caregiver_of, provider_ids_of
from sanshe.core.audit import record_event
from sanshe.core.models import AuditAction
from sanshe.dispatch.models import RoutePlan, RouteStop
from sanshe.dispatch.route_plans import (
    MAX_SECONDS,
    access_provider,
    access_route_plan,
    discard_route_plan,
    parse_matrix,
    plan_routes,
    publish_route_plan,
    published_stops,
)

router = Router(tags=["路线规划"])


class MatrixIn(Schema):
    points: list[str] = Field(description="地点：order:<工单号> 为服务地址，caregiver:<护理员编号> 为护理员出发地")
    minutes: list[list[float]] = Field(description="行程时间（分钟），minutes[i][j] 为 points[i] 到 points[j]")
    source: str = Field("", description="矩阵来源说明，如“路网测算 2026-11”")


class PlanIn(Schema):
    provider_id: int
    date: dt.date = Field(description="服务日期")
    seconds: int = Field(5, ge=1, le=MAX_SECONDS, description="求解时间（秒）")
    matrix: MatrixIn | None = Field(None, description="可选：路网行程时间矩阵；不提供则按坐标估算")


class StopOut(Schema):
    caregiver_id: int
    caregiver_name: str
    sequence: int
    order_id: int
    item: str
    address: str
    arrive_at: dt.datetime
    start_at: dt.datetime
    end_at: dt.datetime
    travel_minutes: int


class UnplannedOut(Schema):
    order_id: int
    reason: str


class PlanOut(Schema):
    id: int
    provider_id: int
    service_date: dt.date
    status: str
    status_label: str
    order_count: int
    travel_minutes: int
    build_seconds: float
    solve_seconds: float
    matrix_source: str
    stops: list[StopOut]
    unplanned: list[UnplannedOut]


def _stop_out(stop: RouteStop) -> dict[str, Any]:
    return {"caregiver_id": stop.caregiver_id, "caregiver_name": stop.caregiver.name, "sequence": stop.sequence,
            "order_id": stop.order_id, "item": stop.order.item.name, "address": stop.order.address,
            "arrive_at": stop.arrive_at, "start_at": stop.start_at, "end_at": stop.end_at,
            "travel_minutes": stop.travel_minutes}


def _plan_out(plan: RoutePlan) -> dict[str, Any]:
    stops = plan.stops.select_related("caregiver", "order__item").order_by("caregiver_id", "sequence")
    return {
        "id": plan.pk, "provider_id": plan.provider_id, "service_date": plan.service_date, "status": plan.status,
        "status_label": plan.get_status_display(), "order_count": plan.order_count,
        "travel_minutes": plan.travel_minutes, "build_seconds": plan.build_seconds,
        "solve_seconds": plan.solve_seconds, "matrix_source": plan.matrix_source,
        "stops": [_stop_out(s) for s in stops],
        "unplanned": [{"order_id": u["order"], "reason": u["reason"]} for u in plan.unplanned],
    }


@router.post("/routes/plans", response={201: PlanOut}, summary="规划服务机构某日的路线（生成待发布方案）")
def create_plan(request: HttpRequest, payload: PlanIn) -> Status:
    provider = access_provider(request.user, payload.provider_id)
    matrix = parse_matrix(payload.matrix.model_dump()) if payload.matrix is not None else None
    plan = plan_routes(provider, payload.date, acting_user=request.user, seconds=payload.seconds, matrix=matrix)
    return Status(201, _plan_out(plan))


@router.get("/routes/plans", response=list[PlanOut], summary="本机构的路线计划（新的在前）")
def list_plans(request: HttpRequest, date: dt.date | None = None) -> list[dict[str, Any]]:
    plans = RoutePlan.objects.filter(provider_id__in=provider_ids_of(request.user))
    if date is not None:
        plans = plans.filter(service_date=date)
    rows = [_plan_out(p) for p in plans[:50]]
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="路线计划列表",
                 row_count=sum(len(r["stops"]) for r in rows))
    return rows


@router.get("/routes/plans/{plan_id}", response=PlanOut, summary="路线计划详情：每位护理员的站点顺序")
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    plan = access_route_plan(request.user, plan_id)
    out = _plan_out(plan)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject=f"路线计划 {plan.pk}",
                 row_count=len(out["stops"]))
    return out


@router.post("/routes/plans/{plan_id}/publish", response=PlanOut, summary="发布路线：工单按路线派给护理员")
def publish_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    plan = publish_route_plan(access_route_plan(request.user, plan_id), acting_user=request.user)
    return _plan_out(plan)


@router.post("/routes/plans/{plan_id}/discard", response=PlanOut, summary="作废待发布的路线方案（工单不变）")
def discard_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    plan = discard_route_plan(access_route_plan(request.user, plan_id), acting_user=request.user)
    return _plan_out(plan)


@router.get("/routes/mine", response=list[StopOut], summary="护理员：今天已发布路线的站点")
def my_stops(request: HttpRequest) -> list[dict[str, Any]]:
    caregiver = caregiver_of(request.user)
    if caregiver is None:
        raise Http404("没有找到您的护理员档案")
    today = timezone.localdate()
    stops = published_stops(caregiver, today)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject=f"今日路线 {today}",
                 row_count=len(stops))
    for stop in stops:
        stop.caregiver = caregiver
    return [_stop_out(s) for s in stops]
