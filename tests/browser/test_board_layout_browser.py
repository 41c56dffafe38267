"""The hall board on a 1920×1080 screen: a room of 24 tables fits, in columns and if need
be in pages that turn by themselves; the countdown says what it counts down to, and the
warning banner does not contradict it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import board
from scheduler.models import Event, Phase, Room, Table
from tests.browser.conftest import SCREENSHOTS
from tests.day_fair import Clock
from tests.published_fair import published_fair
from web.board import board_token

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: frozen.now)
    return frozen


def _first_room(session: Session, event: Event) -> Room:
    return session.scalars(
        select(Room).where(Room.event_id == event.id).order_by(Room.sort_order)
    ).first()


def _open(browser, live_app, live_server: str, event: Event, room: Room, lang: str = "en"):  # type: ignore[no-untyped-def]
    with live_app.app_context():
        token = board_token(event.id, room.id)
    context = browser.new_context(locale="ja-JP", viewport=FULL_HD)
    context.set_default_timeout(10_000)
    screen = context.new_page()
    screen.goto(f"{live_server}/events/{event.id}/board/{room.id}?token={token}&lang={lang}")
    return screen


def _shown(screen) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids of the tables on screen now, each checked to lie wholly within it."""
    return screen.evaluate(
        """() => Array.from(document.querySelectorAll('#board-rows tr'))
             .filter(row => !row.hidden)
             .map(row => {
               const box = row.getBoundingClientRect();
               if (box.bottom > window.innerHeight + 0.5 || box.right > window.innerWidth + 0.5) {
                 throw new Error('table ' + row.dataset.table + ' runs off the screen');
               }
               return row.dataset.table;
             })"""
    )


def test_a_room_of_24_tables_fits_a_full_hd_screen_in_columns_and_pages(
    browser, live_app, live_server, db_session: Session, clock: Clock, monkeypatch
) -> None:
    """QA: 24 tables made a board 2765 px tall at 1920×1080; 7 or 8 were ever seen."""
    monkeypatch.setattr("web.board.BOARD_PAGE_MS", 1500)  # turn quickly for the test
    fair = published_fair(db_session, buyers=22, suppliers=30)
    room = _first_room(db_session, fair)
    tables = db_session.scalar(select(func.count(Table.id)).where(Table.room_id == room.id))
    assert tables == 24
    clock.set(10, 5)
    screen = _open(browser, live_app, live_server, fair, room)
    try:
        # Nothing to scroll: a projector has no one to scroll it.
        assert screen.evaluate("document.scrollingElement.scrollHeight") <= FULL_HD["height"]
        first = _shown(screen)
        columns = screen.evaluate(
            """() => new Set(Array.from(document.querySelectorAll('#board-rows tr'))
                 .filter(row => !row.hidden)
                 .map(row => Math.round(row.getBoundingClientRect().left))).size"""
        )
        assert columns >= 2
        screen.screenshot(path=str(SCREENSHOTS / "board-24-tables-page-1.png"))
        seen = list(first)
        if len(first) < tables:
            number = screen.locator("#board-page-number")
            assert screen.locator("#board-page").is_visible()
            pages = int(number.inner_text().split("/")[1])
            assert number.inner_text() == f"1/{pages}" and 2 <= pages <= 3
            for page in range(2, pages + 1):
                screen.wait_for_function(
                    "text => document.getElementById('board-page-number').textContent === text",
                    arg=f"{page}/{pages}",
                )
                seen += _shown(screen)
                screen.screenshot(path=str(SCREENSHOTS / f"board-24-tables-page-{page}.png"))
            screen.wait_for_function(
                "text => document.getElementById('board-page-number').textContent === text",
                arg=f"1/{pages}",
            )
            assert _shown(screen) == first
        else:
            assert not screen.locator("#board-page").is_visible()
        # Every table once, in the room's order.
        order = [
            str(t)
            for t in db_session.scalars(
                select(Table.id).where(Table.room_id == room.id).order_by(Table.sort_order)
            )
        ]
        assert seen == order
        # Still a table for screen readers: a row per table, its label the row header.
        assert screen.get_by_role("row").count() == len(first) + 1  # and the column names
        assert screen.get_by_role("rowheader").count() == len(first)
        assert screen.get_by_role("columnheader").count() == 3
    finally:
        screen.context.close()


