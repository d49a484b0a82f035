"""`pingan export_ledger`: the daily ledger report to the county holds only what is new or
changed since the town's previous report, and reports are written in date order."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.core.workdays import end_of_day
from pingan.ledger.exports import HEADER, ReportRefused, ledger_report_write
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import LedgerReport, Problem
from pingan.ledger.services import ActionInput, problem_report
from pingan.ledger.supervision import problem_tick
from tests.factories import make_campaign, make_user
from tests.ledger.conftest import REPORTED_AT, SHANGHAI

DAY1 = dt.date(2021, 10, 21)  # REPORTED_AT's day
DAY2 = dt.date(2021, 10, 22)


def morning_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0), tzinfo=SHANGHAI)


def export(world, day: dt.date, out: Path, *, at: dt.datetime | None = None, **extra) -> str:
    stdout = io.StringIO()
    with clock.at(at or morning_after(day)):
        call_command(
            "export_ledger",
            "--date",
            f"{day:%Y-%m-%d}",
            "--output",
            str(out),
            *[item for key, value in extra.items() for item in (f"--{key}", value)],
            stdout=stdout,
            stderr=io.StringIO(),
        )
    return stdout.getvalue()


def report_rows(path: Path) -> dict[str, tuple]:
    sheet = load_workbook(path)["台账"]
    header = [cell.value for cell in sheet[2]]
    assert header == [*HEADER, "本期变化"]
    return {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}


def report_file(out: Path, day: dt.date) -> Path:
    return out / f"台账日报-汝集镇-{day:%Y%m%d}.xlsx"


@pytest.fixture
def day1(ledger):
    """Three problems made on day 1: one reported, one dispatched, one closed."""
    return {
        state: ledger.make(state)
        for state in (Problem.Status.REPORTED, Problem.Status.DISPATCHED, Problem.Status.CLOSED)
    }


def test_first_report_has_everything_up_to_the_end_of_the_day(world, day1, tmp_path):
    printed = export(world, DAY1, tmp_path, town=world.town.code)

    report = LedgerReport.objects.get(town=world.town, date=DAY1)
    assert report.since is None
    assert report.until == end_of_day(DAY1)
    assert report.row_count == 3
    assert report.path == str(report_file(tmp_path, DAY1))
    rows = report_rows(report_file(tmp_path, DAY1))
    assert set(rows) == {p.code for p in day1.values()}
    assert {row[-1] for row in rows.values()} == {"新增"}
    sheet = load_workbook(report_file(tmp_path, DAY1))["台账"]
    assert sheet["A1"].value == (
        "汝集镇不满意问题台账日报（2021-10-21；活动开始至 2021-10-21 23:59 新增及变化）"
    )
    assert "台账日报-汝集镇-20211021.xlsx" in printed
    assert "新增及变化问题 3 件（活动开始 至 2021-10-21 23:59）" in printed


def test_next_report_has_only_what_changed_since(world, ledger, day1, tmp_path):
    # Given the day-1 report
    export(world, DAY1, tmp_path)
    # When on day 2 the unit handles the dispatched problem, and a new one is reported
    dispatched = day1[Problem.Status.DISPATCHED]
    with clock.at(dt.datetime(2021, 10, 22, 15, 0, tzinfo=SHANGHAI)):
        ledger.act(dispatched, Action.HANDLE, Role.UNIT_HANDLER, ActionInput(result="已处理"))
    new = ledger.make(Problem.Status.REPORTED, at=dt.datetime(2021, 10, 22, 16, 0, tzinfo=SHANGHAI))
    printed = export(world, DAY2, tmp_path)

    # Then the day-2 report holds only those two
    report = LedgerReport.objects.get(town=world.town, date=DAY2)
    assert report.since == end_of_day(DAY1)
    assert report.until == end_of_day(DAY2)
    rows = report_rows(report_file(tmp_path, DAY2))
    assert set(rows) == {dispatched.code, new.code}
    assert rows[dispatched.code][19] == "已办理"
    assert rows[dispatched.code][-1] == "状态变更"
    assert rows[new.code][-1] == "新增"
    assert "新增及变化问题 2 件（2021-10-21 23:59 之后 至 2021-10-22 23:59）" in printed


def test_a_reminder_alone_is_progress_not_a_state_change(world, ledger, day1, tmp_path):
    export(world, DAY1, tmp_path)
    problem_tick(now=dt.datetime(2021, 11, 3, 9, 0, tzinfo=SHANGHAI))  # 催办 the dispatched one

    export(world, dt.date(2021, 11, 3), tmp_path)

    rows = report_rows(report_file(tmp_path, dt.date(2021, 11, 3)))
    dispatched = day1[Problem.Status.DISPATCHED]
    assert set(rows) == {dispatched.code}
    assert rows[dispatched.code][12] == 1  # 催办次数
    assert rows[dispatched.code][-1] == "有新进展"


def test_nothing_changed_gives_an_empty_report(world, day1, tmp_path):
    export(world, DAY1, tmp_path)

    printed = export(world, DAY2, tmp_path)

    assert report_rows(report_file(tmp_path, DAY2)) == {}
    assert LedgerReport.objects.get(date=DAY2).row_count == 0
    assert "新增及变化问题 0 件" in printed


def test_rerun_for_the_same_date_rewrites_the_same_report(world, ledger, day1, tmp_path):
    export(world, DAY1, tmp_path)
    with clock.at(dt.datetime(2021, 10, 22, 15, 0, tzinfo=SHANGHAI)):
        ledger.act(day1[Problem.Status.DISPATCHED], Action.HANDLE, Role.UNIT_HANDLER,
                   ActionInput(result="已处理"))  # fmt: skip
    export(world, DAY2, tmp_path)
    report_file(tmp_path, DAY2).unlink()  # say someone deleted the file

    export(world, DAY2, tmp_path, at=morning_after(DAY2) + dt.timedelta(days=3))

    reports = LedgerReport.objects.filter(town=world.town, date=DAY2)
    assert reports.count() == 1
    report = reports.get()
    assert (report.since, report.until, report.row_count) == (end_of_day(DAY1), end_of_day(DAY2), 1)
    assert set(report_rows(report_file(tmp_path, DAY2))) == {day1[Problem.Status.DISPATCHED].code}
    assert LedgerReport.objects.count() == 2


def test_a_report_of_today_ends_now_and_moves_on_when_run_again(world, ledger, day1, tmp_path):
    afternoon = dt.datetime(2021, 10, 21, 15, 0, tzinfo=SHANGHAI)
    export(world, DAY1, tmp_path, at=afternoon)
    assert LedgerReport.objects.get(date=DAY1).until == afternoon

    late = ledger.make(
        Problem.Status.REPORTED, at=dt.datetime(2021, 10, 21, 17, 0, tzinfo=SHANGHAI)
    )
    export(world, DAY1, tmp_path, at=dt.datetime(2021, 10, 21, 18, 0, tzinfo=SHANGHAI))

    report = LedgerReport.objects.get(date=DAY1)
    assert report.since is None
    assert report.until == dt.datetime(2021, 10, 21, 18, 0, tzinfo=SHANGHAI)
    assert late.code in report_rows(report_file(tmp_path, DAY1))
    assert report.row_count == 4


def test_an_earlier_date_than_the_last_report_is_refused(world, day1, tmp_path):
    export(world, DAY2, tmp_path)

    with pytest.raises(
        CommandError, match="已报送 2021-10-22 的台账日报，不能再报送更早的 2021-10-21"
    ):
        export(world, DAY1, tmp_path, at=morning_after(DAY2))
    assert not report_file(tmp_path, DAY1).exists()
    assert LedgerReport.objects.count() == 1


def test_a_future_date_is_refused(world, day1, tmp_path):
    with clock.at(REPORTED_AT), pytest.raises(ReportRefused, match="晚于今天"):
        ledger_report_write(town=world.town, date=DAY2, out_dir=tmp_path)


@pytest.mark.parametrize("value", ["2021-13-01", "yesterday", "2021/10/21"])
def test_a_bad_date_is_a_chinese_error(world, tmp_path, value):
    with pytest.raises(CommandError, match="--date 格式不对"):
        call_command("export_ledger", "--date", value, "--output", str(tmp_path))


def test_unknown_town_is_a_chinese_error(world, tmp_path):
    with pytest.raises(CommandError, match="没有区划代码为 999 的镇"):
        call_command("export_ledger", "--date", "2021-10-21", "--town", "999")


def test_without_town_one_report_per_town_with_a_campaign(world, day1, tmp_path):
    # Given a second town with a campaign and a problem of its own
    make_campaign(world.other_town, {world.faraway: 100})
    other_admin = make_user(Role.TOWN_ADMIN, world.other_town)
    with clock.at(REPORTED_AT):
        theirs = problem_report(actor=other_admin, village_id=world.faraway.pk, household_id=None,
                                description="远方村路灯坏了")  # fmt: skip

    printed = export(world, DAY1, tmp_path)

    assert LedgerReport.objects.filter(date=DAY1).count() == 2
    ours = report_rows(report_file(tmp_path, DAY1))
    assert set(ours) == {p.code for p in day1.values()}
    assert set(report_rows(tmp_path / "台账日报-义门镇-20211021.xlsx")) == {theirs.code}
    assert "汝集镇 2021-10-21 台账日报" in printed
    assert "义门镇 2021-10-21 台账日报" in printed


def test_default_output_folder_is_pingan_home_reports(world, day1, tmp_path, settings):
    settings.PINGAN_HOME = tmp_path
    with clock.at(morning_after(DAY1)):
        call_command("export_ledger", "--date", "2021-10-21", stdout=io.StringIO())

    assert report_file(tmp_path / "reports", DAY1).exists()
