"""反馈群众 on the cadre's phone: one card per reporting household with the handling result, and
three buttons: 满意 (the last household satisfied closes the problem), 不满意 (with the reason:
back to the unit, 重办, every household waits again) and 联系不上 (after 3 tries the household
waits for the leader's confirmation)."""

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pingan.accounts.models import Person, Role
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.services import ActionInput, problem_report
from tests.field.merged import (
    NEXT_DAY,
    act,
    cadre_with_household,
    merged_problem,
    reporter_of,
)
from tests.ledger.conftest import REPORTED_AT, Ledger


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


@pytest.fixture
def frozen():
    with time_machine.travel(NEXT_DAY, tick=False):
        yield


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cadre_client(world, field, frozen) -> Client:
    return _client(world.users[Role.CADRE])


def _html(response) -> str:
    return response.content.decode()


def _card(html: str, reporter: ProblemReporter) -> str:
    start = html.index(f'id="reporter-{reporter.pk}"')
    end = html.find('class="feedback-card', start + 1)
    return html[start : end if end != -1 else len(html)]


def _only_reporter(problem: Problem) -> ProblemReporter:
    return ProblemReporter.objects.get(problem=problem)


def _send(client, problem: Problem, reporter: ProblemReporter, outcome: str, reason: str = "",
          version=None):  # fmt: skip
    problem.refresh_from_db()
    return client.post(
        reverse("field:feedback_record", args=[problem.pk]),
        {"version": version or problem.version, "reporter_id": reporter.pk, "outcome": outcome,
         "reason": reason},
    )  # fmt: skip


# --- one household ---------------------------------------------------------------------------


def test_home_shows_how_many_households_wait(ledger, cadre_client):
    html = _html(cadre_client.get(reverse("field:households")))
    assert "0 户待反馈" in html
    ledger.make(Problem.Status.HANDLED)
    ledger.make(Problem.Status.HANDLED)
    ledger.make(Problem.Status.DISPATCHED)  # still with the unit
    html = _html(cadre_client.get(reverse("field:households")))
    assert re.search(r'class="feedback-link waiting" href="/field/feedback/"', html)
    assert "2 户待反馈" in html
    assert "待领导确认" not in html


def test_the_card_shows_the_result_to_take_back(ledger, cadre_client):
    handled = ledger.make(Problem.Status.HANDLED)
    closed = ledger.make(Problem.Status.CLOSED)
    household = ledger.field.households[0]
    html = _html(cadre_client.get(reverse("field:feedback")))
    card = _card(html, _only_reporter(handled))
    assert handled.code in card
    assert "路灯坏了，晚上出行不安全" in card
    assert "已修复路灯" in card  # the unit's result
    assert "汝集派出所的办理结果" in card
    assert household.address in card
    assert household.head_name not in html  # masked
    assert closed.code not in html
    for outcome in ("satisfied", "dissatisfied", "contact_failed"):
        assert f'name="outcome" value="{outcome}"' in card
    assert f'name="reporter_id" value="{_only_reporter(handled).pk}"' in card
    assert "checked" not in card  # nothing chosen for the cadre


