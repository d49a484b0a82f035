"""走访进度 on the town and village pages: the figures of tests/progress_scenario.py as a user
reads them, the rates as `rate_figures` computes them, who sees and confirms what, and how many
queries the pages take."""

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pingan.accounts.models import Person, Role
from pingan.regions.models import Household, Region
from pingan.visits.models import Answer, Visit
from pingan.visits.rates import rate_figures
from tests.factories import (
    NOTICE_QUOTAS,
    RegionFactory,
    make_assignment,
    make_household,
    make_person,
    make_user,
)
from tests.progress_scenario import DAY2, shanghai, sync
from tests.web.html import rows as _rows
from tests.web.html import section as _section
from tests.web.html import text as _text


def _town(client: Client, world) -> str:
    response = client.get(reverse("web:town", args=[world.town.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _village(client: Client, village: Region, **params) -> str:
    response = client.get(reverse("web:village", args=[village.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------------------------------------
# The town page


def test_town_page_shows_progress_per_village_and_totals(world, scenario, evening, login):
    html = _section(_town(login(world.users[Role.LEADER]), world), "progress")

    # 村 | 任务数 | 已走访户数 | 其中电话 | 完成率 | 户户必到 | 今日走访 | 待再访 | 空挂户待确认 |
    # 问卷数 | 安全感率 | 满意度
    assert _rows(html) == [
        "七营村 4 5 1 125.00% 62.50% 1 1 1 5 60.00% 100.00%",
        "新桥村 2 1 0 50.00% 50.00% 0 0 0 1 100.00% 100.00%",
    ]
    # Town: 6 safety answers, 4 positive (安全 ×3, 比较安全); 说不清 ×2 stay in the denominator.
    assert _rows(html, "tfoot") == ["全镇 6 6 1 100.00% 60.00% 1 1 1 6 66.67% 100.00%"]
    assert "远方村" not in html


def test_town_rates_panel_has_all_six_rates_three_ways(world, scenario, evening, login):
    html = _section(_town(login(world.users[Role.TOWN_ADMIN]), world), "rates")

    rows = _rows(html)
    # 安全感: 4 of 6 with 说不清; 4 of 4 without; scores 100, 75, 100, 100 -> 93.75.
    assert rows[0] == "安全感率 66.67% 100.00% 93.75 6"
    assert rows[1] == "满意度 100.00% 100.00% 100.00 6"
    assert rows[2] == "政法队伍满意度 100.00% 100.00% 100.00 6"
    # Nobody was asked 知晓率, 参与率 or 反诈知晓率 in this scenario.
    assert rows[3:] == ["知晓率 — — — —", "参与率 — — — —", "反诈知晓率 — — — —"]
    assert "共 6 份问卷" in _text(html)


def test_rates_on_the_pages_equal_rate_figures(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    definitions = scenario.questionnaire.rates
    answers = Answer.objects.filter(visit__campaign=scenario.campaign)
    town = rate_figures(answers=answers, definitions=definitions, group_by=None)[None]
    per_village = rate_figures(answers=answers, definitions=definitions)

    response = client.get(reverse("web:town", args=[world.town.pk]))
    assert {d["key"]: f for d, f in response.context["rates"] if f} == town
    assert response.context["village_rates"] == {
        world.qiying.pk: per_village[world.qiying.pk],
        world.xinqiao.pk: per_village[world.xinqiao.pk],
    }
    html = _section(response.content.decode(), "rates")
    for figure in town.values():
        assert f"{figure.rate}% {figure.rate_known}%" in _text(html)

    village = client.get(reverse("web:village", args=[world.qiying.pk]))
    figures = {d["key"]: f for d, f in village.context["rates"] if f}
    assert figures == per_village[world.qiying.pk]
    safety = figures["safety"]
    # 七营村: 安全, 比较安全, 说不清, 说不清, 安全 -> 3 of 5; 3 of 3; (100 + 75 + 100) / 3.
    assert (str(safety.rate), str(safety.rate_known), str(safety.score)) == (
        "60.00",
        "100.00",
        "91.67",
    )
    assert "安全感率 60.00% 100.00% 91.67 5" in _rows(_section(village.content.decode(), "rates"))


def test_reached_today_follows_the_shanghai_day(world, scenario, login):
    client = login(world.users[Role.TOWN_ADMIN])

    def today_column():
        return [row.split()[6] for row in _rows(_section(_town(client, world), "progress"))]

    with time_machine.travel(shanghai(DAY2, 23, 59), tick=False):
        assert today_column() == ["1", "0"]  # h1, first reached on day 2
    with time_machine.travel(shanghai(DAY2, 0, 1), tick=False):
        assert today_column() == ["1", "0"]
    with time_machine.travel(shanghai(DAY2, 0, 1).replace(day=18), tick=False):
        assert today_column() == ["4", "1"]  # day 1
    with time_machine.travel(shanghai(DAY2, 23, 59).replace(day=17), tick=False):
        assert today_column() == ["0", "0"]  # the day before: nothing done yet


def test_town_page_without_campaign_has_no_progress(world, login):
    html = _town(login(world.users[Role.TOWN_ADMIN]), world)
    assert 'id="progress"' not in html
    assert 'id="rates"' not in html


def test_town_page_query_count_does_not_grow(
    world, scenario, evening, login, django_assert_num_queries
):
    client = login(world.users[Role.TOWN_ADMIN])
    # 16 without rates (tests/web/test_pages.py) + 3 for the rates (definitions, per village,
    # town).
    # +1: the header's unread-message count; +2: the rates' options, looked up per rate query
    # +1: the ledger summary at the top (待梳理, 待交办, 超期, 临期, 延期: one query)
    with django_assert_num_queries(22):
        _town(client, world)

    # Given the notice's 16 villages, each with a cadre and two households, one reached
    for order, name in enumerate(NOTICE_QUOTAS, start=1):
        if name in ("七营村", "新桥村"):
            continue
        village = RegionFactory(
            kind="village", name=name, code=f"341623101{300 + order}", parent=world.town
        )
        user = make_user(Role.CADRE, village, username=f"cadre-{order}")
        cadre = make_person(village, name=f"{name}干部", user=user)
        for outcome in ("completed", "not_home"):
            household = make_household(village)
            make_assignment(scenario.campaign, household, cadre)
            sync(user, household, scenario.questionnaire, outcome, shanghai(DAY2, 9))
    # +1: the header's unread-message count; +2: the rates' options, looked up per rate query
    # +1: the ledger summary at the top (one query)
    with django_assert_num_queries(21):
        html = _town(client, world)
    assert len(_rows(_section(html, "progress"))) == 16


# ---------------------------------------------------------------------------------------------
# The village page


def test_village_page_shows_the_village_figures(world, scenario, evening, login):
    html = _village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying)
    text = _text(_section(html, "progress"))
    for shown in (
        "已走访户数 5 其中电话 1",
        "完成率 125.00% 任务数 4",
        "户户必到 62.50% 5 / 8 户",
        "今日走访 1 2021-10-19",
        "待再访 1",
        "未走访在住户 3",
        "空挂户待确认 1",
        "已确认空挂户 1",
    ):
        assert shown in text, shown


def test_village_page_per_cadre_table(world, scenario, evening, login):
    html = _village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying)
    # 党员干部 | 负责户数 | 已走访 | 完成 | 待再访
    assert sorted(_rows(_section(html, "cadre-progress"))) == [
        "李红 3 1 33.33% 0",
        "王建国 5 4 80.00% 1",
    ]


def test_village_page_lists_households_to_revisit_masked(world, scenario, evening, login):
    Household.objects.filter(pk=scenario.households["h5"].pk).update(phone_masked="138****0005")
    html = _section(_village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying), "revisit")
    # 户主 | 村民小组 | 地址 | 手机号 | 负责干部 | 不在家次数 | 最后走访
    assert _rows(html) == ["张* 2 七营村5号 138****0005 王建国 1 2021-10-18 10:30"]
    assert "张5" not in html


def test_revisit_list_is_paginated(world, scenario, evening, login):
    cadre = world.users[Role.CADRE]
    for n in range(25):
        household = make_household(world.qiying, group_no=9, address=f"七营村9组{n:02d}号")
        make_assignment(scenario.campaign, household, scenario.wang)
        sync(cadre, household, None, "not_home", shanghai(DAY2, 9))
    client = login(world.users[Role.VILLAGE_ADMIN])

    first = _section(_village(client, world.qiying), "revisit")
    second = _section(_village(client, world.qiying, revisit_page=2), "revisit")

    assert len(_rows(first)) == 20
    assert len(_rows(second)) == 6
    assert "第 1–20 户，共 26 户" in _text(first)
    assert "?revisit_page=2#revisit" in first


def test_village_page_lists_vacancies_with_a_confirm_button(world, scenario, evening, login):
    html = _section(_village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying), "vacancies")
    [row] = _rows(html)
    assert row.startswith("张* 1 七营村6号 李红 2021-10-18 11:00 全家外出务工")
    action = reverse("web:visit_vacancy_confirm", args=[scenario.visits["h6"].pk])
    assert f'action="{action}"' in html
    assert "csrfmiddlewaretoken" in html


# Which role sees what on 七营村's page: the vacancy list (and its button) and the revisit list.
SECTIONS = {
    Role.TOWN_ADMIN: {"vacancies": 1, "button": True, "revisit": 1},
    Role.VILLAGE_ADMIN: {"vacancies": 1, "button": True, "revisit": 1},
    Role.LEADER: {"vacancies": 1, "button": False, "revisit": 1},
    Role.COUNTY_VIEWER: {"vacancies": 1, "button": False, "revisit": 1},
    Role.CADRE: {"vacancies": 0, "button": False, "revisit": 1},  # 王建国: h5 is his, h6 not
    Role.UNIT_HANDLER: None,  # no household lists at all
}


@pytest.mark.parametrize("role", Role.values)
def test_each_role_sees_its_own_lists(world, scenario, evening, login, role):
    html = _village(login(world.users[role]), world.qiying)
    expected = SECTIONS[role]
    assert 'id="progress"' in html  # the village's figures: everyone in scope
    if expected is None:
        assert 'id="vacancies"' not in html
        assert 'id="revisit"' not in html
        return
    vacancies = _section(html, "vacancies")
    listed = len(_rows(vacancies)) if "<tbody>" in vacancies else 0
    assert listed == expected["vacancies"]
    assert ("确认空挂户</button>" in vacancies) is expected["button"]
    assert len(_rows(_section(html, "revisit"))) == expected["revisit"]


def test_a_cadre_sees_only_their_own_progress_row(world, scenario, evening, login):
    html = _village(login(world.users[Role.CADRE]), world.qiying)
    assert _rows(_section(html, "cadre-progress")) == ["王建国 5 4 80.00% 1"]


def test_village_page_query_count_does_not_grow(
    world, scenario, evening, login, django_assert_num_queries
):
    client = login(world.users[Role.VILLAGE_ADMIN])
    # 13 without visits (tests/web/test_pages.py) + rate definitions, rates, revisit count and
    # page, vacancies.
    with django_assert_num_queries(18):  # +2: the rates' options, per rate query
        _village(client, world.qiying)

    # Given more cadres, households to revisit and vacancies
    for n in range(5):
        user = make_user(Role.CADRE, world.qiying, username=f"more-{n}")
        cadre = make_person(world.qiying, name=f"干部{n}", user=user)
        for outcome in ("not_home", "vacant", "completed"):
            household = make_household(world.qiying)
            make_assignment(scenario.campaign, household, cadre)
            questionnaire = scenario.questionnaire if outcome == "completed" else None
            sync(user, household, questionnaire, outcome, shanghai(DAY2, 9))
    with django_assert_num_queries(17):  # +2: the rates' options, per rate query
        html = _village(client, world.qiying)
    assert len(_rows(_section(html, "vacancies"))) == 6
    assert len(_rows(_section(html, "cadre-progress"))) == 7


# ---------------------------------------------------------------------------------------------
# Confirming a vacancy (POST, CSRF; village admin of that village or town admin)


def _confirm(client: Client, visit: Visit):
    return client.post(reverse("web:visit_vacancy_confirm", args=[visit.pk]))


def _vacant_visit_in(world, scenario, village: Region) -> Visit:
    user = make_user(Role.CADRE, village, username=f"v-{village.code}")
    cadre = make_person(village, user=user)
    household = make_household(village)
    campaign = scenario.campaign
    if village == world.faraway:
        campaign = Visit.objects.get(pk=scenario.visits["f1"].pk).campaign
    make_assignment(campaign, household, cadre)
    return sync(user, household, None, "vacant", shanghai(DAY2, 9))


# role -> status for a vacant visit in 七营村 (own village of the village roles), in 新桥村
# and in 远方村 (another town). Roles that never confirm get 403 whatever the visit.
CONFIRM = {
    Role.TOWN_ADMIN: {"qiying": 302, "xinqiao": 302, "faraway": 404},
    Role.VILLAGE_ADMIN: {"qiying": 302, "xinqiao": 404, "faraway": 404},
    Role.LEADER: {"qiying": 403, "xinqiao": 403, "faraway": 403},
    Role.CADRE: {"qiying": 403, "xinqiao": 403, "faraway": 403},
    Role.UNIT_HANDLER: {"qiying": 403, "xinqiao": 403, "faraway": 403},
    Role.COUNTY_VIEWER: {"qiying": 403, "xinqiao": 403, "faraway": 403},
}


@pytest.mark.parametrize("role", Role.values)
def test_confirm_scoping_for_every_role(world, scenario, evening, login, role):
    client = login(world.users[role])
    for place, status in CONFIRM[role].items():
        visit = _vacant_visit_in(world, scenario, getattr(world, place))
        response = _confirm(client, visit)
        assert response.status_code == status, (role, place)
        confirmed = Visit.objects.get(pk=visit.pk).vacancy_confirmed_at is not None
        assert confirmed is (status == 302), (role, place)
    # An id that does not exist answers like one outside the scope (or 403 for those roles).
    missing = client.post(reverse("web:visit_vacancy_confirm", args=[999999]))
    assert missing.status_code == (404 if role in (Role.TOWN_ADMIN, Role.VILLAGE_ADMIN) else 403)


def test_confirming_updates_the_figures_and_says_so(world, scenario, evening, login):
    client = login(world.users[Role.VILLAGE_ADMIN])

    response = _confirm(client, scenario.visits["h6"])

    assert response.status_code == 302
    assert response.url == reverse("web:village", args=[world.qiying.pk]) + "#vacancies"
    html = client.get(response.url).content.decode()
    assert "已确认“七营村6号”为空挂户" in html
    text = _text(_section(html, "progress"))
    assert "户户必到 71.43% 5 / 7 户" in text
    assert "空挂户待确认 0" in text
    assert "没有待确认的空挂户" in _text(_section(html, "vacancies"))
    visit = Visit.objects.get(pk=scenario.visits["h6"].pk)
    assert visit.vacancy_confirmed_by == world.users[Role.VILLAGE_ADMIN]
    # Confirming twice changes nothing.
    assert _confirm(client, scenario.visits["h6"]).status_code == 302
    assert Visit.objects.get(pk=visit.pk).vacancy_confirmed_at == visit.vacancy_confirmed_at


def test_only_vacant_visits_can_be_confirmed(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    response = _confirm(client, scenario.visits["h3"])  # refused
    assert response.status_code == 302
    assert "只有“空挂户”走访需要确认" in client.get(response.url).content.decode()
    assert Visit.objects.get(pk=scenario.visits["h3"].pk).vacancy_confirmed_at is None
    status = Household.objects.get(pk=scenario.households["h3"].pk).status
    assert status == Household.Status.ACTIVE


def test_confirm_needs_post_and_the_csrf_token(world, scenario, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    url = reverse("web:visit_vacancy_confirm", args=[scenario.visits["h6"].pk])
    assert client.get(url).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.users[Role.VILLAGE_ADMIN])
    assert strict.post(url).status_code == 403
    assert Visit.objects.get(pk=scenario.visits["h6"].pk).vacancy_confirmed_at is None


def test_confirm_for_a_cadre_in_another_village_admins_scope(world, scenario, login):
    # The admin of 新桥村 sees nothing of 七营村: 404, not 403.
    admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao, username="xq-admin")
    response = _confirm(login(admin), scenario.visits["h6"])
    assert response.status_code == 404
    assert Person.objects.filter(visit_village=world.qiying).count() == 2


# ---------------------------------------------------------------------------------------------
# English


def test_progress_in_english(world, scenario, evening, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    url = reverse("web:village", args=[world.qiying.pk])
    client.post(reverse("set_language"), {"language": "en", "next": url})
    html = client.get(url).content.decode()
    for english in (
        "Visit progress",
        "Completion",
        "Every household",
        "Households to revisit",
        "Vacancies to confirm",
        "Confirm vacant",
        "Sense of safety",
        "Rate (with “don’t know”)",
    ):
        assert english in html, english
    assert "走访进度" not in html
