"""Users are created with one role at the right level of the region tree."""

import pytest

from pingan.accounts.models import Role
from pingan.accounts.services import AccountError, user_change_password, user_create


def test_role_must_sit_at_its_level(world):
    with pytest.raises(AccountError, match="村管理员应设在村（社区）一级"):
        user_create(username="x", role=Role.VILLAGE_ADMIN, region=world.town, password="p")


def test_unit_handler_needs_a_unit(world):
    with pytest.raises(AccountError, match="必须指定所属单位"):
        user_create(username="x", role=Role.UNIT_HANDLER, region=world.town, password="p")


def test_unit_must_be_inside_the_scope(world):
    from tests.factories import UnitFactory

    far = UnitFactory(region=world.other_town, name="义门派出所")
    with pytest.raises(AccountError, match="不在"):
        user_create(username="x", role=Role.UNIT_HANDLER, region=world.town, unit=far, password="p")


def test_duplicate_username_is_refused(world):
    with pytest.raises(AccountError, match="已被使用"):
        user_create(username="town", role=Role.TOWN_ADMIN, region=world.town, password="p")


def test_login_less_account_and_password_change_clears_the_flag(world):
    user = user_create(
        username="new",
        role=Role.CADRE,
        region=world.qiying,
        password=None,
        must_change_password=True,
    )
    assert not user.has_usable_password()
    user_change_password(user=user, new_password="a-better-secret-2021")
    user.refresh_from_db()
    assert user.check_password("a-better-secret-2021")
    assert not user.must_change_password


def test_password_change_ends_every_api_token(world):
    from pingan.accounts.services import api_token_authenticate, api_token_issue

    user = world.users[Role.CADRE]
    issued = api_token_issue(username="cadre", password="pass-word-123")
    assert issued is not None
    token, _ = issued
    assert api_token_authenticate(token=token) == user
    user_change_password(user=user, new_password="a-better-secret-2021")
    assert api_token_authenticate(token=token) is None
