"""Revealing a household's full phone or ID number: who may, what is logged, what is hidden."""

import pytest
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.core.models import PersonalDataAccess
from tests.factories import make_household, valid_id_number

PHONE = "13812345678"


@pytest.fixture
def household(world):
    return make_household(world.qiying, phone=PHONE, id_number=valid_id_number(7))


def _reveal(client, household, field="phone"):
    return client.post(reverse("web:household_reveal", args=[household.pk]), {"field": field})


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.VILLAGE_ADMIN])
def test_reveal_shows_the_full_value_and_logs_it(world, login, household, role):
    user = world.users[role]
    response = _reveal(login(user), household)
    html = response.content.decode()
    assert response.status_code == 200
    assert PHONE in html
    assert "本次查看已记录" in html
    assert "no-store" in response["Cache-Control"]
    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.subject_type, access.subject_id, access.field) == (
        user,
        "household",
        household.pk,
        "phone",
    )
    assert access.ip_address == "127.0.0.1"


def test_reveal_id_number(world, login, household):
    response = _reveal(login(world.users[Role.TOWN_ADMIN]), household, field="id_number")
    assert valid_id_number(7) in response.content.decode()
    assert PersonalDataAccess.objects.get().field == "id_number"


@pytest.mark.parametrize("role", [Role.LEADER, Role.CADRE, Role.COUNTY_VIEWER, Role.UNIT_HANDLER])
def test_other_roles_are_refused(world, login, household, role):
    response = _reveal(login(world.users[role]), household)
    assert response.status_code == 403
    assert PHONE not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_reveal_outside_scope_is_not_found(world, login):
    """The village admin of 七营村 cannot tell a 新桥村 household from a missing one."""
    elsewhere = make_household(world.xinqiao)
    client = login(world.users[Role.VILLAGE_ADMIN])
    assert _reveal(client, elsewhere).status_code == 404
    assert (
        client.post(reverse("web:household_reveal", args=[999_999]), {"field": "phone"}).status_code
        == 404
    )
    assert not PersonalDataAccess.objects.exists()


def test_reveal_in_another_town_is_not_found_for_town_admin(world, login):
    elsewhere = make_household(world.faraway)
    assert _reveal(login(world.users[Role.TOWN_ADMIN]), elsewhere).status_code == 404


def test_reveal_needs_post_and_a_known_field(world, login, household):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:household_reveal", args=[household.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"field": "head_name"}).status_code == 400
    assert not PersonalDataAccess.objects.exists()


def test_reveal_needs_login(world, client, household):
    response = _reveal(client, household)
    assert response.status_code == 302
    assert response.url.startswith(reverse("web:login"))


def test_reveal_buttons_only_for_roles_that_may(world, login, household):
    url = reverse("web:village", args=[world.qiying.pk])
    reveal_url = reverse("web:household_reveal", args=[household.pk])
    assert reveal_url in login(world.users[Role.TOWN_ADMIN]).get(url).content.decode()
    assert reveal_url not in login(world.users[Role.LEADER]).get(url).content.decode()
