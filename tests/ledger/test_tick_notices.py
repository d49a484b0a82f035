"""What tick's notices say (the deadline, the unit, the start of the problem), and that each
alert is issued once even when two ticks run at once or a run has more than one batch."""

import datetime as dt

import pytest

from pingan.accounts.models import Notification, Role
from pingan.core import clock
from pingan.ledger import supervision
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent
from pingan.ledger.supervision import problem_tick

SH = clock.SHANGHAI
# 100 characters: the notice shows the first 80.
LONG = (
    "村东头路灯坏了三个月，晚上出行很不安全，老人孩子不敢出门。" * 3 + "请尽快修好路灯并安排巡逻。"
)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def due_thursday(ledger) -> Problem:
    """Dispatched Thursday 2021-10-21 10:02 as general: due Thursday 2021-11-04 23:59:59."""
    problem = ledger.make(Problem.Status.DISPATCHED, description=LONG)
    assert clock.local(problem.deadline) == at(2021, 11, 4, 23, 59, 59)
    return problem


def notice(user, kind: str) -> Notification:
    return Notification.objects.get(recipient=user, kind=f"problem_{kind}")


def note(problem: Problem, action: str) -> str:
    return ProblemEvent.objects.get(problem=problem, action=action).note


def test_each_notice_names_the_deadline_the_unit_and_the_problem(due_thursday, world):
    assert len(LONG) == 100
    handler, leader = world.users[Role.UNIT_HANDLER], world.users[Role.LEADER]
    code = due_thursday.code
    body = "七营村：" + LONG[:80]

    problem_tick(now=at(2021, 11, 2, 9, 0))  # due within 2 working days
    reminder = notice(handler, "remind")
    assert reminder.title == f"【催办】{code} 将于2021-11-04到期，请抓紧办理"
    assert reminder.body == body
    assert note(due_thursday, "tick_remind") == "办理时限 2021-11-04 将到，提醒汝集派出所抓紧办理"

    problem_tick(now=at(2021, 11, 5, 9, 0))  # the working day after the deadline
    title = f"【督办】{code} 已超期（时限2021-11-04），汝集派出所请立即办理"
    assert notice(handler, "supervise").title == title
    assert notice(leader, "supervise").title == title
    assert notice(leader, "supervise").body == body
    assert note(due_thursday, "supervise") == (
        "已超过办理时限 2021-11-04，对汝集派出所发出督办并报领导小组"
    )

    problem_tick(now=at(2021, 11, 12, 8, 0))  # 5 working days after the supervision
    title = f"【通报批评】{code} 督办后仍超期，汝集派出所列入通报"
    assert notice(handler, "criticize").title == title
    assert notice(leader, "criticize").title == title
    assert note(due_thursday, "criticize") == "督办后仍超期未办结，汝集派出所列入通报批评"


def test_a_tick_that_finds_the_alert_issued_meanwhile_issues_nothing(
    due_thursday, world, monkeypatch
):
    """Two ticks at once: both find the problem due, and the other one issues the
    supervision notice just before this one does. This one then issues and reports nothing
    (the alert is unique), and nobody is told twice."""
    issue = supervision._issue
    other: list = []

    def another_tick_first(problem, kind, now):
        if not other:  # the other tick runs between this one's query and its issuing
            monkeypatch.setattr(supervision, "_issue", issue)
            other.append(problem_tick(now=now))
        return issue(problem, kind, now)

    monkeypatch.setattr(supervision, "_issue", another_tick_first)
    report = problem_tick(now=at(2021, 11, 5, 9, 0))

    assert other[0].supervised == [due_thursday.code]
    assert report.supervised == []
    alerts = ProblemAlert.objects.filter(problem=due_thursday)
    assert list(alerts.values_list("kind", flat=True)) == ["supervise"]
    handler = world.users[Role.UNIT_HANDLER]
    assert Notification.objects.filter(recipient=handler, kind="problem_supervise").count() == 1
    assert ProblemEvent.objects.filter(problem=due_thursday, action="supervise").count() == 1


def test_a_tick_with_more_problems_than_one_batch_issues_every_one(due_thursday):
    """The problems due are issued 500 at a time: with 501, the 500th and the 501st are not
    skipped at the edge between the two batches."""
    copies = [
        Problem(
            code=f"{due_thursday.code}-{n}",
            campaign=due_thursday.campaign,
            village=due_thursday.village,
            household=due_thursday.household,
            cadre=due_thursday.cadre,
            source=due_thursday.source,
            description=f"问题 {n}",
            category=due_thursday.category,
            status=Problem.Status.DISPATCHED,
            severity=due_thursday.severity,
            unit=due_thursday.unit,
            reported_at=due_thursday.reported_at,
            dispatched_at=due_thursday.dispatched_at,
            deadline=due_thursday.deadline,
        )
        for n in range(500)
    ]
    Problem.objects.bulk_create(copies)
    due = list(Problem.objects.order_by("id").values_list("code", flat=True))
    assert len(due) == 501

    report = problem_tick(now=at(2021, 11, 2, 9, 0))

    assert report.reminded == due
    assert ProblemAlert.objects.filter(kind=ProblemAlert.Kind.REMIND).count() == 501
