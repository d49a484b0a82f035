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
