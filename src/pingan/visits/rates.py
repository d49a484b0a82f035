"""Rates (一感两度两率) per village and for a whole area, as SQL aggregates over answers.

For each rate of the questionnaire (its `rates` definition: which questions are pooled):
- official-like rate = positive answers ÷ all answers, 说不清 in the denominator;
- rate without 说不清 = positive ÷ answers other than 说不清;
- 100-point score = the mean of the chosen options' scores (说不清 and unscored options out).
The answers are counted in SQL, per group and option, in one GROUP BY (`rate_option_counts`);
each rate's counts and score sum are sums of those few rows (a village has a few dozen), and
the ratios are exact Decimal divisions of those integers, rounded half-up to two places only
at the end.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet

from pingan.surveys.models import Option
from pingan.visits.models import Answer

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RateFigure:
    """One rate over one group: the exact counts and the three figures derived from them."""

    key: str
    name: str
    answers: int
    positive: int
    unknown: int
    scored: int
    score_sum: int

    @property
    def rate(self) -> Decimal | None:
        """Official-like: positive ÷ all answers (说不清 stays in the denominator), in %."""
        return _ratio(HUNDRED * self.positive, self.answers)

    @property
    def rate_known(self) -> Decimal | None:
        """Positive ÷ answers other than 说不清, in %."""
        return _ratio(HUNDRED * self.positive, self.answers - self.unknown)

    @property
    def score(self) -> Decimal | None:
        """Mean score of the scored answers (说不清 and unscored options left out)."""
        return _ratio(Decimal(self.score_sum), self.scored)


def _ratio(part: Decimal, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RateOption:
    """What a rate needs to know of one option: its question's key, polarity and score."""

    question_key: str
    polarity: str
    score: int | None


def rate_options(definitions: Iterable[dict]) -> dict[int, RateOption]:
    """{option id: RateOption} for every option, of every questionnaire version, of the
    questions the rates pool (matched by question key). One small query."""
    keys = sorted({q for d in definitions for q in d["questions"]})
    return {
        pk: RateOption(key, polarity, score)
        for pk, key, polarity, score in Option.objects.filter(question__key__in=keys)
        .order_by()
        .values_list("pk", "question__key", "polarity", "score")
    }


def rate_option_counts(
    *, answers: QuerySet[Answer], options: dict[int, RateOption], group_by: str | None
) -> dict[object, Counter[int]]:
    """{group value: Counter(option id → answers)} over `answers`: one GROUP BY on the answer
    rows alone (no join to questions or options), the rates' options only."""
    rows = (
        answers.filter(option_id__in=list(options))
        .order_by()
        .values(*([group_by] if group_by else []), "option_id")
        .annotate(n=Count("pk"))
    )
    counts: dict[object, Counter[int]] = {}
    for row in rows:
        group = row[group_by] if group_by else None
        counts.setdefault(group, Counter())[row["option_id"]] += row["n"]
    return counts


def rate_figures_of(
    counts: Counter[int], *, options: dict[int, RateOption], definitions: Iterable[dict]
) -> dict[str, RateFigure]:
    """The figures of each rate from one group's answer counts per option (absent: no answer)."""
    figures: dict[str, RateFigure] = {}
    for d in definitions:
        pooled = set(d["questions"])
        inside = [
            (options[pk], n) for pk, n in counts.items() if options[pk].question_key in pooled
        ]
        answers = sum(n for _, n in inside)
        if not answers:
            continue
        figures[d["key"]] = RateFigure(
            key=d["key"],
            name=d["name"],
            answers=answers,
            positive=sum(n for o, n in inside if o.polarity == Option.Polarity.POSITIVE),
            unknown=sum(n for o, n in inside if o.polarity == Option.Polarity.UNKNOWN),
            scored=sum(n for o, n in inside if o.score is not None),
            score_sum=sum(n * o.score for o, n in inside if o.score is not None),
        )
    return figures


def rate_figures(
    *,
    answers: QuerySet[Answer],
    definitions: Iterable[dict],
    group_by: str | None = "visit__village",
) -> dict[object, dict[str, RateFigure]]:
    """Figures per group (`group_by` is a field path of Answer; None for one overall group).

    Two queries: the rates' options (small), then the answers counted per group and option in
    one GROUP BY without joins per answer; the counts per rate are sums of those few rows.
    `answers` is already scoped (campaign, region, period); questions are matched by key, so
    answers recorded under different versions of the questionnaire pool together.
    Returns {group value: {rate key: RateFigure}}; a group with no answers is absent.
    """
    definitions = list(definitions)
    options = rate_options(definitions)
    result: dict[object, dict[str, RateFigure]] = {}
    for group, counts in rate_option_counts(
        answers=answers, options=options, group_by=group_by
    ).items():
        figures = rate_figures_of(counts, options=options, definitions=definitions)
        if figures:
            result[group] = figures
    return result
