"""Oversight queries: who needs an assessment, and the assessment rate (评估率) per region.

Every query starts from the user's scope and does its work in the database: one query per
kind of due list (indexed on CapabilityRecord.valid_until, the open-assessment index and the
person's region), one GROUP BY for the rate. Nothing here loops over the population in Python,
so a district of a million people costs a few indexed queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from sanshe.accounts.access import capability_scope, community_ids_in_scope
from sanshe.accounts.models import PREFIX_LENGTH, Capability, Region, RegionLevel
from sanshe.assessments.actions import add_months
from sanshe.assessments.models import (
    OPEN_STATUSES,
    Assessment,
    AssessmentSettings,
    CapabilityRecord,
    ReassessmentTrigger,
    TriggerKind,
)
from sanshe.lib.dates import birth_date_bounds_for_age
from sanshe.people.codes import EconomicStatus, LivingArrangement, PersonStatus
from sanshe.people.models import Person, StatusChange

LEVELS = (0, 1, 2, 3, 4)

# Seed 002, item 10 (科学评估老年人需求): "2022年底前，对全区高龄、失能、失智、低保以及空巢、独居、
# 留守等特殊困难老年人综合能力及服务需求评估率达80%以上。2023年，全区户籍老年人综合能力及服务需求
# 评估率达80%以上。" The target population below is the part of that list a file shows before any
# assessment: 80 and over (高龄), dibao, tekun and living alone, with the file in use. 失能 and 失智
# are what the assessment finds out, so they cannot define who must be assessed.
TARGET_MIN_AGE = 80
TARGET_RATE_PERCENT = 80

# Status changes that bring a person home, so their current assessment may no longer fit
# (即时评估 per GB/T 42195 A.1.3). Moving in, out or dying ends the need instead.
HOMECOMING_CHANGES = {
    PersonStatus.HOSPITALISED: "出院",
    PersonStatus.IN_INSTITUTION: "离开养老机构回家",
}


class DueKind(models.TextChoices):
    OVERDUE = "overdue", "逾期"
    DUE_SOON = "due_soon", "即将到期"
    IMMEDIATE = "immediate", "需即时评估"
    NEVER = "never", "从未评估"


def target_population_q(today: dt.date) -> Q:
    """Who the assessment rate counts (seed 002 item 10): 80+, dibao, tekun or living alone; file in use."""
    _, born_by = birth_date_bounds_for_age(TARGET_MIN_AGE, None, today)
    return Q(status=PersonStatus.ACTIVE) & (
        Q(birth_date__lte=born_by)
        | Q(economic_status__in=(EconomicStatus.DIBAO, EconomicStatus.TEKUN))
        | Q(living_arrangement=LivingArrangement.ALONE)
    )


def target_groups(person: Person, today: dt.date) -> list[str]:
    """Why one person belongs to the target population (for the 'never assessed' reason)."""
    groups = []
    if person.age(today) >= TARGET_MIN_AGE:
        groups.append(f"{TARGET_MIN_AGE}岁以上")
    if person.economic_status in (EconomicStatus.DIBAO, EconomicStatus.TEKUN):
        groups.append(person.get_economic_status_display())
    if person.living_arrangement == LivingArrangement.ALONE:
        groups.append("独居")
    return groups


# --- scope ---------------------------------------------------------------------------------------


def scope_region_ids(user: Any, region: Region | None = None) -> list[int]:
    """Ids of the regions in the user's VIEW_ASSESSMENTS scope, narrowed to a region's subtree."""
    ids = community_ids_in_scope(user, Capability.VIEW_ASSESSMENTS)
    if region is None:
        return ids
    below = set(Region.objects.filter(code__startswith=region.prefix).values_list("id", flat=True))
    return [pk for pk in ids if pk in below]


def scope_roots(user: Any) -> list[Region]:
    """The top regions of the user's scope (a district officer: the district)."""
    scope = capability_scope(user, Capability.VIEW_ASSESSMENTS)
    if not scope:
        return []
    regions = list(Region.objects.filter(scope.region_q()).order_by("code"))
    # A root is a region whose own prefix is one of the scope's prefixes.
    return [r for r in regions if r.prefix in scope.prefixes]


