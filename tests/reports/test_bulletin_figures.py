"""The bulletin's figures against numbers worked out by hand.

On top of tests/progress_scenario.py (七营村 quota 4, 新桥村 quota 2; day 1 = 2021-10-18,
day 2 = 2021-10-19), this adds 后路村 (quota 31, nobody visited), leaflets issued to 七营村
(100 on day 1, 50 on day 2 at 20:00), and five problems of 七营村:

| problem | reported          | later                                              |
|---------|-------------------|----------------------------------------------------|
| P1      | day 1 10:00       | —                                                  |
| P2      | day 1 11:00       | dispatched and handled day 1, closed (满意) day 2 15:00 |
| P3      | 2021-09-01 09:00  | dispatched 09:01, due 2021-09-15: overdue; tick on day 2 08:00 lists it for criticism |
| P4      | day 2 09:00       | —                                                  |
| P5      | day 1 12:00       | rejected day 1 12:30                               |

As of the end of day 1: new P1 P2 P5 = 3, open P1 P2 P3 = 3, overdue P3 = 1, closed 0.
As of the end of day 2: new P4 = 1, open P1 P3 P4 = 3, overdue 1, closed P2 = 1.

七营村's roster is 9 households, 8 active (h7 confirmed vacant); 5 are reached, each with a
leaflet handed at the reaching visit (the not_home and vacant visits hand none).

Pace: the visiting phase is 10-16..11-15 (31 days); day 2 is its 4th day, so the expected
households are 4 ÷ 31 × quota: 七营村 0.52, 新桥村 0.26, 后路村 4.00 (lagging, 0 reached),
the town 4 ÷ 31 × 37 = 4.77.
"""

import datetime as dt

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.campaigns.models import LeafletIssue, VillageQuota
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput, problem_act, problem_report
from pingan.ledger.supervision import problem_tick
from pingan.reports.figures import bulletin_figures
from tests.factories import RegionFactory, make_assignment, make_household
from tests.progress_scenario import DAY1, DAY2, build, shanghai, sync

LATER = shanghai(dt.date(2021, 10, 25), 9)  # "now": both days are over


def act(actor, problem, action, **data):
    problem.refresh_from_db()
    return problem_act(actor=actor, problem_id=problem.pk, action=action,
                       version=problem.version, data=ActionInput(**data))  # fmt: skip


@pytest.fixture
def town(world):
    s = build(world)
    houlu = RegionFactory(kind="village", code="341623101206", name="后路村", parent=world.town)
    VillageQuota.objects.create(campaign=s.campaign, village=houlu, quota=31)
    LeafletIssue.objects.create(campaign=s.campaign, village=world.qiying, quantity=100,
                                issued_at=shanghai(DAY1, 9))  # fmt: skip
    LeafletIssue.objects.create(campaign=s.campaign, village=world.qiying, quantity=50,
                                issued_at=shanghai(DAY2, 20))  # fmt: skip
    center, unit = world.users[Role.TOWN_ADMIN], world.users[Role.UNIT_HANDLER]

    def report(moment, text):
        with clock.at(moment):
            return problem_report(actor=center, village_id=world.qiying.pk, household_id=None,
                                  description=text)  # fmt: skip

    before = Problem.objects.count()
    report(shanghai(DAY1, 10), "P1 村口路灯不亮")
    p2 = report(shanghai(DAY1, 11), "P2 邻里纠纷")
    with clock.at(shanghai(DAY1, 11, 5)):
        act(center, p2, "accept")
        act(center, p2, "dispatch", unit_id=world.police.pk, severity="general")
        act(unit, p2, "handle", result="已调解")
    with clock.at(shanghai(DAY2, 15)):
        act(world.users[Role.VILLAGE_ADMIN], p2, "feedback", verdict="satisfied")  # no cadre
    p3 = report(shanghai(dt.date(2021, 9, 1), 9), "P3 河道护栏缺失")
    with clock.at(shanghai(dt.date(2021, 9, 1), 9, 1)):
        act(center, p3, "accept")
        act(center, p3, "dispatch", unit_id=world.police.pk, severity="general")
    report(shanghai(DAY2, 9), "P4 电动车被盗")
    p5 = report(shanghai(DAY1, 12), "P5 重复反映")
    with clock.at(shanghai(DAY1, 12, 30)):
        act(center, p5, "reject", reason="与 P1 重复")
    problem_tick(now=shanghai(DAY2, 8))
    assert Problem.objects.count() == before + 5
    return s


