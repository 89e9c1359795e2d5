"""The assessor's on-site form, built for a phone: Appendix A, the Appendix B items one card each,
service needs and the home environment, then signatures and submission.

Every field saves on its own as it changes (a draft, through actions.save_answers) and answers
with the live totals. What is stored where:

* ``answers`` / ``answer_keys``: item code → chosen score / sub-option key (e.g. B.3.9 "coma")
* ``basic_info``: height_cm, weight_kg, religion, education, medical_payment [..], income_sources
  [..], informant_name, informant_relation (A.3.2 key), contact_name, contact_phone, coma ("yes" /
  "no", A.5.11), diagnosis_keys [A.4.1 keys], diagnoses_other (free ICD-10 text)
* ``diagnoses``: ICD-10 codes derived from the two diagnosis fields (first code of a checked range)
* ``risk_events_30d``: A.2.14 counts by event type (3 = "3次及以上")
* ``needs``: [{"category": glossary key, "frequency": key}]
* ``home_environment``: fall_risks [..], grab_bars, non_slip, toilet, lighting, stairs,
  adaptation, adaptation_note
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.assessments import actions, rules
from sanshe.assessments.access import access_assessment, can_fill
from sanshe.assessments.models import Assessment, AssessmentStatus, SignerRole
from sanshe.assessments.views.workflow import signature_rows
from sanshe.core.errors import UserError
from sanshe.lib.phone import PhoneError, normalize_phone
from sanshe.people import actions as people_actions

Choices = tuple[tuple[str, str], ...]

# Appendix A code lists the instrument files do not carry (GB/T 42195 A.2, standards.md §1.6).
RELIGION: Choices = (("no", "无"), ("yes", "有"))
EDUCATION: Choices = (("illiterate", "文盲"), ("primary", "小学"), ("junior", "初中"),
                      ("senior", "高中/技校/中专"), ("college", "大学专科及以上"), ("unknown", "不详"))
MEDICAL_PAYMENT: Choices = (
    ("employee_insurance", "城镇职工基本医疗保险"), ("resident_insurance", "城乡居民基本医疗保险"),
    ("self_paid", "自费"), ("civil_servant", "公务员补助"), ("enterprise_supplement", "企业补充保险"),
    ("public_medical", "公费医疗及医疗照顾对象"), ("medical_assistance", "医疗救助"),
    ("critical_illness", "大病保险"))
INCOME_SOURCES: Choices = (
    ("pension", "退休金/养老金"), ("children", "子女补贴"), ("relatives", "亲友资助"),
    ("state_allowance", "国家普惠型补贴"), ("savings", "个人储蓄"), ("other_allowance", "其他补贴"))
COMA_CHOICES: Choices = (("no", "无"), ("yes", "有"))
RISK_COUNTS: Choices = (("0", "无"), ("1", "1次"), ("2", "2次"), ("3", "3次及以上"))

# Service needs found on the visit: the catalogue categories (GLOSSARY) and how often.
SERVICE_CATEGORIES: Choices = (
    ("meal", "助餐"), ("bath", "助浴"), ("cleaning", "助洁"), ("mobility", "助行"), ("medical", "助医"),
    ("emergency", "助急"), ("shopping", "助购"), ("companionship", "精神慰藉"), ("rehabilitation", "康复护理"),
    ("day_care", "日间照料"), ("respite", "喘息服务"), ("repair", "家电维修"))
FREQUENCIES: Choices = (("", "不需要"), ("daily", "每天"), ("several_weekly", "每周2～3次"),
                        ("weekly", "每周1次"), ("monthly", "每月1～2次"), ("as_needed", "按需"))

# The home-environment check (居家环境评估, for age-friendly adaptation 适老化改造).
FALL_RISKS: Choices = (("wet_floor", "地面湿滑"), ("threshold", "门槛或地面高差"),
                       ("clutter", "杂物、电线绊脚"), ("loose_rug", "地毯、地垫松动"),
                       ("high_storage", "常用物品放置过高"), ("no_seat", "无稳固座椅"))
YES_NO: Choices = (("yes", "有"), ("no", "无"))
TOILET: Choices = (("sitting", "坐便"), ("squat", "蹲便"), ("commode", "坐便椅"))
LIGHTING: Choices = (("adequate", "充足"), ("dim", "偏暗"), ("no_night_light", "夜间无照明"))
STAIRS: Choices = (("none", "无楼梯或有电梯"), ("with_rail", "有楼梯，有扶手"), ("without_rail", "有楼梯，无扶手"))
ADAPTATION: Choices = (("none", "不需要"), ("suggested", "建议改造"), ("urgent", "急需改造"))

_SPLIT_CODES = re.compile(r"[\s,，、;；]+")


@dataclass
class Choice:
    value: str
    label: str
    note: str = ""  # the score, shown small


@dataclass
class Field:
    """One question on the form; `key` is what the page posts (its own name) and saves."""

    key: str
    label: str
    kind: str  # item, radio, checks, number, text, tel, select, textarea
    choices: list[Choice] = field(default_factory=list)
    value: Any = ""
    help: str = ""
    unit: str = ""
    minimum: str = ""
    maximum: str = ""
    step: str = ""
    code: str = ""  # the standard's field code, e.g. "A.2.4"
    definition: str = ""
    error: str = ""
    inline: bool = False  # label and choices on one line (short choices)

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.key)

    @property
    def values(self) -> list[str]:
        return self.value if isinstance(self.value, list) else [str(self.value)] if self.value != "" else []


@dataclass
class Section:
    key: str
    title: str
    fields: list[Field]
    intro: str = ""
    is_item_section: bool = False


# --- reading the stored draft into fields --------------------------------------------------------


def _choices(pairs: Choices) -> list[Choice]:
    return [Choice(v, label) for v, label in pairs]


def _appendix_options(instrument: rules.Instrument, code: str) -> list[dict[str, Any]]:
    found = instrument.definition.get("appendix_a", {}).get(code, {})
    return list(found.get("options", ())) if isinstance(found, dict) else []


def _item_field(item: rules.Item, a: Assessment) -> Field:
    choices = []
    for option in item.options:
        if option.sub_options:
            choices += [Choice(f"{option.score}:{sub.key}", sub.label, f"{option.score}分") for sub in option.sub_options]
        else:
            choices.append(Choice(str(option.score), option.label, f"{option.score}分"))
    value = ""
    if item.code in a.answers:
        key = a.answer_keys.get(item.code, "")
        value = f"{a.answers[item.code]}:{key}" if key else str(a.answers[item.code])
    definition = item.definition if item.definition != item.name else ""
    return Field(key=item.code, label=item.name, kind="item", choices=choices, value=value, code=item.code,
                 definition=definition, help=item.note)


def _needs_by_category(a: Assessment) -> dict[str, str]:
    return {str(n.get("category")): str(n.get("frequency", "")) for n in a.needs if isinstance(n, dict)}


def build_sections(instrument: rules.Instrument, a: Assessment) -> list[Section]:
    info, env = a.basic_info, a.home_environment
    relation = _appendix_options(instrument, "A.3.2")
    basic = [
        Field("info.height_cm", "身高", "number", value=str(info.get("height_cm", "")), unit="厘米", code="A.2.4",
              minimum="80", maximum="230", step="1"),
        Field("info.weight_kg", "体重", "number", value=str(info.get("weight_kg", "")), unit="公斤", code="A.2.5",
              minimum="20", maximum="200", step="0.1"),
        Field("info.religion", "宗教信仰", "radio", _choices(RELIGION), info.get("religion", ""), code="A.2.7",
              inline=True),
        Field("info.education", "文化程度", "radio", _choices(EDUCATION), info.get("education", ""), code="A.2.9"),
        Field("info.medical_payment", "医疗费用支付方式（可多选）", "checks", _choices(MEDICAL_PAYMENT),
              list(info.get("medical_payment", [])), code="A.2.12"),
        Field("info.income_sources", "经济来源（可多选）", "checks", _choices(INCOME_SOURCES),
              list(info.get("income_sources", [])), code="A.2.13"),
        Field("info.informant_name", "信息提供者姓名", "text", value=info.get("informant_name", ""), code="A.3.1"),
        Field("info.informant_relation", "信息提供者与老人的关系", "radio",
              [Choice(str(o["key"]), str(o["name"])) for o in relation], info.get("informant_relation", ""),
              code="A.3.2"),
        Field("info.contact_name", "联系人姓名", "text", value=info.get("contact_name", ""), code="A.3.3"),
        Field("info.contact_phone", "联系人电话", "tel", value=info.get("contact_phone", ""), code="A.3.4"),
    ]
    risk = [Field(f"risk.{t.key}", t.name, "radio", _choices(RISK_COUNTS), str(a.risk_events_30d.get(t.key, 0)),
                  inline=True) for t in instrument.risk_event_types]
    diagnosis_options = _appendix_options(instrument, "A.4.1")
    coma_options = _appendix_options(instrument, "A.5.11")
    health = []
    if diagnosis_options:
        health.append(Field(
            "dx.keys", "疾病诊断（可多选）", "checks",
            [Choice(str(o["key"]), str(o["name"]) + ("（精神科专科医生诊断）" if o["key"] == "other_mental_disorder" else ""),
                    str(o.get("icd10") or "")) for o in diagnosis_options],
            list(info.get("diagnosis_keys", [])), code="A.4.1"))
    health.append(Field("dx.other", "其他诊断的 ICD-10 编码", "text", value=info.get("diagnoses_other", ""),
                        help="多个编码用逗号或空格分隔，如 I63.9, F03", code="A.4.1"))
    health.append(Field("info.coma", "昏迷", "radio",
                        [Choice(str(o["key"]), str(o["name"])) for o in coma_options] or _choices(COMA_CHOICES),
                        info.get("coma", ""), code="A.5.11", help="处于昏迷状态者直接评定为能力完全丧失"))
    needs = _needs_by_category(a)
    need_fields = [Field(f"need.{key}", label, "select", _choices(FREQUENCIES), needs.get(key, ""))
                   for key, label in SERVICE_CATEGORIES]
    environment = [
        Field("env.fall_risks", "跌倒隐患（可多选）", "checks", _choices(FALL_RISKS), list(env.get("fall_risks", []))),
        Field("env.grab_bars", "卫生间扶手", "radio", _choices(YES_NO), env.get("grab_bars", ""), inline=True),
        Field("env.non_slip", "卫生间防滑措施", "radio", _choices(YES_NO), env.get("non_slip", ""), inline=True),
        Field("env.toilet", "如厕方式", "radio", _choices(TOILET), env.get("toilet", "")),
        Field("env.lighting", "室内照明", "radio", _choices(LIGHTING), env.get("lighting", "")),
        Field("env.stairs", "楼梯", "radio", _choices(STAIRS), env.get("stairs", "")),
        Field("env.adaptation", "适老化改造需求", "radio", _choices(ADAPTATION), env.get("adaptation", "")),
        Field("env.adaptation_note", "改造建议", "textarea", value=env.get("adaptation_note", ""),
              help="如：卫生间加装扶手、铺设防滑地垫、门槛坡化、加装夜灯"),
    ]
    sections = [
        Section("basic", "基本信息", basic, "附录A：评估对象基本信息、信息提供者及联系人"),
        Section("risk", "近30天照护风险事件", risk, "A.2.14：近30天内累计发生2次及以上的，能力等级提高一级"),
        Section("health", "疾病诊断与昏迷", health,
                "A.4.1 / A.5.11：确诊痴呆或精神科诊断的精神行为障碍，能力等级提高一级"),
    ]
    for dim in instrument.dimensions:
        sections.append(Section(dim.code, f"{dim.code} {dim.name}", [_item_field(i, a) for i in dim.items],
                                f"共 {len(dim.items)} 项，满分 {dim.max_score} 分", is_item_section=True))
    sections.append(Section("needs", "服务需求", need_fields, "上门时了解到的服务需求及频次"))
    sections.append(Section("env", "居家环境", environment, "跌倒隐患、卫生间、照明、楼梯及适老化改造需求"))
    return sections


def _find_field(sections: list[Section], key: str) -> Field | None:
    return next((f for s in sections for f in s.fields if f.key == key), None)


# --- live totals ----------------------------------------------------------------------------------


def live_totals(instrument: rules.Instrument, a: Assessment) -> dict[str, Any]:
    """Dimension subtotals of what is answered so far; the levels once every item is answered."""
    answers = {code: score for code, score in a.answers.items() if code in instrument.items}
    dims = [{"code": d.code, "name": d.name, "max": d.max_score,
             "score": sum(answers.get(i.code, 0) for i in d.items),
             "answered": sum(i.code in answers for i in d.items), "count": len(d.items)}
            for d in instrument.dimensions]
    count = len(instrument.items)
    missing = [code for code in instrument.items if code not in answers]
    totals: dict[str, Any] = {
        "dimensions": dims, "answered": count - len(missing), "count": count,
        "percent": round(100 * (count - len(missing)) / count) if count else 0,
        "total": sum(answers.values()), "max_total": instrument.max_total, "complete": not missing,
        "by_total": instrument.scoring == "total",
        "next_missing": missing[0] if missing else "", "version": a.draft_version,
        "next_dom_id": "f-" + missing[0].replace(".", "-") if missing else "",
    }
    if not missing:
        try:
            result = rules.score(instrument, answers, coma=actions.is_comatose(a), diagnoses=a.diagnoses,
                                 risk_events_30d=a.risk_events_30d)
        except (rules.AnswerError, rules.InstrumentError) as exc:
            totals["score_error"] = exc.message
        else:
            totals["result"] = result
            totals["preliminary_name"] = instrument.level_name(result.preliminary_level)
    return totals


def _signers(a: Assessment, user: Any) -> list[dict[str, Any]]:
    """The three signature slots, and whether the logged-in assessor may sign each on this phone."""
    rows = signature_rows(a)
    for row in rows:
        if row["role"] == SignerRole.ASSESSOR_1:
            row["may_sign"] = user.pk == a.assessor_1_id
        elif row["role"] == SignerRole.ASSESSOR_2:
            row["may_sign"] = user.pk == a.assessor_2_id
        else:
            row["may_sign"] = True
        row["default_name"] = user.display_name if row["role"] != SignerRole.INFORMANT else row["who"]
    return rows


def _submit_state(instrument: rules.Instrument, a: Assessment) -> dict[str, Any]:
    missing_items = [{"code": code, "dom_id": "f-" + code.replace(".", "-")}
                     for code in instrument.items if code not in a.answers]
    signed = set(a.signatures.values_list("role", flat=True))
    missing_signatures = [label for role, label in ((SignerRole.ASSESSOR_1, "评估员一"),
                                                    (SignerRole.ASSESSOR_2, "评估员二"),
                                                    (SignerRole.INFORMANT, "信息提供者")) if role not in signed]
    return {"missing_items": missing_items, "missing_signatures": missing_signatures,
            "ready": not missing_items and not missing_signatures}


def _fillable(request: AuthedRequest, assessment_id: int) -> Assessment:
    a = access_assessment(request.user, assessment_id)
    if not can_fill(request.user, a):
        raise PermissionDenied("只有指派的评估员可以在评估期间填写")
    return a


def _instrument(a: Assessment) -> rules.Instrument:
    return rules.load_instrument(a.instrument_code, a.instrument_version)


# --- pages ------------------------------------------------------------------------------------------


def onsite_form(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = _fillable(request, assessment_id)
    people_actions.record_person_view(a.person, acting_user=request.user, request=request)
    instrument = _instrument(a)
    sections = build_sections(instrument, a)
    context = {
        "a": a, "person": a.person, "age": a.person.age(), "instrument": instrument, "sections": sections,
        "totals": live_totals(instrument, a), "signers": _signers(a, request.user),
        "submit_state": _submit_state(instrument, a),
    }
    return render(request, "assessments/form.html", context)


def save(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    """One changed field (POST) → the live totals; GET answers the totals alone."""
    a = _fillable(request, assessment_id)
    instrument = _instrument(a)
    if request.method != "POST":
        return _totals_response(request, instrument, a)
    key = request.POST.get("_field", "")
    values = [v.strip() for v in request.POST.getlist(key)] if key else []
    try:
        with transaction.atomic():
            # Merge into the latest draft under the row lock, so two phones never drop each other's fields.
            fresh = Assessment.objects.select_for_update().get(pk=a.pk)
            changes = _changes_for(instrument, fresh, key, values)
            saved = actions.save_answers(fresh, acting_user=request.user, **changes)
    except UserError as exc:
        a.refresh_from_db()
        return _totals_response(request, instrument, a, field_key=key, error=exc.message, status=422)
    return _totals_response(request, instrument, saved, field_key=key)


def _totals_response(request: AuthedRequest, instrument: rules.Instrument, a: Assessment, *, field_key: str = "",
                     error: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {"a": a, "totals": live_totals(instrument, a),
                               "submit_state": _submit_state(instrument, a), "error": error}
    changed = _find_field(build_sections(instrument, a), field_key) if field_key else None
    if changed is not None and error:
        changed.error = error
        context["field"] = changed  # re-rendered out of band: the stored value, with the message
    elif changed is not None:
        context["cleared"] = changed  # its message (if any) is cleared out of band
    return render(request, "assessments/_totals.html", context, status=status)


def _one(values: list[str]) -> str:
    return values[-1] if values else ""


def _pick(values: list[str], choices: Choices, label: str, *, multiple: bool = False) -> Any:
    allowed = {v for v, _ in choices}
    bad = [v for v in values if v not in allowed]
    if bad:
        raise UserError(f"“{label}”没有“{bad[0]}”这一选项", field=label)
    if multiple:
        return [v for v, _ in choices if v in values]
    return _one(values)


def _number(raw: str, label: str, low: int, high: int, places: int) -> str:
    if raw == "":
        return ""
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise UserError(f"{label}应为数字", field=label) from None
    if not low <= number <= high:
        raise UserError(f"{label}应在 {low} 到 {high} 之间", field=label)
    text = f"{round(number, places):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _coma(answer_keys: dict[str, str], info: dict[str, Any]) -> bool:
    """A.5.11 昏迷, or an item's coma sub-option (GB/T B.3.9 0 分 昏迷) — either one means coma."""
    return info.get("coma") == "yes" or rules.COMA in answer_keys.values()


