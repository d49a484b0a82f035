"""The default questionnaire as data, and versioning: a used version never changes."""

import copy

import pytest

from pingan.surveys.definition import DefinitionError, definition_read
from pingan.surveys.models import Option, Question, Questionnaire
from pingan.surveys.services import (
    questionnaire_export,
    questionnaire_freeze,
    questionnaire_load_default,
    questionnaire_revise,
)

pytestmark = pytest.mark.django_db

SATISFACTION = [("满意", "+", 100), ("比较满意", "+", 75), ("不太满意", "-", 25),
                ("不满意", "-", 0), ("说不清", "?", None)]  # fmt: skip


def _options(key: str, questionnaire: Questionnaire) -> list[tuple]:
    return list(
        Option.objects.filter(question__questionnaire=questionnaire, question__key=key)
        .order_by("position")
        .values_list("label", "polarity", "score")
    )


def test_default_questionnaire_is_loaded_word_for_word():
    questionnaire, created = questionnaire_load_default()
    assert created
    assert (questionnaire.code, questionnaire.version) == ("default", 1)
    assert questionnaire.title == "群众安全感和满意度调查问卷"
    numbers = list(questionnaire.questions.values_list("number", flat=True))
    assert numbers == ["1", "1a", *[str(n) for n in range(2, 16)]]
    safety = questionnaire.questions.get(key="safety")
    assert safety.text == "您觉得您所在的村（社区）社会治安安全吗？"
    assert safety.required
    assert safety.kind == "single"
    assert safety.explanation == "就是问您平时在村里、在家里，觉得安不安全，晚上睡得踏实不踏实。"
    assert _options("safety", questionnaire) == [
        ("安全", "+", 100), ("比较安全", "+", 75), ("不太安全", "-", 25),
        ("不安全", "-", 0), ("说不清", "?", None),
    ]  # fmt: skip
    for key in ("sweep", "police", "court", "procuratorate", "justice", "pingan"):
        assert _options(key, questionnaire) == SATISFACTION
    assert _options("disputes", questionnaire) == [
        ("能", "+", 100),
        ("基本能", "+", 75),
        ("不能", "-", 0),
        ("说不清", "?", None),
    ]
    assert _options("aware", questionnaire) == [("知道", "+", None), ("不知道", "0", None)]
    reason = questionnaire.questions.get(key="safety_reason")
    assert reason.show_if_question == safety
    assert reason.show_if_options == ["不太安全", "不安全"]
    assert reason.options.get(label="其他").has_text
    assert questionnaire.questions.get(key="nearby").options.get(label="都没有").exclusive
    assert questionnaire.questions.get(key="opinion").kind == "text"
    rates = {rate["key"]: rate["questions"] for rate in questionnaire.rates}
    assert rates["satisfaction"] == ["sweep", "police", "court", "procuratorate", "justice",
                                     "pingan"]  # fmt: skip
    assert rates["legal_team"] == ["police", "court", "procuratorate", "justice"]


def test_loading_the_default_twice_changes_nothing():
    first, _ = questionnaire_load_default()
    second, created = questionnaire_load_default()
    assert not created
    assert second.pk == first.pk
    assert Questionnaire.objects.count() == 1


def test_export_round_trips_the_seed_definition():
    questionnaire, _ = questionnaire_load_default()
    assert questionnaire_export(questionnaire=questionnaire) == definition_read()


def _edited(questionnaire: Questionnaire) -> dict:
    definition = copy.deepcopy(questionnaire_export(questionnaire=questionnaire))
    definition["questions"][0]["text"] = "您觉得本村治安好吗？"
    return definition


def test_an_unused_version_is_edited_in_place():
    questionnaire, _ = questionnaire_load_default()
    revised = questionnaire_revise(questionnaire=questionnaire, definition=_edited(questionnaire))
    assert revised.pk == questionnaire.pk
    assert revised.questions.get(key="safety").text == "您觉得本村治安好吗？"
    # The condition on 1a was rebuilt and still points at the edited question.
    assert revised.questions.get(key="safety_reason").show_if_question.key == "safety"


def test_a_used_version_never_changes_and_an_edit_makes_a_new_version():
    questionnaire, _ = questionnaire_load_default()
    questionnaire_freeze(questionnaire=questionnaire)
    questionnaire.refresh_from_db()
    before = questionnaire_export(questionnaire=questionnaire)
    revised = questionnaire_revise(questionnaire=questionnaire, definition=_edited(questionnaire))
    assert (revised.code, revised.version) == ("default", 2)
    assert revised.questions.get(key="safety").text == "您觉得本村治安好吗？"
    assert questionnaire_export(questionnaire=questionnaire) == before
    assert Question.objects.filter(questionnaire=questionnaire, key="safety").get().text == (
        "您觉得您所在的村（社区）社会治安安全吗？"
    )


def test_an_edit_that_changes_nothing_makes_no_version():
    questionnaire, _ = questionnaire_load_default()
    questionnaire_freeze(questionnaire=questionnaire)
    same = questionnaire_revise(
        questionnaire=questionnaire, definition=questionnaire_export(questionnaire=questionnaire)
    )
    assert same.pk == questionnaire.pk
    assert Questionnaire.objects.count() == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["questions"][1].update(show_if={"question": "safety", "options": ["很好"]}),
         "显示条件引用了不存在的选项：很好"),
        (lambda d: d["questions"][0].update(kind="essay"), "题型“essay”无效"),
        (lambda d: d["questions"][0]["options"][4].update(score=50), "说不清，不能计分"),
        (lambda d: d["questions"][2].update(key="safety"), "题目代码“safety”重复"),
        (lambda d: d["rates"][0].update(questions=["opinion"]), "不是本问卷的单选题"),
        (lambda d: d["questions"][15].update(options=[{"label": "是", "polarity": "+"}]),
         "填空题，不能有选项"),
    ],
)  # fmt: skip
def test_a_broken_definition_is_refused_in_chinese_and_nothing_changes(mutate, message):
    questionnaire, _ = questionnaire_load_default()
    definition = copy.deepcopy(questionnaire_export(questionnaire=questionnaire))
    mutate(definition)
    with pytest.raises(DefinitionError, match=message):
        questionnaire_revise(questionnaire=questionnaire, definition=definition)
    assert questionnaire_export(questionnaire=questionnaire) == definition_read()
