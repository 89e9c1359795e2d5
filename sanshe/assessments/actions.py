"""Every write in the assessment workflow: request, assign, schedule, fill in, sign, submit,
review and publish, objections (which open a review), cancellation, re-assessment triggers."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from sanshe.accounts.models import Capability, Membership, Organization, OrganizationKind, Region, RegionLevel
from sanshe.assessments import rules
from sanshe.assessments.access import (
    agency_ids,
    can_assign,
    can_cancel,
    can_fill,
    can_manage,
    can_record_objection,
    can_request,
    can_review,
)
from sanshe.assessments.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    Assessment,
    AssessmentReason,
    AssessmentSettings,
    AssessmentStatus,
    CapabilityRecord,
    Objection,
    ObjectionStatus,
    ReassessmentTrigger,
    RescoreRun,
    RescoreStatus,
    Signature,
    SignerRole,
)
from sanshe.core.audit import record_event
from sanshe.core.bulk import bulk_update_rows
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.people.models import Person, PersonStatus, ProviderLink
from sanshe.people.signals import file_changed

S = AssessmentStatus
MAX_SIGNATURE_CHARS = 400_000  # a phone-drawn PNG is a few tens of kB
EDITABLE_SECTIONS = ("basic_info", "needs", "home_environment")


def _move(assessment: Assessment, to: str) -> None:
    if (assessment.status, to) not in TRANSITIONS:
        raise UserError(f"当前状态为“{assessment.get_status_display()}”，不能执行此操作")
    assessment.status = to


def _locked(assessment: Assessment) -> Assessment:
    return (Assessment.objects.select_for_update(of=("self",)).select_related("person__residence_region", "agency")
            .get(pk=assessment.pk))


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def district_of(region: Region) -> Region:
    current = region
    while current.level != RegionLevel.DISTRICT and current.parent_id is not None:
        current = Region.objects.get(pk=current.parent_id)
    return current


def settings_for(region: Region) -> AssessmentSettings:
    """The district's assessment parameters (defaults until the district changes them)."""
    district = district_of(region)
    found = AssessmentSettings.objects.filter(district=district).first()
    return found or AssessmentSettings(district=district)


@transaction.atomic
def update_settings(region: Region, *, acting_user: Any, interval_months: int, objection_days: int,
                    due_soon_days: int) -> AssessmentSettings:
    from sanshe.accounts.access import capability_scope

    district = district_of(region)
    if not capability_scope(acting_user, Capability.CONFIGURE_ASSESSMENT).covers(district.code):
        raise PermissionDenied("您没有设置评估参数的权限")
    if not 1 <= interval_months <= 60:
        raise UserError("复评周期须在 1 到 60 个月之间", field="interval_months")
    if not 1 <= objection_days <= 90:
        raise UserError("异议期须在 1 到 90 天之间", field="objection_days")
    if not 0 <= due_soon_days <= 180:
        raise UserError("到期提醒须在 0 到 180 天之间", field="due_soon_days")
    found, _ = AssessmentSettings.objects.update_or_create(
        district=district, defaults={"interval_months": interval_months, "objection_days": objection_days,
                                     "due_soon_days": due_soon_days})
    return found


# --- request and assignment --------------------------------------------------------------------


@transaction.atomic
def request_assessment(
    person: Person,
    *,
    reason: str,
    acting_user: Any,
    note: str = "",
    requester_name: str = "",
    requester_relation: str = "",
    instrument_code: str = rules.DEFAULT_INSTRUMENT,
    review_of: Assessment | None = None,
) -> Assessment:
    """Open an assessment request for a person (by staff, also on behalf of the family)."""
    if not can_request(acting_user, person) and review_of is None:
        raise PermissionDenied("您没有为该老人申请评估的权限")
    if reason not in AssessmentReason.values:
        raise UserError("请选择评估原因", field="reason")
    if person.status == PersonStatus.DECEASED:
        raise UserError("该老人档案状态为“死亡”，不能申请评估")
    busy = Assessment.objects.filter(person=person, status__in=OPEN_STATUSES).first()
    if busy is not None:
        raise UserError(f"该老人已有进行中的评估（编号 {busy.number}，{busy.get_status_display()}），请勿重复申请")
    try:
        instrument = rules.load_instrument(instrument_code)
    except rules.InstrumentError as exc:
        raise UserError(str(exc), field="instrument") from None
    assessment = Assessment.objects.create(
        person=person, number=uuid.uuid4().hex[:24], reason=reason, request_note=note[:300],
        requester_name=requester_name[:50], requester_relation=requester_relation[:20], requested_by=acting_user,
        instrument_code=instrument.code, instrument_version=instrument.version, review_of=review_of,
    )
    # A.1.1: a readable, unique number (year and sequence).
    assessment.number = f"PG{timezone.localdate():%Y}{assessment.pk:07d}"
    assessment.save(update_fields=["number"])
    return assessment


