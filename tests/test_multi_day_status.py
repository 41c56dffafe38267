"""A status for the day on a fair of several days concerns the day it is set on.

The fair is ``tests.published_fair``'s, given a second day (18 February 2027) with the
same slots: every meeting from 13:00 on moves to the same time on the second day, so
B003 meets S002, S004, S001 and S003 on the first morning (10:00–11:30) and S005, S006,
S007 and S008 on the second afternoon (13:00–14:30); B001 meets S001, S003, S004 and
S005 on the first day and S006 and S007 on the second. S001 registered to leave at
14:00 on the last day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import day_operations as ops
from scheduler import publishing
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    DayStatus,
    Event,
    EventDay,
    Meeting,
    MeetingStatus,
    Slot,
    User,
)
from scheduler.problem_builder import build_problem, slot_key
from tests.conftest import AuthActions
from tests.day_fair import TOKYO, participant
from tests.published_fair import published_fair

FIRST, SECOND = date(2027, 2, 17), date(2027, 2, 18)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A time of a fair day (Tokyo), as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


class Clock:
    """The clock of the day operations and of the staff pages, frozen where a test puts it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = at(FIRST, 9)
        monkeypatch.setattr(ops, "utcnow", lambda: self.now)
        monkeypatch.setattr("web.staff.utcnow", lambda: self.now)

    def set(self, day: date, hour: int, minute: int = 0) -> None:
        self.now = at(day, hour, minute)


def two_day_fair(session: Session) -> Event:
    event = published_fair(session)
    first = event.days[0]
    second = EventDay(
        event=event,
        date=SECOND,
        start_time=first.start_time,
        end_time=first.end_time,
        meeting_minutes=first.meeting_minutes,
        changeover_minutes=first.changeover_minutes,
        breaks=list(first.breaks),
    )
    session.add(second)
    twins = {}
    for slot in list(event.slots):
        twin = Slot(
            event=event,
            day=second,
            starts_at=slot.starts_at + timedelta(days=1),
            ends_at=slot.ends_at + timedelta(days=1),
            label=slot.label,
        )
        session.add(twin)
        twins[slot.id] = twin
    session.flush()
    for meeting in session.scalars(select(Meeting).where(Meeting.event_id == event.id)):
        if event.local(meeting.slot.starts_at).hour >= 13:
            meeting.slot_id = twins[meeting.slot_id].id
    s001 = participant(session, event, "S001")
    s001.available_until = s001.available_until + timedelta(days=1)  # the last day's 14:00
    session.commit()
    session.expire_all()
    return event


@pytest.fixture
def fair(db_session: Session) -> Event:
    return two_day_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def as_staff(client: FlaskClient, auth: AuthActions, staff: User) -> User:
    assert auth.login("staff@example.jp").status_code == 302
    client.post("/language", data={"lang": "en"})  # the pages read in English (the msgids)
    return staff


def slot_at(session: Session, event: Event, day: date, hour: int, minute: int = 0) -> Slot:
    found = session.scalar(
        select(Slot).where(Slot.event_id == event.id, Slot.starts_at == at(day, hour, minute))
    )
    assert found is not None, (day, hour, minute)
    return found


def schedule(session: Session, event: Event, code: str) -> dict[tuple[date, str], str]:
    """``code``'s meetings as {(day, time): status}."""
    who = participant(session, event, code)
    return {
        (event.local(m.slot.starts_at).date(), event.local(m.slot.starts_at).strftime("%H:%M")): (
            m.status
        )
        for m in ops.meetings_of(session, who)
    }


PLANNED, CANCELLED = MeetingStatus.PLANNED, MeetingStatus.CANCELLED


# --------------------------------------------------------------------------- leaving early


