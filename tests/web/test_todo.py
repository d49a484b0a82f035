"""待办 for every role (/ledger/inbox/), the header's 待办 badge, the town page's ledger summary
and the problem status badges, on one hand-worked town.

The town on 5 November 2021 (a Friday, 09:00 Shanghai); everything was reported on 21 October:
- concerns: two calls waiting for triage, one declined (not waiting);
- problems of 汝集派出所 (the unit):
  P1 reported (待受理)                          P2 accepted (已受理待交办)
  P3 dispatched, then returned by the unit (退回) P4 dispatched on 21 Oct: due 4 Nov, overdue
  P5 dispatched on 1 Nov (due 15 Nov), the unit asked 3 more days (延期申请)
  P6 handled; its household tried 3 times without reaching it (for the leader to confirm)
  P7 handled, waiting for its household's verdict   P8 closed (nothing waits)
  P9 handled, the household of 李红 (a cadre who cannot sign in): the village admin stands in
- 思想工作: one case for the field cadre (王建国), one for 李红's household (the village admin).
"""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from pingan.accounts.models import Role
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import Problem
from pingan.ledger.queue import section_rows, todo_counts, town_ledger_summary
from pingan.ledger.services import ActionInput
from pingan.ledger.triage import Decision, concern_triage
from pingan.visits.concerns import concern_report
from pingan.visits.models import ThoughtWork
from tests.ledger.conftest import REPORTED_AT, Ledger

SHANGHAI = clock.SHANGHAI
READ = dt.datetime(2021, 11, 5, 9, 0, tzinfo=SHANGHAI)
URL = "/ledger/inbox/"

# What waits for whom, worked out by hand from the module docstring.
EXPECTED = {
    Role.TOWN_ADMIN: {"concerns": 2, "reported": 1, "to_dispatch": 1, "returned": 1,
                      "overdue": 1},
    Role.UNIT_HANDLER: {"unit": 2},  # P4 (overdue) and P5
    Role.LEADER: {"extensions": 1, "unreachable": 1},  # P5; P6's household
    Role.CADRE: {"feedback": 2, "talks": 1},  # P6 and P7 (P6 may still be reached)
    Role.VILLAGE_ADMIN: {"feedback": 1, "talks": 1},  # P9; 李红's household's talk
}  # fmt: skip
TOTALS = {Role.TOWN_ADMIN: 6, Role.UNIT_HANDLER: 2, Role.LEADER: 2, Role.CADRE: 3,
          Role.VILLAGE_ADMIN: 2}  # fmt: skip


@pytest.fixture
def ledger(world, field) -> Ledger:
    return Ledger(world, field, world.users)


def _at(minutes: int):
    return clock.at(REPORTED_AT + dt.timedelta(hours=2, minutes=minutes))


@pytest.fixture
def town(world, field, ledger):
    admin = world.users[Role.TOWN_ADMIN]
    p = {}
    p[1] = ledger.make(Problem.Status.REPORTED, description="P1 路口积水")
    p[2] = ledger.make(Problem.Status.ACCEPTED, description="P2 路灯不亮")
    p[3] = ledger.make(Problem.Status.DISPATCHED, description="P3 邻里纠纷")
    with _at(0):
        ledger.act(p[3], Action.RETURN, Role.UNIT_HANDLER, ActionInput(reason="应由司法所办理"))
    p[4] = ledger.make(Problem.Status.DISPATCHED, description="P4 夜间噪音")
    p[5] = ledger.make(Problem.Status.DISPATCHED, description="P5 电动车被盗",
                       at=dt.datetime(2021, 11, 1, 10, 0, tzinfo=SHANGHAI))  # fmt: skip
    with clock.at(dt.datetime(2021, 11, 2, 10, 0, tzinfo=SHANGHAI)):
        ledger.act(p[5], Action.EXTEND_REQUEST, Role.UNIT_HANDLER,
                   ActionInput(days=3, reason="等待监控调取"))  # fmt: skip
    p[6] = ledger.make(Problem.Status.HANDLED, description="P6 村口垃圾")
    for n in range(3):
        with _at(10 + n):
            ledger.act(p[6], Action.CONTACT_FAILED, Role.CADRE)
    p[7] = ledger.make(Problem.Status.HANDLED, description="P7 道路破损",
                       household=field.households[1])  # fmt: skip
    p[8] = ledger.make(Problem.Status.CLOSED, description="P8 已解决")
    p[9] = ledger.make(Problem.Status.HANDLED, description="P9 李红走访户的问题",
                       household=field.other_households[0], reporter=Role.VILLAGE_ADMIN)  # fmt: skip
    with _at(20):
        waiting = [
            concern_report(actor=admin, household_id=field.households[n].pk, text=f"反映{n}")
            for n in range(2)
        ]
        declined = concern_report(actor=admin, household_id=field.households[2].pk, text="重复")
        concern_triage(actor=admin, decision=Decision(declined.pk, 1, "decline", reason="重复"))
        for household in (field.households[0], field.other_households[1]):
            talk = concern_report(actor=admin, household_id=household.pk, text="感觉不太安全")
            concern_triage(actor=admin, decision=Decision(talk.pk, 1, "talk"))
    with time_machine.travel(READ, tick=False):
        yield {"problems": p, "concerns": waiting}


