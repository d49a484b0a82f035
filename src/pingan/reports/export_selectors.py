"""Reads for the background exports (导出任务): the visits an export covers, the jobs a user
sees, and who may ask for or download what.

An export is scoped by the region stored on its job (the requester's scope when they asked),
not by the requester's account as it is when the worker runs.
"""

import datetime as dt

from django.db.models import QuerySet

from pingan.accounts.models import Role, User
from pingan.regions.models import Region
from pingan.reports.models import ExportJob
from pingan.visits.models import Visit
from pingan.visits.selectors import day_bounds, visit_done_at

# Who may export the visits of their scope: the roster readers (docs/architecture.md). A cadre sees only
# their own households and a unit handler never sees the roster.
VISIT_EXPORT_ROLES = frozenset(
    {Role.TOWN_ADMIN, Role.LEADER, Role.VILLAGE_ADMIN, Role.COUNTY_VIEWER}
)


def user_may_export_visits(user: User) -> bool:
    """Whether the user may ask for a visits export of their own region."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role in VISIT_EXPORT_ROLES
        and user.region_id is not None
    )


def visit_list_for_export(
    *,
    region: Region,
    village_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Visit]:
    """The visits done in villages under `region`, optionally in one village and within a
    range of days (Asia/Shanghai, both ends included), in the order of the workbook: by
    village, then by time. A visit belongs to the village recorded with it and is dated as
    the progress figures date it (`visit_done_at`: the phone's end time, capped by the time
    the server received it), so an export of one village and day matches that day's counts.
    """
    visits = Visit.objects.filter(village__path__startswith=region.path)
    if village_id is not None:
        visits = visits.filter(village_id=village_id)
    if date_from is not None or date_to is not None:
        visits = visits.annotate(export_done_at=visit_done_at())
        if date_from is not None:
            visits = visits.filter(export_done_at__gte=day_bounds(date_from)[0])
        if date_to is not None:
            visits = visits.filter(export_done_at__lt=day_bounds(date_to)[1])
    return visits.order_by("village__path", "ended_at", "id")


def export_job_list(*, user: User) -> QuerySet[ExportJob]:
    """The user's own export jobs, newest first, with their region."""
    return ExportJob.objects.filter(requested_by=user).select_related("region")


def export_job_downloadable(*, user: User) -> QuerySet[ExportJob]:
    """Finished jobs whose file the user may download: their own, and, for a town center,
    those of anyone whose scope lay inside the town."""
    jobs = ExportJob.objects.filter(status=ExportJob.Status.DONE)
    if not user.is_authenticated or not user.is_active:
        return jobs.none()
    if user.role == Role.TOWN_ADMIN and user.region is not None:
        mine = jobs.filter(requested_by=user) | jobs.filter(
            region__path__startswith=user.region.path
        )
        return mine.select_related("region")
    return jobs.filter(requested_by=user).select_related("region")
