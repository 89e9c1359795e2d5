"""The monthly run: every active policy evaluated for a district's whole population inside the
database (each condition tree compiles to one query per part of the month), one entitlement per
person and policy with its amount, what it costs this month and its reason; "take the highest,
never double" inside an exclusivity group, exclusions between policies, the change from the
previous month, and the new and changed entitlements grouped per community for approval.
Also the simulation of a change, written nowhere, and the month's difference from the previous."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from sanshe.accounts.models import Region
from sanshe.core.errors import UserError
from sanshe.eligibility.authoring import check_condition
from sanshe.eligibility.benefits import ONCE_A_YEAR, ONCE_EVER, PRICE_RIGHTS
from sanshe.eligibility.engine import (
    Offer,
    Segment,
    Terms,
    choose,
    first_of_month,
    last_of_month,
    month_segments,
    next_month,
    payable,
    previous_month,
    reason_json,
)
from sanshe.eligibility.models import (
    Application,
    ApplicationStatus,
    ApprovalBatch,
    BatchKind,
    ChangeFromPrevious,
    Entitlement,
    EntitlementRun,
    EntitlementSource,
    EntitlementStatus,
    Policy,
    PolicyStatus,
    PolicyVersion,
    Proration,
    RunStatus,
)
from sanshe.eligibility.queries import fact_columns, facts_from_row, jsonable, leaf_fields, to_q, with_facts
from sanshe.people.models import Person, PersonStatus

__all__ = ["first_of_month", "month_diff", "previous_month", "run_month", "simulate", "versions_for_month"]

# People no longer on the district's books from their status date on.
GONE = (PersonStatus.DECEASED, PersonStatus.MOVED_AWAY)
# Rows that stand (or are on their way to standing) for the month.
STANDING = (EntitlementStatus.PENDING, EntitlementStatus.NOTICE, EntitlementStatus.ACTIVE)


def versions_for_month(district: Region, month: dt.date) -> dict[Policy, list[PolicyVersion]]:
    """Each active policy of the district with its versions that overlap the month."""
    end = last_of_month(month)
    grouped: dict[Policy, list[PolicyVersion]] = defaultdict(list)
    for v in (PolicyVersion.objects.filter(policy__district=district, policy__status=PolicyStatus.ACTIVE,
                                           effective_from__lte=end)
              .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=month))
              .select_related("policy__fund").order_by("policy_id", "effective_from")):
        grouped[v.policy].append(v)
    return grouped


def versions_in_force(district: Region, month: dt.date) -> list[PolicyVersion]:
    """The version of each active policy in force on the first day of the month."""
    return [s[0].version for vs in versions_for_month(district, month).values()
            if (s := month_segments(vs, month)) and s[0].start == month]


def population(district: Region, month: dt.date) -> QuerySet[Person]:
    """Everyone living in the district at the start of the month."""
    return Person.objects.filter(residence_region__code__startswith=district.prefix).exclude(
        status__in=GONE, status_since__lte=month)


def _already_granted(policy: Policy, month: dt.date) -> set[int]:
    """People who had this once-a-year or once-ever benefit already (not refused)."""
    rows = Entitlement.objects.filter(policy=policy, month__lt=month).exclude(status=EntitlementStatus.REJECTED)
    if policy.benefit_kind in ONCE_A_YEAR:
        rows = rows.filter(month__year=month.year)
    return set(rows.values_list("person_id", flat=True))


def _applied(policy: Policy, before: dt.date) -> dict[int, dt.date]:
    """For a policy that is not proactive: who has a granted application, from which date."""
    return dict(Application.objects.filter(policy=policy, status=ApplicationStatus.GRANTED, applied_on__lt=before)
                .order_by("-applied_on").values_list("person_id", "applied_on"))


def _rows(qs: QuerySet[Any, Any]) -> Iterator[tuple[Any, ...]]:
    """A values_list query's rows; on PostgreSQL straight from the driver (its types are already
    Python's), skipping the ORM's per-row conversion that dominates a million-row read."""
    if connection.vendor != "postgresql":
        yield from qs.iterator(chunk_size=20000)
        return
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # a condition that can select nobody (e.g. no applications yet)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20000):
            yield from batch


class _Part:
    """One part of the month of one policy, as a column of the month's single query."""

    def __init__(self, policy: Policy, seg: Segment, month: dt.date, skip: set[int],
                 applied: dict[int, dt.date] | None, simple: bool) -> None:
        self.policy, self.seg, self.skip, self.applied, self.simple = policy, seg, skip, applied, simple
        self.terms = Terms(seg.version)
        self.names = leaf_fields(seg.version.condition)
        self.whole = [(seg.version.amount, seg.start, seg.end)]
        self.whole_payable = payable(self.whole, month, seg.version.proration, policy.benefit_kind,
                                     starts_on=seg.start)
        self.shown: dict[tuple[Any, ...], str] = {}  # the same values give the same JSON
        self.at: list[int] = []  # positions of its fact columns in the row (see locate)
        self._key: Callable[[tuple[Any, ...]], Any] = itemgetter(0)

    def locate(self, positions: list[int]) -> None:
        self.at = positions
        self._key = itemgetter(*positions)

    def values(self, row: tuple[Any, ...]) -> str:
        key = self._key(row)
        text = self.shown.get(key)
        if text is None:
            columns = key if len(self.at) != 1 else (key,)
            text = self.shown[key] = json.dumps(jsonable(facts_from_row(self.names, columns, self.seg.start)),
                                                ensure_ascii=False)
        return text


