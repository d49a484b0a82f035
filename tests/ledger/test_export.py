"""The ledger workbook (台账导出): layout, values in every state, masking, reminder counts, and
the scoped web download."""

import datetime as dt
import io
import zipfile

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from openpyxl import load_workbook

from pingan.accounts.models import Role, User
from pingan.core import clock, crypto
from pingan.ledger.exports import HEADER, ledger_rows, ledger_xlsx_write
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput, problem_report
from pingan.ledger.supervision import problem_tick
from pingan.web.ledger_export import ledger_export_xlsx
from tests.factories import make_household
from tests.ledger.conftest import REPORTED_AT, SHANGHAI

EXPECTED_HEADER = ["编号", "村", "户", "反映人", "来源", "类别", "描述", "走访干部", "登记时间",
                   "交办单位", "类型", "截止日", "催办次数", "督办", "办理结果", "反馈时间",
                   "群众评价", "重办次数", "销号日期", "状态"]  # fmt: skip


def excel(*args: int) -> dt.datetime:
    """A Shanghai wall-clock time as openpyxl reads an Excel date back (no zone)."""
    return dt.datetime(*args, tzinfo=SHANGHAI).replace(tzinfo=None)


# 10 working days after Thursday 2021-10-21 (the dispatch day does not count).
DEADLINE = excel(2021, 11, 4)
EXPORTED_AT = dt.datetime(2021, 10, 22, 9, 30, tzinfo=SHANGHAI)


def write(problems, *, now=EXPORTED_AT) -> bytes:
    out = io.BytesIO()
    ledger_xlsx_write(problems=problems, out=out, title="汝集镇不满意问题台账", now=now)
    return out.getvalue()


def sheet_of(content: bytes):
    return load_workbook(io.BytesIO(content))["台账"]


def rows_by_code(content: bytes) -> dict[str, dict[str, object]]:
    sheet = sheet_of(content)
    values = list(sheet.iter_rows(min_row=3, values_only=True))
    return {row[0]: dict(zip(EXPECTED_HEADER, row, strict=True)) for row in values}


