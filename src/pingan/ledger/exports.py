"""The ledger as a workbook (不满意问题台账, issue 5): the whole ledger a user sees, and the
daily report to the county (`pingan export_ledger`).

Both stream. Rows come from the database in chunks (`.values()` + `.iterator(chunk_size=2000)`),
the reminder counts are SQL subqueries and the colours an SQL CASE, and openpyxl's write-only
mode writes each row out as it comes, so a county's 150k problems never sit in memory at once.

Personal data stays masked: the household head as 王*, the phone as the stored masked form
(138****5678). Nothing here decrypts anything.
"""

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pingan.core import clock
from pingan.core.pii import mask_name
from pingan.core.workdays import end_of_day
from pingan.ledger.deadlines import Colour, colour_case
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import LedgerReport, Problem, ProblemAlert, ProblemEvent
from pingan.regions.models import Region

CHUNK_SIZE = 2000

TEXT, INT, DATE, DATETIME = "text", "int", "date", "datetime"


@dataclass(frozen=True)
class Column:
    label: str
    width: float
    kind: str = TEXT


# The 台账 layout, in this order (issue 5 point 6).
COLUMNS: tuple[Column, ...] = (
    Column("编号", 19),
    Column("村", 10),
    Column("户", 26),
    Column("反映人", 17),
    Column("来源", 10),
    Column("类别", 10),
    Column("描述", 40),
    Column("走访干部", 10),
    Column("登记时间", 17, DATETIME),
    Column("交办单位", 16),
    Column("类型", 9),
    Column("截止日", 11, DATE),
    Column("催办次数", 9, INT),
    Column("督办", 15),
    Column("办理结果", 32),
    Column("反馈时间", 17, DATETIME),
    Column("群众评价", 18),
    Column("重办次数", 9, INT),
    Column("销号日期", 11, DATE),
    Column("状态", 14),
)
HEADER: tuple[str, ...] = tuple(column.label for column in COLUMNS)

# The daily report's extra column, after the 20 of the ledger.
CHANGE_COLUMN = Column("本期变化", 10)
CHANGE_NEW, CHANGE_STATUS, CHANGE_PROGRESS = "新增", "状态变更", "有新进展"

# Fills of the 状态 cell, as the pages colour the rows (docs/ledger.md).
COLOUR_FILLS: dict[str, str] = {
    Colour.RED: "FFC7CE",
    Colour.YELLOW: "FFEB9C",
    Colour.GREEN: "C6EFCE",
    Colour.GREY: "D9D9D9",
}

SOURCE_LABELS = dict(Problem.Source.choices)
SEVERITY_LABELS = dict(Problem.Severity.choices)
STATUS_LABELS = dict(Problem.Status.choices)
VERDICT_LABELS = dict(Problem.Verdict.choices)

# What `ledger_rows` reads of each problem: one row of `.values()`, joins included.
_FIELDS = (
    "code",
    "village__name",
    "household__group_no",
    "household__address",
    "household__head_name",
    "household__phone_masked",
    "source",
    "category",
    "description",
    "cadre__name",
    "reported_at",
    "unit__name",
    "severity",
    "deadline",
    "export_reminders",
    "supervised_at",
    "result",
    "feedback_at",
    "verdict",
    "verdict_note",
    "redo_count",
    "closed_at",
    "status",
    "export_colour",
)


def _count(related: QuerySet[Any]) -> Coalesce:
    """COUNT(*) of `related` (filtered on OuterRef("pk")) as a correlated subquery, 0 if none."""
    counted = related.order_by().values("problem").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def reminder_count() -> Any:
    """催办次数: reminders `tick` issued (ProblemAlert remind) plus the center's own 催办."""
    by_tick = ProblemAlert.objects.filter(problem=OuterRef("pk"), kind=ProblemAlert.Kind.REMIND)
    by_hand = ProblemEvent.objects.filter(problem=OuterRef("pk"), action=Action.REMIND)
    return _count(by_tick) + _count(by_hand)


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return clock.local(moment) if moment is not None else None


def _household(row: dict[str, Any]) -> str:
    """The household as 3组 七营村12号 户主王* (no group when the address already names it)."""
    address = row["household__address"] or ""
    group = row["household__group_no"]
    parts = [
        f"{group}组" if group and "组" not in address else "",
        address,
        f"户主{mask_name(row['household__head_name'])}" if row["household__head_name"] else "",
    ]
    return " ".join(part for part in parts if part)


def _reporter(row: dict[str, Any]) -> str:
    parts = [mask_name(row["household__head_name"] or ""), row["household__phone_masked"] or ""]
    return " ".join(part for part in parts if part)


def _status(row: dict[str, Any]) -> str:
    label = STATUS_LABELS.get(row["status"], row["status"])
    if row["export_colour"] in (Colour.RED, Colour.YELLOW):
        return f"{label}（{Colour.LABELS[row['export_colour']]}）"
    return label


