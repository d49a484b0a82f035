"""Working days follow the official calendar, with adjusted weekends; unknown years fall back."""

import datetime as dt

from pingan.core.workdays import (
    add_calendar_days,
    add_working_days,
    end_of_day,
    is_working_day,
    known_years,
    working_days_between,
)

D = dt.date


def test_national_day_2021_general_problem_is_due_on_october_20():
    # Dispatched Thursday 09-30; 10-01..10-07 is the holiday; Saturday 10-09 is a working day.
    # Working days after 09-30: 10-08, 10-09, 10-11, 10-12, 10-13, 10-14, 10-15, 10-18, 10-19,
    # 10-20 -> the 10th is 10-20.
    span = add_working_days(D(2021, 9, 30), 10)
    assert span.day == D(2021, 10, 20)
    assert span.warning == ""


def test_adjusted_weekend_counts_and_holiday_does_not():
    assert is_working_day(D(2021, 10, 9))  # Saturday, 调休上班
    assert is_working_day(D(2021, 9, 26))  # Sunday, 调休上班
    assert not is_working_day(D(2021, 10, 4))  # Monday, National Day
    assert not is_working_day(D(2021, 10, 10))  # an ordinary Sunday


def test_the_dispatch_day_itself_never_counts():
    assert add_working_days(D(2021, 10, 18), 1).day == D(2021, 10, 19)
    assert add_working_days(D(2021, 10, 16), 1).day == D(2021, 10, 18)  # from a Saturday


def test_complex_problem_20_working_days():
    assert add_working_days(D(2021, 9, 30), 20).day == D(2021, 11, 3)


def test_the_last_known_year_and_beyond():
    _, last = known_years()
    # The last day of the last known year is handled by the calendar itself …
    start = D(last, 12, 30)
    span = add_working_days(start, 5)
    assert span.day.year == last + 1
    # … and the days in the year after fall back to Monday–Friday, with a warning.
    assert span.fallback_years == frozenset({last + 1})
    assert f"{last + 1} 年" in span.warning
    assert "周一至周五" in span.warning


def test_a_far_future_year_never_crashes():
    span = add_working_days(D(2099, 1, 1), 10)  # Thursday
    assert span.day == D(2099, 1, 15)
    assert span.fallback_years == frozenset({2099})


def test_working_days_between_for_the_yellow_colour():
    assert working_days_between(D(2021, 10, 18), D(2021, 10, 20)) == 2
    assert working_days_between(D(2021, 9, 30), D(2021, 10, 8)) == 1
    assert working_days_between(D(2021, 10, 20), D(2021, 10, 18)) == 0


def test_calendar_days_option():
    assert add_calendar_days(D(2021, 9, 30), 10).day == D(2021, 10, 10)


def test_end_of_day_is_in_shanghai():
    moment = end_of_day(D(2021, 10, 20))
    assert moment.isoformat() == "2021-10-20T23:59:59+08:00"
    assert moment.astimezone(dt.UTC).isoformat() == "2021-10-20T15:59:59+00:00"