def test_satisfied_closes_the_problem(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    reporter = _only_reporter(problem)
    response = _send(cadre_client, problem, reporter, "satisfied")
    assert response.status_code == 302
    assert response.url == f"{reverse('field:feedback')}?saved=feedback-{reporter.pk}"
    problem.refresh_from_db()
    assert problem.status == Problem.Status.CLOSED
    assert problem.verdict == "satisfied"
    html = _html(cadre_client.get(response.url))
    assert "群众满意，问题已销号" in html
    assert "现在没有需要反馈群众的问题。" in html
    assert 'data-drafts-saved="feedback-' in html  # the phone forgets the typed text


def test_dissatisfied_sends_it_back_to_the_unit(world, ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    response = _send(cadre_client, problem, _only_reporter(problem), "dissatisfied",
                     "路灯修好两天又坏了")  # fmt: skip
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.DISPATCHED
    assert problem.redo_count == 1
    assert problem.unit == world.police
    assert problem.verdict_note == "路灯修好两天又坏了"
    assert "群众不满意，已退回责任单位重新办理" in _html(cadre_client.get(response.url))


def test_dissatisfied_without_a_reason_keeps_the_card(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    reporter = _only_reporter(problem)
    response = _send(cadre_client, problem, reporter, "dissatisfied", "   ")
    assert response.status_code == 422
    card = _card(_html(response), reporter)
    assert "请填写群众不满意的原因" in card
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.HANDLED
    assert _only_reporter(problem).verdict == ""


def test_a_reason_too_long_is_refused_and_kept(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    reporter = _only_reporter(problem)
    response = _send(cadre_client, problem, reporter, "dissatisfied", "太暗" * 300)
    assert response.status_code == 422
    card = _card(_html(response), reporter)
    assert "原因不能超过 500 字" in card
    assert "太暗太暗" in card


def test_without_a_button_says_so(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    reporter = _only_reporter(problem)
    response = _send(cadre_client, problem, reporter, "", "群众说还行")
    assert response.status_code == 422
    card = _card(_html(response), reporter)
    assert "请选择群众评价：满意、不满意或联系不上" in card
    assert "群众说还行</textarea>" in card


def test_a_stale_version_keeps_the_typed_reason(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    stale = problem.version
    ledger.act(problem, Action.CONTACT_FAILED, Role.CADRE)  # meanwhile, from another phone
    reporter = _only_reporter(problem)
    response = _send(cadre_client, problem, reporter, "dissatisfied", "还是太暗", version=stale)
    assert response.status_code == 409
    html = _html(response)
    assert "刚有变动" in html
    assert "「已办理」" in html
    card = _card(html, reporter)
    assert "还是太暗</textarea>" in card
    problem.refresh_from_db()
    assert f'name="version" value="{problem.version}"' in card  # sending again acts on it
    assert problem.status == Problem.Status.HANDLED
    assert _only_reporter(problem).verdict == ""


def test_a_stale_version_on_a_closed_problem_shows_the_text_apart(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    stale = problem.version
    ledger.act(problem, Action.FEEDBACK, Role.CADRE, ActionInput(verdict="satisfied"))
    response = _send(cadre_client, problem, _only_reporter(problem), "dissatisfied", "还是太暗",
                     version=stale)  # fmt: skip
    assert response.status_code == 409
    html = _html(response)
    assert "「已销号」" in html
    assert "还是太暗</textarea>" in html
    assert "这一户已不在待反馈列表中" in html
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
    response = _send(cadre_client, theirs, _only_reporter(theirs), "satisfied")
    assert response.status_code == 404
    assert Problem.objects.get(pk=theirs.pk).status == Problem.Status.HANDLED


@pytest.mark.parametrize(
    "role", [r for r in Role.values if r not in (Role.CADRE, Role.VILLAGE_ADMIN)]
)
def test_other_roles_use_the_back_office(world, ledger, role):
    problem = ledger.make(Problem.Status.HANDLED)
    client = _client(world.users[role])
    assert client.get(reverse("field:feedback")).status_code == 403
    assert _send(client, problem, _only_reporter(problem), "satisfied").status_code == 403


def test_the_village_admin_stands_in_for_a_cadre_without_a_login(world, field, ledger, frozen):
    # 李红 (no account) visits field.other_households; the town center recorded the problem.
    problem = ledger.make(Problem.Status.HANDLED, household=field.other_households[0],
                          reporter=Role.TOWN_ADMIN)  # fmt: skip
    mine = ledger.make(Problem.Status.HANDLED)  # the cadre with a login takes this one back
    client = _client(world.users[Role.VILLAGE_ADMIN])
    html = _html(client.get(reverse("field:feedback")))
    assert problem.code in html
    assert mine.code not in html
    assert 'class="back" href="/"' in html  # back to the back office, not the cadre's list
    response = _send(client, problem, _only_reporter(problem), "satisfied")
    assert response.status_code == 302
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.CLOSED
    # …but not for a cadre who signs in
    response = _send(client, mine, _only_reporter(mine), "satisfied")
    assert response.status_code == 403
    assert Problem.objects.get(pk=mine.pk).status == Problem.Status.HANDLED


def test_feedback_needs_post(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    assert cadre_client.get(reverse("field:feedback_record", args=[problem.pk])).status_code == 405


def test_feedback_list_query_count(world, field, ledger, cadre_client, django_assert_num_queries):
    for _ in range(3):
        ledger.make(Problem.Status.HANDLED)
    b = cadre_with_household(world, field)
    merged_problem(world, [field.households[1], b.household])
    # session, user, the user's region, page count, rows (problem, its village and unit, the
    # household and its village joined)
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(6):
        response = cadre_client.get(reverse("field:feedback"))
    assert len(response.context["items"]) == 4


def test_feedback_in_english(ledger, cadre_client):
    problem = ledger.make(Problem.Status.HANDLED)
    url = reverse("field:feedback")
    cadre_client.post(reverse("set_language"), {"language": "en", "next": url})
    html = _html(cadre_client.get(url))
    assert '<html lang="en">' in html
    card = _card(html, _only_reporter(problem))
    for english in ("Satisfied", "Dissatisfied"):
        assert english in card, english
    assert "<title>Report back to residents" in html


# --- several households: a merged problem (并案) ----------------------------------------------


@pytest.fixture
def two(world, field, frozen):
    """A merged problem reported by cadre A's household and cadre B's, handled."""
    b = cadre_with_household(world, field)
    a_household = field.households[0]
    problem = merged_problem(world, [a_household, b.household])
    return problem, reporter_of(problem, a_household), reporter_of(problem, b.household), b


def test_each_cadre_sees_only_their_households_card(world, two):
    _problem, mine, theirs, b = two
    a_client = _client(world.users[Role.CADRE])
    html = _html(a_client.get(reverse("field:feedback")))
    assert f'id="reporter-{mine.pk}"' in html
    assert f'id="reporter-{theirs.pk}"' not in html
    assert b.household.address not in html
    assert "本问题共有 2 户待反馈" in _card(html, mine)
    b_html = _html(_client(b.user).get(reverse("field:feedback")))
    assert f'id="reporter-{theirs.pk}"' in b_html
    assert f'id="reporter-{mine.pk}"' not in b_html
    assert "1 户待反馈" in _html(a_client.get(reverse("field:households")))


def test_the_problem_closes_only_when_every_household_is_satisfied(world, two):
    problem, mine, theirs, b = two
    a_client = _client(world.users[Role.CADRE])
    response = _send(a_client, problem, mine, "satisfied")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.HANDLED
    assert problem.reporters_waiting == 1
    html = _html(a_client.get(response.url))
    assert "已记录该户满意；还有 1 户待反馈" in html
    assert f'id="reporter-{mine.pk}"' not in html  # A's household has answered
    # B's card is still there, with the problem's new version
    b_client = _client(b.user)
    card = _card(_html(b_client.get(reverse("field:feedback"))), theirs)
    assert f'name="version" value="{problem.version}"' in card
    response = _send(b_client, problem, theirs, "satisfied")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.CLOSED
    assert problem.verdict == Problem.Verdict.SATISFIED
    assert "群众满意，问题已销号" in _html(b_client.get(response.url))


def test_a_cadre_cannot_answer_for_anothers_household(world, two):
    problem, _mine, theirs, _b = two
    response = _send(_client(world.users[Role.CADRE]), problem, theirs, "satisfied")
    assert response.status_code == 403
    assert "只有走访该户的干部可以反馈群众评价" in _html(response)
    assert reporter_of(problem, theirs.household).verdict == ""


def test_a_card_from_a_version_before_the_other_household_answered(world, two):
    problem, mine, theirs, b = two
    stale = Problem.objects.get(pk=problem.pk).version
    act(world.users[Role.CADRE], problem, Action.FEEDBACK,
        ActionInput(verdict="satisfied", reporter_id=mine.pk))  # fmt: skip
    response = _send(_client(b.user), problem, theirs, "dissatisfied", "灯还是不亮", version=stale)
    assert response.status_code == 409
    html = _html(response)
    assert "其他反映户已反馈" in html
    assert "灯还是不亮</textarea>" in _card(html, theirs)


def test_contact_failed_three_times_then_the_leader_confirms(world, two):
    problem, mine, theirs, b = two
    a_client = _client(world.users[Role.CADRE])
    # B's household is satisfied; A's cannot be reached
    act(b.user, problem, Action.FEEDBACK, ActionInput(verdict="satisfied", reporter_id=theirs.pk))
    for n in (1, 2):
        response = _send(a_client, problem, mine, "contact_failed")
        assert response.status_code == 302
        assert f"已记录第 {n} 次联系不上" in _html(a_client.get(response.url))
    card = _card(_html(a_client.get(reverse("field:feedback"))), mine)
    assert "已 2 次联系不上（满 3 次由领导确认）" in card
    response = _send(a_client, problem, mine, "contact_failed")
    html = _html(a_client.get(response.url))
    assert "已 3 次联系不上，该户现在等待领导确认无法联系" in html
    # The card stays, marked; no more 联系不上, but a verdict is still possible
    card = _card(html, mine)
    assert "等待领导确认" in card
    assert 'value="contact_failed"' not in card
    assert 'value="satisfied"' in card
    home = _html(a_client.get(reverse("field:households")))
    assert "0 户待反馈" in home
    assert "1 户待领导确认" in home
    problem.refresh_from_db()
    assert problem.status == Problem.Status.HANDLED
    assert reporter_of(problem, mine.household).tries == 3
    # The leader confirms: no household waits any more, the problem is closed
    done = act(world.users[Role.LEADER], problem, Action.CONFIRM_UNREACHABLE,
               ActionInput(reporter_id=mine.pk))  # fmt: skip
    assert done.status == Problem.Status.CLOSED
    assert done.verdict == Problem.Verdict.SATISFIED  # B's household was satisfied
    assert f'id="reporter-{mine.pk}"' not in _html(a_client.get(reverse("field:feedback")))


def test_one_dissatisfied_household_sends_it_back_and_all_wait_again(world, two):
    problem, mine, theirs, b = two
    b_client = _client(b.user)
    a_client = _client(world.users[Role.CADRE])
    assert _send(b_client, problem, theirs, "satisfied").status_code == 302
    response = _send(a_client, problem, mine, "dissatisfied", "只修了一盏，另一盏还坏着")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.status == Problem.Status.DISPATCHED
    assert problem.redo_count == 1
    assert problem.reporters_waiting == 2
    assert f'id="reporter-{mine.pk}"' not in _html(a_client.get(reverse("field:feedback")))
    # The unit handles it again: both households wait for their verdict again
    act(world.users[Role.UNIT_HANDLER], problem, Action.HANDLE, ActionInput(result="两盏都已修复"))
    a_card = _card(_html(a_client.get(reverse("field:feedback"))), mine)
    b_card = _card(_html(b_client.get(reverse("field:feedback"))), theirs)
    for card in (a_card, b_card):
        assert "两盏都已修复" in card
        assert "重办 1" in card


def test_the_village_admin_stands_in_only_for_the_household_without_a_cadre(world, field, two):
    _problem, mine, theirs, b = two
    # B leaves the campaign (no longer active): the village admin takes B's household back
    Person.objects.filter(pk=b.person.pk).update(active=False)
    html = _html(_client(world.users[Role.VILLAGE_ADMIN]).get(reverse("field:feedback")))
    assert f'id="reporter-{theirs.pk}"' in html
    assert f'id="reporter-{mine.pk}"' not in html
