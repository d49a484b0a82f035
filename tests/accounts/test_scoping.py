"""Scoping in the selectors, for every role: what each one sees of regions, households, people."""

import pytest

from pingan.accounts import selectors
from pingan.accounts.models import Role
from pingan.regions.selectors import household_list, village_list
from tests.factories import UnitFactory, make_household, make_person, make_user

VILLAGES_SEEN = {
    Role.TOWN_ADMIN: {"七营村", "新桥村"},
    Role.LEADER: {"七营村", "新桥村"},
    Role.VILLAGE_ADMIN: {"七营村"},
    Role.CADRE: {"七营村"},
    Role.UNIT_HANDLER: {"七营村", "新桥村"},
    Role.COUNTY_VIEWER: {"七营村", "新桥村"},
}
# Households on the roster each role may read. A cadre sees only assigned households, and
# allocation (分片包干) has not assigned any yet; a unit handler never reads the roster.
HOUSEHOLDS_SEEN = {
    Role.TOWN_ADMIN: {"七营村", "新桥村"},
    Role.LEADER: {"七营村", "新桥村"},
    Role.VILLAGE_ADMIN: {"七营村"},
    Role.CADRE: set(),
    Role.UNIT_HANDLER: set(),
    Role.COUNTY_VIEWER: {"七营村", "新桥村"},
}


@pytest.fixture
def populated(world):
    for village in (world.qiying, world.xinqiao, world.faraway):
        make_household(village)
        make_person(village, name=f"{village.name}干部")
    return world


@pytest.mark.parametrize("role", list(Role))
def test_villages_seen_by_role(populated, role):
    user = populated.users[role]
    assert {v.name for v in village_list(user=user)} == VILLAGES_SEEN[role]


@pytest.mark.parametrize("role", list(Role))
def test_households_seen_by_role(populated, role):
    user = populated.users[role]
    assert {h.village.name for h in household_list(user=user)} == HOUSEHOLDS_SEEN[role]
    assert not household_list(user=user, village=populated.faraway).exists()


@pytest.mark.parametrize("role", list(Role))
def test_people_seen_by_role(populated, role):
    user = populated.users[role]
    names = {p.name for p in selectors.person_list(user=user)}
    assert "远方村干部" not in names
    if role == Role.CADRE:
        assert names == set()  # the cadre login has no Person profile in this fixture
    elif role in (Role.VILLAGE_ADMIN,):
        assert names == {"七营村干部"}
    else:
        assert names == {"七营村干部", "新桥村干部"}


def test_county_viewer_sees_nothing_of_another_county(populated):
    other = make_user(Role.COUNTY_VIEWER, populated.other_county, username="guoyang")
    assert {v.name for v in village_list(user=other)} == {"远方村"}
    assert {h.village.name for h in household_list(user=other)} == {"远方村"}


def test_unit_handler_sees_only_its_unit_and_others_see_the_town_and_county_units(world):
    county_unit = UnitFactory(region=world.county, name="县公安局")
    UnitFactory(region=world.other_town, name="义门派出所")
    assert list(selectors.unit_list(user=world.users[Role.UNIT_HANDLER])) == [world.police]
    names = {u.name for u in selectors.unit_list(user=world.users[Role.TOWN_ADMIN])}
    assert names == {"汝集派出所", county_unit.name}


def test_inactive_or_roleless_user_sees_nothing(world):
    user = world.users[Role.TOWN_ADMIN]
    user.is_active = False
    assert not village_list(user=user).exists()
    nobody = make_user(Role.TOWN_ADMIN, world.town)
    nobody.role = ""
    assert not village_list(user=nobody).exists()


def test_reveal_right_by_role(world):
    allowed = {r for r in Role if selectors.user_can_reveal_personal_data(world.users[r])}
    assert allowed == {Role.TOWN_ADMIN, Role.VILLAGE_ADMIN}
