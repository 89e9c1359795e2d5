"""Route quality on the 56 Solomon VRPTW instances: the platform's planner against OR-Tools.

    .venv/bin/python bench/routes_solomon.py [--seconds 2] [--only C101 --only R205] [--no-ortools]
    .venv/bin/python bench/run.py --only routes

Each instance goes through sanshe.dispatch.routes.solve_routes — the very model-building code the
daily planner uses — with distance = travel time = Euclidean distance, unrounded, scaled by
SCALE to integers (rounded up, so a schedule that fits in integers fits in exact arithmetic),
up to 25 vehicles of the instance's capacity, objective total distance. The same scaled matrix
goes to the OR-Tools routing solver (parallel cheapest insertion, then guided local search) for
the same time. Every solution is then checked here in exact floating point (each customer once,
capacity, time windows, depot closing time) and its distance recomputed unscaled before it is
reported.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sanshe.dispatch.routes import Point, RouteProblem, Visit, Worker, solve_routes  # noqa: E402

DATA = Path("/work/shared/bench-data/solomon")
SCALE = 1000
MAX_VEHICLES = 25
EPSILON = 1e-6


@dataclass(slots=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    xy: list[tuple[float, float]]  # 0 = depot
    demand: list[int]
    ready: list[float]
    due: list[float]
    service: list[float]

    def dist(self, i: int, j: int) -> float:
        (x1, y1), (x2, y2) = self.xy[i], self.xy[j]
        return math.hypot(x1 - x2, y1 - y2)


def read_instance(path: Path) -> Instance:
    lines = path.read_text().splitlines()
    vehicles = capacity = 0
    rows: list[list[float]] = []
    for k, line in enumerate(lines):
        if line.strip().startswith("NUMBER"):
            vehicles, capacity = (int(v) for v in lines[k + 1].split())
        parts = line.split()
        if len(parts) == 7 and all(p.replace(".", "", 1).isdigit() for p in parts):
            rows.append([float(p) for p in parts])
    return Instance(
        name=path.stem, vehicles=vehicles, capacity=capacity, xy=[(r[1], r[2]) for r in rows],
        demand=[int(r[3]) for r in rows], ready=[r[4] for r in rows], due=[r[5] for r in rows],
        service=[r[6] for r in rows],
    )


def scaled_matrix(inst: Instance) -> list[list[int]]:
    n = len(inst.xy)
    return [[0 if i == j else math.ceil(inst.dist(i, j) * SCALE - 1e-9) for j in range(n)] for i in range(n)]


def to_problem(inst: Instance, matrix: list[list[int]]) -> RouteProblem:
    """The instance as the platform's planner input: customers are visits, the fleet one worker type."""
    points = [Point(key=str(i), x=x, y=y) for i, (x, y) in enumerate(inst.xy)]
    visits = [
        Visit(key=str(i), point=i, tw_early=round(inst.ready[i] * SCALE), tw_late=round(inst.due[i] * SCALE),
              service=round(inst.service[i] * SCALE), demand=inst.demand[i])
        for i in range(1, len(inst.xy))
    ]
    fleet = Worker(key="fleet", point=0, shift_start=round(inst.ready[0] * SCALE),
                   shift_end=round(inst.due[0] * SCALE), mode="euclid", capacity=inst.capacity,
                   count=min(MAX_VEHICLES, inst.vehicles))
    return RouteProblem(points=points, visits=visits, workers=[fleet], travel={"euclid": matrix}, prize=None)


def check(inst: Instance, routes: list[list[int]]) -> float:
    """Total unscaled distance of a solution after checking it in exact arithmetic; raises if wrong."""
    seen = [c for route in routes for c in route]
    if sorted(seen) != list(range(1, len(inst.xy))):
        raise AssertionError(f"{inst.name}: customers served {len(seen)}, distinct {len(set(seen))}")
    if len([r for r in routes if r]) > min(MAX_VEHICLES, inst.vehicles):
        raise AssertionError(f"{inst.name}: too many vehicles")
    total = 0.0
    for route in routes:
        if not route:
            continue
        if sum(inst.demand[c] for c in route) > inst.capacity:
            raise AssertionError(f"{inst.name}: capacity exceeded on {route}")
        clock, prev = inst.ready[0], 0
        for c in route:
            clock = max(clock + inst.dist(prev, c), inst.ready[c])
            if clock > inst.due[c] + EPSILON:
                raise AssertionError(f"{inst.name}: customer {c} starts {clock:.3f} after {inst.due[c]}")
            clock += inst.service[c]
            total += inst.dist(prev, c)
            prev = c
        clock += inst.dist(prev, 0)
        total += inst.dist(prev, 0)
        if clock > inst.due[0] + EPSILON:
            raise AssertionError(f"{inst.name}: back at the depot at {clock:.3f} after {inst.due[0]}")
    return total


def run_platform(inst: Instance, seconds: float) -> dict[str, Any]:
    matrix = scaled_matrix(inst)
    problem = to_problem(inst, matrix)
    plan = solve_routes(problem, seconds=seconds, seed=1)
    if plan.unplanned:
        raise AssertionError(f"{inst.name}: platform left {len(plan.unplanned)} customers out")
    routes = [[int(s.key) for s in r.stops] for r in plan.routes]
    return {"cost": check(inst, routes), "build_ms": plan.build_seconds * 1000, "solve_s": plan.solve_seconds,
            "vehicles": len(routes)}


