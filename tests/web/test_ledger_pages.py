"""The ledger pages: the list with filters and colours, one problem with its reporting
households, its concerns, its history and the forms of the actions the user may take, the
to-do lists and the inbox. (登记, the phone and walk-in form: tests/web/test_intake.py.)"""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from pingan.accounts.models import Notification, Role, User
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput, problem_report
from pingan.ledger.supervision import problem_tick
from tests.factories import make_user
from tests.ledger.conftest import REPORTED_AT, Ledger

SHANGHAI = clock.SHANGHAI
# The day after the fixture's problems were reported: a Friday, within the 2 working days in
# which a unit may still return a problem sent to it by mistake.
NEXT_DAY = dt.datetime(2021, 10, 22, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


@pytest.fixture
def next_day():
    with time_machine.travel(NEXT_DAY, tick=False):
        yield


def _html(response) -> str:
    return response.content.decode()


def _listed(response) -> set[str]:
    return {problem.code for problem in response.context["page"].object_list}


def _colour_counts(html: str) -> dict[str, int]:
    badges = re.findall(
        r'class="colour colour-(\w+)" href="[^"]*"[^>]*>[^<]*<strong>([\d,]+)</strong>', html
    )
    return {colour: int(count) for colour, count in badges}


def _act(client, problem: Problem, action: str, **data):
    problem.refresh_from_db()
    payload = {"action": action, "version": problem.version, **data}
    return client.post(reverse("web:problem_act", args=[problem.pk]), payload)


def _forms(html: str) -> set[str]:
    """The actions offered (a household's action has a form per household: act-feedback-r7)."""
    return set(re.findall(r'id="act-([a-z_]+)(?:-r\d+)?"', html))


def _manual(world, village, description: str, category: str = "") -> Problem:
    return problem_report(
        actor=world.users[Role.TOWN_ADMIN],
        village_id=village.pk,
        household_id=None,
        description=description,
        category=category,
    )


# --- the list --------------------------------------------------------------------------------


def test_list_filters_and_keeps_them_in_the_form(world, ledger, login, next_day):
    dispatched = ledger.make(Problem.Status.DISPATCHED)
    rejected = ledger.make(Problem.Status.REJECTED, description="反映的情况不属实")
    with clock.at(REPORTED_AT):
        noise = _manual(world, world.xinqiao, "邻里装修噪音扰民", category="矛盾纠纷")
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:ledger")

    everything = client.get(url)
    assert _listed(everything) == {dispatched.code, rejected.code, noise.code}
    for wanted, query in [
        ({noise.code}, {"village": world.xinqiao.pk}),
        ({rejected.code}, {"status": "rejected"}),
        ({rejected.code}, {"colour": "grey"}),
        ({dispatched.code}, {"unit": world.police.pk}),
        ({noise.code}, {"category": "矛盾纠纷"}),
        ({noise.code}, {"q": "噪音"}),
        ({dispatched.code}, {"q": dispatched.code}),
        (set(), {"overdue": "on"}),  # the deadline is 2021-11-04
        ({dispatched.code}, {"village": world.qiying.pk, "status": "dispatched"}),
    ]:
        assert _listed(client.get(url, query)) == wanted, query

    html = _html(client.get(url, {"status": "rejected", "q": "不属实", "overdue": "on"}))
    assert '<option value="rejected" selected>' in html
    assert 'name="q" value="不属实"' in html
    assert 'name="overdue" id="id_overdue" checked' in html
    assert "没有符合条件的问题。" in html  # rejected is never overdue


def test_overdue_filter_after_the_deadline(world, ledger, login):
    dispatched = ledger.make(Problem.Status.DISPATCHED)
    ledger.make(Problem.Status.HANDLED)
    client = login(world.users[Role.TOWN_ADMIN])
    with time_machine.travel(dt.datetime(2021, 11, 5, 9, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("web:ledger"), {"overdue": "on"})
    assert _listed(response) == {dispatched.code}
    assert '<span class="colour colour-red">超期</span>' in _html(response)


def test_an_invalid_filter_is_ignored_not_an_error(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.REPORTED)
    response = login(world.users[Role.TOWN_ADMIN]).get(
        reverse("web:ledger"), {"village": "abc", "status": "nonsense", "page": "x"}
    )
    assert response.status_code == 200
    assert _listed(response) == {problem.code}


def test_colour_counts_follow_the_clock(world, ledger, login):
    # Given one problem of each colour, dispatched on different days
    ledger.make(Problem.Status.CLOSED)  # green
    ledger.make(Problem.Status.REJECTED)  # grey
    ledger.make(Problem.Status.DISPATCHED)  # deadline Thu 2021-11-04
    ledger.make(Problem.Status.DISPATCHED, severity="complex")  # 20 working days: 11-18
    ledger.make(Problem.Status.DISPATCHED, at=dt.datetime(2021, 10, 11, 10, tzinfo=SHANGHAI))
    ledger.make(Problem.Status.REPORTED)
    client = login(world.users[Role.TOWN_ADMIN])

    # When the town center looks on Wednesday 11-03: 11-04 is within 2 working days
    with time_machine.travel(dt.datetime(2021, 11, 3, 10, tzinfo=SHANGHAI), tick=False):
        html = _html(client.get(reverse("web:ledger")))
    assert _colour_counts(html) == {"green": 1, "yellow": 1, "red": 1, "grey": 1, "none": 2}

    # And on Friday 11-05, the 11-04 deadline has passed
    with time_machine.travel(dt.datetime(2021, 11, 5, 10, tzinfo=SHANGHAI), tick=False):
        response = client.get(reverse("web:ledger"), {"colour": "red"})
    assert _colour_counts(_html(response)) == {
        "green": 1, "yellow": 0, "red": 2, "grey": 1, "none": 2
    }  # fmt: skip
    assert len(_listed(response)) == 2
    assert 'class="colour colour-red" href="/ledger/?colour=red" aria-current="true"' in _html(
        response
    )


def test_list_columns_mask_the_resident(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.DISPATCHED)
    household = ledger.field.households[0]
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(reverse("web:ledger")))
    assert problem.code in html
    assert household.head_name not in html
    assert f"{household.head_name[0]}*" in html
    for shown in (
        "七营村",
        "走访反映",
        "治安防范",
        "汝集派出所",
        "一般问题",
        "2021-11-04",
        "已交办",
    ):
        assert shown in html, shown


def test_list_pages_keep_the_filters(world, ledger, login, next_day):
    with clock.at(REPORTED_AT):
        for n in range(51):
            _manual(world, world.xinqiao, f"第{n}件")
    client = login(world.users[Role.TOWN_ADMIN])
    response = client.get(reverse("web:ledger"), {"status": "reported"})
    assert len(response.context["page"].object_list) == 50
    assert 'href="?status=reported&amp;page=2"' in _html(response)
    second = client.get(reverse("web:ledger"), {"status": "reported", "page": 2})
    assert len(second.context["page"].object_list) == 1


def test_list_query_count_does_not_grow(world, ledger, login, django_assert_num_queries):
    ledger.make(Problem.Status.DISPATCHED)
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, the user's region, unread count, villages, units, categories, colour
    # counts, page count, rows, the rows' reporting households (with their cadres)
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(12):
        client.get(reverse("web:ledger"))
    with clock.at(REPORTED_AT):
        for n in range(30):
            _manual(world, world.xinqiao if n % 2 else world.qiying, f"第{n}件", f"类别{n % 3}")
    with django_assert_num_queries(11):  # as above (no banner query: cached)
        response = client.get(reverse("web:ledger"), {"q": "件"})
    assert len(response.context["page"].object_list) == 30


def test_each_role_sees_only_its_ledger(world, ledger, login, next_day):
    mine = ledger.make(Problem.Status.DISPATCHED)
    with clock.at(REPORTED_AT):
        other_village = _manual(world, world.xinqiao, "新桥村的问题")
    assert _listed(login(world.users[Role.VILLAGE_ADMIN]).get(reverse("web:ledger"))) == {mine.code}
    assert _listed(login(world.users[Role.UNIT_HANDLER]).get(reverse("web:ledger"))) == {mine.code}
    assert _listed(login(world.users[Role.LEADER]).get(reverse("web:ledger"))) == {
        mine.code,
        other_village.code,
    }


# --- one problem -----------------------------------------------------------------------------


def test_detail_shows_fields_and_the_history_in_shanghai_time(world, ledger, login):
    User.objects.filter(pk=world.users[Role.TOWN_ADMIN].pk).update(full_name="周主任")
    problem = ledger.make(Problem.Status.DISPATCHED)
    # the day after the deadline, tick sends the supervision notice (督办) as the system
    problem_tick(now=dt.datetime(2021, 11, 5, 9, tzinfo=SHANGHAI))
    client = login(world.users[Role.LEADER])
    with time_machine.travel(dt.datetime(2021, 11, 5, 10, tzinfo=SHANGHAI), tick=False):
        html = _html(client.get(reverse("web:problem", args=[problem.pk])))
    assert problem.code in html
    assert "路灯坏了，晚上出行不安全" in html
    assert "2021-11-04 23:59" in html  # the deadline
    assert "已超过办理期限" in html
    history = html[html.index('id="history"') :]
    # reported at 10:00 Shanghai, accepted 10:01, dispatched 10:02 (02:0x UTC)
    for shown in ("2021-10-21 10:00", "登记", "2021-10-21 10:01", "受理", "2021-10-21 10:02"):
        assert shown in history, shown
    assert "交办" in history
    assert "汝集派出所" in history
    assert "周主任" in history
    assert "督办" in history
    assert "系统" in history
    assert "待受理 → 已受理" in history


def test_detail_shows_the_calendar_warning(world, ledger, login):
    problem = ledger.make(
        Problem.Status.DISPATCHED, at=dt.datetime(2031, 3, 3, 10, tzinfo=SHANGHAI)
    )
    assert problem.deadline_warning
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(reverse("web:problem", args=[problem.pk])))
    assert problem.deadline_warning in html


