"""The published schedule as pages, calendar feeds, printed sheets and exports read it.

One place answers "is the schedule out?" and "what does participant X see?", so the
personal page, the .ics feed and the printed sheet can never disagree. Read-only:
nothing here writes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import (
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    Organization,
    Participant,
    Phase,
    Room,
    Slot,
    Table,
)
from scheduler.vocabulary import technology_label

# The phases in which a published schedule can exist (the portal links the page then).
PUBLISHED_PHASES = frozenset({Phase.PUBLISHED, Phase.ON_THE_DAY, Phase.CLOSED})
PROFILE_SUMMARY_CHARS = 160


def is_published(event: Event) -> bool:
    """Whether participants may see the schedule: it has been published at least once.

    Publishing writes the Meeting rows and stamps ``Event.published_at`` in one
    transaction, so the rows read here are always one whole published version.
    """
    return event.published_at is not None


@dataclass(frozen=True)
class MeetingView:
    """One meeting as one participant sees it: the other side, where, when and why."""

    meeting: Meeting
    counterpart: Participant
    purpose: str

    @property
    def slot(self) -> Slot:
        return self.meeting.slot

    @property
    def table(self) -> Table | None:
        return self.meeting.table

    @property
    def room(self) -> Room | None:
        return self.meeting.table.room if self.meeting.table is not None else None

    @property
    def cancelled(self) -> bool:
        return self.meeting.status == MeetingStatus.CANCELLED


@dataclass(frozen=True)
class PersonalSchedule:
    """What a participant's page, sheet and feed show."""

    participant: Participant
    published: bool
    meetings: list[MeetingView] = field(default_factory=list)  # active, by start time
    cancelled: list[MeetingView] = field(default_factory=list)
    free_slots: list[Slot] = field(default_factory=list)
    # Desks still free per free slot (slot id -> count), for a participant with several.
    free_desks: dict[int, int] = field(default_factory=dict)
    # A digest of what the page's list shows (:func:`list_stamp`): the live state carries
    # the same, so the page knows when its list is out of date.
    stamp: str = ""

    def desks_free(self, slot: Slot) -> int:
        """How many of the participant's desks are free in ``slot`` (one of ``free_slots``)."""
        return self.free_desks.get(slot.id, self.participant.parallel_desks)

    @property
    def all_cancelled(self) -> bool:
        """Meetings were arranged, and every one of them was cancelled: not the same as
        none arranged, and the company is told which."""
        return not self.meetings and bool(self.cancelled)

    @property
    def cancellation_cause(self) -> str:
        """Why every meeting was cancelled, when the day's statuses say so: the company's
        own ``no_show``, ``left_early`` or ``late`` (each of its meetings falls outside
        its day), ``counterparts`` (each counterpart's day rules its meeting out), or ""
        when not known (the organizer cancelled them, a new schedule left them out, or
        the causes are mixed)."""
        if not self.all_cancelled:
            return ""
        if all(_misses(self.participant, view.slot) for view in self.cancelled):
            return str(self.participant.day_status)
        if all(_misses(view.counterpart, view.slot) for view in self.cancelled):
            return "counterparts"
        return ""

    @property
    def all_meetings(self) -> list[MeetingView]:
        """Active and cancelled meetings, by start time (calendar feeds keep cancellations)."""
        return sorted([*self.meetings, *self.cancelled], key=_view_order)


def _misses(participant: Participant, slot: Slot) -> bool:
    """Whether ``participant``'s status on the day rules out a meeting in ``slot`` (as
    :func:`scheduler.day_operations.set_day_status` cancels them: on a fair of several
    days, only meetings of the day the status was set for)."""
    if participant.day_status not in (DayStatus.NO_SHOW, DayStatus.LATE, DayStatus.LEFT_EARLY):
        return False
    from scheduler.day_operations import status_rules_out  # (imports this module)

    return status_rules_out(participant, slot) is not None


def _view_order(view: MeetingView) -> tuple[datetime, str, int]:
    return (view.slot.starts_at, view.table.label if view.table else "", view.meeting.id)


