"""In Chromium: after a form comes back with a mistake, the cursor is on the first field
to fix (not on the first field of the form), scrolled to the middle of the screen, also
when the form's address ends in #fragment (where browsers ignore autofocus)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.models import Phase
from scheduler.schedule_view import event_meetings
from tests.conftest import PASSWORD
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

ACTIVE = "(() => { const a = document.activeElement; return a.id || a.tagName; })()"
# How far the focused element's middle is from the middle of the screen, or 0 when the
# page cannot scroll further that way.
OFF_CENTRE = """(() => { const r = document.activeElement.getBoundingClientRect();
  const off = (r.top + r.bottom) / 2 - innerHeight / 2;
  const max = document.documentElement.scrollHeight - innerHeight;
  if (off > 0 && scrollY >= max - 1) return 0;
  if (off < 0 && scrollY <= 0) return 0;
  return Math.abs(off); })()"""


def _log_in(tab, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{live_server}/auth/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{live_server}/")


def test_a_wrong_password_puts_the_cursor_on_the_password(page, live_server, organizer) -> None:
    page.goto(f"{live_server}/auth/login")
    assert page.evaluate(ACTIVE) == "email"  # a fresh form starts at the e-mail
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit]")
    page.wait_for_selector("#password-err")
    assert page.evaluate(ACTIVE) == "password"


def test_the_walk_in_form_focuses_the_first_wrong_field_in_the_middle(
    browser, live_server, staff, db_session
) -> None:
    fair = published_fair(db_session)
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 500})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        _log_in(tab, live_server, "staff@example.jp")
        tab.goto(f"{live_server}/events/{fair.id}/day/walk-in")
        assert tab.evaluate(ACTIVE) == "company"
        tab.fill("#company", "株式会社 飛込")
        tab.click("main button[type=submit]")
        tab.wait_for_selector("#contact_name-err")
        assert tab.evaluate(ACTIVE) == "contact_name"  # not the company, typed correctly
        assert tab.evaluate(OFF_CENTRE) < 30

        # A wrong technology only: the picker's group gets the focus, as a whole.
        tab.fill("#contact_name", "飛込 一郎")
        tab.evaluate(
            "(() => { const i = document.querySelector('input[name=technologies]');"
            " i.value = 'no-such-code'; i.checked = true; })()"
        )
        tab.click("main button[type=submit]")
        tab.wait_for_selector("#technologies-err")
        focused = tab.evaluate(
            "(() => { const a = document.activeElement; return [a.tagName,"
            " a.getAttribute('aria-invalid'), a.getAttribute('aria-describedby')]; })()"
        )
        assert focused == ["FIELDSET", "true", "technologies-err"]
        assert tab.evaluate(OFF_CENTRE) < 30
    finally:
        context.close()


def test_a_report_sent_back_focuses_its_wrong_field_despite_the_fragment(
    browser, live_server, db_session, monkeypatch
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    now = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    meeting = meetings[0]
    supplier = meeting.participant_b
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 700})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        tab.goto(f"{live_server}/p/{supplier.access_token}/outcomes")
        card = tab.locator(f"#meeting-{meeting.id}")
        card.get_by_label("はい").check()
        card.get_by_label("可能性あり").check()
        card.get_by_label("受注・成約金額（円）").fill("３００万円")  # an amount without an order
        card.get_by_role("button", name="報告する").click()
        tab.wait_for_selector(f"#m{meeting.id}-order_amount-err")
        assert tab.url.endswith(f"#meeting-{meeting.id}")
        assert tab.evaluate(ACTIVE) == f"m{meeting.id}-amount"
        assert tab.evaluate(OFF_CENTRE) < 30
    finally:
        context.close()


def test_a_survey_sent_back_focuses_its_wrong_field_despite_the_fragment(
    browser, live_server, db_session, monkeypatch
) -> None:
    fair = published_fair(db_session)
    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    now = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: now)
    supplier = meetings[0].participant_b
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 700})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        tab.goto(f"{live_server}/p/{supplier.access_token}/outcomes")
        tab.locator("#survey button[type=submit]").click()  # nothing chosen
        tab.wait_for_selector("#survey-satisfaction-err")
        assert tab.url.endswith("#survey")
        focused = tab.evaluate(
            "(() => { const a = document.activeElement; return [a.name, a.type]; })()"
        )
        assert focused == ["satisfaction", "radio"]
    finally:
        context.close()
