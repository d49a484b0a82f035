"""The bulletin as documents: JSON, a printable HTML page, an Excel workbook with a chart, and
a Word 通报 on the red-header template (templates/reports/bulletin_template.docx, made by
`make_template.py`).

Every renderer takes the figures (`reports.figures`, schema `pingan.bulletin/1`) — frozen
from a published `Bulletin` or live — with the bulletin's number (文号), its version and
whether it is published; none of them queries the database.
"""

import datetime as dt
import json
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pingan.reports.summary import bulletin_summary, chinese_date, chinese_moment, pct

TITLE = "关于千家万户访平安活动走访进度的通报"
TEMPLATE = Path(__file__).parent / "templates" / "reports" / "bulletin_template.docx"
TOTAL_LABEL = "合计"

# The fonts of a 通报 (East Asian names, as Word and WPS know them; Latin text in Times).
FONT_SONG = "宋体"  # SimSun: the red header, the title, the table
FONT_FANGSONG = "仿宋"  # FangSong: the body text
FONT_LATIN = "Times New Roman"
RED = "FF0000"

TEXT, INT, PCT, DECIMAL, FLAG, RANK = "text", "int", "pct", "decimal", "flag", "rank"

# Under the table: how its derived columns are computed (as `reports.figures` does).
NOTE = (
    "注：完成率＝已走访户数÷任务数；应完成进度＝任务数×走访整改阶段已进行天数÷该阶段总天数；"
    "已走访户数低于应完成进度的村为滞后；安全感率、满意度为前两项选项（安全、比较安全，"
    "满意、比较满意）回答数占全部回答数的比例，“说不清”计入分母；不满意群众为问卷中回答"
    "不太安全、不满意等感受的户，已做思想工作为已记录谈话的户，看法转变为其中最近一次谈话"
    "看法已转变的户，均按户计。"
)


@dataclass(frozen=True)
class Column:
    label: str
    key: str  # a key of the village row; "rates.<rate>" for a rate
    kind: str
    width: float  # Excel column width (characters)


# The bulletin's table, in this order, in every format.
COLUMNS: tuple[Column, ...] = (
    Column("村", "name", TEXT, 12),
    Column("任务数", "quota", INT, 8),
    Column("在册户数", "roster_households", INT, 9),
    Column("已走访户数", "reached_households", INT, 10),
    Column("今日走访", "reached_today", INT, 9),
    Column("完成率", "completion_pct", PCT, 9),
    Column("应完成进度", "expected_households", DECIMAL, 10),
    Column("是否滞后", "lagging", FLAG, 8),
    Column("排名", "rank", RANK, 6),
    Column("问卷数", "questionnaires", INT, 8),
    Column("安全感率", "rates.safety", PCT, 9),
    Column("满意度", "rates.satisfaction", PCT, 9),
    Column("新增问题", "problems_new", INT, 9),
    Column("未办结问题", "problems_open", INT, 10),
    Column("超期问题", "problems_overdue", INT, 9),
    Column("已销号", "problems_closed", INT, 8),
    Column("不满意群众", "dissatisfied_households", INT, 10),
    Column("已做思想工作", "talked_households", INT, 11),
    Column("看法转变", "view_changed_households", INT, 9),
    Column("资料领取", "leaflets_issued", INT, 9),
    Column("资料发放", "leaflets_handed", INT, 9),
)
HEADER: tuple[str, ...] = tuple(column.label for column in COLUMNS)


def column_value(row: dict[str, Any], column: Column) -> Any:
    """The figure of `row` under `column`, as stored (a rate: its "rate" string or None)."""
    if column.key.startswith("rates."):
        figure = (row.get("rates") or {}).get(column.key.split(".", 1)[1]) or {}
        return figure.get("rate")
    return row.get(column.key)


def column_text(row: dict[str, Any], column: Column) -> str:
    """The figure as a table shows it: 125.00%, 是/否, — for none."""
    value = column_value(row, column)
    if column.kind == PCT:
        return pct(value)
    if column.kind == FLAG:
        return "是" if value else "否"
    if value is None:
        return "—"
    return str(value)


def table_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The village rows, then the town's total as 合计 (unranked), when there is a campaign."""
    rows = list(figures.get("villages") or [])
    if figures.get("total") is not None:
        rows.append({**figures["total"], "name": TOTAL_LABEL, "rank": None, "total": True})
    return rows


def _status(figures: dict[str, Any], *, version: int | None, published: bool) -> str:
    """What the document says about itself: a later version, or live figures."""
    if not published:
        return f"未发布（实时数据，截至{chinese_moment(figures['until'], figures['date'])}）"
    return f"第{version}版（更新发布）" if version and version > 1 else ""


