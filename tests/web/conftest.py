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
