"""Who, within a role, may act on a problem through the API: a unit only on what is
dispatched to it now, the village admin's verdict only when the visiting cadre cannot give
it; and a verdict sent with any other action changes nothing."""

import datetime as dt

import pytest

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput
from tests.api.conftest import ApiClient
from tests.factories import UnitFactory, make_user
from tests.ledger.conftest import Ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


def act(client: ApiClient, problem: Problem, action: str, **body):
    problem.refresh_from_db()
    return client.post(
        f"/problems/{problem.pk}/actions", {"action": action, "version": problem.version, **body}
    )


def test_a_unit_that_returned_a_problem_may_not_act_once_it_is_dispatched_elsewhere(
    world, ledger, api_as
):
    """The police return the problem, the town center dispatches it to the court: the police
    still see it (their return is in its history) but may no longer act on it."""
    problem = ledger.make(Problem.Status.DISPATCHED)
    court = UnitFactory(region=world.town, name="汝集司法所")
    with clock.at(dt.datetime(2021, 10, 22, 9, 0, tzinfo=clock.SHANGHAI)):
        ledger.act(problem, "return", Role.UNIT_HANDLER, ActionInput(reason="不归我们管"))
        ledger.act(problem, "dispatch", Role.TOWN_ADMIN,
                   ActionInput(unit_id=court.pk, severity="general"))  # fmt: skip
    problem.refresh_from_db()
    version = problem.version
    police = api_as(world.users[Role.UNIT_HANDLER])

    detail = police.get(f"/problems/{problem.pk}").json()
    assert (detail["status"], detail["unit"]["name"]) == ("dispatched", "汝集司法所")
    assert detail["actions"] == []
    response = act(police, problem, "handle", result="已处理")

    assert response.status_code == 403
    assert response.json()["detail"] == "该问题未交办给您的单位"
    problem.refresh_from_db()
    assert (problem.status, problem.unit_id, problem.version) == ("dispatched", court.pk, version)
    court_handler = make_user(Role.UNIT_HANDLER, world.town, unit=court, username="court")
    # the court may (too late to return it, two working days after 2021-10-22)
    assert api_as(court_handler).get(f"/problems/{problem.pk}").json()["actions"] == [
        "extend_request", "handle",
    ]  # fmt: skip


def test_the_village_admin_may_not_give_the_verdict_while_the_visiting_cadre_can(
    world, ledger, api_as
):
    problem = ledger.make(Problem.Status.HANDLED)  # the visiting cadre is active, with a login
    admin = api_as(world.users[Role.VILLAGE_ADMIN])

    assert admin.get(f"/problems/{problem.pk}").json()["actions"] == []
    response = act(admin, problem, "feedback", verdict="satisfied")

    assert response.status_code == 403
    assert response.json()["detail"] == "只有走访该户的干部可以反馈群众评价"
    problem.refresh_from_db()
    assert (problem.status, problem.verdict) == ("handled", "")


def test_a_verdict_sent_with_another_action_changes_nothing(world, ledger, api_as):
    problem = ledger.make(Problem.Status.DISPATCHED)

    response = act(api_as(world.users[Role.UNIT_HANDLER]), problem, "handle", result="已修复路灯",
                   verdict="satisfied")  # fmt: skip

    assert response.status_code == 200, response.json()
    problem.refresh_from_db()
    assert (problem.status, problem.result, problem.verdict) == ("handled", "已修复路灯", "")
