"""Assessment instruments (versioned data) and their scoring rules: pure and typed, no ORM.

The only I/O is reading the packaged files in ``instruments/``, once per process.

Instrument file schema (``"schema": 1``), one JSON file per version of a standard
-------------------------------------------------------------------------------
``code``        the standard as users know it, e.g. "GB/T 42195-2022"
``slug``        URL-safe name, the same for every version of a standard, e.g. "gbt42195-2022"
``version``     data revision, e.g. "2022.1". A correction is a new file with a higher version; the
                old file stays, so a stored result can still be shown with the definition it used.
``title``       Chinese title; ``default``: true on the instrument offered first (exactly one)
``scoring``     "total": the item scores are summed and ``levels`` map the total to a level
                (GB/T 42195); "combination": each dimension is graded and ``combination`` maps the
                grades to a level (MZ/T 039)
``provenance``  English notes on sources and interpretations (also on items and rules), not shown
``dimensions``  [{code "B.1", name, max_score (= sum of its items' top scores), grading?, items}]
  items         [{code "B.1.1", name, definition, note?, options}]
  options       [{score, label, key?, sub_options?: [{key, label}]}]. Sub-options split the texts that
                share one score (GB/T B.3.9 0 分 = 昏睡 "stupor" / 昏迷 "coma"); the key "coma" on an
                option or sub-option marks the coma choice.
  grading       combination instruments: {method "bands", bands [{grade, name, min_score, max_score}]}
                on the dimension's sum, or {method "rules", overlap_flag, grades [{grade, name, text,
                when}]} on its item scores
``levels``      [{level 0.., name, min_total, max_total}]; totals are null for combination instruments
``combination`` {rules [{level, text, when}], gap_rules [...], gap_flag, overlap_flag}
``level_change_rules``
                {coma {final_level, text, interpretation_flag?},
                 dementia_or_mental {raise, icd10_ranges [{from, to, name}], text},
                 risk_events {raise, window_days, min_events, counting "sum_across_types",
                              counted_types, text},
                 raises_stack, stacking_flag, max_level}
``risk_event_types``  [{key, name}] (keys fall, wandering, choking, self_harm, other)
``appendix_a``  code lists of the basic-information form by field code, e.g. "A.1.3" {name, options}
``report``      [{code "C.1", heading}]

A ``when`` is a list of alternatives; each alternative is a list of conditions that must all hold.
A condition {"of": [codes], "in": [values], "at_least": n, "at_most": m} holds when between n and m
of the codes (item scores in a dimension's rules, dimension grades in ``combination``) take one of
the values; n and m default to all of the codes. Where several rules match, the most severe (highest)
grade or level wins and the result carries the overlap flag; where none matches, ``gap_rules``
decide and the result carries the gap flag (MZ/T 039, standards.md §2.3).

Interpretations (standards.md §1.4, §2.4)
-----------------------------------------
* The ``coma`` input (A.5.11 昏迷, or the form's B.3.9 sub-option "coma") is authoritative: a score
  cannot tell 昏睡 from 昏迷 in GB/T B.3.9, and coma overrides whatever the answers add up to. An answer
  whose score can only mean coma (MZ/T B.3.1 3 分 昏迷) also applies the coma rule.
* Diagnoses are the qualifying ones: F04–F99 count only when a psychiatric specialist diagnosed them,
  which the caller attests by passing the code.
* Risk events are summed across the counted types ("2次及以上" is the total, not per type).
* The two +1 rules raise by one level together (``raises_stack`` false); the result carries
  ``stacking_flag`` when stacking would have given another level. The final level is capped.
* ``change_reasons`` lists every rule that applies (the C.4 basis), also when the cap or coma left
  the level unchanged by it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
DEFAULT_INSTRUMENT = "GB/T 42195-2022"
# Glossary identifiers of capability_level, by level number.
CAPABILITY_LEVEL_KEYS = ("intact", "mild", "moderate", "severe", "total")
COMA, DEMENTIA_OR_MENTAL, RISK_EVENTS = "coma", "dementia_or_mental", "risk_events"

_ICD10 = re.compile(r"^[A-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?$")
_VERSION = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")


class InstrumentError(LookupError):
    """An unknown instrument or version, or a broken instrument file."""

    def __init__(self, message: str, *, field: str = "instrument") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AnswerError(ValueError):
    """Input that cannot be scored; `item` is the item code when one item is at fault."""

    def __init__(self, *, message: str, item: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.item = item
        self.field = field or (f"answers.{item}" if item else "answers")


# --- the instrument ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubOption:
    key: str
    label: str


@dataclass(frozen=True)
class Option:
    score: int
    label: str
    key: str | None = None
    sub_options: tuple[SubOption, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sub_options) or ((self.key,) if self.key else ())


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    definition: str
    options: tuple[Option, ...]
    note: str = ""

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(sorted(o.score for o in self.options))

    @property
    def max_score(self) -> int:
        return max(o.score for o in self.options)

    def option_for(self, score: int) -> Option | None:
        return next((o for o in self.options if o.score == score), None)


@dataclass(frozen=True)
class Condition:
    of: tuple[str, ...]
    values: frozenset[int]
    at_least: int
    at_most: int

    def holds(self, values: Mapping[str, int]) -> bool:
        return self.at_least <= sum(values[code] in self.values for code in self.of) <= self.at_most


@dataclass(frozen=True)
class Rule:
    """A grade (dimension rules) or level (combination) and when it applies."""

    result: int
    text: str
    when: tuple[tuple[Condition, ...], ...]

    def matches(self, values: Mapping[str, int]) -> bool:
        return any(all(c.holds(values) for c in alternative) for alternative in self.when)


@dataclass(frozen=True)
class Band:
    grade: int
    name: str
    min_score: int
    max_score: int


@dataclass(frozen=True)
class Grading:
    method: str  # "bands" on the dimension's sum, "rules" on its item scores
    bands: tuple[Band, ...] = ()
    rules: tuple[Rule, ...] = ()
    overlap_flag: str = ""


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    max_score: int
    items: tuple[Item, ...]
    grading: Grading | None = None


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    min_total: int | None
    max_total: int | None


@dataclass(frozen=True)
class Combination:
    rules: tuple[Rule, ...]
    gap_rules: tuple[Rule, ...]
    gap_flag: str
    overlap_flag: str


@dataclass(frozen=True)
class ChangeRules:
    coma_final_level: int
    coma_text: str
    coma_flag: str
    diagnosis_raise: int
    diagnosis_ranges: tuple[tuple[str, str], ...]
    diagnosis_text: str
    risk_raise: int
    risk_min_events: int
    risk_counted_types: frozenset[str]
    risk_text: str
    raises_stack: bool
    stacking_flag: str
    max_level: int


@dataclass(frozen=True)
class RiskEventType:
    key: str
    name: str


@dataclass(frozen=True)
class Instrument:
    code: str
    slug: str
    version: str
    title: str
    is_default: bool
    scoring: str  # "total" or "combination"
    dimensions: tuple[Dimension, ...]
    levels: tuple[Level, ...]
    change_rules: ChangeRules
    risk_event_types: tuple[RiskEventType, ...]
    combination: Combination | None
    # The file as loaded (appendix A, report headings, provenance): read it, never change it.
    definition: Mapping[str, Any] = field(compare=False, repr=False)

    @functools.cached_property
    def items(self) -> dict[str, Item]:
        return {item.code: item for d in self.dimensions for item in d.items}

    @property
    def max_total(self) -> int:
        return sum(d.max_score for d in self.dimensions)

    def level_name(self, level: int) -> str:
        return next(lv.name for lv in self.levels if lv.level == level)


@dataclass(frozen=True)
class InstrumentRef:
    code: str
    slug: str
    version: str  # the latest
    versions: tuple[str, ...]
    title: str
    is_default: bool
    scoring: str


def _conditions(raw: Sequence[Sequence[Mapping[str, Any]]]) -> tuple[tuple[Condition, ...], ...]:
    return tuple(
        tuple(
            Condition(
                of=tuple(c["of"]),
                values=frozenset(c["in"]),
                at_least=c.get("at_least", len(c["of"])),
                at_most=c.get("at_most", len(c["of"])),
            )
            for c in alternative
        )
        for alternative in raw
    )


def _rules(raw: Sequence[Mapping[str, Any]], key: str) -> tuple[Rule, ...]:
    return tuple(Rule(result=r[key], text=r.get("text", r.get("name", "")), when=_conditions(r["when"])) for r in raw)


def _grading(raw: Mapping[str, Any] | None) -> Grading | None:
    if raw is None:
        return None
    if raw["method"] == "bands":
        return Grading(
            "bands", bands=tuple(Band(b["grade"], b["name"], b["min_score"], b["max_score"]) for b in raw["bands"])
        )
    return Grading("rules", rules=_rules(raw["grades"], "grade"), overlap_flag=raw["overlap_flag"])


def _item(raw: Mapping[str, Any]) -> Item:
    options = tuple(
        Option(
            score=o["score"],
            label=o["label"],
            key=o.get("key"),
            sub_options=tuple(SubOption(s["key"], s["label"]) for s in o.get("sub_options", ())),
        )
        for o in raw["options"]
    )
    return Item(
        code=raw["code"], name=raw["name"], definition=raw["definition"], options=options, note=raw.get("note", "")
    )


def _parse(doc: Mapping[str, Any]) -> Instrument:
    change = doc["level_change_rules"]
    coma, diagnosis, risk = change["coma"], change["dementia_or_mental"], change["risk_events"]
    if risk["counting"] != "sum_across_types":
        raise ValueError(f"unsupported risk-event counting {risk['counting']!r}")
    combination = doc.get("combination")
    instrument = Instrument(
        code=doc["code"],
        slug=doc["slug"],
        version=doc["version"],
        title=doc["title"],
        is_default=bool(doc.get("default")),
        scoring=doc["scoring"],
        dimensions=tuple(
            Dimension(
                code=d["code"],
                name=d["name"],
                max_score=d["max_score"],
                items=tuple(_item(i) for i in d["items"]),
                grading=_grading(d.get("grading")),
            )
            for d in doc["dimensions"]
        ),
        levels=tuple(Level(lv["level"], lv["name"], lv["min_total"], lv["max_total"]) for lv in doc["levels"]),
        change_rules=ChangeRules(
            coma_final_level=coma["final_level"],
            coma_text=coma["text"],
            coma_flag=coma.get("interpretation_flag", ""),
            diagnosis_raise=diagnosis["raise"],
            diagnosis_ranges=tuple((r["from"], r["to"]) for r in diagnosis["icd10_ranges"]),
            diagnosis_text=diagnosis["text"],
            risk_raise=risk["raise"],
            risk_min_events=risk["min_events"],
            risk_counted_types=frozenset(risk["counted_types"]),
            risk_text=risk["text"],
            raises_stack=change["raises_stack"],
            stacking_flag=change["stacking_flag"],
            max_level=change["max_level"],
        ),
        risk_event_types=tuple(RiskEventType(t["key"], t["name"]) for t in doc["risk_event_types"]),
        combination=None
        if combination is None
        else Combination(
            rules=_rules(combination["rules"], "level"),
            gap_rules=_rules(combination["gap_rules"], "level"),
            gap_flag=combination["gap_flag"],
            overlap_flag=combination["overlap_flag"],
        ),
        definition=doc,
    )
    if not _VERSION.match(instrument.version):
        raise ValueError(f"version {instrument.version!r} is not dotted numbers")
    if instrument.scoring not in ("total", "combination") or (instrument.scoring == "combination") != bool(combination):
        raise ValueError(f"scoring {instrument.scoring!r} does not match the combination table")
    for d in instrument.dimensions:
        if d.max_score != sum(i.max_score for i in d.items):
            raise ValueError(f"{d.code} max_score is not the sum of its items' top scores")
        if (d.grading is None) == (instrument.scoring == "combination"):
            raise ValueError(f"{d.code} grading does not match the scoring method")
        for i in d.items:
            if len(set(i.scores)) != len(i.scores):
                raise ValueError(f"{i.code} has two options with one score")
    return instrument


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _catalogue() -> dict[str, tuple[Instrument, ...]]:
    """Every instrument file, by code, versions oldest first (read once per process)."""
    by_code: dict[str, list[Instrument]] = {}
    for path in sorted(INSTRUMENTS_DIR.glob("*.json")):
        try:
            instrument = _parse(json.loads(path.read_text(encoding="utf-8")))
        except (KeyError, TypeError, ValueError) as exc:
            raise InstrumentError(f"评估标准数据文件 {path.name} 格式不正确：{exc!r}") from exc
        by_code.setdefault(instrument.code, []).append(instrument)
    for versions in by_code.values():
        versions.sort(key=lambda i: _version_key(i.version))
        if len({i.version for i in versions}) != len(versions) or len({i.slug for i in versions}) != 1:
            raise InstrumentError(f"评估标准 {versions[0].code} 的数据文件版本号重复或简称不一致")
    if sum(v[-1].is_default for v in by_code.values()) != 1:
        raise InstrumentError("评估标准数据文件中须有且只有一个默认标准")
    return {code: tuple(versions) for code, versions in by_code.items()}


def list_instruments() -> list[InstrumentRef]:
    """The instruments on offer, latest version of each, the default first."""
    refs = [
        InstrumentRef(
            code=v[-1].code,
            slug=v[-1].slug,
            version=v[-1].version,
            versions=tuple(i.version for i in v),
            title=v[-1].title,
            is_default=v[-1].is_default,
            scoring=v[-1].scoring,
        )
        for v in _catalogue().values()
    ]
    return sorted(refs, key=lambda r: (not r.is_default, r.code))


def load_instrument(code: str, version: str | None = None) -> Instrument:
    """One instrument by code or slug; the latest version when none is given."""
    catalogue = _catalogue()
    versions = catalogue.get(code) or next((v for v in catalogue.values() if v[0].slug == code), None)
    if versions is None:
        known = "、".join(ref.code for ref in list_instruments())
        raise InstrumentError(f"没有“{code}”这一评估标准（可选：{known}）")
    if version is None:
        return versions[-1]
    found = next((i for i in versions if i.version == version), None)
    if found is None:
        known = "、".join(i.version for i in versions)
        raise InstrumentError(f"{versions[0].code} 没有 {version} 版数据（可选：{known}）", field="version")
    return found


# --- checks ------------------------------------------------------------------------------------


def _answer_error(instrument: Instrument, code: str, value: object) -> AnswerError | None:
    item = instrument.items.get(code)
    if item is None:
        return AnswerError(item=code, message=f"{instrument.code} 没有 {code} 这一评估项目")
    if isinstance(value, bool) or not isinstance(value, int):
        return AnswerError(item=code, message=f"{code} {item.name} 的答案应为整数分值")
    if item.option_for(value) is None:
        allowed = "、".join(str(s) for s in item.scores)
        return AnswerError(item=code, message=f"{code} {item.name} 没有 {value} 分这一选项（可选 {allowed}）")
    return None


def check_answer(instrument: Instrument, code: str, value: object) -> str | None:
    """The message when `value` is not a score of item `code`, else None."""
    error = _answer_error(instrument, code, value)
    return error.message if error else None


def _normalise_diagnoses(diagnoses: Sequence[str]) -> list[str]:
    if isinstance(diagnoses, str):
        raise AnswerError(field="diagnoses", message="疾病诊断应为 ICD-10 编码的列表")
    codes = []
    for index, raw in enumerate(diagnoses):
        code = raw.strip().upper() if isinstance(raw, str) else ""
        if not _ICD10.match(code):
            raise AnswerError(
                field=f"diagnoses.{index}", message=f"疾病诊断“{raw}”不是有效的 ICD-10 编码（如 F03、F03.9、I63.9）"
            )
        codes.append(code)
    return codes


def check_diagnoses(diagnoses: Sequence[str]) -> str | None:
    """The message when a diagnosis is not an ICD-10 code, else None."""
    try:
        _normalise_diagnoses(diagnoses)
    except AnswerError as exc:
        return exc.message
    return None


def _checked_risk_events(instrument: Instrument, events: Mapping[str, int]) -> dict[str, int]:
    names = {t.key: t.name for t in instrument.risk_event_types}
    checked = {}
    for key, count in events.items():
        field = f"risk_events_30d.{key}"
        if key not in names:
            known = "、".join(f"{k}（{name}）" for k, name in names.items())
            raise AnswerError(field=field, message=f"没有“{key}”这一照护风险事件类型（可选 {known}）")
        if isinstance(count, bool) or not isinstance(count, int):
            raise AnswerError(field=field, message=f"近30天{names[key]}的次数应为整数")
        if count < 0:
            raise AnswerError(field=field, message=f"近30天{names[key]}的次数不能为负数")
        checked[key] = count
    return checked


def check_risk_events(instrument: Instrument, events: Mapping[str, int]) -> str | None:
    """The message when a 30-day risk-event count is unknown or negative, else None."""
    try:
        _checked_risk_events(instrument, events)
    except AnswerError as exc:
        return exc.message
    return None


def _coma_in_answers(instrument: Instrument, answers: Mapping[str, int]) -> bool:
    """True when an answer's score can only mean coma (MZ/T B.3.1 3 分; not GB/T B.3.9 0 分 = 昏睡或昏迷)."""
    for item in instrument.items.values():
        option = item.option_for(answers[item.code])
        if option is not None and option.keys == (COMA,):
            return True
    return False


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentResult:
    instrument_code: str
    instrument_version: str
    dimension_scores: dict[str, int]  # C.1, the sum of each dimension's items
    dimension_grades: dict[str, int]  # combination instruments only: each dimension's grade
    total: int | None  # C.2; None where levels do not come from a total (MZ/T 039)
    preliminary_level: int  # C.3
    final_level: int  # C.5
    level_name: str  # the final level's name
    change_reasons: list[str]  # C.4: "coma", "dementia_or_mental", "risk_events"
    change_reason_texts: list[str]
    flags: list[str]  # the interpretations this result depends on

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def level_for_total(instrument: Instrument, total: int) -> int:
    """The preliminary level (C.3) for a total score."""
    if instrument.scoring != "total":
        raise InstrumentError(f"{instrument.code} 不按总分评定等级")
    for level in instrument.levels:
        if level.min_total is not None and level.max_total is not None and level.min_total <= total <= level.max_total:
            return level.level
    raise ValueError(f"总分 {total} 超出 {instrument.code} 的范围（0～{instrument.max_total}）")


