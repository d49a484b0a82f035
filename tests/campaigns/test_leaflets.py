"""宣传资料: `leaflet_issue_record` — only the town center of the village's town records an
issue, 1..100,000 copies, in the town's current campaign; what it records is what the
bulletin counts."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from pingan.accounts.models import Role
from pingan.campaigns.models import LeafletIssue
from pingan.campaigns.services.leaflets import LeafletIssueError, leaflet_issue_record
from pingan.core import clock
from pingan.reports.figures import bulletin_figures
from tests.factories import make_campaign, make_user

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MORNING = dt.datetime(2021, 10, 16, 9, tzinfo=SHANGHAI)


@pytest.fixture
def campaign(world):
    return make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})


def test_the_town_center_records_an_issue(world, campaign):
    center = world.users[Role.TOWN_ADMIN]
    with clock.at(MORNING):
        issue = leaflet_issue_record(actor=center, village=world.qiying, quantity=450,
                                     collected_by="  王主任 ", note="第一批")  # fmt: skip

    issue.refresh_from_db()
    assert (issue.campaign, issue.village, issue.quantity) == (campaign, world.qiying, 450)
    assert (issue.collected_by, issue.note, issue.issued_by) == ("王主任", "第一批", center)
    assert issue.issued_at == MORNING


def test_the_bulletin_counts_what_was_recorded_by_then(world, campaign):
    center = world.users[Role.TOWN_ADMIN]
    leaflet_issue_record(actor=center, village=world.qiying, quantity=450, issued_at=MORNING)
    leaflet_issue_record(actor=center, village=world.qiying, quantity=1,
                         issued_at=MORNING + dt.timedelta(days=1))  # fmt: skip
    figures = bulletin_figures(
        town=world.town, day=MORNING.date(), now=MORNING + dt.timedelta(days=3)
    )
    qiying, xinqiao = figures["villages"]
    assert (qiying["leaflets_issued"], xinqiao["leaflets_issued"]) == (450, 0)
    assert figures["total"]["leaflets_issued"] == 450


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_nobody_else_records_leaflets(world, campaign, role):
    with pytest.raises(PermissionDenied, match="只有本镇综治中心"):
        leaflet_issue_record(actor=world.users[role], village=world.qiying, quantity=10)
    assert not LeafletIssue.objects.exists()


def test_another_towns_center_may_not_record_for_this_town(world, campaign):
    other_center = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    with pytest.raises(PermissionDenied):
        leaflet_issue_record(actor=other_center, village=world.qiying, quantity=10)


def test_an_inactive_center_account_may_not_record(world, campaign):
    center = world.users[Role.TOWN_ADMIN]
    center.is_active = False
    center.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        leaflet_issue_record(actor=center, village=world.qiying, quantity=10)


@pytest.mark.parametrize("quantity", [1, 100_000])
def test_quantity_bounds_are_accepted(world, campaign, quantity):
    issue = leaflet_issue_record(actor=world.users[Role.TOWN_ADMIN], village=world.qiying,
                                 quantity=quantity)  # fmt: skip
    assert issue.quantity == quantity


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (0, "数量应在 1 到 100000 份之间。"),
        (-5, "数量应在 1 到 100000 份之间。"),
        (100_001, "数量应在 1 到 100000 份之间。"),
        ("10", "数量应为整数（份）。"),
        (2.5, "数量应为整数（份）。"),
        (True, "数量应为整数（份）。"),
    ],
)
def test_a_quantity_out_of_range_is_refused_in_chinese(world, campaign, quantity, message):
    with pytest.raises(ValueError, match=message) as refused:
        leaflet_issue_record(actor=world.users[Role.TOWN_ADMIN], village=world.qiying,
                             quantity=quantity)  # fmt: skip
    assert isinstance(refused.value, LeafletIssueError)
    assert refused.value.field == "quantity"
    assert not LeafletIssue.objects.exists()


def test_a_town_without_a_campaign_records_nothing(world):
    with pytest.raises(ValueError, match="汝集镇尚未设立走访活动"):
        leaflet_issue_record(actor=world.users[Role.TOWN_ADMIN], village=world.qiying, quantity=5)
    assert not LeafletIssue.objects.exists()


def test_the_current_campaign_is_the_one_that_started_last(world, campaign):
    later = make_campaign(world.town, {world.qiying: 10}, start_date=dt.date(2022, 4, 1),
                          end_date=dt.date(2022, 5, 1), name="2022年春季走访")  # fmt: skip
    issue = leaflet_issue_record(actor=world.users[Role.TOWN_ADMIN], village=world.qiying,
                                 quantity=5)  # fmt: skip
    assert issue.campaign == later


def test_only_a_village_receives_leaflets(world, campaign):
    with pytest.raises(ValueError, match="不是村"):
        leaflet_issue_record(actor=world.users[Role.TOWN_ADMIN], village=world.town, quantity=5)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("collected_by", "王" * 65, "领取人最多 64 个字。"),
        ("note", "备" * 201, "备注最多 200 个字。"),
    ],
)
def test_overlong_text_is_refused(world, campaign, field, value, message):
    with pytest.raises(LeafletIssueError, match=message) as refused:
        leaflet_issue_record(actor=world.users[Role.TOWN_ADMIN], village=world.qiying,
                             quantity=5, **{field: value})  # fmt: skip
    assert refused.value.field == field
