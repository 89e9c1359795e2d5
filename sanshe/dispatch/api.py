"""API 派单调度: an order's candidates with reasons, automatic assignment, the dispatcher's override,
broadcast offers and their answers, and the call centre's urgent order. The same actions and
access checks as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from sanshe.catalog.models import ServiceItem
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.dispatch.access import access_dispatch_order, access_offer, access_pickable_caregiver, access_urgent_person
from sanshe.dispatch.actions import (
    DispatchOutcome,
    accept_offer,
    auto_assign,
    broadcast_order,
    decline_offer,
    override_assign,
    place_urgent_order,
)
from sanshe.dispatch.matching import match_order
from sanshe.dispatch.rules import Candidate
from sanshe.orders.models import ServiceOrder

router = Router(tags=["派单调度"])


class CandidateOut(Schema):
    caregiver_id: int
    name: str
    provider_id: int
    provider: str
    eligible: bool
    lines: list[str] = Field(description="派单依据（不可派时为排除原因）")
    excluded_reason: str
    travel_minutes: float
    distance_m: int
    start_at: dt.datetime | None = Field(description="可开始服务的最早时间")


class CandidatesOut(Schema):
    order_id: int
    circle_minutes: int
    problem: str
    candidates: list[CandidateOut] = Field(description="可派的护理员，排序：固定护理员、服务次数、当天工作量、路程")
    excluded: list[CandidateOut] = Field(description="不可派的护理员及原因，按路程")


class AssignmentOut(Schema):
    order_id: int
    status: str
    caregiver_id: int | None
    caregiver: str
    provider_id: int | None
    by: str = Field(description="auto 自动派单；dispatcher 调度员指定；offer 护理员抢单")
    lines: list[str]
    offers: int = Field(description="未能派出时广播的抢单邀请数")
    message: str


class OverrideIn(Schema):
    caregiver_id: int
    reason: str = Field(description="指定原因（必填）", max_length=300)


class DeclineIn(Schema):
    reason: str = Field("", max_length=200)


class UrgentIn(Schema):
    person_id: int
    item_id: int
    caller: str = Field("", max_length=50, description="来电人")
    notes: str = Field("", max_length=300)


class OfferOut(Schema):
    id: int
    order_id: int
    response: str


def _candidate(c: Candidate) -> dict[str, Any]:
    return {"caregiver_id": c.caregiver_id, "name": c.name, "provider_id": c.provider_id,
            "provider": c.provider_name, "eligible": c.eligible, "lines": c.lines,
            "excluded_reason": c.excluded_reason, "travel_minutes": round(c.travel_min, 1),
            "distance_m": round(c.distance_m), "start_at": c.start_at}


def _assignment(order: ServiceOrder, outcome: DispatchOutcome | None = None) -> dict[str, Any]:
    order.refresh_from_db()
    info = order.assignment or {}
    return {"order_id": order.pk, "status": order.status, "caregiver_id": order.caregiver_id,
            "caregiver": order.caregiver.name if order.caregiver else "", "provider_id": order.provider_id,
            "by": info.get("by", ""), "lines": info.get("lines", []),
            "offers": outcome.offers if outcome else 0,
            "message": outcome.message if outcome else ""}


@router.get("/dispatch/orders/{order_id}/candidates", response=CandidatesOut,
            summary="工单的推荐护理员（含理由）和不可派的护理员（含原因）")
def candidates(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order = access_dispatch_order(request.user, order_id)
    result = match_order(order)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                 subject=f"派单候选：工单 {order.pk}")
    return {"order_id": order.pk, "circle_minutes": result.circle_minutes, "problem": result.problem,
            "candidates": [_candidate(c) for c in result.candidates],
            "excluded": [_candidate(c) for c in result.excluded[:50]]}


@router.post("/dispatch/orders/{order_id}/auto-assign", response=AssignmentOut,
             summary="自动派单：派给排名第一的护理员；没有时广播抢单")
def auto(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order = access_dispatch_order(request.user, order_id)
    outcome = auto_assign(order, acting_user=request.user)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"自动派单：工单 {order.pk}")
    return _assignment(outcome.order, outcome)


@router.post("/dispatch/orders/{order_id}/override", response=AssignmentOut,
             summary="调度员指定护理员（须填写原因；无资质或非承接机构的护理员仍被拒绝）")
def override(request: HttpRequest, order_id: int, payload: OverrideIn) -> dict[str, Any]:
    order = access_dispatch_order(request.user, order_id)
    caregiver = access_pickable_caregiver(request.user, order, payload.caregiver_id)
    order = override_assign(order, caregiver, acting_user=request.user, reason=payload.reason)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"指定护理员：工单 {order.pk}", reason=payload.reason, detail={"caregiver": caregiver.pk})
    return _assignment(order)


@router.post("/dispatch/orders/{order_id}/broadcast", response=list[OfferOut],
             summary="广播抢单：向附近可接单的护理员发出邀请")
def broadcast(request: HttpRequest, order_id: int) -> list[dict[str, Any]]:
    order = access_dispatch_order(request.user, order_id)
    offers = broadcast_order(order)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"广播抢单：工单 {order.pk}", row_count=len(offers))
    return [{"id": o.pk, "order_id": order.pk, "response": o.response}
            for o in order.offers.filter(caregiver_id__in=[o.caregiver_id for o in offers])]


@router.post("/dispatch/offers/{offer_id}/accept", response=AssignmentOut, summary="护理员抢单（先到先得）")
def accept(request: HttpRequest, offer_id: int) -> dict[str, Any]:
    offer = access_offer(request.user, offer_id)
    order = accept_offer(offer, acting_user=request.user)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=order.person_id,
                 subject=f"抢单成功：工单 {order.pk}")
    return _assignment(order)


@router.post("/dispatch/offers/{offer_id}/decline", response=OfferOut, summary="护理员放弃抢单")
def decline(request: HttpRequest, offer_id: int, payload: DeclineIn) -> dict[str, Any]:
    offer = decline_offer(access_offer(request.user, offer_id), acting_user=request.user, reason=payload.reason)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=offer.order.person_id,
                 subject=f"放弃抢单：工单 {offer.order_id}")
    return {"id": offer.pk, "order_id": offer.order_id, "response": offer.response}


@router.post("/dispatch/urgent-orders", response={201: AssignmentOut},
             summary="紧急下单：现在起 2 小时内上门，立即自动派单并返回派单依据")
def urgent(request: HttpRequest, payload: UrgentIn) -> Status:
    person = access_urgent_person(request.user, payload.person_id)
    item = ServiceItem.objects.filter(pk=payload.item_id, is_active=True).first()
    if item is None:
        raise UserError("没有找到该服务项目或已停用", field="item_id")
    outcome = place_urgent_order(person=person, item=item, acting_user=request.user, notes=payload.notes,
                                 requested_by_name=payload.caller)
    record_event(request.user, AuditAction.CHANGE_ORDER, request=request, person_id=person.pk,
                 subject=f"紧急下单：工单 {outcome.order.pk}")
    return Status(201, _assignment(outcome.order, outcome))
