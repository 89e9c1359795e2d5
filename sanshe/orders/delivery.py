"""Delivering a service: the caregiver accepts or declines, sets out, checks in where the elder
lives, works through the checklist, checks out; the elder or a family contact confirms with a
signature or a one-time code and rates the visit; a complaint can be lodged. Flagged records
(orders/flags.py) go to review instead of being confirmed. Order statuses change only through
`transition_order`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from sanshe.accounts.models import Region, RegionLevel
from sanshe.catalog.models import Caregiver, ServiceSettings
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.lib.geo import distance_m
from sanshe.lib.masking import mask_name, mask_phone
from sanshe.orders import flags as rules
from sanshe.orders.actions import transition_order
from sanshe.orders.messages import queue_message
from sanshe.orders.models import (
    Alert,
    AlertKind,
    Complaint,
    ComplaintStatus,
    ConfirmationCode,
    OrderStatus,
    ReviewStatus,
    ServiceOrder,
    ServicePhoto,
    ServiceRecord,
)
from sanshe.orders.models import Confirmation as How
from sanshe.people.models import Contact, StatusChange

CODE_MINUTES = 10
CODE_ATTEMPTS = 5
CODE_RESEND_SECONDS = 60
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_SIGNATURE_CHARS = 400_000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a confirmation did: `confirmed`, or held for review with the reason shown to the user."""

    confirmed: bool
    message: str


# --- helpers ------------------------------------------------------------------------------------


def district_of(region: Region) -> Region:
    node = region
    while node.level != RegionLevel.DISTRICT and node.parent is not None:
        node = node.parent
    return node


def settings_for(order: ServiceOrder) -> ServiceSettings:
    return ServiceSettings.for_district(district_of(order.community))


def _own(order: ServiceOrder, caregiver: Caregiver) -> None:
    # Views fetch orders through access_caregiver_order already; this guards every other caller.
    if order.caregiver_id != caregiver.pk:
        raise UserError("这不是您的工单")


