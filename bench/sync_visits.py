"""Benchmark: `POST /api/v1/visits/sync` in batches of 200, on PostgreSQL, through Django's
in-process test client (issue 4).

    .venv/bin/python bench/sync_visits.py [--db pingan_bench_sync] [--batches 30] [--workers 2]

It drops and recreates the named PostgreSQL database on 127.0.0.1:5432 (bench-only names:
`postgres` and `test_postgres` are refused), migrates, loads the seed town (汝集镇) and its
synthetic roster and cadres, then keeps one cadre per village active and allocates (分片包干):
each of the 16 cadres holds a whole village (several hundred households), so that one
cadre's batch can hold 200 different households. (A batch of 200 is the API's limit; the demo's cadres hold
~25 households and sync a few visits a day.)

Each batch is one cadre's next 200 visits, all of different households of their own: first
the households whose visit in the cadre's previous batch was not_home (85% of them are tried
again, as the demo does, with the demo's revisit outcomes), then the next households in the
cadre's list (the demo's first-visit outcomes: completed 83%, phone 4.5%, not_home 9.5%,
refused 1.5%, vacant 1.5%). A batch is dated over four days, each after the cadre's previous
batch, so a second visit always comes on a later day than the not_home one. Completed and
phone visits carry the questionnaire (14 answers, 15 when the resident feels unsafe; a few
negative ones raise problems, as the ledger's follow-up files them).
Batches go round the 16 cadres; a cadre whose households cannot fill another 200 drops out.

The batches are posted with Django's test client (`django.test.Client`): in this process,
no server and no socket, but the rest of the request path (middleware, bearer token, JSON
parsing, per-item validation, the service and the ledger's follow-up, PostgreSQL). For each
worker count (1, then `--workers` forked processes at once, each posting its cadres'
batches), it reports visits per second for the first submission and for a replay of the same
batches (all duplicates). Before the next worker count the visits and what they raised are
deleted (TRUNCATE), and the same batches are posted again with new uuids: every worker count
starts from the same state. Target: at least 500 visits/s for first submissions.
"""

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
import warnings
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchkit import SHARED_DATABASES, describe, django_database, recreate_postgres  # noqa: E402

BATCH = 200
DAYS_PER_BATCH = 4
REVISIT_SHARE = 0.85  # of not_home visits tried again, as in pingan.demo.generate.activity
FIRST_OUTCOMES = {"completed": 830, "phone": 45, "not_home": 95, "refused": 15, "vacant": 15}
REVISIT_OUTCOMES = {"completed": 750, "phone": 120, "not_home": 120, "refused": 10}
MINUTES = {"completed": (9, 22), "phone": (3, 8), "refused": (1, 4), "not_home": (1, 3),
           "vacant": (1, 3)}  # fmt: skip
SAFETY = ["安全"] * 6 + ["比较安全"] * 3 + ["不太安全", "说不清"]
SATISFACTION = ["满意"] * 6 + ["比较满意"] * 3 + ["不太满意", "说不清"]
TZ = dt.timezone(dt.timedelta(hours=8))


def answers(rng: random.Random) -> list[dict]:
    safety = rng.choice(SAFETY)
    items = [{"question": "safety", "options": [safety], "answer_ms": rng.randrange(2000, 9000)}]
    if safety == "不太安全":
        items.append({"question": "safety_reason", "options": ["盗窃/入室盗窃"]})
    items += [
        {"question": "trend", "options": [rng.choice(["变好了", "没什么变化"])]},
        {"question": "night", "options": [rng.choice(["不担心", "不太担心"])]},
        {"question": "nearby", "options": ["都没有"]},
    ]
    items += [
        {"question": key, "options": [rng.choice(SATISFACTION)]}
        for key in ("sweep", "police", "court", "procuratorate", "justice", "pingan")
    ]
    items += [
        {"question": "disputes", "options": ["能"]},
        {"question": "aware", "options": [rng.choice(["知道", "知道", "不知道"])]},
        {"question": "participate", "options": [rng.choice(["参加过", "没参加过"])]},
        {"question": "antifraud", "options": ["了解"]},
    ]
    return items


