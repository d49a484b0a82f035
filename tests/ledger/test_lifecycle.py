"""The whole transition table: every action, from every state, by every role.

The expected outcomes below are written out by hand from docs/ledger.md and issue 5, not read from
`ledger.lifecycle.TRANSITIONS`, so a wrong row in the table fails here.
"""

import datetime as dt
from dataclasses import replace

import pytest
from django.db import IntegrityError, transaction

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.lifecycle import (
    TRANSITIONS,
    Action,
    ActionForbidden,
    ActionInvalid,
    StaleVersion,
    TransitionNotAllowed,
    actions_available,
)
from pingan.ledger.models import Problem, ProblemEvent
from pingan.ledger.services import ActionInput
from tests.factories import make_person, make_user
from tests.ledger.conftest import REPORTED_AT

S = Problem.Status
ROLES = [Role.TOWN_ADMIN, Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER,
         Role.COUNTY_VIEWER]  # fmt: skip

# (action, verdict) -> (the state it starts from, the state it leads to, the one role that may)
ALLOWED = {
    ("accept", ""): (S.REPORTED, S.ACCEPTED, Role.TOWN_ADMIN),
    ("reject", ""): (S.REPORTED, S.REJECTED, Role.TOWN_ADMIN),
    ("dispatch", ""): (S.ACCEPTED, S.DISPATCHED, Role.TOWN_ADMIN),
    ("return", ""): (S.DISPATCHED, S.ACCEPTED, Role.UNIT_HANDLER),
    ("extend_request", ""): (S.DISPATCHED, S.DISPATCHED, Role.UNIT_HANDLER),
    ("extend_approve", ""): (S.DISPATCHED, S.DISPATCHED, Role.LEADER),
    ("extend_deny", ""): (S.DISPATCHED, S.DISPATCHED, Role.LEADER),
    ("remind", ""): (S.DISPATCHED, S.DISPATCHED, Role.TOWN_ADMIN),
    ("handle", ""): (S.DISPATCHED, S.HANDLED, Role.UNIT_HANDLER),
    ("feedback", "satisfied"): (S.HANDLED, S.CLOSED, Role.CADRE),
    ("feedback", "dissatisfied"): (S.HANDLED, S.DISPATCHED, Role.CADRE),
    ("contact_failed", ""): (S.HANDLED, S.HANDLED, Role.CADRE),
    ("confirm_unreachable", ""): (S.HANDLED, S.CLOSED, Role.LEADER),
}
# Roles that hold the action but not towards this problem: the village admin records a
# verdict only where there is no active visiting cadre (here there is one).
RELATION_REFUSED = {("feedback", Role.VILLAGE_ADMIN), ("contact_failed", Role.VILLAGE_ADMIN)}


def inputs(world, action: str, verdict: str) -> ActionInput:
    return {
        "reject": ActionInput(reason="经核实不属实"),
        "dispatch": ActionInput(unit_id=world.police.pk, severity="general"),
        "return": ActionInput(reason="不属于本单位职责"),
        "extend_request": ActionInput(reason="需协调县级部门", days=5),
        "extend_approve": ActionInput(),
        "extend_deny": ActionInput(reason="时限内可以办结"),
        "handle": ActionInput(result="已安装路灯两盏"),
        "feedback": ActionInput(
            verdict=verdict, reason="仍然不亮" if verdict != "satisfied" else ""
        ),
    }.get(action, ActionInput())


def expected(state: str, action: str, verdict: str, role: str) -> str:
    """'404', '403', '422', or the target state."""
    source, target, allowed_role = ALLOWED[(action, verdict)]
    if role == Role.UNIT_HANDLER and state in (S.REPORTED, S.ACCEPTED, S.REJECTED):
        return "404"  # not dispatched to the unit: not in its scope at all
    if role != allowed_role and (action, role) not in RELATION_REFUSED:
        return "403"
    if (action, role) in RELATION_REFUSED:
        return "403"
    if state != source:
        return "422"
    return target


