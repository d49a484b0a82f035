"""The bulletin's figures at their edges: counted up to the moment asked for, a village
without leaflets, a problem not yet due, a unit with no visiting cadre, a day before the
visiting phase, and a village page when its town has no campaign.

On top of tests/progress_scenario.py (七营村 quota 4, 新桥村 quota 2; day 1 = 2021-10-18,
day 2 = 2021-10-19; the visiting phase 10-16..11-15, 31 days)."""

import datetime as dt

import pytest
import time_machine

from pingan.campaigns.models import LeafletIssue
from pingan.reports.figures import bulletin_figures, village_bulletin_figures
from tests.progress_scenario import DAY1, DAY2, build, shanghai
from tests.reports.conftest import dispatch, report

LATER = shanghai(dt.date(2021, 10, 25), 9)  # the clock: both days are over


@pytest.fixture
def later():
    with time_machine.travel(LATER, tick=False):
        yield LATER


def rows(result) -> dict[str, dict]:
    return {row["name"]: row for row in result["villages"]}


def test_the_figures_are_counted_up_to_the_moment_given(world, later):
    """Asked for day 2 as of 10:30 that morning (while the clock says 10-25): h1's 10:00
    visit is in, h2's 11:00 revisit is not, so 七营村 has 4 questionnaires, not 5."""
    build(world)
    moment = shanghai(DAY2, 10, 30)

    town = bulletin_figures(town=world.town, day=DAY2, now=moment)
    village = village_bulletin_figures(village=world.qiying, day=DAY2, now=moment)

    for result in (town, village):
        assert result["until"] == "2021-10-19T10:30:00+08:00"
        assert result["generated_at"] == "2021-10-19T10:30:00+08:00"
        qiying = rows(result)["七营村"]
        assert (qiying["reached_today"], qiying["questionnaires"]) == (1, 4)


def test_a_village_with_no_leaflets_issued_shows_none(world, later):
    s = build(world)
    LeafletIssue.objects.create(campaign=s.campaign, village=world.qiying, quantity=100,
                                issued_at=shanghai(DAY1, 9))  # fmt: skip

    result = bulletin_figures(town=world.town, day=DAY2, now=LATER)

    assert rows(result)["七营村"]["leaflets_issued"] == 100
    assert rows(result)["新桥村"]["leaflets_issued"] == 0
    assert result["total"]["leaflets_issued"] == 100


def test_a_problem_with_its_unit_before_its_deadline_is_open_not_overdue(world, later):
    """Dispatched on day 1 as general: due 2021-11-01, so on day 2 it is open, not overdue."""
    s = build(world)
    problem = report(world, s.households["h1"], at=shanghai(DAY1, 10))
    dispatch(world, problem, at=shanghai(DAY1, 11))

    qiying = rows(bulletin_figures(town=world.town, day=DAY2, now=LATER))["七营村"]

    assert (qiying["problems_open"], qiying["problems_overdue"]) == (1, 0)


def test_a_unit_whose_people_do_not_visit_is_left_out(world, later):
    build(world)  # 汝集派出所 is a unit of the town, but none of its people visits
    assert bulletin_figures(town=world.town, day=DAY2, now=LATER)["units"] == []


def test_two_days_before_the_visiting_phase_nothing_is_expected_yet(world, later):
    """10-14 is two days before the visiting phase (10-16): no day of it has gone, so no
    village is expected to have reached anyone and none lags."""
    build(world)
    result = bulletin_figures(town=world.town, day=dt.date(2021, 10, 14), now=LATER)

    assert result["pace"] == {"start": "2021-10-16", "end": "2021-11-15", "days_total": 31,
                              "days_elapsed": 0}  # fmt: skip
    assert [(r["expected_households"], r["lagging"]) for r in result["villages"]] == [
        ("0.00", False), ("0.00", False),
    ]  # fmt: skip
    day_before = bulletin_figures(town=world.town, day=dt.date(2021, 10, 15), now=LATER)
    assert day_before["pace"]["days_elapsed"] == 0


def test_a_village_page_when_its_town_has_no_campaign(world):
    result = village_bulletin_figures(village=world.qiying, day=DAY2, now=LATER)

    assert (result["campaign"], result["pace"], result["villages"]) == (None, None, [])
    assert (result["village_count"], result["ranked_count"]) == (0, 0)
