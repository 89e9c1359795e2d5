"""Pure care-plan rules: services suggested by capability level, visits and cost of a plan item in
a month, and the planned-vs-delivered tally of a month. No ORM, no I/O."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
EVERY_DAY = (1, 2, 3, 4, 5, 6, 7)
WORKDAYS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Suggestion:
    """One service suggested for a capability level: category, days, window and why."""

    category: str
    weekdays: tuple[int, ...]
    window_start: dt.time
    window_end: dt.time
    why: str


def _s(category: str, days: tuple[int, ...], start: str, end: str, why: str) -> Suggestion:
    return Suggestion(category, days, dt.time.fromisoformat(start), dt.time.fromisoformat(end), why)


# GB/T 42195-2022 levels (0 能力完好 … 4 完全失能) → the services a plan starts from. The more care a
# person needs, the more often help comes; personal care (bath) and home nursing need certified
# caregivers (seed 001: 上门人员均持证上岗). Workers adjust the draft before anyone signs.
SUGGESTIONS: dict[int, tuple[Suggestion, ...]] = {
    0: (_s("companionship", (3,), "09:00", "10:00", "能力完好：每周一次关爱探访、精神慰藉"),),
    1: (_s("meal", WORKDAYS, "11:00", "11:30", "轻度失能：工作日助餐送餐"),
        _s("cleaning", (2,), "09:00", "10:00", "轻度失能：每周一次居室清洁"),
        _s("companionship", (5,), "15:00", "16:00", "轻度失能：每周一次精神慰藉")),
    2: (_s("meal", EVERY_DAY, "11:00", "11:30", "中度失能：每日助餐送餐"),
        _s("cleaning", (2, 5), "09:00", "10:00", "中度失能：每周两次居室清洁"),
        _s("bath", (6,), "14:00", "15:00", "中度失能：每周一次上门助浴")),
    3: (_s("meal", EVERY_DAY, "11:00", "11:30", "重度失能：每日助餐送餐"),
        _s("cleaning", (2, 5), "09:00", "10:00", "重度失能：每周两次居室清洁"),
        _s("bath", (3, 6), "14:00", "15:00", "重度失能：每周两次上门助浴"),
        _s("rehabilitation", (1, 4), "15:30", "16:30", "重度失能：每周两次康复护理")),
    4: (_s("meal", EVERY_DAY, "11:00", "11:30", "完全失能：每日助餐送餐"),
        _s("cleaning", (2, 5), "09:00", "10:00", "完全失能：每周两次居室清洁"),
        _s("bath", (3, 6), "14:00", "15:00", "完全失能：每周两次上门助浴"),
        _s("medical", (1, 4), "08:30", "09:30", "完全失能：每周两次家庭病床护理")),
}
# Without a valid assessment the draft starts from what anyone may need, to be adjusted by hand.
NO_ASSESSMENT = (_s("meal", WORKDAYS, "11:00", "11:30", "未有有效评估：工作日助餐送餐，评估后调整"),)


def suggest_services(level: int | None) -> tuple[Suggestion, ...]:
    """The suggested services for a capability level (None: no valid assessment)."""
    if level is None:
        return NO_ASSESSMENT
    return SUGGESTIONS[max(0, min(level, max(SUGGESTIONS)))]


def clean_weekdays(values: Iterable[object]) -> list[int]:
    """ISO weekdays, sorted, once each; ValueError on anything else or when empty."""
    days: set[int] = set()
    for value in values:
        day = int(str(value))
        if day not in WEEKDAY_NAMES:
            raise ValueError(value)
        days.add(day)
    if not days:
        raise ValueError("empty")
    return sorted(days)


def weekdays_label(weekdays: Iterable[int]) -> str:
    days = sorted(set(weekdays))
    if days == list(EVERY_DAY):
        return "每天"
    if days == list(WORKDAYS):
        return "工作日"
    return "、".join(WEEKDAY_NAMES[d] for d in days)


def month_days(year: int, month: int) -> list[dt.date]:
    return [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def visits_in_month(weekdays: Iterable[int], year: int, month: int, *, starts_on: dt.date | None = None,
                    ends_on: dt.date | None = None) -> int:
    """How many of the month's days fall on the weekdays, inside the plan's period."""
    wanted = set(weekdays)
    return sum(1 for day in month_days(year, month) if day.isoweekday() in wanted
               and (starts_on is None or day >= starts_on) and (ends_on is None or day <= ends_on))


def units_per_visit(unit: str, minutes: int) -> Decimal:
    """Billable units of one visit: hours for hourly items, else one visit or one meal."""
    if unit == "hour":
        return (Decimal(minutes) / Decimal(60)).quantize(CENT, ROUND_HALF_UP)
    return Decimal(1)


@dataclass(frozen=True)
class CostLine:
    visits: int
    units: Decimal  # per visit
    elder_price: Decimal  # per unit, at the item's tier
    fund_price: Decimal  # per unit, at the item's tier

    @property
    def elder(self) -> Decimal:
        return (self.elder_price * self.units * self.visits).quantize(CENT, ROUND_HALF_UP)

    @property
    def fund(self) -> Decimal:
        return (self.fund_price * self.units * self.visits).quantize(CENT, ROUND_HALF_UP)

    @property
    def total(self) -> Decimal:
        return self.elder + self.fund


@dataclass(frozen=True)
class MonthCost:
    elder: Decimal
    fund: Decimal
    quota: Decimal | None  # the monthly service quota in force, None when the person has none

    @property
    def total(self) -> Decimal:
        return self.elder + self.fund

    @property
    def over_quota(self) -> Decimal:
        """How much the fund's share exceeds the quota (0 when it fits or there is no quota)."""
        if self.quota is None:
            return Decimal("0.00") if self.fund == 0 else self.fund
        return max(Decimal("0.00"), self.fund - self.quota)


