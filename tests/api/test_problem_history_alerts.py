"""A problem's history in the API records, for each alert tick issued, the deadline it was
issued for (a new deadline starts the cycle again, so the history tells them apart)."""

import datetime as dt

import pytest

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.ledger.supervision import problem_tick
from tests.ledger.conftest import Ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


def test_the_history_shows_the_deadline_each_alert_was_issued_for(world, ledger, api_as):
    problem = ledger.make(Problem.Status.DISPATCHED)  # due 2021-11-04 23:59:59 Shanghai
    problem_tick(now=dt.datetime(2021, 11, 20, 9, 0, tzinfo=clock.SHANGHAI))  # late: both

    body = api_as(world.users[Role.LEADER]).get(f"/problems/{problem.pk}").json()

    alerts = [(e["action"], e["actor"], e["data"]) for e in body["events"][-2:]]
    assert alerts == [
        ("supervise", "系统", {"deadline": "2021-11-04T15:59:59+00:00"}),
        ("criticize", "系统", {"deadline": "2021-11-04T15:59:59+00:00"}),
    ]
