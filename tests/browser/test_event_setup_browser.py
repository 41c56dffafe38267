"""An organizer logs in and sets up an event through the real pages in Chromium."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from scheduler.models import Event, Slot, Table
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_organizer_sets_up_an_event(page, live_server, organizer, db_session) -> None:
    page.goto(f"{live_server}/")
    assert "/auth/login" in page.url
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.click("a[href='/events/new']")
    page.fill("input[name=name]", "ものづくり受発注商談会 2027")
    page.fill("input[name=venue]", "県産業振興センター")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r"/events/\d+$"))
    event_id = int(page.url.rsplit("/", 1)[1])

    # the slot grid is previewed before it is saved
    page.goto(f"{live_server}/events/{event_id}/days/new")
    page.fill("input[name=date]", "2027-02-10")
    page.fill("input[name=start_time]", "10:00")
    page.fill("input[name=end_time]", "16:30")
    page.click("button[value=preview]")
    preview = page.locator("#preview")
    assert preview.locator("tbody tr:not(.is-break)").count() == 11
    assert "昼休み" in preview.inner_text()
    assert db_session.scalar(select(func.count(Slot.id)).where(Slot.event_id == event_id)) == 0
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/days$"))

    page.goto(f"{live_server}/events/{event_id}/rooms")
    page.fill("input[name=room-name]", "大会議室")
    page.click("form:has(input[name=room-name]) button")
    page.fill("input[name=tables-labels]", "A01-A12")
    page.click("form:has(input[name=tables-labels]) button")
    page.wait_for_selector("#room-1, section[id^=room-]")
    assert page.locator("tr[id^=table-]").count() == 12

    # a typo in the labels keeps what was typed and says what is wrong
    page.fill("input[name=tables-labels]", "A20-A10")
    page.click("form:has(input[name=tables-labels]) button")
    assert page.input_value("input[name=tables-labels]") == "A20-A10"
    assert page.locator("ul.errors").count() == 1

    assert db_session.scalar(select(func.count(Table.id)).where(Table.event_id == event_id)) == 12
    db_session.expire_all()
    assert db_session.get(Event, event_id).venue == "県産業振興センター"
