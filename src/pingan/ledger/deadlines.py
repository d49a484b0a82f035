"""Deadlines and colours (docs/ledger.md).

A deadline is the end (23:59:59 Asia/Shanghai) of the Nth working day after the dispatch
day; the dispatch day itself never counts. N is the campaign's `general_days` or
`complex_days`; a campaign may count calendar days instead. The colour of a problem is an
SQL expression (`colour_case`) so lists can filter and count by it.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, CharField, Q, Value, When

from pingan.campaigns.models import Campaign
from pingan.core import clock
from pingan.core.workdays import add_calendar_days, add_working_days, end_of_day
from pingan.ledger.models import Problem

# Working days before a deadline when a problem turns yellow (and tick reminds the unit).
DUE_SOON_WORKING_DAYS = 2


class Colour:
    GREEN = "green"  # closed
    YELLOW = "yellow"  # due within 2 working days
    RED = "red"  # overdue
    GREY = "grey"  # rejected
    NONE = "none"  # in progress, not due soon

    LABELS = {
        GREEN: "已销号",
        YELLOW: "临期",
        RED: "超期",
        GREY: "不予受理",
        NONE: "办理中",
    }
    CHOICES = tuple(LABELS.items())


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    warning: str  # non-empty when Mon–Fri stood in for an unknown calendar year


def deadline_for(
    *, campaign: Campaign, severity: str, start: dt.datetime, days: int | None = None
) -> Deadline:
    """The deadline of a problem dispatched (or re-dispatched, or extended from) at `start`."""
    if days is None:
        days = (
            campaign.complex_days if severity == Problem.Severity.COMPLEX else campaign.general_days
        )
    start_day = clock.local(start).date()
    if campaign.deadline_basis == Campaign.DeadlineBasis.CALENDAR_DAYS:
        span = add_calendar_days(start_day, days)
    else:
        span = add_working_days(start_day, days)
    return Deadline(end_of_day(span.day), span.warning)


def due_soon_cutoff(now: dt.datetime) -> dt.datetime:
    """A dispatched problem whose deadline is at or before this moment is due soon (yellow)."""
    return end_of_day(add_working_days(clock.local(now).date(), DUE_SOON_WORKING_DAYS).day)


def overdue_q(now: dt.datetime) -> Q:
    """Still with the unit after its deadline passed."""
    return Q(status=Problem.Status.DISPATCHED, deadline__lt=now)


def colour_case(now: dt.datetime) -> Case:
    """The colour of each row, computed by the database."""
    return Case(
        When(status=Problem.Status.CLOSED, then=Value(Colour.GREEN)),
        When(status=Problem.Status.REJECTED, then=Value(Colour.GREY)),
        When(overdue_q(now), then=Value(Colour.RED)),
        When(
            Q(status=Problem.Status.DISPATCHED, deadline__lte=due_soon_cutoff(now)),
            then=Value(Colour.YELLOW),
        ),
        default=Value(Colour.NONE),
        output_field=CharField(),
    )


def colour_q(colour: str, now: dt.datetime) -> Q:
    """A filter for one colour, equivalent to `colour_case` but usable without annotating."""
    if colour == Colour.GREEN:
        return Q(status=Problem.Status.CLOSED)
    if colour == Colour.GREY:
        return Q(status=Problem.Status.REJECTED)
    if colour == Colour.RED:
        return overdue_q(now)
    if colour == Colour.YELLOW:
        return Q(
            status=Problem.Status.DISPATCHED,
            deadline__gte=now,
            deadline__lte=due_soon_cutoff(now),
        )
    return ~Q(status__in=[Problem.Status.CLOSED, Problem.Status.REJECTED]) & ~(
        Q(status=Problem.Status.DISPATCHED, deadline__lte=due_soon_cutoff(now))
    )
