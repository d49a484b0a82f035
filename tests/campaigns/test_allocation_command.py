"""`pingan allocate`: every village of the seed town by default, one village, or a dry run."""

import io

import pytest
from django.core.management import CommandError, call_command

from pingan.campaigns.models import Assignment
from tests.factories import make_campaign, make_household, make_person


def allocate(*args: str) -> str:
    out = io.StringIO()
    call_command("allocate", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def town(world):
    """七营村 with 10 households and 3 cadres, 新桥村 with 4 households and no cadre."""
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    for no in range(1, 11):
        make_household(world.qiying, group_no=1 + no // 6, address=f"七营村{no}号")
    for no in range(1, 5):
        make_household(world.xinqiao, group_no=1, address=f"新桥村{no}号")
    for name in ("甲", "乙", "丙"):
        make_person(world.qiying, name=name)
    return world


def test_allocates_every_village_of_the_seed_town(town):
    output = allocate()

    assert "七营村：在住 10 户，走访干部 3 名，每人 3～4 户；未分配 10 → 0 户" in output
    assert "新桥村：在住 4 户，走访干部 0 名；未分配 4 → 4 户" in output
    assert "新桥村没有在岗的走访干部，无法分配。" in output
    assert "合计 2 个村：在住 14 户，调整 0 户，新分配 10 户，仍未分配 4 户。" in output
    assert Assignment.objects.filter(ended_at__isnull=True).count() == 10


def test_running_again_moves_nothing(town):
    allocate()
    output = allocate("--village", "七营村")
    assert "未分配 0 → 0 户，调整 0 户，新分配 0 户" in output
    assert Assignment.objects.count() == 10


def test_dry_run_writes_nothing(town):
    output = allocate("--dry-run", "--town", "汝集镇")
    assert "（预览，未保存）" in output
    assert not Assignment.objects.exists()


def test_per_cadre_lines_at_higher_verbosity(town):
    output = allocate("--village", town.qiying.code, "-v", "2")
    lines = [line.strip() for line in output.splitlines() if "→" in line and "：" in line]
    assert sorted(lines[1:]) == ["丙：0 → 3 户", "乙：0 → 3 户", "甲：0 → 4 户"]


def test_unknown_village_or_town(town):
    with pytest.raises(CommandError, match="找不到汝集镇村（社区）“远方村”"):
        allocate("--village", "远方村")  # it is in another town
    with pytest.raises(CommandError, match="找不到乡镇“不存在镇”"):
        allocate("--town", "不存在镇")


def test_a_town_without_campaign(world):
    with pytest.raises(CommandError, match="义门镇尚未设立走访活动"):
        allocate("--town", "义门镇")
