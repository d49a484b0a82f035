"""`/api/v1/talks`: the 思想工作 cases a cadre (or, standing in, a village admin) has to hold
and record, and the record of a talk with its refusals."""

import datetime as dt
import json
from dataclasses import dataclass

import pytest
import time_machine

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.triage import Decision, concern_triage
from pingan.visits.models import ThoughtWork
from tests.api.test_concerns import NOT_FOUND, Intake, assert_refused, make_intake

pytestmark = pytest.mark.django_db

SHANGHAI = clock.SHANGHAI
TRIAGED_AT = dt.datetime(2021, 10, 19, 9, 0, tzinfo=SHANGHAI)
TODAY = dt.datetime(2021, 10, 20, 16, 0, tzinfo=SHANGHAI)


@dataclass
class Talks:
    """`mine`: the field cadre's case (their household's 不太安全); `stand_in`: a colleague's
    household whose cadre has no login, recorded by the village admin; `far`: another town's."""

    intake: Intake
    mine: ThoughtWork
    stand_in: ThoughtWork
    far: ThoughtWork


@pytest.fixture
def talks(world, field) -> Talks:
    intake = make_intake(world, field)
    town = world.users[Role.TOWN_ADMIN]
    with time_machine.travel(TRIAGED_AT, tick=False):
        mine = concern_triage(actor=town, decision=Decision(intake.feeling.pk, 1, "talk"))
    with time_machine.travel(TRIAGED_AT + dt.timedelta(minutes=1), tick=False):
        stand_in = concern_triage(actor=town, decision=Decision(intake.call.pk, 1, "talk"))
        far = concern_triage(actor=intake.outsider, decision=Decision(intake.far.pk, 1, "talk"))
    return Talks(
        intake,
        ThoughtWork.objects.get(pk=mine.thought_work_id),
        ThoughtWork.objects.get(pk=stand_in.thought_work_id),
        ThoughtWork.objects.get(pk=far.thought_work_id),
    )


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["items"]]


def record(client, talk: ThoughtWork, **body):
    payload = {"talked_on": "2021-10-20", "notes": "上门聊了治安巡逻的安排", "view": "changed"}
    return client.post(f"/talks/{talk.pk}", payload | body)


def _stored() -> list[tuple]:
    return list(
        ThoughtWork.objects.order_by("pk").values_list(
            "pk", "talked_on", "notes", "view", "recorded_by", "recorded_at"
        )
    )


# --- Reading --------------------------------------------------------------------------------

CASES = {
    Role.CADRE: ["mine"],
    Role.VILLAGE_ADMIN: ["stand_in"],  # their village's household without a cadre who signs in
    Role.TOWN_ADMIN: [],
    Role.LEADER: [],
    Role.UNIT_HANDLER: [],
    Role.COUNTY_VIEWER: [],
}


@pytest.mark.parametrize("role", list(CASES))
def test_each_role_sees_the_talks_it_records(world, talks, api_as, role):
    response = api_as(world.users[role]).get("/talks")

    assert ids(response) == [getattr(talks, key).pk for key in CASES[role]]
    assert response.json()["count"] == len(CASES[role])


def test_another_town_sees_none_of_ours(world, talks, api_as):
    assert ids(api_as(talks.intake.outsider).get("/talks")) == []


def test_a_case_shows_whom_to_talk_with_and_what_they_said(world, field, talks, api_as):
    household = field.households[0]

    [item] = api_as(world.users[Role.CADRE]).get("/talks").json()["items"]

    assert item["concern_id"] == talks.intake.feeling.pk
    assert item["village"] == {"id": world.qiying.pk, "name": "七营村"}
    assert item["household"]["id"] == household.pk
    assert item["household"]["head_name"] == household.head_name[0] + "*" * (
        len(household.head_name) - 1
    )
    assert household.head_name not in json.dumps(item, ensure_ascii=False)
    assert item["cadre"] == {"id": field.cadre.pk, "name": "王建国"}
    assert item["reported_at"] == "2021-10-18T10:00:00+08:00"
    assert [(i["kind"], i["feeling"]) for i in item["items"]] == [("answer", True)]
    assert "不太安全" in item["items"][0]["text"]
    assert (item["talked_on"], item["notes"], item["view"], item["view_label"]) == (
        None, "", "", "",
    )  # fmt: skip
    assert item["recorded_at"] is None


def test_waiting_cases_come_first_and_filter_by_status(world, field, talks, api_as):
    # Given a second case of the cadre's, recorded
    town = world.users[Role.TOWN_ADMIN]
    from pingan.visits.concerns import concern_report

    other = concern_report(actor=town, household_id=field.households[2].pk, text="心里不踏实")
    later = concern_triage(actor=town, decision=Decision(other.pk, 1, "talk")).thought_work_id
    client = api_as(world.users[Role.CADRE])
    with time_machine.travel(TODAY, tick=False):
        assert record(client, ThoughtWork.objects.get(pk=later)).status_code == 200

    assert ids(client.get("/talks")) == [talks.mine.pk, later]
    assert ids(client.get("/talks", status="pending")) == [talks.mine.pk]
    assert ids(client.get("/talks", status="recorded")) == [later]
    assert ids(client.get("/talks", village_id=world.xinqiao.pk)) == []
    body = assert_refused(client.get("/talks", status="done"), 422)
    assert body["errors"][0]["msg"] == "状态只能是：pending（待谈话）、recorded（已记录）"


