"""In Chromium: the staff slot list stays put on an arrow key, "Copied" is said, the
registration's role group is a required radio group named by its legend."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scheduler.models import Event, User
from tests.conftest import PASSWORD
from tests.participant_fair import make_fair
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser


def _login(page, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def test_an_arrow_key_on_the_slot_list_does_not_reload_the_page(
    page, live_server, staff: User, db_session: Session
) -> None:
    fair: Event = published_fair(db_session)
    _login(page, live_server, "staff@example.jp")
    address = f"{live_server}/events/{fair.id}/day/meetings"
    page.goto(address)
    page.evaluate("window.notReloaded = true")
    chosen = page.locator("#slot").input_value()
    page.focus("#slot")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(800)
    assert page.url == address
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.activeElement.id") == "slot"
    now_chosen = page.locator("#slot").input_value()
    assert now_chosen != chosen
    # The button, shown with script too, shows the slot chosen.
    page.click("form.day-search-row button[type=submit]")
    page.wait_for_url(f"{address}?slot={now_chosen}")
    assert page.locator("#slot").input_value() == now_chosen


def test_the_copied_link_is_said(page, live_server, organizer: User, db_session: Session) -> None:
    fair = make_fair(db_session)
    db_session.commit()
    _login(page, live_server, "org@example.jp")
    page.goto(f"{live_server}/events/{fair.event.id}/participants/{fair.buyer.id}/access")
    said = page.locator("#copy-status")
    assert said.get_attribute("role") == "status" and said.text_content() == ""
    page.click("button[data-copy]")
    page.wait_for_function("document.getElementById('copy-status').textContent !== ''")
    assert said.text_content() == page.locator("button[data-copy]").text_content()


def test_the_role_group_is_a_required_radio_group(page, live_server, db_session: Session) -> None:
    fair = make_fair(db_session)
    db_session.commit()
    page.goto(f"{live_server}/e/{fair.event.slug}/register")
    legend = page.locator("fieldset.field legend").first.evaluate(
        "node => node.firstChild.textContent.trim()"
    )
    group = page.get_by_role("radiogroup", name=legend, exact=True)
    assert group.count() == 1
    assert group.get_attribute("aria-required") == "true"
    assert group.get_by_role("radio").count() == 2
