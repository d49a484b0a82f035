"""A small campaign whose progress figures were worked out by hand, for the progress tests
(tests/visits/test_progress.py, tests/web/test_progress_pages.py,
tests/api/test_villages_progress.py). Every visit goes through `visit_sync`.

汝集镇's campaign: 七营村 quota 4, 新桥村 quota 2. Day 1 is 2021-10-18, day 2 is 2021-10-19
(Asia/Shanghai). 七营村 has nine households:

| household | cadre | visits                                   | reached | state            |
|-----------|-------|------------------------------------------|---------|------------------|
| h1        | 王建国 | not_home (day 1), completed (day 2)      | day 2   |                  |
| h2        | 王建国 | completed (day 1), completed (day 2)     | day 1   | counted once     |
| h3        | 王建国 | refused (day 1)                          | day 1   |                  |
| h4        | 王建国 | phone (day 1)                            | day 1   | by phone         |
| h5        | 王建国 | not_home (day 1)                         | —       | to revisit       |
| h6        | 李红   | vacant (day 1)                           | —       | vacancy pending  |
| h7        | 李红   | vacant (day 1), confirmed by the admin   | —       | vacant: out      |
| h8        | 李红   | none                                     | —       |                  |
| h9        | 李红   | completed (day 1), not_home (day 2)      | day 1   | not to revisit   |

So 七营村: reached 5 (1 by phone), completion 5 ÷ 4 = 125.00%, active households 8 (h7 left),
unreached 3 (h5, h6, h8), every-household coverage 5 ÷ 8 = 62.50%, to revisit 1, vacancy
pending 1, confirmed vacant 1, reached on day 1: 4 (h2, h3, h4, h9), on day 2: 1 (h1);
questionnaires 5 (completed and phone visits: h1, h2 twice, h4, h9).
王建国 holds 5, reached 4, to revisit 1; 李红 holds 3 active (h6, h8, h9), reached 1, none to revisit.
安全感 answers in 七营村: 安全 (h1), 比较安全 (h2), 说不清 (h2 again), 说不清 (h4), 安全 (h9):
rate 3 ÷ 5 = 60.00%, without 说不清 3 ÷ 3 = 100.00%, score (100 + 75 + 100) ÷ 3 = 91.67.

新桥村 has two households: x1 completed on day 1 (安全), x2 not visited: reached 1, completion
50.00%. Town: quota 6, reached 6, completion 100.00%. 远方村 (another town, its own campaign)
has a reached household that must never show up in 汝集镇's figures.
"""

import datetime as dt
from dataclasses import dataclass, field

import time_machine

from pingan.accounts.models import Person, Role, User
from pingan.campaigns.models import Campaign
from pingan.regions.models import Household
from pingan.surveys.answers import AnswerIn
from pingan.surveys.models import Questionnaire
from pingan.surveys.services import questionnaire_load_default
from pingan.visits.models import Visit
from pingan.visits.services import visit_sync, visit_vacancy_confirm
from tests.factories import make_assignment, make_campaign, make_household, make_person, make_user

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DAY1 = dt.date(2021, 10, 18)
DAY2 = dt.date(2021, 10, 19)


def shanghai(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def sync(
    actor: User,
    household: Household,
    questionnaire: Questionnaire | None,
    outcome: str,
    ended: dt.datetime,
    *,
    safety: str = "安全",
    received: dt.datetime | None = None,
    **overrides,
) -> Visit:
    """One visit through `visit_sync`, received (server clock) at `received`, by default a
    few minutes after the phone says it ended."""
    from tests.factories import visit_in

    with_questionnaire = outcome in ("completed", "phone")
    item = visit_in(
        household,
        questionnaire if with_questionnaire else None,
        outcome=outcome,
        started_at=ended - dt.timedelta(minutes=12),
        ended_at=ended,
        answers=(AnswerIn("safety", (safety,)), AnswerIn("police", ("满意",)))
        if with_questionnaire
        else (),
        **overrides,
    )
    with time_machine.travel(received or ended + dt.timedelta(minutes=3), tick=False):
        [result] = visit_sync(actor=actor, items=[item])
    assert result.status == "created", result.errors
    return Visit.objects.get(pk=result.visit_id)


@dataclass
class Scenario:
    campaign: Campaign
    questionnaire: Questionnaire
    wang: Person  # 王建国, the world's cadre user
    li: Person  # 李红, a second cadre of 七营村
    households: dict[str, Household] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)


