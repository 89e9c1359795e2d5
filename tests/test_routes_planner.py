"""The route planner on plain data (no database): windows, qualifications, shifts, the lunch break,
a supplied matrix, capacities, and why orders are left out."""

from __future__ import annotations

from sanshe.dispatch.route_map import MapPlace, MapRoute, draw_map
from sanshe.dispatch.routes import (
    BREAK_EARLY,
    BREAK_LATE,
    Point,
    RoutePlanResult,
    RouteProblem,
    Visit,
    Worker,
    solve_routes,
    travel_matrix,
)

H = 3600
# Around 30.25 N, 120.15 E; 0.001 degree is about 100 m.
PLACES = [
    Point("station", 120.150, 30.250),
    Point("home", 120.158, 30.252),
    Point("a", 120.151, 30.253),
    Point("b", 120.154, 30.247),
    Point("c", 120.147, 30.251),
    Point("d", 120.157, 30.255),
    Point("e", 120.152, 30.246),
    Point("f", 120.160, 30.249),
]


def ebike() -> list[list[int]]:
    return travel_matrix(PLACES, detour_factor=1.3, speed_kmh=18)


def day_problem(*, nurse_present: bool = True) -> RouteProblem:
    workers = [
        Worker(key="liu", point=0, shift_start=8 * H, shift_end=17 * H, mode="ebike", break_seconds=3600),
        Worker(key="wu", point=1, shift_start=8 * H, shift_end=17 * H, mode="ebike", break_seconds=3600,
               qualifications=frozenset({"nurse_licence"}) if nurse_present else frozenset()),
    ]
    visits = [
        Visit("meal-1", 2, 11 * H, 12 * H, 20 * 60),
        Visit("meal-2", 3, 11 * H, 12 * H, 20 * 60),
        Visit("clean", 4, 9 * H, 10 * H, 60 * 60),
        Visit("nursing", 5, 9 * H, 11 * H, 45 * 60, qualification="nurse_licence"),
        Visit("clean-2", 6, 14 * H, 15 * H, 60 * 60),
        Visit("visit", 7, 13 * H, 16 * H, 30 * 60),
    ]
    return RouteProblem(points=PLACES, visits=visits, workers=workers, travel={"ebike": ebike()})


def by_key(result: RoutePlanResult) -> dict[str, str]:
    return {stop.key: route.worker for route in result.routes for stop in route.stops if stop.kind == "visit"}


def test_it_plans_every_order_inside_its_window_and_the_shift() -> None:
    problem = day_problem()
    result = solve_routes(problem, seconds=0.5)
    assert result.unplanned == []
    assert result.feasible
    visits = {v.key: v for v in problem.visits}
    workers = {w.key: w for w in problem.workers}
    assert sorted(by_key(result)) == sorted(visits)
    for route in result.routes:
        worker = workers[route.worker]
        assert worker.shift_start <= route.leave
        assert route.back <= worker.shift_end
        for stop in route.stops:
            if stop.kind == "visit":
                assert visits[stop.key].tw_early <= stop.start <= visits[stop.key].tw_late
                assert stop.end == stop.start + visits[stop.key].service
            assert stop.arrive <= stop.start
    assert result.build_seconds > 0
    assert result.solve_seconds > 0


def test_it_gives_an_order_needing_a_licence_only_to_the_holder() -> None:
    result = solve_routes(day_problem(), seconds=0.5)
    assert by_key(result)["nursing"] == "wu"


def test_it_leaves_out_an_order_nobody_is_qualified_for_and_says_why() -> None:
    result = solve_routes(day_problem(nurse_present=False), seconds=0.5)
    assert "nursing" not in by_key(result)
    assert result.unplanned == [("nursing", "没有持有所需资质的在班护理员")]


def test_every_full_day_route_has_its_lunch_break_at_midday_at_the_start_place() -> None:
    problem = day_problem()
    result = solve_routes(problem, seconds=0.5)
    assert {r.worker for r in result.routes} == {"liu", "wu"}
    for route in result.routes:
        breaks = [s for s in route.stops if s.kind == "break"]
        assert len(breaks) == 1
        (lunch,) = breaks
        assert BREAK_EARLY <= lunch.start <= BREAK_LATE
        assert lunch.end - lunch.start == 3600
        assert lunch.point == next(w.point for w in problem.workers if w.key == route.worker)
        # Nothing else happens during the break.
        for stop in route.stops:
            if stop is not lunch:
                assert stop.end <= lunch.start or stop.start >= lunch.end