def districts_in_scope(user: Any, capability: Capability = Capability.VIEW_ASSESSMENTS) -> list[Region]:
    """The districts the user works in (their own, or the one above their street or community)."""
    scope = capability_scope(user, capability)
    if not scope:
        return []
    own = {p[:6] + "000000" for p in scope.prefixes if len(p) >= 6}
    q = Q(code__in=own) | scope.region_q()
    return list(Region.objects.filter(q, level=RegionLevel.DISTRICT).order_by("code"))


def _setting_by_district(districts: list[Region], name: str) -> dict[str, int]:
    default = getattr(AssessmentSettings(), name)  # the model's default
    stored = dict(AssessmentSettings.objects.filter(district__in=districts).values_list("district_id", name))
    return {d.prefix: stored.get(d.pk, default) for d in districts}


def due_soon_days_by_district(districts: list[Region]) -> dict[str, int]:
    """{district prefix: due_soon_days}, defaults for districts that never changed them."""
    return _setting_by_district(districts, "due_soon_days")


def longest_interval_months(districts: list[Region]) -> int:
    """The longest re-assessment interval among the districts (months)."""
    return max(_setting_by_district(districts, "interval_months").values(), default=12)


# --- the due list ----------------------------------------------------------------------------------


@dataclass
class DueFilter:
    kind: str = DueKind.OVERDUE
    region: Region | None = None
    include_open: bool = False


def open_assessment_exists() -> Exists:
    return Exists(Assessment.objects.filter(person=OuterRef("pk"), status__in=OPEN_STATUSES))


def immediate_person_ids(today: dt.date, *, since: dt.date, region_ids: list[int] | None = None) -> QuerySet[Any]:
    """Person ids with an event after their current assessment: a recorded trigger (a fall, a
    discharge…) or a homecoming status change. Driven from the small event tables and combined
    with UNION, so PostgreSQL joins a short id list instead of testing every person.

    Events before `since` (one re-assessment interval ago) are left out: an assessment older than
    such an event has expired, so the person is already on the overdue list."""
    current = "person__capability__assessed_on"
    # Narrowing the events to regions reads each event's person row; that pays off for a street or
    # a community (few of the events), not for a whole district (the caller filters people anyway).
    in_scope = Q(person__residence_region_id__in=region_ids) if region_ids is not None else Q()
    # A trigger is an explicit request by staff: it counts for people never assessed too. A status
    # change of a never-assessed person is plain history; 从未评估 covers them.
    triggers = ReassessmentTrigger.objects.filter(
        in_scope, Q(occurred_on__gt=F(current)) | Q(person__capability__isnull=True), occurred_on__lte=today,
        occurred_on__gte=since,
    ).order_by().values("person_id")
    homecomings = StatusChange.objects.filter(
        in_scope, effective_date__gt=F(current), effective_date__lte=today, effective_date__gte=since,
        to_status=PersonStatus.ACTIVE, from_status__in=list(HOMECOMING_CHANGES),
    ).order_by().values("person_id")
    return triggers.union(homecomings)


