"""Dispatch latency on PostgreSQL: a district with 5,000 caregivers spread over ~20×20 km (mixed
travel modes and qualifications), providers under contract per street, 100,000 open orders over
the coming week (about two thirds already assigned) and 20,000 confirmed visits of the last 90 days;
then `auto_assign` timed end to end for 500 urgent orders, each a real assignment that is kept
(committed), so later orders see the earlier ones on the caregivers' days.

    .venv/bin/python bench/dispatch_latency.py                 # own database sanshe_bench_dispatch
    .venv/bin/python bench/run.py --only dispatch --people 30000

Prints count, p50, p95, p99 and max in ms (target p99 < 100 ms) and the EXPLAIN of the area search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TZ = ZoneInfo("Asia/Shanghai")
CENTRE = (30.2645, 120.1415)
HALF_SIDE_M = 10_000  # a 20×20 km square around the district's centre
MODES = [("ebike", 55), ("bicycle", 15), ("walk", 10), ("car", 20)]
ITEMS = [  # code, name, category, unit, minutes, qualification, weight
    ("BD-MEAL", "助餐送餐", "meal", "meal", 20, "", 30),
    ("BD-CLEAN", "居室清洁", "cleaning", "hour", 60, "", 25),
    ("BD-SHOP", "代购代办", "shopping", "visit", 30, "", 10),
    ("BD-TALK", "精神慰藉", "companionship", "hour", 60, "", 10),
    ("BD-BATH", "上门助浴", "bath", "visit", 60, "caregiver_certificate", 15),
    ("BD-MED", "家庭病床护理", "medical", "visit", 45, "nurse_licence", 10),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def _weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def build_dispatch_world(*, caregivers: int, orders: int, history: int, seed: int) -> dict[str, Any]:
    """Providers, contracts, caregivers and orders written with COPY; returns what the timing needs."""
    from decimal import Decimal

    from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel, Role, User
    from sanshe.catalog.models import Caregiver, CaregiverQualification, Contract, ContractItem, ServiceItem
    from sanshe.core.bulk import bulk_insert_values, reserve_ids
    from sanshe.eligibility.models import Fund
    from sanshe.lib.geo import EARTH_RADIUS_M
    from sanshe.orders.models import OrderStatus, ServiceOrder
    from sanshe.people.models import Person

    rng = random.Random(seed)
    started = time.perf_counter()
    district = Region.objects.get(level=RegionLevel.DISTRICT)
    by = User.objects.filter(memberships__role=Role.DISTRICT_OFFICER).order_by("pk").first()
    if by is None:
        raise SystemExit("the bench district has no district officer")
    streets = list(Region.objects.filter(level=RegionLevel.STREET, parent=district).order_by("code"))
    fund = Fund.objects.create(district=district, code="bench_dispatch", name="派单基准资金")
    items = [ServiceItem.objects.create(district=district, code=c, name=n, category=cat, unit=u, standard_minutes=m,
                                        required_qualification=q) for c, n, cat, u, m, q, _ in ITEMS]
    weights = [spec[-1] for spec in ITEMS]
    # Three providers per street, each under contract for every item there.
    street_providers: dict[int, list[int]] = {}
    for s_index, street in enumerate(streets):
        ids = []
        for k in range(3):
            org = Organization.objects.create(name=f"{street.name}派单基准服务机构{k + 1}", kind=OrganizationKind.PROVIDER,
                                              region=district)
            contract = Contract.objects.create(
                district=district, provider=org, number=f"BD-{s_index:02d}-{k}", title=f"{street.name}居家上门服务",
                fund=fund, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2030, 12, 31), status="active",
                created_by=by)
            contract.service_area.add(street)
            ContractItem.objects.bulk_create([ContractItem(contract=contract, item=i, price=Decimal("40.00"))
                                              for i in items])
            ids.append(org.pk)
        street_providers[street.pk] = ids
    communities = list(Region.objects.filter(level=RegionLevel.COMMUNITY, parent__in=streets)
                       .values_list("pk", "parent_id"))
    people = list(Person.objects.filter(latitude__isnull=False, status="active")
                  .values_list("pk", "residence_region_id", "latitude", "longitude", "address"))
    if not people:
        raise SystemExit("the bench district has no people with coordinates")
    street_of = dict(communities)
    # Caregivers anywhere in the square; each works for a provider of the nearest person's street.
    dlat = math.degrees(HALF_SIDE_M / EARTH_RADIUS_M)
    dlon = math.degrees(HALF_SIDE_M / (EARTH_RADIUS_M * math.cos(math.radians(CENTRE[0]))))
    sample = rng.sample(people, min(len(people), 3000))
    cg_ids = reserve_ids(Caregiver, caregivers) or []
    rows, quals, by_provider = [], [], {}
    for pk in cg_ids:
        lat = CENTRE[0] + rng.uniform(-dlat, dlat)
        lon = CENTRE[1] + rng.uniform(-dlon, dlon)
        nearest = min(sample, key=lambda p: (float(p[2]) - lat) ** 2 + (float(p[3]) - lon) ** 2)
        provider = rng.choice(street_providers[street_of[nearest[1]]])
        wide = rng.random() < 0.3
        days = sorted(rng.sample(range(1, 8), rng.choice([5, 5, 6])))
        rows.append({"id": pk, "provider_id": provider, "name": f"护理员{pk}", "phone": "13800000000",
                     "home_latitude": Decimal(f"{lat:.6f}"), "home_longitude": Decimal(f"{lon:.6f}"),
                     "travel_mode": _weighted(rng, MODES), "work_days": days,
                     "shift_start": dt.time(7 if wide else 8), "shift_end": dt.time(19 if wide else 17),
                     "break_minutes": 60, "is_active": True})
        by_provider.setdefault(provider, []).append((pk, lat, lon))
        for q, share in (("caregiver_certificate", 0.5), ("nurse_licence", 0.1), ("health_certificate", 0.6)):
            if rng.random() < share:
                quals.append({"caregiver_id": pk, "qualification": q, "certificate_no": f"{q[:4]}-{pk}",
                              "expires_on": dt.date(2029, 12, 31)})
    bulk_insert_values(Caregiver, rows, with_pk=True)
    bulk_insert_values(CaregiverQualification, quals)
    # Open orders over the coming week, about two thirds already assigned or accepted to a nearby
    # caregiver of the order's provider; confirmed visits over the last 90 days for continuity.
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    order_rows = []

    def order_row(person: tuple[Any, ...], day: dt.date, status: str, assign: bool) -> dict[str, Any]:
        pk, community, lat, lon, address = person
        item_index = rng.choices(range(len(items)), weights=weights)[0]
        item = items[item_index]
        provider = rng.choice(street_providers[street_of[community]])
        start = dt.datetime(day.year, day.month, day.day, 8, tzinfo=TZ) + dt.timedelta(minutes=30 * rng.randrange(17))
        caregiver = None
        if assign:
            pool = rng.sample(by_provider[provider], min(8, len(by_provider[provider])))
            caregiver = min(pool, key=lambda c: (c[1] - float(lat)) ** 2 + (c[2] - float(lon)) ** 2)[0]
        return {"person_id": pk, "item_id": item.pk, "tier": "free", "community_id": community,
                "provider_id": provider, "caregiver_id": caregiver, "source": "care_plan", "urgent": False,
                "window_start": start, "window_end": start + dt.timedelta(hours=1), "minutes": item.standard_minutes,
                "address": address, "latitude": lat, "longitude": lon, "status": status, "assignment": {}}

    for _ in range(orders):
        roll = rng.random()
        status = OrderStatus.ASSIGNED if roll < 0.45 else OrderStatus.ACCEPTED if roll < 0.66 else OrderStatus.REQUESTED
        order_rows.append(order_row(rng.choice(people), tomorrow + dt.timedelta(days=rng.randrange(7)), status,
                                    status != OrderStatus.REQUESTED))
    for _ in range(history):
        order_rows.append(order_row(rng.choice(people), tomorrow - dt.timedelta(days=rng.randrange(2, 90)),
                                    OrderStatus.CONFIRMED, True))
    for i in range(0, len(order_rows), 20_000):
        bulk_insert_values(ServiceOrder, order_rows[i:i + 20_000])
    seconds = time.perf_counter() - started
    print(f"  built {caregivers:,} caregivers, {len(quals):,} qualifications, {len(streets) * 3} providers, "
          f"{orders:,} open orders and {history:,} past visits in {seconds:.1f} s")
    return {"people": people, "items": items, "day": tomorrow, "by": by}


def run_dispatch_benchmark(*, caregivers: int = 5000, orders: int = 100_000, history: int = 20_000,
                           urgent: int = 500, seed: int = 2026) -> dict[str, Any]:
    from django.db import connection

    from sanshe.dispatch.actions import auto_assign
    from sanshe.orders.actions import create_order
    from sanshe.orders.models import OrderSource, OrderStatus
    from sanshe.people.models import Person

    world = build_dispatch_world(caregivers=caregivers, orders=orders, history=history, seed=seed)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    rng = random.Random(seed + 1)
    day: dt.date = world["day"]
    # Urgent orders for tomorrow's working hours (a fixed day keeps the run independent of the
    # time it starts); made beforehand, only auto_assign is timed.
    people = Person.objects.in_bulk([p[0] for p in rng.sample(world["people"], urgent)])
    todo = []
    for person in people.values():
        item = rng.choices(world["items"], weights=[spec[-1] for spec in ITEMS])[0]
        start = dt.datetime(day.year, day.month, day.day, 8, tzinfo=TZ) + dt.timedelta(minutes=rng.randrange(0, 480))
        todo.append(create_order(person=person, item=item, window_start=start, window_end=start + dt.timedelta(hours=2),
                                 source=OrderSource.CALL_CENTRE, acting_user=world["by"], urgent=True))
    explain_area_search(todo[0])
    samples: list[float] = []
    outcomes = {"assigned": 0, "broadcast": 0, "none": 0}
    for order in todo:
        started = time.perf_counter()
        outcome = auto_assign(order, acting_user=world["by"])
        samples.append((time.perf_counter() - started) * 1000)
        outcomes["assigned" if outcome.assigned else "broadcast" if outcome.offers else "none"] += 1
    assigned = sum(1 for o in todo if o.__class__.objects.filter(pk=o.pk, status=OrderStatus.ASSIGNED).exists())
    row = {"what": "auto_assign, urgent orders (kept)", "n": len(samples),
           "p50_ms": round(percentile(samples, 50), 1), "p95_ms": round(percentile(samples, 95), 1),
           "p99_ms": round(percentile(samples, 99), 1), "max_ms": round(max(samples), 1), **outcomes,
           "assigned_in_db": assigned, "caregivers": caregivers, "open_orders": orders}
    print(f"  auto_assign × {row['n']}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, p99 {row['p99_ms']} ms, "
          f"max {row['max_ms']} ms (target p99 < 100 ms); {outcomes['assigned']} assigned, "
          f"{outcomes['broadcast']} broadcast, {outcomes['none']} without anyone nearby")
    return row


def explain_area_search(order: Any) -> None:
    """EXPLAIN ANALYZE every read automatic matching makes for one order (the area search, earlier
    visits nearby, qualifications, history, the day's load and bookings), to see which index each uses."""
    from django.db import connection

    from sanshe.dispatch.matching import match_order

    connection.force_debug_cursor = True
    try:
        before = len(connection.queries)
        match_order(order, explain=False)  # the path auto_assign takes
        statements = [q["sql"] for q in connection.queries[before:] if q["sql"].startswith("SELECT")]
    finally:
        connection.force_debug_cursor = False
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
            plan = [r[0] for r in cursor.fetchall()]
            print(f"  {sql[:110]}…")
            print("\n".join("      " + line[:150] for line in plan[:8]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=30_000, help="people generated in the demo district")
    parser.add_argument("--caregivers", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--urgent", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", default="sanshe_bench_dispatch")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    args.reuse = False
    from bench.run import prepare_environment, settle_database

    prepare_environment(args)
    import django

    django.setup()
    from django.core.management import call_command

    print(f"Sanshe dispatch benchmark on PostgreSQL ({args.db})")
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("generate_demo", people=args.people, seed=args.seed, force=True, assessed=0.0, no_policies=True,
                     no_services=True)
        print(f"  generated {args.people:,} people in {time.perf_counter() - started:.1f} s")
        settle_database()
        run_dispatch_benchmark(caregivers=args.caregivers, orders=args.orders, urgent=args.urgent, seed=args.seed)
    finally:
        if not args.keep:
            import subprocess

            from django.db import connections

            connections.close_all()
            subprocess.run(["psql", "-h", args.host, "-p", str(args.port), "-U", "postgres", "-q", "-d", "postgres",
                            "-c", f"DROP DATABASE IF EXISTS {args.db}"], check=False)


if __name__ == "__main__":
    main()
