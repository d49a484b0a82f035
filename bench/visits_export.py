"""Benchmark: the background export of every visit of a county to xlsx (issue 6 point 5).

    .venv/bin/python bench/visits_export.py [--visits 1500000] [--keep DIR] [--reuse]
                                           [--postgres URL] [--writer]

Steps: (1) a fresh database in a temporary PINGAN_HOME (SQLite by default): migrate, then a
county of 23 towns × 20 villages, one campaign per town, 10 cadres per village, households
(one per 3 visits) and the N visits, all bulk-inserted (`pingan.core.bulk.insert_rows`; COPY
on PostgreSQL). Households carry only the masked phone the export reads (no ciphertext: the
export never decrypts), visits a realistic mix of outcomes, times over the campaign, GPS
accuracy, and an opinion on one in five (some starting with "=" or "-"); (2) the county
center asks for the export (`export_request`) and a child process runs the job as the
worker would (`export_run`), timed, its peak RSS read from `os.wait4`; (3) a child that only
starts Django, for the baseline RSS.

With `--writer`, a second child process commits one small visit every second (a copy of a
stored one under a new uuid, in its own transaction, as a sync would) from just before the
export starts until it ends, and reports how many commits it made and how long the longest
one took (from its BEGIN to the end of its COMMIT: on SQLite, the wait for the write lock).

`--postgres postgresql://USER@HOST/pingan_bench_visits` drops and recreates that database
(bench-only names; `postgres` and `test_postgres` are refused).
"""

import argparse
import datetime as dt
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from benchkit import database_of, describe, recreate_postgres, run_child

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FIRST_DAY = dt.datetime(2021, 10, 16, 8, 0, tzinfo=SHANGHAI)
TOWNS, VILLAGES_PER_TOWN, CADRES_PER_VILLAGE, VISITS_PER_HOUSEHOLD = 23, 20, 10, 3
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国红军秀英桂兰志强春梅玉兰德华海涛丽娟明"
OUTCOMES = (
    ["completed"] * 70 + ["phone"] * 10 + ["refused"] * 4 + ["not_home"] * 14 + ["vacant"] * 2
)
OPINIONS = [
    "村口路灯坏了，晚上出行不安全，希望尽快修好",
    "希望多开展防诈骗宣传，老人容易上当",
    "学校门口早晚车多，没有人疏导",
    "=满意，没有意见",
    "-无",
    "邻居宅基地边界有争议，调解过一次没有结果，希望司法所再来看看",
]


