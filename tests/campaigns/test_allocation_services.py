"""分片包干 through the services: allocation, manual assignment, unlock, handover, coverage."""

import datetime as dt
import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
import time_machine
from django.db import IntegrityError, transaction

from pingan.accounts.models import Person, Role
from pingan.campaigns.allocation import household_order
from pingan.campaigns.models import Assignment, Campaign
from pingan.campaigns.selectors import (
    cadre_list_with_coverage,
    coverage_warning,
    village_coverage,
)
from pingan.campaigns.services.allocation import (
    AllocationDenied,
    AllocationError,
    allocation_run,
    assignment_set,
    assignment_unlock,
    cadre_handover,
)
from pingan.regions.models import Household, Region
from tests.factories import make_assignment, make_campaign, make_household, make_person, make_user

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Village:
    campaign: Campaign
    village: Region
    cadres: list[Person]
    admin: object  # the village admin (a User)


def add_households(village: Region, groups: range, per_group: int, start: int = 1) -> None:
    for group in groups:
        for no in range(start, start + per_group):
            make_household(village, group_no=group, address=f"{village.name}{group}组{no}号")


@pytest.fixture
def qiying(world) -> Village:
    """七营村 with 60 households in 4 groups and 7 cadres (one of them a town-unit cadre)."""
    campaign = make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    add_households(world.qiying, range(1, 5), 15)
    cadres = [make_person(world.qiying, name=f"干部{n}") for n in range(6)]
    cadres.append(make_person(world.qiying, name="包村干部", home_unit=world.police))
    return Village(campaign, world.qiying, cadres, world.users[Role.VILLAGE_ADMIN])


def left(person: Person) -> Person:
    """`person`, marked as having left (离岗) without a handover."""
    Person.objects.filter(pk=person.pk).update(active=False)
    person.active = False
    return person


def current(campaign: Campaign, village: Region) -> dict[int, int]:
    return dict(
        Assignment.objects.filter(
            campaign=campaign, household__village=village, ended_at__isnull=True
        ).values_list("household_id", "cadre_id")
    )


def order(village: Region) -> list[int]:
    return household_order(
        Household.objects.filter(village=village, status=Household.Status.ACTIVE).values_list(
            "id", "group_no", "address"
        )
    )


def assert_split(campaign: Campaign, village: Region, *, locked: set[int] = frozenset()) -> None:
    """Equal shares ±1 over the active cadres, and one run each in the village order."""
    assigned = current(campaign, village)
    households = order(village)
    cadres = list(Person.objects.filter(visit_village=village, active=True))
    assert set(assigned) >= set(households)
    totals = Counter(assigned[h] for h in households)
    n, k = len(households), len(cadres)
    assert sorted(totals[c.pk] for c in cadres) == sorted(
        [n // k + 1] * (n % k) + [n // k] * (k - n % k)
    )
    free = [h for h in households if h not in locked]
    runs: dict[int, list[int]] = {}
    for index, h in enumerate(free):
        runs.setdefault(assigned[h], []).append(index)
    for indexes in runs.values():
        assert indexes == list(range(indexes[0], indexes[-1] + 1))


# ---------------------------------------------------------------------------------------------
# Allocation


def test_allocation_splits_the_village_equally_in_one_run_each(qiying):
    result = allocation_run(campaign=qiying.campaign, village=qiying.village, actor=qiying.admin)

    assert_split(qiying.campaign, qiying.village)
    assert (result.households, result.unassigned_before, result.unassigned_after) == (60, 60, 0)
    assert (result.moved, result.newly_assigned) == (0, 60)
    assert sorted(s.after for s in result.cadres) == [8, 8, 8, 9, 9, 9, 9]
    assert result.balanced
    row = Assignment.objects.filter(campaign=qiying.campaign).first()
    assert (row.source, row.locked, row.assigned_by) == ("allocation", False, qiying.admin)
    assert "七营村：在住 60 户，走访干部 7 名，每人 8～9 户" in result.summary()


def test_dry_run_writes_nothing(qiying):
    result = allocation_run(
        campaign=qiying.campaign, village=qiying.village, actor=qiying.admin, dry_run=True
    )
    assert result.newly_assigned == 60
    assert result.dry_run
    assert "预览" in result.summary()
    assert not Assignment.objects.exists()


def test_running_again_changes_nothing(qiying):
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    rows = list(Assignment.objects.values_list("pk", "ended_at", "updated_at"))

    result = allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)

    assert not result.changed
    assert list(Assignment.objects.values_list("pk", "ended_at", "updated_at")) == rows