def capability_level_key(level: int) -> str:
    """The glossary identifier of a capability level (0 intact … 4 total)."""
    if not 0 <= level < len(CAPABILITY_LEVEL_KEYS):
        raise ValueError(f"能力等级应为 0～{len(CAPABILITY_LEVEL_KEYS) - 1}，收到 {level}")
    return CAPABILITY_LEVEL_KEYS[level]


def _flag(flags: list[str], name: str) -> None:
    if name and name not in flags:
        flags.append(name)


def _most_severe(rules: Sequence[Rule], values: Mapping[str, int], overlap_flag: str, flags: list[str]) -> int | None:
    matched = {rule.result for rule in rules if rule.matches(values)}
    if len(matched) > 1:
        _flag(flags, overlap_flag)
    return max(matched, default=None)


def _grade(dimension: Dimension, scores: Mapping[str, int], total: int, flags: list[str]) -> int:
    grading = dimension.grading
    if grading is None:
        grade = None
    elif grading.method == "bands":
        grade = next((b.grade for b in grading.bands if b.min_score <= total <= b.max_score), None)
    else:
        grade = _most_severe(grading.rules, scores, grading.overlap_flag, flags)
    if grade is None:
        raise InstrumentError(f"{dimension.code} {dimension.name} 的分级规则未覆盖这组答案，请检查评估标准数据")
    return grade


