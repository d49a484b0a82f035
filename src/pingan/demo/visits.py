"""Synthetic visits for `pingan demo`: the first days of the visiting phase, at a realistic pace.

Every cadre visits a few of their allocated households a day, in the order of their 片; some
residents are not home and are visited again a day or two later; a few refuse or are phoned;
answers follow a realistic spread with a few negative ones, which raise problems. Each day's
visits go through `visit_sync` as that cadre, on that day (`clock.at`), so they are stored,
checked and turned into problems exactly as real ones are.
"""

import datetime as dt
import random
import uuid
from collections import deque
from dataclasses import dataclass

from django.db import transaction

from pingan.accounts.models import Person
from pingan.campaigns.models import Assignment, Campaign, Phase
from pingan.core import clock
from pingan.surveys.answers import AnswerIn
from pingan.visits.models import Visit
from pingan.visits.services import BATCH_LIMIT, ProblemIn, VisitIn, visit_sync

# Option label -> weight, per question (a rural town where most people feel safe and satisfied).
SPREADS: dict[str, dict[str, int]] = {
    "safety": {"安全": 560, "比较安全": 340, "不太安全": 40, "不安全": 8, "说不清": 52},
    "trend": {"变好了": 640, "没什么变化": 280, "变差了": 12, "说不清": 68},
    "night": {"不担心": 520, "不太担心": 330, "有些担心": 80, "很担心": 15, "说不清": 55},
    "disputes": {"能": 600, "基本能": 300, "不能": 25, "说不清": 75},
    "aware": {"知道": 860, "不知道": 140},
    "participate": {"参加过": 380, "没参加过": 620},
    "antifraud": {"了解": 560, "了解一些": 360, "不了解": 80},
}
SATISFACTION = {"满意": 600, "比较满意": 300, "不太满意": 25, "不满意": 7, "说不清": 68}
SATISFACTION_KEYS = ("sweep", "police", "court", "procuratorate", "justice", "pingan")
NEARBY = {"盗窃抢劫": 18, "黑恶势力": 2, "吸毒贩毒": 2, "赌博": 10, "黄色违法活动": 1,
          "电信网络诈骗": 30}  # fmt: skip
UNSAFE_REASONS = ("盗窃/入室盗窃", "电信网络诈骗", "交通安全", "邻里或家庭纠纷", "赌博")
OUTCOMES = {"completed": 830, "phone": 45, "not_home": 95, "refused": 15, "vacant": 15}
OPINIONS = (
    "希望村里多装几个路灯，晚上出门方便。",
    "村口路段大车多，希望加装减速带。",
    "希望派出所多到村里巡逻。",
    "反诈宣传很好，希望经常讲讲。",
    "留守老人多，希望多上门看看。",
    "河塘边没有护栏，孩子玩水不安全。",
    "邻居宅基地纠纷好几年了，希望调解一下。",
)
RAISED = (
    ("村东头路灯坏了三个月没人修", "基础设施"),
    ("邻里宅基地边界纠纷，希望村里调解", "矛盾纠纷"),
    ("夜里有人偷电动车电瓶", "治安"),
    ("河塘边缺少护栏和警示牌", "安全隐患"),
    ("接到冒充客服的诈骗电话", "反诈宣传"),
)


@dataclass(frozen=True)
class DemoVisitsResult:
    created: bool
    visits: int
    message: str


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _answers(rng: random.Random) -> tuple[AnswerIn, ...]:
    answers = []
    safety = _pick(rng, SPREADS["safety"])
    answers.append(AnswerIn("safety", (safety,), answer_ms=rng.randrange(3000, 15000)))
    if safety in ("不太安全", "不安全"):
        answers.append(AnswerIn("safety_reason", (rng.choice(UNSAFE_REASONS),)))
    answers += [AnswerIn(key, (_pick(rng, SPREADS[key]),)) for key in ("trend", "night")]
    seen = [label for label, weight in NEARBY.items() if rng.random() < weight / 1000]
    answers.append(AnswerIn("nearby", tuple(seen) or ("都没有",)))
    answers += [AnswerIn(key, (_pick(rng, SATISFACTION),)) for key in SATISFACTION_KEYS[:1]]
    answers.append(AnswerIn("disputes", (_pick(rng, SPREADS["disputes"]),)))
    answers += [AnswerIn(key, (_pick(rng, SATISFACTION),)) for key in SATISFACTION_KEYS[1:]]
    answers += [
        AnswerIn(key, (_pick(rng, SPREADS[key]),)) for key in ("aware", "participate", "antifraud")
    ]
    return tuple(answers)