def conflict_of_interest(person: Person, agency: Organization, *, today: dt.date) -> str:
    """Why the agency may not assess the person (it also serves them), or ''."""
    links = ProviderLink.objects.filter(person=person, started_on__lte=today).exclude(
        ended_on__lt=today).select_related("provider")
    for link in links:
        same_entity = bool(agency.credit_code) and link.provider.credit_code == agency.credit_code
        if link.provider_id == agency.pk or same_entity:
            return (f"{agency.name}同时是该老人的服务机构（{link.provider.name}），存在利益冲突，"
                    "不能评估该老人，请指派其他评估机构")
    return ""


@transaction.atomic
def assign_agency(assessment: Assessment, *, agency: Organization, acting_user: Any) -> Assessment:
    """The district assigns a certified assessment agency."""
    locked = _locked(assessment)
    if not can_assign(acting_user, locked):
        raise PermissionDenied("您没有指派评估机构的权限")
    if agency.kind != OrganizationKind.ASSESSMENT_AGENCY or not agency.is_active:
        raise UserError("请选择在用的第三方评估机构", field="agency")
    conflict = conflict_of_interest(locked.person, agency, today=timezone.localdate())
    if conflict:
        raise UserError(conflict, field="agency")
    _move(locked, S.ASSIGNED)
    locked.agency = agency
    locked.assigned_by = acting_user
    locked.assigned_at = timezone.now()
    locked.save(update_fields=["status", "agency", "assigned_by", "assigned_at"])
    return locked


def _is_assessor_of(user: Any, agency_id: int) -> bool:
    from sanshe.accounts.models import Role

    return Membership.objects.filter(user=user, organization_id=agency_id, role=Role.ASSESSOR,
                                     is_active=True, user__is_active=True).exists()


@transaction.atomic
def schedule_visit(assessment: Assessment, *, assessor_1: Any, assessor_2: Any, visit_at: dt.datetime,
                   acting_user: Any) -> Assessment:
    """The agency names two assessors (the standard's practice) and books the home visit."""
    locked = _locked(assessment)
    if not can_manage(acting_user, locked):
        raise PermissionDenied("您没有为该评估派员的权限")
    if assessor_1 is None or assessor_2 is None or assessor_1.pk == assessor_2.pk:
        raise UserError("请指派两名不同的评估员", field="assessor_2")
    for user in (assessor_1, assessor_2):
        if not _is_assessor_of(user, locked.agency_id or 0):
            raise UserError(f"{user.display_name}不是本机构在职的评估员", field="assessor_1")
    if locked.review_of_id is not None:
        original = Assessment.objects.get(pk=locked.review_of_id)
        earlier = {original.assessor_1_id, original.assessor_2_id}
        if assessor_1.pk in earlier or assessor_2.pk in earlier:
            raise UserError("复评须由未参加原评估的评估员进行", field="assessor_1")
    if visit_at < timezone.now() - dt.timedelta(hours=1):
        raise UserError("预约上门时间不能早于现在", field="visit_at")
    _move(locked, S.SCHEDULED)
    locked.assessor_1, locked.assessor_2, locked.visit_at = assessor_1, assessor_2, visit_at
    locked.save(update_fields=["status", "assessor_1", "assessor_2", "visit_at"])
    return locked


# --- on site ------------------------------------------------------------------------------------


