"""Amounts over time and files that change: a mid-year change applies from its date under the
stated proration rule; vouchers come once a year and grants once; free beats low-cost; a death,
a new economic status or an application reaches the month's entitlements from its effective date,
never earlier or later, and every ending carries its reason (seed 001_47f0e4c388d9ed24.txt:
服务券 500/300 元每年, 免费/低偿/有偿 服务, 动态管理)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from sanshe.eligibility import actions, authoring
from sanshe.eligibility.individual import apply_for
from sanshe.eligibility.models import (
    ApprovalBatch,
    BatchKind,
    BenefitKind,
    Entitlement,
    EntitlementStatus,
    Fund,
    Policy,
    PolicyStatus,
    Proration,
)
from sanshe.people import actions as people_actions
from tests.factories import District, Personas, make_person

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 1)
TODAY = dt.datetime(2026, 12, 20, 10, 0, tzinfo=dt.UTC)
AGED_80 = {"field": "age", "op": "gte", "value": 80}
DIBAO = {"field": "economic_status", "op": "eq", "value": "dibao"}


def make_policy(d: District, by: Any, code: str, condition: dict[str, Any], amount: str, *,
                kind: str = BenefitKind.MONTHLY_QUOTA, group: str = "", proactive: bool = True,
                proration: str = Proration.NONE, parameters: dict[str, Any] | None = None,
                since: dt.date = dt.date(2026, 1, 1)) -> Policy:
    fund, _ = Fund.objects.get_or_create(district=d.district, code="welfare", defaults={"name": "福彩公益金"})
    p = Policy.objects.create(district=d.district, code=code, name=code, legal_basis="青民〔2026〕12号", fund=fund,
                              benefit_kind=kind, exclusivity_group=group, proactive=proactive,
                              status=PolicyStatus.ACTIVE, created_by=by)
    authoring.add_version(p, effective_from=since, condition=condition, amount=Decimal(amount), acting_user=by,
                          proration=proration, parameters=parameters)
    return p


def aged(d: District, by: Any, age: int, **values: Any) -> Any:
    return make_person(d.community_a1, by=by, birth_date=dt.date(2026 - age, 6, 1), **values)


def rows(person: Any, month: dt.date = DEC) -> list[Entitlement]:
    return list(Entitlement.objects.filter(person=person, month=month).order_by("starts_on", "pk"))


def test_a_mid_month_change_paid_by_the_day_splits_the_month(district: District, personas: Personas) -> None:
    by = personas.district_officer
    p = make_policy(district, by, "aged_80", AGED_80, "500")
    authoring.add_version(p, effective_from=dt.date(2026, 12, 16), condition=AGED_80, amount=Decimal("600"),
                          acting_user=by, proration=Proration.DAILY)
    elder = aged(district, by, 85)
    actions.run_month(district.district, DEC, acting_user=by)
    [row] = rows(elder)
    # 500 × 15/31 + 600 × 16/31 = 551.6129… → 551.61; rounded once, half up, to the fen.
    assert (row.amount, row.payable) == (Decimal("600"), Decimal("551.61"))
    assert row.reason["parts"] == [["500.00", "2026-12-01", "2026-12-15"], ["600.00", "2026-12-16", "2026-12-31"]]


def test_a_mid_month_change_by_whole_months_applies_from_the_next_month(district: District,
                                                                        personas: Personas) -> None:
    by = personas.district_officer
    p = make_policy(district, by, "aged_80", AGED_80, "500")
    authoring.add_version(p, effective_from=dt.date(2026, 12, 16), condition=AGED_80, amount=Decimal("600"),
                          acting_user=by, proration=Proration.NONE)
    elder = aged(district, by, 85)
    actions.run_month(district.district, DEC, acting_user=by)
    actions.run_month(district.district, dt.date(2027, 1, 1), acting_user=by)
    assert [r.payable for r in rows(elder)] == [Decimal("500")]
    assert [r.payable for r in rows(elder, dt.date(2027, 1, 1))] == [Decimal("600")]
    assert rows(elder, dt.date(2027, 1, 1))[0].change == "changed"


def test_a_voucher_comes_once_a_year_and_a_grant_once(district: District, personas: Personas) -> None:
    by = personas.district_officer
    make_policy(district, by, "voucher", AGED_80, "500", kind=BenefitKind.ANNUAL_VOUCHER)
    make_policy(district, by, "adaptation", AGED_80, "3000", kind=BenefitKind.ONE_OFF_GRANT)
    elder = aged(district, by, 85)
    for month in (DEC, dt.date(2027, 1, 1), dt.date(2027, 2, 1)):
        actions.run_month(district.district, month, acting_user=by)
    got = list(Entitlement.objects.filter(person=elder).order_by("month", "policy__code")
               .values_list("month", "policy__code", "payable"))
    assert got == [(DEC, "adaptation", Decimal("3000")), (DEC, "voucher", Decimal("500")),
                   (dt.date(2027, 1, 1), "voucher", Decimal("500"))]


def test_free_service_beats_low_cost_in_one_tier_group(district: District, personas: Personas) -> None:
    by = personas.district_officer
    make_policy(district, by, "free", DIBAO, "0", kind=BenefitKind.CO_PAYMENT_TIER, group="tier",
                parameters={"tier": "free"})
    make_policy(district, by, "low_cost", AGED_80, "0", kind=BenefitKind.CO_PAYMENT_TIER, group="tier",
                parameters={"tier": "low_cost", "co_payment_rate": "0.3"})
    both = aged(district, by, 85, economic_status="dibao")
    only_old = aged(district, by, 85)
    actions.run_month(district.district, DEC, acting_user=by)
    assert [r.policy.code for r in rows(both)] == ["free"]
    assert [r.policy.code for r in rows(only_old)] == ["low_cost"]
    assert rows(both)[0].payable == 0  # a right to a price, paid when services are delivered


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(("proration", "payable"), [(Proration.NONE, "500.00"), (Proration.DAILY, "145.16")])
def test_a_death_ends_the_entitlement_from_its_date_with_the_reason(
        district: District, personas: Personas, proration: str, payable: str) -> None:
    by = personas.district_officer
    make_policy(district, by, "aged_80", AGED_80, "500", proration=proration)
    elder = aged(district, by, 90)
    actions.run_month(district.district, DEC, acting_user=by)
    people_actions.change_status(elder, to_status="deceased", effective_date=dt.date(2026, 12, 10),
                                 reason="家属告知", acting_user=personas.community_worker)
    [row] = rows(elder)
    assert row.status == EntitlementStatus.ENDED
    assert row.ended_on == dt.date(2026, 12, 10)
    assert "死亡" in row.end_reason
    assert "家属告知" in row.end_reason
    # 按整月: the month is paid in full; 按天: 9 of 31 days (500 × 9/31 = 145.16).
    assert row.payable == Decimal(payable)


@time_machine.travel(TODAY, tick=False)
def test_a_new_economic_status_changes_the_amount_from_that_day(district: District, personas: Personas) -> None:
    by = personas.district_officer
    make_policy(district, by, "aged_80", AGED_80, "500", group="home_care", proration=Proration.DAILY)
    make_policy(district, by, "dibao_80", {"all": [AGED_80, DIBAO]}, "1000", group="home_care",
                proration=Proration.DAILY)
    elder = aged(district, by, 88)
    bystander = aged(district, by, 88)
    actions.run_month(district.district, DEC, acting_user=by)
    Entitlement.objects.update(status=EntitlementStatus.ACTIVE)  # approved and published
    people_actions.update_person(elder, values={"economic_status": "dibao"}, acting_user=personas.community_worker,
                                 reason="低保审批通过")
    old, new = rows(elder)
    assert (old.policy.code, old.status, old.ended_on) == ("aged_80", EntitlementStatus.ENDED, dt.date(2026, 12, 20))
    assert "经济状况" in old.end_reason
    assert old.payable == Decimal("306.45")  # 500 × 19/31
    assert (new.policy.code, new.status, new.starts_on) == ("dibao_80", EntitlementStatus.PENDING, dt.date(2026, 12, 20))
    assert new.payable == Decimal("387.10")  # 1000 × 12/31
    assert new.batch is not None
    assert new.batch.kind == BatchKind.ADJUSTMENT
    assert [r.status for r in rows(bystander)] == [EntitlementStatus.ACTIVE]
    # Earlier months are never touched.
    assert not Entitlement.objects.filter(month__lt=DEC).exists()


@time_machine.travel(TODAY, tick=False)
def test_an_application_is_checked_against_the_same_rules(district: District, personas: Personas) -> None:
    by = personas.district_officer
    worker = personas.community_worker
    p = make_policy(district, by, "on_request", AGED_80, "300", proactive=False, proration=Proration.DAILY)
    young = aged(district, by, 78)
    applicant = aged(district, by, 85)
    silent = aged(district, by, 85)
    actions.run_month(district.district, DEC, acting_user=by)
    assert not Entitlement.objects.exists()  # not proactive: nobody without an application
    refused = apply_for(young, p, applicant="本人", applied_on=dt.date(2026, 12, 20), acting_user=worker)
    assert refused.status == "refused"
    assert refused.outcome["failure"] == "年龄 78岁 < 80岁"
    granted = apply_for(applicant, p, applicant="女儿 李芳", applied_on=dt.date(2026, 12, 20), acting_user=worker)
    assert granted.status == "granted"
    assert granted.entitlement is not None
    assert granted.entitlement.payable == Decimal("116.13")  # 300 × 12/31 from the day of the application
    assert ApprovalBatch.objects.get(pk=granted.entitlement.batch_id).kind == BatchKind.APPLICATION
    actions.run_month(district.district, dt.date(2027, 1, 1), acting_user=by)
    assert [r.payable for r in rows(applicant, dt.date(2027, 1, 1))] == [Decimal("300")]
    assert rows(silent, dt.date(2027, 1, 1)) == []


def test_a_reason_names_only_what_it_displaced(district: District, personas: Personas) -> None:
    by = personas.district_officer
    make_policy(district, by, "aged_80", AGED_80, "500", group="home_care")
    make_policy(district, by, "dibao_80", {"all": [AGED_80, DIBAO]}, "1000", group="home_care")
    make_policy(district, by, "free", DIBAO, "0", kind=BenefitKind.CO_PAYMENT_TIER, group="tier",
                parameters={"tier": "free"})
    make_policy(district, by, "low_cost", AGED_80, "0", kind=BenefitKind.CO_PAYMENT_TIER, group="tier",
                parameters={"tier": "low_cost", "co_payment_rate": "0.3"})
    elder = aged(district, by, 85, economic_status="dibao")
    actions.run_month(district.district, DEC, acting_user=by)
    reasons = {r.policy.code: r.reason.get("competing", []) for r in rows(elder)}
    assert reasons == {"dibao_80": ["aged_80（同组就高：已享受dibao_80）"],
                       "free": ["low_cost（同组就高：已享受free）"]}


def test_new_rows_wait_in_one_batch_per_community_and_standing_ones_in_none(district: District,
                                                                            personas: Personas) -> None:
    by = personas.district_officer
    make_policy(district, by, "aged_80", AGED_80, "500")
    for region in (district.community_a1, district.community_a1, district.community_a2):
        make_person(region, by=by, birth_date=dt.date(1940, 6, 1))
    result = actions.run_month(district.district, DEC, acting_user=by)
    batches = ApprovalBatch.objects.filter(run=result.run)
    assert sorted(b.community_id for b in batches) == sorted([district.community_a1.pk, district.community_a2.pk])
    assert sorted(b.entitlements.count() for b in batches) == [1, 2]
    Entitlement.objects.update(status=EntitlementStatus.ACTIVE)  # approved, published, in force
    january = actions.run_month(district.district, dt.date(2027, 1, 1), acting_user=by)
    assert set(january.run.rows.values_list("change", "status", "batch")) == {("same", "active", None)}
    assert not ApprovalBatch.objects.filter(run=january.run).exists()  # nothing new: no batch left open
