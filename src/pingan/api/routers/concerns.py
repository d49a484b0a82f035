"""Concerns (反映, docs/ledger.md): what visits, phone calls and walk-ins brought in, in the
caller's scope; a phone or walk-in report; and the town center's triage (梳理), one concern
or a batch of them, each one call to `visits.concerns` or `ledger.triage`.

Triage items are validated one by one (not as one request body), like `POST /visits/sync`: a
malformed decision is refused on its own while the rest of the batch goes through.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BaseModel, TypeAdapter, WithJsonSchema, field_validator
from pydantic import Field as PydanticField
from pydantic import ValidationError as PydanticValidationError

from pingan.accounts.models import Role, User
from pingan.api.errors import translate_error
from pingan.api.pagination import LimitOffset
from pingan.api.schemas import (
    HouseholdRef,
    LocalDateTime,
    Ref,
    choices_text,
    enum_schema,
    errors_for,
    one_of,
)
from pingan.api.security import AuthedRequest
from pingan.core import clock
from pingan.ledger.models import Problem, ProblemConcern
from pingan.ledger.routing import Suggestion, TownIndex, suggest
from pingan.ledger.triage import BATCH_LIMIT, Decision, DecisionResult, concerns_triage
from pingan.visits.concerns import ConcernError, concern_report
from pingan.visits.models import Concern, ConcernItem
from pingan.visits.selectors import concern_list

router = Router(tags=["concerns"])

SOURCE_LABELS = dict(Concern.Source.choices)
REPORT_SOURCE_LABELS = {
    code: label for code, label in SOURCE_LABELS.items() if code != Concern.Source.VISIT
}
OUTCOME_LABELS = dict(Concern.Outcome.choices)
ITEM_KIND_LABELS = dict(ConcernItem.Kind.choices)
PROBLEM_STATUS_LABELS = dict(Problem.Status.choices)
SEVERITY_LABELS = dict(Problem.Severity.choices)
STATUS_FILTER_LABELS = {"untriaged": "待梳理", "triaged": "已梳理", **OUTCOME_LABELS}

SourceCode = Annotated[str, enum_schema(SOURCE_LABELS)]
ReportSourceCode = Annotated[str, enum_schema(REPORT_SOURCE_LABELS)]
StatusFilterCode = Annotated[str, enum_schema(STATUS_FILTER_LABELS)]


# ---------------------------------------------------------------------------------------------
# Reads. The selectors below belong with `concern_list`; they read the ledger's links to
# problems (ProblemConcern), so their home is `ledger.selectors` (visits may not import it).


@dataclass(frozen=True)
class ConcernFilters:
    """The concern list's filters (all optional)."""

    status: str = ""  # untriaged | triaged | an outcome
    village_id: int | None = None
    category: str = ""
    source: str = ""
    since: dt.datetime | None = None  # reported at or after


def _concern_rows(*, user: User) -> QuerySet[Concern]:
    """The user's concerns with everything a page of them shows: village, household, cadre and
    talk joined; the items and the linked problems prefetched (three queries for a page)."""
    return (
        concern_list(user=user)
        .select_related("village__parent", "household", "cadre", "thought_work")
        .prefetch_related(
            Prefetch("items", queryset=ConcernItem.objects.select_related("option")),
            Prefetch(
                "problem_links",
                queryset=ProblemConcern.objects.select_related("problem").order_by("at", "id"),
            ),
        )
    )


def _concern_list_filtered(*, user: User, filters: ConcernFilters) -> QuerySet[Concern]:
    """The user's concerns under `filters`, the oldest first (the order they wait in)."""
    concerns = _concern_rows(user=user)
    if filters.status == "untriaged":
        concerns = concerns.filter(outcome="")
    elif filters.status == "triaged":
        concerns = concerns.exclude(outcome="")
    elif filters.status:
        concerns = concerns.filter(outcome=filters.status)
    if filters.village_id:
        concerns = concerns.filter(village_id=filters.village_id)
    if filters.category:
        concerns = concerns.filter(category=filters.category)
    if filters.source:
        concerns = concerns.filter(source=filters.source)
    if filters.since is not None:
        concerns = concerns.filter(reported_at__gte=filters.since)
    return concerns.order_by("reported_at", "id")


