"""Writes to the ledger. Every problem gets a unique, never-reused code and a first event."""

from dataclasses import dataclass

from django.db import transaction

from pingan.accounts.models import Person, User
from pingan.campaigns.models import Campaign
from pingan.core import clock
from pingan.ledger.models import Problem, ProblemEvent, ProblemSerial
from pingan.regions.models import Household, Region
from pingan.surveys.models import Option, Question
from pingan.visits.models import Visit


def problem_codes_reserve(*, town: Region, year: int, count: int) -> list[str]:
    """`count` consecutive codes `<town code>-<year>-<serial>`; the counter row is locked, so
    concurrent reporters never share a serial, and a rolled-back serial is simply skipped."""
    if count <= 0:
        return []
    serial, _ = ProblemSerial.objects.get_or_create(town=town, year=year)
    serial = ProblemSerial.objects.select_for_update().get(pk=serial.pk)
    first = serial.last + 1
    serial.last += count
    serial.save(update_fields=["last"])
    return [f"{town.code}-{year}-{n:06d}" for n in range(first, first + count)]


@dataclass(frozen=True)
class ProblemDraft:
    """A problem about to be reported, before it has a code."""

    campaign: Campaign
    village: Region
    source: str
    description: str
    category: str = ""
    household: Household | None = None
    cadre: Person | None = None
    visit: Visit | None = None
    question: Question | None = None
    option: Option | None = None


@transaction.atomic
def problem_report_many(*, actor: User, drafts: list[ProblemDraft]) -> list[Problem]:
    """Record problems in state `reported` (the town center accepts them next), each with its
    first ProblemEvent; codes are reserved per town in one locked step for the whole list."""
    if not drafts:
        return []
    now = clock.now()
    year = clock.local(now).year
    by_town: dict[int, tuple[Region, list[int]]] = {}
    for position, draft in enumerate(drafts):
        town = draft.village.parent
        if town is None:
            raise ValueError(f"village {draft.village.pk} has no town")
        by_town.setdefault(town.pk, (town, []))[1].append(position)
    codes: list[str] = [""] * len(drafts)
    for town, positions in by_town.values():
        reserved = problem_codes_reserve(town=town, year=year, count=len(positions))
        for position, code in zip(positions, reserved, strict=True):
            codes[position] = code
    problems = Problem.objects.bulk_create(
        Problem(
            code=code,
            campaign=draft.campaign,
            village=draft.village,
            household=draft.household,
            cadre=draft.cadre,
            visit=draft.visit,
            source=draft.source,
            category=draft.category,
            description=draft.description,
            question=draft.question,
            option=draft.option,
            status=Problem.Status.REPORTED,
            reported_at=now,
        )
        for code, draft in zip(codes, drafts, strict=True)
    )
    ProblemEvent.objects.bulk_create(
        ProblemEvent(
            problem=problem,
            action="report",
            from_status="",
            to_status=Problem.Status.REPORTED,
            actor=actor,
            note=problem.get_source_display(),
            at=now,
        )
        for problem in problems
    )
    return problems