def test_a_half_day_shift_has_no_break_and_ends_on_time() -> None:
    problem = day_problem()
    problem.workers[0] = Worker(key="liu", point=0, shift_start=8 * H, shift_end=12 * H, mode="ebike",
                                break_seconds=3600)
    result = solve_routes(problem, seconds=0.5)
    liu = next(r for r in result.routes if r.worker == "liu")
    assert all(s.kind == "visit" for s in liu.stops)
    assert liu.back <= 12 * H


def test_an_order_outside_every_shift_is_left_out_with_the_reason() -> None:
    problem = day_problem()
    problem.visits.append(Visit("evening", 2, 19 * H, 20 * H, 30 * 60))
    result = solve_routes(problem, seconds=0.5)
    assert ("evening", "服务时段不在任何符合条件的护理员班次之内（含路程）") in result.unplanned


def test_a_supplied_matrix_changes_who_gets_the_order() -> None:
    points = [Point("near", 120.150, 30.250), Point("far", 120.170, 30.250), Point("order", 120.151, 30.250)]
    workers = [Worker(key="near", point=0, shift_start=8 * H, shift_end=17 * H, mode="m"),
               Worker(key="far", point=1, shift_start=8 * H, shift_end=17 * H, mode="m")]
    visits = [Visit("order", 2, 9 * H, 10 * H, 1800)]
    estimated = RouteProblem(points=points, visits=visits, workers=workers,
                             travel={"m": travel_matrix(points, detour_factor=1.3, speed_kmh=18)})
    assert by_key(solve_routes(estimated, seconds=0.3)) == {"order": "near"}
    # A river between "near" and the order: by road it is an hour away, "far" five minutes.
    road = [[0, 600, 3600], [600, 0, 300], [3600, 300, 0]]
    supplied = RouteProblem(points=points, visits=visits, workers=workers, travel={"m": road})
    result = solve_routes(supplied, seconds=0.3)
    assert by_key(result) == {"order": "far"}
    assert result.routes[0].travel == 600


def test_each_travel_mode_uses_its_own_times() -> None:
    points = [Point("s", 120.150, 30.250), Point("o", 120.170, 30.250)]
    walk = travel_matrix(points, detour_factor=1.3, speed_kmh=4.5)
    car = travel_matrix(points, detour_factor=1.3, speed_kmh=25)
    workers = [Worker(key="walker", point=0, shift_start=8 * H, shift_end=17 * H, mode="walk"),
               Worker(key="driver", point=0, shift_start=8 * H, shift_end=17 * H, mode="car")]
    # Start at 08:10 at the latest: only the car gets there in time.
    visits = [Visit("o", 1, 8 * H, 8 * H + 600, 1800)]
    result = solve_routes(RouteProblem(points=points, visits=visits, workers=workers,
                                       travel={"walk": walk, "car": car}), seconds=0.3)
    assert by_key(result) == {"o": "driver"}
    assert walk[0][1] > 600 >= car[0][1]


def test_capacity_splits_deliveries_between_vehicles() -> None:
    points = [Point(str(i), 120.15 + i / 1000, 30.25) for i in range(5)]
    fleet = Worker(key="fleet", point=0, shift_start=0, shift_end=24 * H, mode="m", capacity=10, count=4)
    visits = [Visit(str(i), i, 0, 24 * H, 60, demand=6) for i in range(1, 5)]
    problem = RouteProblem(points=points, visits=visits, workers=[fleet],
                           travel={"m": travel_matrix(points, detour_factor=1.0, speed_kmh=18)}, prize=None)
    result = solve_routes(problem, seconds=0.3)
    assert result.unplanned == []
    assert result.feasible
    # Two deliveries of 6 never share a vehicle of 10.
    assert sorted(len(r.stops) for r in result.routes) == [1, 1, 1, 1]


def test_the_map_fits_every_place_in_the_box() -> None:
    drawn = draw_map([MapRoute("刘护理", MapPlace(30.25, 120.15, "", "站"),
                               [MapPlace(30.253, 120.151, "1", ""), MapPlace(30.247, 120.158, "2", "")])],
                     [MapPlace(30.26, 120.14, "", "未排入")], width=400, height=300, pad=20)
    places = [drawn.routes[0].start, *drawn.routes[0].stops, *drawn.loose]
    assert all(20 <= p.x <= 380 and 20 <= p.y <= 280 for p in places)
    # North is up: the stop further north is drawn higher.
    assert drawn.routes[0].stops[0].y < drawn.routes[0].stops[1].y
    assert drawn.routes[0].path.count(",") == 4
    assert drawn.scale_label
