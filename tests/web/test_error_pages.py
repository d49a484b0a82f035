"""The error pages: Chinese, in the site's own layout (the field layout under /field/), a way
back to the home page, and nothing of Django's debug pages. The API keeps answering JSON."""

import json

import pytest
from django.db import OperationalError, connections
from django.test import Client, RequestFactory
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.web import errors
from tests.factories import make_household

HOME_LINK = '<a href="/">返回首页</a>'
DEBUG_PAGE_SIGNS = ("Using the URLconf", "urlpatterns", "Traceback", "Django", "DEBUG = True")

# A URL outside each role's scope (tests/web/test_scoping.py has the whole matrix).
OUTSIDE = {
    Role.TOWN_ADMIN: ("web:town", "other_town"),
    Role.LEADER: ("web:village", "faraway"),
    Role.VILLAGE_ADMIN: ("web:village", "xinqiao"),
    Role.CADRE: ("web:town", "other_town"),
    Role.UNIT_HANDLER: ("web:village", "faraway"),
    Role.COUNTY_VIEWER: ("web:town", "other_town"),
}


def _html(response) -> str:
    return response.content.decode()


def _assert_no_debug_page(html: str) -> None:
    for sign in DEBUG_PAGE_SIGNS:
        assert sign not in html, sign


def _header(html: str) -> str:
    return html.split("</header>", 1)[0]


def test_every_role_is_covered():
    assert set(OUTSIDE) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_outside_the_scope_is_the_chinese_404_page_in_the_site_layout(world, login, role):
    user = world.users[role]
    name, attribute = OUTSIDE[role]
    outside = getattr(world, attribute)

    response = login(user).get(reverse(name, args=[outside.pk]))

    html = _html(response)
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert "<h1>页面不存在</h1>" in html
    assert "您要找的内容不存在，或不在您的管辖范围内。" in html
    assert HOME_LINK in html
    # the site's header, with the user's navigation
    header = _header(html)
    assert 'class="site-title"' in header
    assert "千家万户访平安" in header
    assert user.full_name in header
    assert 'class="main-nav"' in header
    assert "退出登录" in header
    # nothing about the place asked for, nothing of Django's
    assert outside.name not in html
    _assert_no_debug_page(html)


def test_outside_the_scope_and_missing_look_the_same(world, login):
    client = login(world.users[Role.COUNTY_VIEWER])
    outside = client.get(reverse("web:town", args=[world.other_town.pk]))
    missing = client.get(reverse("web:town", args=[999_999]))
    strip = lambda r: _html(r).split("</header>", 1)[1]  # noqa: E731 (below the header's token)
    assert outside.status_code == missing.status_code == 404
    assert strip(outside) == strip(missing)


def test_unknown_url_signed_out_is_the_404_page(db, client):
    response = client.get("/no/such/page/")
    html = _html(response)
    assert response.status_code == 404
    assert "<h1>页面不存在</h1>" in html
    assert HOME_LINK in html
    assert 'class="main-nav"' not in html  # nobody signed in
    _assert_no_debug_page(html)


