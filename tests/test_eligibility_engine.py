"""The two paths agree: the monthly run decides in the database for everyone, the single-person
path decides in Python for one person (explanations, applications, re-evaluation). The fixtures
of seed 001_47f0e4c388d9ed24.txt go through both; then a random district, with birthdays on month
boundaries and on 29 February, is compared person by person."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from sanshe.accounts.models import Region, RegionLevel, User
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.engine import choose
from sanshe.eligibility.individual import decide, offers_for_person
from sanshe.eligibility.models import BenefitKind, Entitlement, Fund, Policy, PolicyStatus, Proration
from sanshe.people.models import Person
from tests.factories import District, Personas
from tests.test_eligibility_conditions import person
from tests.test_eligibility_monthly_run import MONTH, TABLE, scheme  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def batch_result(run_month: dt.date) -> dict[int, set[tuple[str, Decimal]]]:
    out: dict[int, set[tuple[str, Decimal]]] = {}
    for pid, code, payable in Entitlement.objects.filter(month=run_month).values_list(
            "person_id", "policy__code", "payable"):
        out.setdefault(pid, set()).add((code, payable))
    return out


def single_result(p: Person, month: dt.date, versions: dict[Policy, Any]) -> set[tuple[str, Decimal]]:
    chosen, _ = choose(offers_for_person(p, month, versions))
    return {(o.version.policy.code, o.payable) for o in chosen}


@pytest.mark.parametrize(("who", "amount"), TABLE)
def test_the_fixtures_agree_on_both_paths(district: District, personas: Personas, scheme: dict[str, Policy],  # noqa: F811
                                         who: dict[str, Any], amount: str | None) -> None:
    who = dict(who)
    p = person(district, personas, age=who.pop("age"), level=who.pop("level", None), **who)
    actions.run_month(district.district, MONTH, acting_user=personas.district_officer)
    single = {(o.version.policy.code, o.payable) for o in decide(p, MONTH).chosen}
    assert batch_result(MONTH).get(p.pk, set()) == single
    assert single == ({(scheme[amount].code, Decimal(amount))} if amount else set())


# -- The differential test ----------------------------------------------------------------------------------------

LEAP_MARCH = dt.date(2028, 3, 1)  # 2028 is a leap year: 29 February exists in the month before
MONTHS = [dt.date(2028, 2, 1), LEAP_MARCH, dt.date(2027, 3, 1), dt.date(2028, 1, 1)]
THRESHOLDS = (60, 70, 80, 90, 100)


def awkward_birthdays(rng: random.Random, n: int) -> list[dt.date]:
    """Birthdays that break month arithmetic: the first and last days of months, the day after a
    month boundary, 28/29 February and 1 March, at ages on both sides of the thresholds."""
    days = []
    for _ in range(n):
        age = rng.choice(THRESHOLDS) + rng.choice((-1, 0, 0, 1))
        month = rng.choice(MONTHS)
        year = month.year - age
        pick = rng.choice(["first", "second", "last", "feb28", "feb29", "mar1", "mar2", "same"])
        if pick == "feb29":
            year -= year % 4  # a leap year (none of these centuries is 1900/2100)
            days.append(dt.date(year, 2, 29))
        elif pick == "feb28":
            days.append(dt.date(year, 2, 28))
        elif pick in ("mar1", "mar2"):
            days.append(dt.date(year, 3, 1 if pick == "mar1" else 2))
        elif pick == "last":
            days.append(dt.date(year, month.month, 1) - dt.timedelta(days=1))
        elif pick == "second":
            days.append(dt.date(year, month.month, 2))
        else:
            days.append(dt.date(year, month.month, 1))
    return days


def _policy(district: Region, by: User, fund: Fund, code: str, condition: dict[str, Any], amount: str, *,
            group: str = "", excludes: tuple[str, ...] = (), kind: str = BenefitKind.MONTHLY_QUOTA,
            parameters: dict[str, Any] | None = None) -> Policy:
    p = Policy.objects.create(district=district, code=code, name=code, legal_basis="测试", fund=fund, benefit_kind=kind,
                              exclusivity_group=group, excludes=list(excludes), status=PolicyStatus.ACTIVE,
                              created_by=by)
    authoring.add_version(p, effective_from=dt.date(2020, 1, 1), condition=condition, amount=Decimal(amount),
                          acting_user=by, parameters=parameters)
    return p


def test_the_batch_and_single_person_paths_agree_person_by_person(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    call_command("generate_demo", people=1200, seed=7, force=True, no_policies=True, no_services=True,
                 stdout=io.StringIO())
    rng = random.Random(11)
    people = list(Person.objects.order_by("pk"))
    for p, birthday in zip(rng.sample(people, 600), awkward_birthdays(rng, 600), strict=True):
        p.birth_date = birthday
    Person.objects.bulk_update(people, ["birth_date"])
    district = Region.objects.get(level=RegionLevel.DISTRICT)
    street = Region.objects.filter(level=RegionLevel.STREET).order_by("code").first()
    assert street is not None
    by = User.objects.filter(memberships__role="district_officer").first()
    assert by is not None
    fund = Fund.objects.create(district=district, code="f", name="测试资金")
    age = lambda op, v: {"field": "age", "op": op, "value": v}  # noqa: E731
    _policy(district, by, fund, "aged_100", age("gte", 100), "1000", group="age")
    _policy(district, by, fund, "aged_90_99", age("between", [90, 99]), "600", group="age")
    _policy(district, by, fund, "aged_80_plus", age("gt", 79), "500", group="age")
    _policy(district, by, fund, "exactly_70", age("eq", 70), "70")
    _policy(district, by, fund, "not_60", {"all": [age("ne", 60), age("lte", 61), age("gte", 59)]}, "60")
    _policy(district, by, fund, "young_poor", {"all": [age("lt", 80), {"field": "economic_status", "op": "in",
                                                                       "value": ["dibao", "tekun", "three_no"]}]}, "300")
    _policy(district, by, fund, "dependent", {"any": [{"field": "capability_level", "op": "gte", "value": 2},
                                                      {"field": "disability_grade", "op": "lte", "value": 2}]}, "800",
            group="care")
    _policy(district, by, fund, "dependent_here", {"all": [{"field": "capability_level", "op": "gte", "value": 3},
                                                           {"field": "residence_region", "op": "within",
                                                            "value": street.code}]}, "900", group="care",
            excludes=("young_poor",))
    _policy(district, by, fund, "low_net", {"all": [age("gte", 60), {"field": "income_after_medical", "op": "lt",
                                                                     "value": 3000}]}, "250")
    _policy(district, by, fund, "lonely", {"not": {"any": [{"field": "living_arrangement", "op": "ne",
                                                            "value": "alone"}, {"field": "empty_nest",
                                                                               "op": "is_false"}]}}, "120")
    _policy(district, by, fund, "free_tier", {"field": "economic_status", "op": "in", "value": ["dibao", "tekun"]}, "0",
            group="tier", kind=BenefitKind.CO_PAYMENT_TIER, parameters={"tier": "free"})
    _policy(district, by, fund, "low_tier", age("gte", 80), "0", group="tier", kind=BenefitKind.CO_PAYMENT_TIER,
            parameters={"tier": "low_cost", "co_payment_rate": "0.3"})
    # A mid-month change paid by the day, so both paths must split February of a leap year alike.
    p90 = Policy.objects.get(code="aged_90_99")
    authoring.add_version(p90, effective_from=dt.date(2028, 2, 29), condition=age("between", [90, 100]),
                          amount=Decimal("650"), acting_user=by, proration=Proration.DAILY)
    # A policy that starts on 29 February, paid by the day: ages are taken on a day that common years lack.
    leap = Policy.objects.create(district=district, code="leap_day_90", name="leap_day_90", legal_basis="测试",
                                 fund=fund, benefit_kind=BenefitKind.MONTHLY_SUBSIDY, status=PolicyStatus.ACTIVE,
                                 created_by=by)
    authoring.add_version(leap, effective_from=dt.date(2028, 2, 29), condition=age("between", [90, 100]),
                          amount=Decimal("290"), acting_user=by, proration=Proration.DAILY)
    disagreements = []
    compared = 0
    for month in sorted(MONTHS):
        actions.run_month(district, month, acting_user=by)
        batch = batch_result(month)
        versions = actions.versions_for_month(district, month)
        for p in Person.objects.select_related("residence_region", "registered_region", "capability"):
            single = single_result(p, month, versions) if p.status not in actions.GONE or (
                p.status_since is None or p.status_since > month) else set()
            compared += 1
            if batch.get(p.pk, set()) != single:
                disagreements.append((month, p.pk, p.birth_date, batch.get(p.pk), single))
    assert compared == 4 * Person.objects.count()
    assert sum(len(v) for v in batch_result(LEAP_MARCH).values()) > 300  # the policies do select people
    assert disagreements == []
