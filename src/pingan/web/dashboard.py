"""每日通报 on screen (issue 6): the town dashboard with its chart, downloads and the publish
button; one village's page from the same figures; and the leaflets (宣传资料) the town center
issues to the villages.

Every figure comes from the bulletin (`reports.selectors.bulletin_for_view`): the frozen
figures of the day's latest published version, or the live ones while the day has none, so
the screen, the documents and the command always agree. Pages never compute a figure of
their own; the chart only turns the figures into coordinates.
"""

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.models import User
from pingan.accounts.selectors import user_scope_path
from pingan.campaigns.models import LeafletIssue
from pingan.campaigns.selectors import campaign_current, leaflet_issue_list, leaflet_totals
from pingan.campaigns.services.leaflets import (
    LeafletIssueError,
    leaflet_issue_record,
    user_can_record_leaflets,
)
from pingan.core import clock
from pingan.ledger.deadlines import Colour
from pingan.ledger.selectors import ProblemFilters, problem_colour_counts
from pingan.regions.models import Region
from pingan.regions.selectors import town_list, village_list
from pingan.reports.render import COLUMNS, FLAG, RENDERERS, column_text, table_rows
from pingan.reports.selectors import (
    BulletinView,
    bulletin_for_view,
    bulletin_list,
    bulletin_town_get,
    user_can_publish_bulletin,
    village_bulletin_for_view,
)
from pingan.reports.services import BulletinRefused, bulletin_publish
from pingan.reports.summary import bulletin_summary
from pingan.web.views import AuthenticatedRequest, _breadcrumbs

# format → (content type, downloaded as a file rather than shown in the browser)
DOWNLOADS: dict[str, tuple[str, bool]] = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", True),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
    "html": ("text/html; charset=utf-8", False),
    "json": ("application/json; charset=utf-8", False),
}
DOWNLOAD_LABELS = {
    "xlsx": gettext_lazy("Excel 表格"),
    "docx": gettext_lazy("Word 通报"),
    "html": gettext_lazy("打印版网页"),
    "json": gettext_lazy("JSON 数据"),
}
assert set(DOWNLOADS) == set(RENDERERS)  # noqa: S101 - every renderer has a download
LEAFLETS_PER_PAGE = 50
LEAFLETS_ON_VILLAGE_PAGE = 20
TWO_PLACES = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# The day a page is about


