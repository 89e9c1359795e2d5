"""Scoring by GB/T 42195-2022 (standards.md §1) and MZ/T 039-2013 (§2), table by table as the
standards state them, and the stateless calculator API."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from django.test import Client

from sanshe.assessments import rules
from sanshe.assessments.rules import AnswerError, InstrumentError, load_instrument, score
from tests.factories import PASSWORD, Personas

GBT = load_instrument("GB/T 42195-2022")
MZT = load_instrument("MZ/T 039-2013")


def gbt_answers(total: int = 90, **overrides: int) -> dict[str, int]:
    """GB/T answers adding up to `total`: items from B.1.1 on lose points until the total is reached."""
    answers, deficit = {}, 90 - total
    for code, item in GBT.items.items():
        take = min(deficit, item.max_score)
        answers[code], deficit = item.max_score - take, deficit - take
    return {**answers, **overrides}


def mzt_answers(
    *, adl: int = 100, mental: int = 0, sensory: tuple[int, int, int, int] = (0, 0, 0, 0), social: int = 0
) -> dict[str, int]:
    """MZ/T answers with the given Barthel score, mental and social sums, and B.3.1–B.3.4 as given."""
    answers: dict[str, int] = dict(zip(("B.3.1", "B.3.2", "B.3.3", "B.3.4"), sensory, strict=True))
    deficit = 100 - adl
    for dimension, wanted in (("B.2", mental), ("B.4", social)):
        for item in MZT.items.values():
            if item.code.startswith(dimension + "."):
                answers[item.code] = min(wanted, item.max_score)
                wanted -= answers[item.code]
    for item in MZT.items.values():
        if item.code.startswith("B.1."):
            take = min(deficit, item.max_score)
            answers[item.code], deficit = item.max_score - take, deficit - take
    return answers


# --- GB/T 42195-2022: the form (Appendix B) -----------------------------------------------------


def test_the_form_has_4_first_level_indicators_26_items_and_90_points() -> None:
    table = [(d.code, d.name, len(d.items), d.max_score) for d in GBT.dimensions]
    assert table == [
        ("B.1", "自理能力", 8, 32),
        ("B.2", "基础运动能力", 4, 15),
        ("B.3", "精神状态", 9, 28),
        ("B.4", "感知觉与社会参与", 5, 15),
    ]
    assert GBT.max_total == 90


# The scores each item offers (standards.md §1.2); every other item offers 0–4.
GBT_ITEM_SCORES = {code: [0, 1, 2, 3, 4] for code in GBT.items} | {
    "B.2.4": [0, 1, 2, 3],
    "B.3.7": [0, 1],
    "B.3.8": [0, 1],
    "B.3.9": [0, 1, 2],
    "B.4.1": [0, 1, 2],
    "B.4.2": [0, 1, 2],
    "B.4.4": [0, 1, 2, 3],
}


@pytest.mark.parametrize(("code", "scores"), GBT_ITEM_SCORES.items())
def test_every_option_of_an_item_is_accepted_and_every_other_score_refused(code: str, scores: list[int]) -> None:
    item = GBT.items[code]
    assert list(item.scores) == scores
    dimension = code.rsplit(".", 1)[0]
    for value in scores:
        result = score(GBT, gbt_answers(**{code: value}))
        assert result.total == 90 - item.max_score + value
        assert result.dimension_scores[dimension] == next(
            d.max_score for d in GBT.dimensions if d.code == dimension
        ) - (item.max_score - value)
    allowed = "、".join(str(s) for s in scores)
    for value in sorted({-1, *range(6), 10} - set(scores)):
        with pytest.raises(AnswerError) as refused:
            score(GBT, gbt_answers(**{code: value}))
        assert refused.value.item == code
        assert refused.value.message == f"{code} {item.name} 没有 {value} 分这一选项（可选 {allowed}）"


def test_b39_offers_stupor_and_coma_as_two_choices_that_both_score_0() -> None:
    options = {o.score: o for o in GBT.items["B.3.9"].options}
    assert [(s.key, s.label[:2]) for s in options[0].sub_options] == [("stupor", "昏睡"), ("coma", "昏迷")]
    assert [s.key for s in options[1].sub_options] == ["somnolent", "confused"]
    assert options[2].sub_options == ()


# --- C.3 preliminary level ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "level", "name"),
    [
        (90, 0, "能力完好"),
        (89, 1, "能力轻度受损（轻度失能）"),
        (66, 1, "能力轻度受损（轻度失能）"),
        (65, 2, "能力中度受损（中度失能）"),
        (46, 2, "能力中度受损（中度失能）"),
        (45, 3, "能力重度受损（重度失能）"),
        (30, 3, "能力重度受损（重度失能）"),
        (29, 4, "能力完全丧失（完全失能）"),
        (0, 4, "能力完全丧失（完全失能）"),
    ],
)
def test_the_total_gives_the_preliminary_level(total: int, level: int, name: str) -> None:
    result = score(GBT, gbt_answers(total))
    assert (result.total, result.preliminary_level, result.final_level, result.level_name) == (
        total,
        level,
        level,
        name,
    )
    assert rules.level_for_total(GBT, total) == level
    assert (result.change_reasons, result.flags) == ([], [])


def test_the_levels_cover_every_total_once() -> None:
    assert [rules.level_for_total(GBT, t) for t in range(91)] == [4] * 30 + [3] * 16 + [2] * 20 + [1] * 24 + [0]
    for outside in (-1, 91):
        with pytest.raises(ValueError, match="超出"):
            rules.level_for_total(GBT, outside)


@pytest.mark.parametrize(("level", "key"), [(0, "intact"), (1, "mild"), (2, "moderate"), (3, "severe"), (4, "total")])
def test_each_level_has_its_glossary_key(level: int, key: str) -> None:
    assert rules.capability_level_key(level) == key


def test_there_is_no_level_5() -> None:
    with pytest.raises(ValueError):
        rules.capability_level_key(5)


# --- C.4 level changes, each rule alone ---------------------------------------------------------

COMA_TEXT = "处于昏迷状态者，直接评定为能力完全丧失（完全失能）"
DIAGNOSIS_TEXT = (
    "确诊为痴呆（F00～F03）、精神科专科医生诊断的其他精神和行为障碍疾病（F04～F99），在原有能力级别上提高一个等级"
)
RISK_TEXT = "近30天内发生过2次及以上照护风险事件（如跌倒、噎食、自杀、自伤、走失等），在原有能力级别上提高一个等级"


@pytest.mark.parametrize(
    ("diagnoses", "raised"),
    [
        (["F00"], True),
        (["F03"], True),
        (["F03.9"], True),
        (["F04"], True),
        (["F20"], True),
        (["F99"], True),
        (["f20.0 "], True),
        (["I63.9", "I10"], False),
        (["G30"], False),
        ([], False),
    ],
)
def test_dementia_or_a_mental_disorder_raises_the_level_by_one(diagnoses: list[str], raised: bool) -> None:
    result = score(GBT, gbt_answers(90), diagnoses=diagnoses)
    assert result.preliminary_level == 0
    assert result.final_level == (1 if raised else 0)
    assert result.change_reasons == (["dementia_or_mental"] if raised else [])
    assert result.change_reason_texts == ([DIAGNOSIS_TEXT] if raised else [])


@pytest.mark.parametrize(
    ("events", "raised"),
    [
        ({}, False),
        ({"fall": 1}, False),
        ({"fall": 0, "choking": 0}, False),
        ({"fall": 2}, True),
        ({"fall": 1, "choking": 1}, True),  # summed across types
        ({"wandering": 1, "self_harm": 1}, True),
        ({"other": 2}, True),
        ({"self_harm": 3}, True),  # A.2.14 "发生过3次及以上"
    ],
)
def test_two_care_risk_events_in_30_days_raise_the_level_by_one(events: dict[str, int], raised: bool) -> None:
    result = score(GBT, gbt_answers(70), risk_events_30d=events)
    assert result.preliminary_level == 1
    assert result.final_level == (2 if raised else 1)
    assert result.change_reasons == (["risk_events"] if raised else [])
    assert result.change_reason_texts == ([RISK_TEXT] if raised else [])


def test_coma_gives_level_4_whatever_the_total() -> None:
    result = score(GBT, gbt_answers(90), coma=True)
    assert (result.total, result.preliminary_level, result.final_level) == (90, 0, 4)
    assert result.level_name == "能力完全丧失（完全失能）"
    assert result.change_reasons == ["coma"]
    assert result.change_reason_texts == [COMA_TEXT]
    # The note under B.3.9 says 重度失能; C.4 is applied and the result says so.
    assert result.flags == ["coma_level_per_c4"]


def test_the_coma_input_decides_because_b39_scores_stupor_and_coma_alike() -> None:
    stupor = score(GBT, gbt_answers(90, **{"B.3.9": 0}))
    assert (stupor.total, stupor.final_level, stupor.change_reasons) == (88, 1, [])
    coma = score(GBT, gbt_answers(90, **{"B.3.9": 0}), coma=True)
    assert (coma.final_level, coma.change_reasons) == (4, ["coma"])


# --- C.4 rules together, C.5 final level --------------------------------------------------------

DEMENTIA, TWO_FALLS = ["F03"], {"fall": 2}


@pytest.mark.parametrize(
    ("total", "coma", "diagnoses", "events", "preliminary", "final", "reasons", "flags"),
    [
        # +1 only once: both raising rules apply, the level goes up by one.
        (70, False, DEMENTIA, TWO_FALLS, 1, 2, ["dementia_or_mental", "risk_events"], ["non_stacking_rules_assumed"]),
        (
            90,
            False,
            ["F20"],
            {"fall": 1, "choking": 1},
            0,
            1,
            ["dementia_or_mental", "risk_events"],
            ["non_stacking_rules_assumed"],
        ),
        # Capped at 4: stacking would make no difference, so no flag.
        (40, False, DEMENTIA, TWO_FALLS, 3, 4, ["dementia_or_mental", "risk_events"], []),
        (40, False, DEMENTIA, {}, 3, 4, ["dementia_or_mental"], []),
        (20, False, DEMENTIA, TWO_FALLS, 4, 4, ["dementia_or_mental", "risk_events"], []),
        (20, False, [], TWO_FALLS, 4, 4, ["risk_events"], []),
        # Coma overrides, and every applying basis is still recorded.
        (70, True, DEMENTIA, TWO_FALLS, 1, 4, ["coma", "dementia_or_mental", "risk_events"], ["coma_level_per_c4"]),
    ],
)
def test_the_final_level_combines_the_rules(
    total: int,
    coma: bool,
    diagnoses: list[str],
    events: dict[str, int],
    preliminary: int,
    final: int,
    reasons: list[str],
    flags: list[str],
) -> None:
    result = score(GBT, gbt_answers(total), coma=coma, diagnoses=diagnoses, risk_events_30d=events)
    assert (result.preliminary_level, result.final_level) == (preliminary, final)
    assert result.change_reasons == reasons
    assert len(result.change_reason_texts) == len(reasons)
    assert result.flags == flags


def test_the_result_is_plain_data_for_storage() -> None:
    result = score(GBT, gbt_answers(70), diagnoses=["F03"])
    stored = json.loads(json.dumps(result.as_dict(), ensure_ascii=False))
    assert stored == {
        "instrument_code": "GB/T 42195-2022",
        "instrument_version": GBT.version,
        "dimension_scores": {"B.1": 12, "B.2": 15, "B.3": 28, "B.4": 15},
        "dimension_grades": {},
        "total": 70,
        "preliminary_level": 1,
        "final_level": 2,
        "level_name": "能力中度受损（中度失能）",
        "change_reasons": ["dementia_or_mental"],
        "change_reason_texts": [DIAGNOSIS_TEXT],
        "flags": [],
    }


# --- refused input -------------------------------------------------------------------------------

WITHOUT_B23 = {code: value for code, value in gbt_answers().items() if code != "B.2.3"}


@pytest.mark.parametrize(
    ("answers", "kwargs", "item", "field", "message"),
    [
        (WITHOUT_B23, {}, "B.2.3", "answers.B.2.3", "缺少 B.2.3 平地行走 的答案"),
        ({**gbt_answers(), "B.5.1": 1}, {}, "B.5.1", "answers.B.5.1", "GB/T 42195-2022 没有 B.5.1 这一评估项目"),
        (
            gbt_answers(**{"B.2.4": 4}),
            {},
            "B.2.4",
            "answers.B.2.4",
            "B.2.4 上下楼梯 没有 4 分这一选项（可选 0、1、2、3）",
        ),
        ({**gbt_answers(), "B.1.1": "4"}, {}, "B.1.1", "answers.B.1.1", "B.1.1 进食 的答案应为整数分值"),
        ({**gbt_answers(), "B.3.7": True}, {}, "B.3.7", "answers.B.3.7", "B.3.7 攻击行为 的答案应为整数分值"),
        (gbt_answers(), {"risk_events_30d": {"fall": -1}}, None, "risk_events_30d.fall", "近30天跌倒的次数不能为负数"),
        (
            gbt_answers(),
            {"risk_events_30d": {"flood": 1}},
            None,
            "risk_events_30d.flood",
            "没有“flood”这一照护风险事件类型（可选 fall（跌倒）、wandering（走失）、choking（噎食）、self_harm（自杀、自伤）、other（其他））",
        ),
        (
            gbt_answers(),
            {"diagnoses": ["F03", "F3"]},
            None,
            "diagnoses.1",
            "疾病诊断“F3”不是有效的 ICD-10 编码（如 F03、F03.9、I63.9）",
        ),
        (
            gbt_answers(),
            {"diagnoses": ["痴呆"]},
            None,
            "diagnoses.0",
            "疾病诊断“痴呆”不是有效的 ICD-10 编码（如 F03、F03.9、I63.9）",
        ),
        (
            gbt_answers(),
            {"diagnoses": ["F033"]},
            None,
            "diagnoses.0",
            "疾病诊断“F033”不是有效的 ICD-10 编码（如 F03、F03.9、I63.9）",
        ),
    ],
)
def test_it_refuses_input_it_cannot_score_in_chinese(
    answers: dict[str, Any], kwargs: dict[str, Any], item: str | None, field: str, message: str
) -> None:
    with pytest.raises(AnswerError) as refused:
        score(GBT, answers, **kwargs)
    assert (refused.value.item, refused.value.field, refused.value.message) == (item, field, message)


def test_the_single_value_checks_give_the_same_messages() -> None:
    assert rules.check_answer(GBT, "B.2.4", 3) is None
    assert rules.check_answer(GBT, "B.2.4", 4) == "B.2.4 上下楼梯 没有 4 分这一选项（可选 0、1、2、3）"
    assert rules.check_diagnoses(["F03.9", "I63.9"]) is None
    assert rules.check_diagnoses(["F3"]) == "疾病诊断“F3”不是有效的 ICD-10 编码（如 F03、F03.9、I63.9）"
    assert rules.check_risk_events(GBT, {"fall": 3}) is None
    assert rules.check_risk_events(GBT, {"fall": -1}) == "近30天跌倒的次数不能为负数"


# --- the instrument files -----------------------------------------------------------------------


def test_the_instruments_are_listed_with_the_default_first() -> None:
    refs = rules.list_instruments()
    assert [(r.code, r.slug, r.is_default, r.scoring) for r in refs] == [
        ("GB/T 42195-2022", "gbt42195-2022", True, "total"),
        ("MZ/T 039-2013", "mzt039-2013", False, "combination"),
    ]
    assert refs[0].code == rules.DEFAULT_INSTRUMENT
    assert load_instrument("gbt42195-2022") is GBT
    assert load_instrument("GB/T 42195-2022", GBT.version) is GBT


def test_an_unknown_instrument_or_version_is_refused_in_chinese() -> None:
    with pytest.raises(InstrumentError) as unknown:
        load_instrument("GB/T 0000")
    assert unknown.value.message == "没有“GB/T 0000”这一评估标准（可选：GB/T 42195-2022、MZ/T 039-2013）"
    assert unknown.value.field == "instrument"
    with pytest.raises(InstrumentError) as no_version:
        load_instrument("GB/T 42195-2022", "1999.1")
    assert no_version.value.message == f"GB/T 42195-2022 没有 1999.1 版数据（可选：{GBT.version}）"
    assert no_version.value.field == "version"


def test_appendix_a_and_report_code_lists_are_in_the_file() -> None:
    appendix = GBT.definition["appendix_a"]
    assert [(o["key"], o["name"]) for o in appendix["A.1.3"]["options"]] == [
        ("first", "首次评估"),
        ("routine", "常规评估"),
        ("immediate", "即时评估"),
        ("review", "因对评估结果有疑问进行的复评"),
        ("other", "其他"),
    ]
    assert len(appendix["A.3.2"]["options"]) == 7
    triggering = [(d["name"], d["icd10"]) for d in appendix["A.4.1"]["options"] if d.get("triggers")]
    assert triggering == [("痴呆", "F00-F03"), ("其他精神和行为障碍", "F04-F99")]
    assert [t.key for t in GBT.risk_event_types] == ["fall", "wandering", "choking", "self_harm", "other"]
    assert [h["code"] for h in GBT.definition["report"]] == ["C.1", "C.2", "C.3", "C.4", "C.5"]


# --- MZ/T 039-2013 ---------------------------------------------------------------------------------


def test_the_mzt_form_has_its_4_dimensions_and_22_items() -> None:
    table = [(d.code, d.name, len(d.items), d.max_score) for d in MZT.dimensions]
    assert table == [
        ("B.1", "日常生活活动", 10, 100),
        ("B.2", "精神状态", 3, 6),
        ("B.3", "感知觉与沟通", 4, 14),
        ("B.4", "社会参与", 5, 20),
    ]
    barthel = {item.name: list(item.scores) for item in MZT.dimensions[0].items}
    assert barthel == {
        "进食": [0, 5, 10],
        "洗澡": [0, 5],
        "修饰": [0, 5],
        "穿衣": [0, 5, 10],
        "大便控制": [0, 5, 10],
        "小便控制": [0, 5, 10],
        "如厕": [0, 5, 10],
        "床椅转移": [0, 5, 10, 15],
        "平地行走": [0, 5, 10, 15],
        "上下楼梯": [0, 5, 10],
    }


@pytest.mark.parametrize(
    ("dimension", "build", "table"),
    [
        ("B.1", lambda s: mzt_answers(adl=s), {100: 0, 95: 1, 65: 1, 60: 2, 45: 2, 40: 3, 0: 3}),
        ("B.2", lambda s: mzt_answers(mental=s), {0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 6: 3}),
        ("B.4", lambda s: mzt_answers(social=s), {0: 0, 2: 0, 3: 1, 7: 1, 8: 2, 13: 2, 14: 3, 20: 3}),
    ],
)
def test_each_mzt_dimension_is_graded_by_its_bands(dimension: str, build: Any, table: dict[int, int]) -> None:
    for total, grade in table.items():
        result = score(MZT, build(total))
        assert (result.dimension_scores[dimension], result.dimension_grades[dimension]) == (total, grade)


@pytest.mark.parametrize(
    ("sensory", "grade", "overlap"),
    [
        ((0, 0, 1, 0), 0, False),
        ((0, 2, 0, 0), 1, False),
        ((0, 0, 0, 1), 1, False),
        ((0, 3, 0, 0), 2, False),
        ((0, 2, 3, 0), 2, True),  # the literal text also gives 1; the more severe grade wins
        ((1, 0, 0, 0), 2, False),
        ((1, 4, 0, 0), 3, False),
        ((0, 0, 0, 3), 3, False),
        ((2, 0, 0, 0), 3, False),
    ],
)
def test_perception_and_communication_is_graded_by_rule(
    sensory: tuple[int, int, int, int], grade: int, overlap: bool
) -> None:
    result = score(MZT, mzt_answers(sensory=sensory))
    assert result.dimension_grades["B.3"] == grade
    assert ("sensory_grade_overlap" in result.flags) is overlap


@pytest.mark.parametrize(
    ("answers", "grades", "level", "flags"),
    [
        (mzt_answers(), [0, 0, 0, 0], 0, []),
        # Barthel 70, mental 1, sensory (clear, vision 1, hearing 2), social 5: 轻度失能.
        (mzt_answers(adl=70, mental=1, sensory=(0, 1, 2, 0), social=5), [1, 1, 1, 1], 1, []),
        (mzt_answers(adl=70, mental=2, sensory=(0, 3, 0, 0), social=8), [1, 2, 2, 2], 2, []),
        (mzt_answers(adl=40), [3, 0, 0, 0], 3, []),
        (mzt_answers(adl=60, mental=2, sensory=(0, 3, 0, 0), social=8), [2, 2, 2, 2], 3, []),
        # Gaps the literal clauses leave, resolved provisionally (standards.md §2.3).
        (mzt_answers(adl=50), [2, 0, 0, 0], 2, ["combination_gap"]),
        (mzt_answers(social=14), [0, 0, 0, 3], 1, ["combination_gap"]),
        (mzt_answers(adl=50, mental=1, sensory=(0, 2, 0, 0), social=3), [2, 1, 1, 1], 2, ["combination_gap"]),
        # Overlaps: 轻度 (one dimension at 0) and 中度 (one at 3) both match; the more severe wins.
        (mzt_answers(adl=70, sensory=(0, 4, 0, 0)), [1, 0, 3, 0], 2, ["combination_overlap"]),
    ],
)
def test_mzt_combines_the_four_grades_into_a_level(
    answers: dict[str, int], grades: list[int], level: int, flags: list[str]
) -> None:
    result = score(MZT, answers)
    assert list(result.dimension_grades.values()) == grades
    assert (result.total, result.preliminary_level, result.final_level) == (None, level, level)
    assert result.level_name == MZT.level_name(level)
    assert result.flags == flags


def test_mzt_combination_leaves_exactly_the_9_gaps_standards_md_lists_and_resolves_them() -> None:
    combination = MZT.combination
    assert combination is not None
    gaps, overlaps = [], 0
    for grades in itertools.product(range(4), repeat=4):
        values = dict(zip(("B.1", "B.2", "B.3", "B.4"), grades, strict=True))
        matched = {r.result for r in combination.rules if r.matches(values)}
        if not matched:
            gaps.append(grades)
            assert len({r.result for r in combination.gap_rules if r.matches(values)}) == 1
        overlaps += len(matched) > 1
    assert gaps == [
        (0, 0, 0, 3),
        (2, 0, 0, 0),
        (2, 1, 1, 1),
        (2, 1, 1, 2),
        (2, 1, 2, 1),
        (2, 1, 2, 2),
        (2, 2, 1, 1),
        (2, 2, 1, 2),
        (2, 2, 2, 1),
    ]
    assert overlaps == 60


def test_every_mzt_sensory_answer_gets_a_grade() -> None:
    grading = MZT.dimensions[2].grading
    assert grading is not None
    items = MZT.dimensions[2].items
    for scores in itertools.product(*(i.scores for i in items)):
        values = {i.code: s for i, s in zip(items, scores, strict=True)}
        assert any(r.matches(values) for r in grading.rules), values


@pytest.mark.parametrize(
    ("answers", "kwargs", "preliminary", "final", "reasons", "flags"),
    [
        (mzt_answers(adl=70, mental=1, social=5), {"diagnoses": ["F20"]}, 1, 2, ["dementia_or_mental"], []),
        (
            mzt_answers(adl=70, mental=1, social=5),
            {"risk_events_30d": {"fall": 1, "wandering": 1}},
            1,
            2,
            ["risk_events"],
            [],
        ),
        # Clause 2 names 跌倒、噎食、自杀、走失 only.
        (mzt_answers(adl=70, mental=1, social=5), {"risk_events_30d": {"other": 5}}, 1, 1, [], []),
        (
            mzt_answers(adl=70, mental=1, social=5),
            {"diagnoses": ["F03"], "risk_events_30d": {"choking": 2}},
            1,
            2,
            ["dementia_or_mental", "risk_events"],
            ["non_stacking_rules_assumed"],
        ),
        # Clause 4: a preliminary 重度失能 is not raised.
        (mzt_answers(adl=40), {"diagnoses": ["F03"]}, 3, 3, ["dementia_or_mental"], []),
        # Clause 3: coma, from the input or from B.3.1 昏迷 itself.
        (mzt_answers(), {"coma": True}, 0, 3, ["coma"], []),
        (mzt_answers(sensory=(3, 0, 0, 0)), {}, 1, 3, ["coma"], []),
    ],
)
def test_mzt_level_change_clauses(
    answers: dict[str, int],
    kwargs: dict[str, Any],
    preliminary: int,
    final: int,
    reasons: list[str],
    flags: list[str],
) -> None:
    result = score(MZT, answers, **kwargs)
    assert (result.preliminary_level, result.final_level) == (preliminary, final)
    assert result.change_reasons == reasons
    assert [f for f in result.flags if not f.startswith("combination_")] == flags


def test_mzt_has_no_total_to_grade() -> None:
    with pytest.raises(InstrumentError, match="不按总分评定等级"):
        rules.level_for_total(MZT, 50)


def test_every_mzt_option_is_accepted_and_other_scores_refused() -> None:
    for code, item in MZT.items.items():
        for value in item.scores:
            assert rules.check_answer(MZT, code, value) is None
        assert rules.check_answer(MZT, code, item.max_score + 1) is not None
        assert rules.check_answer(MZT, code, -1) is not None
    # Every option of every item was scored somewhere above; the worst case too.
    worst = {code: (0 if code.startswith("B.1.") else item.max_score) for code, item in MZT.items.items()}
    result = score(MZT, worst, coma=True)
    assert result.final_level == 3
    assert Counter(result.dimension_grades.values()) == Counter({3: 4})


# --- the calculator API ---------------------------------------------------------------------------


def api_client(user: Any) -> Client:
    response = Client().post(
        "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def post_score(client: Client, data: dict[str, Any]) -> Any:
    return client.post("/api/v1/assessments/score", json.dumps(data), content_type="application/json")


@pytest.mark.django_db
def test_any_signed_in_user_can_score_answers(personas: Personas) -> None:
    client = api_client(personas.community_worker)
    response = post_score(
        client, {"answers": gbt_answers(70), "diagnoses": ["F20"], "risk_events_30d": {"fall": 1, "choking": 1}}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "instrument": "GB/T 42195-2022",
        "version": GBT.version,
        "dimension_scores": {"B.1": 12, "B.2": 15, "B.3": 28, "B.4": 15},
        "dimension_grades": {},
        "total": 70,
        "preliminary_level": 1,
        "final_level": 2,
        "level_name": "能力中度受损（中度失能）",
        "change_reasons": ["dementia_or_mental", "risk_events"],
        "change_reason_texts": [DIAGNOSIS_TEXT, RISK_TEXT],
        "flags": ["non_stacking_rules_assumed"],
    }


@pytest.mark.django_db
def test_the_api_scores_mzt_by_its_slug(personas: Personas) -> None:
    client = api_client(personas.caregiver)
    response = post_score(client, {"instrument": "mzt039-2013", "answers": mzt_answers(adl=50)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["instrument"], body["total"], body["final_level"], body["flags"]) == (
        "MZ/T 039-2013",
        None,
        2,
        ["combination_gap"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "detail"),
    [
        ({"answers": WITHOUT_B23}, "answers.B.2.3", "缺少 B.2.3 平地行走 的答案"),
        (
            {"answers": gbt_answers(**{"B.2.4": 4})},
            "answers.B.2.4",
            "B.2.4 上下楼梯 没有 4 分这一选项（可选 0、1、2、3）",
        ),
        ({"answers": {**gbt_answers(), "B.1.1": "4"}}, "answers.B.1.1", "answers.B.1.1：应为整数"),
        (
            {"answers": gbt_answers(), "risk_events_30d": {"fall": -1}},
            "risk_events_30d.fall",
            "近30天跌倒的次数不能为负数",
        ),
        (
            {"answers": gbt_answers(), "diagnoses": ["F3"]},
            "diagnoses.0",
            "疾病诊断“F3”不是有效的 ICD-10 编码（如 F03、F03.9、I63.9）",
        ),
        (
            {"answers": gbt_answers(), "instrument": "GB/T 0000"},
            "instrument",
            "没有“GB/T 0000”这一评估标准（可选：GB/T 42195-2022、MZ/T 039-2013）",
        ),
        (
            {"answers": gbt_answers(), "version": "1999.1"},
            "version",
            f"GB/T 42195-2022 没有 1999.1 版数据（可选：{GBT.version}）",
        ),
        ({}, "answers", "answers：必填"),
    ],
)
def test_the_api_names_the_offending_field_in_chinese(
    personas: Personas, data: dict[str, Any], field: str, detail: str
) -> None:
    response = post_score(api_client(personas.community_worker), data)
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["detail"]) == (field, detail)


@pytest.mark.django_db
def test_the_calculator_needs_a_token() -> None:
    response = post_score(Client(), {"answers": gbt_answers()})
    assert response.status_code == 401
    assert "令牌" in response.json()["detail"]
    assert Client().get("/api/v1/assessments/instruments").status_code == 401


@pytest.mark.django_db
def test_the_api_lists_instruments_and_gives_a_full_definition(personas: Personas) -> None:
    client = api_client(personas.community_worker)
    listed = client.get("/api/v1/assessments/instruments").json()
    assert [(i["code"], i["slug"], i["version"], i["is_default"]) for i in listed] == [
        ("GB/T 42195-2022", "gbt42195-2022", GBT.version, True),
        ("MZ/T 039-2013", "mzt039-2013", MZT.version, False),
    ]
    definition = client.get("/api/v1/assessments/instruments/gbt42195-2022").json()
    assert (definition["code"], definition["versions"], len(definition["dimensions"])) == (
        "GB/T 42195-2022",
        [GBT.version],
        4,
    )
    b39 = definition["dimensions"][2]["items"][8]
    assert b39["code"] == "B.3.9"
    assert [s["key"] for s in b39["options"][2]["sub_options"]] == ["stupor", "coma"]
    assert [lv["min_total"] for lv in definition["levels"]] == [90, 66, 46, 30, 0]
    assert definition["appendix_a"]["A.1.3"]["options"][0] == {"key": "first", "name": "首次评估"}
    assert [h["heading"] for h in definition["report"]][-1] == "老年人能力最终等级"
    mzt = client.get("/api/v1/assessments/instruments/mzt039-2013", {"version": MZT.version}).json()
    assert mzt["scoring"] == "combination"
    assert mzt["combination"]["gap_flag"] == "combination_gap"
    missing = client.get("/api/v1/assessments/instruments/gbt00000")
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith("没有“gbt00000”这一评估标准")
