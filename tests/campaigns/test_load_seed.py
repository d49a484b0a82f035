"""`pingan load_seed`: the notice's town, exactly, once; and never over somebody else's data."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pingan.accounts.models import Unit
from pingan.campaigns.models import Campaign, Phase, ProblemCategory, RoutingRule, VillageQuota
from pingan.campaigns.services.seed import SEED_FILE, SeedError, seed_read
from pingan.regions.models import Region
from tests.factories import NOTICE_QUOTAS, RegionFactory

pytestmark = pytest.mark.django_db


def load_seed(*args: str) -> str:
    out = io.StringIO()
    call_command("load_seed", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list]:
    """Every row load_seed touches, with `updated_at` where the model has it."""
    return {
        "regions": list(Region.objects.order_by("pk").values_list("pk", "code", "updated_at")),
        "units": list(Unit.objects.order_by("pk").values_list("pk", "name", "kind", "updated_at")),
        "campaigns": list(Campaign.objects.order_by("pk").values()),
        "phases": list(Phase.objects.order_by("pk").values()),
        "quotas": list(VillageQuota.objects.order_by("pk").values()),
        "categories": list(ProblemCategory.objects.order_by("pk").values()),
        "rules": list(RoutingRule.objects.order_by("pk").values()),
    }


def test_loads_the_notice_town_villages_and_quotas():
    output = load_seed()

    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")
    assert [(r.code, r.name) for r in Region.objects.filter(path__in=_ancestor_paths(town))] == [
        ("34", "安徽省"),
        ("3416", "亳州市"),
        ("341623", "利辛县"),
    ]
    villages = list(town.children.order_by("sort_order"))
    assert [v.name for v in villages] == list(NOTICE_QUOTAS)
    assert all(v.kind == Region.Kind.VILLAGE for v in villages)
    assert all(len(v.code) == 12 and v.code.startswith(town.code) for v in villages)
    assert len(town.code) == 9
    assert town.code.startswith("341623")

    campaign = Campaign.objects.get(town=town)
    quotas = dict(campaign.quotas.values_list("village__name", "quota"))
    assert quotas == NOTICE_QUOTAS
    assert sum(quotas.values()) == 11267
    assert "11,267" in output
    assert "已载入" in output


def _ancestor_paths(region: Region) -> list[str]:
    codes = region.path.strip("/").split("/")[:-1]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def test_loads_the_campaign_phases_and_deadline_policy():
    load_seed()

    campaign = Campaign.objects.get()
    assert campaign.name == "汝集镇基层党员干部“千家万户访平安”活动"
    assert (campaign.start_date, campaign.end_date) == (
        dt.date(2021, 10, 10),
        dt.date(2021, 11, 20),
    )
    assert campaign.notice_date == dt.date(2021, 10, 12)
    assert campaign.deadline_basis == Campaign.DeadlineBasis.WORKING_DAYS
    assert (campaign.general_days, campaign.complex_days, campaign.return_days) == (10, 20, 2)
    assert list(
        campaign.phases.order_by("start_date").values_list("kind", "start_date", "end_date")
    ) == [
        ("mobilization", dt.date(2021, 10, 10), dt.date(2021, 10, 15)),
        ("visiting", dt.date(2021, 10, 16), dt.date(2021, 11, 15)),
        ("summary", dt.date(2021, 11, 16), dt.date(2021, 11, 20)),
    ]


def test_loads_the_starting_responsible_units():
    load_seed()

    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")
    units = dict(Unit.objects.filter(region=town).values_list("name", "kind"))
    assert units["镇综治中心"] == Unit.Kind.GOVERNANCE
    assert units["汝集派出所"] == Unit.Kind.POLICE
    assert units["汝集司法所"] == Unit.Kind.JUSTICE
    town_offices = {name for name, kind in units.items() if kind == Unit.Kind.TOWN_OFFICE}
    assert len(town_offices) >= 12
    assert {"党政办公室", "财政所", "汝集镇卫生院", "民政办公室"} <= town_offices


def test_second_run_changes_nothing_and_says_so():
    load_seed()
    before = snapshot()

    output = load_seed()

    assert snapshot() == before
    assert "无变化" in output


def test_adopts_matching_rows_that_already_exist(world):
    # Given the conftest world: 汝集镇 with 七营村, 新桥村 and 汝集派出所, under the seed's codes.
    qiying_pk, police_pk = world.qiying.pk, world.police.pk

    load_seed()

    assert Region.objects.get(name="七营村", parent=world.town).pk == qiying_pk
    assert Unit.objects.get(region=world.town, name="汝集派出所").pk == police_pk
    assert world.town.children.count() == 16
    assert load_seed().startswith("无变化")


@pytest.mark.parametrize(
    ("county_code", "town_code"),
    [
        pytest.param("341621", "341621105", id="another-county-another-code"),
        pytest.param("341623", "341623199", id="same-county-another-code"),
        pytest.param("341621", "341623101", id="another-county-the-seed-code"),
    ],
)
def test_a_different_town_with_the_same_name_stops_without_changes(county_code, town_code):
    # Given a 汝集镇 that is not the seed's (another code, or the seed's code somewhere else).
    province = RegionFactory(kind="province", code="34", name="安徽省", parent=None)
    city = RegionFactory(kind="city", code="3416", name="亳州市", parent=province)
    RegionFactory(kind="county", code="341623", name="利辛县", parent=city)
    RegionFactory(kind="county", code="341621", name="涡阳县", parent=city)
    county = Region.objects.get(code=county_code)
    RegionFactory(kind="town", code=town_code, name="汝集镇", parent=county)
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        load_seed()

    message = str(caught.value)
    assert "未做任何修改" in message
    assert "汝集镇" in message
    assert county.name in message
    assert snapshot() == before
    assert not Campaign.objects.exists()
    assert not Unit.objects.exists()


def test_a_quota_edited_in_the_database_is_reported_not_overwritten():
    load_seed()
    VillageQuota.objects.filter(village__name="七营村").update(quota=460)
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        load_seed()

    message = str(caught.value)
    assert "七营村走访任务数：库中为 460，种子数据为 450" in message
    assert "--update" in message
    assert snapshot() == before

    output = load_seed("--update")

    assert VillageQuota.objects.get(village__name="七营村").quota == 450
    assert "已更新：七营村走访任务数：460 → 450" in output
    assert load_seed().startswith("无变化")


def test_a_seed_file_whose_quotas_do_not_add_up_is_refused(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text(
        SEED_FILE.read_text(encoding="utf-8").replace("quota = 450", "quota = 451"),
        encoding="utf-8",
    )

    with pytest.raises(SeedError, match="11268"):
        seed_read(broken)
    with pytest.raises(CommandError, match="11267"):
        load_seed("--file", str(broken))
    assert not Region.objects.exists()


def test_the_bundled_seed_file_matches_the_notice():
    seed = seed_read()

    assert {v.name: v.quota for v in seed.villages} == NOTICE_QUOTAS
    assert [v.name for v in seed.villages] == list(NOTICE_QUOTAS)
    assert seed.campaign.quota_total == 11267


def test_the_campaign_uses_the_default_questionnaire_version_1():
    load_seed()
    campaign = Campaign.objects.get()
    assert (campaign.questionnaire.code, campaign.questionnaire.version) == ("default", 1)
    assert campaign.questionnaire.questions.count() == 16
    assert "无变化" in load_seed()


# --- categories and routing rules ------------------------------------------------------------

DEFAULT_CATEGORIES = [
    "治安", "扫黑除恶", "矛盾纠纷", "安全隐患", "基础设施", "反诈宣传", "政法机关服务", "平安建设",
    "其他",
]  # fmt: skip


def test_gives_the_town_its_default_categories_and_routing_rules():
    output = load_seed()

    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")
    categories = ProblemCategory.objects.filter(town=town).order_by("sort_order")
    assert [c.name for c in categories] == DEFAULT_CATEGORIES
    assert all(c.active for c in categories)
    # every category a questionnaire answer can carry is on the list
    from pingan.surveys.models import Option, Question

    answer_categories = set(
        Question.objects.exclude(kind="text").values_list("category", flat=True)
    )
    answer_categories |= set(Option.objects.exclude(category="").values_list("category", flat=True))
    assert answer_categories - {""} <= set(DEFAULT_CATEGORIES)

    rules = {
        (rule.category, rule.unit.name)
        for rule in RoutingRule.objects.filter(town=town, active=True).select_related("unit")
    }
    assert rules == {
        ("扫黑除恶", "汝集派出所"),
        ("反诈宣传", "汝集派出所"),
        ("治安", "汝集派出所"),
        ("矛盾纠纷", "汝集司法所"),
        ("安全隐患", "应急管理办公室"),
        ("基础设施", "城建办公室"),
    }
    assert "问题类别 9 个" in output
    assert "派单规则 6 条" in output


@pytest.mark.parametrize(
    ("words", "category", "unit"),
    [
        ("村里有人聚众赌博", "治安", "汝集派出所"),
        ("晚上经常有人打牌赌钱", "治安", "汝集派出所"),
        ("村口路灯坏了", "基础设施", "城建办公室"),
        ("和邻居因为宅基地吵架", "矛盾纠纷", "汝集司法所"),
        ("接到诈骗电话", "反诈宣传", "汝集派出所"),
        ("电信网络诈骗", "反诈宣传", "汝集派出所"),  # the questionnaire's option
        ("黑恶势力", "扫黑除恶", "汝集派出所"),
        ("池塘边没有护栏，孩子容易溺水", "安全隐患", "应急管理办公室"),
        ("电线老化", "安全隐患", "应急管理办公室"),
    ],
)
def test_the_default_rules_route_common_words(words, category, unit):
    from pingan.ledger.routing import TownIndex, route

    load_seed()
    town = Region.objects.get(kind=Region.Kind.TOWN, name="汝集镇")

    found, found_unit, _why = route(TownIndex(town, problems=[]), words, "")

    assert (found, found_unit.name if found_unit else None) == (category, unit)


def test_the_town_centers_edits_survive_another_load(world):
    # Given the seed loaded, then the town center renamed, deactivated and reordered
    # categories, changed a rule and deleted another
    load_seed()
    town = world.town
    ProblemCategory.objects.filter(town=town, name="其他").update(name="其它", sort_order=1)
    ProblemCategory.objects.filter(town=town, name="平安建设").update(active=False)
    RoutingRule.objects.filter(town=town, category="治安").update(keywords="赌博", priority=5)
    RoutingRule.objects.filter(town=town, category="基础设施").delete()
    before = snapshot()

    output = load_seed()
    updated = load_seed("--update")

    assert snapshot() == before
    assert output.startswith("无变化")
    assert updated.startswith("无变化")
    assert not ProblemCategory.objects.filter(town=town, name="其他").exists()


def test_a_town_that_already_keeps_categories_gets_no_defaults(world):
    ProblemCategory.objects.create(town=world.town, name="治安防范", sort_order=1)

    load_seed()

    assert list(ProblemCategory.objects.filter(town=world.town).values_list("name", flat=True)) == [
        "治安防范"
    ]
    assert not RoutingRule.objects.filter(town=world.town).exists()


def test_a_seed_rule_naming_an_unknown_category_is_refused(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text(
        SEED_FILE.read_text(encoding="utf-8").replace('category = "基础设施"', 'category = "道路"'),
        encoding="utf-8",
    )

    with pytest.raises(SeedError, match="类别“道路”不在类别表中"):
        seed_read(broken)
