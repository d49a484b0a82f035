"""Synthetic ledger work for `pingan demo` (合成演示数据): the town center, the responsible
units, the leaders and the visiting cadres work the demo's problems day by day, so that at
the demo clock the ledger holds problems in every state, some overdue, some due soon, an
extension waiting for the leader, a returned one, a redo (重办) and closed ones (销号).

Nothing here writes a problem directly. Every step is a real service call made by a real
user of the right role (`problem_report`, `problem_act`), run under `clock.at` at a
plausible working-day moment, and `problem_tick` runs every evening, so the events, notices,
deadlines, reminders (催办) and supervision notices (督办) are exactly what real use makes.

Two kinds of problems move:
- fourteen calls and walk-ins (来电来访) that the town center registers from the first working
  day after the National Day holiday (a week before the campaign starts), each with a planned path; they carry the cases a demo
  must show (a problem dispatched 10 working days before the demo day is the only way to be
  overdue on it), anchored to the demo day so any `--visit-days` works;
- each working day, the oldest few dozen problems the visits raised: accepted or rejected in
  the morning, dispatched in the afternoon to the unit the question or category points to,
  then handled, returned, extended or still open, and taken back to the resident.

The same seed always gives the same ledger.
"""

import contextlib
import datetime as dt
import functools
import heapq
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count

from pingan.accounts.models import Person, Role, Unit, User
from pingan.accounts.services import user_create
from pingan.campaigns.models import Assignment, Campaign, Phase
from pingan.core import clock
from pingan.core.workdays import add_working_days, is_working_day, working_day_back
from pingan.ledger.deadlines import Colour, colour_q, deadline_for, due_soon_cutoff
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem, ProblemEvent, ProblemReporter
from pingan.ledger.routing import TownIndex, suggest
from pingan.ledger.services import ActionInput, problem_act
from pingan.ledger.supervision import problem_tick
from pingan.ledger.triage import BATCH_LIMIT, Decision, concerns_triage
from pingan.regions.models import Region
from pingan.visits.concerns import category_names, concern_report, thought_work_record
from pingan.visits.models import Concern, ConcernItem, ThoughtWork

# Concerns the town center triages each working-day morning at most (the oldest first).
DAILY_INTAKE = 400
# Supervision runs every evening of the back-filled days (after the day's visits are synced).
TICK_TIME = dt.time(19, 40)
# How each filed visit problem goes on once dispatched (weights).
FATES = {"handle": 78, "open": 10, "return": 6, "extend": 6}
DECLINE_SHARE = 0.04  # concerns with matters the center finds nothing to do about
DISSATISFIED_SHARE = 0.12
TALK_CHANGED_SHARE = 0.6  # residents whose view changes after the cadre's talk

GENERAL, COMPLEX = Problem.Severity.GENERAL, Problem.Severity.COMPLEX
SATISFIED, DISSATISFIED = Problem.Verdict.SATISFIED, Problem.Verdict.DISSATISFIED

# Where a problem goes: by the question that raised it, else by its category.
POLICE, JUSTICE, CENTER = Unit.Kind.POLICE, Unit.Kind.JUSTICE, Unit.Kind.GOVERNANCE
QUESTION_UNITS = {
    "safety": POLICE, "trend": POLICE, "night": POLICE, "nearby": POLICE, "sweep": POLICE,
    "police": POLICE, "antifraud": POLICE, "justice": JUSTICE, "disputes": JUSTICE,
}  # fmt: skip
CATEGORY_UNITS = {
    "治安": POLICE, "反诈宣传": POLICE, "扫黑除恶": POLICE, "矛盾纠纷": JUSTICE,
    "安全隐患": "应急管理办公室", "基础设施": "城建办公室",
}  # fmt: skip
RESULTS = {
    POLICE: (
        "派出所已加强该片区夜间巡逻，民警上门讲解防盗防骗知识，群众表示理解。",
        "已立案调查，民警上门告知处理进展，并在村内张贴防范提示。",
    ),
    JUSTICE: (
        "司法所会同村调委会上门调解，双方达成口头调解协议。",
        "已组织双方当面协商，讲解相关法律规定，矛盾已化解。",
    ),
    CENTER: (
        "镇综治中心上门沟通，解释相关工作，记录群众意见并转相关部门。",
        "已约谈村两委，督促落实整改并向群众说明情况。",
    ),
    "": ("已现场查看并整改完毕，向群众说明了处理情况。",),
}
DECLINE_REASONS = (
    "经核实，群众所提为工作建议，不需交办，已当面解释",
    "经回访核实，反映的情况已自行解决",
)
TALK_NOTES = (
    "上门面对面交流，介绍了本村近期治安防范措施和巡逻安排，群众表示理解。",
    "讲解了派出所、司法所的联系方式和反映渠道，群众表示有事会及时反映。",
    "听取了群众的担心，讲了近期破获的案件和防范知识，群众仍有顾虑，将继续沟通。",
)
RETURN_REASONS = (
    "该问题不属本单位职责，请重新交办",
    "经核实属矛盾纠纷调解事项，建议交司法所办理",
)
EXTEND_REASONS = (
    "需协调县直部门共同处理，申请延长办理时限",
    "涉及多户群众，调解需要更多时间",
)
DISSATISFIED_REASONS = (
    "群众认为只作了口头答复，问题没有实际解决",
    "群众反映整改后问题又出现了",
)

