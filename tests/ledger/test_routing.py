"""Triage suggestions (`ledger.routing`): similar open problems ranked by hand-written texts,
the score's parts, routing rules, and the suggested outcome with its reason."""

import pytest

from pingan.campaigns.models import RoutingRule
from pingan.ledger.routing import (
    MERGE_AT,
    OpenProblem,
    TownIndex,
    candidates_for,
    route,
    suggest,
)
from pingan.visits.models import Concern, ConcernItem

pytestmark = pytest.mark.django_db

OPEN_PROBLEMS = (
    ("村口路灯不亮", "基础设施"),
    ("有人聚众赌博", "治安"),
    ("邻居宅基地纠纷多年未解决", "矛盾纠纷"),
    ("电动车电瓶夜里被盗", "治安"),
    ("坑塘边没有护栏", "安全隐患"),
)


def _index(world, problems=OPEN_PROBLEMS, village=None) -> TownIndex:
    village = village or world.qiying
    return TownIndex(
        world.town,
        problems=[
            OpenProblem(n + 1, f"P{n + 1}", text, village.pk, category, "dispatched", 1)
            for n, (text, category) in enumerate(problems)
        ],
    )


@pytest.mark.parametrize(
    ("words", "category", "best"),
    [
        ("村口路灯坏了", "", "村口路灯不亮"),
        ("打牌赌钱", "", "有人聚众赌博"),
        ("打牌赌钱", "治安", "有人聚众赌博"),  # the rule's category for 赌钱 keeps it first
        ("夜里电瓶被偷", "", "电动车电瓶夜里被盗"),
        ("邻居为宅基地吵架", "", "邻居宅基地纠纷多年未解决"),
        ("村东头有人聚众赌博", "治安", "有人聚众赌博"),
    ],
)
def test_the_similar_problem_ranks_first(world, words, category, best):
    found = candidates_for(_index(world), words=words, village_id=world.qiying.pk,
                           category=category)  # fmt: skip
    assert found[0].description == best
    assert all(found[0].score > other.score for other in found[1:])


def test_the_street_light_is_not_matched_to_the_gambling(world):
    found = candidates_for(_index(world), words="村口路灯坏了", village_id=world.qiying.pk,
                           category="")  # fmt: skip
    scores = {c.description: c.score for c in found}
    assert scores["村口路灯不亮"] > scores.get("有人聚众赌博", 0.0)
    assert found[0].text_score > 60


def test_the_score_is_70_percent_text_plus_category_plus_place(world):
    # The same words, category and village: 0.7 × 100 + 15 + 15 = 100.
    [same] = candidates_for(_index(world, (("村口路灯不亮", "基础设施"),)), words="村口路灯不亮",
                            village_id=world.qiying.pk, category="基础设施")  # fmt: skip
    assert (same.score, same.text_score) == (100.0, 100.0)
    # Another category and a village with no known centre (not a neighbour): 70 only.
    [far] = candidates_for(_index(world, (("村口路灯不亮", "治安"),), village=world.xinqiao),
                           words="村口路灯不亮", village_id=world.qiying.pk,
                           category="基础设施")  # fmt: skip
    assert far.score == 70.0


def test_routing_rules_by_priority_then_the_first_keyword_found(world):
    RoutingRule.objects.create(town=world.town, keywords="赌博、赌钱 打牌", category="治安",
                               unit=world.police, priority=10)  # fmt: skip
    RoutingRule.objects.create(town=world.town, keywords="打牌", category="文明新风", priority=20)
    RoutingRule.objects.create(town=world.town, keywords="赌钱", category="停用的", priority=1,
                               active=False)  # fmt: skip
    index = TownIndex(world.town, problems=[])

    category, unit, why = route(index, "晚上有人打牌赌钱", fallback="其他")

    assert (category, unit) == ("治安", world.police)
    assert "赌钱" in why or "打牌" in why
    assert route(index, "路灯坏了", fallback="其他") == ("其他", None, "没有匹配的派单规则")


def _concern(world, field, *items: ConcernItem) -> tuple[Concern, list[ConcernItem]]:
    household = field.households[0]
    concern = Concern(campaign=field.campaign, village=household.village, household=household,
                      source=Concern.Source.PHONE)  # fmt: skip
    return concern, list(items)


def test_only_feelings_suggest_thought_work(world, field):
    concern, items = _concern(
        world, field, ConcernItem(kind="answer", text="安全感　回答：不安全", feeling=True)
    )
    hint = suggest(concern, items, _index(world))
    assert hint.outcome == Concern.Outcome.TALK
    assert "思想工作" in hint.reason


def test_a_close_match_suggests_merging_and_a_new_matter_filing(world, field):
    index = _index(world)
    concern, items = _concern(world, field, ConcernItem(kind="matter", text="村东头有人聚众赌博",
                                                        category="治安"))  # fmt: skip
    merge = suggest(concern, items, index)
    assert merge.outcome == Concern.Outcome.MERGE
    assert merge.candidates[0].code == "P2"
    assert merge.candidates[0].score >= MERGE_AT
    assert "P2" in merge.reason

    concern, items = _concern(world, field, ConcernItem(kind="matter", text="家门口水沟堵了",
                                                        category=""))  # fmt: skip
    new = suggest(concern, items, index)
    assert new.outcome == Concern.Outcome.FILE
    assert new.reason.startswith("新问题")
