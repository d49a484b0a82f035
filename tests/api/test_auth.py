"""Bearer tokens: issue, use, expiry, revocation, storage, and the brute-force guard."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.conf import settings
from django.test import RequestFactory
from ninja.errors import HttpError

from pingan.accounts.models import ApiToken, Role
from pingan.api.security import DjangoSession
from pingan.core import clock
from tests.api.conftest import PASSWORD, ApiClient

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2021, 10, 20, 9, 0, tzinfo=clock.SHANGHAI)


def test_token_issue_and_use(world, anonymous):
    user = world.users[Role.TOWN_ADMIN]

    response = anonymous.post("/auth/token", {"username": "town", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["username"] == "town"
    assert body["user"]["role"] == {"code": "town_admin", "label": "镇综治中心"}
    assert body["expires_at"].endswith("+08:00")
    me = ApiClient(body["token"]).get("/me")
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_token_expires_after_ttl(world, anonymous):
    with time_machine.travel(NOW, tick=False):
        token = anonymous.post("/auth/token", {"username": "town", "password": PASSWORD}).json()[
            "token"
        ]
        assert ApiClient(token).get("/me").status_code == 200

    ttl = dt.timedelta(hours=settings.PINGAN_API_TOKEN_TTL_HOURS)
    with time_machine.travel(NOW + ttl - dt.timedelta(minutes=1), tick=False):
        assert ApiClient(token).get("/me").status_code == 200
    with time_machine.travel(NOW + ttl + dt.timedelta(minutes=1), tick=False):
        response = ApiClient(token).get("/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "令牌无效、已过期或已注销，请重新获取", "errors": []}


def test_token_revoke(world, api_as):
    client = api_as(world.users[Role.CADRE])

    response = client.post("/auth/revoke")

    assert response.status_code == 204
    assert client.get("/me").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_revoking_one_token_keeps_the_others(world, api_as):
    first, second = api_as(world.users[Role.CADRE]), api_as(world.users[Role.CADRE])

    first.post("/auth/revoke")

    assert first.get("/me").status_code == 401
    assert second.get("/me").status_code == 200


def test_only_the_digest_is_stored(world, anonymous):
    token = anonymous.post("/auth/token", {"username": "leader", "password": PASSWORD}).json()[
        "token"
    ]

    record = ApiToken.objects.get()
    assert record.digest == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list().get()]
    assert all(token not in value for value in stored)


@pytest.mark.parametrize(
    ("username", "password"),
    [("town", "wrong-password"), ("nobody", PASSWORD), ("town", PASSWORD.upper())],
)
def test_bad_credentials_are_401(world, anonymous, username, password):
    response = anonymous.post("/auth/token", {"username": username, "password": password})

    assert response.status_code == 401
    assert response.json() == {"detail": "用户名或密码错误", "errors": []}
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token_and_loses_access(world, api_as, anonymous):
    user = world.users[Role.LEADER]
    client = api_as(user)
    user.is_active = False
    user.save()

    assert client.get("/me").status_code == 401
    assert (
        anonymous.post("/auth/token", {"username": "leader", "password": PASSWORD}).status_code
        == 401
    )


@pytest.mark.parametrize(
    "header",
    [None, "Bearer ", "Bearer not-a-token", "Token abc", "Basic dG93bjpwYXNz", "bearer"],
)
def test_missing_or_invalid_header_is_401(world, header):
    client = ApiClient()
    headers = {"Authorization": header} if header is not None else {}

    response = client.client.get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"] in {"未登录或登录已失效", "令牌无效、已过期或已注销，请重新获取"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoke_needs_a_token(world, client):
    client.force_login(world.users[Role.TOWN_ADMIN])

    response = client.post("/api/v1/auth/revoke")

    assert response.status_code == 401


def test_repeated_failures_lock_the_username_for_a_while(world, anonymous):
    with time_machine.travel(NOW, tick=False):
        for _ in range(5):
            response = anonymous.post("/auth/token", {"username": "town", "password": "nope"})
            assert response.status_code == 401
        # Even the right password is refused while locked.
        response = anonymous.post("/auth/token", {"username": "town", "password": PASSWORD})
        assert response.status_code == 429
        assert response.json() == {"detail": "登录失败次数过多，请 15 分钟后再试", "errors": []}
        # Other users are not affected.
        ok = anonymous.post("/auth/token", {"username": "leader", "password": PASSWORD})
        assert ok.status_code == 200

    with time_machine.travel(NOW + dt.timedelta(minutes=16), tick=False):
        response = anonymous.post("/auth/token", {"username": "town", "password": PASSWORD})
        assert response.status_code == 200


def test_a_success_resets_the_failure_count(world, anonymous):
    for _ in range(4):
        anonymous.post("/auth/token", {"username": "town", "password": "nope"})
    assert (
        anonymous.post("/auth/token", {"username": "town", "password": PASSWORD}).status_code == 200
    )
    for _ in range(4):
        anonymous.post("/auth/token", {"username": "town", "password": "nope"})

    response = anonymous.post("/auth/token", {"username": "town", "password": PASSWORD})

    assert response.status_code == 200


def test_session_is_accepted_for_reads(world, client):
    client.force_login(world.users[Role.VILLAGE_ADMIN])

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == "village"


def test_session_writes_need_the_csrf_token(world):
    # Given a signed-in session posting without the CSRF token
    request = RequestFactory().post("/api/v1/anything")
    request.user = world.users[Role.TOWN_ADMIN]
    request.COOKIES[settings.CSRF_COOKIE_NAME] = "x" * 32
    request._dont_enforce_csrf_checks = False

    # then the session is refused with a Chinese 403
    with pytest.raises(HttpError) as refused:
        DjangoSession()(request)
    assert refused.value.status_code == 403
    assert "CSRF" in refused.value.message
    # and with the token it passes.
    request = RequestFactory().post("/api/v1/anything", headers={"X-CSRFToken": "x" * 32})
    request.user = world.users[Role.TOWN_ADMIN]
    request.COOKIES[settings.CSRF_COOKIE_NAME] = "x" * 32
    request._dont_enforce_csrf_checks = False
    assert DjangoSession()(request) == world.users[Role.TOWN_ADMIN]


def test_an_invalid_token_is_not_rescued_by_a_session(world, client):
    client.force_login(world.users[Role.TOWN_ADMIN])

    response = client.get("/api/v1/me", headers={"Authorization": "Bearer stale"})

    assert response.status_code == 401
