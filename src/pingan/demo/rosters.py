"""Roster files written from data, in the layout the importers read: for `pingan demo`
(its synthetic roster and cadres go through the same import as a real village's file),
and for anyone who wants a template to fill in.
"""

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from pingan.regions.services import HouseholdData

HOUSEHOLD_HEADER = ["村", "组", "户主姓名", "身份证号码", "联系电话", "家庭住址", "人口", "标签",
                    "纬度", "经度"]  # fmt: skip
CADRE_HEADER = ["姓名", "手机号", "村", "是否党员", "角色", "单位"]


def _text(sheet: Any, value: str) -> WriteOnlyCell:
    """A text cell (format @), so Excel never turns an ID or phone number into a number."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = "@"
    return cell


def household_roster_xlsx(rows: Iterable[HouseholdData], *, title: str = "") -> bytes:
    """An .xlsx roster of `rows` (one sheet; a title row when `title` is given)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    if title:
        sheet.append([title])
    sheet.append(HOUSEHOLD_HEADER)
    for row in rows:
        sheet.append(
            [
                row.village.name,
                f"{row.group_no}组" if row.group_no else None,
                row.head_name,
                _text(sheet, row.id_number) if row.id_number else None,
                _text(sheet, row.phone) if row.phone else None,
                row.address,
                row.size,
                "、".join(row.tags),
                row.lat,
                row.lng,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cadre_list_xlsx(rows: Iterable[tuple[str, str, str, bool, str, str]]) -> bytes:
    """An .xlsx cadre list of (name, phone, village, party member, role, unit) rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("党员干部")
    sheet.append(CADRE_HEADER)
    for name, phone, village, party_member, role, unit in rows:
        sheet.append(
            [name, _text(sheet, phone), village, "是" if party_member else "否", role, unit]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
