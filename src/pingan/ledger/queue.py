"""What waits for whom: the town center's triage queue (待梳理) and every role's to-do list
(待办), with their counts in SQL (docs/ledger.md).

The to-do list is made of sections; each role owns some of them, and the header's 待办 badge
is the sum of the sections the user owns:

| section | who acts | what waits |
|---|---|---|
| `concerns` | town center | concerns not triaged yet (the triage queue) |
| `reported` | town center | problems reported by hand, to accept or reject (待受理) |
| `to_dispatch` | town center | problems accepted, never dispatched (已受理待交办) |
| `returned` | town center | problems a unit sent back (退回): accepted again after a `return` |
| `overdue` | town center | dispatched problems past their deadline, to supervise (督办) |
| `unit` | unit handler | the problems with its unit now, the most urgent first |
| `extensions` | leader | extension requests (the town center may look on) |
| `unreachable` | leader | reporting households tried 3 times without reaching them |
| `feedback` | cadre, village admin | reporting households waiting to hear a handled result |
| `talks` | cadre, village admin | 思想工作 cases not recorded yet |

A village admin stands in for a visiting cadre who cannot sign in (no login, or inactive),
as the lifecycle's `Relation.VISITING_CADRE` says; a problem accepted again after a return is
"returned", never "to dispatch". All counts of one user come from one query (`todo_counts`),
one scalar subquery per section.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from pingan.accounts.models import Notification, Role, User
from pingan.accounts.selectors import user_scope_path
from pingan.core import clock
from pingan.ledger.deadlines import Colour, colour_case, colour_q, overdue_q
from pingan.ledger.models import Problem, ProblemEvent, ProblemReporter
from pingan.ledger.selectors import (
    problem_list,
    problem_list_extension_pending,
    problem_list_unit_inbox,
)
from pingan.regions.models import Region
from pingan.visits.models import Concern, ConcernItem, ThoughtWork
from pingan.visits.selectors import concern_list


class CountOf(Subquery):
    """The number of rows of a queryset, as a scalar subquery (0 for none)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()

    def __init__(self, queryset: QuerySet, **extra: Any) -> None:
        super().__init__(queryset.order_by().values("pk"), **extra)


def counts_of(user: User, expressions: dict[str, Any]) -> dict[str, int]:
    """Evaluate count expressions in one query (anchored on the user's own row)."""
    if not expressions:
        return {}
    aliased = {f"count_{key}": expression for key, expression in expressions.items()}
    row: Any = User.objects.filter(pk=user.pk).values(**aliased).first() or {}
    return {key: int(row.get(f"count_{key}") or 0) for key in expressions}


# --- The triage queue (待梳理) ------------------------------------------------------------------


class ConcernKind:
    """What a concern holds, as the queue filters it (see `concern_queue`)."""

    FEELINGS = "feelings"  # only feelings (感受): the suggestion is 思想工作
    MATTERS = "matters"  # at least one concrete matter (事项) or checked option
    OPINION = "opinion"  # an opinion (意见建议)

    LABELS = {
        FEELINGS: "只有感受（不太安全、不满意…）",
        MATTERS: "有具体事项",
        OPINION: "有意见建议",
    }


@dataclass(frozen=True)
class QueueFilters:
    village_id: int | None = None
    category: str = ""
    source: str = ""  # Concern.Source: visit / phone / walk_in
    kind: str = ""  # ConcernKind


def concern_queue(*, user: User, filters: QueueFilters | None = None) -> QuerySet[Concern]:
    """The concerns waiting for triage in the user's scope, the oldest first, with what a
    page shows joined (village, household, cadre) and their items prefetched (one query)."""
    filters = filters or QueueFilters()
    concerns = concern_list(user=user).filter(outcome="")
    if filters.village_id:
        concerns = concerns.filter(village_id=filters.village_id)
    if filters.category:
        concerns = concerns.filter(category=filters.category)
    if filters.source:
        concerns = concerns.filter(source=filters.source)
    items = ConcernItem.objects.filter(concern=OuterRef("pk"))
    if filters.kind == ConcernKind.FEELINGS:
        concerns = concerns.filter(~Exists(items.filter(feeling=False)))
    elif filters.kind == ConcernKind.MATTERS:
        concerns = concerns.filter(
            Exists(items.filter(feeling=False).exclude(kind=ConcernItem.Kind.OPINION))
        )
    elif filters.kind == ConcernKind.OPINION:
        concerns = concerns.filter(Exists(items.filter(kind=ConcernItem.Kind.OPINION)))
    return (
        concerns.select_related("village", "household", "cadre")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ConcernItem.objects.select_related("option", "question").order_by(
                    "position", "id"
                ),
            )
        )
        .order_by("reported_at", "id")
    )