def _verdict(row: dict[str, Any]) -> str:
    label = VERDICT_LABELS.get(row["verdict"], "")
    if row["verdict"] == Problem.Verdict.DISSATISFIED and row["verdict_note"]:
        return f"{label}：{row['verdict_note']}"
    return label


def ledger_rows(
    problems: QuerySet[Problem],
    *,
    now: dt.datetime | None = None,
    extra: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """One dict per problem, keyed by the ledger's column labels (`HEADER`), in ledger order
    (registration time), plus `colour` and the annotations named in `extra`. Times are
    aware datetimes in Asia/Shanghai, days are dates. Streams in chunks of CHUNK_SIZE."""
    now = now or clock.now()
    rows = (
        problems.annotate(export_reminders=reminder_count(), export_colour=colour_case(now))
        .order_by("reported_at", "id")
        .values(*_FIELDS, *extra)
    )
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        deadline = _local(row["deadline"])
        supervised = _local(row["supervised_at"])
        closed = _local(row["closed_at"])
        yield {
            "编号": row["code"],
            "村": row["village__name"],
            "户": _household(row),
            "反映人": _reporter(row),
            "来源": SOURCE_LABELS.get(row["source"], row["source"]),
            "类别": row["category"],
            "描述": row["description"],
            "走访干部": row["cadre__name"] or "",
            "登记时间": _local(row["reported_at"]),
            "交办单位": row["unit__name"] or "",
            "类型": SEVERITY_LABELS.get(row["severity"], ""),
            "截止日": deadline.date() if deadline else None,
            "催办次数": row["export_reminders"],
            "督办": f"是（{supervised:%Y-%m-%d}）" if supervised else "",
            "办理结果": row["result"],
            "反馈时间": _local(row["feedback_at"]),
            "群众评价": _verdict(row),
            "重办次数": row["redo_count"],
            "销号日期": closed.date() if closed else None,
            "状态": _status(row),
            "colour": row["export_colour"],
            **{name: row[name] for name in extra},
        }


class _Cells:
    """Styled write-only cells made fast: one template cell per style, its style copied."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        thin = Side(style="thin", color="BFBFBF")
        self.title = self._template(font=Font(bold=True, size=14))
        self.header = self._template(
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="DDEBF7"),
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
            border=Border(left=thin, right=thin, top=thin, bottom=thin),
        )
        self.formats = {
            DATE: self._template(number_format="yyyy-mm-dd"),
            DATETIME: self._template(number_format="yyyy-mm-dd hh:mm"),
        }
        self.text = self._template(number_format="@")
        self.fills = {
            colour: self._template(fill=PatternFill("solid", fgColor=rgb))
            for colour, rgb in COLOUR_FILLS.items()
        }

    def _template(self, **styles: Any) -> Cell:
        cell = WriteOnlyCell(self.sheet)
        for name, value in styles.items():
            setattr(cell, name, value)
        return cell

    def like(self, template: Cell, value: Any) -> Cell:
        cell = WriteOnlyCell(self.sheet)
        cell._style = copy(template._style)
        cell.value = value
        return cell

    def text_cell(self, value: str) -> Any:
        """Text exactly as typed: characters Excel refuses are dropped, and text that starts
        with "=" stays text (a resident's words never run as a formula)."""
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            cell = self.like(self.text, None)
            cell._value = value
            cell.data_type = "s"
            return cell
        return value or None

    def value(self, column: Column, value: Any, colour: str) -> Any:
        if value is None or value == "":
            return None
        if column.kind == DATETIME:
            return self.like(self.formats[DATETIME], value.replace(tzinfo=None))
        if column.kind == DATE:
            return self.like(self.formats[DATE], value)
        if column.kind == INT:
            return value
        if column.label == "状态" and colour in self.fills:
            return self.like(self.fills[colour], value)
        return self.text_cell(str(value))


def ledger_title(*, place: str, now: dt.datetime | None = None) -> str:
    """汝集镇不满意问题台账（截至 2021-10-22 10:00）."""
    return f"{place}不满意问题台账（截至 {clock.local(now):%Y-%m-%d %H:%M}）"


def ledger_xlsx_write(
    *,
    problems: QuerySet[Problem],
    out: str | os.PathLike[str] | IO[bytes],
    title: str,
    now: dt.datetime | None = None,
    extra_columns: Sequence[tuple[Column, str]] = (),
) -> int:
    """Write `problems` as the 台账 workbook to `out` (a path or a binary file); returns the
    number of problem rows. Row 1 is `title`, row 2 the header (frozen, with a filter), then
    one row per problem. `extra_columns` are (column, annotation name) pairs added after
    the 20 ledger columns."""
    now = now or clock.now()
    columns = (*COLUMNS, *(column for column, _ in extra_columns))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账")
    cells = _Cells(sheet)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    last = get_column_letter(len(columns))
    sheet.freeze_panes = "C3"
    sheet.merged_cells.add(f"A1:{last}1")
    sheet.print_title_rows = "2:2"
    sheet.row_dimensions[1].height = 24
    sheet.append([cells.like(cells.title, title)])
    sheet.append([cells.like(cells.header, column.label) for column in columns])
    count = 0
    names = [*HEADER, *(name for _, name in extra_columns)]
    for row in ledger_rows(problems, now=now, extra=[name for _, name in extra_columns]):
        colour = row["colour"]
        sheet.append(
            [
                cells.value(column, row[name], colour)
                for column, name in zip(columns, names, strict=True)
            ]
        )
        count += 1
    sheet.auto_filter.ref = f"A2:{last}{count + 2}"
    workbook.save(out)
    return count


# --- The daily report to the county (台账日报) -------------------------------------------


class ReportRefused(Exception):
    """A daily report that may not be written, with the reason in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def problem_list_changed(
    *, town: Region, since: dt.datetime | None, until: dt.datetime
) -> QuerySet[Problem]:
    """The town's problems new or changed in (`since`, `until`]: reported then, or with any
    event or alert then. Each is annotated `export_change`: 新增, 状态变更 or 有新进展 (a
    催办、督办 or extension request that left the state as it was)."""

    def within(field: str) -> Q:
        window = Q(**{f"{field}__lte": until})
        return window & Q(**{f"{field}__gt": since}) if since is not None else window

    events = ProblemEvent.objects.filter(within("at"), problem=OuterRef("pk"))
    alerts = ProblemAlert.objects.filter(within("at"), problem=OuterRef("pk"))
    moved = events.exclude(from_status=F("to_status"))
    reported = within("reported_at")
    return (
        Problem.objects.filter(village__path__startswith=town.path)
        .filter(reported | Exists(events) | Exists(alerts))
        .annotate(
            export_change=Case(
                When(reported, then=Value(CHANGE_NEW)),
                When(Exists(moved), then=Value(CHANGE_STATUS)),
                default=Value(CHANGE_PROGRESS),
            )
        )
    )


def ledger_report_path(*, town: Region, date: dt.date, out_dir: str | os.PathLike[str]) -> Path:
    return Path(out_dir) / f"台账日报-{town.name}-{date:%Y%m%d}.xlsx"


def ledger_report_default_dir() -> Path:
    return Path(settings.PINGAN_HOME) / "reports"


def _window(
    town: Region, date: dt.date, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime]:
    """(since, until] of the report of `town` for `date`; refuses a date out of order."""
    if date > clock.local(now).date():
        raise ReportRefused(f"报送日期 {date} 晚于今天，不能提前报送")
    last = LedgerReport.objects.filter(town=town).order_by("-date").first()
    if last is not None and date < last.date:
        raise ReportRefused(
            f"{town.name}已报送 {last.date} 的台账日报，不能再报送更早的 {date}；"
            f"每份日报接着上一份的截止时间，只能按日期顺序报送"
        )
    until = min(end_of_day(date), now)
    if last is not None and last.date == date:
        # The same report again: the same start; the end moves on only while that day is
        # not over yet (a report run at 15:00 and again at 18:00 covers up to 18:00).
        return last.since, max(last.until, until)
    since = last.until if last is not None else None
    if since is not None and until < since:
        until = since
    return since, until


def ledger_report_write(
    *, town: Region, date: dt.date, out_dir: str | os.PathLike[str] | None = None
) -> LedgerReport:
    """The daily ledger report of `town` for `date` (docs/architecture.md: compiled daily and reported to
    the county): the problems new or changed since the previous report, up to the end of
    `date` (Asia/Shanghai) or now if earlier. Writes the workbook to `out_dir` and records
    the LedgerReport; running it again for the same date rewrites the same report."""
    now = clock.now()
    since, until = _window(town, date, now)
    directory = Path(out_dir) if out_dir is not None else ledger_report_default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = ledger_report_path(town=town, date=date, out_dir=directory)
    shown_since = f"{clock.local(since):%Y-%m-%d %H:%M} 之后" if since else "活动开始"
    title = (
        f"{town.name}不满意问题台账日报（{date:%Y-%m-%d}；"
        f"{shown_since}至 {clock.local(until):%Y-%m-%d %H:%M} 新增及变化）"
    )
    partial = path.with_name(f".{path.name}.part")
    try:
        rows = ledger_xlsx_write(
            problems=problem_list_changed(town=town, since=since, until=until),
            out=partial,
            title=title,
            now=now,
            extra_columns=[(CHANGE_COLUMN, "export_change")],
        )
        with transaction.atomic():
            report, _ = LedgerReport.objects.update_or_create(
                town=town,
                date=date,
                defaults={"since": since, "until": until, "row_count": rows, "path": str(path)},
            )
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return report
