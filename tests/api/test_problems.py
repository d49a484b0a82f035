"""`/api/v1/problems`: the ledger in each role's scope, its filters, reporting, and every
lifecycle action with its refusals (403 role, 404 scope, 409 stale version, 422 state)."""

import datetime as dt
import json
import re

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.api.routers.problems import ActionIn
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem, ProblemEvent
from pingan.ledger.services import ActionInput
from tests.api.conftest import ApiClient
from tests.factories import UnitFactory, make_user
from tests.ledger.conftest import Ledger

pytestmark = pytest.mark.django_db

SHANGHAI = clock.SHANGHAI
CHINESE = re.compile(r"[\u4e00-\u9fff]")
NOT_FOUND = {"detail": "请求的对象不存在或不在您的管辖范围内", "errors": []}

# The problems `ledger.make` creates are the field cadre's, in 七营村, dispatched to the police.
ALL = {"reported", "accepted", "dispatched", "handled", "closed", "rejected"}
VISIBLE = {
    Role.TOWN_ADMIN: ALL,
    Role.LEADER: ALL,
    Role.COUNTY_VIEWER: ALL,
    Role.VILLAGE_ADMIN: ALL,
    Role.CADRE: ALL,  # the cadre who visited takes each result back
    Role.UNIT_HANDLER: {"dispatched", "handled", "closed"},  # with or handled by their unit
}


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


@pytest.fixture
def outsider(world):
    """The town admin of the other town (义门镇)."""
    return make_user(Role.TOWN_ADMIN, world.other_town, username="outsider")


@pytest.fixture
def by_state(ledger) -> dict[str, Problem]:
    return {state: ledger.make(state) for state in sorted(ALL)}


def act(client: ApiClient, problem: Problem, action: str, version: int | None = None, **body):
    problem.refresh_from_db()
    return client.post(
        f"/problems/{problem.pk}/actions",
        {"action": action, "version": problem.version if version is None else version, **body},
    )


