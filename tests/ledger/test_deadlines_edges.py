"""The colour filter "none" (办理中, in progress and not due soon) lists exactly the problems
no other colour claims."""

import datetime as dt

import time_machine

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.deadlines import Colour
from pingan.ledger.models import Problem
from pingan.ledger.selectors import ProblemFilters, problem_list_filtered

SH = clock.SHANGHAI


def test_the_in_progress_filter_lists_what_is_neither_due_soon_nor_overdue(ledger, world):
    reported = ledger.make(Problem.Status.REPORTED)
    overdue = ledger.make(Problem.Status.DISPATCHED)  # due Thursday 2021-11-04
    # dispatched Monday 11-01: due 11-15, more than 2 working days after Friday 11-05
    not_due = ledger.make(Problem.Status.DISPATCHED, at=dt.datetime(2021, 11, 1, 9, 0, tzinfo=SH))
    ledger.make(Problem.Status.CLOSED)
    ledger.make(Problem.Status.REJECTED)
    town = world.users[Role.TOWN_ADMIN]

    def listed(colour: str) -> set[int]:
        with time_machine.travel(dt.datetime(2021, 11, 5, 9, 0, tzinfo=SH), tick=False):
            found = problem_list_filtered(user=town, filters=ProblemFilters(colour=colour))
            return set(found.values_list("pk", flat=True))

    assert listed(Colour.NONE) == {reported.pk, not_due.pk}
    assert listed(Colour.RED) == {overdue.pk}
