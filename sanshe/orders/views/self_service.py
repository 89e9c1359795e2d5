"""The elder's phone page (关怀版): reached by a personal link without an account; big buttons
for each contracted service, a date, morning or afternoon, and "我要服务". Shows only the masked
name; an unknown or revoked link is a plain 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from sanshe.catalog.models import ServiceItem
from sanshe.catalog.queries import contracted_providers
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.middleware import login_not_required
from sanshe.core.models import AuditAction, Channel
from sanshe.orders.actions import (
    HALF_DAYS,
    MAX_OPEN_PER_LINK,
    SELF_SERVICE_DAYS,
    link_for_token,
    open_link_requests,
    request_by_link,
)
from sanshe.orders.models import OPEN_STATUSES, OrderSource, RequestLink, ServiceOrder
from sanshe.orders.plans import funding_of

WEEKDAY = "一二三四五六日"


def _items(link: RequestLink, today: dt.date) -> list[ServiceItem]:
    community = link.person.residence_region
    return [i for i in ServiceItem.objects.filter(is_active=True).order_by("category", "code")
            if contracted_providers(community, i, today).exists()]


def _days(today: dt.date) -> list[dict[str, Any]]:
    names = {0: "今天", 1: "明天", 2: "后天"}
    return [{"value": (today + dt.timedelta(days=n)).isoformat(),
             "label": names.get(n) or f"{(today + dt.timedelta(days=n)).month}月{(today + dt.timedelta(days=n)).day}日",
             "weekday": f"周{WEEKDAY[(today + dt.timedelta(days=n)).weekday()]}"}
            for n in range(0, 7)]


def _context(link: RequestLink, today: dt.date, **extra: Any) -> dict[str, Any]:
    person = link.person
    mine = (ServiceOrder.objects.filter(person=person, status__in=OPEN_STATUSES, source=OrderSource.ELDER,
                                        created_at__gte=link.created_at)
            .select_related("item").order_by("window_start"))
    return {"name": person.masked_name, "items": _items(link, today), "days": _days(today),
            "halves": [(k, v[2], f"{v[0]:%H:%M}–{v[1]:%H:%M}") for k, v in HALF_DAYS.items()],
            "open": list(mine), "max_open": MAX_OPEN_PER_LINK, "horizon": SELF_SERVICE_DAYS,
            "open_count": open_link_requests(link), **extra}


@login_not_required
@require_http_methods(["GET", "POST"])
def request_page(request: HttpRequest, token: str) -> HttpResponse:
    link = link_for_token(token)
    if link is None:
        raise Http404("链接无效或已停用")
    today = timezone.localdate()
    if request.method == "GET":
        return _render(request, _context(link, today))
    selected = {"item": request.POST.get("item", ""), "day": request.POST.get("day", ""),
                "half": request.POST.get("half", "")}
    item = ServiceItem.objects.filter(pk=selected["item"] or 0, is_active=True).first() \
        if selected["item"].isdigit() else None
    try:
        if item is None or item not in _items(link, today):
            raise UserError("请先选择一项服务", field="item")
        try:
            day = dt.date.fromisoformat(selected["day"])
        except ValueError:
            raise UserError("请选择服务日期", field="day") from None
        order = request_by_link(link, item=item, day=day, half=selected["half"], today=today,
                                tier=funding_of(link.person, today).tier)
    except UserError as exc:
        return _render(request, _context(link, today, error=exc.message, selected=selected), status=400)
    record_event(None, AuditAction.CHANGE_ORDER, channel=Channel.WEB, person_id=link.person_id,
                 subject=f"工单 {order.pk}", reason="老人或家属通过自助链接下单")
    half = HALF_DAYS[selected["half"]][2]
    done = f"已收到您的申请：{order.item.name}，{day.month}月{day.day}日{half}。服务机构会尽快安排，有变化会联系您。"
    return _render(request, _context(link, today, done=done))


def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "orders/self_service.html", context, status=status)
    response["Cache-Control"] = "no-store"
    # The token is in the address: never send it to another site (same-origin keeps the form's Origin).
    response["Referrer-Policy"] = "same-origin"
    return response