def _combine(combination: Combination, grades: Mapping[str, int], flags: list[str]) -> int:
    level = _most_severe(combination.rules, grades, combination.overlap_flag, flags)
    if level is None:
        level = _most_severe(combination.gap_rules, grades, combination.overlap_flag, flags)
        _flag(flags, combination.gap_flag)
    if level is None:
        raise InstrumentError(f"能力等级组合规则未覆盖分级 {dict(grades)}，请检查评估标准数据")
    return level


def score(
    instrument: Instrument,
    answers: Mapping[str, int],
    *,
    coma: bool = False,
    diagnoses: Sequence[str] = (),
    risk_events_30d: Mapping[str, int] | None = None,
) -> AssessmentResult:
    """Score one assessment: dimension scores, total, preliminary level, change rules and final level."""
    if not isinstance(answers, Mapping):
        raise AnswerError(message="答案应为“项目编号: 分值”的对照表")
    unknown = next((str(code) for code in answers if code not in instrument.items), None)
    if unknown is not None and (error := _answer_error(instrument, unknown, None)):
        raise error
    for code, item in instrument.items.items():
        if code not in answers:
            raise AnswerError(item=code, message=f"缺少 {code} {item.name} 的答案")
        if error := _answer_error(instrument, code, answers[code]):
            raise error
    if not isinstance(coma, bool):
        raise AnswerError(field="coma", message="昏迷应为 true 或 false")
    codes = _normalise_diagnoses(diagnoses)
    events = _checked_risk_events(instrument, risk_events_30d or {})
    coma = coma or _coma_in_answers(instrument, answers)

    flags: list[str] = []
    dimension_scores = {d.code: sum(answers[i.code] for i in d.items) for d in instrument.dimensions}
    grades: dict[str, int] = {}
    total: int | None = None
    if instrument.combination is None:
        total = sum(dimension_scores.values())
        preliminary = level_for_total(instrument, total)
    else:
        grades = {d.code: _grade(d, answers, dimension_scores[d.code], flags) for d in instrument.dimensions}
        preliminary = _combine(instrument.combination, grades, flags)

    rules = instrument.change_rules
    applies = {
        COMA: coma,
        DEMENTIA_OR_MENTAL: any(lo <= code[:3] <= hi for code in codes for lo, hi in rules.diagnosis_ranges),
        RISK_EVENTS: sum(n for key, n in events.items() if key in rules.risk_counted_types) >= rules.risk_min_events,
    }
    texts = {COMA: rules.coma_text, DEMENTIA_OR_MENTAL: rules.diagnosis_text, RISK_EVENTS: rules.risk_text}
    reasons = [key for key, applied in applies.items() if applied]
    if coma:
        final = rules.coma_final_level
        _flag(flags, rules.coma_flag)
    else:
        raises = [
            n
            for key, n in ((DEMENTIA_OR_MENTAL, rules.diagnosis_raise), (RISK_EVENTS, rules.risk_raise))
            if applies[key]
        ]
        stacked = min(rules.max_level, preliminary + sum(raises))
        once = min(rules.max_level, preliminary + max(raises, default=0))
        final = stacked if rules.raises_stack else once
        if stacked != once and not rules.raises_stack:
            _flag(flags, rules.stacking_flag)
    return AssessmentResult(
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        dimension_scores=dimension_scores,
        dimension_grades=grades,
        total=total,
        preliminary_level=preliminary,
        final_level=final,
        level_name=instrument.level_name(final),
        change_reasons=reasons,
        change_reason_texts=[texts[key] for key in reasons],
        flags=flags,
    )
