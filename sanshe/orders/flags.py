"""Pure rules that flag a service record for review: checked-in outside the geofence or without
a location, overlapping visits by one caregiver, a visit much shorter than the item's standard,
a visit on or after the person's recorded death or during a hospitalisation. No ORM, no I/O:
the caller gathers the facts (orders/delivery.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sanshe.orders.models import Flag


@dataclass(frozen=True, slots=True)
class StatusSpan:
    """A status the person was in from `start` until `end` (exclusive; None = still in it)."""

    status: str
    start: dt.date
    end: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, slots=True)
class VisitFacts:
    service_date: dt.date
    check_in_at: dt.datetime
    check_out_at: dt.datetime | None
    # Metres between the check-in position and the order's address; None when no position was sent.
    distance_m: float | None
    geofence_m: int
    standard_minutes: int
    short_visit_percent: int
    death_date: dt.date | None = None
    hospital_spans: Sequence[StatusSpan] = ()
    # The same caregiver's other visits: (check-in, check-out or None while still open).
    other_visits: Sequence[tuple[dt.datetime, dt.datetime | None]] = field(default_factory=tuple)


def is_outside_geofence(distance_m: float | None, geofence_m: int) -> bool:
    return distance_m is not None and distance_m > geofence_m


def is_short(minutes: float, standard_minutes: int, percent: int) -> bool:
    """Shorter than `percent` % of the item's standard duration."""
    return standard_minutes > 0 and minutes * 100 < standard_minutes * percent


def overlaps(start: dt.datetime, end: dt.datetime | None, other_start: dt.datetime,
             other_end: dt.datetime | None) -> bool:
    """Two visits share time. A visit not yet checked out counts as the instant of its check-in;
    the other visit, while still open, lasts indefinitely."""
    ends_after = other_end is None or start < other_end
    if end is None:
        return other_start <= start and ends_after
    return other_start < end and ends_after


def hospital_spans(changes: Sequence[tuple[str, str, dt.date]]) -> list[StatusSpan]:
    """Hospital stays from a person's status history [(from, to, effective date)] in date order."""
    spans: list[StatusSpan] = []
    start: dt.date | None = None
    for from_status, to_status, day in sorted(changes, key=lambda c: c[2]):
        if to_status == "hospitalised" and start is None:
            start = day
        elif from_status == "hospitalised" and start is not None:
            spans.append(StatusSpan("hospitalised", start, day))
            start = None
    if start is not None:
        spans.append(StatusSpan("hospitalised", start))
    return spans


def death_date(changes: Sequence[tuple[str, str, dt.date]]) -> dt.date | None:
    """The effective date of the (earliest) recorded death, if any."""
    days = [day for _, to_status, day in changes if to_status == "deceased"]
    return min(days) if days else None


def compute_flags(facts: VisitFacts) -> list[str]:
    """The flags a visit earns, in a stable order (Flag's declaration order)."""
    found: set[str] = set()
    if facts.distance_m is None:
        found.add(Flag.NO_GPS)
    elif is_outside_geofence(facts.distance_m, facts.geofence_m):
        found.add(Flag.OUTSIDE_GEOFENCE)
    if any(overlaps(facts.check_in_at, facts.check_out_at, s, e) for s, e in facts.other_visits):
        found.add(Flag.OVERLAP)
    if facts.check_out_at is not None:
        minutes = (facts.check_out_at - facts.check_in_at).total_seconds() / 60
        if is_short(minutes, facts.standard_minutes, facts.short_visit_percent):
            found.add(Flag.SHORT)
    if facts.death_date is not None and facts.service_date >= facts.death_date:
        found.add(Flag.AFTER_DEATH)
    if any(span.covers(facts.service_date) for span in facts.hospital_spans):
        found.add(Flag.HOSPITALISED)
    return [f for f in Flag.values if f in found]


# Flags the provider's manager may clear on their own: where the caregiver was (a wrong fix or a
# phone without GPS) is something the provider can check with the elder; the others need the
# community or the district.
PROVIDER_CLEARABLE = frozenset({Flag.OUTSIDE_GEOFENCE, Flag.NO_GPS})


def flag_labels(flags: Sequence[str]) -> list[str]:
    return [Flag(f).label if f in Flag.values else f for f in flags]
