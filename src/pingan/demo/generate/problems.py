"""One town's dissatisfaction ledger (不满意问题台账) as it stands at the cutoff: each problem
walks the lifecycle table (`pingan.ledger.lifecycle`) step by step at plausible office hours,
and stops where the cutoff finds it, so every state occurs naturally — recent problems are
still reported or accepted, older ones dispatched, handled or closed, a few rejected,
returned (退回), extended (延期, some awaiting the leader), redone (重办), or overdue.

Deadlines come from `pingan.ledger.deadlines.deadline_for` (working days on the official
calendar); every step writes the `ProblemEvent` the service would write (same action names,
notes and data), and `tick`'s reminders, supervision notices and criticism listings are
issued as `pingan.ledger.supervision` would have issued them had it run every evening,
with their `ProblemAlert` rows, so running `pingan tick` afterwards sends nothing twice.
"""

import datetime as dt
import functools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from pingan.campaigns.models import Campaign
from pingan.core.clock import SHANGHAI
from pingan.core.workdays import add_working_days, is_working_day, start_of_day, working_day_back
from pingan.demo.generate.activity import ProblemSeed
from pingan.ledger.deadlines import Deadline, deadline_for, due_soon_cutoff
from pingan.ledger.supervision import CRITICIZE_AFTER_WORKING_DAYS

SOURCE_LABELS = {"visit": "走访反映", "survey": "问卷不满意", "manual": "来电来访"}
MANUAL_SHARE = 0.08
REJECT_SHARE = 0.06
RETURN_SHARE = 0.04
EXTEND_SHARE = 0.05
DISSATISFIED_SHARE = 0.12
TICK_TIME = dt.time(19, 40)

CALLS = (
    ("来电反映：村部附近夜间有人聚众赌博，吵闹影响休息", "治安"),
    ("来访反映：邻居砌墙占用通行道路，宅基地边界争议多年未解决", "矛盾纠纷"),
    ("来电反映：家中电动车电瓶夜里被盗", "治安"),
    ("来电反映：接到冒充快递客服的电话，要求提供银行卡验证码", "反诈宣传"),
    ("来电反映：村东头主干道路灯不亮已两个月，夜间出行不便", "基础设施"),
    ("来访反映：村西坑塘边没有护栏，放学后常有孩子在塘边玩耍", "安全隐患"),
    ("来访反映：兄弟之间因赡养老人问题多次争吵，希望调解", "矛盾纠纷"),
    ("来电反映：秸秆堆放在变压器旁，存在火灾隐患", "安全隐患"),
)
REJECT_REASONS = (
    "与同户已登记问题重复，已并入一并办理",
    "经核实，群众所提为工作建议，不需交办，已当面解释",
    "经回访核实，反映的情况已自行解决",
)
RETURN_REASONS = ("该问题不属本单位职责，请重新交办", "经核实属矛盾纠纷调解事项，建议交司法所办理")
EXTEND_REASONS = ("需协调县直部门共同处理，申请延长办理时限", "涉及多户群众，调解需要更多时间")
DENY_REASONS = ("时限内可以办结，请抓紧办理",)
DISSATISFIED_REASONS = ("群众认为只作了口头答复，问题没有实际解决", "群众反映整改后问题又出现了")
RESULTS = {
    "police": ("派出所已加强该片区夜间巡逻，民警上门讲解防盗防骗知识，群众表示理解。",
               "已立案调查，民警上门告知处理进展，并在村内张贴防范提示。"),
    "justice": ("司法所会同村调委会上门调解，双方达成口头调解协议。",
                "已组织双方当面协商，讲解相关法律规定，矛盾已化解。"),
    "governance": ("镇综治中心上门沟通，解释相关工作，记录群众意见并转相关部门。",
                   "已约谈村两委，督促落实整改并向群众说明情况。"),
    "": ("已现场查看并整改完毕，向群众说明了处理情况。",),
}  # fmt: skip
# Where a problem goes, by category: a unit kind, or a unit whose name ends so.
CATEGORY_UNITS = {
    "治安": "police", "扫黑除恶": "police", "反诈宣传": "police", "政法机关服务": "police",
    "矛盾纠纷": "justice", "平安建设": "governance", "安全隐患": "应急管理办公室",
    "基础设施": "供电所",
}  # fmt: skip
# Courts and procuratorates are the county's: the town center relays those.
QUESTION_UNITS = {"court": "governance", "procuratorate": "governance", "justice": "justice"}

