"""Recording visits, exactly once per client uuid (docs/architecture.md, docs/questionnaire.md).

`visit_sync` takes a batch from a cadre's phone. Each item is handled on its own, inside its
own savepoint, and gets its own status:
- `created`: stored now, with its answers and, when the visit brought in anything (negative
  answers, matters the resident described, an opinion), exactly one concern (反映) for the
  town center to triage (`pingan.ledger.triage`);
- `duplicate`: the same uuid with the same content was stored before; the original result
  is returned and nothing is created (a phone that lost the answer simply sends again);
- `conflict`: the same uuid arrived before with different content (409 for that item);
- `rejected`: something in the item is wrong; `errors` says what, field by field, in Chinese.
One bad item never costs the good ones. A uuid race between two requests is settled by the
database's unique constraint: the loser re-reads and reports duplicate or conflict.
"""

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from pingan.accounts.models import Person, User
from pingan.campaigns.models import Assignment
from pingan.core import clock
from pingan.core.bulk import insert_objects, insert_rows
from pingan.regions.models import Household
from pingan.surveys.answers import AnswerIn, CheckedAnswers, QuestionnaireIndex, answers_check
from pingan.surveys.models import Option, Question, Questionnaire
from pingan.surveys.services import questionnaire_freeze
from pingan.visits.concerns import OPINION_KEY, concern_category, concern_items
from pingan.visits.models import Answer, Concern, ConcernItem, Visit
from pingan.visits.selectors import user_can_confirm_vacancy

BATCH_LIMIT = 200
ANSWER_COLUMNS = ("visit_id", "question_id", "option_id", "text", "number", "answer_ms")
WITH_QUESTIONNAIRE = (Visit.Outcome.COMPLETED, Visit.Outcome.PHONE)


@dataclass(frozen=True)
class ProblemIn:
    """A problem the resident raised in their own words (source `visit`)."""

    text: str
    category: str = ""


@dataclass(frozen=True)
class VisitIn:
    """One visit as the phone sent it. `digest` is the SHA-256 of its canonical JSON."""

    uuid: uuid_module.UUID
    digest: str
    household_id: int
    outcome: str
    started_at: dt.datetime
    ended_at: dt.datetime
    questionnaire_id: int | None = None
    answers: tuple[AnswerIn, ...] = ()
    leaflet_handed: bool = False
    opinion: str = ""
    note: str = ""
    problems: tuple[ProblemIn, ...] = ()
    lat: Decimal | None = None
    lng: Decimal | None = None
    accuracy_m: float | None = None
    mock_location: bool | None = None
    device_id: str = ""
    app_version: str = ""


@dataclass
class SyncResult:
    uuid: uuid_module.UUID
    status: str  # created | duplicate | conflict | rejected
    visit_id: int | None = None
    concern_id: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""


