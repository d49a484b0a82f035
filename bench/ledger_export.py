"""Benchmark: the ledger workbook (台账导出) and the daily report over N problems (issue 5).

    .venv/bin/python bench/ledger_export.py [--problems 150000] [--keep DIR] [--postgres URL]

Steps: (1) a fresh database in a temporary PINGAN_HOME (SQLite by default): migrate, the seed
town, its synthetic roster and cadres, one town admin; (2) N problems bulk-inserted
(`pingan.core.bulk.insert_rows`) over the 16 villages and their households, in every state
(reported 10%, accepted 5%, rejected 5%, dispatched 35%, handled 15%, closed 30%), each with
its history events (report, accept, dispatch, handle, feedback as its state implies) and some
reminders (ProblemAlert remind and manual 催办 events); (3) each export in a child process,
timed, its peak RSS read from `os.wait4`:
- the town admin's web export (`problem_list_filtered` → `ledger_xlsx_write`, all problems);
- `pingan export_ledger --date 2021-11-15` (the first report: every problem of the town);
- a child that only starts Django, for the baseline RSS.

`--postgres postgresql://USER@HOST/pingan_bench_ledger` drops and recreates that database
(bench-only names; `postgres` and `test_postgres` are refused).
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from benchkit import database_of, describe, recreate_postgres, run_child

ROOT = Path(__file__).resolve().parent.parent
PINGAN = str(Path(sys.executable).parent / "pingan")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
EXPORT_AT = dt.datetime(2021, 11, 10, 9, 0, tzinfo=SHANGHAI)
CATEGORIES = ["治安防范", "矛盾纠纷", "道路交通", "环境卫生", "电信诈骗", "基础设施", ""]
DESCRIPTIONS = [
    "村口路灯坏了，晚上出行不安全，希望尽快修好",
    "邻居宅基地边界有争议，调解过一次没有结果",
    "学校门口早晚车多，没有人疏导，孩子过马路危险",
    "最近有陌生人打电话自称客服要转账，老人不懂怕上当",
    "雨后村道积水严重，电动车经常滑倒",
    "夜里常有大货车超速经过村庄",
]
STATES = (
    ["reported"] * 10
    + ["accepted"] * 5
    + ["rejected"] * 5
    + ["dispatched"] * 35
    + ["handled"] * 15
    + ["closed"] * 30
)


def django_env(home: Path, postgres: str | None) -> dict[str, str]:
    env = {**os.environ, "PINGAN_HOME": str(home)}
    env["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    env["PINGAN_DEBUG"] = "0"  # as in production: no per-query debug recording
    env["PINGAN_DEV_KEY_WARNED"] = "1"
    env["DJANGO_SECRET_KEY"] = "bench-only"  # noqa: S105 - a throwaway bench database
    if postgres:
        env["DATABASE_URL"] = postgres
    else:
        env.pop("DATABASE_URL", None)
    return env


def setup(problems: int, seed: int = 2021) -> None:
    """Runs in a child: the fresh database and the N problems."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from pingan.accounts.models import Person, Role, Unit
    from pingan.accounts.services import user_create
    from pingan.campaigns.selectors import campaign_current
    from pingan.campaigns.services.seed import seed_load
    from pingan.core.bulk import insert_rows
    from pingan.demo.town import synthetic_town_generate
    from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent
    from pingan.regions.models import Household, Region

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    town = seed_load().town
    synthetic_town_generate(town=town)
    campaign = campaign_current(town=town)
    assert campaign is not None
    user_create(username="bench-town", role=Role.TOWN_ADMIN, region=town, password=None)
    print(f"setup (migrate, seed, roster, cadres): {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    rng = random.Random(seed)
    villages = list(Region.objects.filter(parent=town).order_by("path"))
    households = {
        v.pk: list(Household.objects.filter(village=v).values_list("pk", flat=True))
        for v in villages
    }
    cadres = {
        v.pk: list(Person.objects.filter(visit_village=v).values_list("pk", flat=True))
        for v in villages
    }
    units = list(Unit.objects.filter(region=town).values_list("pk", flat=True))
    first_day = dt.datetime(2021, 10, 16, 8, 0, tzinfo=SHANGHAI)
    fields = [f.attname for f in Problem._meta.concrete_fields if f.attname != "id"]
    rows, plan = [], []
    for n in range(problems):
        village = villages[n * len(villages) // problems]
        state = rng.choice(STATES)
        reported = first_day + dt.timedelta(minutes=n * 30 * 24 * 60 // problems)
        step = dt.timedelta(hours=rng.randint(1, 72))
        dispatched = state in ("dispatched", "handled", "closed")
        values = {f.attname: f.get_default() for f in Problem._meta.concrete_fields}
        values.update(
            code=f"{town.code}-2021-{n + 1:06d}",
            campaign_id=campaign.pk,
            village_id=village.pk,
            household_id=rng.choice(households[village.pk]),
            source=rng.choice(["visit", "survey", "manual"]),
            category=rng.choice(CATEGORIES),
            description=rng.choice(DESCRIPTIONS),
            cadre_id=rng.choice(cadres[village.pk]) if cadres[village.pk] else None,
            status=state,
            reported_at=reported,
            created_at=reported,
            updated_at=reported,
            redo_count=0,
            version=1,
        )
        if dispatched:
            values.update(
                unit_id=rng.choice(units),
                severity=rng.choice(["general", "general", "complex"]),
                dispatched_at=reported + step,
                deadline=reported + step + dt.timedelta(days=14),
            )
        if state in ("handled", "closed"):
            values.update(result="已处理，已向群众说明", handled_at=reported + 2 * step)
        if state == "closed":
            values.update(verdict="satisfied", feedback_at=reported + 3 * step,
                          closed_at=reported + 3 * step)  # fmt: skip
        rows.append([values[name] for name in fields])
        plan.append((state, reported, step, values.get("deadline")))
    with transaction.atomic():
        for start in range(0, len(rows), 10_000):
            insert_rows(Problem, fields, rows[start : start + 10_000])
    ids = list(Problem.objects.order_by("code").values_list("pk", flat=True))
    histories = {
        "reported": [("report", "", "reported")],
        "accepted": [("report", "", "reported"), ("accept", "reported", "accepted")],
        "rejected": [("report", "", "reported"), ("reject", "reported", "rejected")],
    }
    dispatch_path = [*histories["accepted"], ("dispatch", "accepted", "dispatched")]
    histories["dispatched"] = dispatch_path
    histories["handled"] = [*dispatch_path, ("handle", "dispatched", "handled")]
    histories["closed"] = [*histories["handled"], ("feedback", "handled", "closed")]
    event_fields = ["problem_id", "action", "from_status", "to_status", "actor_id", "note",
                    "data", "at"]  # fmt: skip
    events, alerts = [], []
    for pk, (state, reported, step, deadline) in zip(ids, plan, strict=True):
        for k, (action, source, target) in enumerate(histories[state]):
            events.append([pk, action, source, target, None, "", "{}", reported + k * step])
        if deadline is not None and rng.random() < 0.3:
            alerts.append([pk, "remind", deadline, deadline - dt.timedelta(days=1)])
        if deadline is not None and rng.random() < 0.1:
            events.append([pk, "remind", "dispatched", "dispatched", None, "请抓紧", "{}",
                           deadline - dt.timedelta(days=2)])  # fmt: skip
    with transaction.atomic():
        for start in range(0, len(events), 10_000):
            insert_rows(ProblemEvent, event_fields, events[start : start + 10_000])
        insert_rows(ProblemAlert, ["problem_id", "kind", "deadline", "at"], alerts)
    print(
        f"inserted {len(rows):,} problems, {len(events):,} events, {len(alerts):,} reminders "
        f"in {time.perf_counter() - started:.1f} s"
    )


def export_web(out: str) -> None:
    """Runs in a child: the town admin's export as the web view does it, minus HTTP."""
    import django

    django.setup()
    from pingan.accounts.models import User
    from pingan.ledger.exports import ledger_title, ledger_xlsx_write
    from pingan.ledger.selectors import ProblemFilters, problem_list_filtered

    user = User.objects.get(username="bench-town")
    started = time.perf_counter()
    problems = problem_list_filtered(user=user, filters=ProblemFilters(), now=EXPORT_AT)
    with open(out, "wb") as handle:
        rows = ledger_xlsx_write(
            problems=problems,
            out=handle,
            title=ledger_title(place=user.region.name, now=EXPORT_AT),
            now=EXPORT_AT,
        )
    print(f"rows={rows} seconds={time.perf_counter() - started:.2f}")


def baseline() -> None:
    import django

    django.setup()
    from pingan.ledger.models import Problem

    print(f"problems={Problem.objects.count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=150_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--postgres", help="postgresql://…/pingan_bench_ledger (recreated)")
    parser.add_argument("--child", choices=["setup", "web", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child == "setup":
        return setup(options.problems)
    if options.child == "web":
        return export_web(options.out)
    if options.child == "baseline":
        return baseline()

    work = options.keep or Path(tempfile.mkdtemp(prefix="pingan-bench-ledger-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    env = django_env(home, options.postgres)
    if options.postgres:
        recreate_postgres(options.postgres)
    else:
        for leftover in home.glob("pingan.sqlite3*"):
            leftover.unlink()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    me = [sys.executable, __file__]
    _, _, output = run_child([*me, "--child", "setup", "--problems", str(options.problems)], env)
    print(output.strip())
    describe(
        database=database_of(options.postgres, home / "pingan.sqlite3")
        + " (fresh: the seed town, its synthetic roster and cadres, the problems)",
        mode="child processes: the web export's two calls (problem_list_filtered, then "
        "ledger_xlsx_write) in a child without HTTP, then `pingan export_ledger`",
        cache="cold process each export; the database just written (in the OS page cache)",
        shape={
            "problems": options.problems,
            "states": "reported 10%, accepted 5%, rejected 5%, dispatched 35%, handled 15%, "
            "closed 30%",
            "villages": 16,
            "events and reminders": "as printed above",
        },
        target="none named in the README or this script",
    )

    _, rss, output = run_child([*me, "--child", "baseline"], env)
    print(f"baseline (Django started, one COUNT): peak RSS {rss} MB  | {output.strip()}")
    out = work / "ledger.xlsx"
    wall, rss, output = run_child([*me, "--child", "web", "--out", str(out)], env)
    print(
        f"web export (town admin, all problems): {wall:.1f} s wall, peak RSS {rss} MB, "
        f"{out.stat().st_size / 1e6:.1f} MB file  | {output.strip()}"
    )
    reports = work / "reports"
    wall, rss, output = run_child(
        [PINGAN, "export_ledger", "--date", "2021-11-15", "--output", str(reports)], env
    )
    print(f"export_ledger (first report, every problem): {wall:.1f} s wall, peak RSS {rss} MB")
    print("    " + output.strip().replace("\n", "\n    "))
    if not options.keep:
        print(f"(work folder {work} left for inspection; delete it when done)")


if __name__ == "__main__":
    main()