@transaction.atomic
def save_answers(
    assessment: Assessment,
    *,
    acting_user: Any,
    answers: dict[str, int | None] | None = None,
    answer_keys: dict[str, str] | None = None,
    coma: bool | None = None,
    diagnoses: list[str] | None = None,
    risk_events_30d: dict[str, int] | None = None,
    sections: dict[str, Any] | None = None,
) -> Assessment:
    """Save part of the on-site form (a draft); each value is checked against the instrument."""
    locked = _locked(assessment)
    if not can_fill(acting_user, locked):
        raise PermissionDenied("只有指派的评估员可以在评估期间填写")
    instrument = rules.load_instrument(locked.instrument_code, locked.instrument_version)
    for code, value in (answers or {}).items():
        if value is None:
            locked.answers.pop(code, None)
            continue
        message = rules.check_answer(instrument, code, value)
        if message:
            raise UserError(message, field=f"answers.{code}")
        locked.answers[code] = int(value)
    before = (dict(locked.answers), dict(locked.answer_keys), locked.coma, list(locked.diagnoses),
              dict(locked.risk_events_30d))
    for code, key in (answer_keys or {}).items():
        if key:
            locked.answer_keys[code] = str(key)[:30]
        else:
            locked.answer_keys.pop(code, None)
    if coma is not None:
        locked.coma = coma
    if diagnoses is not None:
        message = rules.check_diagnoses(diagnoses)
        if message:
            raise UserError(message, field="diagnoses")
        locked.diagnoses = sorted(set(diagnoses))
    if risk_events_30d is not None:
        message = rules.check_risk_events(instrument, risk_events_30d)
        if message:
            raise UserError(message, field="risk_events_30d")
        locked.risk_events_30d = {k: int(v) for k, v in risk_events_30d.items() if int(v)}
    for name, section in (sections or {}).items():
        if name not in EDITABLE_SECTIONS:
            raise UserError(f"不能修改“{name}”", field=name)
        current = getattr(locked, name)
        if isinstance(current, dict) and isinstance(section, dict):
            # Merge: a client sending one field never wipes the rest of the section.
            merged = {**current, **section}
            section = {k: v for k, v in merged.items() if v is not None}
        setattr(locked, name, section)
    after = (locked.answers, locked.answer_keys, locked.coma, locked.diagnoses, locked.risk_events_30d)
    if before != after and locked.signatures.exists():
        # Signatures attest the answers as they were: a changed answer needs them again.
        locked.signatures.all().delete()
    if locked.status == S.SCHEDULED:
        _move(locked, S.IN_PROGRESS)
        locked.assessed_on = timezone.localdate()
    locked.draft_version += 1
    locked.draft_saved_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def sign_assessment(assessment: Assessment, *, role: str, name: str, image: str, acting_user: Any) -> Signature:
    """Record a signature drawn on the assessor's phone (assessors and the information provider)."""
    locked = _locked(assessment)
    if not can_fill(acting_user, locked):
        raise PermissionDenied("只有指派的评估员可以在评估期间采集签名")
    if role not in SignerRole.values:
        raise UserError("签名类型无效", field="role")
    name = name.strip()
    if not name:
        raise UserError("请填写签名人姓名", field="name")
    if not image.startswith("data:image/png;base64,") or len(image) > MAX_SIGNATURE_CHARS or len(image) < 200:
        raise UserError("签名图像无效，请在签名框内重新签名", field="image")
    expected = {SignerRole.ASSESSOR_1.value: locked.assessor_1_id,
                SignerRole.ASSESSOR_2.value: locked.assessor_2_id}.get(role)
    if expected is not None and expected != acting_user.pk:
        raise UserError("评估员须本人登录签名", field="role")
    signature, _ = Signature.objects.update_or_create(
        assessment=locked, role=role,
        defaults={"name": name[:50], "image": image, "user": acting_user if expected else None},
    )
    return signature


@transaction.atomic
def submit_assessment(assessment: Assessment, *, acting_user: Any) -> Assessment:
    """Compute the result (never typed) and hand it to the agency for review."""
    locked = _locked(assessment)
    if not can_fill(acting_user, locked) or locked.status != S.IN_PROGRESS:
        raise PermissionDenied("只有指派的评估员可以提交进行中的评估")
    instrument = rules.load_instrument(locked.instrument_code, locked.instrument_version)
    try:
        result = rules.score(instrument, locked.answers, coma=is_comatose(locked), diagnoses=locked.diagnoses,
                             risk_events_30d=locked.risk_events_30d)
    except rules.AnswerError as exc:
        raise UserError(exc.message, field=exc.field) from None
    missing = [label for role, label in ((SignerRole.ASSESSOR_1, "评估员一"), (SignerRole.ASSESSOR_2, "评估员二"),
                                         (SignerRole.INFORMANT, "信息提供者"))
               if not locked.signatures.filter(role=role).exists()]
    if missing:
        raise UserError(f"还缺少签名：{'、'.join(missing)}", field="signatures")
    _move(locked, S.SUBMITTED)
    _store_result(locked, result)
    locked.submitted_at = timezone.now()
    locked.save()
    return locked


def is_comatose(assessment: Assessment) -> bool:
    """Coma as recorded on site: A.5.11, or the 昏迷 sub-option of an item (GB/T B.3.9 scores 0
    for both 昏睡 and 昏迷, so only the chosen text tells them apart)."""
    return assessment.coma or rules.COMA in assessment.answer_keys.values()