# --- 待办 sections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    row: str  # what a row is: "problem", "reporter", "talk", or "" (a count and a link)
    owners: frozenset[str]
    watchers: frozenset[str] = frozenset()


def _s(key, title, row, owners, watchers=()) -> Section:
    return Section(key, title, row, frozenset(owners), frozenset(watchers))


SECTIONS: tuple[Section, ...] = (
    _s("concerns", "待梳理的群众反映", "", {Role.TOWN_ADMIN}),
    _s("reported", "待受理的问题", "problem", {Role.TOWN_ADMIN}),
    _s("to_dispatch", "已受理待交办的问题", "problem", {Role.TOWN_ADMIN}),
    _s("returned", "被退回待重新交办的问题", "problem", {Role.TOWN_ADMIN}),
    _s("overdue", "超期待督办的问题", "problem", {Role.TOWN_ADMIN}),
    _s("unit", "本单位待办理的问题", "problem", {Role.UNIT_HANDLER}),
    _s("extensions", "待审批的延期申请", "problem", {Role.LEADER}, {Role.TOWN_ADMIN}),
    _s("unreachable", "待确认无法联系的反映户", "reporter", {Role.LEADER}),
    _s("feedback", "待反馈群众的办理结果", "reporter", {Role.CADRE, Role.VILLAGE_ADMIN}),
    _s("talks", "待做的思想工作", "talk", {Role.CADRE, Role.VILLAGE_ADMIN}),
)
SECTION_BY_KEY = {section.key: section for section in SECTIONS}


def sections_for(user: User) -> list[Section]:
    """The sections the user acts on, in the table's order."""
    return [section for section in SECTIONS if user.role in section.owners]


def section_visible(user: User, key: str) -> bool:
    section = SECTION_BY_KEY.get(key)
    return section is not None and user.role in section.owners | section.watchers


def _returned() -> Exists:
    return Exists(ProblemEvent.objects.filter(problem=OuterRef("pk"), action="return"))


def _waiting_reporters(user: User) -> QuerySet[ProblemReporter]:
    """Reporting households of handled problems in the user's region still without a verdict."""
    path = user_scope_path(user)
    if path is None:
        return ProblemReporter.objects.none()
    return ProblemReporter.objects.filter(
        village__path__startswith=path,
        problem__status=Problem.Status.HANDLED,
        verdict="",
        unreachable_confirmed_at__isnull=True,
    )


def _stand_in_q(prefix: str = "cadre") -> Q:
    """No visiting cadre who can sign in: the village admin stands in."""
    return (
        Q(**{f"{prefix}__isnull": True})
        | Q(**{f"{prefix}__user__isnull": True})
        | Q(**{f"{prefix}__active": False})
    )


def _visiting_q(user: User) -> Q | None:
    """The reporters or talks that are the user's to take back (cadre) or stand in for."""
    if user.role == Role.CADRE:
        return Q(cadre__user=user)
    if user.role == Role.VILLAGE_ADMIN:
        return _stand_in_q()
    return None


def _talks(user: User) -> QuerySet[ThoughtWork]:
    path = user_scope_path(user)
    relation = _visiting_q(user)
    if path is None or relation is None:
        return ThoughtWork.objects.none()
    return ThoughtWork.objects.filter(
        relation, recorded_at__isnull=True, village__path__startswith=path
    )