def visit_item(
    rng: random.Random, household_id: int, outcome: str, start: dt.datetime, questionnaire: int
) -> dict:
    ended = start + dt.timedelta(minutes=rng.randint(*MINUTES[outcome]))
    item = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "household_id": household_id,
        "outcome": outcome,
        "started_at": start.isoformat(),
        "ended_at": ended.isoformat(),
        "leaflet_handed": outcome in ("completed", "refused"),
        "lat": f"{33.1 + rng.random() / 10:.6f}",
        "lng": f"{116.1 + rng.random() / 10:.6f}",
        "accuracy_m": round(rng.uniform(3, 40), 1),
        "mock_location": False,
        "device_id": f"bench-{household_id % 97}",
        "app_version": "1.0.0",
    }
    if outcome in ("completed", "phone"):
        item["questionnaire_id"] = questionnaire
        item["answers"] = answers(rng)
    return item


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


class Cadre:
    """One cadre's visits in order: each batch first retries the not_home households of the
    previous batch (on later days), then takes the next households of the list."""

    def __init__(self, rng: random.Random, token: str, households: list[int]) -> None:
        self.rng, self.token, self.queue = rng, token, deque(households)
        self.retry: list[int] = []
        self.batches = 0
        self.revisits = 0

    def next_batch(self, first_day: dt.date, questionnaire: int) -> list[dict] | None:
        rng = self.rng
        if len(self.retry) + len(self.queue) < BATCH:
            return None
        plan = [(household, pick(rng, REVISIT_OUTCOMES)) for household in self.retry]
        while len(plan) < BATCH:
            plan.append((self.queue.popleft(), pick(rng, FIRST_OUTCOMES)))
        assert len({h for h, _ in plan}) == BATCH  # no household twice in a batch
        self.revisits += len(self.retry)
        self.retry = [h for h, o in plan if o == "not_home" and rng.random() < REVISIT_SHARE]
        day0 = first_day + dt.timedelta(days=DAYS_PER_BATCH * self.batches)
        self.batches += 1
        items, minute, day = [], 0, -1
        for n, (household, outcome) in enumerate(plan):
            if n * DAYS_PER_BATCH // BATCH != day:
                day, minute = n * DAYS_PER_BATCH // BATCH, 8 * 60 + rng.randrange(60)
            start = dt.datetime.combine(day0 + dt.timedelta(days=day), dt.time(), tzinfo=TZ)
            items.append(visit_item(rng, household, outcome,
                                    start + dt.timedelta(minutes=minute), questionnaire))  # fmt: skip
            minute += rng.randint(3, 8)
        return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="pingan_bench_sync")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="also run with this many processes")
    args = parser.parse_args()
    if args.db in SHARED_DATABASES:
        sys.exit("refusing to use a shared database name; give a bench-only one")

    url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    recreate_postgres(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PINGAN_HOME", tempfile.mkdtemp(prefix="pingan-bench-sync-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    os.environ["PINGAN_DEV_KEY_WARNED"] = "1"
    os.environ["PINGAN_DEBUG"] = "0"  # as in production: no per-query debug recording
    # No collected static files in the throwaway PINGAN_HOME: WhiteNoise's warning is noise.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.core.management import call_command

    from pingan.accounts.models import Person, Role, User
    from pingan.accounts.services import api_token_create, user_create
    from pingan.campaigns.models import Assignment, Phase
    from pingan.campaigns.selectors import campaign_current
    from pingan.campaigns.services.allocation import allocation_run_town
    from pingan.campaigns.services.seed import seed_load
    from pingan.demo.town import synthetic_town_generate
    from pingan.regions.models import Household

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    town = seed_load().town
    synthetic_town_generate(town=town)
    campaign = campaign_current(town=town)
    # One cadre per village, so that a cadre's batch can hold 200 different households.
    keep = {}
    for person in Person.objects.filter(active=True, visit_village__parent=town).order_by("pk"):
        keep.setdefault(person.visit_village_id, person.pk)
    Person.objects.filter(visit_village__parent=town).exclude(pk__in=keep.values()).update(
        active=False
    )
    allocation_run_town(campaign=campaign, actor=None)
    print(f"setup (migrate, seed, roster, allocation): {time.perf_counter() - t0:.1f} s")

    # The imported cadres hold one-time passwords; as if each had set their own already.
    User.objects.filter(role=Role.CADRE).update(must_change_password=False)
    rng = random.Random(2021)
    first_day = campaign.phases.get(kind=Phase.Kind.VISITING).start_date
    cadres = []
    for person in Person.objects.filter(pk__in=keep.values()).order_by("visit_village__sort_order"):
        mine = list(
            Assignment.objects.filter(campaign=campaign, cadre=person, ended_at__isnull=True)
            .order_by("household__group_no", "household__address", "household_id")
            .values_list("household_id", flat=True)
        )
        if person.user is None:
            person.user = user_create(username=f"bench-{person.pk}", role=Role.CADRE,
                                      region=person.visit_village, password=None)  # fmt: skip
            person.save(update_fields=["user"])
        cadres.append(Cadre(rng, api_token_create(user=person.user)[0], mine))
    # Batches round the cadres; a cadre whose households cannot fill another batch drops out.
    batches: list[tuple[int, str, dict]] = []
    active = list(range(len(cadres)))
    while len(batches) < args.batches and active:
        for k in list(active):
            items = cadres[k].next_batch(first_day, campaign.questionnaire_id)
            if items is None:
                active.remove(k)
                continue
            batches.append((k, cadres[k].token, {"visits": items}))
            if len(batches) == args.batches:
                break
    if len(batches) < args.batches:
        sys.exit(f"the seed town's cadres can fill only {len(batches)} batches of {BATCH}")
    households = {item["household_id"] for _, _, body in batches for item in body["visits"]}
    outcomes: dict[str, int] = {}
    for _, _, body in batches:
        for item in body["visits"]:
            outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
    revisits = sum(len(body["visits"]) for _, _, body in batches) - len(households)
    days = [item["started_at"][:10] for _, _, body in batches for item in body["visits"]]
    used = sorted({k for k, _, _ in batches})
    describe(
        database=django_database() + " (fresh)",
        mode="in-process: Django's test client (django.test.Client), no server, no socket; "
        f"1 process, then {args.workers} forked processes posting at once",
        cache="the database set up just before (in memory); no warm-up request: the first "
        "batch timed is the process's first request; later runs reuse the warmed process",
        shape={
            "town": f"{town.name}, {Household.objects.filter(village__parent=town).count():,} "
            f"households, {len(keep)} villages, one active cadre per village",
            "batches": f"{len(batches)} of {BATCH} visits from {len(used)} cadres "
            f"(one cadre each, no household twice in a batch)",
            "visits": f"{len(households) + revisits:,} of {len(households):,} households "
            f"({revisits} revisits after not_home, each in the cadre's next batch)",
            "outcomes": ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())),
            "dated": f"{min(days)} to {max(days)}, {DAYS_PER_BATCH} days a batch",
        },
        target="at least 500 visits/s for first submissions (issue 4)",
    )

    for workers in sorted({1, args.workers}):
        for label in ("first submission", "replay (all duplicates)"):
            run(batches, workers, label)
        # The next worker count starts from the same state: no visits yet, new uuids.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE visits_answer, ledger_problemevent, ledger_problemalert, "
                "ledger_problem, visits_visit"
            )
        batches = [
            (k, token, {"visits": [dict(item, uuid=str(uuid.UUID(int=rng.getrandbits(128))))
                                   for item in body["visits"]]})
            for k, token, body in batches
        ]  # fmt: skip


def post_all(batches: list) -> dict[str, int]:
    """Post batches through Django's test client; returns the summed statuses."""
    from django.db import connection
    from django.test import Client

    connection.close()  # a forked worker opens its own connection
    client = Client()
    statuses: dict[str, int] = {}
    for _, token, body in batches:
        response = client.post("/api/v1/visits/sync", body, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.content[:500]!r}")
        for key, value in response.json()["summary"].items():
            statuses[key] = statuses.get(key, 0) + value
    return statuses


def run(batches: list, workers: int, label: str) -> None:
    """`workers` forked processes post at once, each the batches of its own cadres, in order
    (a cadre's batches never race each other)."""
    import multiprocessing

    from django.db import connection

    connection.close()
    shares = [[b for b in batches if b[0] % workers == i] for i in range(workers)]
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
    total = sum(len(body["visits"]) for _, _, body in batches)
    split = "+".join(str(len(share)) for share in shares)
    print(f"{workers} worker(s) ({split} batches), {label}: {total} visits in {elapsed:.2f} s "
          f"= {total / elapsed:.0f} visits/s {statuses}")  # fmt: skip


if __name__ == "__main__":
    main()
