"""`GET /villages` and `GET /villages/{id}`: scoping for every role, figures, pagination."""

import datetime as dt

import pytest

from pingan.accounts.models import Person, Role
from pingan.regions.models import Household
from tests.factories import RegionFactory, make_campaign, make_household, make_person

pytestmark = pytest.mark.django_db

# Which of the world's villages each role sees (village roles are scoped to 七营村).
VISIBLE = {
    Role.TOWN_ADMIN: {"七营村", "新桥村"},
    Role.LEADER: {"七营村", "新桥村"},
    Role.VILLAGE_ADMIN: {"七营村"},
    Role.CADRE: {"七营村"},
    Role.UNIT_HANDLER: {"七营村", "新桥村"},
    Role.COUNTY_VIEWER: {"七营村", "新桥村"},
}


def names(response) -> set[str]:
    return {item["name"] for item in response.json()["items"]}


@pytest.mark.parametrize("role", Role.values)
def test_list_is_scoped(world, api_as, role):
    response = api_as(world.users[role]).get("/villages")

    assert response.status_code == 200
    assert names(response) == VISIBLE[role]
    assert response.json()["count"] == len(VISIBLE[role])


@pytest.mark.parametrize("role", Role.values)
def test_detail_is_scoped(world, api_as, role):
    client = api_as(world.users[role])

    for village in (world.qiying, world.xinqiao, world.faraway):
        response = client.get(f"/villages/{village.pk}")
        if village.name in VISIBLE[role]:
            assert response.status_code == 200
            assert response.json()["name"] == village.name
        else:
            # Outside the scope looks exactly like a village that does not exist.
            assert response.status_code == 404
            assert response.json() == client.get("/villages/999999").json()
            assert response.json()["detail"] == "请求的对象不存在或不在您的管辖范围内"


def test_county_viewer_sees_every_town_of_the_county_only(world, api_as):
    # Given a second town in 利辛县 with its own campaign, and the other county's town
    second = RegionFactory(kind="town", code="341623102", name="城关镇", parent=world.county)
    chengbei = RegionFactory(kind="village", code="341623102201", name="城北村", parent=second)
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    make_campaign(second, {chengbei: 300})
    make_campaign(world.other_town, {world.faraway: 999})

    response = api_as(world.users[Role.COUNTY_VIEWER]).get("/villages")

    items = {item["name"]: item for item in response.json()["items"]}
    assert set(items) == {"七营村", "新桥村", "城北村"}
    assert items["城北村"]["quota"] == 300
    assert items["城北村"]["town"] == {"id": second.pk, "name": "城关镇"}
    assert items["七营村"]["quota"] == 450
    assert items["七营村"]["town"] == {"id": world.town.pk, "name": "汝集镇"}


def test_figures(world, api_as):
    # Given the current campaign and an older one with other quotas
    make_campaign(
        world.town,
        {world.qiying: 1, world.xinqiao: 2},
        name="去年",
        start_date=dt.date(2020, 10, 10),
        end_date=dt.date(2020, 11, 20),
    )
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    # and 七营村: 3 active households, 1 vacant, 1 merged away; 2 active cadres, 1 inactive
    active = [make_household(world.qiying) for _ in range(3)]
    make_household(world.qiying, status=Household.Status.VACANT)
    make_household(world.qiying, status=Household.Status.MERGED, merged_into=active[0])
    make_person(world.qiying, name="甲")
    make_person(world.qiying, name="乙")
    Person.objects.filter(pk=make_person(world.qiying, name="丙").pk).update(active=False)
    # and 新桥村: 1 household, no cadre; 远方村 (outside) households do not count
    make_household(world.xinqiao)
    make_household(world.faraway)

    response = api_as(world.users[Role.TOWN_ADMIN]).get("/villages")

    assert response.json() == {
        "count": 2,
        "items": [
            {
                "id": world.qiying.pk,
                "code": "341623101202",
                "name": "七营村",
                "town": {"id": world.town.pk, "name": "汝集镇"},
                "quota": 450,
                "roster_households": 4,
                "active_households": 3,
                "cadre_count": 2,
                # No visit yet (tests/api/test_villages_progress.py has the visit figures).
                "reached_households": 0,
                "reached_today": 0,
                "completion": "0.00",
                "to_revisit": 0,
            },
            {
                "id": world.xinqiao.pk,
                "code": "341623101203",
                "name": "新桥村",
                "town": {"id": world.town.pk, "name": "汝集镇"},
                "quota": 577,
                "roster_households": 1,
                "active_households": 1,
                "cadre_count": 0,
                # No visit yet (tests/api/test_villages_progress.py has the visit figures).
                "reached_households": 0,
                "reached_today": 0,
                "completion": "0.00",
                "to_revisit": 0,
            },
        ],
    }
    detail = api_as(world.users[Role.VILLAGE_ADMIN]).get(f"/villages/{world.qiying.pk}")
    assert detail.json() == response.json()["items"][0]