# (action, verdict) -> every role of the row and the relation it needs, written by hand.
ROW_ROLES = {
    ("accept", ""): ({Role.TOWN_ADMIN}, "any"),
    ("reject", ""): ({Role.TOWN_ADMIN}, "any"),
    ("dispatch", ""): ({Role.TOWN_ADMIN}, "any"),
    ("return", ""): ({Role.UNIT_HANDLER}, "own_unit"),
    ("extend_request", ""): ({Role.UNIT_HANDLER}, "own_unit"),
    ("extend_approve", ""): ({Role.LEADER}, "any"),
    ("extend_deny", ""): ({Role.LEADER}, "any"),
    ("remind", ""): ({Role.TOWN_ADMIN}, "any"),
    ("handle", ""): ({Role.UNIT_HANDLER}, "own_unit"),
    ("feedback", "satisfied"): ({Role.CADRE, Role.VILLAGE_ADMIN}, "visiting_cadre"),
    ("feedback", "dissatisfied"): ({Role.CADRE, Role.VILLAGE_ADMIN}, "visiting_cadre"),
    ("contact_failed", ""): ({Role.CADRE, Role.VILLAGE_ADMIN}, "visiting_cadre"),
    ("confirm_unreachable", ""): ({Role.LEADER}, "any"),
}


def test_the_table_has_exactly_the_hand_written_rows():
    rows = {
        (t.action.value, t.verdict): (t.source, t.target, set(t.roles), t.relation.value)
        for t in TRANSITIONS
    }
    assert rows == {
        key: (source, target, *ROW_ROLES[key]) for key, (source, target, _) in ALLOWED.items()
    }


@pytest.mark.parametrize("state", list(S.values))
@pytest.mark.parametrize(("action", "verdict"), list(ALLOWED))
def test_every_action_in_every_state_for_every_role(ledger, world, state, action, verdict):
    from django.http import Http404

    problem = ledger.make(state)
    if state == S.DISPATCHED and action in ("extend_approve", "extend_deny"):
        with clock.at(REPORTED_AT + dt.timedelta(hours=2)):
            problem = ledger.act(problem, "extend_request", Role.UNIT_HANDLER,
                                 inputs(world, "extend_request", ""))  # fmt: skip
    if state == S.HANDLED and action == "confirm_unreachable":
        with clock.at(REPORTED_AT + dt.timedelta(hours=2)):
            for _ in range(3):  # the cadre tried three times, in vain
                problem = ledger.act(problem, "contact_failed", Role.CADRE)
    outcomes = {role: expected(state, action, verdict, role) for role in ROLES}
    allowed = [role for role, outcome in outcomes.items() if outcome not in ("403", "404", "422")]
    # The refusals first (each leaves the problem as it was), then the one allowed role.
    for role in [r for r in ROLES if r not in allowed] + allowed:
        before = Problem.objects.get(pk=problem.pk)
        events_before = ProblemEvent.objects.filter(problem=problem).count()
        outcome = outcomes[role]
        with clock.at(REPORTED_AT + dt.timedelta(hours=3)):
            if outcome in ("403", "404", "422"):
                error = {"403": ActionForbidden, "404": Http404, "422": TransitionNotAllowed}
                with pytest.raises(error[outcome]):
                    ledger.act(problem, action, role, inputs(world, action, verdict))
                after = Problem.objects.get(pk=problem.pk)
                assert (after.status, after.version) == (before.status, before.version)
                assert ProblemEvent.objects.filter(problem=problem).count() == events_before
            else:
                done = ledger.act(problem, action, role, inputs(world, action, verdict))
                assert done.status == outcome
                assert done.version == before.version + 1
                event = ProblemEvent.objects.filter(problem=problem).latest("id")
                assert (event.action, event.from_status, event.to_status) == (
                    action, state, outcome,
                )  # fmt: skip
                assert event.actor == world.users[role]


