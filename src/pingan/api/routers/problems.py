"""The problem ledger (台账, docs/ledger.md): list and detail in the caller's scope, reporting by hand,
and every lifecycle action (`POST /problems/{id}/actions`), each one call to a selector or to
`ledger.services`. Refusals come back as docs/operations.md errors (`api.errors`): 403 the role may not,
404 outside the scope, 409 a stale `version`, 422 not allowed from the current state."""

from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import field_validator

from pingan.accounts.models import User
from pingan.api.pagination import LimitOffset
from pingan.api.schemas import (
    ErrorOut,
    HouseholdRef,
    LocalDateTime,
    Ref,
    choices_text,
    enum_schema,
    errors_for,
    one_of,
)
from pingan.api.security import AuthedRequest
from pingan.ledger.deadlines import Colour
from pingan.ledger.lifecycle import ACTION_LABELS, EVENT_LABELS, Action, actions_available
from pingan.ledger.models import Problem, ProblemEvent, ProblemReporter
from pingan.ledger.selectors import (
    ProblemFilters,
    problem_events,
    problem_get,
    problem_list_filtered,
)
from pingan.ledger.selectors import problem_list as problems_in_scope
from pingan.ledger.services import ActionInput, problem_act, problem_report

router = Router(tags=["problems"])

SYSTEM_ACTOR = "系统"

STATUS_LABELS = dict(Problem.Status.choices)
SEVERITY_LABELS = dict(Problem.Severity.choices)
VERDICT_LABELS = dict(Problem.Verdict.choices)
REPORTER_VERDICT_LABELS = dict(ProblemReporter.Verdict.choices)
REPORT_SOURCES = {
    code: label for code, label in Problem.Source.choices if code != Problem.Source.SURVEY
}

# Codes documented as enums but validated as text: the services and the filter validators
# below refuse a wrong one with a Chinese message that names the choices.
StatusCode = Annotated[str, enum_schema(STATUS_LABELS)]
ColourCode = Annotated[str, enum_schema(Colour.LABELS)]
SourceCode = Annotated[str, enum_schema(REPORT_SOURCES)]
ActionCode = Annotated[str, enum_schema(Action)]
SeverityCode = Annotated[str, enum_schema(SEVERITY_LABELS)]
VerdictCode = Annotated[str, enum_schema(VERDICT_LABELS)]


class ProblemOut(Schema):
    """One row of the ledger. `version` goes back with the next action (a stale one is a 409);
    `actions` are the action codes the caller may take now."""

    id: int
    code: str
    village: Ref
    household: HouseholdRef | None
    source: str
    source_label: str
    category: str
    description: str
    status: str = Field(description=f"状态：{choices_text(STATUS_LABELS)}")
    status_label: str
    colour: str = Field(description=f"颜色：{choices_text(Colour.LABELS)}")
    colour_label: str
    unit: Ref | None
    severity: str = Field(description=f"类型：{choices_text(SEVERITY_LABELS)}；未交办时为空")
    severity_label: str
    dispatched_at: LocalDateTime | None
    deadline: LocalDateTime | None
    deadline_warning: str = Field(description="节假日历未覆盖截止年份时的提示（按周一至周五计）")
    redo_count: int
    reported_at: LocalDateTime
    closed_at: LocalDateTime | None
    verdict: str = Field(description=f"群众评价：{choices_text(VERDICT_LABELS)}；未反馈时为空")
    verdict_label: str
    reporters_waiting: int = Field(
        description="还在等待反馈结果的反映户数（满意或经领导确认无法联系即不再等待）；为 0 时销号"
    )
    version: int
    actions: list[str] = Field(
        description=f"您现在可执行的操作：{choices_text(ACTION_LABELS)}",
    )

    @staticmethod
    def resolve_source_label(problem: Problem) -> str:
        return problem.get_source_display()

    @staticmethod
    def resolve_status_label(problem: Problem) -> str:
        return problem.get_status_display()

    @staticmethod
    def resolve_colour_label(problem: Problem) -> str:
        return Colour.LABELS.get(problem.colour, "")  # type: ignore[attr-defined]

    @staticmethod
    def resolve_severity_label(problem: Problem) -> str:
        return SEVERITY_LABELS.get(problem.severity, "")

    @staticmethod
    def resolve_verdict_label(problem: Problem) -> str:
        return VERDICT_LABELS.get(problem.verdict, "")

    @staticmethod
    def resolve_actions(problem: Problem, context: dict[str, Any]) -> list[str]:
        user: User = context["request"].auth
        return [str(action) for action in actions_available(user=user, problem=problem)]