def test_ten_new_households_move_few_and_keep_history(qiying):
    # Given an allocated village
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    before = current(qiying.campaign, qiying.village)
    # When 10 households are added across the four groups (new house numbers in between)
    for n in range(10):
        group = 1 + n % 4
        make_household(qiying.village, group_no=group, address=f"七营村{group}组{2 * n + 1}号之一")
    result = allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    # Then the split holds, few households move, and the moved ones keep their old rows
    assert_split(qiying.campaign, qiying.village)
    assert result.newly_assigned == 10
    assert result.moved <= 10 + len(qiying.cadres)
    after = current(qiying.campaign, qiying.village)
    moved = {h for h, c in before.items() if after[h] != c}
    assert len(moved) == result.moved
    ended = Assignment.objects.filter(ended_at__isnull=False)
    assert set(ended.values_list("household_id", flat=True)) == moved
    assert Assignment.objects.count() == 60 + 10 + len(moved)


def test_vacant_households_leave_and_their_assignment_ends(qiying):
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    gone = Household.objects.filter(village=qiying.village).first()
    Household.objects.filter(pk=gone.pk).update(status=Household.Status.VACANT)

    result = allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)

    assert result.released == 1
    assert not Assignment.objects.filter(household=gone, ended_at__isnull=True).exists()
    assert_split(qiying.campaign, qiying.village)


def test_a_village_without_cadres_says_so(world):
    campaign = make_campaign(world.town, {world.xinqiao: 577})
    make_household(world.xinqiao)

    result = allocation_run(campaign=campaign, village=world.xinqiao, actor=None)

    assert result.unassigned_after == 1
    assert result.warnings() == ["新桥村没有在岗的走访干部，无法分配。"]
    assert not Assignment.objects.exists()


def test_village_of_another_town_is_refused(qiying, world):
    with pytest.raises(AllocationError, match="不在活动"):
        allocation_run(campaign=qiying.campaign, village=world.faraway, actor=None)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.TOWN_ADMIN, True),
        (Role.VILLAGE_ADMIN, True),
        (Role.LEADER, False),
        (Role.CADRE, False),
        (Role.UNIT_HANDLER, False),
        (Role.COUNTY_VIEWER, False),
    ],
)
def test_who_may_allocate(qiying, world, role, allowed):
    user = world.users[role]
    if allowed:
        allocation_run(campaign=qiying.campaign, village=qiying.village, actor=user)
        assert Assignment.objects.count() == 60
    else:
        with pytest.raises(AllocationDenied) as denied:
            allocation_run(campaign=qiying.campaign, village=qiying.village, actor=user)
        assert denied.value.message == "只有镇综治中心或本村管理员可以分配走访住户。"


def test_admins_of_another_village_or_town_may_not_allocate(qiying, world):
    other_village_admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao)
    other_town_admin = make_user(Role.TOWN_ADMIN, world.other_town)
    for user in (other_village_admin, other_town_admin):
        with pytest.raises(AllocationDenied):
            allocation_run(campaign=qiying.campaign, village=qiying.village, actor=user)


# ---------------------------------------------------------------------------------------------
# By hand: locked assignments


def test_a_manual_assignment_is_locked_and_kept_by_allocation(qiying):
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    household = Household.objects.get(address="七营村1组1号")
    far_cadre = current(qiying.campaign, qiying.village)[
        Household.objects.get(address="七营村4组15号").pk
    ]
    cadre = Person.objects.get(pk=far_cadre)

    row = assignment_set(
        campaign=qiying.campaign,
        household=household,
        cadre=cadre,
        actor=qiying.admin,
        note="亲戚关系，便于走访",
    )
    result = allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)

    assert (row.locked, row.source, row.note) == (True, "manual", "亲戚关系，便于走访")
    assert current(qiying.campaign, qiying.village)[household.pk] == cadre.pk
    assert_split(qiying.campaign, qiying.village, locked={household.pk})
    share = next(s for s in result.cadres if s.cadre_id == cadre.pk)
    assert share.locked == 1
    assert share.after in (8, 9)  # the locked household counts toward the share


