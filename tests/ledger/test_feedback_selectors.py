"""反馈群众, read per reporting household: which households wait for which user (the visiting
cadre, or the village admin standing in for a cadre who cannot sign in), in which order, how
many; and the problem scope that lets a cadre act on a problem merged from another village."""

import pytest

from pingan.accounts.models import Person, Role
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.selectors import (
    problem_get,
    problem_list,
    problem_list_to_feed_back,
    problem_reporter_feedback_counts,
    problem_reporter_get,
    problem_reporter_list_to_feed_back,
)
from pingan.ledger.services import ActionInput
from tests.factories import make_household, make_user
from tests.field.merged import act, cadre_with_household, merged_problem, reporter_of

NOT_FEEDBACK_ROLES = [r for r in Role.values if r not in (Role.CADRE, Role.VILLAGE_ADMIN)]


def _rows(user) -> list[ProblemReporter]:
    return list(problem_reporter_list_to_feed_back(user=user))


@pytest.fixture
def b(world, field):
    return cadre_with_household(world, field)


def test_each_cadre_gets_the_rows_of_their_own_households(world, field, b):
    problem = merged_problem(world, [field.households[0], b.household])
    a = world.users[Role.CADRE]
    assert _rows(a) == [reporter_of(problem, field.households[0])]
    assert _rows(b.user) == [reporter_of(problem, b.household)]
    assert list(problem_list_to_feed_back(user=a)) == [problem]
    assert list(problem_list_to_feed_back(user=b.user)) == [problem]


def test_a_page_of_rows_is_one_query(world, field, b, django_assert_num_queries):
    merged_problem(world, [field.households[0], b.household])
    merged_problem(world, [field.households[1]])
    a = world.users[Role.CADRE]
    a.region  # noqa: B018 (the scope reads the user's region; loaded once per request)
    with django_assert_num_queries(1):
        rows = _rows(a)
        shown = [
            (r.problem.code, r.problem.village.name, r.problem.unit.name, r.village.name,
             r.household.address, r.problem.result, r.awaiting_leader)
            for r in rows
        ]  # fmt: skip
    assert len(shown) == 2
    assert {s[2] for s in shown} == {"汝集派出所"}


def test_households_that_answered_or_were_confirmed_unreachable_leave(world, field, b):
    c = field.households[1]  # A visits two of the three households
    problem = merged_problem(world, [field.households[0], b.household, c])
    a = world.users[Role.CADRE]
    first, second = reporter_of(problem, field.households[0]), reporter_of(problem, c)
    assert _rows(a) == [first, second]
    act(a, problem, Action.FEEDBACK, ActionInput(verdict="satisfied", reporter_id=first.pk))
    assert _rows(a) == [second]
    for _ in range(3):
        act(a, problem, Action.CONTACT_FAILED, ActionInput(reporter_id=second.pk))
    [waiting] = _rows(a)
    assert waiting == second
    assert waiting.awaiting_leader is True
    assert problem_reporter_feedback_counts(user=a) == {"todo": 0, "awaiting_leader": 1}
    act(world.users[Role.LEADER], problem, Action.CONFIRM_UNREACHABLE,
        ActionInput(reporter_id=second.pk))  # fmt: skip
    assert _rows(a) == []
    assert list(problem_list_to_feed_back(user=a)) == []
    assert problem_reporter_feedback_counts(user=a) == {"todo": 0, "awaiting_leader": 0}
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.HANDLED  # B still waits


def test_households_waiting_for_the_leader_come_last(world, field):
    a = world.users[Role.CADRE]
    tried = merged_problem(world, [field.households[0]])  # handled first
    later = merged_problem(world, [field.households[1]])
    for _ in range(3):
        act(a, tried, Action.CONTACT_FAILED)
    rows = _rows(a)
    assert [r.problem_id for r in rows] == [later.pk, tried.pk]
    assert [r.awaiting_leader for r in rows] == [False, True]
    assert problem_reporter_feedback_counts(user=a) == {"todo": 1, "awaiting_leader": 1}


def test_only_handled_problems_wait(world, field):
    problem = merged_problem(world, [field.households[0]])
    a = world.users[Role.CADRE]
    act(a, problem, Action.FEEDBACK, ActionInput(verdict="dissatisfied", reason="还是不亮"))
    assert Problem.objects.get(pk=problem.pk).status == Problem.Status.DISPATCHED
    assert _rows(a) == []
    assert problem_reporter_feedback_counts(user=a) == {"todo": 0, "awaiting_leader": 0}