def django_env(home: Path, postgres: str | None) -> dict[str, str]:
    env = {**os.environ, "PINGAN_HOME": str(home)}
    env["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    env["PINGAN_DEBUG"] = "0"  # as in production: no per-query debug recording
    env["PINGAN_DEV_KEY_WARNED"] = "1"
    env["DJANGO_SECRET_KEY"] = "bench-only"  # noqa: S105 - a throwaway bench database
    env.pop("PINGAN_TASKS_URL", None)  # the embedded queue; the child runs the job itself
    if postgres:
        env["DATABASE_URL"] = postgres
    else:
        env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def setup(visits: int, seed: int = 2021) -> None:
    """Runs in a child: the fresh database, the county and the N visits."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from pingan.accounts.models import Person, Role, User
    from pingan.accounts.services import user_create
    from pingan.campaigns.models import Campaign
    from pingan.core.bulk import insert_rows
    from pingan.regions.models import Household, Region
    from pingan.visits.models import Visit

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    province = Region.objects.create(code="34", name="安徽省", kind="province", path="/34/")
    city = Region.objects.create(code="3416", name="亳州市", kind="city", parent=province,
                                 path="/34/3416/")  # fmt: skip
    county = Region.objects.create(code="341623", name="利辛县", kind="county", parent=city,
                                   path="/34/3416/341623/")  # fmt: skip
    towns = Region.objects.bulk_create(
        Region(
            code=f"341623{t:03d}",
            name=f"第{t}镇",
            kind="town",
            parent=county,
            path=f"{county.path}341623{t:03d}/",
        )
        for t in range(101, 101 + TOWNS)
    )
    villages = Region.objects.bulk_create(
        Region(
            code=f"{town.code}{v:03d}",
            name=f"{town.name}第{v - 200}村",
            kind="village",
            parent=town,
            path=f"{town.path}{town.code}{v:03d}/",
            sort_order=v,
        )
        for town in towns
        for v in range(201, 201 + VILLAGES_PER_TOWN)
    )
    campaigns = {
        town.pk: Campaign.objects.create(
            town=town,
            name="千家万户访平安",
            start_date=dt.date(2021, 10, 10),
            end_date=dt.date(2021, 11, 20),
        )
        for town in towns
    }
    submitters = {
        town.pk: User.objects.create(username=f"cadre-{town.code}", role=Role.CADRE, region=town)
        for town in towns
    }
    rng = random.Random(seed)
    cadres = Person.objects.bulk_create(
        Person(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            visit_village=village,
            home_village=village,
        )
        for village in villages
        for _ in range(CADRES_PER_VILLAGE)
    )
    cadres_of: dict[int, list[int]] = {}
    for cadre in cadres:
        cadres_of.setdefault(cadre.visit_village_id, []).append(cadre.pk)
    user_create(username="bench-county", role=Role.COUNTY_VIEWER, region=county, password=None)
    print(f"setup (migrate, regions, campaigns, cadres): {time.perf_counter() - started:.1f} s")

    # Values as the driver takes them: SQLite stores Django's own UTC text, PostgreSQL takes
    # aware datetimes as they are.
    sqlite = connection.vendor == "sqlite"
    db_time = connection.ops.adapt_datetimefield_value if sqlite else (lambda value: value)
    started = time.perf_counter()
    households = -(-visits // VISITS_PER_HOUSEHOLD)
    household_fields = ["created_at", "updated_at", "phone_ciphertext", "phone_digest",
                        "phone_masked", "id_number_ciphertext", "id_number_digest",
                        "id_number_masked", "village_id", "group_no", "address", "head_name",
                        "size", "tags", "status", "synthetic"]  # fmt: skip
    now = db_time(FIRST_DAY)
    with transaction.atomic():
        batch = []
        for n in range(households):
            village = villages[n * len(villages) // households]
            phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            batch.append([now, now, "", "", phone[:3] + "****" + phone[-4:], "", "", "",
                          village.pk, 1 + n % 9, f"{village.name}{n % 2000 + 1}号", name,
                          rng.randint(1, 6), "[]", "active", True])  # fmt: skip
            if len(batch) == 10_000:
                insert_rows(Household, household_fields, batch)
                batch = []
        insert_rows(Household, household_fields, batch)
    print(f"inserted {households:,} households in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    homes = list(Household.objects.order_by("pk").values_list("pk", "village_id"))
    town_of = {village.pk: village.parent_id for village in villages}
    visit_fields = ["uuid", "payload_digest", "campaign_id", "household_id", "village_id",
                    "cadre_id", "submitted_by_id", "outcome", "counts", "questionnaire_id",
                    "leaflet_handed", "opinion", "note", "started_at", "ended_at",
                    "received_at", "lat", "lng", "accuracy_m", "mock_location", "device_id",
                    "app_version"]  # fmt: skip
    campaign_minutes = 30 * 24 * 60
    with transaction.atomic():
        batch = []
        for n in range(visits):
            household_id, village_id = homes[n % len(homes)]
            town_id = town_of[village_id]
            outcome = rng.choice(OUTCOMES)
            ended = FIRST_DAY + dt.timedelta(minutes=rng.randrange(campaign_minutes))
            visit_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
            batch.append([
                visit_uuid.hex, hashlib.sha256(visit_uuid.bytes).hexdigest(),
                campaigns[town_id].pk, household_id, village_id,
                rng.choice(cadres_of[village_id]), submitters[town_id].pk, outcome,
                outcome in ("completed", "phone", "refused"), None,
                outcome == "completed", rng.choice(OPINIONS) if rng.random() < 0.2 else "", "",
                db_time(ended - dt.timedelta(minutes=rng.randint(5, 25))), db_time(ended),
                db_time(ended + dt.timedelta(minutes=rng.randint(1, 600))), None, None,
                round(rng.uniform(3, 60), 1), False, "", "",
            ])  # fmt: skip
            if len(batch) == 10_000:
                insert_rows(Visit, visit_fields, batch)
                batch = []
        insert_rows(Visit, visit_fields, batch)
    print(f"inserted {visits:,} visits in {time.perf_counter() - started:.1f} s")


def export(job_id: int) -> None:
    """Runs in a child: the queued job, as the worker runs it."""
    import django

    django.setup()
    from pingan.reports.export_services import export_run

    started = time.perf_counter()
    job = export_run(job_id=job_id)
    seconds = time.perf_counter() - started
    print(
        f"status={job.status} rows={job.row_count} seconds={seconds:.1f} "
        f"rows/s={job.row_count / seconds:,.0f} file={job.path} error={job.error!r}"
    )


def request() -> None:
    """Runs in a child: the county center asks for every visit of the county."""
    import django

    django.setup()
    from pingan.accounts.models import User
    from pingan.reports.export_services import export_request

    job = export_request(user=User.objects.get(username="bench-county"), kind="visits", params={})
    print(job.pk)


def writer(stop: str) -> None:
    """Runs in a child: one small visit committed every second until `stop` exists."""
    import statistics

    import django

    django.setup()
    from django.db import transaction

    from pingan.core import clock
    from pingan.visits.models import Visit

    template = Visit.objects.order_by("pk").first()
    assert template is not None
    waits: list[float] = []
    print("ready", flush=True)
    due = time.monotonic()
    while not os.path.exists(stop):
        visit_uuid = uuid.uuid4()
        template.pk = None
        template.uuid = visit_uuid
        template.payload_digest = hashlib.sha256(visit_uuid.bytes).hexdigest()
        template.received_at = clock.now()
        started = time.perf_counter()
        with transaction.atomic():
            template.save(force_insert=True)
        waits.append(time.perf_counter() - started)
        due += 1.0
        time.sleep(max(0.0, due - time.monotonic()))
    print(
        f"commits={len(waits)} longest={max(waits) * 1000:.0f}ms "
        f"median={statistics.median(waits) * 1000:.1f}ms "
        f"over_1s={sum(w > 1 for w in waits)}"
    )


def baseline() -> None:
    import django

    django.setup()
    from pingan.visits.models import Visit

    print(f"visits={Visit.objects.count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_500_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--postgres", help="postgresql://…/pingan_bench_visits (recreated)")
    parser.add_argument("--reuse", action="store_true", help="skip setup (with --keep)")
    parser.add_argument(
        "--writer", action="store_true", help="another process commits a visit every second"
    )
    parser.add_argument("--child", choices=["setup", "request", "export", "baseline", "writer"],
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--job", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stop", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child == "setup":
        return setup(options.visits)
    if options.child == "request":
        return request()
    if options.child == "export":
        return export(options.job)
    if options.child == "baseline":
        return baseline()
    if options.child == "writer":
        return writer(options.stop)

    work = options.keep or Path(tempfile.mkdtemp(prefix="pingan-bench-visits-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    env = django_env(home, options.postgres)
    me = [sys.executable, __file__]
    if not options.reuse:
        if options.postgres:
            recreate_postgres(options.postgres)
        else:
            for leftover in home.glob("*.sqlite3*"):
                leftover.unlink()
        wall, _, output = run_child([*me, "--child", "setup", "--visits", str(options.visits)],
                                    env)  # fmt: skip
        print(output.strip())
        print(f"setup total: {wall:.0f} s")
    describe(
        database=database_of(options.postgres, home / "pingan.sqlite3")
        + (" (reused)" if options.reuse else " (fresh, bulk-inserted by the setup child)"),
        mode="child processes: the county center's request (export_request), then the job run "
        "as the task worker runs it (export_run)",
        cache="cold process for the export; the database just written (in the OS page cache)",
        shape={
            "visits": options.visits,
            "households": -(-options.visits // VISITS_PER_HOUSEHOLD),
            "county": f"{TOWNS} towns x {VILLAGES_PER_TOWN} villages, "
            f"{CADRES_PER_VILLAGE} cadres a village",
            "concurrent writer": "one visit committed every second during the export"
            if options.writer
            else "none (add --writer)",
        },
        target="peak RSS under 500 MB; no request waits for it (the job runs in the background)",
    )

    _, rss, output = run_child([*me, "--child", "baseline"], env)
    print(f"baseline (Django started, one COUNT): peak RSS {rss} MB  | {output.strip()}")
    _, _, output = run_child([*me, "--child", "request"], env)
    job_id = int(output.strip().splitlines()[-1])
    background = None
    stop = work / "writer.stop"
    stop.unlink(missing_ok=True)
    if options.writer:
        background = subprocess.Popen(
            [*me, "--child", "writer", "--stop", str(stop)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert background.stdout is not None
        ready = background.stdout.readline()
        if ready.strip() != "ready":
            sys.exit(f"the writer did not start: {ready}{background.stdout.read()}")
    wall, rss, output = run_child([*me, "--child", "export", "--job", str(job_id)], env)
    last = output.strip().splitlines()[-1]
    files = list((home / "exports").glob(f"{job_id}-*.xlsx"))
    size = sum(p.stat().st_size for p in files)
    sheets = sum(
        name.startswith("xl/worksheets/sheet")
        for path in files
        for name in zipfile.ZipFile(path).namelist()
    )
    print(f"export (county, every visit): {wall:.1f} s wall, peak RSS {rss} MB, "
          f"{size / 1e6:.1f} MB file, {sheets} sheet(s)  | {last}")  # fmt: skip
    if background is not None:
        stop.touch()
        written, _ = background.communicate()
        stop.unlink(missing_ok=True)
        if background.returncode:
            sys.exit(f"the writer failed ({background.returncode}):\n{written}")
        print(f"writer (a visit committed every second during the export): {written.strip()}")
    if not options.keep:
        print(f"(work folder {work} left for inspection; delete it when done)")


if __name__ == "__main__":
    main()