class _Rejected(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _error(loc: str | list[str], msg: str) -> dict[str, Any]:
    return {"loc": [loc] if isinstance(loc, str) else loc, "msg": msg, "type": "value_error"}


def _previous(visit: Visit, item: VisitIn, actor: User) -> SyncResult:
    """What a uuid already stored answers now: the original result, or a conflict. `visit`
    comes with its concern's id annotated (`concern_pk`)."""
    if visit.payload_digest == item.digest and visit.submitted_by_id == actor.pk:
        concern_id = getattr(visit, "concern_pk", None)
        return SyncResult(item.uuid, "duplicate", visit_id=visit.pk, concern_id=concern_id)
    return SyncResult(
        item.uuid,
        "conflict",
        detail="该走访编号已提交过不同的内容，未覆盖原记录；如确需更正，请作为新走访提交",
    )


class _BatchContext:
    """What a batch needs, loaded in a few queries: the actor's cadre profile, the assigned
    households with their campaign, and each questionnaire version once."""

    def __init__(
        self,
        actor: User,
        items: list[VisitIn],
        indexes: dict[int, QuestionnaireIndex | None] | None = None,
    ) -> None:
        self.actor = actor
        self.person: Person | None = Person.objects.filter(user=actor, active=True).first()
        household_ids = {item.household_id for item in items}
        assignments = (
            Assignment.objects.filter(
                household_id__in=household_ids, ended_at__isnull=True, cadre=self.person
            )
            .select_related("campaign", "cadre", "household__village__parent")
            .order_by("-campaign__start_date")
        )
        self.assigned: dict[int, Assignment] = {}
        for assignment in assignments if self.person else []:
            self.assigned.setdefault(assignment.household_id, assignment)
        self._indexes = {} if indexes is None else indexes

    def index(self, questionnaire_id: int) -> QuestionnaireIndex | None:
        if questionnaire_id not in self._indexes:
            questionnaire = Questionnaire.objects.filter(pk=questionnaire_id).first()
            self._indexes[questionnaire_id] = (
                QuestionnaireIndex(questionnaire) if questionnaire else None
            )
        return self._indexes[questionnaire_id]


def _check(item: VisitIn, context: _BatchContext) -> tuple[Assignment, Any]:
    """The assignment the visit belongs to and its checked answers; raises _Rejected."""
    errors: list[dict[str, Any]] = []
    if context.person is None:
        raise _Rejected([_error("household_id", "您的账号没有走访干部档案，不能提交走访")])
    assignment = context.assigned.get(item.household_id)
    if assignment is None:
        raise _Rejected([_error("household_id", "该户未分配给您（分片包干），不能提交走访")])
    if item.outcome not in Visit.Outcome.values:
        errors.append(_error("outcome", f"走访结果“{item.outcome}”无效"))
    if item.ended_at < item.started_at:
        errors.append(_error("ended_at", "结束时间早于开始时间"))
    checked = None
    if item.outcome in WITH_QUESTIONNAIRE:
        index = context.index(item.questionnaire_id) if item.questionnaire_id else None
        if index is None:
            errors.append(_error("questionnaire_id", "入户或电话走访须附问卷（问卷版本不存在）"))
        else:
            checked = answers_check(index, list(item.answers))
            errors.extend(e.as_dict() for e in checked.errors)
    elif item.answers:
        errors.append(_error("answers", "只有入户或电话走访才能填写问卷"))
    if errors:
        raise _Rejected(errors)
    return assignment, checked


@dataclass
class _Pending:
    """An item that passed every check and waits to be written."""

    position: int
    item: VisitIn
    assignment: Assignment
    checked: CheckedAnswers | None


def _write(pending: list[_Pending], context: _BatchContext) -> list[SyncResult]:
    """Write checked items: visits, answers and problems in a few bulk statements. Runs inside
    the caller's transaction; a uuid taken meanwhile raises IntegrityError for the caller."""
    now = clock.now()
    visits = [
        Visit(
            uuid=p.item.uuid,
            payload_digest=p.item.digest,
            campaign=p.assignment.campaign,
            household=p.assignment.household,
            village=p.assignment.household.village,
            cadre=p.assignment.cadre,
            submitted_by=context.actor,
            outcome=p.item.outcome,
            counts=p.item.outcome in Visit.COUNTING,
            questionnaire_id=p.item.questionnaire_id if p.checked is not None else None,
            leaflet_handed=p.item.leaflet_handed,
            opinion=p.item.opinion.strip(),
            note=p.item.note.strip(),
            started_at=p.item.started_at,
            ended_at=p.item.ended_at,
            received_at=now,
            lat=p.item.lat,
            lng=p.item.lng,
            accuracy_m=p.item.accuracy_m,
            mock_location=p.item.mock_location,
            device_id=p.item.device_id[:100],
            app_version=p.item.app_version[:40],
        )
        for p in pending
    ]
    insert_objects(visits)
    answers: list[tuple] = []
    concerns: list[tuple[int, Concern, list[ConcernItem]]] = []  # (position in pending, …)
    used: dict[int, Questionnaire] = {}
    for index, (p, visit) in enumerate(zip(pending, visits, strict=True)):
        negative: list[tuple[Question, Option]] = []
        opinion = p.item.opinion.strip()
        if p.checked is not None:
            questionnaire = p.checked.questionnaire
            used[questionnaire.pk] = questionnaire
            answers.extend(
                (visit.pk, a.question.pk, a.option.pk if a.option else None, a.text, a.number,
                 a.answer_ms)
                for a in p.checked.answers
            )  # fmt: skip
            negative = p.checked.negative
            opinion = opinion or next(
                (a.text.strip() for a in p.checked.answers if a.question.key == OPINION_KEY), ""
            )
        items = concern_items(negative=negative, matters=p.item.problems, opinion=opinion)
        if items:
            concern = Concern(
                campaign=p.assignment.campaign,
                village=p.assignment.household.village,
                household=p.assignment.household,
                visit=visit,
                cadre=p.assignment.cadre,
                source=Concern.Source.VISIT,
                category=concern_category(items),
                reported_by=context.actor,
                reported_at=now,
                created_at=now,
                updated_at=now,
            )
            concerns.append((index, concern, items))
    insert_rows(Answer, ANSWER_COLUMNS, answers)
    for questionnaire in used.values():
        if questionnaire.frozen_at is None:
            questionnaire_freeze(questionnaire=questionnaire)
            questionnaire.frozen_at = now
    insert_objects([concern for _, concern, _ in concerns])
    for _, concern, items in concerns:
        for item in items:
            item.concern = concern
    insert_objects([item for _, _, items in concerns for item in items])
    concern_ids = {index: concern.pk for index, concern, _ in concerns}
    return [
        SyncResult(p.item.uuid, "created", visit_id=visit.pk, concern_id=concern_ids.get(index))
        for index, (p, visit) in enumerate(zip(pending, visits, strict=True))
    ]


def visit_sync(
    *,
    actor: User,
    items: list[VisitIn],
    indexes: dict[int, QuestionnaireIndex | None] | None = None,
) -> list[SyncResult]:
    """Store a batch of visits from one cadre, each exactly once. See the module docstring.

    Every item is checked first. The good ones are then written together in one transaction
    (a handful of bulk statements for the whole batch). If that fails — another request took
    one of the uuids in the meantime — it is rolled back and the items are written one by
    one, each in its own savepoint, so the race is settled item by item.
    """
    if len(items) > BATCH_LIMIT:
        raise ValueError(f"一次最多提交 {BATCH_LIMIT} 条走访")
    context = _BatchContext(actor, items, indexes)
    stored = {
        visit.uuid: visit
        for visit in Visit.objects.filter(uuid__in=[item.uuid for item in items]).annotate(
            concern_pk=F("concern__id")
        )
    }
    results: list[SyncResult | None] = [None] * len(items)
    pending: list[_Pending] = []
    seen: dict[uuid_module.UUID, VisitIn] = {}
    for position, item in enumerate(items):
        if item.uuid in seen:
            same = seen[item.uuid].digest == item.digest
            results[position] = SyncResult(
                item.uuid,
                "duplicate" if same else "conflict",
                detail="" if same else "同一批次中同一走访编号出现了两次且内容不同",
            )
            continue
        seen[item.uuid] = item
        if item.uuid in stored:
            results[position] = _previous(stored[item.uuid], item, actor)
            continue
        try:
            assignment, checked = _check(item, context)
        except _Rejected as rejected:
            results[position] = SyncResult(item.uuid, "rejected", errors=rejected.errors)
            continue
        pending.append(_Pending(position, item, assignment, checked))
    if pending:
        try:
            with transaction.atomic():
                written = _write(pending, context)
        except IntegrityError:
            written = [_write_one(p, context, actor) for p in pending]
        for p, result in zip(pending, written, strict=True):
            results[p.position] = result
    return [result for result in results if result is not None]


def _write_one(pending: _Pending, context: _BatchContext, actor: User) -> SyncResult:
    try:
        with transaction.atomic():
            return _write([pending], context)[0]
    except IntegrityError:
        # Another request stored the same uuid first: answer as a replay would.
        winner = (
            Visit.objects.filter(uuid=pending.item.uuid)
            .annotate(concern_pk=F("concern__id"))
            .first()
        )
        if winner is None:
            raise
        return _previous(winner, pending.item, actor)


class VacancyConfirmDenied(PermissionError):
    """The actor may not confirm vacancies in this village; `message` is for the user."""

    def __init__(self, message: str = "只有本村管理员或镇综治中心可以确认空挂户。") -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def visit_vacancy_confirm(*, visit: Visit, actor: User) -> Visit:
    """The village admin confirms a vacant household: it leaves the denominator (docs/architecture.md).
    Only the admin of the household's village or the town center of its town may; anyone
    else gets VacancyConfirmDenied."""
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("household__village")
        .get(pk=visit.pk)
    )
    if not user_can_confirm_vacancy(user=actor, village=visit.household.village):
        raise VacancyConfirmDenied
    if visit.outcome != Visit.Outcome.VACANT:
        raise ValueError("只有“空挂户”走访需要确认")
    if visit.vacancy_confirmed_at is None:
        visit.vacancy_confirmed_at = clock.now()
        visit.vacancy_confirmed_by = actor
        visit.save(update_fields=["vacancy_confirmed_at", "vacancy_confirmed_by"])
        Household.objects.filter(pk=visit.household_id).update(
            status=Household.Status.VACANT, updated_at=clock.now()
        )
    return visit