def _concern_get(*, user: User, concern_id: int) -> Concern:
    concern = _concern_rows(user=user).filter(pk=concern_id).first()
    if concern is None:
        raise Http404("concern not found")
    return concern


def _may_triage(user: User) -> bool:
    """The town center triages (the rule of `ledger.triage`, which checks it again)."""
    return user.role == Role.TOWN_ADMIN


def refusal(exc: ConcernError) -> Status:
    """A refused report or talk (`visits.concerns.ConcernError`: 403 or 422) in the shape of
    every API error, with the field it is about in `errors`."""
    kind = "concern_forbidden" if exc.status == 403 else "concern_invalid"
    errors = [{"loc": ["body", exc.field], "msg": exc.message, "type": kind}] if exc.field else []
    return Status(exc.status, {"detail": exc.message, "errors": errors})


# ---------------------------------------------------------------------------------------------
# Output


class ConcernItemOut(Schema):
    id: int
    kind: str = Field(description=f"类型：{choices_text(ITEM_KIND_LABELS)}")
    kind_label: str
    text: str
    category: str
    feeling: bool = Field(description="感受类回答（如“不太安全”），没有具体事项")

    @staticmethod
    def resolve_kind_label(item: ConcernItem) -> str:
        return ITEM_KIND_LABELS.get(item.kind, item.kind)


class ProblemLinkOut(Schema):
    id: int
    code: str


class ConcernOut(Schema):
    """One concern (反映) with its items. `version` goes with a triage decision (a stale one
    is refused with 409); `problems` are the problems it was filed into or joined (立案/并案)."""

    id: int
    source: str = Field(description=f"来源：{choices_text(SOURCE_LABELS)}")
    source_label: str
    village: Ref
    household: HouseholdRef | None
    cadre: Ref | None = Field(description="走访该户的干部（反馈结果、做思想工作）")
    category: str
    text: str = Field(description="来电来访时群众反映的内容（走访的内容见 items）")
    caller_name: str = Field(description="来电来访人（已脱敏）")
    callback_phone: str = Field(description="回电号码（已脱敏）")
    reported_at: LocalDateTime
    items: list[ConcernItemOut]
    outcome: str = Field(description=f"梳理结果：{choices_text(OUTCOME_LABELS)}；待梳理时为空")
    outcome_label: str
    outcome_note: str = Field(description="梳理说明（不予立案的理由等）")
    decided_at: LocalDateTime | None
    version: int
    problems: list[ProblemLinkOut] = Field(description="立案或并入的问题")
    thought_work_id: int | None = Field(description="思想工作（GET /talks 中的 id）；没有时为空")

    @staticmethod
    def resolve_source_label(concern: Concern) -> str:
        return SOURCE_LABELS.get(concern.source, concern.source)

    @staticmethod
    def resolve_caller_name(concern: Concern) -> str:
        return concern.caller_name_masked

    @staticmethod
    def resolve_callback_phone(concern: Concern) -> str:
        return concern.phone_masked

    @staticmethod
    def resolve_items(concern: Concern) -> list[ConcernItem]:
        return list(concern.items.all())

    @staticmethod
    def resolve_outcome_label(concern: Concern) -> str:
        return OUTCOME_LABELS.get(concern.outcome, "")

    @staticmethod
    def resolve_problems(concern: Concern) -> list[dict[str, Any]]:
        return [{"id": link.problem_id, "code": link.problem.code}
                for link in concern.problem_links.all()]  # fmt: skip

    @staticmethod
    def resolve_thought_work_id(concern: Concern) -> int | None:
        try:
            return concern.thought_work.pk
        except ObjectDoesNotExist:
            return None


class CandidateOut(Schema):
    """An open problem of the town the concern may join (并案), with its score (0–100)."""

    problem_id: int
    code: str
    description: str
    village_id: int
    category: str
    status: str
    status_label: str
    version: int
    score: float = Field(description="相似度总分：文字 70% + 同类别 15 + 同村 15（邻村 7.5）")
    text_score: float = Field(description="文字相似度（0–100）")

    @staticmethod
    def resolve_status_label(candidate) -> str:
        return PROBLEM_STATUS_LABELS.get(candidate.status, candidate.status)


