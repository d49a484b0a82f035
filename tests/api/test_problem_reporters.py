"""A problem with several reporting households (并案): `GET /problems/{id}/reporters`, each
household's feedback, failed contact and the leader's confirmation through
`POST /problems/{id}/actions` with `reporter_id`, and `reporters_waiting` on the problem."""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from pingan.accounts.models import Person, Role
from pingan.core import clock
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.services import ActionInput, problem_act
from pingan.ledger.triage import Decision, concern_triage
from tests.api.conftest import ApiClient
from tests.api.test_concerns import NOT_FOUND, Intake, assert_refused, make_intake

pytestmark = pytest.mark.django_db

SHANGHAI = clock.SHANGHAI
FILED_AT = dt.datetime(2021, 10, 19, 9, 0, tzinfo=SHANGHAI)
HANDLED_AT = dt.datetime(2021, 10, 22, 15, 0, tzinfo=SHANGHAI)
FEEDBACK_AT = dt.datetime(2021, 10, 25, 10, 0, tzinfo=SHANGHAI)


@dataclass
class Merged:
    """One problem filed from the field cadre's household (`mine`) and joined by a colleague's
    household (`stand_in`, its cadre has no login: the village admin stands in), dispatched to
    the police and handled."""

    intake: Intake
    problem: Problem
    mine: ProblemReporter
    stand_in: ProblemReporter


@pytest.fixture
def merged(world, field) -> Merged:
    intake = make_intake(world, field)
    town = world.users[Role.TOWN_ADMIN]
    with time_machine.travel(FILED_AT, tick=False):
        filed = concern_triage(actor=town, decision=Decision(
            intake.matter.pk, 1, "file", unit_id=world.police.pk, severity="general"))  # fmt: skip
    with time_machine.travel(FILED_AT + dt.timedelta(hours=1), tick=False):
        concern_triage(actor=town, decision=Decision(intake.call.pk, 1, "merge",
                                                     problem_id=filed.problem_id))  # fmt: skip
    problem = Problem.objects.get(pk=filed.problem_id)
    with time_machine.travel(HANDLED_AT, tick=False):
        problem_act(actor=world.users[Role.UNIT_HANDLER], problem_id=problem.pk, action="handle",
                    version=problem.version, data=ActionInput(result="已清理赌博窝点，路灯已修"))  # fmt: skip
    problem.refresh_from_db()
    mine, stand_in = problem.reporters.order_by("added_at", "id")
    return Merged(intake, problem, mine, stand_in)


def act(client: ApiClient, problem: Problem, action: str, **body):
    problem.refresh_from_db()
    with time_machine.travel(FEEDBACK_AT, tick=False):
        return client.post(
            f"/problems/{problem.pk}/actions",
            {"action": action, "version": problem.version, **body},
        )


def reporters(client: ApiClient, problem: Problem) -> list[dict]:
    response = client.get(f"/problems/{problem.pk}/reporters")
    assert response.status_code == 200, response.json()
    return response.json()["items"]


# --- Reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_that_sees_the_problem_sees_its_reporters(world, merged, api_as, role):
    listed = reporters(api_as(world.users[role]), merged.problem)

    assert [r["id"] for r in listed] == [merged.mine.pk, merged.stand_in.pk]


def test_outside_the_scope_the_reporters_are_not_found(world, merged, api_as):
    client = api_as(merged.intake.outsider)

    response = client.get(f"/problems/{merged.problem.pk}/reporters")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert client.get("/problems/999999/reporters").json() == NOT_FOUND


def test_a_reporter_shows_its_household_masked_and_its_state(world, field, merged, api_as):
    household = field.other_households[0]

    _, row = reporters(api_as(world.users[Role.TOWN_ADMIN]), merged.problem)

    assert row == {
        "id": merged.stand_in.pk,
        "village": {"id": world.qiying.pk, "name": "七营村"},
        "household": {
            "id": household.pk,
            "address": household.address,
            "head_name": household.head_name[0] + "*" * (len(household.head_name) - 1),
            "phone_masked": household.phone_masked,
        },
        "cadre": {"id": Person.objects.get(name="李红").pk, "name": "李红"},
        "verdict": "",
        "verdict_label": "",
        "tries": 0,
        "note": "",
        "feedback_at": None,
        "unreachable_confirmed_at": None,
        "done": False,
    }


def test_the_problem_says_how_many_households_wait(world, merged, api_as):
    client = api_as(world.users[Role.TOWN_ADMIN])

    detail = client.get(f"/problems/{merged.problem.pk}").json()
    [row] = client.get("/problems").json()["items"]

    assert detail["reporters_waiting"] == row["reporters_waiting"] == 2
    assert detail["status"] == "handled"


def test_the_reporters_are_a_fixed_number_of_queries(world, merged, api_as,
                                                     django_assert_num_queries):  # fmt: skip
    client = api_as(world.users[Role.CADRE])
    client.get("/me")

    # the token, the problem in scope, the count, the page with village, household and cadre
    with django_assert_num_queries(4):
        assert len(reporters(client, merged.problem)) == 2


