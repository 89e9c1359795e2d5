"""Pure dispatch rules: whether one caregiver can take one visit, the reason lines, and the ranking.

No ORM here: `matching.py` loads the facts with a constant number of queries and hands them over,
so the rules are table-testable without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sanshe.lib.geo import distance_m, travel_minutes

WEEKDAY_LABELS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
MODE_LABELS = {"walk": "步行", "bicycle": "自行车", "ebike": "电动自行车", "car": "汽车"}

# Why a caregiver is left out; the "soft" ones (circle, busy) may still be offered in a broadcast
# (抢单), where the caregiver judges whether they can make it.
HARD = "hard"
SOFT = "soft"


@dataclass(frozen=True, slots=True)
class Travel:
    """How the district estimates travel: detour factor and speed per mode (km/h)."""

    detour: float
    speeds: dict[str, float]

    def minutes(self, metres: float, mode: str) -> float:
        return travel_minutes(metres, detour_factor=self.detour, speed_kmh=self.speeds.get(mode, self.speeds["ebike"]))


@dataclass(frozen=True, slots=True)
class Visit:
    """The order to place: where, when (window for the start), how long, the circle, who it is for."""

    latitude: float
    longitude: float
    window_start: dt.datetime
    window_end: dt.datetime
    minutes: int
    circle_minutes: int
    qualification_label: str = ""  # "" when the item needs none
    preferred_caregiver_id: int | None = None


@dataclass(slots=True)
class Booking:
    """A visit already on the caregiver's day (assigned, accepted or in progress)."""

    start: dt.datetime
    minutes: int
    latitude: float | None
    longitude: float | None
    end: dt.datetime = field(init=False)  # computed once: ranking reads it many times

    def __post_init__(self) -> None:
        self.end = self.start + dt.timedelta(minutes=self.minutes)


@dataclass(slots=True)
class CaregiverFacts:
    """Everything the rules need to know about one caregiver for one visit."""

    caregiver_id: int
    name: str
    provider_id: int
    provider_name: str
    home_latitude: float
    home_longitude: float
    travel_mode: str
    work_days: list[int]
    shift_start: dt.time
    shift_end: dt.time
    break_minutes: int = 0
    qualification_problem: str = ""  # "" when qualified (or none needed)
    bookings: list[Booking] = field(default_factory=list)
    served_times: int = 0  # for this person in the last 90 days
    declined: bool = False  # declined this very order before


@dataclass(slots=True)
class Candidate:
    caregiver_id: int
    name: str
    provider_id: int
    provider_name: str
    eligible: bool
    lines: list[str]
    excluded_reason: str = ""
    severity: str = ""
    travel_min: float = 0.0
    distance_m: float = 0.0
    start_at: dt.datetime | None = None
    preferred: bool = False
    served_times: int = 0
    day_minutes: int = 0
    day_orders: int = 0

    def rank_key(self) -> tuple[int, int, int, float, int]:
        """Continuity (the plan's caregiver, then who served the person most), workload, travel."""
        return (0 if self.preferred else 1, -self.served_times, self.day_minutes, self.travel_min, self.caregiver_id)


def _hm(moment: dt.datetime, day_start: dt.datetime) -> str:
    """Clock time on the service day's zone (bookings arrive in UTC to save conversions)."""
    return f"{moment.astimezone(day_start.tzinfo):%H:%M}"


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} 公里"


def _leg(b: Booking, visit: Visit, facts: CaregiverFacts, travel: Travel) -> float:
    if b.latitude is None or b.longitude is None:
        return 0.0
    return travel.minutes(distance_m(b.latitude, b.longitude, visit.latitude, visit.longitude), facts.travel_mode)


# The lunch break starts between these times (the route planner uses the same window).
BREAK_EARLIEST = dt.time(11, 0)
BREAK_LATEST = dt.time(13, 0)


def leaves_break(busy: list[tuple[dt.datetime, dt.datetime]], facts: CaregiverFacts, day_start: dt.datetime) -> bool:
    """Whether the caregiver can still start their lunch break inside the midday window with these
    visits on the day. A shift that does not span the window has no break (as in route planning)."""
    need = dt.timedelta(minutes=facts.break_minutes)
    earliest = day_start.replace(hour=BREAK_EARLIEST.hour, minute=BREAK_EARLIEST.minute)
    latest = day_start.replace(hour=BREAK_LATEST.hour, minute=BREAK_LATEST.minute)
    shift_from = day_start.replace(hour=facts.shift_start.hour, minute=facts.shift_start.minute)
    shift_to = day_start.replace(hour=facts.shift_end.hour, minute=facts.shift_end.minute)
    if not need or shift_from > earliest or latest + need > shift_to:
        return True
    starts = [earliest] + [end for _, end in busy if earliest <= end <= latest]
    return any(all(end <= t or t + need <= begin for begin, end in busy) for t in starts)


def earliest_start(visit: Visit, facts: CaregiverFacts, travel: Travel,
                   day_start: dt.datetime) -> tuple[dt.datetime | None, str]:
    """The earliest start inside the window that fits the shift and leaves room (with travel) around
    the caregiver's bookings; None and why when there is none."""
    shift_from = day_start.replace(hour=facts.shift_start.hour, minute=facts.shift_start.minute)
    shift_to = day_start.replace(hour=facts.shift_end.hour, minute=facts.shift_end.minute)
    length = dt.timedelta(minutes=visit.minutes)
    start = max(visit.window_start, shift_from)
    if start > visit.window_end or start + length > shift_to:
        hours = f"{facts.shift_start:%H:%M}–{facts.shift_end:%H:%M}"
        return None, f"服务时段不在其班次 {hours} 内"
    for b in sorted(facts.bookings, key=lambda x: x.start):
        leg = dt.timedelta(minutes=_leg(b, visit, facts, travel))
        if b.end + leg <= start:
            continue  # finished (and travelled) before we start
        if start + length + leg <= b.start:
            break  # we finish (and travel on) before it starts; later bookings start later still
        start = b.end + leg  # wait until after it
        if start > visit.window_end or start + length > shift_to:
            return None, f"与其 {_hm(b.start, day_start)}–{_hm(b.end, day_start)} 的工单时间冲突（含路程）"
    busy = [(b.start, b.end) for b in facts.bookings] + [(start, start + length)]
    if not leaves_break(busy, facts, day_start):
        return None, (f"排入后无法在 {BREAK_EARLIEST:%H:%M}–{BREAK_LATEST:%H:%M} 之间留出 {facts.break_minutes} 分钟午休")
    return start, ""


