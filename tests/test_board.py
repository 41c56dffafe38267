"""The live hall board and a participant's live state: token, content, ETag, updates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board
from scheduler import day_operations as ops
from scheduler.models import Event, Meeting, MeetingStatus, Room, User
from tests.day_fair import Clock, local, participant, slot, table
from tests.published_fair import published_fair
from web.board import board_token


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One frozen clock for the day operations and the board."""
    frozen = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: frozen.now)
    return frozen


def _room(session: Session, event: Event) -> Room:
    return session.scalars(select(Room).where(Room.event_id == event.id)).first()


def _url(app: Flask, event: Event, room: Room, *, token: str | None, json: bool = True) -> str:
    path = f"/events/{event.id}/board/{room.id}" + ("/state.json" if json else "")
    return path + (f"?token={token}" if token is not None else "")


def _row(state: dict, label: str) -> dict:
    return next(r for r in state["tables"] if r["label"] == label)


def test_board_needs_its_token_or_a_staff_login(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    fair: Event,
    clock: Clock,
    auth,
    staff: User,
) -> None:
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
        other_room_token = board_token(fair.id, room.id + 1)
    assert client.get(_url(app, fair, room, token=None)).status_code == 404
    assert client.get(_url(app, fair, room, token="x" * 40)).status_code == 404
    assert client.get(_url(app, fair, room, token=other_room_token)).status_code == 404
    assert client.get(_url(app, fair, room, token=None, json=False)).status_code == 404
    assert client.get(_url(app, fair, room, token=token)).status_code == 200
    page = client.get(_url(app, fair, room, token=token, json=False))
    assert page.status_code == 200
    assert "js/board.js" in page.get_data(as_text=True)
    auth.login(staff.email)
    assert client.get(_url(app, fair, room, token=None)).status_code == 200
    index = client.get(f"/events/{fair.id}/board").get_data(as_text=True)
    assert f"token={token}" in index


def test_board_shows_now_and_next_and_the_slot_window(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock
) -> None:
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    clock.set(10, 10)
    state = client.get(_url(app, fair, room, token=token)).get_json()
    assert state["phase"] == "meeting"
    assert state["current_slot"]["label"] == "10:00–10:25"
    assert state["next_slot"]["label"] == "10:30–10:55"
    a01 = table(db_session, fair, "A01")
    at_a01 = db_session.scalars(
        select(Meeting)
        .where(Meeting.table_id == a01.id, Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.slot_id)
    ).all()
    ten = slot(db_session, fair, "10:00")
    now_meeting = next((m for m in at_a01 if m.slot_id == ten.id), None)
    later = [m for m in at_a01 if m.slot.starts_at > ten.starts_at]
    row = _row(state, "A01")
    assert (row["now"] or {}).get("id") == (now_meeting.id if now_meeting else None)
    assert row["next"]["id"] == min(later, key=lambda m: m.slot.starts_at).id
    clock.set(10, 27)
    assert client.get(_url(app, fair, room, token=token)).get_json()["phase"] == "changeover"
    clock.set(12, 10)
    assert client.get(_url(app, fair, room, token=token)).get_json()["phase"] == "break"
    clock.set(8, 0)
    assert client.get(_url(app, fair, room, token=token)).get_json()["phase"] == "before"
    clock.set(20, 0)
    over = client.get(_url(app, fair, room, token=token)).get_json()
    assert over["phase"] == "over"
    assert all(r["now"] is None and r["next"] is None for r in over["tables"])


