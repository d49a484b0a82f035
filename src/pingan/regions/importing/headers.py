"""Find the header row of a roster and map its columns, whatever each village called them.

Rosters open with title rows ("汝集镇七营村户籍人口花名册", often merged across the sheet),
a date line or a blank line; the header is the row among the first `HEADER_SCAN_ROWS` that
names the most known columns. A column is recognized by its name with spaces, full-width
characters, asterisks and bracketed notes ("（必填）") taken out.
"""

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pingan.regions.importing.cells import clean, is_blank, text
from pingan.regions.importing.readers import Cell, Row
from pingan.regions.importing.results import ImportFileError

HEADER_SCAN_ROWS = 15

HOUSEHOLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "head_name": ("户主姓名", "户主", "姓名", "户主名", "户主名字"),
    "phone": ("联系电话", "电话", "手机号码", "手机号", "手机", "联系方式", "电话号码", "户主电话",
              "户主手机号", "户主联系电话"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证", "户主身份证号码",
                  "户主身份证号", "证件号码"),
    "village": ("村", "村名", "所属村", "村社区", "行政村", "村居", "社区", "所在村", "村委会"),
    "group_no": ("组", "村民小组", "组别", "小组", "组名", "所属组", "村民组", "组号"),
    "address": ("地址", "家庭住址", "住址", "家庭地址", "居住地址", "详细地址", "现住址", "门牌号"),
    "size": ("人口", "家庭人口", "户人口数", "人口数", "家庭人口数", "户内人口", "人数", "家庭人数"),
    "tags": ("标签", "备注", "人员类别", "类别", "户类别", "户类型", "特殊人群", "重点人群"),
    "lat": ("纬度", "lat", "latitude"),
    "lng": ("经度", "lng", "lon", "longitude"),
}  # fmt: skip

CADRE_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "干部姓名", "党员姓名", "走访人", "走访干部"),
    "phone": ("手机号", "手机号码", "联系电话", "电话", "手机", "联系方式", "电话号码"),
    "village": ("村", "走访村", "包村", "所在村", "联系村", "村名", "所属村", "村社区", "包保村"),
    "party_member": ("是否党员", "政治面貌", "党员"),
    "role": ("角色", "职务", "身份", "类别"),
    "unit": ("单位", "工作单位", "所在单位", "派出单位", "镇直单位"),
}

_BRACKETS = re.compile(r"[（(【\[].*?[)）】\]]")


def header_key(value: Cell) -> str:
    """A header cell reduced to what identifies it: "户主姓名（必填）*" -> "户主姓名"."""
    key = _BRACKETS.sub("", clean(value)).strip("*:：#")
    return key.lower()


@dataclass
class Header:
    """The header row found: its number, the cells as written, and field -> column index."""

    row: int
    cells: list[str]
    columns: dict[str, int]
    title: str = ""  # the text of the rows above the header, where a village name may be
    labels: dict[str, str] = field(default_factory=dict)  # field -> header as written
    pending: list[Row] = field(default_factory=list)  # data rows read while looking for it


def _match(cells: list[Cell], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    lookup = {name.lower(): key for key, names in synonyms.items() for name in names}
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = lookup.get(header_key(cell))
        if key is not None and key not in columns:
            columns[key] = index
    return columns


def find_header(
    rows: Iterator[Row],
    synonyms: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
) -> Header:
    """Consume rows up to and including the header; the caller goes on reading data rows
    from the same iterator. Raises ImportFileError when no header names the required columns.
    """
    scanned: list[Row] = []
    best: tuple[int, Row, dict[str, int]] | None = None
    for row in rows:
        scanned.append(row)
        columns = _match(row.cells, synonyms)
        if columns and (best is None or len(columns) > best[0]):
            best = (len(columns), row, columns)
        if len(scanned) >= HEADER_SCAN_ROWS:
            break
    labels = {key: "、".join(names[:3]) for key, names in synonyms.items()}
    if best is None or any(key not in best[2] for key in required):
        need = "；".join(f"“{labels[key]}”" for key in required)
        raise ImportFileError(f"在前 {HEADER_SCAN_ROWS} 行中找不到表头：表头须包含 {need} 等列")
    _, header_row, columns = best
    # Rows scanned past the header are data: hand them back in front of the rest.
    after = [row for row in scanned if row.number > header_row.number]
    title_parts: list[str] = []
    for row in scanned:
        if row.number >= header_row.number:
            break
        for cell in row.cells:
            part = clean(cell)
            if part and part not in title_parts:
                title_parts.append(part)
    header = Header(
        row=header_row.number,
        cells=[text(c).strip() for c in header_row.cells],
        columns=columns,
        title=" ".join(title_parts),
    )
    header.labels = {key: header.cells[index] for key, index in columns.items()}
    header.pending = after
    return header


def data_rows(header: Header, rows: Iterator[Row]) -> Iterator[Row]:
    """The rows below the header, blank rows left out (they are not data rows)."""
    for row in itertools.chain(header.pending, rows):
        if not is_blank(row.cells):
            yield row