def test_the_village_admin_stands_in_for_cadres_who_cannot_sign_in(world, field, b):
    # 李红 (no account) visits other_households[0]; nobody visits the new household; B is active
    nobody = make_household(world.qiying)
    problem = merged_problem(
        world, [field.other_households[0], nobody, b.household, field.households[0]]
    )
    village_admin = world.users[Role.VILLAGE_ADMIN]
    stand_in = {r.household_id for r in _rows(village_admin)}
    assert stand_in == {field.other_households[0].pk, nobody.pk}
    # B stops visiting (no longer active): the village admin takes B's household too
    Person.objects.filter(pk=b.person.pk).update(active=False)
    assert b.household.pk in {r.household_id for r in _rows(village_admin)}
    # …and each row is one the service lets the village admin answer
    for row in _rows(village_admin):
        act(village_admin, problem, Action.FEEDBACK,
            ActionInput(verdict="satisfied", reporter_id=row.pk))  # fmt: skip
    assert _rows(village_admin) == []


def test_another_villages_admin_does_not_stand_in(world, field):
    merged_problem(world, [field.other_households[0]])
    xinqiao_admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao)
    assert _rows(xinqiao_admin) == []
    assert problem_reporter_feedback_counts(user=xinqiao_admin) == {"todo": 0, "awaiting_leader": 0}


@pytest.mark.parametrize("role", NOT_FEEDBACK_ROLES)
def test_other_roles_take_nothing_back(world, field, role):
    merged_problem(world, [field.households[0], field.other_households[0]])
    user = world.users[role]
    assert _rows(user) == []
    assert list(problem_list_to_feed_back(user=user)) == []
    assert problem_reporter_feedback_counts(user=user) == {"todo": 0, "awaiting_leader": 0}


def test_a_problem_merged_from_another_village_reaches_its_cadre(world, field):
    # Given B, who visits in 新桥村, and a 新桥村 household merged into a 七营村 problem
    b = cadre_with_household(world, field, village=world.xinqiao, name="孙强")
    problem = merged_problem(world, [field.households[0], b.household])
    assert problem.village == world.qiying
    theirs = reporter_of(problem, b.household)
    # B sees the problem and their household's row, and may answer for it
    assert _rows(b.user) == [theirs]
    assert problem_get(user=b.user, problem_id=problem.pk) == problem
    assert problem_reporter_get(user=b.user, reporter_id=theirs.pk) == theirs
    act(b.user, problem, Action.FEEDBACK, ActionInput(verdict="satisfied", reporter_id=theirs.pk))
    assert reporter_of(problem, b.household).verdict == "satisfied"
    # 新桥村's admin sees the problem a household of their village reported
    xinqiao_admin = make_user(Role.VILLAGE_ADMIN, world.xinqiao)
    assert list(problem_list(user=xinqiao_admin)) == [problem]
    # …and A, in 七营村, still only their own
    assert _rows(world.users[Role.CADRE]) == [reporter_of(problem, field.households[0])]


def test_a_cadre_does_not_see_a_problem_by_the_cadre_field_alone_outside_their_region(world, field):
    # A problem of another town whose reporting household names a cadre of this one (a
    # hand-made row) stays outside the cadre's region.
    problem = merged_problem(world, [field.households[0]])
    far = make_household(world.faraway)
    ProblemReporter.objects.create(
        problem=problem, village=world.faraway, household=far, cadre=field.cadre
    )
    rows = _rows(world.users[Role.CADRE])
    assert [r.household_id for r in rows] == [field.households[0].pk]


def test_a_reporter_of_a_problem_outside_the_scope_is_none(world, field, b):
    problem = merged_problem(world, [b.household])
    theirs = reporter_of(problem, b.household)
    assert problem_reporter_get(user=world.users[Role.CADRE], reporter_id=theirs.pk) is None
    assert problem_reporter_get(user=b.user, reporter_id=theirs.pk) == theirs
    assert problem_reporter_get(user=world.users[Role.COUNTY_VIEWER], reporter_id=theirs.pk) == (
        theirs
    )
