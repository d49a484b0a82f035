"""The one clock: frozen by tests, moved by `clock.at`, offset for the demo only."""

import datetime as dt

import time_machine

from pingan.core import clock


def test_now_and_today_are_in_shanghai_days():
    # 2021-10-17 16:30 UTC is 00:30 on the 18th in Shanghai.
    with time_machine.travel(dt.datetime(2021, 10, 17, 16, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2021, 10, 18)
        assert clock.local().utcoffset() == dt.timedelta(hours=8)


def test_at_runs_a_block_as_of_a_moment():
    moment = dt.datetime(2021, 10, 16, 19, 30, tzinfo=clock.SHANGHAI)
    with clock.at(moment):
        assert clock.now() == moment
        assert clock.today() == dt.date(2021, 10, 16)
    assert clock.now() != moment


def test_demo_now_starts_the_clock_at_that_moment_and_lets_it_run(settings):
    settings.PINGAN_DEMO_NOW = "2021-10-22T19:45:00+08:00"
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC), tick=False) as t:
        clock._demo_offset.cache_clear()
        assert clock.now() == dt.datetime(2021, 10, 22, 19, 45, tzinfo=clock.SHANGHAI)
        t.shift(dt.timedelta(minutes=20))
        assert clock.now() == dt.datetime(2021, 10, 22, 20, 5, tzinfo=clock.SHANGHAI)
    clock._demo_offset.cache_clear()


def test_without_demo_now_the_clock_is_real_time(settings):
    settings.PINGAN_DEMO_NOW = ""
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC), tick=False):
        assert clock.now() == dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_a_pinned_demo_clock_is_the_same_in_every_process_and_runs_on(settings):
    """`<demo moment>@<real moment>`: a process that asks first, and one that asks an hour
    later (the task worker, a restarted site), read the same demo time."""
    settings.PINGAN_DEMO_NOW = clock.demo_clock_value(
        dt.datetime(2021, 10, 22, 19, 45, tzinfo=clock.SHANGHAI),
        real=dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC),
    )
    assert settings.PINGAN_DEMO_NOW == "2021-10-22T19:45:00+08:00@2026-11-28T12:00:00+00:00"
    assert clock.demo_clock_moment(settings.PINGAN_DEMO_NOW) == dt.datetime(
        2021, 10, 22, 19, 45, tzinfo=clock.SHANGHAI
    )
    with time_machine.travel(dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC), tick=False):
        clock._demo_offset.cache_clear()
        assert clock.now() == dt.datetime(2021, 10, 22, 20, 45, tzinfo=clock.SHANGHAI)
        assert clock.demo_offset() == clock.now() - dt.datetime(2026, 11, 28, 13, 0, tzinfo=dt.UTC)
    clock._demo_offset.cache_clear()
