"""`/api/v1/concerns`: the concerns (反映) in each role's scope with their filters, one concern
with the town center's suggestion, phone and walk-in reports (once per client key), and the
batch triage (梳理) where every decision is answered on its own."""

import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest
import time_machine

from pingan.accounts.models import Role, User
from pingan.campaigns.models import ProblemCategory, RoutingRule
from pingan.core import clock
from pingan.ledger.models import Problem, ProblemConcern, ProblemEvent, ProblemReporter
from pingan.ledger.triage import Decision, concern_triage
from pingan.surveys.answers import AnswerIn
from pingan.visits.models import Concern, ConcernItem, ThoughtWork
from pingan.visits.services import ProblemIn, visit_sync
from tests.api.conftest import ApiClient
from tests.factories import make_campaign, make_user, visit_in

pytestmark = pytest.mark.django_db

SHANGHAI = clock.SHANGHAI
CHINESE = re.compile(r"[\u4e00-\u9fff]")
NOT_FOUND = {"detail": "请求的对象不存在或不在您的管辖范围内", "errors": []}
# Visits come in on the Monday morning; the calls after lunch.
SYNCED_AT = dt.datetime(2021, 10, 18, 10, 0, tzinfo=SHANGHAI)
CALLED_AT = dt.datetime(2021, 10, 18, 14, 0, tzinfo=SHANGHAI)
CALLER_PHONE = "13912345678"


@dataclass
class Intake:
    """Five concerns: `feeling` and `matter` from the field cadre's visits in 七营村, `call`
    phoned in for a colleague's household of 七营村, `walk_in` at the town center for 新桥村,
    and `far` in the other town (义门镇), with that town's admin `outsider`."""

    feeling: Concern
    matter: Concern
    call: Concern
    walk_in: Concern
    far: Concern
    outsider: User

    def by_key(self) -> dict[str, Concern]:
        return {key: getattr(self, key) for key in ("feeling", "matter", "call", "walk_in", "far")}


def make_intake(world, field) -> Intake:
    """The concerns of `Intake`, through the real services (a sync and phone reports)."""
    from pingan.visits.concerns import concern_report

    for town in (world.town, world.other_town):
        for order, name in enumerate(("治安", "基础设施", "矛盾纠纷")):
            ProblemCategory.objects.create(town=town, name=name, sort_order=order)
    cadre = world.users[Role.CADRE]
    with time_machine.travel(SYNCED_AT, tick=False):
        feeling, matter = visit_sync(
            actor=cadre,
            items=[
                visit_in(
                    field.households[0],
                    field.questionnaire,
                    answers=(
                        AnswerIn("safety", ("不太安全",)),
                        AnswerIn("police", ("满意",)),
                        AnswerIn("aware", ("知道",)),
                    ),
                ),
                visit_in(
                    field.households[1],
                    field.questionnaire,
                    answers=(
                        AnswerIn("safety", ("安全",)),
                        AnswerIn("nearby", ("赌博",)),
                        AnswerIn("police", ("满意",)),
                        AnswerIn("aware", ("知道",)),
                    ),
                    problems=(ProblemIn("村口路灯坏了三个月", "基础设施"),),
                ),
            ],
        )
    make_campaign(world.other_town, {world.faraway: 10})
    outsider = make_user(Role.TOWN_ADMIN, world.other_town, username="outsider")
    with time_machine.travel(CALLED_AT, tick=False):
        call = concern_report(
            actor=world.users[Role.VILLAGE_ADMIN],
            household_id=field.other_households[0].pk,
            text="邻居家的狗半夜总叫，协商不成",
            category="矛盾纠纷",
            caller_name="张三丰",
            callback_phone=CALLER_PHONE,
        )
        walk_in = concern_report(
            actor=world.users[Role.TOWN_ADMIN],
            village_id=world.xinqiao.pk,
            text="村东头桥栏杆断了",
            source="walk_in",
            category="基础设施",
        )
        far = concern_report(actor=outsider, village_id=world.faraway.pk, text="远方村路灯不亮")
    return Intake(
        Concern.objects.get(pk=feeling.concern_id),
        Concern.objects.get(pk=matter.concern_id),
        call,
        walk_in,
        far,
        outsider,
    )