def offers_for_month(people: QuerySet[Person], month: dt.date, versions: dict[Policy, list[PolicyVersion]],
                     communities: dict[int, int] | None = None) -> dict[int, list[Offer]]:
    """What every policy offers each person of `people` for the month, computed in the database in
    one pass over the population: each part of the month of each policy is a boolean column (its
    condition tree compiled to SQL), next to the columns the conditions test (kept as the reason)
    and, into `communities`, each person's community."""
    offers: dict[int, list[Offer]] = defaultdict(list)
    communities = {} if communities is None else communities
    plan: list[_Part] = []
    for policy, policy_versions in versions.items():
        segments = month_segments(policy_versions, month)
        if not segments:
            continue
        skip = _already_granted(policy, month) if policy.benefit_kind in ONCE_A_YEAR | ONCE_EVER else set()
        applied = None if policy.proactive else _applied(policy, next_month(month))
        if applied is not None and not applied:
            continue  # on request only, and nobody has applied
        # The common case — one version for the whole month, no applications — makes its offers
        # straight from the rows; parts of a month and applications are gathered per person first.
        simple = len(segments) == 1 and applied is None
        for seg in segments:
            part = _Part(policy, seg, month, skip, applied, simple)
            if simple and part.whole_payable == 0 and policy.benefit_kind not in PRICE_RIGHTS:
                continue  # starts inside the month under 按整月: paid from the next month
            plan.append(part)
    if not plan:
        return offers
    columns: list[str] = []
    for part in plan:
        for column in fact_columns(part.names):
            if column not in columns:
                columns.append(column)
        part.locate([2 + columns.index(c) for c in fact_columns(part.names)])
    flags = {f"part_{i}": ExpressionWrapper(to_q(part.seg.version.condition, part.seg.start),
                                            output_field=BooleanField()) for i, part in enumerate(plan)}
    qs = with_facts(people).annotate(**flags).values_list("pk", "residence_region_id", *columns, *flags)
    first_flag = 2 + len(columns)
    gathered: dict[tuple[int, int], tuple[list[tuple[Decimal, dt.date, dt.date]], list[Any]]] = {}
    for row in _rows(qs):
        person_id = row[0]
        communities[person_id] = row[1]
        for part, flag in zip(plan, row[first_flag:], strict=True):
            if not flag or (part.skip and person_id in part.skip):
                continue
            if part.simple:
                offers[person_id].append(Offer(part.terms, part.seg.version.amount, part.whole_payable, part.whole,
                                               part.values(row)))
                continue
            start = part.seg.start
            if part.applied is not None:
                if person_id not in part.applied:
                    continue
                start = max(start, part.applied[person_id])
                if start > part.seg.end:
                    continue
            got = gathered.setdefault((person_id, part.policy.pk), ([], [part.terms, ""]))
            got[0].append((part.seg.version.amount, start, part.seg.end))
            got[1][:] = [part.terms, part.values(row)]
    for (person_id, _), (person_parts, (terms, text)) in gathered.items():
        amount = payable(person_parts, month, terms.version.proration, terms.kind, starts_on=person_parts[0][1])
        if amount == 0 and terms.kind not in PRICE_RIGHTS:
            continue  # qualifies from a day inside the month under 按整月: paid from the next month
        offers[person_id].append(Offer(terms, terms.version.amount, amount, person_parts, text))
    return offers