class SuggestionOut(Schema):
    """What the routing rules and the open problems suggest (the town center decides)."""

    outcome: str = Field(description=f"建议的梳理结果：{choices_text(OUTCOME_LABELS)}")
    outcome_label: str
    reason: str
    category: str
    unit: Ref | None = Field(description="派单规则建议的责任单位")
    candidates: list[CandidateOut] = Field(description="可并案的问题，按分数从高到低")

    @staticmethod
    def resolve_outcome_label(suggestion: Suggestion) -> str:
        return OUTCOME_LABELS.get(suggestion.outcome, suggestion.outcome)


class ConcernDetailOut(ConcernOut):
    suggestion: SuggestionOut | None = Field(
        None, description="系统建议（仅镇综治中心，且仅待梳理的反映）"
    )


def _with_suggestion(concern: Concern, user: User) -> Concern:
    """The concern, with `suggestion` for the town center while it waits for triage."""
    suggestion = None
    if _may_triage(user) and not concern.outcome and concern.village.parent is not None:
        index = TownIndex(concern.village.parent)
        suggestion = suggest(concern, list(concern.items.all()), index)
    concern.suggestion = suggestion  # type: ignore[attr-defined]
    return concern


# ---------------------------------------------------------------------------------------------
# Reading


class ConcernFilterIn(Schema):
    status: StatusFilterCode | None = Field(
        None, description=f"梳理状态：{choices_text(STATUS_FILTER_LABELS)}"
    )
    village_id: int | None = Field(None, description="村")
    category: str = Field("", max_length=40, description="类别")
    source: SourceCode | None = Field(None, description=f"来源：{choices_text(SOURCE_LABELS)}")
    since: dt.datetime | None = Field(
        None, description="只看此时间（含）之后反映的；不带时区时按北京时间"
    )

    _status = field_validator("status")(one_of(STATUS_FILTER_LABELS, "梳理状态"))
    _source = field_validator("source")(one_of(SOURCE_LABELS, "来源"))

    @field_validator("since")
    @classmethod
    def _beijing(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=clock.SHANGHAI)
        return value

    def to_filters(self) -> ConcernFilters:
        return ConcernFilters(
            status=self.status or "",
            village_id=self.village_id,
            category=self.category.strip(),
            source=self.source or "",
            since=self.since,
        )


@router.get(
    "",
    response={200: list[ConcernOut]} | errors_for(401, 422),
    summary="群众反映（按权限范围，可筛选）",
    description="镇综治中心、领导小组、县综治中心看辖区内全部反映，村管理员看本村的，走访干部看"
    "自己走访的，责任单位看不到反映。按反映时间从早到晚排列（待梳理的按先来后到）。",
)
@paginate(LimitOffset)
def concern_list_page(request: AuthedRequest, filters: Query[ConcernFilterIn]):
    return _concern_list_filtered(user=request.auth, filters=filters.to_filters())


@router.get(
    "/{int:concern_id}",
    response={200: ConcernDetailOut} | errors_for(401, 404),
    summary="反映详情（镇综治中心另见梳理建议）",
)
def concern_detail(request: AuthedRequest, concern_id: int):
    return _with_suggestion(_concern_get(user=request.auth, concern_id=concern_id), request.auth)


# ---------------------------------------------------------------------------------------------
# Phone and walk-in reports


class ConcernReportIn(Schema):
    """A phone call or a walk-in (来电来访). A cadre reports for a household assigned to them;
    the town center and village admins for a household or a village they see."""

    household_id: int | None = Field(None, description="住户（走访干部登记时必填）")
    village_id: int | None = Field(None, description="村（不选住户时必填）")
    text: str = Field(min_length=1, max_length=2000, description="反映的内容")
    source: ReportSourceCode = Field(
        Concern.Source.PHONE, description=f"来源：{choices_text(REPORT_SOURCE_LABELS)}"
    )
    category: str = Field("", max_length=40, description="类别（须在本镇的类别表中）")
    caller_name: str = Field("", max_length=32, description="来电来访人姓名（加密保存）")
    callback_phone: str = Field("", max_length=20, description="回电号码（加密保存）")
    client_key: str = Field(
        "",
        max_length=64,
        description="客户端生成的幂等键：同一用户以同一键重复提交，返回第一次登记的反映，不会"
        "登记第二条（内容不同则为 409）",
    )

    _source = field_validator("source")(one_of(REPORT_SOURCE_LABELS, "来源"))