def figures(world, day, now=LATER):
    return bulletin_figures(town=world.town, day=day, now=now)


def rows(result):
    return {row["name"]: row for row in result["villages"]}


def test_day_two_village_by_village(world, town):
    result = figures(world, DAY2)
    qiying, xinqiao, houlu = (rows(result)[n] for n in ("七营村", "新桥村", "后路村"))
    assert {k: qiying[k] for k in (
        "quota", "roster_households", "active_households", "reached_households",
        "covered_households", "reached_today", "questionnaires",
        "problems_new", "problems_open", "problems_overdue", "problems_closed",
        "leaflets_issued", "leaflets_handed",
    )} == {
        "quota": 4, "roster_households": 9, "active_households": 8, "reached_households": 5,
        "covered_households": 5, "reached_today": 1,
        "questionnaires": 5, "problems_new": 1, "problems_open": 3, "problems_overdue": 1,
        "problems_closed": 1, "leaflets_issued": 150, "leaflets_handed": 5,
    }  # fmt: skip
    assert (qiying["completion_pct"], qiying["expected_households"], qiying["lagging"]) == (
        "125.00", "0.52", False,
    )  # fmt: skip
    assert qiying["roster_coverage_pct"] == "62.50"  # 5 of 8 active households
    assert qiying["rates"]["safety"] == {"rate": "60.00", "answers": 5, "positive": 3}
    assert qiying["rates"]["satisfaction"] == {"rate": "100.00", "answers": 5, "positive": 5}
    assert (xinqiao["reached_households"], xinqiao["completion_pct"], xinqiao["lagging"]) == (
        1, "50.00", False,
    )  # fmt: skip
    assert (houlu["reached_households"], houlu["expected_households"], houlu["lagging"]) == (
        0, "4.00", True,
    )  # fmt: skip
    assert houlu["rates"]["safety"] == {"rate": None, "answers": 0, "positive": 0}
    assert [(r["name"], r["rank"]) for r in result["villages"]] == [
        ("七营村", 1), ("新桥村", 2), ("后路村", 3),
    ]  # fmt: skip


def test_day_two_town_total(world, town):
    total = figures(world, DAY2)["total"]
    assert (total["quota"], total["reached_households"], total["reached_today"]) == (37, 6, 1)
    assert (total["completion_pct"], total["expected_households"]) == ("16.22", "4.77")
    assert (total["lagging"], total["lagging_villages"]) == (False, 1)
    assert (total["problems_new"], total["problems_open"], total["problems_overdue"],
            total["problems_closed"]) == (1, 3, 1, 1)  # fmt: skip
    # 安全感 over the town: 七营村 3 of 5 positive, 新桥村 1 of 1 -> 4 of 6
    assert total["rates"]["safety"] == {"rate": "66.67", "answers": 6, "positive": 4}
    assert figures(world, DAY2)["pace"] == {
        "start": "2021-10-16", "end": "2021-11-15", "days_total": 31, "days_elapsed": 4,
    }  # fmt: skip


def test_day_one_is_counted_as_it_stood_that_evening(world, town):
    qiying = rows(figures(world, DAY1))["七营村"]
    assert (qiying["reached_households"], qiying["reached_today"], qiying["questionnaires"]) == (
        4, 4, 3,
    )  # fmt: skip
    assert (qiying["problems_new"], qiying["problems_open"], qiying["problems_overdue"],
            qiying["problems_closed"]) == (3, 3, 1, 0)  # fmt: skip
    assert qiying["leaflets_issued"] == 100
    # 安全感 on day 1: 比较安全 (h2), 说不清 (h4), 安全 (h9) -> 2 of 3
    assert qiying["rates"]["safety"] == {"rate": "66.67", "answers": 3, "positive": 2}