def run_ortools(inst: Instance, seconds: float) -> dict[str, Any]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    matrix = scaled_matrix(inst)
    n = len(inst.xy)
    count = min(MAX_VEHICLES, inst.vehicles)
    manager = pywrapcp.RoutingIndexManager(n, count, 0)
    routing = pywrapcp.RoutingModel(manager)

    def dist_cb(a: int, b: int) -> int:
        return matrix[manager.IndexToNode(a)][manager.IndexToNode(b)]

    def time_cb(a: int, b: int) -> int:
        i, j = manager.IndexToNode(a), manager.IndexToNode(b)
        return round(inst.service[i] * SCALE) + matrix[i][j]

    dist_idx = routing.RegisterTransitCallback(dist_cb)
    routing.SetArcCostEvaluatorOfAllVehicles(dist_idx)
    time_idx = routing.RegisterTransitCallback(time_cb)
    horizon = round(inst.due[0] * SCALE)
    routing.AddDimension(time_idx, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for c in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(c)).SetRange(round(inst.ready[c] * SCALE), round(inst.due[c] * SCALE))
    for v in range(count):
        time_dim.CumulVar(routing.Start(v)).SetRange(0, horizon)
        time_dim.CumulVar(routing.End(v)).SetRange(0, horizon)
    demand_idx = routing.RegisterUnaryTransitCallback(lambda a: inst.demand[manager.IndexToNode(a)])
    routing.AddDimensionWithVehicleCapacity(demand_idx, 0, [inst.capacity] * count, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(round(seconds * 1000))
    started = time.perf_counter()
    solution = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    if solution is None:
        return {"cost": None, "solve_s": elapsed}
    routes = []
    for v in range(count):
        index, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return {"cost": check(inst, routes), "solve_s": elapsed}


def checked(run: Any, inst: Instance, seconds: float) -> dict[str, Any]:
    """A solver's result, or no cost (and the reason) when its solution failed the check."""
    try:
        result: dict[str, Any] = run(inst, seconds)
    except AssertionError as exc:
        print(f"  INVALID: {exc}")
        return {"cost": None, "build_ms": 0.0, "vehicles": 0, "invalid": str(exc)}
    return result


def gap(cost: float | None, best: float) -> float | None:
    return None if cost is None else (cost - best) / best * 100


def run_solomon_benchmark(seconds: float = 2.0, only: list[str] | None = None,
                          with_ortools: bool = True) -> dict[str, Any]:
    best = json.loads((DATA / "best_known.json").read_text())
    names = sorted(p.stem for p in DATA.glob("*.txt"))
    if only:
        names = [n for n in names if n in set(only)]
    print(f"{'instance':<8} {'best':>9} {'platform':>9} {'gap %':>7} {'build ms':>8} {'veh':>4}"
          f" {'OR-Tools':>9} {'gap %':>7}")
    rows = []
    for name in names:
        inst = read_instance(DATA / f"{name}.txt")
        known = best[name]["best_known_distance"]
        ours = checked(run_platform, inst, seconds)
        theirs = checked(run_ortools, inst, seconds) if with_ortools else {"cost": None}
        row = {"instance": name, "best_known": known,
               "platform": None if ours["cost"] is None else round(ours["cost"], 2),
               "platform_gap": gap(ours["cost"], known), "build_ms": round(ours["build_ms"], 1),
               "vehicles": ours["vehicles"], "ortools": None if theirs["cost"] is None else round(theirs["cost"], 2),
               "ortools_gap": gap(theirs["cost"], known)}
        rows.append(row)
        ot = f"{'—':>9} {'—':>7}" if row["ortools"] is None else f"{row['ortools']:9.2f} {row['ortools_gap']:7.2f}"
        us = f"{'—':>9} {'—':>7}" if row["platform"] is None else f"{row['platform']:9.2f} {row['platform_gap']:7.2f}"
        print(f"{name:<8} {known:9.2f} {us} {row['build_ms']:8.1f} {row['vehicles']:4d} {ot}", flush=True)
    summary: dict[str, Any] = {"instances": len(rows), "seconds": seconds, "rows": rows}
    for label, key in (("platform", "platform_gap"), ("OR-Tools", "ortools_gap")):
        gaps = [r[key] for r in rows if r[key] is not None]
        summary[f"{key}_missing"] = len(rows) - len(gaps)
        if len(gaps) < len(rows):
            print(f"{label}: {len(rows) - len(gaps)} instances without a valid solution")
        if gaps:
            summary[f"{key}_mean"] = statistics.mean(gaps)
            summary[f"{key}_median"] = statistics.median(gaps)
            print(f"{label:<9} mean gap {statistics.mean(gaps):.2f} %  median {statistics.median(gaps):.2f} %"
                  f"  ({len(gaps)} instances, all solutions checked)")
    builds = [r["build_ms"] for r in rows]
    if builds:
        summary["build_ms_median"] = statistics.median(builds)
        print(f"model build: median {statistics.median(builds):.1f} ms, max {max(builds):.1f} ms")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--only", action="append", help="instance name (repeatable)")
    parser.add_argument("--no-ortools", action="store_true")
    args = parser.parse_args()
    summary = run_solomon_benchmark(args.seconds, args.only, not args.no_ortools)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "routes_solomon.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
