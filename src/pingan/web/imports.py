"""Back-office pages for roster imports: upload (households, cadres), result, history,
error workbooks and initial password sheets. Thin: the services in
`pingan.regions.importing` and `pingan.accounts.importing` do the work.

Roles that may not import get 403 on every page here; a batch or sheet outside the user's
scope is 404.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pingan.accounts.importing import (
    PasswordSheetGone,
    cadre_import,
    password_sheet_discard,
    password_sheet_download,
    password_sheet_list,
)
from pingan.accounts.models import User
from pingan.regions.importing import ImportDenied, ImportFileError, household_import
from pingan.regions.importing.readers import SUFFIXES
from pingan.regions.importing.results import ImportResult
from pingan.regions.importing.selectors import (
    import_batch_errors,
    import_batch_get,
    import_batch_list,
)
from pingan.regions.importing.villages import user_can_import
from pingan.regions.models import ImportBatch, Region
from pingan.regions.selectors import village_list
from pingan.web.views import AuthenticatedRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCHES_PER_PAGE = 30
# Rows of changes / rejections shown on a result page (all are in the error workbook).
SHOW_MAX = 500
# ImportBatch.Kind labels, for the catalogue (the history page translates them).
KIND_LABELS = (gettext_noop("住户花名册"), gettext_noop("党员干部名单"))
KIND_TITLES: dict[str, Any] = {
    ImportBatch.Kind.HOUSEHOLDS: _("导入住户花名册"),
    ImportBatch.Kind.CADRES: _("导入党员干部名单"),
}
SERVICES: dict[str, Callable[..., ImportResult]] = {
    ImportBatch.Kind.HOUSEHOLDS: household_import,
    ImportBatch.Kind.CADRES: cadre_import,
}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"), help_text=_("Excel（.xlsx、.xls）或 CSV（UTF-8 或 GBK 编码）")
    )
    village = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        required=False,
        label=_("村（可不选）"),
        empty_label=_("按表中的“村”列或标题"),
    )
    dry_run = forms.BooleanField(required=False, initial=False, label=_("预检（不写入）"))

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = village_list(user=user)  # type: ignore[attr-defined]
        self.fields["file"].widget.attrs["accept"] = ",".join(SUFFIXES)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(_("请上传 .xlsx、.xls 或 .csv 文件。"))
        return upload


def _require_importer(user: User) -> None:
    if not user_can_import(user):
        raise PermissionDenied


def _result_context(result: ImportResult) -> dict:
    summary = result.summary()
    return {
        "counts": result.counts,
        "total": result.data_rows,
        "changes": summary["changes"][:SHOW_MAX],
        "rejections": summary["rejections"][:SHOW_MAX],
        "more": summary["truncated"]
        or len(summary["changes"]) > SHOW_MAX
        or len(summary["rejections"]) > SHOW_MAX,
        "columns": result.columns,
        "header_row": result.header_row,
        "title_village": result.title_village,
    }


@login_required
@never_cache
def import_upload(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    user = request.user
    _require_importer(user)
    initial = {"village": request.GET.get("village")} if request.GET.get("village") else {}
    form = ImportForm(request.POST or None, request.FILES or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = SERVICES[kind](
                actor=user,
                source=upload.read(),
                filename=upload.name,
                village=form.cleaned_data["village"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except (ImportFileError, ImportDenied) as exc:
            form.add_error(None, exc.message)
        else:
            if result.batch_id is not None:
                return redirect("web:import_detail", result.batch_id)
            context = {
                "title": KIND_TITLES[kind],
                "kind": kind,
                "file_name": result.file_name,
                "dry_run": True,
                **_result_context(result),
            }
            return render(request, "web/imports/result.html", context)
    context = {"title": KIND_TITLES[kind], "kind": kind, "form": form}
    return render(request, "web/imports/upload.html", context)


@login_required
def import_list(request: AuthenticatedRequest) -> HttpResponse:
    _require_importer(request.user)
    page = Paginator(import_batch_list(user=request.user), BATCHES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/imports/list.html", {"page": page})


@login_required
@never_cache
def import_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    _require_importer(user)
    batch = import_batch_get(user=user, pk=pk)
    if batch is None:
        raise Http404
    summary = batch.summary or {}
    counts = {
        "created": batch.created_count,
        "updated": batch.updated_count,
        "unchanged": batch.unchanged_count,
        "rejected": batch.rejected_count,
    }
    context = {
        "title": gettext(batch.get_kind_display()),
        "kind": batch.kind,
        "batch": batch,
        "file_name": batch.file_name,
        "dry_run": False,
        "counts": counts,
        "total": batch.total_rows,
        "changes": summary.get("changes", [])[:SHOW_MAX],
        "rejections": summary.get("rejections", [])[:SHOW_MAX],
        "more": summary.get("truncated", False),
        "columns": summary.get("columns", {}),
        "header_row": summary.get("header_row"),
        "title_village": summary.get("title_village", ""),
        "password_sheets": password_sheet_list(user=user).filter(batch=batch),
        "has_errors": batch.rejected_count > 0,
    }
    return render(request, "web/imports/result.html", context)


def _xlsx(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def import_errors(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _require_importer(request.user)
    found = import_batch_errors(user=request.user, pk=pk)
    if found is None:
        raise Http404
    file_name, content = found
    return _xlsx(f"{Path(file_name).stem}-错误行.xlsx", content)


@login_required
@require_POST
def password_sheet_get(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Download one initial password sheet (POST, so no prefetch or crawler logs a download)."""
    _require_importer(request.user)
    sheet = get_object_or_404(password_sheet_list(user=request.user), pk=pk)
    try:
        content = password_sheet_download(
            actor=request.user, sheet=sheet, ip_address=request.META.get("REMOTE_ADDR")
        )
    except PasswordSheetGone as exc:
        raise Http404 from exc
    return _xlsx(f"{sheet.village.name}-初始密码.xlsx", content)


@login_required
@require_POST
def password_sheet_destroy(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _require_importer(request.user)
    sheet = get_object_or_404(password_sheet_list(user=request.user), pk=pk)
    password_sheet_discard(actor=request.user, sheet=sheet)
    return redirect("web:import_detail", sheet.batch_id)