@pytest.mark.parametrize(
    ("state", "role", "forms"),
    [
        (Problem.Status.REPORTED, Role.TOWN_ADMIN, {"accept", "reject"}),
        (Problem.Status.REPORTED, Role.LEADER, set()),
        (Problem.Status.ACCEPTED, Role.TOWN_ADMIN, {"dispatch"}),
        (Problem.Status.DISPATCHED, Role.TOWN_ADMIN, {"remind"}),
        (Problem.Status.DISPATCHED, Role.UNIT_HANDLER, {"return", "extend_request", "handle"}),
        (Problem.Status.DISPATCHED, Role.LEADER, set()),  # no extension request waiting
        (Problem.Status.DISPATCHED, Role.CADRE, set()),
        (Problem.Status.DISPATCHED, Role.COUNTY_VIEWER, set()),
        (Problem.Status.HANDLED, Role.CADRE, {"feedback", "contact_failed"}),
        (Problem.Status.HANDLED, Role.VILLAGE_ADMIN, set()),  # the visiting cadre does it
        (Problem.Status.HANDLED, Role.TOWN_ADMIN, set()),
        (Problem.Status.CLOSED, Role.TOWN_ADMIN, set()),
    ],
)
def test_each_role_sees_only_its_actions(world, ledger, login, next_day, state, role, forms):
    problem = ledger.make(state)
    html = _html(login(world.users[role]).get(reverse("web:problem", args=[problem.pk])))
    assert _forms(html) == forms


