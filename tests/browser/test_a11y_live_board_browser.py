"""The fair day's live pages for screen readers: the hall board's phase is written only
when it changes, its chime is a toggle with one name, "Reconnecting…" is a status; the
participant's live card reads out only the changes that arrive while it is open."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board
from scheduler import day_operations as ops
from scheduler.models import Event, Meeting, Room
from tests.day_fair import Clock, participant
from tests.published_fair import published_fair
from web.board import board_token

pytestmark = pytest.mark.browser

WATCH = """id => {
  window.changes = window.changes || {};
  window.changes[id] = 0;
  new MutationObserver(() => { window.changes[id] += 1; })
    .observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: frozen.now)
    return frozen


def test_the_hall_board_says_only_what_changes(
    page, live_app, live_server, db_session: Session, fair: Event, clock: Clock
) -> None:
    clock.set(10, 5)  # the first meeting is under way for a while
    room = db_session.scalars(select(Room).where(Room.event_id == fair.id)).first()
    with live_app.app_context():
        token = board_token(fair.id, room.id)
    page.goto(f"{live_server}/events/{fair.id}/board/{room.id}?token={token}&lang=ja")
    phase = page.locator("#board-phase")
    assert phase.inner_text().strip() != ""
    page.evaluate(WATCH, "board-phase")
    page.wait_for_timeout(3200)  # three ticks of the clock
    assert page.evaluate("window.changes['board-phase']") == 0

    # The chime: one name, its state in aria-pressed.
    name = page.locator("#board-chime").text_content().strip()
    chime = page.get_by_role("button", name=name, exact=True)
    assert chime.get_attribute("aria-pressed") == "false"
    chime.click()
    assert chime.get_attribute("aria-pressed") == "true"  # the same name, pressed
    chime.click()
    assert chime.get_attribute("aria-pressed") == "false"

    offline = page.locator("#board-offline")
    assert offline.get_attribute("role") == "status"
    page.context.set_offline(True)
    offline.wait_for(state="visible", timeout=8000)
    assert offline.inner_text() == "再接続中…"
    page.context.set_offline(False)
    offline.wait_for(state="hidden", timeout=20000)


def test_the_live_card_reads_out_the_changes_that_arrive(
    page, live_server, db_session: Session, fair: Event, clock: Clock
) -> None:
    b1 = participant(db_session, fair, "B001")
    mine = sorted(
        (
            m
            for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
            if b1.id in (m.participant_a_id, m.participant_b_id)
        ),
        key=lambda m: m.slot.starts_at,
    )
    assert len(mine) >= 3
    clock.now = mine[0].slot.starts_at
    page.goto(f"{live_server}/p/{b1.access_token}/schedule")
    said = page.locator("#live-announce")
    assert said.get_attribute("role") == "status"
    assert page.get_attribute("#live-offline", "role") == "status"
    assert said.inner_text() == ""

    def poll() -> None:  # the card polls every 20 s, and at once when shown again
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    label = page.inner_text("#live-changes .label")
    for number, gone in enumerate(mine[1:3], start=1):
        db_session.refresh(gone)
        ops.cancel_meeting(db_session, fair, gone.id, expected_version=gone.version, user_id=None)
        db_session.commit()
        poll()
        page.wait_for_function(
            "n => document.querySelectorAll('#live-change-list li').length === n", arg=number
        )
        newest = page.locator("#live-change-list li").nth(number - 1).text_content()
        # Only the change that arrived, not those already on the page.
        page.wait_for_function(
            "text => document.getElementById('live-announce').textContent === text",
            arg=f"{label}: {newest}",
        )


def test_names_redrawn_by_the_board_stay_marked_japanese_on_an_english_board(
    page, live_app, live_server, db_session: Session, fair: Event, clock: Clock
) -> None:
    """The board redraws its rows from the feed: the company names it writes keep the
    lang="ja" the server gave them (web/filters.ja), and a Japanese board adds none."""
    clock.set(10, 5)
    room = db_session.scalars(select(Room).where(Room.event_id == fair.id)).first()
    with live_app.app_context():
        token = board_token(fair.id, room.id)
    page.goto(f"{live_server}/events/{fair.id}/board/{room.id}?token={token}&lang=en")
    page.wait_for_timeout(1500)  # the rows redrawn from the first poll
    assert page.locator("#board-rows [lang=ja]").count() > 0
    page.goto(f"{live_server}/events/{fair.id}/board/{room.id}?token={token}&lang=ja")
    page.wait_for_timeout(1500)
    assert page.locator("#board-rows [lang=ja]").count() == 0
