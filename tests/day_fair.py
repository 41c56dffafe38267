"""A published demo fair for the on-the-day tests, with a clock the tests set.

The fair is ``tests.published_fair``'s (3 buyers at their own tables A01–A03, two
spare tables A04/A05, 8 suppliers, 20 meetings) on 17 February 2027 in Tokyo.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler import day_operations
from scheduler.models import Event, Meeting, MeetingStatus, Participant, Slot, Table

TOKYO = ZoneInfo("Asia/Tokyo")


def local(hour: int, minute: int = 0) -> datetime:
    """A time on the fair's day (Tokyo), as an aware UTC datetime."""
    return datetime(2027, 2, 17, hour, minute, tzinfo=TOKYO).astimezone(UTC)


class Clock:
    """The one clock of the day operations, frozen where a test puts it (9:00 to begin
    with); ``also`` the other modules that read it (their own ``utcnow``: the repair,
    the board, publishing…)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *also: ModuleType) -> None:
        self.now = local(9, 0)
        for module in (day_operations, *also):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def set(self, hour: int, minute: int = 0) -> None:
        self.now = local(hour, minute)


def participant(session: Session, event: Event, code: str) -> Participant:
    found = session.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.code == code)
    )
    assert found is not None, code
    return found


def slot(session: Session, event: Event, label: str) -> Slot:
    found = session.scalar(select(Slot).where(Slot.event_id == event.id, Slot.label == label))
    assert found is not None, label
    return found


def table(session: Session, event: Event, label: str) -> Table:
    found = session.scalar(select(Table).where(Table.event_id == event.id, Table.label == label))
    assert found is not None, label
    return found


def meeting(session: Session, event: Event, code_a: str, code_b: str) -> Meeting:
    """The active meeting of two participants given by code."""
    a, b = participant(session, event, code_a), participant(session, event, code_b)
    found = session.scalar(
        select(Meeting).where(
            Meeting.status != MeetingStatus.CANCELLED,
            or_(
                (Meeting.participant_a_id == a.id) & (Meeting.participant_b_id == b.id),
                (Meeting.participant_a_id == b.id) & (Meeting.participant_b_id == a.id),
            ),
        )
    )
    assert found is not None, (code_a, code_b)
    return found


def fill_the_gap_at_ten(session: Session, event: Event, user_id: int) -> Meeting:
    """B003's 14:30 meeting with S008 (table A03) moves into 10:00, where its meeting with
    S002 at A03 was just cancelled: a later change that an undo of that cancellation
    would double-book."""
    other = meeting(session, event, "B003", "S008")
    day_operations.move_meeting(
        session,
        event,
        other.id,
        expected_version=0,
        slot_id=slot(session, event, "10:00").id,
        user_id=user_id,
    )
    return other


def active_meetings(session: Session, event: Event) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting).where(
                Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
            )
        )
    )


def assert_no_double_booking(session: Session, event: Event) -> None:
    """No table and no participant (beyond its desks) twice in one slot."""
    tables: set[tuple[int | None, int]] = set()
    load: dict[tuple[int, int], int] = {}
    for item in active_meetings(session, event):
        key = (item.table_id, item.slot_id)
        assert key not in tables, f"table {item.table_id} twice in slot {item.slot_id}"
        tables.add(key)
        for pid in (item.participant_a_id, item.participant_b_id):
            load[(pid, item.slot_id)] = load.get((pid, item.slot_id), 0) + 1
    for (pid, slot_id), count in load.items():
        desks = session.get(Participant, pid).parallel_desks
        assert count <= desks, f"participant {pid} in {count} meetings in slot {slot_id}"


def day_path(event: Event, path: str = "/") -> str:
    """The address of one of the staff's day pages of ``event``."""
    return f"/events/{event.id}/day{path}"


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def flashes(page: str) -> str:
    """The page's messages (flashes), without the rest of it."""
    return " ".join(re.findall(r'<p class="flash [^"]*">(.*?)</p>', page, re.S))
