"""API: delivering and verifying services (tag 上门服务与核验). The caregiver's endpoints under
/service/mine/ only ever see the caregiver's own orders; reviewers read records (audited), export
them, review flagged ones and resolve alerts. The same actions and access checks as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from sanshe.catalog.access import caregiver_of
from sanshe.catalog.models import Caregiver
from sanshe.core.audit import record_event
from sanshe.core.downloads import xlsx_response
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.orders import delivery
from sanshe.orders.api.beds import router as beds_router
from sanshe.orders.flags import flag_labels
from sanshe.orders.models import Alert, AlertKind, Complaint, OrderStatus, ServiceOrder, ServiceRecord
from sanshe.orders.record_access import (
    access_alert,
    access_caregiver_order,
    access_complaint,
    access_record,
    can_handle_complaint,
    can_resolve_alert,
    can_review,
    caregiver_orders,
    visible_alerts,
    visible_complaints,
    visible_records,
)
from sanshe.orders.record_export import RecordFilter, records_xlsx, with_related
from sanshe.orders.watch import resolve_alert

router = Router(tags=["上门服务与核验"])
MAX_LIMIT = 200


class ElderOut(Schema):
    name: str
    sex: str
    age: int
    address: str
    phone: str
    allergies: str
    medications: str
    emergency_name: str
    emergency_relation: str
    emergency_phone: str


class RecordOut(Schema):
    id: int
    order_id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    community: str
    item: str
    provider: str
    caregiver: str
    service_date: dt.date
    address: str
    check_in_at: dt.datetime
    check_in_distance_m: int | None = Field(description="签到位置距服务地址（米）；无定位为空")
    check_out_at: dt.datetime | None
    minutes: int | None
    tasks_done: list[str]
    notes: str
    flags: list[str]
    flag_labels: list[str]
    review_status: str = Field(description="空 无需核查；pending 待核查；cleared 通过；rejected 不通过")
    review_note: str
    confirmation: str = Field(description="空 未确认；signature 签字；code 验证码；review 人工核实")
    confirmed_at: dt.datetime | None
    confirmed_by_name: str
    rating: int | None
    rating_comment: str
    photo_count: int


class CaregiverOrderOut(Schema):
    id: int
    item: str
    tasks: list[str] = Field(description="服务内容清单")
    status: str
    status_label: str
    urgent: bool
    window_start: dt.datetime
    window_end: dt.datetime
    minutes: int
    notes: str
    elder: ElderOut = Field(description="服务所需的最少信息（不含身份证号、经济状况）")
    record: RecordOut | None


class OutcomeOut(Schema):
    confirmed: bool = Field(description="false 表示已记录确认，但记录有异常须核查")
    message: str
    record: RecordOut


def record_out(r: ServiceRecord) -> dict[str, Any]:
    return {
        "id": r.pk, "order_id": r.order_id, "person_id": r.person_id, "person_name": r.person.masked_name,
        "community": r.order.community.name, "item": r.item.name, "provider": r.provider.name,
        "caregiver": r.caregiver.name, "service_date": r.service_date, "address": r.address,
        "check_in_at": r.check_in_at, "check_in_distance_m": r.check_in_distance_m, "check_out_at": r.check_out_at,
        "minutes": r.minutes, "tasks_done": list(r.tasks_done), "notes": r.notes, "flags": list(r.flags),
        "flag_labels": flag_labels(r.flags), "review_status": r.review_status, "review_note": r.review_note,
        "confirmation": r.confirmation, "confirmed_at": r.confirmed_at, "confirmed_by_name": r.confirmed_by_name,
        "rating": r.rating, "rating_comment": r.rating_comment, "photo_count": r.photos.count(),
    }


def _caregiver(request: HttpRequest) -> Caregiver:
    caregiver = caregiver_of(request.user)
    if caregiver is None:
        raise Http404("您不是在职护理员")
    return caregiver


def _record_of(order: ServiceOrder) -> ServiceRecord | None:
    return ServiceRecord.objects.filter(order=order).select_related(
        "person", "order__community", "item", "provider", "caregiver").first()


def caregiver_order_out(order: ServiceOrder) -> dict[str, Any]:
    record = _record_of(order)
    return {
        "id": order.pk, "item": order.item.name, "tasks": list(order.item.tasks or []), "status": order.status,
        "status_label": OrderStatus(order.status).label, "urgent": order.urgent, "window_start": order.window_start,
        "window_end": order.window_end, "minutes": order.minutes, "notes": order.notes,
        "elder": delivery.elder_card(order), "record": record_out(record) if record else None,
    }


def _mine(request: HttpRequest, order_id: int) -> tuple[ServiceOrder, Caregiver]:
    caregiver = _caregiver(request)
    return access_caregiver_order(request.user, order_id), caregiver


def _mine_record(request: HttpRequest, order_id: int) -> tuple[ServiceRecord, Caregiver]:
    order, caregiver = _mine(request, order_id)
    record = _record_of(order)
    if record is None:
        raise UserError("该工单尚未签到")
    return record, caregiver


def _fresh(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return caregiver_order_out(access_caregiver_order(request.user, order_id))


# --- the caregiver ------------------------------------------------------------------------------


@router.get("/service/mine/orders", response=list[CaregiverOrderOut],
            summary="护理员：某日（默认今天）分派给我的工单，按开始时间排序（记入审计日志）")
def my_orders(request: HttpRequest, date: dt.date | None = None) -> list[dict[str, Any]]:
    _caregiver(request)
    day = date or timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    orders = list(caregiver_orders(request.user).filter(
        window_start__gte=start, window_start__lt=start + dt.timedelta(days=1)).exclude(
        status=OrderStatus.CANCELLED).select_related("person", "item").order_by("window_start", "id"))
    for order in orders:
        record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                     subject=f"护理员工单 {order.pk}")
    return [caregiver_order_out(o) for o in orders]


@router.get("/service/mine/orders/{int:order_id}", response=CaregiverOrderOut, summary="护理员：我的一个工单")
def my_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order, _ = _mine(request, order_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=order.person_id,
                 subject=f"护理员工单 {order.pk}")
    return caregiver_order_out(order)


class ReasonIn(Schema):
    reason: str = Field(max_length=200)


class PositionIn(Schema):
    latitude: float | None = Field(None, description="手机定位纬度（WGS-84）；取不到定位时不传")
    longitude: float | None = None


@router.post("/service/mine/orders/{int:order_id}/accept", response=CaregiverOrderOut, summary="护理员：接单")
def accept(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order, caregiver = _mine(request, order_id)
    delivery.accept_order(order, caregiver=caregiver, acting_user=request.user)
    return _fresh(request, order_id)


@router.post("/service/mine/orders/{int:order_id}/decline", response={200: dict[str, Any]},
             summary="护理员：拒单（须填写原因；工单退回调度，之后不再出现在我的工单中）")
def decline(request: HttpRequest, order_id: int, payload: ReasonIn) -> dict[str, Any]:
    order, caregiver = _mine(request, order_id)
    order = delivery.decline_order(order, caregiver=caregiver, acting_user=request.user, reason=payload.reason)
    return {"id": order.pk, "status": order.status, "status_label": OrderStatus(order.status).label}


@router.post("/service/mine/orders/{int:order_id}/set-out", response=CaregiverOrderOut, summary="护理员：出发")
def set_out(request: HttpRequest, order_id: int) -> dict[str, Any]:
    order, caregiver = _mine(request, order_id)
    delivery.set_out(order, caregiver=caregiver, acting_user=request.user)
    return _fresh(request, order_id)


@router.post("/service/mine/orders/{int:order_id}/check-in", response=CaregiverOrderOut,
             summary="护理员：签到（带手机定位；超出签到范围或无定位的记录将标记待核查）")
def check_in(request: HttpRequest, order_id: int, payload: PositionIn) -> dict[str, Any]:
    order, caregiver = _mine(request, order_id)
    delivery.check_in(order, caregiver=caregiver, acting_user=request.user, latitude=payload.latitude,
                      longitude=payload.longitude)
    return _fresh(request, order_id)


class VisitIn(Schema):
    tasks_done: list[str] = Field(default_factory=list, description="已完成的服务内容（须为服务清单中的项）")
    notes: str = Field("", max_length=2000)


@router.post("/service/mine/orders/{int:order_id}/visit", response=CaregiverOrderOut,
             summary="护理员：保存服务清单勾选和服务记录")
def save_visit(request: HttpRequest, order_id: int, payload: VisitIn) -> dict[str, Any]:
    record, caregiver = _mine_record(request, order_id)
    delivery.save_visit(record, caregiver=caregiver, acting_user=request.user, tasks_done=payload.tasks_done,
                        notes=payload.notes)
    return _fresh(request, order_id)


@router.post("/service/mine/orders/{int:order_id}/photos", response={201: CaregiverOrderOut},
             summary="护理员：上传服务照片（JPG、PNG、WebP，不超过 5 MB；multipart/form-data）")
def upload_photo(request: HttpRequest, order_id: int, photo: File[UploadedFile]) -> Status:
    record, caregiver = _mine_record(request, order_id)
    delivery.add_photo(record, caregiver=caregiver, acting_user=request.user, upload=photo)
    return Status(201, _fresh(request, order_id))


@router.post("/service/mine/orders/{int:order_id}/check-out", response=CaregiverOrderOut,
             summary="护理员：签退（重新计算异常标记；有异常的记录转人工核查）")
def check_out(request: HttpRequest, order_id: int, payload: PositionIn) -> dict[str, Any]:
    record, caregiver = _mine_record(request, order_id)
    delivery.check_out(record, caregiver=caregiver, acting_user=request.user, latitude=payload.latitude,
                       longitude=payload.longitude)
    return _fresh(request, order_id)


class SignatureIn(Schema):
    signer_name: str = Field(max_length=50, description="签名人（老人本人或家属）")
    image: str = Field(description="手写签名 PNG（data:image/png;base64,…）")
    rating: int | None = Field(None, ge=1, le=5)
    comment: str = Field("", max_length=300)


class CodeSendIn(Schema):
    contact_id: int = Field(description="可确认服务的联系人")


class CodeIn(Schema):
    code: str = Field(max_length=6)
    rating: int | None = Field(None, ge=1, le=5)
    comment: str = Field("", max_length=300)


class RatingIn(Schema):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=300)


def _outcome(outcome: delivery.Outcome, record: ServiceRecord) -> dict[str, Any]:
    record.refresh_from_db()
    return {"confirmed": outcome.confirmed, "message": outcome.message, "record": record_out(record)}


@router.post("/service/mine/orders/{int:order_id}/confirm/signature", response=OutcomeOut,
             summary="服务确认：老人或家属在护理员手机上签名（可同时评价）")
def confirm_signature(request: HttpRequest, order_id: int, payload: SignatureIn) -> dict[str, Any]:
    record, caregiver = _mine_record(request, order_id)
    outcome = delivery.confirm_by_signature(record, caregiver=caregiver, acting_user=request.user,
                                            signer_name=payload.signer_name, image=payload.image,
                                            rating=payload.rating, comment=payload.comment)
    return _outcome(outcome, record)


@router.post("/service/mine/orders/{int:order_id}/confirm/code/send", response={201: dict[str, Any]},
             summary="服务确认：向可确认服务的联系人发送 6 位确认码（10 分钟有效，最多尝试 5 次）")
def send_code(request: HttpRequest, order_id: int, payload: CodeSendIn) -> Status:
    record, caregiver = _mine_record(request, order_id)
    sent = delivery.send_confirmation_code(record, caregiver=caregiver, acting_user=request.user,
                                           contact_id=payload.contact_id)
    return Status(201, {"phone": sent.phone_masked, "expires_at": sent.expires_at.isoformat()})


@router.post("/service/mine/orders/{int:order_id}/confirm/code", response=OutcomeOut,
             summary="服务确认：提交家属收到的确认码（可同时评价）")
def confirm_code(request: HttpRequest, order_id: int, payload: CodeIn) -> dict[str, Any]:
    record, caregiver = _mine_record(request, order_id)
    outcome = delivery.confirm_by_code(record, caregiver=caregiver, acting_user=request.user, code=payload.code,
                                       rating=payload.rating, comment=payload.comment)
    return _outcome(outcome, record)


@router.post("/service/mine/orders/{int:order_id}/rating", response=CaregiverOrderOut, summary="服务评价（1–5 星）")
def rate(request: HttpRequest, order_id: int, payload: RatingIn) -> dict[str, Any]:
    record, _ = _mine_record(request, order_id)
    delivery.rate_record(record, acting_user=request.user, rating=payload.rating, comment=payload.comment)
    return _fresh(request, order_id)


class ComplaintIn(Schema):
    lodged_by_name: str = Field(max_length=50)
    text: str = Field(max_length=2000)


@router.post("/service/mine/orders/{int:order_id}/complaints", response={201: dict[str, Any]},
             summary="登记老人或家属的投诉")
def complain(request: HttpRequest, order_id: int, payload: ComplaintIn) -> Status:
    order, _ = _mine(request, order_id)
    complaint = delivery.lodge_complaint(order, acting_user=request.user, lodged_by_name=payload.lodged_by_name,
                                         text=payload.text)
    return Status(201, {"id": complaint.pk, "status": complaint.status})


# --- reviewers ----------------------------------------------------------------------------------


class RecordQuery(Schema):
    flag: str = Field("", description="异常标记；any 为有任一异常")
    review: str = Field("", description="核查状态：pending、cleared、rejected")
    date_from: str = ""
    date_to: str = ""


@router.get("/service/records", response=list[RecordOut], summary="服务记录（按权限范围；姓名脱敏；记入审计日志）")
def list_records(request: HttpRequest, filters: Query[RecordQuery], limit: int = 50,
                 offset: int = 0) -> list[dict[str, Any]]:
    chosen = RecordFilter.parse(filters.dict())
    limit = max(1, min(limit, MAX_LIMIT))
    rows = list(with_related(chosen.apply(visible_records(request.user)))[max(0, offset): max(0, offset) + limit])
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, subject="服务记录列表",
                 row_count=len(rows), detail={"filter": chosen.query()})
    return [record_out(r) for r in rows]


@router.get("/service/records/export.xlsx", summary="导出服务记录（.xlsx；记入审计日志）",
            response={200: None})
def export_records(request: HttpRequest, filters: Query[RecordQuery]) -> HttpResponse:
    chosen = RecordFilter.parse(filters.dict())
    content, count = records_xlsx(with_related(chosen.apply(visible_records(request.user)))[
        : settings.EXPORT_MAX_ROWS])
    record_event(request.user, AuditAction.EXPORT_SERVICES, request=request, subject="导出服务记录", row_count=count,
                 detail={"filter": chosen.query()})
    return xlsx_response(content, "服务记录.xlsx")


@router.get("/service/records/{int:record_id}", response=RecordOut, summary="一条服务记录（记入审计日志）")
def get_record(request: HttpRequest, record_id: int) -> dict[str, Any]:
    record = access_record(request.user, record_id)
    record_event(request.user, AuditAction.VIEW_SERVICE, request=request, person_id=record.person_id,
                 subject=f"服务记录 {record.pk}")
    return record_out(record)


class ReviewIn(Schema):
    decision: Literal["clear", "reject"] = Field(description="clear 核查通过（工单确认）；reject 不通过（工单有争议）")
    note: str = Field("", max_length=300)


@router.post("/service/records/{int:record_id}/review", response=RecordOut, summary="核查异常服务记录")
def review(request: HttpRequest, record_id: int, payload: ReviewIn) -> dict[str, Any]:
    record = access_record(request.user, record_id)
    if not can_review(request.user, record):
        raise Http404("没有找到该服务记录")
    delivery.review_record(record, acting_user=request.user, clear=payload.decision == "clear", note=payload.note)
    return record_out(access_record(request.user, record_id))


class AlertOut(Schema):
    id: int
    kind: str
    kind_label: str
    order_id: int | None
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    community: str
    provider: str
    message: str
    raised_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str


def alert_out(a: Alert) -> dict[str, Any]:
    return {
        "id": a.pk, "kind": a.kind, "kind_label": AlertKind(a.kind).label, "order_id": a.order_id,
        "person_id": a.person_id, "person_name": a.person.masked_name, "community": a.community.name,
        "provider": a.provider.name if a.provider else "", "message": a.message, "raised_at": a.raised_at,
        "resolved_at": a.resolved_at, "resolution": a.resolution,
    }


@router.get("/service/alerts", response=list[AlertOut], summary="服务预警（迟到、漏服务、异常记录、床位服务不足）")
def list_alerts(request: HttpRequest, state: Literal["open", "resolved", "all"] = "open", kind: str = "",
                limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    alerts = visible_alerts(request.user).select_related("person", "community", "provider")
    if state != "all":
        alerts = alerts.filter(resolved_at__isnull=state == "open")
    if kind:
        if kind not in AlertKind.values:
            raise UserError("预警类型不正确", field="kind")
        alerts = alerts.filter(kind=kind)
    limit = max(1, min(limit, MAX_LIMIT))
    rows = list(alerts.order_by("-raised_at", "-id")[max(0, offset): max(0, offset) + limit])
    return [alert_out(a) for a in rows]


class NoteIn(Schema):
    note: str = Field(max_length=300)


@router.post("/service/alerts/{int:alert_id}/resolve", response=AlertOut, summary="处理预警（须填写处理说明）")
def resolve(request: HttpRequest, alert_id: int, payload: NoteIn) -> dict[str, Any]:
    alert = access_alert(request.user, alert_id)
    if not can_resolve_alert(request.user, alert):
        raise Http404("没有找到该预警")
    return alert_out(resolve_alert(alert, acting_user=request.user, note=payload.note))


class ComplaintOut(Schema):
    id: int
    order_id: int
    person_name: str = Field(description="姓名（脱敏）")
    item: str
    lodged_by_name: str
    text: str
    lodged_at: dt.datetime
    status: str
    resolution: str
    resolved_at: dt.datetime | None


def complaint_out(c: Complaint) -> dict[str, Any]:
    return {"id": c.pk, "order_id": c.order_id, "person_name": c.order.person.masked_name, "item": c.order.item.name,
            "lodged_by_name": c.lodged_by_name, "text": c.text, "lodged_at": c.lodged_at, "status": c.status,
            "resolution": c.resolution, "resolved_at": c.resolved_at}


@router.get("/service/complaints", response=list[ComplaintOut], summary="服务投诉（open 待处理、resolved 已处理）")
def list_complaints(request: HttpRequest, status: Literal["open", "resolved", "all"] = "open", limit: int = 50,
                    offset: int = 0) -> list[dict[str, Any]]:
    found = visible_complaints(request.user).select_related("order__person", "order__item")
    if status != "all":
        found = found.filter(status=status)
    limit = max(1, min(limit, MAX_LIMIT))
    return [complaint_out(c) for c in found.order_by("-lodged_at")[max(0, offset): max(0, offset) + limit]]


class ResolutionIn(Schema):
    resolution: str = Field(max_length=2000)


@router.post("/service/complaints/{int:complaint_id}/resolve", response=ComplaintOut, summary="处理投诉")
def resolve_complaint(request: HttpRequest, complaint_id: int, payload: ResolutionIn) -> dict[str, Any]:
    complaint = access_complaint(request.user, complaint_id)
    if not can_handle_complaint(request.user, complaint):
        raise Http404("没有找到该投诉")
    return complaint_out(delivery.resolve_complaint(complaint, acting_user=request.user,
                                                    resolution=payload.resolution))


router.add_router("", beds_router)
