"""The data migration `ledger/0006_concerns_from_the_ledger`: a ledger kept before concerns
existed gets them, and nothing is lost.

The old ledger is made with the services as they were used then: the visit sync filed one
problem per negative option (`survey`) and per described matter (`visit`), the town center
registered calls by hand (`problem_report`), and problems moved along their lifecycle. What
did not exist then is taken away again: concerns, reporting households, `reporters_waiting`.
"""

import datetime as dt
import importlib
from dataclasses import dataclass

import pytest
import time_machine
from django.apps import apps

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.models import Problem, ProblemConcern, ProblemEvent, ProblemReporter
from pingan.ledger.services import (
    ActionInput,
    ProblemDraft,
    problem_act,
    problem_report,
    problem_report_many,
)
from pingan.ledger.triage import Decision, concern_triage
from pingan.surveys.answers import AnswerIn
from pingan.surveys.models import Option
from pingan.visits.concerns import concern_report
from pingan.visits.models import Concern, ConcernItem, Visit
from pingan.visits.services import ProblemIn, visit_sync
from tests.conftest import changed_tables, database_snapshot
from tests.factories import visit_in

migration = importlib.import_module("pingan.ledger.migrations.0006_concerns_from_the_ledger")

SHANGHAI = clock.SHANGHAI
REPORTED = dt.datetime(2021, 10, 19, 18, 0, tzinfo=SHANGHAI)
LATER = dt.datetime(2021, 10, 22, 9, 30, tzinfo=SHANGHAI)


def forward() -> None:
    migration.forward(apps, None)


def act(world, problem: Problem, action: str, role: str, data: ActionInput | None = None):
    problem.refresh_from_db()
    return problem_act(actor=world.users[role], problem_id=problem.pk, action=action,
                       version=problem.version, data=data or ActionInput())  # fmt: skip


def walk(world, problem: Problem, *steps: tuple[str, str, ActionInput | None]) -> Problem:
    for action, role, data in steps:
        problem = act(world, problem, action, role, data)
    return problem


def dispatch(world):
    return ("dispatch", Role.TOWN_ADMIN, ActionInput(unit_id=world.police.pk, severity="general"))


HANDLE = ("handle", Role.UNIT_HANDLER, ActionInput(result="已处理"))
SATISFIED = ("feedback", Role.CADRE, ActionInput(verdict="satisfied"))
DISSATISFIED = ("feedback", Role.CADRE, ActionInput(verdict="dissatisfied", reason="没解决"))


def sync(world, household, questionnaire, **kw) -> Visit:
    [result] = visit_sync(actor=world.users[Role.CADRE],
                          items=[visit_in(household, questionnaire, **kw)])  # fmt: skip
    assert result.status == "created", result.errors
    return Visit.objects.get(pk=result.visit_id)


def old_intake(visit: Visit, matters: list[ProblemIn]) -> list[Problem]:
    """What the sync filed before concerns: a problem per negative option, per matter."""
    negative = visit.answers.filter(option__polarity=Option.Polarity.NEGATIVE).select_related(
        "question", "option"
    )
    drafts = [
        ProblemDraft(
            campaign=visit.campaign, village=visit.village, source="survey",
            description=f"{a.question.text}　回答：{a.option.label}",
            category=a.option.category or a.question.category, household=visit.household,
            cadre=visit.cadre, visit=visit, question=a.question, option=a.option,
        )
        for a in negative
    ] + [
        ProblemDraft(
            campaign=visit.campaign, village=visit.village, source="visit", description=m.text,
            category=m.category, household=visit.household, cadre=visit.cadre, visit=visit,
        )
        for m in matters
    ]  # fmt: skip
    return problem_report_many(actor=None, drafts=drafts)


@dataclass
class OldLedger:
    safety: Problem  # 不太安全, a feeling (reported)
    gambling: Problem  # 赌博, checked in question 4 (handled)
    matter: Problem  # a described matter of the same visit (closed)
    call: Problem  # registered by hand (accepted)
    redone: Problem  # registered by hand, found unsatisfying once: dispatched again
    dispatched: Problem  # registered by hand, dispatched
    visit: Visit  # the visit of the first three, with an opinion
    opinion_visit: Visit  # an opinion and nothing else
    quiet_visit: Visit  # nothing to say


def simulate_the_old_state() -> None:
    """Before migration 0005 there were no concerns and no reporting households, and
    `reporters_waiting` came in as 0 for every problem."""
    ConcernItem.objects.all().delete()
    Concern.objects.all().delete()
    ProblemReporter.objects.all().delete()
    Problem.objects.update(reporters_waiting=0)


