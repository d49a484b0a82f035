"""A problem several households reported (并案): each hears the result from its own visiting
cadre and gives its own verdict; the problem closes (销号) only when none waits any more.

The problem is made the way the town center makes one: a call is filed (立案), two more
households' calls are merged into it (并案), then it is dispatched and handled through
`problem_act`.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.http import Http404

from pingan.accounts.models import Notification, Role, User
from pingan.core import clock
from pingan.ledger.lifecycle import ActionForbidden, ActionInvalid, LedgerError
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.services import ActionInput, problem_act
from pingan.ledger.triage import Decision, concern_triage
from pingan.regions.models import Household
from pingan.visits.concerns import concern_report
from tests.conftest import changed_tables, database_snapshot
from tests.factories import make_assignment, make_household, make_person, make_user

SHANGHAI = clock.SHANGHAI
FILED = dt.datetime(2021, 10, 22, 9, 30, tzinfo=SHANGHAI)  # Friday: triage and dispatch
HANDLED = dt.datetime(2021, 10, 27, 15, 0, tzinfo=SHANGHAI)  # Wednesday: the unit's result
FEEDBACK = dt.datetime(2021, 10, 28, 10, 0, tzinfo=SHANGHAI)  # Thursday: the cadres go back
# 10 working days after Thursday 28 October 2021: Thursday 11 November.
REDO_DEADLINE = dt.datetime(2021, 11, 11, 23, 59, 59, tzinfo=SHANGHAI)

SATISFIED = ActionInput(verdict="satisfied")


@dataclass
class Reported:
    problem: Problem
    households: list[Household]
    cadres: list[User]  # each household's visiting cadre (their login)
    reporters: list[ProblemReporter]  # in the households' order

    def refresh(self) -> Problem:
        self.problem.refresh_from_db()
        for reporter in self.reporters:
            reporter.refresh_from_db()
        return self.problem


def act(actor: User, problem: Problem, action: str, data: ActionInput | None = None) -> Problem:
    problem.refresh_from_db()
    return problem_act(actor=actor, problem_id=problem.pk, action=action,
                       version=problem.version, data=data or ActionInput())  # fmt: skip


def household_with_cadre(field, village, *, username: str | None, name: str):
    """A household of `village` assigned to a new cadre; the cadre signs in when `username`."""
    user = make_user(Role.CADRE, village, username=username) if username else None
    person = make_person(village, name=name, user=user)
    household = make_household(village)
    make_assignment(field.campaign, household, person)
    return household, user, person


def call_in(world, household: Household, text: str):
    return concern_report(actor=world.users[Role.TOWN_ADMIN], household_id=household.pk,
                          text=text)  # fmt: skip


def triage(world, concern, outcome: str, **kw):
    concern.refresh_from_db()
    return concern_triage(actor=world.users[Role.TOWN_ADMIN],
                          decision=Decision(concern.pk, concern.version, outcome, **kw))  # fmt: skip


def make_reported(world, field, extra: list[tuple[Household, User | None]]) -> Reported:
    """Filed from the field cadre's household, `extra` households merged in, dispatched to the
    police on FILED and handled on HANDLED."""
    households = [field.households[0]] + [h for h, _ in extra]
    cadres = [world.users[Role.CADRE]] + [u for _, u in extra]
    with time_machine.travel(FILED, tick=False):
        first = call_in(world, households[0], "村东头有人聚众赌博")
        filed = triage(world, first, "file", category="治安")
        for n, household in enumerate(households[1:], start=1):
            triage(world, call_in(world, household, f"东头有人赌钱（第 {n} 户）"), "merge",
                   problem_id=filed.problem_id)  # fmt: skip
        problem = Problem.objects.get(pk=filed.problem_id)
        act(world.users[Role.TOWN_ADMIN], problem, "dispatch",
            ActionInput(unit_id=world.police.pk, severity="general"))  # fmt: skip
    with time_machine.travel(HANDLED, tick=False):
        act(world.users[Role.UNIT_HANDLER], problem, "handle", ActionInput(result="已打掉赌博窝点"))
    problem.refresh_from_db()
    reporters = [problem.reporters.get(household=h) for h in households]
    return Reported(problem, households, cadres, reporters)


@pytest.fixture
def three(world, field) -> Reported:
    """Three reporting households, each with its own visiting cadre: the field cadre's (七营村),
    a colleague's in 七营村, and one in 新桥村."""
    second, second_cadre, _ = household_with_cadre(field, world.qiying, username="cadre2",
                                                   name="张敏")  # fmt: skip
    third, third_cadre, _ = household_with_cadre(field, world.xinqiao, username="cadre3",
                                                 name="刘强")  # fmt: skip
    return make_reported(world, field, [(second, second_cadre), (third, third_cadre)])


