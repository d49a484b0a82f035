"""One town's visits (走访) with their answers, and the problems they raise, day by day.

Each cadre works their own slice (分片包干) in order, at their own pace, over the days of
the visiting phase up to the last day; a household not at home is tried again one to four
days later; a few refuse, a few are phoned, a few turn out empty (the village admin confirms
most of those, and the household leaves the roster). The number of visits is
`visits_ratio` × households; the day curve ramps up over the first days and dips at weekends.

Answers: completed and phone visits take the questionnaire. `answers="rates"` records the
questions the reports' rates are computed over (安全感, the six 满意度 questions, 知晓率,
参与率, 反诈知晓率: ten rows a visit, plus the reason of an unsafe answer); `answers="all"`
the whole questionnaire (~15 rows). Negative answers are drawn so that the problems they
raise, as the real sync raises them (one `survey` problem per negative option), plus the
problems residents raise in their own words (`visit`) and by phone (`manual`, see
`ledger`), come to `problems_ratio` × visits.
"""

import datetime as dt
import hashlib
import random
import uuid
from collections import deque
from dataclasses import dataclass, field

from pingan.core.clock import SHANGHAI
from pingan.demo.visits import OPINIONS, RAISED, SATISFACTION, SPREADS

RATE_QUESTIONS = ("safety", "sweep", "police", "court", "procuratorate", "justice", "pingan",
                  "aware", "participate", "antifraud")  # fmt: skip
ALL_QUESTIONS = ("safety", "trend", "night", "nearby", "sweep", "disputes", "police", "court",
                 "procuratorate", "justice", "pingan", "aware", "participate", "antifraud")  # fmt: skip
SATISFACTION_KEYS = ("sweep", "police", "court", "procuratorate", "justice", "pingan")

# Shares of all problems by source (the rest of `problems_ratio` is `manual`, see ledger).
SURVEY_SHARE, VISIT_SHARE = 0.70, 0.22
# Share of visits that take the questionnaire (completed + phone), for the rates above.
QUESTIONNAIRE_SHARE = 0.87
# How many negative answers a visit with any has (1, 2, 3).
NEGATIVE_COUNTS = ((1, 0.75), (2, 0.18), (3, 0.07))
# Which question a negative answer falls on (relative weights).
NEGATIVE_WEIGHTS = {
    "safety": 3.0, "police": 3.0, "pingan": 2.0, "sweep": 1.5, "court": 1.0,
    "procuratorate": 0.6, "justice": 1.0, "trend": 0.5, "night": 1.0, "nearby": 2.0,
    "disputes": 2.0,
}  # fmt: skip
NEGATIVE_OPTIONS = {
    "safety": {"不太安全": 83, "不安全": 17},
    "trend": {"变差了": 1},
    "night": {"有些担心": 85, "很担心": 15},
    "disputes": {"不能": 1},
    "nearby": {"盗窃抢劫": 18, "黑恶势力": 2, "吸毒贩毒": 2, "赌博": 10, "黄色违法活动": 1,
               "电信网络诈骗": 30},
    **{key: {"不太满意": 78, "不满意": 22} for key in SATISFACTION_KEYS},
}  # fmt: skip
UNSAFE_REASONS = ("盗窃/入室盗窃", "电信网络诈骗", "交通安全", "邻里或家庭纠纷", "赌博")
FIRST_OUTCOMES = {"completed": 830, "phone": 45, "not_home": 95, "refused": 15, "vacant": 15}
REVISIT_OUTCOMES = {"completed": 750, "phone": 120, "not_home": 120, "refused": 10}
COUNTING = frozenset({"completed", "phone", "refused"})
MINUTES = {"completed": (9, 22), "phone": (3, 8), "refused": (1, 4), "not_home": (1, 3),
           "vacant": (2, 6)}  # fmt: skip
APP_VERSION = "1.2.0"


