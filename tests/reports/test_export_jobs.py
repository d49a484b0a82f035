"""Background exports of the visits (issue 6 point 5): asked for, run by the task queue
(immediate in tests), written masked and streamed, scoped, never half-written, never redone.

The visits are those of the hand-worked progress scenario (tests/progress_scenario.py):
七营村 11, 新桥村 1, and one in another town's 远方村 that no 汝集镇 export may contain."""

import datetime as dt
import errno
import re
import threading
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.reports import export_services, exports
from pingan.reports.export_services import (
    ExportNotFound,
    ExportParamsError,
    export_abandoned_fail,
    export_file_for,
    export_request,
    export_run,
)
from pingan.reports.exports import HEADER
from pingan.reports.models import ExportJob
from pingan.reports.tasks import export_visits_task
from tests.factories import make_user
from tests.progress_scenario import DAY1, DAY2, shanghai, sync

VISITS = ExportJob.Kind.VISITS
QIYING_VISITS, TOWN_VISITS = 11, 12
FULL_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(autouse=True)
def home(settings, tmp_path) -> Path:
    settings.PINGAN_HOME = tmp_path
    return tmp_path


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Ask for an export and let the transaction commit: the queued task runs at once."""

    def _ask(user, **params) -> ExportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = export_request(user=user, kind=VISITS, params=params)
        job.refresh_from_db()
        return job

    return _ask


def _rows(path: Path) -> dict[str, list[dict]]:
    """Every sheet as a list of {header: value}, checking each sheet starts with the header."""
    workbook = load_workbook(path)
    sheets = {}
    for sheet in workbook.worksheets:
        values = list(sheet.iter_rows(values_only=True))
        assert values[0] == HEADER, sheet.title
        sheets[sheet.title] = [dict(zip(HEADER, row, strict=True)) for row in values[1:]]
    return sheets


def excel_time(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """What a time cell reads back as: the wall clock in Asia/Shanghai, without a zone."""
    return shanghai(day, hour, minute).replace(tzinfo=None)


def _files(home: Path) -> list[str]:
    folder = home / "exports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- request → run → file ------------------------------------------------------------------


def test_the_town_export_runs_in_the_background_and_reads_back_masked(
    world, scenario, run_on_commit, home
):
    li_user = scenario.li.user
    sync(li_user, scenario.households["h8"], scenario.questionnaire, "completed",
         shanghai(DAY2, 16), opinion='=HYPERLINK("http://x.example","点我")',
         accuracy_m=8.5)  # fmt: skip

    job = run_on_commit(world.users[Role.TOWN_ADMIN])

    assert (job.status, job.row_count, job.error) == (ExportJob.Status.DONE, 13, "")
    assert job.region == world.town
    assert job.started_at is not None
    assert job.finished_at >= job.started_at
    path = home / job.path
    assert path.name == f"{job.pk}-走访记录-{clock.local(job.created_at):%Y%m%d}.xlsx"
    assert job.file_size == path.stat().st_size
    assert _files(home) == [path.name]  # no temporary file left
    [rows] = _rows(path).values()
    assert len(rows) == 13
    assert {row["村"] for row in rows} == {"七营村", "新桥村"}  # never 远方村
    first = rows[0]  # 七营村 in time order: h1's not-home visit, day 1 at 09:00
    visit = scenario.visits["h1a"]
    assert first == {
        **first,
        "走访编号": str(visit.uuid),
        "村": "七营村",
        "村民小组": 2,
        "地址": "七营村1号",
        "户主": "张*",
        "走访干部": "王建国",
        "结果": "不在家",
        "是否计入": "否",
        "问卷": "否",
        "开始时间": excel_time(DAY1, 8, 48),
        "结束时间": excel_time(DAY1, 9, 0),
        "接收时间": excel_time(DAY1, 9, 3),
    }
    assert re.fullmatch(r"138\*{4}\d{4}", first["手机号"])
    [h8] = [row for row in rows if row["地址"] == "七营村8号"]
    flags = (h8["是否计入"], h8["问卷"], h8["宣传资料"])
    assert (h8["结果"], flags) == ("入户走访", ("是", "是", "是"))
    assert h8["定位精度（米）"] == 8.5
    # The resident's words come back exactly, as text that Excel never runs as a formula.
    assert h8["群众意见"] == '=HYPERLINK("http://x.example","点我")'
    cell = next(c for c in load_workbook(path).active["O"] if c.value == h8["群众意见"])
    assert (cell.data_type, cell.quotePrefix) == ("s", True)
    # No full phone number anywhere in the file, whatever the cell.
    with zipfile.ZipFile(path) as archive:
        text = "".join(archive.read(name).decode() for name in archive.namelist())
    assert not FULL_PHONE.search(text)


def test_the_task_runs_a_queued_job(world, scenario, home):
    job = export_request(user=world.users[Role.LEADER], kind=VISITS, params={})
    assert job.status == ExportJob.Status.QUEUED  # the task waits for the commit

    export_visits_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.row_count) == (ExportJob.Status.DONE, TOWN_VISITS)


def test_filters_by_village_and_days(world, scenario, run_on_commit, home):
    job = run_on_commit(
        world.users[Role.TOWN_ADMIN], village_id=world.qiying.pk, date_from="2021-10-19",
        date_to="2021-10-19",
    )  # fmt: skip

    assert job.params == {"village_id": world.qiying.pk, "village_name": "七营村",
                          "date_from": "2021-10-19", "date_to": "2021-10-19"}  # fmt: skip
    [rows] = _rows(home / job.path).values()
    expected = {str(scenario.visits[key].uuid) for key in ("h1b", "h2b", "h9b")}
    assert {row["走访编号"] for row in rows} == expected


def test_a_visit_synced_late_counts_on_the_day_it_was_done(world, scenario, run_on_commit, home):
    # h8 visited on day 1 offline, received on day 2: day 1's work, as the progress pages say
    sync(scenario.li.user, scenario.households["h8"], None, "not_home", shanghai(DAY1, 17),
         received=shanghai(DAY2, 8))  # fmt: skip

    job = run_on_commit(world.users[Role.TOWN_ADMIN], date_to=DAY1.isoformat())

    [rows] = _rows(home / job.path).values()
    assert "七营村8号" in {row["地址"] for row in rows}
    assert job.row_count == 10  # day 1: 七营村 eight and this one, 新桥村 one


def test_sheets_roll_over_with_the_header_repeated(world, scenario, run_on_commit, home,
                                                   monkeypatch):  # fmt: skip
    monkeypatch.setattr(exports, "SHEET_ROWS", 3)  # a header and two visits per sheet

    job = run_on_commit(world.users[Role.TOWN_ADMIN])

    sheets = _rows(home / job.path)
    assert list(sheets) == ["走访记录", *(f"走访记录{n}" for n in range(2, 7))]
    assert [len(rows) for rows in sheets.values()] == [2, 2, 2, 2, 2, 2]
    all_rows = [row for rows in sheets.values() for row in rows]
    assert len({row["走访编号"] for row in all_rows}) == TOWN_VISITS


def test_an_empty_export_is_a_header_only_workbook(world, run_on_commit, home):
    job = run_on_commit(world.users[Role.TOWN_ADMIN])

    assert (job.status, job.row_count) == (ExportJob.Status.DONE, 0)
    assert _rows(home / job.path) == {"走访记录": []}


# --- scope -----------------------------------------------------------------------------------


def test_a_village_admin_exports_only_their_village(world, scenario, run_on_commit, home):
    admin = world.users[Role.VILLAGE_ADMIN]

    job = run_on_commit(admin)

    assert (job.region, job.row_count) == (world.qiying, QIYING_VISITS)
    [rows] = _rows(home / job.path).values()
    assert {row["村"] for row in rows} == {"七营村"}
    with pytest.raises(ExportParamsError) as refused:
        export_request(user=admin, kind=VISITS, params={"village_id": world.xinqiao.pk})
    assert refused.value.field == "village_id"
    assert refused.value.message == "所选的村不在您的管辖范围内"


def test_the_county_center_exports_its_county(world, scenario, run_on_commit):
    job = run_on_commit(world.users[Role.COUNTY_VIEWER])

    assert (job.region, job.row_count) == (world.county, TOWN_VISITS)


@pytest.mark.parametrize("role", [Role.CADRE, Role.UNIT_HANDLER])
def test_cadres_and_units_may_not_export(world, role):
    with pytest.raises(PermissionDenied) as refused:
        export_request(user=world.users[role], kind=VISITS, params={})

    assert "只有镇综治中心、领导小组、村管理员和县综治中心可以导出走访记录" in str(refused.value)
    assert not ExportJob.objects.exists()


def test_the_scope_is_the_region_at_request_time(world, scenario, home):
    # Given a town admin's export queued, then the admin moved to 七营村 as its village admin
    admin = world.users[Role.TOWN_ADMIN]
    job = export_request(user=admin, kind=VISITS, params={})
    admin.role, admin.region = Role.VILLAGE_ADMIN, world.qiying
    admin.save()

    job = export_run(job_id=job.pk)

    assert (job.region, job.row_count) == (world.town, TOWN_VISITS)


def test_who_may_download(world, scenario, run_on_commit):
    village_job = run_on_commit(world.users[Role.VILLAGE_ADMIN])
    town_job = run_on_commit(world.users[Role.TOWN_ADMIN])
    other_town_admin = make_user(Role.TOWN_ADMIN, world.other_town, username="other-town")

    # the requester, and a town center whose town holds the scope
    found = export_file_for(user=world.users[Role.VILLAGE_ADMIN], job_id=village_job.pk)
    assert found.filename == f"七营村走访记录-{clock.local(village_job.created_at):%Y%m%d}.xlsx"
    assert found.size == village_job.file_size
    assert export_file_for(user=world.users[Role.TOWN_ADMIN], job_id=village_job.pk).path == (
        found.path
    )
    # nobody else: not the leader, not the village admin for the town's file, not another town
    for user, job in [
        (world.users[Role.LEADER], town_job),
        (world.users[Role.VILLAGE_ADMIN], town_job),
        (world.users[Role.COUNTY_VIEWER], village_job),
        (other_town_admin, village_job),
        (other_town_admin, town_job),
    ]:
        with pytest.raises(ExportNotFound):
            export_file_for(user=user, job_id=job.pk)


def test_a_job_without_its_file_is_not_found(world, scenario, run_on_commit, home):
    job = run_on_commit(world.users[Role.TOWN_ADMIN])
    (home / job.path).unlink()

    with pytest.raises(ExportNotFound):
        export_file_for(user=world.users[Role.TOWN_ADMIN], job_id=job.pk)


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2021-10-20", "date_to": "2021-10-19"}, "date_to",
         "开始日期 2021-10-20 晚于结束日期 2021-10-19，请调换或修改"),
        ({"date_from": "2021-13-01"}, "date_from",
         "开始日期“2021-13-01”不是有效的日期（格式：2021-10-18）"),
        ({"date_from": "2099-01-01"}, "date_from", "开始日期 2099-01-01 晚于今天，还没有走访记录"),
        ({"village_id": "七营"}, "village_id", "请选择列表中的村"),
        ({"town": "1"}, None, "不认识的筛选条件：town"),
    ],
)  # fmt: skip
def test_filters_are_checked_in_chinese(world, params, field, message):
    with pytest.raises(ExportParamsError) as refused:
        export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params=params)

    assert (refused.value.field, refused.value.message) == (field, message)
    assert not ExportJob.objects.exists()


def test_asking_twice_while_queued_gives_the_same_job(world):
    admin = world.users[Role.TOWN_ADMIN]
    first = export_request(user=admin, kind=VISITS, params={"village_id": world.qiying.pk})

    again = export_request(user=admin, kind=VISITS, params={"village_id": str(world.qiying.pk)})
    other = export_request(user=admin, kind=VISITS, params={})

    assert again == first
    assert other != first
    assert ExportJob.objects.count() == 2


# --- never half-written, never redone ------------------------------------------------------


def test_a_failing_write_leaves_the_job_failed_and_no_file(world, scenario, home, monkeypatch):
    def broken(*, visits_queryset, out_path, **kwargs):
        Path(out_path).write_bytes(b"PK half a workbook")
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr(export_services, "visit_export_write", broken)
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    job = export_run(job_id=job.pk)

    assert job.status == ExportJob.Status.FAILED
    assert job.error == "导出失败：系统内部错误（RuntimeError），请重新申请；如仍失败请联系管理员"
    assert (job.path, job.file_size, job.finished_at is not None) == ("", None, True)
    assert _files(home) == []
    # and it stays failed: running it again changes nothing
    assert export_run(job_id=job.pk).status == ExportJob.Status.FAILED


def test_a_full_disk_is_said_so(world, scenario, home, monkeypatch):
    def full(*, visits_queryset, out_path, **kwargs):
        Path(out_path).write_bytes(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_services, "visit_export_write", full)
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    job = export_run(job_id=job.pk)

    assert job.error == "导出失败：服务器磁盘空间不足，请联系管理员清理后重新申请"
    assert _files(home) == []


def test_a_real_writer_error_midway_leaves_nothing(world, scenario, home, monkeypatch):
    # the real writer, breaking on the fifth visit
    calls = []

    def values(row):
        calls.append(row)
        if len(calls) == 5:
            raise ValueError("bad row")
        return real(row)

    real = exports.visit_export_values
    monkeypatch.setattr(exports, "visit_export_values", values)
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    job = export_run(job_id=job.pk)

    assert job.status == ExportJob.Status.FAILED
    assert _files(home) == []


def test_a_done_job_is_not_redone(world, scenario, run_on_commit, home, monkeypatch):
    job = run_on_commit(world.users[Role.TOWN_ADMIN])
    path = home / job.path
    written = path.stat().st_mtime_ns

    def must_not_run(**kwargs):
        raise AssertionError("a done job was written again")

    monkeypatch.setattr(export_services, "visit_export_write", must_not_run)
    again = export_run(job_id=job.pk)
    export_visits_task(job.pk)

    assert (again.status, again.finished_at, again.row_count) == (
        ExportJob.Status.DONE, job.finished_at, TOWN_VISITS)  # fmt: skip
    assert path.stat().st_mtime_ns == written


def test_a_running_job_is_left_to_its_worker(world, monkeypatch):
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=clock.now())
    monkeypatch.setattr(export_services, "visit_export_write", lambda **kw: 1 / 0)

    assert export_run(job_id=job.pk).status == ExportJob.Status.RUNNING


def test_a_deactivated_requester_gets_no_file(world, scenario, home):
    admin = world.users[Role.TOWN_ADMIN]
    job = export_request(user=admin, kind=VISITS, params={})
    admin.is_active = False
    admin.save()

    job = export_run(job_id=job.pk)

    assert (job.status, job.error) == (ExportJob.Status.FAILED, "申请人的账号已停用，未导出")
    assert _files(home) == []


def test_a_queue_that_refuses_the_job_fails_it(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from pingan.reports import tasks

    def down(job_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks, "export_visits_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    job.refresh_from_db()
    assert (job.status, job.error) == (
        ExportJob.Status.FAILED, "后台任务队列暂时不可用，请稍后重新申请导出")  # fmt: skip


# --- abandoned jobs ---------------------------------------------------------------------------


def test_a_job_whose_worker_stopped_is_failed_and_its_leftovers_removed(world, home):
    # Given a job that started at 10:00 and whose worker died, leaving its partial file
    admin = world.users[Role.TOWN_ADMIN]
    started = dt.datetime(2021, 10, 19, 10, 0, tzinfo=clock.SHANGHAI)
    with time_machine.travel(started, tick=False):
        job = export_request(user=admin, kind=VISITS, params={})
        ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=started)
    (home / "exports" / f".{job.pk}-abc").mkdir(parents=True)
    (home / "exports" / f".{job.pk}-abc" / "half.xlsx").write_bytes(b"PK")
    fresh = export_request(user=admin, kind=VISITS, params={"village_id": world.qiying.pk})

    # When the periodic check runs 14 minutes later nothing happens; at 16 minutes it fails
    assert export_abandoned_fail(now=started + dt.timedelta(minutes=14)) == 0
    assert export_abandoned_fail(now=started + dt.timedelta(minutes=16)) == 1

    job.refresh_from_db()
    assert (job.status, job.error) == (
        ExportJob.Status.FAILED, "导出中断（后台进程已停止），请重新申请导出")  # fmt: skip
    assert _files(home) == []
    fresh.refresh_from_db()
    assert fresh.status == ExportJob.Status.QUEUED  # queued just now: left alone
    # asking again makes a new job rather than returning the dead one
    assert export_request(user=admin, kind=VISITS, params={}) != job


def test_a_job_lost_by_the_queue_is_failed(world):
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    assert export_abandoned_fail(now=clock.now() + dt.timedelta(hours=7)) == 1

    job.refresh_from_db()
    assert (job.status, job.error) == (ExportJob.Status.FAILED, "排队过久仍未开始，请重新申请导出")


def test_a_worker_that_was_declared_dead_stops_and_keeps_no_file(world, scenario, home,
                                                                 monkeypatch):  # fmt: skip
    # the worker is slow: before its first progress report the job is failed as abandoned
    real = exports.visit_export_write

    def slow(**kwargs):
        export_abandoned_fail(now=clock.now() + dt.timedelta(hours=1))
        return real(**{**kwargs, "progress_every": 1})

    monkeypatch.setattr(export_services, "visit_export_write", slow)
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    job = export_run(job_id=job.pk)

    assert (job.status, job.error) == (
        ExportJob.Status.FAILED, "导出中断（后台进程已停止），请重新申请导出")  # fmt: skip
    assert _files(home) == []


def test_progress_is_recorded_while_writing(world, scenario, home, monkeypatch):
    seen = []
    real = exports.visit_export_write

    def watched(**kwargs):
        def progress(rows):
            kwargs["progress"](rows)
            seen.append(ExportJob.objects.values_list("status", "row_count").get())

        return real(**{**kwargs, "progress": progress, "progress_every": 5})

    monkeypatch.setattr(export_services, "visit_export_write", watched)
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    export_run(job_id=job.pk)

    assert seen == [("running", 5), ("running", 10)]


@pytest.mark.django_db(transaction=True)
def test_other_connections_commit_while_the_export_runs(world, scenario, home, monkeypatch):
    # The site keeps writing during a long export. On SQLite a connection whose read began
    # before another connection's commit cannot write until that read ends, so the export
    # must hold no read open while it records its progress.
    real = exports.visit_export_write
    cadre = scenario.wang.user

    def busy_site(**kwargs):
        def progress(rows):
            worker = threading.Thread(target=_commit_elsewhere, args=(cadre.pk, rows))
            worker.start()
            worker.join()
            kwargs["progress"](rows)

        return real(**{**kwargs, "progress": progress, "progress_every": 2})

    monkeypatch.setattr(export_services, "visit_export_write", busy_site)
    monkeypatch.setattr(exports, "CHUNK_SIZE", 3)  # more chunks than one
    job = export_request(user=world.users[Role.TOWN_ADMIN], kind=VISITS, params={})

    job = export_run(job_id=job.pk)

    assert (job.status, job.row_count, job.error) == (ExportJob.Status.DONE, TOWN_VISITS, "")
    cadre.refresh_from_db()
    assert cadre.first_name == "12"


def _commit_elsewhere(user_id: int, rows: int) -> None:
    """A write committed by another connection (as a request thread of the site would)."""
    from django.db import connection

    from pingan.accounts.models import User

    try:
        User.objects.filter(pk=user_id).update(first_name=str(rows))
    finally:
        connection.close()
