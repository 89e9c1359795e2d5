"""Daily route plans of a provider: plan a day with the planner (routes.py), publish the proposal
(orders assigned through orders.actions.assign_order), or discard it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from sanshe.accounts.models import Organization, Region, RegionLevel
from sanshe.catalog.access import provider_ids_of
from sanshe.catalog.models import Caregiver, CaregiverQualification, ServiceSettings, TravelMode
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.dispatch.models import RoutePlan, RoutePlanStatus, RouteStop
from sanshe.dispatch.routes import (
    SUPPLIED,
    Point,
    RoutePlanResult,
    RouteProblem,
    Visit,
    Worker,
    solve_routes,
    travel_matrix,
)
from sanshe.orders.actions import assign_order
from sanshe.orders.models import OrderStatus, ServiceOrder

PLANNABLE = (OrderStatus.REQUESTED, OrderStatus.ASSIGNED)
MAX_SECONDS = 60
ESTIMATED = "坐标估算（直线距离×绕行系数÷出行速度）"


@dataclass(frozen=True, slots=True)
class SuppliedMatrix:
    """A road-network travel-time matrix in minutes over named points: "order:<id>" for an order's
    address, "caregiver:<id>" for a caregiver's start place (station or home)."""

    points: list[str]
    minutes: list[list[float]]
    source: str = "外部行程时间矩阵"


def parse_matrix(raw: Any) -> SuppliedMatrix:
    """Check a JSON matrix {"points": [...], "minutes": [[...]], "source": "..."}; Chinese errors."""
    if not isinstance(raw, dict):
        raise UserError("行程时间矩阵应为 JSON 对象，含 points 和 minutes", field="matrix")
    points, minutes = raw.get("points"), raw.get("minutes")
    if not isinstance(points, list) or not all(isinstance(p, str) for p in points) or not points:
        raise UserError("行程时间矩阵的 points 应为地点名称列表（如 order:12、caregiver:3）", field="matrix")
    if len(set(points)) != len(points):
        raise UserError("行程时间矩阵的 points 有重复", field="matrix")
    if not isinstance(minutes, list) or len(minutes) != len(points) or not all(
        isinstance(row, list) and len(row) == len(points) for row in minutes
    ):
        raise UserError(f"行程时间矩阵的 minutes 应为 {len(points)}×{len(points)} 的数字表", field="matrix")
    for row in minutes:
        for value in row:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 24 * 60:
                raise UserError("行程时间应为 0 到 1440 之间的分钟数", field="matrix")
    source = str(raw.get("source") or "外部行程时间矩阵")[:100]
    return SuppliedMatrix(points=points, minutes=[[float(v) for v in row] for row in minutes], source=source)


def access_provider(user: Any, provider_id: int) -> Organization:
    """A provider the user runs (RUN_PROVIDER); missing and not theirs both 404."""
    if provider_id not in provider_ids_of(user):
        raise Http404("没有找到该服务机构")
    return Organization.objects.get(pk=provider_id)


def access_route_plan(user: Any, plan_id: int) -> RoutePlan:
    """A route plan of a provider the user runs; missing and not theirs both 404."""
    plan = RoutePlan.objects.filter(pk=plan_id, provider_id__in=provider_ids_of(user)).select_related(
        "provider").first()
    if plan is None:
        raise Http404("没有找到该路线计划")
    return plan


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _seconds_of(moment: dt.datetime, midnight: dt.datetime) -> int:
    return int((moment - midnight).total_seconds())


def _district_of(region: Region) -> Region:
    node: Region | None = region
    while node is not None and node.level != RegionLevel.DISTRICT:
        node = node.parent
    return node or region


def day_orders(provider: Organization, day: dt.date) -> list[ServiceOrder]:
    start, end = _day_bounds(day)
    return list(
        ServiceOrder.objects.filter(provider=provider, status__in=PLANNABLE, window_start__gte=start,
                                    window_start__lt=end).select_related("item", "person").order_by("window_start", "id")
    )


def day_caregivers(provider: Organization, day: dt.date) -> list[Caregiver]:
    working = Caregiver.objects.filter(provider=provider, is_active=True).select_related("station").order_by("name", "id")
    return [c for c in working if day.isoweekday() in (c.work_days or [])]


def start_place(caregiver: Caregiver) -> tuple[float, float, str]:
    """(lat, lon, label) where the caregiver starts and ends the day: the station, else home."""
    if caregiver.station is not None:
        return float(caregiver.station.latitude), float(caregiver.station.longitude), caregiver.station.name
    return float(caregiver.home_latitude), float(caregiver.home_longitude), caregiver.home_address or "住处"