def _html(response) -> str:
    return response.content.decode()


def _badge(html: str) -> str | None:
    found = re.search(
        r'class="todo-link">待办(?: <span class="count"[^>]*>(\d+)</span>)?</a>', html
    )
    assert found, "no 待办 link in the header"
    return found.group(1)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_has_its_own_sections_counted_in_sql(world, town, login, role):
    user = world.users[role]
    counts = todo_counts(user=user)
    assert counts.sections == EXPECTED[role]
    assert counts.total == TOTALS[role]
    # every count agrees with the rows the section lists
    for key, count in counts.sections.items():
        assert section_rows(user, key).count() == count, key

    html = _html(login(user).get(URL))
    assert _badge(html) == str(TOTALS[role])
    assert f"共 {TOTALS[role]} 件待办。" in html
    for key, count in EXPECTED[role].items():
        assert re.search(rf'<h2 id="{key}-title">[^<]+ <span class="n">{count}</span></h2>', html)


def test_the_town_center_sees_what_waits_for_it(world, town, login):
    p = town["problems"]
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(URL))
    assert '<a href="/ledger/triage/">进入梳理，2 条反映待梳理 ›</a>' in html

    def section(key: str) -> str:
        start = html.index(f'id="{key}-title"')
        return html[start : html.index("</section>", start)]

    assert p[1].code in section("reported")
    assert p[2].code in section("to_dispatch")
    assert p[3].code not in section("to_dispatch")
    assert p[3].code in section("returned")
    assert "2021-10-21 退回：应由司法所办理" in section("returned")
    assert p[4].code in section("overdue")
    assert '<span class="colour colour-red">超期</span>' in section("overdue")
    assert 'href="/ledger/?colour=red"' in section("overdue")
    for code in (p[5].code, p[6].code, p[7].code, p[8].code):
        assert code not in html


def test_a_unit_sees_its_problems_most_urgent_first(world, town, login):
    p = town["problems"]
    html = _html(login(world.users[Role.UNIT_HANDLER]).get(URL))
    assert "本单位待办理的问题" in html
    assert html.index(p[4].code) < html.index(p[5].code)
    assert html.count('class="todo-item"') == 2


def test_a_leader_sees_extensions_and_households_to_confirm(world, town, login):
    p = town["problems"]
    html = _html(login(world.users[Role.LEADER]).get(URL))
    assert "申请延期 3 个工作日 · 等待监控调取" in html
    start = html.index('id="unreachable-title"')
    unreachable = html[start : html.index("</section>", start)]
    assert p[6].code in unreachable
    assert "联系未果 3 次" in unreachable
    assert "确认无法联系 ›" in unreachable


def test_cadre_and_village_admin_take_results_back_and_talk(world, field, town, login):
    p = town["problems"]
    mine = ThoughtWork.objects.get(household=field.households[0])
    stand_in = ThoughtWork.objects.get(household=field.other_households[1])

    html = _html(login(world.users[Role.CADRE]).get(URL))
    assert p[6].code in html
    assert p[7].code in html
    assert p[9].code not in html
    assert f'href="/field/talks/{mine.pk}/"' in html
    assert f"/field/talks/{stand_in.pk}/" not in html
    assert 'href="/field/feedback/">反馈群众 ›' in html

    html = _html(login(world.users[Role.VILLAGE_ADMIN]).get(URL))
    assert p[9].code in html
    assert p[7].code not in html
    assert f'href="/field/talks/{stand_in.pk}/"' in html
    assert f"/field/talks/{mine.pk}/" not in html


def test_one_section_in_full_and_paged(world, town, login, monkeypatch):
    from pingan.web import todo

    monkeypatch.setattr(todo, "SECTION_PREVIEW", 1)
    monkeypatch.setattr(todo, "ROWS_PER_PAGE", 1)
    client = login(world.users[Role.UNIT_HANDLER])
    html = _html(client.get(URL))
    assert html.count('class="todo-item"') == 1
    assert '<a href="?section=unit">查看全部 2 件 ›</a>' in html
    first = client.get(URL, {"section": "unit"})
    assert "第 1–1 件，共 2 件" in _html(first)
    second = _html(client.get(URL, {"section": "unit", "page": 2}))
    assert town["problems"][5].code in second
    # the town center may follow the leader's extension requests, not a unit's list
    admin = login(world.users[Role.TOWN_ADMIN])
    assert town["problems"][5].code in _html(admin.get(URL, {"section": "extensions"}))
    assert 'id="concerns-title"' in _html(admin.get(URL, {"section": "unit"}))  # the whole page