def _diagnosis_codes(instrument: rules.Instrument, keys: list[str], other: str) -> list[str]:
    ranges = {str(o["key"]): str(o.get("icd10") or "") for o in _appendix_options(instrument, "A.4.1")}
    codes = [ranges[k].split("-")[0] for k in keys if ranges.get(k)]
    codes += [c.upper() for c in _SPLIT_CODES.split(other) if c]
    return codes


def _changes_for(instrument: rules.Instrument, a: Assessment, key: str, values: list[str]) -> dict[str, Any]:
    """Turn one posted field into the keyword arguments of actions.save_answers."""
    info = dict(a.basic_info)
    if key in instrument.items:
        return _item_changes(instrument.items[key], a, info, _one(values))
    group, _, name = key.partition(".")
    if group == "risk":
        raw = _one(values) or "0"
        if raw not in {v for v, _ in RISK_COUNTS}:
            raise UserError("照护风险事件次数应为 无、1次、2次 或 3次及以上", field=key)
        return {"risk_events_30d": {**a.risk_events_30d, name: int(raw)}}
    if group == "dx":
        if name == "keys":
            options = tuple((str(o["key"]), str(o["name"])) for o in _appendix_options(instrument, "A.4.1"))
            info["diagnosis_keys"] = _pick(values, options, "疾病诊断", multiple=True)
        elif name == "other":
            info["diagnoses_other"] = _one(values)[:200]
        else:
            raise UserError("无法识别的填写项", field=key)
        codes = _diagnosis_codes(instrument, info.get("diagnosis_keys", []), info.get("diagnoses_other", ""))
        return {"diagnoses": codes, "sections": {"basic_info": info}}
    if group == "info":
        info[name] = _info_value(instrument, name, values)
        changes: dict[str, Any] = {"sections": {"basic_info": info}}
        if name == "coma":
            changes["coma"] = _coma(a.answer_keys, info)
        return changes
    if group == "need":
        labels = dict(SERVICE_CATEGORIES)
        if name not in labels:
            raise UserError("无法识别的服务类别", field=key)
        frequency = _pick(values, FREQUENCIES, labels[name])
        needs = {k: v for k, v in _needs_by_category(a).items() if k in labels}
        needs[name] = frequency
        ordered = [{"category": c, "frequency": needs[c]} for c, _ in SERVICE_CATEGORIES if needs.get(c)]
        return {"sections": {"needs": ordered}}
    if group == "env":
        return {"sections": {"home_environment": {**a.home_environment, name: _env_value(name, values)}}}
    raise UserError("无法识别的填写项，请刷新页面后重试", field=key)