# Calls and walk-ins (来电来访) the town center registers: description, category, unit
# (a Unit.Kind for the town's one police station, justice office, governance center, or a
# unit's name), and the path each takes (see `_plan_calls`).
CALLS = (
    ("来电反映：村部附近夜间有人聚众赌博，吵闹影响休息", "治安", POLICE),
    ("来访反映：邻居砌墙占用通行道路，宅基地边界争议多年未解决", "矛盾纠纷", "自然资源和规划所"),
    ("来电反映：家中电动车电瓶夜里被盗", "治安", POLICE),
    ("来电反映：接到冒充快递客服的电话，要求提供银行卡验证码", "反诈宣传", POLICE),
    ("来电反映：村里有人收取“保护费”，群众敢怒不敢言", "扫黑除恶", POLICE),
    ("来电反映：村东头主干道路灯不亮已两个月，夜间出行不便", "基础设施", "汝集供电所"),
    ("来电反映：独居老人家中电线老化，存在用电隐患", "安全隐患", "汝集供电所"),
    ("来访反映：村西坑塘边没有护栏，放学后常有孩子在塘边玩耍", "安全隐患", "应急管理办公室"),
    ("来访反映：兄弟之间因赡养老人问题多次争吵，希望调解", "矛盾纠纷", JUSTICE),
    ("来电反映：秸秆堆放在变压器旁，存在火灾隐患", "安全隐患", "应急管理办公室"),
    ("来访反映：外出务工被拖欠工资三个月，讨要无果", "矛盾纠纷", "人力资源和社会保障所"),
    ("来电反映：集市上有流动摊贩售卖无标签散装食品", "安全隐患", "市场监督管理所"),
    ("来访反映：承包地流转费拖欠两年，多次找村委会未果", "矛盾纠纷", "农业综合服务中心"),
    ("来电反映：村口路段大车多、车速快，希望加装减速带", "安全隐患", "应急管理办公室"),
)


@dataclass(frozen=True)
class DemoLedgerResult:
    created: bool
    moved: int  # problems that left `reported`
    message: str
    decisions: int = 0  # triage actions the town center took (a batch is one)
    triaged: int = 0  # concerns they decided


@dataclass
class _Case:
    """One problem's planned path: its id once reported, and the moment of its last step."""

    problem_id: int | None = None
    concern_id: int | None = None
    last: dt.datetime | None = None
    dead: bool = False  # a step could not be taken (no one to take it): skip the rest


@dataclass(order=True)
class _Step:
    at: dt.datetime
    seq: int
    run: Callable[[], object] = field(compare=False)


def _moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=clock.SHANGHAI) + dt.timedelta(
        minutes=minute
    )


def _after(day: dt.date, n: int) -> dt.date:
    """The nth working day after `day`."""
    return add_working_days(day, n).day