@dataclass
class MonthResult:
    run: EntitlementRun
    granted: int = 0
    dropped_by_group: int = 0
    dropped_by_exclusion: int = 0
    batches: int = 0


@transaction.atomic
def run_month(district: Region, month: dt.date, *, acting_user: Any) -> MonthResult:
    """Evaluate every active policy for the month and write the entitlements with their reasons;
    unchanged ones stand, new and changed ones wait for approval in one batch per community."""
    month = first_of_month(month)
    # One run of a district at a time: the second waits here and then finds the month computed.
    Region.objects.select_for_update().filter(pk=district.pk).first()
    done = EntitlementRun.objects.filter(district=district, month=month, status=RunStatus.DONE).first()
    if done is not None:
        raise UserError(f"{month:%Y年%m月}的待遇已于 {timezone.localtime(done.started_at):%Y-%m-%d %H:%M} 计算完成，"
                        "已计算的月份不会被重新计算")
    run = EntitlementRun.objects.create(district=district, month=month, started_by=acting_user)
    people = population(district, month)
    communities: dict[int, int] = {}
    offers = offers_for_month(people, month, versions_for_month(district, month), communities)
    previous = previous_standing(district, month)
    gone = dict(people.filter(status__in=GONE, status_since__lte=last_of_month(month))
                .values_list("pk", "status_since"))
    result = MonthResult(run)
    batches = _open_batches(run, set(communities.values()), acting_user)
    rows = _decide(offers, month, previous, gone, communities, batches, result)
    written = write_entitlements(run, rows)
    # Communities without anything new or changed keep no batch.
    ApprovalBatch.objects.filter(run=run).exclude(pk__in=written.batches).delete()
    result.batches = len(written.batches)
    check_references(run)
    run.entitlements, run.total_amount = written.count, written.total
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save()
    result.granted = written.count
    return result


def _decide(offers: dict[int, list[Offer]], month: dt.date, previous: dict[tuple[int, int], tuple[Decimal, str]],
            gone: dict[int, dt.date | None], communities: dict[int, int], batches: dict[int, int],
            result: MonthResult) -> Iterator[Row]:
    """The month's rows, person by person in id order (the table's indexes then grow at their
    ends), produced while the previous ones are being written."""
    for person_id in sorted(offers):
        chosen, dropped = choose(offers[person_id])
        for _, why in dropped:
            if why.startswith("同组"):
                result.dropped_by_group += 1
            else:
                result.dropped_by_exclusion += 1
        for o in chosen:
            terms = o.terms
            before = previous.get((person_id, terms.policy_id))
            if before is None:
                change, status = ChangeFromPrevious.NEW, EntitlementStatus.PENDING
            elif before[0] == o.amount:
                change = ChangeFromPrevious.SAME
                status = EntitlementStatus.ACTIVE if before[1] == EntitlementStatus.ACTIVE else EntitlementStatus.PENDING
            else:
                change, status = ChangeFromPrevious.CHANGED, EntitlementStatus.PENDING
            row = Row(person_id, terms.policy_id, terms.version.pk, o.amount, o.payable, o.parts[0][1],
                      reason_json(o, dropped), change, status)
            if status == EntitlementStatus.PENDING:
                row.batch_id = batches[communities[person_id]]
            ended = gone.get(person_id)
            if ended is not None:  # died or moved away later this month: ends on that day
                row.ended_on, row.end_reason = ended, "死亡或迁出（档案状态变更）"
                row.payable = payable(o.parts, month, terms.version.proration, terms.kind, starts_on=o.parts[0][1],
                                      ended_on=ended)
            yield row


class Row:
    """One entitlement of a monthly run on its way to the table."""

    __slots__ = ("amount", "batch_id", "change", "end_reason", "ended_on", "payable", "person_id", "policy_id",
                 "reason", "starts_on", "status", "version_id")

    def __init__(self, person_id: int, policy_id: int, version_id: int, amount: Decimal, payable: Decimal,
                 starts_on: dt.date, reason: str, change: str, status: str) -> None:
        self.person_id, self.policy_id, self.version_id = person_id, policy_id, version_id
        self.amount, self.payable, self.starts_on = amount, payable, starts_on
        self.reason, self.change, self.status = reason, change, status
        self.ended_on: dt.date | None = None
        self.end_reason = ""
        self.batch_id: int | None = None