def test_roles_without_a_to_do_list_go_to_the_ledger(world, login):
    response = login(world.users[Role.COUNTY_VIEWER]).get(URL)
    assert response.status_code == 302
    assert response.url == reverse("web:ledger")
    html = _html(login(world.users[Role.COUNTY_VIEWER]).get(reverse("web:ledger")))
    assert 'class="todo-link"' not in html


def test_the_to_do_page_query_count(world, town, login, django_assert_num_queries):
    client = login(world.users[Role.TOWN_ADMIN])
    # session, user, the user's region, every section's count and the unread count (one
    # query, shared with the header), the rows of each section that has any (reported,
    # to_dispatch, returned and its return events, overdue)
    # +1: whether the site holds synthetic data (the banner), asked by the test's first page
    with django_assert_num_queries(10):
        client.get(URL)


def test_the_header_badge_on_every_page_costs_no_query(world, town, login,
                                                      django_assert_num_queries):  # fmt: skip
    """The header's 待办 and 消息 counts are one query: the one the unread count used to be."""
    client = login(world.users[Role.LEADER])
    client.get(reverse("web:inbox"))  # the banner's answer cached
    # session, user, the user's region, the header's counts, page count, rows
    with django_assert_num_queries(6):
        html = _html(client.get(reverse("web:inbox")))
    assert _badge(html) == "2"
    assert re.search(r'消息 <span class="count"[^>]*>\d+</span>', html)


def test_every_status_has_its_own_badge(world, town, login):
    """No problem in 待受理, 已受理 or 已办理 shows a grey 办理中: each state its own badge."""
    p = town["problems"]
    client = login(world.users[Role.TOWN_ADMIN])
    html = _html(client.get(reverse("web:ledger")))
    assert '<span class="colour colour-none">' not in html  # (办理中 stays a colour filter)
    for number, badge in [
        (1, '<span class="colour status-reported">待受理</span>'),
        (2, '<span class="colour status-accepted">已受理</span>'),
        (5, '<span class="colour status-dispatched">已交办</span>'),
        (7, '<span class="colour status-handled">已办理</span>'),
        (4, '<span class="colour colour-red">超期</span>'),
        (8, '<span class="colour colour-green">已销号</span>'),
    ]:
        start = html.index(f">{p[number].code}</a>")
        row = html[start : html.index("</tr>", start)]
        assert badge in row, (number, row)
    detail = _html(client.get(reverse("web:problem", args=[p[7].pk])))
    assert ">办理中<" not in detail


def test_the_town_page_opens_with_the_ledger_summary(world, town, login):
    summary = town_ledger_summary(user=world.users[Role.TOWN_ADMIN], town=world.town)
    assert (summary.concerns, summary.accepted, summary.overdue, summary.due_soon,
            summary.extensions) == (2, 2, 1, 0, 1)  # fmt: skip
    html = _html(login(world.users[Role.TOWN_ADMIN]).get(reverse("web:town",
                                                                 args=[world.town.pk])))  # fmt: skip
    for href, label, count in [
        ("/ledger/triage/", "待梳理的群众反映", 2),
        ("/ledger/?status=accepted", "已受理待交办", 2),
        ("/ledger/?colour=red", "超期", 1),
        ("/ledger/?colour=yellow", "临期（2 个工作日内到期）", 0),
        ("/ledger/inbox/?section=extensions", "待审批的延期申请", 1),
    ]:
        assert (f'<a href="{href}"><span class="label">{label}</span> <strong>{count}</strong></a>'
                in html), label  # fmt: skip
    # the leader sees the figures; the triage queue is not theirs to open
    html = _html(login(world.users[Role.LEADER]).get(reverse("web:town", args=[world.town.pk])))
    assert (
        '<span class="box"><span class="label">待梳理的群众反映</span> <strong>2</strong>' in html
    )
    assert 'href="/ledger/triage/"' not in html


def test_due_soon_counts_yellow_problems(world, town, login):
    """P5 is due 15 November (plus its extension, not approved): yellow from 11 November."""
    with time_machine.travel(dt.datetime(2021, 11, 12, 9, 0, tzinfo=SHANGHAI), tick=False):
        summary = town_ledger_summary(user=world.users[Role.LEADER], town=world.town)
    assert (summary.overdue, summary.due_soon) == (1, 1)
