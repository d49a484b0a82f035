"""登记 (来电来访): a phone call or walk-in recorded as a concern waiting for triage — the
household found by name, address or phone tail within the caller's scope, the town's
category list, the same form sent twice recording one concern — and the concern's page."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.campaigns.models import ProblemCategory
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.regions.models import Household
from pingan.visits.models import Concern, ConcernItem
from tests.factories import make_household, make_user

SHANGHAI = clock.SHANGHAI
CALLED_AT = dt.datetime(2021, 10, 21, 14, 0, tzinfo=SHANGHAI)
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def called():
    with time_machine.travel(CALLED_AT, tick=False):
        yield


@pytest.fixture
def categories(world):
    for order, name in enumerate(("治安", "基础设施", "矛盾纠纷"), start=1):
        ProblemCategory.objects.create(town=world.town, name=name, sort_order=order)
    ProblemCategory.objects.create(town=world.town, name="旧类别", sort_order=9, active=False)
    ProblemCategory.objects.create(town=world.other_town, name="外镇类别", sort_order=1)


def _html(response) -> str:
    return response.content.decode()


def _radios(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="household" value="(\d+)"', html)


def _post(client, **data):
    payload = {"source": "phone", "submission": KEY, "q": "", **data}
    return client.post(reverse("web:problem_new"), payload)


# --- the form --------------------------------------------------------------------------------


def test_the_form_offers_the_towns_categories_and_both_sources(world, field, categories, login):
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(reverse("web:problem_new")))
    category = html[
        html.index('name="category"') : html.index("</select>", html.index('name="category"'))
    ]
    assert re.findall(r'<option value="([^"]*)"', category) == ["", "治安", "基础设施", "矛盾纠纷"]
    assert "来电" in html
    assert "来访" in html
    assert 'value="phone"' in html
    assert 'value="walk_in"' in html
    assert 'value="visit"' not in html
    assert re.search(r'name="submission" value="[0-9a-f]{32}"', html)
    # free text is gone: no datalist, no text input for the category
    assert "<datalist" not in html


def test_search_finds_by_name_address_or_phone_tail_in_scope(world, field, login):
    # Given households in 七营村 (the field's) and one in 新桥村 and one in the other town
    zhang = make_household(world.qiying, head_name="张德明", address="七营村东街8号",
                           phone="13812347788")  # fmt: skip
    xinqiao = make_household(world.xinqiao, head_name="张德华", address="新桥村南头3号",
                             phone="13912347788")  # fmt: skip
    faraway = make_household(world.faraway, head_name="张德福", phone="13712347788")
    merged = make_household(world.qiying, head_name="张德旧", phone="13612347788",
                            status=Household.Status.MERGED, merged_into=zhang)  # fmt: skip
    town = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:problem_new")

    assert set(_radios(_html(town.get(url, {"q": "张德"})))) == {str(zhang.pk), str(xinqiao.pk)}
    assert _radios(_html(town.get(url, {"q": "东街"}))) == [str(zhang.pk)]
    assert set(_radios(_html(town.get(url, {"q": "7788"})))) == {str(zhang.pk), str(xinqiao.pk)}
    assert _radios(_html(town.get(url, {"q": "1234"}))) == []  # not the last four
    village = login(world.users[Role.VILLAGE_ADMIN])
    html = _html(village.get(url, {"q": "张德"}))
    assert _radios(html) == [str(zhang.pk)]
    # masked names only; what was searched stays in the box
    assert "张德明" not in html
    assert "张**" in html
    assert "138****7788" in html
    assert 'value="张德"' in html
    assert str(faraway.pk) not in _radios(html)
    assert str(merged.pk) not in _radios(html)
    assert "没有找到与“无此人”相符的住户" in _html(town.get(url, {"q": "无此人"}))


def test_search_lists_twenty_and_says_there_are_more(world, field, login):
    for n in range(21):
        make_household(world.xinqiao, head_name=f"刘{n}", address=f"刘庄{n}号")
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(reverse("web:problem_new"), {"q": "刘庄"}))
    assert len(_radios(html)) == 20
    assert "只列出前 20 户" in html


def test_a_phone_call_for_a_household_becomes_a_concern_waiting_for_triage(
    world, field, categories, login, called
):
    household = field.households[0]
    client = login(world.users[Role.TOWN_ADMIN])

    response = _post(
        client, household=household.pk, category="基础设施", text="  村口路灯坏了半个月  ",
        caller_name="王小明", callback_phone="13900001234", q=household.head_name,
    )  # fmt: skip

    concern = Concern.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("web:intake_concern", args=[concern.pk])
    assert (concern.source, concern.household, concern.village, concern.category) == (
        Concern.Source.PHONE, household, world.qiying, "基础设施",
    )  # fmt: skip
    assert concern.text == "村口路灯坏了半个月"
    assert concern.cadre == field.cadre  # the household's visiting cadre takes the answer back
    assert concern.outcome == ""
    assert (concern.caller_name_masked, concern.phone_masked) == ("王**", "139****1234")
    assert "13900001234" not in concern.phone_ciphertext
    assert not Problem.objects.exists()  # triage decides what becomes a problem
    assert ConcernItem.objects.get(concern=concern).text == "村口路灯坏了半个月"

    html = _html(client.get(response.url))
    assert f"群众反映 #{concern.pk}" in html
    assert "待梳理" in html
    assert "已登记群众反映" in html  # the message
    assert "139****1234" in html
    assert "王**" in html
    assert "13900001234" not in html
    assert "王小明" not in html
    assert household.head_name not in html
    assert f'href="{reverse("web:problem_new")}"' in html  # report another


def test_a_walk_in_about_a_village_without_a_household(world, field, categories, login, called):
    client = login(world.users[Role.VILLAGE_ADMIN])
    response = _post(client, source="walk_in", village=world.qiying.pk, text="村里晚上有人聚众赌博")
    concern = Concern.objects.get()
    assert response.status_code == 302
    assert (concern.source, concern.village, concern.household, concern.cadre) == (
        Concern.Source.WALK_IN, world.qiying, None, None,
    )  # fmt: skip
    assert concern.category == ""  # left for triage


def test_a_refused_form_keeps_everything_typed(world, field, categories, login, called):
    household = field.households[0]
    client = login(world.users[Role.TOWN_ADMIN])

    response = _post(
        client, household=household.pk, q=household.address, category="治安", text="   ",
        caller_name="李四", callback_phone="12345",
    )  # fmt: skip

    assert response.status_code == 422
    html = _html(response)
    assert "请填写反映的内容" in html
    assert f'value="{household.pk}" checked' in html  # the search result, still chosen
    assert '<option value="治安" selected>' in html
    assert 'value="李四"' in html
    assert f'name="submission" value="{KEY}"' in html  # the same key: sending again is fine
    assert not Concern.objects.exists()

    response = _post(client, household=household.pk, category="治安", text="有人打牌赌钱",
                     callback_phone="12345")  # fmt: skip
    assert response.status_code == 422
    assert "手机号" in _html(response)  # the service's message about the callback number
    assert not Concern.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"village": ""}, "请选择村（社区）"),
        ({"category": "旧类别"}, "类别“旧类别”不在本镇在用的类别中"),  # deactivated
        ({"category": "自由填写"}, "类别“自由填写”不在本镇在用的类别中"),
        ({"source": "visit"}, "来源只能是来电或来访"),
    ],
)
def test_wrong_choices_are_refused(world, field, categories, login, called, data, message):
    client = login(world.users[Role.TOWN_ADMIN])
    response = _post(client, **{"text": "有人打牌", "village": world.xinqiao.pk, **data})
    assert response.status_code == 422
    assert message in _html(response)
    assert not Concern.objects.exists()


def test_a_household_outside_the_scope_is_refused(world, field, categories, login, called):
    xinqiao = make_household(world.xinqiao)
    far = make_household(world.faraway)
    client = login(world.users[Role.VILLAGE_ADMIN])  # 七营村
    for household in (xinqiao, far):
        response = _post(client, household=household.pk, text="门前排水沟堵塞")
        assert response.status_code == 422
        assert "住户不存在或不在您的管辖范围内" in _html(response)
        assert "门前排水沟堵塞" in _html(response)
    assert not Concern.objects.exists()


@pytest.mark.parametrize("role", [Role.CADRE, Role.UNIT_HANDLER, Role.LEADER, Role.COUNTY_VIEWER])
def test_the_form_is_for_the_town_and_village_admins(world, login, role):
    client = login(world.users[role])
    assert client.get(reverse("web:problem_new")).status_code == 403
    assert client.post(reverse("web:problem_new"), {"text": "x"}).status_code == 403


# --- sent twice, recorded once ---------------------------------------------------------------


def test_the_same_form_sent_twice_records_one_concern(world, field, categories, login, called):
    client = login(world.users[Role.TOWN_ADMIN])
    data = {"household": field.households[0].pk, "text": "邻居家狗夜里乱叫"}

    first = _post(client, **data)
    second = _post(client, **data)

    concern = Concern.objects.get()
    assert first.url == second.url == reverse("web:intake_concern", args=[concern.pk])
    assert "已经提交过" in _html(client.get(second.url))


def test_sent_again_after_the_cache_was_lost_is_still_one(world, field, categories, login):
    # Given the form was sent once (another process answered it, or the cache was cleared)
    client = login(world.users[Role.TOWN_ADMIN])
    data = {"household": field.households[0].pk, "text": "邻居家狗夜里乱叫"}
    with time_machine.travel(CALLED_AT, tick=False):
        _post(client, **data)
    cache.clear()

    # When it comes again within 10 minutes, even with another key, it is the same report
    with time_machine.travel(CALLED_AT + dt.timedelta(minutes=9), tick=False):
        again = _post(client, **{**data, "submission": "f" * 32})
    assert Concern.objects.count() == 1
    assert again.url == reverse("web:intake_concern", args=[Concern.objects.get().pk])

    # After 10 minutes the same words are a new call
    with time_machine.travel(CALLED_AT + dt.timedelta(minutes=11), tick=False):
        _post(client, **{**data, "submission": "e" * 32})
    assert Concern.objects.count() == 2


def test_a_new_key_with_other_words_or_another_household_is_a_new_concern(
    world, field, categories, login, called
):
    client = login(world.users[Role.TOWN_ADMIN])
    _post(client, household=field.households[0].pk, text="邻居家狗夜里乱叫")
    _post(client, household=field.households[1].pk, text="邻居家狗夜里乱叫", submission="a" * 32)
    _post(client, household=field.households[0].pk, text="路灯不亮", submission="b" * 32)
    assert Concern.objects.count() == 3


def test_two_admins_reporting_the_same_words_are_two_concerns(
    world, field, categories, login, called
):
    other_admin = make_user(Role.TOWN_ADMIN, world.town, username="town2")
    data = {"household": field.households[0].pk, "text": "邻居家狗夜里乱叫"}
    _post(login(world.users[Role.TOWN_ADMIN]), **data)
    _post(login(other_admin), **data)
    assert Concern.objects.count() == 2


# --- the concern's page ----------------------------------------------------------------------


def test_the_concern_page_is_scoped(world, field, categories, login, called):
    client = login(world.users[Role.TOWN_ADMIN])
    _post(client, village=world.xinqiao.pk, text="新桥村的路坏了")
    concern = Concern.objects.get()
    url = reverse("web:intake_concern", args=[concern.pk])
    assert login(world.users[Role.LEADER]).get(url).status_code == 200
    assert login(world.users[Role.VILLAGE_ADMIN]).get(url).status_code == 404  # 七营村
    assert login(world.users[Role.UNIT_HANDLER]).get(url).status_code == 404
    outsider = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    assert login(outsider).get(url).status_code == 404
    assert (
        login(world.users[Role.TOWN_ADMIN])
        .get(reverse("web:intake_concern", args=[999_999]))
        .status_code
        == 404
    )


def test_form_query_count(world, field, categories, login, django_assert_num_queries):
    for n in range(5):
        make_household(world.qiying, head_name=f"赵{n}", address=f"赵庄{n}号")
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, the user's region, the header's to-do counts, villages, categories,
    # the search
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(8):
        response = client.get(reverse("web:problem_new"), {"q": "赵庄"})
    assert len(_radios(_html(response))) == 5


# --- 问题类别 and 派单规则 (the town center's lists) --------------------------------------------


@pytest.fixture
def rules(world, categories):
    from pingan.campaigns.models import RoutingRule

    return [
        RoutingRule.objects.create(town=world.town, keywords="赌博、打牌", category="治安",
                                   unit=world.police, priority=10),
        RoutingRule.objects.create(town=world.town, keywords="路灯、道路", category="基础设施",
                                   priority=20),
    ]  # fmt: skip


def _category(world, name: str) -> ProblemCategory:
    return ProblemCategory.objects.get(town=world.town, name=name)


def _category_names(world) -> list[str]:
    return list(
        ProblemCategory.objects.filter(town=world.town)
        .order_by("sort_order", "name")
        .values_list("name", flat=True)
    )


def test_the_town_center_keeps_its_categories(world, categories, rules, login):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:categories")

    html = _html(client.get(url))
    assert "外镇类别" not in html
    assert (
        html.index('value="治安"') < html.index('value="基础设施"') < html.index('value="矛盾纠纷"')
    )
    assert "已停用" in html  # 旧类别
    assert f'href="{url}"' in _html(client.get(reverse("web:ledger")))  # linked from the ledger

    response = client.post(url, {"op": "add", "name": "安全隐患"})
    assert response.status_code == 302
    assert "已添加类别“安全隐患”" in _html(client.get(response.url))
    disputes = _category(world, "矛盾纠纷")
    client.post(url, {"op": "up", "category_id": disputes.pk})
    client.post(url, {"op": "rename", "category_id": disputes.pk, "name": "邻里纠纷"})
    assert _category_names(world) == ["治安", "邻里纠纷", "基础设施", "旧类别", "安全隐患"]
    client.post(url, {"op": "activate", "category_id": _category(world, "旧类别").pk})
    client.post(url, {"op": "deactivate", "category_id": _category(world, "安全隐患").pk})
    assert not _category(world, "安全隐患").active
    assert _category(world, "旧类别").active


def test_a_refused_category_change_says_why_and_keeps_the_text(world, field, categories, rules,
                                                               login, called):  # fmt: skip
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:categories")

    response = client.post(url, {"op": "add", "name": "治安"})
    assert response.status_code == 422
    assert "本镇已有类别“治安”" in _html(response)
    assert 'value="治安" required' in _html(response) or 'required value="治安"' in _html(response)

    security = _category(world, "治安")
    response = client.post(url, {"op": "rename", "category_id": security.pk, "name": "基础设施"})
    assert response.status_code == 422
    assert "本镇已有类别“基础设施”" in _html(response)

    response = client.post(url, {"op": "deactivate", "category_id": security.pk})
    assert response.status_code == 422
    assert "有 1 条在用的派单规则指向类别“治安”" in _html(response)

    # a category a concern recorded is never deleted, only deactivated
    _post(client, village=world.qiying.pk, category="矛盾纠纷", text="邻居吵架")
    response = client.post(url, {"op": "delete", "category_id": _category(world, "矛盾纠纷").pk})
    assert response.status_code == 422
    assert "已有群众反映或问题在用，不能删除，只能停用" in _html(response)

    response = client.post(url, {"op": "delete", "category_id": _category(world, "旧类别").pk})
    assert response.status_code == 302
    assert "旧类别" not in _category_names(world)

    assert client.post(url, {"op": "nonsense"}).status_code == 422
    assert (
        client.post(url, {"op": "rename", "category_id": 999_999, "name": "x"}).status_code == 404
    )


def test_the_town_center_keeps_its_routing_rules(world, categories, rules, login):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:routing_rules")

    html = _html(client.get(url))
    assert html.index("赌博、打牌") < html.index("路灯、道路")
    assert "汝集派出所" in html

    response = client.post(url, {"keywords": "吵架，纠纷 邻居", "category": "矛盾纠纷",
                                 "unit": world.police.pk, "priority": "30", "active": "on"})  # fmt: skip
    assert response.status_code == 302
    from pingan.campaigns.models import RoutingRule

    added = RoutingRule.objects.get(category="矛盾纠纷")
    assert (added.keywords, added.unit, added.priority, added.active) == (
        "吵架、纠纷、邻居", world.police, 30, True,
    )  # fmt: skip

    edit = _html(client.get(url, {"edit": rules[1].pk}))
    assert f'name="rule_id" value="{rules[1].pk}"' in edit
    assert 'value="路灯、道路"' in edit
    response = client.post(url, {"rule_id": rules[1].pk, "keywords": "路灯", "category": "基础设施",
                                 "unit": "", "priority": "5"})  # fmt: skip
    assert response.status_code == 302
    rules[1].refresh_from_db()
    assert (rules[1].keywords, rules[1].priority, rules[1].active) == ("路灯", 5, False)

    response = client.post(url, {"op": "delete", "rule_id": added.pk})
    assert response.status_code == 302
    assert not RoutingRule.objects.filter(pk=added.pk).exists()


def test_a_refused_rule_says_why_and_keeps_the_input(world, categories, rules, login):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:routing_rules")
    response = client.post(url, {"keywords": "噪音、装修", "category": "旧类别", "unit": "",
                                 "priority": "1", "active": "on"})  # fmt: skip
    assert response.status_code == 422
    html = _html(response)
    assert "类别“旧类别”已停用" in html
    assert 'value="噪音、装修"' in html
    response = client.post(url, {"keywords": "噪音", "category": "治安", "priority": "0"})
    assert response.status_code == 422
    assert "优先级应为 1 到 999 的整数" in _html(response)
    assert client.post(url, {"op": "delete", "rule_id": "999999"}).status_code == 404


def test_try_it_shows_which_rule_a_text_hits(world, categories, rules, login):
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:routing_rules")

    html = _html(client.get(url, {"sample": "晚上有人在村口打牌赌钱"}))
    assert "命中优先级 10 的规则" in html
    assert "关键词“打牌”→ 类别“治安” → 汝集派出所" in html
    assert f'id="rule-{rules[0].pk}" class="hit"' in html
    assert 'value="晚上有人在村口打牌赌钱"' in html

    html = _html(client.get(url, {"sample": "家里老人想办低保"}))
    assert "没有匹配的派单规则" in html


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_only_the_town_center_opens_the_lists(world, categories, rules, login, role):
    client = login(world.users[role])
    for name in ("web:categories", "web:routing_rules"):
        assert client.get(reverse(name)).status_code == 403
        assert client.post(reverse(name), {"op": "add", "name": "其他"}).status_code == 403
    assert client.post(reverse("web:routing_rules"), {"op": "delete", "rule_id": rules[0].pk}
                       ).status_code == 403  # fmt: skip
    assert "其他" not in _category_names(world)
    assert f'href="{reverse("web:categories")}"' not in _html(client.get(reverse("web:ledger")))


def test_the_lists_query_counts(world, categories, rules, login, django_assert_num_queries):
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, the user's region, the header's to-do counts, categories with their
    # rule counts
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(6):
        client.get(reverse("web:categories"))
    # session, user, the user's region, the header's to-do counts, the rules with their units,
    # the categories and units of the form, the active rules for 试一试
    with django_assert_num_queries(8):
        client.get(reverse("web:routing_rules"), {"sample": "打牌"})


# --- photos and files with the 登记 --------------------------------------------------------------


def test_photos_and_files_come_with_the_report(world, field, categories, login, called, settings):
    from pingan.ledger.models import Attachment
    from tests.ledger.test_attachments import fresh_storage, pdf_bytes, small_photo, upload

    fresh_storage(settings)
    client = login(world.users[Role.TOWN_ADMIN])
    response = _post(
        client, household=field.households[0].pk, text="门前电线杆倾斜",
        files=[upload("电线杆.jpg", small_photo()), upload("说明.pdf", pdf_bytes())],
    )  # fmt: skip

    concern = Concern.objects.get()
    assert response.status_code == 302
    attached = list(Attachment.objects.filter(concern=concern).order_by("id"))
    assert [(a.name, a.kind) for a in attached] == [("电线杆.jpg", "image"), ("说明.pdf", "file")]
    html = _html(client.get(response.url))
    for attachment in attached:
        assert reverse("web:attachment", args=[attachment.pk]) in html

    # the same 登记 sent again attaches nothing more
    _post(client, household=field.households[0].pk, text="门前电线杆倾斜",
          files=[upload("又一张.jpg", small_photo())])  # fmt: skip
    assert Attachment.objects.count() == 2


def test_a_refused_file_means_no_concern_either(world, field, categories, login, called, settings):
    from tests.ledger.test_attachments import fresh_storage, stored_names, upload

    storage = fresh_storage(settings)
    client = login(world.users[Role.TOWN_ADMIN])
    response = _post(client, household=field.households[0].pk, text="门前电线杆倾斜",
                     files=[upload("照片.pdf", b"not a pdf at all")])  # fmt: skip
    assert response.status_code == 422
    html = _html(response)
    assert "反映尚未登记，请重新选择文件后再提交" in html
    assert "「照片.pdf」" in html
    assert "门前电线杆倾斜" in html
    assert not Concern.objects.exists()
    assert stored_names(storage) == set()
