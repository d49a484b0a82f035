"""Recording visits, exactly once per client uuid (DESIGN §3, §7).

`visit_sync` takes a batch from a cadre's phone. Each item is handled on its own, inside its
own savepoint, and gets its own status:
- `created`: stored now, with its answers and the problems its negative answers raise;
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
from django.db.models import Prefetch

from pingan.accounts.models import Person, User
from pingan.campaigns.models import Assignment, Campaign
from pingan.core import clock
from pingan.ledger.models import Problem
from pingan.ledger.services import ProblemDraft, problem_report_many
from pingan.regions.models import Household
from pingan.surveys.answers import AnswerIn, QuestionnaireIndex, answers_check
from pingan.surveys.models import Questionnaire
from pingan.surveys.services import questionnaire_freeze
from pingan.visits.models import Answer, Visit

BATCH_LIMIT = 200
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
    problem_codes: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""


class _Rejected(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _error(loc: str | list[str], msg: str) -> dict[str, Any]:
    return {"loc": [loc] if isinstance(loc, str) else loc, "msg": msg, "type": "value_error"}


def _previous(visit: Visit, item: VisitIn, actor: User) -> SyncResult:
    """What a uuid already stored answers now: the original result, or a conflict."""
    if visit.payload_digest == item.digest and visit.submitted_by_id == actor.pk:
        codes = sorted(visit.problems.values_list("code", flat=True))
        return SyncResult(item.uuid, "duplicate", visit_id=visit.pk, problem_codes=codes)
    return SyncResult(
        item.uuid,
        "conflict",
        detail="该走访编号已提交过不同的内容，未覆盖原记录；如确需更正，请作为新走访提交",
    )


class _BatchContext:
    """What a batch needs, loaded in a few queries: the actor's cadre profile, the assigned
    households with their campaign, and each questionnaire version once."""

    def __init__(self, actor: User, items: list[VisitIn]) -> None:
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
        self._indexes: dict[int, QuestionnaireIndex | None] = {}

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


def _create(item: VisitIn, context: _BatchContext, assignment: Assignment, checked) -> SyncResult:
    household: Household = assignment.household
    campaign: Campaign = assignment.campaign
    person = assignment.cadre  # the actor's own profile: `_check` matched it
    questionnaire = checked and context.index(item.questionnaire_id or 0)
    visit = Visit.objects.create(
        uuid=item.uuid,
        payload_digest=item.digest,
        campaign=campaign,
        household=household,
        village=household.village,
        cadre=person,
        submitted_by=context.actor,
        outcome=item.outcome,
        counts=item.outcome in Visit.COUNTING,
        questionnaire=questionnaire.questionnaire if questionnaire else None,
        leaflet_handed=item.leaflet_handed,
        opinion=item.opinion.strip(),
        note=item.note.strip(),
        started_at=item.started_at,
        ended_at=item.ended_at,
        received_at=clock.now(),
        lat=item.lat,
        lng=item.lng,
        accuracy_m=item.accuracy_m,
        mock_location=item.mock_location,
        device_id=item.device_id[:100],
        app_version=item.app_version[:40],
    )
    drafts: list[ProblemDraft] = []
    if checked is not None and questionnaire is not None:
        questionnaire_freeze(questionnaire=questionnaire.questionnaire)
        Answer.objects.bulk_create(
            Answer(
                visit=visit,
                question=a.question,
                option=a.option,
                text=a.text,
                number=a.number,
                answer_ms=a.answer_ms,
            )
            for a in checked.answers
        )
        drafts.extend(
            ProblemDraft(
                source=Problem.Source.SURVEY,
                category=a.option.category or a.question.category,
                description=f"{a.question.text}　回答：{a.option.label}",
                question=a.question,
                option=a.option,
            )
            for a in checked.negative
        )
    drafts.extend(
        ProblemDraft(source=Problem.Source.VISIT, description=p.text.strip(), category=p.category)
        for p in item.problems
        if p.text.strip()
    )
    problems = problem_report_many(
        campaign=campaign,
        village=household.village,
        household=household,
        cadre=person,
        visit=visit,
        actor=context.actor,
        drafts=drafts,
    )
    return SyncResult(
        item.uuid, "created", visit_id=visit.pk, problem_codes=[p.code for p in problems]
    )


def visit_sync(*, actor: User, items: list[VisitIn]) -> list[SyncResult]:
    """Store a batch of visits from one cadre, each exactly once. See the module docstring."""
    if len(items) > BATCH_LIMIT:
        raise ValueError(f"一次最多提交 {BATCH_LIMIT} 条走访")
    context = _BatchContext(actor, items)
    stored = {
        visit.uuid: visit
        for visit in Visit.objects.filter(uuid__in=[item.uuid for item in items]).prefetch_related(
            Prefetch("problems", queryset=Problem.objects.only("code", "visit_id"))
        )
    }
    results: list[SyncResult] = []
    seen: dict[uuid_module.UUID, VisitIn] = {}
    for item in items:
        if item.uuid in seen:
            same = seen[item.uuid].digest == item.digest
            results.append(
                SyncResult(
                    item.uuid,
                    "duplicate" if same else "conflict",
                    detail="" if same else "同一批次中同一走访编号出现了两次且内容不同",
                )
            )
            continue
        seen[item.uuid] = item
        if item.uuid in stored:
            results.append(_previous(stored[item.uuid], item, actor))
            continue
        try:
            assignment, checked = _check(item, context)
        except _Rejected as rejected:
            results.append(SyncResult(item.uuid, "rejected", errors=rejected.errors))
            continue
        try:
            with transaction.atomic():
                results.append(_create(item, context, assignment, checked))
        except IntegrityError:
            # Another request stored the same uuid first: answer as a replay would.
            winner = Visit.objects.filter(uuid=item.uuid).first()
            if winner is None:
                raise
            results.append(_previous(winner, item, actor))
    return results


@transaction.atomic
def visit_vacancy_confirm(*, visit: Visit, actor: User) -> Visit:
    """The village admin confirms a vacant household: it leaves the denominator (DESIGN §3)."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
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