def statuses(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {item["status"] for item in response.json()["items"]}


def assert_refused(response, status: int) -> dict:
    assert response.status_code == status, response.json()
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert CHINESE.search(body["detail"]), body
    return body


# --- Reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(VISIBLE))
def test_list_and_detail_are_scoped(world, by_state, api_as, role):
    client = api_as(world.users[role])

    response = client.get("/problems")

    assert statuses(response) == VISIBLE[role]
    assert response.json()["count"] == len(VISIBLE[role])
    for state, problem in by_state.items():
        detail = client.get(f"/problems/{problem.pk}")
        if state in VISIBLE[role]:
            assert detail.status_code == 200
            assert detail.json()["code"] == problem.code
        else:
            assert detail.status_code == 404
            assert detail.json() == NOT_FOUND


def test_another_town_sees_nothing_and_gets_404(world, by_state, api_as, outsider):
    client = api_as(outsider)

    response = client.get("/problems")

    assert response.json() == {"items": [], "count": 0}
    for problem in by_state.values():
        # Outside the scope answers exactly like a problem that does not exist.
        assert client.get(f"/problems/{problem.pk}").json() == NOT_FOUND
    assert client.get("/problems/999999").json() == NOT_FOUND


def test_an_item_shows_the_problem_with_the_household_masked(world, field, ledger, api_as):
    problem = ledger.make(Problem.Status.DISPATCHED)
    household = field.households[0]

    [item] = api_as(world.users[Role.TOWN_ADMIN]).get("/problems").json()["items"]

    assert item["id"] == problem.pk
    assert item["code"] == problem.code
    assert re.fullmatch(r"341623101-2021-\d{6}", item["code"])
    assert item["village"] == {"id": world.qiying.pk, "name": "七营村"}
    assert item["household"] == {
        "id": household.pk,
        "address": household.address,
        "head_name": household.head_name[0] + "*" * (len(household.head_name) - 1),
        "phone_masked": household.phone_masked,
    }
    assert household.head_name not in json.dumps(item, ensure_ascii=False)
    assert "****" in item["household"]["phone_masked"]
    assert (item["source"], item["source_label"]) == ("visit", "走访反映")
    assert (item["status"], item["status_label"]) == ("dispatched", "已交办")
    assert (item["severity"], item["severity_label"]) == ("general", "一般问题")
    assert item["unit"] == {"id": world.police.pk, "name": "汝集派出所"}
    assert item["category"] == "治安防范"
    assert item["reported_at"] == "2021-10-21T10:00:00+08:00"
    assert item["dispatched_at"] == "2021-10-21T10:02:00+08:00"
    # 10 working days after Thursday 21 October 2021
    assert item["deadline"] == "2021-11-04T23:59:59+08:00"
    assert (item["colour"], item["colour_label"]) == ("red", "超期")  # today is long after
    assert item["version"] == 3
    assert item["redo_count"] == 0
    assert item["actions"] == ["remind"]
    assert "events" not in item


# What each role may do, state by state (docs/ledger.md): the buttons a client shows.
ACTIONS = [
    ("reported", Role.TOWN_ADMIN, ["accept", "reject"]),
    ("reported", Role.LEADER, []),
    ("reported", Role.CADRE, []),
    ("accepted", Role.TOWN_ADMIN, ["dispatch"]),
    ("dispatched", Role.TOWN_ADMIN, ["remind"]),
    ("dispatched", Role.LEADER, []),  # no extension request waiting
    # dispatched in 2021: the 2 working days for a return are long past
    ("dispatched", Role.UNIT_HANDLER, ["extend_request", "handle"]),
    ("dispatched", Role.COUNTY_VIEWER, []),
    ("handled", Role.CADRE, ["feedback", "contact_failed"]),
    ("handled", Role.VILLAGE_ADMIN, []),  # the visiting cadre is active: it is theirs
    ("handled", Role.UNIT_HANDLER, []),
    ("closed", Role.TOWN_ADMIN, []),
    ("closed", Role.CADRE, []),
]


@pytest.mark.parametrize(("state", "role", "expected"), ACTIONS)
def test_actions_are_what_the_caller_may_do_now(world, ledger, api_as, state, role, expected):
    problem = ledger.make(state)
    client = api_as(world.users[role])

    assert client.get(f"/problems/{problem.pk}").json()["actions"] == expected
    assert client.get("/problems").json()["items"][0]["actions"] == expected


def test_detail_has_the_history(world, ledger, api_as):
    problem = ledger.make(Problem.Status.CLOSED)
    ProblemEvent.objects.create(problem=problem, action="supervise", from_status="closed",
                                to_status="closed", actor=None, note="逾期未办结")  # fmt: skip

    body = api_as(world.users[Role.LEADER]).get(f"/problems/{problem.pk}").json()

    assert body["status"] == "closed"
    assert (body["colour"], body["colour_label"]) == ("green", "已销号")
    assert body["result"] == "已修复路灯"
    assert (body["verdict"], body["verdict_label"]) == ("satisfied", "满意")
    assert body["closed_at"] == "2021-10-21T10:04:00+08:00"
    assert body["handled_at"] == "2021-10-21T10:03:00+08:00"
    assert body["extension_days"] is None
    assert body["supervised_at"] is None
    assert [(e["action"], e["action_label"], e["from_status"], e["to_status"])
            for e in body["events"]] == [
        ("report", "登记", "", "reported"),
        ("accept", "受理", "reported", "accepted"),
        ("dispatch", "交办", "accepted", "dispatched"),
        ("handle", "办结", "dispatched", "handled"),
        ("feedback", "反馈群众评价", "handled", "closed"),
        ("supervise", "督办", "closed", "closed"),
    ]  # fmt: skip
    handle = body["events"][3]
    assert handle["actor"] == str(world.users[Role.UNIT_HANDLER])
    assert handle["note"] == "已修复路灯"
    assert handle["data"] == {"unit_id": world.police.pk, "unit": "汝集派出所"}
    assert handle["at"] == "2021-10-21T10:03:00+08:00"
    assert body["events"][-1]["actor"] == "系统"


def test_list_is_a_fixed_number_of_queries(world, field, ledger, api_as,
                                           django_assert_num_queries):  # fmt: skip
    for state in ("reported", "dispatched", "handled", "closed"):
        for household in field.households:
            ledger.make(state, household=household)
    for role in (Role.TOWN_ADMIN, Role.UNIT_HANDLER, Role.CADRE):
        client = api_as(world.users[role])
        client.get("/me")  # the token's first use records it; later requests only read
        # the token, the count, one page of rows with village, household, unit and cadre, and
        # the rows' reporting households with their cadres (the actions depend on them)
        with django_assert_num_queries(4):
            response = client.get("/problems")
        assert len(response.json()["items"]) >= 9
        assert {len(item["actions"]) for item in response.json()["items"]} != {0}
        # the token, the problem with its village, household, unit and cadre, its reporting
        # households, its events
        with django_assert_num_queries(4):
            detail = client.get(f"/problems/{response.json()['items'][0]['id']}")
        assert len(detail.json()["events"]) >= 3


def test_pages(world, ledger, api_as):
    made = [ledger.make("reported") for _ in range(5)]
    client = api_as(world.users[Role.TOWN_ADMIN])

    first = client.get("/problems", limit=2).json()
    rest = client.get("/problems", limit=2, offset=2).json()

    assert first["count"] == rest["count"] == 5
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert len(set(ids)) == 4
    assert ids == [p.pk for p in reversed(made)][:4]  # the newest first
    assert client.get("/problems", limit=501).status_code == 422


# --- Filters ------------------------------------------------------------------------------


def test_filter_by_status_village_unit_category_and_search(world, field, ledger, api_as):
    dispatched = ledger.make("dispatched")
    ledger.make("reported", description="楼道堆放杂物，存在火灾隐患")
    client = api_as(world.users[Role.TOWN_ADMIN])
    other_unit = UnitFactory(region=world.town, name="汝集镇城管中队")

    def codes(**params) -> list[str]:
        response = client.get("/problems", **params)
        assert response.status_code == 200, response.json()
        return [item["code"] for item in response.json()["items"]]

    assert codes(status="dispatched") == [dispatched.code]
    assert codes(status="closed") == []
    assert len(codes(village_id=world.qiying.pk)) == 2
    assert codes(village_id=world.xinqiao.pk) == []
    assert codes(unit_id=world.police.pk) == [dispatched.code]
    assert codes(unit_id=other_unit.pk) == []
    assert len(codes(category="治安防范")) == 2
    assert codes(category="环境卫生") == []
    assert len(codes(q="火灾")) == 1
    assert codes(q=dispatched.code[-6:]) == [dispatched.code]


def test_filter_by_colour_and_overdue_follows_the_clock(world, field, ledger, api_as):
    # Given problems dispatched on Thursday 21 October 2021 (due Thursday 4 November), one
    # closed and one rejected
    dispatched = ledger.make("dispatched")
    closed = ledger.make("closed", household=field.households[1])
    rejected = ledger.make("rejected", household=field.households[2])
    reported = ledger.make("reported", household=field.households[2])
    client = api_as(world.users[Role.TOWN_ADMIN])

    def codes(**params) -> set[str]:
        response = client.get("/problems", **params)
        assert response.status_code == 200, response.json()
        return {item["code"] for item in response.json()["items"]}

    def colour_of(problem) -> str:
        return client.get(f"/problems/{problem.pk}").json()["colour"]

    with time_machine.travel(dt.datetime(2021, 10, 22, 9, tzinfo=SHANGHAI), tick=False):
        assert colour_of(dispatched) == "none"
        assert codes(colour="none") == {dispatched.code, reported.code}
        assert codes(overdue="true") == set()
    with time_machine.travel(dt.datetime(2021, 11, 3, 9, tzinfo=SHANGHAI), tick=False):
        assert colour_of(dispatched) == "yellow"
        assert codes(colour="yellow") == {dispatched.code}
        assert codes(colour="red") == set()
        assert codes(overdue="true") == set()
    with time_machine.travel(dt.datetime(2021, 11, 4, 23, 59, tzinfo=SHANGHAI), tick=False):
        assert codes(overdue="true") == set()  # due today, not yet late
    with time_machine.travel(dt.datetime(2021, 11, 5, 0, 0, 1, tzinfo=SHANGHAI), tick=False):
        assert colour_of(dispatched) == "red"
        assert codes(colour="red") == {dispatched.code}
        assert codes(overdue="true") == {dispatched.code}
        assert codes(overdue="false") == {dispatched.code, closed.code, rejected.code,
                                          reported.code}  # fmt: skip
        assert codes(colour="green") == {closed.code}
        assert codes(colour="grey") == {rejected.code}
        item = client.get("/problems", colour="red").json()["items"][0]
        assert item["colour_label"] == "超期"


@pytest.mark.parametrize(
    ("params", "field_name", "message"),
    [
        ({"status": "done"}, "status", "状态只能是"),
        ({"colour": "blue"}, "colour", "颜色只能是"),
        ({"overdue": "maybe"}, "overdue", "应为布尔值"),
        ({"village_id": "七营"}, "village_id", "应为整数"),
    ],
)
def test_a_wrong_filter_is_refused_in_chinese(world, api_as, params, field_name, message):
    response = api_as(world.users[Role.TOWN_ADMIN]).get("/problems", **params)

    body = assert_refused(response, 422)
    [error] = body["errors"]
    assert error["loc"][-1] == field_name
    assert error["msg"].startswith(message)


# --- Reporting ----------------------------------------------------------------------------


def test_a_cadre_reports_a_problem_for_their_household(world, field, api_as):
    household = field.households[1]
    client = api_as(world.users[Role.CADRE])

    response = client.post("/problems", {"household_id": household.pk,
                                         "description": " 村口积水，雨天无法通行 ",
                                         "category": "基础设施"})  # fmt: skip

    assert response.status_code == 201
    body = response.json()
    problem = Problem.objects.get()
    assert body["id"] == problem.pk
    assert body["code"] == problem.code
    assert (body["status"], body["source"], body["category"]) == ("reported", "visit", "基础设施")
    assert body["description"] == "村口积水，雨天无法通行"
    assert body["household"]["id"] == household.pk
    assert body["village"]["id"] == world.qiying.pk
    assert body["version"] == 1
    assert body["actions"] == []
    assert [e["action"] for e in body["events"]] == ["report"]
    assert problem.cadre == field.cadre
    town = api_as(world.users[Role.TOWN_ADMIN]).get(f"/problems/{problem.pk}").json()
    assert town["actions"] == ["accept", "reject"]


def test_the_town_center_records_a_phone_call_for_a_village(world, field, api_as):
    response = api_as(world.users[Role.TOWN_ADMIN]).post(
        "/problems", {"village_id": world.xinqiao.pk, "description": "来电反映：噪音扰民"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["source"], body["source_label"]) == ("manual", "来电来访")
    assert body["village"] == {"id": world.xinqiao.pk, "name": "新桥村"}
    assert body["household"] is None
    assert body["actions"] == ["accept", "reject"]


@pytest.mark.parametrize("role", [Role.LEADER, Role.UNIT_HANDLER, Role.COUNTY_VIEWER])
def test_roles_that_do_not_report_get_403(world, field, api_as, role):
    response = api_as(world.users[role]).post(
        "/problems", {"village_id": world.qiying.pk, "description": "路灯坏了"}
    )

    assert assert_refused(response, 403)["detail"] == "您的角色无权登记问题"
    assert not Problem.objects.exists()


def test_reporting_outside_the_scope_or_without_a_description_is_refused(
    world, field, api_as, outsider
):
    cadre = api_as(world.users[Role.CADRE])
    village = api_as(world.users[Role.VILLAGE_ADMIN])

    theirs = cadre.post("/problems", {"household_id": field.other_households[0].pk,
                                      "description": "路灯坏了"})  # fmt: skip
    body = assert_refused(theirs, 422)
    assert body["errors"] == [{"loc": ["body", "household_id"], "msg": body["detail"],
                               "type": "action_invalid"}]  # fmt: skip
    other_village = village.post(
        "/problems", {"village_id": world.xinqiao.pk, "description": "路灯坏了"}
    )
    assert assert_refused(other_village, 422)["errors"][0]["loc"] == ["body", "village_id"]
    other_town = api_as(outsider).post(
        "/problems", {"village_id": world.qiying.pk, "description": "路灯坏了"}
    )
    assert_refused(other_town, 422)
    blank = village.post("/problems", {"village_id": world.qiying.pk, "description": "   "})
    assert assert_refused(blank, 422)["detail"] == "请填写问题描述"
    missing = village.post("/problems", {"village_id": world.qiying.pk})
    assert assert_refused(missing, 422)["errors"] == [
        {"loc": ["body", "payload", "description"], "msg": "缺少必填字段", "type": "missing"}
    ]
    survey = village.post("/problems", {"village_id": world.qiying.pk, "description": "x",
                                        "source": "survey"})  # fmt: skip
    assert assert_refused(survey, 422)["errors"][0]["loc"] == ["body", "source"]
    assert not Problem.objects.exists()


# --- Actions ------------------------------------------------------------------------------


def test_the_whole_path_through_the_api(world, field, api_as):
    town = api_as(world.users[Role.TOWN_ADMIN])
    unit = api_as(world.users[Role.UNIT_HANDLER])
    cadre = api_as(world.users[Role.CADRE])

    # Thursday 21 October 2021: reported, accepted, dispatched, handled
    with time_machine.travel(dt.datetime(2021, 10, 21, 9, tzinfo=SHANGHAI), tick=False):
        reported = cadre.post("/problems", {"household_id": field.households[0].pk,
                                            "description": "路灯坏了"}).json()  # fmt: skip
        pk = reported["id"]
        problem = Problem.objects.get(pk=pk)
        accepted = act(town, problem, "accept")
        assert accepted.status_code == 200
        assert (accepted.json()["status"], accepted.json()["version"]) == ("accepted", 2)
        dispatched = act(town, problem, "dispatch", unit_id=world.police.pk, severity="general")
        assert dispatched.status_code == 200
        body = dispatched.json()
        assert (body["status"], body["unit"]["id"]) == ("dispatched", world.police.pk)
        assert body["deadline"] == "2021-11-04T23:59:59+08:00"
        assert body["actions"] == ["remind"]
        assert unit.get(f"/problems/{pk}").json()["actions"] == [
            "return", "extend_request", "handle"]  # fmt: skip
        handled = act(unit, problem, "handle", result="已更换路灯")
        assert (handled.json()["status"], handled.json()["result"]) == ("handled", "已更换路灯")
        assert cadre.get(f"/problems/{pk}").json()["actions"] == ["feedback", "contact_failed"]

    # Thursday 28 October: the resident is not satisfied → back to the unit, a new deadline
    with time_machine.travel(dt.datetime(2021, 10, 28, 15, tzinfo=SHANGHAI), tick=False):
        no_reason = act(cadre, problem, "feedback", verdict="dissatisfied")
        assert assert_refused(no_reason, 422)["detail"] == "请填写群众不满意的原因"
        redo = act(cadre, problem, "feedback", verdict="dissatisfied", reason="晚上还是不亮")
        assert redo.status_code == 200
        body = redo.json()
        assert body["status"] == "dispatched"
        assert body["redo_count"] == 1
        assert body["dispatched_at"] == "2021-10-28T15:00:00+08:00"
        assert body["deadline"] == "2021-11-11T23:59:59+08:00"
        assert (body["verdict"], body["verdict_note"]) == ("dissatisfied", "晚上还是不亮")
        assert body["unit"]["id"] == world.police.pk
        assert body["closed_at"] is None
        assert act(unit, problem, "handle", result="更换了线路").json()["status"] == "handled"
        closed = act(cadre, problem, "feedback", verdict="satisfied")

    assert closed.status_code == 200
    body = closed.json()
    assert (body["status"], body["colour"], body["verdict"]) == ("closed", "green", "satisfied")
    assert body["closed_at"] == "2021-10-28T15:00:00+08:00"
    assert body["actions"] == []
    assert body["version"] == 7
    assert [e["action"] for e in body["events"]] == [
        "report", "accept", "dispatch", "handle", "feedback", "handle", "feedback"]  # fmt: skip
    assert [e["to_status"] for e in body["events"]][-3:] == ["dispatched", "handled", "closed"]
    problem.refresh_from_db()
    assert (problem.status, problem.redo_count, problem.version) == ("closed", 1, 7)


def test_a_stale_version_is_a_409_and_changes_nothing(world, ledger, api_as):
    problem = ledger.make(Problem.Status.REPORTED)
    town = api_as(world.users[Role.TOWN_ADMIN])
    seen = town.get(f"/problems/{problem.pk}").json()["version"]
    # a colleague accepts it first
    assert act(api_as(make_user(Role.TOWN_ADMIN, world.town)), problem, "accept").status_code == 200

    response = act(town, problem, "reject", version=seen, reason="不属实")

    body = assert_refused(response, 409)
    assert body["detail"] == (
        f"问题 {problem.code} 已被他人修改（当前状态「已受理」），请刷新后重试"
    )
    problem.refresh_from_db()
    assert (problem.status, problem.version) == ("accepted", 2)
    assert list(problem.events.values_list("action", flat=True)) == ["report", "accept"]


@pytest.mark.parametrize(
    ("state", "role", "action", "body", "detail"),
    [
        ("reported", Role.TOWN_ADMIN, "dispatch", {"unit_id": 0, "severity": "general"},
         "问题当前为「待受理」，不能「交办」"),
        ("dispatched", Role.TOWN_ADMIN, "accept", {}, "问题当前为「已交办」，不能「受理」"),
        ("closed", Role.UNIT_HANDLER, "handle", {"result": "再办一次"},
         "问题当前为「已销号」，不能「办结」"),
        # 销号 only with the resident's satisfied verdict, and only after handling
        ("dispatched", Role.CADRE, "feedback", {"verdict": "satisfied"},
         "问题当前为「已交办」，不能「反馈群众评价」"),
    ],
)  # fmt: skip
def test_an_action_not_allowed_from_the_state_is_a_422(world, ledger, api_as, state, role,
                                                      action, body, detail):  # fmt: skip
    problem = ledger.make(state)
    version = problem.version

    response = act(api_as(world.users[role]), problem, action, **body)

    assert assert_refused(response, 422)["detail"] == detail
    problem.refresh_from_db()
    assert (problem.status, problem.version) == (state, version)


def test_feedback_without_a_verdict_cannot_close(world, ledger, api_as):
    problem = ledger.make(Problem.Status.HANDLED)
    cadre = api_as(world.users[Role.CADRE])

    for body in ({}, {"verdict": "ok"}):
        response = act(cadre, problem, "feedback", **body)
        refused = assert_refused(response, 422)
        assert refused["errors"][0]["loc"] == ["body", "verdict"]

    problem.refresh_from_db()
    assert (problem.status, problem.closed_at, problem.verdict) == ("handled", None, "")


@pytest.mark.parametrize(
    ("state", "role", "action", "body"),
    [
        ("reported", Role.CADRE, "accept", {}),
        ("reported", Role.VILLAGE_ADMIN, "reject", {"reason": "x"}),
        ("accepted", Role.LEADER, "dispatch", {"unit_id": 1, "severity": "general"}),
        ("dispatched", Role.TOWN_ADMIN, "handle", {"result": "办好了"}),
        ("dispatched", Role.COUNTY_VIEWER, "remind", {}),
        ("handled", Role.TOWN_ADMIN, "feedback", {"verdict": "satisfied"}),
        ("handled", Role.UNIT_HANDLER, "feedback", {"verdict": "satisfied"}),
        # the right role but not the visiting cadre
        ("handled", Role.VILLAGE_ADMIN, "feedback", {"verdict": "satisfied"}),
    ],
)
def test_a_role_that_may_not_act_gets_403(world, ledger, api_as, state, role, action, body):
    problem = ledger.make(state)

    response = act(api_as(world.users[role]), problem, action, **body)

    detail = assert_refused(response, 403)["detail"]
    assert detail != "您的角色无权执行此操作"  # the service's own reason, not the generic one
    problem.refresh_from_db()
    assert problem.status == state


def test_a_unit_handler_of_another_unit_gets_403(world, ledger, api_as):
    problem = ledger.make(Problem.Status.DISPATCHED)
    # a handler of another unit whose earlier handling keeps the problem in their view
    other = UnitFactory(region=world.town, name="汝集镇城管中队")
    handler = make_user(Role.UNIT_HANDLER, world.town, unit=other)
    ProblemEvent.objects.create(problem=problem, action="handle", from_status="dispatched",
                                to_status="handled", data={"unit_id": other.pk})  # fmt: skip

    response = act(api_as(handler), problem, "handle", result="办好了")

    assert assert_refused(response, 403)["detail"] == "该问题未交办给您的单位"


def test_acting_outside_the_scope_is_a_404(world, ledger, api_as, outsider):
    reported = ledger.make(Problem.Status.REPORTED)

    other_town = act(api_as(outsider), reported, "accept")
    not_yet_the_units = act(api_as(world.users[Role.UNIT_HANDLER]), reported, "handle",
                            result="办好了")  # fmt: skip
    unknown = api_as(world.users[Role.TOWN_ADMIN]).post(
        "/problems/999999/actions", {"action": "accept", "version": 1}
    )

    for response in (other_town, not_yet_the_units, unknown):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    reported.refresh_from_db()
    assert (reported.status, reported.version) == ("reported", 1)


def test_a_unit_returning_a_problem_gets_the_result(world, ledger, api_as):
    problem = ledger.make(Problem.Status.DISPATCHED)
    unit = api_as(world.users[Role.UNIT_HANDLER])

    with time_machine.travel(dt.datetime(2021, 10, 22, 9, tzinfo=SHANGHAI), tick=False):
        response = act(unit, problem, "return", reason="不属于派出所职责")

    # the problem is no longer the unit's to work on, but stays in its view as its history
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["unit"], body["deadline"]) == ("accepted", None, None)
    assert (body["colour"], body["actions"]) == ("none", [])
    assert body["events"][-1]["action"] == "return"
    assert body["events"][-1]["note"] == "不属于派出所职责"
    assert unit.get(f"/problems/{problem.pk}").json()["actions"] == []
    town = api_as(world.users[Role.TOWN_ADMIN]).get(f"/problems/{problem.pk}").json()
    assert town["actions"] == ["dispatch"]


def test_an_extension_through_the_api(world, ledger, api_as):
    problem = ledger.make(Problem.Status.DISPATCHED, severity="complex")
    unit = api_as(world.users[Role.UNIT_HANDLER])
    leader = api_as(world.users[Role.LEADER])
    before = problem.deadline

    too_long = act(unit, problem, "extend_request", reason="需协调多部门", days=61)
    assert assert_refused(too_long, 422)["errors"][0]["loc"] == ["body", "days"]
    requested = act(unit, problem, "extend_request", reason="需协调多部门", days=5)
    assert requested.status_code == 200
    assert (requested.json()["extension_days"], requested.json()["extension_reason"]) == (
        5, "需协调多部门")  # fmt: skip
    approved = act(leader, problem, "extend_approve")

    assert approved.status_code == 200
    body = approved.json()
    assert body["extension_days"] is None
    assert dt.datetime.fromisoformat(body["deadline"]) > before
    assert body["events"][-1]["data"]["days"] == 5


def test_an_action_body_is_validated_in_chinese(world, ledger, api_as):
    problem = ledger.make(Problem.Status.REPORTED)
    town = api_as(world.users[Role.TOWN_ADMIN])
    path = f"/api/v1/problems/{problem.pk}/actions"

    not_json = town.client.post(path, "{action: accept", content_type="application/json",
                                headers=town._headers())  # fmt: skip
    assert assert_refused(not_json, 422)["errors"] == [
        {"loc": ["body"], "msg": "不是有效的 JSON", "type": "json_invalid"}
    ]
    no_version = town.post(f"/problems/{problem.pk}/actions", {"action": "accept"})
    assert assert_refused(no_version, 422)["errors"] == [
        {"loc": ["body", "payload", "version"], "msg": "缺少必填字段", "type": "missing"}
    ]
    wrong_type = town.post(f"/problems/{problem.pk}/actions", {"action": "accept",
                                                               "version": "new"})  # fmt: skip
    assert assert_refused(wrong_type, 422)["errors"][0]["msg"] == "应为整数"
    unknown = town.post(f"/problems/{problem.pk}/actions", {"action": "close", "version": 1})
    assert assert_refused(unknown, 422)["detail"] == "未知的操作：close"
    no_reason = town.post(f"/problems/{problem.pk}/actions", {"action": "reject", "version": 1})
    assert assert_refused(no_reason, 422)["errors"] == [
        {"loc": ["body", "reason"], "msg": "请填写理由", "type": "action_invalid"}
    ]
    problem.refresh_from_db()
    assert (problem.status, problem.version) == ("reported", 1)


def test_anonymous_gets_401(world, anonymous):
    assert anonymous.get("/problems").status_code == 401
    assert (
        anonymous.post("/problems/1/actions", {"action": "accept", "version": 1}).status_code == 401
    )


def test_each_action_of_the_table_is_documented():
    schema = ActionIn.model_json_schema()
    assert schema["properties"]["action"]["enum"] == [str(a) for a in Action]
    assert ActionInput.__dataclass_fields__.keys() <= schema["properties"].keys()
