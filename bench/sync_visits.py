"""Benchmark: `POST /api/v1/visits/sync` in batches of 200, against PostgreSQL (issue 4).

    .venv/bin/python bench/sync_visits.py [--db pingan_bench_sync] [--batches 30]

It drops and recreates the named PostgreSQL database on 127.0.0.1:5432 (bench-only names:
`postgres` and `test_postgres` are refused), migrates, loads the seed town, generates the
synthetic roster and cadres, allocates every village (分片包干), gives each cadre a login and a
bearer token, and builds batches of 200 realistic visits per cadre (their own households;
completed visits with the full questionnaire and a few negative answers, some not_home and
refusals). It then posts the batches through Django's test client (the whole request path:
JSON parsing, bearer auth, per-item validation, the service, the database) and reports
visits per second for first submissions and for a full replay of the same batches.
Target: at least 500 visits/s for first submissions.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def setup_database(name: str) -> str:
    if name in {"postgres", "test_postgres"}:
        sys.exit("refusing to use a shared database name; give a bench-only one")
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@127.0.0.1:5432/{name}"


SAFETY = ["安全"] * 6 + ["比较安全"] * 3 + ["不太安全", "说不清"]
SATISFACTION = ["满意"] * 6 + ["比较满意"] * 3 + ["不太满意", "说不清"]


def visit_item(rng: random.Random, household_id: int, questionnaire_id: int, day: int) -> dict:
    date = dt.date(2021, 10, 16) + dt.timedelta(days=day)
    start = f"{date}T{9 + rng.randrange(8):02d}:{rng.randrange(60):02d}:00+08:00"
    outcome = rng.choices(["completed", "phone", "not_home", "refused"], [80, 8, 10, 2])[0]
    item = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "household_id": household_id,
        "outcome": outcome,
        "started_at": start,
        "ended_at": start.replace(":00+08:00", ":59+08:00"),
        "leaflet_handed": outcome != "not_home",
        "lat": f"{33.1 + rng.random() / 10:.6f}",
        "lng": f"{116.1 + rng.random() / 10:.6f}",
        "accuracy_m": round(rng.uniform(3, 40), 1),
        "mock_location": False,
        "device_id": f"bench-{household_id % 97}",
        "app_version": "1.0.0",
    }
    if outcome in ("completed", "phone"):
        item["questionnaire_id"] = questionnaire_id
        safety = rng.choice(SAFETY)
        answers = [
            {"question": "safety", "options": [safety], "answer_ms": rng.randrange(2000, 9000)}
        ]
        if safety == "不太安全":
            answers.append({"question": "safety_reason", "options": ["盗窃/入室盗窃"]})
        answers += [
            {"question": "trend", "options": [rng.choice(["变好了", "没什么变化"])]},
            {"question": "night", "options": [rng.choice(["不担心", "不太担心"])]},
            {"question": "nearby", "options": ["都没有"]},
        ]
        answers += [
            {"question": key, "options": [rng.choice(SATISFACTION)]}
            for key in ("sweep", "police", "court", "procuratorate", "justice", "pingan")
        ]
        answers += [
            {"question": "disputes", "options": ["能"]},
            {"question": "aware", "options": [rng.choice(["知道", "知道", "不知道"])]},
            {"question": "participate", "options": [rng.choice(["参加过", "没参加过"])]},
            {"question": "antifraud", "options": ["了解"]},
        ]
        item["answers"] = answers
    return item


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="pingan_bench_sync")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="also run with this many processes")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = setup_database(args.db)
    os.environ.setdefault("PINGAN_HOME", tempfile.mkdtemp(prefix="pingan-bench-sync-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    os.environ["PINGAN_DEV_KEY_WARNED"] = "1"
    os.environ["PINGAN_DEBUG"] = "0"  # as in production: no per-query debug recording
    import django

    django.setup()
    from django.core.management import call_command

    from pingan.accounts.models import Person, Role, User
    from pingan.accounts.services import api_token_create, user_create
    from pingan.campaigns.models import Assignment
    from pingan.campaigns.selectors import campaign_current
    from pingan.campaigns.services.allocation import allocation_run_town
    from pingan.campaigns.services.seed import seed_load
    from pingan.demo.town import synthetic_town_generate

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    town = seed_load().town
    synthetic_town_generate(town=town)
    campaign = campaign_current(town=town)
    allocation_run_town(campaign=campaign, actor=None)
    print(f"setup (migrate, seed, roster, allocation): {time.perf_counter() - t0:.1f} s")

    # The imported cadres hold one-time passwords; as if each had set their own already.
    User.objects.filter(role=Role.CADRE).update(must_change_password=False)
    rng = random.Random(2021)
    cadres = list(Person.objects.filter(active=True, visit_village__parent=town))
    tokens: dict[int, str] = {}
    households: dict[int, list[int]] = {}
    for person in cadres:
        mine = list(
            Assignment.objects.filter(
                campaign=campaign, cadre=person, ended_at__isnull=True
            ).values_list("household_id", flat=True)
        )
        if not mine:
            continue
        if person.user is None:
            person.user = user_create(username=f"bench-{person.pk}", role=Role.CADRE,
                                      region=person.visit_village, password=None)  # fmt: skip
            person.save(update_fields=["user"])
        tokens[person.pk] = api_token_create(user=person.user)[0]
        households[person.pk] = mine
    people = sorted(tokens)
    batches = []
    for n in range(args.batches):
        person = people[n % len(people)]
        items = [
            visit_item(rng, rng.choice(households[person]), campaign.questionnaire_id, n % 20)
            for _ in range(200)
        ]
        batches.append((tokens[person], {"visits": items}))

    for workers in sorted({1, args.workers}):
        for label in ("first submission", "replay (all duplicates)"):
            run(batches, workers, label)
        # Fresh visits for the next worker count (a replay of these would all be duplicates).
        batches = [
            (token, {"visits": [dict(item, uuid=str(uuid.UUID(int=rng.getrandbits(128))))
                                for item in body["visits"]]})
            for token, body in batches
        ]  # fmt: skip


def post_all(batches: list) -> dict[str, int]:
    """Post batches through the whole Django request path; returns the summed statuses."""
    from django.db import connection
    from django.test import Client

    connection.close()  # a forked worker opens its own connection
    client = Client()
    statuses: dict[str, int] = {}
    for token, body in batches:
        response = client.post("/api/v1/visits/sync", body, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.content[:500]!r}")
        for key, value in response.json()["summary"].items():
            statuses[key] = statuses.get(key, 0) + value
    return statuses


def run(batches: list, workers: int, label: str) -> None:
    """`workers` processes (like app-server processes) share the batches and post at once."""
    import multiprocessing

    from django.db import connection

    connection.close()
    shares = [batches[i::workers] for i in range(workers)]
    start = time.perf_counter()
    if workers == 1:
        results = [post_all(shares[0])]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(post_all, shares)
    elapsed = time.perf_counter() - start
    statuses: dict[str, int] = {}
    for result in results:
        for key, value in result.items():
            statuses[key] = statuses.get(key, 0) + value
    total = sum(len(body["visits"]) for _, body in batches)
    print(f"{workers} worker(s), {label}: {total} visits in {elapsed:.2f} s = "
          f"{total / elapsed:.0f} visits/s {statuses}")  # fmt: skip


if __name__ == "__main__":
    main()
