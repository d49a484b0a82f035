"""Rates computed in SQL, checked against figures worked out by hand."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from pingan.surveys.models import Option
from pingan.surveys.services import questionnaire_load_default
from pingan.visits.models import Answer, Visit
from pingan.visits.rates import rate_figures
from tests.factories import make_campaign, make_household, make_person

D = Decimal
START = dt.datetime(2021, 10, 18, 9, 0, tzinfo=dt.UTC)


def _visit(campaign, village, questionnaire, answers: dict[str, str]) -> Visit:
    household = make_household(village)
    visit = Visit.objects.create(
        uuid=uuid.uuid4(),
        payload_digest="x",
        campaign=campaign,
        household=household,
        village=village,
        cadre=make_person(village),
        submitted_by=_any_user(),
        outcome=Visit.Outcome.COMPLETED,
        counts=True,
        questionnaire=questionnaire,
        started_at=START,
        ended_at=START + dt.timedelta(minutes=12),
    )
    for key, label in answers.items():
        option = Option.objects.get(question__questionnaire=questionnaire, question__key=key,
                                    label=label)  # fmt: skip
        Answer.objects.create(visit=visit, question=option.question, option=option)
    return visit


def _any_user():
    from pingan.accounts.models import User

    return User.objects.first()


@pytest.fixture
def answered(world):
    questionnaire, _ = questionnaire_load_default()
    campaign = make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    a, b = world.qiying, world.xinqiao
    _visit(campaign, a, questionnaire, {"safety": "安全", "police": "满意", "court": "说不清"})
    _visit(campaign, a, questionnaire,
           {"safety": "比较安全", "police": "不满意", "court": "比较满意"})  # fmt: skip
    _visit(campaign, a, questionnaire, {"safety": "说不清", "police": "不太满意"})
    _visit(campaign, a, questionnaire, {"safety": "不安全", "aware": "知道"})
    _visit(campaign, b, questionnaire, {"safety": "安全"})
    return questionnaire, campaign


def test_rates_per_village_match_the_hand_worked_figures(
    world, answered, django_assert_num_queries
):
    questionnaire, campaign = answered
    with django_assert_num_queries(2):  # the rates' options, then one GROUP BY of answers
        figures = rate_figures(
            answers=Answer.objects.filter(visit__campaign=campaign, visit__counts=True),
            definitions=questionnaire.rates,
        )
    qiying = figures[world.qiying.pk]
    # 安全感: 4 answers, 2 positive (安全, 比较安全), 1 说不清; scores 100, 75, 0 (说不清 out).
    safety = qiying["safety"]
    assert (safety.answers, safety.positive, safety.unknown) == (4, 2, 1)
    assert (safety.rate, safety.rate_known, safety.score) == (D("50.00"), D("66.67"), D("58.33"))
    # 满意度 pools police (满意, 不满意, 不太满意) and court (说不清, 比较满意): 5 answers,
    # 2 positive, 1 说不清; scores 100, 0, 25, 75 -> 200 / 4.
    satisfaction = qiying["satisfaction"]
    assert (satisfaction.answers, satisfaction.positive, satisfaction.unknown) == (5, 2, 1)
    assert (satisfaction.rate, satisfaction.rate_known, satisfaction.score) == (
        D("40.00"), D("50.00"), D("50.00"),
    )  # fmt: skip
    # 知晓率: 1 of 1, and no 100-point score for a 知道/不知道 question.
    assert (qiying["aware"].rate, qiying["aware"].score) == (D("100.00"), None)
    assert "participate" not in qiying  # nobody answered it
    assert figures[world.xinqiao.pk]["safety"].rate == D("100.00")


def test_town_rate_pools_every_answer(world, answered):
    questionnaire, campaign = answered
    figures = rate_figures(
        answers=Answer.objects.filter(visit__campaign=campaign),
        definitions=questionnaire.rates,
        group_by=None,
    )
    safety = figures[None]["safety"]
    # 5 answers: 安全, 比较安全, 说不清, 不安全, 安全 -> 3 positive, 1 说不清;
    # scores 100 + 75 + 0 + 100 = 275 over 4.
    assert (safety.rate, safety.rate_known, safety.score) == (D("60.00"), D("75.00"), D("68.75"))


def test_no_answers_no_figures(world):
    questionnaire, _ = questionnaire_load_default()
    assert rate_figures(answers=Answer.objects.none(), definitions=questionnaire.rates) == {}
    assert (
        rate_figures(answers=Answer.objects.all(), definitions=questionnaire.rates, group_by=None)
        == {}
    )


def test_a_rate_ending_on_5_in_the_third_place_rounds_half_up(world):
    """32 answers, 5 positive: 5 / 32 = 15.625 % -> 15.63 (half-up; half-even would say
    15.62). 12 说不清: without them 5 / 20 = 25.00. Scores of the 20 known answers:
    3 × 100 + 2 × 75 + 1 × 25 + 14 × 0 = 475 -> 475 / 20 = 23.75."""
    questionnaire, _ = questionnaire_load_default()
    campaign = make_campaign(world.town, {world.qiying: 450})
    answers = ["安全"] * 3 + ["比较安全"] * 2 + ["不太安全"] + ["不安全"] * 14 + ["说不清"] * 12
    assert len(answers) == 32
    for label in answers:
        _visit(campaign, world.qiying, questionnaire, {"safety": label})
    figures = rate_figures(
        answers=Answer.objects.filter(visit__campaign=campaign), definitions=questionnaire.rates
    )
    safety = figures[world.qiying.pk]["safety"]
    assert (safety.answers, safety.positive, safety.unknown, safety.scored) == (32, 5, 12, 20)
    assert (safety.rate, safety.rate_known, safety.score) == (D("15.63"), D("25.00"), D("23.75"))
