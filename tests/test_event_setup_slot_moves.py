"""A slot's new time moves the meetings in it: asked first, then versioned and notified.

Participants have their meetings in subscribed calendars, which keep an event whose
SEQUENCE and DTSTAMP did not change: a slot moved silently left them at the old time.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import event_setup
from scheduler.calendars import meeting_uid, participant_feed
from scheduler.models import AuditEntry, Event, Meeting, MeetingStatus, Participant, Slot
from tests.published_fair import published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def _busiest_slot(session: Session, event: Event) -> Slot:
    counts = Counter(
        session.scalars(
            select(Meeting.slot_id).where(
                Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
            )
        )
    )
    return session.get(Slot, max(counts, key=lambda slot_id: (counts[slot_id], -slot_id)))


def _meetings(session: Session, slot: Slot) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.slot_id == slot.id, Meeting.status != MeetingStatus.CANCELLED)
            .order_by(Meeting.id)
        )
    )


def _free_time(event: Event, slot: Slot) -> tuple:
    """A new time for ``slot``, 5 minutes earlier or later, that overlaps no other slot."""
    length = slot.ends_at - slot.starts_at
    for shift in (timedelta(minutes=-5), timedelta(minutes=5)):
        start = slot.starts_at + shift
        if not any(
            other.id != slot.id and other.starts_at < start + length and start < other.ends_at
            for other in event.slots
        ):
            return start, start + length
    raise AssertionError("no free time next to the slot")


def _form(event: Event, starts_at, ends_at, label: str = "") -> dict[str, str]:
    start, end = event.local(starts_at), event.local(ends_at)
    return {
        "date": start.date().isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "label": label,
    }


def _sequence_and_stamp(session: Session, participant: Participant, meeting: Meeting) -> tuple:
    """The SEQUENCE and DTSTAMP of ``meeting`` in the participant's feed."""
    calendar = icalendar.Calendar.from_ical(participant_feed(session, participant).body)
    vevent = next(
        c for c in calendar.walk("VEVENT") if str(c["uid"]) == meeting_uid(meeting)
    )
    return int(vevent["sequence"]), vevent["dtstamp"].dt


def test_a_new_time_for_a_slot_with_meetings_is_confirmed_then_versioned_and_notified(
    app, client, logged_in, db_session: Session, fair: Event, smtp_server, monkeypatch
) -> None:
    # The change is made a while after the publication (DTSTAMP counts whole seconds).
    later = datetime.now(UTC) + timedelta(minutes=10)
    monkeypatch.setattr(event_setup, "utcnow", lambda: later)
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    client.post("/language", data={"lang": "en"})
    slot = _busiest_slot(db_session, fair)
    meetings = _meetings(db_session, slot)
    before = {m.id: (m.version, m.updated_at) for m in meetings}
    old_times = (slot.starts_at, slot.ends_at)
    participant = meetings[0].participant_a
    old_sequence, old_stamp = _sequence_and_stamp(db_session, participant, meetings[0])
    starts_at, ends_at = _free_time(fair, slot)
    typed = _form(fair, starts_at, ends_at, label="前倒し")
    page = f"/events/{fair.id}/slots/{slot.id}"

    # First the form says what the change does, keeps what was typed, and saves nothing.
    asked = client.post(page, data=typed)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200
    companies = {p for m in meetings for p in (m.participant_a_id, m.participant_b_id)}
    assert f"{len(meetings)} meetings are scheduled in this slot: they move to the new time." in (
        body
    )
    assert f"{len(companies)} companies are affected:" in body
    assert "they are e-mailed a change notice" in body
    assert f'value="{typed["start"]}"' in body and 'value="前倒し"' in body
    assert 'id="confirm-slot-move"' in body
    db_session.expire_all()
    assert (slot.starts_at, slot.ends_at) == old_times
    assert {m.id: (m.version, m.updated_at) for m in _meetings(db_session, slot)} == before
    assert inbox.messages == []

    # Confirmed: the slot moves, each meeting gets a new version and time stamp.
    ids = ",".join(str(m.id) for m in meetings)
    done = client.post(page, data=typed | {"confirm": "1", "moving": ids}, follow_redirects=True)
    body = done.get_data(as_text=True)
    assert "The slot was changed." in body
    assert f"{len(meetings)} meetings moved with the slot" in body
    db_session.expire_all()
    assert (slot.starts_at, slot.ends_at) == (starts_at, ends_at)
    for meeting in _meetings(db_session, slot):
        assert meeting.version == before[meeting.id][0] + 1
        assert meeting.updated_at == later
    # The calendar feed carries a higher SEQUENCE and a new DTSTAMP.
    new_sequence, new_stamp = _sequence_and_stamp(db_session, participant, meetings[0])
    assert new_sequence == old_sequence + 1
    assert new_stamp > old_stamp
    # Audited with the meetings it moved.
    entry = db_session.scalar(
        select(AuditEntry)
        .where(AuditEntry.event_id == fair.id, AuditEntry.action == "slot.update")
        .order_by(AuditEntry.id.desc())
    )
    assert sorted(m["id"] for m in entry.details["meetings"]) == sorted(before)
    assert set(entry.details["participants"]) == companies
    # The companies get the change notice of a meeting moved on the day.
    reachable = {
        p.id
        for p in db_session.scalars(select(Participant).where(Participant.id.in_(companies)))
        if any(a.person.email for a in p.attendances)
    }
    assert len(inbox.messages) == len(reachable) > 0
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in inbox.messages]
    assert all("has changed" in s or "変更のお知らせ" in s for s in subjects), subjects


