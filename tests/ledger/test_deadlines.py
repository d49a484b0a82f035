"""Deadlines of dispatched problems: the end of the Nth working day after the dispatch day."""

import datetime as dt

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.campaigns.models import Campaign
from pingan.core import clock, workdays
from pingan.ledger.deadlines import Colour, colour_q
from pingan.ledger.models import Problem
from pingan.ledger.selectors import problem_colour_counts, problem_get
from pingan.ledger.services import ActionInput

SH = clock.SHANGHAI


def dispatch_at(ledger, world, moment: dt.datetime, severity: str = "general") -> Problem:
    problem = ledger.make(Problem.Status.ACCEPTED, at=moment - dt.timedelta(hours=1))
    with clock.at(moment):
        return ledger.act(problem, "dispatch", Role.TOWN_ADMIN,
                          ActionInput(unit_id=world.police.pk, severity=severity))  # fmt: skip


def test_national_day_2021_general_problem_is_due_at_the_end_of_october_20(ledger, world):
    # Dispatched Thursday 09-30; 10-01..07 holiday; Saturday 10-09 a working day (调休).
    problem = dispatch_at(ledger, world, dt.datetime(2021, 9, 30, 15, 0, tzinfo=SH))
    assert clock.local(problem.deadline) == dt.datetime(2021, 10, 20, 23, 59, 59, tzinfo=SH)
    assert problem.deadline_warning == ""


def test_a_complex_problem_gets_20_working_days(ledger, world):
    problem = dispatch_at(ledger, world, dt.datetime(2021, 9, 30, 15, 0, tzinfo=SH), "complex")
    # 10th working day 10-20, then 21, 22, 25–29, 11-01, 02, 03 -> the 20th is 11-03.
    assert clock.local(problem.deadline).date() == dt.date(2021, 11, 3)


def test_dispatched_late_at_night_counts_from_the_shanghai_day(ledger, world):
    # 23:30 on 09-30 in Shanghai is still 09-30 (15:30 UTC): the same deadline as by day.
    problem = dispatch_at(ledger, world, dt.datetime(2021, 9, 30, 23, 30, tzinfo=SH))
    assert clock.local(problem.deadline).date() == dt.date(2021, 10, 20)


@pytest.mark.parametrize(
    ("utc", "shanghai"),
    [
        (dt.datetime(2021, 10, 11, 16, 30, tzinfo=dt.UTC), "2021-10-12 00:30"),
        (dt.datetime(2021, 10, 11, 23, 59, tzinfo=dt.UTC), "2021-10-12 07:59"),
    ],
)
def test_a_dispatch_before_8_in_the_morning_counts_from_the_shanghai_day(
    ledger, world, utc, shanghai
):
    """In production the clock is UTC: between 00:00 and 08:00 Shanghai the UTC date is still
    the day before. The deadline counts from the Shanghai day, Tuesday 10-12: working days
    10-13, 14, 15, 18, 19, 20, 21, 22, 25, 26 -> the end of 10-26 (from 10-11 it would be
    one day early, 10-25)."""
    problem = ledger.make(Problem.Status.ACCEPTED, at=utc - dt.timedelta(hours=1))
    with time_machine.travel(utc, tick=False):
        assert clock.now().utcoffset() == dt.timedelta(0)
        assert f"{clock.local():%Y-%m-%d %H:%M}" == shanghai
        problem = ledger.act(problem, "dispatch", Role.TOWN_ADMIN,
                             ActionInput(unit_id=world.police.pk, severity="general"))  # fmt: skip
    assert clock.local(problem.deadline) == dt.datetime(2021, 10, 26, 23, 59, 59, tzinfo=SH)


def test_a_campaign_can_count_calendar_days(ledger, world, field):
    Campaign.objects.filter(pk=field.campaign.pk).update(
        deadline_basis=Campaign.DeadlineBasis.CALENDAR_DAYS
    )
    problem = dispatch_at(ledger, world, dt.datetime(2021, 9, 30, 15, 0, tzinfo=SH))
    assert clock.local(problem.deadline).date() == dt.date(2021, 10, 10)  # a Sunday, as counted


@pytest.fixture
def calendar_until_2026(monkeypatch):
    """The installed calendar as if its last known year were 2026 (true for chinesecalendar
    1.11), so the hand-worked dates below hold whatever release is installed later."""
    workdays.is_working_day.cache_clear()
    monkeypatch.setattr(workdays, "known_years", lambda: (2004, 2026))
    yield
    workdays.is_working_day.cache_clear()


def test_past_the_calendars_last_year_monday_to_friday_stands_in_with_a_warning(
    ledger, world, calendar_until_2026
):
    # Monday 2026-12-28 + 10 working days: 29, 30, 31 on the real calendar, then 2027 by
    # Monday–Friday: Fri 01-01 (no holiday known), 04–08, Mon 01-11 is the 10th.
    problem = dispatch_at(ledger, world, dt.datetime(2026, 12, 28, 10, 0, tzinfo=SH))
    assert clock.local(problem.deadline).date() == dt.date(2027, 1, 11)
    assert "2027 年" in problem.deadline_warning
    assert "周一至周五" in problem.deadline_warning


def test_within_the_last_known_year_there_is_no_warning(ledger, world, calendar_until_2026):
    # Monday 2026-12-14 + 10 working days -> Monday 2026-12-28, all on the real calendar.
    problem = dispatch_at(ledger, world, dt.datetime(2026, 12, 14, 10, 0, tzinfo=SH))
    assert clock.local(problem.deadline).date() == dt.date(2026, 12, 28)
    assert problem.deadline_warning == ""


def test_colours_green_yellow_red_grey(ledger, world):
    closed = ledger.make(Problem.Status.CLOSED)
    rejected = ledger.make(Problem.Status.REJECTED)
    reported = ledger.make(Problem.Status.REPORTED)
    dispatched = ledger.make(Problem.Status.DISPATCHED)  # due Thursday 2021-11-04 23:59:59
    town = world.users[Role.TOWN_ADMIN]

    def colour_at(problem, moment):
        with time_machine.travel(moment, tick=False):
            return problem_get(user=town, problem_id=problem.pk).colour

    monday = dt.datetime(2021, 11, 1, 12, 0, tzinfo=SH)  # 3 working days left: no colour yet
    tuesday = dt.datetime(2021, 11, 2, 8, 0, tzinfo=SH)  # due within 2 working days
    last_second = dt.datetime(2021, 11, 4, 23, 59, 58, tzinfo=SH)
    friday = dt.datetime(2021, 11, 5, 0, 0, 1, tzinfo=SH)
    assert colour_at(dispatched, monday) == Colour.NONE
    assert colour_at(dispatched, tuesday) == Colour.YELLOW
    assert colour_at(dispatched, last_second) == Colour.YELLOW
    assert colour_at(dispatched, friday) == Colour.RED
    assert colour_at(closed, friday) == Colour.GREEN
    assert colour_at(rejected, friday) == Colour.GREY
    assert colour_at(reported, friday) == Colour.NONE
    with time_machine.travel(friday, tick=False):
        counts = problem_colour_counts(user=town)
        assert counts == {"green": 1, "yellow": 0, "red": 1, "grey": 1, "none": 1}
        for colour, n in counts.items():
            assert Problem.objects.filter(colour_q(colour, clock.now())).count() == n
