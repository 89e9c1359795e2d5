"""Delivery alerts (late, missed, flagged records, home care bed shortfalls) for the provider's
staff and the community: the list and resolving one with a note."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import delivery
from sanshe.orders.models import AlertKind, ComplaintStatus
from sanshe.orders.record_access import (
    access_alert,
    access_complaint,
    can_handle_complaint,
    can_resolve_alert,
    visible_alerts,
    visible_complaints,
)
from sanshe.orders.watch import resolve_alert

PAGE_SIZE = 50


def alert_list(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    kind = request.GET.get("kind", "")
    alerts = visible_alerts(request.user).select_related("person", "community", "provider", "order", "resolved_by")
    alerts = alerts.filter(resolved_at__isnull=state != "resolved") if state in ("open", "resolved") else alerts
    if kind in AlertKind.values:
        alerts = alerts.filter(kind=kind)
    page = Paginator(alerts.order_by("-raised_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"a": a, "may_resolve": a.resolved_at is None and can_resolve_alert(request.user, a)}
            for a in page.object_list]
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="服务预警列表", row_count=len(rows))
    open_count = visible_alerts(request.user).filter(resolved_at=None).count()
    complaints = (visible_complaints(request.user).filter(status=ComplaintStatus.OPEN)
                  .select_related("order__person", "order__item", "order__community", "order__provider")
                  .order_by("-lodged_at")[:PAGE_SIZE])
    return render(request, "delivery/alerts.html", {
        "page": page, "rows": rows, "state": state, "kind": kind, "kinds": AlertKind.choices,
        "open_count": open_count,
        "complaints": [{"c": c, "may_handle": can_handle_complaint(request.user, c)} for c in complaints],
    })


@require_POST
def resolve(request: AuthedRequest, alert_id: int) -> HttpResponse:
    alert = access_alert(request.user, alert_id)
    if not can_resolve_alert(request.user, alert):
        raise Http404("没有找到该预警")
    try:
        resolve_alert(alert, acting_user=request.user, note=request.POST.get("note", ""))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "预警已处理")
    return redirect("delivery:alerts")


@require_POST
def resolve_complaint(request: AuthedRequest, complaint_id: int) -> HttpResponse:
    complaint = access_complaint(request.user, complaint_id)
    if not can_handle_complaint(request.user, complaint):
        raise Http404("没有找到该投诉")
    try:
        delivery.resolve_complaint(complaint, acting_user=request.user, resolution=request.POST.get("resolution", ""))
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "投诉已处理")
    return redirect(reverse("delivery:alerts") + "#complaints")
