"""The ledger download (台账导出, issue 5): the problems the user sees, with the list page's
filters, as the 台账 workbook. Thin: the scoped selector picks the rows, `ledger.exports`
writes them (streamed to a temporary file, then sent from disk)."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.views.decorators.http import require_GET

from pingan.core import clock
from pingan.ledger.exports import ledger_title, ledger_xlsx_write
from pingan.ledger.selectors import problem_list_filtered, problem_scope_q
from pingan.web.ledger import ledger_filters
from pingan.web.views import AuthenticatedRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def ledger_export_xlsx(request: AuthenticatedRequest) -> FileResponse:
    """台账-YYYYMMDD.xlsx: the scoped, filtered ledger as of now."""
    user = request.user
    if problem_scope_q(user) is None:
        raise PermissionDenied
    now = clock.now()
    _, filters = ledger_filters(request)
    problems = problem_list_filtered(user=user, filters=filters, now=now)
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
