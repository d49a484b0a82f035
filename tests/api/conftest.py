"""API test helpers: a bearer token per user and a client that sends it."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from pingan.accounts.models import User
from pingan.accounts.services import api_token_issue

PASSWORD = "pass-word-123"  # the one tests/factories.make_user gives every user


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The login guard counts failures in the cache; no test sees another's count."""
    cache.clear()
    yield
    cache.clear()


def issue_token(user: User) -> str:
    issued = api_token_issue(username=user.username, password=PASSWORD)
    assert issued is not None
    return issued[0]


class ApiClient:
    """Django's test client against /api/v1/, signed in with a bearer token when given one."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self._headers())

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            f"/api/v1{path}", body or {}, content_type="application/json", headers=self._headers()
        )


@pytest.fixture
def api_as() -> Callable[[User], ApiClient]:
    """`api_as(user)`: a client holding a fresh bearer token for `user`."""
    return lambda user: ApiClient(issue_token(user))


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient()
