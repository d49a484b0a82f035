"""The problem lifecycle (docs/ledger.md) as one explicit table: every action, the state it starts
from, the state it leads to, and the roles that may take it.

Services (`ledger.services.problem_act`), pages, the API and the tests all read this table;
nothing else decides whether a problem may move. Beyond the role, some actions are tied to
a relation with the problem (`Relation`): a unit handler acts only on problems of their own
unit, and the resident's verdict is recorded by the cadre who visited.

```
reported ──accept──> accepted ──dispatch──> dispatched ──handle──> handled ──feedback──> closed
   └─reject─> rejected     ^                   │ ├─extend_request / extend_approve / extend_deny
                           └──────return───────┘ └─remind                   └─dissatisfied─> dispatched
```

A problem triaged from concerns (`ledger.triage`) starts as accepted. Its reporting households
(`ProblemReporter`) give their verdicts one by one: a satisfied verdict, or the leader's
confirmation that a household could not be reached after 3 recorded tries (contact_failed),
closes the problem only when it is the last household waiting (until then it stays handled);
one dissatisfied household sends it back (重办).
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.core.workdays import working_days_between
from pingan.ledger.models import Problem

Status = Problem.Status


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    DISPATCH = "dispatch"
    RETURN = "return"
    EXTEND_REQUEST = "extend_request"
    EXTEND_APPROVE = "extend_approve"
    EXTEND_DENY = "extend_deny"
    REMIND = "remind"
    HANDLE = "handle"
    FEEDBACK = "feedback"
    CONTACT_FAILED = "contact_failed"
    CONFIRM_UNREACHABLE = "confirm_unreachable"


class Relation(StrEnum):
    """Who, within a role, may act on a given problem (besides seeing it in their region)."""

    ANY = "any"  # anyone of the role whose region holds the problem
    OWN_UNIT = "own_unit"  # the problem is dispatched to the user's unit
    VISITING_CADRE = "visiting_cadre"  # the cadre who visits a reporting household (or the
    # village admin, when that household has no visiting cadre with a login)


@dataclass(frozen=True)
class Transition:
    action: Action
    source: str
    target: str
    roles: frozenset[str]
    relation: Relation
    label: str
    # Input the action needs; `ledger.services` checks it and says in Chinese what is missing.
    needs: tuple[str, ...] = ()
    # feedback's two outcomes are two rows of the table, told apart by the verdict
    verdict: str = ""


def _t(action, source, target, roles, relation, label, needs=(), verdict=""):
    return Transition(action, source, target, frozenset(roles), relation, label, needs, verdict)


TOWN, LEADER, UNIT, CADRE, VILLAGE = (
    Role.TOWN_ADMIN,
    Role.LEADER,
    Role.UNIT_HANDLER,
    Role.CADRE,
    Role.VILLAGE_ADMIN,
)

TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.ACCEPT, Status.REPORTED, Status.ACCEPTED, {TOWN}, Relation.ANY, "受理"),
    _t(Action.REJECT, Status.REPORTED, Status.REJECTED, {TOWN}, Relation.ANY, "不予受理",
       ("reason",)),
    _t(Action.DISPATCH, Status.ACCEPTED, Status.DISPATCHED, {TOWN}, Relation.ANY, "交办",
       ("unit_id", "severity")),
    _t(Action.RETURN, Status.DISPATCHED, Status.ACCEPTED, {UNIT}, Relation.OWN_UNIT, "退回",
       ("reason",)),
    _t(Action.EXTEND_REQUEST, Status.DISPATCHED, Status.DISPATCHED, {UNIT}, Relation.OWN_UNIT,
       "申请延期", ("reason", "days")),
    _t(Action.EXTEND_APPROVE, Status.DISPATCHED, Status.DISPATCHED, {LEADER}, Relation.ANY,
       "批准延期"),
    _t(Action.EXTEND_DENY, Status.DISPATCHED, Status.DISPATCHED, {LEADER}, Relation.ANY,
       "驳回延期", ("reason",)),
    _t(Action.REMIND, Status.DISPATCHED, Status.DISPATCHED, {TOWN}, Relation.ANY, "催办"),
    _t(Action.HANDLE, Status.DISPATCHED, Status.HANDLED, {UNIT}, Relation.OWN_UNIT, "办结",
       ("result",)),
    _t(Action.FEEDBACK, Status.HANDLED, Status.CLOSED, {CADRE, VILLAGE}, Relation.VISITING_CADRE,
       "群众满意，销号", ("verdict",), Problem.Verdict.SATISFIED),
    _t(Action.FEEDBACK, Status.HANDLED, Status.DISPATCHED, {CADRE, VILLAGE},
       Relation.VISITING_CADRE, "群众不满意，重新交办", ("verdict", "reason"),
       Problem.Verdict.DISSATISFIED),
    _t(Action.CONTACT_FAILED, Status.HANDLED, Status.HANDLED, {CADRE, VILLAGE},
       Relation.VISITING_CADRE, "联系未果"),
    _t(Action.CONFIRM_UNREACHABLE, Status.HANDLED, Status.CLOSED, {LEADER}, Relation.ANY,
       "确认无法联系"),
)  # fmt: skip

ACTION_LABELS: dict[str, str] = {
    Action.ACCEPT: "受理",
    Action.REJECT: "不予受理",
    Action.DISPATCH: "交办",
    Action.RETURN: "退回",
    Action.EXTEND_REQUEST: "申请延期",
    Action.EXTEND_APPROVE: "批准延期",
    Action.EXTEND_DENY: "驳回延期",
    Action.REMIND: "催办",
    Action.HANDLE: "办结",
    Action.FEEDBACK: "反馈群众评价",
    Action.CONTACT_FAILED: "联系未果",
    Action.CONFIRM_UNREACHABLE: "确认无法联系",
}

# Events that are not user actions: the first report, and what `tick` writes.
EVENT_LABELS: dict[str, str] = {
    **ACTION_LABELS,
    "report": "登记",
    "file": "立案",
    "merge": "并案",
    "tick_remind": "到期提醒",
    "supervise": "督办",
    "criticize": "列入通报批评",
}


class LedgerError(Exception):
    """A refused action, with a message a township official can act on."""

    status = 422

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ActionForbidden(LedgerError, PermissionDenied):
    """The user's role (or relation to the problem) may not take this action: 403."""

    status = 403


