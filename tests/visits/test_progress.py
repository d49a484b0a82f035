"""Progress (走访进度) selectors against figures worked out by hand (tests/progress_scenario.py)."""

import datetime as dt
from dataclasses import asdict
from decimal import Decimal

import pytest
import time_machine

from pingan.accounts.models import Person, Role
from pingan.campaigns.selectors import cadre_list_with_coverage
from pingan.regions.models import Household
from pingan.visits.models import Visit
from pingan.visits.selectors import (
    Progress,
    cadre_progress_annotate,
    household_list_to_revisit,
    village_list_with_visit_progress,
    village_progress_totals,
    visit_list_vacancy_to_confirm,
)
from pingan.visits.services import VacancyConfirmDenied, visit_vacancy_confirm
from tests.factories import make_assignment, make_household, make_user
from tests.progress_scenario import (
    DAY1,
    DAY2,
    QIYING,
    REACHED_ON,
    XINQIAO,
    build,
    shanghai,
    sync,
)

D = Decimal


@pytest.fixture
def scenario(world):
    return build(world)


def _progress(world, day: dt.date | None) -> dict[str, Progress]:
    villages = village_list_with_visit_progress(user=world.users[Role.TOWN_ADMIN], today=day)
    return {village.name: Progress.of(village) for village in villages}


def _without_today(progress: Progress) -> dict:
    figures = asdict(progress)
    figures.pop("reached_today")
    return figures


def test_village_figures_match_the_hand_worked_ones(world, scenario):
    progress = _progress(world, DAY2)

    assert set(progress) == {"七营村", "新桥村"}
    assert _without_today(progress["七营村"]) == QIYING
    assert _without_today(progress["新桥村"]) == XINQIAO
    qiying = progress["七营村"]
    # The quota is a floor: 5 reached of 4 is 125%; every household on the roster: 5 of 8.
    assert (qiying.completion, qiying.roster_coverage) == (D("125.00"), D("62.50"))
    assert (qiying.covered_households, qiying.reached_in_person) == (5, 4)
    assert progress["新桥村"].completion == D("50.00")


@pytest.mark.parametrize("day", [DAY1, DAY2])
def test_reached_today_counts_households_on_the_day_of_their_first_counting_visit(
    world, scenario, day
):
    progress = _progress(world, day)
    assert {name: p.reached_today for name, p in progress.items()} == REACHED_ON[day]


def test_the_days_add_up_to_the_total(world, scenario):
    # h2 was reached on day 1 and visited again on day 2: day 2 does not count it again.
    assert sum(REACHED_ON[DAY1].values()) + sum(REACHED_ON[DAY2].values()) == 6
    assert _progress(world, dt.date(2021, 10, 20))["七营村"].reached_today == 0


def test_town_totals_are_the_sums_of_the_rows(world, scenario, django_assert_num_queries):
    villages = village_list_with_visit_progress(user=world.users[Role.TOWN_ADMIN], today=DAY1)
    with django_assert_num_queries(1):
        totals = village_progress_totals(villages=villages)
    assert totals == Progress(
        quota=6,
        active_households=10,
        reached_households=6,
        reached_by_phone=1,
        reached_today=5,
        to_revisit=1,
        unreached_households=4,
        vacant_pending=1,
        vacant_confirmed=1,
        questionnaire_count=6,
    )
    assert totals.completion == D("100.00")
    assert totals.roster_coverage == D("60.00")


