"""Regenerating a day's grid keeps availability marks by time; day times that are slips.

A participant's "cannot attend this slot" is a row per slot: regenerating the grid
deleted the slots and, with them, every mark of the day, silently. And an end equal
to the start (a day of 24 hours) or before it (a night) was taken as meant.
"""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import event_setup
from scheduler.errors import ValidationFailed
from scheduler.event_setup import BreakPlan, DayPlan
from scheduler.models import AuditEntry, Event, Organization, Participant, Slot

DAY = date(2027, 2, 10)
GRID = DayPlan(DAY, time(10), time(12), 25, 5)  # 10:00, 10:30, 11:00, 11:30
WITH_BREAK = DayPlan(DAY, time(10), time(12), 25, 5, (BreakPlan(time(10, 30), time(11)),))


def _participant(session: Session, event: Event, name: str, role: str = "supplier") -> Participant:
    organization = Organization(name=name, name_key=name)
    session.add(organization)
    session.flush()
    participant = Participant(event_id=event.id, organization_id=organization.id, role=role)
    session.add(participant)
    session.flush()
    return participant


def _at(event: Event, hour: int, minute: int = 0) -> Slot:
    return next(
        s for s in event.slots if event.local(s.starts_at).time() == time(hour, minute)
    )


def _marked(session: Session, participant: Participant) -> list[str]:
    session.expire_all()
    participant = session.get(Participant, participant.id)
    event = participant.event
    return sorted(f"{event.local(s.starts_at):%H:%M}" for s in participant.unavailable_slots)


@pytest.fixture
def marked_fair(db_session: Session) -> tuple[Event, Participant, Participant]:
    """A day of four slots; 甲 cannot attend 10:00 and 11:30, 乙 cannot attend 10:30."""
    event = event_setup.create_event(db_session, name="Fair")
    event_setup.save_day(db_session, event, GRID)
    first = _participant(db_session, event, "甲製作所")
    second = _participant(db_session, event, "乙工業")
    first.unavailable_slots = [_at(event, 10), _at(event, 11, 30)]
    second.unavailable_slots = [_at(event, 10, 30)]
    db_session.commit()
    return event, first, second


def test_regenerating_keeps_marks_on_slots_of_the_same_times(db_session, marked_fair) -> None:
    event, first, second = marked_fair
    day = event.days[0]
    planned = event_setup.plan_grid(WITH_BREAK, event.timezone).slots
    lost = event_setup.unavailability_lost(db_session, day, planned)
    assert (lost.marks, lost.companies) == (1, ("乙工業",))
    event_setup.save_day(db_session, event, WITH_BREAK, day=day)
    db_session.commit()
    assert _marked(db_session, first) == ["10:00", "11:30"]
    assert _marked(db_session, second) == []
    entry = db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "day.save").order_by(AuditEntry.id.desc())
    )
    assert entry.details["unavailability"] == {"kept": 2, "lost": 1}
    # The same grid again loses nothing.
    day = db_session.get(Event, event.id).days[0]
    again = event_setup.plan_grid(WITH_BREAK, event.timezone).slots
    assert event_setup.unavailability_lost(db_session, day, again).marks == 0


def test_the_preview_and_the_saved_message_say_which_marks_are_lost(
    client, logged_in, db_session, marked_fair
) -> None:
    event, first, _second = marked_fair
    client.post("/language", data={"lang": "en"})
    edit = f"/events/{event.id}/days/{event.days[0].id}/edit"
    typed = {
        "date": DAY.isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "meeting_minutes": "25",
        "changeover_minutes": "5",
        "breaks": "10:30-11:00",
    }
    preview = client.post(edit, data=typed | {"action": "preview"}).get_data(as_text=True)
    lost = re.search(r'id="availability-lost">([^<]*)<', preview)
    assert lost and lost.group(1).startswith("1 availability mark is lost:")
    assert "(乙工業)" in lost.group(1)
    saved = client.post(edit, data=typed | {"action": "save"}, follow_redirects=True)
    body = saved.get_data(as_text=True)
    assert "1 availability mark was not kept" in body and "乙工業" in body
    assert _marked(db_session, first) == ["10:00", "11:30"]
    # Nothing lost, nothing said.
    quiet = client.post(edit, data=typed | {"action": "preview"}).get_data(as_text=True)
    assert 'id="availability-lost"' not in quiet


def test_many_companies_are_named_briefly(client, logged_in, db_session) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    event_setup.save_day(db_session, event, GRID)
    for number in range(7):
        _participant(db_session, event, f"会社{number}").unavailable_slots = [_at(event, 10, 30)]
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    preview = client.post(
        f"/events/{event.id}/days/{event.days[0].id}/edit",
        data={"date": DAY.isoformat(), "start_time": "10:00", "end_time": "12:00",
              "meeting_minutes": "25", "changeover_minutes": "5", "breaks": "10:30-11:00",
              "action": "preview"},
    ).get_data(as_text=True)
    assert "7 availability marks are lost" in preview
    assert "会社4 and 2 more)" in preview and "会社5" not in preview


