"""The edges of the working-day calendar: its first and last known year, and the arguments
the helpers refuse."""

import datetime as dt

import chinese_calendar
import pytest

from pingan.core import workdays
from pingan.core.workdays import (
    add_working_days,
    known_years,
    start_of_day,
    working_day_back,
)

D = dt.date


@pytest.fixture
def fresh_calendar():
    """Forget what was cached of the installed calendar, before and after."""
    known_years.cache_clear()
    workdays.is_working_day.cache_clear()
    yield
    known_years.cache_clear()
    workdays.is_working_day.cache_clear()


def test_the_first_year_the_calendar_knows_uses_its_holidays(fresh_calendar):
    """2004 is the first year of chinese-calendar: Thursday 2004-09-30 + 1 working day is
    Friday 10-08 after the National Day week, with no warning (Monday–Friday would have said
    Friday 10-01, a holiday)."""
    assert known_years()[0] == 2004
    span = add_working_days(D(2004, 9, 30), 1)
    assert span.day == D(2004, 10, 8)
    assert span.warning == ""


def test_a_year_with_holidays_but_no_adjusted_working_day_is_still_known(
    fresh_calendar, monkeypatch
):
    """A release of the calendar whose last year lists its holidays but no working weekend
    (调休) still knows that year: no Monday–Friday warning for a deadline in it."""
    last = max(day.year for day in chinese_calendar.holidays)
    without = {day: name for day, name in chinese_calendar.workdays.items() if day.year < last}
    monkeypatch.setattr(chinese_calendar, "workdays", without)
    assert known_years() == (2004, last)
    assert add_working_days(D(last, 6, 1), 1).warning == ""


def test_add_working_days_needs_at_least_one_day():
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(D(2021, 10, 18), 0)


def test_working_day_back_needs_at_least_one_day():
    assert working_day_back(D(2021, 10, 18), 1) == D(2021, 10, 18)  # a Monday
    with pytest.raises(ValueError, match="at least 1"):
        working_day_back(D(2021, 10, 18), 0)


def test_start_of_day_is_midnight_in_shanghai():
    moment = start_of_day(D(2021, 10, 20))
    assert moment.isoformat() == "2021-10-20T00:00:00+08:00"
    assert moment.astimezone(dt.UTC).isoformat() == "2021-10-19T16:00:00+00:00"
