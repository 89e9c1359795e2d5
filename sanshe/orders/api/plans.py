"""API: care plans — list, draft from the assessment and entitlements, read one with its month
(cost against the quota, planned vs delivered), edit a draft's items, sign, revise, end."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.accounts.access import has_capability
from sanshe.accounts.models import Capability, Organization
from sanshe.catalog.access import provider_ids_of
from sanshe.catalog.models import Caregiver, ServiceItem
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import plans as plan_actions
from sanshe.orders.access import access_care_plan, can_draft_plan_for, visible_care_plans
from sanshe.orders.models import CarePlan, CarePlanStatus
from sanshe.people.access import access_person

router = Router(tags=["照护方案与工单"])


class PlanOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    provider_id: int
    provider: str
    version: int
    previous_id: int | None
    status: str
    status_label: str
    starts_on: dt.date
    ends_on: dt.date | None
    activated_at: dt.datetime | None
    ended_reason: str


class PlanItemOut(Schema):
    id: int
    item_id: int
    item: str
    tier: str
    weekdays: list[int] = Field(description="ISO 星期（1 = 周一）")
    window_start: dt.time
    window_end: dt.time
    minutes: int
    preferred_caregiver_id: int | None
    preferred_caregiver: str
    notes: str
    visits: int = Field(description="所查月份的服务次数")
    elder_cost: str | None = Field(description="所查月份本人自付（元）；未定价时为空")
    fund_cost: str | None = Field(description="所查月份财政补贴（元）")
    generated: int
    delivered: int = Field(description="已完成（待确认或已确认）")
    missed: int = Field(description="未服务")
    cancelled: int
    minutes_planned: int
    minutes_delivered: int


class SignatureOut(Schema):
    role: str
    signer_name: str
    signed_at: dt.datetime


class PlanDetailOut(PlanOut):
    needs: str
    goals: str
    assessment_id: int | None
    entitlements: list[dict[str, Any]]
    month: str = Field(description="统计月份 YYYY-MM")
    items: list[PlanItemOut]
    signatures: list[SignatureOut]
    elder_cost: str
    fund_cost: str
    quota: str | None = Field(description="每月服务额度（元），无则为空")
    over_quota: str = Field(description="财政补贴超出额度的金额（元）")


def plan_out(p: CarePlan) -> dict[str, Any]:
    return {"id": p.pk, "person_id": p.person_id, "person_name": p.person.masked_name, "provider_id": p.provider_id,
            "provider": p.provider.name, "version": p.version, "previous_id": p.previous_id, "status": p.status,
            "status_label": CarePlanStatus(p.status).label, "starts_on": p.starts_on, "ends_on": p.ends_on,
            "activated_at": p.activated_at, "ended_reason": p.ended_reason}


def detail_out(p: CarePlan, month: dt.date) -> dict[str, Any]:
    rows, cost = plan_actions.plan_month(p, month.year, month.month)
    items = []
    for r in rows:
        t = r.tally
        items.append({
            "id": r.row.pk, "item_id": r.row.item_id, "item": r.row.item.name, "tier": r.row.tier,
            "weekdays": r.row.weekdays, "window_start": r.row.window_start, "window_end": r.row.window_end,
            "minutes": r.row.minutes, "preferred_caregiver_id": r.row.preferred_caregiver_id,
            "preferred_caregiver": r.row.preferred_caregiver.name if r.row.preferred_caregiver else "",
            "notes": r.row.notes, "visits": r.visits, "elder_cost": f"{r.line.elder:.2f}" if r.line else None,
            "fund_cost": f"{r.line.fund:.2f}" if r.line else None, "generated": t.generated,
            "delivered": t.delivered, "missed": t.missed, "cancelled": t.cancelled,
            "minutes_planned": t.minutes_planned, "minutes_delivered": t.minutes_delivered,
        })
    return plan_out(p) | {
        "needs": p.needs, "goals": p.goals, "assessment_id": p.assessment_id, "entitlements": p.entitlements,
        "month": f"{month:%Y-%m}", "items": items,
        "signatures": [{"role": s.role, "signer_name": s.signer_name, "signed_at": s.signed_at}
                       for s in p.signatures.all()],
        "elder_cost": f"{cost.elder:.2f}", "fund_cost": f"{cost.fund:.2f}",
        "quota": f"{cost.quota:.2f}" if cost.quota is not None else None, "over_quota": f"{cost.over_quota:.2f}",
    }


def _month(value: str) -> dt.date:
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        return dt.date.fromisoformat(value + "-01")
    except ValueError:
        raise UserError("month 应为 YYYY-MM", field="month") from None


@router.get("/care-plans", response=list[PlanOut], summary="照护方案（按权限范围；姓名脱敏）")
def list_plans(request: HttpRequest, person_id: int | None = None, status: str = "") -> list[dict[str, Any]]:
    user = request.user
    if not (has_capability(user, Capability.VIEW_SERVICES) or provider_ids_of(user)):
        raise PermissionDenied("您没有查看照护方案的权限")
    qs = visible_care_plans(user).select_related("person", "provider")
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if status:
        if status not in CarePlanStatus.values:
            raise UserError(f"status 应为 {'、'.join(CarePlanStatus.values)}", field="status")
        qs = qs.filter(status=status)
    rows = list(qs.order_by("-created_at", "-id")[:500])
    record_event(user, AuditAction.VIEW_SERVICE, request=request, subject="照护方案列表", row_count=len(rows))
    return [plan_out(p) for p in rows]


class DraftIn(Schema):
    person_id: int
    provider_id: int
    starts_on: dt.date | None = None


@router.post("/care-plans", response={201: PlanDetailOut},
             summary="起草照护方案：按最新有效评估的能力等级建议服务项目，按享受的待遇定收费档次")
def draft(request: HttpRequest, payload: DraftIn) -> Status:
    person = access_person(request.user, payload.person_id)
    if not can_draft_plan_for(request.user, person):
        raise PermissionDenied("您没有为该老人制定照护方案的权限")
    provider = Organization.objects.filter(pk=payload.provider_id, kind="provider").first()
    if provider is None:
        raise UserError("没有该服务机构", field="provider_id")
    plan = plan_actions.draft_care_plan(person, provider, acting_user=request.user, starts_on=payload.starts_on,
                                        request=request)
    return Status(201, detail_out(access_care_plan(request.user, plan.pk), _month("")))


@router.get("/care-plans/{int:plan_id}", response=PlanDetailOut,
            summary="方案详情及某月的费用、计划与实际服务（month=YYYY-MM，默认本月）")
def get_plan(request: HttpRequest, plan_id: int, month: str = "") -> dict[str, Any]:
    plan = access_care_plan(request.user, plan_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=plan.person_id,
                 subject=f"照护方案 {plan.pk}")
    return detail_out(plan, _month(month))


class ItemIn(Schema):
    item_id: int
    tier: str
    weekdays: list[int]
    window_start: dt.time
    window_end: dt.time
    minutes: int
    preferred_caregiver_id: int | None = None
    notes: str = Field("", max_length=200)


@router.post("/care-plans/{int:plan_id}/items", response={201: PlanDetailOut}, summary="为草稿添加服务项目")
def add_item(request: HttpRequest, plan_id: int, payload: ItemIn) -> Status:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    item = ServiceItem.objects.filter(pk=payload.item_id).first()
    if item is None:
        raise UserError("没有该服务项目", field="item_id")
    caregiver = None
    if payload.preferred_caregiver_id is not None:
        caregiver = Caregiver.objects.filter(pk=payload.preferred_caregiver_id).first()
        if caregiver is None:
            raise UserError("没有该护理员", field="preferred_caregiver_id")
    plan_actions.add_plan_item(plan, item=item, tier=payload.tier, weekdays=list(payload.weekdays),
                               window_start=payload.window_start, window_end=payload.window_end,
                               minutes=payload.minutes, preferred_caregiver=caregiver, notes=payload.notes,
                               acting_user=request.user)
    return Status(201, detail_out(access_care_plan(request.user, plan.pk), _month("")))


@router.delete("/care-plans/{int:plan_id}/items/{int:item_id}", response=PlanDetailOut, summary="删除草稿的服务项目")
def remove_item(request: HttpRequest, plan_id: int, item_id: int) -> dict[str, Any]:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    plan_actions.remove_plan_item(plan, item_id, acting_user=request.user)
    return detail_out(access_care_plan(request.user, plan.pk), _month(""))


class SignIn(Schema):
    role: str = Field(description="community 社区 / provider 服务机构 / elder 老年人本人 / guardian 监护人")
    signer_name: str = Field(max_length=50)
    image: str = Field(description="手写签名 PNG（data:image/png;base64,...）")


@router.post("/care-plans/{int:plan_id}/signatures", response=PlanDetailOut,
             summary="签署方案；社区、服务机构和老人（或监护人）三方签齐后生效，并替代原执行中的版本")
def sign(request: HttpRequest, plan_id: int, payload: SignIn) -> dict[str, Any]:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    plan_actions.sign_care_plan(plan, role=payload.role, signer_name=payload.signer_name, image=payload.image,
                                acting_user=request.user, request=request)
    return detail_out(access_care_plan(request.user, plan.pk), _month(""))


@router.post("/care-plans/{int:plan_id}/revise", response={201: PlanDetailOut},
             summary="修改方案：以执行中的方案为底稿生成新版本草稿（原方案不变）")
def revise(request: HttpRequest, plan_id: int) -> Status:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    new = plan_actions.revise_care_plan(plan, acting_user=request.user, request=request)
    return Status(201, detail_out(access_care_plan(request.user, new.pk), _month("")))


class EndIn(Schema):
    reason: str = Field(max_length=300)
    ends_on: dt.date | None = Field(None, description="终止日期，默认今天；其后尚未开始的工单将取消")


@router.post("/care-plans/{int:plan_id}/end", response=PlanDetailOut, summary="终止方案（须填写原因）")
def end(request: HttpRequest, plan_id: int, payload: EndIn) -> dict[str, Any]:
    plan = access_care_plan(request.user, plan_id, for_write=True)
    plan_actions.end_care_plan(plan, reason=payload.reason, acting_user=request.user, ends_on=payload.ends_on,
                               request=request)
    return detail_out(access_care_plan(request.user, plan.pk), _month(""))