def section_base(user: User, key: str, now: dt.datetime) -> QuerySet:
    """The rows of one section for the user, unordered and without joins (for counting)."""
    if not section_visible(user, key):
        return Problem.objects.none()
    if key == "concerns":
        return concern_list(user=user).filter(outcome="")
    if key == "reported":
        return problem_list(user=user).filter(status=Problem.Status.REPORTED)
    if key == "to_dispatch":
        return problem_list(user=user).filter(~_returned(), status=Problem.Status.ACCEPTED)
    if key == "returned":
        return problem_list(user=user).filter(_returned(), status=Problem.Status.ACCEPTED)
    if key == "overdue":
        return problem_list(user=user).filter(overdue_q(now))
    if key == "unit":
        if user.unit_id is None:
            return Problem.objects.none()
        return problem_list(user=user).filter(
            unit_id=user.unit_id, status=Problem.Status.DISPATCHED
        )
    if key == "extensions":
        return problem_list(user=user).filter(
            status=Problem.Status.DISPATCHED, extension_days__isnull=False
        )
    if key == "unreachable":
        return _waiting_reporters(user).filter(tries__gte=ProblemReporter.UNREACHABLE_TRIES)
    if key == "feedback":
        relation = _visiting_q(user)
        if relation is None:
            return ProblemReporter.objects.none()
        return _waiting_reporters(user).filter(relation)
    if key == "talks":
        return _talks(user)
    raise KeyError(key)


def section_rows(user: User, key: str, now: dt.datetime | None = None) -> QuerySet:
    """One section's rows for a page, the most urgent (or the oldest) first, with what a row
    shows joined: a page of rows is one query (two for returned problems: their reasons)."""
    now = now or clock.now()
    if key == "unit":
        return problem_list_unit_inbox(user=user, now=now).select_related("unit")
    if key == "extensions":
        return problem_list_extension_pending(user=user, now=now).select_related("household")
    rows = section_base(user, key, now)
    if key in ("reported", "to_dispatch", "returned", "overdue"):
        rows = rows.select_related("village", "unit", "household", "cadre").annotate(
            colour=colour_case(now)
        )
        if key == "returned":
            returns = ProblemEvent.objects.filter(action="return").select_related("actor")
            rows = rows.prefetch_related(
                Prefetch("events", queryset=returns.order_by("-at", "-id"), to_attr="returns")
            )
        order = ("deadline", "id") if key == "overdue" else ("reported_at", "id")
        return rows.order_by(*order)
    if key in ("unreachable", "feedback"):
        return rows.select_related(
            "problem__village", "problem__unit", "household", "cadre"
        ).order_by("problem__handled_at", "problem_id", "id")
    if key == "talks":
        return rows.select_related("village", "household", "cadre", "concern").order_by(
            "created_at", "id"
        )
    return rows.order_by("reported_at", "id")


@dataclass(frozen=True)
class TodoCounts:
    sections: dict[str, int]  # the user's own sections
    unread: int  # unread notices (站内消息), for the header

    @property
    def total(self) -> int:
        return sum(self.sections.values())


def todo_counts(
    *, user: User, now: dt.datetime | None = None, also: tuple[str, ...] = ()
) -> TodoCounts:
    """How many rows each of the user's sections (and the sections in `also` they may see)
    holds, with their unread notices: one query."""
    now = now or clock.now()
    keys = [section.key for section in sections_for(user)]
    keys += [key for key in also if key not in keys and section_visible(user, key)]
    expressions: dict[str, Any] = {key: CountOf(section_base(user, key, now)) for key in keys}
    expressions["unread"] = CountOf(
        Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    )
    found = counts_of(user, expressions)
    unread = found.pop("unread")
    return TodoCounts(found, unread)


# --- The town page's ledger summary -------------------------------------------------------------


@dataclass(frozen=True)
class LedgerSummary:
    concerns: int  # not triaged yet
    accepted: int  # accepted, not dispatched (returned ones included)
    overdue: int  # red
    due_soon: int  # yellow
    extensions: int  # extension requests waiting for the leader


def town_ledger_summary(
    *, user: User, town: Region, now: dt.datetime | None = None
) -> LedgerSummary:
    """The town page's first lines, for the user's part of `town`: one query."""
    now = now or clock.now()
    problems = problem_list(user=user).filter(village__parent=town)
    expressions = {
        "concerns": CountOf(concern_list(user=user).filter(village__parent=town, outcome="")),
        "accepted": CountOf(problems.filter(status=Problem.Status.ACCEPTED)),
        "overdue": CountOf(problems.filter(colour_q(Colour.RED, now))),
        "due_soon": CountOf(problems.filter(colour_q(Colour.YELLOW, now))),
        "extensions": CountOf(
            problems.filter(status=Problem.Status.DISPATCHED, extension_days__isnull=False)
        ),
    }
    return LedgerSummary(**counts_of(user, expressions))