def test_a_small_room_fits_on_one_page_without_a_page_number(
    browser, live_app, live_server, db_session: Session, clock: Clock
) -> None:
    fair = published_fair(db_session)
    room = _first_room(db_session, fair)
    clock.set(10, 5)
    screen = _open(browser, live_app, live_server, fair, room)
    try:
        assert len(_shown(screen)) == len(room.tables)
        assert not screen.locator("#board-page").is_visible()
    finally:
        screen.context.close()


def test_the_countdown_says_what_it_counts_down_to(
    browser, live_app, live_server, db_session: Session, clock: Clock
) -> None:
    """QA: in the changeover a red 04:40 stood alone, and the banner read "5 minutes left"
    while the clock showed 02:25."""
    fair = published_fair(db_session)
    room = _first_room(db_session, fair)
    first = min(fair.slots, key=lambda s: s.starts_at)
    clock.now = first.ends_at - timedelta(minutes=2, seconds=25)  # 02:25 left
    screen = _open(browser, live_app, live_server, fair, room)
    try:
        assert screen.inner_text("#board-countdown-label") == "Meeting ends in"
        assert screen.inner_text("#board-phase") == "Meeting in progress"
        signal = screen.locator("#board-signal")
        assert signal.is_visible()
        # Words the clock beside it cannot contradict (it showed 02:25 under "5 minutes left").
        assert signal.inner_text() == "Less than 5 minutes left"
        screen.screenshot(path=str(SCREENSHOTS / "board-last-minutes.png"))
    finally:
        screen.context.close()

    clock.now = first.ends_at + timedelta(seconds=20)  # in the changeover: 04:40 to go
    screen = _open(browser, live_app, live_server, fair, room)
    try:
        assert screen.inner_text("#board-countdown-label") == "Next meetings start in"
        assert screen.inner_text("#board-phase") == "Changeover"
        assert screen.inner_text("#board-signal") == "Change tables now"
        countdown = screen.inner_text("#board-countdown")
        assert countdown in ("04:40", "04:39", "04:38")
        screen.screenshot(path=str(SCREENSHOTS / "board-changeover.png"))
    finally:
        screen.context.close()


@pytest.mark.parametrize("published", [True, False])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_board_of_24_tables_tried_days_ahead_fits_a_full_hd_screen(
    browser, live_app, live_server, db_session: Session, monkeypatch, lang, published
) -> None:
    """QA: the board was 1086 px tall at 1920×1080 (its last row on the TV's edge)."""
    fair = published_fair(db_session, buyers=22, suppliers=30)
    if not published:
        fair.published_version = 0
        fair.published_at = None
        fair.phase = Phase.SCHEDULING
        db_session.commit()
    first = min(slot.starts_at for slot in fair.slots)
    clock = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: clock.now)
    clock.now = first - timedelta(days=3)
    room = _first_room(db_session, fair)
    with live_app.app_context():
        token = board_token(fair.id, room.id)
    for width, height in ((1920, 1080), (1280, 720)):
        context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": height})
        try:
            screen = context.new_page()
            screen.goto(f"{live_server}/events/{fair.id}/board/{room.id}?token={token}&lang={lang}")
            screen.wait_for_function("document.fonts.status === 'loaded'")
            screen.wait_for_timeout(300)
            assert screen.locator("#board-page").is_visible()  # more tables than one screen
            assert screen.evaluate("document.scrollingElement.scrollHeight") == height
            bottom = screen.evaluate(
                "Math.max(document.getElementById('board').getBoundingClientRect().bottom,"
                " ...Array.from(document.querySelectorAll('#board-rows tr, .board-note'))"
                "  .filter(node => !node.hidden).map(node => node.getBoundingClientRect().bottom))"
            )
            assert bottom <= height + 0.5, (width, height, bottom)
            countdown = screen.inner_text("#board-countdown")
            assert "2027-02-17" not in countdown
            assert countdown == ("2027年2月17日 10:00" if lang == "ja" else "Feb 17, 2027 10:00")
        finally:
            context.close()
