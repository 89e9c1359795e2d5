"""The monthly run for the whole bench district: the demo's ten proactive policies (seeds 001 and
003: home-care subsidies, disability and home-bed nursing, low net income, service tiers), evaluated in the database and
written as entitlements with their reasons, end to end through actions.run_month. Then the same
policies decided per person in plain Python (each person's facts loaded and every tree evaluated,
nothing written), to show the ratio."""

from __future__ import annotations

import datetime as dt
import gc
import time
from decimal import Decimal
from typing import Any

from django.db import connection

from sanshe.accounts.models import Region, RegionLevel, Role, User
from sanshe.demo.policies import POLICIES
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.engine import Offer, Terms, choose, payable
from sanshe.eligibility.models import BenefitKind, Entitlement, EntitlementRun, Fund, Policy, PolicyStatus
from sanshe.eligibility.queries import facts_for, fields
from sanshe.eligibility.rules import evaluate

MONTH = dt.date(2026, 12, 1)
def _policies(district: Region, by: User) -> list[Policy]:
    Entitlement.objects.all().delete()
    EntitlementRun.objects.all().delete()
    Policy.objects.all().delete()
    Fund.objects.all().delete()
    fund = Fund.objects.create(district=district, code="welfare", name="福利彩票公益金")
    made = []
    # The demo's policies that everyone is evaluated for (the vouchers are granted on application).
    for spec in [p for p in POLICIES if p.get("proactive", True)]:
        p = Policy.objects.create(district=district, code=spec["code"], name=spec["name"], legal_basis="bench",
                                  fund=fund, benefit_kind=spec.get("kind", BenefitKind.MONTHLY_QUOTA),
                                  exclusivity_group=spec["group"], excludes=spec.get("excludes", []),
                                  status=PolicyStatus.ACTIVE, created_by=by)
        authoring.add_version(p, effective_from=dt.date(2026, 1, 1), condition=spec["condition"],
                              amount=Decimal(spec["amount"]), acting_user=by, parameters=spec.get("parameters"))
        made.append(p)
    return made


def _per_person_python(district: Region) -> tuple[int, int, float]:
    """Every person of the month's population: facts loaded, every version's tree evaluated, the
    highest kept — the same decisions, one person at a time in Python."""
    versions = actions.versions_for_month(district, MONTH)
    in_force = [Terms(vs[-1]) for vs in versions.values()]
    people = actions.population(district, MONTH).select_related("residence_region", "registered_region", "capability")
    started = time.perf_counter()
    seen = granted = 0
    spec = fields()
    for person in people.iterator(chunk_size=5000):
        seen += 1
        facts = facts_for(person, MONTH)
        offers = [Offer(t, t.version.amount, payable([(t.version.amount, MONTH, MONTH)], MONTH, t.version.proration,
                                                     t.kind), [(t.version.amount, MONTH, MONTH)], "{}")
                  for t in in_force if evaluate(t.version.condition, facts, spec).passed]
        granted += len(choose(offers)[0])
    return seen, granted, time.perf_counter() - started


def run_monthly_benchmark() -> dict[str, Any]:
    district = Region.objects.get(level=RegionLevel.DISTRICT)
    by = User.objects.filter(memberships__role=Role.DISTRICT_OFFICER).order_by("pk").first()
    if by is None:
        raise SystemExit("the bench district has no district officer")
    policies = _policies(district, by)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    gc.collect()
    started = time.perf_counter()
    result = actions.run_month(district, MONTH, acting_user=by)
    seconds = time.perf_counter() - started
    run = result.run
    population = actions.population(district, MONTH).count()
    exact = sum(Entitlement.objects.filter(run=run).values_list("payable", flat=True).iterator(chunk_size=50000),
                Decimal(0))
    print(f"  monthly run: {population:,} people × {len(policies)} policies → {run.entitlements:,} entitlements "
          f"in {seconds:.1f} s (target < 30 s); {result.batches} approval batches; total {run.total_amount} yuan "
          f"(re-summed from the rows: {exact})")
    seen, granted, python_seconds = _per_person_python(district)
    print(f"  the same policies per person in Python: {seen:,} people, {granted:,} entitlements decided in "
          f"{python_seconds:.1f} s (nothing written) — {python_seconds / seconds:.1f}× the monthly run")
    return {"what": "monthly entitlement run", "people": population, "policies": len(policies),
            "entitlements": run.entitlements, "seconds": round(seconds, 1), "total_amount": str(run.total_amount),
            "resummed_amount": str(exact), "python_per_person_seconds": round(python_seconds, 1),
            "python_decided": granted, "batches": result.batches}
