"""API: approval batches with their rows (masked), the decisions (approve, reject, withdraw a row,
resubmit), the public notice as .xlsx, objections, activation and the notice period. The same
actions and access checks as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.downloads import xlsx_response
from sanshe.core.errors import UserError
from sanshe.eligibility import access, approvals
from sanshe.eligibility.models import (
    ApprovalBatch,
    BatchStatus,
    Entitlement,
    NoticeObjection,
    ObjectionResolution,
)

router = Router(tags=["待遇审批与公示"])


class StepOut(Schema):
    level: str
    level_label: str
    decision: str
    decision_label: str
    decided_by: str
    decided_at: dt.datetime
    comment: str


class RowOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    id_number: str = Field(description="身份证号（脱敏）")
    community: str
    policy_code: str
    policy: str
    change: str = Field(description="new 新增、changed 变更")
    amount: Decimal
    payable: Decimal
    status: str
    status_label: str
    end_reason: str = Field(description="撤回或异议成立的原因")
    reasons: list[str] = Field(description="符合的条件（月度计算写入的依据）")


class ObjectionOut(Schema):
    id: int
    entitlement_id: int | None
    objector: str
    contact: str
    content: str
    recorded_at: dt.datetime
    resolution: str = Field(description="空为待处理；upheld 异议成立；dismissed 异议不成立")
    resolution_note: str
    resolved_at: dt.datetime | None


class BatchOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    month: dt.date
    district_code: str
    community_code: str
    community: str
    street: str
    maker: str | None
    rows: int = Field(description="有效行数（不含已撤回、异议成立取消的）")
    amount_total: Decimal
    payable_total: Decimal
    returned_reason: str
    notice_starts: dt.date | None
    notice_ends: dt.date | None
    activated_at: dt.datetime | None
    open_objections: int
    can_decide: bool = Field(description="当前用户能否审核该批次的当前环节")
    refusal: str = Field(description="不能审核时的原因")


class BatchDetailOut(BatchOut):
    steps: list[StepOut]
    entitlements: list[RowOut]
    objections: list[ObjectionOut]


class CommentIn(Schema):
    comment: str = ""


class ReasonIn(Schema):
    reason: str


class ObjectionIn(Schema):
    objector: str
    contact: str = ""
    content: str
    entitlement_id: int | None = Field(None, description="异议针对的公示对象（待遇行 id），可不填")


class ResolveIn(Schema):
    resolution: str = Field(description="upheld 异议成立（取消该待遇）或 dismissed 异议不成立（维持）")
    note: str = Field(description="核实情况")
    entitlement_id: int | None = Field(None, description="异议未指明对象而成立时，须指定被取消的待遇行 id")


class SettingsIO(Schema):
    notice_days: int = Field(description="公示天数（1–30）")


def _batch_out(user: Any, b: ApprovalBatch) -> dict[str, Any]:
    verdict = approvals.can_decide(user, b)
    live = b.entitlements.filter(status__in=approvals.LIVE)
    totals = getattr(b, "row_count", None)
    if totals is None:
        agg = live.aggregate(n=Count("id"), a=Sum("amount"), p=Sum("payable"))
        rows, amount, payable = agg["n"], agg["a"], agg["p"]
        open_count = b.objections.filter(resolution=ObjectionResolution.OPEN).count()
    else:
        rows, amount, payable = b.row_count, b.amount_total, b.payable_total  # type: ignore[attr-defined]
        open_count = b.open_objections  # type: ignore[attr-defined]
    street = b.community.parent
    return {
        "id": b.pk, "kind": b.kind, "kind_label": b.get_kind_display(), "status": b.status,
        "status_label": b.get_status_display(), "month": b.month, "district_code": b.district.code,
        "community_code": b.community.code, "community": b.community.name, "street": street.name if street else "",
        "maker": b.maker.display_name if b.maker else None, "rows": rows or 0,
        "amount_total": amount or Decimal(0), "payable_total": payable or Decimal(0),
        "returned_reason": b.returned_reason, "notice_starts": b.notice_starts, "notice_ends": b.notice_ends,
        "activated_at": b.activated_at, "open_objections": open_count, "can_decide": bool(verdict),
        "refusal": verdict.reason,
    }


def _row_out(e: Entitlement) -> dict[str, Any]:
    checks = e.reason.get("checks") if isinstance(e.reason, dict) else None
    return {
        "id": e.pk, "person_id": e.person_id, "person_name": e.person.masked_name,
        "id_number": e.person.id_number_masked, "community": e.person.residence_region.name,
        "policy_code": e.policy.code, "policy": e.policy.name, "change": e.change, "amount": e.amount,
        "payable": e.payable, "status": e.status, "status_label": e.get_status_display(), "end_reason": e.end_reason,
        "reasons": [str(c) for c in checks] if isinstance(checks, list) else [],
    }


def _objection_out(o: NoticeObjection) -> dict[str, Any]:
    return {"id": o.pk, "entitlement_id": o.entitlement_id, "objector": o.objector, "contact": o.contact,
            "content": o.content, "recorded_at": o.recorded_at, "resolution": o.resolution,
            "resolution_note": o.resolution_note, "resolved_at": o.resolved_at}


def _detail(request: HttpRequest, b: ApprovalBatch) -> dict[str, Any]:
    fresh = access.access_batch(request.user, b.pk)
    rows = list(fresh.entitlements.select_related("person__residence_region", "policy").order_by("person_id", "id"))
    approvals.record_rows_view(fresh, acting_user=request.user, rows=len(rows), request=request)
    data = _batch_out(request.user, fresh)
    data["steps"] = [{"level": s.level, "level_label": s.get_level_display(), "decision": s.decision,
                      "decision_label": s.get_decision_display(), "decided_by": s.decided_by.display_name,
                      "decided_at": s.decided_at, "comment": s.comment}
                     for s in fresh.steps.select_related("decided_by")]
    data["entitlements"] = [_row_out(e) for e in rows]
    data["objections"] = [_objection_out(o) for o in fresh.objections.all()]
    return data


def _fetch(request: HttpRequest, batch_id: int) -> ApprovalBatch:
    return access.access_batch(request.user, batch_id)


def _row_of(b: ApprovalBatch, entitlement_id: int | None) -> Entitlement | None:
    if entitlement_id is None:
        return None
    row = b.entitlements.filter(pk=entitlement_id).first()
    if row is None:
        raise UserError("所选待遇不在该批次中", field="entitlement_id")
    return row


@router.get("/approvals/batches", response=list[BatchOut],
            summary="可见的审批批次；mine=decide 为待我审批，mine=fix 为退回待我修改")
def list_batches(request: HttpRequest, status: str = "", mine: str = "", limit: int = 50,
                 offset: int = 0) -> list[dict[str, Any]]:
    user = request.user
    if not access.can_read_batches(user):
        raise PermissionDenied("您没有查看待遇审批的权限")
    limit = max(1, min(limit, 200))
    if mine == "decide":
        return [_batch_out(user, b) for b in approvals.batches_to_decide(user)[offset:offset + limit]]
    if mine == "fix":
        return [_batch_out(user, b) for b in approvals.batches_to_fix(user)[offset:offset + limit]]
    if mine:
        raise UserError("mine 应为 decide 或 fix", field="mine")
    qs = approvals.with_totals(access.visible_batches(user)).select_related("community__parent", "district",
                                                                               "maker").prefetch_related("steps")
    if status:
        if status not in BatchStatus.values:
            raise UserError(f"状态“{status}”无效", field="status")
        qs = qs.filter(status=status)
    return [_batch_out(user, b) for b in qs.order_by("-month", "community__code", "-id")[offset:offset + limit]]


@router.get("/approvals/batches/{int:batch_id}", response=BatchDetailOut,
            summary="批次详情：待遇行（姓名、身份证号脱敏）、审批记录、公示异议")
def get_batch(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    return _detail(request, _fetch(request, batch_id))


@router.post("/approvals/batches/{int:batch_id}/approve", response=BatchDetailOut,
             summary="审核通过当前环节（社区→街道→区民政）；区民政审批通过后进入公示")
def approve(request: HttpRequest, batch_id: int, payload: CommentIn) -> dict[str, Any]:
    b = approvals.approve(_fetch(request, batch_id), acting_user=request.user, comment=payload.comment,
                          request=request)
    return _detail(request, b)


@router.post("/approvals/batches/{int:batch_id}/reject", response=BatchDetailOut,
             summary="退回经办人（须写明原因）")
def reject(request: HttpRequest, batch_id: int, payload: ReasonIn) -> dict[str, Any]:
    b = approvals.reject(_fetch(request, batch_id), acting_user=request.user, reason=payload.reason,
                         request=request)
    return _detail(request, b)


@router.post("/approvals/batches/{int:batch_id}/rows/{int:entitlement_id}/withdraw", response=BatchDetailOut,
             summary="从被退回的批次中撤回一项待遇（须写明原因）")
def withdraw(request: HttpRequest, batch_id: int, entitlement_id: int, payload: ReasonIn) -> dict[str, Any]:
    b = _fetch(request, batch_id)
    row = b.entitlements.filter(pk=entitlement_id).first()
    if row is None:
        raise Http404("没有找到该待遇")
    approvals.withdraw(row, acting_user=request.user, reason=payload.reason, request=request)
    return _detail(request, b)


@router.post("/approvals/batches/{int:batch_id}/resubmit", response=BatchDetailOut,
             summary="修改后重新提交，从社区审核环节重新开始")
def resubmit(request: HttpRequest, batch_id: int, payload: CommentIn) -> dict[str, Any]:
    b = approvals.resubmit(_fetch(request, batch_id), acting_user=request.user, comment=payload.comment,
                           request=request)
    return _detail(request, b)


@router.get("/approvals/batches/{int:batch_id}/notice.xlsx",
            summary="公示名单（.xlsx，姓名和身份证号脱敏）")
def notice_xlsx(request: HttpRequest, batch_id: int) -> HttpResponse:
    b = _fetch(request, batch_id)
    if b.status not in (BatchStatus.NOTICE, BatchStatus.ACTIVE) or b.notice_starts is None:
        raise Http404("该批次尚未进入公示")
    rows = approvals.notice_rows(b)
    content = approvals.notice_xlsx(b, rows)
    approvals.record_notice_export(b, acting_user=request.user, rows=len(rows), kind="xlsx", request=request)
    return xlsx_response(content, f"{approvals.notice_title(b)}-{b.community.name}.xlsx")


@router.post("/approvals/batches/{int:batch_id}/objections", response={201: ObjectionOut},
             summary="登记公示期间收到的异议")
def create_objection(request: HttpRequest, batch_id: int, payload: ObjectionIn) -> Status:
    b = _fetch(request, batch_id)
    objection = approvals.record_objection(b, objector=payload.objector, contact=payload.contact,
                                           content=payload.content, entitlement=_row_of(b, payload.entitlement_id),
                                           acting_user=request.user, request=request)
    return Status(201, _objection_out(objection))


@router.post("/approvals/objections/{int:objection_id}/resolve", response=ObjectionOut,
             summary="处理异议：成立则取消该待遇；不成立则维持公示")
def resolve_objection(request: HttpRequest, objection_id: int, payload: ResolveIn) -> dict[str, Any]:
    objection = access.access_objection(request.user, objection_id)
    b = _fetch(request, objection.batch_id)
    done = approvals.resolve_objection(objection, resolution=payload.resolution, note=payload.note,
                                       entitlement=_row_of(b, payload.entitlement_id), acting_user=request.user,
                                       request=request)
    return _objection_out(done)


@router.post("/approvals/batches/{int:batch_id}/activate", response=BatchDetailOut,
             summary="公示期满、异议处理完毕后确认生效（区民政）")
def activate(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    b = approvals.activate(_fetch(request, batch_id), acting_user=request.user, request=request)
    return _detail(request, b)


def _district(request: HttpRequest, region_code: str) -> Region:
    """A district the user works in (at any level inside it); others 404."""
    region = Region.objects.filter(code=region_code.ljust(12, "0"), level=RegionLevel.DISTRICT).first()
    if region is None or not access.works_in(request.user, region, Capability.VIEW_ENTITLEMENTS,
                                             Capability.APPROVE_ENTITLEMENTS, Capability.MANAGE_POLICIES):
        raise Http404("没有找到该区县")
    return region


@router.get("/approvals/settings", response=SettingsIO, summary="本区待遇公示天数")
def get_settings(request: HttpRequest, region_code: str) -> dict[str, Any]:
    return {"notice_days": approvals.settings_for(_district(request, region_code)).notice_days}


@router.put("/approvals/settings", response=SettingsIO, summary="修改本区待遇公示天数（区民政）")
def put_settings(request: HttpRequest, region_code: str, payload: SettingsIO) -> dict[str, Any]:
    found = approvals.update_settings(_district(request, region_code), notice_days=payload.notice_days,
                                      acting_user=request.user, request=request)
    return {"notice_days": found.notice_days}
