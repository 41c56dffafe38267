"""Long lists a page at a time, in Chromium and in Japanese.

The organizer searches the participants list and moves to its second page with the
page links: the search and the role stay. A buyer on a phone moves to the second page
of the suppliers, requests one there with one click and comes back to that page at
that company; the request is marked there and is still marked after visiting page 1.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete, select

from scheduler import preferences
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Interest, Participant, ParticipantRole, ParticipantStatus, Phase
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from web import directory as directory_web
from web import participants_admin

pytestmark = pytest.mark.browser

# Whether anything on the page is wider than the screen (a phone must not scroll sideways).
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def _fair(db_session):  # type: ignore[no-untyped-def]
    """A fair with more suppliers than one page of the directory or the participant list."""
    event = generate_demo(db_session, seed=4, buyers=4, suppliers=64, slug="browser-lists",
                          phase=Phase.PREFERENCES)
    event.max_requests = None
    for deadline in event.phases:
        if deadline.phase == Phase.PREFERENCES:
            deadline.opens_at = utcnow() - timedelta(days=1)
            deadline.closes_at = utcnow() + timedelta(days=14)
    db_session.commit()
    assert len(event.participants) > participants_admin.PER_PAGE
    return event


def test_organizer_pages_through_a_searched_participant_list(
    page, live_server, organizer, db_session
) -> None:
    fair = _fair(db_session)
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/events/{fair.id}/participants")
    nav = page.locator("nav.pagination").first
    assert nav.get_attribute("aria-label")
    assert nav.locator("[aria-current=page]").inner_text() == "1"

    page.select_option("select[name=role]", "supplier")
    page.fill("input[name=q]", "s")  # every supplier's code (S001…): more than a page
    page.click("form[role=search] button[type=submit]")
    page.locator("nav.pagination").first.locator("a:text-is('2')").click()
    args = parse_qs(urlsplit(page.url).query)
    assert args == {"q": ["s"], "role": ["supplier"], "page": ["2"]}
    assert page.input_value("input[name=q]") == "s"
    assert page.input_value("select[name=role]") == "supplier"
    assert page.locator("nav.pagination [aria-current=page]").first.inner_text() == "2"
    rows = page.locator("tbody tr")
    assert 0 < rows.count() <= participants_admin.PER_PAGE
    # Keyboard users reach the page links: the previous page link takes the focus.
    page.locator("nav.pagination a[rel=prev]").first.focus()
    assert page.evaluate("document.activeElement.getAttribute('rel')") == "prev"
    page.screenshot(path=str(SCREENSHOTS / "large_lists_participants_page2.png"),
                    full_page=False)


def test_buyer_requests_on_page_two_and_keeps_its_marks(browser, live_server, db_session) -> None:
    fair = _fair(db_session)
    buyer = db_session.scalars(
        select(Participant).where(Participant.event_id == fair.id,
                                  Participant.role == ParticipantRole.BUYER,
                                  Participant.status == ParticipantStatus.APPROVED)
        .order_by(Participant.id)
    ).first()
    db_session.execute(delete(Interest).where(Interest.from_participant_id == buyer.id))
    db_session.commit()
    suppliers = sum(1 for p in fair.participants if p.role == ParticipantRole.SUPPLIER
                    and p.status == ParticipantStatus.APPROVED)
    assert suppliers > directory_web.PER_PAGE

    phone = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    phone.set_default_timeout(10_000)
    tab = phone.new_page()
    try:
        base = f"{live_server}/p/{buyer.access_token}/directory"
        tab.goto(base)
        assert tab.locator("li.directory-entry").count() == directory_web.PER_PAGE
        tab.click("nav.pagination a[rel=next]")
        assert parse_qs(urlsplit(tab.url).query) == {"page": ["2"]}
        entry = tab.locator("li.directory-entry").first
        entry_id = entry.get_attribute("id")
        supplier_id = int(entry_id.split("-")[1])
        entry.locator("select[name=level]").select_option(label="高")
        tab.screenshot(path=str(SCREENSHOTS / "large_lists_directory_page2_phone.png"),
                       full_page=False)
        with tab.expect_navigation():
            entry.locator("button[type=submit]").click()
        # Back on page 2, at the company asked for, which is now marked.
        assert tab.url == f"{base}?page=2#{entry_id}"
        marked = tab.locator(f"#{entry_id}")
        assert marked.locator("[data-test=requested]").count() == 1
        assert "高" in marked.inner_text()
        assert tab.evaluate(NO_SIDEWAYS)

        tab.click("nav.pagination a[rel=prev]")
        assert tab.locator("[data-test=requested]").count() == 0
        tab.click("nav.pagination a[rel=next]")
        assert tab.locator(f"#{entry_id} [data-test=requested]").count() == 1
        tab.screenshot(path=str(SCREENSHOTS / "large_lists_directory_marked_phone.png"),
                       full_page=True)
    finally:
        phone.close()
    db_session.expire_all()
    asked = preferences.interest_between(db_session, buyer.id, supplier_id)
    assert asked is not None and asked.level == preferences.HIGH
