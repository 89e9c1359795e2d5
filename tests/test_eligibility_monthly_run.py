"""The monthly run, read like seed 001_47f0e4c388d9ed24.txt: 1,000 / 800 / 600 / 500 yuan a month
for four overlapping groups, "就高不就低，不重复计算" — every person gets exactly one amount, the
highest; and the home-care-bed nursing subsidy is refused to someone who already receives the
disability nursing subsidy (seed 001, 家庭养老床位 护理补贴)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from sanshe.core.errors import UserError
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.models import Entitlement, Fund, Policy, PolicyStatus
from sanshe.eligibility.queries import reason_checks
from sanshe.people.models import Person
from tests.factories import District, Personas
from tests.test_eligibility_conditions import AGED_80, DIBAO_DEPENDENT, GROUP_THREE, NON_DIBAO_DEPENDENT, person

MONTH = dt.date(2026, 12, 1)


def policy(d: District, by: Any, code: str, name: str, condition: dict[str, Any], amount: str, *,
           group: str = "home_care_subsidy", excludes: tuple[str, ...] = ()) -> Policy:
    fund, _ = Fund.objects.get_or_create(district=d.district, code="welfare", defaults={"name": "福彩公益金"})
    p = Policy.objects.create(district=d.district, code=code, name=name, legal_basis="上政发〔2015〕1号",
                              fund=fund, benefit_kind="monthly_quota", exclusivity_group=group,
                              excludes=list(excludes), status=PolicyStatus.ACTIVE, created_by=by)
    authoring.add_version(p, effective_from=dt.date(2026, 1, 1), condition=condition, amount=Decimal(amount),
                        acting_user=by)
    return p


@pytest.fixture
def scheme(district: District, personas: Personas) -> dict[str, Policy]:
    by = personas.district_officer
    return {
        "1000": policy(district, by, "dibao_dependent", "低保且生活不能自理", DIBAO_DEPENDENT, "1000"),
        "800": policy(district, by, "dependent", "非低保生活不能自理", NON_DIBAO_DEPENDENT, "800"),
        "600": policy(district, by, "three_no_dibao_entitled", "三无、低保、重点优抚", GROUP_THREE, "600"),
        "500": policy(district, by, "aged_80", "80岁以上", AGED_80, "500"),
    }


TABLE = [
    # (who, the one amount they get, or None)
    ({"age": 59, "level": 3, "economic_status": "dibao"}, None),
    ({"age": 60, "level": 3, "economic_status": "dibao"}, "1000"),  # also in (三): the highest only
    ({"age": 60, "level": 1, "economic_status": "dibao"}, "600"),
    ({"age": 70, "level": 2}, "800"),
    ({"age": 70, "level": 1}, None),
    ({"age": 79}, None),
    ({"age": 80}, "500"),
    ({"age": 85, "level": 4}, "800"),  # (二) and (四): 800, not 1,300
    ({"age": 85, "level": 4, "economic_status": "dibao"}, "1000"),  # (一), (三) and (四): 1,000
    ({"age": 81, "entitled_group": True}, "600"),  # (三) and (四)
    ({"age": 65, "economic_status": "three_no"}, "600"),
]


@pytest.mark.parametrize(("who", "amount"), TABLE)
def test_each_person_gets_exactly_one_amount_the_highest(
    district: District, personas: Personas, scheme: dict[str, Policy], who: dict[str, Any], amount: str | None
) -> None:
    who = dict(who)
    p = person(district, personas, age=who.pop("age"), level=who.pop("level", None), **who)
    actions.run_month(district.district, MONTH, acting_user=personas.district_officer)
    rows = list(Entitlement.objects.filter(person=p))
    if amount is None:
        assert rows == []
        return
    assert len(rows) == 1
    assert rows[0].amount == Decimal(amount)
    assert rows[0].policy == scheme[amount]
    assert reason_checks(rows[0].version.condition, rows[0].reason)  # the conditions that held, with the values
    assert rows[0].reason["version"] == 1


def test_the_nursing_subsidy_is_refused_with_the_disability_nursing_subsidy(
    district: District, personas: Personas
) -> None:
    by = personas.district_officer
    disabled = {"field": "disability_grade", "op": "lte", "value": 2}
    total_loss = {"field": "capability_level", "op": "gte", "value": 4}
    policy(district, by, "disability_nursing", "残疾人护理补贴", disabled, "200", group="")
    policy(district, by, "bed_nursing", "家庭养老床位护理补贴（全失能）", total_loss, "1200", group="",
           excludes=("disability_nursing",))
    both = person(district, personas, age=82, level=4, disability_category="4", disability_grade=1)
    only_bed = person(district, personas, age=82, level=4)
    actions.run_month(district.district, MONTH, acting_user=by)
    assert set(Entitlement.objects.filter(person=both).values_list("policy__code", flat=True)) == {"disability_nursing"}
    assert set(Entitlement.objects.filter(person=only_bed).values_list("policy__code", flat=True)) == {"bed_nursing"}


def test_next_month_shows_new_changed_and_ended(district: District, personas: Personas,
                                                scheme: dict[str, Policy]) -> None:
    by = personas.district_officer
    stays = person(district, personas, age=85)
    dies = person(district, personas, age=90)
    grows = person(district, personas, age=86)
    actions.run_month(district.district, MONTH, acting_user=by)
    Person.objects.filter(pk=dies.pk).update(status="deceased", status_since=dt.date(2026, 12, 20))
    from sanshe.assessments.models import Assessment, CapabilityRecord

    a = Assessment.objects.create(person=grows, number="T-grow", reason="immediate", requested_by=by,
                                  instrument_code="GB/T 42195-2022", instrument_version="2022.1", status="published",
                                  final_level=3)
    CapabilityRecord.objects.create(person=grows, assessment=a, level=3, assessed_on=dt.date(2026, 12, 10),
                                    valid_until=dt.date(2027, 12, 10))
    newcomer = person(district, personas, age=80)
    result = actions.run_month(district.district, dt.date(2027, 1, 1), acting_user=by)
    diff = actions.month_diff(result.run)
    # New: the newcomer's 500 and the 800 that replaces a 500; ended: the deceased's 500 and that replaced 500.
    assert (diff.new, diff.ended) == (2, 2)
    assert Entitlement.objects.get(person=stays, month=dt.date(2027, 1, 1)).change == "same"
    assert Entitlement.objects.get(person=grows, month=dt.date(2027, 1, 1)).amount == Decimal("800")
    assert Entitlement.objects.filter(person=newcomer).count() == 1
    assert sum(diff.cost_by_fund.values()) == Decimal("500") * 2 + Decimal("800")


def test_a_month_is_never_recomputed_silently(district: District, personas: Personas,
                                              scheme: dict[str, Policy]) -> None:
    actions.run_month(district.district, MONTH, acting_user=personas.district_officer)
    with pytest.raises(UserError, match="不会被重新计算"):
        actions.run_month(district.district, MONTH, acting_user=personas.district_officer)


def test_a_new_amount_applies_from_its_date(district: District, personas: Personas,
                                           scheme: dict[str, Policy]) -> None:
    by = personas.district_officer
    p = person(district, personas, age=88)
    authoring.add_version(scheme["500"], effective_from=dt.date(2027, 2, 1), condition=AGED_80,
                        amount=Decimal("550"), acting_user=by)
    for month in (dt.date(2027, 1, 1), dt.date(2027, 2, 1)):
        actions.run_month(district.district, month, acting_user=by)
    amounts = dict(Entitlement.objects.filter(person=p).values_list("month", "amount"))
    assert amounts == {dt.date(2027, 1, 1): Decimal("500"), dt.date(2027, 2, 1): Decimal("550")}
    with pytest.raises(UserError, match="须晚于"):
        authoring.add_version(scheme["500"], effective_from=dt.date(2027, 1, 15), condition=AGED_80,
                            amount=Decimal("9"), acting_user=by)


def test_the_persons_page_and_the_api_explain_each_policy(
    district: District, personas: Personas, scheme: dict[str, Policy]
) -> None:
    import json

    from django.test import Client

    from tests.factories import PASSWORD

    p = person(district, personas, age=78, level=1)
    actions.run_month(district.district, MONTH, acting_user=personas.district_officer)
    client = Client()
    client.force_login(personas.community_worker)
    page = client.get(f"/eligibility/person/{p.pk}/panel/").content.decode()
    assert "年龄 78岁 &lt; 80岁" in page  # 80岁以上: the first condition that failed
    assert "未享受" in page
    token = client.post("/api/v1/auth/token", json.dumps({"username": "worker", "password": PASSWORD}),
                        content_type="application/json").json()["token"]
    rows = client.get(f"/api/v1/people/{p.pk}/entitlements", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    by_code = {r["policy_code"]: r for r in rows}
    assert by_code["aged_80"]["failure"] == "年龄 78岁 < 80岁"
    assert not any(r["granted"] for r in rows)
    outsider = Client()
    outsider.force_login(personas.neighbour_worker)
    assert outsider.get(f"/eligibility/person/{p.pk}/panel/").status_code == 404


def test_a_granted_entitlement_shows_its_reason(district: District, personas: Personas,
                                                scheme: dict[str, Policy]) -> None:
    from django.test import Client

    p = person(district, personas, age=83)
    actions.run_month(district.district, MONTH, acting_user=personas.district_officer)
    client = Client()
    client.force_login(personas.community_worker)
    page = client.get(f"/eligibility/person/{p.pk}/panel/").content.decode()
    assert "享受" in page
    assert "年龄 83岁 ≥ 80岁" in page


def test_simulating_a_change_shows_who_gains_and_loses_and_writes_nothing(
    district: District, personas: Personas, scheme: dict[str, Policy]
) -> None:
    person(district, personas, age=85)  # 500 today
    person(district, personas, age=77)  # nothing today
    person(district, personas, age=85, level=3, economic_status="dibao")  # 1,000: unaffected
    lowered = {"field": "age", "op": "gte", "value": 75}
    result = actions.simulate(district.district, MONTH, policy=scheme["500"], condition=lowered,
                              amount=Decimal("550"))
    assert (result.gains, result.losses) == (2, 0)
    assert result.cost_after - result.cost_before == Decimal("600")  # +50 and +550
    assert result.by_fund == {"福彩公益金": Decimal("600")}
    assert sum(result.by_street.values()) == Decimal("600")
    assert not Entitlement.objects.exists()
    stricter = actions.simulate(district.district, MONTH, policy=scheme["500"],
                                condition={"field": "age", "op": "gte", "value": 90}, amount=Decimal("500"))
    assert (stricter.gains, stricter.losses) == (0, 1)
    with pytest.raises(UserError, match="年龄的比较值"):
        actions.simulate(district.district, MONTH, policy=scheme["500"],
                         condition={"field": "age", "op": "gte", "value": "x"}, amount=Decimal("1"))
