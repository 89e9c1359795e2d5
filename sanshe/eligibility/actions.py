"""Policies and the monthly run: every active policy evaluated for a district's whole population
inside the database, one entitlement per person and policy with its reason, "take the highest,
never double" inside an exclusivity group, exclusions between policies, and the change from the
previous month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sanshe.accounts.models import Region
from sanshe.core.bulk import bulk_insert_values
from sanshe.core.errors import UserError
from sanshe.eligibility.models import (
    ChangeFromPrevious,
    Entitlement,
    EntitlementRun,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RunStatus,
)
from sanshe.eligibility.queries import facts_for, fields, people_matching
from sanshe.eligibility.rules import ConditionError, evaluate, validate
from sanshe.people.models import Person, PersonStatus

# People no longer on the district's books from their status date on.
GONE = (PersonStatus.DECEASED, PersonStatus.MOVED_AWAY)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def versions_in_force(district: Region, month: dt.date) -> list[PolicyVersion]:
    """The version of each active policy that is in force on the first day of the month (a change
    made mid-month applies from the next month: past and current months are never recomputed)."""
    return list(
        PolicyVersion.objects.filter(policy__district=district, policy__status=PolicyStatus.ACTIVE,
                                     effective_from__lte=month)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=month))
        .select_related("policy__fund").order_by("policy_id")
    )


def population(district: Region, month: dt.date) -> QuerySet[Person]:
    """Everyone living in the district at the start of the month."""
    return Person.objects.filter(residence_region__code__startswith=district.prefix).exclude(
        status__in=GONE, status_since__lte=month)


@dataclass
class Candidate:
    version: PolicyVersion
    amount: Decimal


@dataclass
class MonthResult:
    run: EntitlementRun
    granted: int = 0
    dropped_by_group: int = 0
    dropped_by_exclusion: int = 0
    notes: list[str] = field(default_factory=list)


def _choose(candidates: list[Candidate]) -> tuple[list[Candidate], int, int]:
    """Exclusions first (a policy is refused to people who receive one it excludes), then in each
    exclusivity group only the most generous policy (ties: the older policy)."""
    codes = {c.version.policy.code for c in candidates}
    kept = [c for c in candidates if not set(c.version.policy.excludes) & (codes - {c.version.policy.code})]
    excluded = len(candidates) - len(kept)
    best: dict[str, Candidate] = {}
    chosen: list[Candidate] = []
    for c in kept:
        group = c.version.policy.exclusivity_group
        if not group:
            chosen.append(c)
            continue
        current = best.get(group)
        if current is None or (c.amount, -c.version.policy_id) > (current.amount, -current.version.policy_id):
            best[group] = c
    chosen.extend(best.values())
    return chosen, excluded, len(kept) - len(chosen)


@transaction.atomic
def run_month(district: Region, month: dt.date, *, acting_user: Any) -> MonthResult:
    """Evaluate every active policy for the month and write the entitlements with their reasons."""
    month = first_of_month(month)
    done = EntitlementRun.objects.filter(district=district, month=month, status=RunStatus.DONE).first()
    if done is not None:
        raise UserError(f"{month:%Y年%m月}的待遇已于 {timezone.localtime(done.started_at):%Y-%m-%d %H:%M} 计算完成，"
                        "已计算的月份不会被重新计算")
    run = EntitlementRun.objects.create(district=district, month=month, started_by=acting_user)
    candidates = _candidates(district, month, versions_in_force(district, month))
    previous = _previous_amounts(district, month)
    rows: list[dict[str, Any]] = []
    result = MonthResult(run)
    by_id = {p.pk: p for p in Person.objects.filter(pk__in=list(candidates))
             .select_related("residence_region", "registered_region", "capability")}
    for person_id, offered in candidates.items():
        chosen, excluded, grouped = _choose(offered)
        result.dropped_by_exclusion += excluded
        result.dropped_by_group += grouped
        facts = facts_for(by_id[person_id], month)
        for c in chosen:
            outcome = evaluate(c.version.condition, facts, fields())
            before = previous.get((person_id, c.version.policy_id))
            change = (ChangeFromPrevious.NEW if before is None else
                      ChangeFromPrevious.SAME if before == c.amount else ChangeFromPrevious.CHANGED)
            rows.append({
                "run_id": run.pk, "month": month, "person_id": person_id, "policy_id": c.version.policy_id,
                "version_id": c.version.pk, "amount": c.amount, "change": change, "payable": c.amount,
                "starts_on": month, "source": "run", "end_reason": "",
                "status": "active" if change == ChangeFromPrevious.SAME else "pending",
                "reason": {"version": c.version.number, "effective_from": c.version.effective_from.isoformat(),
                           "checks": [check.text for check in outcome.checks if check.passed],
                           "competing": [o.version.policy.name for o in offered if o is not c]},
            })
    bulk_insert_values(Entitlement, rows)
    run.entitlements = len(rows)
    run.total_amount = sum((r["amount"] for r in rows), Decimal(0))
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save()
    result.granted = len(rows)
    return result


def _candidates(district: Region, month: dt.date, versions: list[PolicyVersion]) -> dict[int, list[Candidate]]:
    """Who each version's condition selects, in the database: person id → offers."""
    people = population(district, month)
    candidates: dict[int, list[Candidate]] = defaultdict(list)
    for version in versions:
        for person_id in people_matching(version.condition, month, people).values_list("pk", flat=True):
            candidates[person_id].append(Candidate(version, version.amount))
    return candidates