def _visit(
    rng: random.Random, household_id: int, campaign: Campaign, day: dt.date, minute: int
) -> VisitIn:
    outcome = _pick(rng, OUTCOMES)
    start = dt.datetime.combine(day, dt.time(8, 30), tzinfo=clock.SHANGHAI) + dt.timedelta(
        minutes=minute
    )
    length = rng.randrange(9, 22) if outcome == "completed" else rng.randrange(1, 6)
    with_questionnaire = outcome in ("completed", "phone")
    opinion = rng.choice(OPINIONS) if with_questionnaire and rng.random() < 0.08 else ""
    raised = (ProblemIn(*rng.choice(RAISED)),) if with_questionnaire and rng.random() < 0.02 else ()
    return VisitIn(
        uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
        digest=f"demo-{household_id}-{day}-{minute}",
        household_id=household_id,
        outcome=outcome,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=length),
        questionnaire_id=campaign.questionnaire_id if with_questionnaire else None,
        answers=_answers(rng) if with_questionnaire else (),
        leaflet_handed=outcome in ("completed", "refused"),
        opinion=opinion,
        problems=raised,
        accuracy_m=round(rng.uniform(4, 35), 1),
        mock_location=False,
        device_id=f"demo-{household_id % 997:03d}",
        app_version="demo",
    )


def demo_visits_generate(
    *, campaign: Campaign, until: dt.date, seed: int = 2021
) -> DemoVisitsResult:
    """Visits from the first day of the visiting phase up to `until` (inclusive); nothing if
    the campaign already has visits, so running the demo again adds none."""
    if Visit.objects.filter(campaign=campaign).exists():
        n = Visit.objects.filter(campaign=campaign).count()
        return DemoVisitsResult(False, n, f"已有 {n} 条走访记录，不再生成。")
    phase = campaign.phases.filter(kind=Phase.Kind.VISITING).first()
    if phase is None or campaign.questionnaire_id is None:
        return DemoVisitsResult(False, 0, "活动没有走访整改阶段或问卷，未生成走访。")
    rng = random.Random(f"pingan-visits:{seed}")  # noqa: S311 - reproducible fiction
    queues: dict[int, deque[int]] = {}
    users = {
        p.pk: p.user
        for p in Person.objects.filter(
            active=True, user__isnull=False, visit_village__parent=campaign.town
        ).select_related("user")
        if p.user is not None
    }
    for cadre_id, household_id in (
        Assignment.objects.filter(campaign=campaign, ended_at__isnull=True, cadre__in=list(users))
        .order_by("cadre_id", "household__group_no", "household__address", "household_id")
        .values_list("cadre_id", "household_id")
    ):
        queues.setdefault(cadre_id, deque()).append(household_id)
    total = 0
    indexes: dict = {}
    day = phase.start_date
    while day <= min(until, phase.end_date):
        for cadre_id, queue in queues.items():
            pace = rng.choices((0, 1, 2, 3, 4, 5), (8, 14, 27, 28, 16, 7))[0]
            items, minute = [], rng.randrange(0, 90)
            for _ in range(min(pace, len(queue))):
                household_id = queue.popleft()
                item = _visit(rng, household_id, campaign, day, minute)
                minute += rng.randrange(20, 60)
                items.append(item)
                if item.outcome == "not_home":
                    # Try again later: a day or two on, after the ones already planned.
                    queue.insert(min(len(queue), rng.randrange(2, 8)), household_id)
            evening = dt.datetime.combine(day, dt.time(19, 30), tzinfo=clock.SHANGHAI)
            for start in range(0, len(items), BATCH_LIMIT):
                with clock.at(evening), transaction.atomic():
                    results = visit_sync(
                        actor=users[cadre_id],
                        items=items[start : start + BATCH_LIMIT],
                        indexes=indexes,
                    )
                bad = [r for r in results if r.status != "created"]
                if bad:
                    raise ValueError(f"合成走访未能写入：{bad[0].errors or bad[0].detail}")
                total += len(results)
        day += dt.timedelta(days=1)
    return DemoVisitsResult(
        True,
        total,
        f"已生成 {total} 条合成走访记录（{phase.start_date:%m-%d} 至 {until:%m-%d}）。",
    )