def all_text(content: bytes) -> str:
    """Every XML part of the workbook, so nothing hides from an "absent" check."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def test_header_title_and_layout(ledger):
    ledger.make(Problem.Status.REPORTED)

    content = write(Problem.objects.all())

    sheet = sheet_of(content)
    assert tuple(EXPECTED_HEADER) == HEADER
    assert sheet["A1"].value == "汝集镇不满意问题台账"
    assert [cell.value for cell in sheet[2]] == EXPECTED_HEADER
    assert sheet.freeze_panes == "C3"
    assert sheet.auto_filter.ref == "A2:T3"
    assert sheet.column_dimensions["G"].width == 40  # 描述 is wide
    assert sheet.max_row == 3


def test_closed_problem_row_values(ledger, field):
    household = field.households[0]
    problem = ledger.make(Problem.Status.CLOSED)

    row = rows_by_code(write(Problem.objects.all()))[problem.code]

    assert row == {
        "编号": problem.code,
        "村": "七营村",
        "户": f"{household.group_no}组 {household.address} 户主王*",
        "反映人": f"王* {household.phone_masked}",
        "来源": "走访反映",
        "类别": "治安防范",
        "描述": "路灯坏了，晚上出行不安全",
        "走访干部": "王建国",
        "登记时间": excel(2021, 10, 21, 10, 0),
        "交办单位": "汝集派出所",
        "类型": "一般问题",
        "截止日": DEADLINE,
        "催办次数": 0,
        "督办": None,
        "办理结果": "已修复路灯",
        "反馈时间": excel(2021, 10, 21, 10, 4),
        "群众评价": "满意",
        "重办次数": 0,
        "销号日期": excel(2021, 10, 21),
        "状态": "已销号",
    }


def test_household_and_reporter_cells(ledger, world):
    """The group is not repeated when the address names it; no household, no reporter."""
    household = make_household(world.qiying, address="七营村三组8号", group_no=3,
                               head_name="张三丰", phone="13912345678")  # fmt: skip
    with clock.at(REPORTED_AT):
        town = world.users[Role.TOWN_ADMIN]
        named = problem_report(actor=town, village_id=None, household_id=household.pk,
                               description="家门口的井盖丢了")  # fmt: skip
        walk_in = problem_report(actor=town, village_id=world.qiying.pk, household_id=None,
                                 description="村部门口有人聚众赌博")  # fmt: skip

    content = write(Problem.objects.all())

    rows = rows_by_code(content)
    assert rows[named.code]["户"] == "七营村三组8号 户主张**"
    assert rows[named.code]["反映人"] == "张** 139****5678"
    assert rows[named.code]["来源"] == "来电来访"
    assert rows[walk_in.code]["户"] is None
    assert rows[walk_in.code]["反映人"] is None
    assert "13912345678" not in all_text(content)


def test_rows_in_every_state(ledger):
    reported = ledger.make(Problem.Status.REPORTED)
    rejected = ledger.make(Problem.Status.REJECTED)
    accepted = ledger.make(Problem.Status.ACCEPTED)
    dispatched = ledger.make(Problem.Status.DISPATCHED, severity="complex")
    handled = ledger.make(Problem.Status.HANDLED)

    rows = rows_by_code(write(Problem.objects.all()))

    assert [rows[p.code]["状态"] for p in (reported, rejected, accepted, dispatched, handled)] == [
        "待受理",
        "不予受理",
        "已受理",
        "已交办",
        "已办理",
    ]
    assert rows[reported.code]["交办单位"] is None
    assert rows[reported.code]["截止日"] is None
    assert rows[dispatched.code]["类型"] == "复杂问题"
    assert rows[dispatched.code]["截止日"] == excel(2021, 11, 18)  # 20 working days
    assert rows[handled.code]["办理结果"] == "已修复路灯"
    assert rows[handled.code]["反馈时间"] is None
    # in registration order
    sheet = sheet_of(write(Problem.objects.all()))
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)] == [
        p.code for p in (reported, rejected, accepted, dispatched, handled)
    ]


def test_dissatisfied_verdict_and_redo(ledger):
    problem = ledger.make(Problem.Status.HANDLED)
    with clock.at(REPORTED_AT + dt.timedelta(hours=2)):
        ledger.act(problem, Action.FEEDBACK, Role.CADRE,
                   ActionInput(verdict="dissatisfied", reason="路灯还是不亮"))  # fmt: skip

    row = rows_by_code(write(Problem.objects.all()))[problem.code]

    assert row["群众评价"] == "不满意：路灯还是不亮"
    assert row["重办次数"] == 1
    assert row["状态"] == "已交办"
    assert row["反馈时间"] == excel(2021, 10, 21, 12, 0)
    assert row["销号日期"] is None


def test_reminders_counted_and_supervision_shown(ledger):
    """催办次数 = tick's reminders + the center's own 催办; 督办 shows its day; overdue is red."""
    problem = ledger.make(Problem.Status.DISPATCHED)
    other = ledger.make(Problem.Status.DISPATCHED)
    for day in (25, 26):
        with clock.at(dt.datetime(2021, 10, day, 9, 0, tzinfo=SHANGHAI)):
            ledger.act(problem, Action.REMIND, Role.TOWN_ADMIN)
    problem_tick(now=dt.datetime(2021, 11, 3, 9, 0, tzinfo=SHANGHAI))  # due soon: reminds both
    problem_tick(now=dt.datetime(2021, 11, 5, 9, 0, tzinfo=SHANGHAI))  # a day late: supervises

    content = write(Problem.objects.all(), now=dt.datetime(2021, 11, 5, 10, 0, tzinfo=SHANGHAI))

    rows = rows_by_code(content)
    assert rows[problem.code]["催办次数"] == 3
    assert rows[other.code]["催办次数"] == 1
    assert rows[problem.code]["督办"] == "是（2021-11-05）"
    assert rows[problem.code]["状态"] == "已交办（超期）"
    status_cell = sheet_of(content)["T3"]
    assert status_cell.fill.fgColor.rgb == "00FFC7CE"


def test_due_soon_is_yellow(ledger):
    ledger.make(Problem.Status.DISPATCHED)

    content = write(Problem.objects.all(), now=dt.datetime(2021, 11, 3, 9, 0, tzinfo=SHANGHAI))

    assert sheet_of(content)["T3"].value == "已交办（临期）"
    assert sheet_of(content)["T3"].fill.fgColor.rgb == "00FFEB9C"


def test_dates_are_excel_dates_in_shanghai_time(ledger):
    ledger.make(Problem.Status.CLOSED)

    sheet = sheet_of(write(Problem.objects.all()))

    registered, deadline, closed = sheet["I3"], sheet["L3"], sheet["S3"]
    assert registered.is_date
    assert registered.number_format == "yyyy-mm-dd hh:mm"
    assert registered.value == excel(2021, 10, 21, 10, 0)  # 02:00 UTC, 10:00 in Shanghai
    assert deadline.is_date
    assert deadline.number_format == "yyyy-mm-dd"
    assert closed.is_date


def test_phone_masked_and_full_phone_absent(ledger, field):
    household = field.households[0]
    full_phone = crypto.decrypt(household.phone_ciphertext)
    ledger.make(Problem.Status.DISPATCHED)

    content = write(Problem.objects.all())

    text = all_text(content)
    assert household.phone_masked.startswith("138****")
    assert household.phone_masked in text
    assert full_phone not in text
    assert household.head_name not in text


def test_resident_text_never_becomes_a_formula(ledger):
    problem = ledger.make(
        Problem.Status.REPORTED, description='=HYPERLINK("http://x.example","点我")\x07'
    )

    sheet = sheet_of(write(Problem.objects.all()))

    cell = sheet["G3"]
    assert cell.value == '=HYPERLINK("http://x.example","点我")'
    assert cell.data_type == "s"
    assert problem.code == sheet["A3"].value


def test_rows_are_one_query_whatever_the_count(ledger, django_assert_num_queries):
    for _ in range(4):
        ledger.make(Problem.Status.DISPATCHED)

    with django_assert_num_queries(1):
        rows = list(ledger_rows(Problem.objects.all(), now=EXPORTED_AT))

    assert len(rows) == 4


def test_empty_ledger_still_has_title_and_header(db):
    content = write(Problem.objects.none())

    sheet = sheet_of(content)
    assert [cell.value for cell in sheet[2]] == EXPECTED_HEADER
    assert sheet.max_row == 2


# --- The web download ---------------------------------------------------------------------


def download(user, query: str = "", *, at: dt.datetime = EXPORTED_AT):
    request = RequestFactory().get(f"/ledger/export.xlsx{query}")
    request.user = user
    with clock.at(at):
        response = ledger_export_xlsx(request)
    if response.status_code != 200:
        return response, None
    content = b"".join(response.streaming_content)
    # (not response.close(): outside the test client it sends request_finished, which
    # closes the test's database connection)
    response.file_to_stream.close()
    return response, content


@pytest.fixture
def two_villages(ledger, world):
    """A problem in 七营村 (the field cadre's) and one in 新桥村, raised by the town center."""
    mine = ledger.make(Problem.Status.CLOSED)
    with clock.at(REPORTED_AT + dt.timedelta(hours=1)):
        theirs = problem_report(
            actor=world.users[Role.TOWN_ADMIN],
            village_id=world.xinqiao.pk,
            household_id=None,
            description="村口积水",
        )
    return mine, theirs


def test_download_is_an_attachment_named_by_day(world, two_villages):
    response, content = download(world.users[Role.TOWN_ADMIN])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    # 台账-20211022.xlsx, RFC 5987
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%8F%B0%E8%B4%A6-20211022.xlsx"
    )
    assert response["Cache-Control"] == "no-store"
    sheet = sheet_of(content)
    assert sheet["A1"].value == "汝集镇不满意问题台账（截至 2021-10-22 09:30）"
    assert set(rows_by_code(content)) == {p.code for p in two_villages}


