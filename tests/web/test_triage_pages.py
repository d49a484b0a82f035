"""The triage queue (梳理, /ledger/triage/): the town center's untriaged concerns, the oldest
first, filtered, each with its suggestion; one action for many ticked concerns, answered per
concern; the same form sent twice decided once; the query count pinned."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.campaigns.models import ProblemCategory, RoutingRule
from pingan.core import clock, pii
from pingan.ledger.models import Problem, ProblemReporter
from pingan.ledger.triage import Decision, concern_triage
from pingan.surveys.answers import AnswerIn
from pingan.visits.concerns import concern_report
from pingan.visits.models import Concern, ThoughtWork
from pingan.visits.services import visit_sync
from tests.factories import make_campaign, make_household, make_user, visit_in

SHANGHAI = clock.SHANGHAI
MORNING = dt.datetime(2021, 10, 22, 9, 30, tzinfo=SHANGHAI)  # a Friday in the visiting phase
URL = "/ledger/triage/"


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield MORNING


@pytest.fixture
def town(world, field):
    """The town's categories and one routing rule: 赌博 → 治安 → 汝集派出所."""
    for order, name in enumerate(("治安", "矛盾纠纷", "基础设施")):
        ProblemCategory.objects.create(town=world.town, name=name, sort_order=order)
    RoutingRule.objects.create(
        town=world.town, keywords="赌博 聚赌", category="治安", unit=world.police, priority=1
    )
    return world.town


def _html(response) -> str:
    return response.content.decode()


def call(world, field, text: str, *, household=None, minutes: int = 0, source="phone"):
    """A phone call (来电) registered by the town center, `minutes` after 08:00."""
    with clock.at(dt.datetime(2021, 10, 22, 8, 0, tzinfo=SHANGHAI) + dt.timedelta(minutes=minutes)):
        return concern_report(
            actor=world.users[Role.TOWN_ADMIN],
            household_id=(household or field.households[0]).pk,
            text=text,
            source=source,
        )


def feelings(world, field, household) -> Concern:
    """A visit whose only negative answer is 不太安全 (a feeling)."""
    item = visit_in(household, field.questionnaire,
                    answers=(AnswerIn("safety", ("不太安全",)), AnswerIn("police", ("满意",))))  # fmt: skip
    [result] = visit_sync(actor=world.users[Role.CADRE], items=[item])
    return Concern.objects.get(pk=result.concern_id)


def ticks(*concerns: Concern) -> list[str]:
    for concern in concerns:
        concern.refresh_from_db()
    return [f"{c.pk}:{c.version}" for c in concerns]


def post(client: Client, concerns, action: str, key: str = "k1", **data):
    payload = {"key": key, "action": action, "concern": ticks(*concerns), **data}
    return client.post(URL, payload)


def listed(response) -> list[int]:
    return [row.concern.pk for row in response.context["rows"]]


# --- who may open it -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.VILLAGE_ADMIN, Role.CADRE, Role.UNIT_HANDLER, Role.COUNTY_VIEWER]
)
def test_only_the_town_center_triages(world, field, town, login, morning, role):
    concern = call(world, field, "有人聚众赌博")
    client = login(world.users[role])
    assert client.get(URL).status_code == 403
    assert post(client, [concern], "talk").status_code == 403
    concern.refresh_from_db()
    assert concern.outcome == ""


