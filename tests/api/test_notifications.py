"""`/api/v1/notifications`: the caller's own inbox, its pages, and marking notices read."""

import pytest

from pingan.accounts.models import Notification, Role
from pingan.accounts.notifications import notify
from pingan.ledger.models import Problem
from tests.ledger.conftest import Ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(world):
    """Three notices for the town admin (the newest first), one for the leader."""
    town = world.users[Role.TOWN_ADMIN]
    for n in range(3):
        notify(users=[town], kind="problem_report", title=f"第{n + 1}条", body="正文",
               link=f"/ledger/{n + 1}/", key=f"test:{n}")  # fmt: skip
    notify(users=[world.users[Role.LEADER]], kind="problem_extend_request", title="领导的",
           key="test:leader")  # fmt: skip
    return list(Notification.objects.filter(recipient=town))


def test_the_inbox_holds_only_the_callers_notices(world, inbox, api_as):
    response = api_as(world.users[Role.TOWN_ADMIN]).get("/notifications")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["unread"]) == (3, 3)
    assert [item["title"] for item in body["items"]] == ["第3条", "第2条", "第1条"]
    first = body["items"][0]
    assert first["id"] == inbox[0].pk
    assert (first["kind"], first["body"], first["link"]) == ("problem_report", "正文", "/ledger/3/")
    assert first["created_at"].endswith("+08:00")
    assert first["read_at"] is None
    leader = api_as(world.users[Role.LEADER]).get("/notifications").json()
    assert [item["title"] for item in leader["items"]] == ["领导的"]
    assert api_as(world.users[Role.CADRE]).get("/notifications").json() == {
        "items": [], "count": 0, "unread": 0}  # fmt: skip


def test_the_inbox_costs_the_same_queries_for_3_notices_or_40(
    world, inbox, api_as, django_assert_num_queries
):
    client = api_as(world.users[Role.TOWN_ADMIN])
    client.get("/notifications")  # the token's first use stamps it; later uses within 5 min don't
    with django_assert_num_queries(4):  # the token and its user, the page, the count, unread
        assert len(client.get("/notifications").json()["items"]) == 3
    town = world.users[Role.TOWN_ADMIN]
    for n in range(37):
        notify(users=[town], kind="problem_report", title=f"又一条{n}", key=f"more:{n}")
    with django_assert_num_queries(4):
        assert len(client.get("/notifications").json()["items"]) == 40


def test_pages_and_the_unread_filter(world, inbox, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])

    page = client.get("/notifications", limit=2, offset=1).json()
    assert [item["title"] for item in page["items"]] == ["第2条", "第1条"]
    assert (page["count"], page["unread"]) == (3, 3)
    client.post("/notifications/read", {"ids": [inbox[0].pk]})
    unread = client.get("/notifications", unread="true").json()
    assert [item["title"] for item in unread["items"]] == ["第2条", "第1条"]
    assert (unread["count"], unread["unread"]) == (2, 2)
    assert client.get("/notifications", limit=0).status_code == 422
    assert client.get("/notifications", limit=501).status_code == 422


def test_mark_some_then_all_read(world, inbox, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])

    some = client.post("/notifications/read", {"ids": [inbox[1].pk, inbox[2].pk]})

    assert some.status_code == 200
    assert some.json() == {"marked": 2}
    body = client.get("/notifications").json()
    assert body["unread"] == 1
    assert [item["read_at"] is not None for item in body["items"]] == [False, True, True]
    assert client.post("/notifications/read", {"ids": [inbox[1].pk]}).json() == {"marked": 0}
    assert client.post("/notifications/read").json() == {"marked": 1}
    assert client.get("/notifications").json()["unread"] == 0


def test_nobody_marks_anothers_notices(world, inbox, api_as):
    leader = api_as(world.users[Role.LEADER])

    response = leader.post("/notifications/read", {"ids": [n.pk for n in inbox]})

    assert response.json() == {"marked": 0}
    assert not Notification.objects.filter(pk__in=[n.pk for n in inbox], read_at__isnull=False)
    assert leader.post("/notifications/read", {}).json() == {"marked": 1}  # their own only
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


def test_a_wrong_body_is_refused_in_chinese(world, inbox, api_as):
    response = api_as(world.users[Role.TOWN_ADMIN]).post("/notifications/read", {"ids": "all"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "payload", "ids"], "msg": "应为列表", "type": "list_type"}
    ]
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_ledger_actions_reach_the_inbox(world, field, api_as):
    # Given a problem the town center dispatched to the police
    problem = Ledger(world, field, world.users).make(Problem.Status.DISPATCHED)

    body = api_as(world.users[Role.UNIT_HANDLER]).get("/notifications").json()

    [notice] = body["items"]
    assert notice["kind"] == "problem_dispatch"
    assert notice["title"].startswith(f"{problem.code} 交办，请于11月04日前办结")
    assert notice["link"] == f"/ledger/{problem.pk}/"
    assert body["unread"] == 1


def test_anonymous_gets_401(world, anonymous):
    assert anonymous.get("/notifications").status_code == 401
    assert anonymous.post("/notifications/read").status_code == 401
