"""Benchmark: the daily bulletin's figures (`pingan.reports.figures.bulletin_figures`) for one
town at city scale on PostgreSQL, against one hand-written SQL query computing the same.

    .venv/bin/pingan generate_data --scale city          # once, with DATABASE_URL set
    .venv/bin/python bench/bulletin.py [--db pingan_city] [--town CODE] [--day 2021-11-10]
                                       [--runs 7] [--explain FILE]

The database must hold generated data (`pingan generate_data`); nothing is written to it.
`--town` defaults to the town with the most households. Both sides are run once to warm
the cache, then `--runs` times each; the medians and their ratio are printed (target:
bulletin < 2 s and within 2× of the hand SQL). Every figure of every village row (quota,
roster, active, reached, covered (active and reached), reached today, questionnaires, problems new/open/overdue/closed, leaflets
issued/handed, the safety and satisfaction answer and positive counts) must be equal, or
the script stops. `--explain FILE` writes EXPLAIN (ANALYZE, BUFFERS) of the bulletin's
village query, its rates query and the hand query.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchkit import describe, django_database  # noqa: E402

# The hand-written query: one GROUP BY per table, joined on the village. Same definitions as
# reports.figures (a visit counts on the day it was done: least(ended_at, received_at)).
HAND_SQL = """
WITH v AS (
    SELECT id, sort_order, code FROM regions_region WHERE parent_id = %(town)s AND kind = 'village'
), done AS (
    SELECT id, village_id, household_id, counts, questionnaire_id, leaflet_handed,
           LEAST(ended_at, received_at) AS done_at
    FROM visits_visit
    WHERE campaign_id = %(campaign)s AND village_id IN (SELECT id FROM v)
      AND LEAST(ended_at, received_at) < %(until)s
), visit_figures AS (
    SELECT village_id,
           COUNT(DISTINCT household_id) FILTER (WHERE counts) AS reached,
           COUNT(*) FILTER (WHERE questionnaire_id IS NOT NULL) AS questionnaires,
           COUNT(DISTINCT household_id) FILTER (WHERE counts AND leaflet_handed) AS handed
    FROM done GROUP BY village_id
), first_reach AS (
    SELECT village_id, COUNT(DISTINCT household_id) AS today FROM (
        SELECT village_id, household_id, MIN(done_at) AS first_at
        FROM done WHERE counts GROUP BY village_id, household_id
    ) f WHERE first_at >= %(start)s AND first_at < %(until)s GROUP BY village_id
), roster AS (
    SELECT h.village_id, COUNT(*) FILTER (WHERE h.status <> 'merged') AS n,
           COUNT(*) FILTER (WHERE h.status = 'active') AS active,
           COUNT(*) FILTER (WHERE h.status = 'active' AND r.household_id IS NOT NULL) AS covered
    FROM regions_household h
    LEFT JOIN (SELECT DISTINCT household_id FROM done WHERE counts) r
           ON r.household_id = h.id
    WHERE h.village_id IN (SELECT id FROM v) GROUP BY h.village_id
), problems AS (
    SELECT village_id,
           COUNT(*) FILTER (WHERE reported_at >= %(start)s AND reported_at < %(until)s) AS new,
           COUNT(*) FILTER (WHERE open) AS open,
           COUNT(*) FILTER (WHERE open AND dispatched_at < %(until)s AND deadline < %(until)s
                            AND (status = 'dispatched' OR handled_at >= %(until)s)) AS overdue,
           COUNT(*) FILTER (WHERE closed_at < %(until)s) AS closed
    FROM (SELECT *, reported_at < %(until)s AND status <> 'rejected'
                    AND (closed_at IS NULL OR closed_at >= %(until)s) AS open
          FROM ledger_problem WHERE campaign_id = %(campaign)s) p
    GROUP BY village_id
), leaflets AS (
    SELECT village_id, SUM(quantity) AS issued FROM campaigns_leafletissue
    WHERE campaign_id = %(campaign)s AND issued_at < %(until)s GROUP BY village_id
), rate_options AS (
    -- the ~40 options of the rate questions, each flagged once (questions matched by key,
    -- as rate_figures does, so every questionnaire version pools)
    SELECT o.id, q.key = 'safety' AS safety, q.key = ANY(%(satisfaction)s) AS satisfaction,
           o.polarity = '+' AS positive
    FROM surveys_option o JOIN surveys_question q ON q.id = o.question_id
    WHERE q.key = 'safety' OR q.key = ANY(%(satisfaction)s)
), rates AS (
    SELECT d.village_id,
           COUNT(*) FILTER (WHERE ro.safety) AS safety_n,
           COUNT(*) FILTER (WHERE ro.safety AND ro.positive) AS safety_pos,
           COUNT(*) FILTER (WHERE ro.satisfaction) AS satisfaction_n,
           COUNT(*) FILTER (WHERE ro.satisfaction AND ro.positive) AS satisfaction_pos
    FROM done d
    JOIN visits_answer a ON a.visit_id = d.id
    JOIN rate_options ro ON ro.id = a.option_id
    GROUP BY d.village_id
)
SELECT v.id,
       COALESCE((SELECT quota FROM campaigns_villagequota
                 WHERE campaign_id = %(campaign)s AND village_id = v.id), 0),
       COALESCE(roster.n, 0), COALESCE(roster.active, 0), COALESCE(vf.reached, 0),
       COALESCE(roster.covered, 0), COALESCE(fr.today, 0),
       COALESCE(vf.questionnaires, 0), COALESCE(p.new, 0), COALESCE(p.open, 0),
       COALESCE(p.overdue, 0), COALESCE(p.closed, 0), COALESCE(l.issued, 0),
       COALESCE(vf.handed, 0), COALESCE(r.safety_n, 0), COALESCE(r.safety_pos, 0),
       COALESCE(r.satisfaction_n, 0), COALESCE(r.satisfaction_pos, 0)