def _keyed(actor: User, key: str) -> Concern | None:
    return Concern.objects.filter(reported_by=actor, client_key=key).first() if key else None


def _same_report(concern: Concern, payload: ConcernReportIn) -> bool:
    """Whether a replayed `client_key` carries the report it first came with."""
    return (
        concern.text == payload.text.strip()
        and concern.source == payload.source
        and (payload.household_id is None or concern.household_id == payload.household_id)
        and (payload.village_id is None or concern.village_id == payload.village_id)
    )


@transaction.atomic
def _report(actor: User, payload: ConcernReportIn, key: str) -> Concern:
    """The report, stamped with its client key (unique per reporter, so of two requests racing
    with one key, the second fails here and is answered with the first one's concern)."""
    concern = concern_report(
        actor=actor,
        text=payload.text,
        village_id=payload.village_id,
        household_id=payload.household_id,
        source=payload.source,
        category=payload.category,
        caller_name=payload.caller_name,
        callback_phone=payload.callback_phone,
    )
    if key:
        Concern.objects.filter(pk=concern.pk).update(client_key=key)
    return concern


def _detail(user: User, concern_id: int) -> Concern:
    return _with_suggestion(_concern_get(user=user, concern_id=concern_id), user)


@router.post(
    "",
    response={201: ConcernDetailOut, 200: ConcernDetailOut} | errors_for(401, 403, 409, 422),
    summary="登记来电来访反映",
    description="登记后等待镇综治中心梳理。带 `client_key` 时只登记一次：同一用户以同一键重复"
    "提交，返回第一次登记的反映（200），不会登记第二条；同一键内容不同返回 409。",
)
def concern_create(request: AuthedRequest, payload: ConcernReportIn):
    actor = request.auth
    key = payload.client_key.strip()
    first = _keyed(actor, key)
    if first is None:
        try:
            concern = _report(actor, payload, key)
        except ConcernError as exc:
            return refusal(exc)
        except IntegrityError:
            first = _keyed(actor, key)
            if first is None:
                raise
        else:
            return Status(201, _detail(actor, concern.pk))
    if not _same_report(first, payload):
        message = "该 client_key 已用于另一条反映，请换一个"
        error = {"loc": ["body", "client_key"], "msg": message, "type": "conflict"}
        return Status(409, {"detail": message, "errors": [error]})
    return Status(200, _detail(actor, first.pk))


# ---------------------------------------------------------------------------------------------
# Triage (梳理)

OUTCOME_CODES: list[Any] = list(OUTCOME_LABELS)


# A plain pydantic model, validated item by item (see the module docstring).
class DecisionItem(BaseModel):
    """对一条反映的梳理决定。"""

    concern_id: int
    version: int = PydanticField(ge=1, description="您所看到的反映版本号")
    outcome: str = PydanticField(
        min_length=1,
        max_length=16,
        description=f"梳理结果：{choices_text(OUTCOME_LABELS)}",
        json_schema_extra={"enum": OUTCOME_CODES},
    )
    category: str = PydanticField("", max_length=40, description="立案的类别（默认为反映的类别）")
    unit_id: int | None = PydanticField(
        None, description="立案并交办：交办单位（与 severity 同填）"
    )
    severity: str = PydanticField(
        "",
        max_length=16,
        description=f"立案并交办：问题类型 {choices_text(SEVERITY_LABELS)}",
        json_schema_extra={"enum": ["", *SEVERITY_LABELS]},
    )
    problem_id: int | None = PydanticField(None, description="并案：要并入的问题")
    reason: str = PydanticField("", max_length=500, description="不予立案的理由（必填），或说明")


DECISION = TypeAdapter(DecisionItem)


