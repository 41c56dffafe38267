"""A company's schedule page printed from Chromium (QA: cards cut in half, the secret
calendar address on paper), and the organizer's schedule pages printed the same way."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from scheduler.models import Event
from scheduler.schedule_view import personal_schedule
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from tests.published_fair import busiest_participant, published_fair

pytestmark = pytest.mark.browser


def _pdf_pages(page, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """The page printed on A4 as Chromium prints it (kept beside the screenshots, to
    look at); the text of each sheet of paper."""
    page.emulate_media(media="print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(page.pdf(format="A4"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [re.sub(r"\s+", " ", sheet) for sheet in text.split("\f") if sheet.strip()]


@pytest.fixture
def busy_fair(db_session: Session) -> Event:
    # Enough meetings for the busiest company that its cards run over several pages.
    return published_fair(db_session, buyers=4, suppliers=24)


def test_a_printed_schedule_page_keeps_each_meeting_whole_and_leaves_out_the_feed(
    page, live_server, db_session, busy_fair
) -> None:
    company = busiest_participant(db_session, busy_fair)
    schedule = personal_schedule(db_session, company)
    assert len(schedule.meetings) >= 8
    page.goto(f"{live_server}/p/{company.access_token}/schedule")
    page.emulate_media(media="print")
    # Cards are blocks that may not be broken, and headings stay with what follows.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.meeting-card')).breakInside")
        == "avoid"
    )
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.meeting-list')).display")
        == "block"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('h2')).breakAfter") == "avoid"
    assert page.locator("section.calendar-links").is_hidden()

    sheets = _pdf_pages(page, SCREENSHOTS / "printed_schedule_page.pdf")
    page.emulate_media(media="screen")
    page.screenshot(path=str(SCREENSHOTS / "printed_schedule_page_screen.png"), full_page=True)
    assert len(sheets) >= 2  # the cards do run over pages
    everything = " ".join(sheets)
    # The subscription address is the company's secret feed: never on paper.
    assert "/cal/" not in everything and company.feed_token not in everything
    assert "カレンダーに追加" not in everything.replace(" ", "")
    for view in schedule.meetings:
        starts = busy_fair.local(view.slot.starts_at).strftime("%H:%M")
        name = view.counterpart.display_name
        # The card's time, table and counterpart are on one sheet of paper.
        together = [
            sheet
            for sheet in sheets
            if starts in sheet and view.table.label in sheet and name in sheet
        ]
        assert together, f"the card of {starts} {name} is cut between pages"


def test_the_organizers_schedule_pages_print_without_navigation(
    page, live_server, organizer, db_session, busy_fair
) -> None:
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/events/{busy_fair.id}/schedule/outputs")
    sheets = _pdf_pages(page, SCREENSHOTS / "printed_outputs_page.pdf")
    everything = " ".join(sheets)
    # The staff feed's secret address is not printed either, nor the buttons.
    assert "/cal/events/" not in everything
    assert page.locator("section.calendar-links").is_hidden()
    assert page.locator("nav.subnav").is_hidden()


def test_the_address_a_browser_prints_in_its_footer_has_no_secret_link(
    page, live_server, db_session: Session
) -> None:
    """Browsers print the page's address in the footer (review: the participant's secret
    link went on paper that way): while printing, the address leaves the token out."""
    fair = published_fair(db_session)
    company = busiest_participant(db_session, fair)
    url = f"{live_server}/p/{company.access_token}/schedule?x=1#m"
    page.goto(url)
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    printing = page.evaluate("location.href")
    assert company.access_token not in printing and "/p/%E2%80%A6/schedule" in printing
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("location.href") == url  # the page works on as before
    # Where a browser never says printing ended, using the page again brings it back.
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert company.access_token not in page.evaluate("location.href")
    page.evaluate("document.dispatchEvent(new Event('pointerdown'))")
    assert page.evaluate("location.href") == url