def build(world) -> Scenario:
    questionnaire, _ = questionnaire_load_default()
    campaign = make_campaign(
        world.town, {world.qiying: 4, world.xinqiao: 2}, questionnaire=questionnaire
    )
    wang = make_person(world.qiying, name="王建国", user=world.users[Role.CADRE])
    li_user = make_user(Role.CADRE, world.qiying, username="li-hong")
    li = make_person(world.qiying, name="李红", user=li_user)
    zhao_user = make_user(Role.CADRE, world.xinqiao, username="zhao")
    zhao = make_person(world.xinqiao, name="赵强", user=zhao_user)
    s = Scenario(campaign, questionnaire, wang, li)
    h = s.households
    for n in range(1, 10):
        h[f"h{n}"] = make_household(
            world.qiying, group_no=1 + n % 2, address=f"七营村{n}号", head_name=f"张{n}"
        )
        make_assignment(campaign, h[f"h{n}"], wang if n <= 5 else li)
    for n in (1, 2):
        h[f"x{n}"] = make_household(world.xinqiao, address=f"新桥村{n}号")
        make_assignment(campaign, h[f"x{n}"], zhao)

    q, v = questionnaire, s.visits
    me, colleague = world.users[Role.CADRE], li_user
    v["h1a"] = sync(me, h["h1"], q, "not_home", shanghai(DAY1, 9))
    v["h1b"] = sync(me, h["h1"], q, "completed", shanghai(DAY2, 10), safety="安全")
    v["h2a"] = sync(me, h["h2"], q, "completed", shanghai(DAY1, 9, 30), safety="比较安全")
    v["h2b"] = sync(me, h["h2"], q, "completed", shanghai(DAY2, 11), safety="说不清")
    v["h3"] = sync(me, h["h3"], q, "refused", shanghai(DAY1, 10))
    v["h4"] = sync(me, h["h4"], q, "phone", shanghai(DAY1, 20), safety="说不清")
    v["h5"] = sync(me, h["h5"], q, "not_home", shanghai(DAY1, 10, 30))
    v["h6"] = sync(colleague, h["h6"], q, "vacant", shanghai(DAY1, 11), note="全家外出务工")
    v["h7"] = sync(colleague, h["h7"], q, "vacant", shanghai(DAY1, 11, 30))
    visit_vacancy_confirm(visit=v["h7"], actor=world.users[Role.VILLAGE_ADMIN])
    v["h9a"] = sync(colleague, h["h9"], q, "completed", shanghai(DAY1, 15), safety="安全")
    v["h9b"] = sync(colleague, h["h9"], q, "not_home", shanghai(DAY2, 15))
    v["x1"] = sync(zhao_user, h["x1"], q, "completed", shanghai(DAY1, 9), safety="安全")

    # Another town's campaign and a reached household there: never in 汝集镇's figures.
    far_campaign = make_campaign(world.other_town, {world.faraway: 10}, questionnaire=q)
    far_user = make_user(Role.CADRE, world.faraway, username="far")
    far_cadre = make_person(world.faraway, name="远方干部", user=far_user)
    h["f1"] = make_household(world.faraway)
    make_assignment(far_campaign, h["f1"], far_cadre)
    v["f1"] = sync(far_user, h["f1"], q, "completed", shanghai(DAY1, 9))
    return s


# 七营村 and 新桥村 as worked out above: the Progress fields, in order.
QIYING = {
    "quota": 4,
    "active_households": 8,
    "reached_households": 5,
    "reached_by_phone": 1,
    "to_revisit": 1,
    "unreached_households": 3,
    "vacant_pending": 1,
    "vacant_confirmed": 1,
    "questionnaire_count": 5,
}
XINQIAO = {
    "quota": 2,
    "active_households": 2,
    "reached_households": 1,
    "reached_by_phone": 0,
    "to_revisit": 0,
    "unreached_households": 1,
    "vacant_pending": 0,
    "vacant_confirmed": 0,
    "questionnaire_count": 1,
}
REACHED_ON = {DAY1: {"七营村": 4, "新桥村": 1}, DAY2: {"七营村": 1, "新桥村": 0}}