def test_quota_is_that_of_the_current_campaign_even_when_it_lacks_the_village(world, api_as):
    make_campaign(
        world.town,
        {world.qiying: 1, world.xinqiao: 2},
        name="去年",
        start_date=dt.date(2020, 10, 10),
        end_date=dt.date(2020, 11, 20),
    )
    make_campaign(world.town, {world.qiying: 450})

    items = api_as(world.users[Role.LEADER]).get("/villages").json()["items"]

    assert [(item["name"], item["quota"]) for item in items] == [("七营村", 450), ("新桥村", 0)]


def test_quota_is_zero_without_a_campaign(world, api_as):
    items = api_as(world.users[Role.TOWN_ADMIN]).get("/villages").json()["items"]

    assert {item["quota"] for item in items} == {0}


def test_pagination(world, api_as):
    for n in range(5):
        RegionFactory(kind="village", code=f"34162310130{n}", name=f"加村{n}", parent=world.town)
    client = api_as(world.users[Role.TOWN_ADMIN])

    first = client.get("/villages", limit=3).json()
    rest = client.get("/villages", limit=10, offset=3).json()

    assert first["count"] == rest["count"] == 7
    assert len(first["items"]) == 3
    assert len(rest["items"]) == 4
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in rest["items"]})


@pytest.mark.parametrize(
    ("params", "loc", "msg"),
    [
        ({"limit": 501}, ["query", "limit"], "不能大于 500"),
        ({"limit": 0}, ["query", "limit"], "不能小于 1"),
        ({"offset": -1}, ["query", "offset"], "不能小于 0"),
        ({"limit": "many"}, ["query", "limit"], "应为整数"),
    ],
)
def test_pagination_input_is_validated(world, api_as, params, loc, msg):
    response = api_as(world.users[Role.TOWN_ADMIN]).get("/villages", **params)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "请求数据有误"
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [(loc, msg)]


def test_list_needs_sign_in(world, anonymous):
    assert anonymous.get("/villages").status_code == 401
    assert anonymous.get(f"/villages/{world.qiying.pk}").status_code == 401


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.COUNTY_VIEWER])
def test_list_query_count_does_not_grow(world, api_as, django_assert_num_queries, role):
    # Given three towns' worth of villages, each with quota, households and cadres
    towns = [world.town]
    for t in range(2):
        towns.append(
            RegionFactory(kind="town", code=f"34162310{t + 5}", name=f"镇{t}", parent=world.county)
        )
    for t, town in enumerate(towns):
        villages = [
            RegionFactory(
                kind="village", code=f"{town.code}{v + 300}", name=f"村{t}-{v}", parent=town
            )
            for v in range(4)
        ]
        make_campaign(town, {village: 100 + v for v, village in enumerate(villages)})
        for village in villages:
            make_household(village)
            make_person(village)
    client = api_as(world.users[role])

    # Token lookup, its last-used stamp, the count, the page: nothing per village or town.
    with django_assert_num_queries(4):
        response = client.get("/villages")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["items"]) == (14 if role == Role.COUNTY_VIEWER else 6)
    assert all(item["quota"] >= 100 for item in body["items"] if "-" in item["name"])
