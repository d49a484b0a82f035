"""每日通报 on screen: the town dashboard (its table, pace, text, chart, downloads, publishing
and versions), one village's page, and the leaflets page — the figures of the hand-worked
scenario (tests/progress_scenario.py) as a user reads them.

Expected figures, by hand (scenario docstring; tests/reports/test_bulletin_figures.py):
- 七营村: quota 4, roster 9, reached 5 (4 on day 1, 1 on day 2), questionnaires 5,
  安全感 3 of 5 = 60.00%, 满意度 5 of 5 = 100.00%, every reached household got a leaflet;
- 新桥村: quota 2, roster 2, reached 1 on day 1, 50.00%, 安全感 and 满意度 1 of 1;
- the town: quota 6, reached 6, 100.00%, 安全感 4 of 6 = 66.67%.
Day 2 (2021-10-19) is the 4th of the 31 days of 走访整改: expected 4 × 4 ÷ 31 = 0.52,
2 × 4 ÷ 31 = 0.26, the town 6 × 4 ÷ 31 = 0.77; 序时进度 4 ÷ 31 = 12.90%.
"""

import datetime as dt
import json
import re
from io import BytesIO

import pytest
import time_machine
from django.db.models import F
from django.test import Client
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from pingan.accounts.models import Role
from pingan.campaigns.models import Assignment, LeafletIssue
from pingan.reports.models import Bulletin
from tests.factories import make_assignment, make_person, make_user
from tests.progress_scenario import DAY1, DAY2, shanghai, sync
from tests.reports.conftest import (  # noqa: F401 - fixtures
    DAY3,
    DOC_DAY,
    DOC_NOW,
    documented,
    talks,
)
from tests.web.html import rows as _rows
from tests.web.html import section as _section
from tests.web.html import text as _text