def test_board_answers_304_until_a_meeting_moves_then_shows_the_move(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock
) -> None:
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    clock.set(9, 50)
    first = client.get(_url(app, fair, room, token=token))
    etag = first.get_json()["etag"]
    assert first.headers["ETag"] == f'"{etag}"'
    clock.set(9, 51)  # only the clock moved: nothing to send
    again = client.get(_url(app, fair, room, token=token), headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304

    # Staff move the first meeting at A01 to the spare table A04.
    a01 = _row(first.get_json(), "A01")["next"]
    moving = db_session.get(Meeting, a01["id"])
    spare = table(db_session, fair, "A04")
    ops.move_meeting(
        db_session,
        fair,
        moving.id,
        expected_version=moving.version,
        table_id=spare.id,
        user_id=None,
    )
    db_session.commit()
    after = client.get(_url(app, fair, room, token=token), headers={"If-None-Match": f'"{etag}"'})
    assert after.status_code == 200
    state = after.get_json()
    assert state["etag"] != etag
    assert _row(state, "A04")["next"]["id"] == moving.id
    assert _row(state, "A04")["next"]["changed"] is True
    assert (_row(state, "A01")["next"] or {}).get("id") != moving.id


def test_board_before_publication_shows_no_meetings(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock
) -> None:
    fair.published_at = None
    db_session.commit()
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    state = client.get(_url(app, fair, room, token=token)).get_json()
    assert state["published"] is False
    assert state["tables"] and all(r["now"] is None and r["next"] is None for r in state["tables"])


def test_participant_live_state_shows_now_next_and_todays_changes(
    client: FlaskClient, db_session: Session, fair: Event, clock: Clock
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
    first, second = mine[0], mine[1]
    clock.now = first.slot.starts_at
    url = f"/p/{b1.access_token}/live.json"
    state = client.get(url).get_json()
    assert state["now"]["id"] == first.id
    assert state["next"]["id"] == second.id
    assert state["changes"] == []

    ops.cancel_meeting(db_session, fair, second.id, expected_version=second.version, user_id=None)
    db_session.commit()
    fresh = client.get(url, headers={"If-None-Match": f'"{state["etag"]}"'})
    assert fresh.status_code == 200
    changed = fresh.get_json()
    assert changed["next"]["id"] != second.id
    assert [(c["id"], c["kind"]) for c in changed["changes"]] == [(second.id, "cancelled")]

    page = client.get(f"/p/{b1.access_token}/schedule").get_data(as_text=True)
    assert 'id="live-state"' in page and "js/live.js" in page
    assert client.get("/p/" + "x" * 43 + "/live.json").status_code == 404


def test_slot_window_reads_the_grid(db_session: Session, fair: Event) -> None:
    slots = list(fair.slots)
    assert board.slot_window(slots, local(10, 5)).current.id == slots[0].id
    window = board.slot_window(slots, local(10, 26))
    assert (window.current, window.previous.id, window.next.id) == (None, slots[0].id, slots[1].id)
    assert window.phase == "changeover"


def test_live_card_only_on_the_fair_days(
    client: FlaskClient, db_session: Session, fair: Event, clock: Clock
) -> None:
    """Weeks before the fair a "Today" card with "changed today" would only mislead."""
    from datetime import timedelta

    b1 = participant(db_session, fair, "B001")
    first_slot = min(s.starts_at for s in fair.slots)
    clock.now = first_slot - timedelta(days=30)
    state = client.get(f"/p/{b1.access_token}/live.json").get_json()
    assert state["fair_day"] is False
    page = client.get(f"/p/{b1.access_token}/schedule").get_data(as_text=True)
    assert 'id="live-state"' not in page
    clock.now = first_slot - timedelta(hours=1)  # the morning of the fair
    assert client.get(f"/p/{b1.access_token}/live.json").get_json()["fair_day"] is True
    assert 'id="live-state"' in client.get(f"/p/{b1.access_token}/schedule").get_data(as_text=True)


def test_board_tried_days_before_the_fair_marks_nothing_changed_and_dates_the_start(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock
) -> None:
    """A board opened days ahead (to try the screen) showed every meeting as changed
    and a countdown of 120881 minutes."""
    from datetime import timedelta

    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    from scheduler.db import utcnow

    first_slot = min(fair.slots, key=lambda s: s.starts_at)
    clock.now = utcnow()  # the real day, when the move below is stamped
    assert clock.now < first_slot.starts_at - timedelta(days=1)
    state = client.get(_url(app, fair, room, token=token)).get_json()
    a01 = _row(state, "A01")["next"]
    moving = db_session.get(Meeting, a01["id"])
    ops.move_meeting(
        db_session,
        fair,
        moving.id,
        expected_version=moving.version,
        table_id=table(db_session, fair, "A04").id,
        user_id=None,
    )
    db_session.commit()
    state = client.get(_url(app, fair, room, token=token)).get_json()
    assert _row(state, "A04")["next"]["id"] == moving.id
    assert not any(
        (row[key] or {}).get("changed") for row in state["tables"] for key in ("now", "next")
    )
    assert state["phase"] == "before"
    # Written as the app writes a date (QA: 「2027-02-17 10:00」 in both languages).
    start = fair.local(first_slot.starts_at)
    assert state["next_slot"]["date"] == f"{start.year}年{start.month}月{start.day}日 {start:%H:%M}"
    english = client.get(_url(app, fair, room, token=token) + "&lang=en").get_json()
    assert english["next_slot"]["date"] == f"{start:%b} {start.day}, {start.year} {start:%H:%M}"
    assert english["etag"] != state["etag"]  # the same board in two languages


def test_the_board_polls_in_its_own_language(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event
) -> None:
    """The dates the board's script writes come from its state: asked in its language."""
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    for lang in ("en", "ja"):
        page = client.get(_url(app, fair, room, token=token, json=False) + f"&lang={lang}")
        state_url = f"/events/{fair.id}/board/{room.id}/state.json?token={token}&amp;lang={lang}"
        assert f'data-state-url="{state_url}"' in page.get_data(as_text=True)


def test_the_board_speaks_the_language_of_its_link_not_the_browsers(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock, auth, staff
) -> None:
    """L16: an English-set venue PC shows a Japanese fair's board in Japanese."""
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    english_pc = {"Accept-Language": "en-US,en;q=0.9"}
    url = _url(app, fair, room, token=token, json=False)
    page = client.get(url, headers=english_pc).get_data(as_text=True)
    assert '<html lang="ja">' in page and "全画面" in page and "Full screen" not in page
    page = client.get(url + "&lang=en", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Full screen" in page
    page = client.get(url + "&lang=xx", headers=english_pc).get_data(as_text=True)
    assert '<html lang="ja">' in page
    # The link staff copy carries their language, and the other language is a tap away.
    auth.login(staff.email)
    client.post("/language", data={"lang": "en"})
    index = client.get(f"/events/{fair.id}/board", headers={"Accept-Language": "ja"})
    text = index.get_data(as_text=True)
    assert f"token={token}&amp;lang=en" in text
    assert 'data-test="board-lang-ja"' in text and f"token={token}&amp;lang=ja" in text


def _published_on_the_fair_day(session: Session, event: Event) -> None:
    """As a schedule first published on the fair's day itself (08:00) leaves it: every
    meeting row created (and stamped) that morning, then the publication's audit entry."""
    from datetime import timedelta

    from scheduler.models import AuditEntry

    for item in session.scalars(select(Meeting).where(Meeting.event_id == event.id)):
        item.created_at = item.updated_at = local(8, 0)
    event.published_at = local(8, 0) + timedelta(seconds=1)
    session.add(
        AuditEntry(
            event_id=event.id,
            action="schedule.publish",
            target_type="ScheduleRun",
            details={"version": 1},
            created_at=local(8, 0) + timedelta(seconds=1),
        )
    )
    session.commit()


def test_a_schedule_first_published_on_the_fair_day_is_not_todays_changes(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """QA: published on the fair's morning, every meeting was listed under "Changed today"
    and marked changed on the boards for half an hour. Only what changes after the
    schedule is out is a change: moves, cancellations, meetings added later."""
    _published_on_the_fair_day(db_session, fair)
    room = _room(db_session, fair)
    with app.app_context():
        token = board_token(fair.id, room.id)
    clock.set(8, 10)
    state = client.get(_url(app, fair, room, token=token)).get_json()
    shown = [row[key] for row in state["tables"] for key in ("now", "next") if row[key]]
    assert shown and not any(item["changed"] for item in shown)
    b003 = participant(db_session, fair, "B003")
    live_url = f"/p/{b003.access_token}/live.json"
    assert client.get(live_url).get_json()["changes"] == []

    # Staff cancel one of B003's meetings and add it again later at 15:00: both are
    # today's changes (the added row is version 0, but added after publication).
    earlier = next(
        m
        for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if b003.id in (m.participant_a_id, m.participant_b_id)
        and participant(db_session, fair, "S003").id in (m.participant_a_id, m.participant_b_id)
    )
    clock.set(9, 0)
    ops.cancel_meeting(db_session, fair, earlier.id, expected_version=0, user_id=staff.id)
    added = ops.add_meeting(
        db_session,
        fair,
        a_id=b003.id,
        b_id=participant(db_session, fair, "S003").id,
        slot_id=slot(db_session, fair, "15:00").id,
        table_id=table(db_session, fair, "A03").id,
        user_id=staff.id,
    ).meetings[0]
    db_session.commit()
    assert added.version == 0
    changes = client.get(live_url).get_json()["changes"]
    assert sorted((c["id"], c["kind"]) for c in changes) == sorted(
        [(earlier.id, "cancelled"), (added.id, "added")]
    )
    board_state = client.get(_url(app, fair, room, token=token)).get_json()
    flagged = {
        row[key]["id"]
        for row in board_state["tables"]
        for key in ("now", "next")
        if row[key] and row[key]["changed"]
    }
    assert flagged <= {added.id}


def test_the_live_state_carries_the_stamp_of_the_pages_list(
    client: FlaskClient, db_session: Session, fair: Event, clock: Clock, monkeypatch
) -> None:
    """The page renders its list with a stamp; the live state carries the same until the
    list would read differently (a move, a free slot that has begun), so the page's
    script re-reads the list exactly then."""
    monkeypatch.setattr("web.schedules.utcnow", lambda: clock.now)
    b1 = participant(db_session, fair, "B001")
    clock.set(10, 5)
    page = client.get(f"/p/{b1.access_token}/schedule").get_data(as_text=True)
    rendered = page.split('id="schedule-list"', 1)[1].split('data-stamp="', 1)[1].split('"')[0]
    url = f"/p/{b1.access_token}/live.json"
    state = client.get(url).get_json()
    assert state["schedule_stamp"] == rendered
    clock.set(10, 20)  # later in the same slot: the list reads the same
    assert client.get(url).get_json()["schedule_stamp"] == rendered

    ahead = next(
        m
        for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if b1.id in (m.participant_a_id, m.participant_b_id) and m.slot.starts_at > clock.now
    )
    ops.move_meeting(
        db_session,
        fair,
        ahead.id,
        expected_version=ahead.version,
        table_id=table(db_session, fair, "A05").id,
        user_id=None,
    )
    db_session.commit()
    moved = client.get(url).get_json()["schedule_stamp"]
    assert moved != rendered
    listed = client.get(f"/p/{b1.access_token}/schedule/list")
    assert listed.status_code == 200
    assert listed.headers["X-Schedule-Stamp"] == moved
    assert "no-store" in listed.headers["Cache-Control"]


def test_a_move_undone_is_no_change_and_an_added_meeting_says_added(
    client: FlaskClient, db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """QA on a tablet: a move undone still read "changed" under "Changed today" and
    "Changed (09:00)" on the card, though the meeting stood where it stood; a meeting
    added on the day read "changed" instead of "added"."""
    b003, s002 = participant(db_session, fair, "B003"), participant(db_session, fair, "S002")
    item = next(
        m for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if {m.participant_a_id, m.participant_b_id} == {b003.id, s002.id}
    )
    clock.set(9, 0)
    ops.move_meeting(db_session, fair, item.id, expected_version=0,
                     slot_id=slot(db_session, fair, "15:00").id, user_id=staff.id)
    db_session.commit()
    live_url = f"/p/{s002.access_token}/live.json"
    page_url = f"/p/{s002.access_token}/schedule"
    assert [(c["id"], c["kind"]) for c in client.get(live_url).get_json()["changes"]] == [
        (item.id, "changed")]
    assert 'data-test="changed"' in client.get(page_url).get_data(as_text=True)
    ops.undo_last(db_session, fair, user_id=staff.id)
    db_session.commit()
    assert item.version == 2  # calendars still get the higher SEQUENCE
    assert client.get(live_url).get_json()["changes"] == []
    assert 'data-test="changed"' not in client.get(page_url).get_data(as_text=True)
    # A meeting added on the day: see the test above ("added").


def test_a_meeting_added_by_an_earlier_publication_and_moved_today_says_changed(
    client: FlaskClient, db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """Review: a meeting created by a publication after the first one (days before the
    fair) and moved on the day was listed as "added", while its card said "Changed"."""
    b003, s002 = participant(db_session, fair, "B003"), participant(db_session, fair, "S002")
    item = next(
        m for m in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id))
        if {m.participant_a_id, m.participant_b_id} == {b003.id, s002.id}
    )
    first = board.first_published_at(db_session, fair)
    assert first is not None
    item.created_at = first + timedelta(seconds=5)  # a later publication, before the day
    db_session.commit()
    clock.set(9, 0)
    ops.move_meeting(db_session, fair, item.id, expected_version=item.version,
                     slot_id=slot(db_session, fair, "15:00").id, user_id=staff.id)
    db_session.commit()
    changes = client.get(f"/p/{s002.access_token}/live.json").get_json()["changes"]
    assert [(c["id"], c["kind"]) for c in changes] == [(item.id, "changed")]
