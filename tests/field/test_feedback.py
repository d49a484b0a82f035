"""反馈群众 on the cadre's phone: the handled problems with their result, and the resident's
verdict, which closes the problem (满意) or sends it back to the unit (不满意)."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem
from pingan.ledger.services import ActionInput, problem_report
from tests.ledger.conftest import REPORTED_AT, Ledger

NEXT_DAY = dt.datetime(2021, 10, 22, 9, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


@pytest.fixture
def cadre_client(world, field) -> Client:
    client = Client()
    client.force_login(world.users[Role.CADRE])
    with time_machine.travel(NEXT_DAY, tick=False):
        yield client


def _html(response) -> str:
    return response.content.decode()


def _card(html: str, problem: Problem) -> str:
    start = html.index(f'id="problem-{problem.pk}"')
    end = html.find('class="feedback-card"', start + 1)
    return html[start : end if end != -1 else len(html)]


def _verdict(client, problem: Problem, verdict: str, reason: str = "", version=None):
    problem.refresh_from_db()
    return client.post(
        reverse("field:feedback_record", args=[problem.pk]),
        {"action": "feedback", "version": version or problem.version, "verdict": verdict,
         "reason": reason},
    )  # fmt: skip


def test_home_shows_how_many_wait_for_feedback(ledger, cadre_client):
    html = _html(cadre_client.get(reverse("field:households")))
    assert "0 件待反馈" in html
    ledger.make(Problem.Status.HANDLED)
    ledger.make(Problem.Status.HANDLED)
    ledger.make(Problem.Status.DISPATCHED)  # still with the unit
    html = _html(cadre_client.get(reverse("field:households")))
    assert re.search(r'class="feedback-link waiting" href="/field/feedback/"', html)
    assert "2 件待反馈" in html


def test_list_shows_the_result_to_take_back(ledger, cadre_client):
    handled = ledger.make(Problem.Status.HANDLED)
    closed = ledger.make(Problem.Status.CLOSED)
    household = ledger.field.households[0]
    html = _html(cadre_client.get(reverse("field:feedback")))
    card = _card(html, handled)
    assert handled.code in card
    assert "路灯坏了，晚上出行不安全" in card
    assert "已修复路灯" in card  # the unit's result
    assert "汝集派出所的办理结果" in card
    assert household.address in card
    assert household.head_name not in html
    assert closed.code not in html
    assert 'value="satisfied"' in card
    assert 'value="dissatisfied"' in card
    assert "checked" not in card  # nothing chosen for the cadre


def test_satisfied_closes_the_problem(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    response = _verdict(cadre_client, problem, "satisfied")
    assert response.status_code == 302
    assert response.url == reverse("field:feedback")
    problem.refresh_from_db()
    assert problem.status == Problem.Status.CLOSED
    assert problem.verdict == "satisfied"
    html = _html(cadre_client.get(response.url))
    assert "群众满意，问题已销号" in html
    assert "现在没有需要反馈群众的问题。" in html


def test_dissatisfied_sends_it_back_to_the_unit(world, ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    response = _verdict(cadre_client, problem, "dissatisfied", "路灯修好两天又坏了")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.DISPATCHED
    assert problem.redo_count == 1
    assert problem.unit == world.police
    assert problem.verdict_note == "路灯修好两天又坏了"
    assert "群众不满意，已退回责任单位重新办理" in _html(cadre_client.get(response.url))


def test_dissatisfied_without_a_reason_keeps_the_choice(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    response = _verdict(cadre_client, problem, "dissatisfied", "   ")
    assert response.status_code == 422
    card = _card(_html(response), problem)
    assert "请填写群众不满意的原因" in card
    assert re.search(r'value="dissatisfied"[^>]*checked', card)
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.HANDLED


def test_without_a_verdict_says_so(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    response = _verdict(cadre_client, problem, "", "群众说还行")
    assert response.status_code == 422
    card = _card(_html(response), problem)
    assert "请选择群众评价" in card
    assert "群众说还行</textarea>" in card


def test_a_stale_version_keeps_the_typed_reason(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    stale = problem.version
    ledger.act(problem, Action.FEEDBACK, Role.CADRE, ActionInput(verdict="satisfied"))  # meanwhile
    response = _verdict(cadre_client, problem, "dissatisfied", "还是太暗", version=stale)
    assert response.status_code == 409
    html = _html(response)
    assert "已被他人修改，请刷新后重试" in html
    assert "「已销号」" in html
    assert "还是太暗" in html
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.CLOSED


def test_a_problem_of_another_cadre_is_not_found(world, ledger, cadre_client):
    # Given a problem of a household a colleague visits, reported by the town center
    with clock.at(REPORTED_AT):
        theirs = problem_report(
            actor=world.users[Role.TOWN_ADMIN], village_id=None,
            household_id=ledger.field.other_households[0].pk, description="井盖缺失",
        )  # fmt: skip
        ledger.act(theirs, Action.ACCEPT, Role.TOWN_ADMIN)
        ledger.act(theirs, Action.DISPATCH, Role.TOWN_ADMIN,
                   ActionInput(unit_id=world.police.pk, severity="general"))  # fmt: skip
        ledger.act(theirs, Action.HANDLE, Role.UNIT_HANDLER, ActionInput(result="已补装"))
    assert theirs.cadre is not None
    assert theirs.cadre.name == "李红"
    mine = ledger.make(Problem.Status.HANDLED)
    html = _html(cadre_client.get(reverse("field:feedback")))
    assert mine.code in html
    assert theirs.code not in html
    assert _verdict(cadre_client, theirs, "satisfied").status_code == 404
    assert Problem.objects.get(pk=theirs.pk).status == Problem.Status.HANDLED


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.CADRE])
def test_other_roles_use_the_back_office(world, ledger, role):
    problem = ledger.make(Problem.Status.HANDLED)
    client = Client()
    client.force_login(world.users[role])
    assert client.get(reverse("field:feedback")).status_code == 403
    assert _verdict(client, problem, "satisfied").status_code == 403


def test_feedback_needs_post(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    assert cadre_client.get(reverse("field:feedback_record", args=[problem.pk])).status_code == 405


def test_feedback_list_query_count(ledger, cadre_client, django_assert_num_queries):
    for _ in range(3):
        ledger.make(Problem.Status.HANDLED)
    # session, user, the user's region, page count, rows (village, unit, household joined)
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(6):
        response = cadre_client.get(reverse("field:feedback"))
    assert len(response.context["items"]) == 3


def test_feedback_in_english(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    url = reverse("field:feedback")
    cadre_client.post(reverse("set_language"), {"language": "en", "next": url})
    html = _html(cadre_client.get(url))
    assert '<html lang="en">' in html
    card = _card(html, problem)
    for english in ("Satisfied", "Dissatisfied", "Record the resident's verdict"):
        assert english in card, english
    assert "反馈群众" not in html
