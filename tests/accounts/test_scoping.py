"""Scoping in the selectors, for every role: what each one sees of regions, households, people."""

import pytest

from pingan.accounts import selectors
from pingan.accounts.models import Role
from pingan.campaigns.selectors import household_list
from pingan.regions.selectors import village_list
from tests.factories import (
    UnitFactory,
    make_assignment,
    make_campaign,
    make_household,
    make_person,
    make_user,
)

VILLAGES_SEEN = {
    Role.TOWN_ADMIN: {"七营村", "新桥村"},
    Role.LEADER: {"七营村", "新桥村"},
    Role.VILLAGE_ADMIN: {"七营村"},
    Role.CADRE: {"七营村"},
    Role.UNIT_HANDLER: {"七营村", "新桥村"},
    Role.COUNTY_VIEWER: {"七营村", "新桥村"},
}
# Households on the roster each role may read. A cadre sees only the households assigned to
# them (分片包干), and none are assigned here (see the tests below); a unit handler never reads
# the roster.
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


def test_cadre_sees_exactly_the_households_assigned_to_them(world):
    # Given two cadres of 七营村, each with a login, and households split between them
    campaign = make_campaign(world.town, {world.qiying: 450})
    mine, colleague = world.users[Role.CADRE], make_user(Role.CADRE, world.qiying)
    me = make_person(world.qiying, name="我", user=mine)
    them = make_person(world.qiying, name="同事", user=colleague)
    my_households = [make_household(world.qiying, address=f"七营村{n}号") for n in (1, 2)]
    their_household = make_household(world.qiying, address="七营村3号")
    make_household(world.qiying, address="七营村4号")  # unassigned
    for household in my_households:
        make_assignment(campaign, household, me)
    make_assignment(campaign, their_household, them)

    # Then each sees their own, and nothing of the other's or the unassigned one
    assert {h.address for h in household_list(user=mine)} == {"七营村1号", "七营村2号"}
    assert {h.address for h in household_list(user=colleague)} == {"七营村3号"}
    assert not household_list(user=mine).filter(pk=their_household.pk).exists()


def test_cadre_scope_follows_reassignment_and_the_current_campaign(world):
    import datetime as dt

    last_year = make_campaign(world.town, {}, name="去年", start_date=dt.date(2020, 10, 1))
    campaign = make_campaign(world.town, {world.qiying: 450})
    me = make_person(world.qiying, name="我", user=world.users[Role.CADRE])
    other = make_person(world.qiying, name="同事")
    old, handed_over, current = (make_household(world.qiying) for _ in range(3))
    make_assignment(last_year, old, me)  # last year's campaign: not mine now
    make_assignment(  # ended: history only
        campaign,
        handed_over,
        me,
        started_at=dt.datetime(2021, 10, 12, tzinfo=dt.UTC),
        ended_at=dt.datetime(2021, 10, 20, tzinfo=dt.UTC),
    )
    make_assignment(campaign, handed_over, other)
    make_assignment(campaign, current, me)

    seen = household_list(user=world.users[Role.CADRE])
    assert list(seen) == [current]


def test_a_cadre_without_a_profile_or_in_another_village_sees_nothing_of_others(world):
    campaign = make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    someone = make_person(world.xinqiao, name="新桥干部")
    make_assignment(campaign, make_household(world.xinqiao), someone)
    assert not household_list(user=world.users[Role.CADRE]).exists()