def feedback(reported: Reported, n: int, data: ActionInput = SATISFIED) -> Problem:
    """The n-th household's verdict, recorded by its own visiting cadre."""
    reporter = reported.reporters[n]
    return act(reported.cadres[n], reported.problem, "feedback",
               ActionInput(verdict=data.verdict, reason=data.reason, reporter_id=reporter.pk))  # fmt: skip


def test_the_merged_problem_waits_for_each_household(three):
    problem = three.problem
    assert (problem.status, problem.reporters_waiting, problem.reporters.count()) == (
        "handled", 3, 3,
    )  # fmt: skip
    assert [r.cadre.user for r in three.reporters] == three.cadres
    assert [r.verdict for r in three.reporters] == ["", "", ""]


def test_the_problem_closes_only_when_every_household_is_satisfied(three):
    with time_machine.travel(FEEDBACK, tick=False):
        after_first = feedback(three, 0)
        assert (after_first.status, after_first.reporters_waiting, after_first.closed_at) == (
            "handled", 2, None,
        )  # fmt: skip
        three.refresh()
        assert (three.reporters[0].verdict, three.reporters[0].feedback_by) == (
            "satisfied", three.cadres[0],
        )  # fmt: skip
        assert three.reporters[0].feedback_at == FEEDBACK
        assert [r.verdict for r in three.reporters[1:]] == ["", ""]

        after_second = feedback(three, 2)
        assert (after_second.status, after_second.reporters_waiting) == ("handled", 1)

        closed = feedback(three, 1)

    assert (closed.status, closed.reporters_waiting, closed.verdict) == ("closed", 0, "satisfied")
    assert closed.closed_at == FEEDBACK
    three.refresh()
    assert [r.verdict for r in three.reporters] == ["satisfied"] * 3
    assert [r.feedback_by for r in three.reporters] == three.cadres
    events = list(closed.events.filter(action="feedback").values_list("to_status", "data"))
    assert [(to, data["waiting"], data["household_id"]) for to, data in events] == [
        ("handled", 2, three.households[0].pk),
        ("handled", 1, three.households[2].pk),
        ("closed", 0, three.households[1].pk),
    ]


def test_a_household_gives_its_verdict_once(three):
    with time_machine.travel(FEEDBACK, tick=False):
        feedback(three, 0)
        with pytest.raises(ActionInvalid) as refused:
            feedback(three, 0)
    assert (refused.value.status, refused.value.field) == (422, "reporter_id")
    assert three.refresh().reporters_waiting == 2


def test_with_several_households_waiting_the_verdict_names_one(world, three):
    with time_machine.travel(FEEDBACK, tick=False), pytest.raises(ActionInvalid) as refused:
        act(three.cadres[0], three.problem, "feedback", SATISFIED)
    assert (refused.value.status, refused.value.field) == (422, "reporter_id")
    assert three.refresh().reporters_waiting == 3


def test_one_dissatisfied_household_sends_it_back_and_every_household_waits_again(world, three):
    with time_machine.travel(FEEDBACK, tick=False):
        feedback(three, 0)
        before = three.refresh().deadline
        with pytest.raises(ActionInvalid) as no_reason:
            feedback(three, 1, ActionInput(verdict="dissatisfied"))
        assert (no_reason.value.field, no_reason.value.message) == (
            "reason", "请填写群众不满意的原因",
        )  # fmt: skip

        redone = feedback(three, 1, ActionInput(verdict="dissatisfied", reason="晚上还有人赌"))

    assert (redone.status, redone.redo_count, redone.unit) == ("dispatched", 1, world.police)
    assert (redone.dispatched_at, redone.deadline) == (FEEDBACK, REDO_DEADLINE)
    assert redone.deadline != before
    assert (redone.reporters_waiting, redone.verdict, redone.closed_at) == (3, "dissatisfied", None)
    three.refresh()
    assert [(r.verdict, r.feedback_at, r.tries) for r in three.reporters] == [("", None, 0)] * 3
    event = redone.events.filter(action="feedback").last()
    assert (event.from_status, event.to_status, event.note) == ("handled", "dispatched",
                                                                "晚上还有人赌")  # fmt: skip
    assert event.data["redo_count"] == 1

    # the next result again needs every household, the one satisfied before included
    with time_machine.travel(FEEDBACK + dt.timedelta(days=1), tick=False):
        act(world.users[Role.UNIT_HANDLER], redone, "handle", ActionInput(result="再次清查"))
        assert (feedback(three, 0).status, three.refresh().reporters_waiting) == ("handled", 2)
        feedback(three, 1)
        assert feedback(three, 2).status == "closed"


