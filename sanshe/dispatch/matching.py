"""Who can take an order: the facts about nearby caregivers, loaded with a constant number of
queries, judged by the pure rules in `dispatch.rules`.

Candidates are active caregivers of providers contracted for the item in the person's community on
the day (only the order's provider once it has one), qualified, within the service circle
(15 minutes in town, 30 in the country, from their previous visit that day or from home) and free
at the time. A bounding box on the `caregiver_home` index narrows the search before exact distances.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from sanshe.accounts.models import Region
from sanshe.catalog.models import Caregiver, CaregiverQualification, Qualification, ServiceSettings
from sanshe.catalog.queries import contracted_providers
from sanshe.dispatch.rules import Booking, Candidate, CaregiverFacts, Travel, Visit, evaluate, rank
from sanshe.lib.geo import bounding_box, distance_m
from sanshe.orders.models import OrderEvent, OrderStatus, ServiceOrder

S = OrderStatus
# The caregiver columns matching reads (values, not model instances: there may be hundreds).
COLUMNS = ("pk", "name", "provider_id", "provider__name", "home_latitude", "home_longitude", "travel_mode",
           "work_days", "shift_start", "shift_end", "break_minutes")
# What occupies a caregiver's time (and counts as their workload) on a day.
BUSY_STATUSES = (S.ASSIGNED, S.ACCEPTED, S.ON_THE_WAY, S.IN_SERVICE)
SERVED_STATUSES = (S.DONE, S.CONFIRMED, S.DISPUTED)
HISTORY_DAYS = 90


@dataclass
class MatchResult:
    """The ranked candidates and the excluded caregivers of one order, with the circle used."""

    order: ServiceOrder
    circle_minutes: int
    candidates: list[Candidate] = field(default_factory=list)
    excluded: list[Candidate] = field(default_factory=list)
    problem: str = ""  # why nobody could even be considered (no coordinates, no contract)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def for_caregiver(self, caregiver_id: int) -> Candidate | None:
        return next((c for c in [*self.candidates, *self.excluded] if c.caregiver_id == caregiver_id), None)


def service_settings(district_id: int) -> ServiceSettings:
    found, _ = ServiceSettings.objects.get_or_create(district_id=district_id)
    return found


def travel_of(settings: ServiceSettings) -> Travel:
    return Travel(detour=float(settings.detour_factor),
                  speeds={mode: settings.speed_kmh(mode) for mode in ("walk", "bicycle", "ebike", "car")})


def circle_minutes_for(community: Region, settings: ServiceSettings) -> int:
    return settings.country_circle_minutes if community.is_rural else settings.town_circle_minutes


def local_day(order: ServiceOrder) -> tuple[dt.date, dt.datetime]:
    start = timezone.localtime(order.window_start)
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.date(), midnight


def match_order(order: ServiceOrder, *, explain: bool = True) -> MatchResult:
    """Rank the caregivers who can take the order, and say why the others cannot.

    Without `explain`, only the best two are worked out and caregivers who cannot be inside the
    circle are dropped unexplained (automatic assignment needs only the best)."""
    settings = service_settings(order.item.district_id)
    travel = travel_of(settings)
    circle = circle_minutes_for(order.community, settings)
    result = MatchResult(order=order, circle_minutes=circle)
    if order.latitude is None or order.longitude is None:
        result.problem = "服务地址没有坐标，无法按服务圈匹配，请在档案中补充位置后重试或人工指定"
        return result
    day, midnight = local_day(order)
    if order.provider_id is not None:
        provider_ids = [order.provider_id]
    else:
        provider_ids = list(contracted_providers(order.community, order.item, day).values_list("pk", flat=True))
    if not provider_ids:
        result.problem = f"{order.community.name}在 {day} 没有承接“{order.item.name}”的签约服务机构"
        return result
    lat, lon = float(order.latitude), float(order.longitude)
    # The fastest mode bounds how far a caregiver can start from and still be inside the circle.
    reach_m = circle * max(travel.speeds.values()) * 1000 / 60 / travel.detour
    box = bounding_box(lat, lon, reach_m)
    # Caregivers whose home is near (the caregiver_home index), or who have an earlier visit near
    # the order that day (they may start from there). The status is checked here rather than in
    # SQL, so the providers' orders of the morning are read through the (provider, window_start) index.
    near_visit = {cid for cid, status in ServiceOrder.objects.filter(
        window_start__gte=midnight, window_start__lt=order.window_start, provider_id__in=provider_ids,
        latitude__range=box[:2], longitude__range=box[2:], caregiver_id__isnull=False,
    ).order_by().values_list("caregiver_id", "status") if status in BUSY_STATUSES}
    area = Q(home_latitude__range=box[:2], home_longitude__range=box[2:])
    if not explain:
        # Only who can be inside the circle: each mode's own (smaller) box.
        area = Q(pk__in=[])
        for mode, speed in travel.speeds.items():
            mode_box = bounding_box(lat, lon, circle * speed * 1000 / 60 / travel.detour)
            area |= Q(travel_mode=mode, home_latitude__range=mode_box[:2], home_longitude__range=mode_box[2:])
    if near_visit:
        area |= Q(pk__in=near_visit)
    rows = list(Caregiver.objects.filter(area, is_active=True, provider_id__in=provider_ids)
                .order_by("pk").values_list(*COLUMNS))
    visit = visit_of(order, circle)
    if not explain:
        result.candidates = quick_best(order, rows, visit=visit, day=day, midnight=midnight, travel=travel,
                                       near_visit=near_visit)
        return result
    facts = load_facts(order, rows, day=day, midnight=midnight, origin=(lat, lon), travel=travel, circle=circle,
                       near_visit=near_visit)
    result.candidates, result.excluded = rank(visit, facts, travel, midnight)
    return result


def visit_of(order: ServiceOrder, circle: int) -> Visit:
    if order.latitude is None or order.longitude is None:
        raise ValueError("the order has no coordinates")  # callers check first
    return Visit(
        latitude=float(order.latitude), longitude=float(order.longitude),
        window_start=timezone.localtime(order.window_start), window_end=timezone.localtime(order.window_end),
        minutes=order.minutes, circle_minutes=circle,
        qualification_label=Qualification(order.item.required_qualification).label
        if order.item.required_qualification else "",
        preferred_caregiver_id=order.plan_item.preferred_caregiver_id if order.plan_item_id and order.plan_item else None,
    )


def explain_caregiver(order: ServiceOrder, caregiver: Caregiver) -> Candidate | None:
    """One caregiver against the order with the reason lines (their offer, the dispatcher's choice),
    without searching the area; None when the order has no coordinates."""
    if order.latitude is None or order.longitude is None:
        return None
    settings = service_settings(order.item.district_id)
    travel, circle = travel_of(settings), circle_minutes_for(order.community, settings)
    day, midnight = local_day(order)
    row = (caregiver.pk, caregiver.name, caregiver.provider_id, caregiver.provider.name, caregiver.home_latitude,
           caregiver.home_longitude, caregiver.travel_mode, caregiver.work_days, caregiver.shift_start,
           caregiver.shift_end, caregiver.break_minutes)
    facts = load_facts(order, [row], day=day, midnight=midnight, origin=(float(order.latitude),
                       float(order.longitude)), travel=travel, circle=circle, near_visit={caregiver.pk})
    return evaluate(visit_of(order, circle), facts[0], travel, midnight)


def load_facts(order: ServiceOrder, rows: list[tuple[Any, ...]], *, day: dt.date, midnight: dt.datetime,
               origin: tuple[float, float], travel: Travel, circle: int,
               near_visit: set[int]) -> list[CaregiverFacts]:
    """The qualification, day's bookings, history with the person and past declines of each
    caregiver: four queries whatever the number of caregivers. Bookings and history are read only
    for those who can be inside the circle (from home, or from a visit near the order)."""
    if not rows:
        return []
    lat, lon = origin
    ids = [r[0] for r in rows]
    inside = {r[0] for r in rows if r[0] in near_visit or travel.minutes(
        distance_m(lat, lon, float(r[4]), float(r[5])), r[6]) <= circle}
    needed = order.item.required_qualification
    held: dict[int, dt.date | None] = {}
    if needed:
        held = dict(CaregiverQualification.objects.filter(caregiver_id__in=ids, qualification=needed)
                    .order_by().values_list("caregiver_id", "expires_on"))
    bookings: dict[int, list[Booking]] = {}
    served: dict[int, int] = {}
    if inside:
        bookings = load_bookings(inside, midnight, exclude=order.pk)
        served = served_counts(order, inside)
    declined = declined_by(order)
    label = Qualification(needed).label if needed else ""
    out = []
    for cid, name, provider_id, provider_name, home_lat, home_lon, mode, work_days, shift_start, shift_end, pause in rows:
        problem = ""
        if needed:
            if cid not in held:
                problem = f"没有“{label}”"
            elif (expires := held[cid]) is not None and expires < day:
                problem = f"“{label}”已于 {expires} 过期"
        out.append(CaregiverFacts(
            caregiver_id=cid, name=name, provider_id=provider_id, provider_name=provider_name,
            home_latitude=float(home_lat), home_longitude=float(home_lon), travel_mode=mode,
            work_days=list(work_days or []), shift_start=shift_start, shift_end=shift_end, break_minutes=pause,
            qualification_problem=problem, bookings=bookings.get(cid, []), served_times=served.get(cid, 0),
            declined=cid in declined,
        ))
    return out


def declined_by(order: ServiceOrder) -> set[int]:
    """Caregivers who held the order and gave it back (it went back to requested): the worker
    re-dispatches it to someone else. The back-step event itself carries no caregiver, so the
    holder is the caregiver of the latest event before it."""
    out: set[int] = set()
    holder: int | None = None
    for from_status, to_status, caregiver_id in (OrderEvent.objects.filter(order_id=order.pk).order_by("at", "id")
                                                 .values_list("from_status", "to_status", "caregiver_id")):
        if to_status == S.REQUESTED and from_status in (S.ASSIGNED, S.ACCEPTED):
            who = caregiver_id or holder
            if who is not None:
                out.add(who)
            holder = None
        elif caregiver_id:
            holder = caregiver_id
    return out


def load_bookings(ids: Iterable[int], midnight: dt.datetime, *, exclude: int) -> dict[int, list[Booking]]:
    """The caregivers' busy visits of the day, in one query."""
    out: dict[int, list[Booking]] = defaultdict(list)
    # Status is filtered here, not in SQL, so the plan probes the (caregiver, window_start) index
    # per caregiver instead of scanning the whole day's orders by status.
    rows = (ServiceOrder.objects.filter(caregiver_id__in=list(ids), window_start__gte=midnight,
                                        window_start__lt=midnight + dt.timedelta(days=1))
            .exclude(pk=exclude).order_by()
            .values_list("caregiver_id", "window_start", "minutes", "latitude", "longitude", "status"))
    for cid, start, minutes, blat, blon, status in rows:
        if status in BUSY_STATUSES:
            out[cid].append(Booking(start=start, minutes=minutes, latitude=float(blat) if blat is not None else None,
                                    longitude=float(blon) if blon is not None else None))
    return out


def served_counts(order: ServiceOrder, ids: Iterable[int]) -> dict[int, int]:
    """How often each caregiver served the order's person in the last 90 days."""
    since = timezone.now() - dt.timedelta(days=HISTORY_DAYS)
    return dict(ServiceOrder.objects.filter(person_id=order.person_id, window_start__gte=since,
                                            caregiver_id__in=list(ids), status__in=SERVED_STATUSES)
                .order_by().values("caregiver_id").annotate(n=Count("id")).values_list("caregiver_id", "n"))


def quick_best(order: ServiceOrder, rows: list[tuple[Any, ...]], *, visit: Visit, day: dt.date,
               midnight: dt.datetime, travel: Travel, near_visit: set[int]) -> list[Candidate]:
    """The best candidate only, for automatic assignment, reading bookings for as few caregivers
    as the ranking allows.

    Continuity and the day's load come from aggregates; only travel (which may start from an
    earlier visit) and availability need a caregiver's bookings. Caregivers are taken in the order
    of (preferred, history, load, travel from home) and checked exactly, group by group; once one
    is available (two, for the runner-up), a later group (a worse prefix) cannot beat them. Idle
    caregivers need no bookings."""
    weekday = day.isoweekday()
    inside = [r for r in rows if (r[0] in near_visit or travel.minutes(
        distance_m(visit.latitude, visit.longitude, float(r[4]), float(r[5])), r[6]) <= visit.circle_minutes)
        and weekday in (r[7] or [])]
    if not inside:
        return []
    ids = [r[0] for r in inside]
    needed = order.item.required_qualification
    if needed:
        valid = set(CaregiverQualification.objects.filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=day), caregiver_id__in=ids, qualification=needed,
        ).order_by().values_list("caregiver_id", flat=True))
        inside = [r for r in inside if r[0] in valid]
    declined = declined_by(order)
    inside = [r for r in inside if r[0] not in declined]
    ids = [r[0] for r in inside]
    if not ids:
        return []
    served = served_counts(order, ids)
    # The status goes into the aggregate, not the WHERE, so the (caregiver, window_start) index serves it.
    load = dict(ServiceOrder.objects.filter(caregiver_id__in=ids, window_start__gte=midnight,
                                            window_start__lt=midnight + dt.timedelta(days=1)).exclude(pk=order.pk)
                .order_by().values("caregiver_id").annotate(m=Sum("minutes", filter=Q(status__in=BUSY_STATUSES)))
                .values_list("caregiver_id", "m"))

    def prefix(r: tuple[Any, ...]) -> tuple[int, int, int]:
        return (0 if r[0] == visit.preferred_caregiver_id else 1, -served.get(r[0], 0), load.get(r[0], 0) or 0)

    def home_minutes(r: tuple[Any, ...]) -> float:  # exact for idle caregivers
        return travel.minutes(distance_m(visit.latitude, visit.longitude, float(r[4]), float(r[5])), r[6])

    ordered = sorted(inside, key=lambda r: (*prefix(r), home_minutes(r), r[0]))
    bookings: dict[int, list[Booking]] = {}
    found: list[Candidate] = []
    i = 0
    # The best two are needed: the first line says why the best beat the runner-up.
    while i < len(ordered) and not (len(found) >= 2 and prefix(ordered[i]) > second_prefix(found)):
        group_prefix, j = prefix(ordered[i]), i
        while j < len(ordered) and prefix(ordered[j]) == group_prefix:
            j += 1
        idle = group_prefix[2] == 0  # the same load for the whole group
        from_group = 0
        for k in range(i, j, BATCH):
            chunk = ordered[k:min(j, k + BATCH)]
            if not idle:  # a bounded batch per query
                bookings.update(load_bookings([r[0] for r in chunk], midnight, exclude=order.pk))
            facts = [_facts(r, bookings.get(r[0], []), served.get(r[0], 0)) for r in chunk]
            eligible = [c for c in (evaluate(visit, f, travel, midnight, describe=False) for f in facts) if c.eligible]
            found += eligible
            from_group += len(eligible)
            if idle and from_group >= 2:
                break  # idle ones start from home, so the group is already in exact travel order
        i = j
    if not found:
        return []
    chosen = {c.caregiver_id for c in found}
    ranked, _ = rank(visit, [_facts(r, bookings.get(r[0], []), served.get(r[0], 0)) for r in inside
                             if r[0] in chosen], travel, midnight, describe_all=False)
    return ranked


BATCH = 50


def second_prefix(found: list[Candidate]) -> tuple[int, int, int]:
    key = sorted(c.rank_key() for c in found)[1]
    return key[0], key[1], key[2]


def _facts(r: tuple[Any, ...], bookings: list[Booking], served: int) -> CaregiverFacts:
    cid, name, provider_id, provider_name, home_lat, home_lon, mode, work_days, shift_start, shift_end, pause = r
    return CaregiverFacts(
        caregiver_id=cid, name=name, provider_id=provider_id, provider_name=provider_name,
        home_latitude=float(home_lat), home_longitude=float(home_lon), travel_mode=mode,
        work_days=list(work_days or []), shift_start=shift_start, shift_end=shift_end, break_minutes=pause,
        bookings=bookings, served_times=served,
    )