def test_village_admin_exports_only_their_village(world, two_villages):
    mine, _theirs = two_villages

    _, content = download(world.users[Role.VILLAGE_ADMIN])

    assert set(rows_by_code(content)) == {mine.code}
    assert sheet_of(content)["A1"].value.startswith("七营村不满意问题台账")


def test_other_town_sees_nothing_of_ours(world, two_villages):
    outsider = User.objects.create_user(username="outsider", role=Role.TOWN_ADMIN,
                                        region=world.other_town)  # fmt: skip

    _, content = download(outsider)

    assert rows_by_code(content) == {}


def test_download_applies_the_list_filters(world, two_villages):
    mine, theirs = two_villages
    town = world.users[Role.TOWN_ADMIN]

    assert set(rows_by_code(download(town, "?status=closed")[1])) == {mine.code}
    assert set(rows_by_code(download(town, f"?village={world.xinqiao.pk}")[1])) == {theirs.code}
    assert set(rows_by_code(download(town, "?colour=green")[1])) == {mine.code}
    assert set(rows_by_code(download(town, "?q=积水")[1])) == {theirs.code}
    assert set(rows_by_code(download(town, "?overdue=1")[1])) == set()
    # a value that is not a choice is ignored, as on the list page
    assert len(rows_by_code(download(town, "?status=nonsense&village=x")[1])) == 2


def test_download_needs_sign_in_and_a_scope(db):
    request = RequestFactory().get("/ledger/export.xlsx")
    request.user = AnonymousUser()
    assert ledger_export_xlsx(request).status_code == 302

    with pytest.raises(PermissionDenied):
        download(User.objects.create_user(username="nobody"))  # no role, no region