@pytest.fixture
def intake(world, field) -> Intake:
    return make_intake(world, field)


def assert_refused(response, status: int) -> dict:
    assert response.status_code == status, response.json()
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert CHINESE.search(body["detail"]), body
    return body


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["items"]]


# --- Reading --------------------------------------------------------------------------------

IN_TOWN = ["feeling", "matter", "call", "walk_in"]
VISIBLE = {
    Role.TOWN_ADMIN: IN_TOWN,
    Role.LEADER: IN_TOWN,
    Role.COUNTY_VIEWER: IN_TOWN,
    Role.VILLAGE_ADMIN: ["feeling", "matter", "call"],  # 七营村's
    Role.CADRE: ["feeling", "matter"],  # their own visits, not a colleague's household
    Role.UNIT_HANDLER: [],  # a unit works on dispatched problems, not on concerns
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_list_and_detail_are_scoped(world, intake, api_as, role):
    client = api_as(world.users[role])
    concerns = intake.by_key()

    response = client.get("/concerns")

    assert ids(response) == [concerns[key].pk for key in VISIBLE[role]]  # oldest first
    assert response.json()["count"] == len(VISIBLE[role])
    for key, concern in concerns.items():
        detail = client.get(f"/concerns/{concern.pk}")
        if key in VISIBLE[role]:
            assert detail.status_code == 200
            assert detail.json()["id"] == concern.pk
        else:
            # Outside the scope answers exactly like a concern that does not exist.
            assert detail.json() == NOT_FOUND
            assert detail.status_code == 404


def test_another_town_sees_only_its_own(world, intake, api_as):
    client = api_as(intake.outsider)

    assert ids(client.get("/concerns")) == [intake.far.pk]
    assert client.get(f"/concerns/{intake.matter.pk}").json() == NOT_FOUND
    assert client.get("/concerns/999999").json() == NOT_FOUND


def test_a_visit_concern_shows_its_items_and_the_household_masked(world, field, intake, api_as):
    household = field.households[1]

    [item] = [
        row
        for row in api_as(world.users[Role.TOWN_ADMIN]).get("/concerns").json()["items"]
        if row["id"] == intake.matter.pk
    ]

    assert item["source"] == "visit"
    assert item["source_label"] == "走访"
    assert item["village"] == {"id": world.qiying.pk, "name": "七营村"}
    assert item["household"] == {
        "id": household.pk,
        "address": household.address,
        "head_name": household.head_name[0] + "*" * (len(household.head_name) - 1),
        "phone_masked": household.phone_masked,
    }
    assert household.head_name not in json.dumps(item, ensure_ascii=False)
    assert item["cadre"] == {"id": field.cadre.pk, "name": "王建国"}
    assert item["reported_at"] == "2021-10-18T10:00:00+08:00"
    assert [(i["kind"], i["kind_label"], i["category"], i["feeling"]) for i in item["items"]] == [
        ("answer", "问卷回答", "治安", False),
        ("matter", "反映事项", "基础设施", False),
    ]
    assert item["items"][1]["text"] == "村口路灯坏了三个月"
    assert (item["outcome"], item["outcome_label"], item["outcome_note"]) == ("", "", "")
    assert (item["decided_at"], item["version"]) == (None, 1)
    assert (item["problems"], item["thought_work_id"]) == ([], None)
    assert (item["caller_name"], item["callback_phone"]) == ("", "")
    assert "suggestion" not in item  # the list carries no suggestion, only the detail


def test_a_phone_concern_shows_the_caller_masked(world, intake, api_as):
    item = api_as(world.users[Role.VILLAGE_ADMIN]).get(f"/concerns/{intake.call.pk}").json()

    assert (item["source"], item["source_label"]) == ("phone", "来电")
    assert item["caller_name"] == "张**"
    assert item["callback_phone"] == "139****5678"
    text = json.dumps(item, ensure_ascii=False)
    assert "张三丰" not in text
    assert CALLER_PHONE not in text
    assert item["text"] == "邻居家的狗半夜总叫，协商不成"
    assert item["category"] == "矛盾纠纷"
    assert item["cadre"]["name"] == "李红"  # the household's visiting cadre takes the answer back
    assert item["suggestion"] is None  # only the town center is shown a suggestion


def test_a_triaged_concern_shows_its_outcome_problem_and_talk(world, intake, api_as):
    town = world.users[Role.TOWN_ADMIN]
    with time_machine.travel(dt.datetime(2021, 10, 19, 9, 30, tzinfo=SHANGHAI), tick=False):
        filed = concern_triage(actor=town, decision=Decision(intake.matter.pk, 1, "file"))
        talked = concern_triage(actor=town, decision=Decision(intake.feeling.pk, 1, "talk",
                                                              reason="只是感觉"))  # fmt: skip
    client = api_as(world.users[Role.CADRE])

    matter = client.get(f"/concerns/{intake.matter.pk}").json()
    feeling = client.get(f"/concerns/{intake.feeling.pk}").json()

    assert (matter["outcome"], matter["outcome_label"]) == ("file", "立案")
    assert matter["decided_at"] == "2021-10-19T09:30:00+08:00"
    assert matter["version"] == 2
    assert matter["problems"] == [{"id": filed.problem_id, "code": filed.problem_code}]
    assert (feeling["outcome"], feeling["outcome_label"]) == ("talk", "思想工作")
    assert feeling["outcome_note"] == "只是感觉"
    assert feeling["thought_work_id"] == talked.thought_work_id is not None
    assert feeling["problems"] == []


def test_filters(world, intake, api_as):
    town = world.users[Role.TOWN_ADMIN]
    concern_triage(actor=town, decision=Decision(intake.matter.pk, 1, "file"))
    concern_triage(actor=town, decision=Decision(intake.walk_in.pk, 1, "decline", reason="已修好"))
    client = api_as(town)

    assert ids(client.get("/concerns", status="untriaged")) == [
        intake.feeling.pk,
        intake.call.pk,
    ]
    assert ids(client.get("/concerns", status="triaged")) == [intake.matter.pk, intake.walk_in.pk]
    assert ids(client.get("/concerns", status="decline")) == [intake.walk_in.pk]
    assert ids(client.get("/concerns", status="merge")) == []
    assert ids(client.get("/concerns", village_id=world.xinqiao.pk)) == [intake.walk_in.pk]
    assert ids(client.get("/concerns", village_id=world.faraway.pk)) == []  # not theirs
    assert ids(client.get("/concerns", category="矛盾纠纷")) == [intake.call.pk]
    assert ids(client.get("/concerns", source="visit")) == [intake.feeling.pk, intake.matter.pk]
    assert ids(client.get("/concerns", source="walk_in")) == [intake.walk_in.pk]
    # since: with a time zone, or without one in Beijing time
    assert ids(client.get("/concerns", since="2021-10-18T06:00:00+00:00")) == [
        intake.call.pk,
        intake.walk_in.pk,
    ]
    assert ids(client.get("/concerns", since="2021-10-18T14:00:00")) == [
        intake.call.pk,
        intake.walk_in.pk,
    ]
    assert ids(client.get("/concerns", since="2021-10-18T14:00:01")) == []
    assert ids(client.get("/concerns", status="untriaged", source="phone")) == [intake.call.pk]


@pytest.mark.parametrize(
    ("params", "field_name"),
    [
        ({"status": "closed"}, "status"),
        ({"source": "sms"}, "source"),
        ({"since": "昨天"}, "since"),
        ({"village_id": "七营"}, "village_id"),
        ({"limit": 501}, "limit"),
    ],
)
def test_a_bad_filter_is_a_422_in_chinese(world, intake, api_as, params, field_name):
    body = assert_refused(api_as(world.users[Role.TOWN_ADMIN]).get("/concerns", **params), 422)

    [error] = body["errors"]
    assert error["loc"][-1] == field_name
    assert CHINESE.search(error["msg"]), error


def test_pages(world, intake, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])

    first = client.get("/concerns", limit=3).json()
    rest = client.get("/concerns", limit=3, offset=3).json()

    assert first["count"] == rest["count"] == 4
    assert [c["id"] for c in first["items"] + rest["items"]] == [
        intake.feeling.pk,
        intake.matter.pk,
        intake.call.pk,
        intake.walk_in.pk,
    ]