def test_404_in_english_after_the_switch(world, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = _html(client.get(reverse("web:village", args=[world.xinqiao.pk])))
    assert "Page not found" in html
    assert "Check that the address is right" in html
    assert "Back to the home page" in html


def test_field_pages_use_the_field_layout(world, field, login):
    elsewhere = make_household(world.xinqiao)
    client = login(world.users[Role.CADRE])

    response = client.get(reverse("field:household_history", args=[elsewhere.pk]))

    html = _html(response)
    assert response.status_code == 404
    assert 'class="field-header"' in html
    assert '<span class="field-title">页面不存在</span>' in html
    assert "<h1>页面不存在</h1>" in html
    assert HOME_LINK in html
    assert 'class="site-header"' not in html
    assert elsewhere.address not in html
    _assert_no_debug_page(html)


def test_403_is_the_chinese_page(world, login):
    """A leader may read a village but not split it among cadres (分片包干)."""
    user = world.users[Role.LEADER]
    response = login(user).get(reverse("web:allocation", args=[world.qiying.pk]))
    html = _html(response)
    assert response.status_code == 403
    assert "<h1>无权操作</h1>" in html
    assert "您的角色不能进行这项操作。" in html
    assert HOME_LINK in html
    assert user.full_name in _header(html)
    _assert_no_debug_page(html)


def test_403_under_field_is_in_the_field_layout(world, field, login):
    response = login(world.users[Role.TOWN_ADMIN]).get(reverse("field:households"))
    html = _html(response)
    assert response.status_code == 403
    assert 'class="field-header"' in html
    assert "<h1>无权操作</h1>" in html
    assert HOME_LINK in html


def test_a_stale_form_is_a_chinese_403(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("web:login"), {"username": "x", "password": "y"})
    html = _html(response)
    assert response.status_code == 403
    assert "<h1>页面已过期</h1>" in html
    assert HOME_LINK in html
    assert "CSRF" not in html
    _assert_no_debug_page(html)


def test_400_is_the_chinese_page(db, client):
    response = client.get("/login/", headers={"host": "evil.example"})  # not an allowed host
    html = _html(response)
    assert response.status_code == 400
    assert "<h1>请求有误</h1>" in html
    assert HOME_LINK in html
    assert "evil.example" not in html
    _assert_no_debug_page(html)


def test_a_failing_view_is_the_chinese_500_page(world, login, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom: secret detail")

    monkeypatch.setattr("pingan.web.views.campaign_current", broken)
    client = login(world.users[Role.TOWN_ADMIN])
    client.raise_request_exception = False

    response = client.get(reverse("web:town", args=[world.town.pk]))

    html = _html(response)
    assert response.status_code == 500
    assert response.templates[0].name == "500.html"
    assert "<h1>服务器出错</h1>" in html
    assert "请稍后再试；如果一直出现，请联系镇综治中心。" in html
    assert HOME_LINK in html
    assert 'class="site-title"' in _header(html)
    assert "boom" not in html
    assert "RuntimeError" not in html
    _assert_no_debug_page(html)


def test_the_500_page_renders_with_the_database_down(world, login, monkeypatch):
    """Every query fails: the session cannot even be read, and the 500 page still renders."""

    def down(*args, **kwargs):
        raise OperationalError("unable to open database file")

    client = login(world.users[Role.TOWN_ADMIN])
    client.raise_request_exception = False
    with monkeypatch.context() as patch:
        patch.setattr(connections["default"], "cursor", down)
        response = client.get(reverse("web:town", args=[world.town.pk]))
    html = _html(response)
    assert response.status_code == 500
    assert "<h1>服务器出错</h1>" in html
    assert HOME_LINK in html
    _assert_no_debug_page(html)


def test_the_banner_never_breaks_a_page(db, client, monkeypatch, caplog):
    """The login page needs no database but the banner's question: with the database down
    it still opens, without the banner, and says why in the log."""

    def down(*args, **kwargs):
        raise OperationalError("no such table: regions_household")

    with monkeypatch.context() as patch:
        patch.setattr(connections["default"], "cursor", down)
        response = client.get(reverse("web:login"))
    assert response.status_code == 200
    assert "演示数据（合成）" not in _html(response)
    assert "cannot tell whether the site holds synthetic data" in caplog.text


def test_the_500_page_asks_nothing_of_the_database(db, django_assert_num_queries):
    request = RequestFactory().get("/towns/1/")  # no user, no session
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500
    assert "<h1>服务器出错</h1>" in response.content.decode()


def test_the_500_page_under_field_is_in_the_field_layout(db):
    response = errors.server_error(RequestFactory().get("/field/households/1/"))
    html = response.content.decode()
    assert 'class="field-header"' in html
    assert "<h1>服务器出错</h1>" in html


# --- the API keeps its JSON ---------------------------------------------------------------------


def _assert_api_json(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"detail", "errors"}
    assert body["detail"]
    assert "<html" not in response.content.decode()


def test_api_unknown_url_is_json(db, client):
    _assert_api_json(client.get("/api/v1/no/such/thing"), 404)
    _assert_api_json(client.get("/api/no-such-version/"), 404)  # outside django-ninja's routes


def test_api_handler_failure_is_json(world, client, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("pingan.api.routers.villages.village_list_with_visit_progress", broken)
    client.force_login(world.users[Role.TOWN_ADMIN])  # the API also takes the session
    client.raise_request_exception = False
    response = client.get("/api/v1/villages")
    _assert_api_json(response, 500)
    assert response.json() == {"detail": "服务器内部错误", "errors": []}


def test_api_error_outside_ninja_is_json(db):
    request = RequestFactory().get("/api/v1/villages")
    _assert_api_json(errors.server_error(request), 500)
    _assert_api_json(errors.permission_denied(request, PermissionError()), 403)
    _assert_api_json(errors.bad_request(request, ValueError()), 400)