def _get(client: Client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _dashboard(client: Client, world, **params) -> str:
    return _get(client, reverse("web:bulletin", args=[world.town.pk]), **params)


def _publish(client: Client, world, day: dt.date):
    return client.post(
        reverse("web:bulletin_publish", args=[world.town.pk]), {"date": day.isoformat()}
    )


# 村 | 任务数 | 在册户数 | 已走访户数 | 今日走访 | 完成率 | 应完成进度 | 是否滞后 | 排名 | 问卷数 |
# 安全感率 | 满意度 | 新增问题 | 未办结问题 | 超期问题 | 已销号 | 不满意群众 | 已做思想工作 |
# 看法转变 | 资料领取 | 资料发放 (思想工作 in tests/reports/test_bulletin_thought_work.py)
DAY2_ROWS = [
    "七营村 4 9 5 1 125.00% 0.52 否 1 5 60.00% 100.00% 0 0 0 0 0 0 0 0 5",
    "新桥村 2 2 1 0 50.00% 0.26 否 2 1 100.00% 100.00% 0 0 0 0 0 0 0 0 1",
]
DAY2_TOTAL = ["合计 6 11 6 1 100.00% 0.77 否 — 6 66.67% 100.00% 0 0 0 0 0 0 0 0 6"]


# ---------------------------------------------------------------------------------------------
# The town dashboard


def test_dashboard_shows_every_village_the_total_and_the_pace(world, scenario, evening, login):
    html = _dashboard(login(world.users[Role.LEADER]), world)

    table = _section(html, "table")
    assert _rows(table, "thead") == [
        "村 任务数 在册户数 已走访户数 今日走访 完成率 应完成进度 是否滞后 排名 问卷数 安全感率 "
        "满意度 新增问题 未办结问题 超期问题 已销号 不满意群众 已做思想工作 看法转变 资料领取 "
        "资料发放"
    ]
    assert _rows(table) == DAY2_ROWS
    assert _rows(table, "tfoot") == DAY2_TOTAL
    assert _text(_section(html, "pace")) == (
        "走访整改阶段 2021-10-16 至 2021-11-15，共 31 天，已进行 4 天，序时进度 12.90%。 "
        "0 个村滞后。"
    )
    assert "实时数据（未发布）" in html
    assert "汝集镇访平安通报〔2021〕第1期" in html
    assert "统计截至 2021-10-19 18:00" in html
    assert "远方村" not in html


def test_dashboard_text_is_the_bulletin_summary(world, scenario, evening, login):
    text = _text(_section(_dashboard(login(world.users[Role.TOWN_ADMIN]), world), "summary"))
    assert text.startswith("通报正文 截至2021年10月19日18时，汝集镇2个村走访任务数共6户，已走访6户")
    assert "完成率100.00%" in text
    assert "当日新走访1户" in text


def test_a_date_shows_that_days_figures(world, scenario, evening, login):
    client = login(world.users[Role.LEADER])

    day1 = _dashboard(client, world, date="2021-10-18")

    # Counted up to the end of day 1: 七营村 h2 h3 h4 h9 reached that day; h2's second
    # questionnaire and h1's visit come on day 2. Pace: 3rd day, 4 × 3 ÷ 31 = 0.39.
    assert _rows(_section(day1, "table")) == [
        "七营村 4 9 4 4 100.00% 0.39 否 1 3 66.67% 100.00% 0 0 0 0 0 0 0 0 4",
        "新桥村 2 2 1 1 50.00% 0.19 否 2 1 100.00% 100.00% 0 0 0 0 0 0 0 0 1",
    ]
    assert "统计截至 2021-10-18 24:00" in day1
    assert 'value="2021-10-18"' in day1
    # the day before and after, no later than today
    assert "?date=2021-10-17" in day1
    assert "?date=2021-10-19" in day1
    assert "?date=2021-10-20" not in _dashboard(client, world)


def test_a_day_to_come_or_nonsense_falls_back_to_today_with_a_message(
    world, scenario, evening, login
):
    client = login(world.users[Role.LEADER])
    html = _dashboard(client, world, date="2021-10-20")
    assert "2021-10-20 还没有到，没有这一天的通报。" in html
    assert _rows(_section(html, "table")) == DAY2_ROWS
    html = _dashboard(client, world, date="10/19")
    assert _rows(_section(html, "table")) == DAY2_ROWS


def test_lagging_villages_and_the_criticized_are_highlighted(world, documented, login):  # noqa: F811
    # DOC_DAY is day 28 of 31: 新桥村 should have 2 × 28 ÷ 31 = 1.81 and has 1 (滞后);
    # 七营村 3.61 and has 5. Problem A is listed for criticism (汝集派出所, due 2021-11-01).
    with time_machine.travel(DOC_NOW, tick=False):
        html = _dashboard(login(world.users[Role.TOWN_ADMIN]), world, date=DOC_DAY.isoformat())

    table = _section(html, "table")
    lagging = re.findall(r'<tr class="lagging">(.*?)</tr>', table, flags=re.S)
    assert [_text(row).split()[0] for row in lagging] == ["新桥村"]
    assert '<strong class="lagging-flag">滞后</strong>' in lagging[0]
    assert "1 个村滞后" in _text(_section(html, "pace"))
    criticized = _section(html, "criticized")
    assert _rows(criticized) == [f"{documented.criticized.code} 七营村 汝集派出所 2021-11-01"]
    assert f"?q={documented.criticized.code}" in criticized
    assert "予以通报批评" in _section(html, "summary")
    chart = _section(html, "chart")
    assert re.search(r'<g class="lagging">\s*<text class="name"[^>]*>新桥村</text>', chart)
    assert re.search(r'<g class="on-pace">\s*<text class="name"[^>]*>七营村</text>', chart)
    assert "序时进度 90.32%" in chart  # 28 ÷ 31


def test_chart_is_inline_svg_and_nothing_comes_from_outside(world, scenario, evening, login):
    html = _dashboard(login(world.users[Role.LEADER]), world)
    chart = _section(html, "chart")
    assert "<svg" in chart
    assert "</svg>" in chart
    # one bar per village, as long as its completion on a 0–125% axis (125.00% is the top)
    bars = re.findall(r'<rect x="72" y="[\d.]+" width="([\d.]+)"', chart)
    assert bars == ["284.0", "113.6"]  # 125 ÷ 125 × 284, 50 ÷ 125 × 284
    assert "序时进度 12.90%" in chart
    assert "http://" not in html
    assert "https://" not in html
    assert not re.search(r'(?:src|href|action)="(?://|[a-z]+:)', html)


def test_publish_freezes_the_figures_until_published_again(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    assert "发布今日通报" in _dashboard(client, world)

    # Given the day's bulletin published at 18:00…
    response = _publish(client, world, DAY2)
    assert response.status_code == 302
    assert response.url == reverse("web:bulletin", args=[world.town.pk]) + "?date=2021-10-19"
    html = _dashboard(client, world, date="2021-10-19")
    assert "已发布 汝集镇访平安通报〔2021〕第1期 第 1 版，数据已冻结。" in html
    assert "已发布第1版（2021-10-19 18:00）" in html

    # …when a household is reached at 18:30, the page still shows the published figures
    sync(world.users[Role.CADRE], scenario.households["h5"], scenario.questionnaire,
         "completed", shanghai(DAY2, 18, 30), received=shanghai(DAY2, 18, 31))  # fmt: skip
    with time_machine.travel(shanghai(DAY2, 19), tick=False):
        html = _dashboard(client, world)
        assert _rows(_section(html, "table")) == DAY2_ROWS
        assert "已发布第1版" in html
        assert "重新发布（生成新版本）" in html

        # …until it is published again: version 2 with the new visit
        _publish(client, world, DAY2)
        html = _dashboard(client, world)
    assert "已发布第2版（2021-10-19 19:00）" in html
    assert _rows(_section(html, "table"))[0].startswith("七营村 4 9 6 2 150.00%")
    versions = re.findall(r"<li>(.*?)</li>", _section(html, "versions"), flags=re.S)
    assert [_text(v) for v in versions] == [
        "第2版 汝集镇访平安通报〔2021〕第1期 2021-10-19 19:00 测试用户 当前显示",
        "第1版 汝集镇访平安通报〔2021〕第1期 2021-10-19 18:00 测试用户",
    ]


def test_units_whose_people_visit_are_listed(world, scenario, evening, login):
    # 派出所's officer 周警官 visits in 七营村 (包村) and holds h3 (reached on day 1) and h8.
    officer = make_person(world.qiying, name="周警官", home_village=None, home_unit=world.police)
    for key in ("h3", "h8"):
        household = scenario.households[key]
        Assignment.objects.filter(household=household).update(ended_at=F("started_at"))
        make_assignment(scenario.campaign, household, officer)
    html = _dashboard(login(world.users[Role.LEADER]), world)
    assert _rows(_section(html, "units")) == ["汝集派出所 1 2 1 50.00%"]
    assert "汝集派出所1名干部包户2户、已走访1户（50.00%）" in html


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_only_the_town_center_publishes(world, scenario, evening, login, role):
    client = login(world.users[role])
    html = _dashboard(client, world)
    assert "发布今日通报" not in html
    assert _publish(client, world, DAY2).status_code == 403
    assert not Bulletin.objects.exists()


def test_another_towns_people_see_no_bulletin(world, scenario, evening, login):
    client = login(make_user(Role.TOWN_ADMIN, world.other_town, username="yimen"))
    assert client.get(reverse("web:bulletin", args=[world.town.pk])).status_code == 404
    url = reverse("web:bulletin_download", args=[world.town.pk, "2021-10-19", "json"])
    assert client.get(url).status_code == 404
    assert _publish(client, world, DAY2).status_code == 404
    assert client.get(reverse("web:village_bulletin", args=[world.qiying.pk])).status_code == 404
    assert client.get(reverse("web:leaflets", args=[world.town.pk])).status_code == 404
    # a village is not a town
    assert client.get(reverse("web:bulletin", args=[world.faraway.pk])).status_code == 404


def test_publishing_a_day_to_come_is_refused_with_a_message(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    response = _publish(client, world, DAY2 + dt.timedelta(days=1))
    assert response.status_code == 302
    assert "2021-10-20 还没有到" in _dashboard(client, world)
    assert not Bulletin.objects.exists()


# 思想工作 (the `talks` fixture, tests/reports/conftest.py): read on day 3 at 20:00, the
# bulletin of day 2 has 七营村 3 dissatisfied, 2 talked to, 1 changed; 新桥村 1, 1, 1; the town
# 4, 3, 2 (y1's two concerns count once; y3's talk, recorded on day 3, does not count).
TALK_LABELS = ["不满意群众", "已做思想工作", "看法转变"]


def _talk_cells(table: str) -> dict[str, list[str]]:
    """{village or 合计: its three 思想工作 cells} from the bulletin table's rows."""
    [header] = _rows(table, "thead")
    start = header.split().index(TALK_LABELS[0])
    return {
        row.split()[0]: row.split()[start : start + 3]
        for row in _rows(table) + _rows(table, "tfoot")
    }


def test_dashboard_shows_thought_work_per_village_and_for_the_town(world, talks, login):  # noqa: F811
    with time_machine.travel(shanghai(DAY3, 20), tick=False):
        html = _dashboard(login(world.users[Role.LEADER]), world, date=DAY2.isoformat())
    table = _section(html, "table")
    assert all(label in _rows(table, "thead")[0] for label in TALK_LABELS)
    assert _talk_cells(table) == {
        "七营村": ["3", "2", "1"], "新桥村": ["1", "1", "1"], "合计": ["4", "3", "2"],
    }  # fmt: skip
    assert "不满意群众 = 问卷中回答“不太安全”“不满意”等感受的户" in table
    assert "思想工作方面，不满意群众4户，已一对一、面对面做思想工作3户，其中看法转变2户。" in (
        _section(html, "summary")
    )


def test_thought_work_figures_are_frozen_when_published(world, talks, login):  # noqa: F811
    client = login(world.users[Role.TOWN_ADMIN])
    # Published on day 2 at 16:30: y1's second talk (17:00) is not recorded yet, so its
    # latest talk is day 1's (changed).
    with time_machine.travel(shanghai(DAY2, 16, 30), tick=False):
        _publish(client, world, DAY2)
    with time_machine.travel(shanghai(DAY3, 20), tick=False):
        html = _dashboard(client, world, date=DAY2.isoformat())
    assert _talk_cells(_section(html, "table")) == {
        "七营村": ["3", "2", "2"], "新桥村": ["1", "1", "1"], "合计": ["4", "3", "3"],
    }  # fmt: skip


def test_village_page_shows_its_thought_work(world, talks, login):  # noqa: F811
    with time_machine.travel(shanghai(DAY3, 20), tick=False):
        html = _village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying,
                        date=DAY2.isoformat())  # fmt: skip
    assert _text(_section(html, "village-talks")) == (
        "思想工作 不满意群众 3 户，已做思想工作 2 户，其中看法转变 1 户。"
    )
    figures = _text(_section(html, "village-figures"))
    assert "不满意群众 3 已做思想工作 2 看法转变 1" in figures


def test_dashboard_query_count_is_pinned(
    world, scenario, evening, login, django_assert_num_queries
):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:bulletin", args=[world.town.pk])
    with django_assert_num_queries(17):
        assert client.get(url).status_code == 200
    _publish(client, world, DAY2)
    # published: the frozen figures are read, not computed
    with django_assert_num_queries(8):
        assert client.get(url).status_code == 200


def test_a_bulletin_published_before_thought_work_was_counted(world, scenario, evening, login):
    # Given a bulletin frozen by an earlier release, without the three keys
    client = login(world.users[Role.TOWN_ADMIN])
    _publish(client, world, DAY2)
    bulletin = Bulletin.objects.get()
    for row in [*bulletin.figures["villages"], bulletin.figures["total"]]:
        for key in ("dissatisfied_households", "talked_households", "view_changed_households"):
            del row[key]
    bulletin.save()
    # then its pages show — and say nothing about 思想工作
    html = _dashboard(client, world)
    assert _talk_cells(_section(html, "table")) == {
        "七营村": ["—", "—", "—"], "新桥村": ["—", "—", "—"], "合计": ["—", "—", "—"],
    }  # fmt: skip
    assert "思想工作方面" not in html
    village = _village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying)
    assert 'id="village-talks"' not in village
    assert "不满意群众 —" in _text(_section(village, "village-figures"))


def test_dashboard_query_count_with_thought_work_is_the_same(
    world,
    talks,  # noqa: F811
    login,
    django_assert_num_queries,
):
    # 思想工作 is counted in the village rows' query (three more correlated subqueries), so
    # concerns and talks add no query.
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:bulletin", args=[world.town.pk])
    with time_machine.travel(shanghai(DAY3, 20), tick=False), django_assert_num_queries(17):
        assert client.get(url, {"date": DAY2.isoformat()}).status_code == 200


# ---------------------------------------------------------------------------------------------
# Downloads


def _download(client: Client, world, day: str, fmt: str):
    response = client.get(reverse("web:bulletin_download", args=[world.town.pk, day, fmt]))
    assert response.status_code == 200
    return response


def test_downloads_are_the_days_documents(world, scenario, evening, login):
    client = login(world.users[Role.LEADER])
    html = _dashboard(client, world)
    for fmt in ("xlsx", "docx", "html", "json"):
        assert f"/towns/{world.town.pk}/bulletin/2021-10-19.{fmt}" in html

    data = json.loads(_download(client, world, "2021-10-19", "json").content)
    assert data["bulletin"] == {
        "number": "汝集镇访平安通报〔2021〕第1期", "version": None, "published": False,
    }  # fmt: skip
    assert [(v["name"], v["completion_pct"]) for v in data["villages"]] == [
        ("七营村", "125.00"), ("新桥村", "50.00"),
    ]  # fmt: skip

    xlsx = _download(client, world, "2021-10-19", "xlsx")
    assert xlsx["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert xlsx["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    sheet = load_workbook(BytesIO(xlsx.content))["每日通报"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True) if row[0]}
    assert rows["七营村"][1:4] == (4, 9, 5)
    assert rows["七营村"][5] == pytest.approx(1.25)
    assert rows["合计"][3] == 6

    docx = _download(client, world, "2021-10-19", "docx")
    assert docx["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    document = Document(BytesIO(docx.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "汝集镇访平安通报〔2021〕第1期" in text
    cells = [[cell.text for cell in row.cells] for row in document.tables[-1].rows]
    assert cells[1][:6] == ["七营村", "4", "9", "5", "1", "125.00%"]

    page = _download(client, world, "2021-10-19", "html")
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert page["Content-Disposition"].startswith("inline;")
    assert "七营村" in page.content.decode()


def test_downloads_of_a_published_day_are_its_frozen_version(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    _publish(client, world, DAY1)
    sync(world.users[Role.CADRE], scenario.households["h5"], scenario.questionnaire,
         "completed", shanghai(DAY1, 23), received=shanghai(DAY2, 17))  # fmt: skip
    data = json.loads(_download(client, world, "2021-10-18", "json").content)
    assert data["bulletin"]["published"] is True
    assert data["bulletin"]["version"] == 1
    assert data["villages"][0]["reached_households"] == 4  # not 5: frozen
    # the day after has no bulletin yet: live, counting the late-synced visit on day 1
    live = json.loads(_download(client, world, "2021-10-19", "json").content)
    assert live["bulletin"]["published"] is False
    assert live["villages"][0]["reached_households"] == 6


def test_downloads_of_a_day_to_come_or_an_impossible_date_are_not_found(
    world, scenario, evening, login
):
    client = login(world.users[Role.LEADER])
    for day in ("2021-10-20", "2021-02-30"):
        url = reverse("web:bulletin_download", args=[world.town.pk, day, "json"])
        assert client.get(url).status_code == 404
    assert client.get(f"/towns/{world.town.pk}/bulletin/2021-10-19.pdf").status_code == 404


# ---------------------------------------------------------------------------------------------
# One village's page


def _village(client: Client, village, **params) -> str:
    return _get(client, reverse("web:village_bulletin", args=[village.pk]), **params)


def test_village_page_shows_its_row_rank_problems_and_leaflets(world, scenario, evening, login):
    LeafletIssue.objects.create(campaign=scenario.campaign, village=world.qiying, quantity=450,
                                collected_by="王主任", issued_at=shanghai(DAY1, 8))  # fmt: skip
    LeafletIssue.objects.create(campaign=scenario.campaign, village=world.qiying, quantity=10,
                                issued_at=shanghai(DAY2, 20))  # after the page's moment  # fmt: skip
    html = _village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying)

    figures = _text(_section(html, "village-figures"))
    assert "完成率 125.00% 已走访 5 / 任务数 4 户" in figures
    assert "排名 第 1 名 全镇共 2 个村" in figures
    assert "今日走访 1" in figures
    assert "应完成进度 0.52 达到序时进度 · 序时进度 12.90%" in figures
    assert "安全感率 60.00%" in figures
    assert "满意度 100.00%" in figures
    assert "户户必到 62.50%" in figures  # 5 of 8 active households
    problems = _text(_section(html, "village-problems"))
    assert "当日新增 0 件，未办结 0 件（其中超期 0 件），累计已销号 0 件。" in problems
    assert "超期 0" in problems
    leaflets = _section(html, "village-leaflets")
    assert "已领取 450 份，已向 5 户发放。" in _text(leaflets)
    assert _rows(leaflets) == ["2021-10-18 08:00 450 王主任 —"]  # the 20:00 issue is later
    assert "新桥村" not in html


def test_village_page_counts_problems_by_colour(world, documented, login):  # noqa: F811
    with time_machine.travel(DOC_NOW, tick=False):
        html = _village(login(world.users[Role.VILLAGE_ADMIN]), world.qiying)
    problems = _text(_section(html, "village-problems"))
    # 七营村: A reported 10-18, overdue (red); B closed (green).
    assert "未办结 1 件（其中超期 1 件），累计已销号 1 件" in problems
    assert "已销号 1" in problems
    assert "超期 1" in problems
    assert f"?village={world.qiying.pk}&amp;colour=red" in html


def test_village_page_of_a_lagging_village(world, documented, login):  # noqa: F811
    with time_machine.travel(DOC_NOW, tick=False):
        html = _village(login(world.users[Role.TOWN_ADMIN]), world.xinqiao)
    figures = _text(_section(html, "village-figures"))
    assert "完成率 50.00% 已走访 1 / 任务数 2 户" in figures
    assert "排名 第 2 名" in figures
    assert "应完成进度 1.81 滞后" in figures


def test_village_page_queries_are_pinned_live_and_published(
    world, scenario, evening, login, django_assert_num_queries
):
    # Live figures: its own village plus a light rank query (its speed at city scale is
    # measured by bench/dashboard.py, not here).
    client = login(world.users[Role.VILLAGE_ADMIN])
    url = reverse("web:village_bulletin", args=[world.qiying.pk])
    client.get(url)  # warm
    with django_assert_num_queries(18):
        assert client.get(url).status_code == 200

    # Published (the 18:00 job, or the town center): the frozen figures are read.
    _publish(login(world.users[Role.TOWN_ADMIN]), world, DAY2)
    client = login(world.users[Role.VILLAGE_ADMIN])
    with django_assert_num_queries(9):
        assert client.get(url).status_code == 200


def test_village_page_scope(world, scenario, evening, login):
    # a village admin sees their own village, not the next one
    client = login(world.users[Role.VILLAGE_ADMIN])
    assert client.get(reverse("web:village_bulletin", args=[world.xinqiao.pk])).status_code == 404
    # the town's people see every village of it
    client = login(world.users[Role.LEADER])
    assert "完成率 50.00%" in _text(_village(client, world.xinqiao))


def test_village_admin_reaches_the_page_from_their_village_page(world, scenario, evening, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    url = reverse("web:village_bulletin", args=[world.qiying.pk])
    assert f'href="{url}"' in _get(client, reverse("web:village", args=[world.qiying.pk]))
    # the town's dashboard is open to them too (the bulletin circulates to every village);
    # only their own village links to its page
    html = _section(_dashboard(client, world), "table")
    assert _rows(html) == DAY2_ROWS
    assert f'href="{url}?date=2021-10-19"' in html
    assert reverse("web:village_bulletin", args=[world.xinqiao.pk]) not in html


# ---------------------------------------------------------------------------------------------
# Navigation and English


def test_nav_and_town_page_link_to_the_bulletin(world, scenario, evening, login):
    town_url = reverse("web:bulletin", args=[world.town.pk])
    for role in (Role.TOWN_ADMIN, Role.LEADER):
        html = _get(login(world.users[role]), reverse("web:town", args=[world.town.pk]))
        nav = html.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
        assert f'<a href="{town_url}">通报</a>' in nav
        assert html.count(f'href="{town_url}"') == 2  # the nav and the link by the title
    html = _get(
        login(world.users[Role.VILLAGE_ADMIN]), reverse("web:village", args=[world.qiying.pk])
    )
    village_url = reverse("web:village_bulletin", args=[world.qiying.pk])
    assert f'<a href="{village_url}">通报</a>' in html
    county = _get(
        login(world.users[Role.COUNTY_VIEWER]), reverse("web:county", args=[world.county.pk])
    )
    assert ">通报</a>" not in county


def test_dashboard_in_english(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:bulletin", args=[world.town.pk])
    client.post(reverse("set_language"), {"language": "en", "next": url})
    html = client.get(url).content.decode()
    for english in (
        "Daily bulletin",
        "Live figures (not published)",
        "Quota",
        "Completion",
        "Lagging",
        "Total",
        "Publish today's bulletin",
        "Completion by village",
        "Excel workbook",
        "Publicly criticized",
    ):
        assert english in html, english
    assert _rows(_section(html, "table"))[0] == (
        "七营村 4 9 5 1 125.00% 0.52 No 1 5 60.00% 100.00% 0 0 0 0 0 0 0 0 5"
    )
    village = client.get(reverse("web:village_bulletin", args=[world.qiying.pk])).content.decode()
    assert "Rank" in village
    assert "No. 1" in village
    leaflets = client.get(reverse("web:leaflets", args=[world.town.pk])).content.decode()
    assert "Leaflets" in leaflets
    assert "Record an issue" in leaflets


# ---------------------------------------------------------------------------------------------
# Leaflets (宣传资料)


def _leaflets_url(world) -> str:
    return reverse("web:leaflets", args=[world.town.pk])


def test_leaflets_page_lists_issues_per_village_with_totals(world, scenario, evening, login):
    client = login(world.users[Role.TOWN_ADMIN])
    response = client.post(_leaflets_url(world), {"village": world.qiying.pk, "quantity": "450",
                                                   "collected_by": "王主任", "note": "第一批"})  # fmt: skip
    assert response.status_code == 302
    client.post(_leaflets_url(world), {"village": world.xinqiao.pk, "quantity": "577"})
    client.post(_leaflets_url(world), {"village": world.qiying.pk, "quantity": "50"})

    html = _get(client, _leaflets_url(world))
    assert "已登记：七营村 领取宣传资料 450 份。" in html
    totals = _section(html, "leaflet-totals")
    assert _rows(totals) == [
        "七营村 500 2 2021-10-19 18:00",
        "新桥村 577 1 2021-10-19 18:00",
    ]
    assert _rows(totals, "tfoot") == ["合计 1,077 3"]
    assert _rows(_section(html, "leaflet-issues"))[-1] == (
        "2021-10-19 18:00 七营村 450 王主任 第一批 测试用户"
    )
    # the dashboard links here and counts them (the figures count what was issued before
    # the moment they are taken)
    with time_machine.travel(shanghai(DAY2, 18, 5), tick=False):
        dashboard = _dashboard(client, world)
    assert f'href="{_leaflets_url(world)}"' in dashboard
    assert _rows(_section(dashboard, "table"))[0].endswith("0 0 0 0 0 0 0 500 5")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"quantity": "0"}, "数量应在 1 到 100000 份之间。"),
        ({"quantity": "100001"}, "数量应在 1 到 100000 份之间。"),
        ({"quantity": "很多"}, "输入整数。"),
        ({"quantity": ""}, "这个字段是必填项。"),
        ({"village": ""}, "这个字段是必填项。"),
        ({"collected_by": "王" * 65}, "确保该变量包含不超过 64 字符"),
    ],
)
def test_leaflets_form_errors_keep_what_was_typed(world, scenario, evening, login, data, error):
    client = login(world.users[Role.TOWN_ADMIN])
    typed = {"village": str(world.xinqiao.pk), "quantity": "120", "collected_by": "赵主任",
             "note": "补领"} | data  # fmt: skip
    response = client.post(_leaflets_url(world), typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    form = html.split('<section class="card narrow-wide" id="leaflet-form">', 1)[1]
    form = form.split("</section>", 1)[0]
    if typed["village"]:
        assert f'<option value="{world.xinqiao.pk}" selected>新桥村</option>' in form
    assert f'value="{typed["quantity"]}"' in form or not typed["quantity"]
    assert f'value="{typed["collected_by"]}"' in form
    assert 'value="补领"' in form
    assert not LeafletIssue.objects.exists()


@pytest.mark.parametrize("role", [Role.LEADER, Role.COUNTY_VIEWER, Role.UNIT_HANDLER])
def test_leaflets_are_read_by_the_town_and_recorded_by_its_center_only(
    world, scenario, evening, login, role
):
    client = login(world.users[role])
    html = _get(client, _leaflets_url(world))
    assert 'id="leaflet-form"' not in html
    response = client.post(_leaflets_url(world), {"village": world.qiying.pk, "quantity": "5"})
    assert response.status_code == 403
    assert not LeafletIssue.objects.exists()


def test_leaflets_page_without_a_campaign(world, login):
    client = login(world.users[Role.TOWN_ADMIN])
    html = _get(client, _leaflets_url(world))
    assert "本镇尚未设立走访活动，不能登记宣传资料的发放。" in html
    assert 'id="leaflet-form"' not in html
    # and the dashboard says there is nothing yet, without a table
    html = _dashboard(client, world)
    assert "尚未建立“千家万户访平安”活动" in html
    assert 'id="table"' not in html


def test_leaflets_page_query_count(world, scenario, evening, login, django_assert_num_queries):
    client = login(world.users[Role.TOWN_ADMIN])
    for village in (world.qiying, world.xinqiao):
        client.post(_leaflets_url(world), {"village": village.pk, "quantity": "5"})
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(12):
        assert client.get(_leaflets_url(world)).status_code == 200