def _more_concerns(world, field, n: int) -> None:
    """`n` more concerns, every other one triaged (a problem or a talk) so each row has
    everything the list shows."""
    from pingan.visits.concerns import concern_report

    town = world.users[Role.TOWN_ADMIN]
    for i in range(n):
        concern = concern_report(
            actor=town,
            household_id=field.households[i % 3].pk,
            text=f"第{i}件事：路灯坏了",
            caller_name="王五",
            callback_phone=CALLER_PHONE,
        )
        if i % 2:
            outcome = "file" if i % 4 == 1 else "talk"
            concern_triage(actor=town, decision=Decision(concern.pk, 1, outcome))


@pytest.mark.parametrize("role", [Role.TOWN_ADMIN, Role.CADRE])
def test_list_is_a_fixed_number_of_queries(world, field, intake, api_as,
                                           django_assert_num_queries, role):  # fmt: skip
    client = api_as(world.users[role])
    client.get("/me")  # the token's first use records it; later requests only read it
    # the token, the count, a page of rows with village, household, cadre and talk, the
    # rows' items, their linked problems
    for more in (4, 12):
        _more_concerns(world, field, more)
        with django_assert_num_queries(5):
            response = client.get("/concerns")
        items = response.json()["items"]
        assert len(items) >= 6
        assert any(item["problems"] for item in items)
        assert any(item["thought_work_id"] for item in items)


