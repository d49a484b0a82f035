"""Cadre import: accounts with one-time passwords, an encrypted password sheet, re-import."""

import io

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.test import override_settings
from openpyxl import load_workbook

from pingan.accounts.hashers import OneTimePasswordHasher, initial_password_hash
from pingan.accounts.importing import (
    PASSWORD_ALPHABET,
    PasswordSheetGone,
    cadre_import,
    initial_password,
    password_sheet_discard,
    password_sheet_download,
    password_sheet_list,
)
from pingan.accounts.models import (
    InitialPasswordSheet,
    InitialPasswordSheetDownload,
    Person,
    Role,
    User,
)
from pingan.core import pii
from pingan.regions.models import ImportBatch
from tests.factories import UnitFactory, make_person, make_user, valid_phone
from tests.fixtures_messy import csv_bytes, xlsx_bytes

HEADER = ["序号", "姓名", "手机号", "村", "政治面貌", "职务", "单位"]


def _rows(world) -> list[list]:
    return [
        ["汝集镇党员干部走访名单"],
        HEADER,
        [1, "李明", valid_phone(7001), "七营村", "中共党员", "走访干部", ""],
        [2, "王芳", valid_phone(7002), "七营", "群众", "", ""],
        [3, "夏雷", valid_phone(7003), "新桥村", "预备党员", "村综治主任", ""],
        [4, "丁承贺", valid_phone(7004), "七营村", "中共党员", "走访干部", "汝集司法所"],
    ]


@pytest.fixture
def justice(world):
    return UnitFactory(region=world.town, name="汝集司法所", kind="justice")


def _import(world, rows, role=Role.TOWN_ADMIN, **kw):
    return cadre_import(
        actor=world.users[role], source=xlsx_bytes(rows), filename="干部.xlsx", **kw
    )


def test_cadre_import_creates_people_and_accounts(world, justice, client):
    result = _import(world, _rows(world))

    assert (result.created, result.rejected, result.data_rows) == (4, 0, 4)
    li = Person.objects.select_related("user").get(name="李明")
    assert li.user.username == valid_phone(7001)
    assert (li.user.role, li.user.region, li.user.must_change_password) == (
        Role.CADRE,
        world.qiying,
        True,
    )
    assert li.phone_digest == pii.phone_digest(valid_phone(7001))
    assert (li.party_member, li.home_village) == (True, world.qiying)
    assert Person.objects.get(name="王芳").party_member is False
    xia = Person.objects.get(name="夏雷")
    assert (xia.user.role, xia.visit_village) == (Role.VILLAGE_ADMIN, world.xinqiao)
    ding = Person.objects.get(name="丁承贺")
    assert (ding.home_unit, ding.home_village) == (justice, None)

    # The passwords are kept encrypted, one sheet per village, never in plaintext.
    batch = ImportBatch.objects.get(kind="cadres")
    sheets = {s.village.name: s for s in InitialPasswordSheet.objects.filter(batch=batch)}
    assert {name: s.account_count for name, s in sheets.items()} == {"七营村": 3, "新桥村": 1}
    passwords = {row[1]: row[2] for rows in result.credentials.values() for row in rows}
    for sheet in sheets.values():
        for password in passwords.values():
            assert password not in sheet.payload_ciphertext

    # Login works with the initial password, and the first page is the forced change.
    assert client.login(username=valid_phone(7001), password=passwords[valid_phone(7001)])
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.endswith("/password/")


def test_initial_passwords_are_readable_and_long_enough():
    for _ in range(50):
        password = initial_password()
        assert len(password) >= 10
        assert set(password.replace("-", "")) <= set(PASSWORD_ALPHABET)
        assert not set(password) & set("0Oo1lIi")


def test_reimport_updates_fields_and_keeps_the_password(world, justice):
    _import(world, _rows(world))
    before = User.objects.get(username=valid_phone(7001)).password
    again = _import(world, _rows(world))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert not InitialPasswordSheet.objects.filter(batch_id=again.batch_id).exists()

    rows = _rows(world)
    rows[2][1] = "李明明"
    rows[2][3] = "新桥村"
    result = _import(world, rows)
    assert (result.updated, result.unchanged) == (1, 3)
    change = result.changed()[0]
    texts = [c.as_text() for c in change.changes]
    assert "姓名：李* → 李**" in texts
    assert "走访村：七营村 → 新桥村" in texts
    user = User.objects.get(username=valid_phone(7001))
    assert user.password == before
    assert (user.full_name, user.region) == ("李明明", world.xinqiao)
    assert Person.objects.get(user=user).visit_village == world.xinqiao


def test_an_existing_cadre_without_login_gets_an_account(world):
    person = make_person(world.qiying, name="赵四", phone=valid_phone(7100))
    result = _import(world, [["姓名", "手机号", "村"], ["赵四", valid_phone(7100), "七营村"]])
    assert result.updated == 1
    person.refresh_from_db()
    assert person.user is not None
    assert person.user.must_change_password
    assert sum(len(v) for v in result.credentials.values()) == 1


