"""Writes for questionnaires: load the default, revise (a new version once used), freeze."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from pingan.core import clock
from pingan.surveys.definition import definition_normalize, definition_read
from pingan.surveys.models import Option, Question, Questionnaire


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def questionnaire_export(*, questionnaire: Questionnaire) -> dict[str, Any]:
    """The stored version as a definition (the same shape `definition_normalize` returns)."""
    questions = []
    for question in questionnaire.questions.select_related("show_if_question").prefetch_related(
        "options"
    ):
        condition = None
        if question.show_if_question is not None:
            condition = {
                "question": question.show_if_question.key,
                "options": list(question.show_if_options),
            }
        questions.append(
            {
                "number": question.number,
                "key": question.key,
                "text": question.text,
                "kind": question.kind,
                "explanation": question.explanation,
                "required": question.required,
                "category": question.category,
                "show_if": condition,
                "min_value": _number(question.min_value),
                "max_value": _number(question.max_value),
                "options": [
                    {
                        "label": option.label,
                        "polarity": option.polarity,
                        "score": option.score,
                        "exclusive": option.exclusive,
                        "has_text": option.has_text,
                        "category": option.category,
                    }
                    for option in question.options.all()
                ],
            }
        )
    return {
        "code": questionnaire.code,
        "title": questionnaire.title,
        "edition": questionnaire.edition,
        "rates": questionnaire.rates,
        "questions": questions,
    }


def _comparable(definition: dict[str, Any]) -> dict[str, Any]:
    """Numbers as floats so a TOML int and a stored Decimal compare equal."""
    return definition_normalize(
        {
            **definition,
            "questions": [
                {
                    **q,
                    "min_value": _number(q["min_value"]),
                    "max_value": _number(q["max_value"]),
                }
                for q in definition["questions"]
            ],
        }
    )


def _write_questions(questionnaire: Questionnaire, definition: dict[str, Any]) -> None:
    by_key: dict[str, Question] = {}
    for position, data in enumerate(definition["questions"], start=1):
        condition = data["show_if"]
        question = Question.objects.create(
            questionnaire=questionnaire,
            key=data["key"],
            number=data["number"],
            position=position,
            text=data["text"],
            explanation=data["explanation"],
            kind=data["kind"],
            required=data["required"],
            category=data["category"],
            show_if_question=by_key[condition["question"]] if condition else None,
            show_if_options=condition["options"] if condition else [],
            min_value=None if data["min_value"] is None else Decimal(str(data["min_value"])),
            max_value=None if data["max_value"] is None else Decimal(str(data["max_value"])),
        )
        by_key[question.key] = question
        Option.objects.bulk_create(
            Option(question=question, position=index, **option)
            for index, option in enumerate(data["options"], start=1)
        )


@transaction.atomic
def questionnaire_create(*, definition: dict[str, Any]) -> Questionnaire:
    """The next version of the definition's family."""
    definition = definition_normalize(definition)
    latest = Questionnaire.objects.filter(code=definition["code"]).aggregate(v=Max("version"))["v"]
    questionnaire = Questionnaire.objects.create(
        code=definition["code"],
        version=(latest or 0) + 1,
        title=definition["title"],
        edition=definition["edition"],
        rates=definition["rates"],
    )
    _write_questions(questionnaire, definition)
    return questionnaire


@transaction.atomic
def questionnaire_load_default() -> tuple[Questionnaire, bool]:
    """The shipped default questionnaire as version 1 of "default"; idempotent.

    Returns (questionnaire, created). If version 1 exists it is left as it is (it may be
    frozen by visits; edits make new versions), so a second load changes nothing.
    """
    definition = definition_read()
    existing = Questionnaire.objects.filter(code=definition["code"], version=1).first()
    if existing is not None:
        return existing, False
    return questionnaire_create(definition=definition), True


@transaction.atomic
def questionnaire_revise(
    *, questionnaire: Questionnaire, definition: dict[str, Any]
) -> Questionnaire:
    """Apply an edited definition. A version no visit has used is changed in place; a frozen
    one is never touched: the edit becomes the family's next version, which is returned.
    An edit that changes nothing returns the questionnaire unchanged.
    """
    definition = definition_normalize({**definition, "code": questionnaire.code})
    locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    if _comparable(questionnaire_export(questionnaire=locked)) == _comparable(definition):
        return locked
    if locked.frozen:
        return questionnaire_create(definition=definition)
    Option.objects.filter(question__questionnaire=locked).delete()
    # Dependents first: a condition PROTECTs the question it depends on.
    Question.objects.filter(questionnaire=locked, show_if_question__isnull=False).delete()
    Question.objects.filter(questionnaire=locked).delete()
    locked.title = definition["title"]
    locked.edition = definition["edition"]
    locked.rates = definition["rates"]
    locked.save(update_fields=["title", "edition", "rates"])
    _write_questions(locked, definition)
    return locked


def questionnaire_freeze(*, questionnaire: Questionnaire) -> None:
    """Mark the version as used (by the first visit that records answers with it).

    Called inside the visit's transaction; a conditional UPDATE, so concurrent visits agree.
    """
    Questionnaire.objects.filter(pk=questionnaire.pk, frozen_at__isnull=True).update(
        frozen_at=clock.now()
    )
