"""The live state of the hall: per table the meeting now and the next one, and a
participant's current and next meeting with today's changes.

Read-only and cheap (a few indexed queries per call) because screens and phones poll
it every few seconds. The payloads are plain dicts ready for JSON; their ``etag``
covers everything but the server's clock, so an unchanged hall answers 304 while the
countdown keeps ticking in the browser from the slot times.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db import utcnow
from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    Room,
    Slot,
    Table,
)
from scheduler.schedule_view import free_slots, is_published, list_stamp

# The audit action of a publication (scheduler.publishing.publish_run): the first one
# dates the schedule participants were first given.
PUBLISH_ACTION = "schedule.publish"

# A gap between two slots up to this long is a changeover ("change tables now");
# a longer one (lunch) is a break.
CHANGEOVER_MAX = timedelta(minutes=15)
# The warning before the end of a meeting.
WARNING_SECONDS = 5 * 60
# A meeting changed this recently is marked as changed on the hall board.
RECENT_CHANGE = timedelta(minutes=30)


@dataclass(frozen=True)
class SlotWindow:
    """Where the clock stands in the slot grid: the slot under way and the next one."""

    current: Slot | None
    next: Slot | None
    previous: Slot | None

    @property
    def phase(self) -> str:
        """``meeting``, ``changeover``, ``break``, ``before`` (the day's first slot ahead)
        or ``over`` (no slot left)."""
        if self.current is not None:
            return "meeting"
        if self.next is None:
            return "over"
        if self.previous is None or self.previous.day_id != self.next.day_id:
            return "before"
        gap = self.next.starts_at - self.previous.ends_at
        return "changeover" if gap <= CHANGEOVER_MAX else "break"


def slot_window(slots: list[Slot], now: datetime) -> SlotWindow:
    """The slot under way at ``now`` (if any), the next to start and the last one ended."""
    ordered = sorted(slots, key=lambda s: s.starts_at)
    current = next((s for s in ordered if s.starts_at <= now < s.ends_at), None)
    upcoming = next((s for s in ordered if s.starts_at > now), None)
    previous = None
    for slot in ordered:
        if slot.ends_at <= now:
            previous = slot
    return SlotWindow(current=current, next=upcoming, previous=previous)


def first_published_at(session: Session, event: Event) -> datetime | None:
    """When the event's schedule was first published: its first publication's audit
    entry (written after that publication's meetings), else, for an event published
    without one, its latest publication."""
    first = session.scalar(
        select(func.min(AuditEntry.created_at)).where(
            AuditEntry.event_id == event.id, AuditEntry.action == PUBLISH_ACTION
        )
    )
    return first if first is not None else event.published_at


def changed_today(
    meeting: Meeting, event: Event, now: datetime, first_published: datetime | None
) -> bool:
    """Whether ``meeting`` was moved, cancelled or added on the local day of ``now``,
    after the schedule was first published (``first_published``, see
    :func:`first_published_at`).

    ``version`` counts changes since the meeting row was created. A row created today
    with version 0 is a change only when it was added to a schedule already out (by
    staff, for a walk-in, by a re-optimisation or a later publication): a schedule
    first published on the fair's day itself creates every row that day, and none of
    them is a change that anyone has to be told about.
    """
    today = event.local(now).date()
    if event.local(meeting.updated_at).date() != today:
        return False
    if meeting.version > 0:
        return True
    return (
        first_published is not None
        and event.local(meeting.created_at).date() == today
        and meeting.created_at > first_published
    )


def change_kind(
    meeting: Meeting, event: Event, now: datetime, first_published: datetime | None
) -> str | None:
    """How a meeting changed today, as its participants are told: "added" (a row made
    today after the schedule went out: a walk-in, a staff addition, a plan's new
    meeting), "cancelled", "changed" (moved; see :meth:`Meeting.move_to`), or None when
    it stands where it stood (a move or a cancellation undone). A meeting added by a
    publication before today, or on an earlier day of the fair, is no news today
    unless it moves (review)."""
    if meeting.status == MeetingStatus.CANCELLED:
        return "cancelled"
    if (
        first_published is not None
        and meeting.created_at > first_published
        and event.local(meeting.created_at).date() == event.local(now).date()
    ):
        return "added"
    return "changed" if meeting.moved_from_slot_id is not None else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _slot_json(event: Event, slot: Slot | None) -> dict[str, Any] | None:
    if slot is None:
        return None
    return {
        "id": slot.id,
        "starts_at": _iso(slot.starts_at),
        "ends_at": _iso(slot.ends_at),
        "label": event.local(slot.starts_at).strftime("%H:%M")
        + "–"
        + event.local(slot.ends_at).strftime("%H:%M"),
        # Shown instead of a countdown when the slot is days away (a board tried early).
        "date": event.local(slot.starts_at).strftime("%Y-%m-%d %H:%M"),
    }


def _side(participant: Participant) -> dict[str, str]:
    return {"code": participant.code, "name": participant.display_name}


def _meeting_json(
    event: Event,
    meeting: Meeting,
    now: datetime,
    *,
    fair_day: bool,
    first_published: datetime | None,
) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "a": _side(meeting.participant_a),
        "b": _side(meeting.participant_b),
        "slot": _slot_json(event, meeting.slot),
        "version": meeting.version,
        # Only on a day of the fair: a schedule published today, days before the fair,
        # would otherwise mark every meeting as changed.
        "changed": fair_day
        and changed_today(meeting, event, now, first_published)
        and now - meeting.updated_at <= RECENT_CHANGE,
    }


def is_fair_day(event: Event, now: datetime) -> bool:
    """Whether ``now`` falls on a local day with slots of the event."""
    today = event.local(now).date()
    return any(event.local(slot.starts_at).date() == today for slot in event.slots)


def _etag(payload: dict[str, Any]) -> str:
    stable = {k: v for k, v in payload.items() if k != "server_time"}
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def room_board(
    session: Session, event: Event, room: Room, *, now: datetime | None = None
) -> dict[str, Any]:
    """The hall board of ``room``: per table the meeting under way (none between slots)
    and the next one, with the slot window for the countdown.

    Before publication the tables are listed without meetings, so nothing of a draft
    leaks onto a screen in the hall.
    """
    now = now or utcnow()
    window = slot_window(list(event.slots), now)
    tables = session.scalars(
        select(Table).where(Table.room_id == room.id).order_by(Table.sort_order, Table.label)
    ).all()
    by_table: dict[int, list[Meeting]] = {t.id: [] for t in tables}
    if is_published(event) and tables:
        # Meetings not yet over; the current slot's come first per table.
        for meeting in session.scalars(
            select(Meeting)
            .join(Slot, Meeting.slot_id == Slot.id)
            .where(
                Meeting.table_id.in_(list(by_table)),
                Meeting.status != MeetingStatus.CANCELLED,
                Slot.ends_at > now,
            )
            .options(
                selectinload(Meeting.participant_a).selectinload(Participant.organization),
                selectinload(Meeting.participant_b).selectinload(Participant.organization),
                selectinload(Meeting.slot),
            )
            .order_by(Slot.starts_at, Meeting.id)
        ):
            by_table[meeting.table_id].append(meeting)  # type: ignore[index]
    rows = []
    fair_day = is_fair_day(event, now)
    first_published = first_published_at(session, event) if fair_day else None
    for table in tables:
        upcoming = by_table[table.id]
        current = next((m for m in upcoming if m.slot.starts_at <= now), None)
        following = next((m for m in upcoming if m.slot.starts_at > now), None)
        rows.append(
            {
                "id": table.id,
                "label": table.label,
                "host": table.host.display_name if table.host is not None else "",
                "now": _meeting_json(
                    event, current, now, fair_day=fair_day, first_published=first_published
                )
                if current is not None
                else None,
                "next": _meeting_json(
                    event, following, now, fair_day=fair_day, first_published=first_published
                )
                if following is not None
                else None,
            }
        )
    payload: dict[str, Any] = {
        "event": event.name,
        "room": room.name,
        "published": is_published(event),
        "phase": window.phase,
        "current_slot": _slot_json(event, window.current),
        "next_slot": _slot_json(event, window.next),
        "warning_seconds": WARNING_SECONDS,
        "tables": rows,
        "server_time": _iso(now),
    }
    payload["etag"] = _etag(payload)
    return payload


def participant_live(
    session: Session, participant: Participant, *, now: datetime | None = None
) -> dict[str, Any]:
    """A participant's live state: the meeting under way, the next one, every meeting of
    theirs changed (moved, added or cancelled) today, and the stamp of the page's list
    (:func:`scheduler.schedule_view.list_stamp`), for the schedule page: when the stamp
    differs from the one the page's list was rendered with, the page re-reads its list."""
    now = now or utcnow()
    event = participant.event
    window = slot_window(list(event.slots), now)
    payload: dict[str, Any] = {
        "published": is_published(event),
        # The live card belongs to the fair's own days: weeks before, "today" and
        # "changed today" would only mislead.
        "fair_day": is_fair_day(event, now),
        "phase": window.phase,
        "current_slot": _slot_json(event, window.current),
        "next_slot": _slot_json(event, window.next),
        "now": None,
        "next": None,
        "changes": [],
        "schedule_stamp": "",
        "server_time": _iso(now),
    }
    if not payload["published"]:
        payload["etag"] = _etag(payload)
        return payload
    meetings = session.scalars(
        select(Meeting)
        .join(Slot, Meeting.slot_id == Slot.id)
        .where(
            Meeting.event_id == event.id,
            or_(
                Meeting.participant_a_id == participant.id,
                Meeting.participant_b_id == participant.id,
            ),
        )
        .options(
            selectinload(Meeting.participant_a).selectinload(Participant.organization),
            selectinload(Meeting.participant_b).selectinload(Participant.organization),
            selectinload(Meeting.slot),
            selectinload(Meeting.table).selectinload(Table.room),
        )
        .order_by(Slot.starts_at, Meeting.id)
    ).all()
    first_published = first_published_at(session, event)
    for meeting in meetings:
        active = meeting.status != MeetingStatus.CANCELLED
        if active and meeting.slot.starts_at <= now < meeting.slot.ends_at and not payload["now"]:
            payload["now"] = _personal_json(event, meeting, participant)
        elif active and meeting.slot.starts_at > now and payload["next"] is None:
            payload["next"] = _personal_json(event, meeting, participant)
        if changed_today(meeting, event, now, first_published):
            kind = change_kind(meeting, event, now, first_published)
            if kind is None:
                continue
            entry = _personal_json(event, meeting, participant)
            entry["kind"] = kind
            payload["changes"].append(entry)
    free, desks = free_slots(participant, meetings, now=now)
    payload["schedule_stamp"] = list_stamp(participant, meetings, free, desks)
    payload["etag"] = _etag(payload)
    return payload


def _personal_json(event: Event, meeting: Meeting, participant: Participant) -> dict[str, Any]:
    other = (
        meeting.participant_b
        if meeting.participant_a_id == participant.id
        else (meeting.participant_a)
    )
    table = meeting.table
    return {
        "id": meeting.id,
        "uid": meeting.uid,
        "with": _side(other),
        "slot": _slot_json(event, meeting.slot),
        "table": table.label if table is not None else "",
        "room": table.room.name if table is not None else "",
        "status": meeting.status,
        "version": meeting.version,
    }
