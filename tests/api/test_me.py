"""`GET /me` for every role."""

import pytest

from pingan.accounts.models import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

EXPECTED_REGION = {
    Role.TOWN_ADMIN: ("341623101", "汝集镇", "town"),
    Role.LEADER: ("341623101", "汝集镇", "town"),
    Role.VILLAGE_ADMIN: ("341623101202", "七营村", "village"),
    Role.CADRE: ("341623101202", "七营村", "village"),
    Role.UNIT_HANDLER: ("341623101", "汝集镇", "town"),
    Role.COUNTY_VIEWER: ("341623", "利辛县", "county"),
}


@pytest.mark.parametrize("role", Role.values)
def test_me_for_each_role(world, api_as, role):
    user = world.users[role]

    response = api_as(user).get("/me")

    assert response.status_code == 200
    body = response.json()
    code, name, kind = EXPECTED_REGION[role]
    assert body == {
        "id": user.pk,
        "username": user.username,
        "full_name": "测试用户",
        "role": {"code": role, "label": Role(role).label},
        "region": {"id": user.region_id, "code": code, "name": name, "kind": kind},
        "unit": (
            {"id": world.police.pk, "name": "汝集派出所", "kind": "police"}
            if role == Role.UNIT_HANDLER
            else None
        ),
        "must_change_password": False,
    }


def test_me_shows_a_pending_password_change(world, api_as):
    user = make_user(Role.CADRE, world.xinqiao, username="newbie", must_change_password=True)

    response = api_as(user).get("/me")

    assert response.status_code == 200
    assert response.json()["must_change_password"] is True


def test_me_needs_sign_in(world, anonymous):
    response = anonymous.get("/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "未登录或登录已失效", "errors": []}