def test_buttons_offer_exactly_the_allowed_actions(ledger, world):
    problem = ledger.make(S.DISPATCHED)  # Thursday 2021-10-21
    unit, leader = world.users[Role.UNIT_HANDLER], world.users[Role.LEADER]
    monday = dt.datetime(2021, 10, 25, 9, 0, tzinfo=clock.SHANGHAI)
    tuesday = dt.datetime(2021, 10, 26, 9, 0, tzinfo=clock.SHANGHAI)
    assert actions_available(user=unit, problem=problem, now=monday) == [
        Action.RETURN, Action.EXTEND_REQUEST, Action.HANDLE,
    ]  # fmt: skip
    # past the 2 working days for a return; no extension waiting for the leader
    assert actions_available(user=unit, problem=problem, now=tuesday) == [
        Action.EXTEND_REQUEST, Action.HANDLE,
    ]  # fmt: skip
    assert actions_available(user=leader, problem=problem, now=tuesday) == []
    assert actions_available(user=world.users[Role.TOWN_ADMIN], problem=problem) == [Action.REMIND]
    assert actions_available(user=world.users[Role.COUNTY_VIEWER], problem=problem) == []
    asked = ledger.act(problem, "extend_request", Role.UNIT_HANDLER,
                       ActionInput(reason="协调", days=3))  # fmt: skip
    assert actions_available(user=unit, problem=asked, now=tuesday) == [Action.HANDLE]
    assert actions_available(user=leader, problem=asked, now=tuesday) == [
        Action.EXTEND_APPROVE, Action.EXTEND_DENY,
    ]  # fmt: skip
    handled = ledger.make(S.HANDLED)
    assert actions_available(user=world.users[Role.CADRE], problem=handled) == [
        Action.FEEDBACK, Action.CONTACT_FAILED,
    ]  # fmt: skip
    assert actions_available(user=world.users[Role.VILLAGE_ADMIN], problem=handled) == []


def test_a_unit_still_sees_the_problem_it_returned(ledger, world):
    from pingan.ledger.selectors import problem_get

    problem = ledger.make(S.DISPATCHED)
    with clock.at(dt.datetime(2021, 10, 22, 9, 0, tzinfo=clock.SHANGHAI)):
        ledger.act(problem, "return", Role.UNIT_HANDLER, ActionInput(reason="不归我们管"))
    seen = problem_get(user=world.users[Role.UNIT_HANDLER], problem_id=problem.pk)
    assert seen.status == S.ACCEPTED


def test_a_handler_of_another_unit_may_not_touch_the_problem(ledger, world):
    from tests.factories import UnitFactory

    problem = ledger.make(S.DISPATCHED)
    court = UnitFactory(region=world.town, name="汝集司法所")
    other = make_user(Role.UNIT_HANDLER, world.town, unit=court, username="court")
    from django.http import Http404

    with pytest.raises(Http404):  # not dispatched to their unit: not even visible
        ledger.act(problem, "handle", Role.UNIT_HANDLER, ActionInput(result="办了"), user=other)


def test_another_cadre_may_not_record_the_verdict(ledger, world):
    problem = ledger.make(S.HANDLED)
    other = make_user(Role.CADRE, world.qiying, username="cadre2")
    make_person(world.qiying, name="赵六", user=other)
    from django.http import Http404

    with pytest.raises(Http404):  # a cadre sees only their own problems
        ledger.act(problem, "feedback", Role.CADRE, ActionInput(verdict="satisfied"), user=other)


@pytest.mark.parametrize(
    ("verdict", "reason", "status"),
    [("satisfied", "", S.CLOSED), ("dissatisfied", "路灯还是不亮", S.DISPATCHED)],
)
def test_the_village_admin_records_either_verdict_when_the_cadre_has_left(
    ledger, world, verdict, reason, status
):
    """Each feedback row (satisfied, dissatisfied) lets the village admin stand in: the role
    is checked on the row the verdict picks, not on the action's rows together."""
    problem = ledger.make(S.HANDLED)
    problem.cadre.active = False
    problem.cadre.save(update_fields=["active"])
    done = ledger.act(
        problem, "feedback", Role.VILLAGE_ADMIN, ActionInput(verdict=verdict, reason=reason)
    )
    assert done.status == status
    event = ProblemEvent.objects.filter(problem=problem).latest("id")
    assert (event.action, event.to_status, event.actor) == (
        "feedback", status, world.users[Role.VILLAGE_ADMIN],
    )  # fmt: skip


def test_the_role_is_checked_on_the_row_the_verdict_picks(ledger, world, monkeypatch):
    """Were a role allowed on one feedback row only, the other verdict is refused for it and
    nothing is written."""
    from pingan.ledger import lifecycle

    rows = tuple(
        replace(t, roles=frozenset({Role.CADRE}))
        if (t.action, t.verdict) == (Action.FEEDBACK, "satisfied")
        else t
        for t in lifecycle.TRANSITIONS
    )
    monkeypatch.setattr(lifecycle, "TRANSITIONS", rows)
    problem = ledger.make(S.HANDLED)
    problem.cadre.active = False
    problem.cadre.save(update_fields=["active"])
    before = Problem.objects.get(pk=problem.pk)
    with pytest.raises(ActionForbidden):
        ledger.act(problem, "feedback", Role.VILLAGE_ADMIN, ActionInput(verdict="satisfied"))
    after = Problem.objects.get(pk=problem.pk)
    assert (after.status, after.version) == (before.status, before.version)
    assert not ProblemEvent.objects.filter(problem=problem, action="feedback").exists()
    done = ledger.act(
        problem, "feedback", Role.VILLAGE_ADMIN, ActionInput(verdict="dissatisfied", reason="没修")
    )
    assert done.status == S.DISPATCHED


