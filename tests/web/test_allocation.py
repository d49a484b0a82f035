"""The allocation page (分片包干) and the coverage figures on the village and town pages."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from pingan.accounts.models import Person, Role
from pingan.campaigns.models import Assignment
from pingan.campaigns.services.allocation import allocation_run
from pingan.regions.models import Household
from tests.factories import make_campaign, make_household, make_person, make_user

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def at(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def qiying(world):
    """七营村 with 24 households in 3 groups and 4 cadres, in the town's campaign."""
    campaign = make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    for group in (1, 2, 3):
        for no in range(1, 9):
            make_household(world.qiying, group_no=group, address=f"七营村{group}组{no}号")
    for name in ("甲", "乙", "丙", "丁"):
        make_person(world.qiying, name=name)
    world.campaign = campaign
    return world


def url(name: str, world, village=None) -> str:
    return reverse(name, args=[(village or world.qiying).pk])


# ---------------------------------------------------------------------------------------------
# Who may open it


ALLOCATION_ACCESS = {
    Role.TOWN_ADMIN: 200,
    Role.VILLAGE_ADMIN: 200,
    Role.LEADER: 403,
    Role.CADRE: 403,
    Role.UNIT_HANDLER: 403,
    Role.COUNTY_VIEWER: 403,
}


@pytest.mark.parametrize("role", list(Role))
def test_allocation_page_by_role(qiying, login, role):
    response = login(qiying.users[role]).get(url("web:allocation", qiying))
    assert response.status_code == ALLOCATION_ACCESS[role]


@pytest.mark.parametrize("role", list(Role))
def test_actions_by_role(qiying, login, role):
    client = login(qiying.users[role])
    response = client.post(url("web:allocation_apply", qiying))
    if ALLOCATION_ACCESS[role] == 200:
        assert response.status_code == 302
        assert Assignment.objects.count() == 24
    else:
        assert response.status_code == 403
        assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("role", "village"),
    [(Role.VILLAGE_ADMIN, "xinqiao"), (Role.TOWN_ADMIN, "faraway"), (Role.LEADER, "faraway")],
)
def test_outside_the_scope_is_not_found(qiying, login, role, village):
    client = login(qiying.users[role])
    target = getattr(qiying, village)
    for name in ("web:allocation", "web:allocation_apply"):
        method = client.get if name == "web:allocation" else client.post
        assert method(url(name, qiying, target)).status_code == 404


def test_anonymous_is_sent_to_login(qiying, client):
    response = client.get(url("web:allocation", qiying))
    assert response.status_code == 302
    assert response.url.startswith(reverse("web:login"))


def test_actions_need_post(qiying, login):
    client = login(qiying.users[Role.VILLAGE_ADMIN])
    assert client.get(url("web:allocation_apply", qiying)).status_code == 405


# ---------------------------------------------------------------------------------------------
# What it shows and does


def test_page_shows_coverage_preview_and_applies_it(qiying, login):
    client = login(qiying.users[Role.VILLAGE_ADMIN])

    page = client.get(url("web:allocation", qiying))

    text = _text(page.content.decode())
    assert "尚有 24 户未分配到走访干部" in text
    assert "七营村：在住 24 户，走访干部 4 名；未分配 24 → 0 户，调整 0 户，新分配 24 户。" in text
    assert "按预览重新分配" in text
    assert not Assignment.objects.exists()  # the preview writes nothing

    response = client.post(url("web:allocation_apply", qiying), follow=True)

    text = _text(response.content.decode())
    assert "新分配 24 户" in text
    assert "尚有" not in text
    assert "现有分配已是最新，无需调整。" in text
    assert Assignment.objects.filter(ended_at__isnull=True).count() == 24
    assert {c.assigned_households for c in response.context["cadres"]} == {6}


def test_preview_lists_what_would_move(qiying, login):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    make_person(qiying.qiying, name="戊")  # a fifth cadre arrives

    response = login(qiying.users[Role.TOWN_ADMIN]).get(url("web:allocation", qiying))

    preview = response.context["preview"]
    assert preview.moved > 0
    html = response.content.decode()
    assert f"查看将变动的 {preview.moved} 户" in html
    assert "→ 戊" in html