def test_the_forms_ask_for_what_each_action_needs(world, ledger, login, next_day):
    accepted = ledger.make(Problem.Status.ACCEPTED)
    html = _html(
        login(world.users[Role.TOWN_ADMIN]).get(reverse("web:problem", args=[accepted.pk]))
    )
    dispatch = html[html.index('id="act-dispatch"') :]
    assert f'<option value="{world.police.pk}">汝集派出所</option>' in dispatch
    assert "一般问题（10 个工作日）" in dispatch
    assert "复杂问题（20 个工作日）" in dispatch
    assert f'name="version" value="{accepted.version}"' in dispatch

    handled = ledger.make(Problem.Status.HANDLED)
    html = _html(login(world.users[Role.CADRE]).get(reverse("web:problem", args=[handled.pk])))
    assert 'value="satisfied"' in html
    assert 'value="dissatisfied"' in html
    assert "不满意的原因" in html


def test_the_leader_decides_an_extension_request(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = login(world.users[Role.UNIT_HANDLER])
    response = _act(unit, problem, Action.EXTEND_REQUEST, days="5", reason="需协调县住建局")
    assert response.status_code == 302
    assert "extend_request" not in _forms(_html(unit.get(response.url)))  # one at a time

    leader = login(world.users[Role.LEADER])
    html = _html(leader.get(reverse("web:problem", args=[problem.pk])))
    assert _forms(html) == {"extend_approve", "extend_deny"}
    assert "申请延期 5 个工作日，待领导审批" in html
    assert "需协调县住建局" in html
    old_deadline = Problem.objects.get(pk=problem.pk).deadline
    response = _act(leader, problem, Action.EXTEND_APPROVE)
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.deadline > old_deadline
    assert problem.extension_days is None


def test_posting_actions_moves_the_problem_along(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.REPORTED)
    town = login(world.users[Role.TOWN_ADMIN])

    response = _act(town, problem, Action.ACCEPT)
    assert response.status_code == 302
    assert response.url == reverse("web:problem", args=[problem.pk])
    page = _html(town.get(response.url))
    assert "已受理" in page
    assert _forms(page) == {"dispatch"}

    response = _act(town, problem, Action.DISPATCH, unit=world.police.pk, severity="complex")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.DISPATCHED
    assert problem.unit == world.police
    assert problem.severity == "complex"

    unit = login(world.users[Role.UNIT_HANDLER])
    response = _act(unit, problem, Action.HANDLE, result="已更换路灯 3 盏")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.HANDLED
    page = _html(unit.get(response.url))
    assert "已更换路灯 3 盏" in page
    assert "办结，现为「已办理」" in page  # the success message


def test_a_unit_returns_a_problem_sent_by_mistake(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = login(world.users[Role.UNIT_HANDLER])
    response = _act(unit, problem, Action.RETURN, reason="属于供电所职责")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.ACCEPTED
    html = _html(unit.get(response.url, follow=True))
    assert "属于供电所职责" in html
    assert _forms(html) == set()
    assert problem.code not in _html(unit.get(reverse("web:ledger_inbox")))


def test_no_return_after_the_return_days(world, ledger, login):
    problem = ledger.make(Problem.Status.DISPATCHED)  # Thursday 10-21
    unit = login(world.users[Role.UNIT_HANDLER])
    with time_machine.travel(dt.datetime(2021, 10, 27, 9, tzinfo=SHANGHAI), tick=False):
        html = _html(unit.get(reverse("web:problem", args=[problem.pk])))
        assert _forms(html) == {"extend_request", "handle"}
        response = _act(unit, problem, Action.RETURN, reason="属于供电所职责")
    assert response.status_code == 422
    assert "不能退回" in _html(response)
    assert "属于供电所职责" in _html(response)


def test_a_stale_version_shows_the_conflict_and_keeps_the_text(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.REPORTED)
    stale_version = problem.version
    # Given another town admin accepted it in the meantime
    ledger.act(problem, Action.ACCEPT, Role.TOWN_ADMIN)
    client = login(world.users[Role.TOWN_ADMIN])

    # When the first one sends the rejection they were typing
    response = client.post(
        reverse("web:problem_act", args=[problem.pk]),
        {"action": "reject", "version": stale_version, "reason": "与 000007 号重复，已合并处理"},
    )

    assert response.status_code == 409
    html = _html(response)
    assert "已被他人修改，请刷新后重试" in html
    assert "最新状态「已受理」" in html
    assert "与 000007 号重复，已合并处理" in html  # the typed text is still there
    assert _forms(html) == {"dispatch"}  # what can be done now
    problem.refresh_from_db()
    assert problem.status == Problem.Status.ACCEPTED


def test_after_a_conflict_the_same_form_can_be_sent_again(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.DISPATCHED)
    stale_version = problem.version
    ledger.act(problem, Action.REMIND, Role.TOWN_ADMIN)  # the town center reminded meanwhile
    unit = login(world.users[Role.UNIT_HANDLER])
    url = reverse("web:problem_act", args=[problem.pk])

    response = unit.post(url, {"action": "handle", "version": stale_version, "result": "已修复"})

    assert response.status_code == 409
    html = _html(response)
    handle = html[html.index('id="act-handle"') :]
    assert "已修复</textarea>" in handle
    current = Problem.objects.get(pk=problem.pk).version
    assert f'name="version" value="{current}"' in handle
    # sending the form as shown now works
    assert (
        unit.post(url, {"action": "handle", "version": current, "result": "已修复"}).status_code
        == 302
    )
    problem.refresh_from_db()
    assert problem.status == Problem.Status.HANDLED


def test_a_missing_reason_keeps_the_input_and_says_what_is_missing(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = login(world.users[Role.UNIT_HANDLER])

    response = _act(unit, problem, Action.EXTEND_REQUEST, days="7", reason="   ")

    assert response.status_code == 422
    html = _html(response)
    form = html[html.index('id="act-extend_request"') :]
    assert "请填写理由" in form
    assert 'name="days" value="7"' in form
    problem.refresh_from_db()
    assert problem.extension_days is None


def test_dispatch_without_a_unit_keeps_the_chosen_type(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.ACCEPTED)
    response = _act(login(world.users[Role.TOWN_ADMIN]), problem, Action.DISPATCH,
                    severity="complex")  # fmt: skip
    assert response.status_code == 422
    form = _html(response)[_html(response).index('id="act-dispatch"') :]
    assert "请选择交办单位" in form
    assert re.search(r'value="complex"[^>]*checked', form)


def test_an_action_the_role_may_not_take_is_refused_with_the_reason(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.REPORTED)
    response = _act(login(world.users[Role.CADRE]), problem, Action.REJECT, reason="我觉得不用办")
    assert response.status_code == 403
    html = _html(response)
    assert "您的角色无权执行「不予受理」" in html
    assert "我觉得不用办" in html
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.REPORTED


def test_another_towns_problem_is_not_found(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.REPORTED)
    with clock.at(REPORTED_AT):
        xinqiao = _manual(world, world.xinqiao, "新桥村的问题")
    outsider = login(make_user(Role.TOWN_ADMIN, world.other_town, username="yimen"))
    assert outsider.get(reverse("web:problem", args=[problem.pk])).status_code == 404
    assert _act(outsider, problem, Action.ACCEPT).status_code == 404
    assert outsider.get(reverse("web:problem", args=[999_999])).status_code == 404
    village = login(world.users[Role.VILLAGE_ADMIN])  # 七营村
    assert village.get(reverse("web:problem", args=[xinqiao.pk])).status_code == 404
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.REPORTED


def test_actions_need_post(world, ledger, login):
    problem = ledger.make(Problem.Status.REPORTED)
    client = login(world.users[Role.TOWN_ADMIN])
    assert client.get(reverse("web:problem_act", args=[problem.pk])).status_code == 405


def test_detail_query_count(world, ledger, login, next_day, django_assert_num_queries):
    problem = ledger.make(Problem.Status.ACCEPTED)
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, the user's region, the header's to-do counts, problem, its reporting
    # households (with their cadres, villages and households), the concerns it came from, its
    # attachments (whether the user sees the problem, then the files), events, units of the
    # dispatch form
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(12):
        client.get(reverse("web:problem", args=[problem.pk]))


def test_handling_with_photos_attaches_them_to_the_handle(world, ledger, login, next_day, settings):
    from pingan.ledger.models import Attachment
    from tests.ledger.test_attachments import fresh_storage, small_photo, upload

    fresh_storage(settings)
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = login(world.users[Role.UNIT_HANDLER])
    form = _html(unit.get(reverse("web:problem", args=[problem.pk])))
    handle = form[form.index('id="act-handle"') - 200 : form.index('id="act-handle"')]
    assert 'enctype="multipart/form-data"' in handle
    assert 'name="files" multiple accept="image/*,.pdf"' in form

    response = _act(unit, problem, Action.HANDLE, result="已更换路灯",
                    files=[upload("现场.jpg", small_photo())])  # fmt: skip

    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.event.action == Action.HANDLE
    assert attachment.problem_id == problem.pk
    html = _html(unit.get(response.url))
    assert reverse("web:attachment", args=[attachment.pk]) in html


def test_a_refused_file_leaves_the_problem_unhandled(world, ledger, login, next_day, settings):
    from tests.ledger.test_attachments import fresh_storage, upload

    fresh_storage(settings)
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = login(world.users[Role.UNIT_HANDLER])
    response = _act(unit, problem, Action.HANDLE, result="已更换路灯",
                    files=[upload("现场.jpg", b"not an image")])  # fmt: skip
    assert response.status_code == 422
    html = _html(response)
    assert "已更换路灯</textarea>" in html
    assert "「现场.jpg」" in html  # the attachment service says what is wrong with it
    problem.refresh_from_db()
    assert problem.status == Problem.Status.DISPATCHED


# --- reporting households (反映户) of a merged problem ------------------------------------------


@pytest.fixture
def merged(world, field, ledger) -> Problem:
    """A call about the field cadre's household filed and dispatched (立案并交办), a walk-in
    about a colleague's household (李红, who cannot sign in) joined to it (并案), then handled."""
    from pingan.ledger.triage import Decision, concern_triage
    from pingan.visits.concerns import concern_report

    admin = world.users[Role.TOWN_ADMIN]
    with clock.at(REPORTED_AT):
        first = concern_report(actor=admin, household_id=field.households[0].pk,
                               text="村口路灯坏了，晚上出行不安全")  # fmt: skip
        second = concern_report(actor=admin, household_id=field.other_households[0].pk,
                                text="村口的路灯不亮", source="walk_in")  # fmt: skip
        filed = concern_triage(actor=admin, decision=Decision(
            first.pk, first.version, "file", unit_id=world.police.pk, severity="general"))  # fmt: skip
        concern_triage(actor=admin, decision=Decision(
            second.pk, second.version, "merge", problem_id=filed.problem_id))  # fmt: skip
    problem = Problem.objects.get(pk=filed.problem_id)
    with clock.at(REPORTED_AT + dt.timedelta(hours=1)):
        ledger.act(problem, Action.HANDLE, Role.UNIT_HANDLER, ActionInput(result="已更换路灯"))
    problem.refresh_from_db()
    return problem


def _reporters(problem: Problem) -> tuple:
    mine, theirs = problem.reporters.order_by("id")
    return mine, theirs


def _row(html: str, reporter) -> str:
    start = html.index(f'id="reporter-{reporter.pk}"')
    return html[start : html.index("</tr>", start)]


def test_the_page_lists_every_reporting_household_and_the_merge(world, field, merged, login,
                                                                next_day):  # fmt: skip
    mine, theirs = _reporters(merged)
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(reverse("web:problem", args=[merged.pk])))

    for reporter, household, cadre in (
        (mine, field.households[0], "王建国"),
        (theirs, field.other_households[0], "李红"),
    ):
        row = _row(html, reporter)
        assert "七营村" in row
        assert f"{household.head_name[0]}*" in row
        assert household.head_name not in row
        assert household.address in row
        assert cadre in row
        assert "待反馈" in row
    assert "2 户待反馈" in html
    history = html[html.index('id="history"') :]
    assert "并案" in history
    assert f"并入反映 #{theirs.concern_id}（七营村）" in history
    concerns = html[html.index('id="concerns"') : html.index('id="history"')]
    assert f"#{mine.concern_id}" in concerns
    assert f"#{theirs.concern_id}" in concerns
    assert "立案" in concerns
    assert "并案" in concerns
    assert "来电" in concerns
    assert "来访" in concerns


def test_each_visiting_cadre_records_their_own_household(world, merged, login, next_day):
    mine, theirs = _reporters(merged)
    url = reverse("web:problem", args=[merged.pk])
    cadre = login(world.users[Role.CADRE])
    html = _html(cadre.get(url))
    assert set(re.findall(r'id="act-([a-z_]+-r\d+)"', html)) == {
        f"feedback-r{mine.pk}",
        f"contact_failed-r{mine.pk}",
    }
    assert f'name="reporter_id" value="{mine.pk}"' in html
    # the colleague cannot sign in: the village admin stands in for that household only
    village_html = _html(login(world.users[Role.VILLAGE_ADMIN]).get(url))
    assert set(re.findall(r'id="act-([a-z_]+-r\d+)"', village_html)) == {
        f"feedback-r{theirs.pk}",
        f"contact_failed-r{theirs.pk}",
    }

    # the cadre's household is satisfied: the problem waits for the other one
    cadre = login(world.users[Role.CADRE])
    response = _act(cadre, merged, Action.FEEDBACK, verdict="satisfied", reporter_id=mine.pk)
    assert response.status_code == 302
    merged.refresh_from_db()
    assert (merged.status, merged.reporters_waiting) == (Problem.Status.HANDLED, 1)
    html = _html(cadre.get(url))
    assert "满意" in _row(html, mine)
    assert _forms(html) == set()  # nothing left for this cadre

    # the cadre cannot answer for the colleague's household
    response = _act(cadre, merged, Action.FEEDBACK, verdict="satisfied", reporter_id=theirs.pk)
    assert response.status_code == 403
    assert "只有走访该户的干部可以反馈群众评价" in _html(response)
    # nor record their own household twice: the typed text comes back
    response = _act(cadre, merged, Action.FEEDBACK, verdict="dissatisfied",
                    reporter_id=mine.pk, reason="路灯又坏了")  # fmt: skip
    assert response.status_code == 422
    assert "该反映户不在等待反馈之列" in _html(response)
    assert "路灯又坏了" in _html(response)
    merged.refresh_from_db()
    assert merged.reporters_waiting == 1


def test_the_leader_confirms_a_household_tried_three_times(world, merged, login, next_day):
    mine, theirs = _reporters(merged)
    url = reverse("web:problem", args=[merged.pk])
    _act(login(world.users[Role.CADRE]), merged, Action.FEEDBACK, verdict="satisfied",
         reporter_id=mine.pk)  # fmt: skip
    leader_forms = []
    for _ in range(3):
        # (one test client: `login` signs it in as each user in turn)
        leader_forms.append(_forms(_html(login(world.users[Role.LEADER]).get(url))))
        village = login(world.users[Role.VILLAGE_ADMIN])
        assert (
            _act(village, merged, Action.CONTACT_FAILED, reporter_id=theirs.pk).status_code == 302
        )
    assert leader_forms == [set(), set(), set()]  # not before the third try

    html = _html(login(world.users[Role.LEADER]).get(url))
    assert "联系不上 3 次" in _row(html, theirs)
    assert f'id="act-confirm_unreachable-r{theirs.pk}"' in html
    assert "该户已联系未果 3 次" in html  # the history
    response = _act(login(world.users[Role.LEADER]), merged, Action.CONFIRM_UNREACHABLE,
                    reporter_id=theirs.pk)  # fmt: skip
    assert response.status_code == 302
    merged.refresh_from_db()
    assert (merged.status, merged.verdict) == (Problem.Status.CLOSED, Problem.Verdict.SATISFIED)
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(url))
    assert "已确认（" in _row(html, theirs)


def test_merged_problem_page_query_count(world, merged, login, next_day, django_assert_num_queries):
    client = login(world.users[Role.CADRE])
    # session, user, the user's region, the header's to-do counts, problem, its reporting
    # households (with their cadres, villages and households), the concerns it came from (with
    # theirs), its attachments (whether the user sees the problem, then the files), events
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(11):
        response = client.get(reverse("web:problem", args=[merged.pk]))
    assert response.status_code == 200


# --- to-do lists -----------------------------------------------------------------------------


def test_a_unit_handler_lands_on_its_to_do_list_most_urgent_first(world, ledger, login, next_day):
    later = ledger.make(Problem.Status.DISPATCHED, severity="complex")
    sooner = ledger.make(Problem.Status.DISPATCHED)
    ledger.make(Problem.Status.HANDLED)  # done: not on the list
    client = login(world.users[Role.UNIT_HANDLER])
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response.url == reverse("web:ledger_inbox")
    html = _html(client.get(response.url))
    assert "本单位待办理的问题" in html
    assert html.index(sooner.code) < html.index(later.code)
    assert html.count('class="todo-item"') == 2
    assert '<span class="colour status-dispatched">已交办</span>' in html  # its own state


def test_a_leader_sees_the_extension_requests_waiting(world, ledger, login, next_day):
    waiting = ledger.make(Problem.Status.DISPATCHED)
    ledger.make(Problem.Status.DISPATCHED)
    ledger.act(waiting, Action.EXTEND_REQUEST, Role.UNIT_HANDLER,
               ActionInput(days=3, reason="等待材料"))  # fmt: skip
    html = _html(login(world.users[Role.LEADER]).get(reverse("web:ledger_inbox")))
    assert "待审批的延期申请" in html
    assert waiting.code in html
    assert "申请延期 3 个工作日" in html
    assert "等待材料" in html
    assert html.count('class="todo-item"') == 1


def test_to_do_list_query_count(world, ledger, login, next_day, django_assert_num_queries):
    for _ in range(3):
        ledger.make(Problem.Status.DISPATCHED)
    client = login(world.users[Role.UNIT_HANDLER])
    # session, user, the user's region, the to-do and unread counts (one query, shared with the
    # header's badges), rows (-1: the section's count is known, no page count)
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(6):
        response = client.get(reverse("web:ledger_inbox"))
    assert len(response.context["sections"][0]["rows"]) == 3


def test_roles_without_a_to_do_list_go_to_the_ledger(world, login):
    response = login(world.users[Role.COUNTY_VIEWER]).get(reverse("web:ledger_inbox"))
    assert response.status_code == 302
    assert response.url == reverse("web:ledger")


# --- the inbox (站内消息) ----------------------------------------------------------------------


def test_inbox_lists_notices_and_marks_them_read(world, ledger, login, next_day):
    ledger.make(Problem.Status.DISPATCHED)  # the unit is told of the dispatch
    other = ledger.make(Problem.Status.DISPATCHED)
    client = login(world.users[Role.UNIT_HANDLER])

    html = _html(client.get(reverse("web:inbox")))
    assert html.count('class="notice-item unread"') == 2
    assert "交办，请于11月04日前办结" in html
    assert re.search(r'消息 <span class="count"[^>]*>2</span>', html)  # the header
    assert html.index(other.code) < html.index(Problem.objects.exclude(pk=other.pk).get().code)

    notice = Notification.objects.get(
        recipient=world.users[Role.UNIT_HANDLER], link__contains=f"/{other.pk}/"
    )
    response = client.post(reverse("web:inbox_open", args=[notice.pk]))
    assert response.status_code == 302
    assert response.url == reverse("web:problem", args=[other.pk])
    assert re.search(
        r'消息 <span class="count"[^>]*>1</span>', _html(client.get(reverse("web:inbox")))
    )

    response = client.post(reverse("web:inbox_read_all"))
    assert response.status_code == 302
    html = _html(client.get(response.url))
    assert 'class="notice-item unread"' not in html
    assert not re.search(r'消息 <span class="count"', html)  # (待办 keeps its own count)
    assert "已将 1 条消息标为已读" in html


def test_a_notice_of_someone_else_is_not_found(world, ledger, login, next_day):
    ledger.make(Problem.Status.DISPATCHED)
    notice = Notification.objects.filter(recipient=world.users[Role.UNIT_HANDLER]).first()
    assert notice is not None
    client = login(world.users[Role.LEADER])
    assert client.post(reverse("web:inbox_open", args=[notice.pk])).status_code == 404
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_inbox_query_count(world, ledger, login, next_day, django_assert_num_queries):
    for _ in range(3):
        ledger.make(Problem.Status.DISPATCHED)
    client = login(world.users[Role.UNIT_HANDLER])
    # session, user, the user's region, the header's to-do and unread counts (one query),
    # page count, rows
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(7):
        response = client.get(reverse("web:inbox"))
    assert len(response.context["page"].object_list) == 3


# --- English ---------------------------------------------------------------------------------


def test_ledger_pages_in_english(world, ledger, login, next_day):
    problem = ledger.make(Problem.Status.DISPATCHED)
    client = login(world.users[Role.UNIT_HANDLER])
    url = reverse("web:ledger")
    client.post(reverse("set_language"), {"language": "en", "next": url})

    html = _html(client.get(url))
    assert '<html lang="en">' in html
    for english in ("Problem ledger", "In progress", "Overdue", "Dispatched", "General", "Inbox"):
        assert english in html, english
    assert "不满意问题台账" not in html

    html = _html(client.get(reverse("web:problem", args=[problem.pk])))
    for english in ("History", "Report the result", "Return", "Ask for more time", "Reported"):
        assert english in html, english
    assert "流转记录" not in html


def test_the_list_links_to_the_export_with_its_filters_and_the_export_downloads(
    world, ledger, client
):
    import io

    import openpyxl

    ledger.make("dispatched")
    client.force_login(world.users["town_admin"])
    page = client.get("/ledger/?status=dispatched").content.decode()
    assert 'href="/ledger/export.xlsx?status=dispatched"' in page
    response = client.get("/ledger/export.xlsx?status=dispatched")
    assert response.status_code == 200
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    sheet = book.active
    codes = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]]
    assert codes == [ledger.made[0].code]
