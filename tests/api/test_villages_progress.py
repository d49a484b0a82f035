"""The visit progress in `GET /api/v1/villages`, and the acceptance point "Reached counts on
the pages equal the API's figures" (tests/progress_scenario.py has the hand-worked figures)."""

import re

import pytest
import time_machine
from django.urls import reverse

from pingan.accounts.models import Role
from tests.factories import RegionFactory, make_household
from tests.progress_scenario import DAY2, build, shanghai, sync

pytestmark = pytest.mark.django_db

PROGRESS_KEYS = ("reached_households", "reached_today", "completion", "to_revisit")


@pytest.fixture
def scenario(world):
    scenario = build(world)
    # A third village of the town with no quota: no completion figure.
    zhuangying = RegionFactory(
        kind="village", code="341623101207", name="庄营村", parent=world.town, sort_order=9
    )
    make_household(zhuangying)
    return scenario


@pytest.fixture
def evening():
    with time_machine.travel(shanghai(DAY2, 18), tick=False):
        yield


@pytest.fixture
def login(client):
    """A signed-in back-office client (as tests/web/conftest.py gives the page tests)."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


def _progress(item: dict) -> dict:
    return {key: item[key] for key in PROGRESS_KEYS}


def test_list_has_the_hand_worked_progress(world, scenario, evening, api_as):
    response = api_as(world.users[Role.TOWN_ADMIN]).get("/villages")

    assert response.status_code == 200
    items = {item["name"]: _progress(item) for item in response.json()["items"]}
    assert items == {
        # 5 reached of a quota of 4: completion is a decimal string and may pass 100.
        "七营村": {
            "reached_households": 5,
            "reached_today": 1,
            "completion": "125.00",
            "to_revisit": 1,
        },
        "新桥村": {
            "reached_households": 1,
            "reached_today": 0,
            "completion": "50.00",
            "to_revisit": 0,
        },
        "庄营村": {
            "reached_households": 0,
            "reached_today": 0,
            "completion": None,
            "to_revisit": 0,
        },
    }


def test_detail_has_the_same_figures_for_the_village_admin(world, scenario, evening, api_as):
    listed = api_as(world.users[Role.TOWN_ADMIN]).get("/villages").json()["items"]
    detail = api_as(world.users[Role.VILLAGE_ADMIN]).get(f"/villages/{world.qiying.pk}")
    assert detail.json() == next(item for item in listed if item["name"] == "七营村")


def test_another_towns_visits_stay_there(world, scenario, evening, api_as, django_user_model):
    # 远方村's reached household is seen by nobody in 汝集镇, and counted only for 远方村.
    superuser = django_user_model.objects.create_superuser("root", password="pass-word-123")
    items = {
        item["name"]: item["reached_households"]
        for item in api_as(superuser).get("/villages").json()["items"]
    }
    assert items == {"七营村": 5, "新桥村": 1, "庄营村": 0, "远方村": 1}


def test_list_query_count_does_not_grow(
    world, scenario, evening, api_as, django_assert_num_queries
):
    client = api_as(world.users[Role.COUNTY_VIEWER])
    client.get("/villages")  # the token's first use stamps it; later uses within 5 min don't
    with django_assert_num_queries(3) as first:
        client.get("/villages")
    for n in range(10):
        village = RegionFactory(
            kind="village", code=f"3416231013{n:02d}", name=f"新村{n}", parent=world.town
        )
        make_household(village)
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get("/villages")
    assert response.json()["count"] == 13


def test_openapi_documents_completion(client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["VillageOut"]
    completion = schema["properties"]["completion"]
    assert {"type": "string"} in completion["anyOf"]
    assert "任务数" in completion["description"]
    assert set(PROGRESS_KEYS) <= set(schema["required"])


# ---------------------------------------------------------------------------------------------
# Acceptance: reached counts on the pages equal the API's figures


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _town_page_figures(client, town) -> dict[str, dict]:
    """Each village row of the town page's progress table, as the API names its figures."""
    html = client.get(reverse("web:town", args=[town.pk])).content.decode()
    table = html.split('<section id="progress">', 1)[1].split("<tbody>", 1)[1]
    figures = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("</tbody>", 1)[0], flags=re.S):
        name, _quota, reached, _phone, completion, _all, today, revisit, *_ = _text(row).split()
        figures[name] = {
            "reached_households": int(reached.replace(",", "")),
            "reached_today": int(today.replace(",", "")),
            "completion": None if completion == "—" else completion.removesuffix("%"),
            "to_revisit": int(revisit.replace(",", "")),
        }
    return figures


def _village_page_figures(client, village) -> dict:
    html = client.get(reverse("web:village", args=[village.pk])).content.decode()
    text = _text(html.split('<section id="progress">', 1)[1].split("</section>", 1)[0])

    def after(label: str) -> str:
        return re.search(rf"{label} (\S+)", text).group(1)

    completion = after("完成率")
    return {
        "reached_households": int(after("已走访户数").replace(",", "")),
        "reached_today": int(after("今日走访").replace(",", "")),
        "completion": None if completion == "—" else completion.removesuffix("%"),
        "to_revisit": int(after("待再访").replace(",", "")),
    }


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.LEADER, Role.COUNTY_VIEWER])
def test_town_page_figures_equal_the_apis_for_every_village(
    world, scenario, evening, api_as, login, role
):
    # More visits today, so every figure is non-trivial somewhere
    sync(
        world.users[Role.CADRE],
        scenario.households["h5"],
        scenario.questionnaire,
        "phone",
        shanghai(DAY2, 17),
    )
    api = {
        item["name"]: _progress(item)
        for item in api_as(world.users[role]).get("/villages").json()["items"]
    }
    page = _town_page_figures(login(world.users[role]), world.town)

    assert page == api
    assert set(page) == {"七营村", "新桥村", "庄营村"}
    assert page["七营村"]["reached_today"] == 2


@pytest.mark.parametrize("role", Role.values)
def test_village_page_figures_equal_the_apis_for_every_village(
    world, scenario, evening, api_as, login, role
):
    api = api_as(world.users[role])
    client = login(world.users[role])
    villages = api.get("/villages").json()["items"]
    assert villages, role
    for item in villages:
        village = type(world.qiying).objects.get(pk=item["id"])
        assert _village_page_figures(client, village) == _progress(item), (role, item["name"])
