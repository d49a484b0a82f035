"""Reads of the ledger, scoped once here for every role (docs/architecture.md):

- town admin, leader, county viewer: every problem in their region subtree;
- village admin: the problems of their village, and those a household of their village
  reported (merged, 并案, into another village's problem);
- cadre: the problems of the households they visit, which they take back to the resident
  (problem.cadre, or the cadre of any of its reporting households, whichever village of the
  town the problem was filed in);
- unit handler: the problems dispatched to their unit (now), and those it handled or returned.

Something outside the scope is "not found" (`problem_get` raises Http404).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.http import Http404

from pingan.accounts.models import Role, User
from pingan.accounts.selectors import user_scope_path
from pingan.core import clock
from pingan.ledger.deadlines import Colour, colour_case, colour_q
from pingan.ledger.models import Problem, ProblemAlert, ProblemEvent, ProblemReporter


def problem_scope_q(user: User) -> Q | None:
    """The filter on Problem for this user, or None when they may see no problem."""
    path = user_scope_path(user)
    if path is None:
        return None
    in_region = Q(village__path__startswith=path)
    if user.role == Role.CADRE:
        theirs = ProblemReporter.objects.filter(
            problem=OuterRef("pk"), cadre__user=user, village__path__startswith=path
        )
        return (in_region & Q(cadre__user=user)) | Q(Exists(theirs))
    if user.role == Role.VILLAGE_ADMIN:
        reported_here = ProblemReporter.objects.filter(
            problem=OuterRef("pk"), village__path__startswith=path
        )
        return in_region | Q(Exists(reported_here))
    if user.role == Role.UNIT_HANDLER:
        if user.unit_id is None:
            return None
        # …and those it handled or returned, so its own history stays in view
        handled_by_unit = ProblemEvent.objects.filter(
            problem=OuterRef("pk"), action__in=["handle", "return"], data__unit_id=user.unit_id
        )
        return in_region & (Q(unit_id=user.unit_id) | Q(Exists(handled_by_unit)))
    return in_region


def problem_list(*, user: User) -> QuerySet[Problem]:
    scope = problem_scope_q(user)
    if scope is None:
        return Problem.objects.none()
    return Problem.objects.filter(scope)


@dataclass(frozen=True)
class ProblemFilters:
    """The ledger list's filters (all optional)."""

    village_id: int | None = None
    status: str = ""
    colour: str = ""
    unit_id: int | None = None
    category: str = ""
    overdue: bool = False
    search: str = ""  # code or words of the description


def problem_list_filtered(
    *, user: User, filters: ProblemFilters, now: dt.datetime | None = None
) -> QuerySet[Problem]:
    """The scoped ledger with its filters, each row annotated with `colour`, ready for a page
    (village, unit and cadre joined: a page of rows is one query)."""
    now = now or clock.now()
    problems = _filtered(problem_list(user=user), filters, now)
    if filters.colour:
        problems = problems.filter(colour_q(filters.colour, now))
    return with_reporters(
        problems.select_related("village", "unit", "cadre", "household", "campaign")
    ).annotate(colour=colour_case(now))


def with_reporters(problems: QuerySet[Problem]) -> QuerySet[Problem]:
    """Prefetch the reporting households with their cadre (one query for a page), which the
    actions a user may take on each row depend on."""
    return problems.prefetch_related(
        Prefetch(
            "reporters",
            queryset=ProblemReporter.objects.select_related("cadre", "village", "household"),
        )
    )


def _filtered(problems: QuerySet[Problem], filters: ProblemFilters, now) -> QuerySet[Problem]:
    """Every filter but the colour (the colour counts are of the rest)."""
    if filters.village_id:
        problems = problems.filter(village_id=filters.village_id)
    if filters.status:
        problems = problems.filter(status=filters.status)
    if filters.unit_id:
        problems = problems.filter(unit_id=filters.unit_id)
    if filters.category:
        problems = problems.filter(category=filters.category)
    if filters.overdue:
        problems = problems.filter(colour_q(Colour.RED, now))
    if filters.search:
        problems = problems.filter(
            Q(code__icontains=filters.search) | Q(description__icontains=filters.search)
        )
    return problems


def problem_get(*, user: User, problem_id: int, now: dt.datetime | None = None) -> Problem:
    """One problem the user may see (404 otherwise), with its colour."""
    problem = (
        with_reporters(problem_list(user=user))
        .select_related("village__parent", "unit", "cadre", "household", "campaign", "question")
        .annotate(colour=colour_case(now or clock.now()))
        .filter(pk=problem_id)
        .first()
    )
    if problem is None:
        raise Http404("problem not found")
    return problem


def problem_events(*, problem: Problem) -> QuerySet[ProblemEvent]:
    return problem.events.select_related("actor").order_by("at", "id")


# --- 反馈群众: each reporting household hears the result from its own visiting cadre --------


def reporter_to_feed_back_q(user: User) -> Q | None:
    """The filter on ProblemReporter for the households `user` takes the result back to (the
    rule of `lifecycle._visits`, on rows): a cadre, the households they visit; a village
    admin, those of their village whose visiting cadre cannot sign in (none, no login, or no
    longer active). None for every other role."""
    path = user_scope_path(user)
    if path is None:
        return None
    here = Q(village__path__startswith=path)
    if user.role == Role.CADRE:
        return here & Q(cadre__user=user)
    if user.role == Role.VILLAGE_ADMIN:
        return here & (Q(cadre__isnull=True) | Q(cadre__user__isnull=True) | Q(cadre__active=False))
    return None