# --- Feedback household by household ----------------------------------------------------------


def test_each_household_gives_its_verdict_and_the_last_one_closes(world, merged, api_as):
    cadre = api_as(world.users[Role.CADRE])
    village = api_as(world.users[Role.VILLAGE_ADMIN])
    leader = api_as(world.users[Role.LEADER])

    # The cadre's household is satisfied: the problem still waits for the other one.
    satisfied = act(cadre, merged.problem, "feedback", verdict="satisfied",
                    reporter_id=merged.mine.pk)  # fmt: skip
    assert satisfied.status_code == 200, satisfied.json()
    assert (satisfied.json()["status"], satisfied.json()["reporters_waiting"]) == ("handled", 1)
    mine = reporters(cadre, merged.problem)[0]
    assert (mine["verdict"], mine["verdict_label"], mine["done"]) == ("satisfied", "满意", True)
    assert mine["feedback_at"] == "2021-10-25T10:00:00+08:00"

    # The other household cannot be reached: three tries, recorded by the village admin.
    for tries in (1, 2, 3):
        failed = act(village, merged.problem, "contact_failed", reporter_id=merged.stand_in.pk)
        assert failed.status_code == 200, failed.json()
        assert failed.json()["status"] == "handled"
        assert reporters(village, merged.problem)[1]["tries"] == tries

    # The leader confirms it: nobody waits any more, the problem closes.
    closed = act(leader, merged.problem, "confirm_unreachable", reporter_id=merged.stand_in.pk)
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert (body["status"], body["reporters_waiting"], body["verdict"]) == (
        "closed", 0, "satisfied",
    )  # fmt: skip
    stand_in = reporters(leader, merged.problem)[1]
    assert stand_in["unreachable_confirmed_at"] == "2021-10-25T10:00:00+08:00"
    assert (stand_in["done"], stand_in["verdict"], stand_in["tries"]) == (True, "", 3)


def test_one_dissatisfied_household_sends_the_problem_back(world, merged, api_as):
    cadre = api_as(world.users[Role.CADRE])

    response = act(cadre, merged.problem, "feedback", verdict="dissatisfied",
                   reason="路灯又坏了", reporter_id=merged.mine.pk)  # fmt: skip

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["redo_count"], body["reporters_waiting"]) == ("dispatched", 1, 2)
    assert [r["done"] for r in reporters(cadre, merged.problem)] == [False, False]


def test_without_reporter_id_two_waiting_households_are_ambiguous(world, merged, api_as):
    response = act(api_as(world.users[Role.CADRE]), merged.problem, "feedback",
                   verdict="satisfied")  # fmt: skip

    body = assert_refused(response, 422)
    assert body["detail"] == "请选择反映户"
    assert body["errors"][0]["loc"] == ["body", "reporter_id"]


def test_a_cadre_gives_no_verdict_for_a_colleagues_household(world, merged, api_as):
    response = act(api_as(world.users[Role.CADRE]), merged.problem, "feedback",
                   verdict="satisfied", reporter_id=merged.stand_in.pk)  # fmt: skip

    assert assert_refused(response, 403)["detail"] == "只有走访该户的干部可以反馈群众评价"


def test_the_leader_confirms_only_after_three_tries(world, merged, api_as):
    village = api_as(world.users[Role.VILLAGE_ADMIN])
    act(village, merged.problem, "contact_failed", reporter_id=merged.stand_in.pk)

    response = act(api_as(world.users[Role.LEADER]), merged.problem, "confirm_unreachable",
                   reporter_id=merged.stand_in.pk)  # fmt: skip

    body = assert_refused(response, 422)
    assert "满 3 次" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "reporter_id"]


@pytest.mark.parametrize("whose", ["done", "another problem's", "unknown"])
def test_a_reporter_that_does_not_wait_is_refused(world, field, merged, ledger_problem, api_as,
                                                  whose):  # fmt: skip
    cadre = api_as(world.users[Role.CADRE])
    act(cadre, merged.problem, "feedback", verdict="satisfied", reporter_id=merged.mine.pk)
    reporter_id = {
        "done": merged.mine.pk,
        "another problem's": ledger_problem.reporters.get().pk,
        "unknown": 999999,
    }[whose]

    response = act(cadre, merged.problem, "contact_failed", reporter_id=reporter_id)

    body = assert_refused(response, 422)
    assert body["detail"] == "该反映户不在等待反馈之列"
    assert body["errors"][0]["loc"] == ["body", "reporter_id"]


@pytest.fixture
def ledger_problem(world, field, merged) -> Problem:
    """Another problem of the cadre's, with its own reporting household."""
    from pingan.visits.concerns import concern_report

    town = world.users[Role.TOWN_ADMIN]
    concern = concern_report(actor=town, household_id=field.households[2].pk, text="井盖丢了")
    filed = concern_triage(actor=town, decision=Decision(concern.pk, 1, "file"))
    return Problem.objects.get(pk=filed.problem_id)