def test_a_household_that_cannot_be_reached_counts_once_the_leader_confirms(world, three):
    leader = world.users[Role.LEADER]
    far = three.reporters[2]
    with time_machine.travel(FEEDBACK, tick=False):
        feedback(three, 0)
        feedback(three, 1)
        # nobody has been tried three times yet: nothing for the leader to confirm
        with pytest.raises(ActionInvalid) as too_early:
            act(leader, three.problem, "confirm_unreachable", ActionInput(reporter_id=far.pk))
        assert too_early.value.status == 422
        for tries in (1, 2):
            after = act(three.cadres[2], three.problem, "contact_failed",
                        ActionInput(reporter_id=far.pk))  # fmt: skip
            far.refresh_from_db()
            assert (after.status, after.reporters_waiting, far.tries) == ("handled", 1, tries)
            with pytest.raises(ActionInvalid) as not_yet:
                act(leader, three.problem, "confirm_unreachable", ActionInput(reporter_id=far.pk))
            assert (not_yet.value.status, not_yet.value.field) == (422, "reporter_id")
        act(three.cadres[2], three.problem, "contact_failed", ActionInput(reporter_id=far.pk))
        far.refresh_from_db()
        assert far.tries == 3
        # a cadre may not confirm it (the leader's call)
        with pytest.raises(ActionForbidden) as cadre_refused:
            act(three.cadres[2], three.problem, "confirm_unreachable",
                ActionInput(reporter_id=far.pk))  # fmt: skip
        assert cadre_refused.value.status == 403
        assert three.refresh().status == "handled"

        closed = act(leader, three.problem, "confirm_unreachable", ActionInput(reporter_id=far.pk))

    assert (closed.status, closed.reporters_waiting, closed.verdict) == ("closed", 0, "satisfied")
    far.refresh_from_db()
    assert (far.unreachable_confirmed_at, far.unreachable_confirmed_by, far.verdict) == (
        FEEDBACK, leader, "",
    )  # fmt: skip


def test_when_no_household_is_reached_the_problem_closes_as_unreachable(world, field):
    """One reporting household, tried three times in vain, confirmed by the leader."""
    reported = make_reported(world, field, [])
    reporter = reported.reporters[0]
    with time_machine.travel(FEEDBACK, tick=False):
        for _ in range(3):
            act(reported.cadres[0], reported.problem, "contact_failed")  # the only one waiting
        closed = act(world.users[Role.LEADER], reported.problem, "confirm_unreachable")
    assert (closed.status, closed.verdict, closed.reporters_waiting) == (
        "closed", "unreachable", 0,
    )  # fmt: skip
    reporter.refresh_from_db()
    assert reporter.unreachable_confirmed_at == FEEDBACK


# --- The database keeps the rule, whatever the code does --------------------------------------


def test_the_database_refuses_a_closed_problem_with_households_waiting(three):
    problems = Problem.objects.filter(pk=three.problem.pk)
    now = clock.now()
    with pytest.raises(IntegrityError) as waiting, transaction.atomic():
        problems.update(status="closed", reporters_waiting=1, verdict="satisfied", closed_at=now)
    assert "problem_closed_only_when_no_household_waits" in str(waiting.value)
    for verdict in ("dissatisfied", ""):
        with pytest.raises(IntegrityError) as unhappy, transaction.atomic():
            problems.update(status="closed", reporters_waiting=0, verdict=verdict, closed_at=now)
        assert "problem_closed_only_satisfied" in str(unhappy.value)
    assert three.refresh().status == "handled"
    # the same write with nobody waiting and a satisfied verdict is accepted
    with transaction.atomic():
        problems.update(status="closed", reporters_waiting=0, verdict="satisfied", closed_at=now)
    assert three.refresh().status == "closed"


def test_the_database_refuses_an_unreachable_confirmation_before_three_tries(three):
    reporters = ProblemReporter.objects.filter(pk=three.reporters[0].pk)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        reporters.update(tries=2, unreachable_confirmed_at=clock.now())
    assert "problem_reporter_unreachable_after_3_tries" in str(refused.value)


# --- Who gives a household's verdict -----------------------------------------------------------