def test_cadre_rejections(world, justice):
    make_user(Role.TOWN_ADMIN, world.town, username=valid_phone(7203))
    rows = [
        ["姓名", "手机号", "村", "角色", "单位", "是否党员"],
        ["甲", valid_phone(7201), "七营村", "", "", "是"],
        ["乙", valid_phone(7201), "七营村", "", "", "是"],  # same phone as row 2
        ["丙", "123", "七营村", "", "", ""],  # impossible phone
        ["丁", valid_phone(7203), "七营村", "", "", ""],  # username taken
        ["戊", valid_phone(7204), "七营村", "村长夫人", "", ""],
        ["己", valid_phone(7205), "七营村", "", "不存在单位", ""],
        ["庚", valid_phone(7206), "七营村", "", "", "也许"],
        ["", valid_phone(7207), "七营村", "", "", ""],
        ["辛", "", "七营村", "", "", ""],
    ]
    result = _import(world, rows)
    reasons = {o.row: o.reason for o in result.rejections()}
    assert result.created == 1
    assert result.imported + result.rejected == result.data_rows == 9
    assert reasons[3] == "与第 2 行重复（手机号相同）"
    assert "手机号" in reasons[4]
    assert reasons[5] == "该手机号已是其他账号的用户名"
    assert "角色“村长夫人”无法识别" in reasons[6]
    assert "找不到单位“不存在单位”" in reasons[7]
    assert "是否党员“也许”无法识别" in reasons[8]
    assert reasons[9] == "缺少姓名"
    assert "缺少手机号" in reasons[10]


def test_village_admin_imports_cadres_of_their_village_only(world):
    rows = [
        ["姓名", "手机号", "村", "职务"],
        ["甲", valid_phone(7301), "", "走访干部"],
        ["乙", valid_phone(7302), "新桥村", "走访干部"],
        ["丙", valid_phone(7303), "", "村支部书记"],
    ]
    result = _import(world, rows, role=Role.VILLAGE_ADMIN)
    reasons = {o.row: o.reason for o in result.rejections()}
    assert result.created == 1
    assert reasons[3] == "村“新桥村”不在您的管辖范围内"
    assert reasons[4] == "村管理员账号只能由镇综治中心导入"
    assert Person.objects.get().visit_village == world.qiying


def test_dry_run_and_atomicity(world, justice, monkeypatch):
    dry = _import(world, _rows(world), dry_run=True)
    assert (dry.created, dry.batch_id, dry.credentials) == (4, None, {})
    assert not Person.objects.exists()
    assert not User.objects.filter(role=Role.CADRE).exclude(username="cadre").exists()

    from pingan.accounts import importing

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(importing, "person_build", broken)
    users_before = User.objects.count()
    with pytest.raises(RuntimeError):
        _import(world, _rows(world))
    assert User.objects.count() == users_before
    assert not Person.objects.exists()
    assert not ImportBatch.objects.exists()


def test_password_sheet_download_is_logged_and_scoped_and_discard_erases(world, justice):
    result = _import(world, _rows(world))
    sheet = InitialPasswordSheet.objects.get(batch_id=result.batch_id, village=world.qiying)
    village_admin = world.users[Role.VILLAGE_ADMIN]
    other_admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao, username="xinqiao-admin")

    assert sheet in password_sheet_list(user=village_admin)
    assert sheet in password_sheet_list(user=world.users[Role.TOWN_ADMIN])  # the importer
    assert sheet not in password_sheet_list(user=other_admin)
    assert not password_sheet_list(user=world.users[Role.LEADER]).exists()

    content = password_sheet_download(actor=village_admin, sheet=sheet, ip_address="127.0.0.1")
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[1] == ("村", "姓名", "用户名（手机号）", "初始密码")
    by_user = {r[2]: r[3] for r in rows[2:]}
    assert set(by_user) == {valid_phone(7001), valid_phone(7002), valid_phone(7004)}
    user = User.objects.get(username=valid_phone(7002))
    assert user.check_password(by_user[valid_phone(7002)])
    log = InitialPasswordSheetDownload.objects.get()
    assert (log.actor, log.sheet, log.ip_address) == (village_admin, sheet, "127.0.0.1")

    password_sheet_discard(actor=village_admin, sheet=sheet)
    sheet.refresh_from_db()
    assert sheet.payload_ciphertext == ""
    assert sheet.discarded_by == village_admin
    with pytest.raises(PasswordSheetGone):
        password_sheet_download(actor=village_admin, sheet=sheet, ip_address=None)


def test_csv_cadre_list_in_gbk(world):
    rows = [["姓名", "手机号", "是否党员"], ["汝 宁", "１３８ ００７４ ０００１", "是"]]
    result = cadre_import(
        actor=world.users[Role.VILLAGE_ADMIN],
        source=csv_bytes(rows, encoding="gbk"),
        filename="名单.csv",
    )
    assert result.created == 1
    assert User.objects.get(username="13800740001").full_name == "汝宁"


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "pingan.accounts.hashers.OneTimePasswordHasher",
    ]
)
def test_one_time_hasher_is_used_for_initial_passwords_and_replaced_at_login(db):
    encoded = initial_password_hash("hK7m-Px3a-Q9tz")
    assert identify_hasher(encoded).algorithm == OneTimePasswordHasher.algorithm
    assert f"${OneTimePasswordHasher.iterations}$" in encoded
    upgraded = []
    assert check_password("hK7m-Px3a-Q9tz", encoded, setter=upgraded.append)
    assert upgraded == ["hK7m-Px3a-Q9tz"]  # Django rehashes with the default on login


def test_command_line_cadre_import(world, tmp_path, justice):
    from django.core.management import call_command

    path = tmp_path / "干部.xlsx"
    path.write_bytes(xlsx_bytes(_rows(world)))
    out = io.StringIO()
    call_command("import_cadres", str(path), "--passwords", str(tmp_path / "pw.xlsx"), stdout=out)
    text = out.getvalue()
    assert "导入完成：数据行 4，新增 4" in text
    assert "新建账号 4 个" in text
    assert (tmp_path / "pw-七营村.xlsx").exists()
    assert (tmp_path / "pw-新桥村.xlsx").exists()
