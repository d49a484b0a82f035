"""The daily bulletin is published by the task queue at 18:00 Asia/Shanghai, once a day."""

import datetime as dt

import pytest
import time_machine
from huey.contrib.djhuey import HUEY

from pingan.core import clock
from pingan.reports.models import Bulletin
from pingan.reports.schedule import bulletin_publish_due, bulletin_time
from tests.factories import make_campaign

SH = clock.SHANGHAI


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def campaign(world):
    return make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})


def run_scheduled_minute(moment: dt.datetime) -> None:
    """What huey's scheduler does at `moment`: run every periodic task due that minute."""
    utc_minute = moment.astimezone(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    with time_machine.travel(moment, tick=False):
        for task in HUEY.read_periodic(utc_minute):
            HUEY.execute(task)


def test_nothing_before_six_in_the_evening(world, campaign):
    run_scheduled_minute(at(2021, 10, 22, 17, 59))
    assert not Bulletin.objects.exists()


def test_at_six_the_days_bulletin_is_published_once(world, campaign):
    run_scheduled_minute(at(2021, 10, 22, 18, 0))
    bulletin = Bulletin.objects.get()
    assert (bulletin.town, bulletin.date, bulletin.version) == (
        world.town,
        dt.date(2021, 10, 22),
        1,
    )
    assert bulletin.published_by is None
    assert bulletin.published_at == at(2021, 10, 22, 18, 0)
    assert bulletin.figures["until"] == "2021-10-22T18:00:00+08:00"
    for minute in range(1, 5):  # the next minutes, and a second worker: nothing more
        run_scheduled_minute(at(2021, 10, 22, 18, minute))
    run_scheduled_minute(at(2021, 10, 22, 23, 59))
    assert Bulletin.objects.count() == 1
    run_scheduled_minute(at(2021, 10, 23, 18, 0))  # the next day gets its own
    assert list(Bulletin.objects.order_by("date").values_list("date", flat=True)) == [
        dt.date(2021, 10, 22), dt.date(2021, 10, 23),
    ]  # fmt: skip


def test_the_day_boundary_is_shanghais(world, campaign):
    # 18:30 in Shanghai is 10:30 UTC; 01:00 in Shanghai on 10-23 is still 10-22 in UTC.
    run_scheduled_minute(at(2021, 10, 23, 1, 0))
    assert not Bulletin.objects.filter(date=dt.date(2021, 10, 23)).exists()


def test_no_bulletin_outside_the_campaign(world, campaign):
    assert bulletin_publish_due(now=at(2021, 10, 9, 19, 0)) == []  # before 10-10
    assert bulletin_publish_due(now=at(2021, 11, 21, 19, 0)) == []  # after 11-20
    assert Bulletin.objects.count() == 0


def test_the_time_is_configurable(world, campaign, settings):
    settings.PINGAN_BULLETIN_TIME = "17:30"
    assert bulletin_time() == dt.time(17, 30)
    assert len(bulletin_publish_due(now=at(2021, 10, 22, 17, 30))) == 1
    settings.PINGAN_BULLETIN_TIME = "六点"
    with pytest.raises(ValueError, match="格式不对"):
        bulletin_time()
