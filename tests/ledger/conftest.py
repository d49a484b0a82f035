"""Ledger fixtures: problems brought to any state through the real services.

`ledger.make(state)` reports a problem for the field cadre's household at a frozen moment and
walks it along the lifecycle (accept → dispatch → handle …) as the right roles would.
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput, problem_act, problem_report

SHANGHAI = clock.SHANGHAI
# A Thursday in the visiting phase (走访整改), before the National Day example of issue 5.
REPORTED_AT = dt.datetime(2021, 10, 21, 10, 0, tzinfo=SHANGHAI)

# How to reach each state from `reported`: (action, role, input)
PATHS: dict[str, list[tuple[str, str, ActionInput]]] = {
    Problem.Status.REPORTED: [],
    Problem.Status.ACCEPTED: [(Action.ACCEPT, Role.TOWN_ADMIN, ActionInput())],
    Problem.Status.REJECTED: [(Action.REJECT, Role.TOWN_ADMIN, ActionInput(reason="不属实"))],
}


@dataclass
class Ledger:
    world: object
    field: object
    users: dict[str, User]
    made: list[Problem] = field(default_factory=list)

    def act(self, problem: Problem, action: str, role: str, data: ActionInput | None = None,
            *, user: User | None = None) -> Problem:  # fmt: skip
        problem.refresh_from_db()
        return problem_act(
            actor=user or self.users[role],
            problem_id=problem.pk,
            action=action,
            version=problem.version,
            data=data or ActionInput(),
        )

    def report(
        self, *, description: str = "路灯坏了，晚上出行不安全", household=None,
        reporter: str = Role.CADRE,
    ) -> Problem:  # fmt: skip
        return problem_report(
            actor=self.users[reporter],
            village_id=None,
            household_id=(household or self.field.households[0]).pk,
            description=description,
            category="治安防范",
        )

    def make(self, state: str, *, at: dt.datetime = REPORTED_AT, severity: str = "general",
             **report_kw) -> Problem:  # fmt: skip
        """A problem in `state`, reported at `at`; each later step a minute after the last."""
        steps: list[tuple[str, str, ActionInput]] = []
        dispatch = (Action.DISPATCH, Role.TOWN_ADMIN,
                    ActionInput(unit_id=self.world.police.pk, severity=severity))  # fmt: skip
        if state in (Problem.Status.REPORTED, Problem.Status.ACCEPTED, Problem.Status.REJECTED):
            steps = PATHS[state]
        else:
            steps = [(Action.ACCEPT, Role.TOWN_ADMIN, ActionInput()), dispatch]
            if state in (Problem.Status.HANDLED, Problem.Status.CLOSED):
                steps.append((Action.HANDLE, Role.UNIT_HANDLER, ActionInput(result="已修复路灯")))
            if state == Problem.Status.CLOSED:
                steps.append((Action.FEEDBACK, Role.CADRE, ActionInput(verdict="satisfied")))
        with clock.at(at):
            problem = self.report(**report_kw)
        for minute, (action, role, data) in enumerate(steps, start=1):
            with clock.at(at + dt.timedelta(minutes=minute)):
                problem = self.act(problem, action, role, data)
        problem.refresh_from_db()
        self.made.append(problem)
        return problem


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


@pytest.fixture
def sms_outbox():
    """Text messages "sent" through the test gateway (settings.test: MemorySmsGateway)."""
    from pingan.core.sms import MemorySmsGateway

    MemorySmsGateway.outbox.clear()
    yield MemorySmsGateway.outbox
    MemorySmsGateway.outbox.clear()
