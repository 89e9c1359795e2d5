"""The pure dispatch rules, table-tested without a database: circle, shift, day off, overlaps with
travel, and the ranking by continuity, workload and travel."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sanshe.dispatch.rules import HARD, SOFT, Booking, CaregiverFacts, Travel, Visit, earliest_start, evaluate, rank

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 12, 2, tzinfo=TZ)  # a Wednesday
TRAVEL = Travel(detour=1.3, speeds={"walk": 4.5, "bicycle": 12.0, "ebike": 18.0, "car": 25.0})
LAT, LON = 30.25, 120.15
KM_NORTH = 1 / 111.2  # degrees of latitude per kilometre


def at(hour: int, minute: int = 0) -> dt.datetime:
    return DAY.replace(hour=hour, minute=minute)


def visit(**kw: object) -> Visit:
    values: dict[str, object] = {"latitude": LAT, "longitude": LON, "window_start": at(10), "window_end": at(11),
                                 "minutes": 60, "circle_minutes": 15, "qualification_label": ""}
    values.update(kw)
    return Visit(**values)  # type: ignore[arg-type]


def facts(cid: int, km: float = 1.0, **kw: object) -> CaregiverFacts:
    values: dict[str, object] = {
        "caregiver_id": cid, "name": f"护理员{cid}", "provider_id": 1, "provider_name": "颐康", "home_latitude": LAT
        + km * KM_NORTH, "home_longitude": LON, "travel_mode": "ebike", "work_days": [1, 2, 3, 4, 5],
        "shift_start": dt.time(8), "shift_end": dt.time(17),
    }
    values.update(kw)
    return CaregiverFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("km", "mode", "circle", "eligible"), [
    (1.0, "ebike", 15, True),     # 1.3 km on the road at 18 km/h: about 4 minutes
    (3.0, "ebike", 15, True),     # about 13 minutes
    (4.0, "ebike", 15, False),    # about 17 minutes
    (4.0, "ebike", 30, True),     # the rural circle
    (1.0, "walk", 15, False),     # 17 minutes on foot
    (6.0, "car", 15, False),
    (6.0, "car", 30, True),
])
def test_the_service_circle_depends_on_distance_mode_and_circle(km: float, mode: str, circle: int,
                                                                 eligible: bool) -> None:
    c = evaluate(visit(circle_minutes=circle), facts(1, km, travel_mode=mode), TRAVEL, DAY)
    assert c.eligible is eligible
    if eligible:
        assert any(f"在 {circle} 分钟服务圈内" in line for line in c.lines)
    else:
        assert c.severity == SOFT
        assert f"超出 {circle} 分钟服务圈" in c.excluded_reason


def test_the_reason_line_names_distance_mode_and_minutes() -> None:
    c = evaluate(visit(qualification_label="养老护理员职业技能等级证书"), facts(1, 1.2), TRAVEL, DAY)
    assert c.lines[0] == "持有养老护理员职业技能等级证书"
    assert c.lines[1] == "距出发地 1.2 公里，电动自行车约 5 分钟，在 15 分钟服务圈内"


@pytest.mark.parametrize(("kw", "why", "severity"), [
    ({"work_days": [1, 2]}, "当天（周三）休息", HARD),
    ({"shift_start": dt.time(13), "shift_end": dt.time(17)}, "服务时段不在其班次 13:00–17:00 内", SOFT),
    ({"shift_end": dt.time(10, 30)}, "服务时段不在其班次 08:00–10:30 内", SOFT),
    ({"qualification_problem": "没有“护士执业证书”"}, "没有“护士执业证书”", HARD),
    ({"declined": True}, "已拒绝过该工单", HARD),
])
def test_a_caregiver_is_excluded_with_why(kw: dict[str, object], why: str, severity: str) -> None:
    c = evaluate(visit(), facts(1, **kw), TRAVEL, DAY)
    assert not c.eligible
    assert c.excluded_reason == why
    assert c.severity == severity


def test_an_overlapping_booking_pushes_the_start_or_excludes() -> None:
    # Booked 09:30–10:30 next door: the visit can start at 10:30 plus a minute's travel.
    near = Booking(start=at(9, 30), minutes=60, latitude=LAT + 0.001, longitude=LON)
    start, why = earliest_start(visit(), facts(1, bookings=[near]), TRAVEL, DAY)
    assert start is not None
    assert at(10, 30) < start <= at(10, 32)
    assert why == ""
    # Booked 10:00–12:00: nothing fits inside the 10:00–11:00 window.
    long = Booking(start=at(10), minutes=120, latitude=LAT, longitude=LON)
    c = evaluate(visit(), facts(1, bookings=[long]), TRAVEL, DAY)
    assert not c.eligible
    assert c.excluded_reason == "与其 10:00–12:00 的工单时间冲突（含路程）"
    # A booking at 11:00 three km away leaves no room after a 10:00 visit of an hour (travel).
    later = Booking(start=at(11), minutes=30, latitude=LAT + 3 * KM_NORTH, longitude=LON)
    start, _ = earliest_start(visit(window_end=at(10, 10)), facts(1, bookings=[later]), TRAVEL, DAY)
    assert start is None


def test_the_position_is_the_previous_visit_that_ends_before_the_window() -> None:
    # Home 10 km away, but the 08:30–09:30 visit was next door: inside the circle from there.
    before = Booking(start=at(8, 30), minutes=60, latitude=LAT + 0.002, longitude=LON)
    c = evaluate(visit(), facts(1, 10.0, bookings=[before]), TRAVEL, DAY)
    assert c.eligible
    assert c.lines[1].startswith("距上一单（09:30 结束）地点 0.2 公里")


def test_ranking_is_continuity_then_workload_then_travel() -> None:
    busy = [Booking(start=at(8), minutes=60, latitude=LAT, longitude=LON),
            Booking(start=at(14), minutes=90, latitude=LAT, longitude=LON)]
    pool = [
        facts(1, 0.5),                             # nearest, idle
        facts(2, 2.0),                             # farther, idle
        facts(3, 0.2, bookings=busy),              # nearest of all but 150 minutes booked
        facts(4, 2.5, served_times=6),             # served the person six times
        facts(5, 2.8, served_times=2),
    ]
    ranked, excluded = rank(visit(), pool, TRAVEL, DAY)
    assert [c.caregiver_id for c in ranked] == [4, 5, 1, 2, 3]
    assert excluded == []
    assert ranked[0].lines[0] == "排名第一：近 90 天服务该老人最多（6 次）"
    assert "近 90 天为该老人服务 6 次" in ranked[0].lines
    assert "当天已排 2 单共 150 分钟" in ranked[-1].lines
    # The plan's preferred caregiver comes before history.
    ranked, _ = rank(visit(preferred_caregiver_id=2), pool, TRAVEL, DAY)
    assert ranked[0].caregiver_id == 2
    assert ranked[0].lines[0] == "排名第一：照护方案指定的固定护理员"


def test_equal_history_goes_to_the_lighter_day_then_the_shorter_trip() -> None:
    light = [Booking(start=at(14), minutes=30, latitude=LAT, longitude=LON)]
    heavy = [Booking(start=at(14), minutes=90, latitude=LAT, longitude=LON)]
    ranked, _ = rank(visit(), [facts(1, 0.3, bookings=heavy), facts(2, 2.0, bookings=light), facts(3, 2.5,
                                                                                               bookings=light)],
                     TRAVEL, DAY)
    assert [c.caregiver_id for c in ranked] == [2, 3, 1]
    assert ranked[0].lines[0] == "排名第一：路程最短（约 9 分钟）"


@pytest.mark.parametrize(("bookings", "start", "shift", "fits"), [
    ([], (11, 30), (8, 17), True),                                # a 60-minute visit at 11:30 leaves 12:30–13:30
    ([(12, 30, 60)], (11, 0), (8, 17), False),                    # 11:00–12:00 and 12:30–13:30: no hour free
    ([(12, 0, 60)], (10, 0), (8, 17), True),                      # the break fits 11:00–12:00
    ([(11, 0, 60), (12, 10, 60)], (13, 10), (8, 17), False),      # 13:10 onwards taken too: no break can start
    ([(11, 0, 120)], (13, 0), (8, 17), False),                    # 11:00–14:00 busy, the break would start at 14:00
    ([(10, 0, 60)], (11, 0), (8, 12), True),                      # a morning shift has no lunch break
])
def test_a_visit_is_refused_when_it_leaves_no_lunch_break_in_the_midday_window(
        bookings: list[tuple[int, int, int]], start: tuple[int, int], shift: tuple[int, int], fits: bool) -> None:
    booked = [Booking(start=at(h, m), minutes=length, latitude=LAT, longitude=LON) for h, m, length in bookings]
    who = facts(1, km=0.0, bookings=booked, break_minutes=60, shift_start=dt.time(shift[0]),
                shift_end=dt.time(shift[1]))
    when, why = earliest_start(visit(window_start=at(*start), window_end=at(*start)), who, TRAVEL, DAY)
    assert (when is not None) == fits
    if not fits:
        assert "午休" in why or "冲突" in why or "班次" in why
