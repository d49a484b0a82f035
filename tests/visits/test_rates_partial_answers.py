"""A group that answered only some of the rates' questions gets exactly those rates, whichever
place they have in the questionnaire's list of rates."""

from decimal import Decimal

from pingan.surveys.services import questionnaire_load_default
from pingan.visits.models import Answer
from pingan.visits.rates import rate_figures
from tests.factories import make_campaign
from tests.visits.test_rates import _visit


def test_a_village_that_answered_only_later_rates_still_gets_them(world):
    """新桥村 answered no safety question (the first rate) but the 知晓率 and 参与率
    questions (the fourth and fifth): 知晓率 1 of 2 = 50.00 %, 参与率 1 of 1 = 100.00 %."""
    questionnaire, _ = questionnaire_load_default()
    campaign = make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    _visit(campaign, world.xinqiao, questionnaire, {"aware": "知道", "participate": "参加过"})
    _visit(campaign, world.xinqiao, questionnaire, {"aware": "不知道"})
    _visit(campaign, world.qiying, questionnaire, {"safety": "安全"})

    figures = rate_figures(
        answers=Answer.objects.filter(visit__campaign=campaign), definitions=questionnaire.rates
    )

    xinqiao = figures[world.xinqiao.pk]
    assert sorted(xinqiao) == ["aware", "participate"]
    assert (xinqiao["aware"].answers, xinqiao["aware"].positive) == (2, 1)
    assert xinqiao["aware"].rate == Decimal("50.00")
    assert xinqiao["participate"].rate == Decimal("100.00")
    assert sorted(figures[world.qiying.pk]) == ["safety"]
