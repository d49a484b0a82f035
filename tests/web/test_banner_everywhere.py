"""The synthetic-data banner is on every page while the site holds synthetic data: each role
signs in and walks every page it can reach by following links, the way a user would.

The walk starts at the home page after login and follows every same-site `<a href>` of each
HTML page, breadth-first. Each path is opened once (its first link): query variants of a page
(filters, another day, page 2 of a list) render the same view in the same layout. Left out:
downloads (xlsx, docx, json, csv and the bulletin's HTML document), the language switch and
logout (forms, not links anyway), the API, and URLs that answer only POST (405 to a GET).
"""

import datetime as dt
import re
from collections import deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from pingan.accounts.models import Person, Role
from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.services import ActionInput, problem_act, problem_report
from pingan.regions.importing import household_import
from pingan.regions.models import Household
from pingan.reports.export_services import export_request
from pingan.reports.models import ExportJob
from tests.fixtures_messy import HEADER, TITLE, household_row, xlsx_bytes
from tests.progress_scenario import DAY2, shanghai

BANNER = "演示数据（合成）— 非真实群众信息"
MAX_PAGES = 150  # per role; the walk below reaches far fewer, so a runaway shows as a failure
DOWNLOADS = {
    "web:bulletin_download",
    "web:export_download",
    "web:import_errors",
    "web:ledger_export",
    "web:password_sheet_download",
}
HREF = r'<a\s[^>]*?href="([^"]*)"'
# Pages each role's walk must reach (so a walk that stopped early cannot pass).
MUST_REACH = {
    Role.TOWN_ADMIN: {
        "web:town", "web:village", "web:allocation", "web:bulletin", "web:village_bulletin",
        "web:leaflets", "web:ledger", "web:ledger_inbox", "web:problem", "web:problem_new",
        "web:inbox", "web:import_list", "web:import_households", "web:export_list",
        "web:password_change",
    },
    Role.LEADER: {"web:town", "web:village", "web:bulletin", "web:ledger", "web:problem",
                  "web:ledger_inbox", "web:inbox"},
    Role.VILLAGE_ADMIN: {"web:village", "web:allocation", "web:village_bulletin", "web:ledger",
                         "web:problem", "web:inbox", "web:import_list", "web:import_detail"},
    Role.CADRE: {"field:households", "field:household_history", "field:visit_form",
                 "field:feedback", "web:inbox", "web:password_change"},
    Role.UNIT_HANDLER: {"web:ledger_inbox", "web:ledger", "web:problem", "web:inbox"},
    Role.COUNTY_VIEWER: {"web:county", "web:town", "web:village", "web:ledger"},
}  # fmt: skip
MOMENT = shanghai(DAY2, 18)  # the evening of the scenario's second day


def _act(actor, problem, action: str, **data):
    problem.refresh_from_db()
    return problem_act(
        actor=actor,
        problem_id=problem.pk,
        action=action,
        version=problem.version,
        data=ActionInput(**data),
    )


@pytest.fixture
def demo_site(world, scenario, settings, tmp_path, django_capture_on_commit_callbacks):
    """The progress scenario, marked synthetic as `pingan demo` marks its data, with a roster
    import (one row rejected), problems in several states, the notices they sent, and a
    finished export."""
    settings.PINGAN_HOME = tmp_path
    Household.objects.update(synthetic=True)
    Person.objects.update(synthetic=True)
    users = world.users
    h = scenario.households
    with clock.at(MOMENT - dt.timedelta(hours=8)):
        handled = problem_report(
            actor=users[Role.CADRE], village_id=None, household_id=h["h1"].pk,
            description="路灯坏了，晚上出行不安全", category="治安防范",
        )  # fmt: skip
        problem_report(
            actor=users[Role.TOWN_ADMIN], village_id=world.xinqiao.pk, household_id=None,
            description="邻里装修噪音扰民", category="矛盾纠纷",
        )  # fmt: skip
        _act(users[Role.TOWN_ADMIN], handled, Action.ACCEPT)
        _act(users[Role.TOWN_ADMIN], handled, Action.DISPATCH,
             unit_id=world.police.pk, severity="general")  # fmt: skip
        _act(users[Role.UNIT_HANDLER], handled, Action.HANDLE, result="已修复路灯")
        roster = [[TITLE], HEADER, household_row(1), household_row(2, phone="12")]
        household_import(
            actor=users[Role.VILLAGE_ADMIN], source=xlsx_bytes(roster), filename="花名册.xlsx",
            village=world.qiying, synthetic=True,
        )  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            export_request(user=users[Role.TOWN_ADMIN], kind=ExportJob.Kind.VISITS, params={})
    return world


def _links(html: str, base: str) -> list[str]:
    found = []
    for href in re.findall(HREF, html):
        url = urljoin(base, unescape(href))
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            continue  # another site
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _skipped(path: str) -> bool:
    if path.startswith(("/api/", "/i18n/", "/static/")) or path == "/favicon.ico":
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False  # a broken link: opened, so the walk reports it
    return match.view_name in DOWNLOADS or match.view_name in ("web:logout", "set_language")


def walk(client: Client, start: str = "/") -> dict[str, tuple[int, str, str]]:
    """Every page reachable from `start`: path -> (status, content type, html)."""
    pages: dict[str, tuple[int, str, str]] = {}
    queue = deque([start])
    seen = {urlsplit(start).path}
    while queue:
        url = queue.popleft()
        assert len(pages) < MAX_PAGES, f"more than {MAX_PAGES} pages: {sorted(pages)}"
        response = client.get(url, follow=True)
        final = response.request["PATH_INFO"]
        content_type = response.get("Content-Type", "")
        html = response.content.decode() if content_type.startswith("text/html") else ""
        if response.status_code == 405:
            continue  # answers POST only
        pages[final] = (response.status_code, content_type, html)
        seen.add(final)
        for link in _links(html, final):
            path = urlsplit(link).path
            if path not in seen and not _skipped(path):
                seen.add(path)
                queue.append(link)
    return pages


@pytest.mark.parametrize("role", list(Role))
def test_every_page_a_role_reaches_shows_the_banner(demo_site, client, role):
    client.force_login(demo_site.users[role])
    with time_machine.travel(MOMENT, tick=False):
        pages = walk(client)

    html_pages = {path: page for path, page in pages.items() if page[1].startswith("text/html")}
    not_ok = {path: status for path, (status, _, _) in html_pages.items() if status != 200}
    without = sorted(path for path, (_, _, html) in html_pages.items() if BANNER not in html)
    assert not not_ok, not_ok
    assert without == [], without
    reached = {resolve(path).view_name for path in html_pages}
    assert MUST_REACH[role] <= reached, MUST_REACH[role] - reached


def test_the_login_page_shows_the_banner(demo_site, client):
    response = client.get("/", follow=True)
    assert response.request["PATH_INFO"] == reverse("web:login")
    assert BANNER in response.content.decode()


def test_no_banner_without_synthetic_data(world, scenario, login):
    client = login(world.users[Role.CADRE])
    with time_machine.travel(MOMENT, tick=False):
        pages = walk(client)
    assert reverse("field:households") in pages
    assert all(BANNER not in html for _, _, html in pages.values())
    client.logout()
    assert BANNER not in client.get(reverse("web:login")).content.decode()