def test_assigning_what_is_already_there_changes_nothing(qiying):
    household = Household.objects.first()
    first = assignment_set(
        campaign=qiying.campaign, household=household, cadre=qiying.cadres[0], actor=None
    )
    again = assignment_set(
        campaign=qiying.campaign, household=household, cadre=qiying.cadres[0], actor=None
    )
    assert again.pk == first.pk
    assert Assignment.objects.count() == 1


def test_unlock_keeps_the_cadre_until_the_next_allocation(qiying):
    household = Household.objects.get(address="七营村4组15号")
    assignment_set(
        campaign=qiying.campaign, household=household, cadre=qiying.cadres[0], actor=None
    )
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    assert current(qiying.campaign, qiying.village)[household.pk] == qiying.cadres[0].pk

    row = assignment_unlock(campaign=qiying.campaign, household=household, actor=qiying.admin)
    assert (row.cadre_id, row.locked, row.note) == (qiying.cadres[0].pk, False, "解除锁定")
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)

    assert_split(qiying.campaign, qiying.village)
    history = Assignment.objects.filter(household=household).order_by("pk")
    assert [(r.locked, r.ended_at is None) for r in history][:2] == [(True, False), (False, False)]
    with pytest.raises(AllocationError, match="没有锁定的分配"):
        assignment_unlock(campaign=qiying.campaign, household=household, actor=None)


def test_a_cadre_of_another_village_cannot_be_assigned(qiying, world):
    outsider = make_person(world.xinqiao, name="新桥干部")
    with pytest.raises(AllocationError, match="新桥干部不在七营村走访"):
        assignment_set(
            campaign=qiying.campaign,
            household=Household.objects.first(),
            cadre=outsider,
            actor=qiying.admin,
        )


def test_inactive_households_and_cadres_cannot_be_assigned(qiying):
    vacant = make_household(qiying.village, status=Household.Status.VACANT)
    with pytest.raises(AllocationError, match="不是在住户"):
        assignment_set(
            campaign=qiying.campaign, household=vacant, cadre=qiying.cadres[0], actor=None
        )
    gone = left(make_person(qiying.village, name="离岗的"))
    with pytest.raises(AllocationError, match="已离岗"):
        assignment_set(
            campaign=qiying.campaign,
            household=Household.objects.get(address="七营村1组1号"),
            cadre=gone,
            actor=None,
        )


def test_a_lock_beyond_the_share_is_kept_and_reported(qiying):
    for household in Household.objects.filter(group_no=1):  # 15 households, share is 8-9
        assignment_set(
            campaign=qiying.campaign, household=household, cadre=qiying.cadres[0], actor=None
        )
    result = allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    assert not result.balanced
    assert result.over_locked == ["干部0"]
    assert "超过平均份额" in result.warnings()[0]
    others = sorted(s.after for s in result.cadres if s.cadre_id != qiying.cadres[0].pk)
    assert others == [7, 7, 7, 8, 8, 8]  # the other 45 as equal as they can be


# ---------------------------------------------------------------------------------------------
# Handover


def test_handover_to_a_named_cadre(qiying):
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    leaving, successor = qiying.cadres[2], qiying.cadres[3]
    theirs = {h for h, c in current(qiying.campaign, qiying.village).items() if c == leaving.pk}

    result = cadre_handover(
        campaign=qiying.campaign, cadre=leaving, to_cadre=successor, actor=qiying.admin
    )

    leaving.refresh_from_db()
    assert not leaving.active
    assert result.moved == len(theirs)
    now = current(qiying.campaign, qiying.village)
    assert {h for h, c in now.items() if c == successor.pk} >= theirs
    assert leaving.pk not in now.values()
    # history: the leaver's rows are ended, not deleted; the new ones say handover
    assert Assignment.objects.filter(cadre=leaving, ended_at__isnull=False).count() == len(theirs)
    handed = Assignment.objects.filter(cadre=successor, source="handover", ended_at__isnull=True)
    assert set(handed.values_list("household_id", flat=True)) == theirs
    assert {r.note for r in handed} == {f"{leaving.name}离岗交接"}


