"""One cell at a time: text as people type it into rosters, made into values pingan stores.

Phones and ID numbers are validated by `pingan.core.pii` (phonenumbers, python-stdnum); this
module only recognizes what Excel did to them first (an ID number stored as a number).
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from pingan.core import crypto, pii


class CellError(ValueError):
    """A cell that cannot be trusted; `message` is the reason shown to the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def text(value: object) -> str:
    """A cell as the text the user sees: 3.0 -> "3", None -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def clean(value: object) -> str:
    """Text with full-width digits, letters and spaces made half-width and inner spaces gone."""
    return pii.clean_text(text(value))


def is_blank(cells: list) -> bool:
    return all(not clean(c) for c in cells)


# ---------------------------------------------------------------------------------------------
# 村民小组: 3, 3组, 三组, 第三组, 第3村民小组, 第三村民小组, 三, 十二组, 二十九组

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_GROUP_SUFFIXES = ("村民小组", "村民组", "小组", "生产队", "组", "队")


def chinese_to_int(value: str) -> int | None:
    """一..九十九 (and 〇/零, 两) as an int, or None: 三 -> 3, 十二 -> 12, 二十九 -> 29."""
    if not value:
        return None
    if "十" not in value:
        return _CN_DIGITS.get(value) if len(value) == 1 else None
    tens_text, _, ones_text = value.partition("十")
    if "十" in ones_text or len(tens_text) > 1 or len(ones_text) > 1:
        return None
    tens = 1 if not tens_text else _CN_DIGITS.get(tens_text)
    ones = 0 if not ones_text else _CN_DIGITS.get(ones_text)
    if tens is None or ones is None:
        return None
    return tens * 10 + ones


def parse_group(value: object) -> int | None:
    """The group number, or None for a blank cell; CellError when it cannot be read."""
    raw = clean(value)
    if not raw:
        return None
    body = raw.removeprefix("第")
    for suffix in _GROUP_SUFFIXES:
        if body.endswith(suffix):
            body = body[: -len(suffix)]
            break
    number = int(body) if body.isascii() and body.isdigit() else chinese_to_int(body)
    if number is None or not 0 < number < 1000:
        raise CellError(f"村民小组“{raw}”无法识别（可写 3、3组、三组或第三村民小组）")
    return number


def parse_size(value: object) -> int | None:
    """家庭人口 as 1..99; None for a blank cell."""
    raw = clean(value).removesuffix("人").removesuffix("口")
    if not raw:
        return None
    number = int(raw) if raw.isascii() and raw.isdigit() else chinese_to_int(raw)
    if number is None or not 1 <= number <= 99:
        raise CellError(f"家庭人口“{clean(value)}”应为 1–99 的整数")
    return number


_TAG_SPLIT = re.compile(r"[、,，;；/|\s]+")


def parse_tags(value: object) -> list[str] | None:
    """标签 split on 、 , ; / and spaces, duplicates dropped; None for a blank cell."""
    raw = text(value).strip()
    if not raw:
        return None
    tags: list[str] = []
    for part in _TAG_SPLIT.split(raw):
        tag = pii.clean_text(part)
        if tag and tag not in tags and tag not in ("无", "/", "-"):
            tags.append(tag[:20])
    return tags


def parse_coordinate(value: object, *, label: str, limit: int) -> Decimal | None:
    raw = clean(value)
    if not raw:
        return None
    try:
        number = Decimal(raw).quantize(Decimal("0.000001"))
    except InvalidOperation as exc:
        raise CellError(f"{label}“{raw}”不是数字") from exc
    if not -limit <= number <= limit:
        raise CellError(f"{label}“{raw}”超出范围（应在 -{limit} 到 {limit} 之间）")
    return number


# ---------------------------------------------------------------------------------------------
# Personal data

EXCEL_NUMBER_ID = "身份证号被 Excel 存成了数字，后几位已丢失，请将该列设为文本后重新填写"
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")


def _excel_broke_id(value: object, cleaned: str) -> bool:
    """Whether Excel turned this ID number into a number: a numeric cell (Excel keeps 15
    significant digits, an ID number has 18), scientific notation, or 15+ digits ending in
    zeros (what is left when such a cell is saved back as text)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return len(str(int(value))) >= 15 if abs(value) < 1e30 else True
    if _SCIENTIFIC.match(cleaned):
        return True
    return cleaned.isdigit() and len(cleaned) >= 15 and cleaned.endswith("000")


class Personal:
    """A valid phone or ID number: normalized (kept only in memory) and its keyed hash."""

    __slots__ = ("digest", "normalized")

    def __init__(self, normalized: str, digest: str) -> None:
        self.normalized = normalized
        self.digest = digest


def parse_id_number(value: object) -> Personal | None:
    """A valid 18-digit ID number (x check digit upper-cased), None for a blank cell."""
    cleaned = clean(value).upper()
    if not cleaned:
        return None
    if _excel_broke_id(value, cleaned):
        try:
            if not isinstance(value, str):
                raise pii.PersonalDataError(EXCEL_NUMBER_ID)
            normalized = pii.normalize_id_number(cleaned)
        except pii.PersonalDataError as exc:
            raise CellError(EXCEL_NUMBER_ID) from exc
        # Ends in 000 and still passes the checksum: a real number, typed as text.
    else:
        try:
            normalized = pii.normalize_id_number(cleaned)
        except pii.PersonalDataError as exc:
            raise CellError(exc.message) from exc
    return Personal(normalized, crypto.lookup_hash(pii.ID_NUMBER, normalized))


def parse_phone(value: object) -> Personal | None:
    """A valid mainland phone number (mobile or landline), None for a blank cell."""
    if not clean(value):
        return None
    try:
        normalized = pii.normalize_phone(text(value))
    except pii.PersonalDataError as exc:
        raise CellError(exc.message) from exc
    return Personal(normalized, crypto.lookup_hash(pii.PHONE, normalized))


_YES = {"是", "党员", "中共党员", "预备党员", "中共预备党员", "y", "yes", "√", "✓", "1", "true"}
_NO = {"否", "不是", "非党员", "群众", "共青团员", "团员", "无党派", "无党派人士", "民主党派",
       "n", "no", "×", "0", "false"}  # fmt: skip


def parse_party_member(value: object) -> bool | None:
    """是否党员 / 政治面貌: 中共党员 and 预备党员 are party members; None for a blank cell."""
    raw = clean(value).lower()
    if not raw:
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError(f"是否党员“{clean(value)}”无法识别（可写 是/否、中共党员、预备党员、群众）")