def _position(latitude: Any, longitude: Any) -> tuple[Decimal, Decimal] | None:
    """A (lat, lon) pair from the phone, or None when the phone sent none."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    try:
        lat = Decimal(str(latitude)).quantize(Decimal("0.000001"))
        lon = Decimal(str(longitude)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise UserError("定位数据格式不正确", field="latitude") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UserError("定位数据超出范围", field="latitude")
    return lat, lon


def _status_history(record: ServiceRecord) -> list[tuple[str, str, dt.date]]:
    changes = list(StatusChange.objects.filter(person_id=record.person_id).values_list(
        "from_status", "to_status", "effective_date"))
    person = record.person
    if person.status == "deceased" and not any(c[1] == "deceased" for c in changes) and person.status_since:
        changes.append(("active", "deceased", person.status_since))
    return changes


def compute_record_flags(record: ServiceRecord, service: ServiceSettings) -> list[str]:
    """Gather the facts about a record from the database and apply the rules."""
    history = _status_history(record)
    others = (ServiceRecord.objects.filter(caregiver_id=record.caregiver_id, service_date=record.service_date)
              .exclude(pk=record.pk).values_list("check_in_at", "check_out_at"))
    facts = rules.VisitFacts(
        service_date=record.service_date, check_in_at=record.check_in_at, check_out_at=record.check_out_at,
        distance_m=record.check_in_distance_m, geofence_m=service.geofence_metres,
        standard_minutes=record.item.standard_minutes, short_visit_percent=service.short_visit_percent,
        death_date=rules.death_date(history), hospital_spans=rules.hospital_spans(history),
        other_visits=list(others),
    )
    return rules.compute_flags(facts)


def _audit(user: Any, order: ServiceOrder, what: str, action: AuditAction = AuditAction.DELIVER_SERVICE,
           **detail: Any) -> None:
    record_event(user, action, person_id=order.person_id, subject=f"工单 {order.pk} {what}", detail=detail)


def elder_card(order: ServiceOrder) -> dict[str, Any]:
    """What a caregiver needs to know about the elder — never the ID number, economic status or income."""
    person = order.person
    emergency = Contact.objects.filter(person=person).order_by("-is_emergency_contact", "id").first()
    return {
        "name": person.name, "sex": person.get_sex_display(), "age": person.age(), "address": order.address,
        "phone": person.phone, "allergies": person.allergies, "medications": person.medications,
        "emergency_name": emergency.name if emergency else "", "emergency_relation":
            emergency.get_relation_display() if emergency else "", "emergency_phone": emergency.phone if emergency else "",
    }


# --- the caregiver's steps ----------------------------------------------------------------------


def accept_order(order: ServiceOrder, *, caregiver: Caregiver, acting_user: Any) -> ServiceOrder:
    """The assigned caregiver takes the order."""
    _own(order, caregiver)
    return transition_order(order, OrderStatus.ACCEPTED, acting_user=acting_user)


def decline_order(order: ServiceOrder, *, caregiver: Caregiver, acting_user: Any, reason: str) -> ServiceOrder:
    """The assigned caregiver declines; the order goes back to dispatch with the reason."""
    _own(order, caregiver)
    if not reason.strip():
        raise UserError("拒单须填写原因", field="reason")
    return transition_order(order, OrderStatus.REQUESTED, acting_user=acting_user,
                            reason=f"护理员{caregiver.name}拒单：{reason.strip()}")


def set_out(order: ServiceOrder, *, caregiver: Caregiver, acting_user: Any) -> ServiceOrder:
    """The caregiver is on the way (出发)."""
    _own(order, caregiver)
    return transition_order(order, OrderStatus.ON_THE_WAY, acting_user=acting_user)


def check_in(order: ServiceOrder, *, caregiver: Caregiver, acting_user: Any, latitude: Any = None,
             longitude: Any = None) -> ServiceRecord:
    """Start the visit (签到) where the phone is. Outside the geofence or without a position the
    record is still made, flagged for review."""
    _own(order, caregiver)
    position = _position(latitude, longitude)
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY):
        raise UserError(f"工单当前为“{OrderStatus(order.status).label}”，不能签到")
    now = timezone.now()
    day = timezone.localtime(order.window_start).date()
    if timezone.localtime(now).date() != day:
        raise UserError(f"该工单的服务日期是 {day:%Y-%m-%d}，只能在当天签到")
    service = settings_for(order)
    distance: int | None = None
    # An address without coordinates cannot be checked: the record is flagged as unlocated.
    if position is not None and order.latitude is not None and order.longitude is not None:
        distance = round(distance_m(float(position[0]), float(position[1]), float(order.latitude),
                                    float(order.longitude)))
    with transaction.atomic():
        transition_order(order, OrderStatus.IN_SERVICE, acting_user=acting_user, caregiver=caregiver)
        record = ServiceRecord(
            order=order, person=order.person, caregiver=caregiver, item=order.item, provider=caregiver.provider,
            service_date=timezone.localtime(now).date(), address=order.address, check_in_at=now,
            check_in_latitude=position[0] if position else None, check_in_longitude=position[1] if position else None,
            check_in_distance_m=distance,
        )
        record.flags = compute_record_flags(record, service)
        record.review_status = ReviewStatus.PENDING if record.flags else ReviewStatus.NOT_NEEDED
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            raise UserError("该工单已签到") from None
        _audit(acting_user, order, "签到", distance_m=distance, flags=record.flags)
    return record


def save_visit(record: ServiceRecord, *, caregiver: Caregiver, acting_user: Any, tasks_done: list[str],
               notes: str) -> ServiceRecord:
    """Tick the checklist and write notes; only tasks of the item's list are kept."""
    _own(record.order, caregiver)
    if record.confirmed_at is not None or record.order.status not in (OrderStatus.IN_SERVICE, OrderStatus.DONE):
        raise UserError("服务已确认，不能再修改服务内容")
    allowed = list(record.item.tasks or [])
    unknown = [t for t in tasks_done if t not in allowed]
    if unknown:
        raise UserError(f"“{unknown[0]}”不在该服务项目的服务内容中", field="tasks_done")
    record.tasks_done = [t for t in allowed if t in tasks_done]
    record.notes = notes.strip()[:2000]
    record.save(update_fields=["tasks_done", "notes"])
    return record


