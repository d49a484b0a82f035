"""Browser tests: Playwright for Python driving Debian's Chromium (`/usr/bin/chromium`)
against pytest-django's `live_server`.

The browser is required, not optional: without it these tests fail with a message saying
what to install, so a missing browser is never mistaken for a pass.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PINGAN_CHROMIUM", "/usr/bin/chromium"))
# Playwright's synchronous API runs an event loop in the test's thread; Django refuses ORM
# calls from a thread with a running loop unless told that this one is safe (it is: the test
# itself is synchronous, and the live server answers from its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium, shared by the session's browser tests."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or set "
            "PINGAN_CHROMIUM to its path. The browser tests need a real browser.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is missing: pip install 'playwright>=1.45,<2' "
            "(the browser itself is Debian's Chromium, no download needed).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context (no cookies) and page, in Chinese, for one test."""
    context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