def test_the_detail_is_a_fixed_number_of_queries(world, intake, api_as,
                                                 django_assert_num_queries):  # fmt: skip
    client = api_as(world.users[Role.VILLAGE_ADMIN])
    client.get("/me")

    # the token, the concern with village, household, cadre and talk, its items, its problems
    with django_assert_num_queries(4):
        assert client.get(f"/concerns/{intake.matter.pk}").status_code == 200


# --- The town center's suggestion -------------------------------------------------------------


def test_the_town_center_sees_a_suggestion_with_rule_unit_and_candidates(world, field, intake,
                                                                         api_as):  # fmt: skip
    RoutingRule.objects.create(town=world.town, keywords="赌博、吸毒", category="治安",
                               unit=world.police, priority=1)  # fmt: skip
    client = api_as(world.users[Role.TOWN_ADMIN])

    feeling = client.get(f"/concerns/{intake.feeling.pk}").json()["suggestion"]
    matter = client.get(f"/concerns/{intake.matter.pk}").json()["suggestion"]

    assert (feeling["outcome"], feeling["outcome_label"]) == ("talk", "思想工作")
    assert "不太安全" in feeling["reason"]
    assert feeling["candidates"] == []
    assert (matter["outcome"], matter["outcome_label"]) == ("file", "立案")
    assert matter["category"] == "治安"
    assert matter["unit"] == {"id": world.police.pk, "name": "汝集派出所"}
    assert "赌博" in matter["reason"]


def test_a_similar_open_problem_is_suggested_for_merging(world, field, intake, api_as):
    town = world.users[Role.TOWN_ADMIN]
    filed = concern_triage(actor=town, decision=Decision(intake.matter.pk, 1, "file"))
    # the same matter phoned in by the neighbour
    from pingan.visits.concerns import concern_report

    again = concern_report(actor=town, household_id=field.households[2].pk,
                           text="赌博；村口路灯坏了三个月", category="基础设施")  # fmt: skip

    suggestion = api_as(town).get(f"/concerns/{again.pk}").json()["suggestion"]

    assert suggestion["outcome"] == "merge"
    best = suggestion["candidates"][0]
    assert (best["problem_id"], best["code"]) == (filed.problem_id, filed.problem_code)
    assert (best["status"], best["status_label"]) == ("accepted", "已受理")
    assert best["village_id"] == world.qiying.pk
    assert best["version"] == Problem.objects.get(pk=filed.problem_id).version
    assert best["score"] >= 70
    assert 0 <= best["text_score"] <= 100
    assert filed.problem_code in suggestion["reason"]


