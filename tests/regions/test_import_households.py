"""Household roster import: real-world mess in, every row accounted for."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pingan.accounts.models import Role
from pingan.core import pii
from pingan.regions.importing import ImportDenied, ImportFileError, household_import
from pingan.regions.importing import households as households_module
from pingan.regions.importing.cells import EXCEL_NUMBER_ID
from pingan.regions.importing.readers import read_rows
from pingan.regions.models import Household, ImportBatch
from tests.factories import make_household, valid_id_number, valid_phone
from tests.fixtures_messy import (
    HEADER,
    TITLE,
    csv_bytes,
    household_row,
    messy_roster_xlsx,
    xlsx_bytes,
)


def _import(world, data: bytes, name: str = "花名册.xlsx", role: str = Role.VILLAGE_ADMIN, **kw):
    return household_import(actor=world.users[role], source=data, filename=name, **kw)


def _reasons(result) -> dict[int, str]:
    return {o.row: o.reason for o in result.outcomes if o.status == "rejected"}


def _assert_accounted(result) -> None:
    assert result.imported + result.rejected == result.data_rows
    assert len({o.row for o in result.outcomes}) == result.data_rows


def test_messy_roster_title_merged_cells_full_width_and_lower_case_x(world):
    data, expected = messy_roster_xlsx()

    result = _import(world, data)

    _assert_accounted(result)
    assert result.rejected == 0, _reasons(result)
    assert result.data_rows == 6  # the blank row 7 is not a data row
    assert result.header_row == 3
    assert result.title_village == "七营村"
    assert [o.row for o in result.outcomes] == [4, 5, 6, 8, 9, 10]
    households = {h.head_name: h for h in Household.objects.filter(village=world.qiying)}
    assert len(households) == 6
    # The 组别 column is merged over rows 4-6 (三组) and 8-9 (第四村民小组); 12组 by itself.
    assert [households[f"张{c}{n}"].group_no for n, c in zip(range(1, 6), "二三四五六", strict=True)] == [
        3, 3, 3, 4, 4
    ]  # fmt: skip
    assert households["李四"].group_no == 12  # "李 四": the space is gone
    assert pii.seal_id_number(expected["x_id"]).digest == households["张五4"].id_number_digest
    assert households["张五4"].id_number_masked.endswith("X")
    assert households["张六5"].phone_digest == pii.phone_digest(expected["phone_row5"])
    assert households["张六5"].size == 5  # full-width ５
    assert households["张二1"].tags == ["留守老人", "低保户"]
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.created_count, batch.total_rows) == ("households", 6, 6)
    assert batch.region == world.qiying
    assert batch.actor == world.users[Role.VILLAGE_ADMIN]


@pytest.mark.parametrize(
    ("head", "phone", "id_number", "group", "address"),
    [
        ("户主姓名", "联系电话", "身份证号码", "组", "地址"),
        ("户主", "电话", "身份证号", "村民小组", "家庭住址"),
        ("姓名", "手机号码", "公民身份号码", "组别", "住址"),
        ("户主姓名（必填）", "手机号", "身份证号 ", "村民小组*", "家庭地址"),
    ],
)
def test_header_names_vary(world, head, phone, id_number, group, address):
    rows = [
        [head, phone, id_number, group, address],
        ["王五", valid_phone(11), valid_id_number(11), "二组", "七营村二组1号"],
    ]
    result = _import(world, xlsx_bytes(rows))
    assert (result.created, result.rejected) == (1, 0), _reasons(result)
    household = Household.objects.get()
    assert (household.head_name, household.group_no) == ("王五", 2)
    assert household.phone_masked
    assert household.id_number_masked


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("gbk", "gbk.csv"), ("utf-8-sig", "bom.csv"), ("utf-8", "plain.csv"), ("gb18030", "x.csv")],
)
def test_csv_in_the_encodings_excel_and_wps_write(world, encoding, name):
    rows = [
        [TITLE],
        HEADER,
        household_row(1, group="第三村民小组"),
        household_row(2, group="三"),
        [],
        household_row(3, group="第3组"),
    ]
    result = _import(world, csv_bytes(rows, encoding=encoding), name=name)
    assert (result.data_rows, result.created, result.rejected) == (3, 3, 0), _reasons(result)
    assert result.title_village == "七营村"
    assert set(Household.objects.values_list("group_no", flat=True)) == {3}
    assert Household.objects.filter(head_name__startswith="张").count() == 3


def test_unreadable_files_are_refused_whole(world):
    with pytest.raises(ImportFileError, match="编码"):
        _import(world, "户主姓名,地址\n".encode("utf-16"), name="x.csv")
    with pytest.raises(ImportFileError, match="Excel"):
        _import(world, b"not a workbook", name="x.xlsx")
    with pytest.raises(ImportFileError, match="格式"):
        _import(world, b"", name="x.docx")
    with pytest.raises(ImportFileError, match="表头"):
        _import(world, xlsx_bytes([["序号", "备注"], [1, "x"]]))


def test_calamine_row_numbers_with_leading_blank_rows_and_columns():
    """Pins how python-calamine reports rows: Excel row numbers stay right when the sheet
    starts below row 1 and right of column A, and merged cells are filled."""
    rows = [[], [], [None, None, "户主姓名", "地址"], [None, None, "甲", "七营村1号"]]
    rows += [[None, None, "乙", None]]
    data = xlsx_bytes(rows, merges=["D4:D5"])
    read = [(r.number, r.cells) for r in read_rows(data, "x.xlsx")]
    assert read[2:] == [
        (3, ["户主姓名", "地址"]),
        (4, ["甲", "七营村1号"]),
        (5, ["乙", "七营村1号"]),
    ]


def test_every_rejection_reason_with_row_numbers(world):
    first_id = valid_id_number(21)
    good = valid_id_number(22)
    bad_checksum = good[:-1] + ("1" if good[-1] != "1" else "2")
    rows = [
        [TITLE],
        HEADER,
        household_row(1, id_number=first_id),  # row 3: fine
        household_row(2, id_number=341623196503040000.0),  # 4: Excel made it a number
        household_row(3, id_number="3.41623E+17"),  # 5: scientific notation as text
        household_row(4, id_number="341623196503040000"),  # 6: digits lost
        household_row(5, id_number=bad_checksum),  # 7
        household_row(6, phone="12345"),  # 8: impossible phone
        household_row(7, head=""),  # 9
        household_row(8, address=""),  # 10
        household_row(9, id_number=first_id, address="七营村三组99号"),  # 11: same ID as row 3
        household_row(10, head="张二1", address="七营村三组1号", id_number=""),  # 12: row 3 again
        household_row(11, group="甲组"),  # 13
        household_row(12, size="很多"),  # 14
    ]
    result = _import(world, xlsx_bytes(rows, text_columns=[4]))

    _assert_accounted(result)
    reasons = _reasons(result)
    assert result.created == 1
    assert set(reasons) == set(range(4, 15))
    for row in (4, 5, 6):
        assert reasons[row] == EXCEL_NUMBER_ID
    assert "校验位不对" in reasons[7]
    assert "手机号" in reasons[8]
    assert reasons[9] == "缺少户主姓名"
    assert reasons[10] == "缺少地址"
    assert reasons[11] == "与第 3 行重复（身份证号相同）"
    assert reasons[12] == "与第 3 行重复（户主和地址相同）"
    assert "村民小组“甲组”无法识别" in reasons[13]
    assert "家庭人口" in reasons[14]


def test_a_valid_id_ending_in_000_typed_as_text_is_accepted(world):
    # Such numbers look like what Excel leaves after rounding, but are real: find one.
    number = next(
        candidate
        for day in range(1, 29)
        for serial in range(0, 1000, 100)
        if (candidate := valid_id_number(serial, birth=f"198003{day:02d}")).endswith("000")
    )
    result = _import(world, xlsx_bytes([HEADER, household_row(1, id_number=number)]))
    assert result.created == 1


def test_villages_unknown_outside_scope_and_by_short_name(world):
    rows = [
        ["村", "户主姓名", "地址"],
        ["七营", "甲", "七营村1号"],  # short form
        ["汝集镇七营村", "乙", "七营村2号"],  # with the town
        ["新桥村", "丙", "新桥村1号"],  # same town, not this admin's village
        ["远方村", "丁", "远方村1号"],  # another town: unknown here
        ["", "戊", "七营村3号"],  # no village: the admin's only village
    ]
    result = _import(world, xlsx_bytes(rows))
    _assert_accounted(result)
    reasons = _reasons(result)
    assert result.created == 3
    assert reasons[4] == "村“新桥村”不在您的管辖范围内"
    assert "找不到村“远方村”" in reasons[5]
    assert Household.objects.filter(village=world.xinqiao).count() == 0


def test_town_admin_imports_many_villages_and_needs_a_village_for_each_row(world):
    rows = [
        ["村", "户主姓名", "地址"],
        ["七营村", "甲", "七营村1号"],
        ["新桥", "乙", "新桥村1号"],
        ["", "丙", "某地1号"],
    ]
    result = _import(world, xlsx_bytes(rows), role=Role.TOWN_ADMIN)
    assert result.created == 2
    assert "未写明所属村" in _reasons(result)[4]
    batch = ImportBatch.objects.get()
    assert batch.region == world.town


def test_explicit_village_fills_rows_and_conflicting_rows_are_rejected(world):
    rows = [["村", "户主姓名", "地址"], ["", "甲", "新桥村1号"], ["七营村", "乙", "七营村1号"]]
    result = _import(world, xlsx_bytes(rows), role=Role.TOWN_ADMIN, village=world.xinqiao)
    assert result.created == 1
    assert _reasons(result)[3] == "本行的村“七营村”与所选的“新桥村”不一致"
    assert Household.objects.get().village == world.xinqiao


def test_village_outside_scope_and_roles_that_may_not_import(world):
    data = xlsx_bytes([["户主姓名", "地址"], ["甲", "1号"]])
    with pytest.raises(ImportDenied):
        _import(world, data, village=world.xinqiao)
    for role in (Role.CADRE, Role.LEADER, Role.UNIT_HANDLER, Role.COUNTY_VIEWER):
        with pytest.raises(ImportDenied):
            _import(world, data, role=role)
    assert not Household.objects.exists()


def test_duplicates_against_the_database(world):
    elsewhere = make_household(world.xinqiao, id_number=valid_id_number(31))
    make_household(
        world.qiying, head_name="赵六", address="七营村5号", id_number=valid_id_number(32)
    )
    rows = [
        ["户主姓名", "身份证号码", "地址"],
        ["钱七", valid_id_number(31), "七营村8号"],  # the ID is on a household of 新桥村
        ["赵六", valid_id_number(33), "七营村5号"],  # same head+address, another ID
    ]
    result = _import(world, xlsx_bytes(rows))
    reasons = _reasons(result)
    assert reasons[2] == "身份证号已登记在其他村的住户中"  # 新桥村 is outside this scope
    assert reasons[3] == "本村已有同一户主和地址的住户，但身份证号不同"
    # The town admin sees the village named.
    result = _import(world, xlsx_bytes(rows[:2]), role=Role.TOWN_ADMIN, village=world.qiying)
    assert _reasons(result)[2] == "身份证号已登记在新桥村的住户中"
    assert Household.objects.get(pk=elsewhere.pk).village == world.xinqiao


def test_dry_run_writes_nothing_and_reports_the_same(world):
    data, _ = messy_roster_xlsx()
    dry = _import(world, data, dry_run=True)
    assert (dry.dry_run, dry.created, dry.batch_id) == (True, 6, None)
    assert not Household.objects.exists()
    assert not ImportBatch.objects.exists()
    real = _import(world, data)
    assert real.counts == dry.counts


def test_an_error_mid_import_leaves_nothing_behind(world, monkeypatch):
    existing = make_household(world.qiying, head_name="张二1", address="七营村三组1号", size=1)
    data, _ = messy_roster_xlsx()
    calls = []
    original = households_module._bulk_create

    def failing(households):
        calls.append(len(households))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(households)

    monkeypatch.setattr(households_module, "_bulk_create", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _import(world, data, batch_size=2)
    assert calls == [2, 2]
    assert list(Household.objects.values_list("pk", flat=True)) == [existing.pk]
    assert Household.objects.get().size == 1  # the update of row 4 was rolled back too
    assert not ImportBatch.objects.exists()


def test_reimport_creates_nothing_and_an_edited_file_updates_and_reports(world):
    rows = [HEADER, household_row(1), household_row(2), household_row(3, id_number="")]
    assert _import(world, xlsx_bytes(rows)).created == 3
    again = _import(world, xlsx_bytes(rows))
    assert (again.created, again.unchanged, again.updated) == (0, 3, 0)
    assert Household.objects.count() == 3

    edited = [
        HEADER,
        household_row(1, address="七营村三组100号", phone=valid_phone(900)),  # by ID
        household_row(2, group="5组", size=6, tags="困难户"),
        household_row(
            3, id_number=valid_id_number(3, birth="19650304"), phone=""
        ),  # by head+address
    ]
    result = _import(world, xlsx_bytes(edited))
    assert (result.created, result.updated, result.unchanged) == (0, 3, 0)
    assert Household.objects.count() == 3
    changes = {o.row: [c.as_text() for c in o.changes] for o in result.changed()}
    assert "地址：七营村三组1号 → 七营村三组100号" in changes[2]
    assert any(c.startswith("手机号：138****0001 → 138****0900") for c in changes[2])
    assert changes[3] == ["村民小组：3组 → 5组", "家庭人口：3 → 6", "标签：（空） → 困难户"]
    assert changes[4] == ["身份证号：（空） → 341***********0033"]
    for texts in changes.values():  # no unmasked personal data in the change list
        assert valid_phone(900) not in " ".join(texts)
    one = Household.objects.get(address="七营村三组100号")
    assert one.phone_digest == pii.phone_digest(valid_phone(900))
    three = Household.objects.get(head_name__endswith="3")
    assert three.phone_masked  # a blank phone cell did not erase the phone
    summary = ImportBatch.objects.order_by("-id").first().summary
    assert summary["changes"][0]["changes"][0].startswith("地址")


def test_error_workbook_has_row_numbers_original_cells_and_reasons(world):
    rows = [[TITLE], HEADER, household_row(1), household_row(2, phone="110")]
    result = _import(world, xlsx_bytes(rows))
    workbook = load_workbook(io.BytesIO(result.errors_workbook()), read_only=True)
    sheet = workbook.active
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert lines[0] == ["行号", *HEADER, "错误原因"]
    assert lines[1][0] == 4
    assert lines[1][3] == household_row(2)[2]
    assert lines[1][5] == "110"
    assert "手机号" in lines[1][-1]
    batch = ImportBatch.objects.get()
    # The stored workbook holds the same rows (its file bytes differ: xlsx stamps the time).
    stored = load_workbook(io.BytesIO(bytes(batch.error_workbook)), read_only=True).active
    assert [list(r) for r in stored.iter_rows(values_only=True)] == lines
    assert batch.summary["rejections"] == [[4, lines[1][-1]]]


def test_formula_like_cells_stay_text_in_the_error_workbook(world):
    formula = '=HYPERLINK("http://example.invalid","x")'
    rows = [["户主姓名", "地址", "电话"], [formula, "七营村1号", "1"]]
    result = _import(world, csv_bytes(rows), name="x.csv")
    workbook = load_workbook(io.BytesIO(result.errors_workbook()))
    cell = workbook.active.cell(row=2, column=2)
    assert cell.data_type != "f"
    assert cell.value == formula


def test_command_line_import(world, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "七营村.xlsx"
    path.write_bytes(xlsx_bytes([[TITLE], HEADER, household_row(1), household_row(2, phone="1")]))
    out = io.StringIO()
    call_command("import_households", str(path), "--dry-run", stdout=out)
    assert "预检（未写入）：数据行 2，新增 1，更新 0，未变 0，拒绝 1。" in out.getvalue()
    assert not Household.objects.exists()

    out = io.StringIO()
    call_command("import_households", str(path), "--village", "七营村", stdout=out)
    assert "导入完成：数据行 2，新增 1" in out.getvalue()
    assert "第 4 行 拒绝" in out.getvalue()
    assert (tmp_path / "七营村-错误行.xlsx").exists()
    assert ImportBatch.objects.get().region == world.qiying


def test_a_title_naming_a_village_outside_scope_is_not_read_as_ones_own(world):
    rows = [["汝集镇新桥村户籍人口花名册"], HEADER, household_row(1)]
    result = _import(world, xlsx_bytes(rows, merges=["A1:H1"]))
    assert result.rejected == 1
    assert _reasons(result)[3] == "标题中的村“新桥村”不在您的管辖范围内"
    assert not Household.objects.exists()


def test_xls_workbook_with_merged_cells(world):
    """A real BIFF8 .xls (written once by xlwt: see tests/fixtures/make_roster_xls.py)."""
    path = Path(__file__).parent.parent / "fixtures" / "roster_qiying.xls"
    result = household_import(
        actor=world.users[Role.VILLAGE_ADMIN], source=path, filename=path.name
    )
    _assert_accounted(result)
    assert result.title_village == "七营村"
    assert (result.created, result.rejected) == (2, 1)
    assert _reasons(result) == {4: EXCEL_NUMBER_ID}
    households = {h.head_name: h for h in Household.objects.all()}
    assert households["王大"].id_number_masked == "341***********005X"
    assert households["王三"].phone_digest == pii.phone_digest("13800990003")
    assert {h.group_no for h in households.values()} == {3}


def test_coordinates_are_stored_and_checked(world):
    rows = [
        ["户主姓名", "地址", "纬度", "经度"],
        ["甲", "七营村1号", "33.051234", "116.081234"],
        ["乙", "七营村2号", "133", "116"],
    ]
    result = _import(world, xlsx_bytes(rows))
    assert result.created == 1
    assert "纬度“133”超出范围" in _reasons(result)[3]
    household = Household.objects.get()
    assert (str(household.lat), str(household.lng)) == ("33.051234", "116.081234")
    rows[1][2] = "33.06"
    again = _import(world, xlsx_bytes(rows[:2]))
    assert [c.as_text() for c in again.changed()[0].changes] == ["纬度：33.051234 → 33.060000"]


def test_a_synthetic_roster_goes_through_the_same_import(world):
    """What `pingan demo` can do: write the generated roster as a file, then import it."""
    from pingan.demo.rosters import household_roster_xlsx
    from pingan.demo.town import roster_plan

    rows = roster_plan(town_name="汝集镇", area_code="341623", villages=[(world.qiying, 60)])
    data = household_roster_xlsx(rows, title="汝集镇七营村户籍人口花名册（合成演示数据）")
    result = household_import(
        actor=None, source=data, filename="demo.xlsx", village=world.qiying, synthetic=True
    )
    assert (result.created, result.rejected) == (len(rows), 0), _reasons(result)
    assert Household.objects.filter(synthetic=True).count() == len(rows)
    first = Household.objects.order_by("pk").first()
    assert (first.group_no, first.lat is not None) == (rows[0].group_no, True)
    assert household_import(actor=None, source=data, filename="demo.xlsx").unchanged == len(rows)


def test_a_synthetic_cadre_list_goes_through_the_cadre_import(world):
    from pingan.accounts.importing import cadre_import
    from pingan.accounts.models import Person
    from pingan.demo.rosters import cadre_list_xlsx

    data = cadre_list_xlsx(
        [
            ("李明", valid_phone(9001), "七营村", True, "走访干部", ""),
            ("王芳", valid_phone(9002), "七营村", False, "", ""),
        ]
    )
    result = cadre_import(actor=None, source=data, filename="c.xlsx", synthetic=True)
    assert result.created == 2
    assert Person.objects.filter(synthetic=True, user__isnull=False).count() == 2
