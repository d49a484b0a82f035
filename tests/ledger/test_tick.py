"""`tick`: reminders (催办), supervision (督办) and criticism listings (通报批评), with frozen
time in Asia/Shanghai, each issued exactly once however often tick runs."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from pingan.accounts.models import Notification, Role
from pingan.core import clock
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent
from pingan.ledger.services import ActionInput
from pingan.ledger.supervision import problem_tick
from tests.factories import make_user

SH = clock.SHANGHAI


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def due_thursday(ledger) -> Problem:
    """Dispatched Thursday 2021-10-21 10:02 as general: due Thursday 2021-11-04 23:59:59."""
    problem = ledger.make(Problem.Status.DISPATCHED)
    assert clock.local(problem.deadline) == at(2021, 11, 4, 23, 59, 59)
    return problem


def kinds(problem) -> list[str]:
    return list(ProblemAlert.objects.filter(problem=problem).values_list("kind", flat=True))


def test_a_reminder_two_working_days_before_the_deadline_once(due_thursday, world, sms_outbox):
    assert problem_tick(now=at(2021, 11, 1, 9, 0)).reminded == []  # Monday: 3 days left
    report = problem_tick(now=at(2021, 11, 2, 9, 0))  # Tuesday: due within 2 working days
    assert report.reminded == [due_thursday.code]
    assert report.supervised == []
    assert report.criticized == []
    handler = world.users[Role.UNIT_HANDLER]
    notice = Notification.objects.get(recipient=handler, kind="problem_remind")
    assert notice.title.startswith("【催办】")
    assert due_thursday.code in notice.title
    assert notice.link == f"/ledger/{due_thursday.pk}/"
    # Tick again the same day and the next: nothing is sent twice.
    assert problem_tick(now=at(2021, 11, 2, 9, 5)).reminded == []
    assert problem_tick(now=at(2021, 11, 3, 9, 0)).reminded == []
    assert Notification.objects.filter(recipient=handler, kind="problem_remind").count() == 1
    assert kinds(due_thursday) == ["remind"]
    assert ProblemEvent.objects.filter(problem=due_thursday, action="tick_remind").count() == 1


def test_supervision_the_working_day_after_a_missed_deadline_escalates(
    due_thursday, world, sms_outbox
):
    assert problem_tick(now=at(2021, 11, 4, 23, 0)).supervised == []  # not yet missed
    report = problem_tick(now=at(2021, 11, 5, 0, 30))  # Friday, the working day after
    assert report.supervised == [due_thursday.code]
    due_thursday.refresh_from_db()
    assert due_thursday.supervised_at == at(2021, 11, 5, 0, 30)
    for role in (Role.UNIT_HANDLER, Role.LEADER, Role.TOWN_ADMIN):
        titles = Notification.objects.filter(recipient=world.users[role]).values_list(
            "title", flat=True
        )
        assert any(t.startswith("【督办】") for t in titles), role
    # not the village admin, the cadre or the county
    for role in (Role.VILLAGE_ADMIN, Role.CADRE, Role.COUNTY_VIEWER):
        assert not Notification.objects.filter(
            recipient=world.users[role], kind="problem_supervise"
        ).exists()
    assert problem_tick(now=at(2021, 11, 5, 9, 0)).supervised == []


def test_a_deadline_on_friday_is_supervised_on_monday_not_saturday(ledger):
    # Dispatched Friday 2021-10-22: due Friday 2021-11-05.
    problem = ledger.make(Problem.Status.DISPATCHED, at=at(2021, 10, 22, 9, 0))
    assert clock.local(problem.deadline).date() == dt.date(2021, 11, 5)
    assert problem_tick(now=at(2021, 11, 6, 10, 0)).supervised == []  # Saturday
    assert problem_tick(now=at(2021, 11, 7, 10, 0)).supervised == []  # Sunday
    assert problem_tick(now=at(2021, 11, 8, 8, 0)).supervised == [problem.code]  # Monday


def test_still_overdue_five_working_days_after_supervision_it_is_listed_for_criticism(
    due_thursday, world
):
    problem_tick(now=at(2021, 11, 5, 9, 0))  # supervised Friday 11-05
    # 5 working days after Friday 11-05: 08, 09, 10, 11, 12 -> listed on Friday 11-12.
    assert problem_tick(now=at(2021, 11, 11, 23, 0)).criticized == []
    report = problem_tick(now=at(2021, 11, 12, 8, 0))
    assert report.criticized == [due_thursday.code]
    due_thursday.refresh_from_db()
    assert due_thursday.criticized_at == at(2021, 11, 12, 8, 0)
    assert problem_tick(now=at(2021, 11, 15, 8, 0)).criticized == []
    assert kinds(due_thursday) == ["supervise", "criticize"]


def test_a_late_first_run_supervises_and_lists_in_one_go(due_thursday):
    report = problem_tick(now=at(2021, 11, 20, 9, 0))
    assert report.supervised == [due_thursday.code]
    assert report.criticized == [due_thursday.code]
    assert report.reminded == []  # the reminder's moment has passed: no late reminder


def test_a_handled_problem_is_not_chased(due_thursday, ledger):
    ledger.act(due_thursday, "handle", Role.UNIT_HANDLER, ActionInput(result="已办结"))
    report = problem_tick(now=at(2021, 11, 20, 9, 0))
    assert (report.reminded, report.supervised, report.criticized) == ([], [], [])


def test_an_approved_extension_starts_the_cycle_again(due_thursday, ledger):
    problem_tick(now=at(2021, 11, 2, 9, 0))  # reminded for 11-04
    with clock.at(at(2021, 11, 3, 9, 0)):
        ledger.act(due_thursday, "extend_request", Role.UNIT_HANDLER,
                   ActionInput(reason="需县住建局配合", days=5))  # fmt: skip
        ledger.act(due_thursday, "extend_approve", Role.LEADER)
    due_thursday.refresh_from_db()
    # 5 working days after 11-04: 05, 08, 09, 10, 11.
    assert clock.local(due_thursday.deadline).date() == dt.date(2021, 11, 11)
    assert problem_tick(now=at(2021, 11, 5, 9, 0)).supervised == []
    assert problem_tick(now=at(2021, 11, 9, 9, 0)).reminded == [due_thursday.code]


def with_phone(user, phone: str):
    from pingan.core.pii import seal_phone

    user.set_phone(seal_phone(phone))
    user.save()
    return user


def test_tick_twice_sends_nothing_twice(
    ledger, world, sms_outbox, django_capture_on_commit_callbacks
):
    with_phone(world.users[Role.UNIT_HANDLER], "13912345678")
    problems = [ledger.make(Problem.Status.DISPATCHED) for _ in range(3)]
    sms_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = problem_tick(now=at(2021, 11, 20, 9, 0))
    notices, texts, events = (
        Notification.objects.count(), len(sms_outbox), ProblemEvent.objects.count()
    )  # fmt: skip
    assert sorted(first.supervised) == sorted(p.code for p in problems)
    assert notices > 0
    assert texts > 0
    with django_capture_on_commit_callbacks(execute=True):
        second = problem_tick(now=at(2021, 11, 20, 9, 0))
    assert (second.reminded, second.supervised, second.criticized) == ([], [], [])
    assert Notification.objects.count() == notices
    assert len(sms_outbox) == texts
    assert ProblemEvent.objects.count() == events


def test_texts_go_to_the_users_phone(ledger, world, sms_outbox, django_capture_on_commit_callbacks):
    with_phone(world.users[Role.UNIT_HANDLER], "13912345678")
    make_user(Role.UNIT_HANDLER, world.town, unit=world.police, username="unit2")  # no phone
    problem = ledger.make(Problem.Status.DISPATCHED)
    sms_outbox.clear()  # the dispatch's own text
    with django_capture_on_commit_callbacks(execute=True):
        problem_tick(now=at(2021, 11, 2, 9, 0))
    assert [phone for phone, _ in sms_outbox] == ["13912345678"]
    assert problem.code in sms_outbox[0][1]
    assert sms_outbox[0][1].startswith("【平安走访】")


def test_the_command_prints_what_it_did_and_the_criticism_list(due_thursday):
    out = io.StringIO()
    call_command("tick", "--now", "2021-11-12T08:00", stdout=out)
    text = out.getvalue()
    assert "督办 1 件" in text
    assert "新列入通报批评 1 件" in text
    assert "通报批评名单" in text
    assert due_thursday.code in text
    assert "汝集派出所" in text
    again = io.StringIO()
    call_command("tick", "--now", "2021-11-12T08:00", stdout=again)
    assert "督办 0 件" in again.getvalue()
    assert "新列入通报批评 0 件" in again.getvalue()
    assert due_thursday.code in again.getvalue()  # still on the list while overdue


def test_the_command_refuses_a_bad_moment_in_chinese(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="格式不对"):
        call_command("tick", "--now", "下周一")


def test_the_task_queue_runs_tick_on_its_schedule(due_thursday):
    from huey.contrib.djhuey import HUEY

    from pingan.ledger.tasks import tick_scheduled

    def utc_minute(hour: int, minute: int) -> dt.datetime:  # huey's scheduler clock: naive UTC
        return dt.datetime(2021, 11, 5, hour, minute, tzinfo=dt.UTC).replace(tzinfo=None)

    # huey's scheduler asks which periodic tasks are due at a minute: tick every 5 minutes.
    assert "ledger.tick" in {task.name for task in HUEY.read_periodic(utc_minute(1, 5))}
    assert "ledger.tick" not in {t.name for t in HUEY.read_periodic(utc_minute(1, 7))}
    # The job it runs, at that moment (09:05 Shanghai on Friday 11-05), supervises.
    with time_machine.travel(at(2021, 11, 5, 9, 5), tick=False):
        for task in HUEY.read_periodic(utc_minute(1, 5)):
            if task.name == "ledger.tick":
                HUEY.execute(task)
    assert kinds(due_thursday) == ["supervise"]
    assert tick_scheduled.name == "ledger.tick"
