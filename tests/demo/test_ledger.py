"""The demo's ledger (`demo.ledger`): worked day by day through the real services, it
shows every state at the demo clock, overdue and due-soon problems, extensions, a return and
a redo, and gives the demo's unit handler and cadre something to do."""

import datetime as dt
import uuid

import pytest
from django.db.models import Count

from pingan.accounts.models import Role
from pingan.campaigns.models import ProblemCategory
from pingan.core import clock
from pingan.demo.ledger import demo_ledger_progress, demo_ledger_summary
from pingan.ledger import selectors
from pingan.ledger.deadlines import Colour, colour_q
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent
from pingan.surveys.models import Option
from pingan.visits.models import Concern, ConcernItem, ThoughtWork, Visit

pytestmark = pytest.mark.django_db

# The demo clock: the evening of the seventh visiting day (a Friday).
DEMO_NOW = dt.datetime(2021, 10, 22, 19, 45, tzinfo=clock.SHANGHAI)


# What the residents said, in a few words, and its category (the town's list has them).
MATTERS = (
    ("夜里有人偷电动车电瓶", "治安"),
    ("邻居因宅基地边界多次吵架", "矛盾纠纷"),
    ("村口路灯坏了晚上看不见路", "基础设施"),
    ("村西坑塘边没有护栏", "安全隐患"),
    ("村东头有人聚众赌博", "治安"),
)


def visits_raise_concerns(world, field) -> None:
    """What the demo's visits leave behind: each evening from 10-16, a concern per household
    — a matter it described, or (every fourth) only a feeling, 不安全 — waiting for triage."""
    for _, category in MATTERS:
        ProblemCategory.objects.get_or_create(town=world.town, name=category)
    unsafe = Option.objects.get(
        question__questionnaire=field.questionnaire, question__key="safety", label="不安全"
    )
    for day in range(16, 23):
        for n, household in enumerate([*field.households, *field.other_households]):
            at = dt.datetime(2021, 10, day, 19, 30, n, tzinfo=clock.SHANGHAI)
            cadre = household.assignments.get(ended_at__isnull=True).cadre
            visit = Visit.objects.create(
                uuid=uuid.uuid4(), payload_digest="-", campaign=field.campaign,
                household=household, village=household.village, cadre=cadre,
                submitted_by=world.users[Role.CADRE], outcome="completed", counts=True,
                questionnaire=field.questionnaire, started_at=at, ended_at=at,
            )  # fmt: skip
            concern = Concern.objects.create(
                campaign=field.campaign, village=household.village, household=household,
                visit=visit, cadre=cadre, source=Concern.Source.VISIT, reported_at=at,
            )  # fmt: skip
            if (day + n) % 4 == 0:
                ConcernItem.objects.create(
                    concern=concern, kind="answer", question=unsafe.question, option=unsafe,
                    text=f"{unsafe.question.text}　回答：不安全", feeling=True,
                )  # fmt: skip
                continue
            text, category = MATTERS[(day + n) % len(MATTERS)]
            concern.category = category
            concern.save(update_fields=["category"])
            ConcernItem.objects.create(concern=concern, kind="matter", text=f"{text}（{day}日）",
                                       category=category)  # fmt: skip


def work(world, field, until: dt.datetime = DEMO_NOW):
    return demo_ledger_progress(
        campaign=field.campaign,
        until=until,
        seed=7,
        unit_handler=world.users[Role.UNIT_HANDLER],
        cadre=field.cadre,
    )