FROM v
LEFT JOIN roster ON roster.village_id = v.id
LEFT JOIN visit_figures vf ON vf.village_id = v.id
LEFT JOIN first_reach fr ON fr.village_id = v.id
LEFT JOIN problems p ON p.village_id = v.id
LEFT JOIN leaflets l ON l.village_id = v.id
LEFT JOIN rates r ON r.village_id = v.id
ORDER BY v.sort_order, v.code
"""
FIELDS = ("village_id", "quota", "roster_households", "active_households",
          "reached_households", "covered_households", "reached_today",
          "questionnaires", "problems_new", "problems_open", "problems_overdue",
          "problems_closed", "leaflets_issued", "leaflets_handed", "safety_answers",
          "safety_positive", "satisfaction_answers", "satisfaction_positive")  # fmt: skip


def setup(db: str) -> None:
    if db in {"postgres", "test_postgres"}:
        sys.exit("refusing a shared database name; give the generated one (e.g. pingan_city)")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
    os.environ.setdefault("PINGAN_HOME", tempfile.mkdtemp(prefix="pingan-bench-bulletin-"))
    os.environ["PINGAN_DEBUG"] = "0"
    os.environ["PINGAN_DEV_KEY_WARNED"] = "1"
    # No collected static files in the throwaway PINGAN_HOME: WhiteNoise's warning is noise.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()


def largest_town():
    from django.db.models import Count

    from pingan.regions.models import Household, Region

    top = (
        Household.objects.values("village__parent")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("village__parent", flat=True)[:1]
    )
    return Region.objects.get(pk=top[0])


def hand_rows(town, campaign, day: dt.date) -> list[tuple]:
    from django.db import connection

    from pingan.reports.figures import bulletin_until
    from pingan.visits.selectors import day_bounds

    start, _ = day_bounds(day)
    until = bulletin_until(day)
    satisfaction = next(r for r in campaign.questionnaire.rates if r["key"] == "satisfaction")
    params = {"town": town.pk, "campaign": campaign.pk, "start": start, "until": until,
              "satisfaction": list(satisfaction["questions"])}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(HAND_SQL, params)
        return [tuple(int(x) for x in row) for row in cursor.fetchall()]


def figure_rows(figures: dict) -> list[tuple]:
    rows = []
    for row in figures["villages"]:
        rates = row["rates"]
        rows.append(
            (row["village_id"], *(row[name] for name in FIELDS[1:14]),
             rates["safety"]["answers"], rates["safety"]["positive"],
             rates["satisfaction"]["answers"], rates["satisfaction"]["positive"])
        )  # fmt: skip
    return rows


def timed(fn, runs: int) -> tuple[float, list[float], object]:
    fn()  # warm
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def explain(path: Path, town, campaign, day: dt.date) -> None:
    from django.db import connection
    from django.db.models import Exists, OuterRef

    from pingan.regions.models import Region
    from pingan.reports.figures import (
        RATE_KEYS,
        _visits_done_before,
        bulletin_until,
        village_figures_annotate,
    )
    from pingan.visits.models import Answer
    from pingan.visits.rates import rate_figures
    from pingan.visits.selectors import day_bounds

    until = bulletin_until(day)
    villages = village_figures_annotate(
        Region.objects.filter(parent=town, kind=Region.Kind.VILLAGE),
        campaign=campaign, day=day, until=until,
    ).order_by("sort_order", "code")  # fmt: skip
    answers = Answer.objects.filter(visit__campaign=campaign, visit__village__parent=town).filter(
        Exists(_visits_done_before(campaign, until).filter(pk=OuterRef("visit_id")))
    )
    definitions = [d for d in campaign.questionnaire.rates if d["key"] in RATE_KEYS]
    # The rates query as rate_figures builds it (captured from the connection's log).
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        rate_figures(answers=answers, definitions=definitions)
    start, _ = day_bounds(day)
    satisfaction = next(r for r in definitions if r["key"] == "satisfaction")
    with connection.cursor() as cursor, path.open("w") as out:
        sql, params = villages.query.sql_with_params()
        for title, query, args in (
            ("bulletin: village rows (village_figures_annotate)", sql, params),
            ("bulletin: rates (rate_figures)", captured.captured_queries[-1]["sql"], None),
            ("hand SQL", HAND_SQL, {"town": town.pk, "campaign": campaign.pk, "start": start,
                                    "until": until,
                                    "satisfaction": list(satisfaction["questions"])}),
        ):  # fmt: skip
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, args)
            out.write(f"===== {title}\n" + "\n".join(r[0] for r in cursor.fetchall()) + "\n\n")
    print(f"EXPLAIN ANALYZE written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="pingan_city")
    parser.add_argument("--town", help="town code (default: the town with most households)")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2021, 11, 10))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", type=Path)
    options = parser.parse_args()
    setup(options.db)

    from pingan.campaigns.selectors import campaign_current
    from pingan.regions.models import Household, Region
    from pingan.reports.figures import bulletin_figures
    from pingan.visits.models import Answer, Visit

    town = Region.objects.get(code=options.town) if options.town else largest_town()
    campaign = campaign_current(town=town)
    if campaign is None or campaign.questionnaire is None:
        sys.exit(f"{town.name} has no campaign with a questionnaire: run generate_data first")
    households = Household.objects.filter(village__parent=town).count()
    describe(
        database=django_database() + " (generated data; nothing written)",
        mode="in-process: bulletin_figures called in this process; the hand SQL through the "
        "same Django connection",
        cache=f"warm: each side run once untimed, then {options.runs} times (median, min, max)",
        shape={
            "database": f"{Household.objects.count():,} households, {Visit.objects.count():,} "
            f"visits, {Answer.objects.count():,} answers",
            "town": f"{town.code} {town.name}, {town.children.count()} villages, "
            f"{households:,} households",
            "day": options.day,
        },
        target="bulletin_figures under 2 s and within 2x of the hand SQL",
    )

    bulletin, b_times, figures = timed(
        lambda: bulletin_figures(town=town, day=options.day, campaign=campaign), options.runs
    )
    hand, h_times, rows = timed(lambda: hand_rows(town, campaign, options.day), options.runs)
    expected = figure_rows(figures)
    if expected != rows:
        for a, b in zip(expected, rows, strict=False):
            if a != b:
                print(
                    "differs:", dict(zip(FIELDS, a, strict=True)), dict(zip(FIELDS, b, strict=True))
                )
        sys.exit("the hand SQL and bulletin_figures disagree")
    total = figures["total"]
    print(f"figures equal for all {len(rows)} villages (town: reached {total['reached_households']:,}"
          f" of quota {total['quota']:,}, reached today {total['reached_today']:,}, problems open "
          f"{total['problems_open']:,}, overdue {total['problems_overdue']:,})")  # fmt: skip
    print(f"bulletin_figures: median {bulletin * 1000:8.1f} ms  "
          f"(min {min(b_times) * 1000:.1f}, max {max(b_times) * 1000:.1f})")  # fmt: skip
    print(f"hand SQL:         median {hand * 1000:8.1f} ms  "
          f"(min {min(h_times) * 1000:.1f}, max {max(h_times) * 1000:.1f})")  # fmt: skip
    print(f"ratio bulletin / hand: {bulletin / hand:.2f}  "
          f"(targets: bulletin < 2000 ms: {'yes' if bulletin < 2 else 'NO'}; "
          f"within 2x: {'yes' if bulletin <= 2 * hand else 'NO'})")  # fmt: skip
    if options.explain:
        explain(options.explain, town, campaign, options.day)


if __name__ == "__main__":
    main()