def test_assign_by_hand_lock_and_unlock(qiying, login):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    client = login(qiying.users[Role.VILLAGE_ADMIN])
    household = Household.objects.get(address="七营村1组1号")
    cadre = Person.objects.get(name="丁")

    response = client.post(
        url("web:allocation_assign", qiying),
        {"household": household.pk, "cadre": cadre.pk, "locked": "1", "back": "group=1&x=y"},
    )

    assert response.status_code == 302
    assert response.url == url("web:allocation", qiying) + "?group=1"  # known filters only
    row = Assignment.objects.get(household=household, ended_at__isnull=True)
    assert (row.cadre, row.locked, row.source) == (cadre, True, "manual")
    page = client.get(response.url)
    assert "已将“七营村1组1号”分给丁（已锁定）。" in page.content.decode()
    assert "已锁定" in _text(page.content.decode())

    client.post(url("web:allocation_unlock", qiying), {"household": household.pk})

    row = Assignment.objects.get(household=household, ended_at__isnull=True)
    assert (row.cadre, row.locked) == (cadre, False)
    assert Assignment.objects.filter(household=household).count() == 3  # history kept


def test_assign_refuses_a_cadre_of_another_village(qiying, login):
    outsider = make_person(qiying.xinqiao, name="新桥干部")
    household = Household.objects.get(address="七营村1组1号")
    response = login(qiying.users[Role.VILLAGE_ADMIN]).post(
        url("web:allocation_assign", qiying),
        {"household": household.pk, "cadre": outsider.pk, "locked": "1"},
        follow=True,
    )
    assert "请选择本村在岗的走访干部。" in response.content.decode()
    assert not Assignment.objects.exists()


def test_assign_a_household_of_another_village_is_not_found(qiying, login):
    elsewhere = make_household(qiying.xinqiao)
    response = login(qiying.users[Role.TOWN_ADMIN]).post(
        url("web:allocation_assign", qiying),
        {"household": elsewhere.pk, "cadre": Person.objects.get(name="甲").pk},
    )
    assert response.status_code == 404


def test_handover_from_the_page(qiying, login):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    leaving, successor = Person.objects.get(name="甲"), Person.objects.get(name="乙")
    client = login(qiying.users[Role.TOWN_ADMIN])

    response = client.post(
        url("web:allocation_handover", qiying),
        {"cadre": leaving.pk, "to_cadre": successor.pk},
        follow=True,
    )

    assert "甲已离岗，6 户已交接。" in response.content.decode()
    leaving.refresh_from_db()
    assert not leaving.active
    assert Assignment.objects.filter(cadre=successor, ended_at__isnull=True).count() == 12
    assert Assignment.objects.filter(cadre=leaving, ended_at__isnull=False).count() == 6


def test_handover_to_oneself_is_refused(qiying, login):
    cadre = Person.objects.get(name="甲")
    response = login(qiying.users[Role.TOWN_ADMIN]).post(
        url("web:allocation_handover", qiying),
        {"cadre": cadre.pk, "to_cadre": cadre.pk},
        follow=True,
    )
    assert "接手的干部不能是离岗干部本人。" in response.content.decode()
    assert Person.objects.get(pk=cadre.pk).active


def test_filters(qiying, login):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    Assignment.objects.filter(household__address="七营村3组8号").update(
        ended_at=dt.datetime.now(dt.UTC)
    )
    client = login(qiying.users[Role.VILLAGE_ADMIN])
    cadre = Person.objects.get(name="甲")

    by_group = client.get(url("web:allocation", qiying), {"group": 2}).context["page"]
    by_cadre = client.get(url("web:allocation", qiying), {"cadre": cadre.pk}).context["page"]
    unassigned = client.get(url("web:allocation", qiying), {"unassigned": "1"}).context["page"]

    assert {h.group_no for h in by_group.object_list} == {2}
    assert {h.cadre_id_now for h in by_cadre.object_list} == {cadre.pk}
    assert [h.address for h in unassigned.object_list] == ["七营村3组8号"]


def test_without_a_campaign(world, login):
    make_household(world.qiying)
    response = login(world.users[Role.VILLAGE_ADMIN]).get(url("web:allocation", world))
    assert response.status_code == 200
    assert "本镇尚未设立走访活动，无法分片包干。" in response.content.decode()
    response = login(world.users[Role.VILLAGE_ADMIN]).post(
        url("web:allocation_apply", world), follow=True
    )
    assert "本镇尚未设立走访活动，无法分片包干。" in response.content.decode()


