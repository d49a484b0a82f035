"""The town center's categories (问题类别) and routing rules (派单规则): add, rename, reorder,
deactivate, delete only what nothing uses; rules with their keywords, category, unit and
priority; only the town center, only its own town, every refusal in Chinese."""

import pytest
from django.http import Http404

from pingan.accounts.models import Role, Unit
from pingan.campaigns.models import ProblemCategory, RoutingRule
from pingan.campaigns.selectors import category_list, routing_rule_list
from pingan.campaigns.services.categories import (
    CategoryError,
    CategoryForbidden,
    category_create,
    category_delete,
    category_move,
    category_rename,
    category_set_active,
    keywords_parse,
    routing_rule_delete,
    routing_rule_save,
)
from pingan.ledger.routing import TownIndex, route
from tests.factories import UnitFactory, make_user


def _unused(*, town, name) -> int:
    return 0


def _names(town) -> list[str]:
    return list(category_list(town=town).values_list("name", flat=True))


@pytest.fixture
def admin(world):
    return world.users[Role.TOWN_ADMIN]


@pytest.fixture
def listed(world, admin):
    """治安, 基础设施, 矛盾纠纷 in that order, and a rule for 治安."""
    made = [category_create(actor=admin, name=name) for name in ("治安", "基础设施", "矛盾纠纷")]
    routing_rule_save(
        actor=admin, keywords="赌博、打牌", category="治安", unit_id=world.police.pk, priority=10
    )
    return made


# --- categories ------------------------------------------------------------------------------


def test_categories_are_added_at_the_end_and_listed_in_order(world, admin, listed):
    category_create(actor=admin, name="  其他  ")
    assert _names(world.town) == ["治安", "基础设施", "矛盾纠纷", "其他"]
    counts = {c.name: c.rule_count for c in category_list(town=world.town)}
    assert counts == {"治安": 1, "基础设施": 0, "矛盾纠纷": 0, "其他": 0}


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "请填写类别名称"), ("治安", "本镇已有类别“治安”"), ("长" * 41, "不能超过 40 字")],
)
def test_a_bad_name_is_refused(world, admin, listed, name, message):
    with pytest.raises(CategoryError, match=message) as refused:
        category_create(actor=admin, name=name)
    assert refused.value.field == "name"
    assert len(_names(world.town)) == 3


def test_the_same_name_in_another_town_is_fine(world, listed):
    other = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    category_create(actor=other, name="治安")
    assert _names(world.other_town) == ["治安"]


def test_renaming_takes_the_rules_along_and_keeps_the_records(world, admin, listed):
    [security, *_] = listed
    category_rename(actor=admin, category_id=security.pk, name="社会治安")
    assert _names(world.town)[0] == "社会治安"
    assert RoutingRule.objects.get().category == "社会治安"
    with pytest.raises(CategoryError, match="本镇已有类别“基础设施”"):
        category_rename(actor=admin, category_id=security.pk, name="基础设施")


def test_reordering_moves_one_place_and_stops_at_the_ends(world, admin, listed):
    security, infrastructure, disputes = listed
    category_move(actor=admin, category_id=disputes.pk, offset=-1)
    assert _names(world.town) == ["治安", "矛盾纠纷", "基础设施"]
    category_move(actor=admin, category_id=security.pk, offset=-1)  # already first
    category_move(actor=admin, category_id=infrastructure.pk, offset=1)  # already last
    assert _names(world.town) == ["治安", "矛盾纠纷", "基础设施"]
    category_move(actor=admin, category_id=security.pk, offset=1)
    assert _names(world.town) == ["矛盾纠纷", "治安", "基础设施"]
    assert list(category_list(town=world.town).values_list("sort_order", flat=True)) == [1, 2, 3]