def test_signed_out_goes_to_the_login_page(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("web:login"))


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_lists_open_concerns_oldest_first_with_their_suggestions(
    world, field, town, login, morning
):
    # Given: an open problem about a dog, a gambling call, a dog call, a feeling, one decided
    dog_problem = concern_triage(
        actor=world.users[Role.TOWN_ADMIN],
        decision=Decision(call(world, field, "村里有恶狗咬人").pk, 1, "file", category="治安"),
    )
    gambling = call(world, field, "村东头有人聚众赌博", minutes=30)
    dog = call(world, field, "村里有恶狗咬人没人管", household=field.households[1], minutes=10)
    feeling = feelings(world, field, field.households[2])  # reported at 09:30, the latest
    # one of another town: never shown
    make_campaign(world.other_town, {world.faraway: 300})
    concern_report(actor=make_user(Role.TOWN_ADMIN, world.other_town, username="yimen"),
                   village_id=world.faraway.pk, text="远方村有人聚众赌博")  # fmt: skip

    response = login(world.users[Role.TOWN_ADMIN]).get(URL)

    assert response.status_code == 200
    assert listed(response) == [dog.pk, gambling.pk, feeling.pk]  # oldest first
    suggestions = {row.concern.pk: row.suggestion for row in response.context["rows"]}
    assert suggestions[gambling.pk].outcome == "file"
    assert (suggestions[gambling.pk].category, suggestions[gambling.pk].unit) == (
        "治安", world.police,
    )  # fmt: skip
    assert suggestions[dog.pk].outcome == "merge"
    assert suggestions[dog.pk].candidates[0].code == dog_problem.problem_code
    assert suggestions[feeling.pk].outcome == "talk"
    html = _html(response)
    assert "关键词“赌博”→ 类别“治安” → 汝集派出所" in html  # 立案: the rule's category and unit
    assert "责任单位 汝集派出所" in html
    assert re.search(rf'value="{dog_problem.problem_id}"> 并入 <span class="mono">'
                     rf'{dog_problem.problem_code}</span>', html)  # fmt: skip
    score = suggestions[dog.pk].candidates[0].score
    assert f"{score} 分" in html
    assert "只有感受类回答（不太安全），没有具体事项" in html
    assert "远方村" not in html
    # the household: masked name and address only
    household = field.households[1]
    assert f"{pii.mask_name(household.head_name)} · {household.address}" in html
    assert f">{household.head_name}<" not in html
    assert household.head_name not in html.replace(pii.mask_name(household.head_name), "")
    assert "王建国" in html  # the visiting cadre
    assert "2021-10-22 08:10" in html  # when it came in


def test_the_queue_filters_by_village_category_source_and_content(
    world, field, town, login, morning
):
    xinqiao_home = make_household(world.xinqiao)
    walk_in = call(world, field, "邻居占道堆放杂物", source="walk_in")
    gambling = call(world, field, "有人聚众赌博", household=field.households[1])
    far = concern_report(actor=world.users[Role.TOWN_ADMIN], household_id=xinqiao_home.pk,
                         text="新桥村路灯不亮", category="基础设施")  # fmt: skip
    feeling = feelings(world, field, field.households[2])
    client = login(world.users[Role.TOWN_ADMIN])

    for query, wanted in [
        ({}, [walk_in, gambling, far, feeling]),
        ({"village": world.xinqiao.pk}, [far]),
        ({"category": "基础设施"}, [far]),
        ({"source": "walk_in"}, [walk_in]),
        ({"source": "visit"}, [feeling]),
        ({"kind": "feelings"}, [feeling]),
        ({"kind": "matters"}, [walk_in, gambling, far]),
        ({"village": "abc", "source": "nonsense", "page": "x"}, [walk_in, gambling, far, feeling]),
    ]:
        response = client.get(URL, query)
        assert response.status_code == 200
        assert listed(response) == [c.pk for c in wanted], query
    html = _html(client.get(URL, {"source": "phone", "kind": "opinion"}))
    assert "没有符合条件的待梳理反映。" in html
    assert '<option value="phone" selected>' in html


def test_fifty_a_page(world, field, town, login, morning):
    for n in range(51):
        call(world, field, f"第{n}件事", minutes=n)
    client = login(world.users[Role.TOWN_ADMIN])
    first = client.get(URL)
    assert len(listed(first)) == 50
    assert "共 51 条待梳理" in _html(first)
    second = client.get(URL, {"page": 2})
    assert [row.concern.text for row in second.context["rows"]] == ["第50件事"]


