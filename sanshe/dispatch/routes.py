"""The daily route planner: plain data in, a PyVRP model, routes out. No ORM here, so the Solomon
benchmark (bench/routes_solomon.py) builds its models with exactly this code.

Units are integer seconds from midnight of the service day (PyVRP wants integers); the benchmark
feeds scaled Euclidean distances through the same fields. The objective is total travel time.

How the caregivers' rules become a model:
- every caregiver is a vehicle type starting and ending at their station (or home), inside the
  shift window, with the shift length as maximum route duration;
- travel modes and qualifications are PyVRP *profiles*: a profile's edges carry the mode's travel
  times, and edges into an order needing a qualification the caregivers of that profile lack are
  prohibitive, so the solver can never give them that order;
- the lunch break is a client of its own, one per caregiver, only reachable in that caregiver's
  profile, with the break as service duration and a midday window for its start. It sits at the
  caregiver's start place: the caregiver goes back to the station (or home) to eat, and the
  travel there and back is counted like any other travel instead of pretending the break costs
  no time on the road. A caregiver whose shift does not span the midday window has no break.
- orders are optional clients with a prize far above any travel time, so the solver plans every
  order it can and leaves out only those it cannot fit; the reasons are worked out afterwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyvrp
from pyvrp.constants import MAX_VALUE
from pyvrp.stop import MaxRuntime

from sanshe.dispatch.rules import BREAK_EARLIEST, BREAK_LATEST
from sanshe.lib.geo import distance_m

# An edge the solver must never use (an unqualified caregiver's way into an order, or into another
# caregiver's break). PyVRP's own "missing edge" value.
PROHIBITIVE = MAX_VALUE
# Dropping an order costs more than a week of extra travel, so orders are left out only when no
# caregiver can fit them.
ORDER_PRIZE = 7 * 24 * 3600
# The lunch break starts between 11:00 and 13:00 unless a caregiver says otherwise.
BREAK_EARLY = BREAK_EARLIEST.hour * 3600 + BREAK_EARLIEST.minute * 60
BREAK_LATE = BREAK_LATEST.hour * 3600 + BREAK_LATEST.minute * 60
# A travel mode used for a supplied matrix: one matrix for every caregiver.
SUPPLIED = "supplied"


@dataclass(frozen=True, slots=True)
class Point:
    """A place: an order's address or a caregiver's start. x = longitude, y = latitude in
    production; plane coordinates in the benchmark."""

    key: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Visit:
    key: str
    point: int  # index into RouteProblem.points
    tw_early: int  # the visit may start from…
    tw_late: int  # …until (seconds)
    service: int  # seconds on site
    qualification: str = ""
    demand: int = 0


@dataclass(frozen=True, slots=True)
class Worker:
    """A caregiver (or, with count > 1, a fleet of identical vehicles in the benchmark)."""

    key: str
    point: int  # start and end place
    shift_start: int
    shift_end: int
    mode: str
    qualifications: frozenset[str] = frozenset()
    break_seconds: int = 0
    break_early: int = BREAK_EARLY
    break_late: int = BREAK_LATE
    capacity: int = 0
    count: int = 1

    @property
    def has_break(self) -> bool:
        """A break only when it fits inside the shift at midday."""
        return (self.break_seconds > 0 and self.shift_start <= self.break_early
                and self.break_late + self.break_seconds <= self.shift_end)


@dataclass(slots=True)
class RouteProblem:
    points: list[Point]
    visits: list[Visit]
    workers: list[Worker]
    # Travel seconds between points, per travel mode (a worker's `mode` picks its matrix).
    travel: dict[str, list[list[int]]]
    # None: every visit must be served (benchmark); else the prize for serving one.
    prize: int | None = ORDER_PRIZE


@dataclass(slots=True)
class Stop:
    kind: str  # "visit" or "break"
    key: str  # the visit's key; the worker's for a break
    point: int
    arrive: int
    start: int
    end: int
    travel: int  # seconds on the way here from the previous place


@dataclass(slots=True)
class PlannedRoute:
    worker: str
    stops: list[Stop]
    leave: int  # leaves the start place
    back: int  # back at the start place
    travel: int  # seconds, including the way back
    cost: int  # the objective's share of this route (travel in the model's units)


@dataclass(slots=True)
class RoutePlanResult:
    routes: list[PlannedRoute]
    unplanned: list[tuple[str, str]]  # (visit key, reason)
    build_seconds: float
    solve_seconds: float
    cost: int
    feasible: bool
    extras: dict[str, object] = field(default_factory=dict)


def travel_matrix(points: Sequence[Point], *, detour_factor: float, speed_kmh: float) -> list[list[int]]:
    """Seconds between every two points (lon/lat): straight line × detour ÷ speed, rounded up."""
    per_metre = detour_factor / (speed_kmh * 1000 / 3600)
    return [
        [0 if i == j else math.ceil(distance_m(a.y, a.x, b.y, b.x) * per_metre) for j, b in enumerate(points)]
        for i, a in enumerate(points)
    ]


@dataclass(slots=True)
class BuiltModel:
    data: pyvrp.ProblemData
    # For each PyVRP client index: ("visit", visit index) or ("break", worker index).
    clients: list[tuple[str, int]]
    # For each PyVRP location index: the point index.
    location_points: list[int]
    # For each PyVRP vehicle type: the worker index.
    vehicle_workers: list[int]


def _profile_key(worker: Worker, index: int) -> tuple[str, frozenset[str], int]:
    # Caregivers with a break need a profile of their own (only they reach their break).
    return worker.mode, worker.qualifications, index if worker.has_break else -1


def build_model(problem: RouteProblem) -> BuiltModel:
    """The PyVRP problem data for a day: depots, orders, breaks, profiles and vehicle types."""
    model = pyvrp.Model()
    loc_points: list[int] = []
    depots: dict[int, pyvrp.Depot] = {}
    depot_locs: dict[int, pyvrp.Location] = {}
    for worker in problem.workers:
        if worker.point not in depots:
            point = problem.points[worker.point]
            loc = model.add_location(point.x, point.y, name=point.key)
            loc_points.append(worker.point)
            depot_locs[worker.point] = loc
            depots[worker.point] = model.add_depot(loc, name=point.key)
    dims = 1 if any(v.demand for v in problem.visits) or any(w.capacity for w in problem.workers) else 0
    clients: list[tuple[str, int]] = []
    # Every client has a location of its own, so a prohibition is per client even where two
    # orders share an address.
    client_locs: list[pyvrp.Location] = []
    for index, visit in enumerate(problem.visits):
        point = problem.points[visit.point]
        loc = model.add_location(point.x, point.y, name=visit.key)
        loc_points.append(visit.point)
        client_locs.append(loc)
        model.add_client(
            loc, delivery=[visit.demand] * dims, service_duration=visit.service, tw_early=visit.tw_early,
            tw_late=visit.tw_late, required=problem.prize is None, prize=problem.prize or 0, name=visit.key,
        )
        clients.append(("visit", index))
    break_locs: dict[int, pyvrp.Location] = {}
    for index, worker in enumerate(problem.workers):
        if not worker.has_break:
            continue
        point = problem.points[worker.point]
        loc = model.add_location(point.x, point.y, name=f"break:{worker.key}")
        loc_points.append(worker.point)
        break_locs[index] = loc
        model.add_client(loc, delivery=[0] * dims, service_duration=worker.break_seconds,
                         tw_early=worker.break_early, tw_late=worker.break_late, required=True,
                         name=f"break:{worker.key}")
        clients.append(("break", index))

    locations = model.locations
    # Base edges: the first mode's travel times; profiles override only where they differ.
    modes = list(dict.fromkeys(w.mode for w in problem.workers))
    base_mode = modes[0] if modes else next(iter(problem.travel), "")
    base = problem.travel.get(base_mode, [])
    for i, frm in enumerate(locations):
        row = base[loc_points[i]]
        for j, to in enumerate(locations):
            if i != j:
                seconds = row[loc_points[j]]
                model.add_edge(frm, to, distance=seconds, duration=seconds)

    visit_loc_index = {id(loc): k for k, loc in enumerate(client_locs)}
    break_loc_owner = {id(loc): w for w, loc in break_locs.items()}
    profiles: dict[tuple[str, frozenset[str], int], pyvrp.Profile] = {}
    vehicle_workers: list[int] = []
    for index, worker in enumerate(problem.workers):
        key = _profile_key(worker, index)
        profile = profiles.get(key)
        if profile is None:
            profile = model.add_profile(name=f"{worker.mode}:{','.join(sorted(worker.qualifications))}:{key[2]}")
            profiles[key] = profile
            matrix = problem.travel[worker.mode]
            for j, to in enumerate(locations):
                owner = break_loc_owner.get(id(to))
                visit_k = visit_loc_index.get(id(to))
                barred = (owner is not None and owner != key[2]) or (
                    visit_k is not None and bool(problem.visits[visit_k].qualification)
                    and problem.visits[visit_k].qualification not in worker.qualifications
                )
                for i, frm in enumerate(locations):
                    if i == j:
                        continue
                    if barred:
                        model.add_edge(frm, to, distance=PROHIBITIVE, duration=PROHIBITIVE, profile=profile)
                    elif worker.mode != base_mode:
                        seconds = matrix[loc_points[i]][loc_points[j]]
                        model.add_edge(frm, to, distance=seconds, duration=seconds, profile=profile)
        depot = depots[worker.point]
        model.add_vehicle_type(
            num_available=worker.count, capacity=[worker.capacity or MAX_VALUE] * dims, start_depot=depot,
            end_depot=depot, tw_early=worker.shift_start, tw_late=worker.shift_end,
            shift_duration=worker.shift_end - worker.shift_start, profile=profile, name=worker.key,
        )
        vehicle_workers.append(index)
    return BuiltModel(data=model.data(), clients=clients, location_points=loc_points,
                      vehicle_workers=vehicle_workers)


def solve_routes(problem: RouteProblem, *, seconds: float, seed: int = 1) -> RoutePlanResult:
    """Plan the day: build the model, solve it for `seconds`, read the routes back."""
    started = time.perf_counter()
    built = build_model(problem)
    build_seconds = time.perf_counter() - started
    if not problem.visits:
        return RoutePlanResult(routes=[], unplanned=[], build_seconds=build_seconds, solve_seconds=0.0, cost=0,
                               feasible=True)
    started = time.perf_counter()
    result = pyvrp.solve(built.data, MaxRuntime(seconds), seed=seed, collect_stats=False, display=False)
    solve_seconds = time.perf_counter() - started
    solution = result.best
    routes: list[PlannedRoute] = []
    served: set[int] = set()
    for route in solution.routes():
        worker_index = built.vehicle_workers[route.vehicle_type()]
        worker = problem.workers[worker_index]
        matrix = problem.travel[worker.mode]
        stops: list[Stop] = []
        prev_point, prev_end = worker.point, route.start_time()
        travel_total = 0
        for activity in route.schedule():
            if not activity.is_client():
                continue
            kind, ref = built.clients[activity.idx]  # a client activity's idx counts clients only
            point = problem.visits[ref].point if kind == "visit" else problem.workers[ref].point
            leg = matrix[prev_point][point] if prev_point != point else 0
            travel_total += leg
            stops.append(Stop(kind=kind, key=problem.visits[ref].key if kind == "visit" else worker.key,
                              point=point, arrive=prev_end + leg, start=activity.start_time,
                              end=activity.end_time, travel=leg))
            if kind == "visit":
                served.add(ref)
            prev_point, prev_end = point, activity.end_time
        back_leg = matrix[prev_point][worker.point] if prev_point != worker.point else 0
        travel_total += back_leg
        routes.append(PlannedRoute(worker=worker.key, stops=stops, leave=route.start_time(), back=route.end_time(),
                                   travel=travel_total, cost=route.distance()))
    unplanned = [(v.key, unplanned_reason(problem, v)) for i, v in enumerate(problem.visits) if i not in served]
    return RoutePlanResult(routes=routes, unplanned=unplanned, build_seconds=build_seconds,
                           solve_seconds=solve_seconds, cost=solution.distance(), feasible=solution.is_feasible())


def unplanned_reason(problem: RouteProblem, visit: Visit) -> str:
    """Why the solver left an order out, in words for the provider's manager."""
    qualified = [w for w in problem.workers if not visit.qualification or visit.qualification in w.qualifications]
    if not qualified:
        return "没有持有所需资质的在班护理员"
    for worker in qualified:
        there = problem.travel[worker.mode][worker.point][visit.point]
        back = problem.travel[worker.mode][visit.point][worker.point]
        start = max(visit.tw_early, worker.shift_start + there)
        if start <= visit.tw_late and start + visit.service + back <= worker.shift_end:
            return "符合条件的护理员当天时间已排满，无法在服务时段内到达"
    return "服务时段不在任何符合条件的护理员班次之内（含路程）"