def _positive_spread(spread: dict[str, int], negatives: dict[str, int]) -> dict[str, int]:
    return {label: w for label, w in spread.items() if label not in negatives}


# Answers when the resident has nothing negative to say on that question.
CALM: dict[str, dict[str, int]] = {
    **{k: _positive_spread(v, NEGATIVE_OPTIONS.get(k, {})) for k, v in SPREADS.items()},
    **dict.fromkeys(SATISFACTION_KEYS, _positive_spread(SATISFACTION, NEGATIVE_OPTIONS["sweep"])),
}


class _Chooser:
    """Weighted choice by one uniform draw (rng.choices re-sums the weights every call)."""

    def __init__(self, weights: dict) -> None:
        self.labels = list(weights)
        total = float(sum(weights.values()))
        edges, running = [], 0.0
        for w in weights.values():
            running += w
            edges.append(running / total)
        self.edges = edges

    def __call__(self, rng: random.Random) -> str:
        u = rng.random()
        for label, edge in zip(self.labels, self.edges, strict=True):
            if u < edge:
                return label
        return self.labels[-1]


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    text: str
    category: str
    options: dict[str, tuple[int, str]]  # label -> (option id, problem category)


@dataclass
class CadreSlice:
    person_id: int
    user_id: int
    households: list[int]  # indexes into the village's households, in slice order


@dataclass
class VillageWork:
    village_id: int
    household_ids: list[int]
    positions: list[tuple[str, str]]  # (lat, lng) of each household
    cadres: list[CadreSlice]
    admin_user_id: int


@dataclass
class ProblemSeed:
    """A problem a visit raised (or a call), before its lifecycle: see `ledger`."""

    reported_at: dt.datetime
    village_id: int
    household_id: int | None
    person_id: int | None
    reporter_user_id: int | None
    source: str
    category: str
    description: str
    visit: int | None = None  # index into the town's visits
    question_id: int | None = None
    option_id: int | None = None


@dataclass
class TownActivity:
    visits: list[list] = field(default_factory=list)  # VISIT_COLUMNS, id first (None)
    answers: list[tuple[int, int, int | None, int]] = field(default_factory=list)
    problems: list[ProblemSeed] = field(default_factory=list)
    vacant: list[int] = field(default_factory=list)  # confirmed empty household ids
    questionnaires: int = 0


VISIT_COLUMNS = (
    "id", "uuid", "payload_digest", "campaign_id", "household_id", "village_id", "cadre_id",
    "submitted_by_id", "outcome", "counts", "questionnaire_id", "leaflet_handed", "opinion",
    "note", "started_at", "ended_at", "received_at", "lat", "lng", "accuracy_m",
    "mock_location", "device_id", "app_version", "vacancy_confirmed_at",
    "vacancy_confirmed_by_id",
)  # fmt: skip


def visiting_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def day_weights(days: list[dt.date], rng: random.Random) -> list[float]:
    """The town's effort per day: a ramp over the first three days, fewer visits at weekends
    (cadres work; residents are out), some noise."""
    weights = []
    for n, day in enumerate(days):
        w = (0.45, 0.7, 0.85)[n] if n < 3 else 1.0
        if day.weekday() >= 5:
            w *= 0.75
        weights.append(w * rng.uniform(0.85, 1.15))
    return weights


