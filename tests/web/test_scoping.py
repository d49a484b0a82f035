"""The scoping matrix: every role against its own pages and everyone else's.

Anything outside a user's subtree is 404, never 403, so its existence is not revealed.
"""

import pytest
from django.urls import reverse

from pingan.accounts.models import Role

# page -> the world attribute it shows and the URL name.
PAGES = {
    "own_town": ("town", "web:town"),
    "own_village": ("qiying", "web:village"),
    "sibling_village": ("xinqiao", "web:village"),
    "other_town": ("other_town", "web:town"),
    "other_town_village": ("faraway", "web:village"),
    "own_county": ("county", "web:county"),
    "other_county": ("other_county", "web:county"),
}
TOWN_LEVEL = {
    "own_town": 200,
    "own_village": 200,
    "sibling_village": 200,
    "other_town": 404,
    "other_town_village": 404,
    "own_county": 404,
    "other_county": 404,
}
VILLAGE_LEVEL = {
    "own_town": 404,
    "own_village": 200,
    "sibling_village": 404,
    "other_town": 404,
    "other_town_village": 404,
    "own_county": 404,
    "other_county": 404,
}
EXPECTED = {
    Role.TOWN_ADMIN: TOWN_LEVEL,
    Role.LEADER: TOWN_LEVEL,
    Role.UNIT_HANDLER: TOWN_LEVEL,
    Role.VILLAGE_ADMIN: VILLAGE_LEVEL,
    Role.CADRE: VILLAGE_LEVEL,
    Role.COUNTY_VIEWER: {
        "own_town": 200,
        "own_village": 200,
        "sibling_village": 200,
        "other_town": 404,
        "other_town_village": 404,
        "own_county": 200,
        "other_county": 404,
    },
}


def _url(world, page: str) -> str:
    attribute, name = PAGES[page]
    return reverse(name, args=[getattr(world, attribute).pk])


def test_every_role_is_in_the_matrix(world):
    assert set(EXPECTED) == set(world.users) == set(Role)


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("role", list(Role))
def test_scoping_matrix(world, login, role, page):
    response = login(world.users[role]).get(_url(world, page))
    assert response.status_code == EXPECTED[role][page], (role, page)


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_is_sent_to_login(world, client, page):
    url = _url(world, page)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('web:login')}?next={url}"


def test_not_found_page_does_not_say_forbidden(world, login):
    """A village admin of 七营村 asking for 新桥村 gets the same page as for a missing village."""
    client = login(world.users[Role.VILLAGE_ADMIN])
    outside = client.get(reverse("web:village", args=[world.xinqiao.pk]))
    missing = client.get(reverse("web:village", args=[999_999]))
    assert outside.status_code == missing.status_code == 404
    assert "新桥村" not in outside.content.decode()
    assert outside.templates[0].name == missing.templates[0].name == "404.html"


@pytest.mark.parametrize(
    ("role", "url_name", "attribute"),
    [
        (Role.TOWN_ADMIN, "web:town", "town"),
        (Role.LEADER, "web:town", "town"),
        (Role.VILLAGE_ADMIN, "web:village", "qiying"),
        (Role.COUNTY_VIEWER, "web:county", "county"),
    ],
)  # A cadre lands on their own households (tests/field/test_pages.py), a unit handler on
# its to-do list (tests/web/test_ledger_pages.py).
def test_home_sends_each_role_to_its_own_place(world, login, role, url_name, attribute):
    response = login(world.users[role]).get(reverse("web:home"))
    assert response.status_code == 302
    assert response.url == reverse(url_name, args=[getattr(world, attribute).pk])


def test_home_without_role_lists_the_towns_in_scope(world, login, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pass-word-123")
    response = login(admin).get(reverse("web:home"))
    assert response.status_code == 200
    assert {t.name for t in response.context["towns"]} == {"汝集镇", "义门镇"}
