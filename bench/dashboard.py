"""Benchmark: the reads behind one village's page at city scale on PostgreSQL (target < 300 ms).

    .venv/bin/pingan generate_data --scale city          # once, with DATABASE_URL set
    .venv/bin/python bench/dashboard.py [--db pingan_city] [--village CODE] [--day 2021-11-10]
                                        [--runs 7] [--no-page]

The database must hold generated data; nothing is written to it. `--village` defaults to the
largest village of the largest town. Each read is run once to warm the cache (its queries
counted with CaptureQueriesContext), then `--runs` times; the query count, median, min and
max are printed:

- `village_list_with_visit_progress` for the village, as its village admin (their scope is
  the village) and as the town center (the town's villages filtered to this one, as the
  village page looks it up), evaluated to the one row;
- `village_rates` for the village (the rates the progress pages show);
- `bulletin_figures` for the village's town (the town's bulletin: every village of it);
- unless `--no-page`, through Django's test client (in-process: no server, no socket) as the
  village admin: the village page (`GET /villages/<id>/`), the village's bulletin page and the town
  dashboard with live figures, then both again once the day's bulletin is published (in a
  transaction rolled back at the end).
"""

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchkit import describe, django_database  # noqa: E402
from bulletin import largest_town, setup  # noqa: E402


def timed(label: str, fn, runs: int, target: float = 0.3) -> float:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()  # warm, counting its queries
    # Counted now: the capture reads the connection's query log lazily, and the next request
    # through the test client empties that log (Django's request_started signal).
    queries = len(captured)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"  {label:<58} {queries:3d} queries  median {median * 1000:7.1f} ms  "
          f"(min {min(times) * 1000:.1f}, "
          f"max {max(times) * 1000:.1f})  "
          f"{'ok' if median < target else f'OVER {target * 1000:.0f} ms'}")  # fmt: skip
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="pingan_city")
    parser.add_argument("--village", help="village code (default: the largest of the largest town)")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2021, 11, 10))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-page", action="store_true")
    options = parser.parse_args()
    setup(options.db)

    from django.db.models import Count
    from django.test import Client

    from pingan.accounts.models import User
    from pingan.campaigns.selectors import campaign_current
    from pingan.core import clock
    from pingan.regions.models import Region
    from pingan.reports.figures import bulletin_figures
    from pingan.visits.selectors import (
        rate_definitions,
        village_list_with_visit_progress,
        village_rates,
    )

    if options.village:
        village = Region.objects.get(code=options.village)
    else:
        village = (
            Region.objects.filter(parent=largest_town())
            .annotate(n=Count("households"))
            .order_by("-n")
            .first()
        )
    town = village.parent
    admin = User.objects.filter(username=f"{village.code}-admin").first()
    center = User.objects.filter(username=f"{town.code}-center").first()
    if village is None or admin is None or center is None:
        sys.exit("no generated village admin / town center: run pingan generate_data first")
    campaign = campaign_current(town=town)
    definitions = rate_definitions(campaign=campaign)
    describe(
        database=django_database() + " (generated data; nothing written)",
        mode="in-process: the selectors called in this process; the pages through Django's "
        "test client (django.test.Client: no server, no socket)"
        + (" (skipped: --no-page)" if options.no_page else ""),
        cache=f"warm: each read run once untimed, then {options.runs} times (median, min, max)",
        shape={
            "village": f"{village.code} {town.name}{village.name}, "
            f"{village.households.count():,} households",
            "town": f"{town.children.count()} villages",
            "day": options.day,
            "pages": "as the village admin, at 18:00 of the day",
        },
        target="each read of one village under 300 ms; the town's (bulletin_figures, the town "
        "dashboard) under 2 s",
    )
    mine = village_list_with_visit_progress(user=admin, today=options.day)
    theirs = village_list_with_visit_progress(user=center, today=options.day).filter(pk=village.pk)
    timed(
        "village_list_with_visit_progress (village admin)", lambda: list(mine.all()), options.runs
    )
    timed("village_list_with_visit_progress (town center, pk=village)", lambda: list(theirs.all()),
          options.runs)  # fmt: skip
    timed("village_rates (the village)",
          lambda: village_rates(campaign=campaign, villages=mine.all(), definitions=definitions),
          options.runs)  # fmt: skip
    timed("bulletin_figures (the town)",
          lambda: bulletin_figures(town=town, day=options.day, campaign=campaign), options.runs,
          target=2.0)  # fmt: skip
    if not options.no_page:
        client = Client()
        client.force_login(admin)
        url = f"/villages/{village.pk}/"
        moment = dt.datetime.combine(options.day, dt.time(18), tzinfo=clock.SHANGHAI)

        def page() -> None:
            with clock.at(moment):
                response = client.get(url)
            if response.status_code != 200:
                sys.exit(f"GET {url}: {response.status_code}")

        def get(path: str) -> None:
            with clock.at(moment):
                response = client.get(path)
            if response.status_code != 200:
                sys.exit(f"GET {path}: {response.status_code}")

        for label, path in (
            ("village page", url),
            ("village bulletin page, live", f"/villages/{village.pk}/bulletin/?date={options.day}"),
            ("town dashboard, live", f"/towns/{town.pk}/bulletin/?date={options.day}"),
        ):
            # the town dashboard counts the whole town: its target is the bulletin's (2 s)
            target = 2.0 if "town" in label else 0.3
            timed(f"GET {label}", lambda p=path: get(p), options.runs, target=target)
        # The same pages once the day's bulletin is published (frozen figures), inside a
        # transaction rolled back at the end: the benchmark leaves the database as it was.
        from django.db import transaction

        from pingan.reports.services import bulletin_publish

        with transaction.atomic():
            bulletin_publish(town=town, day=options.day, now=moment)
            for label, path in (
                ("village bulletin page, published", f"/villages/{village.pk}/bulletin/?date={options.day}"),
                ("town dashboard, published", f"/towns/{town.pk}/bulletin/?date={options.day}"),
            ):  # fmt: skip
                timed(f"GET {label}", lambda p=path: get(p), options.runs)
            transaction.set_rollback(True)


if __name__ == "__main__":
    main()
