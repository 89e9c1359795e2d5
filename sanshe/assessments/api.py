"""API: the assessment instruments, and a calculator that scores answers without storing anything."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from pydantic import StrictBool, StrictInt

from sanshe.assessments import rules
from sanshe.core.errors import UserError

router = Router(tags=["能力评估"])


class InstrumentRefOut(Schema):
    code: str = Field(description="标准编号，如 GB/T 42195-2022")
    slug: str = Field(description="用于网址的简称，如 gbt42195-2022")
    version: str = Field(description="最新的数据版本")
    versions: list[str]
    title: str
    is_default: bool
    scoring: str = Field(description="total：按总分定级；combination：按一级指标分级组合定级")


class SubOptionOut(Schema):
    key: str
    label: str


class OptionOut(Schema):
    score: int
    label: str
    key: str | None = None
    sub_options: list[SubOptionOut] = []


class ItemOut(Schema):
    code: str
    name: str
    definition: str
    note: str = ""
    options: list[OptionOut]


class DimensionOut(Schema):
    code: str
    name: str
    max_score: int
    grading: dict[str, Any] | None = None
    items: list[ItemOut]


class LevelOut(Schema):
    level: int
    name: str
    min_total: int | None
    max_total: int | None


class RiskEventTypeOut(Schema):
    key: str
    name: str


class ReportHeadingOut(Schema):
    code: str
    heading: str


class InstrumentOut(Schema):
    code: str
    slug: str
    version: str
    versions: list[str]
    title: str
    is_default: bool
    scoring: str
    dimensions: list[DimensionOut]
    levels: list[LevelOut]
    combination: dict[str, Any] | None = None
    level_change_rules: dict[str, Any]
    risk_event_types: list[RiskEventTypeOut]
    appendix_a: dict[str, Any]
    report: list[ReportHeadingOut]


class ScoreIn(Schema):
    instrument: str = Field(rules.DEFAULT_INSTRUMENT, description="标准编号或简称")
    version: str | None = Field(None, description="数据版本，不填为最新版")
    answers: dict[str, StrictInt] = Field(description='每个评估项目所选选项的分值，如 {"B.1.1": 4, …}')
    coma: StrictBool = Field(False, description="是否处于昏迷状态（A.5.11，或 B.3.9 选“昏迷”）")
    diagnoses: list[str] = Field(default_factory=list, description="疾病诊断 ICD-10 编码，如 F03、I63.9")
    risk_events_30d: dict[str, StrictInt] = Field(
        default_factory=dict,
        description="近30天照护风险事件次数：fall 跌倒、wandering 走失、choking 噎食、self_harm 自杀自伤、other 其他",
    )


class ScoreOut(Schema):
    instrument: str
    version: str
    dimension_scores: dict[str, int]
    dimension_grades: dict[str, int]
    total: int | None
    preliminary_level: int
    final_level: int
    level_name: str
    change_reasons: list[str]
    change_reason_texts: list[str]
    flags: list[str]


@router.get("/assessments/instruments", response=list[InstrumentRefOut], summary="可用的评估标准")
def list_instruments(request: HttpRequest) -> list[rules.InstrumentRef]:
    return rules.list_instruments()


@router.get("/assessments/instruments/{slug}", response=InstrumentOut, summary="评估标准的完整定义（含选项）")
def get_instrument(request: HttpRequest, slug: str, version: str | None = None) -> dict[str, Any]:
    try:
        instrument = rules.load_instrument(slug, version)
    except rules.InstrumentError as exc:
        raise Http404(exc.message) from None
    ref = next(r for r in rules.list_instruments() if r.code == instrument.code)
    return {**instrument.definition, "is_default": instrument.is_default, "versions": list(ref.versions)}


@router.post("/assessments/score", response=ScoreOut, summary="按评估标准计算得分和等级（不保存）")
def score_assessment(request: HttpRequest, payload: ScoreIn) -> dict[str, Any]:
    try:
        instrument = rules.load_instrument(payload.instrument, payload.version)
        result = rules.score(
            instrument,
            payload.answers,
            coma=payload.coma,
            diagnoses=payload.diagnoses,
            risk_events_30d=payload.risk_events_30d,
        )
    except (rules.InstrumentError, rules.AnswerError) as exc:
        raise UserError(exc.message, field=exc.field) from None
    data = result.as_dict()
    data["instrument"] = data.pop("instrument_code")
    data["version"] = data.pop("instrument_version")
    return data