def _store_result(assessment: Assessment, result: rules.AssessmentResult) -> None:
    assessment.result = result.as_dict()
    assessment.total_score = result.total
    assessment.preliminary_level = result.preliminary_level
    assessment.final_level = result.final_level


@transaction.atomic
def review_assessment(assessment: Assessment, *, approve: bool, note: str, acting_user: Any) -> Assessment:
    """The agency approves (publish: the person's current level) or sends back with a reason."""
    locked = _locked(assessment)
    if not can_review(acting_user, locked):
        raise PermissionDenied("只有评估机构中未参与本次评估的负责人可以审核")
    note = note.strip()
    locked.reviewed_by, locked.reviewed_at, locked.review_note = acting_user, timezone.now(), note[:300]
    if not approve:
        if len(note) < 2:
            raise UserError("退回时请写明原因", field="note")
        _move(locked, S.IN_PROGRESS)
        locked.signatures.all().delete()  # answers may change: everyone signs the corrected form
        locked.save()
        return locked
    _move(locked, S.PUBLISHED)
    params = settings_for(locked.person.residence_region)
    today = timezone.localdate()
    locked.published_at = timezone.now()
    locked.valid_from = locked.assessed_on or today
    locked.valid_until = add_months(locked.valid_from, params.interval_months)
    locked.objection_until = today + dt.timedelta(days=params.objection_days)
    locked.save()
    _make_current(locked)
    if locked.review_of_id is not None:
        Objection.objects.filter(review=locked).update(status=ObjectionStatus.REVIEW_OPENED)
    return locked


def _make_current(assessment: Assessment) -> None:
    current = CapabilityRecord.objects.select_for_update().filter(person=assessment.person).first()
    if assessment.valid_from is None or assessment.valid_until is None:
        raise UserError("评估尚未生效，不能作为当前等级")
    if current is not None and current.assessed_on > assessment.valid_from:
        return  # an older assessment published late never replaces a newer one
    CapabilityRecord.objects.update_or_create(
        person=assessment.person,
        defaults={"assessment": assessment, "level": assessment.final_level or 0,
                  "assessed_on": assessment.valid_from, "valid_until": assessment.valid_until},
    )
    file_changed.send(Person, person_ids=[assessment.person_id], effective=assessment.valid_from,
                      reason=f"能力评估结果生效：{assessment.final_level}级", acting_user=None)


@transaction.atomic
def raise_objection(assessment: Assessment, *, raised_by_name: str, raised_by_relation: str, reason: str,
                    acting_user: Any) -> Objection:
    """The person or family objects within the period: a review by different assessors opens."""
    locked = _locked(assessment)
    if not can_record_objection(acting_user, locked):
        raise PermissionDenied("您没有登记评估异议的权限")
    if locked.status != S.PUBLISHED:
        raise UserError("只能对已生效的评估结果提出异议")
    if locked.objection_until is None or timezone.localdate() > locked.objection_until:
        raise UserError(f"异议期已于 {locked.objection_until} 截止")
    if not raised_by_name.strip() or len(reason.strip()) < 4:
        raise UserError("请填写提出人和异议理由", field="reason")
    review = request_assessment(locked.person, reason=AssessmentReason.REVIEW, acting_user=acting_user,
                                note=f"对评估 {locked.number} 的异议：{reason.strip()}"[:300],
                                requester_name=raised_by_name.strip(), requester_relation=raised_by_relation.strip(),
                                instrument_code=locked.instrument_code, review_of=locked)
    if locked.agency is not None:
        review.status, review.agency = S.ASSIGNED, locked.agency
        review.assigned_by, review.assigned_at = acting_user, timezone.now()
        review.save(update_fields=["status", "agency", "assigned_by", "assigned_at"])
    return Objection.objects.create(
        assessment=locked, raised_by_name=raised_by_name.strip()[:50], raised_by_relation=raised_by_relation[:20],
        reason=reason.strip()[:500], recorded_by=acting_user, review=review, status=ObjectionStatus.REVIEW_OPENED,
    )


@transaction.atomic
def cancel_assessment(assessment: Assessment, *, reason: str, acting_user: Any) -> Assessment:
    locked = _locked(assessment)
    if not can_cancel(acting_user, locked) and locked.status in (S.REQUESTED, S.ASSIGNED, S.SCHEDULED, S.IN_PROGRESS):
        raise PermissionDenied("您没有取消该评估的权限")
    if len(reason.strip()) < 2:
        raise UserError("请填写取消原因", field="reason")
    _move(locked, S.CANCELLED)
    locked.cancel_reason = reason.strip()[:300]
    locked.save(update_fields=["status", "cancel_reason"])
    return locked


