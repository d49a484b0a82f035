"""A ledger kept before concerns existed gets them, with nothing lost.

Every problem keeps its code, its state and its history. What it came from becomes a concern,
already triaged as 立案 into that problem:
- a visit's problems (negative answers, described matters) become one concern of that visit,
  with an item each, linked to each of those problems;
- a problem registered by hand (来电来访) becomes a phone concern of its own;
- a visit's opinion that raised no problem becomes an open concern, waiting for triage.
Each problem gets its reporting household (`ProblemReporter`), with the verdict it had; a
handled problem waits for that household's verdict (`reporters_waiting` = 1).
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q

BATCH = 2000
NOTE = "由原问题台账迁移"


def _feeling(question) -> bool:
    return question is not None and question.kind == "single"


def forward(apps, schema_editor, campaign_ids=None):
    """Also run by `generate_data` for the towns it writes (`campaign_ids`): only problems
    without a reporting household yet are taken."""
    Problem = apps.get_model("ledger", "Problem")
    ProblemEvent = apps.get_model("ledger", "ProblemEvent")
    ProblemReporter = apps.get_model("ledger", "ProblemReporter")
    ProblemConcern = apps.get_model("ledger", "ProblemConcern")
    Concern = apps.get_model("visits", "Concern")
    ConcernItem = apps.get_model("visits", "ConcernItem")
    Visit = apps.get_model("visits", "Visit")
    Answer = apps.get_model("visits", "Answer")

    # A phone may have sent the opinion only as the answer to question 15 (the sync reads it
    # from there when `Visit.opinion` is empty): keep that one too.
    answered = Answer.objects.filter(question__key="opinion").exclude(text__regex=r"^\s*$")
    if campaign_ids is not None:
        answered = answered.filter(visit__campaign_id__in=campaign_ids)
    answer_text = dict(answered.values_list("visit_id", "text"))

    def opinion_of(visit_id, opinion: str) -> str:
        return opinion.strip() or answer_text.get(visit_id, "").strip()

    reporters_by = dict(
        ProblemEvent.objects.filter(action="report").values_list("problem_id", "actor_id")
    )
    problems = (
        Problem.objects.filter(reporters__isnull=True)
        .select_related("question", "visit")
        .order_by("visit_id", "id")
    )
    if campaign_ids is not None:
        problems = problems.filter(campaign_id__in=campaign_ids)
    concern_of_visit: dict[int, object] = {}
    pending_items: list = []
    pending_links: list = []
    pending_reporters: list = []

    def flush() -> None:
        ConcernItem.objects.bulk_create(pending_items, batch_size=BATCH)
        ProblemConcern.objects.bulk_create(pending_links, batch_size=BATCH)
        ProblemReporter.objects.bulk_create(pending_reporters, batch_size=BATCH)
        pending_items.clear()
        pending_links.clear()
        pending_reporters.clear()

    positions: dict[int, int] = {}
    for problem in problems.iterator(chunk_size=BATCH):
        if problem.visit_id is not None:
            concern = concern_of_visit.get(problem.visit_id)
            if concern is None:
                if len(concern_of_visit) >= BATCH:
                    flush()
                    concern_of_visit.clear()
                concern = Concern.objects.create(
                    campaign_id=problem.campaign_id,
                    village_id=problem.village_id,
                    household_id=problem.household_id,
                    visit_id=problem.visit_id,
                    cadre_id=problem.cadre_id,
                    source="visit",
                    category=problem.category,
                    text="",
                    reported_at=problem.reported_at,
                    outcome="file",
                    outcome_note=NOTE,
                    decided_at=problem.reported_at,
                    created_at=problem.reported_at,
                    updated_at=problem.reported_at,
                )
                concern_of_visit[problem.visit_id] = concern
                positions[concern.pk] = 0
                opinion = opinion_of(problem.visit_id, problem.visit.opinion)
                if opinion:
                    # the opinion never made a problem; it is kept, after the other items
                    pending_items.append(
                        ConcernItem(concern=concern, kind="opinion", text=opinion, position=999)
                    )
        else:
            concern = Concern.objects.create(
                campaign_id=problem.campaign_id,
                village_id=problem.village_id,
                household_id=problem.household_id,
                cadre_id=problem.cadre_id,
                source="phone",
                category=problem.category,
                text=problem.description,
                reported_by_id=reporters_by.get(problem.pk),
                reported_at=problem.reported_at,
                outcome="file",
                outcome_note=NOTE,
                decided_at=problem.reported_at,
                created_at=problem.reported_at,
                updated_at=problem.reported_at,
            )
            positions[concern.pk] = 0
        position = positions[concern.pk]
        positions[concern.pk] = position + 1
        survey = problem.source == "survey" and problem.option_id is not None
        pending_items.append(
            ConcernItem(
                concern=concern,
                kind="answer" if survey else "matter",
                question_id=problem.question_id if survey else None,
                option_id=problem.option_id if survey else None,
                text=problem.description,
                category=problem.category,
                feeling=survey and _feeling(problem.question),
                position=position,
            )
        )
        pending_links.append(
            ProblemConcern(problem_id=problem.pk, concern=concern, at=problem.reported_at)
        )
        # Only a closed problem's verdict is the household's last word; a dissatisfied verdict
        # belongs to a result that was redone (重办), and the household waits for the new one.
        waiting = problem.status != "closed"
        pending_reporters.append(
            ProblemReporter(
                problem_id=problem.pk,
                village_id=problem.village_id,
                household_id=problem.household_id,
                concern=concern,
                cadre_id=problem.cadre_id,
                verdict="" if waiting else problem.verdict,
                verdict_note="" if waiting else problem.verdict_note,
                feedback_at=None if waiting else problem.feedback_at,
                added_at=problem.reported_at,
            )
        )
        if len(pending_items) >= BATCH:
            flush()
    flush()
    # Every problem still open waits for its household, as every problem filed since does.
    Problem.objects.filter(
        status__in=["reported", "accepted", "dispatched", "handled"], reporters_waiting=0
    ).update(reporters_waiting=1)

    # Opinions of visits that raised no problem: open concerns, nothing lost.
    visits = Visit.objects.all()
    if campaign_ids is not None:
        visits = visits.filter(campaign_id__in=campaign_ids)
    opinions = (
        visits.filter(
            ~Q(opinion__regex=r"^\s*$") | Q(Exists(answered.filter(visit=OuterRef("pk"))))
        )
        .filter(concern__isnull=True)
        .values_list(
            "pk", "campaign_id", "village_id", "household_id", "cadre_id", "opinion",
            "received_at", "ended_at",
        )
        .order_by("pk")
    )  # fmt: skip
    batch: list[tuple] = []
    for row in opinions.iterator(chunk_size=BATCH):
        batch.append((*row[:5], opinion_of(row[0], row[5]), *row[6:]))
        if len(batch) >= BATCH:
            _opinion_concerns(Concern, ConcernItem, batch)
            batch = []
    _opinion_concerns(Concern, ConcernItem, batch)


def _opinion_concerns(Concern, ConcernItem, rows: list[tuple]) -> None:
    if not rows:
        return
    concerns = Concern.objects.bulk_create(
        Concern(
            campaign_id=campaign, village_id=village, household_id=household, visit_id=visit,
            cadre_id=cadre, source="visit", text=opinion, reported_at=min(received, ended),
            created_at=received, updated_at=received,
        )
        for visit, campaign, village, household, cadre, opinion, received, ended in rows
    )  # fmt: skip
    ConcernItem.objects.bulk_create(
        ConcernItem(concern=concern, kind="opinion", text=row[5], position=0)
        for concern, row in zip(concerns, rows, strict=True)
    )


def backward(apps, schema_editor):
    apps.get_model("ledger", "ProblemConcern").objects.all().delete()
    apps.get_model("ledger", "ProblemReporter").objects.all().delete()
    apps.get_model("ledger", "Problem").objects.update(reporters_waiting=0)
    apps.get_model("visits", "ConcernItem").objects.all().delete()
    apps.get_model("visits", "Concern").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_reporters_concerns"),
        ("visits", "0003_concerns"),
    ]

    operations = [migrations.RunPython(forward, backward)]
