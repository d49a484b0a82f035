"""Reads of the daily bulletin (每日通报): published versions, who may read and publish them,
the bulletin's number (文号), and the figures a page or a document shows for one town and day.

Who reads a town's bulletin: everyone whose scope holds the town (the town center, leaders,
the county) and everyone working inside it (village admins, cadres, unit handlers) — the
notice has the center circulate each day's progress to every village and unit
("镇综治中心将每日对各村、各单位走访情况进行通报"). The bulletin holds counts and problem codes
only, no personal data.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import Http404

from pingan.accounts.models import Role, User
from pingan.accounts.selectors import user_scope_path
from pingan.campaigns.models import Campaign
from pingan.campaigns.selectors import campaign_current
from pingan.regions.models import Region
from pingan.reports.figures import bulletin_figures, village_bulletin_figures
from pingan.reports.models import Bulletin

STATUS_PUBLISHED = "已发布"
STATUS_LIVE = "未发布（实时数据）"


def _ancestor_paths(path: str) -> list[str]:
    """ "/34/3416/341623/" → ["/34/", "/34/3416/", "/34/3416/341623/"]."""
    codes = [code for code in path.strip("/").split("/") if code]
    return ["/" + "/".join(codes[: n + 1]) + "/" for n in range(len(codes))]


def bulletin_scope_q(user: User) -> Q | None:
    """The filter on Bulletin for this user: towns in their subtree, or the town they work in;
    None when they may read no bulletin."""
    path = user_scope_path(user)
    if path is None:
        return None
    return Q(town__path__startswith=path) | Q(town__path__in=_ancestor_paths(path))


def user_can_read_bulletin(*, user: User, town: Region) -> bool:
    path = user_scope_path(user)
    return path is not None and (town.path.startswith(path) or path.startswith(town.path))


def user_can_publish_bulletin(*, user: User, town: Region) -> bool:
    """Only the town center (镇综治中心, role town_admin) of that very town publishes."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role == Role.TOWN_ADMIN
        and user.region_id == town.pk
    )


def bulletin_list(*, user: User) -> QuerySet[Bulletin]:
    """Published bulletins the user may read, every version, newest date first per town."""
    scope = bulletin_scope_q(user)
    if scope is None:
        return Bulletin.objects.none()
    return (
        Bulletin.objects.filter(scope)
        .select_related("town", "published_by")
        .order_by("town__path", "-date", "-version")
    )


def bulletin_latest(*, town: Region, day: dt.date) -> Bulletin | None:
    """The latest published version of `town`'s bulletin for `day`, or None."""
    return Bulletin.objects.filter(town=town, date=day).order_by("-version").first()


def bulletin_issue_number(
    *, town: Region, day: dt.date, campaign: Campaign | Literal["current"] | None = "current"
) -> int:
    """The 期 number of `day`'s bulletin: how many distinct dates of the town's current
    campaign have a bulletin, up to and including `day` (counting `day` even when it has
    none yet). A date published again keeps its number (see `bulletin_number`)."""
    if campaign == "current":
        campaign = campaign_current(town=town)
    published = Bulletin.objects.filter(town=town, date__lte=day).exclude(date=day)
    if campaign is not None:
        published = published.filter(figures__campaign__id=campaign.pk)
    return published.values("date").distinct().count() + 1


def bulletin_number(*, town: Region, day: dt.date) -> str:
    """The 文号 of `day`'s bulletin, e.g. 汝集镇访平安通报〔2021〕第7期: the number it was first
    published under, or the one it would get if it were published now."""
    latest = bulletin_latest(town=town, day=day)
    if latest is not None:
        return latest.number
    return _new_number(town=town, day=day)


def _new_number(*, town: Region, day: dt.date, campaign: Any = "current") -> str:
    issue = bulletin_issue_number(town=town, day=day, campaign=campaign)
    return f"{town.name}访平安通报〔{day.year}〕第{issue}期"


@dataclass(frozen=True)
class BulletinView:
    """What a page or a document shows: the latest published version's frozen figures, or
    the live figures (`bulletin` None) while that day has no published bulletin."""

    figures: dict[str, Any]
    number: str
    bulletin: Bulletin | None

    @property
    def published(self) -> bool:
        return self.bulletin is not None

    @property
    def version(self) -> int | None:
        return self.bulletin.version if self.bulletin is not None else None

    @property
    def status(self) -> str:
        """已发布 / 未发布（实时数据）, as pages and documents label it."""
        return STATUS_PUBLISHED if self.published else STATUS_LIVE


def bulletin_current(*, town: Region, day: dt.date, now: dt.datetime | None = None) -> BulletinView:
    """`town`'s bulletin for `day` as it stands: published (latest version) or live. Unscoped,
    for the scheduled job and the command line; pages use `bulletin_for_view`."""
    latest = bulletin_latest(town=town, day=day)
    if latest is not None:
        return BulletinView(figures=latest.figures, number=latest.number, bulletin=latest)
    campaign = campaign_current(town=town)  # once, for both the figures and the number
    return BulletinView(
        figures=bulletin_figures(town=town, day=day, now=now, campaign=campaign),
        number=_new_number(town=town, day=day, campaign=campaign),
        bulletin=None,
    )


def bulletin_town_get(*, user: User, town_id: int) -> Region:
    """The town whose bulletin `user` may read (404 otherwise, existence not revealed)."""
    town = Region.objects.filter(kind=Region.Kind.TOWN, pk=town_id).first()
    if town is None or not user_can_read_bulletin(user=user, town=town):
        raise Http404("bulletin not found")
    return town


def bulletin_for_view(
    *, user: User, town: Region, day: dt.date, now: dt.datetime | None = None
) -> BulletinView:
    """`bulletin_current` for a user who may read the town's bulletin; 404 otherwise (the
    town's existence is not revealed)."""
    if town.kind != Region.Kind.TOWN or not user_can_read_bulletin(user=user, town=town):
        raise Http404("bulletin not found")
    return bulletin_current(town=town, day=day, now=now)


def village_bulletin_for_view(*, user: User, village: Region, day: dt.date) -> BulletinView:
    """One village's part of the day's bulletin for a user who may read its town's: the
    latest published version (frozen, the whole town's figures) or, while the day has none,
    the village's live figures alone (`figures.village_bulletin_figures`: its row and rank,
    without counting every village's figures); 404 otherwise."""
    town = village.parent
    if town is None or not user_can_read_bulletin(user=user, town=town):
        raise Http404("bulletin not found")
    latest = bulletin_latest(town=town, day=day)
    if latest is not None:
        return BulletinView(figures=latest.figures, number=latest.number, bulletin=latest)
    return BulletinView(
        figures=village_bulletin_figures(village=village, day=day),
        number=_new_number(town=town, day=day),
        bulletin=None,
    )
