"""Bulletin fixtures: the hand-worked progress scenario (tests/progress_scenario.py) and
problems walked through the real ledger services at frozen moments."""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput, problem_act, problem_report
from pingan.ledger.supervision import problem_tick
from tests.progress_scenario import Scenario, build, shanghai

# The day the documents are about: 走访整改 started 2021-10-16, so 28 of its 31 days are
# gone; 七营村 should have 4 × 28 ÷ 31 = 3.61, 新桥村 2 × 28 ÷ 31 = 1.81, the town 5.42.
DOC_DAY = dt.date(2021, 11, 12)
DOC_NOW = shanghai(DOC_DAY, 18)


def report(world, household, *, at: dt.datetime, actor=None, text="路灯坏了，晚上出行不安全"):
    with clock.at(at):
        return problem_report(
            actor=actor or world.users[Role.CADRE],
            village_id=None,
            household_id=household.pk,
            description=text,
            category="治安防范",
        )


def act(world, problem: Problem, action: str, *, at: dt.datetime, actor=None, **data):
    """One lifecycle action by the role that takes it, at `at`."""
    role = {
        Action.ACCEPT: Role.TOWN_ADMIN,
        Action.DISPATCH: Role.TOWN_ADMIN,
        Action.HANDLE: Role.UNIT_HANDLER,
        Action.FEEDBACK: Role.CADRE,
    }[action]
    problem.refresh_from_db()
    with clock.at(at):
        return problem_act(
            actor=actor or world.users[role],
            problem_id=problem.pk,
            action=action,
            version=problem.version,
            data=ActionInput(**data),
        )


def dispatch(world, problem: Problem, *, at: dt.datetime) -> Problem:
    act(world, problem, Action.ACCEPT, at=at)
    return act(world, problem, Action.DISPATCH, at=at + dt.timedelta(minutes=1),
               unit_id=world.police.pk, severity="general")  # fmt: skip


def close(world, problem: Problem, *, at: dt.datetime, actor=None) -> Problem:
    act(world, problem, Action.HANDLE, at=at, result="已修复路灯")
    return act(world, problem, Action.FEEDBACK, at=at + dt.timedelta(minutes=1), actor=actor,
               verdict="satisfied")  # fmt: skip


@pytest.fixture
def scenario(world) -> Scenario:
    return build(world)


@dataclass
class Documented:
    """The scenario on DOC_DAY with three problems:
    - A (七营村 h1): dispatched 2021-10-18, deadline 2021-11-01, supervised on 11-02 and
      listed for criticism (通报批评) on DOC_DAY: open, overdue, criticized;
    - B (七营村 h2): reported 10-19, closed 10-20;
    - C (新桥村 x1): reported on DOC_DAY at 09:00: new, open.
    So the town: new 1, open 2, overdue 1, closed 1; 七营村 overdue 1."""

    scenario: Scenario
    criticized: Problem
    closed: Problem
    new: Problem


@pytest.fixture
def documented(world, scenario) -> Documented:
    h = scenario.households
    a = report(world, h["h1"], at=shanghai(dt.date(2021, 10, 18), 10))
    dispatch(world, a, at=shanghai(dt.date(2021, 10, 18), 11))
    b = report(world, h["h2"], at=shanghai(dt.date(2021, 10, 19), 10), text="邻里纠纷未调解")
    dispatch(world, b, at=shanghai(dt.date(2021, 10, 19), 11))
    close(world, b, at=shanghai(dt.date(2021, 10, 20), 15))
    zhao = scenario.households["x1"]
    c = report(world, zhao, at=shanghai(DOC_DAY, 9), actor=_xinqiao_cadre(),
               text="村口监控不亮")  # fmt: skip
    problem_tick(now=shanghai(dt.date(2021, 11, 2), 9))
    problem_tick(now=shanghai(DOC_DAY, 9))
    for problem in (a, b, c):
        problem.refresh_from_db()
    assert a.criticized_at is not None, "A must be listed for criticism by DOC_DAY"
    return Documented(scenario, a, b, c)


def _xinqiao_cadre():
    from pingan.accounts.models import User

    return User.objects.get(username="zhao")


@pytest.fixture
def at_doc_now():
    with time_machine.travel(DOC_NOW, tick=False):
        yield DOC_NOW


# ---------------------------------------------------------------------------------------------
# 思想工作: dissatisfied households, talks and changed views, worked out by hand

DAY3 = dt.date(2021, 10, 20)