def test_handover_without_a_successor_reallocates_in_proportion(qiying):
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    leaving = qiying.cadres[3]
    theirs = {h for h, c in current(qiying.campaign, qiying.village).items() if c == leaving.pk}

    result = cadre_handover(
        campaign=qiying.campaign, cadre=leaving, to_cadre=None, actor=qiying.admin
    )

    assert_split(qiying.campaign, qiying.village)  # 60 among 6: 10 each
    assert leaving.pk not in current(qiying.campaign, qiying.village).values()
    assert result.unassigned_before == result.unassigned_after == 0
    assert Assignment.objects.filter(cadre=leaving).count() == len(theirs)  # all ended, kept
    sources = Counter(
        Assignment.objects.filter(ended_at__isnull=True).values_list("source", flat=True)
    )
    assert sources["handover"] == len(theirs)
    assert sum(sources.values()) == 60


def test_handover_checks_the_successor(qiying, world):
    with pytest.raises(AllocationError, match="不能是离岗干部本人"):
        cadre_handover(
            campaign=qiying.campaign, cadre=qiying.cadres[0], to_cadre=qiying.cadres[0], actor=None
        )
    outsider = make_person(world.xinqiao, name="新桥干部")
    with pytest.raises(AllocationError, match="新桥干部不是七营村在岗的走访干部"):
        cadre_handover(
            campaign=qiying.campaign, cadre=qiying.cadres[0], to_cadre=outsider, actor=None
        )
    assert Person.objects.filter(active=False).count() == 0


def test_handover_needs_the_right(qiying, world):
    with pytest.raises(AllocationDenied):
        cadre_handover(
            campaign=qiying.campaign,
            cadre=qiying.cadres[0],
            to_cadre=None,
            actor=world.users[Role.LEADER],
        )
    assert Person.objects.get(pk=qiying.cadres[0].pk).active


# ---------------------------------------------------------------------------------------------
# The database keeps the invariants