def record_trigger(person: Person, *, kind: str, occurred_on: dt.date, note: str, acting_user: Any) -> ReassessmentTrigger:
    """An event that calls for an immediate re-assessment (a fall, a discharge from hospital…)."""
    if not can_request(acting_user, person):
        raise PermissionDenied("您没有为该老人登记事件的权限")
    if occurred_on > timezone.localdate():
        raise UserError("发生日期不能晚于今天", field="occurred_on")
    return ReassessmentTrigger.objects.create(person=person, kind=kind, occurred_on=occurred_on, note=note[:300],
                                              recorded_by=acting_user)


def record_report_view(assessment: Assessment, *, acting_user: Any, request: HttpRequest | None = None) -> None:
    """The report is part of the person's file: every download is audited like a file view."""
    record_event(acting_user, AuditAction.VIEW_ASSESSMENT_REPORT, request=request, person_id=assessment.person_id,
                 subject=f"评估报告 {assessment.number}")


def assessors_of(agency_id: int) -> list[Any]:
    from sanshe.accounts.models import Role, User

    return list(User.objects.filter(memberships__organization_id=agency_id, memberships__role=Role.ASSESSOR,
                                    memberships__is_active=True, is_active=True).order_by("full_name").distinct())


def managed_agency_ids(user: Any) -> list[int]:
    return agency_ids(user, Capability.MANAGE_AGENCY_ASSESSMENTS)


# --- corrections --------------------------------------------------------------------------------

RESCORE_BATCH = 2000


def rescore(assessment: Assessment, instrument: rules.Instrument) -> bool:
    """Recompute a stored assessment under a corrected instrument version; True when it changed."""
    result = rules.score(instrument, assessment.answers, coma=is_comatose(assessment), diagnoses=assessment.diagnoses,
                         risk_events_30d=assessment.risk_events_30d)
    before = (assessment.total_score, assessment.final_level, assessment.result)
    _store_result(assessment, result)
    assessment.instrument_version = instrument.version
    return before != (assessment.total_score, assessment.final_level, assessment.result)


def start_rescore(*, instrument_code: str, version: str | None, acting_user: Any) -> RescoreRun:
    """Queue the recomputation of every stored result of an instrument under its newest data version."""
    from sanshe.assessments.tasks import rescore_assessments  # tasks import this module

    try:
        instrument = rules.load_instrument(instrument_code, version)
    except rules.InstrumentError as exc:
        raise UserError(str(exc), field="instrument") from None
    run = RescoreRun.objects.create(instrument_code=instrument.code, instrument_version=instrument.version,
                                    created_by=acting_user if getattr(acting_user, "pk", None) else None)
    rescore_assessments.enqueue(run.pk)
    run.refresh_from_db()
    return run


def run_rescore(run: RescoreRun) -> RescoreRun:
    """Recompute in batches, each its own transaction; rows already on the version are skipped, so a
    failed run can simply be started again."""
    instrument = rules.load_instrument(run.instrument_code, run.instrument_version)
    todo = (Assessment.objects.filter(instrument_code=run.instrument_code, result__isnull=False,
                                      status__in=(S.SUBMITTED, S.PUBLISHED))
            .exclude(instrument_version=run.instrument_version).exclude(total_score__isnull=True))
    RescoreRun.objects.filter(pk=run.pk).update(status=RescoreStatus.RUNNING, total=todo.count())
    processed = changed = level_changed = 0
    last_id = 0
    while True:
        batch = list(todo.filter(pk__gt=last_id).order_by("pk")[:RESCORE_BATCH])
        if not batch:
            break
        last_id = batch[-1].pk
        updated, moved = [], []
        for assessment in batch:
            level = assessment.final_level
            if rescore(assessment, instrument):
                changed += 1
                if assessment.final_level != level:
                    level_changed += 1
                    moved.append(assessment)
            updated.append(assessment)
        with transaction.atomic():
            bulk_update_rows(Assessment, updated, ["result", "total_score", "preliminary_level", "final_level",
                                                   "instrument_version"])
            for assessment in moved:
                if CapabilityRecord.objects.filter(assessment=assessment).update(level=assessment.final_level or 0):
                    file_changed.send(Person, person_ids=[assessment.person_id], effective=timezone.localdate(),
                                      reason=f"评估标准更新后重新计分：{assessment.final_level}级", acting_user=None)
        processed += len(batch)
        RescoreRun.objects.filter(pk=run.pk).update(processed=processed, changed=changed,
                                                    level_changed=level_changed)
    RescoreRun.objects.filter(pk=run.pk).update(status=RescoreStatus.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run