# --------------------------------------------------------------------------- day times


def _day(**overrides: str) -> dict[str, str]:
    return {
        "date": DAY.isoformat(),
        "start_time": "13:00",
        "end_time": "17:00",
        "meeting_minutes": "20",
        "changeover_minutes": "0",
        "breaks": "",
        "action": "save",
    } | overrides


def _slot_count(session: Session, event_id: int) -> int:
    return session.scalar(select(func.count(Slot.id)).where(Slot.event_id == event_id))


def test_a_day_ending_when_it_starts_is_refused_next_to_the_end_time(
    client, logged_in, db_session
) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    refused = client.post(f"/events/{event.id}/days/new", data=_day(end_time="13:00"))
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert re.search(r'id="end_time-err">\s*<li>The day must end at another time than it '
                     r"starts \(13:00\)\.", body)
    assert 'value="13:00"' in body and 'value="20"' in body
    assert _slot_count(db_session, event.id) == 0


def test_a_day_ending_before_it_starts_needs_the_overnight_box(
    client, logged_in, db_session
) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    page = f"/events/{event.id}/days/new"
    assert 'name="overnight"' not in client.get(page).get_data(as_text=True)
    night = _day(start_time="17:00", end_time="13:00")
    refused = client.post(page, data=night)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert re.search(r'id="end_time-err">\s*<li>The day ends \(13:00\) before it starts '
                     r"\(17:00\)\.", body)
    assert 'name="overnight"' in body  # offered with the refusal, not ticked
    assert 'value="17:00"' in body and _slot_count(db_session, event.id) == 0
    preview = client.post(page, data=night | {"overnight": "y", "action": "preview"})
    assert "This day runs past midnight" in preview.get_data(as_text=True)
    saved = client.post(page, data=night | {"overnight": "y"})
    assert saved.status_code == 302
    assert _slot_count(db_session, event.id) == 60
    # Regenerating the saved night: the box is shown ticked.
    day_id = db_session.get(Event, event.id).days[0].id
    edit = client.get(f"/events/{event.id}/days/{day_id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="overnight"|<input[^>]*name="overnight"'
                     r'[^>]*checked', edit)


def test_the_service_refuses_an_unconfirmed_night(db_session) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    with pytest.raises(ValidationFailed) as info:
        event_setup.save_day(db_session, event, DayPlan(DAY, time(17), time(13), 20, 0))
    assert info.value.field == "end_time"


def test_a_postponed_day_keeps_who_arrives_late_and_leaves_early(db_session, marked_fair) -> None:
    """QA: moving the day to another date left arrival and leaving times on the old one,
    so those companies could meet nobody ("no common free slot")."""
    from datetime import datetime, timedelta

    event, first, second = marked_fair
    zone = event.tz
    first.available_from = datetime.combine(DAY, time(10, 30), tzinfo=zone)
    second.available_until = datetime.combine(DAY, time(11, 30), tzinfo=zone)
    db_session.commit()
    later = DAY + timedelta(days=7)
    event_setup.save_day(
        db_session, event, DayPlan(later, time(10), time(12), 25, 5), day=event.days[0]
    )
    db_session.commit()
    db_session.expire_all()
    arrives = db_session.get(Participant, first.id).available_from.astimezone(zone)
    leaves = db_session.get(Participant, second.id).available_until.astimezone(zone)
    assert (arrives.date(), arrives.time()) == (later, time(10, 30))
    assert (leaves.date(), leaves.time()) == (later, time(11, 30))
    slots = [s for s in event.slots]
    assert sum(db_session.get(Participant, first.id).is_available(s) for s in slots) == 3


def test_a_day_postponed_past_another_keeps_the_other_day_whole(db_session) -> None:
    """Review: an arrival time is the first day's. Moving day 1 after day 2 moved the
    arrival with it, which shut the company out of all of day 2."""
    from datetime import datetime, timedelta

    event = event_setup.create_event(db_session, name="Two days")
    first_day = date(2027, 3, 1)
    event_setup.save_day(db_session, event, DayPlan(first_day, time(10), time(12), 25, 5))
    event_setup.save_day(db_session, event, DayPlan(first_day + timedelta(days=1), time(10),
                                                   time(12), 25, 5))
    late = _participant(db_session, event, "遅参工業")
    late.available_from = datetime.combine(first_day, time(11), tzinfo=event.tz)
    db_session.commit()
    day_one = next(d for d in event.days if d.date == first_day)
    third = first_day + timedelta(days=2)
    event_setup.save_day(db_session, event, DayPlan(third, time(10), time(12), 25, 5),
                         day=day_one)
    db_session.commit()
    db_session.expire_all()
    late = db_session.get(Participant, late.id)
    event = late.event
    free = sorted(f"{event.local(s.starts_at):%m-%d %H:%M}" for s in event.slots
                  if late.is_available(s))
    # All of day 2; on the moved day only from 11:00, as before.
    assert free == ["03-02 10:00", "03-02 10:30", "03-02 11:00", "03-02 11:30",
                    "03-03 11:00", "03-03 11:30"]