def _waiting(user: User) -> QuerySet[ProblemReporter]:
    """Reporting households of handled problems still waiting for the user's feedback: no
    verdict yet, not confirmed unreachable (as `services._reporter_of` finds them)."""
    scope = reporter_to_feed_back_q(user)
    if scope is None:
        return ProblemReporter.objects.none()
    return ProblemReporter.objects.filter(
        scope,
        problem__status=Problem.Status.HANDLED,
        verdict="",
        unreachable_confirmed_at__isnull=True,
    )


def awaiting_leader_q() -> Q:
    """A household tried `UNREACHABLE_TRIES` times in vain: the leader may now confirm it
    cannot be reached (it still waits, and a verdict is still welcome if it is reached)."""
    return Q(tries__gte=ProblemReporter.UNREACHABLE_TRIES)


def problem_reporter_list_to_feed_back(*, user: User) -> QuerySet[ProblemReporter]:
    """反馈群众, one row per household: the reporting households waiting for the user, with the
    problem, its village and unit, the household and its village joined (a page is one query).
    Those to contact first; those waiting for the leader's confirmation last; each group in
    the order the problems were handled. `awaiting_leader` says which is which."""
    return (
        _waiting(user)
        .annotate(awaiting_leader=ExpressionWrapper(awaiting_leader_q(), BooleanField()))
        .select_related("problem__village", "problem__unit", "village", "household")
        .order_by("awaiting_leader", "problem__handled_at", "problem_id", "id")
    )


def problem_reporter_feedback_counts(*, user: User) -> dict[str, int]:
    """How many households wait for the user's feedback (`todo`), and how many of them were
    tried 3 times and wait for the leader (`awaiting_leader`); one query."""
    counts = _waiting(user).aggregate(
        todo=Count("pk", filter=~awaiting_leader_q()),
        awaiting_leader=Count("pk", filter=awaiting_leader_q()),
    )
    return {key: value or 0 for key, value in counts.items()}


def problem_reporter_get(*, user: User, reporter_id: int) -> ProblemReporter | None:
    """One reporting household of a problem the user may see (None otherwise)."""
    scope = problem_scope_q(user)
    if scope is None:
        return None
    problems = Problem.objects.filter(scope)
    return ProblemReporter.objects.filter(pk=reporter_id, problem__in=problems).first()


def problem_list_to_feed_back(*, user: User) -> QuerySet[Problem]:
    """Handled problems with a reporting household waiting for the user (see
    `problem_reporter_list_to_feed_back` for the households themselves)."""
    waiting = _waiting(user).filter(problem=OuterRef("pk"))
    return (
        problem_list(user=user)
        .filter(Exists(waiting), status=Problem.Status.HANDLED)
        .select_related("village", "unit", "household")
        .order_by("handled_at", "id")
    )


def problem_list_unit_inbox(*, user: User, now: dt.datetime | None = None) -> QuerySet[Problem]:
    """A unit handler's inbox: the problems with their unit now, the most urgent first."""
    if user.role != Role.UNIT_HANDLER or user.unit_id is None:
        return Problem.objects.none()
    return (
        problem_list(user=user)
        .filter(unit_id=user.unit_id, status=Problem.Status.DISPATCHED)
        .select_related("village", "household", "cadre", "campaign")
        .annotate(colour=colour_case(now or clock.now()))
        .order_by("deadline", "id")
    )


def problem_list_extension_pending(
    *, user: User, now: dt.datetime | None = None
) -> QuerySet[Problem]:
    """Extension requests waiting for the leader, the most urgent first, with `colour`."""
    return (
        problem_list(user=user)
        .filter(status=Problem.Status.DISPATCHED, extension_days__isnull=False)
        .select_related("village", "unit", "cadre", "campaign")
        .annotate(colour=colour_case(now or clock.now()))
        .order_by("deadline", "id")
    )


def problem_list_criticized(*, user: User | None = None, now: dt.datetime | None = None):
    """Problems listed for public criticism (通报批评) and still overdue."""
    now = now or clock.now()
    problems = Problem.objects.all() if user is None else problem_list(user=user)
    return (
        problems.filter(colour_q(Colour.RED, now), criticized_at__isnull=False)
        .select_related("village", "unit")
        .order_by("deadline", "id")
    )


def problem_colour_counts(
    *, user: User, filters: ProblemFilters | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """How many of the user's problems have each colour (one GROUP BY), under `filters` other
    than the colour itself (so the badges say how many each colour filter would show)."""
    now = now or clock.now()
    problems = problem_list(user=user)
    if filters is not None:
        problems = _filtered(problems, filters, now)
    rows = problems.annotate(colour=colour_case(now)).values("colour").annotate(n=Count("id"))
    counts = {colour: 0 for colour, _ in Colour.CHOICES}
    counts.update({row["colour"]: row["n"] for row in rows})
    return counts


def problem_categories(*, user: User) -> list[str]:
    return list(
        problem_list(user=user)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def alert_count(*, problem: Problem, kind: str) -> int:
    return ProblemAlert.objects.filter(problem=problem, kind=kind).count()