def test_a_deactivated_category_is_no_longer_offered(world, admin, listed):
    from pingan.visits.concerns import category_names

    _, infrastructure, _ = listed
    category_set_active(actor=admin, category_id=infrastructure.pk, active=False)
    assert category_names(town=world.town) == ["治安", "矛盾纠纷"]
    assert "基础设施" in _names(world.town)  # still listed for the town center
    category_set_active(actor=admin, category_id=infrastructure.pk, active=True)
    assert category_names(town=world.town) == ["治安", "基础设施", "矛盾纠纷"]


def test_a_category_with_active_rules_stays_active(world, admin, listed):
    security = listed[0]
    with pytest.raises(CategoryError, match="有 1 条在用的派单规则指向类别“治安”"):
        category_set_active(actor=admin, category_id=security.pk, active=False)
    rule = RoutingRule.objects.get()
    routing_rule_save(
        actor=admin, rule_id=rule.pk, keywords=rule.keywords, category="治安", unit_id=None,
        priority=10, active=False,
    )  # fmt: skip
    category_set_active(actor=admin, category_id=security.pk, active=False)
    assert not ProblemCategory.objects.get(pk=security.pk).active


def test_only_a_category_nothing_uses_is_deleted(world, admin, listed):
    security, infrastructure, disputes = listed
    with pytest.raises(CategoryError, match="有 1 条派单规则指向类别“治安”，不能删除"):
        category_delete(actor=admin, category_id=security.pk, recorded_uses=_unused)

    def recorded(*, town, name) -> int:
        assert town == world.town
        return 1 if name == "基础设施" else 0

    with pytest.raises(CategoryError, match="已有群众反映或问题在用，不能删除，只能停用"):
        category_delete(actor=admin, category_id=infrastructure.pk, recorded_uses=recorded)
    assert (
        category_delete(actor=admin, category_id=disputes.pk, recorded_uses=recorded) == "矛盾纠纷"
    )
    assert _names(world.town) == ["治安", "基础设施"]


@pytest.mark.parametrize("role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER,
                                  Role.COUNTY_VIEWER])  # fmt: skip
def test_only_the_town_center_keeps_the_lists(world, listed, role):
    user = world.users[role]
    security = listed[0]
    for attempt in (
        lambda: category_create(actor=user, name="其他"),
        lambda: category_rename(actor=user, category_id=security.pk, name="其他"),
        lambda: category_move(actor=user, category_id=security.pk, offset=1),
        lambda: category_set_active(actor=user, category_id=security.pk, active=False),
        lambda: category_delete(actor=user, category_id=security.pk, recorded_uses=_unused),
        lambda: routing_rule_save(
            actor=user, keywords="偷", category="治安", unit_id=None, priority=1
        ),
        lambda: routing_rule_delete(actor=user, rule_id=RoutingRule.objects.get().pk),
    ):
        with pytest.raises(CategoryForbidden, match="只有镇综治中心可以维护"):
            attempt()
    assert _names(world.town) == ["治安", "基础设施", "矛盾纠纷"]
    assert RoutingRule.objects.count() == 1


def test_another_towns_category_or_rule_is_not_found(world, listed):
    other = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    security = listed[0]
    rule = RoutingRule.objects.get()
    with pytest.raises(Http404):
        category_rename(actor=other, category_id=security.pk, name="其他")
    with pytest.raises(Http404):
        category_delete(actor=other, category_id=security.pk, recorded_uses=_unused)
    with pytest.raises(Http404):
        routing_rule_delete(actor=other, rule_id=rule.pk)
    category_create(actor=other, name="治安")
    with pytest.raises(Http404):
        routing_rule_save(actor=other, rule_id=rule.pk, keywords="偷", category="治安",
                          unit_id=None, priority=1)  # fmt: skip
    assert RoutingRule.objects.get().keywords == "赌博、打牌"


# --- routing rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("赌博,打牌，赌钱、聚赌 斗殴;打架", ["赌博", "打牌", "赌钱", "聚赌", "斗殴", "打架"]),
        ("路灯、、路灯 ,", ["路灯"]),
        ("  ", []),
    ],
)
def test_keywords_are_split_on_commas_and_the_chinese_comma(text, words):
    assert keywords_parse(text) == words