def test_village_list_is_one_query(world, scenario, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(village_list_with_visit_progress(user=world.users[Role.TOWN_ADMIN]))
    assert len(rows) == 2


def test_no_campaign_no_progress(world):
    make_household(world.qiying)
    [qiying, _] = village_list_with_visit_progress(user=world.users[Role.TOWN_ADMIN])
    progress = Progress.of(qiying)
    assert (progress.reached_households, progress.unreached_households) == (0, 1)
    assert progress.completion is None  # no quota: no completion, not 0%


# ---------------------------------------------------------------------------------------------
# Which day a visit belongs to: the phone's end time, never later than its arrival


def test_midnight_in_shanghai_splits_the_days(world, scenario):
    # Given two more households of 新桥村 reached one minute before and after midnight
    zhao = Person.objects.get(name="赵强")
    late, early = make_household(world.xinqiao), make_household(world.xinqiao)
    for household in (late, early):
        make_assignment(scenario.campaign, household, zhao)
    sync(zhao.user, late, scenario.questionnaire, "completed", shanghai(DAY1, 23, 59))
    sync(zhao.user, early, scenario.questionnaire, "refused", shanghai(DAY2, 0, 1))

    assert _progress(world, DAY1)["新桥村"].reached_today == 1 + 1
    assert _progress(world, DAY2)["新桥村"].reached_today == 0 + 1


def test_a_visit_synced_the_next_morning_counts_for_the_day_it_was_done(world, scenario):
    household = make_household(world.qiying)
    make_assignment(scenario.campaign, household, scenario.wang)
    sync(
        world.users[Role.CADRE],
        household,
        scenario.questionnaire,
        "completed",
        shanghai(DAY1, 22),
        received=shanghai(DAY2, 8),  # offline overnight
    )
    assert _progress(world, DAY1)["七营村"].reached_today == 4 + 1
    assert _progress(world, DAY2)["七营村"].reached_today == 1


def test_a_phone_clock_running_ahead_counts_on_the_day_the_visit_arrived(world, scenario):
    household = make_household(world.qiying)
    make_assignment(scenario.campaign, household, scenario.wang)
    sync(
        world.users[Role.CADRE],
        household,
        scenario.questionnaire,
        "completed",
        shanghai(dt.date(2021, 10, 21), 9),  # the phone thinks it is two days later
        received=shanghai(DAY2, 9, 5),
    )
    assert _progress(world, DAY2)["七营村"].reached_today == 1 + 1
    assert _progress(world, dt.date(2021, 10, 21))["七营村"].reached_today == 0


def test_today_defaults_to_the_shanghai_date(world, scenario):
    # 2021-10-18 16:30 UTC is 00:30 on 10-19 in Shanghai: day 2.
    with time_machine.travel(dt.datetime(2021, 10, 18, 16, 30, tzinfo=dt.UTC), tick=False):
        progress = _progress(world, None)
    assert progress["七营村"].reached_today == REACHED_ON[DAY2]["七营村"]


# ---------------------------------------------------------------------------------------------
# Per cadre, the revisit list, the vacancies


def test_per_cadre_figures(world, scenario, django_assert_num_queries):
    cadres = cadre_list_with_coverage(
        cadres=Person.objects.filter(visit_village=world.qiying), campaign=scenario.campaign
    )
    with django_assert_num_queries(1):
        rows = {
            c.name: (c.assigned_households, c.reached_households, c.to_revisit)
            for c in cadre_progress_annotate(cadres, campaign=scenario.campaign)
        }
    # h7 turned vacant: 李红 holds 3 active households.
    assert rows == {"王建国": (5, 4, 1), "李红": (3, 1, 0)}


def test_households_to_revisit(world, scenario):
    households = household_list_to_revisit(
        user=world.users[Role.VILLAGE_ADMIN], village=world.qiying, campaign=scenario.campaign
    )
    [h5] = households
    assert h5.pk == scenario.households["h5"].pk
    assert h5.not_home_visits == 1
    assert h5.last_visit_at == shanghai(DAY1, 10, 30)
    assert h5.cadre_name_now == h5.last_cadre_name == "王建国"


def test_the_latest_visit_decides_a_revisit(world, scenario):
    # h5 found at home on a third visit ... and h8, never visited, found not home twice.
    me = world.users[Role.CADRE]
    sync(me, scenario.households["h5"], scenario.questionnaire, "completed", shanghai(DAY2, 16))
    li = scenario.li.user
    for hour in (9, 17):
        sync(
            li, scenario.households["h8"], scenario.questionnaire, "not_home", shanghai(DAY2, hour)
        )

    households = household_list_to_revisit(
        user=world.users[Role.TOWN_ADMIN], village=world.qiying, campaign=scenario.campaign
    )
    assert [(h.pk, h.not_home_visits) for h in households] == [(scenario.households["h8"].pk, 2)]


def test_a_cadre_sees_only_their_own_households_to_revisit(world, scenario):
    li = scenario.li.user
    sync(li, scenario.households["h8"], scenario.questionnaire, "not_home", shanghai(DAY2, 9))

    def revisit(user):
        return {
            h.address
            for h in household_list_to_revisit(
                user=user, village=world.qiying, campaign=scenario.campaign
            )
        }

    assert revisit(world.users[Role.VILLAGE_ADMIN]) == {"七营村5号", "七营村8号"}
    assert revisit(world.users[Role.CADRE]) == {"七营村5号"}
    assert revisit(li) == {"七营村8号"}
    assert revisit(world.users[Role.UNIT_HANDLER]) == set()


def test_vacancies_to_confirm(world, scenario):
    pending = visit_list_vacancy_to_confirm(
        user=world.users[Role.VILLAGE_ADMIN], village=world.qiying, campaign=scenario.campaign
    )
    assert [v.pk for v in pending] == [scenario.visits["h6"].pk]


def test_a_second_vacant_visit_lists_the_household_once(world, scenario):
    later = sync(scenario.li.user, scenario.households["h6"], None, "vacant", shanghai(DAY2, 11))
    pending = visit_list_vacancy_to_confirm(
        user=world.users[Role.TOWN_ADMIN], village=world.qiying, campaign=scenario.campaign
    )
    assert [v.pk for v in pending] == [later.pk]
    assert _progress(world, DAY2)["七营村"].vacant_pending == 1


def test_confirming_a_vacancy_takes_the_household_out_of_the_denominator(world, scenario):
    visit_vacancy_confirm(visit=scenario.visits["h6"], actor=world.users[Role.TOWN_ADMIN])

    progress = _progress(world, DAY2)["七营村"]
    assert (progress.active_households, progress.unreached_households) == (7, 2)
    assert (progress.vacant_pending, progress.vacant_confirmed) == (0, 2)
    assert progress.roster_coverage == D("71.43")  # 5 of 7
    assert progress.completion == D("125.00")  # the quota does not move
    household = Household.objects.get(pk=scenario.households["h6"].pk)
    assert household.status == Household.Status.VACANT


def test_a_vacancy_contradicted_by_a_counting_visit_is_not_pending(world, scenario):
    sync(scenario.li.user, scenario.households["h6"], scenario.questionnaire, "refused",
         shanghai(DAY2, 12))  # fmt: skip
    assert _progress(world, DAY2)["七营村"].vacant_pending == 0


@pytest.mark.parametrize(
    ("role", "village", "allowed"),
    [
        (Role.VILLAGE_ADMIN, "qiying", True),
        (Role.TOWN_ADMIN, "qiying", True),
        (Role.TOWN_ADMIN, "xinqiao", True),
        (Role.LEADER, "qiying", False),
        (Role.CADRE, "qiying", False),
        (Role.UNIT_HANDLER, "qiying", False),
        (Role.COUNTY_VIEWER, "qiying", False),
    ],
)
def test_who_may_confirm_a_vacancy(world, scenario, role, village, allowed):
    household = make_household(getattr(world, village))
    cadre = scenario.wang if village == "qiying" else Person.objects.get(name="赵强")
    make_assignment(scenario.campaign, household, cadre)
    visit = sync(cadre.user, household, None, "vacant", shanghai(DAY2, 9))

    if allowed:
        visit_vacancy_confirm(visit=visit, actor=world.users[role])
        assert Visit.objects.get(pk=visit.pk).vacancy_confirmed_by == world.users[role]
    else:
        with pytest.raises(VacancyConfirmDenied):
            visit_vacancy_confirm(visit=visit, actor=world.users[role])
        assert Visit.objects.get(pk=visit.pk).vacancy_confirmed_at is None


def test_the_admin_of_another_village_may_not_confirm(world, scenario):
    xinqiao_admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao, username="xq-admin")
    with pytest.raises(VacancyConfirmDenied):
        visit_vacancy_confirm(visit=scenario.visits["h6"], actor=xinqiao_admin)