PROBLEM_COLUMNS = (
    "id", "created_at", "updated_at", "code", "campaign_id", "village_id", "household_id",
    "source", "category", "description", "visit_id", "question_id", "option_id", "cadre_id",
    "status", "unit_id", "severity", "dispatched_at", "deadline", "deadline_warning",
    "extension_days", "extension_reason", "result", "handled_at", "verdict", "verdict_note",
    "feedback_at", "supervised_at", "criticized_at", "redo_count", "reported_at",
    "closed_at", "version", "reporters_waiting",
)  # fmt: skip
EVENT_COLUMNS = ("problem_id", "action", "from_status", "to_status", "actor_id", "note", "data",
                 "at")  # fmt: skip
ALERT_COLUMNS = ("problem_id", "kind", "deadline", "at")


@dataclass(frozen=True)
class UnitInfo:
    id: int
    name: str
    kind: str
    handler_user_id: int


@dataclass
class LedgerContext:
    campaign: Campaign
    town_code: str
    first_serial: int
    units: list[UnitInfo]
    center_user_id: int
    leader_user_id: int
    question_keys: dict[int, str]  # question id -> key
    cutoff: dt.datetime

    def unit_for(self, category: str, question_id: int | None) -> UnitInfo:
        wanted = QUESTION_UNITS.get(self.question_keys.get(question_id or 0, ""), "")
        wanted = wanted or CATEGORY_UNITS.get(category, "governance")
        for unit in self.units:
            if unit.kind == wanted or unit.name.endswith(wanted):
                return unit
        return self.units[0]


@dataclass
class TownLedger:
    problems: list[list] = field(default_factory=list)  # PROBLEM_COLUMNS, id placeholder
    events: list[list] = field(default_factory=list)  # EVENT_COLUMNS, problem index first
    alerts: list[list] = field(default_factory=list)  # ALERT_COLUMNS, problem index first
    last_serial: int = 0