def _open_batches(run: EntitlementRun, communities: set[int], maker: Any) -> dict[int, int]:
    """An approval batch for every community with people in the run, opened before the rows are
    written so each row carries its batch; the ones left empty are removed afterwards."""
    batches = ApprovalBatch.objects.bulk_create([
        ApprovalBatch(district=run.district, community_id=c, month=run.month, run=run, kind=BatchKind.RUN, maker=maker)
        for c in sorted(communities)])
    by_community = {b.community_id: b.pk for b in batches}
    if None in by_community.values():  # a backend that does not return keys from bulk inserts
        by_community = dict(ApprovalBatch.objects.filter(run=run).values_list("community_id", "pk"))
    return by_community


@dataclass
class Written:
    count: int = 0
    total: Decimal = Decimal(0)
    batches: set[int] = field(default_factory=set)

    def add(self, row: Row) -> None:
        self.count += 1
        self.total += row.payable
        if row.batch_id is not None:
            self.batches.add(row.batch_id)


NULL = "\\N"  # COPY text's null
COLUMNS = ("run_id", "month", "person_id", "policy_id", "version_id", "amount", "payable", "starts_on", "ended_on",
           "end_reason", "reason", "change", "status", "source", "batch_id")


def write_entitlements(run: EntitlementRun, rows: Iterable[Row]) -> Written:
    """Write a run's rows as they come: on PostgreSQL as COPY text built directly (a million rows
    in seconds; the server stores one chunk while the next is decided), elsewhere through the ORM."""
    written = Written()
    if connection.vendor != "postgresql":
        chunk: list[Entitlement] = []
        for r in rows:
            written.add(r)
            chunk.append(Entitlement(
                run=run, month=run.month, person_id=r.person_id, policy_id=r.policy_id, version_id=r.version_id,
                amount=r.amount, payable=r.payable, starts_on=r.starts_on, ended_on=r.ended_on,
                end_reason=r.end_reason, reason=json.loads(r.reason), change=r.change, status=r.status,
                source=EntitlementSource.RUN, batch_id=r.batch_id))
            if len(chunk) == 2000:
                Entitlement.objects.bulk_create(chunk)
                chunk = []
        Entitlement.objects.bulk_create(chunk)
        return written
    head = f"{run.pk}\t{run.month.isoformat()}\t"
    tail = f"\t{EntitlementSource.RUN}\t"
    sql = f"COPY {Entitlement._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        lines = []
        for r in rows:
            written.add(r)
            ended = r.ended_on.isoformat() if r.ended_on else NULL
            batch = NULL if r.batch_id is None else r.batch_id
            reason = r.reason.replace("\\", "\\\\")  # COPY text treats a backslash as an escape
            lines.append(f"{head}{r.person_id}\t{r.policy_id}\t{r.version_id}\t{r.amount}\t{r.payable}\t"
                         f"{r.starts_on.isoformat()}\t{ended}\t{r.end_reason}\t{reason}\t{r.change}\t"
                         f"{r.status}{tail}{batch}\n")
            if len(lines) == 5000:
                copy.write("".join(lines))
                lines = []
        copy.write("".join(lines))
    return written


def check_references(run: EntitlementRun) -> None:
    """Every row of the run points at an existing person, policy, version and batch — one
    set-based query in place of per-row foreign-key triggers (see the Entitlement model)."""
    def missing(model: Any, column: str) -> Any:
        return ~Exists(model.objects.filter(pk=OuterRef(column)))

    orphans = Entitlement.objects.filter(run=run).filter(
        missing(Person, "person_id") | missing(Policy, "policy_id") | missing(PolicyVersion, "version_id")
        | (Q(batch_id__isnull=False) & missing(ApprovalBatch, "batch_id")))
    if orphans.exists():
        raise RuntimeError(f"run {run.pk}: entitlements refer to missing rows")


def previous_standing(district: Region, month: dt.date) -> dict[tuple[int, int], tuple[Decimal, str]]:
    """(person, policy) → (rate, status) of what stood at the end of the previous month."""
    run = EntitlementRun.objects.filter(district=district, month=previous_month(month),
                                        status=RunStatus.DONE).first()
    if run is None:
        return {}
    standing: dict[tuple[int, int], tuple[Decimal, str]] = {}
    for p, q, a, s in (run.rows.filter(status__in=STANDING, ended_on__isnull=True)
                       .order_by("starts_on").values_list("person_id", "policy_id", "amount", "status")
                       .iterator(chunk_size=50000)):
        standing[(p, q)] = (a, s)
    return standing