def _document_context(
    figures: dict[str, Any], *, number: str, version: int | None, published: bool
) -> dict[str, Any]:
    town = figures["town"]["name"]
    return {
        "town": town,
        "heading": f"{town}千家万户访平安活动",
        "title": TITLE,
        "number": number,
        "date": chinese_date(figures["date"]),
        "moment": chinese_moment(figures["until"], figures["date"]),
        "status": _status(figures, version=version, published=published),
        "published": published,
        "version": version,
        "issuer": f"{town}综治中心",
        "table_title": f"{town}各村走访进度统计表",
        "paragraphs": bulletin_summary(figures),
        "note": NOTE,
    }


# ---------------------------------------------------------------------------------------------
# JSON and HTML


def render_json(
    figures: dict[str, Any], *, number: str, version: int | None = None, published: bool = False
) -> str:
    """The figures as pretty UTF-8 JSON, with a `bulletin` key saying which bulletin they are
    (number, version, published); the figures' own keys are exactly as stored."""
    document = {
        **figures,
        "bulletin": {"number": number, "version": version, "published": published},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_html(
    figures: dict[str, Any], *, number: str, version: int | None = None, published: bool = False
) -> str:
    """A standalone, printable HTML page (inline CSS, no outside asset)."""
    context = _document_context(figures, number=number, version=version, published=published)
    context["header"] = HEADER
    context["rows"] = [
        {
            "cells": [
                {"text": column_text(row, column), "flag": column.kind == FLAG}
                for column in COLUMNS
            ],
            "total": row.get("total", False),
            "lagging": bool(row.get("lagging")) and not row.get("total", False),
        }
        for row in table_rows(figures)
    ]
    context["criticized"] = [
        {**p, "deadline_text": chinese_date(p["deadline"]) if p["deadline"] else "—"}
        for p in figures.get("criticized") or []
    ]
    context["generated_at"] = dt.datetime.fromisoformat(figures["generated_at"])
    return render_to_string("reports/bulletin.html", context)


# ---------------------------------------------------------------------------------------------
# Excel: the table with number formats, and a native bar chart of completion by village

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_LAGGING_FONT = Font(color="C00000")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
TABLE_HEADER_ROW = 3  # title, subtitle, then the header


def _xlsx_value(row: dict[str, Any], column: Column) -> tuple[Any, str | None]:
    """(cell value, number format): percentages as fractions shown as 0.00%, numbers as
    numbers, flags as 是/否."""
    value = column_value(row, column)
    if column.kind == PCT:
        return (None, None) if value is None else (float(Decimal(value) / 100), "0.00%")
    if column.kind == DECIMAL:
        return (None, None) if value is None else (float(Decimal(value)), "0.00")
    if column.kind == FLAG:
        return ("是" if value else "否"), None
    if column.kind in (INT, RANK):
        return value, "0" if value is not None else None
    return value, None


def render_xlsx(
    figures: dict[str, Any], *, number: str, version: int | None = None, published: bool = False
) -> bytes:
    """A workbook: sheet 每日通报 (title, the table with 合计, a bar chart of completion by
    village) and sheet 通报批评 (the problems listed for criticism)."""
    context = _document_context(figures, number=number, version=version, published=published)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = "每日通报"
    last_column = get_column_letter(len(COLUMNS))

    sheet.append([f"{context['heading']}各村走访进度通报（{context['date']}）"])
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A1"].font = Font(size=16, bold=True, color=RED)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 30
    subtitle = [number, f"统计截至{context['moment']}"]
    if context["status"]:
        subtitle.append(context["status"])
    sheet.append(["　".join(subtitle)])
    sheet.merge_cells(f"A2:{last_column}2")
    sheet["A2"].alignment = Alignment(horizontal="center")

    sheet.append(list(HEADER))
    for position, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=TABLE_HEADER_ROW, column=position)
        cell.font, cell.fill, cell.alignment, cell.border = (
            Font(bold=True), _HEADER_FILL, _CENTER, _BORDER,
        )  # fmt: skip
        sheet.column_dimensions[get_column_letter(position)].width = column.width
    sheet.row_dimensions[TABLE_HEADER_ROW].height = 30

    rows = table_rows(figures)
    for row in rows:
        values = [_xlsx_value(row, column) for column in COLUMNS]
        sheet.append([value for value, _ in values])
        line = sheet.max_row
        for position, (_, number_format) in enumerate(values, start=1):
            cell = sheet.cell(row=line, column=position)
            cell.border = _BORDER
            cell.alignment = Alignment(horizontal="left" if position == 1 else "right")
            if number_format:
                cell.number_format = number_format
            if row.get("total"):
                cell.font, cell.fill = Font(bold=True), _TOTAL_FILL
            elif row.get("lagging") and COLUMNS[position - 1].kind == FLAG:
                cell.font = _LAGGING_FONT
    sheet.freeze_panes = f"B{TABLE_HEADER_ROW + 1}"

    villages = len(figures.get("villages") or [])
    if villages:
        sheet.add_chart(_completion_chart(sheet, villages), f"A{sheet.max_row + 3}")
    if not rows:
        sheet.append([context["paragraphs"][0]])
    _units_sheet(workbook, figures)
    _criticized_sheet(workbook, figures)

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _completion_chart(sheet: Any, villages: int) -> BarChart:
    """A column chart of 完成率 by village (the rows under the header, 合计 left out)."""
    completion = HEADER.index("完成率") + 1
    first, last = TABLE_HEADER_ROW + 1, TABLE_HEADER_ROW + villages
    chart = BarChart()
    chart.type = "col"
    chart.title = "各村走访完成率"
    chart.y_axis.title = "完成率"
    chart.y_axis.numFmt = "0%"
    chart.y_axis.majorGridlines = None
    chart.x_axis.title = "村"
    # openpyxl ≥ 3.1 writes axes as deleted unless told otherwise
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(sheet, min_col=completion, min_row=TABLE_HEADER_ROW, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.legend = None
    chart.height = 9
    chart.width = max(16.0, 1.6 * villages)
    return chart


def _units_sheet(workbook: Workbook, figures: dict[str, Any]) -> None:
    """各单位: the town units whose people visit as cadres, with their households."""
    sheet = workbook.create_sheet("各单位")
    sheet.append(["单位", "包村干部", "包户数", "已走访户数", "完成率"])
    for position, width in enumerate((20, 10, 10, 12, 10), start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font, cell.fill, cell.border = Font(bold=True), _HEADER_FILL, _BORDER
        sheet.column_dimensions[get_column_letter(position)].width = width
    for unit in figures.get("units") or []:
        rate = unit["completion_pct"]
        sheet.append([unit["name"], unit["cadres"], unit["households_held"],
                      unit["households_reached"], float(rate) / 100 if rate else None])  # fmt: skip
        sheet.cell(row=sheet.max_row, column=5).number_format = "0.00%"
    if sheet.max_row == 1:
        sheet.append(["无"])


def _criticized_sheet(workbook: Workbook, figures: dict[str, Any]) -> None:
    sheet = workbook.create_sheet("通报批评")
    sheet.append(["问题编号", "村", "责任单位", "办理时限"])
    for position, width in enumerate((22, 12, 20, 12), start=1):
        cell = sheet.cell(row=1, column=position)
        cell.font, cell.fill, cell.border = Font(bold=True), _HEADER_FILL, _BORDER
        sheet.column_dimensions[get_column_letter(position)].width = width
    for problem in figures.get("criticized") or []:
        deadline = dt.date.fromisoformat(problem["deadline"]) if problem["deadline"] else None
        sheet.append([problem["code"], problem["village"], problem["unit"], deadline])
        sheet.cell(row=sheet.max_row, column=4).number_format = "yyyy-mm-dd"
    if sheet.max_row == 1:
        sheet.append(["无"])


# ---------------------------------------------------------------------------------------------
# Word: the red-header template, filled with python-docx


def set_run_font(
    run: Run,
    *,
    east_asia: str,
    size: float | None = None,
    bold: bool | None = None,
    color: str | None = None,
) -> None:
    """Set a run's fonts: the East Asian font through w:eastAsia (python-docx's `font.name`
    sets only the Latin ones), Times New Roman for Latin text and digits."""
    run.font.name = FONT_LATIN
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = RGBColor.from_string(color)


def _remove(paragraph: Paragraph) -> None:
    element = paragraph._p
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _set_text(paragraph: Paragraph, text: str) -> None:
    """Put `text` in the paragraph's first run (keeping its formatting); drop the others."""
    runs = paragraph.runs
    if not runs:
        paragraph.add_run(text)
        return
    runs[0].text = text
    for run in runs[1:]:
        run._r.getparent().remove(run._r)


def _replace(paragraph: Paragraph, mapping: dict[str, str]) -> None:
    """Replace every {{placeholder}} of the paragraph, run by run so each keeps its format; a
    placeholder split across runs (the template edited in Word) collapses into the first."""
    for run in paragraph.runs:
        if "{{" in run.text:
            text = run.text
            for key, value in mapping.items():
                text = text.replace(key, value)
            run.text = text
    if any(key in paragraph.text for key in mapping):
        text = paragraph.text
        for key, value in mapping.items():
            text = text.replace(key, value)
        _set_text(paragraph, text)


def _expand(paragraph: Paragraph, texts: list[str]) -> None:
    """The placeholder paragraph becomes one paragraph per text, each formatted like it."""
    for text in texts:
        element = deepcopy(paragraph._p)
        paragraph._p.addprevious(element)
        _set_text(Paragraph(element, paragraph._parent), text)
    _remove(paragraph)


def _repeat_header(table: Table) -> None:
    """The header row repeats on every page the table runs over."""
    row_properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row_properties.insert_element_before(
        header, "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange"
    )


# The Word table's column widths by kind (cm): 21 columns fit the landscape page's 25.7 cm
# between its margins with "125.00%" on one line in 9 pt (the cells' side margins narrowed).
DOCX_WIDTHS_CM = {TEXT: 2.0, INT: 1.1, PCT: 1.35, DECIMAL: 1.2, FLAG: 0.9, RANK: 0.8}
DOCX_CELL_MARGIN_TWIPS = 28  # 0.05 cm each side (Word's default is 108, 0.19 cm)


def _narrow_cell_margins(table: Table) -> None:
    """Narrow the left and right margins of every cell of the table (w:tblCellMar)."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(DOCX_CELL_MARGIN_TWIPS))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.insert_element_before(
        margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange"
    )


def _docx_table(document: Any, paragraph: Paragraph, figures: dict[str, Any]) -> None:
    """The table (every village, then 合计) in place of the {{table}} paragraph."""
    rows = table_rows(figures)
    table = document.add_table(rows=1 + len(rows), cols=len(COLUMNS))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _narrow_cell_margins(table)
    widths = [Cm(DOCX_WIDTHS_CM[column.kind]) for column in COLUMNS]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    lines = [list(HEADER)] + [[column_text(row, column) for column in COLUMNS] for row in rows]
    for r, (line, table_row) in enumerate(zip(lines, table.rows, strict=True)):
        bold = r == 0 or rows[r - 1].get("total", False)
        for c, (text, cell) in enumerate(zip(line, table_row.cells, strict=True)):
            cell.width = widths[c]
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            cell_paragraph = cell.paragraphs[0]
            cell_paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell_paragraph.paragraph_format.first_line_indent = Pt(0)
            cell_paragraph.paragraph_format.space_before = Pt(0)
            cell_paragraph.paragraph_format.space_after = Pt(0)
            cell_paragraph.paragraph_format.line_spacing = 1.0
            set_run_font(cell_paragraph.add_run(text), east_asia=FONT_SONG, size=9, bold=bold)
    _repeat_header(table)
    paragraph._p.addnext(table._tbl)
    _remove(paragraph)


# The placeholders filled with one text each ({{body}} and {{table}} are expanded).
DOCX_PLACEHOLDERS = (
    "town",
    "heading",
    "title",
    "number",
    "date",
    "issuer",
    "status",
    "table_title",
    "note",
)


def render_docx(
    figures: dict[str, Any], *, number: str, version: int | None = None, published: bool = False
) -> bytes:
    """The Word 通报: red header, number and date, the title, the summary paragraphs, the
    落款, and the table as the attachment (附件) on a landscape page."""
    context = _document_context(figures, number=number, version=version, published=published)
    document = Document(str(TEMPLATE))
    mapping = {"{{" + key + "}}": context[key] for key in DOCX_PLACEHOLDERS}
    for paragraph in list(document.paragraphs):
        text = paragraph.text
        if "{{body}}" in text:
            _expand(paragraph, context["paragraphs"])
        elif "{{table}}" in text:
            _docx_table(document, paragraph, figures)
        elif "{{status}}" in text and not context["status"]:
            _remove(paragraph)
        else:
            _replace(paragraph, mapping)
    properties = document.core_properties
    properties.title = f"{context['title']}（{number}）"
    properties.author = context["issuer"]
    properties.subject = f"{context['town']}{context['date']}走访进度"
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------

Renderer = Callable[..., str | bytes]

# format → (renderer, whether its output is binary)
RENDERERS: dict[str, tuple[Renderer, bool]] = {
    "json": (render_json, False),
    "html": (render_html, False),
    "xlsx": (render_xlsx, True),
    "docx": (render_docx, True),
}