def _item_changes(item: rules.Item, a: Assessment, info: dict[str, Any], raw: str) -> dict[str, Any]:
    if raw == "":
        keys = {**a.answer_keys, item.code: ""}
        return {"answers": {item.code: None}, "answer_keys": {item.code: ""}, "coma": _coma(keys, info)}
    score_text, _, sub_key = raw.partition(":")
    try:
        score = int(score_text)
    except ValueError:
        raise UserError(f"{item.code} {item.name} 的答案应为分值", field=item.code) from None
    option = item.option_for(score)
    if sub_key and (option is None or sub_key not in option.keys):
        raise UserError(f"{item.code} {item.name} 没有该选项", field=item.code)
    keys = {**a.answer_keys, item.code: sub_key}
    return {"answers": {item.code: score}, "answer_keys": {item.code: sub_key}, "coma": _coma(keys, info)}


def _info_value(instrument: rules.Instrument, name: str, values: list[str]) -> Any:
    raw = _one(values)
    if name == "height_cm":
        return _number(raw, "身高", 80, 230, 0)
    if name == "weight_kg":
        return _number(raw, "体重", 20, 200, 1)
    if name in ("informant_name", "contact_name"):
        return raw[:50]
    if name == "contact_phone":
        try:
            return normalize_phone(raw)
        except PhoneError as exc:
            raise UserError(str(exc), field=name) from None
    lists: dict[str, tuple[Choices, str, bool]] = {
        "religion": (RELIGION, "宗教信仰", False), "education": (EDUCATION, "文化程度", False),
        "medical_payment": (MEDICAL_PAYMENT, "医疗费用支付方式", True),
        "income_sources": (INCOME_SOURCES, "经济来源", True),
        "informant_relation": (tuple((str(o["key"]), str(o["name"])) for o in _appendix_options(instrument, "A.3.2")),
                               "信息提供者与老人的关系", False),
        "coma": (tuple((str(o["key"]), str(o["name"])) for o in _appendix_options(instrument, "A.5.11"))
                 or COMA_CHOICES, "昏迷", False),
    }
    if name not in lists:
        raise UserError("无法识别的填写项，请刷新页面后重试", field=name)
    choices, label, multiple = lists[name]
    return _pick(values, choices, label, multiple=multiple)