@pytest.fixture
def old(world, field) -> OldLedger:
    q = field.questionnaire
    with time_machine.travel(REPORTED, tick=False):
        visit = sync(world, field.households[0], q, answers=(
            AnswerIn("safety", ("不太安全",)), AnswerIn("nearby", ("赌博",)),
            AnswerIn("police", ("满意",)),
        ), opinion="希望村口装路灯", problems=(ProblemIn("村东头有人聚众赌博", "治安"),))  # fmt: skip
        opinion_visit = sync(world, field.households[1], q, opinion="多搞几次反诈宣传")
        quiet_visit = sync(world, field.households[2], q)
        safety, gambling, matter = old_intake(visit, [ProblemIn("村东头有人聚众赌博", "治安")])
        call = problem_report(actor=world.users[Role.TOWN_ADMIN], village_id=None,
                              household_id=field.households[1].pk, description="邻居占道堆放柴草",
                              category="矛盾纠纷")  # fmt: skip
        redone = problem_report(actor=world.users[Role.TOWN_ADMIN], village_id=None,
                                household_id=field.households[2].pk, description="路口积水",
                                category="基础设施")  # fmt: skip
        dispatched = problem_report(actor=world.users[Role.TOWN_ADMIN], village_id=None,
                                    household_id=field.households[2].pk, description="偷电动车",
                                    category="治安")  # fmt: skip
    accept = ("accept", Role.TOWN_ADMIN, None)
    with time_machine.travel(LATER, tick=False):
        gambling = walk(world, gambling, accept, dispatch(world), HANDLE)
        matter = walk(world, matter, accept, dispatch(world), HANDLE, SATISFIED)
        call = walk(world, call, accept)
        redone = walk(world, redone, accept, dispatch(world), HANDLE, DISSATISFIED)
        dispatched = walk(world, dispatched, accept, dispatch(world))
    simulate_the_old_state()
    problems = [safety, gambling, matter, call, redone, dispatched]
    for problem in problems:
        problem.refresh_from_db()
    return OldLedger(*problems, visit, opinion_visit, quiet_visit)


def problems_as_kept() -> list[tuple]:
    return list(
        Problem.objects.order_by("pk").values_list(
            "pk", "code", "status", "verdict", "description", "unit", "deadline", "closed_at",
            "redo_count", "version",
        )
    )  # fmt: skip


def events_as_kept() -> list[tuple]:
    return list(ProblemEvent.objects.order_by("pk").values_list("pk", "problem", "action", "at"))


def test_the_old_state_is_what_the_migration_starts_from(old):
    assert (Concern.objects.count(), ProblemReporter.objects.count()) == (0, 0)
    assert Problem.objects.count() == 6
    assert [old.redone.status, old.redone.verdict, old.redone.redo_count] == [
        "dispatched", "dissatisfied", 1,
    ]  # fmt: skip


def test_every_problem_keeps_its_code_state_and_history(old):
    problems, events = problems_as_kept(), events_as_kept()
    forward()
    assert problems_as_kept() == problems
    assert events_as_kept() == events


def test_every_problem_gets_its_reporting_household_and_a_filed_concern(world, field, old):
    forward()
    for problem in Problem.objects.all():
        [reporter] = problem.reporters.all()
        [link] = problem.concern_links.select_related("concern")
        concern = link.concern
        assert (reporter.household_id, reporter.cadre_id, reporter.village_id) == (
            problem.household_id, problem.cadre_id, problem.village_id,
        )  # fmt: skip
        assert reporter.concern == concern
        assert (concern.outcome, concern.decided_at, concern.household_id) == (
            "file", problem.reported_at, problem.household_id,
        )  # fmt: skip
        assert link.at == problem.reported_at
    # a call registered by hand: its own phone concern, in the resident's words
    call = Concern.objects.get(problem_links__problem=old.call)
    assert (call.source, call.text, call.reported_by, call.category, call.visit) == (
        "phone", "邻居占道堆放柴草", world.users[Role.TOWN_ADMIN], "矛盾纠纷", None,
    )  # fmt: skip
    assert list(call.items.values_list("kind", "text")) == [("matter", "邻居占道堆放柴草")]


def test_a_visits_problems_share_one_concern_with_the_opinion(world, field, old):
    forward()
    concern = Concern.objects.get(visit=old.visit)
    assert set(concern.problem_links.values_list("problem", flat=True)) == {
        old.safety.pk, old.gambling.pk, old.matter.pk,
    }  # fmt: skip
    assert (concern.source, concern.household, concern.cadre) == (
        "visit", field.households[0], field.cadre,
    )  # fmt: skip
    assert [
        (i.kind, i.option.label if i.option else None, i.feeling, i.text)
        for i in concern.items.select_related("option").order_by("position", "id")
    ] == [
        ("answer", "不太安全", True, old.safety.description),
        ("answer", "赌博", False, old.gambling.description),
        ("matter", None, False, "村东头有人聚众赌博"),
        ("opinion", None, False, "希望村口装路灯"),
    ]  # fmt: skip


