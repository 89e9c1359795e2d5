"""Dates: ages in whole years as the law counts them (birthday reached = one year older)."""

from __future__ import annotations

import datetime as dt


def age_on(birth_date: dt.date, on: dt.date) -> int:
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def birth_date_bounds_for_age(min_age: int | None, max_age: int | None, on: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Return (earliest, latest) birth dates for people aged min_age..max_age on a date.

    Someone born on 29 February reaches a new age on 1 March in common years, which is
    what subtracting years with a fallback to 28 February for the bound gives.
    """
    latest = _years_before(on, min_age) if min_age is not None else None
    earliest = None
    if max_age is not None:
        earliest = _years_before(on, max_age + 1) + dt.timedelta(days=1)
    return earliest, latest


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)