def _granted(offers: dict[int, list[Offer]]) -> dict[tuple[int, int], Decimal]:
    return {(person_id, o.version.policy_id): o.payable
            for person_id, offered in offers.items() for o in choose(offered)[0]}


@dataclass
class Simulation:
    gains: int  # people who would receive more in total
    losses: int  # people who would receive less
    cost_before: Decimal
    cost_after: Decimal
    by_street: dict[str, Decimal]  # change in monthly cost
    by_fund: dict[str, Decimal]


def simulate(district: Region, month: dt.date, *, policy: Policy, condition: dict[str, Any],
             amount: Decimal, parameters: dict[str, Any] | None = None) -> Simulation:
    """The effect of a policy (new or changed) on the month's population, written nowhere: the
    proposal replaces the policy's versions for the whole month."""
    check_condition(condition)
    month = first_of_month(month)
    people = population(district, month)
    current = versions_for_month(district, month)
    before = _granted(offers_for_month(people, month, current))
    proposal = PolicyVersion(policy=policy, number=0, effective_from=month, condition=condition, amount=amount,
                             parameters=parameters or {}, proration=Proration.NONE)
    after = _granted(offers_for_month(people, month, {**{p: v for p, v in current.items() if p.pk != policy.pk},
                                                      policy: [proposal]}))
    totals_before: dict[int, Decimal] = defaultdict(Decimal)
    totals_after: dict[int, Decimal] = defaultdict(Decimal)
    for (person_id, _), value in before.items():
        totals_before[person_id] += value
    for (person_id, _), value in after.items():
        totals_after[person_id] += value
    changed = {p for p in set(totals_before) | set(totals_after) if totals_after[p] != totals_before[p]}
    streets = dict(Person.objects.filter(pk__in=changed).values_list("pk", "residence_region__parent__name"))
    funds = {p.pk: p.fund.name for p in current}
    funds[policy.pk] = policy.fund.name
    by_street: dict[str, Decimal] = defaultdict(Decimal)
    by_fund: dict[str, Decimal] = defaultdict(Decimal)
    for person_id in changed:
        by_street[streets.get(person_id) or ""] += totals_after[person_id] - totals_before[person_id]
    for (_, policy_id), value in after.items():
        by_fund[funds[policy_id]] += value
    for (_, policy_id), value in before.items():
        by_fund[funds.get(policy_id, "")] -= value
    return Simulation(
        gains=sum(1 for p in changed if totals_after[p] > totals_before[p]),
        losses=sum(1 for p in changed if totals_after[p] < totals_before[p]),
        cost_before=sum(before.values(), Decimal(0)), cost_after=sum(after.values(), Decimal(0)),
        by_street={k: v for k, v in by_street.items() if v}, by_fund={k: v for k, v in by_fund.items() if v},
    )


@dataclass
class MonthDiff:
    new: int
    changed: int
    ended: int
    cost_by_fund: dict[str, Decimal]
    cost_by_street: dict[str, Decimal]
    total: Decimal = Decimal(0)
    previous_total: Decimal | None = None


def month_diff(run: EntitlementRun) -> MonthDiff:
    """New, changed and ended entitlements against the previous month, and this month's cost per
    fund and street (what is payable: refused rows cost nothing)."""
    current = set(run.rows.exclude(status=EntitlementStatus.REJECTED).values_list("person_id", "policy_id"))
    before = previous_standing(run.district, run.month)
    by_fund: dict[str, Decimal] = defaultdict(Decimal)
    by_street: dict[str, Decimal] = defaultdict(Decimal)
    for fund, street, amount in (run.rows.exclude(status=EntitlementStatus.REJECTED)
                                 .values_list("policy__fund__name", "person__residence_region__parent__name", "payable")
                                 .iterator(chunk_size=50000)):
        by_fund[fund] += amount
        by_street[street or ""] += amount
    previous = EntitlementRun.objects.filter(district=run.district, month=previous_month(run.month),
                                             status=RunStatus.DONE).first()
    return MonthDiff(
        new=run.rows.filter(change=ChangeFromPrevious.NEW).exclude(status=EntitlementStatus.REJECTED).count(),
        changed=run.rows.filter(change=ChangeFromPrevious.CHANGED).exclude(status=EntitlementStatus.REJECTED).count(),
        ended=len(set(before) - current),
        cost_by_fund=dict(by_fund), cost_by_street=dict(by_street), total=sum(by_fund.values(), Decimal(0)),
        previous_total=previous.total_amount if previous else None,
    )