def due_people(user: Any, f: DueFilter, *, today: dt.date) -> QuerySet[Person]:
    """People in the user's scope who need an assessment of one kind, in working order."""
    region_ids = scope_region_ids(user, f.region)
    people = Person.objects.filter(residence_region_id__in=region_ids, status=PersonStatus.ACTIVE)
    if f.kind == DueKind.OVERDUE:
        people = people.filter(capability__valid_until__lt=today).order_by("capability__valid_until", "id")
    elif f.kind == DueKind.DUE_SOON:
        days = due_soon_days_by_district(districts_in_scope(user))
        people = people.filter(capability__valid_until__gte=today)
        if len(set(days.values())) <= 1:
            horizon = today + dt.timedelta(days=next(iter(days.values()), 30))
            people = people.filter(capability__valid_until__lte=horizon)
        else:  # several districts with their own reminder periods
            window = Q(pk__in=[])
            for prefix, n in days.items():
                window |= Q(residence_region__code__startswith=prefix,
                            capability__valid_until__lte=today + dt.timedelta(days=n))
            people = people.filter(window)
        people = people.order_by("capability__valid_until", "id")
    elif f.kind == DueKind.IMMEDIATE:
        since = add_months(today, -longest_interval_months(districts_in_scope(user)))
        below_district = f.region is not None or all(
            len(p) > PREFIX_LENGTH[RegionLevel.DISTRICT] for p in capability_scope(user, Capability.VIEW_ASSESSMENTS).prefixes)
        events = immediate_person_ids(today, since=since, region_ids=region_ids if below_district else None)
        people = people.filter(pk__in=events).order_by("id")
    elif f.kind == DueKind.NEVER:
        # NOT EXISTS (not a LEFT JOIN … IS NULL): PostgreSQL runs it as an anti-join in id order,
        # so a page stops after its rows instead of sorting the whole target population.
        never = ~Exists(CapabilityRecord.objects.filter(person_id=OuterRef("pk")))
        people = people.filter(target_population_q(today)).filter(never).order_by("id")
    else:
        return Person.objects.none()
    # explain_due marks the people with an open assessment when they are included.
    return people if f.include_open else people.exclude(open_assessment_exists())


@dataclass
class DueRow:
    person: Person
    kind: str
    reason: str
    age: int = 0
    level: int | None = None
    valid_until: dt.date | None = None
    has_open: bool = False
    open_number: str = ""


def explain_due(people: list[Person], kind: str, *, today: dt.date) -> list[DueRow]:
    """The reason shown for each person on one page (a few small queries for the page only)."""
    ids = [p.pk for p in people]
    open_numbers = dict(Assessment.objects.filter(person_id__in=ids, status__in=OPEN_STATUSES)
                        .values_list("person_id", "number"))
    rows = []
    for person in people:
        # The reverse one-to-one raises (an AttributeError) when the person has no record.
        record = person.capability if kind != DueKind.NEVER and hasattr(person, "capability") else None
        row = DueRow(person=person, kind=kind, reason="", age=person.age(today), has_open=person.pk in open_numbers,
                     open_number=open_numbers.get(person.pk, ""),
                     level=record.level if record else None, valid_until=record.valid_until if record else None)
        if kind == DueKind.OVERDUE and record is not None:
            row.reason = f"评估有效期已于 {record.valid_until:%Y-%m-%d} 届满，逾期 {(today - record.valid_until).days} 天"
        elif kind == DueKind.DUE_SOON and record is not None:
            left = (record.valid_until - today).days
            row.reason = f"评估有效期至 {record.valid_until:%Y-%m-%d}，" + ("今天到期" if left == 0 else f"还有 {left} 天")
        elif kind == DueKind.NEVER:
            row.reason = "目标人群（" + "、".join(target_groups(person, today)) + "），尚无评估记录"
        rows.append(row)
    if kind == DueKind.IMMEDIATE:
        _explain_immediate(rows, today=today)
    return rows


def _explain_immediate(rows: list[DueRow], *, today: dt.date) -> None:
    by_person = {row.person.pk: row for row in rows}
    # (date, text, is_trigger) per person, the same events immediate_person_ids counts.
    events: dict[int, list[tuple[dt.date, str, bool]]] = {pk: [] for pk in by_person}
    for pk, kind, on, note in (ReassessmentTrigger.objects.filter(person_id__in=by_person, occurred_on__lte=today)
                               .values_list("person_id", "kind", "occurred_on", "note")):
        text = TriggerKind(kind).label if kind in TriggerKind.values else kind
        events[pk].append((on, f"{text}（{note}）" if note else str(text), True))
    for pk, from_status, on in (StatusChange.objects.filter(person_id__in=by_person, to_status=PersonStatus.ACTIVE,
                                                            from_status__in=list(HOMECOMING_CHANGES),
                                                            effective_date__lte=today)
                                .values_list("person_id", "from_status", "effective_date")):
        events[pk].append((on, HOMECOMING_CHANGES[PersonStatus(from_status)], False))
    for pk, row in by_person.items():
        assessed_on = row.person.capability.assessed_on if row.level is not None else None
        recent = sorted(((on, text) for on, text, is_trigger in events[pk]
                         if (on > assessed_on if assessed_on else is_trigger)), reverse=True)
        if not recent:
            continue
        on, text = recent[0]
        more = f"等 {len(recent)} 项事件" if len(recent) > 1 else ""
        since = f"，晚于当前评估（{assessed_on:%Y-%m-%d}）" if assessed_on else "，尚无评估记录"
        row.reason = f"{on:%Y-%m-%d} {text}{more}{since}"


