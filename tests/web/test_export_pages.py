"""The export pages (issue 6 point 5): ask for a visits export, watch it, download it."""

import datetime as dt
import re
from io import BytesIO
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.reports.export_services import export_request
from pingan.reports.exports import HEADER
from pingan.reports.models import ExportJob
from tests.factories import make_user

URL = reverse("web:export_list")


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.PINGAN_HOME = tmp_path
    return tmp_path


def _ask(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(URL, data)


def _download(client, job):
    return client.get(reverse("web:export_download", args=[job.pk]))


# 01:30 in Shanghai is still the day before in UTC: the file is named by the Shanghai day.
@time_machine.travel(dt.datetime(2021, 10, 20, 1, 30, tzinfo=clock.SHANGHAI), tick=False)
def test_ask_then_download(world, scenario, login, django_capture_on_commit_callbacks):
    client = login(world.users[Role.TOWN_ADMIN])

    response = _ask(client, django_capture_on_commit_callbacks, village_id=world.qiying.pk,
                    date_from="2021-10-18", date_to="2021-10-19")  # fmt: skip

    assert response.status_code == 302
    assert response.url == URL
    job = ExportJob.objects.get()
    assert (job.status, job.row_count) == ("done", 11)
    page = client.get(URL)
    html = page.content.decode()
    assert "已提交导出申请，完成后可在下方下载。" in html
    assert "七营村 · 2021-10-18 至 2021-10-19" in html
    assert "已完成" in html
    assert "Refresh" not in page  # nothing left to wait for
    download = reverse("web:export_download", args=[job.pk])
    assert f'href="{download}"' in html

    response = _download(client, job)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Cache-Control"] == "no-store"
    name = re.search(r"filename\*=utf-8''(\S+)", response["Content-Disposition"]).group(1)
    assert name == quote("汝集镇走访记录-20211020.xlsx")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    assert len(rows) == 12


def test_the_page_reloads_itself_while_a_job_is_waiting(world, login):
    admin = world.users[Role.TOWN_ADMIN]
    export_request(user=admin, kind=ExportJob.Kind.VISITS, params={})  # queued, not run

    response = login(admin).get(URL)

    assert response["Refresh"] == "5"
    html = response.content.decode()
    assert "排队中" in html
    assert "有导出正在进行，本页每 5 秒自动刷新。" in html
    assert "web:export_download" not in html


def test_the_form_keeps_typed_input_on_an_error(world, login, django_capture_on_commit_callbacks):
    client = login(world.users[Role.TOWN_ADMIN])

    response = _ask(client, django_capture_on_commit_callbacks, village_id=world.xinqiao.pk,
                    date_from="2021-10-20", date_to="2021-10-19")  # fmt: skip

    assert response.status_code == 422
    assert "Refresh" not in response  # a reload would lose what was typed
    html = response.content.decode()
    assert "开始日期 2021-10-20 晚于结束日期 2021-10-19，请调换或修改" in html
    assert 'value="2021-10-20"' in html
    assert 'value="2021-10-19"' in html
    assert re.search(rf'<option value="{world.xinqiao.pk}" selected>新桥村</option>', html)
    assert not ExportJob.objects.exists()


def test_a_date_the_form_cannot_read_is_kept_too(world, login):
    client = login(world.users[Role.TOWN_ADMIN])

    response = client.post(URL, {"date_from": "2021-13-01"})

    assert response.status_code == 422
    assert 'value="2021-13-01"' in response.content.decode()
    assert not ExportJob.objects.exists()


def test_a_village_admin_chooses_only_their_village(world, login):
    client = login(world.users[Role.VILLAGE_ADMIN])

    html = client.get(URL).content.decode()
    response = client.post(URL, {"village_id": world.xinqiao.pk})

    assert "七营村" in html
    assert "新桥村" not in html
    assert response.status_code == 422
    assert not ExportJob.objects.exists()


def test_the_village_page_link_chooses_the_village(world, login):
    client = login(world.users[Role.TOWN_ADMIN])

    village_page = client.get(reverse("web:village", args=[world.xinqiao.pk])).content.decode()
    town_page = client.get(reverse("web:town", args=[world.town.pk])).content.decode()
    form = client.get(URL, {"village": world.xinqiao.pk}).content.decode()

    assert f'href="{URL}?village={world.xinqiao.pk}"' in village_page
    assert f'href="{URL}"' in town_page
    assert re.search(rf'<option value="{world.xinqiao.pk}" selected>新桥村</option>', form)


@pytest.mark.parametrize("role", [Role.CADRE, Role.UNIT_HANDLER])
def test_cadres_and_units_get_403(world, login, role):
    client = login(world.users[role])

    assert client.get(URL).status_code == 403
    assert client.post(URL, {}).status_code == 403
    assert not ExportJob.objects.exists()


def test_the_list_shows_only_the_users_own_jobs(world, login):
    export_request(user=world.users[Role.LEADER], kind=ExportJob.Kind.VISITS, params={})

    response = login(world.users[Role.TOWN_ADMIN]).get(URL)

    assert list(response.context["page"].object_list) == []
    assert "还没有导出记录。" in response.content.decode()


def test_downloads_outside_the_scope_are_404(world, scenario, login,
                                            django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(user=world.users[Role.VILLAGE_ADMIN], kind="visits", params={})
    other_town = make_user(Role.TOWN_ADMIN, world.other_town, username="other-town")

    assert _download(login(world.users[Role.TOWN_ADMIN]), job).status_code == 200
    for user in (other_town, world.users[Role.LEADER], world.users[Role.CADRE]):
        assert _download(login(user), job).status_code == 404
    assert (
        login(world.users[Role.TOWN_ADMIN])
        .get(reverse("web:export_download", args=[job.pk + 1000]))
        .status_code
        == 404
    )


def test_a_failed_job_shows_its_reason(world, login):
    admin = world.users[Role.TOWN_ADMIN]
    job = export_request(user=admin, kind=ExportJob.Kind.VISITS, params={})
    ExportJob.objects.filter(pk=job.pk).update(
        status="failed", finished_at=job.created_at, error="导出失败：服务器磁盘空间不足"
    )

    response = login(admin).get(URL)

    html = response.content.decode()
    assert "导出失败：服务器磁盘空间不足" in html
    assert "Refresh" not in response
    assert _download(login(admin), job).status_code == 404


def test_the_list_query_count_does_not_grow(world, scenario, login, django_assert_num_queries,
                                            django_capture_on_commit_callbacks):  # fmt: skip
    admin = world.users[Role.TOWN_ADMIN]
    client = login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        export_request(user=admin, kind=ExportJob.Kind.VISITS, params={})
    for village in (world.qiying, world.xinqiao):
        export_request(user=admin, kind=ExportJob.Kind.VISITS, params={"village_id": village.pk})
    # session, user, the user's region, villages for the form, unread notices, job count,
    # jobs with their region
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert len(response.context["page"].object_list) == 3


def test_the_request_query_count(world, login, django_assert_num_queries):
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, villages for the form, the village check, the savepoint and lock, the
    # check for the same job, the insert
    with django_assert_num_queries(10):
        response = client.post(URL, {"village_id": world.qiying.pk})
    assert response.status_code == 302


def test_english_page(world, login):
    client = login(world.users[Role.TOWN_ADMIN])
    client.post(reverse("set_language"), {"language": "en", "next": URL})
    export_request(user=world.users[Role.TOWN_ADMIN], kind=ExportJob.Kind.VISITS, params={})

    html = client.get(URL).content.decode()

    for english in ("Export visit records", "Request export", "Queued", "All villages"):
        assert english in html, english