def shift_seconds(caregiver: Caregiver) -> tuple[int, int]:
    return (caregiver.shift_start.hour * 3600 + caregiver.shift_start.minute * 60,
            caregiver.shift_end.hour * 3600 + caregiver.shift_end.minute * 60)


def has_lunch_break(caregiver: Caregiver) -> bool:
    """Whether the planner gives the caregiver a lunch break (the shift spans the midday window)."""
    start, end = shift_seconds(caregiver)
    return Worker(key="", point=0, shift_start=start, shift_end=end, mode="",
                  break_seconds=caregiver.break_minutes * 60).has_break


def build_problem(provider: Organization, day: dt.date, orders: Sequence[ServiceOrder],
                  caregivers: Sequence[Caregiver], matrix: SuppliedMatrix | None) -> RouteProblem:
    """The planner's input for a provider's day (orders with coordinates only)."""
    midnight = _day_bounds(day)[0]
    points = [Point(f"caregiver:{c.pk}", start_place(c)[1], start_place(c)[0]) for c in caregivers]
    points += [Point(f"order:{o.pk}", float(o.longitude), float(o.latitude)) for o in orders]  # type: ignore[arg-type]
    held: dict[int, set[str]] = {}
    for q in CaregiverQualification.objects.filter(caregiver__in=caregivers):
        if q.valid_on(day):
            held.setdefault(q.caregiver_id, set()).add(q.qualification)
    workers = [
        Worker(key=str(c.pk), point=i, shift_start=shift_seconds(c)[0], shift_end=shift_seconds(c)[1],
               mode=SUPPLIED if matrix else c.travel_mode, qualifications=frozenset(held.get(c.pk, set())),
               break_seconds=c.break_minutes * 60)
        for i, c in enumerate(caregivers)
    ]
    visits = [
        Visit(key=str(o.pk), point=len(caregivers) + i, tw_early=_seconds_of(o.window_start, midnight),
              tw_late=_seconds_of(o.window_end, midnight), service=o.minutes * 60,
              qualification=o.item.required_qualification)
        for i, o in enumerate(orders)
    ]
    if matrix is not None:
        index = {key: i for i, key in enumerate(matrix.points)}
        missing = [p.key for p in points if p.key not in index]
        if missing:
            raise UserError(f"行程时间矩阵缺少地点：{'、'.join(missing[:5])}{' 等' if len(missing) > 5 else ''}",
                            field="matrix")
        order = [index[p.key] for p in points]
        travel = {SUPPLIED: [[round(matrix.minutes[a][b] * 60) if a != b else 0 for b in order] for a in order]}
    else:
        district = _district_of(provider.region)
        settings = ServiceSettings.for_district(district)
        detour = float(settings.detour_factor)
        travel = {mode: travel_matrix(points, detour_factor=detour, speed_kmh=settings.speed_kmh(mode))
                  for mode in {c.travel_mode for c in caregivers} or {TravelMode.EBIKE}}
    return RouteProblem(points=points, visits=visits, workers=workers, travel=travel)


def plan_routes(provider: Organization, day: dt.date, *, acting_user: Any, seconds: float = 5,
                matrix: SuppliedMatrix | None = None) -> RoutePlan:
    """Plan a provider's day: a proposed plan with each caregiver's stops; earlier proposals of the
    day are discarded."""
    if not 1 <= seconds <= MAX_SECONDS:
        raise UserError(f"求解时间应在 1 到 {MAX_SECONDS} 秒之间", field="seconds")
    orders = day_orders(provider, day)
    if not orders:
        raise UserError(f"{provider.name}在 {day} 没有待派单或已派单的工单", field="date")
    caregivers = day_caregivers(provider, day)
    if not caregivers:
        raise UserError(f"{provider.name}在 {day} 没有在班的护理员", field="date")
    located = [o for o in orders if o.latitude is not None and o.longitude is not None]
    problem = build_problem(provider, day, located, caregivers, matrix)
    result = solve_routes(problem, seconds=seconds)
    unplanned = [{"order": o.pk, "reason": "服务地址没有坐标，无法规划路线"} for o in orders if o not in located]
    unplanned += [{"order": int(key), "reason": reason} for key, reason in result.unplanned]
    midnight = _day_bounds(day)[0]
    with transaction.atomic():
        RoutePlan.objects.filter(provider=provider, service_date=day, status=RoutePlanStatus.PROPOSED).update(
            status=RoutePlanStatus.DISCARDED)
        plan = RoutePlan.objects.create(
            provider=provider, service_date=day, order_count=len(orders), unplanned=unplanned,
            travel_minutes=round(sum(r.travel for r in result.routes) / 60), build_seconds=result.build_seconds,
            solve_seconds=result.solve_seconds, matrix_source=matrix.source if matrix else ESTIMATED,
            created_by=acting_user,
        )
        _write_stops(plan, result, midnight)
        record_event(acting_user, AuditAction.PLAN_ROUTES, subject=f"路线计划 {plan.pk}",
                     detail={"provider": provider.pk, "date": day.isoformat(), "orders": len(orders),
                             "unplanned": len(unplanned), "step": "plan"})
    return plan