def test_leaving_early_on_the_first_day_keeps_the_second_days_meetings(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 11, 10)
    b003 = participant(db_session, fair, "B003")
    result = ops.set_day_status(
        db_session, b003, "left_early", at=at(FIRST, 11, 15), user_id=staff.id
    )
    assert [(m.slot.label, fair.local(m.slot.starts_at).date()) for m in result.meetings] == [
        ("11:30", FIRST)
    ]
    assert schedule(db_session, fair, "B003") == {
        (FIRST, "10:00"): PLANNED,
        (FIRST, "10:30"): PLANNED,
        (FIRST, "11:00"): PLANNED,  # under way when it leaves
        (FIRST, "11:30"): CANCELLED,
        (SECOND, "13:00"): PLANNED,
        (SECOND, "13:30"): PLANNED,
        (SECOND, "14:00"): PLANNED,
        (SECOND, "14:30"): PLANNED,
    }
    # Only the rest of the first day is closed: the second day stays open to it.
    assert not b003.is_available(slot_at(db_session, fair, FIRST, 13))
    assert b003.is_available(slot_at(db_session, fair, SECOND, 10))
    assert b003.available_until is None
    assert ops.window_on(db_session, b003, FIRST) == (None, at(FIRST, 11, 15))
    assert ops.window_on(db_session, b003, SECOND) == (None, None)

    # Undo puts everything back, the slots it closed included.
    ops.undo_last(db_session, fair, user_id=staff.id)
    b003 = participant(db_session, fair, "B003")
    assert b003.day_status == DayStatus.EXPECTED and b003.unavailable_slots == []
    assert set(schedule(db_session, fair, "B003").values()) == {PLANNED}


def test_coming_back_after_leaving_early_reopens_the_day_and_undo_closes_it(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 11, 10)
    s002 = participant(db_session, fair, "S002")  # registered: cannot make 11:00 and 16:00
    registered = {s.id for s in s002.unavailable_slots}
    ops.set_day_status(db_session, s002, "left_early", at=at(FIRST, 11, 15), user_id=staff.id)
    # A corrected time replaces the first one: 13:00 opens again.
    ops.set_day_status(db_session, s002, "left_early", at=at(FIRST, 13, 40), user_id=staff.id)
    s002 = participant(db_session, fair, "S002")
    assert s002.is_available(slot_at(db_session, fair, FIRST, 13))
    assert not s002.is_available(slot_at(db_session, fair, FIRST, 13, 30))
    assert ops.marked_time(db_session, s002) == at(FIRST, 13, 40)

    clock.set(FIRST, 13, 50)
    result = ops.check_in(db_session, s002, user_id=staff.id)
    assert result.entry.details["reopened_until"]["before"] == "13:40"
    s002 = participant(db_session, fair, "S002")
    assert s002.day_status == DayStatus.CHECKED_IN
    assert {s.id for s in s002.unavailable_slots} == registered  # its own holes stay
    assert s002.is_available(slot_at(db_session, fair, FIRST, 15))

    ops.undo_last(db_session, fair, user_id=staff.id)
    s002 = participant(db_session, fair, "S002")
    assert s002.day_status == DayStatus.LEFT_EARLY
    assert not s002.is_available(slot_at(db_session, fair, FIRST, 15))
    assert s002.is_available(slot_at(db_session, fair, SECOND, 15))


# --------------------------------------------------------------------------- no-show


