"""Publishing the daily bulletin (issue 6 point 1): frozen figures, versions, the 期 number,
who may publish, and who may read."""

import copy
import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection
from django.http import Http404

from pingan.accounts.models import Role
from pingan.reports import services
from pingan.reports.figures import bulletin_figures
from pingan.reports.models import Bulletin
from pingan.reports.selectors import (
    STATUS_LIVE,
    STATUS_PUBLISHED,
    bulletin_for_view,
    bulletin_list,
    bulletin_number,
)
from pingan.reports.services import BulletinRefused, bulletin_latest, bulletin_publish
from tests.factories import make_campaign, make_user
from tests.progress_scenario import DAY1, DAY2, shanghai, sync
from tests.reports.conftest import close, dispatch, report

DAY3 = dt.date(2021, 10, 20)
DAY4 = dt.date(2021, 10, 21)


def village(figures: dict, name: str) -> dict:
    [row] = [row for row in figures["villages"] if row["name"] == name]
    return row


def test_a_published_bulletin_keeps_its_figures_when_the_data_changes(world, scenario):
    # Given a problem of 七营村 with its unit, and the bulletin of day 2 published at 20:00
    admin = world.users[Role.TOWN_ADMIN]
    problem = report(world, scenario.households["h1"], at=shanghai(DAY2, 12))
    dispatch(world, problem, at=shanghai(DAY2, 13))
    first = bulletin_publish(town=world.town, day=DAY2, actor=admin, now=shanghai(DAY2, 20))
    frozen = copy.deepcopy(first.figures)
    assert (first.version, first.published_by, first.published_at) == (1, admin, shanghai(DAY2, 20))
    qiying = village(frozen, "七营村")
    assert (qiying["reached_households"], qiying["reached_today"]) == (5, 1)
    assert (qiying["problems_new"], qiying["problems_open"], qiying["problems_closed"]) == (1, 1, 0)
    assert frozen["total"]["reached_households"] == 6

    # When h8 is reached that evening and the problem is closed
    li_user = scenario.li.user
    sync(li_user, scenario.households["h8"], scenario.questionnaire, "completed",
         shanghai(DAY2, 20, 30))  # fmt: skip
    close(world, problem, at=shanghai(DAY2, 20, 40))

    # Then the published bulletin is unchanged, while the live figures moved
    with time_machine.travel(shanghai(DAY2, 21), tick=False):
        latest = bulletin_latest(town=world.town, day=DAY2)
        assert latest is not None
        assert latest.figures == frozen
        view = bulletin_for_view(user=admin, town=world.town, day=DAY2)
        assert (view.published, view.version, view.status) == (True, 1, STATUS_PUBLISHED)
        assert view.figures == frozen
        live = bulletin_figures(town=world.town, day=DAY2)
    live_qiying = village(live, "七营村")
    assert (live_qiying["reached_households"], live_qiying["reached_today"]) == (6, 2)
    assert (live_qiying["problems_open"], live_qiying["problems_closed"]) == (0, 1)
    assert live["total"]["reached_households"] == 7

    # And publishing again makes version 2 with the new figures; version 1 stays as it was
    second = bulletin_publish(town=world.town, day=DAY2, actor=admin, now=shanghai(DAY2, 21))
    assert second.version == 2
    assert second.number == first.number == "汝集镇访平安通报〔2021〕第1期"
    assert village(second.figures, "七营村")["reached_households"] == 6
    assert village(second.figures, "七营村")["problems_closed"] == 1
    first.refresh_from_db()
    assert first.figures == frozen
    assert bulletin_latest(town=world.town, day=DAY2) == second
    with time_machine.travel(shanghai(DAY2, 22), tick=False):
        assert bulletin_for_view(user=admin, town=world.town, day=DAY2).version == 2


def test_a_bulletin_of_a_past_day_counts_to_the_end_of_that_day(world, scenario):
    bulletin = bulletin_publish(town=world.town, day=DAY1, now=shanghai(DAY2, 9))
    assert bulletin.figures["until"] == "2021-10-19T00:00:00+08:00"
    assert bulletin.figures["generated_at"] == "2021-10-19T09:00:00+08:00"
    # reached on day 1: h2, h3, h4, h9 in 七营村 and x1 in 新桥村 (h1 only on day 2)
    assert village(bulletin.figures, "七营村")["reached_households"] == 4
    assert bulletin.figures["total"]["reached_households"] == 5
    assert bulletin.published_by is None  # the scheduled job


def test_versions_count_per_town_and_date(world, scenario):
    now = shanghai(DAY4, 9)
    made = [
        bulletin_publish(town=world.town, day=DAY1, now=now),
        bulletin_publish(town=world.town, day=DAY1, now=now),
        bulletin_publish(town=world.town, day=DAY2, now=now),
        bulletin_publish(town=world.other_town, day=DAY1, now=now),
        bulletin_publish(town=world.town, day=DAY1, now=now),
    ]
    assert [(b.town.name, b.date, b.version) for b in made] == [
        ("汝集镇", DAY1, 1),
        ("汝集镇", DAY1, 2),
        ("汝集镇", DAY2, 1),
        ("义门镇", DAY1, 1),
        ("汝集镇", DAY1, 3),
    ]
    assert bulletin_latest(town=world.town, day=DAY1) == made[-1]
    assert bulletin_latest(town=world.town, day=DAY3) is None