def _office(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The first office moment (a working day, 08:30–17:30) at or after `moment`."""
    local = moment.astimezone(SHANGHAI)
    day = local.date()
    if is_working_day(day) and dt.time(8, 30) <= local.time() <= dt.time(17, 30):
        return local
    if not (is_working_day(day) and local.time() < dt.time(8, 30)):
        day += dt.timedelta(days=1)
        while not is_working_day(day):
            day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(8, 30), tzinfo=SHANGHAI) + dt.timedelta(
        minutes=rng.randrange(90)
    )


@functools.lru_cache(maxsize=4096)
def _due_soon(day: dt.date) -> dt.datetime:
    return due_soon_cutoff(dt.datetime.combine(day, TICK_TIME, tzinfo=SHANGHAI))


@functools.lru_cache(maxsize=8192)
def _back(day: dt.date, k: int) -> dt.datetime:
    return start_of_day(working_day_back(day, k))


class _Problem:
    """One problem walking the lifecycle; `step` refuses anything after the cutoff."""

    def __init__(self, ledger: "LedgerBuilder", index: int, seed: ProblemSeed) -> None:
        self.ledger, self.index, self.seed = ledger, index, seed
        self.status = "reported"
        self.f: dict = {
            "unit": None, "severity": "", "dispatched_at": None, "deadline": None,
            "deadline_warning": "", "extension_days": None, "extension_reason": "",
            "result": "", "handled_at": None, "verdict": "", "verdict_note": "",
            "feedback_at": None, "supervised_at": None, "criticized_at": None, "redo_count": 0,
            "closed_at": None,
        }  # fmt: skip
        self.version = 1
        self.updated = seed.reported_at
        # The current dispatch period: (deadline, since) for tick's alerts.
        self.period: tuple[dt.datetime, dt.datetime] | None = None

    def event(self, action: str, to: str, actor: int | None, at: dt.datetime, note: str = "",
              data: dict | None = None) -> None:  # fmt: skip
        self.ledger.out.events.append(
            [self.index, action, self.status if action != "report" else "", to, actor, note,
             json.dumps(data or {}, ensure_ascii=False), at]
        )  # fmt: skip
        if action not in ("report", "tick_remind", "supervise", "criticize"):
            self.version += 1
            self.updated = at
        self.status = to

    def close_period(self, end: dt.datetime) -> None:
        """tick's alerts for the deadline that held until `end` (exclusive)."""
        if self.period is None:
            return
        deadline, since = self.period
        self.period = None
        self.ledger.alerts_for(self, deadline, since, min(end, self.ledger.ctx.cutoff))

    def dispatch(self, at: dt.datetime, unit: UnitInfo, severity: str) -> None:
        deadline = self.ledger.deadline(severity, at)
        self.f.update(unit=unit, severity=severity, dispatched_at=at, deadline=deadline.at,
                      deadline_warning=deadline.warning, supervised_at=None, criticized_at=None,
                      extension_days=None, extension_reason="")  # fmt: skip
        self.event("dispatch", "dispatched", self.ledger.ctx.center_user_id, at, "",
                   {"unit_id": unit.id, "unit": unit.name, "severity": severity,
                    "deadline": deadline.at.isoformat(), "warning": deadline.warning})  # fmt: skip
        self.period = (deadline.at, at)


class LedgerBuilder:
    """Builds one town's ledger; see the module docstring."""

    def __init__(self, ctx: LedgerContext, rng: random.Random) -> None:
        self.ctx, self.rng = ctx, rng
        self.out = TownLedger()
        self._deadlines: dict[tuple[dt.date, str, int | None], Deadline] = {}

    def deadline(self, severity: str, start: dt.datetime, days: int | None = None) -> Deadline:
        key = (start.astimezone(SHANGHAI).date(), severity, days)
        if key not in self._deadlines:
            self._deadlines[key] = deadline_for(
                campaign=self.ctx.campaign, severity=severity, start=start, days=days
            )
        return self._deadlines[key]

    def alerts_for(self, p: _Problem, deadline: dt.datetime, since: dt.datetime,
                   end: dt.datetime) -> None:  # fmt: skip
        """Reminder, supervision, criticism of `deadline` at tick moments in [since, end)."""
        unit = p.f["unit"].name if p.f["unit"] else ""
        shown = deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d")
        day = since.astimezone(SHANGHAI).date()
        reminded = supervised = False
        while True:
            moment = dt.datetime.combine(day, TICK_TIME, tzinfo=SHANGHAI)
            if moment >= end:
                return
            if moment >= since:
                kinds = []
                if not supervised and deadline < _back(day, 1):
                    kinds.append("supervise")
                elif supervised and deadline < _back(day, 1 + CRITICIZE_AFTER_WORKING_DAYS):
                    kinds.append("criticize")
                if not reminded and moment <= deadline <= _due_soon(day):
                    kinds.append("remind")
                for kind in kinds:
                    self._alert(p, kind, deadline, moment, unit, shown)
                    if kind == "remind":
                        reminded = True
                    elif kind == "supervise":
                        supervised = True
                        p.f["supervised_at"] = moment
                    else:
                        p.f["criticized_at"] = moment
                        return
            day += dt.timedelta(days=1)

    def _alert(self, p: _Problem, kind: str, deadline: dt.datetime, at: dt.datetime,
               unit: str, shown: str) -> None:  # fmt: skip
        note = {
            "remind": f"办理时限 {shown} 将到，提醒{unit}抓紧办理",
            "supervise": f"已超过办理时限 {shown}，对{unit}发出督办并报领导小组",
            "criticize": f"督办后仍超期未办结，{unit}列入通报批评",
        }[kind]
        action = "tick_remind" if kind == "remind" else kind
        p.event(action, p.status, None, at, note, {"deadline": deadline.isoformat()})
        self.out.alerts.append([p.index, kind, deadline, at])

    # --- the walk -------------------------------------------------------------------------

    def walk(self, p: _Problem) -> None:
        rng, ctx = self.rng, self.ctx
        cutoff = ctx.cutoff
        seed = p.seed
        p.event("report", "reported", seed.reporter_user_id, seed.reported_at,
                SOURCE_LABELS[seed.source])  # fmt: skip
        at = _office(seed.reported_at + dt.timedelta(minutes=rng.randint(10, 1500)), rng)
        if at > cutoff:
            return
        if rng.random() < REJECT_SHARE:
            p.event("reject", "rejected", ctx.center_user_id, at, rng.choice(REJECT_REASONS))
            return
        p.event("accept", "accepted", ctx.center_user_id, at)
        at = _office(at + dt.timedelta(minutes=rng.randint(5, 300 if rng.random() < 0.92 else 1500)),
                     rng)  # fmt: skip
        if at > cutoff:
            return
        unit = ctx.unit_for(seed.category, seed.question_id)
        complex_share = 0.4 if seed.category == "矛盾纠纷" else 0.1
        severity = "complex" if rng.random() < complex_share else "general"
        p.dispatch(at, unit, severity)
        if rng.random() < RETURN_SHARE:
            back = _office(at + dt.timedelta(minutes=rng.randint(60, 1400)), rng)
            if back > cutoff:
                return p.close_period(cutoff)
            p.close_period(back)
            returned = {"unit_id": unit.id, "unit": unit.name}
            p.f.update(unit=None, severity="", dispatched_at=None, deadline=None,
                       deadline_warning="", extension_days=None, extension_reason="")  # fmt: skip
            p.event("return", "accepted", unit.handler_user_id, back, rng.choice(RETURN_REASONS),
                    returned)  # fmt: skip
            at = _office(back + dt.timedelta(minutes=rng.randint(30, 1400)), rng)
            if at > cutoff:
                return
            other = [
                u for u in ctx.units if u.id != unit.id and u.kind in ("justice", "governance")
            ]
            unit = rng.choice(other) if other else unit
            p.dispatch(at, unit, severity)
        self.handle(p, at, unit, redo=False)

    def handle(self, p: _Problem, dispatched: dt.datetime, unit: UnitInfo, *, redo: bool) -> None:
        rng, ctx = self.rng, self.ctx
        cutoff = ctx.cutoff
        severity = p.f["severity"]
        limit = ctx.campaign.complex_days if severity == "complex" else ctx.campaign.general_days
        if not redo and rng.random() < EXTEND_SHARE:
            asked = _office(dispatched + dt.timedelta(days=rng.randint(2, 5)), rng)
            if asked > cutoff:
                return p.close_period(cutoff)
            days = rng.choice((5, 10))
            p.f.update(extension_days=days, extension_reason=rng.choice(EXTEND_REASONS))
            p.event("extend_request", "dispatched", unit.handler_user_id, asked,
                    p.f["extension_reason"], {"days": days})  # fmt: skip
            decided = _office(asked + dt.timedelta(hours=rng.randint(16, 40)), rng)
            if decided > cutoff:
                return p.close_period(cutoff)
            p.f.update(extension_days=None, extension_reason="")
            if rng.random() < 0.7:
                old = p.f["deadline"]
                deadline = self.deadline(severity, old, days)
                p.close_period(decided)
                p.f.update(deadline=deadline.at, deadline_warning=deadline.warning,
                           supervised_at=None, criticized_at=None)  # fmt: skip
                p.event("extend_approve", "dispatched", ctx.leader_user_id, decided, "",
                        {"days": days, "old_deadline": old.isoformat(),
                         "deadline": deadline.at.isoformat(), "warning": deadline.warning})  # fmt: skip
                p.period = (deadline.at, decided)
                limit += days
            else:
                p.event("extend_deny", "dispatched", ctx.leader_user_id, decided,
                        rng.choice(DENY_REASONS), {"days": days})  # fmt: skip
        # Working days the unit takes: mostly within the limit, some late.
        if rng.random() < (0.06 if redo else 0.13):
            n = limit + rng.randint(1, 6)
        else:
            n = rng.randint(1, max(1, limit - (1 if rng.random() < 0.7 else 0)))
        day = add_working_days(dispatched.astimezone(SHANGHAI).date(), n).day
        handled = dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI) + dt.timedelta(
            minutes=rng.randrange(480)
        )
        if handled > cutoff:
            return p.close_period(cutoff)
        p.close_period(handled)
        result = rng.choice(RESULTS.get(unit.kind, RESULTS[""]))
        p.f.update(result=result, handled_at=handled, extension_days=None, extension_reason="")
        p.event("handle", "handled", unit.handler_user_id, handled, result,
                {"unit_id": unit.id, "unit": unit.name})  # fmt: skip
        told = handled + dt.timedelta(hours=rng.randint(3, 72))
        local = told.astimezone(SHANGHAI)
        if local.hour < 8 or local.hour >= 20:
            told = dt.datetime.combine(local.date() + dt.timedelta(days=local.hour >= 20),
                                       dt.time(9), tzinfo=SHANGHAI) + dt.timedelta(
                minutes=rng.randrange(600))  # fmt: skip
        if told > cutoff:
            return
        cadre = p.seed.reporter_user_id if p.seed.source != "manual" else ctx.center_user_id
        if rng.random() < (DISSATISFIED_SHARE if not redo else 0.04):
            reason = rng.choice(DISSATISFIED_REASONS)
            p.f["redo_count"] += 1
            deadline = self.deadline(severity, told)
            p.f.update(verdict="dissatisfied", verdict_note=reason, feedback_at=told,
                       dispatched_at=told, deadline=deadline.at,
                       deadline_warning=deadline.warning, supervised_at=None,
                       criticized_at=None)  # fmt: skip
            p.event("feedback", "dispatched", cadre, told, reason,
                    {"verdict": "dissatisfied", "redo_count": p.f["redo_count"],
                     "deadline": deadline.at.isoformat(), "warning": deadline.warning})  # fmt: skip
            p.period = (deadline.at, told)
            return self.handle(p, told, unit, redo=True)
        p.f.update(verdict="satisfied", verdict_note="", feedback_at=told, closed_at=told)
        p.event("feedback", "closed", cadre, told, "", {"verdict": "satisfied"})

    def build(self, seeds: list[ProblemSeed], visit_ids: list[int]) -> TownLedger:
        ctx = self.ctx
        seeds = sorted(seeds, key=lambda s: s.reported_at)
        serial = ctx.first_serial
        for index, seed in enumerate(seeds):
            p = _Problem(self, index, seed)
            self.walk(p)
            if p.status == "dispatched":
                p.close_period(ctx.cutoff)
            f = p.f
            unit = f["unit"]
            self.out.problems.append(
                [None, seed.reported_at, p.updated, f"{ctx.town_code}-2021-{serial:06d}",
                 ctx.campaign.pk, seed.village_id, seed.household_id, seed.source,
                 seed.category, seed.description,
                 visit_ids[seed.visit] if seed.visit is not None else None, seed.question_id,
                 seed.option_id, seed.person_id, p.status, unit.id if unit else None,
                 f["severity"], f["dispatched_at"], f["deadline"], f["deadline_warning"],
                 f["extension_days"], f["extension_reason"], f["result"], f["handled_at"],
                 f["verdict"], f["verdict_note"], f["feedback_at"], f["supervised_at"],
                 f["criticized_at"], f["redo_count"], seed.reported_at, f["closed_at"],
                 p.version, 0]
            )  # fmt: skip
            serial += 1
        self.out.last_serial = serial - 1
        return self.out


def manual_seeds(*, count: int, rng: random.Random, days: list[dt.date],
                 households: Sequence[tuple[int, int, int | None]], center_user_id: int,
                 ) -> list[ProblemSeed]:  # fmt: skip
    """Calls and walk-ins (来电来访) the town center registers: (village id, household id,
    cadre person id) of random households, at office hours of the visiting days."""
    seeds = []
    working = [d for d in days if is_working_day(d)] or days
    for _ in range(count if households else 0):
        village_id, household_id, person_id = rng.choice(households)
        day = rng.choice(working)
        at = dt.datetime.combine(day, dt.time(8, 40), tzinfo=SHANGHAI) + dt.timedelta(
            minutes=rng.randrange(500)
        )
        text, category = rng.choice(CALLS)
        seeds.append(ProblemSeed(at, village_id, household_id, person_id, center_user_id,
                                 "manual", category, text))  # fmt: skip
    return seeds