def test_a_rule_is_saved_and_routing_uses_it(world, admin, listed):
    rule = routing_rule_save(
        actor=admin, keywords="路灯, 道路，坑洼", category="基础设施", unit_id=None, priority=20
    )
    assert rule.keywords == "路灯、道路、坑洼"
    assert rule.keyword_list() == ["路灯", "道路", "坑洼"]
    assert [r.pk for r in routing_rule_list(town=world.town)][-1] == rule.pk
    category, unit, _why = route(TownIndex(world.town, problems=[]), "门口道路有坑洼", "")
    assert (category, unit) == ("基础设施", None)

    # a lower priority number is tried first
    routing_rule_save(actor=admin, rule_id=rule.pk, keywords="打牌", category="矛盾纠纷",
                      unit_id=None, priority=5)  # fmt: skip
    category, unit, _why = route(TownIndex(world.town, problems=[]), "晚上有人打牌", "")
    assert category == "矛盾纠纷"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"keywords": " 、 ,"}, "keywords", "请填写至少一个关键词"),
        ({"keywords": "一" * 21}, "keywords", "太长，每个关键词不超过 20 字"),
        (
            {"keywords": "、".join(f"词{n:03d}" for n in range(120))},
            "keywords",
            "合计不能超过 500 字",
        ),
        ({"category": ""}, "category", "请选择类别"),
        ({"category": "噪音"}, "category", "类别“噪音”不在本镇的类别表中"),
        ({"priority": 0}, "priority", "优先级应为 1 到 999 的整数"),
        ({"priority": 1000}, "priority", "优先级应为 1 到 999 的整数"),
        ({"priority": None}, "priority", "优先级应为 1 到 999 的整数"),
    ],
)
def test_a_bad_rule_is_refused_in_chinese(world, admin, listed, change, field, message):
    rule = {"keywords": "偷", "category": "治安", "unit_id": None, "priority": 1, **change}
    with pytest.raises(CategoryError, match=message) as refused:
        routing_rule_save(actor=admin, **rule)
    assert refused.value.field == field
    assert RoutingRule.objects.count() == 1


def test_a_rule_needs_an_active_unit_of_the_town_and_an_active_category(world, admin, listed):
    other_unit = UnitFactory(region=world.other_town, name="义门派出所", kind=Unit.Kind.POLICE)
    closed = UnitFactory(region=world.town, name="已撤销所", active=False)
    for unit in (other_unit, closed):
        with pytest.raises(CategoryError, match="责任单位不存在、已停用或不在本镇"):
            routing_rule_save(actor=admin, keywords="偷", category="治安", unit_id=unit.pk,
                              priority=1)  # fmt: skip
    infrastructure = listed[1]
    category_set_active(actor=admin, category_id=infrastructure.pk, active=False)
    with pytest.raises(CategoryError, match="类别“基础设施”已停用"):
        routing_rule_save(actor=admin, keywords="路灯", category="基础设施", unit_id=None,
                          priority=1)  # fmt: skip
    # an inactive rule may name it
    routing_rule_save(actor=admin, keywords="路灯", category="基础设施", unit_id=None,
                      priority=1, active=False)  # fmt: skip
    assert RoutingRule.objects.count() == 2


def test_an_inactive_rule_is_not_tried(world, admin, listed):
    rule = RoutingRule.objects.get()
    routing_rule_save(actor=admin, rule_id=rule.pk, keywords=rule.keywords, category="治安",
                      unit_id=world.police.pk, priority=10, active=False)  # fmt: skip
    assert route(TownIndex(world.town, problems=[]), "打牌", "其他")[0] == "其他"
    routing_rule_delete(actor=admin, rule_id=rule.pk)
    assert not RoutingRule.objects.exists()