@dataclass
class Talks:
    """On top of the scenario, seven concerns from visits, triaged, and their talks (思想工作):

    | household | concern, reported            | triage       | talk recorded (talked on, view) |
    |-----------|------------------------------|--------------|---------------------------------|
    | 七营村 y1 | c1 不太安全, 1日12:03        | talk 1日15:00 | 1日16:00 (1日, changed)        |
    | 七营村 y1 | c2 不安全, 2日12:03          | talk 2日13:00 | 2日17:00 (2日, unchanged)      |
    | 七营村 y2 | c3 不太安全 + 路灯, 1日13:03 | file 1日15:05 | 2日10:00 (2日, changed)        |
    | 七营村 y3 | c4 不安全, 2日13:03          | talk 2日15:00 | 3日09:30 (3日, changed)        |
    | 七营村 y4 | c5 安全 + 垃圾 (no feeling), 2日14:03 | —    | —                              |
    | 七营村 y5 | c6 不太安全, 3日09:03        | talk 3日10:00 | not recorded                   |
    | 新桥村 x2 | c7 不太安全, 2日10:03        | talk 2日11:00 | 2日16:00 (2日, changed)        |

    (1日, 2日, 3日: day 1, 2, 3 = 2021-10-18, 19, 20.)

    So (不满意群众, 已做思想工作, 看法转变):
    - day 1: 七营村 (2, 1, 1) — y1 y2; y1 talked, changed; 新桥村 (0, 0, 0); the town (2, 1, 1);
    - day 2: 七营村 (3, 2, 1) — y1 once for two concerns, y2, y3; y1 and y2 talked (y3's talk
      is recorded on day 3); y1's latest talk is unchanged, y2's changed; 新桥村 (1, 1, 1);
      the town (4, 3, 2);
    - day 3 (20:00): 七营村 (4, 3, 2) — + y5 (its talk not recorded), y3 talked and changed;
      the town (5, 4, 3). y4 (a matter, no feeling) is never dissatisfied."""

    scenario: Scenario
    households: dict


def _triage(world, concern_id: int, outcome: str, at: dt.datetime, **decision):
    from pingan.ledger.triage import Decision, concern_triage
    from pingan.visits.models import Concern

    version = Concern.objects.get(pk=concern_id).version
    with clock.at(at):
        result = concern_triage(
            actor=world.users[Role.TOWN_ADMIN],
            decision=Decision(concern_id=concern_id, version=version, outcome=outcome, **decision),
        )
    assert result.status == "done", result
    return result.thought_work_id


def _record(actor, work_id: int, at: dt.datetime, view: str):
    from pingan.visits.concerns import thought_work_record

    with clock.at(at):
        thought_work_record(actor=actor, thought_work_id=work_id, talked_on=clock.today(),
                            notes="入户面对面交流，讲解治安防范措施", view=view)  # fmt: skip


@pytest.fixture
def talks(world, scenario) -> Talks:
    from pingan.visits.services import ProblemIn
    from tests.factories import make_assignment, make_household
    from tests.progress_scenario import DAY1, DAY2, sync

    q, wang, zhao = scenario.questionnaire, world.users[Role.CADRE], _xinqiao_cadre()
    h: dict = {}
    for key in ("y1", "y2", "y3", "y4", "y5"):
        h[key] = make_household(world.qiying, address=f"七营村{key}号")
        make_assignment(scenario.campaign, h[key], scenario.wang)
    h["x2"] = scenario.households["x2"]

    def visit(actor, household, moment, safety, **kw) -> int:
        return sync(actor, household, q, "completed", moment, safety=safety, **kw).concern.pk

    c1 = visit(wang, h["y1"], shanghai(DAY1, 12), "不太安全")
    c2 = visit(wang, h["y1"], shanghai(DAY2, 12), "不安全")
    c3 = visit(wang, h["y2"], shanghai(DAY1, 13), "不太安全",
               problems=(ProblemIn("村口路灯不亮", "治安防范"),))  # fmt: skip
    c4 = visit(wang, h["y3"], shanghai(DAY2, 13), "不安全")
    visit(wang, h["y4"], shanghai(DAY2, 14), "安全", problems=(ProblemIn("垃圾无人清运"),))
    c6 = visit(wang, h["y5"], shanghai(DAY3, 9), "不太安全")
    c7 = visit(zhao, h["x2"], shanghai(DAY2, 10), "不太安全")

    t1 = _triage(world, c1, "talk", shanghai(DAY1, 15))
    _record(wang, t1, shanghai(DAY1, 16), "changed")
    t3 = _triage(world, c3, "file", shanghai(DAY1, 15, 5))
    assert t3 is not None, "a filed concern with a feeling gets its talk too"
    _record(wang, t3, shanghai(DAY2, 10), "changed")
    t7 = _triage(world, c7, "talk", shanghai(DAY2, 11))
    _record(zhao, t7, shanghai(DAY2, 16), "changed")
    t2 = _triage(world, c2, "talk", shanghai(DAY2, 13))
    _record(wang, t2, shanghai(DAY2, 17), "unchanged")
    t4 = _triage(world, c4, "talk", shanghai(DAY2, 15))
    _record(wang, t4, shanghai(DAY3, 9, 30), "changed")
    _triage(world, c6, "talk", shanghai(DAY3, 10))
    return Talks(scenario, h)