def test_a_triaged_concern_has_no_suggestion(world, intake, api_as):
    town = world.users[Role.TOWN_ADMIN]
    concern_triage(actor=town, decision=Decision(intake.feeling.pk, 1, "talk"))

    assert api_as(town).get(f"/concerns/{intake.feeling.pk}").json()["suggestion"] is None


# --- Phone and walk-in reports ----------------------------------------------------------------


def report(client: ApiClient, **body):
    return client.post("/concerns", body)


def test_the_town_center_reports_a_call_for_a_village(world, intake, api_as):
    town = world.users[Role.TOWN_ADMIN]
    at = dt.datetime(2021, 10, 20, 8, 15, tzinfo=SHANGHAI)

    with time_machine.travel(at, tick=False):
        response = report(
            api_as(town),
            village_id=world.xinqiao.pk,
            text="  夜里有人在河边电鱼  ",
            category="治安",
            caller_name="赵六",
            callback_phone="139 1234 5678",
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    concern = Concern.objects.get(pk=body["id"])
    assert (concern.village, concern.household, concern.reported_by) == (world.xinqiao, None, town)
    assert (body["source"], body["text"], body["category"]) == (
        "phone",
        "夜里有人在河边电鱼",
        "治安",
    )
    assert (body["caller_name"], body["callback_phone"]) == ("赵*", "139****5678")
    assert body["reported_at"] == "2021-10-20T08:15:00+08:00"
    assert [(i["kind"], i["text"]) for i in body["items"]] == [("matter", "夜里有人在河边电鱼")]
    assert (body["outcome"], body["version"]) == ("", 1)
    assert body["suggestion"]["outcome"] == "file"  # the town center triages it next


def test_a_cadre_reports_a_walk_in_for_their_own_household(world, field, intake, api_as):
    response = report(api_as(world.users[Role.CADRE]), household_id=field.households[0].pk,
                      text="家门口的水沟堵了", source="walk_in")  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["source"], body["source_label"]) == ("walk_in", "来访")
    assert body["household"]["id"] == field.households[0].pk
    assert body["cadre"] == {"id": field.cadre.pk, "name": "王建国"}
    assert body["suggestion"] is None
    assert Concern.objects.get(pk=body["id"]).reported_by == world.users[Role.CADRE]


@pytest.mark.parametrize("role", [Role.LEADER, Role.UNIT_HANDLER, Role.COUNTY_VIEWER])
def test_roles_that_do_not_take_calls_are_refused(world, intake, api_as, role):
    before = Concern.objects.count()

    response = report(api_as(world.users[role]), village_id=world.qiying.pk, text="路灯坏了")

    assert assert_refused(response, 403)["detail"] == "您的角色无权登记群众反映"
    assert Concern.objects.count() == before


