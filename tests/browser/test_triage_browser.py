"""The triage queue in a real browser: the town center signs in through the login page, ticks
20 concerns, files and dispatches them to 汝集派出所 in one action, and the police station's
handler, signing in next, finds all 20 in its 待办.

Screenshots of each step go to /tmp/triage-*.png (to look at while working on the page).
"""

import re
import tempfile
from pathlib import Path

import pytest

from pingan.accounts.models import Role
from pingan.ledger.models import Problem
from pingan.visits.concerns import concern_report
from pingan.visits.models import Concern

PASSWORD = "pass-word-123"  # tests.factories.make_user's
SHOTS = str(Path(tempfile.gettempdir()) / "triage-{}.png")


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_twenty_concerns_filed_and_dispatched_reach_the_unit(world, field, live_server, page):
    # Given: 22 calls waiting for triage
    admin = world.users[Role.TOWN_ADMIN]
    homes = field.households + field.other_households
    for n in range(22):
        concern_report(actor=admin, household_id=homes[n % len(homes)].pk,
                       text=f"第{n + 1}号反映：村道第{n + 1}段路灯损坏，夜间出行不便")  # fmt: skip

    # The town center signs in and opens the queue from the header
    sign_in(page, "town")
    page.get_by_role("link", name="梳理", exact=True).click()
    page.wait_for_url(re.compile(r"/ledger/triage/"))
    boxes = page.locator('input[name="concern"]')
    assert boxes.count() == 22
    assert page.get_by_text("共 22 条待梳理").is_visible()

    # ticks 20 (the first with the keyboard: j to the first concern, x to tick it)
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("x")
    for n in range(1, 20):
        boxes.nth(n).check()
    assert page.locator('input[name="concern"]:checked').count() == 20
    assert page.locator("#picked").inner_text() == "已勾选 20 条"
    # 立案并交办 (f), to the police station, a general problem
    page.locator("h1").click()
    page.keyboard.press("f")
    assert page.locator('input[name="action"][value="file"]').is_checked()
    page.get_by_label("责任单位").select_option(label=world.police.name)
    assert page.locator('input[name="severity"][value="general"]').is_checked()
    page.screenshot(path=SHOTS.format("queue"), full_page=False)

    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"done="))
    assert page.get_by_text("刚才梳理的 20 条反映").is_visible()
    assert page.locator(".result-list li.result-done").count() == 20
    assert page.locator('input[name="concern"]').count() == 2  # the two not ticked
    page.screenshot(path=SHOTS.format("results"), full_page=False)
    assert Problem.objects.filter(unit=world.police, status="dispatched").count() == 20
    assert Concern.objects.filter(outcome="").count() == 2

    # The police station's handler signs in: 待办 has the 20 problems
    sign_out(page)
    sign_in(page, "unit")
    page.wait_for_url(re.compile(r"/ledger/inbox/"))
    assert page.locator(".todo-link .count").inner_text() == "20"
    assert page.locator(".todo-item").count() == 20
    codes = set(Problem.objects.filter(unit=world.police).values_list("code", flat=True))
    shown = set(page.locator(".todo-item .line1 a.mono").all_inner_texts())
    assert shown == codes
    page.screenshot(path=SHOTS.format("unit-todo"), full_page=False)
