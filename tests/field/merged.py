"""Building blocks for the 反馈群众 and 思想工作 tests: a second visiting cadre with a login, and
concerns triaged through the real services into a merged problem (并案) or a talk (思想工作).

Cadre A is the world's cadre (王建国, `field.households`); cadre B (赵敏) visits one household
of her own, in 七营村 or, for a cross-village merge, in 新桥村.
"""

import datetime as dt
from dataclasses import dataclass

from pingan.accounts.models import Person, Role, User
from pingan.campaigns.models import Assignment
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.services import ActionInput, problem_act
from pingan.ledger.triage import Decision, concern_triage
from pingan.regions.models import Household, Region
from pingan.visits.concerns import concern_report
from pingan.visits.models import Concern, ThoughtWork
from tests.factories import make_household, make_person, make_user

SHANGHAI = clock.SHANGHAI
# Thursday 2021-10-21 in the visiting phase; the pages are looked at the next morning.
REPORTED_AT = dt.datetime(2021, 10, 21, 10, 0, tzinfo=SHANGHAI)
HANDLED_AT = REPORTED_AT + dt.timedelta(hours=2)
NEXT_DAY = dt.datetime(2021, 10, 22, 9, 0, tzinfo=SHANGHAI)


@dataclass
class Cadre:
    user: User
    person: Person
    household: Household


def cadre_with_household(world, field, *, village: Region | None = None, name="赵敏") -> Cadre:
    """A second visiting cadre with a login, and one household assigned to them."""
    village = village or world.qiying
    user = make_user(Role.CADRE, village, username=f"cadre-{name}")
    person = make_person(village, name=name, user=user, home_village=village)
    household = make_household(village)
    Assignment.objects.create(
        campaign=field.campaign, household=household, cadre=person, source="allocation"
    )
    return Cadre(user, person, household)


def phone_concern(world, household: Household, text: str) -> Concern:
    """A call (来电) about `household`, recorded by the town center; its visiting cadre is the
    household's."""
    return concern_report(actor=world.users[Role.TOWN_ADMIN], text=text, household_id=household.pk)


def act(user: User, problem: Problem, action: str, data: ActionInput | None = None) -> Problem:
    problem.refresh_from_db()
    return problem_act(
        actor=user,
        problem_id=problem.pk,
        action=action,
        version=problem.version,
        data=data or ActionInput(),
    )


def merged_problem(world, households: list[Household], *, result: str = "已修复路灯") -> Problem:
    """One problem filed from the first household's call and dispatched to the police, the
    others' calls merged into it (并案), then handled: every household waits for its verdict."""
    town_admin = world.users[Role.TOWN_ADMIN]
    with clock.at(REPORTED_AT):
        first, *others = [
            phone_concern(world, household, f"村东头路灯坏了（{n}）")
            for n, household in enumerate(households, start=1)
        ]
        filed = concern_triage(
            actor=town_admin,
            decision=Decision(
                first.pk, first.version, Concern.Outcome.FILE,
                unit_id=world.police.pk, severity="general",
            ),
        )  # fmt: skip
        for concern in others:
            concern_triage(
                actor=town_admin,
                decision=Decision(
                    concern.pk, concern.version, Concern.Outcome.MERGE, problem_id=filed.problem_id
                ),
            )
    problem = Problem.objects.get(pk=filed.problem_id)
    with clock.at(HANDLED_AT):
        problem = act(world.users[Role.UNIT_HANDLER], problem, Action.HANDLE,
                      ActionInput(result=result))  # fmt: skip
    assert problem.status == Problem.Status.HANDLED
    assert problem.reporters_waiting == len(households)
    return problem


def reporter_of(problem: Problem, household: Household) -> ProblemReporter:
    return ProblemReporter.objects.get(problem=problem, household=household)


def talk_case(world, household: Household, text: str = "总觉得晚上不太安全") -> ThoughtWork:
    """A call the town center triaged as 思想工作 (nothing concrete to fix)."""
    with clock.at(REPORTED_AT):
        concern = phone_concern(world, household, text)
        result = concern_triage(
            actor=world.users[Role.TOWN_ADMIN],
            decision=Decision(concern.pk, concern.version, Concern.Outcome.TALK),
        )
    return ThoughtWork.objects.get(pk=result.thought_work_id)
