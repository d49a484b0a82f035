"""Generated messy roster files, as villages really keep them: title rows merged across the
sheet, a 组 column merged over each group's rows, full-width digits, GBK-encoded CSV…

Every file is written here by openpyxl or the csv module, never checked in, so a test shows
exactly which mess it feeds the importer.
"""

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from tests.factories import valid_id_number, valid_phone

TITLE = "汝集镇七营村户籍人口花名册"
HEADER = ["序号", "组别", "户主姓名", "身份证号码", "联系电话", "家庭住址", "人口", "备注"]


def xlsx_bytes(
    rows: Sequence[Sequence[Any]],
    *,
    merges: Sequence[str] = (),
    text_columns: Sequence[int] = (),
    sheet_title: str = "花名册",
) -> bytes:
    """An .xlsx with `rows` from A1 down (None = empty cell, [] = blank row) and `merges`
    ("A1:H1"). Columns in `text_columns` (0-based) are formatted as text (@), as a careful
    clerk would for ID numbers.
    """
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            if c - 1 in text_columns:
                cell.number_format = "@"
    for merged in merges:
        sheet.merge_cells(merged)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8") -> bytes:
    """A CSV as Excel/WPS save it: `encoding` "utf-8-sig" has a BOM, "gbk" is 中文 Windows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


def household_row(
    n: int,
    *,
    group: Any = "3组",
    head: str | None = None,
    address: str | None = None,
    id_number: Any = None,
    phone: Any = None,
    size: Any = 3,
    tags: str = "",
) -> list[Any]:
    """One data row under HEADER: 序号, 组别, 户主姓名, 身份证号码, 联系电话, 家庭住址, 人口, 备注."""
    return [
        n,
        group,
        head if head is not None else f"张{'一二三四五六七八九十'[n % 10]}{n}",
        id_number if id_number is not None else valid_id_number(n, birth="19650304"),
        phone if phone is not None else valid_phone(500_000 + n),
        address if address is not None else f"七营村三组{n}号",
        size,
        tags,
    ]


def messy_roster_xlsx() -> tuple[bytes, dict[str, Any]]:
    """The 七营村 roster with most of the mess at once; returns the file and what to expect.

    Row 1 title merged A1:H1 (names the village), row 2 a date line, row 3 the header, then
    groups 三组 (B4:B6 merged), 第四村民小组 (B8:B9 merged, a blank row 7 between), and a
    row with full-width digits and a lower-case x.
    """
    # An ID number whose check digit is X, written with a lower-case x.
    x_id = next(
        valid_id_number(s, birth="19580817")
        for s in range(1000)
        if valid_id_number(s, birth="19580817").endswith("X")
    )
    full_width_phone = "１３８ ０００６ ６６６６"
    rows: list[list[Any]] = [
        [TITLE, None, None, None, None, None, None, None],
        ["填报日期：2021年10月12日"],
        HEADER,
        household_row(1, group="三组", tags="留守老人、低保户"),
        household_row(2, group=None),
        household_row(3, group=None),
        [],
        household_row(4, group="第四村民小组", id_number=x_id.lower()),
        household_row(5, group=None, phone=full_width_phone, size="５"),
        ["６", "12组", "李 四", valid_id_number(6, birth="19650304"), None, "七营村十二组6号", 2],
    ]
    expected = {
        "rows": 7,
        "groups": {1: 3, 2: 3, 3: 3, 4: 4, 5: 4, 6: 12},
        "x_id": x_id,
        "phone_row5": "13800066666",
    }
    return xlsx_bytes(rows, merges=["A1:H1", "B4:B6", "B8:B9"], text_columns=[3, 4]), expected
