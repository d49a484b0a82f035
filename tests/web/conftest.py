"""Helpers for the back-office page tests."""

import pytest
from django.test import Client


@pytest.fixture
def login(client: Client):
    """`login(user)` signs the test client in as `user` and returns the client."""

    def _login(user) -> Client:
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def scenario(world):
    """The hand-worked progress scenario (tests/progress_scenario.py)."""
    from tests.progress_scenario import build

    return build(world)


@pytest.fixture
def evening():
    """Pages read at 18:00 on day 2 of the scenario (Asia/Shanghai)."""
    import time_machine

    from tests.progress_scenario import DAY2, shanghai

    with time_machine.travel(shanghai(DAY2, 18), tick=False):
        yield