class StaleVersion(LedgerError):
    """Someone changed the problem since the user loaded it: 409, reload and retry."""

    status = 409


class TransitionNotAllowed(LedgerError):
    """The action is not possible from the problem's current state: 422."""


class ActionInvalid(LedgerError):
    """The action's input is missing or wrong (a reason, a unit, a late return): 422."""


def transitions_for(action: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.action == action]


def roles_for(action: str) -> frozenset[str]:
    return frozenset().union(*(t.roles for t in transitions_for(action)))


def related(user, problem: Problem, relation: Relation, reporter=None) -> bool:
    """Whether `user` stands in `relation` to `problem` (their region scope is checked by the
    selector that found the problem). For the visiting cadre: to `reporter`, or to any
    reporting household still waiting for its verdict."""
    if relation == Relation.ANY:
        return True
    if relation == Relation.OWN_UNIT:
        return user.unit_id is not None and problem.unit_id == user.unit_id
    # VISITING_CADRE
    households = [reporter] if reporter is not None else waiting_reporters(problem)
    if not households:  # a problem kept before reporting households existed
        return _visits(user, problem.cadre, problem.village_id)
    return any(_visits(user, r.cadre, r.village_id) for r in households)


def _visits(user, cadre, village_id) -> bool:
    """The cadre themself; the village admin of the household's village stands in for a
    household without a visiting cadre who can sign in."""
    if user.role == Role.CADRE:
        return cadre is not None and cadre.user_id == user.pk
    if user.region_id != village_id:
        return False
    return cadre is None or cadre.user_id is None or not cadre.active


