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


# ---------------------------------------------------------------------------------------------
# Refusals leave nothing behind: every POST, PUT, PATCH or DELETE through Django's test client
# (pages and API alike) that is answered with a 4xx must leave every table as it was. The
# check wraps the client itself, so no refused action in any test can forget to make it.

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Not data anyone reads: the browser's session (a message to show next, the language), and the
# moment a bearer token was last used, which signing in with it stamps whatever follows.
NOT_DATA = {"django_session": None, "accounts_apitoken": {"last_used_at"}}


def database_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (but NOT_DATA), in primary-key order. Its queries are taken
    back out of the connection's query log, so pinned query counts never see them."""
    from django.apps import apps
    from django.db import connection

    log = connection.queries_log
    logged = len(log)
    snapshot = {}
    for model in apps.get_models():
        table = model._meta.db_table
        skipped = NOT_DATA.get(table, set())
        if skipped is None or model._meta.proxy or not model._meta.managed:
            continue
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in skipped]
        snapshot[table] = list(model._base_manager.order_by("pk").values_list(*columns))
    if log.maxlen is None or len(log) < log.maxlen:
        while len(log) > logged:
            log.pop()
    return snapshot


def changed_tables(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    return sorted(table for table in before if before[table] != after.get(table))


@pytest.fixture(autouse=True)
def _refusals_write_nothing(request, monkeypatch):
    """Marks: `writes_on_refusal("why")` lets a test's refused requests write (say why)."""
    if request.node.get_closest_marker("writes_on_refusal"):
        yield
        return
    from django.test import Client

    original = Client.request

    def checked(self, **environ):
        if environ.get("REQUEST_METHOD", "GET").upper() not in WRITES:
            return original(self, **environ)
        before = database_snapshot()
        response = original(self, **environ)
        if 400 <= response.status_code < 500:
            changed = changed_tables(before, database_snapshot())
            assert not changed, (
                f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO')} was refused "
                f"({response.status_code}) but wrote to {changed}"
            )
        return response

    monkeypatch.setattr(Client, "request", checked)
    yield