def test_the_page_works_from_the_keyboard_and_without_script(world, field, town, login, morning):
    concerns = [call(world, field, f"第{n}件事", minutes=n) for n in range(3)]
    client = login(world.users[Role.TOWN_ADMIN])
    html = _html(client.get(URL))
    # real controls, each with its label; access keys; the script is an addition
    for value, key, label in [("adopt", "a", "采纳建议"), ("file", "f", "立案并交办"),
                              ("merge", "m", "并案"), ("talk", "t", "思想工作"),
                              ("decline", "d", "不予立案")]:  # fmt: skip
        assert re.search(
            rf'<label class="action-choice"><input type="radio" name="action" value="{value}" '
            rf'accesskey="{key}"[^>]*> {label} <kbd>{key}</kbd></label>',
            html,
        ), value
    assert '<button type="submit" class="primary" accesskey="s">提交</button>' in html
    assert '<script src="/static/web/triage.js" defer></script>' in html
    assert "j / k 下一条 / 上一条，x 勾选当前条" in html
    assert html.count('<input type="checkbox" name="concern"') == 3
    assert not re.search(r'name="concern" value="[^"]*" checked', html)
    # 全选本页 without script: a link that comes back with every row ticked
    everything = _html(client.get(URL, {"select": "all"}))
    for concern in concerns:
        assert f'value="{concern.pk}:1" checked>' in everything


def test_the_queue_query_count_does_not_grow_with_rows(
    world, field, town, login, morning, django_assert_num_queries
):
    call(world, field, "有人聚众赌博")
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, the user's region, the header's counts, villages, categories, units,
    # page count, rows, their items, the routing rules, open problems, village centres
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(14):
        client.get(URL)
    # Given: 40 more concerns and 5 open problems (candidates for every row)
    for n in range(5):
        concern_triage(actor=world.users[Role.TOWN_ADMIN],
                       decision=Decision(call(world, field, f"路灯坏了{n}").pk, 1, "file"))  # fmt: skip
    for n in range(40):
        household = field.households[n % 3]
        if n % 4 == 0:
            feelings(world, field, household)
        else:
            call(world, field, f"村口路灯坏了第{n}天", household=household, minutes=n)
    with django_assert_num_queries(13):  # as above (no banner query: cached)
        response = client.get(URL)
    assert len(listed(response)) == 41
    assert any(row.candidates for row in response.context["rows"])


# --- one action for many ---------------------------------------------------------------------


def test_file_and_dispatch_many_at_once(world, field, town, login, morning):
    concerns = [call(world, field, f"第{n}件事", minutes=n) for n in range(3)]
    left = call(world, field, "没有勾选的这件", minutes=9)
    client = login(world.users[Role.TOWN_ADMIN])

    response = post(client, concerns, "file", unit=world.police.pk, severity="complex",
                    category="矛盾纠纷")  # fmt: skip

    assert response.status_code == 302
    assert response.url == f"{URL}?done=k1"
    problems = list(Problem.objects.order_by("id"))
    assert [(p.status, p.unit, p.severity, p.category) for p in problems] == [
        ("dispatched", world.police, "complex", "矛盾纠纷")
    ] * 3
    assert [p.description for p in problems] == ["第0件事", "第1件事", "第2件事"]
    page = client.get(response.url)
    html = _html(page)
    assert "刚才梳理的 3 条反映" in html
    for problem in problems:
        assert (
            f'立案</strong> → <a class="mono" href="/ledger/{problem.pk}/">{problem.code}</a>'
            in html
        )
    assert listed(page) == [left.pk]  # the decided ones have left the queue


