"""Triage (每日梳理汇总): the town center decides what each concern becomes (docs/ledger.md).

One decision per concern, taken alone or many at once, each ending in one outcome with who
decided and when (`Concern.outcome`, `decided_by`, `decided_at`):

| outcome | what it does |
|---|---|
| 立案 `file` | a new problem (受理), from the concern's matters; with a unit and a type it is dispatched in the same step (立案并交办) |
| 并案 `merge` | the concern's household joins an open problem as one more reporting household |
| 思想工作 `talk` | the visiting cadre talks with the resident (nothing concrete to fix) |
| 不予立案 `decline` | nothing to do, with the reason |

A concern that has matters *and* feelings (不太安全…) also gets a 思想工作 case for the cadre
when it is filed or merged, so no answer is left without a follow-up.

Each decision carries the concern's `version`. Checks, in order: the decider is the town
center (403); the concern is in their scope (404); it was not changed since that version
(409, unless it is the very same decision sent again: then the original result is answered,
`duplicate`); it is still open (422); the decision's input is complete (422). In a batch every
decision runs in its own savepoint and is answered on its own; one refusal never costs the
others.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import Http404

from pingan.accounts.models import Role, User
from pingan.accounts.notifications import notify
from pingan.core import clock
from pingan.ledger.lifecycle import ActionInvalid, LedgerError, StaleVersion
from pingan.ledger.models import Problem, ProblemConcern, ProblemEvent, ProblemReporter
from pingan.ledger.routing import matters
from pingan.ledger.selectors import problem_list
from pingan.ledger.services import (
    ActionInput,
    ProblemDraft,
    problem_act,
    problem_report_many,
)
from pingan.visits.concerns import item_words
from pingan.visits.models import Concern, ConcernItem, ThoughtWork
from pingan.visits.selectors import concern_list

BATCH_LIMIT = 200
Outcome = Concern.Outcome


class TriageForbidden(LedgerError):
    status = 403


@dataclass(frozen=True)
class Decision:
    """What the town center decided about one concern (at `version`)."""

    concern_id: int
    version: int
    outcome: str
    category: str = ""
    unit_id: int | None = None  # 立案并交办: with `severity`
    severity: str = ""
    problem_id: int | None = None  # 并案
    reason: str = ""  # 不予立案 (required), or a note for any outcome


@dataclass
class DecisionResult:
    concern_id: int
    status: str  # done | duplicate | refused
    http_status: int = 200
    detail: str = ""
    field: str = ""
    outcome: str = ""
    problem_id: int | None = None
    problem_code: str = ""
    thought_work_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)} | {
            "concern_id": self.concern_id,
            "status": self.status,
        }


def _result_of(concern: Concern) -> DecisionResult:
    """The result a triaged concern answers (for a decision sent twice)."""
    link = ProblemConcern.objects.filter(concern=concern).select_related("problem").first()
    work = ThoughtWork.objects.filter(concern=concern).values_list("pk", flat=True).first()
    return DecisionResult(
        concern.pk,
        "duplicate",
        outcome=concern.outcome,
        problem_id=link.problem_id if link else None,
        problem_code=link.problem.code if link else "",
        thought_work_id=work,
    )


def _same(concern: Concern, decision: Decision) -> bool:
    return concern.outcome == decision.outcome and concern.version == decision.version + 1


def _description(items: Sequence[ConcernItem], concern: Concern) -> str:
    concrete = [item_words(item) for item in matters(items)]
    words = concrete or [item_words(item) for item in items]
    return ("；".join(dict.fromkeys(words)) or concern.text or "群众反映")[:2000]


def _talk(concern: Concern, items: Sequence[ConcernItem], *, whole: bool) -> ThoughtWork | None:
    """A 思想工作 case for the concern's feelings (or for the whole concern)."""
    if not whole and not any(item.feeling for item in items):
        return None
    return ThoughtWork.objects.create(
        concern=concern, village=concern.village, household=concern.household, cadre=concern.cadre
    )


def _reporter_add(problem: Problem, concern: Concern, *, now) -> bool:
    """The concern's household as a reporter of `problem`; False if it was one already."""
    if (
        concern.household_id is not None
        and ProblemReporter.objects.filter(
            problem=problem, household_id=concern.household_id
        ).exists()
    ):
        return False
    ProblemReporter.objects.create(
        problem=problem,
        village=concern.village,
        household=concern.household,
        concern=concern,
        cadre=concern.cadre,
        added_at=now,
    )
    return True


def _decide(actor: User, decision: Decision) -> DecisionResult:
    """One decision, in the caller's transaction (see the module docstring)."""
    concern = (
        concern_list(user=actor)
        .select_for_update(of=("self",))
        .select_related("village__parent", "household", "cadre", "campaign")
        .filter(pk=decision.concern_id)
        .first()
    )
    if concern is None:
        raise Http404("concern not found")
    if concern.version != decision.version:
        if _same(concern, decision):
            return _result_of(concern)
        raise StaleVersion(
            f"反映 #{concern.pk} 已被他人处理（当前为「{concern.get_outcome_display() or '待梳理'}」），"
            "请刷新后重试"
        )
    if concern.outcome:
        raise ActionInvalid(f"反映 #{concern.pk} 已梳理为「{concern.get_outcome_display()}」")
    if decision.outcome not in Outcome.values:
        raise ActionInvalid("请选择梳理结果：立案、并案、思想工作或不予立案", field="outcome")
    reason = decision.reason.strip()
    if decision.outcome == Outcome.DECLINE and not reason:
        raise ActionInvalid("不予立案须写明理由", field="reason")
    items = list(concern.items.select_related("option", "question"))
    now = clock.now()
    result = DecisionResult(concern.pk, "done", outcome=decision.outcome)
    if decision.outcome == Outcome.FILE:
        problem = _file(actor, concern, items, decision, now=now)
        result.problem_id, result.problem_code = problem.pk, problem.code
        work = _talk(concern, items, whole=False)
    elif decision.outcome == Outcome.MERGE:
        problem = _merge(actor, concern, decision, now=now)
        result.problem_id, result.problem_code = problem.pk, problem.code
        work = _talk(concern, items, whole=False)
    elif decision.outcome == Outcome.TALK:
        work = _talk(concern, items, whole=True)
    else:
        work = None
    result.thought_work_id = work.pk if work else None
    concern.outcome = decision.outcome
    concern.outcome_note = reason[:500]
    concern.decided_by = actor
    concern.decided_at = now
    concern.version += 1
    concern.save(update_fields=["outcome", "outcome_note", "decided_by", "decided_at", "version"])
    if work is not None and concern.cadre is not None and concern.cadre.user_id:
        transaction.on_commit(lambda: _notify_talk(work, concern))
    return result


