"""The one place pingan takes "now" from. Tests freeze it with time-machine.

Two deliberate ways to move it, both outside production:
- `at(moment)`: a block of code runs as if it were `moment` (the demo uses it to record
  each synthetic day's visits on that day);
- `settings.PINGAN_DEMO_NOW`: the demo server runs as if the process had started at that
  moment, with time flowing on from there, so a 2021 campaign can be shown "in progress".
"""

import contextlib
import contextvars
import datetime as dt
import functools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")

_at: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("pingan_at", default=None)


@functools.lru_cache(maxsize=4)
def _demo_offset(demo_now: str) -> dt.timedelta:
    if not demo_now:
        return dt.timedelta(0)
    moment = dt.datetime.fromisoformat(demo_now)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment - timezone.now()


def demo_offset() -> dt.timedelta:
    """How far the demo clock runs ahead of (or behind) the real one; zero outside the demo.
    The field page adds it to the phone's clock, so a visit made on the demo site is dated on
    the demo clock like everything the server writes."""
    return _demo_offset(getattr(settings, "PINGAN_DEMO_NOW", ""))


def now() -> dt.datetime:
    """The current aware datetime (UTC inside; convert with `local()` for display and days)."""
    moment = _at.get()
    if moment is not None:
        return moment
    return timezone.now() + demo_offset()


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Run the block as if it were `moment` (aware). For back-filling demo data only."""
    if moment.tzinfo is None:
        raise ValueError("clock.at needs an aware datetime")
    token = _at.set(moment)
    try:
        yield
    finally:
        _at.reset(token)


def local(moment: dt.datetime | None = None) -> dt.datetime:
    """`moment` (default: now) in Asia/Shanghai."""
    return (moment or now()).astimezone(SHANGHAI)


def today() -> dt.date:
    """Today's date in Asia/Shanghai: the day a town official would write on paper."""
    return local().date()