class TownVisits:
    """Generates one town's visits; see the module docstring."""

    def __init__(self, *, rng: random.Random, campaign_id: int, questionnaire_id: int,
                 questions: dict[str, QuestionInfo], answers: str, problems_ratio: float,
                 cutoff: dt.datetime) -> None:  # fmt: skip
        self.rng = rng
        self.campaign_id = campaign_id
        self.questionnaire_id = questionnaire_id
        self.questions = questions
        # A revised questionnaire may lack a question: answer the ones it has.
        wanted = RATE_QUESTIONS if answers == "rates" else ALL_QUESTIONS
        self.keys = tuple(k for k in wanted if k in questions)
        self.cutoff = cutoff
        self.first_outcome = _Chooser(FIRST_OUTCOMES)
        self.revisit_outcome = _Chooser(REVISIT_OUTCOMES)
        self.calm = {k: _Chooser(CALM[k]) for k in self.keys if k in CALM}
        self.negative_option = {k: _Chooser(v) for k, v in NEGATIVE_OPTIONS.items()}
        negatives = {k: NEGATIVE_WEIGHTS[k] for k in self.keys if k in NEGATIVE_WEIGHTS}
        self.negative_question = _Chooser(negatives)
        self.negative_count = _Chooser(dict(NEGATIVE_COUNTS))
        mean_count = sum(n * p for n, p in NEGATIVE_COUNTS)
        self.p_negative = SURVEY_SHARE * problems_ratio / QUESTIONNAIRE_SHARE / mean_count
        self.p_raised = VISIT_SHARE * problems_ratio / QUESTIONNAIRE_SHARE
        self.out = TownActivity()

    # --- one visit ------------------------------------------------------------------------

    def _answers(self, visit_index: int) -> list[tuple[str, str]]:
        """(question key, option label) pairs of one questionnaire."""
        rng = self.rng
        negative: dict[str, list[str]] = {}
        if rng.random() < self.p_negative:
            for _ in range(int(self.negative_count(rng))):
                key = self.negative_question(rng)
                label = self.negative_option[key](rng)
                if label not in negative.setdefault(key, []):
                    negative[key].append(label)
        pairs: list[tuple[str, str]] = []
        for key in self.keys:
            if key in negative:
                pairs.extend((key, label) for label in negative[key])
                if key == "safety" and "safety_reason" in self.questions:
                    pairs.append(("safety_reason", rng.choice(UNSAFE_REASONS)))
            elif key == "nearby":
                pairs.append((key, "都没有"))
            else:
                pairs.append((key, self.calm[key](rng)))
        return pairs

    def visit(self, *, work: VillageWork, cadre: CadreSlice, local: int, outcome: str,
              start: dt.datetime) -> dt.datetime:  # fmt: skip
        """Record one visit starting at `start`; returns when it ended."""
        rng = self.rng
        low, high = MINUTES[outcome]
        ended = start + dt.timedelta(minutes=rng.randint(low, high), seconds=rng.randrange(60))
        received = self._received(ended)
        household_id = work.household_ids[local]
        questionnaire = outcome in ("completed", "phone")
        index = len(self.out.visits)
        opinion = ""
        if questionnaire:
            self.out.questionnaires += 1
            for key, label in self._answers(index):
                question = self.questions[key]
                option_id, option_category = question.options[label]
                self.out.answers.append((index, question.id, option_id, rng.randrange(2000, 15000)))
                if key in NEGATIVE_OPTIONS and label in NEGATIVE_OPTIONS[key]:
                    self.out.problems.append(
                        ProblemSeed(received, work.village_id, household_id, cadre.person_id,
                                    cadre.user_id, "survey", option_category or question.category,
                                    f"{question.text}　回答：{label}", index, question.id,
                                    option_id)
                    )  # fmt: skip
            if rng.random() < 0.08:
                opinion = rng.choice(OPINIONS)
            if rng.random() < self.p_raised:
                text, category = rng.choice(RAISED)
                self.out.problems.append(
                    ProblemSeed(received, work.village_id, household_id, cadre.person_id,
                                cadre.user_id, "visit", category, text, index)
                )  # fmt: skip
        if outcome == "phone":
            lat, lng = _jitter(work.positions[0], rng, 0.02)
        else:
            lat, lng = _jitter(work.positions[local], rng, 0.0003)
        uid = uuid.UUID(int=rng.getrandbits(128), version=4)
        confirmed_at, confirmed_by = None, None
        if outcome == "vacant" and rng.random() < 0.7:
            moment = received + dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 3))
            if moment < self.cutoff:
                confirmed_at, confirmed_by = moment, work.admin_user_id
                self.out.vacant.append(household_id)
        digest = hashlib.sha256(f"{uid}|{household_id}|{outcome}|{ended}".encode()).hexdigest()
        self.out.visits.append(
            [None, uid, digest, self.campaign_id, household_id, work.village_id,
             cadre.person_id, cadre.user_id, outcome, outcome in COUNTING,
             self.questionnaire_id if questionnaire else None,
             outcome in ("completed", "refused") and rng.random() < 0.97, opinion, "",
             start, ended, received, lat, lng, round(rng.uniform(3, 35), 1),
             rng.random() < 0.001, f"gen-{cadre.person_id}", APP_VERSION, confirmed_at,
             confirmed_by]
        )  # fmt: skip
        return ended

    def _received(self, ended: dt.datetime) -> dt.datetime:
        """Online at once (most), synced in the evening, or the next morning (offline)."""
        rng = self.rng
        u = rng.random()
        if u < 0.55:
            moment = ended + dt.timedelta(seconds=rng.randint(2, 120))
        else:
            local = ended.astimezone(SHANGHAI)
            evening = dt.datetime.combine(local.date(), dt.time(19, 30), tzinfo=SHANGHAI)
            moment = max(ended + dt.timedelta(minutes=1), evening)
            moment += dt.timedelta(minutes=rng.randint(0, 150))
            if u > 0.95:
                moment = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(7, 30),
                                             tzinfo=SHANGHAI) + dt.timedelta(
                    minutes=rng.randint(0, 90))  # fmt: skip
        return min(moment, self.cutoff)

    # --- the town over the days -----------------------------------------------------------

    def run(self, villages: list[VillageWork], days: list[dt.date], target: int) -> TownActivity:
        rng = self.rng
        cadres = [(work, cadre) for work in villages for cadre in work.cadres if cadre.households]
        if not cadres or not days or target <= 0:
            return self.out
        total = sum(len(c.households) for _, c in cadres)
        pace = [rng.uniform(0.7, 1.3) * len(c.households) / total for _, c in cadres]
        norm = sum(pace)
        pace = [p / norm for p in pace]
        weights = day_weights(days, rng)
        queues = [deque(c.households) for _, c in cadres]
        retry: list[list[tuple[dt.date, int]]] = [[] for _ in cadres]
        carry = [rng.random() for _ in cadres]
        done = 0
        for day, weight in zip(days, weights, strict=True):
            planned = target * weight / sum(weights)
            for k, (work, cadre) in enumerate(cadres):
                share = planned * pace[k] + carry[k]
                n = int(share)
                carry[k] = share - n
                minute = 8 * 60 + 30 + rng.randrange(90)
                for _ in range(n):
                    if done >= target:
                        break
                    due = [item for item in retry[k] if item[0] <= day]
                    if due:
                        retry[k].remove(due[0])
                        local, outcome = due[0][1], self.revisit_outcome(rng)
                    elif queues[k]:
                        local, outcome = queues[k].popleft(), self.first_outcome(rng)
                    else:
                        break
                    start = dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI) + dt.timedelta(
                        minutes=minute
                    )
                    if start >= self.cutoff:
                        break
                    ended = self.visit(work=work, cadre=cadre, local=local, outcome=outcome,
                                       start=start)  # fmt: skip
                    done += 1
                    minute = int((ended - start).total_seconds() // 60) + minute
                    minute += rng.randint(8, 40)
                    if outcome == "not_home" and rng.random() < 0.85:
                        retry[k].append((day + dt.timedelta(days=rng.randint(1, 4)), local))
        return self.out


def _jitter(position: tuple[str, str], rng: random.Random, degrees: float) -> tuple[str, str]:
    lat, lng = float(position[0]), float(position[1])
    return (f"{lat + rng.uniform(-degrees, degrees):.6f}",
            f"{lng + rng.uniform(-degrees, degrees):.6f}")  # fmt: skip
