"""A double tap on a form of the day console sends it once (headless Chromium).

The server also recognises a form sent twice (tests/test_day_qa3.py); this checks the
page's part: the second tap sends nothing.

Chromium is driven from a thread of its own: the browser tests under tests/browser keep
one Playwright running for the whole session on the main thread, and a second one
cannot start there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import day_operations
from scheduler.models import Event, Participant, User
from tests.browser.conftest import CHROMIUM, live_app, live_server  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser


def _in_chromium(drive: Callable[[object], None]) -> None:
    """Run ``drive(page)`` in a phone-sized Chromium tab on a thread of its own."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (run `make test` as root to install it)")
    failure: list[BaseException] = []

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                context = browser.new_context(
                    locale="ja-JP", viewport={"width": 390, "height": 844}
                )
                context.set_default_timeout(10_000)
                try:
                    drive(context.new_page())
                finally:
                    browser.close()
        except BaseException as error:  # handed to the test's thread
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if failure:
        raise failure[0]


def test_a_double_tap_on_register_sends_the_walk_in_once(
    live_server: str,  # noqa: F811
    db_session: Session,
    staff: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fair: Event = published_fair(db_session)
    # A busy venue network: the first request is still on its way at the second tap.
    register = day_operations.register_walk_in

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.5)
        return register(*args, **kwargs)

    monkeypatch.setattr(day_operations, "register_walk_in", slow)
    posts: list[str] = []

    def drive(page) -> None:  # type: ignore[no-untyped-def]
        page.goto(f"{live_server}/auth/login")
        page.fill("input[name=email]", "staff@example.jp")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(f"{live_server}/events/{fair.id}/day/walk-in")
        page.fill("input[name=company]", "株式会社 飛込精機")
        page.fill("input[name=contact_name]", "飛込 一郎")
        # Two taps 100 ms apart (a double click in one go is merged by the browser itself).
        page.evaluate(
            """() => {
              const button = document.querySelector('form.walk-in-form button[type=submit]');
              button.click();
              setTimeout(() => button.click(), 100);
            }"""
        )
        page.wait_for_url("**/offers")
        assert "すでにこの商談会に登録されています" not in page.content()

    _in_chromium(drive)
    assert len([u for u in posts if u.endswith("/walk-in")]) == 1
    db_session.expire_all()
    count = db_session.scalar(
        select(func.count(Participant.id)).where(
            Participant.event_id == fair.id, Participant.registered_via == "walkin"
        )
    )
    assert count == 1