@pytest.mark.parametrize(
    ("role", "body", "field_name", "message"),
    [
        (Role.TOWN_ADMIN, lambda w, f: {"village_id": 0}, "village_id", "请选择村（社区）"),
        (Role.TOWN_ADMIN, lambda w, f: {}, "village_id", "请选择村（社区）"),
        (Role.VILLAGE_ADMIN, lambda w, f: {"village_id": w.xinqiao.pk}, "village_id",
         "请选择村（社区）"),
        (Role.TOWN_ADMIN, lambda w, f: {"village_id": w.faraway.pk}, "village_id",
         "请选择村（社区）"),
        (Role.CADRE, lambda w, f: {"household_id": f.other_households[0].pk}, "household_id",
         "住户不存在或不在您的管辖范围内"),
        (Role.CADRE, lambda w, f: {}, "household_id", "请选择反映问题的住户"),
        (Role.TOWN_ADMIN, lambda w, f: {"village_id": w.qiying.pk, "text": "   "}, "text",
         "请填写反映的内容"),
        (Role.TOWN_ADMIN, lambda w, f: {"village_id": w.qiying.pk, "category": "环保"},
         "category", "类别“环保”不在本镇的类别表中"),
        (Role.TOWN_ADMIN, lambda w, f: {"village_id": w.qiying.pk, "callback_phone": "12345"},
         "callback_phone", None),
        (Role.TOWN_ADMIN, lambda w, f: {"village_id": w.xinqiao.pk,
                                        "household_id": f.households[0].pk},
         "village_id", "住户不属于所选村"),
    ],
)  # fmt: skip
def test_a_report_the_service_refuses_names_its_field(world, field, intake, api_as, role, body,
                                                      field_name, message):  # fmt: skip
    before = Concern.objects.count()

    response = report(api_as(world.users[role]), **({"text": "路灯坏了"} | body(world, field)))

    refused = assert_refused(response, 422)
    if message:
        assert refused["detail"] == message
    [error] = refused["errors"]
    assert error["loc"] == ["body", field_name]
    assert error["msg"] == refused["detail"]
    assert Concern.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field_name", "message"),
    [
        ({}, "text", "缺少必填字段"),
        ({"text": ""}, "text", "长度不能少于 1 个字符"),
        ({"text": "路" * 2001}, "text", "长度不能超过 2000 个字符"),
        ({"text": "路灯坏了", "source": "visit"}, "source", "来源只能是：phone（来电）、walk_in（来访）"),
        ({"text": "路灯坏了", "caller_name": "王" * 33}, "caller_name", "长度不能超过 32 个字符"),
        ({"text": "路灯坏了", "client_key": "k" * 65}, "client_key", "长度不能超过 64 个字符"),
    ],
)  # fmt: skip
def test_an_invalid_report_is_a_422_in_chinese(world, intake, api_as, body, field_name, message):
    body = {"village_id": world.qiying.pk, **body}

    refused = assert_refused(report(api_as(world.users[Role.TOWN_ADMIN]), **body), 422)

    assert refused["detail"] == "请求数据有误"
    [error] = refused["errors"]
    assert error["loc"][-1] == field_name
    assert error["msg"] == message


def test_the_same_client_key_records_one_concern(world, intake, api_as):
    client = api_as(world.users[Role.VILLAGE_ADMIN])
    body = {"village_id": world.qiying.pk, "text": "路灯坏了", "client_key": "phone-7f3a"}

    first = report(client, **body)
    again = report(client, **body)

    assert first.status_code == 201, first.json()
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    assert Concern.objects.filter(client_key="phone-7f3a").count() == 1
    # another user's key is their own
    other = report(api_as(world.users[Role.TOWN_ADMIN]), **body)
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    # without a key, every post is a new report
    plain = {"village_id": world.qiying.pk, "text": "路灯坏了"}
    assert report(client, **plain).json()["id"] != report(client, **plain).json()["id"]


def test_a_client_key_reused_for_another_report_is_a_conflict(world, intake, api_as):
    client = api_as(world.users[Role.VILLAGE_ADMIN])
    report(client, village_id=world.qiying.pk, text="路灯坏了", client_key="k1")
    before = Concern.objects.count()

    conflict = report(client, village_id=world.qiying.pk, text="水沟堵了", client_key="k1")

    body = assert_refused(conflict, 409)
    assert body["errors"][0]["loc"] == ["body", "client_key"]
    assert Concern.objects.count() == before


def test_a_request_racing_with_the_same_key_gets_the_first_concern(world, intake, api_as,
                                                                   monkeypatch):  # fmt: skip
    """Two requests with one key, both past the lookup before either wrote: the database's
    unique constraint stops the second, which answers with the first one's concern."""
    from pingan.api.routers import concerns as router

    client = api_as(world.users[Role.VILLAGE_ADMIN])
    body = {"village_id": world.qiying.pk, "text": "路灯坏了", "client_key": "race"}
    first = report(client, **body).json()
    real = router._keyed
    calls = []

    def late(actor, key):  # the first lookup ran before the other request committed
        calls.append(key)
        return None if len(calls) == 1 else real(actor, key)

    monkeypatch.setattr(router, "_keyed", late)
    before = (Concern.objects.count(), ConcernItem.objects.count())

    second = report(client, **body)

    assert second.status_code == 200, second.json()
    assert second.json()["id"] == first["id"]
    assert len(calls) == 2
    assert (Concern.objects.count(), ConcernItem.objects.count()) == before


# --- Triage -----------------------------------------------------------------------------------


def triage(client: ApiClient, decisions: list):
    return client.post("/concerns/triage", {"decisions": decisions})