def _write_stops(plan: RoutePlan, result: RoutePlanResult, midnight: dt.datetime) -> None:
    at = lambda s: midnight + dt.timedelta(seconds=s)  # noqa: E731
    rows = []
    for route in result.routes:
        visits = [s for s in route.stops if s.kind == "visit"]
        for n, stop in enumerate(visits, start=1):
            rows.append(RouteStop(plan=plan, caregiver_id=int(route.worker), sequence=n, order_id=int(stop.key),
                                  arrive_at=at(stop.arrive), start_at=at(stop.start), end_at=at(stop.end),
                                  travel_minutes=round(stop.travel / 60)))
    RouteStop.objects.bulk_create(rows)


def publish_route_plan(plan: RoutePlan, *, acting_user: Any) -> RoutePlan:
    """Assign every planned order to its caregiver and make the plan the day's published routes."""
    with transaction.atomic():
        plan = RoutePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != RoutePlanStatus.PROPOSED:
            raise UserError(f"路线计划{RoutePlanStatus(plan.status).label}，不能发布", field="status")
        stops = list(plan.stops.select_related("order__item", "caregiver").order_by("caregiver_id", "sequence"))
        changed = [s.order for s in stops if s.order.status not in PLANNABLE]
        if changed:
            names = "、".join(f"工单 {o.pk}（{OrderStatus(o.status).label}）" for o in changed[:5])
            raise UserError(f"{names}在规划后已有变化，请重新规划", field="status")
        for stop in stops:
            order = stop.order
            if order.caregiver_id == stop.caregiver_id and order.status == OrderStatus.ASSIGNED:
                continue
            arrive = timezone.localtime(stop.arrive_at).strftime("%H:%M")
            line = f"路线规划：第 {stop.sequence} 站，预计 {arrive} 到达"
            reason = "路线规划调整" if order.status == OrderStatus.ASSIGNED else ""
            assign_order(order, stop.caregiver, acting_user=acting_user, lines=[line], by="auto", reason=reason)
        RoutePlan.objects.filter(provider=plan.provider_id, service_date=plan.service_date,
                                 status=RoutePlanStatus.PUBLISHED).update(status=RoutePlanStatus.DISCARDED)
        plan.status = RoutePlanStatus.PUBLISHED
        plan.published_at = timezone.now()
        plan.save(update_fields=["status", "published_at"])
        record_event(acting_user, AuditAction.PLAN_ROUTES, subject=f"路线计划 {plan.pk}", row_count=len(stops),
                     detail={"provider": plan.provider_id, "date": plan.service_date.isoformat(), "step": "publish"})
    return plan


def discard_route_plan(plan: RoutePlan, *, acting_user: Any) -> RoutePlan:
    """Set a proposal aside without touching any order."""
    with transaction.atomic():
        plan = RoutePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != RoutePlanStatus.PROPOSED:
            raise UserError(f"路线计划{RoutePlanStatus(plan.status).label}，不能作废", field="status")
        plan.status = RoutePlanStatus.DISCARDED
        plan.save(update_fields=["status"])
        record_event(acting_user, AuditAction.PLAN_ROUTES, subject=f"路线计划 {plan.pk}",
                     detail={"provider": plan.provider_id, "date": plan.service_date.isoformat(), "step": "discard"})
    return plan


discard = discard_route_plan


def published_stops(caregiver: Caregiver, day: dt.date) -> list[RouteStop]:
    """The caregiver's stops of the day's published plan, in sequence."""
    return list(
        RouteStop.objects.filter(caregiver=caregiver, plan__provider=caregiver.provider_id, plan__service_date=day,
                                 plan__status=RoutePlanStatus.PUBLISHED, order__caregiver=caregiver)
        .select_related("order__item", "order__person").order_by("sequence")
    )
