"""One person, in Python: what every policy gives them for a month (the same rules as the batch
run, evaluated on the person's facts instead of compiled to SQL — the two must agree person by
person), applications checked against those rules, and the dynamic re-evaluation that ends or
changes entitlements from the effective date of a change in the person's file."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from sanshe.accounts.models import Region, RegionLevel
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility.actions import GONE, STANDING, versions_for_month
from sanshe.eligibility.approvals import open_batch
from sanshe.eligibility.benefits import ONCE_A_YEAR, ONCE_EVER
from sanshe.eligibility.engine import (
    Offer,
    Terms,
    choose,
    first_of_month,
    last_of_month,
    month_segments,
    next_month,
    payable,
    reason_for,
)
from sanshe.eligibility.models import (
    Application,
    ApplicationStatus,
    BatchKind,
    ChangeFromPrevious,
    Entitlement,
    EntitlementRun,
    EntitlementSource,
    EntitlementStatus,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RunStatus,
)
from sanshe.eligibility.queries import facts_for, fields, jsonable, leaf_fields
from sanshe.eligibility.rules import Outcome, evaluate
from sanshe.people.models import Person


def district_of(person: Person) -> Region | None:
    code = person.residence_region.code
    return Region.objects.filter(level=RegionLevel.DISTRICT, code=code[:6] + "000000").first()


def _on_books(person: Person, day: dt.date) -> bool:
    return not (person.status in GONE and person.status_since is not None and person.status_since <= day)


def offers_for_person(person: Person, month: dt.date, versions: dict[Policy, list[PolicyVersion]],
                      *, on: dt.date | None = None) -> list[Offer]:
    """What each policy offers the person for the month; with `on`, conditions are looked at on
    that day instead of the first of the month and each part (for a change inside the month)."""
    offers: list[Offer] = []
    for policy, policy_versions in versions.items():
        if policy.benefit_kind in ONCE_A_YEAR | ONCE_EVER:
            granted_before = Entitlement.objects.filter(person=person, policy=policy, month__lt=month).exclude(
                status=EntitlementStatus.REJECTED)
            if policy.benefit_kind in ONCE_A_YEAR:
                granted_before = granted_before.filter(month__year=month.year)
            if granted_before.exists():
                continue
        applied_on = None
        if not policy.proactive:
            applied_on = (Application.objects.filter(person=person, policy=policy, status=ApplicationStatus.GRANTED,
                                                     applied_on__lt=next_month(month))
                          .order_by("-applied_on").values_list("applied_on", flat=True).first())
            if applied_on is None:
                continue
        parts: list[tuple[Decimal, dt.date, dt.date]] = []
        last: tuple[PolicyVersion, dict[str, Any]] | None = None
        for seg in month_segments(policy_versions, month):
            start = max(seg.start, on) if on else seg.start
            if start > seg.end:
                continue
            facts = facts_for(person, start)
            if not evaluate(seg.version.condition, facts, fields()).passed:
                continue
            if applied_on is not None:
                start = max(start, applied_on)
                if start > seg.end:
                    continue
            parts.append((seg.version.amount, start, seg.end))
            last = (seg.version, {k: facts[k] for k in leaf_fields(seg.version.condition)})
        if last is None:
            continue
        version, values = last
        amount = payable(parts, month, version.proration, policy.benefit_kind, starts_on=parts[0][1])
        if amount == 0 and policy.benefit_kind not in ("per_service", "co_payment_tier"):
            continue
        offers.append(Offer(Terms(version), version.amount, amount, parts,
                            json.dumps(jsonable(values), ensure_ascii=False)))
    return offers


@dataclass
class Decision:
    chosen: list[Offer]
    dropped: list[tuple[Offer, str]]


def decide(person: Person, month: dt.date, *, district: Region | None = None) -> Decision:
    """What the person receives for the month, by the same rules as the monthly run."""
    month = first_of_month(month)
    district = district or district_of(person)
    if district is None or not _on_books(person, month):
        return Decision([], [])
    chosen, dropped = choose(offers_for_person(person, month, versions_for_month(district, month)))
    return Decision(chosen, dropped)


def check(person: Person, policy: Policy, on: dt.date) -> tuple[Outcome | None, PolicyVersion | None]:
    """The policy's conditions on a day for one person, explained."""
    version = (policy.versions.filter(effective_from__lte=on).order_by("-effective_from").first())
    if version is None or (version.effective_to is not None and version.effective_to < on):
        return None, None
    return evaluate(version.condition, facts_for(person, on), fields()), version


# -- Applications -------------------------------------------------------------------------------------------------