def _written() -> tuple:
    """Everything triage writes."""
    return (
        list(Concern.objects.order_by("pk").values_list("pk", "outcome", "version", "decided_at")),
        Problem.objects.count(),
        ProblemReporter.objects.count(),
        ProblemConcern.objects.count(),
        ProblemEvent.objects.count(),
        ThoughtWork.objects.count(),
    )


def test_a_mixed_batch_answers_every_decision_on_its_own(world, intake, api_as):
    town = world.users[Role.TOWN_ADMIN]
    # Given the walk-in declined by a colleague after this user loaded it (version 1 → 2)
    concern_triage(actor=town, decision=Decision(intake.walk_in.pk, 1, "decline", reason="已修"))
    batch = [
        {"concern_id": intake.feeling.pk, "version": 1, "outcome": "talk"},
        {"concern_id": intake.walk_in.pk, "version": 1, "outcome": "file"},  # stale
        {"concern_id": intake.far.pk, "version": 1, "outcome": "talk"},  # another town's
        {"concern_id": intake.call.pk, "version": 1, "outcome": "decline"},  # no reason
        {"concern_id": intake.matter.pk, "outcome": "file"},  # no version
        {"concern_id": intake.matter.pk, "version": 1, "outcome": "file",
         "unit_id": world.police.pk, "severity": "general"},
    ]  # fmt: skip
    client = api_as(town)

    with time_machine.travel(dt.datetime(2021, 10, 19, 9, 0, tzinfo=SHANGHAI), tick=False):
        response = triage(client, batch)

    assert response.status_code == 200, response.json()
    body = response.json()
    results = body["results"]
    assert [(r["concern_id"], r["status"], r["http_status"]) for r in results] == [
        (intake.feeling.pk, "done", 200),
        (intake.walk_in.pk, "refused", 409),
        (intake.far.pk, "refused", 404),
        (intake.call.pk, "refused", 422),
        (intake.matter.pk, "refused", 422),
        (intake.matter.pk, "done", 200),
    ]
    assert body["summary"] == {"done": 2, "duplicate": 0, "refused": 4}
    talk, stale, far, no_reason, no_version, filed = results
    work = ThoughtWork.objects.get(concern=intake.feeling)
    assert talk == {
        "concern_id": intake.feeling.pk, "status": "done", "http_status": 200, "detail": "",
        "field": "", "outcome": "talk", "problem_id": None, "problem_code": "",
        "thought_work_id": work.pk,
    }  # fmt: skip
    assert "已被他人处理" in stale["detail"]
    assert "不予立案" in stale["detail"]
    assert far["detail"] == "反映不存在或不在您的管辖范围内"
    assert (no_reason["detail"], no_reason["field"]) == ("不予立案须写明理由", "reason")
    assert no_version["field"] == "version"
    assert "缺少必填字段" in no_version["detail"]
    problem = Problem.objects.get(pk=filed["problem_id"])
    assert (filed["outcome"], filed["problem_code"]) == ("file", problem.code)
    assert (problem.status, problem.unit, problem.severity) == ("dispatched", world.police,
                                                                "general")  # fmt: skip
    # Only the two decisions that went through wrote anything.
    intake.call.refresh_from_db()
    intake.walk_in.refresh_from_db()
    intake.far.refresh_from_db()
    assert (intake.call.outcome, intake.call.version) == ("", 1)
    assert (intake.walk_in.outcome, intake.walk_in.version) == ("decline", 2)
    assert (intake.far.outcome, intake.far.version) == ("", 1)
    # Sent again (a retry after a lost answer): the done ones are duplicates, nothing is written.
    before = _written()

    again = triage(client, batch).json()

    assert [(r["status"], r["http_status"]) for r in again["results"]] == [
        ("duplicate", 200), ("refused", 409), ("refused", 404), ("refused", 422),
        ("refused", 422), ("duplicate", 200),
    ]  # fmt: skip
    assert again["summary"] == {"done": 0, "duplicate": 2, "refused": 4}
    assert again["results"][0]["thought_work_id"] == work.pk
    assert (again["results"][5]["problem_id"], again["results"][5]["problem_code"]) == (
        problem.pk, problem.code,
    )  # fmt: skip
    assert _written() == before


