"""Daily routes as pages: a provider manager plans a day, looks at the proposal on a locally drawn
map and as each caregiver's ordered list, then publishes or discards it; a caregiver sees today's
published route on the phone ("今日路线")."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Organization
from sanshe.catalog.access import caregiver_of, provider_ids_of
from sanshe.catalog.models import Caregiver
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.core.models import AuditAction
from sanshe.dispatch.models import RoutePlan, RoutePlanStatus, RouteStop
from sanshe.dispatch.route_map import PALETTE, MapPlace, MapRoute, RouteMap, draw_map
from sanshe.dispatch.route_plans import (
    MAX_SECONDS,
    access_provider,
    access_route_plan,
    day_caregivers,
    discard_route_plan,
    has_lunch_break,
    parse_matrix,
    plan_routes,
    publish_route_plan,
    published_stops,
    start_place,
)
from sanshe.dispatch.routes import BREAK_EARLY, BREAK_LATE
from sanshe.orders.models import ServiceOrder

MAX_MATRIX_BYTES = 2_000_000


class PlanForm(PlatformForm, forms.Form):
    provider = forms.ModelChoiceField(label="服务机构", queryset=Organization.objects.none(), empty_label=None)
    date = forms.DateField(label="服务日期", widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"invalid": "日期格式应为 年-月-日，如 2026-12-01"})
    seconds = forms.IntegerField(label="求解时间（秒）", min_value=1, max_value=MAX_SECONDS, initial=5,
                                 help_text="时间越长路线越优，一般 5 秒足够",
                                 error_messages={"min_value": "至少 1 秒", "max_value": f"最多 {MAX_SECONDS} 秒"})
    matrix = forms.FileField(label="行程时间矩阵（可选）", required=False,
                             help_text="JSON：{\"points\": [\"order:工单号\", \"caregiver:护理员编号\", …], "
                                       "\"minutes\": [[…]]}；不上传则按坐标估算")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_ = cast(forms.ModelChoiceField, self.fields["provider"])
        field_.queryset = Organization.objects.filter(pk__in=provider_ids_of(user)).order_by("name")

    def clean_matrix(self) -> Any:
        upload = self.cleaned_data.get("matrix")
        if not upload:
            return None
        if upload.size > MAX_MATRIX_BYTES:
            raise forms.ValidationError("行程时间矩阵文件过大（上限 2 MB）")
        try:
            return parse_matrix(json.loads(upload.read().decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise forms.ValidationError("行程时间矩阵不是有效的 JSON 文件") from None
        except UserError as exc:
            raise forms.ValidationError(exc.message) from None


def _require_provider(request: AuthedRequest) -> set[int]:
    ids = provider_ids_of(request.user)
    if not ids:
        raise Http404("没有找到您管理的服务机构")
    return ids


def route_index(request: AuthedRequest) -> HttpResponse:
    ids = _require_provider(request)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    form = PlanForm(request.POST or None, request.FILES or None, user=request.user,
                    initial={"date": tomorrow, "seconds": 5})
    if request.method == "POST" and form.is_valid():
        provider = access_provider(request.user, form.cleaned_data["provider"].pk)
        try:
            plan = plan_routes(provider, form.cleaned_data["date"], acting_user=request.user,
                               seconds=form.cleaned_data["seconds"], matrix=form.cleaned_data["matrix"])
        except UserError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已规划 {plan.service_date:%Y-%m-%d} 的路线，请核对后发布")
            return redirect("routes:detail", plan_id=plan.pk)
    plans = RoutePlan.objects.filter(provider_id__in=ids).select_related("provider", "created_by")[:30]
    return render(request, "routes/index.html", {
        "form": form, "plans": plans, "single_provider": len(ids) == 1,
    })


@dataclass
class StopRow:
    sequence: int
    stop: RouteStop
    order: ServiceOrder


@dataclass
class CaregiverRoute:
    caregiver: Caregiver
    colour: str
    start_label: str
    rows: list[StopRow] = field(default_factory=list)
    travel_minutes: int = 0
    break_text: str = ""
    break_after: int = -1  # the break comes after this sequence number (0 = before the first stop)


def _break_of(caregiver: Caregiver, stops: list[RouteStop]) -> tuple[str, int]:
    """Where the lunch break fell. The planner sends the caregiver back to the start place for it;
    the stop after the break was left for at break end (its arrival minus its travel)."""
    minutes = caregiver.break_minutes
    if not has_lunch_break(caregiver) or not stops:
        return "", -1
    gap = dt.timedelta(minutes=minutes - 1)
    previous_end: dt.datetime | None = None
    for n, stop in enumerate(stops):
        # Leaving for this stop; when the break came just before, that is when the break ended.
        left = timezone.localtime(stop.arrive_at - dt.timedelta(minutes=stop.travel_minutes))
        begin = left - dt.timedelta(minutes=minutes)
        at_midday = BREAK_EARLY - 60 <= begin.hour * 3600 + begin.minute * 60 <= BREAK_LATE + 60
        if at_midday and (previous_end is None or left - previous_end >= gap):
            return f"午休 {minutes} 分钟（{begin:%H:%M}–{left:%H:%M}，回出发地）", n
        previous_end = stop.end_at
    return f"午休 {minutes} 分钟（最后一站之后，回出发地）", len(stops)


def caregiver_routes(plan: RoutePlan) -> list[CaregiverRoute]:
    stops = list(plan.stops.select_related("caregiver__station", "order__item", "order__person")
                 .order_by("caregiver__name", "caregiver_id", "sequence"))
    routes: dict[int, CaregiverRoute] = {}
    for stop in stops:
        route = routes.get(stop.caregiver_id)
        if route is None:
            route = routes[stop.caregiver_id] = CaregiverRoute(
                caregiver=stop.caregiver, colour=PALETTE[len(routes) % len(PALETTE)],
                start_label=start_place(stop.caregiver)[2])
        route.rows.append(StopRow(sequence=stop.sequence, stop=stop, order=stop.order))
        route.travel_minutes += stop.travel_minutes
    for route in routes.values():
        route.break_text, route.break_after = _break_of(route.caregiver, [r.stop for r in route.rows])
    return list(routes.values())


def route_map(routes: list[CaregiverRoute], loose: list[ServiceOrder] | None = None, *,
              width: int = 760, height: int = 460) -> RouteMap:
    drawn = []
    for route in routes:
        lat, lon, label = start_place(route.caregiver)
        places = [MapPlace(lat=float(r.order.latitude or lat), lon=float(r.order.longitude or lon),
                           label=str(r.sequence),
                           title=f"{route.caregiver.name} 第 {r.sequence} 站 · {r.order.item.name} · "
                                 f"{timezone.localtime(r.stop.start_at):%H:%M}")
                  for r in route.rows]
        drawn.append(MapRoute(name=route.caregiver.name,
                              start=MapPlace(lat=lat, lon=lon, label="", title=f"{route.caregiver.name} 出发地：{label}"),
                              stops=places))
    extra = [MapPlace(lat=float(o.latitude), lon=float(o.longitude), label="", title=f"未排入：{o.item.name}")
             for o in loose or [] if o.latitude is not None and o.longitude is not None]
    result = draw_map(drawn, extra, width=width, height=height)
    for n, drawn_route in enumerate(result.routes):
        drawn_route.colour = routes[n].colour
    return result


def route_detail(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_route_plan(request.user, plan_id)
    routes = caregiver_routes(plan)
    unplanned_ids = [u["order"] for u in plan.unplanned]
    orders = {o.pk: o for o in ServiceOrder.objects.filter(pk__in=unplanned_ids).select_related("item", "person")}
    unplanned = [{"order": orders.get(u["order"]), "id": u["order"], "reason": u["reason"]} for u in plan.unplanned]
    used = {r.caregiver.pk for r in routes}
    idle = [c for c in day_caregivers(plan.provider, plan.service_date) if c.pk not in used]
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject=f"路线计划 {plan.pk}",
                 row_count=sum(len(r.rows) for r in routes) + len(unplanned))
    return render(request, "routes/detail.html", {
        "plan": plan, "routes": routes, "unplanned": unplanned, "idle": idle,
        "build_ms": round(plan.build_seconds * 1000),
        "map": route_map(routes, list(orders.values())),
        "planned_count": sum(len(r.rows) for r in routes),
        "is_proposed": plan.status == RoutePlanStatus.PROPOSED,
    })


@require_POST
def route_publish(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_route_plan(request.user, plan_id)
    try:
        publish_route_plan(plan, acting_user=request.user)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "路线已发布，工单已按路线派给护理员")
    return redirect("routes:detail", plan_id=plan.pk)


@require_POST
def route_discard(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = access_route_plan(request.user, plan_id)
    try:
        discard_route_plan(plan, acting_user=request.user)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "路线计划已作废，工单未作改动")
    return redirect("routes:detail", plan_id=plan.pk)


def my_route(request: AuthedRequest) -> HttpResponse:
    caregiver = caregiver_of(request.user)
    if caregiver is None:
        raise Http404("没有找到您的护理员档案")
    today = timezone.localdate()
    stops = published_stops(caregiver, today)
    route = CaregiverRoute(caregiver=caregiver, colour=PALETTE[0], start_label=start_place(caregiver)[2])
    for stop in stops:
        route.rows.append(StopRow(sequence=stop.sequence, stop=stop, order=stop.order))
        route.travel_minutes += stop.travel_minutes
    route.break_text, route.break_after = _break_of(caregiver, stops)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject=f"今日路线 {today}",
                 row_count=len(stops))
    return render(request, "routes/mine.html", {
        "route": route, "today": today,
        "map": route_map([route], width=360, height=260) if stops else None,
    })
