"""From visits to the ledger: the sync the phones and pages use (docs/ledger.md).

The visits layer stores visits exactly once (`pingan.visits.services.visit_sync`) and knows
nothing of the ledger. This module, one layer up, passes it `PROBLEMS_FROM_VISITS`, which in
the same transaction files what each new visit raised as problems in state `reported`:
- each negative answer: source `survey`, the question and the chosen option, the option's
  category (or the question's);
- each matter the resident described: source `visit`, in the resident's words;
and answers a replay with the codes of the problems the original visit raised.
"""

from dataclasses import replace

from pingan.accounts.models import User
from pingan.ledger.models import Problem
from pingan.ledger.services import ProblemDraft, problem_report_many
from pingan.surveys.answers import QuestionnaireIndex
from pingan.visits import services as visits
from pingan.visits.services import SyncResult, VisitIn, VisitWritten


class ProblemsFromVisits:
    """The ledger's follow-up to a visit sync (a `visits.services.VisitFollowUp`)."""

    def written(self, *, actor: User, visits: list[VisitWritten]) -> list[list[str]]:
        drafts: list[ProblemDraft] = []
        owners: list[int] = []  # the index in `visits` of each draft
        for index, written in enumerate(visits):
            household = written.assignment.household
            base = ProblemDraft(
                campaign=written.assignment.campaign,
                village=household.village,
                household=household,
                cadre=written.assignment.cadre,
                visit=written.visit,
                source=Problem.Source.SURVEY,
                description="",
            )
            for question, option in written.negative:
                drafts.append(
                    replace(
                        base,
                        category=option.category or question.category,
                        description=f"{question.text}　回答：{option.label}",
                        question=question,
                        option=option,
                    )
                )
                owners.append(index)
            for raised in written.raised:
                if raised.text.strip():
                    drafts.append(
                        replace(
                            base,
                            source=Problem.Source.VISIT,
                            description=raised.text.strip(),
                            category=raised.category,
                        )
                    )
                    owners.append(index)
        problems = problem_report_many(actor=actor, drafts=drafts)
        codes: list[list[str]] = [[] for _ in visits]
        for index, problem in zip(owners, problems, strict=True):
            codes[index].append(problem.code)
        return codes

    def references(self, *, visit_ids: list[int]) -> dict[int, list[str]]:
        codes: dict[int, list[str]] = {}
        rows = Problem.objects.filter(visit_id__in=visit_ids).values_list("visit_id", "code")
        for visit_id, code in rows.order_by():
            codes.setdefault(visit_id, []).append(code)
        return codes


PROBLEMS_FROM_VISITS = ProblemsFromVisits()


def visit_sync(
    *,
    actor: User,
    items: list[VisitIn],
    indexes: dict[int, QuestionnaireIndex | None] | None = None,
) -> list[SyncResult]:
    """Store a batch of visits from one cadre, each exactly once, and file what the new ones
    raised as problems; see `pingan.visits.services.visit_sync` for the per-item statuses."""
    return visits.visit_sync(
        actor=actor, items=items, indexes=indexes, follow_up=PROBLEMS_FROM_VISITS
    )