def add_photo(record: ServiceRecord, *, caregiver: Caregiver, acting_user: Any, upload: UploadedFile) -> ServicePhoto:
    """Keep a photo of the visit (JPEG, PNG or WebP, at most 5 MB), checked by its content."""
    _own(record.order, caregiver)
    if record.confirmed_at is not None:
        raise UserError("服务已确认，不能再上传照片")
    size = upload.size or 0
    if size > PHOTO_MAX_BYTES:
        raise UserError("照片不能超过 5 MB", field="photo")
    if size == 0:
        raise UserError("照片是空文件", field="photo")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise UserError("只能上传 JPG、PNG 或 WebP 格式的照片", field="photo") from None
    if kind not in PHOTO_TYPES:
        raise UserError("只能上传 JPG、PNG 或 WebP 格式的照片", field="photo")
    upload.seek(0)
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[kind]
    photo = ServicePhoto(record=record, content_type=PHOTO_TYPES[kind], size=size)
    photo.file.save(f"{secrets.token_hex(8)}.{extension}", upload, save=False)
    photo.save()
    return photo


def check_out(record: ServiceRecord, *, caregiver: Caregiver, acting_user: Any, latitude: Any = None,
              longitude: Any = None) -> ServiceRecord:
    """End the visit (签退). The flags are computed again with the visit's length; a flagged record
    waits for review and raises a FLAGGED alert."""
    _own(record.order, caregiver)
    position = _position(latitude, longitude)
    if record.check_out_at is not None:
        raise UserError("该服务已签退")
    service = settings_for(record.order)
    with transaction.atomic():
        transition_order(record.order, OrderStatus.DONE, acting_user=acting_user)
        record.check_out_at = timezone.now()
        if position is not None:
            record.check_out_latitude, record.check_out_longitude = position
        record.flags = compute_record_flags(record, service)
        record.review_status = ReviewStatus.PENDING if record.flags else ReviewStatus.NOT_NEEDED
        record.save(update_fields=["check_out_at", "check_out_latitude", "check_out_longitude", "flags",
                                   "review_status"])
        if record.flags:
            order = record.order
            Alert.objects.get_or_create(order=order, kind=AlertKind.FLAGGED, defaults={
                "person_id": order.person_id, "provider_id": record.provider_id, "community_id": order.community_id,
                "message": f"{mask_name(order.person.name)} {order.item.name}：" + "；".join(
                    rules.flag_labels(record.flags)),
            })
        _audit(acting_user, record.order, "签退", minutes=record.minutes, flags=record.flags)
    return record


# --- confirmation and rating --------------------------------------------------------------------


def _confirmable(record: ServiceRecord) -> None:
    if record.check_out_at is None:
        raise UserError("请先签退再确认服务")
    if record.review_status == ReviewStatus.REJECTED:
        raise UserError("该服务记录核查不通过，不能确认")
    if record.order.status == OrderStatus.CONFIRMED or record.confirmed_at is not None:
        raise UserError("该服务已确认")


def _rating(rating: Any) -> int | None:
    if rating in (None, ""):
        return None
    try:
        value = int(rating)
    except (TypeError, ValueError):
        raise UserError("评价应为 1 到 5 星", field="rating") from None
    if not 1 <= value <= 5:
        raise UserError("评价应为 1 到 5 星", field="rating")
    return value


def _finish(record: ServiceRecord, *, how: str, name: str, rating: int | None, comment: str,
            acting_user: Any) -> Outcome:
    """Store who confirmed; confirm the order unless the record waits for review."""
    record.confirmed_by_name = name[:50]
    if rating is not None:
        record.rating = rating
        record.rating_comment = comment.strip()[:300]
    if record.flags:
        record.save(update_fields=["confirmed_by_name", "signature", "rating", "rating_comment"])
        _audit(acting_user, record.order, "确认（待核查）", how=how)
        labels = "、".join(rules.flag_labels(record.flags))
        return Outcome(False, f"已记录{name}的确认，但该服务记录存在异常（{labels}），须经核查通过后才算完成")
    transition_order(record.order, OrderStatus.CONFIRMED, acting_user=acting_user, actor_name=name)
    record.confirmation = how
    record.confirmed_at = timezone.now()
    record.save(update_fields=["confirmed_by_name", "signature", "rating", "rating_comment", "confirmation",
                               "confirmed_at"])
    _audit(acting_user, record.order, "确认", how=how)
    return Outcome(True, f"{name}已确认本次服务")


