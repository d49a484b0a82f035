"""Back-office pages for background exports (导出, issue 6): the user's export jobs, the form
that asks for a visits export, and the download of a finished file. Thin: the services in
`pingan.reports.export_services` check, queue, run and find; the worker writes the file.

Roles that may not export get 403 here; a job the user may not download is 404.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from pingan.accounts.models import User
from pingan.regions.models import Region
from pingan.regions.selectors import village_list
from pingan.reports.export_selectors import export_job_list, user_may_export_visits
from pingan.reports.export_services import (
    ExportNotFound,
    ExportParamsError,
    export_file_for,
    export_request,
)
from pingan.reports.models import ExportJob
from pingan.web.views import AuthenticatedRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOBS_PER_PAGE = 20
# While a job on the page is queued or running, the page reloads itself this often.
REFRESH_SECONDS = 5


class VisitExportForm(forms.Form):
    """The filters of a visits export; the service checks them against the user's scope."""

    village_id = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=_("村（可不选）")
    )
    date_from = forms.DateField(
        required=False,
        label=_("开始日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        required=False,
        label=_("结束日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        villages = village_list(user=user)
        above_town = user.region is not None and user.region.kind not in (
            Region.Kind.TOWN,
            Region.Kind.VILLAGE,
        )
        choices = [
            (v.pk, f"{v.parent.name if v.parent else ''} {v.name}" if above_town else v.name)
            for v in villages
        ]
        field: forms.TypedChoiceField = self.fields["village_id"]  # type: ignore[assignment]
        field.choices = [("", gettext("全部村")), *choices]


def _require_exporter(user: User) -> None:
    if not user_may_export_visits(user):
        raise PermissionDenied


@login_required
@never_cache
def export_list(request: AuthenticatedRequest) -> HttpResponse:
    """/exports/: the user's export jobs, newest first, and the form to ask for another."""
    user = request.user
    _require_exporter(user)
    initial = {"village_id": request.GET.get("village")} if request.GET.get("village") else {}
    form = VisitExportForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            export_request(user=user, kind=ExportJob.Kind.VISITS, params=form.cleaned_data)
        except ExportParamsError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("已提交导出申请，完成后可在下方下载。"))
            return redirect("web:export_list")
    page = Paginator(export_job_list(user=user), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    waiting = any(not job.over for job in page.object_list)
    context = {
        "form": form,
        "page": page,
        # Reloading would drop what was typed into a form sent back with errors.
        "refresh": REFRESH_SECONDS if waiting and not form.is_bound else None,
    }
    response = render(request, "web/exports/list.html", context, status=422 if form.errors else 200)
    if context["refresh"]:
        # The HTTP form of <meta http-equiv="refresh">: the browser reloads, no script needed
        # (the base template has no block in <head> for a meta element).
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@login_required
@require_GET
def export_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The file of a finished export, for its requester (or the town center of its scope)."""
    try:
        found = export_file_for(user=request.user, job_id=pk)
    except ExportNotFound as exc:
        raise Http404 from exc
    response = FileResponse(
        found.path.open("rb"), as_attachment=True, filename=found.filename, content_type=XLSX
    )
    response["Cache-Control"] = "no-store"
    return response
