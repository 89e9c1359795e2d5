"""Home care bed pages: the list with each bed's month against the service minimums, opening a
bed from a care plan, and a bed's page — the month calendar, adaptations, devices, activation and
closing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import beds
from sanshe.orders.models import BedAdaptation, HomeCareBed
from sanshe.orders.record_access import access_bed, bed_plan_candidates, can_manage_bed, visible_beds


def _shift(year: int, month: int, delta: int) -> str:
    n = year * 12 + month - 1 + delta
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _date(raw: str | None, label: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise UserError(f"请填写{label}（YYYY-MM-DD）", field=field) from None


def bed_list(request: AuthedRequest) -> HttpResponse:
    year, month = beds.parse_month(request.GET.get("month"))
    only_short = request.GET.get("shortfall") == "1"
    found = visible_beds(request.user).select_related("person__residence_region", "provider").order_by("status", "person__name")
    rows = beds.months_of(found, year, month)
    if only_short:
        rows = [(b, m) for b, m in rows if m.shortfall_days or m.monthly_shortfall]
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="家庭养老床位列表",
                 row_count=len(rows))
    return render(request, "delivery/beds.html", {
        "rows": rows, "month": f"{year:04d}-{month:02d}", "year": year, "month_no": month,
        "prev": _shift(year, month, -1), "next": _shift(year, month, 1), "only_short": only_short,
        "may_open": bed_plan_candidates(request.user).exists(),
    })


def bed_new(request: AuthedRequest) -> HttpResponse:
    plans = list(bed_plan_candidates(request.user).select_related("person", "provider").order_by("person__name"))
    if request.method == "POST":
        plan = next((p for p in plans if str(p.pk) == request.POST.get("care_plan")), None)
        if plan is None:
            messages.error(request, "请选择照护方案")
        else:
            try:
                bed = beds.open_bed(plan, acting_user=request.user)
            except UserError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"已为{plan.person.name}建床，请登记适老化改造和智能设备")
                return redirect("delivery:bed", bed_id=bed.pk)
    return render(request, "delivery/bed_new.html", {"plans": plans})


def bed_detail(request: AuthedRequest, bed_id: int) -> HttpResponse:
    bed = access_bed(request.user, bed_id)
    year, month = beds.parse_month(request.GET.get("month"))
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=bed.person_id,
                 subject=f"家庭养老床位 {bed.pk}")
    adaptations = list(bed.adaptations.order_by("id"))
    devices = list(bed.devices.order_by("installed_on", "id"))
    return render(request, "delivery/bed.html", {
        "bed": bed, "m": beds.bed_month(bed, year, month), "month": f"{year:04d}-{month:02d}",
        "prev": _shift(year, month, -1), "next": _shift(year, month, 1),
        "adaptations": adaptations, "devices": devices, "may_manage": can_manage_bed(request.user, bed),
        "adaptation_total": sum((a.budget for a in adaptations), Decimal("0")),
        "device_total": sum((d.cost for d in devices), Decimal("0")),
        "adaptation_cap": beds.ADAPTATION_CAP, "device_cap": beds.DEVICE_CAP, "today": timezone.localdate(),
    })


def _work(bed: HomeCareBed, raw: str | None) -> BedAdaptation:
    work = bed.adaptations.filter(pk=int(raw)).first() if raw and raw.isdigit() else None
    if work is None:
        raise UserError("没有找到该改造项目")
    return work


OPS: dict[str, tuple[Callable[[HomeCareBed, Any, Any], Any], str]] = {
    "adaptation": (lambda bed, post, user: beds.add_adaptation(
        bed, acting_user=user, description=post.get("description", ""), budget=post.get("budget", "")),
        "已登记适老化改造"),
    "complete": (lambda bed, post, user: beds.complete_adaptation(
        _work(bed, post.get("work")), acting_user=user, cost=post.get("cost", ""),
        completed_on=_date(post.get("completed_on"), "完工日期", "completed_on")), "已登记完工"),
    "accept": (lambda bed, post, user: beds.accept_adaptation(
        _work(bed, post.get("work")), acting_user=user, accepted_by=post.get("accepted_by", "")), "已验收"),
    "device": (lambda bed, post, user: beds.add_device(
        bed, acting_user=user, kind=post.get("kind", ""), serial=post.get("serial", ""), cost=post.get("cost", ""),
        installed_on=_date(post.get("installed_on"), "安装日期", "installed_on")), "已登记设备"),
    "activate": (lambda bed, post, user: beds.activate_bed(bed, acting_user=user), "床位已启用，开始计算服务时长"),
    "close": (lambda bed, post, user: beds.close_bed(bed, acting_user=user, reason=post.get("reason", "")),
              "床位已撤销"),
}


@require_POST
def bed_action(request: AuthedRequest, bed_id: int, op: str) -> HttpResponse:
    bed = access_bed(request.user, bed_id)
    if op not in OPS or not can_manage_bed(request.user, bed):
        raise Http404("没有找到该操作")
    run, done = OPS[op]
    try:
        run(bed, request.POST, request.user)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("delivery:bed", bed_id=bed.pk)