def test_the_list_is_a_fixed_number_of_queries(world, field, talks, api_as,
                                               django_assert_num_queries):  # fmt: skip
    from pingan.visits.concerns import concern_report

    town = world.users[Role.TOWN_ADMIN]
    client = api_as(world.users[Role.CADRE])
    client.get("/me")
    made = 1  # talks.mine
    for n in (2, 6):
        made += n
        for i in range(n):
            concern = concern_report(actor=town, household_id=field.households[i % 3].pk,
                                     text=f"心里不踏实{i}")  # fmt: skip
            concern_triage(actor=town, decision=Decision(concern.pk, 1, "talk"))
        # the token, the count, a page of cases with household, village, cadre and concern,
        # the concerns' items
        with django_assert_num_queries(4):
            response = client.get("/talks")
        assert len(response.json()["items"]) == made


# --- Recording a talk -----------------------------------------------------------------------


def test_the_cadre_records_a_talk(world, talks, api_as):
    client = api_as(world.users[Role.CADRE])

    with time_machine.travel(TODAY, tick=False):
        response = record(client, talks.mine, notes="  讲了村里新装的监控  ")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == talks.mine.pk
    assert (body["talked_on"], body["notes"]) == ("2021-10-20", "讲了村里新装的监控")
    assert (body["view"], body["view_label"]) == ("changed", "已转变")
    assert body["recorded_at"] == "2021-10-20T16:00:00+08:00"
    talks.mine.refresh_from_db()
    assert talks.mine.recorded_by == world.users[Role.CADRE]
    assert talks.mine.view == "changed"
    # Recording again corrects the record.
    with time_machine.travel(TODAY + dt.timedelta(hours=1), tick=False):
        again = record(client, talks.mine, talked_on="2021-10-19", view="unchanged").json()
    assert (again["talked_on"], again["view"], again["view_label"]) == (
        "2021-10-19", "unchanged", "未转变",
    )  # fmt: skip
    assert ThoughtWork.objects.count() == 3


def test_the_village_admin_stands_in_for_a_cadre_without_a_login(world, talks, api_as):
    with time_machine.travel(TODAY, tick=False):
        response = record(api_as(world.users[Role.VILLAGE_ADMIN]), talks.stand_in)

    assert response.status_code == 200, response.json()
    talks.stand_in.refresh_from_db()
    assert talks.stand_in.recorded_by == world.users[Role.VILLAGE_ADMIN]


@pytest.mark.parametrize(
    "role", [Role.TOWN_ADMIN, Role.LEADER, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_roles_that_do_not_talk_with_residents_are_refused(world, talks, api_as, role):
    before = _stored()

    with time_machine.travel(TODAY, tick=False):
        response = record(api_as(world.users[role]), talks.mine)

    assert assert_refused(response, 403)["detail"] == "只有走访该户的干部可以记录思想工作"
    assert _stored() == before


@pytest.mark.parametrize(
    ("role", "case"),
    [
        (Role.CADRE, "stand_in"),  # a colleague's household
        (Role.CADRE, "far"),  # another town's
        (Role.VILLAGE_ADMIN, "mine"),  # its cadre signs in and records it
    ],
)
def test_a_case_that_is_not_theirs_is_not_found(world, talks, api_as, role, case):
    before = _stored()

    with time_machine.travel(TODAY, tick=False):
        response = record(api_as(world.users[role]), getattr(talks, case))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert _stored() == before


def test_an_unknown_case_is_not_found(world, talks, api_as):
    response = api_as(world.users[Role.CADRE]).post("/talks/999999", {"notes": "x"})

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("body", "field_name", "message"),
    [
        ({"talked_on": "2021-10-21"}, "talked_on", "谈话日期不能晚于今天"),
        ({"talked_on": None}, "talked_on", "请填写谈话日期"),
        ({"notes": "   "}, "notes", "请简要记录谈话内容"),
        ({"view": ""}, "view", "请选择群众的看法是否转变"),
        ({"view": "better"}, "view", "请选择群众的看法是否转变"),
    ],
)
def test_an_incomplete_record_names_its_field(world, talks, api_as, body, field_name, message):
    before = _stored()

    with time_machine.travel(TODAY, tick=False):
        response = record(api_as(world.users[Role.CADRE]), talks.mine, **body)

    refused = assert_refused(response, 422)
    assert refused["detail"] == message
    assert refused["errors"] == [{"loc": ["body", field_name], "msg": message,
                                  "type": "concern_invalid"}]  # fmt: skip
    assert _stored() == before


@pytest.mark.parametrize(
    ("body", "field_name", "message"),
    [
        ({"talked_on": "昨天"}, "talked_on", "应为日期（YYYY-MM-DD）"),
        ({"notes": "谈" * 2001}, "notes", "长度不能超过 2000 个字符"),
    ],
)
def test_malformed_input_is_a_422_in_chinese(world, talks, api_as, body, field_name, message):
    with time_machine.travel(TODAY, tick=False):
        response = record(api_as(world.users[Role.CADRE]), talks.mine, **body)

    [error] = assert_refused(response, 422)["errors"]
    assert (error["loc"][-1], error["msg"]) == (field_name, message)