def _file(actor: User, concern: Concern, items, decision: Decision, *, now) -> Problem:
    category = (decision.category or concern.category).strip()[:40]
    survey = next((i for i in items if i.kind == ConcernItem.Kind.ANSWER and not i.feeling), None)
    [problem] = problem_report_many(
        actor=actor,
        drafts=[
            ProblemDraft(
                campaign=concern.campaign,
                village=concern.village,
                source=(
                    Problem.Source.MANUAL
                    if concern.source != Concern.Source.VISIT
                    else Problem.Source.SURVEY
                    if survey is not None and not any(i.kind != "answer" for i in items)
                    else Problem.Source.VISIT
                ),
                description=_description(items, concern),
                category=category,
                household=concern.household,
                cadre=concern.cadre,
                visit=concern.visit,
                concern=concern,
            )
        ],
        status=Problem.Status.ACCEPTED,
        note=f"立案（反映 #{concern.pk}）",
    )
    ProblemConcern.objects.create(problem=problem, concern=concern, at=now)
    if decision.unit_id is not None or decision.severity:
        problem = problem_act(
            actor=actor,
            problem_id=problem.pk,
            action="dispatch",
            version=problem.version,
            data=ActionInput(unit_id=decision.unit_id, severity=decision.severity),
        )
    return problem


def _merge(actor: User, concern: Concern, decision: Decision, *, now) -> Problem:
    if decision.problem_id is None:
        raise ActionInvalid("请选择要并入的问题", field="problem_id")
    problem = (
        problem_list(user=actor)
        .select_for_update(of=("self",))
        .filter(pk=decision.problem_id)
        .select_related("village")
        .first()
    )
    if problem is None:
        raise ActionInvalid("要并入的问题不存在或不在您的管辖范围内", field="problem_id")
    if problem.status in (Problem.Status.CLOSED, Problem.Status.REJECTED):
        raise ActionInvalid(
            f"问题 {problem.code} 已{problem.get_status_display()}，不能并案；请立案",
            field="problem_id",
        )
    if problem.village.parent_id != concern.village.parent_id:
        raise ActionInvalid("只能并入本镇的问题", field="problem_id")
    ProblemConcern.objects.create(problem=problem, concern=concern, at=now)
    added = _reporter_add(problem, concern, now=now)
    if added:
        problem.reporters_waiting += 1
    problem.version += 1
    problem.updated_at = now
    problem.save(update_fields=["reporters_waiting", "version", "updated_at"])
    ProblemEvent.objects.create(
        problem=problem,
        action="merge",
        from_status=problem.status,
        to_status=problem.status,
        actor=actor,
        note=f"并入反映 #{concern.pk}（{concern.village.name}）",
        data={"concern_id": concern.pk, "household_id": concern.household_id, "added": added},
        at=now,
    )
    return problem


def _notify_talk(work: ThoughtWork, concern: Concern) -> None:
    if concern.cadre is None or concern.cadre.user_id is None:
        return
    notify(
        users=list(User.objects.filter(pk=concern.cadre.user_id, is_active=True)),
        kind="thought_work",
        title="请做群众思想工作",
        body=f"{concern.village.name}：{concern.household.address if concern.household else ''}",
        link=f"/field/talks/{work.pk}/",
        key=f"thought_work:{work.pk}",
    )


def _check_role(actor: User) -> None:
    if actor.role != Role.TOWN_ADMIN:
        raise TriageForbidden("只有镇综治中心可以梳理群众反映")


@transaction.atomic
def concern_triage(*, actor: User, decision: Decision) -> DecisionResult:
    """Decide one concern; raises the refusal (LedgerError, Http404) instead of answering it."""
    _check_role(actor)
    return _decide(actor, decision)


def concerns_triage(*, actor: User, decisions: Sequence[Decision]) -> list[DecisionResult]:
    """Decide many concerns, each on its own (its own savepoint, its own answer)."""
    _check_role(actor)
    if len(decisions) > BATCH_LIMIT:
        raise ActionInvalid(f"一次最多梳理 {BATCH_LIMIT} 条反映")
    results = []
    for decision in decisions:
        try:
            with transaction.atomic():
                results.append(_decide(actor, decision))
        except Http404:
            results.append(DecisionResult(decision.concern_id, "refused", 404,
                                          "反映不存在或不在您的管辖范围内"))  # fmt: skip
        except LedgerError as exc:
            results.append(
                DecisionResult(decision.concern_id, "refused", exc.status, exc.message, exc.field)
            )
    return results
