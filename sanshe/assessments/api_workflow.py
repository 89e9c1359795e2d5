"""API: the assessment workflow — request, assign, schedule, answers (drafts), signatures,
submit, review, objections, cancel — and each person's current level. The same actions and
access checks as the web pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.accounts.access import access_region, has_capability
from sanshe.accounts.models import Capability, Organization, Region, User
from sanshe.assessments import actions, rules
from sanshe.assessments.access import access_assessment, can_fill, can_manage, visible_assessments
from sanshe.assessments.models import Assessment, AssessmentStatus, CapabilityRecord
from sanshe.assessments.queries import DueFilter, DueKind, assessment_rate, due_people, explain_due
from sanshe.core.errors import UserError
from sanshe.people.access import access_person

router = Router(tags=["能力评估"])


class AssessmentIn(Schema):
    person_id: int
    reason: str = Field(description="评估原因（A.1.3）：first 首次评估、routine 常规评估、immediate 即时评估、"
                                    "review 复评、other 其他")
    note: str = ""
    requester_name: str = Field("", description="由家属提出时，家属姓名")
    requester_relation: str = Field("", description="家属与老人关系")
    instrument: str = Field("GB/T 42195-2022", description="评估标准")


class AssessmentOut(Schema):
    id: int
    number: str
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    reason: str
    status: str
    status_label: str
    agency_id: int | None
    agency: str | None
    assessor_1_id: int | None
    assessor_2_id: int | None
    visit_at: dt.datetime | None
    instrument_code: str
    instrument_version: str
    assessed_on: dt.date | None
    total_score: int | None
    preliminary_level: int | None
    final_level: int | None
    result: dict[str, Any]
    valid_from: dt.date | None
    valid_until: dt.date | None
    objection_until: dt.date | None
    review_of_id: int | None
    signed_roles: list[str]


class AssessmentDetailOut(AssessmentOut):
    answers: dict[str, int]
    answer_keys: dict[str, str]
    coma: bool
    diagnoses: list[str]
    risk_events_30d: dict[str, int]
    basic_info: dict[str, Any]
    needs: list[Any]
    home_environment: dict[str, Any]
    draft_version: int


class AssignIn(Schema):
    agency_id: int


class ScheduleIn(Schema):
    assessor_1_id: int
    assessor_2_id: int
    visit_at: dt.datetime


class AnswersIn(Schema):
    answers: dict[str, int | None] | None = Field(None, description='所选选项分值，如 {"B.1.1": 4}；null 表示清除该项')
    answer_keys: dict[str, str] | None = Field(None, description='同分的细分选项，如 {"B.3.9": "coma"}')
    coma: bool | None = None
    diagnoses: list[str] | None = Field(None, description="ICD-10 编码")
    risk_events_30d: dict[str, int] | None = Field(None, description="近30天照护风险事件次数，如 {\"fall\": 1}")
    basic_info: dict[str, Any] | None = None
    needs: list[Any] | None = None
    home_environment: dict[str, Any] | None = None


class SignatureIn(Schema):
    role: str = Field(description="assessor_1、assessor_2 或 informant")
    name: str
    image: str = Field(description="签名图像，data:image/png;base64,…")


class ReviewIn(Schema):
    approve: bool
    note: str = ""


class ObjectionIn(Schema):
    raised_by_name: str
    raised_by_relation: str
    reason: str


class ReasonIn(Schema):
    reason: str


class CapabilityOut(Schema):
    person_id: int
    level: int | None = Field(description="当前能力等级 0–4；未评估为 null")
    level_name: str | None
    assessed_on: dt.date | None
    valid_until: dt.date | None
    is_valid: bool
    assessment_id: int | None


def _out(assessment: Assessment, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": assessment.pk, "number": assessment.number, "person_id": assessment.person_id,
        "person_name": assessment.person.masked_name, "reason": assessment.reason, "status": assessment.status,
        "status_label": assessment.get_status_display(), "agency_id": assessment.agency_id,
        "agency": assessment.agency.name if assessment.agency else None,
        "assessor_1_id": assessment.assessor_1_id, "assessor_2_id": assessment.assessor_2_id,
        "visit_at": assessment.visit_at, "instrument_code": assessment.instrument_code,
        "instrument_version": assessment.instrument_version, "assessed_on": assessment.assessed_on,
        "total_score": assessment.total_score, "preliminary_level": assessment.preliminary_level,
        "final_level": assessment.final_level, "result": assessment.result, "valid_from": assessment.valid_from,
        "valid_until": assessment.valid_until, "objection_until": assessment.objection_until,
        "review_of_id": assessment.review_of_id,
        "signed_roles": sorted(assessment.signatures.values_list("role", flat=True)),
    }
    if detail:
        for name in ("answers", "answer_keys", "coma", "diagnoses", "risk_events_30d", "basic_info", "needs",
                     "home_environment", "draft_version"):
            data[name] = getattr(assessment, name)
    return data


def _fetch(request: HttpRequest, assessment_id: int) -> Assessment:
    return access_assessment(request.user, assessment_id)


@router.get("/assessments", response=list[AssessmentOut], summary="可见的评估（按状态筛选，最多 200 条）")
def list_assessments(request: HttpRequest, status: str = "", person_id: int | None = None,
                     limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    qs = visible_assessments(request.user).select_related("person", "agency").order_by("-id")
    if status:
        if status not in AssessmentStatus.values:
            raise UserError(f"状态“{status}”无效", field="status")
        qs = qs.filter(status=status)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    limit = max(1, min(limit, 200))
    return [_out(a) for a in qs[offset : offset + limit]]


@router.post("/assessments", response={201: AssessmentOut}, summary="申请评估")
def create_assessment(request: HttpRequest, payload: AssessmentIn) -> Status:
    person = access_person(request.user, payload.person_id)
    assessment = actions.request_assessment(
        person, reason=payload.reason, acting_user=request.user, note=payload.note,
        requester_name=payload.requester_name, requester_relation=payload.requester_relation,
        instrument_code=payload.instrument,
    )
    return Status(201, _out(assessment))


@router.get("/assessments/{int:assessment_id}", response=AssessmentDetailOut, summary="评估详情（含答案和计算结果）")
def get_assessment(request: HttpRequest, assessment_id: int) -> dict[str, Any]:
    return _out(_fetch(request, assessment_id), detail=True)


@router.post("/assessments/{int:assessment_id}/assign", response=AssessmentOut, summary="指派评估机构（区民政）")
def assign(request: HttpRequest, assessment_id: int, payload: AssignIn) -> dict[str, Any]:
    agency = Organization.objects.filter(pk=payload.agency_id).first()
    if agency is None:
        raise Http404("没有找到该评估机构")
    return _out(actions.assign_agency(_fetch(request, assessment_id), agency=agency, acting_user=request.user))


@router.post("/assessments/{int:assessment_id}/schedule", response=AssessmentOut,
             summary="指派两名评估员并预约上门（评估机构）")
def schedule(request: HttpRequest, assessment_id: int, payload: ScheduleIn) -> dict[str, Any]:
    assessment = _fetch(request, assessment_id)
    if not can_manage(request.user, assessment):
        raise PermissionDenied("您没有为该评估派员的权限")
    first = User.objects.filter(pk=payload.assessor_1_id).first()
    second = User.objects.filter(pk=payload.assessor_2_id).first()
    return _out(actions.schedule_visit(assessment, assessor_1=first, assessor_2=second, visit_at=payload.visit_at,
                                       acting_user=request.user))


@router.patch("/assessments/{int:assessment_id}/answers", response=AssessmentDetailOut,
              summary="保存现场评估的部分答案（草稿；逐项校验）")
def save_answers(request: HttpRequest, assessment_id: int, payload: AnswersIn) -> dict[str, Any]:
    assessment = _fetch(request, assessment_id)
    if not can_fill(request.user, assessment):
        raise PermissionDenied("只有指派的评估员可以在评估期间填写")
    sections = {name: value for name in ("basic_info", "needs", "home_environment")
                if (value := getattr(payload, name)) is not None}
    saved = actions.save_answers(assessment, acting_user=request.user, answers=payload.answers,
                                 answer_keys=payload.answer_keys, coma=payload.coma, diagnoses=payload.diagnoses,
                                 risk_events_30d=payload.risk_events_30d, sections=sections)
    return _out(saved, detail=True)


@router.post("/assessments/{int:assessment_id}/signatures", response={201: dict[str, Any]}, summary="采集签名")
def sign(request: HttpRequest, assessment_id: int, payload: SignatureIn) -> Status:
    signature = actions.sign_assessment(_fetch(request, assessment_id), role=payload.role, name=payload.name,
                                        image=payload.image, acting_user=request.user)
    return Status(201, {"role": signature.role, "name": signature.name, "signed_at": signature.signed_at})


@router.post("/assessments/{int:assessment_id}/submit", response=AssessmentDetailOut,
             summary="提交（平台计算得分、初步等级、变更依据和最终等级）")
def submit(request: HttpRequest, assessment_id: int) -> dict[str, Any]:
    return _out(actions.submit_assessment(_fetch(request, assessment_id), acting_user=request.user), detail=True)


@router.post("/assessments/{int:assessment_id}/review", response=AssessmentOut,
             summary="机构审核：通过即生效；退回须写明原因")
def review(request: HttpRequest, assessment_id: int, payload: ReviewIn) -> dict[str, Any]:
    return _out(actions.review_assessment(_fetch(request, assessment_id), approve=payload.approve, note=payload.note,
                                          acting_user=request.user))


@router.post("/assessments/{int:assessment_id}/objections", response={201: AssessmentOut},
             summary="登记异议（异议期内）：启动由其他评估员进行的复评，返回复评")
def object_to(request: HttpRequest, assessment_id: int, payload: ObjectionIn) -> Status:
    objection = actions.raise_objection(_fetch(request, assessment_id), raised_by_name=payload.raised_by_name,
                                        raised_by_relation=payload.raised_by_relation, reason=payload.reason,
                                        acting_user=request.user)
    assert objection.review is not None  # noqa: S101 - raise_objection always opens one
    return Status(201, _out(objection.review))


@router.post("/assessments/{int:assessment_id}/cancel", response=AssessmentOut, summary="取消评估")
def cancel(request: HttpRequest, assessment_id: int, payload: ReasonIn) -> dict[str, Any]:
    return _out(actions.cancel_assessment(_fetch(request, assessment_id), reason=payload.reason,
                                          acting_user=request.user))


@router.get("/people/{int:person_id}/capability", response=CapabilityOut, summary="老人当前的能力等级")
def capability(request: HttpRequest, person_id: int) -> dict[str, Any]:
    person = access_person(request.user, person_id)
    record = CapabilityRecord.objects.filter(person=person).first()
    if record is None:
        return {"person_id": person.pk, "level": None, "level_name": None, "assessed_on": None,
                "valid_until": None, "is_valid": False, "assessment_id": None}
    names = {lv.level: lv.name for lv in rules.load_instrument(rules.DEFAULT_INSTRUMENT).levels}
    return {"person_id": person.pk, "level": record.level, "level_name": names.get(record.level),
            "assessed_on": record.assessed_on, "valid_until": record.valid_until,
            "is_valid": record.valid_until >= timezone.localdate(), "assessment_id": record.assessment_id}


# --- oversight: who is due, the assessment rate, parameters, rescoring ---------------------------


class DueRowOut(Schema):
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    community: str
    age: int
    kind: str
    reason: str
    level: int | None
    valid_until: dt.date | None
    open_assessment: str = Field(description="进行中评估的编号；无则为空")


class RateRowOut(Schema):
    region_code: str | None
    region: str
    target: int = Field(description="目标人群（80岁及以上、低保、特困、独居）")
    valid: int = Field(description="其中评估有效的人数")
    rate_percent: float | None
    levels: list[int] = Field(description="有效评估的等级分布 0–4")


class SettingsIO(Schema):
    interval_months: int = Field(description="复评周期（月）")
    objection_days: int = Field(description="异议期（天）")
    due_soon_days: int = Field(description="到期提醒提前（天）")


class RescoreIn(Schema):
    instrument: str = rules.DEFAULT_INSTRUMENT
    version: str | None = None


class RescoreOut(Schema):
    id: int
    instrument_code: str
    instrument_version: str
    status: str
    total: int
    processed: int
    changed: int
    level_changed: int


def _region(request: HttpRequest, region_code: str) -> Any:
    if not region_code:
        return None
    region = Region.objects.filter(code=region_code.ljust(12, "0")).first()
    if region is None:
        raise Http404("没有找到该区划")
    return access_region(request.user, region.pk, Capability.VIEW_ASSESSMENTS)


def _district(request: HttpRequest, region_code: str) -> Region:
    region = _region(request, region_code)
    if region is None:
        raise UserError("请提供区县的区划代码", field="region_code")
    return region


@router.get("/assessments/due", response=list[DueRowOut],
            summary="需要评估的人：overdue 逾期、due_soon 即将到期、immediate 需即时评估、never 从未评估")
def due(request: HttpRequest, kind: str = "overdue", region_code: str = "", include_open: bool = False,
        limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    if not has_capability(request.user, Capability.VIEW_ASSESSMENTS):
        raise PermissionDenied("无权查看评估到期名单")
    if kind not in DueKind.values:
        raise UserError(f"kind 应为 {'、'.join(DueKind.values)}", field="kind")
    today = timezone.localdate()
    qs = due_people(request.user, DueFilter(kind=kind, region=_region(request, region_code),
                                            include_open=include_open), today=today)
    related = ("residence_region",) if kind == DueKind.NEVER else ("residence_region", "capability")
    limit = max(1, min(limit, 200))
    rows = explain_due(list(qs.select_related(*related)[offset : offset + limit]), kind, today=today)
    return [{"person_id": r.person.pk, "person_name": r.person.masked_name, "community": r.person.residence_region.name,
             "age": r.age, "kind": r.kind, "reason": r.reason, "level": r.level, "valid_until": r.valid_until,
             "open_assessment": r.open_number} for r in rows]


@router.get("/assessments/rate", response=list[RateRowOut],
            summary="评估率：目标人群中评估有效的比例，按下级区划汇总（最后一行为合计）")
def rate(request: HttpRequest, region_code: str = "") -> list[dict[str, Any]]:
    if not has_capability(request.user, Capability.VIEW_ASSESSMENTS):
        raise PermissionDenied("无权查看评估率")
    table = assessment_rate(request.user, _region(request, region_code), today=timezone.localdate())
    return [{"region_code": row.region.code if row.region else None, "region": row.label, "target": row.target,
             "valid": row.valid, "rate_percent": float(row.rate) if row.rate is not None else None,
             "levels": row.levels} for row in [*table.rows, table.total]]


@router.get("/assessments/settings", response=SettingsIO, summary="本区评估参数")
def get_settings(request: HttpRequest, region_code: str) -> dict[str, Any]:
    params = actions.settings_for(_district(request, region_code))
    return {"interval_months": params.interval_months, "objection_days": params.objection_days,
            "due_soon_days": params.due_soon_days}


@router.put("/assessments/settings", response=SettingsIO, summary="修改本区评估参数（区民政）")
def put_settings(request: HttpRequest, region_code: str, payload: SettingsIO) -> dict[str, Any]:
    params = actions.update_settings(_district(request, region_code), acting_user=request.user,
                                     interval_months=payload.interval_months, objection_days=payload.objection_days,
                                     due_soon_days=payload.due_soon_days)
    return {"interval_months": params.interval_months, "objection_days": params.objection_days,
            "due_soon_days": params.due_soon_days}


@router.post("/assessments/rescore", response={202: RescoreOut},
             summary="评估标准数据更正后，在后台按新版本重算已保存的评估结果（区民政）")
def rescore(request: HttpRequest, payload: RescoreIn) -> Status:
    if not has_capability(request.user, Capability.CONFIGURE_ASSESSMENT):
        raise PermissionDenied("无权发起评估结果重算")
    run = actions.start_rescore(instrument_code=payload.instrument, version=payload.version,
                                acting_user=request.user)
    return Status(202, run)
