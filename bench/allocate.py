"""Benchmark: 分片包干 for one 2,000-household, 60-cadre village.

    .venv/bin/python bench/allocate.py [--households 2000] [--cadres 60] [--no-db]

Part 1 times the pure algorithm (`pingan.campaigns.allocation.allocate`) in the cases that
matter: the first allocation, running again unchanged, 10 new households, a cadre leaving,
half the cadres new (the largest dynamic programme), and a share count that leaves the most
w+1 shares to place. Part 2 (unless --no-db) times `allocation_run` end to end on SQLite in a
temporary PINGAN_HOME: reading the village, the algorithm, and writing the rows.
"""

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchkit import describe  # noqa: E402

from pingan.campaigns.allocation import allocate, household_order  # noqa: E402


def village_rows(n: int, groups: int = 15) -> list[tuple[int, int, str]]:
    per = -(-n // groups)
    return [(i + 1, 1 + i // per, f"七营村{1 + i // per}组{1 + i % per}号") for i in range(n)]


def timed(label: str, runs: int, fn) -> object:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    moved = len(result.moved) if hasattr(result, "moved") else "-"
    print(f"  {label:<40} median {statistics.median(times) * 1000:8.1f} ms  "
          f"max {max(times) * 1000:8.1f} ms  moved {moved}")  # fmt: skip
    return result


def bench_algorithm(n: int, k: int) -> None:
    print(f"Algorithm, {n} households, {k} cadres:")
    rng = random.Random(2021)
    rows = village_rows(n)
    start = time.perf_counter()
    households = household_order(rows)
    print(
        f"  {'order the households (natural sort)':<40} {1000 * (time.perf_counter() - start):8.1f} ms"
    )
    cadres = list(range(10_000, 10_000 + k))
    first = timed("first allocation", 5, lambda: allocate(
        households=households, cadres=cadres, current={}, locked={}))  # fmt: skip
    current = first.assignment
    timed("running again, nothing changed", 5, lambda: allocate(
        households=households, cadres=cadres, current=current, locked={}))  # fmt: skip
    grown = household_order(
        rows + [(90_000 + i, 1 + rng.randrange(15), f"七营村{i}组{rng.randrange(200)}号之一")
                for i in range(10)]
    )  # fmt: skip
    timed("10 new households", 5, lambda: allocate(
        households=grown, cadres=cadres, current=current, locked={}))  # fmt: skip
    timed("a cadre in the middle leaves", 5, lambda: allocate(
        households=households, cadres=cadres[: k // 2] + cadres[k // 2 + 1:], current=current,
        locked={}))  # fmt: skip
    half_new = cadres[: k // 2] + list(range(20_000, 20_000 + k - k // 2))
    timed("half the cadres new", 5, lambda: allocate(
        households=households, cadres=half_new, current=current, locked={}))  # fmt: skip
    worst = households[: (n // k) * k - 1]  # k - 1 shares of w+1: the most there can be
    timed(f"half new, {len(worst) % k} shares of w+1 (worst)", 5, lambda: allocate(
        households=worst, cadres=half_new, current=current, locked={}))  # fmt: skip
    locked = {h: cadres[rng.randrange(k)] for h in rng.sample(households, n // 20)}
    timed("5% of households locked by hand", 5, lambda: allocate(
        households=households, cadres=cadres, current=current, locked=locked))  # fmt: skip


def bench_database(n: int, k: int, home: str) -> None:
    os.environ["PINGAN_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    os.environ.setdefault("PINGAN_DEV_KEY_WARNED", "1")
    import django
    from django.core.management import call_command

    django.setup()
    from pingan.accounts.models import Person
    from pingan.campaigns.models import Assignment
    from pingan.campaigns.selectors import campaign_current
    from pingan.campaigns.services.allocation import allocation_run
    from pingan.regions.models import Household, Region

    call_command("migrate", verbosity=0)
    call_command("load_seed", verbosity=0)
    village = Region.objects.get(name="七营村")
    campaign = campaign_current(town=village.parent)
    Household.objects.bulk_create(
        [Household(village=village, group_no=g, address=a, head_name="王某")
         for _, g, a in village_rows(n)], batch_size=1000,
    )  # fmt: skip
    Person.objects.bulk_create(
        [Person(name=f"干部{i:02d}", visit_village=village, home_village=village)
         for i in range(k)]
    )  # fmt: skip
    print(f"Database (SQLite in {home}), {n} households, {k} cadres:")
    for label in ("first allocation (writes every row)", "running again, nothing changed"):
        start = time.perf_counter()
        result = allocation_run(campaign=campaign, village=village, actor=None)
        print(f"  {label:<40} {1000 * (time.perf_counter() - start):8.1f} ms  "
              f"new {result.newly_assigned} moved {result.moved}")  # fmt: skip
    Household.objects.bulk_create(
        [Household(village=village, group_no=1 + i, address=f"七营村{1 + i}组{i}号之一",
                   head_name="王某") for i in range(10)]
    )  # fmt: skip
    start = time.perf_counter()
    result = allocation_run(campaign=campaign, village=village, actor=None)
    print(f"  {'10 new households':<40} {1000 * (time.perf_counter() - start):8.1f} ms  "
          f"new {result.newly_assigned} moved {result.moved}")  # fmt: skip
    print(f"  assignment rows: {Assignment.objects.count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--cadres", type=int, default=60)
    parser.add_argument("--no-db", action="store_true")
    args = parser.parse_args()
    home = None if args.no_db else tempfile.mkdtemp(prefix="pingan-bench-allocate-")
    describe(
        database="none in part 1 (the pure algorithm); part 2: "
        + ("skipped (--no-db)" if home is None else
           f"SQLite {sqlite3.sqlite_version} (WAL, as pingan sets it), a fresh file in {home}"),
        mode="in-process (the functions called in this process; no request)",
        cache="part 1: each case run 5 times in one process, median and max; part 2: each step "
        "run once, right after the village is written (cold: one run, no warm-up)",
        shape={"households": args.households, "cadres": args.cadres,
               "groups (组)": 15, "village": "七营村 of the seed town"},
        target="none named in the README or this script",
    )  # fmt: skip
    bench_algorithm(args.households, args.cadres)
    if home is not None:
        bench_database(args.households, args.cadres, home)


if __name__ == "__main__":
    main()