def evaluate(visit: Visit, facts: CaregiverFacts, travel: Travel, day_start: dt.datetime, *,
             describe: bool = True) -> Candidate:
    """One caregiver against one visit: eligible with the reason lines, or excluded with why.
    Without `describe` an eligible caregiver gets no lines (ranking many needs only the numbers)."""
    weekday = day_start.isoweekday()
    load = sum(b.minutes for b in facts.bookings)
    c = Candidate(caregiver_id=facts.caregiver_id, name=facts.name, provider_id=facts.provider_id,
                  provider_name=facts.provider_name, eligible=False, lines=[],
                  preferred=facts.caregiver_id == visit.preferred_caregiver_id, served_times=facts.served_times,
                  day_minutes=load, day_orders=len(facts.bookings))
    # Position: the end of their last visit that day that ends before the window, else home.
    before = [b for b in facts.bookings if b.end <= visit.window_start and b.latitude is not None]
    last = max(before, key=lambda b: b.end) if before else None
    if last is not None and last.latitude is not None and last.longitude is not None:
        origin, lat, lon = f"上一单（{_hm(last.end, day_start)} 结束）地点", last.latitude, last.longitude
    else:
        origin, lat, lon = "出发地", facts.home_latitude, facts.home_longitude
    c.distance_m = distance_m(lat, lon, visit.latitude, visit.longitude)
    c.travel_min = travel.minutes(c.distance_m, facts.travel_mode)
    mode = MODE_LABELS.get(facts.travel_mode, facts.travel_mode)
    minutes = max(1, round(c.travel_min))
    if facts.qualification_problem:
        return _exclude(c, facts.qualification_problem, HARD)
    if facts.declined:
        return _exclude(c, "已拒绝过该工单", HARD)
    if weekday not in facts.work_days:
        return _exclude(c, f"当天（{WEEKDAY_LABELS[weekday]}）休息", HARD)
    if c.travel_min > visit.circle_minutes:
        return _exclude(c, f"距{origin} {_km(c.distance_m)}，{mode}约 {minutes} 分钟，超出 {visit.circle_minutes} 分钟"
                           "服务圈", SOFT)
    start, why = earliest_start(visit, facts, travel, day_start)
    if start is None:
        return _exclude(c, why, SOFT)
    c.eligible, c.start_at = True, start
    if not describe:
        return c
    c.lines.append(f"持有{visit.qualification_label}" if visit.qualification_label else "该项目无特殊资质要求")
    c.lines.append(f"距{origin} {_km(c.distance_m)}，{mode}约 {minutes} 分钟，在 {visit.circle_minutes} 分钟服务圈内")
    if c.preferred:
        c.lines.append("照护方案指定的固定护理员")
    if facts.served_times:
        c.lines.append(f"近 90 天为该老人服务 {facts.served_times} 次" + ("（固定护理员）" if c.preferred else ""))
    c.lines.append(f"当天已排 {c.day_orders} 单共 {load} 分钟" if c.day_orders else "当天尚未排单")
    c.lines.append(f"可于 {_hm(start, day_start)} 开始服务（班次 {facts.shift_start:%H:%M}–{facts.shift_end:%H:%M}）")
    return c


def _exclude(c: Candidate, why: str, severity: str) -> Candidate:
    c.excluded_reason, c.severity = why, severity
    c.lines.append(why)
    return c


def rank(visit: Visit, facts: list[CaregiverFacts], travel: Travel, day_start: dt.datetime, *,
         describe_all: bool = True) -> tuple[list[Candidate], list[Candidate]]:
    """(eligible candidates best first, excluded caregivers nearest first). Without
    `describe_all` only the best candidate carries its reason lines."""
    evaluated = [evaluate(visit, f, travel, day_start, describe=describe_all) for f in facts]
    eligible = sorted((c for c in evaluated if c.eligible), key=Candidate.rank_key)
    excluded = sorted((c for c in evaluated if not c.eligible), key=lambda c: (c.travel_min, c.caregiver_id))
    if eligible and not describe_all:
        by_id = {f.caregiver_id: f for f in facts}
        eligible[0] = evaluate(visit, by_id[eligible[0].caregiver_id], travel, day_start)
    if eligible:
        eligible[0].lines.insert(0, _why_first(eligible))
    return eligible, excluded


def _why_first(ranked: list[Candidate]) -> str:
    best = ranked[0]
    if len(ranked) == 1:
        return "唯一符合条件的护理员"
    second = ranked[1]
    if best.preferred and not second.preferred:
        return "排名第一：照护方案指定的固定护理员"
    if best.served_times > second.served_times:
        return f"排名第一：近 90 天服务该老人最多（{best.served_times} 次）"
    if best.day_minutes < second.day_minutes:
        return f"排名第一：当天工作量最少（{best.day_minutes} 分钟）"
    return f"排名第一：路程最短（约 {max(1, round(best.travel_min))} 分钟）"