class TriageIn(Schema):
    decisions: Annotated[
        list[Any],
        WithJsonSchema(
            {
                "type": "array",
                "maxItems": BATCH_LIMIT,
                "items": DecisionItem.model_json_schema(),
            }
        ),
    ] = Field(
        max_length=BATCH_LIMIT,
        description=f"最多 {BATCH_LIMIT} 条决定，逐条校验、逐条处理、按顺序逐条返回结果",
    )


class TriageResultOut(Schema):
    concern_id: int | None
    status: Literal["done", "duplicate", "refused"]
    http_status: int = Field(
        description="该条的 HTTP 语义状态：200 完成或重复提交；403、404、409、422 被拒绝"
    )
    detail: str = Field(description="被拒绝的原因（中文）")
    field: str = Field(description="被拒绝时出错的字段")
    outcome: str
    problem_id: int | None = Field(description="立案或并入的问题")
    problem_code: str
    thought_work_id: int | None = Field(description="交给走访干部的思想工作")


class TriageOut(Schema):
    results: list[TriageResultOut]
    summary: dict[str, int] = Field(description="done、duplicate、refused 各几条")


def _result(result: DecisionResult) -> dict[str, Any]:
    return {
        "concern_id": result.concern_id,
        "status": result.status,
        "http_status": result.http_status,
        "detail": result.detail,
        "field": result.field,
        "outcome": result.outcome,
        "problem_id": result.problem_id,
        "problem_code": result.problem_code,
        "thought_work_id": result.thought_work_id,
    }


def _malformed(raw: Any, exc: PydanticValidationError) -> dict[str, Any]:
    """A decision that is not well formed, refused on its own (422) with its first error."""
    first = translate_error(dict(exc.errors()[0]))
    raw_id = raw.get("concern_id") if isinstance(raw, dict) else None
    field = ".".join(str(part) for part in first["loc"])
    return _result(
        DecisionResult(
            concern_id=raw_id if type(raw_id) is int else None,  # type: ignore[arg-type]
            status="refused",
            http_status=422,
            detail=f"该条梳理数据有误：{field + ' ' if field else ''}{first['msg']}",
            field=field,
        )
    )


def _decision(item: DecisionItem) -> Decision:
    return Decision(
        concern_id=item.concern_id,
        version=item.version,
        outcome=item.outcome.strip(),
        category=item.category,
        unit_id=item.unit_id,
        severity=item.severity.strip(),
        problem_id=item.problem_id,
        reason=item.reason,
    )


@router.post(
    "/triage",
    response={200: TriageOut} | errors_for(401, 403, 422),
    summary="梳理群众反映（可批量）",
    description=f"""镇综治中心对反映作出决定：立案（可同时交办）、并案、思想工作或不予立案。

规则：
- 一次最多 {BATCH_LIMIT} 条；超过时整个请求返回 422，一条也不处理。非镇综治中心返回 403，一条也不处理。
- 每条决定须带上您所看到的反映 `version`。每条独立校验、独立处理（各自的事务），按提交顺序逐条返回结果；某条被拒绝不影响其他条。
- `status` 为 `done`：已按决定处理；`duplicate`：同一决定重复提交（如网络重试），返回第一次的结果，不再写入任何数据；`refused`：被拒绝，`http_status` 说明原因：
  - 404 反映不存在或不在您的管辖范围内；
  - 409 反映在您看到之后已被他人处理（version 已过期），请刷新后重新判断；
  - 422 该条数据有误或不完整（如不予立案未写理由、并案未选问题），或反映已梳理；`field` 指出字段。
- 整个请求总是返回 200（除上面两种整体拒绝），请逐条查看结果。""",
)
def concern_triage(request: AuthedRequest, payload: TriageIn):
    parsed: list[Decision | dict[str, Any]] = []
    for raw in payload.decisions:
        try:
            parsed.append(_decision(DECISION.validate_python(raw)))
        except PydanticValidationError as exc:
            parsed.append(_malformed(raw, exc))
    decided = iter(
        concerns_triage(
            actor=request.auth, decisions=[item for item in parsed if isinstance(item, Decision)]
        )
    )
    results = [_result(next(decided)) if isinstance(item, Decision) else item for item in parsed]
    summary = {"done": 0, "duplicate": 0, "refused": 0}
    for result in results:
        summary[result["status"]] += 1
    return {"results": results, "summary": summary}
