"""Headless Chromium for tests: Debian's /usr/bin/chromium driven by Playwright (sync API).

Loaded as a pytest plugin by tests/conftest.py, so tests just ask for the fixtures:

    browser      a playwright Browser, one per test module (see below why not per session)
    page         a fresh desktop page, 1280x800, in its own context
    phone_page   a fresh phone page, 390x844, device scale 3, is_mobile, touch

Both pages accept self-signed HTTPS certificates, time out after DEFAULT_TIMEOUT_MS instead of
hanging, and record console errors and uncaught page errors as strings in
``page.console_errors``: a test asserts it is empty (or holds what it expects). Console events
arrive asynchronously: after the action that logs, wrap it in ``page.expect_console_message()``
or make one more page call before reading the list. A 404 counts too: Chromium asks for
/favicon.ico, so a page without ``<link rel="icon" ...>`` on a server without one logs an
error. A failing test leaves a full-page screenshot of each of its pages in tests/artifacts/;
``save_screenshot(page, name)`` saves one on demand.

The browser is Debian's package ``chromium`` (tests/run.sh installs it); Playwright never
downloads a browser here (never run ``playwright install``). A missing chromium fails the test.

Why the browser is module-scoped: while the sync Playwright API is started, it marks its asyncio
loop as running in the main thread between calls, so ``asyncio.run()`` (the ``run`` fixture)
raises "cannot be called from a running event loop". A per-module browser is closed before the
next module's tests run, so keep browser tests in modules of their own, and start asyncio
servers they need in a thread or a subprocess.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WSMEASURE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
DEFAULT_TIMEOUT_MS = 10_000
# --no-sandbox: chromium's sandbox refuses to run as root (CI runs as root); Playwright adds it
# when chromium_sandbox is False. --disable-dev-shm-usage: small /dev/shm in containers crashes tabs.
CHROMIUM_ARGS = ["--disable-dev-shm-usage"]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}

_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so that page fixtures know if the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def save_screenshot(page, name: str, directory: Path | None = None) -> Path:
    """Save a full-page PNG of ``page`` as <directory or tests/artifacts>/<name>.png."""
    directory = ARTIFACTS if directory is None else Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's chromium "
            "(apt-get install chromium, as tests/run.sh does)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[test]'", pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def _open_page(browser, request, options):
    context = browser.new_context(ignore_https_errors=True, **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    errors = page.console_errors = []

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            where = f" ({loc.get('url')}:{loc.get('lineNumber')})" if loc.get("url") else ""
            errors.append(f"console.error: {msg.text}{where}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc.name or 'Error'}: {exc.message}"))
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            try:
                save_screenshot(page, f"{request.node.nodeid}-{request.fixturename}")
            except Exception:  # a dead page must not hide the test's own failure
                pass
        context.close()


@pytest.fixture
def page(browser, request):
    """A desktop page (1280x800) with ``page.console_errors``."""
    yield from _open_page(browser, request, DESKTOP)


@pytest.fixture
def phone_page(browser, request):
    """A phone page (390x844, scale 3, mobile, touch) with ``page.console_errors``."""
    yield from _open_page(browser, request, PHONE)
