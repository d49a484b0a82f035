"""The one place pingan takes "now" from. Tests freeze it with time-machine."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current aware datetime (UTC inside; convert with `local()` for display and days)."""
    return timezone.now()


def local(moment: dt.datetime | None = None) -> dt.datetime:
    """`moment` (default: now) in Asia/Shanghai."""
    return (moment or now()).astimezone(SHANGHAI)


def today() -> dt.date:
    """Today's date in Asia/Shanghai: the day a town official would write on paper."""
    return local().date()
