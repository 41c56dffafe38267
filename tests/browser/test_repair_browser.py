"""A staff member marks a no-show at 11:30, re-optimises the rest of the day through the
pages and applies it; the hall board follows a change without a reload."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board, day_operations, repair
from scheduler.models import DayStatus, Event, Meeting, Room, User
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from tests.day_fair import local
from tests.repair_fair import scheduled_fair
from tests.test_repair import _busiest_after
from web.board import board_token

pytestmark = pytest.mark.browser


@pytest.fixture
def fair(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> Event:
    event = scheduled_fair(db_session)
    for module in (day_operations, repair, board):
        monkeypatch.setattr(module, "utcnow", lambda: local(11, 30))
    return event


def test_staff_marks_a_no_show_and_applies_a_reoptimisation(
    page, live_server: str, live_app: Flask, fair: Event, staff: User, db_session: Session
) -> None:
    no_show = _busiest_after(db_session, fair, local(11, 30))
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    # The no-show, through the staff console.
    page.goto(f"{live_server}/events/{fair.id}/day/")
    page.fill("input[name=code]", no_show.code)
    page.click("form.typed-code button")
    page.wait_for_selector(f"h1:has-text('{no_show.code}')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-test=no-show]")
    page.locator("[data-test=gaps]").wait_for()
    db_session.expire_all()
    assert db_session.get(type(no_show), no_show.id).day_status == DayStatus.NO_SHOW

    # Re-optimise: the preview, then apply.
    page.goto(f"{live_server}/events/{fair.id}/day/repair")
    page.click("button[data-test=repair-run]")
    page.wait_for_selector("button[data-test=repair-apply]")
    assert page.locator(".repair-added li[data-kind=added]").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "repair-preview.png"), full_page=True)
    page.click("button[data-test=repair-apply]")
    page.wait_for_selector("[data-test=repair-applied]")
    db_session.expire_all()
    run = db_session.scalars(
        select(repair.ScheduleRun).where(repair.ScheduleRun.kind == "repair")
    ).one()
    assert run.published_at is not None

    # The hall board of the first room, opened with its token like a venue screen.
    room = db_session.scalars(select(Room).where(Room.event_id == fair.id)).first()
    with live_app.app_context():
        token = board_token(fair.id, room.id)
    screen = page.context.browser.new_page(viewport={"width": 1600, "height": 900})
    screen.goto(f"{live_server}/events/{fair.id}/board/{room.id}?token={token}")
    assert re.fullmatch(r"\d\d:\d\d", screen.locator("#board-countdown").inner_text().strip())
    # A meeting at one of its tables is cancelled: the board follows within seconds.
    state = board.room_board(db_session, fair, room)
    shown = next(r for r in state["tables"] if r["next"] is not None)
    ahead = db_session.get(Meeting, shown["next"]["id"])
    row = screen.locator(f"tr[data-table='{ahead.table_id}'] .board-next")
    before = row.inner_text()
    day_operations.cancel_meeting(
        db_session, fair, ahead.id, expected_version=ahead.version, user_id=None
    )
    db_session.commit()
    screen.wait_for_function(
        "([selector, text]) => document.querySelector(selector).textContent !== text",
        arg=[f"tr[data-table='{ahead.table_id}'] .board-next", before],
        timeout=6000,
    )
    screen.screenshot(path=str(SCREENSHOTS / "hall-board.png"))

    # The venue's network drops: the board keeps its last state and says it is
    # reconnecting; when the network is back, the badge goes and updates resume.
    rows = screen.locator("#board-rows tr").count()
    screen.context.set_offline(True)
    screen.locator("#board-offline").wait_for(state="visible", timeout=8000)
    assert screen.locator("#board-rows tr").count() == rows
    screen.context.set_offline(False)
    screen.locator("#board-offline").wait_for(state="hidden", timeout=20000)
    screen.close()
