"""Policy conditions as data, read like the policy text (seed 001_47f0e4c388d9ed24.txt, items
(一)–(四); seed 003_b40796f4d6b594f8.txt, "医疗开支后实际收入低于3000元/月"): the same tree
decides in the database for everyone and explains itself for one person."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from sanshe.assessments.models import Assessment, CapabilityRecord
from sanshe.eligibility.queries import facts_for, fields, people_matching
from sanshe.eligibility.rules import ConditionError, evaluate, validate
from sanshe.people.models import Person
from tests.factories import District, Personas, make_person

ON = dt.date(2026, 12, 1)
# "生活不能自理": capability level 2 (moderate) or worse on a valid assessment.
CANNOT_CARE = {"field": "capability_level", "op": "gte", "value": 2}
AGED_60 = {"field": "age", "op": "gte", "value": 60}

# Seed 001 (一): 60岁及以上享受低保且生活不能自理的老人 — 1000元/月
DIBAO_DEPENDENT = {"all": [AGED_60, {"field": "economic_status", "op": "eq", "value": "dibao"}, CANNOT_CARE]}
# (二): 60岁以上非低保对象但生活不能自理老人 — 800元/月
NON_DIBAO_DEPENDENT = {"all": [AGED_60, {"not": {"field": "economic_status", "op": "eq", "value": "dibao"}},
                               CANNOT_CARE]}
# (三): 60岁以上分散供养的“三无”老人、低保老人、重点优抚老人 — 600元/月
GROUP_THREE = {"all": [AGED_60, {"any": [
    {"field": "economic_status", "op": "in", "value": ["three_no", "dibao"]},
    {"field": "entitled_group", "op": "is_true"},
]}]}
# (四): 80岁以上老人 — 500元/月
AGED_80 = {"field": "age", "op": "gte", "value": 80}
# Seed 003: 医疗开支后实际收入低于3000元/月
LOW_NET_INCOME = {"field": "income_after_medical", "op": "lt", "value": 3000}


def born(age: int) -> dt.date:
    """A birth date that makes the person exactly `age` on ON (their birthday was a month before)."""
    return dt.date(ON.year - age, ON.month - 1, 1)


def person(district: District, personas: Personas, *, age: int, level: int | None = None,
           **values: Any) -> Person:
    p = make_person(district.community_a1, by=personas.district_officer, birth_date=born(age), **values)
    if level is not None:
        a = Assessment.objects.create(person=p, number=f"T{p.pk}", reason="first", requested_by=personas.district_officer,
                                      instrument_code="GB/T 42195-2022", instrument_version="2022.1",
                                      status="published", final_level=level)
        CapabilityRecord.objects.create(person=p, assessment=a, level=level, assessed_on=ON - dt.timedelta(days=30),
                                        valid_until=ON + dt.timedelta(days=300))
    return p


CASES = [
    # (who, condition, expected, first failure text when refused)
    ({"age": 60, "level": 2, "economic_status": "dibao"}, DIBAO_DEPENDENT, True, ""),
    ({"age": 59, "level": 2, "economic_status": "dibao"}, DIBAO_DEPENDENT, False, "年龄 59岁 < 60岁"),
    ({"age": 70, "level": 1, "economic_status": "dibao"}, DIBAO_DEPENDENT, False, "能力等级（有效评估） 1 < 2"),
    ({"age": 70, "economic_status": "dibao"}, DIBAO_DEPENDENT, False, "能力等级（有效评估）（无记录）"),
    ({"age": 70, "level": 3, "economic_status": "ordinary"}, DIBAO_DEPENDENT, False, "经济状况 一般 不属于 低保"),
    ({"age": 70, "level": 3, "economic_status": "ordinary"}, NON_DIBAO_DEPENDENT, True, ""),
    ({"age": 70, "level": 3, "economic_status": "dibao"}, NON_DIBAO_DEPENDENT, False, "并非（经济状况 低保 属于 低保）"),
    ({"age": 65, "economic_status": "three_no"}, GROUP_THREE, True, ""),
    ({"age": 65, "entitled_group": True}, GROUP_THREE, True, ""),
    ({"age": 65}, GROUP_THREE, False, "以下任一条件均不满足：经济状况 一般 不属于 三无老人、低保；重点优抚对象：否"),
    ({"age": 79}, AGED_80, False, "年龄 79岁 < 80岁"),
    ({"age": 80}, AGED_80, True, ""),
    ({"age": 75, "monthly_income": Decimal("4200"), "monthly_medical_costs": Decimal("1500")}, LOW_NET_INCOME, True, ""),
    ({"age": 75, "monthly_income": Decimal("4200"), "monthly_medical_costs": Decimal("1000")}, LOW_NET_INCOME, False,
     "扣除医疗支出后的月收入 3200.00元 ≥ 3000.00元"),
]


@pytest.mark.parametrize(("who", "condition", "expected", "failure"), CASES)
def test_the_database_and_the_explanation_agree(
    district: District, personas: Personas, who: dict[str, Any], condition: dict[str, Any], expected: bool,
    failure: str,
) -> None:
    who = dict(who)
    p = person(district, personas, age=who.pop("age"), level=who.pop("level", None), **who)
    validate(condition, fields())
    outcome = evaluate(condition, facts_for(p, ON), fields())
    assert outcome.passed is expected
    assert outcome.first_failure == failure
    assert people_matching(condition, ON).filter(pk=p.pk).exists() is expected


def test_an_expired_assessment_does_not_count(district: District, personas: Personas) -> None:
    p = person(district, personas, age=70, level=3, economic_status="dibao")
    CapabilityRecord.objects.filter(person=p).update(valid_until=ON - dt.timedelta(days=1))
    p = Person.objects.get(pk=p.pk)
    assert not evaluate(DIBAO_DEPENDENT, facts_for(p, ON), fields()).passed
    assert not people_matching(DIBAO_DEPENDENT, ON).exists()


def test_region_conditions(district: District, personas: Personas) -> None:
    p = person(district, personas, age=70)
    inside = {"field": "residence_region", "op": "within", "value": district.street_a.code[:9]}
    outside = {"field": "residence_region", "op": "within", "value": district.street_b.code}
    for tree, expected in ((inside, True), (outside, False)):
        validate(tree, fields())
        assert evaluate(tree, facts_for(p, ON), fields()).passed is expected
        assert people_matching(tree, ON).filter(pk=p.pk).exists() is expected


@pytest.mark.parametrize(
    ("tree", "message", "path"),
    [
        ({"field": "shoe_size", "op": "eq", "value": 1}, "没有“shoe_size”这一条件项", "field"),
        ({"field": "age", "op": "in", "value": [80]}, "年龄不能用“in”比较", "op"),
        ({"field": "age", "op": "gte", "value": "八十"}, "年龄的比较值“八十”应为数字", "value"),
        ({"field": "age", "op": "between", "value": [90, 80]}, "下限 90 大于上限 80", "value"),
        ({"field": "economic_status", "op": "eq", "value": "rich"}, "经济状况没有“rich”这一取值", "value"),
        ({"field": "residence_region", "op": "within", "value": "3301"}, "6、9 或 12 位区划代码", "value"),
        ({"all": []}, "至少要有一个条件", ""),
        ({"any": [{"field": "age", "op": "gte", "value": 60}, "age > 60"]}, "条件格式不正确", "any.1."),
    ],
)
def test_bad_trees_are_refused_with_the_node_named(tree: Any, message: str, path: str) -> None:
    with pytest.raises(ConditionError) as caught:
        validate(tree, fields())
    assert message in caught.value.message
    assert caught.value.path == path