def test_a_confirmation_for_other_meetings_than_the_slot_holds_asks_again(
    client, logged_in, db_session: Session, fair: Event
) -> None:
    client.post("/language", data={"lang": "en"})
    slot = _busiest_slot(db_session, fair)
    meetings = _meetings(db_session, slot)
    starts_at, ends_at = _free_time(fair, slot)
    typed = _form(fair, starts_at, ends_at)
    # The page showed one meeting fewer than the slot holds now (placed in between).
    seen = ",".join(str(m.id) for m in meetings[1:])
    again = client.post(
        f"/events/{fair.id}/slots/{slot.id}", data=typed | {"confirm": "1", "moving": seen}
    )
    body = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "The meetings in this slot changed since the page was shown" in body
    assert f"{len(meetings)} meetings are scheduled in this slot" in body
    db_session.expire_all()
    assert slot.starts_at != starts_at
    assert all(m.version == 0 for m in _meetings(db_session, slot))


def test_a_new_label_alone_moves_nothing_and_asks_nothing(
    client, logged_in, db_session: Session, fair: Event
) -> None:
    slot = _busiest_slot(db_session, fair)
    typed = _form(fair, slot.starts_at, slot.ends_at, label="午後の部")
    saved = client.post(f"/events/{fair.id}/slots/{slot.id}", data=typed)
    assert saved.status_code == 302
    db_session.expire_all()
    assert slot.label == "午後の部"
    assert all(m.version == 0 for m in _meetings(db_session, slot))


def test_a_slot_moved_onto_another_is_refused_before_any_confirmation(
    client, logged_in, db_session: Session, fair: Event
) -> None:
    client.post("/language", data={"lang": "en"})
    slot = _busiest_slot(db_session, fair)
    other = next(s for s in fair.slots if s.id != slot.id)
    refused = client.post(
        f"/events/{fair.id}/slots/{slot.id}", data=_form(fair, other.starts_at, other.ends_at)
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "This overlaps the slot" in body and 'id="confirm-slot-move"' not in body


def test_the_service_moves_meetings_only_when_confirmed(db_session: Session, fair: Event) -> None:
    slot = _busiest_slot(db_session, fair)
    meetings = _meetings(db_session, slot)
    starts_at, ends_at = _free_time(fair, slot)
    # A company that arrives after the new start is named before the organizer confirms.
    late = meetings[0].participant_b
    late.available_from = starts_at + timedelta(minutes=1)
    db_session.flush()
    with pytest.raises(event_setup.UnconfirmedMove) as unconfirmed:
        event_setup.update_slot(db_session, slot, starts_at=starts_at, ends_at=ends_at)
    move = unconfirmed.value.move
    assert set(move.meeting_ids) == {m.id for m in meetings}
    assert late.display_name in move.away
    db_session.rollback()
    slot = db_session.get(Slot, slot.id)
    moved = event_setup.update_slot(
        db_session,
        slot,
        starts_at=starts_at,
        ends_at=ends_at,
        confirmed_meetings=move.meeting_ids,
    )
    assert moved.meetings == len(meetings)
    assert all(m.version == 1 for m in _meetings(db_session, slot))


def test_the_days_page_heading_follows_a_slot_moved_before_the_grid(
    client, logged_in, db_session: Session, fair: Event
) -> None:
    first = fair.slots[0]  # 10:00–10:25 on a day planned from 10:00
    starts_at, ends_at = first.starts_at - timedelta(minutes=40), first.ends_at - timedelta(
        minutes=40
    )
    meetings = _meetings(db_session, first)
    data = _form(fair, starts_at, ends_at) | {
        "confirm": "1",
        "moving": ",".join(str(m.id) for m in meetings),
    }
    assert client.post(f"/events/{fair.id}/slots/{first.id}", data=data).status_code == 302
    days = client.get(f"/events/{fair.id}/days").get_data(as_text=True)
    assert "09:20–16:25 ·" in days


def test_a_cancelled_meeting_in_a_moved_slot_gets_a_new_version_too(
    db_session: Session, fair: Event
) -> None:
    """Review: feeds list cancelled meetings at their slot's time, so a new time needs a
    higher SEQUENCE for them as well (no notice: they are off the schedule)."""
    slot = _busiest_slot(db_session, fair)
    first, *rest = _meetings(db_session, slot)
    first.status, first.version = MeetingStatus.CANCELLED, 1
    db_session.flush()
    starts_at, ends_at = _free_time(fair, slot)
    moved = event_setup.update_slot(
        db_session, slot, starts_at=starts_at, ends_at=ends_at,
        confirmed_meetings=[m.id for m in rest],
    )
    assert moved.meetings == len(rest)
    db_session.refresh(first)
    assert first.version == 2
