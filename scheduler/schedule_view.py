"""The published schedule as pages, calendar feeds, printed sheets and exports read it.

One place answers "is the schedule out?" and "what does participant X see?", so the
personal page, the .ics feed and the printed sheet can never disagree. Read-only:
nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import (
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

    def desks_free(self, slot: Slot) -> int:
        """How many of the participant's desks are free in ``slot`` (one of ``free_slots``)."""
        return self.free_desks.get(slot.id, self.participant.parallel_desks)

    @property
    def all_meetings(self) -> list[MeetingView]:
        """Active and cancelled meetings, by start time (calendar feeds keep cancellations)."""
        return sorted([*self.meetings, *self.cancelled], key=_view_order)


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


def personal_schedule(session: Session, participant: Participant) -> PersonalSchedule:
    """The participant's published meetings, cancellations and free slots.

    Before publication it is empty (and ``published`` is False), so nothing of a
    draft schedule leaks through the page, the sheet or the feed.
    """
    event = participant.event
    if not is_published(event):
        return PersonalSchedule(participant=participant, published=False)
    meetings = event_meetings(session, event, participant_id=participant.id)
    purposes = stated_purposes(session, event, participant_id=participant.id)
    return _schedule_from(participant, meetings, purposes)


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
    participant: Participant, meetings: Sequence[Meeting], purposes: dict[tuple[int, int], str]
) -> PersonalSchedule:
    """The published schedule of ``participant`` from its meetings (in any order) and the
    notes of the pairs it is part of."""
    event = participant.event
    active: list[MeetingView] = []
    cancelled: list[MeetingView] = []
    busy: dict[int, int] = defaultdict(int)
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
            busy[meeting.slot_id] += 1
    # A slot is free while one of the participant's desks is: a company with two desks
    # can still take a meeting there, and the page says how many desks are left.
    free = [
        slot
        for slot in event.slots
        if participant.is_available(slot) and busy[slot.id] < participant.parallel_desks
    ]
    return PersonalSchedule(
        participant=participant,
        published=True,
        meetings=sorted(active, key=_view_order),
        cancelled=sorted(cancelled, key=_view_order),
        free_slots=free,
        free_desks={slot.id: participant.parallel_desks - busy[slot.id] for slot in free},
    )


def slots_by_day(event: Event, slots: Sequence[Slot] | None = None) -> dict[str, list[Slot]]:
    """Slots grouped by their local date (``YYYY-MM-DD`` in the event's zone), in order."""
    grouped: dict[str, list[Slot]] = defaultdict(list)
    for slot in sorted(slots if slots is not None else event.slots, key=lambda s: s.starts_at):
        grouped[event.local(slot.starts_at).date().isoformat()].append(slot)
    return dict(grouped)
