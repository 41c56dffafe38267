"""In Chromium on a phone: the long company profile sent back with two mistakes far apart
opens on the error summary at the top, with the cursor on it; its second link takes the
cursor to the second field at fault, on the screen."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scheduler.models import Phase
from tests.browser.conftest import SCREENSHOTS
from tests.participant_fair import make_fair

pytestmark = pytest.mark.browser

ACTIVE = "(() => { const a = document.activeElement; return a.id || a.tagName; })()"
# Whether an element is wholly on the screen.
ON_SCREEN = """el => { const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; }"""


def test_the_profile_opens_on_the_summary_whose_links_reach_each_field(
    browser, live_server, db_session: Session
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        tab.goto(f"{live_server}/p/{fair.supplier.access_token}/profile")
        assert tab.evaluate("document.documentElement.scrollHeight") > 3 * 844  # a long page
        tab.fill("#name", "")  # the first field of the form
        tab.fill("#strengths", "強" * 5001)  # the last one, one character too many
        with tab.expect_navigation():
            tab.locator("#strengths").evaluate("t => t.form.requestSubmit()")
        summary = tab.locator(".error-summary")
        links = summary.locator("a")
        assert links.all_inner_texts() == [
            "会社名：入力してください。",
            "強み・他社との違い：5000 文字以内で入力してください。",
        ]
        assert [link.get_attribute("href") for link in links.all()] == ["#name", "#strengths"]
        # The cursor on the summary, on the screen with the page's heading above it.
        tab.wait_for_function("document.activeElement.classList.contains('error-summary')")
        assert summary.evaluate(ON_SCREEN)
        assert tab.locator("h1").evaluate(ON_SCREEN)
        tab.screenshot(path=str(SCREENSHOTS / "error_summary_phone_top.png"))

        links.nth(1).click()
        assert tab.evaluate(ACTIVE) == "strengths"
        assert tab.locator("#strengths").evaluate(ON_SCREEN)
        assert tab.locator("label[for=strengths]").evaluate(ON_SCREEN)  # the question too
        assert tab.locator("#strengths-err").evaluate(ON_SCREEN)
        assert tab.url.endswith("/profile")  # no #fragment: Back leaves the page as before
        tab.screenshot(path=str(SCREENSHOTS / "error_summary_phone_second_link.png"))

        links.nth(0).focus()  # by keyboard: Enter on the first link
        tab.keyboard.press("Enter")
        assert tab.evaluate(ACTIVE) == "name"
        assert tab.locator("#name").evaluate(ON_SCREEN)
    finally:
        context.close()


def test_one_mistake_still_puts_the_cursor_on_its_field(
    page, live_server, db_session: Session
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    page.goto(f"{live_server}/p/{fair.supplier.access_token}/profile")
    page.fill("#website", "ftp:/bad url")
    with page.expect_navigation():
        page.locator("#website").evaluate("w => w.form.requestSubmit()")
    assert page.locator(".error-summary a").all_inner_texts() == [
        "ウェブサイト：http:// または https:// で始まる URL を入力してください。"
    ]
    page.wait_for_function("document.activeElement.id === 'website'")