class EventOut(Schema):
    action: str
    action_label: str
    from_status: str
    to_status: str
    actor: str = Field(description="操作人；系统自动（到期提醒、督办等）时为“系统”")
    note: str
    data: dict[str, Any]
    at: LocalDateTime

    @staticmethod
    def resolve_action_label(event: ProblemEvent) -> str:
        return EVENT_LABELS.get(event.action, event.action)

    @staticmethod
    def resolve_actor(event: ProblemEvent) -> str:
        return str(event.actor) if event.actor is not None else SYSTEM_ACTOR


class ProblemDetailOut(ProblemOut):
    """A problem with its result, verdict, pending extension, supervision and full history."""

    result: str
    handled_at: LocalDateTime | None
    verdict_note: str
    feedback_at: LocalDateTime | None
    extension_days: int | None = Field(description="待领导审批的延期申请（工作日）；无则为空")
    extension_reason: str
    supervised_at: LocalDateTime | None = Field(description="督办时间（针对当前截止时间）")
    criticized_at: LocalDateTime | None = Field(description="列入通报批评的时间")
    events: list[EventOut]

    @staticmethod
    def resolve_events(problem: Problem) -> list[ProblemEvent]:
        return list(problem_events(problem=problem))


class ReporterOut(Schema):
    """A household that reported the problem (several when concerns were joined, 并案). Its
    `id` is the `reporter_id` of the feedback, contact_failed and confirm_unreachable actions."""

    id: int
    village: Ref
    household: HouseholdRef | None
    cadre: Ref | None = Field(description="走访该户、负责反馈结果的干部")
    verdict: str = Field(
        description=f"该户的评价：{choices_text(REPORTER_VERDICT_LABELS)}；未评价时为空"
    )
    verdict_label: str
    tries: int = Field(description="联系未果的次数（满 3 次后可由领导确认无法联系）")
    note: str = Field(description="评价说明（如不满意的原因）")
    feedback_at: LocalDateTime | None
    unreachable_confirmed_at: LocalDateTime | None = Field(description="领导确认无法联系的时间")
    done: bool = Field(description="该户已不再等待：满意，或已确认无法联系")

    @staticmethod
    def resolve_verdict_label(reporter: ProblemReporter) -> str:
        return REPORTER_VERDICT_LABELS.get(reporter.verdict, "")

    @staticmethod
    def resolve_note(reporter: ProblemReporter) -> str:
        return reporter.verdict_note


def _reporter_list(*, user: User, problem_id: int) -> QuerySet[ProblemReporter]:
    """The reporting households of a problem the user may see (Http404 otherwise), with
    village, household and cadre. To move to `ledger.selectors` as `problem_reporter_list`."""
    if not problems_in_scope(user=user).filter(pk=problem_id).exists():
        raise Http404("problem not found")
    return (
        ProblemReporter.objects.filter(problem_id=problem_id)
        .select_related("village", "household", "cadre")
        .order_by("added_at", "id")
    )


class ProblemFilterIn(Schema):
    village_id: int | None = Field(None, description="村")
    status: StatusCode | None = Field(None, description=f"状态：{choices_text(STATUS_LABELS)}")
    colour: ColourCode | None = Field(None, description=f"颜色：{choices_text(Colour.LABELS)}")
    unit_id: int | None = Field(None, description="责任单位")
    category: str = Field("", max_length=40, description="类别")
    overdue: bool = Field(False, description="只看超期（已交办且已过截止时间）")
    q: str = Field("", max_length=100, description="按编号或问题描述查找")

    _status = field_validator("status")(one_of(STATUS_LABELS, "状态"))
    _colour = field_validator("colour")(one_of(Colour.LABELS, "颜色"))

    def to_filters(self) -> ProblemFilters:
        return ProblemFilters(
            village_id=self.village_id,
            status=self.status or "",
            colour=self.colour or "",
            unit_id=self.unit_id,
            category=self.category.strip(),
            overdue=self.overdue,
            search=self.q.strip(),
        )


