"""The figures of the daily bulletin (每日通报), computed in SQL as of one moment.

`bulletin_figures(town=, day=)` returns a JSON-ready dict with a stable schema
(`pingan.bulletin/1`, documented in docs/bulletin.md): one row per village and the town's
total. Everything is counted up to `until` = the end of `day` in Asia/Shanghai, or now when
`day` is today, so a bulletin for yesterday shows yesterday's evening:

- visits count by when they were done (the phone's end time, capped by the time the server
  received it), on Asia/Shanghai days;
- problems by their own timestamps (reported, deadline, handled, closed);
- leaflets issued by their issue time;
- 思想工作 by when the concern was reported and when the talk was recorded.

The village rows are one query (a correlated subquery per figure); the rates one GROUP BY;
the town's counts are the sums of its rows (and its rates pooled over its answers).
"""

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least

from pingan.accounts.models import Person, Unit
from pingan.campaigns.models import Campaign, LeafletIssue, Phase, VillageQuota
from pingan.campaigns.selectors import assignment_current_list, campaign_current
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.regions.models import Household, Region
from pingan.regions.selectors import count_subquery, roster_counts
from pingan.visits.models import Answer, Concern, ConcernItem, ThoughtWork, Visit
from pingan.visits.rates import rate_figures_of, rate_option_counts, rate_options
from pingan.visits.selectors import (
    _household_count,
    day_bounds,
    progress_ratio,
    visit_done_at,
    visit_list_first_reach,
)

SCHEMA = "pingan.bulletin/1"
# The two rates the bulletin shows (keys of the questionnaire's `rates`).
RATE_KEYS = ("safety", "satisfaction")
# The counts of a village row, in the order of the table (the town's total sums them).
COUNTS = (
    "quota",
    "roster_households",
    "active_households",
    "reached_households",
    "covered_households",
    "reached_today",
    "questionnaires",
    "problems_new",
    "problems_open",
    "problems_overdue",
    "problems_closed",
    "dissatisfied_households",
    "talked_households",
    "view_changed_households",
    "leaflets_issued",
    "leaflets_handed",
)
TWO_PLACES = Decimal("0.01")


def bulletin_until(day: dt.date, now: dt.datetime | None = None) -> dt.datetime:
    """The moment the figures of `day` are counted up to: the end of the day, or now."""
    _, end = day_bounds(day)
    return min(end, now or clock.now())


def _visits_done_before(campaign: Campaign, until: dt.datetime) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(campaign=campaign)
        .alias(done_at=visit_done_at())
        .filter(done_at__lt=until)
    )


def _sum_subquery(queryset: QuerySet, field: str, summed: str) -> Coalesce:
    total = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(total=Sum(summed))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def problem_open_q(until: dt.datetime) -> Q:
    """Reported by `until`, not closed by then, not rejected."""
    return Q(reported_at__lt=until) & ~Q(status=Problem.Status.REJECTED) & ~Q(closed_at__lt=until)


def problem_overdue_q(until: dt.datetime) -> Q:
    """With its unit past the deadline at `until`: dispatched, the deadline passed, and not
    handled by then (now: still `dispatched`; earlier: handled only after `until`)."""
    return (
        problem_open_q(until)
        & Q(dispatched_at__lt=until, deadline__lt=until)
        & (Q(status=Problem.Status.DISPATCHED) | Q(handled_at__gte=until))
    )