def _env_value(name: str, values: list[str]) -> Any:
    if name == "adaptation_note":
        return _one(values)[:300]
    lists: dict[str, tuple[Choices, str, bool]] = {
        "fall_risks": (FALL_RISKS, "跌倒隐患", True), "grab_bars": (YES_NO, "卫生间扶手", False),
        "non_slip": (YES_NO, "卫生间防滑措施", False), "toilet": (TOILET, "如厕方式", False),
        "lighting": (LIGHTING, "室内照明", False), "stairs": (STAIRS, "楼梯", False),
        "adaptation": (ADAPTATION, "适老化改造需求", False),
    }
    if name not in lists:
        raise UserError("无法识别的填写项，请刷新页面后重试", field=name)
    choices, label, multiple = lists[name]
    return _pick(values, choices, label, multiple=multiple)


@require_POST
def sign(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = _fillable(request, assessment_id)
    error = ""
    try:
        actions.sign_assessment(a, role=request.POST.get("role", ""), name=request.POST.get("name", ""),
                                image=request.POST.get("image", ""), acting_user=request.user)
    except UserError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, f"签名未保存：{error}")
        return redirect(reverse("assessments:form", args=[a.pk]) + "#signatures")
    instrument = _instrument(a)
    context = {"a": a, "signers": _signers(a, request.user), "sign_error": error,
               "error_role": request.POST.get("role", ""), "submit_state": _submit_state(instrument, a),
               "oob_submit": True}
    return render(request, "assessments/_signatures.html", context)


@require_POST
def submit(request: AuthedRequest, assessment_id: int) -> HttpResponse:
    a = _fillable(request, assessment_id)
    if a.status != AssessmentStatus.IN_PROGRESS:
        messages.error(request, "请先填写评估内容再提交")
        return redirect("assessments:form", assessment_id=a.pk)
    try:
        done = actions.submit_assessment(a, acting_user=request.user)
    except UserError as exc:
        messages.error(request, f"未能提交：{exc.message}")
        return redirect(reverse("assessments:form", args=[a.pk]) + "#submit")
    messages.success(request, f"评估已提交，最终等级 {done.final_level} 级，等待评估机构审核")
    return redirect("assessments:detail", assessment_id=done.pk)