def _granted(candidates: dict[int, list[Candidate]]) -> dict[tuple[int, int], Decimal]:
    return {(person_id, c.version.policy_id): c.amount
            for person_id, offered in candidates.items() for c in _choose(offered)[0]}


@dataclass
class Simulation:
    gains: int  # people who would receive more in total
    losses: int  # people who would receive less
    cost_before: Decimal
    cost_after: Decimal
    by_street: dict[str, Decimal]  # change in monthly cost
    by_fund: dict[str, Decimal]


def simulate(district: Region, month: dt.date, *, policy: Policy, condition: dict[str, Any],
             amount: Decimal) -> Simulation:
    """The effect of a policy (new or changed) on this month's population, written nowhere."""
    try:
        validate(condition, fields())
    except ConditionError as exc:
        raise UserError(exc.message, field=f"condition.{exc.path}".rstrip(".")) from None
    month = first_of_month(month)
    current = [v for v in versions_in_force(district, month) if v.policy_id != policy.pk]
    before = _granted(_candidates(district, month, versions_in_force(district, month)))
    proposal = PolicyVersion(policy=policy, number=0, effective_from=month, condition=condition, amount=amount)
    after = _granted(_candidates(district, month, [*current, proposal]))
    totals_before: dict[int, Decimal] = defaultdict(Decimal)
    totals_after: dict[int, Decimal] = defaultdict(Decimal)
    for (person_id, _), value in before.items():
        totals_before[person_id] += value
    for (person_id, _), value in after.items():
        totals_after[person_id] += value
    people = set(totals_before) | set(totals_after)
    streets = dict(Person.objects.filter(pk__in=people).values_list("pk", "residence_region__parent__name"))
    funds = {v.policy_id: v.policy.fund.name for v in current}
    funds[policy.pk] = policy.fund.name
    by_street: dict[str, Decimal] = defaultdict(Decimal)
    by_fund: dict[str, Decimal] = defaultdict(Decimal)
    for person_id in people:
        by_street[streets.get(person_id) or ""] += totals_after[person_id] - totals_before[person_id]
    for (_, policy_id), value in after.items():
        by_fund[funds[policy_id]] += value
    for (_, policy_id), value in before.items():
        by_fund[funds.get(policy_id, "")] -= value
    return Simulation(
        gains=sum(1 for p in people if totals_after[p] > totals_before[p]),
        losses=sum(1 for p in people if totals_after[p] < totals_before[p]),
        cost_before=sum(before.values(), Decimal(0)), cost_after=sum(after.values(), Decimal(0)),
        by_street={k: v for k, v in by_street.items() if v}, by_fund={k: v for k, v in by_fund.items() if v},
    )


def _previous_amounts(district: Region, month: dt.date) -> dict[tuple[int, int], Decimal]:
    run = EntitlementRun.objects.filter(district=district, month=previous_month(month),
                                        status=RunStatus.DONE).first()
    if run is None:
        return {}
    return {(p, q): a for p, q, a in run.rows.values_list("person_id", "policy_id", "amount")}


@dataclass
class MonthDiff:
    new: int
    changed: int
    ended: int
    cost_by_fund: dict[str, Decimal]
    cost_by_street: dict[str, Decimal]


def month_diff(run: EntitlementRun) -> MonthDiff:
    """New, changed and ended entitlements against the previous month, and the cost per fund and street."""
    current = set(run.rows.values_list("person_id", "policy_id"))
    before = _previous_amounts(run.district, run.month)
    by_fund: dict[str, Decimal] = defaultdict(Decimal)
    by_street: dict[str, Decimal] = defaultdict(Decimal)
    for fund, street, amount in run.rows.values_list("policy__fund__name", "person__residence_region__parent__name",
                                                     "amount"):
        by_fund[fund] += amount
        by_street[street or ""] += amount
    return MonthDiff(
        new=run.rows.filter(change=ChangeFromPrevious.NEW).count(),
        changed=run.rows.filter(change=ChangeFromPrevious.CHANGED).count(),
        ended=len(set(before) - current),
        cost_by_fund=dict(by_fund), cost_by_street=dict(by_street),
    )