def test_allocation_page_in_english(qiying, login):
    client = login(qiying.users[Role.TOWN_ADMIN])
    target = url("web:allocation", qiying)
    client.post(reverse("set_language"), {"language": "en", "next": target})

    text = _text(client.get(target).content.decode())

    for english in (
        "24 households have no visiting cadre yet",
        "Allocation preview",
        "七营村: 24 occupied households, 4 cadres; unassigned 24 → 0, 0 moved, 24 newly assigned.",
        "Allocate as previewed",
        "Hand over a leaving cadre",
        "Unassigned only",
    ):
        assert english in text, english


def test_allocation_page_query_count(qiying, login, django_assert_num_queries):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    for n in range(40):
        make_household(qiying.qiying, group_no=4, address=f"七营村4组{n}号")
    for n in range(6):
        make_person(qiying.qiying, name=f"新干部{n}")
    client = login(qiying.users[Role.TOWN_ADMIN])
    with django_assert_num_queries(18):  # +1: the header's unread-message count
        response = client.get(url("web:allocation", qiying))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    assert len(response.context["cadres"]) == 10


# ---------------------------------------------------------------------------------------------
# The village and town pages


def test_village_page_warns_before_the_visiting_phase_until_all_are_assigned(qiying, login):
    client = login(qiying.users[Role.VILLAGE_ADMIN])
    with at(dt.date(2021, 10, 12)):
        html = client.get(url("web:village", qiying)).content.decode()
    text = _text(html)
    assert "尚有 24 户未分配到走访干部" in text
    assert "须在走访整改阶段开始（2021-10-16）前全部分配。" in text
    assert 'role="alert"' in html
    assert url("web:allocation", qiying) in html

    with at(dt.date(2021, 10, 18)):
        text = _text(client.get(url("web:village", qiying)).content.decode())
    assert "走访整改阶段已经开始，请尽快分配。" in text

    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    with at(dt.date(2021, 10, 12)):
        text = _text(client.get(url("web:village", qiying)).content.decode())
    assert "未分配到走访干部" not in text
    assert "已分配 24 未分配 0" in text
    assert text.count("负责 6 户") == 4


def test_village_page_query_count_with_coverage(qiying, login, django_assert_num_queries):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    for n in range(30):
        make_household(qiying.qiying, group_no=5, address=f"七营村5组{n}号")  # unassigned
    for n in range(5):
        make_person(qiying.qiying, name=f"干部{n}")
    client = login(qiying.users[Role.VILLAGE_ADMIN])
    with django_assert_num_queries(13):  # +1: the header's unread-message count
        response = client.get(url("web:village", qiying))
    assert "尚有 30 户未分配到走访干部" in _text(response.content.decode())


def test_village_page_link_only_for_those_who_allocate(qiying, login):
    link = url("web:allocation", qiying)
    for role in (Role.LEADER, Role.COUNTY_VIEWER, Role.CADRE, Role.UNIT_HANDLER):
        html = login(qiying.users[role]).get(url("web:village", qiying)).content.decode()
        assert link not in html, role


def test_town_page_has_assigned_and_unassigned_per_village(qiying, login):
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    make_household(qiying.xinqiao)

    response = login(qiying.users[Role.LEADER]).get(reverse("web:town", args=[qiying.town.pk]))

    html = response.content.decode()
    assert "已分配" in html
    assert "未分配" in html
    rows = {
        v.name: (v.assigned_households, v.unassigned_households)
        for v in response.context["villages"]
    }
    assert rows == {"七营村": (24, 0), "新桥村": (0, 1)}
    assert response.context["coverage"] == {
        "active_households": 25,
        "assigned_households": 24,
        "unassigned_households": 1,
    }


def test_cadre_gets_a_colleague_free_village_page(qiying, login):
    """A cadre's village page lists the households assigned to them, none of a colleague's."""
    me = Person.objects.get(name="甲")
    me.user = qiying.users[Role.CADRE]
    me.save(update_fields=["user"])
    colleague_user = make_user(Role.CADRE, qiying.qiying)
    Person.objects.filter(name="乙").update(user=colleague_user)
    allocation_run(campaign=qiying.campaign, village=qiying.qiying, actor=None)
    mine = set(
        Assignment.objects.filter(cadre=me, ended_at__isnull=True).values_list(
            "household__address", flat=True
        )
    )

    response = login(qiying.users[Role.CADRE]).get(url("web:village", qiying))

    shown = {h.address for h in response.context["page"].object_list}
    assert shown == mine
    assert len(shown) == 6
    assert "以下是分给您走访的住户" in response.content.decode()
