"""The schedule page on the fair's day, in Chromium: when staff change a meeting, the
list below the live card follows (not only the card), said once, and the reader keeps
their place and focus."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board
from scheduler import day_operations as ops
from scheduler.models import Event, Meeting
from tests.day_fair import Clock, participant, table
from tests.published_fair import published_fair

pytestmark = pytest.mark.browser

COUNT_WRITES = """id => {
  window.writes = window.writes || {};
  window.writes[id] = 0;
  new MutationObserver(records => { window.writes[id] += records.length; })
    .observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
}"""

LIVE_POLLS = (
    "() => performance.getEntriesByType('resource')"
    ".filter(e => e.name.includes('/live.json')).length"
)


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: frozen.now)
    monkeypatch.setattr("web.schedules.utcnow", lambda: frozen.now)
    return frozen


def test_the_list_follows_a_staff_change_without_losing_the_readers_place(
    page, live_server, db_session: Session, fair: Event, clock: Clock
) -> None:
    """QA: the live card said 22:50–23:10 C14 while the list below still said A05 until
    the page was reloaded."""
    b1 = participant(db_session, fair, "B001")
    mine = sorted(
        (
            m
            for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
            if b1.id in (m.participant_a_id, m.participant_b_id)
        ),
        key=lambda m: m.slot.starts_at,
    )
    assert len(mine) >= 4
    moving, dropped, reading = mine[1], mine[2], mine[-1]
    clock.now = mine[0].slot.starts_at
    page.set_viewport_size({"width": 420, "height": 700})
    page.goto(f"{live_server}/p/{b1.access_token}/schedule")
    page.evaluate("window.notReloaded = true")
    page.evaluate(COUNT_WRITES, "live-announce")
    # The reader has scrolled down to their last meeting and has focus on a link below.
    card = f"[data-anchor='meeting-{reading.id}']"
    page.evaluate(
        "selector => window.scrollTo(0, document.querySelector(selector)"
        ".getBoundingClientRect().top + window.scrollY - 120)",
        card,
    )
    top = page.evaluate("s => document.querySelector(s).getBoundingClientRect().top", card)
    assert abs(top - 120) < 2
    page.evaluate(
        "() => document.querySelector('.calendar-links a').focus({preventScroll: true})"
    )
    focused = page.evaluate("() => document.activeElement.outerHTML")

    # Staff move the next meeting to table A05 and cancel the one after it, which takes
    # a card out of the list above the reader.
    ops.move_meeting(
        db_session,
        fair,
        moving.id,
        expected_version=moving.version,
        table_id=table(db_session, fair, "A05").id,
        user_id=None,
    )
    ops.cancel_meeting(db_session, fair, dropped.id, expected_version=dropped.version, user_id=None)
    db_session.commit()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # poll now

    # The card and the list agree: the moved meeting at A05, the cancelled one listed
    # as cancelled and gone from the meetings.
    page.wait_for_function(
        "id => { const item = document.querySelector(`[data-anchor='meeting-${id}'] .table-label`);"
        " return item && item.textContent === 'A05'; }",
        arg=moving.id,
    )
    assert "A05" in page.inner_text("#live-next")
    assert page.locator(f"[data-anchor='meeting-{dropped.id}']").count() == 0
    assert page.locator("[data-anchor='cancelled']").count() == 1
    # The reader's place and focus are where they were; the page was not reloaded.
    after = page.evaluate("s => document.querySelector(s).getBoundingClientRect().top", card)
    assert abs(after - top) < 2, (top, after)
    assert page.evaluate("() => document.activeElement.outerHTML") == focused
    assert page.evaluate("window.notReloaded") is True

    # Said once (both changes in one status message), and not again at the next poll.
    said = page.inner_text("#live-announce")
    assert said.count("A05") == 1
    polls = page.evaluate(LIVE_POLLS)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function(f"n => ({LIVE_POLLS})() > n", arg=polls)
    assert page.evaluate("window.writes['live-announce']") == 1
