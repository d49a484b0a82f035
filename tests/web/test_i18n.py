"""Chinese first; English only after the user chooses it with the switch."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from pingan.accounts.models import Role
from pingan.campaigns.models import Phase
from pingan.regions.models import Household
from tests.factories import make_campaign, make_household

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"


def _switch_to(client, language: str, next_url: str):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_chinese_by_default_even_when_the_browser_asks_for_english(world, login):
    client = login(world.users[Role.TOWN_ADMIN])
    response = client.get(reverse("web:town", args=[world.town.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert "任务数" in html
    assert "Quota" not in html
    assert '<html lang="zh-Hans">' in html


def test_english_after_the_switch(world, login):
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    make_household(world.qiying, synthetic=True)
    client = login(world.users[Role.TOWN_ADMIN])
    url = reverse("web:town", args=[world.town.pk])

    switched = _switch_to(client, "en", url)

    assert switched.status_code == 302
    assert switched.url == url
    html = client.get(url).content.decode()
    for english in (
        "Quota",
        "On roster",
        "Total (2 villages)",
        "Town governance center",
        "Visiting and rectification",
        "Demo data (synthetic) — not real residents",
        "Log out",
    ):
        assert english in html, english
    assert "任务数" not in html
    assert "1,027" in html
    assert '<html lang="en">' in html

    # and back
    _switch_to(client, "zh-hans", url)
    assert "任务数" in client.get(url).content.decode()


def test_english_village_page_and_status_labels(world, login):
    make_household(world.qiying, group_no=3, status=Household.Status.VACANT)
    client = login(world.users[Role.VILLAGE_ADMIN])
    url = reverse("web:village", args=[world.qiying.pk])
    _switch_to(client, "en", url)
    html = client.get(url).content.decode()
    assert "Group 3" in html
    assert "Vacant" in html
    assert "Households 1–1 of 1" in html


def test_login_page_switches_too(client, db):
    url = reverse("web:login")
    _switch_to(client, "en", url)
    html = client.get(url).content.decode()
    assert "Username" in html
    assert "用户名" not in html


@pytest.mark.parametrize(
    "label",
    [*Role.labels, *Household.Status.labels, *Phase.Kind.labels],
)
def test_model_labels_shown_on_pages_have_english(label):
    with translation.override("en"):
        assert translation.gettext(label) != label


def _po_entries(path: Path) -> dict[str, list[str]]:
    """msgid -> msgstr(s) of a .po file; fails on fuzzy entries."""
    entries: dict[str, list[str]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        assert "#, fuzzy" not in block, block
        key, parts = None, {}
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith('"'):
                parts[key] += ast.literal_eval(line)
            else:
                key, _, rest = line.partition(" ")
                parts[key] = ast.literal_eval(rest)
        if parts.get("msgid"):
            entries[parts["msgid"]] = [v for k, v in parts.items() if k.startswith("msgstr")]
    return entries


def test_catalogue_is_complete_and_compiled():
    """Every message has English, and the committed .mo matches the .po (a fresh machine
    may lack gettext, so the compiled file must be in the tree and current)."""
    entries = _po_entries(CATALOGUE / "django.po")
    assert len(entries) > 50
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for msgid, msgstrs in entries.items():
        assert all(msgstrs), f"untranslated: {msgid}"
        assert compiled.gettext(msgid) == msgstrs[0], f"django.mo is stale: {msgid}"