def event_meetings(
    session: Session,
    event: Event,
    *,
    include_cancelled: bool = True,
    participant_id: int | None = None,
) -> list[Meeting]:
    """The event's meetings (or one participant's) with their pair, slot and table loaded,
    in a stable order (start time, table order, id) so every export of the same data is
    identical."""
    query = (
        select(Meeting)
        .join(Slot, Meeting.slot_id == Slot.id)
        .outerjoin(Table, Meeting.table_id == Table.id)
        .where(Meeting.event_id == event.id)
        .options(
            selectinload(Meeting.participant_a).selectinload(Participant.organization),
            selectinload(Meeting.participant_b).selectinload(Participant.organization),
            selectinload(Meeting.slot),
            selectinload(Meeting.table).selectinload(Table.room),
        )
        .order_by(Slot.starts_at, Table.sort_order, Table.label, Meeting.id)
    )
    if not include_cancelled:
        query = query.where(Meeting.status != MeetingStatus.CANCELLED)
    if participant_id is not None:
        query = query.where(
            or_(
                Meeting.participant_a_id == participant_id,
                Meeting.participant_b_id == participant_id,
            )
        ).options(
            # One participant's schedule says where a moved meeting was (schedules/_list).
            selectinload(Meeting.moved_from_slot),
            selectinload(Meeting.moved_from_table),
        )
    return list(session.scalars(query))


def stated_purposes(
    session: Session, event: Event, *, participant_id: int | None = None
) -> dict[tuple[int, int], str]:
    """The notes each side wrote with its request, keyed by (from, to) participant ids
    (only those involving ``participant_id`` when given)."""
    query = select(Interest.from_participant_id, Interest.to_participant_id, Interest.note).where(
        Interest.event_id == event.id, Interest.note != "", Interest.declined.is_(False)
    )
    if participant_id is not None:
        query = query.where(
            or_(
                Interest.from_participant_id == participant_id,
                Interest.to_participant_id == participant_id,
            )
        )
    rows = session.execute(query)
    return {(a, b): note.strip() for a, b, note in rows if note.strip()}


def meeting_purpose(meeting: Meeting, purposes: dict[tuple[int, int], str]) -> str:
    """The meeting's purpose: the one set on the meeting, else what the pair wrote when
    requesting it (both sides' notes, A's first)."""
    if meeting.purpose.strip():
        return meeting.purpose.strip()
    a, b = meeting.participant_a_id, meeting.participant_b_id
    notes = [purposes.get((a, b), ""), purposes.get((b, a), "")]
    return "\n".join(n for n in notes if n)


def profile_summary(
    organization: Organization, locale: str = "ja", limit: int = PROFILE_SUMMARY_CHARS
) -> str:
    """A short public profile: place, industry, main technologies, then the description
    cut to ``limit`` characters (no contact details: they are not public)."""
    place = f"{organization.prefecture}{organization.city}".strip()
    techs = [technology_label(code, locale) for code in organization.technologies[:4]]
    separator = "、" if locale == "ja" else ", "
    head = [part for part in (place, organization.industry, separator.join(techs)) if part]
    text = (organization.description or organization.what_we_buy or "").strip()
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return " / ".join(head) + ("\n" + text if text and head else text)


def personal_schedule(
    session: Session, participant: Participant, *, now: datetime | None = None
) -> PersonalSchedule:
    """The participant's published meetings, cancellations and free slots.

    Before publication it is empty (and ``published`` is False), so nothing of a
    draft schedule leaks through the page, the sheet or the feed. With ``now`` (the
    page, a sheet printed on the day), free slots that have begun are left out: on the
    fair's day a slot that is over or under way can no longer be offered.
    """
    event = participant.event
    if not is_published(event):
        return PersonalSchedule(participant=participant, published=False)
    meetings = event_meetings(session, event, participant_id=participant.id)
    purposes = stated_purposes(session, event, participant_id=participant.id)
    return _schedule_from(participant, meetings, purposes, now=now)