def test_one_current_assignment_per_household(qiying):
    household = Household.objects.first()
    make_assignment(qiying.campaign, household, qiying.cadres[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        make_assignment(qiying.campaign, household, qiying.cadres[1])
    # an ended one next to a current one is history, and allowed
    make_assignment(
        qiying.campaign,
        household,
        qiying.cadres[1],
        ended_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
    )


def test_an_assignment_cannot_end_before_it_starts(qiying):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_assignment(
            qiying.campaign,
            Household.objects.first(),
            qiying.cadres[0],
            started_at=dt.datetime(2021, 10, 12, tzinfo=dt.UTC),
            ended_at=dt.datetime(2021, 10, 11, tzinfo=dt.UTC),
        )


# ---------------------------------------------------------------------------------------------
# Coverage


def test_coverage_per_village_and_per_cadre(qiying, world):
    a, b = qiying.cadres[0], qiying.cadres[1]
    households = list(Household.objects.filter(village=qiying.village).order_by("pk"))
    make_assignment(qiying.campaign, households[0], a)
    make_assignment(qiying.campaign, households[1], a, locked=True)
    make_assignment(qiying.campaign, households[2], b)
    # not covering: an ended assignment, a vacant household, a cadre who left
    make_assignment(
        qiying.campaign, households[3], b, ended_at=dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    )
    Household.objects.filter(pk=households[4].pk).update(status=Household.Status.VACANT)
    make_assignment(qiying.campaign, households[4], b)
    gone = left(make_person(qiying.village, name="离岗的"))
    make_assignment(qiying.campaign, households[5], gone)

    assert village_coverage(village=qiying.village, campaign=qiying.campaign) == {
        "active_households": 59,
        "assigned_households": 3,
        "unassigned_households": 56,
    }
    counts = {
        p.name: (p.assigned_households, p.locked_households)
        for p in cadre_list_with_coverage(
            cadres=Person.objects.filter(visit_village=qiying.village), campaign=qiying.campaign
        )
    }
    assert counts["干部0"] == (2, 1)
    assert counts["干部1"] == (1, 0)
    assert counts["干部2"] == (0, 0)


def test_coverage_counts_the_given_campaign_only(qiying, world):
    household = Household.objects.first()
    last_year = make_campaign(world.town, {}, name="去年", start_date=dt.date(2020, 10, 1))
    make_assignment(last_year, household, qiying.cadres[0])
    assert (
        village_coverage(village=qiying.village, campaign=qiying.campaign)["assigned_households"]
        == 0
    )


@pytest.mark.parametrize(
    ("today", "started"),
    [(dt.date(2021, 10, 12), False), (dt.date(2021, 10, 16), True), (dt.date(2021, 11, 1), True)],
)
def test_coverage_warning_before_and_after_the_visiting_phase(qiying, today, started):
    moment = dt.datetime.combine(today, dt.time(9), tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        warning = coverage_warning(campaign=qiying.campaign, unassigned=12)
    assert warning is not None
    assert (warning.unassigned, warning.visiting_started) == (12, started)
    assert warning.visiting_starts == dt.date(2021, 10, 16)


def test_no_warning_once_every_household_is_assigned(qiying):
    assert coverage_warning(campaign=qiying.campaign, unassigned=0) is None
    assert coverage_warning(campaign=None, unassigned=5) is None


def test_each_cadre_keeps_one_run_over_several_runs(qiying):
    """Allocate, add a cadre, add households, lose a cadre: the split holds after each."""
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    make_person(qiying.village, name="新来的")
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    assert_split(qiying.campaign, qiying.village)
    add_households(qiying.village, range(5, 6), 12)
    allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    assert_split(qiying.campaign, qiying.village)
    cadre_handover(campaign=qiying.campaign, cadre=qiying.cadres[0], to_cadre=None, actor=None)
    assert_split(qiying.campaign, qiying.village)
    # one current row per household, all history kept
    counts = Counter(
        Assignment.objects.filter(ended_at__isnull=True).values_list("household", flat=True)
    )
    assert set(counts.values()) == {1}
    assert all(
        a.ended_at >= a.started_at for a in Assignment.objects.filter(ended_at__isnull=False)
    )
    assert len(list(itertools.chain(counts))) == 72


def test_an_assignment_stored_ahead_of_the_clock_is_reassigned_and_handed_over(qiying):
    """A database filled before the demo clock was set holds assignments that start after the
    demo site's "now"; reassigning or handing them over must not break the database's rule
    (it answered 500 with IntegrityError assignment_ends_after_start)."""
    later = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(later, tick=False):
        allocation_run(campaign=qiying.campaign, village=qiying.village, actor=None)
    household = Household.objects.filter(village=qiying.village).order_by("pk").first()
    leaving = qiying.cadres[0]
    earlier = dt.datetime(2021, 10, 22, 19, 45, tzinfo=SHANGHAI)

    with time_machine.travel(earlier, tick=False):
        moved = assignment_set(
            campaign=qiying.campaign, household=household, cadre=leaving, actor=qiying.admin
        )
        theirs = Assignment.objects.filter(cadre=leaving, ended_at__isnull=True).count()
        handed = cadre_handover(
            campaign=qiying.campaign, cadre=leaving, to_cadre=qiying.cadres[1], actor=qiying.admin
        )

    ended = Assignment.objects.filter(household=household, ended_at__isnull=False)
    assert ended.count() == 2  # the allocation's row, then the manual one
    first = ended.get(source="allocation")
    assert first.ended_at == first.started_at == later  # ended empty, not before its start
    assert moved.started_at == earlier
    assert handed.moved == theirs
    assert not Assignment.objects.filter(cadre=leaving, ended_at__isnull=True).exists()
    assert (
        Assignment.objects.get(household=household, ended_at__isnull=True).cadre
        == (qiying.cadres[1])
    )
