"""Rows out of .xlsx, .xls and .csv files, as lists of raw cell values with Excel row numbers.

Workbooks are read with python-calamine (Rust; one compact grid per sheet, rows handed to
Python one at a time). Merged cells are filled from their top-left cell, so a 组 column merged
over the rows of one group, or a title merged across the sheet, reads as if typed into every
cell. CSV files are UTF-8 (with or without BOM) or GBK/GB18030, as Excel and WPS save them.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import python_calamine

from pingan.regions.importing.results import ImportFileError

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv", ".txt")
SUFFIXES = (*WORKBOOK_SUFFIXES, ".csv")
# Encodings tried in order: UTF-8 (a BOM is dropped), then GB18030, a superset of GBK/GB2312.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Row:
    """One row as read: its number in the spreadsheet (1-based, as Excel shows it) and cells."""

    number: int
    cells: list[Cell]


def _source_bytes(source: Path | IO[bytes] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, Path):
        return source.read_bytes()
    data = source.read()
    if isinstance(data, str):  # a text stream: encode back, decoding happens here
        return data.encode("utf-8")
    return data


def _suffix(filename: str) -> str:
    return Path(filename).suffix.lower()


def read_rows(source: Path | IO[bytes] | bytes, filename: str) -> Iterator[Row]:
    """Every row of the first usable sheet of the file, blank rows included (they keep the
    numbering honest; the importers skip them). Raises ImportFileError for unreadable files.
    """
    suffix = _suffix(filename)
    if suffix in CSV_SUFFIXES:
        return _csv_rows(_source_bytes(source))
    if suffix in WORKBOOK_SUFFIXES:
        return _workbook_rows(source)
    raise ImportFileError(f"不支持“{suffix or filename}”格式，请上传 .xlsx、.xls 或 .csv 文件")


def _decode(data: bytes) -> str:
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        "CSV 文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件"
    )


def _csv_rows(data: bytes) -> Iterator[Row]:
    text = _decode(data)
    # Excel and WPS write commas; a tab-separated export ("文本文件") is taken too.
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield Row(number, list(cells))


def _open_workbook(source: Path | IO[bytes] | bytes) -> python_calamine.CalamineWorkbook:
    try:
        if isinstance(source, Path):
            return python_calamine.CalamineWorkbook.from_path(source)
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        return python_calamine.CalamineWorkbook.from_filelike(source)
    except python_calamine.PasswordError as exc:
        raise ImportFileError("工作簿设有打开密码，请取消密码后再上传") from exc
    except Exception as exc:  # calamine raises several kinds for a damaged or mislabelled file
        raise ImportFileError("无法读取该 Excel 文件：文件已损坏，或并非 Excel 格式") from exc


def _workbook_rows(source: Path | IO[bytes] | bytes) -> Iterator[Row]:
    workbook = _open_workbook(source)
    visible = [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.visible == python_calamine.SheetVisibleEnum.Visible
        and meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    for name in visible:
        sheet = workbook.get_sheet_by_name(name)
        if sheet.end is not None:  # the first visible sheet that has any data
            return _sheet_rows(sheet)
    raise ImportFileError("工作簿里没有数据")


def _sheet_rows(sheet: python_calamine.CalamineSheet) -> Iterator[Row]:
    """Rows with merged ranges filled in. calamine's iter_rows starts at the sheet's first row
    (row 0, even when it is empty) and at its first used column; both are pinned by a test.
    """
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return
    first_col, width = start[1], end[1] - start[1] + 1
    # Merged ranges by the rows they cover below their top-left cell: row -> [(c0, c1, key)].
    fills: dict[int, list[tuple[int, int, tuple[int, int]]]] = {}
    tops: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ():
        c0, c1 = max(c0 - first_col, 0), min(c1 - first_col, width - 1)
        if c0 > c1:
            continue
        tops.setdefault(r0, []).append((c0, (r0, c0)))
        for r in range(r0, r1 + 1):
            fills.setdefault(r, []).append((c0, c1, (r0, c0)))
    values: dict[tuple[int, int], Cell] = {}
    for index, cells in enumerate(sheet.iter_rows()):
        if index in tops:
            for c0, key in tops.pop(index):
                values[key] = cells[c0] if c0 < len(cells) else ""
        if index in fills:
            for c0, c1, key in fills.pop(index):
                value = values.get(key, "")
                for c in range(c0, min(c1 + 1, len(cells))):
                    cells[c] = value
        yield Row(index + 1, cells)
