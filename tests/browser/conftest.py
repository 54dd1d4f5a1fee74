"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium), never a
downloaded browser. Every page load fails the test on a JavaScript error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("LAVKA_REQUIRE_SERVICES"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Browser:
    """Opens pages in fresh contexts (own cookies) and collects JavaScript errors."""

    def __init__(self, chromium, base_url: str) -> None:
        self.chromium = chromium
        self.base_url = base_url
        self.errors: list[str] = []
        self.contexts: list = []

    def new_page(self, *, width: int = 1280, height: int = 800, locale: str = "en-US"):
        context = self.chromium.new_context(
            base_url=self.base_url, locale=locale, viewport={"width": width, "height": height}
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)
        page.set_default_timeout(10_000)
        return page

    def _console(self, message) -> None:
        # A page answered with 404/422 logs "Failed to load resource": that is the
        # status we asked for, not a script error.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browser(chromium, live_server, transactional_db):
    opened = Browser(chromium, live_server.url)
    yield opened
    opened.close()
    assert opened.errors == [], f"JavaScript errors: {opened.errors}"


@pytest.fixture
def page(browser):
    return browser.new_page()


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url("**/")


def log_out(page) -> None:
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login/")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