def _households(queryset: QuerySet[Any]) -> Coalesce:
    """COUNT(DISTINCT household) of `queryset` per outer village (its `village`), correlated;
    rows without a household are not counted."""
    counted = (
        queryset.filter(village=OuterRef("pk"))
        .order_by()
        .values("village")
        .annotate(n=Count("household", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def thought_work_counts(*, campaign: Campaign, until: dt.datetime) -> dict[str, Coalesce]:
    """思想工作 per village as of `until`, as correlated subqueries on the village:

    - `dissatisfied_households` 不满意群众: households with a concern reported before `until`
      that holds a feeling (感受: a negative answer to a single-choice question) or that the
      town center sent to 思想工作 before `until` — so those talked to are always among them;
    - `talked_households` 已做思想工作: households with a talk recorded before `until`;
    - `view_changed_households` 看法转变: of those, households whose latest talk recorded
      before `until` (by the day of the talk, then when it was recorded) says `changed`.

    A household counts once however many concerns or talks it has."""
    recorded = ThoughtWork.objects.filter(concern__campaign=campaign, recorded_at__lt=until)
    later = recorded.filter(household=OuterRef("household")).filter(
        Q(talked_on__gt=OuterRef("talked_on"))
        | Q(talked_on=OuterRef("talked_on"), recorded_at__gt=OuterRef("recorded_at"))
        | Q(talked_on=OuterRef("talked_on"), recorded_at=OuterRef("recorded_at"),
            pk__gt=OuterRef("pk"))
    )  # fmt: skip
    return {
        "dissatisfied_households": _households(
            Concern.objects.filter(campaign=campaign, reported_at__lt=until).filter(
                Exists(ConcernItem.objects.filter(concern=OuterRef("pk"), feeling=True))
                | (
                    Q(decided_at__lt=until)
                    & Exists(ThoughtWork.objects.filter(concern=OuterRef("pk")))
                )
            )
        ),
        "talked_households": _households(recorded),
        "view_changed_households": _households(
            recorded.filter(view=ThoughtWork.View.CHANGED).filter(~Exists(later))
        ),
    }


def village_figures_annotate(
    villages: QuerySet[Region], *, campaign: Campaign, day: dt.date, until: dt.datetime
) -> QuerySet[Region]:
    """`villages` with every count of `COUNTS`, as of `until`, one correlated subquery each."""
    start, _ = day_bounds(day)
    visits = _visits_done_before(campaign, until)
    counting = visits.filter(counts=True)
    problems = Problem.objects.filter(campaign=campaign)
    quota = VillageQuota.objects.filter(campaign=campaign, village=OuterRef("pk")).values("quota")
    return villages.annotate(
        quota=Coalesce(Subquery(quota[:1], output_field=IntegerField()), Value(0)),
        **{
            name: counted
            for name, counted in roster_counts("village").items()
            if name in ("roster_households", "active_households")
        },
        reached_households=_household_count(counting, "village"),
        # 户户必到: active roster households reached (the denominator leaves out vacant ones)
        covered_households=count_subquery(
            Household.objects.filter(status=Household.Status.ACTIVE).filter(
                Exists(counting.filter(household=OuterRef("pk")))
            ),
            "village",
        ),
        reached_today=_household_count(
            visit_list_first_reach(campaign=campaign, day=day)
            .alias(done_by=visit_done_at())
            .filter(done_by__lt=until),
            "village",
        ),
        questionnaires=count_subquery(visits.filter(questionnaire__isnull=False), "village"),
        problems_new=count_subquery(
            problems.filter(reported_at__gte=start, reported_at__lt=until), "village"
        ),
        problems_open=count_subquery(problems.filter(problem_open_q(until)), "village"),
        problems_overdue=count_subquery(problems.filter(problem_overdue_q(until)), "village"),
        problems_closed=count_subquery(problems.filter(closed_at__lt=until), "village"),
        **thought_work_counts(campaign=campaign, until=until),
        leaflets_issued=_sum_subquery(
            LeafletIssue.objects.filter(campaign=campaign, issued_at__lt=until),
            "village",
            "quantity",
        ),
        # households reached with a leaflet in hand (a not_home or vacant visit hands none)
        leaflets_handed=_household_count(counting.filter(leaflet_handed=True), "village"),
    )


def unit_figures(*, town: Region, campaign: Campaign, until: dt.datetime) -> list[dict[str, Any]]:
    """对各单位走访情况: for each of the town's units whose people visit as cadres (镇直单位
    包村), how many cadres, how many active households they hold now (分片包干) and how many of
    those were reached by `until`; one query. Units without a visiting cadre are left out."""
    held = assignment_current_list(campaign=campaign).filter(
        household__status=Household.Status.ACTIVE
    )
    reached = (
        Visit.objects.filter(campaign=campaign, household=OuterRef("household"), counts=True)
        .alias(done_at=visit_done_at())
        .filter(done_at__lt=until)
    )
    units = (
        Unit.objects.filter(region=town)
        .annotate(
            cadres=count_subquery(Person.objects.filter(active=True), "home_unit"),
            households_held=count_subquery(held, "cadre__home_unit"),
            households_reached=count_subquery(held.filter(Exists(reached)), "cadre__home_unit"),
        )
        .filter(cadres__gt=0)
        .order_by("sort_order", "name")
    )
    return [
        {
            "unit_id": unit.pk,
            "name": unit.name,
            "cadres": unit.cadres,
            "households_held": unit.households_held,
            "households_reached": unit.households_reached,
            "completion_pct": _pct(progress_ratio(unit.households_reached, unit.households_held)),
        }
        for unit in units
    ]


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _rates(figures: dict[str, Any] | None) -> dict[str, Any]:
    """{rate key: {"rate": "98.50", "answers": n, "positive": n}} for the two rates."""
    out: dict[str, Any] = {}
    for key in RATE_KEYS:
        figure = (figures or {}).get(key)
        out[key] = {
            "rate": _pct(figure.rate) if figure else None,
            "answers": figure.answers if figure else 0,
            "positive": figure.positive if figure else 0,
        }
    return out


def visiting_phase_pace(campaign: Campaign, day: dt.date) -> dict[str, Any]:
    """The visiting phase (走访整改) and how far into it `day` is (both ends count)."""
    phase = Phase.objects.filter(campaign=campaign, kind=Phase.Kind.VISITING).first()
    if phase is None:
        start, end = campaign.start_date, campaign.end_date
    else:
        start, end = phase.start_date, phase.end_date
    length = (end - start).days + 1
    elapsed = min(max((day - start).days + 1, 0), length)
    return {"start": start.isoformat(), "end": end.isoformat(), "days_total": length,
            "days_elapsed": elapsed}  # fmt: skip


def expected_households(quota: int, pace: dict[str, Any]) -> Decimal:
    """Days elapsed in the visiting phase ÷ its length × quota, to two places (half up)."""
    return (Decimal(pace["days_elapsed"]) * quota / pace["days_total"]).quantize(
        TWO_PLACES, rounding=ROUND_HALF_UP
    )


def _row(village: Region, pace: dict[str, Any], rates: dict | None) -> dict[str, Any]:
    row: dict[str, Any] = {"village_id": village.pk, "code": village.code, "name": village.name}
    row.update({name: getattr(village, name) for name in COUNTS})
    return _derive(row, pace, rates)


def _derive(row: dict[str, Any], pace: dict[str, Any], rates: dict | None) -> dict[str, Any]:
    expected = expected_households(row["quota"], pace)
    row["completion_pct"] = _pct(progress_ratio(row["reached_households"], row["quota"]))
    row["roster_coverage_pct"] = _pct(
        progress_ratio(row["covered_households"], row["active_households"])
    )
    row["expected_households"] = str(expected)
    row["lagging"] = Decimal(row["reached_households"]) < expected
    row["rates"] = _rates(rates)
    return row


def _rank(rows: list[dict[str, Any]]) -> None:
    """Rank by completion (highest first); equal completion shares a rank (1, 2, 2, 4);
    villages without a quota come last, unranked."""
    ranked = sorted(
        (r for r in rows if r["completion_pct"] is not None),
        key=lambda r: Decimal(r["completion_pct"]),
        reverse=True,
    )
    previous, rank = None, 0
    for position, row in enumerate(ranked, start=1):
        value = Decimal(row["completion_pct"])
        if value != previous:
            rank, previous = position, value
        row["rank"] = rank
    for row in rows:
        row.setdefault("rank", None)


def _base(town: Region, day: dt.date, now: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "town": {"id": town.pk, "code": town.code, "name": town.name},
        "date": day.isoformat(),
        "until": clock.local(until).isoformat(),
        "generated_at": clock.local(now).isoformat(),
    }


def _village_rows(
    villages: QuerySet[Region],
    *,
    campaign: Campaign,
    day: dt.date,
    until: dt.datetime,
    pace: dict[str, Any],
) -> tuple[list[dict[str, Any]], Counter[int], dict[int, Any], list[dict]]:
    """The rows of `villages` (unranked), and the rates' pooled option counts, options and
    definitions (for a total)."""
    annotated = list(
        village_figures_annotate(villages, campaign=campaign, day=day, until=until).order_by(
            "sort_order", "code"
        )
    )
    # The answers of visits done before `until`, filtered on the joined visit row (an Exists
    # on the visits misleads PostgreSQL's row estimates into nested loops at city scale).
    answers = (
        Answer.objects.filter(
            visit__campaign=campaign, visit__village__in=[v.pk for v in annotated]
        )
        .alias(visit_done_at=Least("visit__ended_at", "visit__received_at"))
        .filter(visit_done_at__lt=until)
    )
    definitions = [
        d for d in (campaign.questionnaire.rates if campaign.questionnaire else [])
        if d["key"] in RATE_KEYS
    ]  # fmt: skip
    options = rate_options(definitions) if definitions else {}
    counts = (
        rate_option_counts(answers=answers, options=options, group_by="visit__village")
        if definitions and annotated
        else {}
    )
    rows = [
        _row(v, pace, rate_figures_of(counts.get(v.pk, Counter()), options=options,
                                      definitions=definitions))
        for v in annotated
    ]  # fmt: skip
    return rows, sum(counts.values(), Counter()), options, definitions


def village_ranks(*, town: Region, campaign: Campaign, until: dt.datetime) -> dict[int, int | None]:
    """{village id: rank by completion} among the town's villages, as `bulletin_figures`
    ranks them, from the two figures the rank needs (quota, reached): one light query."""
    counting = _visits_done_before(campaign, until).filter(counts=True)
    quota = VillageQuota.objects.filter(campaign=campaign, village=OuterRef("pk")).values("quota")
    rows: list[dict[str, Any]] = [
        {"village_id": pk, "completion_pct": _pct(progress_ratio(reached, quota))}
        for pk, quota, reached in Region.objects.filter(parent=town, kind=Region.Kind.VILLAGE)
        .annotate(
            quota=Coalesce(Subquery(quota[:1], output_field=IntegerField()), Value(0)),
            reached=_household_count(counting, "village"),
        )
        .values_list("pk", "quota", "reached")
    ]
    _rank(rows)
    return {row["village_id"]: row["rank"] for row in rows}


def village_bulletin_figures(
    *, village: Region, day: dt.date, now: dt.datetime | None = None
) -> dict[str, Any]:
    """One village's part of its town's bulletin, live: the same schema with `villages`
    holding only its row (its `rank` among all the town's villages), plus `village_count`
    and `ranked_count`; no `total`, `units` or `criticized`. For a village's page, which
    must not count the whole town (the published bulletin has everything)."""
    town = village.parent
    if town is None:
        raise ValueError("a village without its town")
    now = now or clock.now()
    until = bulletin_until(day, now)
    campaign = campaign_current(town=town)
    base = _base(town, day, now, until)
    if campaign is None:
        return {**base, "campaign": None, "pace": None, "villages": [], "village_count": 0,
                "ranked_count": 0}  # fmt: skip
    pace = visiting_phase_pace(campaign, day)
    rows, _, _, _ = _village_rows(
        Region.objects.filter(pk=village.pk), campaign=campaign, day=day, until=until, pace=pace
    )
    ranks = village_ranks(town=town, campaign=campaign, until=until)
    for row in rows:
        row["rank"] = ranks.get(row["village_id"])
    return {
        **base,
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "pace": pace,
        "villages": rows,
        "village_count": len(ranks),
        "ranked_count": sum(1 for rank in ranks.values() if rank is not None),
    }


def bulletin_figures(
    *, town: Region, day: dt.date, now: dt.datetime | None = None, campaign: Campaign | None = None
) -> dict[str, Any]:
    """The bulletin of `town` for `day` (schema `pingan.bulletin/1`)."""
    now = now or clock.now()
    until = bulletin_until(day, now)
    campaign = campaign or campaign_current(town=town)
    base = _base(town, day, now, until)
    if campaign is None:
        return {**base, "campaign": None, "pace": None, "villages": [], "total": None,
                "units": [], "criticized": []}  # fmt: skip
    pace = visiting_phase_pace(campaign, day)
    rows, pooled, options, definitions = _village_rows(
        Region.objects.filter(parent=town, kind=Region.Kind.VILLAGE),
        campaign=campaign,
        day=day,
        until=until,
        pace=pace,
    )
    _rank(rows)
    total: dict[str, Any] = {name: sum(r[name] for r in rows) for name in COUNTS}
    # The town's rates pool its villages' answers: the sum of their counts per option.
    town_rates = rate_figures_of(pooled, options=options, definitions=definitions)
    total = _derive(total, pace, town_rates)
    total["lagging_villages"] = sum(1 for r in rows if r["lagging"])
    criticized = (
        Problem.objects.filter(campaign=campaign, village__parent=town, criticized_at__lt=until)
        .filter(problem_overdue_q(until))
        .select_related("village", "unit")
        .order_by("deadline", "id")
    )
    return {
        **base,
        "campaign": {"id": campaign.pk, "name": campaign.name},
        "pace": pace,
        "villages": rows,
        "total": total,
        "units": unit_figures(town=town, campaign=campaign, until=until),
        "criticized": [
            {
                "code": p.code,
                "village": p.village.name,
                "unit": p.unit.name if p.unit else "",
                "deadline": clock.local(p.deadline).date().isoformat() if p.deadline else None,
            }
            for p in criticized
        ],
    }
