"""Checking a visit's answers against the questionnaire version it used.

`answers_check` takes the answers as the phone sent them and returns either the cleaned
answers (question and option objects, ready to store) or every problem found, each with the
question it concerns and a Chinese message. Nothing here suggests or fills in an answer:
a question left out stays unanswered (and is an error only if it is required and shown).
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pingan.surveys.models import Option, Question, Questionnaire

TEXT_LIMIT = 2000


@dataclass(frozen=True)
class AnswerIn:
    """One answer as received: options by label for choice questions, else text or number."""

    question: str
    options: tuple[str, ...] = ()
    text: str = ""
    number: "str | float | int | Decimal | None" = None
    answer_ms: int | None = None
    # The words typed beside an option with a text box (其他：……).
    option_text: str = ""


@dataclass(frozen=True)
class CleanAnswer:
    question: Question
    option: Option | None = None
    text: str = ""
    number: Decimal | None = None
    answer_ms: int | None = None


@dataclass(frozen=True)
class AnswerError:
    question: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": ["answers", self.question], "msg": self.message, "type": "answer"}


@dataclass
class CheckedAnswers:
    questionnaire: Questionnaire
    answers: list[CleanAnswer] = field(default_factory=list)
    errors: list[AnswerError] = field(default_factory=list)

    @property
    def negative(self) -> list[tuple[Question, Option]]:
        """Chosen options of negative polarity: each one becomes a problem."""
        return [
            (a.question, a.option)
            for a in self.answers
            if a.option is not None and a.option.polarity == Option.Polarity.NEGATIVE
        ]


class QuestionnaireIndex:
    """A questionnaire version's questions and options, loaded once (2 queries) and reused."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questionnaire = questionnaire
        questions = list(questionnaire.questions.order_by("position"))
        options = Option.objects.filter(question__questionnaire=questionnaire).order_by(
            "question_id", "position"
        )
        self.questions: dict[str, Question] = {q.key: q for q in questions}
        by_id = {q.pk: q for q in questions}
        self.options: dict[int, dict[str, Option]] = {q.pk: {} for q in questions}
        for option in options:
            option.question = by_id[option.question_id]
            self.options[option.question_id][option.label] = option
        self.parent_key: dict[str, str] = {
            q.key: by_id[q.show_if_question_id].key for q in questions if q.show_if_question_id
        }

    def shown(self, question: Question, chosen: dict[str, set[str]]) -> bool:
        """Whether `question` is shown, given the option labels chosen so far."""
        parent = self.parent_key.get(question.key)
        if parent is None:
            return True
        return bool(chosen.get(parent, set()) & set(question.show_if_options))


def _number(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def answers_check(index: QuestionnaireIndex, received: list[AnswerIn]) -> CheckedAnswers:
    result = CheckedAnswers(index.questionnaire)
    by_key: dict[str, AnswerIn] = {}
    for item in received:
        if item.question not in index.questions:
            result.errors.append(AnswerError(item.question, "问卷中没有这道题"))
        elif item.question in by_key:
            result.errors.append(AnswerError(item.question, "同一道题回答了两次"))
        else:
            by_key[item.question] = item
    chosen: dict[str, set[str]] = {}
    for key, question in index.questions.items():
        answer = by_key.get(key)
        label = f"第 {question.number} 题"
        if not index.shown(question, chosen):
            if answer is not None and (answer.options or answer.text or answer.number):
                result.errors.append(
                    AnswerError(key, f"{label}在当前回答下不显示，不能作答（请核对前面的选择）")
                )
            continue
        if answer is None or not (answer.options or answer.text.strip() or answer.number):
            if question.required:
                result.errors.append(AnswerError(key, f"{label}是必答题"))
            continue
        if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            _check_choice(index, question, answer, label, result, chosen)
        elif question.kind == Question.Kind.TEXT:
            text = answer.text.strip()
            if len(text) > TEXT_LIMIT:
                result.errors.append(AnswerError(key, f"{label}文字过长（最多 {TEXT_LIMIT} 字）"))
            else:
                result.answers.append(CleanAnswer(question, text=text, answer_ms=answer.answer_ms))
        else:
            value = _number(answer.number if answer.number is not None else answer.text)
            if value is None:
                result.errors.append(AnswerError(key, f"{label}应填数字"))
            elif (question.min_value is not None and value < question.min_value) or (
                question.max_value is not None and value > question.max_value
            ):
                result.errors.append(
                    AnswerError(key, f"{label}应在 {question.min_value}–{question.max_value} 之间")
                )
            else:
                result.answers.append(
                    CleanAnswer(question, number=value, answer_ms=answer.answer_ms)
                )
    return result


def _check_choice(
    index: QuestionnaireIndex,
    question: Question,
    answer: AnswerIn,
    label: str,
    result: CheckedAnswers,
    chosen: dict[str, set[str]],
) -> None:
    options = index.options[question.pk]
    labels = list(dict.fromkeys(answer.options))
    unknown = [o for o in labels if o not in options]
    if unknown:
        result.errors.append(AnswerError(question.key, f"{label}没有选项“{'、'.join(unknown)}”"))
        return
    if question.kind == Question.Kind.SINGLE and len(labels) != 1:
        result.errors.append(AnswerError(question.key, f"{label}是单选题，只能选一项"))
        return
    exclusive = [o for o in labels if options[o].exclusive]
    if exclusive and len(labels) > 1:
        result.errors.append(
            AnswerError(question.key, f"{label}的“{exclusive[0]}”不能与其他选项同时选")
        )
        return
    chosen[question.key] = set(labels)
    for position, option_label in enumerate(labels):
        option = options[option_label]
        text = answer.option_text.strip() if option.has_text else ""
        result.answers.append(
            CleanAnswer(
                question,
                option=option,
                text=text[:TEXT_LIMIT],
                answer_ms=answer.answer_ms if position == 0 else None,
            )
        )
