"""The import pages: who may upload, what the result shows, history and downloads in scope."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from pingan.accounts.models import InitialPasswordSheetDownload, Role
from pingan.regions.importing import household_import
from pingan.regions.models import Household, ImportBatch
from tests.factories import make_user, valid_phone
from tests.fixtures_messy import HEADER, TITLE, household_row, xlsx_bytes


def _upload(rows, name="花名册.xlsx"):
    return SimpleUploadedFile(name, xlsx_bytes(rows))


def _roster():
    return [[TITLE], HEADER, household_row(1), household_row(2), household_row(3, phone="12")]


@pytest.mark.parametrize("role", [Role.CADRE, Role.LEADER, Role.UNIT_HANDLER, Role.COUNTY_VIEWER])
@pytest.mark.parametrize("name", ["web:import_households", "web:import_cadres", "web:import_list"])
def test_roles_that_may_not_import_get_403(world, login, role, name):
    client = login(world.users[role])
    assert client.get(reverse(name)).status_code == 403
    if name != "web:import_list":
        response = client.post(reverse(name), {"file": _upload(_roster())})
        assert response.status_code == 403
    assert not Household.objects.exists()


def test_village_admin_uploads_and_sees_the_result(world, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    page = client.get(reverse("web:import_households") + f"?village={world.qiying.pk}")
    assert page.status_code == 200
    assert "预检（不写入）" in page.content.decode()

    response = client.post(reverse("web:import_households"), {"file": _upload(_roster())})

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("web:import_detail", args=[batch.pk])
    html = client.get(response.url).content.decode()
    for text in ("新增", "更新", "未变", "拒绝", "合计", "花名册.xlsx", "错误原因"):
        assert text in html
    assert "手机号“12”" in html
    assert Household.objects.filter(village=world.qiying).count() == 2

    errors = client.get(reverse("web:import_errors", args=[batch.pk]))
    assert errors.status_code == 200
    assert errors["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(errors.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == 5
    assert "手机号" in rows[1][-1]


def test_dry_run_page_writes_nothing(world, login):
    client = login(world.users[Role.TOWN_ADMIN])
    response = client.post(
        reverse("web:import_households"),
        {"file": _upload(_roster()), "village": world.qiying.pk, "dry_run": "on"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "预检（未写入）" in html
    assert "数据库没有任何改动" in html
    assert not Household.objects.exists()
    assert not ImportBatch.objects.exists()


def test_village_admin_cannot_import_into_another_village(world, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    # 新桥村 is not among the choices: the form refuses it and nothing is written.
    response = client.post(
        reverse("web:import_households"),
        {"file": _upload(_roster()), "village": world.xinqiao.pk},
    )
    assert response.status_code == 200
    assert not Household.objects.exists()
    # Rows naming 新桥村 are rejected with the reason.
    rows = [["村", "户主姓名", "地址"], ["新桥村", "甲", "新桥村1号"]]
    client.post(reverse("web:import_households"), {"file": _upload(rows)})
    batch = ImportBatch.objects.get()
    assert batch.summary["rejections"] == [[2, "村“新桥村”不在您的管辖范围内"]]
    assert not Household.objects.filter(village=world.xinqiao).exists()


def test_file_level_errors_show_on_the_form(world, login):
    client = login(world.users[Role.VILLAGE_ADMIN])
    response = client.post(reverse("web:import_households"), {"file": _upload([["序号"], [1]])})
    assert "找不到表头" in response.content.decode()
    response = client.post(
        reverse("web:import_households"),
        {"file": SimpleUploadedFile("a.pdf", b"%PDF")},
    )
    assert "请上传 .xlsx、.xls 或 .csv 文件。" in response.content.decode()


def test_batches_outside_scope_are_404(world, login):
    town_batch = household_import(
        actor=world.users[Role.TOWN_ADMIN],
        source=xlsx_bytes(_roster()),
        filename="town.xlsx",
        village=world.xinqiao,
    ).batch_id
    village_admin = world.users[Role.VILLAGE_ADMIN]
    client = login(village_admin)
    for name in ("web:import_detail", "web:import_errors"):
        assert client.get(reverse(name, args=[town_batch])).status_code == 404
    assert "town.xlsx" not in client.get(reverse("web:import_list")).content.decode()
    # The town center sees its own and the village's batches.
    own = household_import(
        actor=village_admin, source=xlsx_bytes(_roster()), filename="village.xlsx"
    ).batch_id
    town = login(world.users[Role.TOWN_ADMIN])
    html = town.get(reverse("web:import_list")).content.decode()
    assert "town.xlsx" in html
    assert "village.xlsx" in html
    assert town.get(reverse("web:import_detail", args=[own])).status_code == 200


def test_history_page_query_count_is_pinned(world, login, django_assert_num_queries):
    for n in range(3):
        household_import(
            actor=world.users[Role.VILLAGE_ADMIN],
            source=xlsx_bytes(_roster()),
            filename=f"f{n}.xlsx",
        )
    client = login(world.users[Role.TOWN_ADMIN])
    client.get(reverse("web:import_list"))  # warm the session
    with django_assert_num_queries(6):
        response = client.get(reverse("web:import_list"))
    html = response.content.decode()
    assert html.count("f0.xlsx") + html.count("f1.xlsx") + html.count("f2.xlsx") == 3
    for n in range(10):
        household_import(
            actor=world.users[Role.VILLAGE_ADMIN],
            source=xlsx_bytes(_roster()),
            filename=f"g{n}.xlsx",
        )
    with django_assert_num_queries(6):
        client.get(reverse("web:import_list"))


def test_cadre_upload_and_password_sheet_for_the_village_admin(world, login):
    rows = [
        ["姓名", "手机号", "村"],
        ["甲", valid_phone(8001), "七营村"],
        ["乙", valid_phone(8002), "七营村"],
    ]
    town = login(world.users[Role.TOWN_ADMIN])
    response = town.post(reverse("web:import_cadres"), {"file": _upload(rows, "干部.xlsx")})
    assert response.status_code == 302
    html = town.get(response.url).content.decode()
    assert "下载初始密码表" in html
    sheet_id = ImportBatch.objects.get().password_sheets.get().pk

    other = make_user(Role.VILLAGE_ADMIN, world.xinqiao, username="xq")
    url = reverse("web:password_sheet_download", args=[sheet_id])
    assert login(other).post(url).status_code == 404

    admin = login(world.users[Role.VILLAGE_ADMIN])
    assert admin.get(url).status_code == 405  # downloads are POSTs, each one logged
    download = admin.post(url)
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert {r[2] for r in rows[2:]} == {valid_phone(8001), valid_phone(8002)}
    assert (
        InitialPasswordSheetDownload.objects.filter(actor=world.users[Role.VILLAGE_ADMIN]).count()
        == 1
    )

    admin.post(reverse("web:password_sheet_discard", args=[sheet_id]))
    assert admin.post(url).status_code == 404


def test_import_links_on_village_and_town_pages(world, login):
    page = login(world.users[Role.VILLAGE_ADMIN]).get(
        reverse("web:village", args=[world.qiying.pk])
    )
    assert reverse("web:import_households") in page.content.decode()
    page = login(world.users[Role.LEADER]).get(reverse("web:town", args=[world.town.pk]))
    assert reverse("web:import_households") not in page.content.decode()


def test_command_line_batches_show_in_the_scope_of_their_villages(world, login):
    batch = household_import(
        actor=None, source=xlsx_bytes(_roster()), filename="cli.xlsx"
    ).batch_id  # the title names 七营村
    assert ImportBatch.objects.get(pk=batch).region == world.qiying
    for role in (Role.TOWN_ADMIN, Role.VILLAGE_ADMIN):
        html = login(world.users[role]).get(reverse("web:import_detail", args=[batch])).content
        assert "命令行" in html.decode()