@transaction.atomic
def apply_for(person: Person, policy: Policy, *, applicant: str, applied_on: dt.date, acting_user: Any,
              request: Any = None) -> Application:
    """An application by the person or on their behalf, checked against the policy's conditions on
    the day it was made: granted (and, if the month is already computed, an entitlement from that
    day waits for approval) or refused with the first condition not met."""
    applicant = applicant.strip()
    if not applicant:
        raise UserError("请填写申请人（本人、家属姓名或社区代办）", field="applicant")
    if policy.status != PolicyStatus.ACTIVE:
        raise UserError(f"“{policy.name}”不在施行中，不能申请", field="policy")
    if not person.residence_region.code.startswith(policy.district.prefix):
        raise UserError("该政策不适用于此人居住的辖区", field="policy")
    if applied_on > timezone.localdate():
        raise UserError("申请日期不能晚于今天", field="applied_on")
    if not _on_books(person, applied_on):
        raise UserError(f"此人档案状态为“{person.get_status_display()}”，不能申请", field="person")
    outcome, version = check(person, policy, applied_on)
    if outcome is None or version is None:
        raise UserError(f"“{policy.name}”在 {applied_on} 没有有效的政策版本", field="applied_on")
    application = Application(person=person, policy=policy, applicant=applicant[:100], applied_on=applied_on,
                              recorded_by=acting_user)
    checks = [c.text for c in outcome.checks if c.passed]
    if not outcome.passed:
        application.status = ApplicationStatus.REFUSED
        application.outcome = {"checks": checks, "failure": outcome.first_failure, "version": version.number}
        application.save()
    else:
        application.status = ApplicationStatus.GRANTED
        application.outcome = {"checks": checks, "failure": "", "version": version.number}
        application.save()
        change = reevaluate(person, applied_on, reason=f"待遇申请（{policy.name}）", acting_user=acting_user,
                            source=EntitlementSource.APPLICATION)
        mine = [e for e in change.started if e.policy_id == policy.pk]
        if mine:
            application.entitlement = mine[0]
            application.outcome["note"] = "符合条件，已进入审核"
        elif Entitlement.objects.filter(person=person, policy=policy, status__in=STANDING,
                                        month=first_of_month(applied_on), ended_on__isnull=True).exists():
            application.outcome["note"] = "符合条件，本月已享受该待遇"
        elif change.month_computed:
            why = _why(change, policy)
            application.outcome["note"] = f"符合条件，但{why}" if why else "符合条件，自次月起享受（按整月计发）"
        else:
            application.outcome["note"] = "符合条件，将在当月待遇计算时纳入并进入审核"
        application.save(update_fields=["status", "outcome", "entitlement"])
    record_event(acting_user, AuditAction.APPLY_ENTITLEMENT, request=request, person_id=person.pk,
                 subject=policy.name, detail={"application": application.pk, "status": application.status})
    return application


def _why(change: Reconciliation, policy: Policy) -> str:
    return next((why for o, why in change.dropped if o.version.policy_id == policy.pk), "")


# -- Dynamic re-evaluation ----------------------------------------------------------------------------------------

@dataclass
class Reconciliation:
    ended: list[Entitlement]
    started: list[Entitlement]
    dropped: list[tuple[Offer, str]]
    month_computed: bool


@transaction.atomic
def reevaluate(person: Person, effective: dt.date, *, reason: str, acting_user: Any = None,
               source: str = EntitlementSource.ADJUSTMENT) -> Reconciliation:
    """Bring the person's entitlements in line with their file from `effective` on: in every
    computed month that the date reaches, entitlements that no longer hold end on that day (with the
    reason), and new or changed ones start on it and wait for approval. Months before the date are
    never touched; months not yet computed are left to their run."""
    person = Person.objects.select_related("residence_region", "registered_region").get(pk=person.pk)
    district = district_of(person)
    result = Reconciliation([], [], [], False)
    if district is None:
        return result
    runs = list(EntitlementRun.objects.filter(district=district, status=RunStatus.DONE,
                                              month__gte=first_of_month(effective)).order_by("month"))
    for run in runs:
        month = run.month
        day = max(effective, month)
        result.month_computed = result.month_computed or month == first_of_month(effective)
        if _on_books(person, day):
            chosen, dropped = choose(offers_for_person(person, month, versions_for_month(district, month), on=day))
        else:
            chosen, dropped = [], []
        result.dropped += dropped
        wanted = {(o.version.policy_id, o.amount): o for o in chosen}
        standing = list(Entitlement.objects.filter(run=run, person=person, status__in=STANDING,
                                                   ended_on__isnull=True).select_related("version__policy"))
        have = {(e.policy_id, e.amount) for e in standing}
        for e in standing:
            if (e.policy_id, e.amount) in wanted:
                continue
            ended_on = max(day, e.starts_on)
            e.ended_on, e.end_reason = ended_on, reason[:300]
            e.status = EntitlementStatus.ENDED
            parts = [(e.amount, e.starts_on, last_of_month(month))]
            e.payable = payable(parts, month, e.version.proration, e.version.policy.benefit_kind,
                                starts_on=e.starts_on, ended_on=ended_on)
            e.save(update_fields=["ended_on", "end_reason", "status", "payable"])
            result.ended.append(e)
        new_rows = []
        for key, o in wanted.items():
            if key in have:
                continue
            earlier = next((e for e in standing if e.policy_id == o.version.policy_id), None)
            new_rows.append(Entitlement.objects.create(
                run=run, month=month, person=person, policy_id=o.version.policy_id, version=o.version,
                amount=o.amount, payable=o.payable, starts_on=o.parts[0][1], reason=reason_for(o, dropped) | {
                    "adjustment": reason[:300]},
                change=ChangeFromPrevious.CHANGED if earlier else ChangeFromPrevious.NEW,
                status=EntitlementStatus.PENDING, source=source))
        if new_rows:
            batch = open_batch(new_rows, kind=BatchKind.APPLICATION if source == EntitlementSource.APPLICATION
                               else BatchKind.ADJUSTMENT, maker=acting_user)
            for e in new_rows:
                e.batch = batch
            result.started += new_rows
    return result