class ProblemReportIn(Schema):
    """A problem raised by phone, at the window, or by a cadre for a household of theirs."""

    village_id: int | None = Field(None, description="村（不选住户时必填）")
    household_id: int | None = Field(None, description="住户（干部登记时必填）")
    description: str = Field(min_length=1, max_length=2000, description="问题描述")
    category: str = Field("", max_length=40, description="类别")
    source: SourceCode | None = Field(
        None,
        max_length=16,
        description=f"来源：{choices_text(REPORT_SOURCES)}；默认干部为走访反映，其他为来电来访",
    )


class ActionIn(Schema):
    """One lifecycle action. Which fields an action needs: reject/return/extend_deny `reason`;
    dispatch `unit_id` and `severity`; extend_request `reason` and `days`; extend_approve
    `days` optionally (default: the days requested); handle `result`; feedback `verdict`,
    and `reason` when the resident is dissatisfied."""

    action: ActionCode = Field(
        min_length=1, max_length=24, description=f"操作：{choices_text(ACTION_LABELS)}"
    )
    version: int = Field(ge=1, description="您所看到的问题版本号（列表或详情中的 version）")
    reason: str = Field("", max_length=500, description="理由、说明或群众不满意的原因")
    unit_id: int | None = Field(None, description="交办单位")
    severity: SeverityCode | None = Field(
        None, max_length=16, description=f"问题类型：{choices_text(SEVERITY_LABELS)}"
    )
    days: int | None = Field(None, description="延期天数（工作日）")
    result: str = Field("", max_length=4000, description="办理结果")
    verdict: VerdictCode | None = Field(
        None, max_length=16, description=f"群众评价：{choices_text(VERDICT_LABELS)}"
    )
    reporter_id: int | None = Field(
        None,
        description="反映户（problem 的 reporters 中的 id）：群众评价、联系不上、确认联系不上时"
        "指明是哪一户；只有一户待评价时可不填",
    )


@router.get(
    "",
    response={200: list[ProblemOut], 401: ErrorOut, 422: ErrorOut},
    summary="问题台账（按权限范围，可筛选）",
)
@paginate(LimitOffset)
def problem_list(request: AuthedRequest, filters: Query[ProblemFilterIn]):
    return problem_list_filtered(user=request.auth, filters=filters.to_filters())


@router.get(
    "/{int:problem_id}",
    response={200: ProblemDetailOut, 401: ErrorOut, 404: ErrorOut},
    summary="问题详情与流转记录",
)
def problem_detail(request: AuthedRequest, problem_id: int):
    return problem_get(user=request.auth, problem_id=problem_id)


@router.get(
    "/{int:problem_id}/reporters",
    response={200: list[ReporterOut]} | errors_for(401, 404, 422),
    summary="问题的反映户（每户的评价、联系未果次数、是否已完成反馈）",
    description="并案后一个问题可有多户反映。每户由走访干部反馈办理结果并记录评价；联系未果满 3 次"
    "的户可由领导确认无法联系。所有户都满意或已确认无法联系时问题销号。对某一户操作时，"
    "在 `POST /problems/{id}/actions` 中以 `reporter_id` 指明（即此处的 `id`）。",
)
@paginate(LimitOffset)
def problem_reporters(request: AuthedRequest, problem_id: int):
    return _reporter_list(user=request.auth, problem_id=problem_id)


@router.post(
    "",
    response={201: ProblemDetailOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="登记问题（来电来访或干部走访反映）",
)
def problem_create(request: AuthedRequest, payload: ProblemReportIn):
    problem = problem_report(
        actor=request.auth,
        village_id=payload.village_id,
        household_id=payload.household_id,
        description=payload.description,
        category=payload.category,
        source=payload.source or "",
    )
    return Status(201, problem_get(user=request.auth, problem_id=problem.pk))


@router.post(
    "/{int:problem_id}/actions",
    response={200: ProblemDetailOut} | {status: ErrorOut for status in (401, 403, 404, 409, 422)},
    summary="办理操作（受理、交办、退回、延期、办结、反馈群众评价等）",
)
def problem_action(request: AuthedRequest, problem_id: int, payload: ActionIn):
    problem = problem_act(
        actor=request.auth,
        problem_id=problem_id,
        action=payload.action,
        version=payload.version,
        data=ActionInput(
            reason=payload.reason,
            unit_id=payload.unit_id,
            severity=payload.severity or "",
            days=payload.days,
            result=payload.result,
            verdict=payload.verdict or "",
            reporter_id=payload.reporter_id,
        ),
    )
    # A unit that returned the problem still sees it (its own history): always in scope.
    return problem_get(user=request.auth, problem_id=problem.pk)