def test_the_criticism_list_holds_what_was_listed_by_then(world, town):
    assert figures(world, DAY1)["criticized"] == []
    [listed] = figures(world, DAY2)["criticized"]
    assert (listed["village"], listed["unit"], listed["deadline"]) == (
        "七营村", "汝集派出所", "2021-09-15",
    )  # fmt: skip


def test_a_visit_at_23_59_and_one_at_00_01_land_on_their_own_days(world, town):
    zhao = town.households["x1"].assignments.get().cadre
    late, early = make_household(world.xinqiao), make_household(world.xinqiao)
    for household in (late, early):
        make_assignment(town.campaign, household, zhao)
    sync(zhao.user, late, town.questionnaire, "completed", shanghai(DAY1, 23, 59))
    sync(zhao.user, early, town.questionnaire, "completed", shanghai(DAY2, 0, 1))
    day1, day2 = rows(figures(world, DAY1))["新桥村"], rows(figures(world, DAY2))["新桥村"]
    assert (day1["reached_households"], day1["reached_today"]) == (2, 2)  # x1 and 23:59
    assert (day2["reached_households"], day2["reached_today"]) == (3, 1)  # + 00:01


def test_todays_bulletin_counts_up_to_now(world, town):
    # At 10:30 on day 2, h1's 10:00 visit is in, the 11:00 one (h2b) not yet.
    with time_machine.travel(shanghai(DAY2, 10, 30), tick=False):
        result = bulletin_figures(town=world.town, day=DAY2)
    assert result["until"] == "2021-10-19T10:30:00+08:00"
    qiying = rows(result)["七营村"]
    assert (qiying["reached_today"], qiying["questionnaires"]) == (1, 4)
    assert qiying["leaflets_issued"] == 100  # the 20:00 issue has not happened yet


def test_another_towns_data_never_appears(world, town):
    names = {row["name"] for row in figures(world, DAY2)["villages"]}
    assert names == {"七营村", "新桥村", "后路村"}
    assert figures(world, DAY2)["total"]["reached_households"] == 6


def test_units_whose_people_visit_are_reported_with_their_households(world, town):
    # 派出所's officer 周警官 is attached to 七营村 (包村) and holds h3 (reached on day 1)
    # and h8 (never visited) from now on.
    from pingan.campaigns.models import Assignment
    from tests.factories import make_person

    officer = make_person(world.qiying, name="周警官", home_village=None, home_unit=world.police)
    for key in ("h3", "h8"):
        Assignment.objects.filter(household=town.households[key]).update(ended_at=clock.now())
        make_assignment(town.campaign, town.households[key], officer)
    [police] = figures(world, DAY2)["units"]
    assert police == {
        "unit_id": world.police.pk, "name": "汝集派出所", "cadres": 1,
        "households_held": 2, "households_reached": 1, "completion_pct": "50.00",
    }  # fmt: skip


def test_units_appear_in_the_summary_and_the_workbook(world, town):
    import io

    import openpyxl

    from pingan.reports.render import render_xlsx
    from pingan.reports.summary import bulletin_summary
    from tests.factories import make_person

    officer = make_person(world.qiying, name="周警官", home_village=None, home_unit=world.police)
    make_assignment(town.campaign, make_household(world.qiying), officer)
    result = figures(world, DAY2)
    assert "镇直各单位包村走访情况：汝集派出所1名干部包户1户、已走访0户（0.00%）。" in (
        bulletin_summary(result)
    )
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, number="第1期", version=1,
                                                         published=True)))  # fmt: skip
    assert [c.value for c in book["各单位"][2]] == ["汝集派出所", 1, 1, 0, 0]


@pytest.mark.parametrize("day", [DAY1, DAY2])
def test_a_villages_live_figures_are_its_row_of_the_town_bulletin(world, town, day):
    from pingan.reports.figures import village_bulletin_figures

    whole = rows(figures(world, day))
    for village in (world.qiying, world.xinqiao):
        alone = village_bulletin_figures(village=village, day=day, now=LATER)
        assert alone["villages"] == [whole[village.name]]
        assert (alone["village_count"], alone["ranked_count"]) == (3, 3)