def test_the_issue_number_counts_the_dates_published_in_the_campaign(world, scenario):
    # Given a bulletin of the town's spring campaign, and one of another town
    spring = make_campaign(world.town, {world.qiying: 10}, name="春季走访",
                           start_date=dt.date(2021, 3, 1), end_date=dt.date(2021, 4, 30))  # fmt: skip
    Bulletin.objects.create(town=world.town, date=dt.date(2021, 3, 5), number="春季第1期",
                            figures={"campaign": {"id": spring.pk}})  # fmt: skip
    now = shanghai(DAY4, 9)
    assert bulletin_publish(town=world.other_town, day=DAY1, now=now).number == (
        "义门镇访平安通报〔2021〕第1期"
    )
    # When the town publishes day after day (a re-publication keeps its date's number)
    numbers = [
        bulletin_publish(town=world.town, day=day, now=now).number
        for day in (DAY1, DAY2, DAY2, DAY4)
    ]
    # Then the 期 counts only this campaign's dates of this town, the 20th not published
    assert numbers == [
        "汝集镇访平安通报〔2021〕第1期",
        "汝集镇访平安通报〔2021〕第2期",
        "汝集镇访平安通报〔2021〕第2期",
        "汝集镇访平安通报〔2021〕第3期",
    ]
    # and a day not yet published shows the number it would get
    with time_machine.travel(now, tick=False):
        assert bulletin_number(town=world.town, day=dt.date(2021, 10, 22)) == (
            "汝集镇访平安通报〔2021〕第4期"
        )


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_only_the_town_center_publishes(world, role):
    make_campaign(world.town, {world.qiying: 4})
    with pytest.raises(PermissionDenied, match="只有汝集镇综治中心"):
        bulletin_publish(town=world.town, day=DAY1, actor=world.users[role],
                         now=shanghai(DAY2, 9))  # fmt: skip
    assert not Bulletin.objects.exists()


def test_another_towns_center_may_not_publish(world):
    make_campaign(world.town, {world.qiying: 4})
    other_admin = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    with pytest.raises(PermissionDenied):
        bulletin_publish(town=world.town, day=DAY1, actor=other_admin, now=shanghai(DAY2, 9))
    own = bulletin_publish(town=world.town, day=DAY1, actor=world.users[Role.TOWN_ADMIN],
                           now=shanghai(DAY2, 9))  # fmt: skip
    assert own.published_by == world.users[Role.TOWN_ADMIN]


def test_a_day_still_to_come_is_refused(world):
    make_campaign(world.town, {world.qiying: 4})
    with pytest.raises(BulletinRefused, match="还没有到"):
        bulletin_publish(town=world.town, day=DAY2, now=shanghai(DAY1, 23, 59))
    with pytest.raises(BulletinRefused, match="不是镇"):
        bulletin_publish(town=world.qiying, day=DAY1, now=shanghai(DAY2, 9))


def test_a_lost_race_for_the_version_is_retried_once(world, monkeypatch):
    make_campaign(world.town, {world.qiying: 4})
    real = services._publish
    calls: list[int] = []

    def collide_first(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("bulletin_unique_version")
        return real(**kwargs)

    monkeypatch.setattr(services, "_publish", collide_first)
    bulletin = bulletin_publish(town=world.town, day=DAY1, now=shanghai(DAY2, 9))
    assert (len(calls), bulletin.version) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_two_publishers_at_once_get_two_versions(world):
    make_campaign(world.town, {world.qiying: 4, world.xinqiao: 2})
    barrier = threading.Barrier(2)
    versions: list[int] = []
    failures: list[BaseException] = []

    def publish() -> None:
        try:
            barrier.wait(timeout=10)
            versions.append(
                bulletin_publish(town=world.town, day=DAY1, now=shanghai(DAY2, 9)).version
            )
        except BaseException as exc:  # reported to the test thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(versions) == [1, 2]
    assert set(Bulletin.objects.values_list("number", flat=True)) == {
        "汝集镇访平安通报〔2021〕第1期"
    }


def test_readers_see_the_bulletins_of_their_town_only(world, scenario):
    now = shanghai(DAY2, 9)
    ours = bulletin_publish(town=world.town, day=DAY1, now=now)
    theirs = bulletin_publish(town=world.other_town, day=DAY1, now=now)
    for role in Role.values:
        assert list(bulletin_list(user=world.users[role])) == [ours], role
    other_county = make_user(Role.COUNTY_VIEWER, world.other_county, username="guoyang")
    assert list(bulletin_list(user=other_county)) == [theirs]
    far_cadre = make_user(Role.CADRE, world.faraway, username="far-reader")
    assert list(bulletin_list(user=far_cadre)) == [theirs]
    inactive = world.users[Role.TOWN_ADMIN]
    inactive.is_active = False
    assert list(bulletin_list(user=inactive)) == []


def test_the_view_is_live_until_published_and_not_found_outside(world, scenario):
    with time_machine.travel(shanghai(DAY2, 9), tick=False):
        view = bulletin_for_view(user=world.users[Role.CADRE], town=world.town, day=DAY1)
        assert (view.published, view.version, view.status) == (False, None, STATUS_LIVE)
        assert view.status == "未发布（实时数据）"
        assert view.number == "汝集镇访平安通报〔2021〕第1期"
        assert view.figures == bulletin_figures(town=world.town, day=DAY1)
        far_cadre = make_user(Role.CADRE, world.faraway, username="far-reader")
        with pytest.raises(Http404):
            bulletin_for_view(user=far_cadre, town=world.town, day=DAY1)
        with pytest.raises(Http404):
            bulletin_for_view(user=world.users[Role.TOWN_ADMIN], town=world.other_town, day=DAY1)
