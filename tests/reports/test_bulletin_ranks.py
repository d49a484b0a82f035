"""Ranks and pace in the bulletin, against figures worked out by hand.

汝集镇's campaign on 2021-10-19, the 4th day of the 31-day visiting phase (10-16..11-15):

| village | quota | reached | completion | expected (4 ÷ 31 × quota) | lagging | rank |
|---------|-------|---------|------------|---------------------------|---------|------|
| 甲村    | 4     | 4       | 100.00     | 0.52                      | no      | 1    |
| 乙村    | 4     | 2       | 50.00      | 0.52                      | no      | 2    |
| 丙村    | 2     | 1       | 50.00      | 0.26                      | no      | 2    |
| 丁村    | 31    | 4       | 12.90      | 4.00: reached exactly on pace | no  | 4    |
| 戊村    | 62    | 7       | 11.29      | 8.00                      | yes     | 5    |
| 己村    | none  | 3       | —          | 0.00                      | no      | —    |

Equal completion shares a rank and the next one skips (1, 2, 2, 4, not 1, 2, 2, 3); a village
with no quota is not ranked; a village is lagging only when it reached fewer than expected.
"""

import datetime as dt
import uuid

import pytest

from pingan.accounts.models import Role
from pingan.campaigns.models import Campaign
from pingan.reports.figures import bulletin_figures, village_bulletin_figures
from pingan.visits.models import Visit
from tests.factories import RegionFactory, make_campaign, make_household, make_person

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2021, 10, 19)
LATER = dt.datetime(2021, 10, 25, 9, 0, tzinfo=SHANGHAI)
VILLAGES = {  # name: (quota or None, households reached)
    "甲村": (4, 4),
    "乙村": (4, 2),
    "丙村": (2, 1),
    "丁村": (31, 4),
    "戊村": (62, 7),
    "己村": (None, 3),
}


def reach(campaign: Campaign, village, count: int, submitter) -> None:
    cadre = make_person(village, name=f"{village.name}干部")
    ended = dt.datetime.combine(DAY, dt.time(10), tzinfo=SHANGHAI)
    for n in range(count):
        Visit.objects.create(
            uuid=uuid.uuid4(), payload_digest="x", campaign=campaign,
            household=make_household(village, address=f"{village.name}{n}号"), village=village,
            cadre=cadre, submitted_by=submitter, outcome=Visit.Outcome.REFUSED, counts=True,
            started_at=ended - dt.timedelta(minutes=5), ended_at=ended, received_at=ended,
        )  # fmt: skip


@pytest.fixture
def town(world):
    villages = {
        name: RegionFactory(kind="village", name=name, parent=world.town, sort_order=n)
        for n, name in enumerate(VILLAGES)
    }
    campaign = make_campaign(
        world.town,
        {villages[name]: quota for name, (quota, _) in VILLAGES.items() if quota is not None},
    )
    for name, (_, reached) in VILLAGES.items():
        reach(campaign, villages[name], reached, world.users[Role.TOWN_ADMIN])
    return villages


def test_ties_share_a_rank_and_the_next_skips_no_quota_is_unranked_pace_is_exact(world, town):
    result = bulletin_figures(town=world.town, day=DAY, now=LATER)
    rows = {row["name"]: row for row in result["villages"] if row["name"] in VILLAGES}
    assert {
        name: (row["completion_pct"], row["expected_households"], row["lagging"], row["rank"])
        for name, row in rows.items()
    } == {
        "甲村": ("100.00", "0.52", False, 1),
        "乙村": ("50.00", "0.52", False, 2),
        "丙村": ("50.00", "0.26", False, 2),
        "丁村": ("12.90", "4.00", False, 4),
        "戊村": ("11.29", "8.00", True, 5),
        "己村": (None, "0.00", False, None),
    }


@pytest.mark.parametrize("name", list(VILLAGES))
def test_a_villages_own_page_shows_the_same_rank(world, town, name):
    """The village page counts only its own village plus a light rank query; its rank must
    be the one the town's bulletin gives."""
    town_rows = {
        r["name"]: r for r in bulletin_figures(town=world.town, day=DAY, now=LATER)["villages"]
    }
    [own] = village_bulletin_figures(village=town[name], day=DAY, now=LATER)["villages"]
    assert (own["rank"], own["lagging"]) == (town_rows[name]["rank"], town_rows[name]["lagging"])