def personal_schedules(
    session: Session, event: Event, participants: Sequence[Participant]
) -> list[PersonalSchedule]:
    """:func:`personal_schedule` of each of ``participants`` (of ``event``), in their order.

    For printing every company's sheet: the event's meetings, the pairs' notes and the
    participants' unavailable slots are read once for all of them (a fixed number of
    queries), where one company at a time took ten queries each. Each schedule equals
    what :func:`personal_schedule` gives for that participant.
    """
    # The event's participants with their unavailable slots (is_available reads them)
    # and names, in a fixed number of queries; counterparts are among them.
    session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id)
        .options(
            selectinload(Participant.unavailable_slots),
            selectinload(Participant.organization),
        )
    ).all()
    strangers = [p.id for p in participants if p.event_id != event.id]
    if strangers:
        raise ValueError(f"participants {strangers} are not in event {event.id}")
    if not is_published(event):
        return [PersonalSchedule(participant=p, published=False) for p in participants]
    meetings_of: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in event_meetings(session, event):
        meetings_of[meeting.participant_a_id].append(meeting)
        meetings_of[meeting.participant_b_id].append(meeting)
    purposes = stated_purposes(session, event)
    return [_schedule_from(p, meetings_of.get(p.id, []), purposes) for p in participants]


def _schedule_from(
    participant: Participant,
    meetings: Sequence[Meeting],
    purposes: dict[tuple[int, int], str],
    *,
    now: datetime | None = None,
) -> PersonalSchedule:
    """The published schedule of ``participant`` from its meetings (in any order) and the
    notes of the pairs it is part of."""
    active: list[MeetingView] = []
    cancelled: list[MeetingView] = []
    for meeting in meetings:
        other = (
            meeting.participant_b
            if meeting.participant_a_id == participant.id
            else meeting.participant_a
        )
        view = MeetingView(meeting, other, meeting_purpose(meeting, purposes))
        if view.cancelled:
            cancelled.append(view)
        else:
            active.append(view)
    free, desks = free_slots(participant, meetings, now=now)
    return PersonalSchedule(
        participant=participant,
        published=True,
        meetings=sorted(active, key=_view_order),
        cancelled=sorted(cancelled, key=_view_order),
        free_slots=free,
        free_desks=desks,
        stamp=list_stamp(participant, meetings, free, desks),
    )


def free_slots(
    participant: Participant, meetings: Iterable[Meeting], *, now: datetime | None = None
) -> tuple[list[Slot], dict[int, int]]:
    """The slots where ``participant`` could still take a meeting, and how many of its
    desks are free in each (slot id -> count); with ``now``, only slots not yet begun.

    A slot is free while one of the participant's desks is: a company with two desks can
    still take a meeting there, and the page says how many desks are left.
    """
    busy: dict[int, int] = defaultdict(int)
    for meeting in meetings:
        if meeting.status != MeetingStatus.CANCELLED:
            busy[meeting.slot_id] += 1
    free = [
        slot
        for slot in participant.event.slots
        if (now is None or slot.starts_at >= now)
        and participant.is_available(slot)
        and busy[slot.id] < participant.parallel_desks
    ]
    return free, {slot.id: participant.parallel_desks - busy[slot.id] for slot in free}


def list_stamp(
    participant: Participant,
    meetings: Iterable[Meeting],
    free: Sequence[Slot],
    desks: dict[int, int],
) -> str:
    """A digest of what the schedule page's list shows: each of ``participant``'s
    ``meetings`` (all of theirs, cancelled ones too) with its version, status, time and
    table, the free slots and desks (:func:`free_slots`) and the company's status on
    the day.

    The page renders it and the live state (:func:`scheduler.board.participant_live`)
    computes it from the same rows, so the page's script re-reads its list exactly when
    the list would read differently (a staff change, a free slot that has begun), and
    not merely because the clock moved on.
    """
    rows = sorted((m.id, m.version, str(m.status), m.slot_id, m.table_id or 0) for m in meetings)
    digest = hashlib.sha256(b"matchfair schedule list 1")
    digest.update(repr(rows).encode())
    digest.update(repr([(slot.id, desks[slot.id]) for slot in free]).encode())
    digest.update(str(participant.day_status).encode())
    return digest.hexdigest()[:16]


def slots_by_day(event: Event, slots: Sequence[Slot] | None = None) -> dict[str, list[Slot]]:
    """Slots grouped by their local date (``YYYY-MM-DD`` in the event's zone), in order."""
    grouped: dict[str, list[Slot]] = defaultdict(list)
    for slot in sorted(slots if slots is not None else event.slots, key=lambda s: s.starts_at):
        grouped[event.local(slot.starts_at).date().isoformat()].append(slot)
    return dict(grouped)