def month_cost(lines: Iterable[CostLine], quota: Decimal | None) -> MonthCost:
    """A plan's month: what the elder pays, what the fund pays, against the monthly quota."""
    items = list(lines)
    return MonthCost(elder=sum((x.elder for x in items), Decimal("0.00")),
                     fund=sum((x.fund for x in items), Decimal("0.00")), quota=quota)


DELIVERED = frozenset({"confirmed", "done"})
MISSED = frozenset({"no_show"})
CANCELLED = frozenset({"cancelled"})


@dataclass(frozen=True)
class OrderFact:
    plan_item_id: int
    status: str
    minutes: int  # the order's planned minutes
    delivered_minutes: int | None  # from the service record's check-in/check-out, when there is one


@dataclass
class Tally:
    planned_visits: int = 0
    generated: int = 0
    delivered: int = 0
    missed: int = 0
    cancelled: int = 0
    other: int = 0  # still open or disputed
    minutes_planned: int = 0
    minutes_delivered: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def delivery_rate(self) -> int | None:
        """Delivered visits as a whole percentage of planned visits."""
        if not self.planned_visits:
            return None
        return round(self.delivered * 100 / self.planned_visits)


def tally_month(planned: dict[int, tuple[int, int]], orders: Iterable[OrderFact]) -> dict[int, Tally]:
    """Per plan item: visits planned (`planned` maps item id → (visits, minutes per visit)), orders
    generated, delivered (done or confirmed), missed (no-show), cancelled, minutes planned vs delivered."""
    result = {pk: Tally(planned_visits=visits, minutes_planned=visits * minutes)
              for pk, (visits, minutes) in planned.items()}
    for fact in orders:
        tally = result.setdefault(fact.plan_item_id, Tally())
        tally.generated += 1
        if fact.status in DELIVERED:
            tally.delivered += 1
            tally.minutes_delivered += fact.delivered_minutes if fact.delivered_minutes is not None else fact.minutes
        elif fact.status in MISSED:
            tally.missed += 1
        elif fact.status in CANCELLED:
            tally.cancelled += 1
        else:
            tally.other += 1
    return result