def test_adopting_the_suggestions_applies_each_concerns_own(world, field, town, login, morning):
    # Given: an open problem about a barking dog; a gambling call (rule: 派出所), a call about
    # the dog, a feeling, and a call no rule knows
    first = concern_triage(
        actor=world.users[Role.TOWN_ADMIN],
        decision=Decision(call(world, field, "村里有恶狗咬人").pk, 1, "file", category="治安"),
    )
    gambling = call(world, field, "村东头有人聚众赌博", minutes=1)
    dog = call(world, field, "村里有恶狗咬人没人管", household=field.households[1], minutes=2)
    feeling = feelings(world, field, field.households[2])
    unknown = call(world, field, "希望多开展文艺活动", minutes=3)
    client = login(world.users[Role.TOWN_ADMIN])

    response = post(client, [gambling, dog, feeling, unknown], "adopt", severity="general")

    assert response.status_code == 302
    for concern in (gambling, dog, feeling, unknown):
        concern.refresh_from_db()
    assert [c.outcome for c in (gambling, dog, feeling, unknown)] == [
        "file", "merge", "talk", "file",
    ]  # fmt: skip
    filed = Problem.objects.get(concern_links__concern=gambling)
    assert (filed.status, filed.unit, filed.severity, filed.category) == (
        "dispatched", world.police, "general", "治安",
    )  # fmt: skip
    # no rule names a unit: filed, waiting to be dispatched
    assert Problem.objects.get(concern_links__concern=unknown).status == "accepted"
    assert set(ProblemReporter.objects.filter(problem_id=first.problem_id)
               .values_list("household", flat=True)) == {field.households[0].pk,
                                                         field.households[1].pk}  # fmt: skip
    assert ThoughtWork.objects.filter(concern=feeling).exists()
    html = _html(client.get(response.url))
    assert "刚才梳理的 4 条反映" in html
    assert f'并案</strong> → <a class="mono" href="/ledger/{first.problem_id}/">' in html
    assert "思想工作</strong> · 已交走访干部做思想工作" in html


def test_merge_into_a_candidate_or_a_typed_code(world, field, town, login, morning):
    target = concern_triage(
        actor=world.users[Role.TOWN_ADMIN],
        decision=Decision(call(world, field, "村口路灯坏了").pk, 1, "file"),
    )
    picked = call(world, field, "路灯一直不亮", household=field.households[1], minutes=1)
    typed = call(world, field, "晚上村口太黑", household=field.households[2], minutes=2)
    client = login(world.users[Role.TOWN_ADMIN])

    assert post(client, [picked], "merge", problem=target.problem_id).status_code == 302
    assert (
        post(client, [typed], "merge", key="k2", code=f" {target.problem_code} ").status_code == 302
    )

    problem = Problem.objects.get(pk=target.problem_id)
    assert problem.reporters.count() == 3
    assert problem.reporters_waiting == 3
    assert Problem.objects.count() == 1


def test_a_refused_form_keeps_the_ticks_and_what_was_typed(world, field, town, login, morning):
    concerns = [call(world, field, f"第{n}件事", minutes=n) for n in range(3)]
    client = login(world.users[Role.TOWN_ADMIN])

    # 不予立案 without a reason
    response = post(client, concerns[:2], "decline", reason="  ")
    assert response.status_code == 422
    html = _html(response)
    assert "不予立案须写明理由。" in html
    for concern in concerns[:2]:
        assert f'value="{concern.pk}:1" checked>' in html
    assert f'value="{concerns[2].pk}:1">' in html  # not ticked
    assert 'value="decline" accesskey="d" data-key="d" checked' in html
    assert 'name="key" value="k1"' not in html  # a new submission key for the next send

    # an unknown code: said beside the code, typed code and choices kept
    response = post(client, concerns[:1], "merge", code="341623101-2021-999999", reason="同一件事")
    assert response.status_code == 422
    html = _html(response)
    assert "找不到编号为 341623101-2021-999999 的问题，或它不在您的管辖范围内。" in html
    assert 'value="341623101-2021-999999"' in html
    assert "同一件事</textarea>" in html

    # nothing ticked; a unit missing for 立案并交办
    response = client.post(URL, {"key": "k3", "action": "file", "severity": "general"})
    assert response.status_code == 422
    html = _html(response)
    assert "请先勾选要梳理的反映。" in html
    assert "立案并交办须选择责任单位。" in html
    assert all(c.outcome == "" for c in Concern.objects.all())