def test_merge_joins_the_household_to_an_open_problem(world, field, intake, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])
    filed = triage(client, [{"concern_id": intake.matter.pk, "version": 1, "outcome": "file"}])
    problem_id = filed.json()["results"][0]["problem_id"]

    merged = triage(client, [{"concern_id": intake.call.pk, "version": 1, "outcome": "merge",
                              "problem_id": problem_id}]).json()["results"][0]  # fmt: skip

    assert (merged["status"], merged["outcome"], merged["problem_id"]) == (
        "done", "merge", problem_id,
    )  # fmt: skip
    assert set(
        ProblemReporter.objects.filter(problem_id=problem_id).values_list("household", flat=True)
    ) == {field.households[1].pk, field.other_households[0].pk}
    shown = client.get(f"/concerns/{intake.call.pk}").json()
    assert shown["problems"] == [{"id": problem_id, "code": merged["problem_code"]}]


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_only_the_town_center_triages(world, intake, api_as, role):
    before = _written()

    response = triage(
        api_as(world.users[role]),
        [{"concern_id": intake.feeling.pk, "version": 1, "outcome": "talk"}],
    )

    assert assert_refused(response, 403)["detail"] == "只有镇综治中心可以梳理群众反映"
    assert _written() == before


def test_a_batch_over_the_limit_is_refused_whole(world, intake, api_as):
    decision = {"concern_id": intake.feeling.pk, "version": 1, "outcome": "talk"}
    before = _written()

    response = triage(api_as(world.users[Role.TOWN_ADMIN]), [decision] * 201)

    body = assert_refused(response, 422)
    assert body["errors"][0]["msg"] == "最多允许 200 项"
    assert body["errors"][0]["loc"][-1] == "decisions"
    assert _written() == before
    # …while 200 is allowed: the first decides, the 199 others repeat it
    full = triage(api_as(world.users[Role.TOWN_ADMIN]), [decision] * 200).json()
    assert full["summary"] == {"done": 1, "duplicate": 199, "refused": 0}


@pytest.mark.parametrize(
    ("decision", "field_name"),
    [
        ("not an object", ""),
        ({"concern_id": "七", "version": 1, "outcome": "talk"}, "concern_id"),
        ({"version": 1, "outcome": "talk"}, "concern_id"),
        ({"concern_id": 1, "version": 0, "outcome": "talk"}, "version"),
        ({"concern_id": 1, "version": 1}, "outcome"),
        ({"concern_id": 1, "version": 1, "outcome": "talk", "reason": "理" * 501}, "reason"),
    ],
)
def test_a_malformed_decision_is_refused_alone(world, intake, api_as, decision, field_name):
    good = {"concern_id": intake.feeling.pk, "version": 1, "outcome": "talk"}

    body = triage(api_as(world.users[Role.TOWN_ADMIN]), [decision, good]).json()

    refused, done = body["results"]
    assert (refused["status"], refused["http_status"], refused["field"]) == (
        "refused", 422, field_name,
    )  # fmt: skip
    assert refused["detail"].startswith("该条梳理数据有误")
    assert refused["concern_id"] == (decision.get("concern_id") if isinstance(decision, dict)
                                     and isinstance(decision.get("concern_id"), int) else None)  # fmt: skip
    assert done["status"] == "done"


def test_an_unknown_outcome_is_refused_in_chinese(world, intake, api_as):
    [result] = triage(
        api_as(world.users[Role.TOWN_ADMIN]),
        [{"concern_id": intake.feeling.pk, "version": 1, "outcome": "close"}],
    ).json()["results"]

    assert (result["status"], result["http_status"], result["field"]) == ("refused", 422,
                                                                          "outcome")  # fmt: skip
    assert result["detail"] == "请选择梳理结果：立案、并案、思想工作或不予立案"


def test_triage_needs_a_signed_in_caller(world, intake, anonymous):
    before = _written()

    response = anonymous.post("/concerns/triage", {"decisions": []})

    assert assert_refused(response, 401)["detail"] == "未登录或登录已失效"
    assert anonymous.get("/concerns").status_code == 401
    assert _written() == before
