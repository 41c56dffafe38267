"""Browser fixtures: the real app served on localhost, driven by Debian's Chromium.

Playwright's own browser download cannot work on the build machines, so the tests
use /usr/bin/chromium (installed by `make test` through .ci/ensure-chromium). When
it is truly missing, the browser tests are skipped with that reason, never silently.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from web import create_app

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"


@pytest.fixture
def live_app(database_url: str) -> Flask:
    """The app as users get it: CSRF on, error pages instead of tracebacks."""
    return create_app(
        {"TESTING": False, "SECRET_KEY": "browser-test", "DATABASE_URL": database_url}
    )


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    from web.database import get_engine

    get_engine(live_app).dispose()  # no connection left open after the test


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (run `make test` as root to install it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
