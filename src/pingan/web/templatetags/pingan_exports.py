"""Template helpers for the export pages and the links to them."""

from django import template
from django.utils.translation import gettext

from pingan.reports.export_selectors import user_may_export_visits
from pingan.reports.models import ExportJob

register = template.Library()


@register.filter
def can_export_visits(user) -> bool:
    """Whether the user may ask for a visits export (and open the export page)."""
    return bool(getattr(user, "is_authenticated", False)) and user_may_export_visits(user)


@register.filter
def export_filters(job: ExportJob) -> str:
    """What a job covers, as one line: 七营村 · 2021-10-18 至 2021-10-19."""
    params = job.params or {}
    place = params.get("village_name") or job.region.name
    start, end = params.get("date_from"), params.get("date_to")
    if start and end:
        days = gettext("%(start)s 至 %(end)s") % {"start": start, "end": end}
    elif start:
        days = gettext("%(start)s 起") % {"start": start}
    elif end:
        days = gettext("截至 %(end)s") % {"end": end}
    else:
        days = gettext("全部日期")
    return f"{place} · {days}"