def test_a_no_show_on_the_first_day_keeps_the_second_days_meetings(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b001 = participant(db_session, fair, "B001")
    result = ops.set_day_status(db_session, b001, "no_show", user_id=staff.id)
    assert {fair.local(m.slot.starts_at).date() for m in result.meetings} == {FIRST}
    assert schedule(db_session, fair, "B001") == {
        (FIRST, "10:00"): CANCELLED,
        (FIRST, "10:30"): CANCELLED,
        (FIRST, "11:00"): CANCELLED,
        (FIRST, "11:30"): CANCELLED,
        (SECOND, "13:00"): PLANNED,
        (SECOND, "13:30"): PLANNED,
    }
    # Staff may still give it meetings on the second day, not on the first.
    offers = ops.walk_in_offers(db_session, b001)
    assert offers
    assert {fair.local(s.starts_at).date() for o in offers for s, _table in o.places} == {SECOND}


def test_a_plan_of_the_day_keeps_a_no_show_available_on_later_days(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b001 = participant(db_session, fair, "B001")
    ops.set_day_status(db_session, b001, "no_show", user_id=staff.id)
    db_session.commit()
    second_day = {slot_key(s) for s in fair.slots if fair.local(s.starts_at).date() == SECOND}

    def available(now: datetime) -> frozenset[str] | None:
        problem = build_problem(
            db_session, fair, parameters={"kind": "repair", "now": now.isoformat()}
        )
        return next(p for p in problem.participants if p.id == "B001").available

    # Today: nowhere today, the second day as registered.
    assert available(at(FIRST, 10, 5)) == second_day
    # Tomorrow: yesterday's no-show is no reason any more.
    assert available(at(SECOND, 9)) == second_day


def test_a_run_giving_yesterdays_no_show_a_meeting_today_may_be_published(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b001 = participant(db_session, fair, "B001")
    ops.set_day_status(db_session, b001, "no_show", user_id=staff.id)
    s002 = participant(db_session, fair, "S002")

    def check(slot: Slot) -> None:
        plan = publishing._Plan({}, set())
        plan.insert.append((frozenset((b001.id, s002.id)), b001, s002, slot, None))
        publishing._check_day_statuses(plan)

    check(slot_at(db_session, fair, SECOND, 10))
    with pytest.raises(Conflict, match="no-show"):
        check(slot_at(db_session, fair, FIRST, 15))


# --------------------------------------------------------------------------- the second day


def test_the_second_day_starts_with_everyone_expected(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b002 = participant(db_session, fair, "B002")
    ops.check_in(db_session, b002, user_id=staff.id)
    ops.set_day_status(
        db_session, participant(db_session, fair, "B001"), "no_show", user_id=staff.id
    )
    clock.set(FIRST, 11, 10)
    ops.set_day_status(
        db_session,
        participant(db_session, fair, "B003"),
        "left_early",
        at=at(FIRST, 11, 15),
        user_id=staff.id,
    )
    for code in ("B001", "B002", "B003"):
        assert ops.status_today(participant(db_session, fair, code)) != DayStatus.EXPECTED
    # Once the day's meetings are over, reception looks at the next day.
    assert ops.status_today(participant(db_session, fair, "B001"), at(FIRST, 20)) == "expected"

    clock.set(SECOND, 9)
    for code in ("B001", "B002", "B003"):
        assert ops.status_today(participant(db_session, fair, code)) == DayStatus.EXPECTED
    # Reception checks B002 in again, and each of its people.
    b002 = participant(db_session, fair, "B002")
    assert all(ops.checked_in_today(a) is None for a in b002.attendances)
    result = ops.check_in(db_session, b002, user_id=staff.id)
    assert all(a.checked_in_at == at(SECOND, 9) for a in b002.attendances)
    assert ops.status_today(b002) == DayStatus.CHECKED_IN
    assert result.entry.details["lines"][0]["before"] == "expected"
    assert result.entry.details["lines"][0]["after"] == "checked_in"
    # Yesterday's meetings stay as they were.
    assert schedule(db_session, fair, "B001")[(FIRST, "10:00")] == CANCELLED


def test_late_on_the_second_day_cancels_only_its_meetings_before_the_arrival(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(SECOND, 12, 50)
    b003 = participant(db_session, fair, "B003")
    result = ops.set_day_status(db_session, b003, "late", at=at(SECOND, 13, 45), user_id=staff.id)
    assert sorted(m.slot.label for m in result.meetings) == ["13:00", "13:30"]
    assert schedule(db_session, fair, "B003") == {
        (FIRST, "10:00"): PLANNED,
        (FIRST, "10:30"): PLANNED,
        (FIRST, "11:00"): PLANNED,
        (FIRST, "11:30"): PLANNED,
        (SECOND, "13:00"): CANCELLED,
        (SECOND, "13:30"): CANCELLED,
        (SECOND, "14:00"): PLANNED,
        (SECOND, "14:30"): PLANNED,
    }
    # The first day's meetings, locked as the past, are still ones it could attend.
    assert b003.available_from is None
    assert b003.is_available(slot_at(db_session, fair, FIRST, 10))
    assert not b003.is_available(slot_at(db_session, fair, SECOND, 13, 30))
    assert b003.is_available(slot_at(db_session, fair, SECOND, 14))
    problem = build_problem(
        db_session, fair, parameters={"kind": "repair", "now": at(SECOND, 12, 50).isoformat()}
    )
    available = next(p for p in problem.participants if p.id == "B003").available
    assert available is not None
    assert slot_key(slot_at(db_session, fair, FIRST, 10)) in available
    assert slot_key(slot_at(db_session, fair, SECOND, 13)) not in available
    assert {m.slot for m in problem.locked if "B003" in (m.a, m.b)} >= {
        slot_key(slot_at(db_session, fair, FIRST, h, mi)) for h, mi in ((10, 0), (11, 30))
    }
    # A leaving time before the arrival of that day is refused.
    with pytest.raises(ValidationFailed, match="not after the time it arrives"):
        ops.set_day_status(db_session, b003, "left_early", at=at(SECOND, 13, 30), user_id=staff.id)

    # Here early: it can meet from now on (13:30 opens, 13:00 has begun); Undo closes it.
    clock.set(SECOND, 13, 10)
    result = ops.check_in(db_session, b003, user_id=staff.id)
    assert result.entry.details["opened_from"] == {"before": "13:45", "after": "13:10"}
    assert b003.is_available(slot_at(db_session, fair, SECOND, 13, 30))
    assert not b003.is_available(slot_at(db_session, fair, SECOND, 13))
    ops.undo_last(db_session, fair, user_id=staff.id)
    b003 = participant(db_session, fair, "B003")
    assert b003.day_status == DayStatus.LATE
    assert not b003.is_available(slot_at(db_session, fair, SECOND, 13, 30))
    # And undoing the mark itself gives the second day back whole.
    ops.undo_last(db_session, fair, user_id=staff.id)
    b003 = participant(db_session, fair, "B003")
    assert b003.unavailable_slots == [] and b003.day_status == DayStatus.EXPECTED
    assert set(schedule(db_session, fair, "B003").values()) == {PLANNED}


def test_leaving_early_on_the_last_day_after_a_first_day_status(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b003 = participant(db_session, fair, "B003")
    ops.set_day_status(db_session, b003, "no_show", user_id=staff.id)
    clock.set(SECOND, 13, 40)
    result = ops.set_day_status(
        db_session, b003, "left_early", at=at(SECOND, 13, 45), user_id=staff.id
    )
    # The last day's leave is the window's end, as on a one-day fair.
    assert b003.available_until == at(SECOND, 13, 45)
    assert sorted(m.slot.label for m in result.meetings) == ["14:00", "14:30"]
    assert schedule(db_session, fair, "B003")[(SECOND, "13:00")] == PLANNED
    assert result.entry.details["lines"][0]["before"] == "expected"


def test_absent_from_the_fair_only_when_on_no_day(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b001, b002 = participant(db_session, fair, "B001"), participant(db_session, fair, "B002")
    ops.check_in(db_session, b001, user_id=staff.id)
    ops.set_day_status(db_session, b002, "no_show", user_id=staff.id)
    clock.set(SECOND, 9, 30)
    ops.set_day_status(db_session, b001, "no_show", user_id=staff.id)
    ops.set_day_status(db_session, b002, "no_show", user_id=staff.id)
    assert ops.absent_from_fair(db_session, fair) == {b002.id}


# --------------------------------------------------------------------------- the staff pages


def test_reception_on_the_second_day(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(FIRST, 9, 30)
    b001, b003 = participant(db_session, fair, "B001"), participant(db_session, fair, "B003")
    ops.check_in(db_session, b001, user_id=as_staff.id)
    clock.set(FIRST, 11, 10)
    ops.set_day_status(db_session, b003, "left_early", at=at(FIRST, 11, 15), user_id=as_staff.id)
    db_session.commit()
    day = f"/events/{fair.id}/day"

    clock.set(SECOND, 9)
    page = client.get(f"{day}/?q=B00").get_data(as_text=True)
    assert page.count('class="badge status-expected"') == 3
    assert page.count('data-test="quick-check-in"') == 3
    # The day at a glance: everyone is expected again.
    approved = len(fair.participants)
    assert f'stat status-expected"><span class="value">{approved}<' in page
    assert 'stat status-checked_in"><span class="value">0<' in page
    card = client.get(f"{day}/participants/{b003.id}").get_data(as_text=True)
    assert 'data-test="left-early"' not in card and ">Expected<" in card
    assert "Available until" not in card
    card = client.get(f"{day}/participants/{b001.id}").get_data(as_text=True)
    assert "✓ 09:30" not in card and ">Check in<" in card

    # Late on the second day, typed as a time of that day.
    response = client.post(
        f"{day}/participants/{b003.id}/status", data={"status": "late", "at": "13:45"}
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert schedule(db_session, fair, "B003")[(SECOND, "13:00")] == CANCELLED
    assert schedule(db_session, fair, "B003")[(FIRST, "10:00")] == PLANNED
    card = client.get(f"{day}/participants/{b003.id}").get_data(as_text=True)
    assert "Available from 13:45." in card


# --------------------------------------------------------------------------- one day


def test_a_one_day_fair_is_as_before(db_session: Session, staff: User, clock: Clock) -> None:
    fair = published_fair(db_session)
    assert ops.status_cutoff(fair, at(FIRST, 10)) is None
    clock.set(FIRST, 11, 10)
    b003 = participant(db_session, fair, "B003")
    ops.set_day_status(db_session, b003, "left_early", at=at(FIRST, 13, 15), user_id=staff.id)
    assert b003.available_until == at(FIRST, 13, 15) and b003.unavailable_slots == []
    b001 = participant(db_session, fair, "B001")
    result = ops.set_day_status(db_session, b001, "no_show", user_id=staff.id)
    assert sorted(m.slot.label for m in result.meetings) == ["11:00", "11:30", "13:00", "13:30"]
    # The status stands after the day, too (the results read it).
    assert ops.status_today(b001, at(SECOND, 9)) == DayStatus.NO_SHOW
    assert ops.absent_from_fair(db_session, fair) == {b001.id}
    problem = build_problem(
        db_session, fair, parameters={"kind": "repair", "now": at(FIRST, 11, 10).isoformat()}
    )
    locked = {m.slot for m in problem.locked if "B001" in (m.a, m.b)}
    assert next(p for p in problem.participants if p.id == "B001").available == locked
    clock.set(FIRST, 13, 20)
    result = ops.check_in(db_session, b003, user_id=staff.id)
    assert b003.available_until is None and result.entry.details["reopened_until"]["after"] == ""


def test_the_fair_days_and_when_a_status_is_yesterdays(fair: Event) -> None:
    first_end = max(s.ends_at for s in fair.slots if s.starts_at < at(SECOND, 0))
    assert ops.fair_days(fair) == [FIRST, SECOND]
    assert ops.fair_day_of(fair, first_end - timedelta(minutes=1)) == FIRST
    # Once the first day's meetings are over, what is marked concerns the second day
    # (review: a company phoning at 19:00 that it would not come was marked for day 1).
    assert ops.fair_day_of(fair, first_end) == SECOND
    assert ops.fair_day_of(fair, at(FIRST, 20)) == SECOND
    assert ops.fair_day_of(fair, at(FIRST, 8) - timedelta(days=1)) == FIRST  # the eve
    assert ops.fair_day_of(fair, at(SECOND, 20) + timedelta(days=1)) is None  # after
    assert ops.status_cutoff(fair, first_end - timedelta(minutes=1)) is None
    assert ops.status_cutoff(fair, at(FIRST, 23)) == first_end
    assert ops.status_cutoff(fair, at(SECOND, 0, 1)) == first_end


def test_a_no_show_marked_the_evening_before_cancels_the_next_days_meetings(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """Review: B001, there on day 1, phoned at 19:00 that it would not come on day 2;
    the mark cancelled nothing, read "expected" the next morning, and B001 was counted
    absent from the whole fair."""
    clock.set(FIRST, 9, 30)
    b001 = participant(db_session, fair, "B001")
    ops.check_in(db_session, b001, user_id=staff.id)
    clock.set(FIRST, 19, 0)
    result = ops.set_day_status(db_session, b001, DayStatus.NO_SHOW, user_id=staff.id)
    assert result.meetings and {
        fair.local(m.slot.starts_at).date() for m in result.meetings
    } == {SECOND}
    assert {v for (day, _), v in schedule(db_session, fair, "B001").items() if day == SECOND} == {
        CANCELLED
    }
    assert {v for (day, _), v in schedule(db_session, fair, "B001").items() if day == FIRST} == {
        PLANNED
    }
    clock.set(SECOND, 8, 30)
    assert ops.status_today(b001) == DayStatus.NO_SHOW
    assert b001.id not in ops.absent_from_fair(db_session, fair)  # it came on day 1


def test_a_no_show_marked_after_the_fair_of_a_company_that_came_is_not_absent(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(FIRST, 9, 30)
    b001 = participant(db_session, fair, "B001")
    ops.check_in(db_session, b001, user_id=staff.id)
    clock.now = at(SECOND, 10) + timedelta(days=1)
    ops.set_day_status(db_session, b001, DayStatus.NO_SHOW, user_id=staff.id)
    assert b001.id not in ops.absent_from_fair(db_session, fair)


def test_a_second_persons_check_in_on_day_two_is_named_in_the_log(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    company = next(p for p in fair.participants if len(p.attendances) > 1)
    first, second = company.attendances[0], company.attendances[1]
    clock.set(FIRST, 9, 30)
    ops.check_in(db_session, company, user_id=staff.id)
    clock.set(SECOND, 9, 0)
    ops.check_in(db_session, company, person_ids=[first.person_id], user_id=staff.id)
    clock.set(SECOND, 9, 5)
    result = ops.check_in(db_session, company, person_ids=[second.person_id], user_id=staff.id)
    assert [line["pair"] for line in result.entry.details["lines"]] == [
        f"{company.code} {company.organization.name} · {second.person.name}"
    ]