def test_a_leader_of_another_town_does_not_see_the_problem(ledger, world):
    from django.http import Http404

    problem = ledger.make(S.DISPATCHED)
    ledger.act(problem, "extend_request", Role.UNIT_HANDLER, ActionInput(reason="协调", days=3))
    stranger = make_user(Role.LEADER, world.other_town, username="leader2")
    with pytest.raises(Http404):
        ledger.act(problem, "extend_approve", Role.LEADER, user=stranger)


# --- version ------------------------------------------------------------------------------


def test_a_stale_version_is_refused_and_nothing_is_overwritten(ledger, world):
    from pingan.ledger.services import problem_act

    problem = ledger.make(S.DISPATCHED)
    seen = problem.version
    ledger.act(problem, "extend_request", Role.UNIT_HANDLER, ActionInput(reason="协调", days=3))
    with pytest.raises(StaleVersion) as refused:
        problem_act(actor=world.users[Role.UNIT_HANDLER], problem_id=problem.pk,
                    action="handle", version=seen, data=ActionInput(result="已办结"))  # fmt: skip
    assert refused.value.status == 409
    assert "已被他人修改" in refused.value.message
    problem.refresh_from_db()
    assert problem.status == S.DISPATCHED
    assert problem.result == ""
    assert problem.version == seen + 1


# --- closing only on a satisfied verdict --------------------------------------------------


def test_feedback_without_a_verdict_does_not_close(ledger):
    problem = ledger.make(S.HANDLED)
    with pytest.raises(ActionInvalid, match="群众评价"):
        ledger.act(problem, "feedback", Role.CADRE, ActionInput())
    problem.refresh_from_db()
    assert problem.status == S.HANDLED


def test_dissatisfied_needs_the_reason_and_redispatches_with_a_new_deadline(ledger, world):
    problem = ledger.make(S.HANDLED)
    with pytest.raises(ActionInvalid, match="不满意的原因"):
        ledger.act(problem, "feedback", Role.CADRE, ActionInput(verdict="dissatisfied"))
    # Monday 2021-10-25, 09:00: 10 working days later is Monday 2021-11-08.
    with clock.at(dt.datetime(2021, 10, 25, 9, 0, tzinfo=clock.SHANGHAI)):
        redo = ledger.act(problem, "feedback", Role.CADRE,
                          ActionInput(verdict="dissatisfied", reason="路灯还是不亮"))  # fmt: skip
    assert redo.status == S.DISPATCHED
    assert redo.redo_count == 1
    assert redo.unit == world.police
    assert clock.local(redo.deadline) == dt.datetime(2021, 11, 8, 23, 59, 59,
                                                     tzinfo=clock.SHANGHAI)  # fmt: skip
    assert redo.verdict == "dissatisfied"
    assert redo.verdict_note == "路灯还是不亮"
    # … and it can be handled and fed back again; only "satisfied" closes it.
    handled = ledger.act(redo, "handle", Role.UNIT_HANDLER, ActionInput(result="更换了线路"))
    closed = ledger.act(handled, "feedback", Role.CADRE, ActionInput(verdict="satisfied"))
    assert closed.status == S.CLOSED
    assert closed.closed_at is not None
    assert closed.redo_count == 1


