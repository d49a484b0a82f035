"""Shared fixtures: a small region tree with two towns, so every scope has an outside."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from pingan.accounts.models import Person, Role, Unit, User
from pingan.campaigns.models import Assignment, Campaign
from pingan.regions.models import Household, Region
from pingan.surveys.models import Questionnaire
from pingan.surveys.services import questionnaire_load_default
from tests.factories import (
    RegionFactory,
    UnitFactory,
    make_campaign,
    make_household,
    make_person,
    make_user,
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts from an empty cache: what one test cached (the banner's "does the
    site hold synthetic data", pingan.web.synthetic) never changes another's pages or query
    counts."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    province: Region
    city: Region
    county: Region
    other_county: Region
    town: Region
    other_town: Region
    qiying: Region  # 七营村, in town
    xinqiao: Region  # 新桥村, in town
    faraway: Region  # a village of other_town
    police: Unit
    users: dict[str, User]  # one per role, scoped inside `town` (七营村 for village roles)


@pytest.fixture
def world(db) -> World:
    province = RegionFactory(kind="province", code="34", name="安徽省", parent=None)
    city = RegionFactory(kind="city", code="3416", name="亳州市", parent=province)
    county = RegionFactory(kind="county", code="341623", name="利辛县", parent=city)
    other_county = RegionFactory(kind="county", code="341621", name="涡阳县", parent=city)
    town = RegionFactory(kind="town", code="341623101", name="汝集镇", parent=county)
    other_town = RegionFactory(kind="town", code="341621102", name="义门镇", parent=other_county)
    qiying = RegionFactory(kind="village", code="341623101202", name="七营村", parent=town)
    xinqiao = RegionFactory(kind="village", code="341623101203", name="新桥村", parent=town)
    faraway = RegionFactory(kind="village", code="341621102201", name="远方村", parent=other_town)
    police = UnitFactory(region=town, name="汝集派出所", kind=Unit.Kind.POLICE)
    users = {
        Role.TOWN_ADMIN: make_user(Role.TOWN_ADMIN, town, username="town"),
        Role.LEADER: make_user(Role.LEADER, town, username="leader"),
        Role.VILLAGE_ADMIN: make_user(Role.VILLAGE_ADMIN, qiying, username="village"),
        Role.CADRE: make_user(Role.CADRE, qiying, username="cadre"),
        Role.UNIT_HANDLER: make_user(Role.UNIT_HANDLER, town, unit=police, username="unit"),
        Role.COUNTY_VIEWER: make_user(Role.COUNTY_VIEWER, county, username="county"),
    }
    return World(
        province,
        city,
        county,
        other_county,
        town,
        other_town,
        qiying,
        xinqiao,
        faraway,
        police,
        users,
    )


@dataclass
class Field:
    campaign: Campaign
    questionnaire: Questionnaire
    cadre: Person
    households: list[Household]
    other_households: list[Household]  # assigned to a colleague


@pytest.fixture
def field(world) -> Field:
    questionnaire, _ = questionnaire_load_default()
    campaign = make_campaign(world.town, {world.qiying: 450}, questionnaire=questionnaire)
    cadre = make_person(world.qiying, name="王建国", user=world.users[Role.CADRE])
    colleague = make_person(world.qiying, name="李红")
    mine = [make_household(world.qiying) for _ in range(3)]
    theirs = [make_household(world.qiying) for _ in range(2)]
    for household in mine:
        Assignment.objects.create(campaign=campaign, household=household, cadre=cadre,
                                  source="allocation")  # fmt: skip
    for household in theirs:
        Assignment.objects.create(campaign=campaign, household=household, cadre=colleague,
                                  source="allocation")  # fmt: skip
    return Field(campaign, questionnaire, cadre, mine, theirs)