def test_each_concern_is_answered_on_its_own(world, field, town, login, morning):
    """A concern decided meanwhile by someone else is refused (stale); the others are done."""
    mine, theirs = call(world, field, "第一件", minutes=1), call(world, field, "第二件", minutes=2)
    client = login(world.users[Role.TOWN_ADMIN])
    sent = ticks(mine, theirs)
    colleague = make_user(Role.TOWN_ADMIN, world.town, username="colleague")
    concern_triage(actor=colleague, decision=Decision(theirs.pk, 1, "decline", reason="重复反映"))

    response = client.post(URL, {"key": "k1", "action": "talk", "concern": sent})

    assert response.status_code == 200  # one was done: the page again, with the refusal
    html = _html(response)
    assert "（1 条未处理）" in html
    assert (
        f'#{theirs.pk}</span>\n      \n      <strong class="error">未处理</strong> 反映 #{theirs.pk} 已被他人处理（当前为「不予立案」），请刷新后重试'
        in html
    )
    assert f"#{mine.pk}</span>\n      \n      <strong>思想工作</strong>" in html
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.outcome, theirs.outcome, theirs.decided_by) == ("talk", "decline", colleague)


def test_all_refused_keeps_the_ticks_and_writes_nothing(world, field, town, login, morning):
    """并案 into a problem this town center may not touch (another town's): every concern is
    refused (422), stays open and stays ticked, the chosen problem kept."""
    make_campaign(world.other_town, {world.faraway: 300})
    yimen = make_user(Role.TOWN_ADMIN, world.other_town, username="yimen")
    far = concern_report(actor=yimen, village_id=world.faraway.pk, text="远方村路灯坏了")
    far_problem = concern_triage(actor=yimen, decision=Decision(far.pk, 1, "file"))
    concerns = [call(world, field, f"路灯的事{n}", minutes=n) for n in range(2)]
    client = login(world.users[Role.TOWN_ADMIN])

    response = post(client, concerns, "merge", problem=far_problem.problem_id)

    assert response.status_code == 422
    html = _html(response)
    assert "（2 条未处理）" in html
    assert html.count("要并入的问题不存在或不在您的管辖范围内") == 2
    assert 'value="merge" accesskey="m" data-key="m" checked' in html
    for concern in concerns:
        concern.refresh_from_db()
        assert concern.outcome == ""
        assert f'value="{concern.pk}:1" checked>' in html


def test_the_same_form_sent_twice_is_decided_once(world, field, town, login, morning):
    concerns = [call(world, field, f"第{n}件事", minutes=n) for n in range(3)]
    client = login(world.users[Role.TOWN_ADMIN])
    sent = ticks(*concerns)
    payload = {"key": "same", "action": "file", "unit": world.police.pk, "severity": "general",
               "concern": sent}  # fmt: skip

    first = client.post(URL, payload)
    again = client.post(URL, payload)  # a double click, a reload

    assert first.status_code == again.status_code == 302
    assert first.url == again.url
    assert Problem.objects.count() == 3
    codes = sorted(Problem.objects.values_list("code", flat=True))
    html = _html(client.get(again.url))
    assert all(code in html for code in codes)
    assert "此前已处理" not in html  # the first answer itself

    # from another browser (no session to remember the key): the service answers duplicate
    other = Client()
    other.force_login(world.users[Role.TOWN_ADMIN])
    third = other.post(URL, payload)
    assert third.status_code == 302
    assert Problem.objects.count() == 3
    html = _html(other.get(third.url))
    assert html.count("（此前已处理，未重复处理）") == 3
    assert all(code in html for code in codes)


def test_adopting_twice_is_decided_once(world, field, town, login, morning):
    """Adopting works the suggestions out again; a concern decided by the first send re-sends
    the outcome it got, so the service answers duplicate (never a second problem)."""
    concerns = [call(world, field, "有人聚众赌博", household=h, minutes=n)
                for n, h in enumerate(field.households)]  # fmt: skip
    payload = {"key": "adopt-1", "action": "adopt", "severity": "general",
               "concern": ticks(*concerns)}  # fmt: skip
    browsers = []
    for _ in range(2):
        browser = Client()
        browser.force_login(world.users[Role.TOWN_ADMIN])
        browsers.append(browser)
    assert browsers[0].post(URL, payload).status_code == 302
    filed = Problem.objects.count()
    response = browsers[1].post(URL, payload)
    assert response.status_code == 302
    assert Problem.objects.count() == filed
    assert _html(browsers[1].get(response.url)).count("此前已处理") == 3