def test_the_demo_ledger_has_every_state_and_every_step_at_the_demo_clock(world, field):
    # Given a week of visits that brought in concerns, none of them triaged yet.
    visits_raise_concerns(world, field)

    result = work(world, field)

    assert result.created
    # Every concern from before the last morning was triaged, through every outcome; the
    # town center took far fewer triage actions than there were concerns.
    concerns = Concern.objects.filter(campaign=field.campaign)
    outcomes = dict(concerns.values_list("outcome").annotate(n=Count("id")).order_by())
    assert set(outcomes) == {"", *Concern.Outcome.values}, outcomes
    assert not concerns.filter(outcome="", reported_at__lt=dt.datetime(
        2021, 10, 22, 8, tzinfo=clock.SHANGHAI)).exists()  # fmt: skip
    assert result.triaged == concerns.exclude(outcome="").count()
    assert result.decisions < result.triaged
    # Problems with several reporting households, and 思想工作 recorded or still to do.
    problems = Problem.objects.filter(campaign=field.campaign)
    assert problems.filter(reporters_waiting__gt=1).exists() or (
        problems.annotate(n=Count("reporters")).filter(n__gt=1).exists()
    )
    assert ThoughtWork.objects.filter(recorded_at__isnull=False).exists()
    assert ThoughtWork.objects.filter(recorded_at__isnull=True).exists()
    states = dict(problems.values_list("status").annotate(n=Count("id")).order_by())
    # Triage files problems as accepted: none waits for 受理 and none is 不予受理 any more.
    assert set(states) == set(Problem.Status.values) - {"reported", "rejected"}, states
    # Overdue (red) and due soon (yellow) at the demo clock, an extension waiting for the
    # leader, a redo back with the unit.
    assert problems.filter(colour_q(Colour.RED, DEMO_NOW)).exists()
    assert problems.filter(colour_q(Colour.YELLOW, DEMO_NOW)).exists()
    assert problems.filter(status="dispatched", extension_days__isnull=False).exists()
    assert problems.filter(status="dispatched", redo_count=1).exists()
    # Every kind of step left its event, the evening ticks included; none after the clock.
    events = ProblemEvent.objects.filter(problem__campaign=field.campaign)
    assert set(events.values_list("action", flat=True)) >= {
        "file", "merge", "dispatch", "return", "extend_request", "extend_approve",
        "extend_deny", "remind", "handle", "feedback", "tick_remind", "supervise",
    }  # fmt: skip
    assert not events.filter(at__gt=DEMO_NOW).exists()
    assert ProblemAlert.objects.filter(kind=ProblemAlert.Kind.SUPERVISE).exists()
    # Each step was taken by someone of the right role.
    roles = dict(events.exclude(actor=None).values_list("action", "actor__role").distinct())
    assert roles["file"] == roles["dispatch"] == Role.TOWN_ADMIN
    assert roles["handle"] == roles["return"] == Role.UNIT_HANDLER
    assert roles["extend_approve"] == Role.LEADER
    assert set(
        events.filter(action="feedback").values_list("actor__role", flat=True).distinct()
    ) <= {Role.CADRE, Role.VILLAGE_ADMIN}
    # The demo logins have work waiting: the unit handler's inbox (with the overdue one),
    # the cadre's results to take back, the leader's extension to decide.
    inbox = selectors.problem_list_unit_inbox(user=world.users[Role.UNIT_HANDLER], now=DEMO_NOW)
    assert inbox.filter(colour=Colour.RED).exists()
    assert selectors.problem_list_to_feed_back(user=world.users[Role.CADRE]).exists()
    assert selectors.problem_list_extension_pending(user=world.users[Role.LEADER]).exists()
    # The printed summary names the states and the overdue count.
    summary = demo_ledger_summary(campaign=field.campaign, now=DEMO_NOW)
    assert "待受理" in summary
    assert "已销号" in summary
    assert f"超期 {problems.filter(colour_q(Colour.RED, DEMO_NOW)).count()}" in summary


def test_the_demo_ledger_is_worked_once(world, field):
    visits_raise_concerns(world, field)
    work(world, field)
    before = list(ProblemEvent.objects.order_by("pk").values_list("pk", flat=True))

    again = work(world, field)

    assert not again.created
    assert list(ProblemEvent.objects.order_by("pk").values_list("pk", flat=True)) == before


def test_a_longer_demo_lists_the_longest_overdue_problem_for_criticism(world, field):
    # A demo clock a week later: the earliest call is overdue, supervised and, five working
    # days on, listed for public criticism (通报批评).
    visits_raise_concerns(world, field)
    later = DEMO_NOW + dt.timedelta(days=7)

    work(world, field, until=later)

    criticized = selectors.problem_list_criticized(now=later)
    assert criticized.exists()
    assert ProblemEvent.objects.filter(action="criticize").exists()
