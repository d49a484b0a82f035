"""Rates (一感两度两率) per village and for a whole area, as SQL aggregates over answers.

For each rate of the questionnaire (its `rates` definition: which questions are pooled):
- official-like rate = positive answers ÷ all answers, 说不清 in the denominator;
- rate without 说不清 = positive ÷ answers other than 说不清;
- 100-point score = the mean of the chosen options' scores (说不清 and unscored options out).
Counts and score sums come from one GROUP BY query; the ratios are exact Decimal divisions of
those integers, rounded half-up to two places only at the end.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Aggregate, Count, Q, QuerySet, Sum

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


def rate_figures(
    *,
    answers: QuerySet[Answer],
    definitions: Iterable[dict],
    group_by: str | None = "visit__village",
) -> dict[object, dict[str, RateFigure]]:
    """Figures per group (`group_by` is a field path of Answer; None for one overall group).

    One GROUP BY query with conditional counts per rate. `answers` is already scoped
    (campaign, region, period); questions are matched by key, so answers recorded under
    different versions of the questionnaire pool together.
    Returns {group value: {rate key: RateFigure}}; a group with no answers is absent.
    """
    definitions = list(definitions)
    aggregates: dict[str, Aggregate] = {}
    for d in definitions:
        inside = Q(question__key__in=d["questions"])
        key = d["key"]
        aggregates[f"{key}__n"] = Count("pk", filter=inside)
        aggregates[f"{key}__pos"] = Count(
            "pk", filter=inside & Q(option__polarity=Option.Polarity.POSITIVE)
        )
        aggregates[f"{key}__unk"] = Count(
            "pk", filter=inside & Q(option__polarity=Option.Polarity.UNKNOWN)
        )
        aggregates[f"{key}__scored"] = Count("option__score", filter=inside)
        aggregates[f"{key}__sum"] = Sum("option__score", filter=inside)
    keys = sorted({q for d in definitions for q in d["questions"]})
    rows = (
        answers.filter(question__key__in=keys, option__isnull=False)
        .order_by()
        .values(*([group_by] if group_by else []))
        .annotate(**aggregates)
    )
    if not group_by:
        rows = [
            answers.filter(question__key__in=keys, option__isnull=False).aggregate(**aggregates)
        ]
    result: dict[object, dict[str, RateFigure]] = {}
    for row in rows:
        figures = {
            d["key"]: RateFigure(
                key=d["key"],
                name=d["name"],
                answers=row[f"{d['key']}__n"],
                positive=row[f"{d['key']}__pos"],
                unknown=row[f"{d['key']}__unk"],
                scored=row[f"{d['key']}__scored"],
                score_sum=row[f"{d['key']}__sum"] or 0,
            )
            for d in definitions
            if row[f"{d['key']}__n"]
        }
        if figures:
            result[row[group_by] if group_by else None] = figures
    return result