# --- the assessment rate -------------------------------------------------------------------------------


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class RateRow:
    region: Region | None
    label: str
    target: int = 0
    valid: int = 0
    levels: list[int] = field(default_factory=lambda: [0] * len(LEVELS))

    @property
    def rate(self) -> Decimal | None:
        return _percent(self.valid, self.target)

    @property
    def meets_target(self) -> bool:
        rate = self.rate
        return rate is not None and rate >= TARGET_RATE_PERCENT

    @property
    def unassessed(self) -> int:
        return self.target - self.valid

    @property
    def drillable(self) -> bool:
        return self.region is not None and self.region.level != RegionLevel.COMMUNITY

    def add(self, target: int, valid: int, levels: list[int]) -> None:
        self.target += target
        self.valid += valid
        self.levels = [a + b for a, b in zip(self.levels, levels, strict=True)]


@dataclass
class RateTable:
    region: Region | None  # the region drilled into (None: the user's several scope roots)
    rows: list[RateRow]
    total: RateRow
    today: dt.date
    trail: list[Region] = field(default_factory=list)  # from the user's scope root down to region


def rate_counts_by_community(region_ids: list[int], *, today: dt.date) -> list[dict[str, Any]]:
    """Target population, valid assessments and level counts per community, in one GROUP BY."""
    valid = Q(capability__valid_until__gte=today)
    per_level = {f"level_{n}": Count("id", filter=valid & Q(capability__level=n)) for n in LEVELS}
    grouped: Any = (
        Person.objects.filter(target_population_q(today), residence_region_id__in=region_ids)
        .values("residence_region_id")
        .annotate(target=Count("id"), valid=Count("id", filter=valid), **per_level)
        .order_by()
    )
    return list(grouped)


def assessment_rate(user: Any, region: Region | None, *, today: dt.date) -> RateTable:
    """The assessment rate for the children of a region in the user's scope (or of their roots)."""
    roots = scope_roots(user)
    if region is None and len(roots) == 1:
        region = roots[0]
    if region is None:
        row_regions = roots
    elif region.level == RegionLevel.COMMUNITY:
        row_regions = [region]
    else:
        row_regions = list(Region.objects.filter(parent=region).order_by("code"))
    ids = scope_region_ids(user, region)
    counts = rate_counts_by_community(ids, today=today) if ids else []
    codes = dict(Region.objects.filter(pk__in=[c["residence_region_id"] for c in counts]).values_list("id", "code"))
    rows = [RateRow(region=r, label=r.name) for r in row_regions]
    total = RateRow(region=region, label="合计")
    # Roll communities up to the rows: a few hundred grouped rows, never the people themselves.
    by_prefix = sorted(((row.region.prefix, row) for row in rows if row.region), key=lambda p: -len(p[0]))
    for c in counts:
        levels = [c[f"level_{n}"] for n in LEVELS]
        code = codes.get(c["residence_region_id"], "")
        row = next((r for prefix, r in by_prefix if code.startswith(prefix)), None)
        if row is not None:
            row.add(c["target"], c["valid"], levels)
        total.add(c["target"], c["valid"], levels)
    trail: list[Region] = []
    if region is not None:
        node: Region | None = region
        root_ids = {r.pk for r in roots}
        while node is not None:
            trail.insert(0, node)
            if node.pk in root_ids:
                break
            node = node.parent
    return RateTable(region=region, rows=rows, total=total, today=today, trail=trail)
