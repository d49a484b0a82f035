"""A visit's answers are checked against the exact questionnaire version, in Chinese."""

import pytest

from pingan.surveys.answers import AnswerIn, QuestionnaireIndex, answers_check
from pingan.surveys.services import questionnaire_load_default

pytestmark = pytest.mark.django_db


@pytest.fixture
def index():
    questionnaire, _ = questionnaire_load_default()
    return QuestionnaireIndex(questionnaire)


def _messages(result) -> dict[str, str]:
    return {e.question: e.message for e in result.errors}


def test_a_complete_positive_questionnaire_is_clean(index):
    result = answers_check(
        index,
        [
            AnswerIn("safety", ("安全",), answer_ms=4200),
            AnswerIn("nearby", ("都没有",)),
            AnswerIn("police", ("比较满意",)),
            AnswerIn("opinion", text="  路灯希望多装几盏  "),
        ],
    )
    assert result.errors == []
    assert [(a.question.key, a.option.label if a.option else a.text) for a in result.answers] == [
        ("safety", "安全"),
        ("nearby", "都没有"),
        ("police", "比较满意"),
        ("opinion", "路灯希望多装几盏"),
    ]
    assert result.answers[0].answer_ms == 4200
    assert result.negative == []


def test_the_required_question_must_be_answered(index):
    result = answers_check(index, [AnswerIn("police", ("满意",))])
    assert _messages(result) == {"safety": "第 1 题是必答题"}


def test_the_condition_shows_1a_only_after_an_unsafe_answer(index):
    hidden = answers_check(
        index, [AnswerIn("safety", ("安全",)), AnswerIn("safety_reason", ("赌博",))]
    )
    assert "不显示" in _messages(hidden)["safety_reason"]
    shown = answers_check(
        index,
        [
            AnswerIn("safety", ("不太安全",)),
            AnswerIn("safety_reason", ("赌博", "其他"), option_text="夜里有人偷电动车"),
        ],
    )
    assert shown.errors == []
    other = [a for a in shown.answers if a.option and a.option.label == "其他"]
    assert other[0].text == "夜里有人偷电动车"
    # Each negative option chosen is one future problem; 1a's options are neutral.
    assert [o.label for _, o in shown.negative] == ["不太安全"]


def test_exclusive_single_and_unknown_options_are_refused(index):
    result = answers_check(
        index,
        [
            AnswerIn("safety", ("安全", "不安全")),
            AnswerIn("nearby", ("都没有", "赌博")),
            AnswerIn("police", ("很满意",)),
            AnswerIn("weather", ("晴",)),
        ],
    )
    assert _messages(result) == {
        "safety": "第 1 题是单选题，只能选一项",
        "nearby": "第 4 题的“都没有”不能与其他选项同时选",
        "police": "第 7 题没有选项“很满意”",
        "weather": "问卷中没有这道题",
    }


def test_multiple_negative_options_each_count(index):
    result = answers_check(
        index,
        [AnswerIn("safety", ("说不清",)), AnswerIn("nearby", ("赌博", "电信网络诈骗"))],
    )
    assert result.errors == []
    assert [o.label for _, o in result.negative] == ["赌博", "电信网络诈骗"]


def test_an_answer_given_twice_is_refused(index):
    result = answers_check(index, [AnswerIn("safety", ("安全",)), AnswerIn("safety", ("不安全",))])
    assert _messages(result) == {"safety": "同一道题回答了两次"}


def test_loading_the_index_takes_two_queries(django_assert_num_queries):
    questionnaire, _ = questionnaire_load_default()
    with django_assert_num_queries(2):
        QuestionnaireIndex(questionnaire)
