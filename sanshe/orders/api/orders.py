"""API: service orders — list (filters, masked names, audited), record an ad hoc request, read one
with its timeline, cancel, and change status by the table. The same actions as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.catalog.models import ServiceItem, Tier
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders.access import access_order, allowed_moves, can_request_for, filter_orders, may_list_orders
from sanshe.orders.actions import change_order_status, create_order, create_request_link, revoke_request_link
from sanshe.orders.models import OrderSource, OrderStatus, RequestLink, ServiceOrder
from sanshe.orders.plans import funding_of
from sanshe.people.access import access_person

router = Router(tags=["照护方案与工单"])
MAX_LIMIT = 200


class OrderOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    community: str
    item_id: int
    item: str
    tier: str
    status: str
    status_label: str
    source: str
    urgent: bool
    window_start: dt.datetime
    window_end: dt.datetime
    minutes: int
    provider_id: int | None
    provider: str
    caregiver_id: int | None
    caregiver: str
    plan_item_id: int | None
    notes: str


class EventOut(Schema):
    from_status: str
    to_status: str
    at: dt.datetime
    actor: str
    reason: str
    caregiver: str


class MoveOut(Schema):
    to_status: str
    label: str
    needs_reason: bool


class OrderDetailOut(OrderOut):
    address: str
    requested_by: str
    assignment: dict[str, Any] = Field(description="派单依据：by（auto 自动 / dispatcher 调度员）和 lines（理由）")
    events: list[EventOut]
    allowed: list[MoveOut] = Field(description="当前用户可将工单变更为的状态")


def order_out(o: ServiceOrder) -> dict[str, Any]:
    return {
        "id": o.pk, "person_id": o.person_id, "person_name": o.person.masked_name, "community": o.community.name,
        "item_id": o.item_id, "item": o.item.name, "tier": o.tier, "status": o.status,
        "status_label": OrderStatus(o.status).label, "source": o.source, "urgent": o.urgent,
        "window_start": o.window_start, "window_end": o.window_end, "minutes": o.minutes,
        "provider_id": o.provider_id, "provider": o.provider.name if o.provider else "",
        "caregiver_id": o.caregiver_id, "caregiver": o.caregiver.name if o.caregiver else "",
        "plan_item_id": o.plan_item_id, "notes": o.notes,
    }


def detail_out(user: Any, o: ServiceOrder) -> dict[str, Any]:
    return order_out(o) | {
        "address": o.address, "requested_by": o.requested_by_name, "assignment": o.assignment or {},
        "events": [{"from_status": e.from_status, "to_status": e.to_status, "at": e.at, "actor": e.actor_name,
                    "reason": e.reason, "caregiver": e.caregiver.name if e.caregiver else ""}
                   for e in o.events.select_related("caregiver")],
        "allowed": [{"to_status": m["to"], "label": m["label"], "needs_reason": m["needs_reason"]}
                    for m in allowed_moves(user, o)],
    }


@router.get("/orders", response=list[OrderOut], summary="服务工单（按权限范围；姓名脱敏；记入审计日志）")
def list_orders(request: HttpRequest, status: str = "", date_from: dt.date | None = None,
                date_to: dt.date | None = None, item_id: int | None = None, community_id: int | None = None,
                provider_id: int | None = None, urgent: bool | None = None, person_id: int | None = None,
                limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    user = request.user
    if not may_list_orders(user):
        raise PermissionDenied("您没有查看服务工单的权限")
    if status and status != "open" and status not in OrderStatus.values:
        raise UserError(f"status 应为 open 或 {'、'.join(OrderStatus.values)}", field="status")
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    qs = filter_orders(user, status=status, date_from=date_from, date_to=date_to, item_id=item_id,
                       community_id=community_id, provider_id=provider_id, urgent=urgent, person_id=person_id)
    rows = list(qs.select_related("person", "item", "community", "provider", "caregiver")
                .order_by("-window_start", "-id")[offset:offset + limit])
    record_event(user, AuditAction.VIEW_SERVICE, request=request, subject="服务工单列表", row_count=len(rows),
                 detail={"status": status, "person": person_id, "offset": offset})
    return [order_out(o) for o in rows]


class OrderIn(Schema):
    person_id: int
    item_id: int
    date: dt.date = Field(description="服务日期")
    window_start: dt.time = Field(description="最早开始时间，如 09:00")
    window_end: dt.time = Field(description="最晚开始时间，如 11:00")
    urgent: bool = False
    notes: str = Field("", max_length=300)
    tier: str | None = Field(None, description="free / low_cost / paid；不填按本人享受的档次")
    source: str = Field(OrderSource.COMMUNITY, description="community 社区代为申请 / call_centre 呼叫中心")
    requested_by_name: str = Field("", max_length=50, description="申请人（来电的老人或家属）")


@router.post("/orders", response={201: OrderDetailOut}, summary="代为申请服务（社区或呼叫中心下单）")
def post_order(request: HttpRequest, payload: OrderIn) -> Status:
    user: Any = request.user
    person = access_person(user, payload.person_id)
    if not can_request_for(user, person):
        raise PermissionDenied("您没有为该老人代为申请服务的权限")
    if payload.source not in (OrderSource.COMMUNITY, OrderSource.CALL_CENTRE):
        raise UserError("source 应为 community 或 call_centre", field="source")
    item = ServiceItem.objects.filter(pk=payload.item_id).first()
    if item is None:
        raise UserError("没有该服务项目", field="item_id")
    tier = payload.tier or funding_of(person, timezone.localdate()).tier
    if tier not in Tier.values:
        raise UserError("tier 应为 free、low_cost 或 paid", field="tier")
    order = create_order(
        person=person, item=item, source=payload.source, acting_user=user, urgent=payload.urgent,
        notes=payload.notes, tier=tier, requested_by_name=payload.requested_by_name or user.display_name,
        window_start=timezone.make_aware(dt.datetime.combine(payload.date, payload.window_start)),
        window_end=timezone.make_aware(dt.datetime.combine(payload.date, payload.window_end)),
    )
    record_event(user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk, subject=f"工单 {order.pk}",
                 reason=f"代为申请：{item.name}")
    return Status(201, detail_out(user, access_order(user, order.pk)))


@router.get("/orders/{int:order_id}", response=OrderDetailOut, summary="工单详情：流转记录、派单依据、可执行的操作")
def get_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order = access_order(request.user, order_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                 subject=f"工单 {order.pk}")
    return detail_out(request.user, order)


class CancelIn(Schema):
    reason: str = Field(max_length=300, description="取消原因（必填）")


@router.post("/orders/{int:order_id}/cancel", response=OrderDetailOut, summary="取消工单（须填写原因）")
def cancel(request: HttpRequest, order_id: int, payload: CancelIn) -> dict[str, Any]:
    order = access_order(request.user, order_id, for_write=True)
    change_order_status(order, OrderStatus.CANCELLED, reason=payload.reason, acting_user=request.user,
                        request=request)
    return detail_out(request.user, access_order(request.user, order.pk))


class TransitionIn(Schema):
    to_status: str = Field(description="目标状态；派单和签到签退另有接口")
    reason: str = Field("", max_length=300, description="回退、取消、未服务、争议等须填写原因")


@router.post("/orders/{int:order_id}/transition", response=OrderDetailOut,
             summary="按状态表变更工单状态（仅限当前用户可执行的变更）")
def transition(request: HttpRequest, order_id: int, payload: TransitionIn) -> dict[str, Any]:
    order = access_order(request.user, order_id, for_write=True)
    change_order_status(order, payload.to_status, reason=payload.reason, acting_user=request.user, request=request)
    return detail_out(request.user, access_order(request.user, order.pk))


class LinkIn(Schema):
    person_id: int


class LinkOut(Schema):
    id: int
    person_id: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    url: str = Field("", description="个人自助下单链接（仅开通时返回一次，平台不保存）")


@router.post("/request-links", response={201: LinkOut},
             summary="为老人开通自助下单链接（链接只返回这一次，平台只保存其散列值）")
def create_link(request: HttpRequest, payload: LinkIn) -> Status:
    user = request.user
    person = access_person(user, payload.person_id)
    if not can_request_for(user, person):
        raise PermissionDenied("您没有为该老人开通自助下单的权限")
    link, token = create_request_link(person, acting_user=user)
    record_event(user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                 subject=f"自助下单链接 {link.pk}", reason="开通自助下单链接")
    url = request.build_absolute_uri(reverse("orders:self_service", args=[token]))
    return Status(201, {"id": link.pk, "person_id": person.pk, "created_at": link.created_at, "revoked_at": None,
                        "url": url})


@router.post("/request-links/{int:link_id}/revoke", response=LinkOut, summary="停用自助下单链接")
def revoke_link(request: HttpRequest, link_id: int) -> dict[str, Any]:
    user = request.user
    link = RequestLink.objects.filter(pk=link_id).first()
    if link is None:
        raise Http404("没有找到该链接")
    person = access_person(user, link.person_id)
    if not can_request_for(user, person):
        raise PermissionDenied("您没有停用该链接的权限")
    revoke_request_link(link, acting_user=user)
    record_event(user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                 subject=f"自助下单链接 {link.pk}", reason="停用自助下单链接")
    return {"id": link.pk, "person_id": person.pk, "created_at": link.created_at, "revoked_at": link.revoked_at}