def confirm_by_signature(record: ServiceRecord, *, caregiver: Caregiver, acting_user: Any, signer_name: str,
                         image: str, rating: Any = None, comment: str = "") -> Outcome:
    """The elder or a family member signs on the caregiver's phone."""
    _own(record.order, caregiver)
    _confirmable(record)
    name = signer_name.strip()
    if not name:
        raise UserError("请填写签名人姓名", field="signer_name")
    if not image.startswith("data:image/png;base64,") or not 200 <= len(image) <= MAX_SIGNATURE_CHARS:
        raise UserError("签名图像无效，请在签名框内重新签名", field="image")
    try:
        with Image.open(io.BytesIO(base64.b64decode(image.split(",", 1)[1], validate=True))) as png:
            png.verify()
    except (binascii.Error, UnidentifiedImageError, OSError, SyntaxError):
        raise UserError("签名图像无效，请在签名框内重新签名", field="image") from None
    stars = _rating(rating)
    with transaction.atomic():
        record.signature = image
        return _finish(record, how=How.SIGNATURE, name=name, rating=stars, comment=comment, acting_user=acting_user)


def _code_hash(record_id: int, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{record_id}:{code}".encode(), hashlib.sha256).hexdigest()


def confirming_contacts(record: ServiceRecord) -> list[Contact]:
    return list(Contact.objects.filter(person_id=record.person_id, may_confirm_services=True).exclude(phone=""))


def send_confirmation_code(record: ServiceRecord, *, caregiver: Caregiver, acting_user: Any,
                           contact_id: Any) -> ConfirmationCode:
    """Text a one-time 6-digit code to a contact who may confirm services; only its hash is kept.
    A new code replaces any earlier one."""
    _own(record.order, caregiver)
    _confirmable(record)
    contact = next((c for c in confirming_contacts(record) if str(c.pk) == str(contact_id)), None)
    if contact is None:
        raise UserError("请选择可确认服务的联系人", field="contact")
    now = timezone.now()
    last = record.codes.order_by("-created_at").first()
    if last is not None and (now - last.created_at).total_seconds() < CODE_RESEND_SECONDS:
        raise UserError("验证码已发送，请 1 分钟后再重新获取", field="contact")
    code = f"{secrets.randbelow(1_000_000):06d}"
    order = record.order
    with transaction.atomic():
        record.codes.filter(used_at=None, expires_at__gt=now).update(expires_at=now)
        sent = ConfirmationCode.objects.create(
            record=record, contact=contact, phone_masked=mask_phone(contact.phone), code_hash=_code_hash(record.pk, code),
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        )
        queue_message(contact.phone, (
            f"【三社联动养老服务平台】{mask_name(order.person.name)}的“{order.item.name}”服务已完成"
            f"（护理员{caregiver.name}）。确认码 {code}，{CODE_MINUTES}分钟内有效。如未接受服务，请勿告知他人。"))
        _audit(acting_user, order, "发送确认码", phone=sent.phone_masked)
    return sent


def confirm_by_code(record: ServiceRecord, *, caregiver: Caregiver, acting_user: Any, code: str,
                    rating: Any = None, comment: str = "") -> Outcome:
    """The contact reads the texted code to the caregiver; 5 wrong tries use the code up."""
    _own(record.order, caregiver)
    _confirmable(record)
    code = code.strip()
    now = timezone.now()
    sent = record.codes.filter(used_at=None).select_related("contact").order_by("-created_at").first()
    if sent is None or sent.expires_at <= now:
        raise UserError("验证码已失效，请重新获取", field="code")
    if sent.attempts >= CODE_ATTEMPTS:
        raise UserError("验证码错误次数过多，请重新获取", field="code")
    if not (len(code) == 6 and code.isdigit() and hmac.compare_digest(sent.code_hash, _code_hash(record.pk, code))):
        # Counted even though the confirmation is refused: the count is what stops guessing.
        ConfirmationCode.objects.filter(pk=sent.pk).update(attempts=F("attempts") + 1)
        left = CODE_ATTEMPTS - sent.attempts - 1
        raise UserError(f"验证码不正确，还可尝试 {left} 次" if left else "验证码错误次数过多，请重新获取", field="code")
    stars = _rating(rating)
    name = sent.contact.name if sent.contact else sent.phone_masked
    with transaction.atomic():
        sent.used_at = now
        sent.attempts += 1
        sent.save(update_fields=["used_at", "attempts"])
        return _finish(record, how=How.CODE, name=name, rating=stars, comment=comment, acting_user=acting_user)


def rate_record(record: ServiceRecord, *, acting_user: Any, rating: Any, comment: str = "") -> ServiceRecord:
    """Record (or change) the elder's 1–5 rating of a checked-out visit."""
    if record.check_out_at is None:
        raise UserError("服务结束后才能评价")
    stars = _rating(rating)
    if stars is None:
        raise UserError("请选择 1 到 5 星", field="rating")
    record.rating = stars
    record.rating_comment = comment.strip()[:300]
    record.save(update_fields=["rating", "rating_comment"])
    return record


def lodge_complaint(order: ServiceOrder, *, acting_user: Any, lodged_by_name: str, text: str) -> Complaint:
    """A complaint by the elder or family about an order, for the provider and community to handle."""
    name, text = lodged_by_name.strip(), text.strip()
    if not name:
        raise UserError("请填写投诉人", field="lodged_by_name")
    if len(text) < 4:
        raise UserError("请写明投诉内容（至少 4 个字）", field="text")
    complaint = Complaint.objects.create(order=order, lodged_by_name=name[:50], text=text[:2000])
    _audit(acting_user, order, "登记投诉", AuditAction.REVIEW_SERVICE)
    return complaint


def resolve_complaint(complaint: Complaint, *, acting_user: Any, resolution: str) -> Complaint:
    """Record how a complaint was handled; the caller checks `can_handle_complaint`."""
    resolution = resolution.strip()
    if complaint.status == ComplaintStatus.RESOLVED:
        raise UserError("该投诉已处理")
    if not resolution:
        raise UserError("请填写处理结果", field="resolution")
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolution = resolution[:2000]
    complaint.resolved_by = acting_user
    complaint.resolved_at = timezone.now()
    complaint.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    _audit(acting_user, complaint.order, "处理投诉", AuditAction.REVIEW_SERVICE)
    return complaint


# --- review -------------------------------------------------------------------------------------


def review_record(record: ServiceRecord, *, acting_user: Any, clear: bool, note: str) -> ServiceRecord:
    """Clear a flagged record (the order is confirmed by review) or reject it (the order is
    disputed with the reason). The caller checks `can_review`."""
    note = note.strip()
    if record.review_status != ReviewStatus.PENDING:
        raise UserError("该服务记录不在待核查状态")
    if record.check_out_at is None or record.order.status != OrderStatus.DONE:
        raise UserError("服务签退后才能核查")
    if not clear and not note:
        raise UserError("核查不通过须填写原因", field="note")
    now = timezone.now()
    with transaction.atomic():
        if clear:
            transition_order(record.order, OrderStatus.CONFIRMED, acting_user=acting_user,
                             reason=note or "核查通过")
            record.confirmation = How.REVIEW
            record.confirmed_at = now
            record.confirmed_by_name = record.confirmed_by_name or acting_user.display_name
        else:
            transition_order(record.order, OrderStatus.DISPUTED, acting_user=acting_user, reason=f"核查不通过：{note}")
        record.review_status = ReviewStatus.CLEARED if clear else ReviewStatus.REJECTED
        record.review_note = note[:300]
        record.reviewed_by = acting_user
        record.reviewed_at = now
        record.save(update_fields=["confirmation", "confirmed_at", "confirmed_by_name", "review_status",
                                   "review_note", "reviewed_by", "reviewed_at"])
        Alert.objects.filter(order=record.order, kind=AlertKind.FLAGGED, resolved_at=None).update(
            resolved_at=now, resolved_by=acting_user, resolution=("核查通过" if clear else "核查不通过") + (
                f"：{note}" if note else ""))
        _audit(acting_user, record.order, "核查通过" if clear else "核查不通过", AuditAction.REVIEW_SERVICE)
    return record
