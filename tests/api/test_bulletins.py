"""`GET /api/v1/towns/{id}/bulletin`: the daily bulletin as JSON, published or live, scoped."""

import datetime as dt

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.reports.services import bulletin_publish
from tests.factories import make_user
from tests.progress_scenario import DAY2, build, shanghai
from tests.reports.conftest import DAY3, talks  # noqa: F401 - a fixture

EVENING = shanghai(DAY2, 20)


@pytest.fixture
def scenario(world):
    return build(world)


def get(client, town, **params):
    with time_machine.travel(EVENING, tick=False):
        return client.get(f"/towns/{town.pk}/bulletin", **params)


def test_live_figures_until_the_day_is_published_then_the_frozen_version(world, scenario, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])
    live = get(client, world.town, date="2021-10-19")
    assert live.status_code == 200
    body = live.json()
    assert body["schema"] == "pingan.bulletin/1"
    assert body["bulletin"] == {"number": "汝集镇访平安通报〔2021〕第1期", "version": None,
                                "published": False}  # fmt: skip
    qiying = next(row for row in body["villages"] if row["name"] == "七营村")
    assert (qiying["reached_households"], qiying["completion_pct"]) == (5, "125.00")
    with time_machine.travel(EVENING, tick=False):
        bulletin_publish(town=world.town, day=DAY2, actor=world.users[Role.TOWN_ADMIN])
    frozen = get(client, world.town, date="2021-10-19").json()
    assert frozen["bulletin"]["published"] is True
    assert frozen["bulletin"]["version"] == 1
    assert frozen["until"] == "2021-10-19T20:00:00+08:00"


def test_every_role_of_the_town_reads_it_and_another_town_gets_404(world, scenario, api_as):
    center = get(api_as(world.users[Role.TOWN_ADMIN]), world.town).json()
    for role in (Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER,
                 Role.COUNTY_VIEWER):  # fmt: skip
        response = get(api_as(world.users[role]), world.town)
        assert response.status_code == 200, role
        body = response.json()
        # The same whole-town bulletin for every role: the town's figures, not a scoped part.
        assert body == center, role
        assert body["town"]["name"] == "汝集镇"
        assert {row["name"]: row["reached_households"] for row in body["villages"]} == {
            "七营村": 5, "新桥村": 1,
        }, role  # fmt: skip
        assert body["total"]["reached_households"] == 6, role
    stranger = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    response = get(api_as(stranger), world.town)
    assert response.status_code == 404
    assert response.json()["detail"] == "请求的对象不存在或不在您的管辖范围内"
    assert get(api_as(world.users[Role.TOWN_ADMIN]), world.qiying).status_code == 404


def test_a_day_to_come_and_a_bad_date_are_refused_in_chinese(world, scenario, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])
    ahead = get(client, world.town, date=(DAY2 + dt.timedelta(days=1)).isoformat())
    assert ahead.status_code == 422
    assert "还没有到" in ahead.json()["detail"]
    bad = get(client, world.town, date="十月十九日")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["msg"] == "应为日期（YYYY-MM-DD）"


def test_thought_work_per_village_and_for_the_town(world, scenario, talks, api_as):  # noqa: F811
    # The `talks` fixture (tests/reports/conftest.py), read on day 3 at 20:00: on day 2,
    # 七营村 3 dissatisfied households (y1 once for its two concerns), 2 talked to (y3's talk
    # recorded on day 3 does not count), 1 changed (y1's latest talk is unchanged); 新桥村 x2.
    client = api_as(world.users[Role.CADRE])
    with time_machine.travel(shanghai(DAY3, 20), tick=False):
        body = client.get(f"/towns/{world.town.pk}/bulletin", date=DAY2.isoformat()).json()
    keys = ("dissatisfied_households", "talked_households", "view_changed_households")
    assert {row["name"]: [row[k] for k in keys] for row in body["villages"]} == {
        "七营村": [3, 2, 1], "新桥村": [1, 1, 1],
    }  # fmt: skip
    assert [body["total"][k] for k in keys] == [4, 3, 2]