def test_verdicts_are_carried_and_a_handled_problem_waits_for_one(old):
    forward()
    gambling = Problem.objects.get(pk=old.gambling.pk)
    assert (gambling.status, gambling.reporters_waiting) == ("handled", 1)
    assert gambling.reporters.get().verdict == ""
    matter = Problem.objects.get(pk=old.matter.pk)
    assert (matter.status, matter.reporters_waiting) == ("closed", 0)
    reporter = matter.reporters.get()
    assert (reporter.verdict, reporter.feedback_at) == ("satisfied", old.matter.feedback_at)


def test_every_open_problem_waits_for_its_household(old):
    """A problem still open (待受理, 已受理, 已交办) will need its household's verdict, as every
    problem filed since does (`problem_report_many`: reporters_waiting = 1)."""
    forward()
    waiting = dict(Problem.objects.values_list("pk", "reporters_waiting"))
    assert {
        "safety (reported)": waiting[old.safety.pk],
        "call (accepted)": waiting[old.call.pk],
        "dispatched": waiting[old.dispatched.pk],
        "redone (dispatched again)": waiting[old.redone.pk],
    } == dict.fromkeys(
        ["safety (reported)", "call (accepted)", "dispatched", "redone (dispatched again)"], 1
    )


def test_a_migrated_problem_that_was_redone_can_still_be_closed(world, old):
    """A problem sent back once (重办) before the migration is handled again afterwards: its
    household's verdict must be recordable, and close it."""
    forward()
    with time_machine.travel(LATER + dt.timedelta(days=1), tick=False):
        handled = act(world, old.redone, *HANDLE)
        assert handled.status == "handled"
        closed = act(world, old.redone, *SATISFIED)
    assert (closed.status, closed.verdict, closed.reporters_waiting) == ("closed", "satisfied", 0)


def test_a_household_merged_into_a_migrated_problem_is_waited_for(world, field, old):
    """After the migration, the town center merges a new call into an old accepted problem:
    the problem then has two households and closes only when both are satisfied."""
    forward()
    with time_machine.travel(LATER + dt.timedelta(days=1), tick=False):
        concern = concern_report(actor=world.users[Role.TOWN_ADMIN],
                                 household_id=field.households[0].pk, text="柴草挡路")  # fmt: skip
        concern_triage(actor=world.users[Role.TOWN_ADMIN],
                       decision=Decision(concern.pk, concern.version, "merge",
                                         problem_id=old.call.pk))  # fmt: skip
        walk(world, old.call, dispatch(world), HANDLE)
        first = old.call.reporters.order_by("id").first()
        after_one = act(world, old.call, "feedback", Role.CADRE,
                        ActionInput(verdict="satisfied", reporter_id=first.pk))  # fmt: skip
    assert old.call.reporters.count() == 2
    assert (after_one.status, after_one.reporters_waiting) == ("handled", 1)


def test_an_opinion_without_a_problem_becomes_an_open_concern(field, old):
    forward()
    concern = Concern.objects.get(visit=old.opinion_visit)
    assert (concern.source, concern.outcome, concern.decided_at, concern.household) == (
        "visit", "", None, field.households[1],
    )  # fmt: skip
    assert (concern.cadre, concern.text) == (field.cadre, "多搞几次反诈宣传")
    assert list(concern.items.values_list("kind", "text")) == [("opinion", "多搞几次反诈宣传")]
    assert not concern.problem_links.exists()
    assert not Concern.objects.filter(visit=old.quiet_visit).exists()


def test_an_opinion_given_as_the_answer_to_question_15_is_not_lost(world, field, old):
    """The sync takes the opinion from `Visit.opinion` or, failing that, from the answer to
    question 15 (`OPINION_KEY`); a phone that sent only the answer left `Visit.opinion`
    empty. The migration must keep that opinion too."""
    with time_machine.travel(REPORTED, tick=False):
        answered = sync(world, field.households[2], field.questionnaire, answers=(
            AnswerIn("safety", ("安全",)), AnswerIn("opinion", text="希望派出所多巡逻"),
        ))  # fmt: skip
    assert answered.opinion == ""
    simulate_the_old_state()
    forward()
    concern = Concern.objects.filter(visit=answered).first()
    assert concern is not None, "the answer to question 15 raised no concern"
    assert list(concern.items.values_list("kind", "text")) == [("opinion", "希望派出所多巡逻")]


def test_running_it_twice_changes_nothing(old):
    forward()
    before = database_snapshot()
    forward()
    assert changed_tables(before, database_snapshot()) == []
    assert Concern.objects.count() == 5  # the visit's, three calls', the opinion's
    assert ProblemReporter.objects.count() == Problem.objects.count() == 6
    assert ProblemConcern.objects.count() == 6
