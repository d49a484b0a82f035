"""A one-time initial password opens only /me and the password change, as on the pages."""

from pingan.accounts.models import Role
from tests.api.conftest import PASSWORD, ApiClient, issue_token


def _first_login_client(world) -> ApiClient:
    user = world.users[Role.CADRE]
    user.must_change_password = True
    user.save()
    return ApiClient(issue_token(user))


def test_initial_password_opens_only_me_and_password_change(world):
    client = _first_login_client(world)
    assert client.get("/me").json()["must_change_password"] is True
    refused = client.get("/villages")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "请先修改初始密码（POST /api/v1/auth/password）",
        "errors": [],
    }


def test_password_change_ends_old_tokens_and_returns_a_new_one(world):
    client = _first_login_client(world)
    old_token = client.token
    answer = client.post(
        "/auth/password", {"old_password": PASSWORD, "new_password": "qiying-2021-visit"}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["user"]["must_change_password"] is False
    assert ApiClient(old_token).get("/villages").status_code == 401
    fresh = ApiClient(answer.json()["token"])
    assert fresh.get("/villages").status_code == 200


def test_wrong_old_password_and_weak_new_password_are_refused_in_chinese(world):
    client = _first_login_client(world)
    wrong = client.post("/auth/password", {"old_password": "nope", "new_password": "x" * 12})
    assert (wrong.status_code, wrong.json()["detail"]) == (422, "原密码不正确")
    weak = client.post("/auth/password", {"old_password": PASSWORD, "new_password": "12345678"})
    assert weak.status_code == 422
    assert "密码" in weak.json()["detail"]
    assert client.get("/me").json()["must_change_password"] is True
