"""Working days on the official PRC holiday calendar (the chinese-calendar package).

Adjusted working weekends (调休上班) count as working days and public holidays do not. For a
year the installed calendar does not know, Monday to Friday is used instead and the result
says so (`Span.fallback_years`), so a page can warn; nothing here ever raises for a date.
"""

import datetime as dt
import functools
from dataclasses import dataclass, field

import chinese_calendar

from pingan.core.clock import SHANGHAI


@functools.lru_cache(maxsize=1)
def known_years() -> tuple[int, int]:
    """The first and last year the installed holiday calendar covers."""
    years = {day.year for day in chinese_calendar.holidays} | {
        day.year for day in chinese_calendar.workdays
    }
    return min(years), max(years)


def year_known(year: int) -> bool:
    first, last = known_years()
    return first <= year <= last


@functools.lru_cache(maxsize=8192)
def is_working_day(day: dt.date) -> bool:
    """Official working day; Monday to Friday for years the calendar does not know."""
    if year_known(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


@dataclass(frozen=True)
class Span:
    """A computed date, and the years for which Monday–Friday stood in for the calendar."""

    day: dt.date
    fallback_years: frozenset[int] = field(default_factory=frozenset)

    @property
    def warning(self) -> str:
        if not self.fallback_years:
            return ""
        years = "、".join(str(y) for y in sorted(self.fallback_years))
        return f"节假日日历未包含 {years} 年，已按周一至周五计算工作日，请核对。"


def add_working_days(start: dt.date, n: int) -> Span:
    """The Nth working day after `start`; `start` itself never counts (n ≥ 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day, counted, fallback = start, 0, set()
    while counted < n:
        day += dt.timedelta(days=1)
        if not year_known(day.year):
            fallback.add(day.year)
        if is_working_day(day):
            counted += 1
    return Span(day, frozenset(fallback))


def add_calendar_days(start: dt.date, n: int) -> Span:
    return Span(start + dt.timedelta(days=n))


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: 0 when end ≤ start. "Due within 2 working days" is ≤ 2."""
    if end <= start:
        return 0
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(start + dt.timedelta(days=offset))
    )


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of `day` in Asia/Shanghai, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)


def working_day_back(day: dt.date, k: int) -> dt.date:
    """The k-th working day counting back from `day` (inclusive): k=1 is `day` itself when it
    is a working day, else the working day before it. A deadline on date D has at least k
    working days after it by `day` exactly when D < working_day_back(day, k)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    counted = 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == k:
                return day
        day -= dt.timedelta(days=1)


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in Asia/Shanghai, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)
