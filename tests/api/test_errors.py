"""Every error answers `{"detail": "<Chinese>", "errors": [...]}` (docs/operations.md)."""

import re

import pytest

from pingan.accounts.models import Role
from pingan.api.errors import translate_error

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert CHINESE.search(body["detail"]), body
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"loc", "msg", "type"}
        assert CHINESE.search(error["msg"]), error
    return body


def test_401(world, anonymous):
    body = assert_error_shape(anonymous.get("/villages"), 401)
    assert body["errors"] == []


def test_404_out_of_scope(world, api_as):
    client = api_as(world.users[Role.CADRE])

    assert_error_shape(client.get(f"/villages/{world.xinqiao.pk}"), 404)


@pytest.mark.parametrize("path", ["/", "/nope", "/villages/abc", "/me/extra", "/auth"])
def test_404_unknown_url(world, anonymous, path):
    assert_error_shape(anonymous.get(path), 404)


def test_405_wrong_method(world, anonymous):
    response = anonymous.get("/auth/token")

    assert_error_shape(response, 405)
    assert response["Allow"] == "POST"


def test_422_missing_and_wrongly_typed_fields(world, anonymous):
    response = anonymous.post("/auth/token", {"username": 12})

    body = assert_error_shape(response, 422)
    assert body["detail"] == "请求数据有误"
    assert body["errors"] == [
        {"loc": ["body", "payload", "username"], "msg": "应为字符串", "type": "string_type"},
        {"loc": ["body", "payload", "password"], "msg": "缺少必填字段", "type": "missing"},
    ]


def test_422_too_long(world, anonymous):
    response = anonymous.post("/auth/token", {"username": "x" * 151, "password": "p"})

    body = assert_error_shape(response, 422)
    assert body["errors"] == [
        {
            "loc": ["body", "payload", "username"],
            "msg": "长度不能超过 150 个字符",
            "type": "string_too_long",
        }
    ]


def test_422_body_not_json(world, anonymous):
    response = anonymous.client.post(
        "/api/v1/auth/token", "{not json", content_type="application/json"
    )

    body = assert_error_shape(response, 422)
    assert body["errors"] == [{"loc": ["body"], "msg": "不是有效的 JSON", "type": "json_invalid"}]


def test_unexpected_failure_is_a_logged_json_500(world, api_as, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("pingan.api.routers.villages.village_list_with_visit_progress", broken)

    response = api_as(world.users[Role.TOWN_ADMIN]).get("/villages")

    assert response.status_code == 500
    assert response.json() == {"detail": "服务器内部错误", "errors": []}
    assert "boom" not in response.content.decode()
    assert any(record.exc_info for record in caplog.records if record.name == "pingan.api.errors")


@pytest.mark.parametrize(
    ("error", "msg"),
    [
        ({"type": "greater_than_equal", "loc": ("query", "x"), "ctx": {"ge": 1}}, "不能小于 1"),
        (
            {"type": "literal_error", "loc": ("q",), "ctx": {"expected": "'a' or 'b'"}},
            "取值无效，可选值：'a' or 'b'",
        ),
        (
            {"type": "value_error", "loc": ("q",), "msg": "Value error, 电话号码无效"},
            "电话号码无效",
        ),
        ({"type": "value_error", "loc": ("q",), "msg": "Value error, bad"}, "取值无效"),
        ({"type": "some_new_type", "loc": ("q",), "msg": "whatever"}, "取值无效"),
        ({"type": "string_too_long", "loc": ("q",), "ctx": {}}, "长度不能超过"),
    ],
)
def test_translate_error(error, msg):
    assert translate_error(error)["msg"] == msg
