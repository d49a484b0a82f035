"""The one place pingan takes "now" from. Tests freeze it with time-machine.

Two deliberate ways to move it, both outside production:
- `at(moment)`: a block of code runs as if it were `moment` (the demo uses it to record
  each synthetic day's visits on that day);
- `settings.PINGAN_DEMO_NOW`: the demo site runs on a demo clock, so a 2021 campaign can be
  shown "in progress". `"<demo moment>@<real moment>"` says the demo moment corresponds to
  that real moment: every process (the site, its task worker, a shell) then reads the same
  clock, and time flows on across restarts. A bare `"<demo moment>"` starts the clock at
  that moment when the process first asks for the time.
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


def _aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


@functools.lru_cache(maxsize=4)
def _demo_offset(demo_now: str) -> dt.timedelta:
    if not demo_now:
        return dt.timedelta(0)
    moment, _, anchor = demo_now.partition("@")
    return _aware(moment) - (_aware(anchor) if anchor.strip() else timezone.now())


def demo_clock_value(moment: dt.datetime, *, real: dt.datetime | None = None) -> str:
    """The `PINGAN_DEMO_NOW` value that sets the demo clock to `moment` at the real moment
    `real` (default: now), for every process that reads it."""
    return f"{moment.isoformat()}@{(real or timezone.now()).isoformat()}"


def demo_clock_moment(value: str) -> dt.datetime | None:
    """The demo moment a `PINGAN_DEMO_NOW` value starts from; None if unset or unreadable."""
    try:
        return _aware(value.partition("@")[0]) if value.strip() else None
    except ValueError:
        return None


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
