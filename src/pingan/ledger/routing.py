"""Suggestions for triage (梳理): an outcome with its reason, a category and a unit from the
town's routing rules (派单规则), and the open problems a concern may join (并案).

The rules, in order (docs/ledger.md, "Triage"):
1. A concern whose items are all feelings (感受: negative answers to single-choice questions,
   such as 不太安全 or 不满意) has nothing concrete to fix: 思想工作.
2. Otherwise its matters (checked options such as 赌博, described matters; the opinion only
   when the concern has nothing else concrete — see `matters`) are matched against the open problems of its town. The best candidate scoring at least
   `MERGE_AT` (with its text alone at least `TEXT_AT`) is suggested for 并案.
3. Otherwise 立案, with the category and unit of the first routing rule (by priority) whose
   keyword appears in the matters' words; without one, the category of the first matter.

A candidate's score (0–100) = 70 % text similarity (rapidfuzz's WRatio of the matters' words
against the problem's description: characters, so Chinese needs no word splitting) + 15 for
the same category + 15 for the same village (7.5 for a neighbouring one: household centres
within `NEIGHBOUR_KM`).
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Avg
from rapidfuzz import fuzz, process

from pingan.accounts.models import Unit
from pingan.campaigns.models import RoutingRule
from pingan.ledger.models import Problem
from pingan.regions.models import Household, Region
from pingan.visits.concerns import item_words
from pingan.visits.models import Concern, ConcernItem

MERGE_AT = 70.0
TEXT_AT = 50.0
CANDIDATES = 3
NEIGHBOUR_KM = 3.0
OPEN = (Problem.Status.ACCEPTED, Problem.Status.DISPATCHED, Problem.Status.HANDLED)
DESCRIPTION_CHARS = 300


@dataclass(frozen=True)
class Candidate:
    """An open problem a concern may join, with its score and how it was reached."""

    problem_id: int
    code: str
    description: str
    village_id: int
    category: str
    status: str
    version: int
    score: float
    text_score: float


@dataclass
class Suggestion:
    outcome: str  # a Concern.Outcome value
    reason: str
    category: str = ""
    unit: Unit | None = None
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class OpenProblem:
    pk: int
    code: str
    description: str
    village_id: int
    category: str
    status: str
    version: int


class TownIndex:
    """What suggesting needs for one town, loaded once: its routing rules, its open problems
    and its villages' household centres. Two queries plus one for the problems."""

    def __init__(self, town: Region, problems: Sequence[OpenProblem] | None = None) -> None:
        self.town = town
        self.rules = list(
            RoutingRule.objects.filter(town=town, active=True)
            .select_related("unit")
            .order_by("priority", "id")
        )
        if problems is None:
            problems = [
                OpenProblem(*row)
                for row in Problem.objects.filter(village__parent=town, status__in=OPEN)
                .order_by("id")
                .values_list(
                    "pk", "code", "description", "village_id", "category", "status", "version"
                )
            ]
        self.problems = list(problems)
        self.texts = [p.description[:DESCRIPTION_CHARS] for p in self.problems]
        self._centres: dict[int, tuple[float, float]] | None = None
        self._postings: dict[str, list[int]] | None = None

    def sharing(self, words: str) -> list[int]:
        """Positions of the problems whose text shares a telling character with `words`:
        the only ones whose similarity can be above zero, found through an index of
        characters (those in more than a fifth of the texts tell nothing and are left out),
        so a concern is compared with a few hundred problems, not with all of them."""
        if self._postings is None:
            postings: dict[str, list[int]] = {}
            for position, text in enumerate(self.texts):
                for char in set(text):
                    postings.setdefault(char, []).append(position)
            common = max(50, len(self.texts) // 5)
            self._postings = {c: p for c, p in postings.items() if len(p) <= common}
        found: set[int] = set()
        for char in set(words):
            found.update(self._postings.get(char, ()))
        return sorted(found)

    def centres(self) -> dict[int, tuple[float, float]]:
        if self._centres is None:
            rows = (
                Household.objects.filter(village__parent=self.town, lat__isnull=False)
                .values("village_id")
                .annotate(lat=Avg("lat"), lng=Avg("lng"))
                .order_by()
            )
            self._centres = {r["village_id"]: (float(r["lat"]), float(r["lng"])) for r in rows}
        return self._centres

    def neighbours(self, a: int, b: int) -> bool:
        centres = self.centres()
        if a not in centres or b not in centres:
            return False
        return _km(centres[a], centres[b]) <= NEIGHBOUR_KM


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance on the earth's surface (haversine), in km."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def matters(items: Iterable[ConcernItem]) -> list[ConcernItem]:
    """The concern's matters: checked options and described matters; the opinion (意见建议)
    only when there is nothing else concrete (it is kept on the concern, not filed into
    another matter's problem)."""
    concrete = [item for item in items if not item.feeling]
    besides = [item for item in concrete if item.kind != ConcernItem.Kind.OPINION]
    return besides or concrete


def words_of(items: Iterable[ConcernItem]) -> str:
    return "；".join(item_words(item) for item in matters(items))


def route(index: TownIndex, words: str, fallback: str) -> tuple[str, Unit | None, str]:
    """(category, unit, why) from the first rule whose keyword is in `words`."""
    for rule in index.rules:
        for keyword in rule.keyword_list():
            if keyword in words:
                unit = f" → {rule.unit.name}" if rule.unit else ""
                return rule.category, rule.unit, f"关键词“{keyword}”→ 类别“{rule.category}”{unit}"
    return fallback, None, "没有匹配的派单规则"


def candidates_for(
    index: TownIndex, *, words: str, village_id: int, category: str, limit: int = CANDIDATES
) -> list[Candidate]:
    """The best open problems of the town for these words, highest score first."""
    if not words or not index.problems:
        return []
    sharing = index.sharing(words)
    texts = [index.texts[position] for position in sharing]
    scored = []
    for _, text, n in process.extract(words, texts, scorer=fuzz.WRatio, limit=None):
        problem = index.problems[sharing[n]]
        text = float(text)
        if text <= 0:
            continue
        place = (
            15.0
            if problem.village_id == village_id
            else 7.5
            if index.neighbours(problem.village_id, village_id)
            else 0.0
        )
        same = 15.0 if category and problem.category == category else 0.0
        score = round(0.7 * text + same + place, 1)
        scored.append((score, text, problem))
    scored.sort(key=lambda row: (-row[0], -row[1], row[2].pk))
    return [
        Candidate(p.pk, p.code, p.description, p.village_id, p.category, p.status, p.version,
                  score, round(text, 1))
        for score, text, p in scored[:limit]
    ]  # fmt: skip


def suggest(concern: Concern, items: Sequence[ConcernItem], index: TownIndex) -> Suggestion:
    """The suggested outcome of one concern, with its reason (see the module docstring)."""
    concrete = matters(items)
    if not concrete:
        feelings = "、".join(item_words(item) for item in items[:3])
        return Suggestion(
            Concern.Outcome.TALK,
            f"只有感受类回答（{feelings}），没有具体事项：由走访干部做思想工作",
            category=concern.category,
        )
    words = words_of(items)
    fallback = next((item.category for item in concrete if item.category), concern.category)
    category, unit, why = route(index, words, fallback)
    found = candidates_for(index, words=words, village_id=concern.village_id, category=category)
    best = found[0] if found else None
    if best is not None and best.score >= MERGE_AT and best.text_score >= TEXT_AT:
        return Suggestion(
            Concern.Outcome.MERGE,
            f"与 {best.code} 相似（{best.score:g} 分）：{best.description[:40]}",
            category=category,
            unit=unit,
            candidates=found,
        )
    return Suggestion(Concern.Outcome.FILE, f"新问题；{why}", category, unit, found)
