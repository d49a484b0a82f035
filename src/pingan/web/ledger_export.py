"""The ledger download (台账导出, issue 5): the problems the user sees, with the list page's
filters, as the 台账 workbook. Thin: the scoped selector picks the rows, `ledger.exports`
writes them (streamed to a temporary file, then sent from disk)."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, QueryDict
from django.views.decorators.http import require_GET

from pingan.core import clock
from pingan.ledger.deadlines import Colour
from pingan.ledger.exports import ledger_title, ledger_xlsx_write
from pingan.ledger.models import Problem
from pingan.ledger.selectors import ProblemFilters, problem_list_filtered, problem_scope_q
from pingan.web.views import AuthenticatedRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TRUE_VALUES = frozenset({"1", "true", "on", "yes"})
MAX_SEARCH = 50  # as the list page's form: a longer search is ignored


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def ledger_filters_from_query(query: QueryDict) -> ProblemFilters:
    """The ledger list's GET filters (village, status, colour, unit, category, overdue, q);
    a value that is not one of the choices is ignored, as the list page ignores it."""
    status = query.get("status", "")
    colour = query.get("colour", "")
    search = query.get("q", "").strip()
    return ProblemFilters(
        village_id=_int(query.get("village")),
        status=status if status in Problem.Status.values else "",
        colour=colour if colour in Colour.LABELS else "",
        unit_id=_int(query.get("unit")),
        category=query.get("category", "").strip(),
        overdue=query.get("overdue", "").lower() in TRUE_VALUES,
        search=search if len(search) <= MAX_SEARCH else "",
    )


@login_required
@require_GET
def ledger_export_xlsx(request: AuthenticatedRequest) -> FileResponse:
    """台账-YYYYMMDD.xlsx: the scoped, filtered ledger as of now."""
    user = request.user
    if problem_scope_q(user) is None:
        raise PermissionDenied
    now = clock.now()
    problems = problem_list_filtered(
        user=user, filters=ledger_filters_from_query(request.GET), now=now
    )
    place = user.region.name if user.region is not None else ""
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    ledger_xlsx_write(problems=problems, out=out, title=ledger_title(place=place, now=now), now=now)
    out.seek(0)
    response = FileResponse(
        out,
        as_attachment=True,
        filename=f"台账-{clock.local(now):%Y%m%d}.xlsx",
        content_type=XLSX,
    )
    response["Cache-Control"] = "no-store"
    return response
