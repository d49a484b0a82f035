"""Writes of the daily bulletin (每日通报): publishing one town's figures for one day, frozen.

A published version never changes. Publishing the same day again stores the figures as they
stand then, as the next version, under the same number (文号); pages and documents show the
latest version (`selectors.bulletin_latest`).
"""

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max

from pingan.accounts.models import User
from pingan.core import clock
from pingan.regions.models import Region
from pingan.reports.figures import bulletin_figures
from pingan.reports.models import Bulletin
from pingan.reports.selectors import bulletin_latest, bulletin_number, user_can_publish_bulletin

__all__ = ["BulletinRefused", "bulletin_latest", "bulletin_publish"]

logger = logging.getLogger(__name__)


class BulletinRefused(ValueError):
    """A bulletin that cannot be published (not a town, a day still to come)."""


def bulletin_publish(
    *, town: Region, day: dt.date, actor: User | None = None, now: dt.datetime | None = None
) -> Bulletin:
    """Publish `town`'s bulletin for `day`: its figures as of `now` (the end of `day` once the
    day is over), stored as the next version. `actor` None is the scheduled job; otherwise
    only the town center (town_admin) of that town may publish."""
    if actor is not None and not user_can_publish_bulletin(user=actor, town=town):
        raise PermissionDenied(f"只有{town.name}综治中心（镇管理员）可以发布本镇的每日通报")
    if town.kind != Region.Kind.TOWN:
        raise BulletinRefused(f"{town.name}不是镇，不能发布每日通报")
    now = now or clock.now()
    if day > clock.local(now).date():
        raise BulletinRefused(f"不能发布 {day:%Y-%m-%d} 的通报：这一天还没有到")
    try:
        bulletin = _publish(town=town, day=day, actor=actor, now=now)
    except IntegrityError:
        # Another publish took this version between our read and our insert (a database
        # without row locks); the next attempt sees it and takes the one after.
        bulletin = _publish(town=town, day=day, actor=actor, now=now)
    logger.info("bulletin published: %s v%d (%s)", bulletin.number, bulletin.version, day)
    return bulletin


@transaction.atomic
def _publish(*, town: Region, day: dt.date, actor: User | None, now: dt.datetime) -> Bulletin:
    # One publisher per town at a time: the town's row, locked without blocking the rows that
    # refer to it (FOR NO KEY UPDATE on PostgreSQL; SQLite's write lock does the same).
    Region.objects.select_for_update(no_key=True).filter(pk=town.pk).values_list("pk").first()
    last = Bulletin.objects.filter(town=town, date=day).aggregate(last=Max("version"))["last"]
    return Bulletin.objects.create(
        town=town,
        date=day,
        version=(last or 0) + 1,
        number=bulletin_number(town=town, day=day),
        figures=bulletin_figures(town=town, day=day, now=now),
        published_at=now,
        published_by=actor,
    )