def waiting_reporters(problem: Problem) -> list:
    """The reporting households still to give their verdict (prefetched `reporters` used)."""
    return [r for r in problem.reporters.all() if not r.done]


def transition_find(
    *, user, problem: Problem, action: str, verdict: str = "", reporter=None
) -> Transition:
    """The table row for `action` on `problem` by `user`, or the refusal to show them.

    Order of checks: an action the role never takes → 403; the right role but not this
    problem's unit or cadre → 403; not possible from the current state → 422."""
    rows = transitions_for(action)
    if not rows:
        raise ActionInvalid(f"未知的操作：{action}", field="action")
    if user.role not in roles_for(action):
        raise ActionForbidden(f"您的角色无权执行「{ACTION_LABELS[action]}」")
    if not any(related(user, problem, t.relation, reporter) for t in rows if user.role in t.roles):
        raise ActionForbidden(
            "该问题未交办给您的单位"
            if any(t.relation == Relation.OWN_UNIT for t in rows)
            else "只有走访该户的干部可以反馈群众评价"
        )
    from_here = [t for t in rows if t.source == problem.status]
    if not from_here:
        raise TransitionNotAllowed(
            f"问题当前为「{problem.get_status_display()}」，不能「{ACTION_LABELS[action]}」"
        )
    if len(from_here) == 1 and not from_here[0].verdict:
        return _allowed(user, problem, from_here[0], reporter)
    for row in from_here:
        if row.verdict == verdict:
            return _allowed(user, problem, row, reporter)
    raise ActionInvalid("请选择群众评价：满意或不满意", field="verdict")


def _allowed(user, problem: Problem, row: Transition, reporter=None) -> Transition:
    """The row actually chosen (feedback: by its verdict) must itself allow the user's role
    and relation; the checks above only ruled out users no row of the action allows."""
    if user.role not in row.roles:
        raise ActionForbidden(f"您的角色无权「{row.label}」")
    if not related(user, problem, row.relation, reporter):
        raise ActionForbidden(
            "该问题未交办给您的单位"
            if row.relation == Relation.OWN_UNIT
            else "只有走访该户的干部可以反馈群众评价"
        )
    return row


def action_guard(
    *, problem: Problem, action: str, now: dt.datetime | None = None
) -> ActionInvalid | None:
    """Why `action` is not possible on `problem` right now although the table allows it from
    its state (None when it is): an extension needs a request waiting (and only one may wait),
    and a unit may return a problem only within the campaign's return days."""
    if action in (Action.EXTEND_APPROVE, Action.EXTEND_DENY) and problem.extension_days is None:
        return ActionInvalid("没有待审批的延期申请", field="days")
    if action == Action.CONFIRM_UNREACHABLE and not any(
        r.tries >= 3 for r in waiting_reporters(problem)
    ):
        return ActionInvalid("没有联系未果满 3 次、等待确认的反映户", field="reporter_id")
    if action == Action.EXTEND_REQUEST and problem.extension_days is not None:
        return ActionInvalid("已有一项延期申请等待领导审批", field="days")
    if action == Action.RETURN and problem.dispatched_at is not None:
        limit = problem.campaign.return_days
        used = working_days_between(
            clock.local(problem.dispatched_at).date(), clock.local(now).date()
        )
        if used > limit:
            return ActionInvalid(
                f"交办已超过 {limit} 个工作日，不能退回；如确需调整请联系镇综治中心",
                field="reason",
            )
    return None


def actions_available(*, user, problem: Problem, now: dt.datetime | None = None) -> list[Action]:
    """The actions `user` may take on `problem` now (for buttons and the API's `actions`)."""
    available: list[Action] = []
    for transition in TRANSITIONS:
        if transition.action in available or transition.source != problem.status:
            continue
        if (
            user.role in transition.roles
            and related(user, problem, transition.relation)
            and action_guard(problem=problem, action=transition.action, now=now) is None
        ):
            available.append(transition.action)
    return available
