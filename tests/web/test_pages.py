"""What the town overview, village page and county page show, and how many queries they take."""

import re

import pytest
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.regions.models import Household, Region
from tests.factories import (
    NOTICE_QUOTAS,
    RegionFactory,
    make_campaign,
    make_household,
    make_person,
    make_user,
    valid_id_number,
)


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _notice_town(world) -> dict[str, Region]:
    """The world's town grown to the notice's 16 villages, with the notice's campaign."""
    villages = {"七营村": world.qiying, "新桥村": world.xinqiao}
    for order, name in enumerate(NOTICE_QUOTAS, start=1):
        if name not in villages:
            villages[name] = RegionFactory(
                kind="village", name=name, code=f"341623101{300 + order}", parent=world.town
            )
        Region.objects.filter(pk=villages[name].pk).update(sort_order=order)
    make_campaign(world.town, {villages[name]: quota for name, quota in NOTICE_QUOTAS.items()})
    return villages


def test_town_overview_lists_villages_with_figures(world, login):
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577}, name="汝集镇访平安")
    make_household(world.qiying)
    make_household(world.qiying, status=Household.Status.VACANT)
    make_household(world.xinqiao)
    make_person(world.qiying, name="李四")

    response = login(world.users[Role.TOWN_ADMIN]).get(reverse("web:town", args=[world.town.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "汝集镇访平安" in html
    assert "2021-10-10" in html
    assert "走访整改阶段" in html
    rows = [_text(row) for row in _rows(html)]
    # ... 在住户数, 党员干部数, 已分配, 未分配 (nobody is assigned yet)
    assert rows == [" 七营村 450 2 1 1 0 1 ", " 新桥村 577 1 1 0 0 1 "]
    totals = _text(html.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0])
    assert "1,027" in totals
    assert "合计（2 个村）" in totals


def test_town_overview_of_the_notice_sums_to_11267(world, login):
    _notice_town(world)
    response = login(world.users[Role.LEADER]).get(reverse("web:town", args=[world.town.pk]))
    html = response.content.decode()
    rows = _rows(html)
    assert len(rows) == 16
    assert [re.search(r'">([^<>]+)</a>', row).group(1) for row in rows] == list(NOTICE_QUOTAS)
    assert "11,267" in html.split("<tfoot>", 1)[1]
    assert "1,063" in html  # 汝园村, with its thousands separator


def test_seed_town_overview_as_town_admin(db, client):
    from django.core.management import call_command

    call_command("load_seed", verbosity=0)
    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")
    admin = make_user(Role.TOWN_ADMIN, town, username="seed-town-admin")
    client.force_login(admin)

    response = client.get(reverse("web:home"), follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("web:town", args=[town.pk])
    assert len(_rows(html)) == 16
    assert "11,267" in html


def test_town_overview_without_campaign(world, login):
    response = login(world.users[Role.TOWN_ADMIN]).get(reverse("web:town", args=[world.town.pk]))
    assert response.status_code == 200
    assert "本镇尚未设立走访活动" in response.content.decode()


def test_town_overview_query_count_does_not_grow_with_villages(
    world, login, django_assert_num_queries
):
    villages = _notice_town(world)
    for village in villages.values():
        make_household(village)
        make_person(village, name=f"{village.name}干部")
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:town", args=[world.town.pk])
    # 15: the coverage totals (已分配/未分配) are one more aggregate query; 16: so are the
    # progress totals (走访进度; tests/web/test_progress_pages.py pins a town with visits).
    # +1: the header's unread-message count (now its to-do and unread counts, one query)
    # +1: the ledger summary at the top (待梳理, 待交办, 超期, 临期, 延期: one query)
    with django_assert_num_queries(17):
        response = client.get(url)
    assert len(_rows(response.content.decode())) == 16


def test_village_page_query_count(world, login, django_assert_num_queries):
    make_campaign(world.town, {world.qiying: 450})
    for n in range(60):
        make_household(world.qiying, group_no=1 + n % 4, tags=["留守老人"])
    for n in range(5):
        make_person(world.qiying, name=f"干部{n}")
    client = login(world.users[Role.VILLAGE_ADMIN])
    url = reverse("web:village", args=[world.qiying.pk])
    with django_assert_num_queries(13):  # +1: the header's unread-message count
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50


def test_village_page_shows_quota_groups_and_cadres(world, login):
    make_campaign(world.town, {world.qiying: 450})
    make_household(world.qiying, group_no=1)
    make_household(world.qiying, group_no=1)
    make_household(world.qiying, group_no=2, status=Household.Status.VACANT)
    make_household(world.qiying, group_no=None)
    make_person(world.qiying, name="周建国", phone="13955556666")

    response = login(world.users[Role.VILLAGE_ADMIN]).get(
        reverse("web:village", args=[world.qiying.pk])
    )

    html = response.content.decode()
    text = _text(html)
    assert "450" in text
    groups = {(g["group_no"], g["households"], g["active"]) for g in response.context["groups"]}
    assert groups == {(1, 2, 2), (2, 1, 0), (None, 1, 1)}
    assert "第 1 组" in text
    assert "未分组" in text
    assert "周建国" in html  # cadres are staff: full name
    assert "139****6666" in html
    assert "13955556666" not in html


def test_village_page_paginates_households(world, login):
    for _ in range(51):
        make_household(world.qiying)
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:village", args=[world.qiying.pk])
    first = client.get(url)
    second = client.get(url, {"page": 2})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "第 1 / 2 页" in first.content.decode()
    # the pager keeps the page's other parameters (one pager partial for every list)
    kept = client.get(url, {"revisit_page": 1}).content.decode()
    assert 'href="?revisit_page=1&amp;page=2"' in kept


def test_household_list_is_masked(world, login):
    id_number = valid_id_number(42)
    make_household(world.qiying, head_name="张三丰", phone="13812345678", id_number=id_number)

    html = (
        login(world.users[Role.TOWN_ADMIN])
        .get(reverse("web:village", args=[world.qiying.pk]))
        .content.decode()
    )

    assert "张**" in html
    assert "138****5678" in html
    assert f"341***********{id_number[-4:]}" in html
    assert "张三丰" not in html
    assert "13812345678" not in html
    assert id_number not in html


def test_cadre_sees_no_households_yet(world, login):
    make_household(world.qiying, head_name="赵大")
    html = (
        login(world.users[Role.CADRE])
        .get(reverse("web:village", args=[world.qiying.pk]))
        .content.decode()
    )
    assert "分片包干分配完成后" in html
    assert "赵*" not in html
    assert 'class="households"' not in html


def test_unit_handler_does_not_read_the_roster(world, login):
    make_household(world.qiying, head_name="赵大")
    html = (
        login(world.users[Role.UNIT_HANDLER])
        .get(reverse("web:village", args=[world.qiying.pk]))
        .content.decode()
    )
    assert "您的角色不查看花名册" in html
    assert "赵*" not in html


def test_county_page_lists_its_towns(world, login, django_assert_num_queries):
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    make_campaign(world.other_town, {world.faraway: 300})
    make_household(world.qiying)
    make_person(world.xinqiao)
    second_town = RegionFactory(kind="town", code="341623102", name="城关镇", parent=world.county)
    client = login(world.users[Role.COUNTY_VIEWER])
    with django_assert_num_queries(8):  # +1: the header's unread-message count
        response = client.get(reverse("web:county", args=[world.county.pk]))
    rows = {
        t.name: (t.village_count, t.quota, t.roster_households, t.cadre_count)
        for t in response.context["towns"]
    }
    assert rows == {"汝集镇": (2, 1027, 1, 1), second_town.name: (0, 0, 0, 0)}
    assert "1,027" in response.content.decode()
    assert "义门镇" not in response.content.decode()


def test_county_page_counts_the_latest_campaign_only(world, login):
    import datetime as dt

    make_campaign(world.town, {world.qiying: 100}, name="去年", start_date=dt.date(2020, 10, 1))
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    response = login(world.users[Role.COUNTY_VIEWER]).get(
        reverse("web:county", args=[world.county.pk])
    )
    assert [t.quota for t in response.context["towns"]] == [1027]


@pytest.mark.parametrize(
    ("synthetic", "shown"),
    [(True, True), (False, False)],
)
def test_synthetic_banner(world, login, synthetic, shown):
    make_household(world.qiying, synthetic=synthetic)
    client = login(world.users[Role.TOWN_ADMIN])
    for url in (
        reverse("web:town", args=[world.town.pk]),
        reverse("web:village", args=[world.qiying.pk]),
    ):
        html = client.get(url).content.decode()
        assert ("演示数据（合成）— 非真实群众信息" in html) is shown, url


def test_synthetic_banner_is_about_the_site_not_the_page(world, login):
    """Synthetic data anywhere on the site: every page says so, even a village without any
    (tests/web/test_banner_everywhere.py walks every page)."""
    make_household(world.xinqiao, synthetic=True)
    html = (
        login(world.users[Role.VILLAGE_ADMIN])
        .get(reverse("web:village", args=[world.qiying.pk]))
        .content.decode()
    )
    assert "演示数据（合成）" in html


def test_header_shows_name_role_and_scope(world, login):
    html = (
        login(world.users[Role.VILLAGE_ADMIN])
        .get(reverse("web:village", args=[world.qiying.pk]))
        .content.decode()
    )
    header = html.split("</header>", 1)[0]
    assert "测试用户" in header
    assert "村管理员" in header
    assert "七营村" in header
    assert "千家万户访平安" in header