class DayForm(forms.Form):
    """The bulletin's date (`?date=YYYY-MM-DD`, default today); a day still to come has no
    bulletin."""

    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        label=gettext_lazy("通报日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["date"].widget.attrs["max"] = today.isoformat()

    def clean_date(self) -> dt.date | None:
        day = self.cleaned_data.get("date")
        if day is not None and day > self.today:
            raise forms.ValidationError(
                _("%(day)s 还没有到，没有这一天的通报。") % {"day": day.isoformat()}
            )
        return day

    def day(self) -> dt.date:
        """The chosen day, or today when none (or an invalid one) was given."""
        if self.is_bound and self.is_valid() and self.cleaned_data.get("date"):
            return self.cleaned_data["date"]
        return self.today


def _day_form(request: AuthenticatedRequest, today: dt.date) -> DayForm:
    data = request.GET if request.GET.get("date") else None
    return DayForm(data, today=today, initial={"date": today})


def _day_nav(url: str, day: dt.date, today: dt.date) -> dict[str, str]:
    """Links to the day before and (until today) the day after."""
    return {
        "previous": f"{url}?date={day - dt.timedelta(days=1):%Y-%m-%d}",
        "next": f"{url}?date={day + dt.timedelta(days=1):%Y-%m-%d}" if day < today else "",
        "today": url if day != today else "",
    }


def _in_scope(user: User, region: Region) -> bool:
    """Whether `region` lies in the user's subtree (no query: the user's region is loaded)."""
    path = user_scope_path(user)
    return path is not None and region.path.startswith(path)


# ---------------------------------------------------------------------------------------------
# What the pages show, from the figures alone


def _cells(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The row's figures under the bulletin's columns (the village name left out)."""
    return [
        {
            "key": column.key,
            "label": column.label,
            "text": column_text(row, column),
            "flag": column.kind == FLAG,
        }
        for column in COLUMNS[1:]
    ]


def bulletin_table(figures: dict[str, Any]) -> dict[str, Any]:
    """The bulletin's table as the page shows it: the same columns, in the same order, as
    every document (`reports.render.COLUMNS`); the village rows, then 合计."""
    rows = [
        {
            "name": row["name"],
            "village_id": row.get("village_id"),
            "lagging": bool(row.get("lagging")),
            "cells": _cells(row),
        }
        for row in table_rows(figures)
    ]
    total = rows.pop() if figures.get("total") is not None else None
    return {"header": [column.label for column in COLUMNS], "rows": rows, "total": total}


def pace_percent(pace: dict[str, Any] | None) -> Decimal | None:
    """How far into the visiting phase the day is, in % (序时进度): days elapsed ÷ days."""
    if not pace or not pace["days_total"]:
        return None
    return (Decimal(pace["days_elapsed"]) * 100 / pace["days_total"]).quantize(
        TWO_PLACES, rounding=ROUND_HALF_UP
    )


# The chart's geometry (SVG user units; the SVG scales to the screen's width).
CHART_LABEL = 72  # the village names, right-aligned before the bars
CHART_PLOT = 284  # the bars (narrow: the text stays readable when a phone shrinks the SVG)
CHART_VALUE = 64  # the percentage after the longest bar
CHART_ROW = 26
CHART_BAR = 16
CHART_TOP = 24  # room for the pace label
CHART_BOTTOM = 22  # room for the axis labels


def _x(value: Decimal, scale: int) -> float:
    return CHART_LABEL + float(value) / scale * CHART_PLOT


def _n(value: float) -> str:
    """An SVG coordinate: one decimal, a dot whatever the language."""
    return f"{value:.1f}"


def completion_chart(figures: dict[str, Any]) -> dict[str, Any] | None:
    """A horizontal bar chart of 完成率 by village with the pace mark (序时进度), as plain
    coordinates for an inline SVG. None when there is nothing to draw."""
    villages = figures.get("villages") or []
    pace = pace_percent(figures.get("pace"))
    if not villages or pace is None:
        return None
    values = [Decimal(v["completion_pct"]) for v in villages if v["completion_pct"] is not None]
    top = max([Decimal(100), pace, *values])
    scale = int(math.ceil(top / 25) * 25)
    step = 25 if scale <= 100 else 50 if scale <= 300 else 100
    bottom = CHART_TOP + len(villages) * CHART_ROW
    bars = []
    for position, village in enumerate(villages):
        y = CHART_TOP + position * CHART_ROW + (CHART_ROW - CHART_BAR) / 2
        pct = village["completion_pct"]
        end = _x(Decimal(pct), scale) if pct is not None else CHART_LABEL
        bars.append(
            {
                "name": village["name"],
                "pct": pct,
                "lagging": bool(village["lagging"]),
                "y": _n(y),
                "text_y": _n(y + CHART_BAR - 3),
                "width": _n(end - CHART_LABEL),
                "value_x": _n(end + 4),
            }
        )
    pace_x = _x(pace, scale)
    return {
        "width": CHART_LABEL + CHART_PLOT + CHART_VALUE,
        "height": bottom + CHART_BOTTOM,
        "x0": CHART_LABEL,
        "label_x": CHART_LABEL - 6,
        "bar": CHART_BAR,
        "bars": bars,
        "top": CHART_TOP - 6,
        "bottom": bottom,
        "axis_y": bottom + 15,
        "ticks": [
            {"x": _n(_x(Decimal(tick), scale)), "label": f"{tick}%"}
            for tick in range(0, scale + 1, step)
        ],
        "full_x": _n(_x(Decimal(100), scale)) if scale > 100 else "",
        "pace": str(pace),
        "pace_x": _n(pace_x),
        # the label sits left of the mark when the mark is in the right half
        "pace_anchor": "end" if pace_x > CHART_LABEL + CHART_PLOT / 2 else "start",
        "pace_label_x": _n(pace_x - 3 if pace_x > CHART_LABEL + CHART_PLOT / 2 else pace_x + 3),
        "pace_label_y": CHART_TOP - 10,
    }


def _status(view: BulletinView) -> dict[str, Any]:
    """已发布第N版（时间） or live, the number (文号) and the moment the figures count up to
    (the end of the day reads 24:00 of that day, as the documents say 24时)."""
    bulletin = view.bulletin
    until = clock.local(dt.datetime.fromisoformat(view.figures["until"]))
    day = dt.date.fromisoformat(view.figures["date"])
    return {
        "published": view.published,
        "version": view.version,
        "published_at": clock.local(bulletin.published_at) if bulletin is not None else None,
        "number": view.number,
        "until_text": f"{day:%Y-%m-%d} 24:00" if until.date() > day else f"{until:%Y-%m-%d %H:%M}",
    }


def _download_links(town: Region, day: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "format": fmt,
            "label": DOWNLOAD_LABELS[fmt],
            "url": reverse("web:bulletin_download", args=[town.pk, day.isoformat(), fmt]),
        }
        for fmt in DOWNLOADS
    ]


# ---------------------------------------------------------------------------------------------
# The town dashboard, its downloads and the publish button


@login_required
@require_GET
def bulletin(request: AuthenticatedRequest, town_id: int) -> HttpResponse:
    """One town's bulletin of one day on screen (every village, 合计, the pace, the text,
    通报批评, a chart), with the downloads, the published versions and, for the town center,
    the publish button."""
    user = request.user
    town = bulletin_town_get(user=user, town_id=town_id)
    today = clock.today()
    form = _day_form(request, today)
    day = form.day()
    view = bulletin_for_view(user=user, town=town, day=day)
    figures = view.figures
    url = reverse("web:bulletin", args=[town.pk])
    # the day's published versions (none to look for while the page shows live figures)
    versions = list(bulletin_list(user=user).filter(town=town, date=day)) if view.published else []
    context = {
        "town": town,
        "breadcrumbs": _breadcrumbs(user=user, region=town),
        "day": day,
        "today": today,
        "form": form,
        "nav": _day_nav(url, day, today),
        "figures": figures,
        "status": _status(view),
        "table": bulletin_table(figures),
        "pace": figures.get("pace"),
        "pace_percent": pace_percent(figures.get("pace")),
        "paragraphs": bulletin_summary(figures),
        "criticized": figures.get("criticized") or [],
        # 对各单位 (a bulletin published before units were counted has none)
        "units": figures.get("units") or [],
        "chart": completion_chart(figures),
        "downloads": _download_links(town, day),
        "versions": versions,
        "can_publish": user_can_publish_bulletin(user=user, town=town),
        "leaflets_url": reverse("web:leaflets", args=[town.pk]) if _in_scope(user, town) else "",
        "town_url": reverse("web:town", args=[town.pk]) if _in_scope(user, town) else "",
    }
    return render(request, "web/dashboard/bulletin.html", context)


@login_required
@require_GET
def bulletin_download(
    request: AuthenticatedRequest, town_id: int, day: str, fmt: str
) -> HttpResponse:
    """The day's bulletin as a document: the latest published version, else the live
    figures (the documents say which)."""
    user = request.user
    town = bulletin_town_get(user=user, town_id=town_id)
    try:
        date = dt.date.fromisoformat(day)
    except ValueError as exc:
        raise Http404("no such date") from exc
    if date > clock.today() or fmt not in DOWNLOADS:
        raise Http404("no such bulletin")
    view = bulletin_for_view(user=user, town=town, day=date)
    render_document, _binary = RENDERERS[fmt]
    document = render_document(
        view.figures, number=view.number, version=view.version, published=view.published
    )
    content_type, attachment = DOWNLOADS[fmt]
    response = HttpResponse(document, content_type=content_type)
    suffix = f"-第{view.version}版" if view.published and (view.version or 0) > 1 else ""
    name = f"{town.name}每日通报-{date.isoformat()}{suffix}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(attachment, name) or ""
    return response


@login_required
@require_POST
def bulletin_publish_view(request: AuthenticatedRequest, town_id: int) -> HttpResponse:
    """发布通报: the town center freezes the day's figures as the next version. Someone who may
    read the bulletin but not publish it gets 403; someone who may not read it, 404."""
    user = request.user
    town = bulletin_town_get(user=user, town_id=town_id)
    if not user_can_publish_bulletin(user=user, town=town):
        raise PermissionDenied
    url = reverse("web:bulletin", args=[town.pk])
    form = DayForm(request.POST, today=clock.today())
    if not form.is_valid() or not form.cleaned_data.get("date"):
        errors = form.errors.get("date") or [_("请选择通报日期。")]
        messages.error(request, str(errors[0]))
        return redirect(url)
    day = form.cleaned_data["date"]
    try:
        published = bulletin_publish(town=town, day=day, actor=user)
    except BulletinRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已发布 %(number)s 第 %(version)s 版，数据已冻结。")
            % {"number": published.number, "version": published.version},
        )
    return redirect(f"{url}?date={day.isoformat()}")


# ---------------------------------------------------------------------------------------------
# One village's page


@login_required
@require_GET
def village_bulletin(request: AuthenticatedRequest, village_id: int) -> HttpResponse:
    """One village in the day's bulletin: its row, its rank among the town's villages, its
    problems by colour and its leaflets."""
    user = request.user
    village = get_object_or_404(village_list(user=user), pk=village_id)
    town = village.parent
    if town is None:  # a village always has its town; a broken tree is "not found"
        raise Http404("village not found")
    today = clock.today()
    form = _day_form(request, today)
    day = form.day()
    view = village_bulletin_for_view(user=user, village=village, day=day)
    figures = view.figures
    rows = figures.get("villages") or []
    row = next((r for r in rows if r.get("village_id") == village.pk), None)
    # live figures hold this village's row only, with the town's counts beside it
    villages = figures.get("village_count", len(rows))
    ranked = figures.get("ranked_count", sum(1 for r in rows if r.get("rank") is not None))
    campaign = figures.get("campaign")
    colours = problem_colour_counts(user=user, filters=ProblemFilters(village_id=village.pk))
    issues = (
        list(
            leaflet_issue_list(
                campaign_id=campaign["id"],
                villages=[village],
                until=dt.datetime.fromisoformat(figures["until"]),
            )[:LEAFLETS_ON_VILLAGE_PAGE]
        )
        if campaign and row
        else []
    )
    url = reverse("web:village_bulletin", args=[village.pk])
    context = {
        "village": village,
        "town": town,
        "breadcrumbs": _breadcrumbs(user=user, region=village),
        "day": day,
        "today": today,
        "form": form,
        "nav": _day_nav(url, day, today),
        "figures": figures,
        "status": _status(view),
        "row": row,
        "cells": _cells(row) if row else [],
        "ranked": ranked,
        "villages": villages,
        "pace": figures.get("pace"),
        "pace_percent": pace_percent(figures.get("pace")),
        "colours": [(key, label, colours.get(key, 0)) for key, label in Colour.CHOICES],
        "ledger_url": reverse("web:ledger"),
        "leaflets": issues,
        "bulletin_url": reverse("web:bulletin", args=[town.pk]) + f"?date={day.isoformat()}",
    }
    return render(request, "web/dashboard/village.html", context)


# ---------------------------------------------------------------------------------------------
# Leaflets (宣传资料): what each village collected, and the town center's form


class LeafletIssueForm(forms.Form):
    """One issue of leaflets to a village (the service checks the rules)."""

    village = forms.TypedChoiceField(coerce=int, empty_value=None, label=gettext_lazy("村（社区）"))
    quantity = forms.IntegerField(
        label=gettext_lazy("数量（份）"),
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )
    collected_by = forms.CharField(
        required=False,
        max_length=64,
        label=gettext_lazy("领取人"),
        help_text=gettext_lazy("一般是村综治主任。"),
    )
    note = forms.CharField(required=False, max_length=200, label=gettext_lazy("备注"))

    def __init__(self, *args: Any, villages: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.villages = {village.pk: village for village in villages}
        choices: list[tuple[Any, Any]] = [("", _("请选择村"))]
        choices += [(village.pk, village.name) for village in villages]
        field = self.fields["village"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        field.choices = choices

    def chosen_village(self) -> Region:
        return self.villages[self.cleaned_data["village"]]


@login_required
@require_http_methods(["GET", "POST"])
def leaflets(request: AuthenticatedRequest, town_id: int) -> HttpResponse:
    """宣传资料: how many leaflets each village collected at the town center, every issue,
    and (for the town center) the form that records one."""
    user = request.user
    town = get_object_or_404(town_list(user=user), pk=town_id)
    campaign = campaign_current(town=town)
    villages = list(village_list(user=user, town=town))
    can_record = user_can_record_leaflets(user=user, town=town)
    form = LeafletIssueForm(request.POST or None, villages=villages)
    url = reverse("web:leaflets", args=[town.pk])
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            try:
                issue = leaflet_issue_record(
                    actor=user,
                    village=form.chosen_village(),
                    quantity=form.cleaned_data["quantity"],
                    collected_by=form.cleaned_data["collected_by"],
                    note=form.cleaned_data["note"],
                )
            except LeafletIssueError as exc:
                form.add_error(exc.field or None, exc.message)
            else:
                messages.success(
                    request,
                    _("已登记：%(village)s 领取宣传资料 %(quantity)s 份。")
                    % {"village": issue.village.name, "quantity": f"{issue.quantity:,}"},
                )
                return redirect(url)
    totals = leaflet_totals(campaign_id=campaign.pk, villages=villages) if campaign else {}
    rows = [
        {
            "village": village,
            "quantity": totals.get(village.pk, {}).get("quantity", 0),
            "issues": totals.get(village.pk, {}).get("issues", 0),
            "last": totals.get(village.pk, {}).get("last"),
        }
        for village in villages
    ]
    issues = Paginator(
        leaflet_issue_list(campaign_id=campaign.pk, villages=villages)
        if campaign
        else LeafletIssue.objects.none(),
        LEAFLETS_PER_PAGE,
    )
    context = {
        "town": town,
        "breadcrumbs": _breadcrumbs(user=user, region=town),
        "campaign": campaign,
        "rows": rows,
        "total_quantity": sum(row["quantity"] for row in rows),
        "total_issues": sum(row["issues"] for row in rows),
        "page": issues.get_page(request.GET.get("page")),
        "form": form,
        "can_record": can_record and campaign is not None,
        "bulletin_url": reverse("web:bulletin", args=[town.pk]),
    }
    return render(request, "web/dashboard/leaflets.html", context)