def _working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _first_working_day(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Back-filled days send no real texts and need no log lines: the demo prints a summary."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class _Plan:
    """The demo's ledger work as a timeline of service calls, run in time order."""

    def __init__(self, *, campaign: Campaign, until: dt.datetime, rng: random.Random,
                 town_admin: User, leader: User, featured_unit: Unit) -> None:  # fmt: skip
        self.campaign = campaign
        self.town: Region = campaign.town
        self.until = until
        self.rng = rng
        self.town_admin = town_admin
        self.leader = leader
        self.featured_unit = featured_unit
        self.steps: list[_Step] = []  # a heap: steps taken at run time may plan more
        self.seq = 0
        self.decisions = 0
        self.triaged = 0
        self.units = list(Unit.objects.filter(region=self.town, active=True).order_by(
            "sort_order", "name"))  # fmt: skip
        self.handlers: dict[int, User] = {}
        self.categories = set(category_names(town=self.town))

    # --- units and their handlers -----------------------------------------------------------

    def unit(self, key: str) -> Unit:
        """The town's unit for a Unit.Kind (police, justice, governance) or a unit's name;
        the governance center, then the featured unit, stand in for a missing one."""
        for wanted in (key, CENTER):
            found = next((u for u in self.units if u.kind == wanted or u.name == wanted), None)
            if found is not None:
                return found
        return self.featured_unit

    def other_unit(self, unit: Unit) -> Unit:
        """Where a returned problem goes instead (the governance center, else any other)."""
        for candidate in (self.unit(CENTER), self.unit(JUSTICE), *self.units):
            if candidate.pk != unit.pk:
                return candidate
        return unit

    def handler(self, unit: Unit) -> User:
        """The unit's handler: its active handler account, else a login-less synthetic one
        (a real town gives every responsible unit an account; the demo prints only one)."""
        if unit.pk not in self.handlers:
            user = (
                User.objects.filter(role=Role.UNIT_HANDLER, unit=unit, is_active=True)
                .order_by("pk")
                .first()
            )
            if user is None:
                user = user_create(
                    username=f"demo-unit-{unit.pk}",
                    role=Role.UNIT_HANDLER,
                    region=self.town,
                    unit=unit,
                    password=None,
                    full_name=f"{unit.name}办理人（合成）",
                )
            self.handlers[unit.pk] = user
        return self.handlers[unit.pk]

    # --- the timeline -------------------------------------------------------------------------

    def add(self, case: _Case, at: dt.datetime, run: Callable[[], None]) -> None:
        if case.last is not None and at <= case.last:
            raise ValueError(f"demo ledger plan out of order at {at}")  # a bug in the plan
        case.last = at
        self.at(at, run)

    def at(self, at: dt.datetime, run: Callable[[], object]) -> None:
        if at <= self.until:
            self.seq += 1
            heapq.heappush(self.steps, _Step(at, self.seq, run))

    def act(self, case: _Case, at: dt.datetime, actor: User | Callable[[], User | None],
            action: str, data: ActionInput | None = None) -> None:  # fmt: skip
        def run() -> None:
            who = actor() if callable(actor) else actor
            if case.dead or case.problem_id is None or who is None:
                case.dead = True
                return
            version = Problem.objects.values_list("version", flat=True).get(pk=case.problem_id)
            problem_act(actor=who, problem_id=case.problem_id, action=action, version=version,
                        data=data or ActionInput())  # fmt: skip

        self.add(case, at, run)

    def tick_every_evening(self, first: dt.date) -> None:
        day = first
        while (evening := dt.datetime.combine(day, TICK_TIME, clock.SHANGHAI)) <= self.until:
            self.at(evening, lambda: problem_tick(now=clock.now()))
            day += dt.timedelta(days=1)

    def run(self) -> None:
        while self.steps:
            step = heapq.heappop(self.steps)
            with clock.at(step.at):
                step.run()

    # --- the lifecycle steps, by the roles that take them ------------------------------------

    @staticmethod
    def visitor(cadre: Person | None, village_id: int) -> User | None:
        """Who takes a result back to a household: the visiting cadre (their account), else
        the village admin standing in."""
        if cadre is not None and cadre.active and cadre.user and cadre.user.is_active:
            return cadre.user
        return (
            User.objects.filter(role=Role.VILLAGE_ADMIN, region_id=village_id, is_active=True)
            .order_by("pk")
            .first()
        )

    def file(self, case: _Case, at: dt.datetime) -> None:
        """立案 a registered call (受理; dispatched in a later step)."""

        def run() -> None:
            if case.concern_id is None:
                case.dead = True
                return
            [result] = self.triage([Decision(case.concern_id, 1, Concern.Outcome.FILE)])
            case.problem_id = result.problem_id

        self.add(case, at, run)

    def decline(self, case: _Case, at: dt.datetime, reason: str) -> None:
        def run() -> None:
            if case.concern_id is not None:
                self.triage([Decision(case.concern_id, 1, Concern.Outcome.DECLINE,
                                      reason=reason)])  # fmt: skip

        self.add(case, at, run)

    def triage(self, decisions: list[Decision]) -> list:
        """One triage action of the town center (a batch is one decision)."""
        results = concerns_triage(actor=self.town_admin, decisions=decisions)
        refused = [r for r in results if r.status == "refused"]
        if refused:  # a bug in the plan: the demo's decisions are all valid
            raise ValueError(f"demo triage refused: {refused[0].detail}")
        self.decisions += 1
        self.triaged += len(results)
        return results

    def dispatch(self, case: _Case, at: dt.datetime, unit: Unit, severity: str = GENERAL) -> None:
        self.handler(unit)  # the unit has someone to receive it
        self.act(case, at, self.town_admin, Action.DISPATCH,
                 ActionInput(unit_id=unit.pk, severity=severity))  # fmt: skip

    def remind(self, case: _Case, at: dt.datetime) -> None:
        self.act(case, at, self.town_admin, Action.REMIND, ActionInput(reason="请抓紧办理"))

    def handle(self, case: _Case, at: dt.datetime, unit: Unit) -> None:
        result = self.rng.choice(RESULTS.get(unit.kind, RESULTS[""]))
        self.act(case, at, self.handler(unit), Action.HANDLE, ActionInput(result=result))

    def give_back(self, case: _Case, at: dt.datetime, unit: Unit, reason: str = "") -> None:
        reason = reason or self.rng.choice(RETURN_REASONS)
        self.act(case, at, self.handler(unit), Action.RETURN, ActionInput(reason=reason))

    def extend_request(self, case: _Case, at: dt.datetime, unit: Unit, days: int) -> None:
        reason = self.rng.choice(EXTEND_REASONS)
        self.act(case, at, self.handler(unit), Action.EXTEND_REQUEST,
                 ActionInput(reason=reason, days=days))  # fmt: skip

    def extend_decide(self, case: _Case, at: dt.datetime, *, approve: bool) -> None:
        if approve:
            self.act(case, at, self.leader, Action.EXTEND_APPROVE)
        else:
            self.act(case, at, self.leader, Action.EXTEND_DENY,
                     ActionInput(reason="问题不复杂，请按原时限办结"))  # fmt: skip

    def feedback(self, case: _Case, at: dt.datetime, verdict: str) -> None:
        """Each reporting household still waiting hears the result from its own cadre: the
        first gives `verdict` (a dissatisfied one sends the problem back at once), the others
        are satisfied."""
        reason = self.rng.choice(DISSATISFIED_REASONS) if verdict == DISSATISFIED else ""

        def run() -> None:
            if case.dead or case.problem_id is None:
                return
            waiting = list(
                ProblemReporter.objects.filter(problem_id=case.problem_id, verdict="",
                                               unreachable_confirmed_at__isnull=True)
                .select_related("cadre__user")
                .order_by("id")
            )  # fmt: skip
            for n, reporter in enumerate(waiting):
                who = self.visitor(reporter.cadre, reporter.village_id)
                problem = Problem.objects.only("status", "version").get(pk=case.problem_id)
                if who is None or problem.status != Problem.Status.HANDLED:
                    return
                said = verdict if n == 0 else SATISFIED
                problem_act(actor=who, problem_id=case.problem_id, action=Action.FEEDBACK,
                            version=problem.version,
                            data=ActionInput(verdict=said, reason=reason if n == 0 else "",
                                             reporter_id=reporter.pk))  # fmt: skip

        self.add(case, at, run)

    def handle_and_feed_back(self, case: _Case, day: dt.date, unit: Unit, *,
                             verdict: str = SATISFIED, redo: bool = True) -> None:  # fmt: skip
        """Handled within a few working days after `day`, and the verdict taken back a day
        or two later in the evening; a dissatisfied resident's problem is handled again."""
        rng = self.rng
        handled = _after(day, rng.choices((1, 2, 3, 4, 5), (15, 25, 25, 20, 15))[0])
        self.handle(case, _moment(handled, 10, rng.randrange(420)), unit)
        back = handled + dt.timedelta(days=rng.choices((0, 1, 2, 3), (15, 40, 30, 15))[0])
        self.feedback(case, _moment(back, 18, rng.randrange(60)), verdict)
        if verdict == DISSATISFIED and redo:
            self.handle_and_feed_back(case, back, unit, redo=False)

    # --- calls and walk-ins: the cases the demo must show ------------------------------------

    def report_call(self, case: _Case, at: dt.datetime, household_id: int, call: tuple) -> None:
        description, category, _ = call
        source = Concern.Source.WALK_IN if description.startswith("来访") else Concern.Source.PHONE

        def run() -> None:
            concern = concern_report(actor=self.town_admin, household_id=household_id,
                                     text=description, category=self.category(category),
                                     source=source)  # fmt: skip
            case.concern_id = concern.pk

        self.add(case, at, run)

    def category(self, name: str) -> str:
        """`name` when the town's category list has it (the seed's does), else none."""
        return name if name in self.categories else ""

    def calls(self, *, households: list[int], featured: list[int]) -> int:
        """Plan the calls; returns how many. `featured` are households of the demo cadre, who
        then has a closed problem, a redo and a result to take back (反馈群众)."""
        rng = self.rng
        last = self.until.date()
        while not is_working_day(last):
            last -= dt.timedelta(days=1)
        visiting = self.campaign.phases.filter(kind=Phase.Kind.VISITING).first()
        first = _first_working_day(self.campaign.start_date - dt.timedelta(days=7))
        start_visits = visiting.start_date if visiting else self.campaign.start_date
        early = _working_days(first, max(first, start_visits - dt.timedelta(days=1)))

        def deadline(day: dt.date) -> dt.datetime:
            return deadline_for(campaign=self.campaign, severity=GENERAL,
                                start=_moment(day, 10)).at  # fmt: skip

        days = _working_days(first, last)
        overdue = [d for d in days if deadline(d) < self.until]
        due_soon = [d for d in days if self.until <= deadline(d) <= due_soon_cutoff(self.until)]
        red_day = overdue[-1] if overdue else first
        yellow_day = due_soon[-1] if due_soon else early[min(3, len(early) - 1)]

        def early_day(i: int) -> dt.date:
            return early[min(i, len(early) - 1)]

        def household(i: int, *, mine: bool = False) -> int:
            pool = featured if mine and featured else households
            return pool[i % len(pool)] if mine else rng.choice(pool)

        inbox = self.featured_unit  # the demo unit handler's (汝集派出所)
        Then = Callable[[_Case, dt.date, Unit], None]
        # (day, call, household, first unit, what follows the dispatch)
        plans: list[tuple[dt.date, int, int, Unit, Then]] = []

        def path(day: dt.date, call: int, where: int, then: Then, unit: Unit | None = None):
            plans.append((day, call, where, unit or self.unit(CALLS[call][2]), then))

        def nothing(case: _Case, day: dt.date, unit: Unit) -> None:
            return None

        # 1. 超期: dispatched ten working days before the demo day, reminded on its last day.
        def overdue_reminded(case: _Case, day: dt.date, unit: Unit) -> None:
            due = clock.local(deadline(day)).date()
            self.remind(case, _moment(due, 9, 20))

        path(red_day, 0, household(0), overdue_reminded, inbox)
        path(red_day, 12, household(9), nothing)  # no word from the unit: 督办 tonight

        # 2. 超期, extension denied: the earliest call (overdue longest; 通报批评 when the demo
        # runs long enough for supervision plus five working days).
        def overdue_denied(case: _Case, day: dt.date, unit: Unit) -> None:
            asked = _after(day, 7)
            self.extend_request(case, _moment(asked, 15, 10), unit, days=10)
            self.extend_decide(case, _moment(_after(asked, 1), 10, 5), approve=False)

        path(first, 1, household(1), overdue_denied)

        # 3, 4. 临期: due within two working days; one with an extension waiting for the leader.
        def extension_pending(case: _Case, day: dt.date, unit: Unit) -> None:
            if last > day:
                self.extend_request(case, _moment(last, 15, 30), unit, days=5)

        path(yellow_day, 2, household(2), nothing, inbox)
        path(yellow_day, 3, household(3), extension_pending, inbox)

        # 5. Extension approved by the leader: a new deadline.
        def extension_approved(case: _Case, day: dt.date, unit: Unit) -> None:
            asked = _after(day, 6)
            self.extend_request(case, _moment(asked, 16, 0), unit, days=5)
            self.extend_decide(case, _moment(_after(asked, 1), 9, 30), approve=True)

        path(early_day(1), 4, household(4), extension_approved, inbox)

        # 6, 7. The demo cadre's: one closed (满意销号), one redo (不满意, 重办).
        def closed(case: _Case, day: dt.date, unit: Unit) -> None:
            handled = _after(day, 3)
            self.handle(case, _moment(handled, 15, 0), unit)
            self.feedback(case, _moment(handled + dt.timedelta(days=1), 18, 10), SATISFIED)

        def redone(case: _Case, day: dt.date, unit: Unit) -> None:
            handled = _after(day, 2)
            self.handle(case, _moment(handled, 16, 0), unit)
            self.feedback(case, _moment(handled + dt.timedelta(days=1), 18, 20), DISSATISFIED)

        path(early_day(2), 5, household(0, mine=True), closed)
        path(early_day(3), 6, household(1, mine=True), redone)

        # 8. The demo cadre has results to take back to the resident (反馈群众): handled
        # yesterday and today.
        def handled_on(back: int) -> Then:
            def to_feed_back(case: _Case, day: dt.date, unit: Unit) -> None:
                handled = working_day_back(last, back)
                if handled > day:
                    self.handle(case, _moment(handled, 11, 0), unit)

            return to_feed_back

        def before_last(n: int) -> dt.date:
            return working_day_back(last, n) if len(days) > n else first

        path(before_last(4), 7, household(2, mine=True), handled_on(1))
        path(before_last(5), 13, household(3, mine=True), handled_on(2))

        # 9. Sent to the wrong unit: returned within two working days, dispatched again to the
        # right one, handled, closed.
        def returned(case: _Case, day: dt.date, unit: Unit) -> None:
            right = self.unit(JUSTICE)
            self.give_back(case, _moment(_after(day, 1), 10, 30), unit,
                           "属家庭矛盾纠纷，不属公安机关职责，建议交司法所调解")  # fmt: skip
            again = _after(day, 2)
            self.dispatch(case, _moment(again, 9, 20), right)
            self.handle_and_feed_back(case, again, right, redo=False)

        path(early_day(4), 8, household(5), returned, inbox)

        # 10. Returned today: back with the town center to dispatch again (已受理).
        def returned_today(case: _Case, day: dt.date, unit: Unit) -> None:
            if last > day:
                self.give_back(case, _moment(last, 10, 0), unit,
                               "属劳动报酬争议，建议交人社所办理")  # fmt: skip

        path(before_last(2), 10, household(6), returned_today, inbox)

        # Each call: registered in the morning, accepted, dispatched in the afternoon (those
        # sent to `inbox` are in the demo unit handler's inbox, or were returned by it).
        for index, (day, call, where, unit, then) in enumerate(plans):
            case = _Case()
            minute = 7 * index
            self.report_call(case, _moment(day, 9, minute), where, CALLS[call])
            self.file(case, _moment(day, 9, minute + 3))
            self.dispatch(case, _moment(day, 14, minute), unit)
            then(case, day, unit)
        # 11. Declined (不予立案); 12. filed today, not dispatched yet (已受理).
        rejected = _Case()
        self.report_call(rejected, _moment(early_day(5), 10, 0), household(7), CALLS[9])
        self.decline(rejected, _moment(early_day(5), 10, 20),
                     "经核实，该户已于节前通过12345热线反映，已由应急管理办公室处理完毕")  # fmt: skip
        waiting = _Case()
        self.report_call(waiting, _moment(last, 9, 40), household(8), CALLS[11])
        self.file(waiting, _moment(last, 10, 10))
        return len(plans) + 2

    # --- what the visits brought in: the town center's triage each morning ------------------

    def intake(self, *, first: dt.date, daily: int) -> None:
        """Each working day from `first`, at 08:40, the town center triages the concerns that
        came in before the morning (at most `daily`, the oldest first), taking each concern's
        suggested outcome: one triage action per group (立案并交办 to one unit, 并案 into one
        problem, 思想工作, 不予立案). What follows is planned from what the triage made."""
        for day in _working_days(first, self.until.date()):
            self.at(_moment(day, 8, 40), functools.partial(self.triage_day, day, daily))

    def triage_day(self, day: dt.date, daily: int) -> None:
        rng = self.rng
        concerns = list(
            Concern.objects.filter(campaign=self.campaign, outcome="",
                                   source=Concern.Source.VISIT,
                                   reported_at__lt=_moment(day, 8, 0))
            .order_by("reported_at", "id")[:daily]
        )  # fmt: skip
        if not concerns:
            return
        items: dict[int, list[ConcernItem]] = {}
        for item in (
            ConcernItem.objects.filter(concern__in=concerns)
            .select_related("option", "question")
            .order_by("position", "id")
        ):
            items.setdefault(item.concern_id, []).append(item)
        index = TownIndex(self.town)
        groups: dict[tuple, list[Decision]] = {}
        for concern in concerns:
            hint = suggest(concern, items.get(concern.pk, []), index)
            outcome = hint.outcome
            if outcome == Concern.Outcome.FILE and rng.random() < DECLINE_SHARE:
                reason = rng.choice(DECLINE_REASONS)
                groups.setdefault(("decline", reason), []).append(
                    Decision(concern.pk, concern.version, Concern.Outcome.DECLINE, reason=reason)
                )
            elif outcome == Concern.Outcome.FILE:
                category = hint.category if hint.category in self.categories else ""
                unit = hint.unit or self.unit(CATEGORY_UNITS.get(category, CENTER))
                severity = COMPLEX if category == "矛盾纠纷" and rng.random() < 0.4 else GENERAL
                self.handler(unit)  # the unit has someone to receive it
                groups.setdefault(("file", unit.pk, category, severity), []).append(
                    Decision(concern.pk, concern.version, outcome, category=category,
                             unit_id=unit.pk, severity=severity)
                )  # fmt: skip
            elif outcome == Concern.Outcome.MERGE:
                target = hint.candidates[0].problem_id
                groups.setdefault(("merge", target), []).append(
                    Decision(concern.pk, concern.version, outcome, problem_id=target)
                )
            else:
                groups.setdefault(("talk",), []).append(
                    Decision(concern.pk, concern.version, outcome)
                )
        now = clock.now()
        units = {u.pk: u for u in self.units}
        chunks = [
            (key, decisions[start : start + BATCH_LIMIT])
            for key, decisions in groups.items()
            for start in range(0, len(decisions), BATCH_LIMIT)
        ]  # one action holds at most BATCH_LIMIT concerns, as on the page
        for key, decisions in chunks:
            results = self.triage(decisions)
            for result in results:
                if key[0] == "file" and result.problem_id is not None:
                    case = _Case(problem_id=result.problem_id, last=now)
                    self.after_dispatch(case, day, units.get(key[1]) or self.featured_unit)
                if result.thought_work_id is not None:
                    self.talk(result.thought_work_id, day)

    def after_dispatch(self, case: _Case, day: dt.date, unit: Unit) -> None:
        """What a problem filed and dispatched on `day` goes through afterwards."""
        rng = self.rng
        fate = rng.choices(list(FATES), list(FATES.values()))[0]
        if fate == "handle":
            verdict = DISSATISFIED if rng.random() < DISSATISFIED_SHARE else SATISFIED
            self.handle_and_feed_back(case, day, unit, verdict=verdict)
        elif fate == "return":
            self.give_back(case, _moment(_after(day, 1), 9, rng.randrange(300)), unit)
            again, right = _after(day, 2), self.other_unit(unit)
            self.dispatch(case, _moment(again, 9, 5 + rng.randrange(120)), right)
            self.handle_and_feed_back(case, again, right)
        elif fate == "extend":
            asked = _after(day, rng.randrange(2, 5))
            self.extend_request(case, _moment(asked, 15, rng.randrange(90)), unit,
                                days=rng.choice((5, 10)))  # fmt: skip
            decided = _after(asked, 1)
            self.extend_decide(case, _moment(decided, 10, rng.randrange(60)),
                               approve=rng.random() < 0.7)  # fmt: skip
            self.handle_and_feed_back(case, _after(decided, rng.randrange(2, 6)), unit)
        # "open": still with the unit

    def talk(self, thought_work_id: int, day: dt.date) -> None:
        """The visiting cadre talks with the resident one to three working days later, in the
        evening, and records it (the last days' talks are still to do at the demo clock)."""
        rng = self.rng
        when = _moment(_after(day, rng.choice((1, 2, 3))), 18, 30 + rng.randrange(60))
        view = (
            ThoughtWork.View.CHANGED
            if rng.random() < TALK_CHANGED_SHARE
            else ThoughtWork.View.UNCHANGED
        )
        notes = rng.choice(TALK_NOTES)

        def run() -> None:
            work = ThoughtWork.objects.select_related("cadre__user").get(pk=thought_work_id)
            who = self.visitor(work.cadre, work.village_id)
            if who is not None:
                thought_work_record(actor=who, thought_work_id=thought_work_id,
                                    talked_on=clock.today(), notes=notes, view=view)  # fmt: skip

        self.at(when, run)


def _feature_households(campaign: Campaign, cadre: Person | None) -> list[int]:
    if cadre is None:
        return []
    return list(
        Assignment.objects.filter(campaign=campaign, cadre=cadre, ended_at__isnull=True)
        .order_by("household_id")
        .values_list("household_id", flat=True)[:20]
    )


def demo_ledger_progress(
    *,
    campaign: Campaign,
    until: dt.datetime,
    seed: int = 2021,
    unit_handler: User | None = None,
    cadre: Person | None = None,
    daily: int = DAILY_INTAKE,
) -> DemoLedgerResult:
    """Work the ledger of `campaign` up to the moment `until` (the demo clock), through the
    services, as its town center, leaders, units and cadres would. `unit_handler` and
    `cadre` are the demo logins whose inbox and 反馈群众 list must not be empty. Nothing is
    done when the ledger has already been worked (running the demo again changes nothing)."""
    if until.tzinfo is None:
        raise ValueError("until must be aware")
    town = campaign.town
    worked = ProblemEvent.objects.filter(problem__campaign=campaign).exclude(action="report")
    if (
        worked.exists()
        or campaign.problems.filter(source=Problem.Source.MANUAL).exists()
        or campaign.concerns.exclude(outcome="").exists()
    ):
        return DemoLedgerResult(False, 0, "问题台账已有办理记录，不再重复推进。")
    people = User.objects.filter(region=town, is_active=True).order_by("pk")
    town_admin = people.filter(role=Role.TOWN_ADMIN).first()
    leader = people.filter(role=Role.LEADER).first()
    featured_unit = unit_handler.unit if unit_handler is not None else None
    units = Unit.objects.filter(region=town, active=True).order_by("sort_order", "pk")
    # else the police station: most survey problems are about public order
    featured_unit = featured_unit or units.filter(kind=Unit.Kind.POLICE).first() or units.first()
    households = list(
        Assignment.objects.filter(campaign=campaign, ended_at__isnull=True,
                                  cadre__user__is_active=True)
        .order_by("household_id")
        .values_list("household_id", flat=True)
    )  # fmt: skip
    if town_admin is None or leader is None or featured_unit is None or not households:
        return DemoLedgerResult(
            False, 0, "缺少镇综治中心或领导小组账号、责任单位或分片包干，未推进问题台账。"
        )
    rng = random.Random(f"pingan-ledger:{seed}")  # noqa: S311 - reproducible fiction
    sample = rng.sample(households, min(len(households), 200))
    with _quiet("pingan.sms", "pingan.ledger.supervision"), transaction.atomic():
        first = _first_working_day(campaign.start_date - dt.timedelta(days=7))
        with clock.at(_moment(first, 8, 0)):
            plan = _Plan(campaign=campaign, until=until, rng=rng, town_admin=town_admin,
                         leader=leader, featured_unit=featured_unit)  # fmt: skip
            calls = plan.calls(households=sample, featured=_feature_households(campaign, cadre))
            plan.intake(first=first, daily=daily)
        plan.tick_every_evening(first)
        plan.run()
    moved = campaign.problems.exclude(status=Problem.Status.REPORTED).count()
    return DemoLedgerResult(
        True,
        moved,
        f"已按工作日推进问题台账：镇综治中心登记来电来访 {calls} 件，每日梳理群众反映 "
        f"{plan.triaged:,} 条（{plan.decisions:,} 次梳理操作），责任单位办理、干部反馈群众评价、"
        "做思想工作，每晚督查催办。",
        decisions=plan.decisions,
        triaged=plan.triaged,
    )


def demo_ledger_summary(*, campaign: Campaign, now: dt.datetime) -> str:
    """The ledger at `now` in one line: problems per state, overdue, due soon, extensions."""
    problems = campaign.problems.all()
    counts = dict(problems.values_list("status").annotate(n=Count("id")).order_by())
    overdue = problems.filter(colour_q(Colour.RED, now)).count()
    due_soon = problems.filter(colour_q(Colour.YELLOW, now)).count()
    pending = problems.filter(status=Problem.Status.DISPATCHED, extension_days__isnull=False)
    states = "、".join(
        f"{label} {counts.get(status, 0):,}"
        + (
            f"（超期 {overdue}、临期 {due_soon}、延期待批 {pending.count()}）"
            if status == Problem.Status.DISPATCHED
            else ""
        )
        for status, label in Problem.Status.choices
    )
    return f"问题台账共 {sum(counts.values()):,} 件：{states}。"
