"""A staff member on a phone checks a participant in and marks another as a no-show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from scheduler.models import DayStatus, Event, User
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from tests.day_fair import active_meetings, meeting, participant, table
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A phone-sized tab (the console is used on phones and tablets at the venue)."""
    context = browser.new_context(
        locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def test_staff_checks_in_and_marks_a_no_show(
    phone, live_server: str, fair: Event, staff: User, db_session: Session
) -> None:
    page = phone
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "staff@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    # reception: find the company by its reading typed in hiragana
    page.goto(f"{live_server}/events/{fair.id}/day/")
    page.fill("input[name=q]", "こうよう")
    page.click("form[role=search] button[type=submit]")
    page.click("a.day-result:has-text('B002')")
    page.click("form:has(input[name=person_id]) >> nth=0 >> button")
    page.wait_for_selector("text=✓")
    db_session.expire_all()
    b002 = participant(db_session, fair, "B002")
    assert b002.day_status == DayStatus.CHECKED_IN
    assert b002.attendances[0].checked_in_at is not None

    # the typed-code fallback of the QR scan opens another company's card
    page.goto(f"{live_server}/events/{fair.id}/day/")
    page.fill("input[name=code]", "ｓ００１")
    page.click("form.typed-code button")
    page.wait_for_selector("h1:has-text('S001')")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-test=no-show]")
    gaps = page.locator("[data-test=gaps]")
    gaps.wait_for()
    text = gaps.inner_text()
    assert "B001" in text and "B002" in text and "B003" in text
    assert page.locator("[data-test=day-status]").inner_text().strip() != ""
    # the undo button offers to revert this very change
    assert page.locator("button[data-test=undo]").is_visible()
    # nothing is wider than the phone (no sideways scrolling at the desk)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    db_session.expire_all()
    s001 = participant(db_session, fair, "S001")
    assert s001.day_status == DayStatus.NO_SHOW
    assert all(
        s001.id not in (m.participant_a_id, m.participant_b_id)
        for m in active_meetings(db_session, fair)
    )


def test_the_move_form_checks_the_live_state_while_choosing(
    phone, live_server: str, fair: Event, staff: User, db_session: Session
) -> None:
    page = phone
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "staff@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    item = meeting(db_session, fair, "B003", "S002")
    page.goto(f"{live_server}/events/{fair.id}/day/meetings/{item.id}")
    page.select_option("#move-table", str(table(db_session, fair, "A01").id))
    problem = page.locator("form[data-check=move] .check-problem")
    problem.wait_for()
    assert "B001" in problem.inner_text()
    page.select_option("#move-table", str(table(db_session, fair, "A04").id))
    page.locator("form[data-check=move] .check-ok").wait_for()
    page.click("form[data-check=move] button[type=submit]")
    assert "S002" in page.locator("[data-test=affected]").inner_text()
    page.click("button[data-test=confirm]")
    page.wait_for_selector("[data-test=meeting-state]:has-text('A04')")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
