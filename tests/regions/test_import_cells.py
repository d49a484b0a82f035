"""One cell at a time: group numbers, sizes, tags, party membership, broken ID numbers."""

import pytest

from pingan.regions.importing.cells import (
    EXCEL_NUMBER_ID,
    CellError,
    chinese_to_int,
    parse_group,
    parse_id_number,
    parse_party_member,
    parse_size,
    parse_tags,
)
from tests.factories import valid_id_number


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("3", 3), (3.0, 3), ("3组", 3), ("三组", 3), ("第三村民小组", 3), ("第3组", 3), ("三", 3),
        ("３组", 3), ("十组", 10), ("第十二村民小组", 12), ("二十组", 20), ("二十九组", 29),
        ("第二十九村民小组", 29), ("两组", 2), ("五队", 5), ("第 7 组", 7), ("", None), (None, None),
    ],
)  # fmt: skip
def test_group_numbers_as_people_write_them(cell, expected):
    assert parse_group(cell) == expected


@pytest.mark.parametrize("cell", ["甲组", "第三十十组", "0组", "组", "abc"])
def test_unreadable_groups(cell):
    with pytest.raises(CellError, match="村民小组"):
        parse_group(cell)


def test_chinese_numerals():
    assert [chinese_to_int(x) for x in ("一", "九", "十", "十一", "二十", "九十九")] == [
        1, 9, 10, 11, 20, 99
    ]  # fmt: skip
    assert chinese_to_int("百") is None


def test_sizes_and_tags():
    assert parse_size("５") == 5
    assert parse_size("3人") == 3
    assert parse_size("") is None
    with pytest.raises(CellError):
        parse_size("0")
    assert parse_tags("留守老人、低保户，困难户 留守老人") == ["留守老人", "低保户", "困难户"]
    assert parse_tags("无") == []
    assert parse_tags(None) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("中共党员", True),
        ("预备党员", True),
        ("是", True),
        ("群众", False),
        ("否", False),
        ("", None),
    ],
)
def test_party_membership(cell, expected):
    assert parse_party_member(cell) is expected


@pytest.mark.parametrize(
    "cell", [341623196503040017.0, 341623196503040017, "3.41623E+17", "3.416231965E17"]
)
def test_id_numbers_excel_stored_as_numbers(cell):
    with pytest.raises(CellError) as caught:
        parse_id_number(cell)
    assert caught.value.message == EXCEL_NUMBER_ID


def test_lower_case_x_and_full_width_digits():
    number = next(
        valid_id_number(s, birth="19580817")
        for s in range(1000)
        if valid_id_number(s, birth="19580817").endswith("X")
    )
    full_width = number.lower().translate(str.maketrans("0123456789x", "０１２３４５６７８９ｘ"))
    assert parse_id_number(full_width).normalized == number


def test_id_validation_fast_path_matches_stdnum():
    """core.pii skips stdnum's slow birth-place lookup for known area codes; the outcome must
    be what ric.validate (plus pingan's any-known-area-code rule) gives."""
    from stdnum.cn import ric

    from pingan.core import pii

    samples = [
        valid_id_number(n, birth=b) for n in range(0, 1000, 97) for b in ("19350101", "19991231")
    ]
    for number in samples:
        assert ric.is_valid(number) or number.startswith("341623")
        assert pii.normalize_id_number(number) == number
    body = "34162319700230123"  # 30 February
    with pytest.raises(pii.PersonalDataError, match="出生日期或地区码无效"):
        pii.normalize_id_number(body + ric.calc_check_digit(body + "0"))
    good = valid_id_number(5)
    with pytest.raises(pii.PersonalDataError, match="校验位不对"):
        pii.normalize_id_number(good[:-1] + ("0" if good[-1] != "0" else "1"))
    body = "99999919700101123"  # an area code no list has had
    with pytest.raises(pii.PersonalDataError, match="出生日期或地区码无效"):
        pii.normalize_id_number(body + ric.calc_check_digit(body + "0"))
