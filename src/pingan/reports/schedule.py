"""The daily bulletin on a schedule: every day at `PINGAN_BULLETIN_TIME` (18:00 Asia/Shanghai
by default) each town with a campaign under way gets its bulletin published, once.

The task queue asks every minute (`reports.tasks`); `bulletin_publish_due` publishes only for
towns that have no bulletin for today yet, so a missed minute, a second worker or a rerun
changes nothing, and a town center that published by hand earlier keeps its version.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef

from pingan.campaigns.models import Campaign
from pingan.core import clock
from pingan.regions.models import Region
from pingan.reports.models import Bulletin
from pingan.reports.services import bulletin_publish


def bulletin_time() -> dt.time:
    """The configured time of day (Asia/Shanghai) for the daily bulletin."""
    value = getattr(settings, "PINGAN_BULLETIN_TIME", "18:00") or "18:00"
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"PINGAN_BULLETIN_TIME 格式不对：{value}（应为 HH:MM，如 18:00）") from exc


def towns_due(*, now: dt.datetime) -> list[Region]:
    """Towns whose campaign runs today and that have no bulletin for today, once the
    configured time has passed."""
    moment = clock.local(now)
    if moment.time() < bulletin_time():
        return []
    today = moment.date()
    running = Campaign.objects.filter(
        town=OuterRef("pk"), start_date__lte=today, end_date__gte=today
    )
    published = Bulletin.objects.filter(town=OuterRef("pk"), date=today)
    return list(
        Region.objects.filter(kind=Region.Kind.TOWN)
        .filter(Exists(running))
        .exclude(Exists(published))
        .order_by("path")
    )


def bulletin_publish_due(*, now: dt.datetime | None = None) -> list[Bulletin]:
    """Publish today's bulletin for every town that is due (see `towns_due`)."""
    now = now or clock.now()
    today = clock.local(now).date()
    return [bulletin_publish(town=town, day=today, now=now) for town in towns_due(now=now)]