def test_a_cadre_records_only_their_own_households_verdict(world, three):
    """The cadre of the second household may not speak for the third (403); a cadre who
    visits none of the households does not even see the problem (404, as if it did not
    exist)."""
    before = database_snapshot()
    with time_machine.travel(FEEDBACK, tick=False):
        with pytest.raises(ActionForbidden) as refused:
            act(three.cadres[1], three.problem, "feedback",
                ActionInput(verdict="satisfied", reporter_id=three.reporters[2].pk))  # fmt: skip
        assert refused.value.status == 403
        assert refused.value.message == "只有走访该户的干部可以反馈群众评价"
        with pytest.raises(ActionForbidden):
            act(three.cadres[1], three.problem, "contact_failed",
                ActionInput(reporter_id=three.reporters[2].pk))  # fmt: skip

    assert changed_tables(before, database_snapshot()) == []

    stranger = make_user(Role.CADRE, world.qiying, username="stranger")
    make_person(world.qiying, name="赵六", user=stranger)
    before = database_snapshot()
    with time_machine.travel(FEEDBACK, tick=False), pytest.raises(Http404):
        act(stranger, three.problem, "feedback",
            ActionInput(verdict="satisfied", reporter_id=three.reporters[0].pk))  # fmt: skip
    assert changed_tables(before, database_snapshot()) == []
    assert three.refresh().reporters_waiting == 3


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.LEADER, Role.UNIT_HANDLER,
                                  Role.COUNTY_VIEWER])  # fmt: skip
def test_only_the_visiting_side_records_a_verdict(world, three, role):
    with time_machine.travel(FEEDBACK, tick=False), pytest.raises(LedgerError) as refused:
        act(world.users[role], three.problem, "feedback",
            ActionInput(verdict="satisfied", reporter_id=three.reporters[0].pk))  # fmt: skip
    assert refused.value.status == 403
    assert three.refresh().reporters_waiting == 3


def test_a_village_admin_stands_in_only_for_their_own_villages_household(world, field):
    """A household whose visiting cadre cannot sign in is fed back by its village admin
    (lifecycle: "the village admin stands in for a household without a visiting cadre who
    can sign in"; selectors.reporter_to_feed_back_q: those *of their village*). The 七营村
    admin does not speak for a 新桥村 household merged into a 七营村 problem."""
    xinqiao_household, _, _ = household_with_cadre(field, world.xinqiao, username=None,
                                                   name="孙丽")  # fmt: skip
    reported = make_reported(world, field, [(xinqiao_household, None)])
    xinqiao_reporter = reported.reporters[1]
    xinqiao_admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao, username="xinqiao")
    before = database_snapshot()

    with time_machine.travel(FEEDBACK, tick=False):
        with pytest.raises(ActionForbidden):
            act(world.users[Role.VILLAGE_ADMIN], reported.problem, "feedback",
                ActionInput(verdict="satisfied", reporter_id=xinqiao_reporter.pk))  # fmt: skip
        assert changed_tables(before, database_snapshot()) == []
        # the household's own village admin may
        after = act(xinqiao_admin, reported.problem, "feedback",
                    ActionInput(verdict="satisfied", reporter_id=xinqiao_reporter.pk))  # fmt: skip
    assert (after.status, after.reporters_waiting) == ("handled", 1)


def test_the_town_center_is_not_told_a_problem_is_closed_while_households_wait(world, three):
    """A satisfied verdict that is not the last one keeps the problem handled; the notice to
    the town center must not announce 销号."""
    with time_machine.travel(FEEDBACK, tick=False):
        feedback(three, 0)
    notices = Notification.objects.filter(recipient=world.users[Role.TOWN_ADMIN],
                                          kind="problem_feedback")  # fmt: skip
    assert notices.count() == 1
    assert "销号" not in notices.get().title, notices.get().title


def test_the_handling_result_goes_to_every_waiting_households_cadre(world, three):
    """办结 of a merged problem: each reporting household's own visiting cadre is told to take
    the result back (not only the first household's)."""
    told = Notification.objects.filter(kind="problem_handle", title__contains="请向群众反馈")
    assert set(told.values_list("recipient", flat=True)) == {u.pk for u in three.cadres}


def test_the_leader_is_told_when_a_household_was_not_reached_three_times(world, three):
    leader = world.users[Role.LEADER]
    far = three.reporters[2]
    asked = Notification.objects.filter(recipient=leader, kind="problem_contact_failed")
    with time_machine.travel(FEEDBACK, tick=False):
        for tries in (1, 2, 3):
            act(three.cadres[2], three.problem, "contact_failed", ActionInput(reporter_id=far.pk))
            assert asked.count() == (1 if tries == 3 else 0)
    assert "联系三次未果" in asked.get().title