def test_the_database_refuses_a_closed_problem_without_a_satisfied_verdict(ledger):
    problem = ledger.make(S.HANDLED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Problem.objects.filter(pk=problem.pk).update(status=S.CLOSED, closed_at=clock.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Problem.objects.filter(pk=problem.pk).update(
            status=S.CLOSED, closed_at=clock.now(), verdict="dissatisfied"
        )


def test_no_action_but_a_satisfied_feedback_or_a_confirmed_unreachable_leads_to_closed():
    into_closed = [t for t in TRANSITIONS if t.target == S.CLOSED]
    assert [(t.action, t.verdict) for t in into_closed] == [
        (Action.FEEDBACK, "satisfied"), (Action.CONFIRM_UNREACHABLE, ""),
    ]  # fmt: skip


# --- the inputs each action checks --------------------------------------------------------


def test_reject_needs_a_reason(ledger):
    problem = ledger.make(S.REPORTED)
    with pytest.raises(ActionInvalid, match="理由"):
        ledger.act(problem, "reject", Role.TOWN_ADMIN, ActionInput(reason="  "))


def test_dispatch_checks_the_unit_and_the_severity(ledger, world):
    from tests.factories import UnitFactory

    problem = ledger.make(S.ACCEPTED)
    with pytest.raises(ActionInvalid, match="交办单位"):
        ledger.act(problem, "dispatch", Role.TOWN_ADMIN, ActionInput(severity="general"))
    with pytest.raises(ActionInvalid, match="一般问题或复杂问题"):
        ledger.act(problem, "dispatch", Role.TOWN_ADMIN,
                   ActionInput(unit_id=world.police.pk, severity="urgent"))  # fmt: skip
    elsewhere = UnitFactory(region=world.other_town, name="义门派出所")
    with pytest.raises(ActionInvalid, match="不在本镇"):
        ledger.act(problem, "dispatch", Role.TOWN_ADMIN,
                   ActionInput(unit_id=elsewhere.pk, severity="general"))  # fmt: skip


def test_a_unit_returns_within_two_working_days_only(ledger):
    # Dispatched Thursday 2021-10-21 10:02; Friday 22 and Monday 25 are the 2 working days.
    problem = ledger.make(S.DISPATCHED)
    tuesday = dt.datetime(2021, 10, 26, 9, 0, tzinfo=clock.SHANGHAI)
    with clock.at(tuesday), pytest.raises(ActionInvalid, match="超过 2 个工作日"):
        ledger.act(problem, "return", Role.UNIT_HANDLER, ActionInput(reason="不归我们管"))
    with clock.at(dt.datetime(2021, 10, 25, 17, 0, tzinfo=clock.SHANGHAI)):
        returned = ledger.act(problem, "return", Role.UNIT_HANDLER,
                              ActionInput(reason="不归我们管"))  # fmt: skip
    assert returned.status == S.ACCEPTED
    assert returned.unit is None
    assert returned.deadline is None
    assert returned.events.latest("id").note == "不归我们管"


def test_an_extension_runs_from_the_old_deadline_once_the_leader_approves(ledger):
    problem = ledger.make(S.DISPATCHED)  # due Thursday 2021-11-04
    asked = ledger.act(problem, "extend_request", Role.UNIT_HANDLER,
                       ActionInput(reason="需县交通局配合", days=3))  # fmt: skip
    assert asked.extension_days == 3
    with pytest.raises(ActionInvalid, match="等待领导审批"):
        ledger.act(asked, "extend_request", Role.UNIT_HANDLER, ActionInput(reason="再延", days=1))
    approved = ledger.act(asked, "extend_approve", Role.LEADER)
    # 3 working days after Thursday 11-04: Friday 05, Monday 08, Tuesday 09.
    assert clock.local(approved.deadline).date() == dt.date(2021, 11, 9)
    assert approved.extension_days is None
    with pytest.raises(ActionInvalid, match="没有待审批"):
        ledger.act(approved, "extend_deny", Role.LEADER, ActionInput(reason="不行"))


def test_every_problem_gets_a_unique_code(ledger):
    codes = {ledger.make(S.REPORTED).code for _ in range(5)}
    assert len(codes) == 5
    assert all(code.startswith("341623101-2021-") for code in codes)


def test_a_problem_whose_cadre_has_no_login_waits_in_the_village_admins_feedback_list(
    ledger, world, field
):
    from pingan.accounts.models import Person
    from pingan.ledger.selectors import problem_list_to_feed_back

    # 李红 (no account) holds field.other_households; the town center records the problem.
    colleague = Person.objects.get(name="李红")
    assert colleague.user_id is None
    problem = ledger.make(S.HANDLED, household=field.other_households[0], reporter=Role.TOWN_ADMIN)
    problem.refresh_from_db()
    assert problem.cadre == colleague
    village_admin = world.users[Role.VILLAGE_ADMIN]
    assert list(problem_list_to_feed_back(user=village_admin)) == [problem]
    assert actions_available(user=village_admin, problem=problem) == [
        Action.FEEDBACK, Action.CONTACT_FAILED,
    ]  # fmt: skip
