"""Every write to a person file: creation, edits, status changes, contacts, attachments,
ID reveals and views (which write an audit record)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from sanshe.accounts.access import capability_scope
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.audit import record_event
from sanshe.core.crypto import id_blind_index, id_cipher
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.core.models import AuditAction
from sanshe.lib.masking import mask_id_number
from sanshe.lib.names import pinyin_initials
from sanshe.people.access import can_reveal_id, visible_people
from sanshe.people.models import (
    Attachment,
    ChangeKind,
    Contact,
    Person,
    PersonChange,
    PersonStatus,
    StatusChange,
)
from sanshe.people.rules import check_person
from sanshe.people.signals import file_changed

# Fields a user may set on a file (besides id_number, handled specially).
PERSON_FIELDS = (
    "name", "sex", "birth_date", "ethnicity", "phone",
    "registered_region", "registered_address", "residence_region", "address", "latitude", "longitude",
    "living_arrangement", "marital_status", "economic_status", "tekun_support_mode",
    "monthly_income", "monthly_medical_costs",
    "entitled_group", "family_planning_special", "model_worker", "lost_only_child", "empty_nest",
    "left_behind", "lives_with_disabled_child",
    "disability_category", "disability_grade", "disability_certificate_no",
    "chronic_conditions", "allergies", "medications", "family_doctor_signed", "family_doctor", "notes",
)
ATTACHMENT_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp"}


def file_number_for(region: Region, seq: int) -> str:
    """District, street-and-community and sequence, hyphenated so it never looks like an ID number."""
    return f"{region.code[:6]}-{region.code[6:]}-{seq:05d}"


def id_number_columns(number: str) -> dict[str, Any]:
    """How an already-validated ID number is stored: encrypted, blind-indexed and masked."""
    if not number:
        return {"id_number_cipher": "", "id_number_index": None, "id_number_masked": ""}
    return {"id_number_cipher": id_cipher().encrypt(number), "id_number_index": id_blind_index(number),
            "id_number_masked": mask_id_number(number)}


def set_id_number(person: Person, number: str) -> None:
    for name, value in id_number_columns(number).items():
        setattr(person, name, value)


def find_by_id_number(number: str) -> Person | None:
    return Person.objects.filter(id_number_index=id_blind_index(number)).select_related("residence_region").first()


def duplicate_message(existing: Person, user: Any) -> str:
    if visible_people(user).filter(pk=existing.pk).exists():
        return f"该身份证号已有档案：{existing.name}（档案编号 {existing.file_number}），请勿重复建档"
    return "该身份证号已在其他辖区建档，请联系区民政局核实"


def validate_person_values(
    values: dict[str, Any], *, acting_user: Any, existing: Person | None = None
) -> dict[str, Any]:
    """Apply the shared rules plus the checks that need the database; raise ValidationFailed."""
    errors = check_person(values, today=timezone.localdate())
    region = values.get("residence_region")
    if region is None:
        errors.setdefault("residence_region", []).append("请选择居住社区")
    elif region.level != RegionLevel.COMMUNITY:
        errors.setdefault("residence_region", []).append("居住地须选到社区（村）一级")
    elif not capability_scope(acting_user, Capability.EDIT_PEOPLE).covers(region.code):
        errors.setdefault("residence_region", []).append("该社区不在您的管辖范围内")
    number = values.get("id_number") or ""
    if number and "id_number" not in errors:
        other = find_by_id_number(number)
        if other is not None and (existing is None or other.pk != existing.pk):
            errors.setdefault("id_number", []).append(duplicate_message(other, acting_user))
    if errors:
        raise ValidationFailed(errors)
    return values


@functools.cache
def _choice_labels() -> dict[str, dict[Any, str]]:
    return {f.name: {k: str(v) for k, v in f.flatchoices} for f in Person._meta.fields if f.choices}


def _display(person: Person, field: str) -> Any:
    value = getattr(person, field)
    if field in ("residence_region", "registered_region"):
        return value.name if value else ""
    labels = _choice_labels().get(field)
    if labels is not None:
        return labels.get(value, str(value)) if value not in (None, "") else ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if value is None:
        return ""
    return value if isinstance(value, (list, int, str)) else str(value)


def _labels(changes: dict[str, Any]) -> str:
    names = {f.name: str(f.verbose_name) for f in Person._meta.get_fields() if hasattr(f, "verbose_name")}
    return "、".join(names.get(k, k) for k in changes)


def diff_person(before: dict[str, Any], person: Person) -> dict[str, list[Any]]:
    after = snapshot(person)
    return {k: [before.get(k, ""), v] for k, v in after.items() if before.get(k, "") != v}


def snapshot(person: Person, fields: Iterable[str] = PERSON_FIELDS) -> dict[str, Any]:
    data = {field: _display(person, field) for field in fields if field in PERSON_FIELDS}
    data["id_number"] = person.id_number_masked
    return data


def _apply(person: Person, values: dict[str, Any]) -> None:
    for field in PERSON_FIELDS:
        if field in values:
            setattr(person, field, values[field])
    if "id_number" in values:
        number = values["id_number"] or ""
        # Re-encrypting an unchanged number would only churn the row (new nonce, same value).
        if not number or id_blind_index(number) != person.id_number_index:
            set_id_number(person, number)
    person.name_initials = pinyin_initials(person.name)


def _log_change(person: Person, *, acting_user: Any, kind: ChangeKind, reason: str, changes: dict[str, Any]) -> None:
    PersonChange.objects.create(
        person=person,
        actor=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        actor_name=getattr(acting_user, "display_name", ""),
        kind=kind,
        reason=reason[:300],
        changes=changes,
    )


def next_file_number(region: Region) -> str:
    """Take the next file number of a community, under a row lock."""
    Region.objects.filter(pk=region.pk).update(next_file_seq=F("next_file_seq") + 1)
    seq = Region.objects.values_list("next_file_seq", flat=True).get(pk=region.pk) - 1
    return file_number_for(region, seq)


@transaction.atomic
def create_person(
    *, values: dict[str, Any], acting_user: Any, reason: str = "", request: HttpRequest | None = None
) -> Person:
    """Open a new file after validating it; refuse duplicates by ID number."""
    validate_person_values(values, acting_user=acting_user)
    person = Person(created_by=acting_user)
    _apply(person, values)
    person.file_number = next_file_number(person.residence_region)
    person.save()
    _log_change(person, acting_user=acting_user, kind=ChangeKind.CREATE, reason=reason or "新建档案",
                changes={k: ["", v] for k, v in snapshot(person).items() if v not in ("", [], "否")})
    record_event(acting_user, AuditAction.CREATE_PERSON, request=request, person_id=person.pk,
                 subject=person.masked_name)
    return person


@transaction.atomic
def update_person(
    person: Person,
    *,
    values: dict[str, Any],
    acting_user: Any,
    reason: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Person:
    """Change a file; a stale form (someone saved in between) is refused rather than overwriting."""
    locked = Person.objects.select_for_update(of=("self",)).select_related("residence_region").get(pk=person.pk)
    if expected_version is not None and locked.version != expected_version:
        raise UserError("该档案已被他人修改，请刷新页面后重新编辑", field="version")
    merged = {field: getattr(locked, field) for field in PERSON_FIELDS}
    merged.update(values)
    if "id_number" not in values:
        merged["id_number"] = id_cipher().decrypt(locked.id_number_cipher) if locked.id_number_cipher else ""
    validate_person_values(merged, acting_user=acting_user, existing=locked)
    before = snapshot(locked)
    _apply(locked, merged)
    changes = diff_person(before, locked)
    if not changes:
        return locked
    locked.version += 1
    locked.save()
    _log_change(locked, acting_user=acting_user, kind=ChangeKind.UPDATE, reason=reason, changes=changes)
    record_event(acting_user, AuditAction.UPDATE_PERSON, request=request, person_id=locked.pk,
                 subject=locked.masked_name, reason=reason, detail={"fields": sorted(changes)})
    file_changed.send(Person, person_ids=[locked.pk], effective=timezone.localdate(),
                      reason=f"档案变更（{_labels(changes)}）"[:300], acting_user=acting_user)
    return locked


@transaction.atomic
def change_status(
    person: Person,
    *,
    to_status: str,
    effective_date: dt.date,
    reason: str,
    acting_user: Any,
    request: HttpRequest | None = None,
) -> StatusChange:
    """Record a status change (moved away, hospitalised, deceased…) with its effective date."""
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if to_status not in PersonStatus.values:
        raise UserError("状态无效", field="to_status")
    if to_status == locked.status:
        raise UserError(f"档案当前已是“{locked.get_status_display()}”状态", field="to_status")
    if not reason.strip():
        raise UserError("请填写状态变更原因", field="reason")
    if effective_date > timezone.localdate():
        raise UserError("生效日期不能晚于今天", field="effective_date")
    if effective_date < locked.birth_date:
        raise UserError("生效日期不能早于出生日期", field="effective_date")
    if locked.status_since and effective_date < locked.status_since:
        raise UserError(f"生效日期不能早于当前状态的生效日期 {locked.status_since.isoformat()}",
                        field="effective_date")
    change = StatusChange.objects.create(
        person=locked, from_status=locked.status, to_status=to_status, effective_date=effective_date,
        reason=reason.strip(), recorded_by=acting_user,
    )
    old_label = locked.get_status_display()
    locked.status = to_status
    locked.status_since = effective_date
    locked.version += 1
    locked.save(update_fields=["status", "status_since", "version", "updated_at"])
    _log_change(locked, acting_user=acting_user, kind=ChangeKind.STATUS, reason=reason.strip(),
                changes={"status": [old_label, locked.get_status_display()],
                         "status_since": ["", effective_date.isoformat()]})
    record_event(acting_user, AuditAction.CHANGE_STATUS, request=request, person_id=locked.pk,
                 subject=locked.masked_name, reason=reason.strip(),
                 detail={"to": to_status, "effective_date": effective_date.isoformat()})
    file_changed.send(Person, person_ids=[locked.pk], effective=effective_date,
                      reason=f"档案状态变更为“{locked.get_status_display()}”：{reason.strip()}"[:300],
                      acting_user=acting_user)
    return change


@transaction.atomic
def add_contact(person: Person, *, values: dict[str, Any], acting_user: Any) -> Contact:
    contact = Contact.objects.create(person=person, **values)
    _log_change(person, acting_user=acting_user, kind=ChangeKind.CONTACT, reason="添加联系人",
                changes={"contact": ["", f"{contact.name}（{contact.get_relation_display()}）{contact.phone}"]})
    return contact


@transaction.atomic
def remove_contact(contact: Contact, *, acting_user: Any, reason: str = "") -> None:
    _log_change(contact.person, acting_user=acting_user, kind=ChangeKind.CONTACT, reason=reason or "删除联系人",
                changes={"contact": [f"{contact.name}（{contact.get_relation_display()}）{contact.phone}", ""]})
    contact.delete()


@transaction.atomic
def add_attachment(person: Person, *, kind: str, upload: UploadedFile, acting_user: Any) -> Attachment:
    from django.conf import settings

    content_type = (upload.content_type or "").split(";")[0]
    if content_type not in ATTACHMENT_TYPES:
        raise UserError("附件只支持 PDF、JPG、PNG、WEBP 格式", field="file")
    if (upload.size or 0) > settings.ATTACHMENT_MAX_BYTES:
        raise UserError("附件不能超过 10 MB", field="file")
    attachment = Attachment(
        person=person, kind=kind, original_name=(upload.name or "附件")[:200],
        content_type=content_type, size=upload.size or 0, uploaded_by=acting_user,
    )
    attachment.file.save(upload.name or "upload", upload, save=False)
    attachment.save()
    _log_change(person, acting_user=acting_user, kind=ChangeKind.ATTACHMENT, reason="上传附件",
                changes={"attachment": ["", f"{attachment.get_kind_display()}：{attachment.original_name}"]})
    return attachment


def record_person_view(person: Person, *, acting_user: Any, request: HttpRequest | None = None) -> None:
    record_event(acting_user, AuditAction.VIEW_PERSON, request=request, person_id=person.pk,
                 subject=person.masked_name)


def reveal_id_number(
    person: Person, *, acting_user: Any, reason: str, request: HttpRequest | None = None
) -> str:
    """Decrypt the full ID number for a user whose role needs it, after they state why."""
    from django.core.exceptions import PermissionDenied

    if not can_reveal_id(acting_user, person):
        raise PermissionDenied("您的角色不能查看完整身份证号")
    reason = reason.strip()
    if len(reason) < 2:
        raise UserError("请填写查看完整身份证号的事由", field="reason")
    if not person.id_number_cipher:
        raise UserError("该档案未登记身份证号")
    record_event(acting_user, AuditAction.REVEAL_ID, request=request, person_id=person.pk,
                 subject=person.masked_name, reason=reason)
    return id_cipher().decrypt(person.id_number_cipher)


def record_attachment_view(attachment: Attachment, *, acting_user: Any, request: HttpRequest | None = None) -> None:
    record_event(acting_user, AuditAction.VIEW_ATTACHMENT, request=request, person_id=attachment.person_id,
                 subject=f"{attachment.get_kind_display()}：{attachment.original_name}")
