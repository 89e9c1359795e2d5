"""Table tests for the pure care-plan rules: suggestions by level, visits, units, cost, tallies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sanshe.orders import rules
from sanshe.orders.rules import CostLine, OrderFact


@pytest.mark.parametrize(("level", "categories", "weekly_visits"), [
    (None, ["meal"], 5),
    (0, ["companionship"], 1),
    (1, ["meal", "cleaning", "companionship"], 7),
    (2, ["meal", "cleaning", "bath"], 10),
    (3, ["meal", "cleaning", "bath", "rehabilitation"], 13),
    (4, ["meal", "cleaning", "bath", "medical"], 13),
    (9, ["meal", "cleaning", "bath", "medical"], 13),  # beyond the scale: the most care
])
def test_more_care_is_suggested_as_capability_declines(level: int | None, categories: list[str],
                                                       weekly_visits: int) -> None:
    found = rules.suggest_services(level)
    assert [s.category for s in found] == categories
    assert sum(len(s.weekdays) for s in found) == weekly_visits
    assert all(s.window_start < s.window_end and s.why for s in found)


@pytest.mark.parametrize(("weekdays", "year", "month", "expected"), [
    ([1], 2026, 6, 5),  # June 2026 starts on a Monday: five Mondays
    ([7], 2026, 6, 4),
    ([1, 3, 5], 2026, 6, 13),
    (list(range(1, 8)), 2026, 2, 28),
    (list(range(1, 8)), 2028, 2, 29),  # leap year
    ([6, 7], 2026, 11, 9),
])
def test_visits_in_a_month_count_the_weekdays(weekdays: list[int], year: int, month: int, expected: int) -> None:
    assert rules.visits_in_month(weekdays, year, month) == expected


def test_visits_stay_inside_the_plan_period() -> None:
    import datetime as dt

    assert rules.visits_in_month([1], 2026, 6, starts_on=dt.date(2026, 6, 10)) == 3  # 15, 22, 29
    assert rules.visits_in_month([1], 2026, 6, ends_on=dt.date(2026, 6, 10)) == 2  # 1, 8


@pytest.mark.parametrize(("unit", "minutes", "units"), [
    ("hour", 60, Decimal("1.00")), ("hour", 90, Decimal("1.50")), ("hour", 40, Decimal("0.67")),
    ("visit", 45, Decimal(1)), ("meal", 20, Decimal(1)),
])
def test_hourly_items_are_billed_by_the_visit_length(unit: str, minutes: int, units: Decimal) -> None:
    assert rules.units_per_visit(unit, minutes) == units


@pytest.mark.parametrize(("values", "expected"), [
    ([3, 1, 1], [1, 3]), (["5", "2"], [2, 5]), ([7], [7]),
])
def test_weekdays_are_cleaned(values: list[object], expected: list[int]) -> None:
    assert rules.clean_weekdays(values) == expected


@pytest.mark.parametrize("values", [[], [0], [8], ["周一"], [1, 9]])
def test_bad_weekdays_are_refused(values: list[object]) -> None:
    with pytest.raises(ValueError):
        rules.clean_weekdays(values)


@pytest.mark.parametrize(("days", "label"), [
    ([1, 2, 3, 4, 5, 6, 7], "每天"), ([1, 2, 3, 4, 5], "工作日"), ([1, 3, 5], "周一、周三、周五"), ([7], "周日"),
])
def test_weekdays_read_as_chinese(days: list[int], label: str) -> None:
    assert rules.weekdays_label(days) == label


def test_a_month_costs_what_the_elder_and_the_fund_pay_against_the_quota() -> None:
    cleaning = CostLine(visits=13, units=Decimal("1.00"), elder_price=Decimal("8.00"), fund_price=Decimal("32.00"))
    meals = CostLine(visits=30, units=Decimal(1), elder_price=Decimal("3.00"), fund_price=Decimal("12.00"))
    cost = rules.month_cost([cleaning, meals], Decimal("600.00"))
    assert (cost.elder, cost.fund, cost.total) == (Decimal("194.00"), Decimal("776.00"), Decimal("970.00"))
    assert cost.over_quota == Decimal("176.00")
    assert rules.month_cost([cleaning], Decimal("600.00")).over_quota == Decimal("0.00")


@pytest.mark.parametrize(("quota", "fund", "over"), [
    (None, "0.00", "0.00"),  # paid services with no quota: nothing to warn about
    (None, "50.00", "50.00"),  # the fund would pay with no quota to pay from
    ("50.00", "50.00", "0.00"),
    ("49.99", "50.00", "0.01"),
])
def test_over_quota_is_the_fund_share_beyond_the_quota(quota: str | None, fund: str, over: str) -> None:
    line = CostLine(visits=1, units=Decimal(1), elder_price=Decimal(0), fund_price=Decimal(fund))
    assert rules.month_cost([line], Decimal(quota) if quota else None).over_quota == Decimal(over)


def test_the_month_tally_counts_each_order_once_by_its_status() -> None:
    facts = [OrderFact(1, "confirmed", 60, 55), OrderFact(1, "done", 60, None), OrderFact(1, "no_show", 60, None),
             OrderFact(1, "cancelled", 60, None), OrderFact(1, "requested", 60, None), OrderFact(2, "confirmed", 20, 25)]
    tally = rules.tally_month({1: (13, 60), 2: (4, 20)}, facts)
    one, two = tally[1], tally[2]
    assert (one.generated, one.delivered, one.missed, one.cancelled, one.other) == (5, 2, 1, 1, 1)
    assert (one.minutes_planned, one.minutes_delivered) == (780, 115)  # 55 measured + 60 planned (no record)
    assert one.delivery_rate == 15
    assert (two.generated, two.delivered, two.minutes_planned, two.minutes_delivered) == (1, 1, 80, 25)
    assert rules.tally_month({3: (0, 30)}, [])[3].delivery_rate is None
