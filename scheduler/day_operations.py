"""On the day: check-in, a participant's day status, walk-ins and safe manual meeting changes.

Services only flush; the caller commits. Every write that touches meetings follows
one protocol, so several staff acting at the same moment can never produce a
double booking or a lost update:

1. take the write locks, always in the same order (participants by id, then tables
   by id, then meetings by id) so two writers cannot deadlock: ``SELECT … FOR UPDATE``
   on PostgreSQL; on SQLite, which has one writer at a time, the write lock is taken
   up front (``BEGIN IMMEDIATE`` semantics) so that everything read next is current;
2. re-read the meetings under the lock and compare their ``version`` with the one
   the staff member saw (a mismatch is a :class:`StaleState` carrying the fresh state);
3. re-validate the new placements against the live state (a person in two places,
   a table holding two meetings, availability, host tables, declines);
4. write, bumping ``version`` and ``updated_at`` (calendar feeds show the change with a
   higher SEQUENCE), and record an audit entry with who, when, why and the inverse.

Anyone who changes a meeting's slot, table or status holds the lock of both its
participants and its table(s), so holding those locks freezes exactly the state a
validation reads. The partial unique index ``uq_meeting_table_slot_active`` backs the
table rule in the database; a violation that still slips through becomes a Conflict.

Undo lives in the audit entry (``details["undo"]``: each row's fields before and
after, with the version it was left at) rather than in a separate change-set table:
the entry that explains a change is the one that can revert it, so the two cannot
disagree, and no schema is needed beyond the day status itself.

A form sent twice (a double click or tap on a busy phone) must not answer its second
request with a false error: the browser shows only that answer, so staff would read
"someone else changed it" or "already registered" for a change that was made. A request
whose refusal would be that the state already is what the same user asked for a moment
ago (:data:`REPEAT_WINDOW`), with nothing changed since, returns that change as done
(``ChangeResult.repeated``) and writes nothing. The audit entries say who made a change
and from which state, so no request id is needed.

A fair may run over several days, and a status for the day concerns the fair day it is
set on (:func:`fair_day_of`): on the next fair day reception starts with everyone
expected again (:func:`status_today`; the earlier marks stay in the log, their meetings
as they are), a late arrival or an early leave limits its own day only, and a no-show
gives up the meetings of its day only (:func:`set_day_status`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, text, true
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    AuditEntry,
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Person,
    Slot,
    Table,
)
from scheduler.names import company_name_key, kana_as_typed, search_key
from scheduler.participant_import import next_participant_code, phone_as_typed, single_spaced
from scheduler.profiles import organization_named, typed_text
from scheduler.vocabulary import is_known_technology

ACTION_PREFIX = "day."
UNDO_ACTION = "day.undo"
# A re-optimisation applied on the day (scheduler.repair): in the day's log, and a change
# that Undo cannot revert, so it stops Undo from reaching back past it.
REPAIR_ACTION = "repair.apply"


def _day_action() -> Any:
    """The audit entries that are changes of the day."""
    return or_(AuditEntry.action.like(f"{ACTION_PREFIX}%"), AuditEntry.action == REPAIR_ACTION)


MAX_SEARCH_RESULTS = 30
# How long after a change the same user sending the same form again is taken for a
# double click or tap (the same action), not for a second one made from a stale page.
REPEAT_WINDOW = timedelta(seconds=60)
_SCHEDULE_LINK = re.compile(r"/p/([A-Za-z0-9_-]{20,})(?:/|$)")


class StaleState(Conflict):
    """A meeting changed since the staff member looked at it; ``meetings`` are fresh."""

    def __init__(self, message: str, *, params: dict[str, object], meetings: list[Meeting]):
        super().__init__(message, params=params)
        self.meetings = meetings


class ChangeRefused(Conflict):
    """The change would break a rule of the live state; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        first = problems[0]
        super().__init__(first.msgid, params=first.params)
        self.problems = problems


class UndoImpossible(ChangeRefused):
    """The change cannot be undone any more: a later change took what it would restore.

    ``problems`` says why; ``entry_id`` is the change, which the caller retires with
    :func:`retire_undo` (after rolling back) so Undo stops offering it.
    """

    def __init__(self, entry_id: int, problems: list[Problem]):
        super().__init__(problems)
        self.entry_id = entry_id


@dataclass(frozen=True)
class Problem:
    """Why a placement is not possible: an English msgid and its parameters."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.msgid % self.params if self.params else self.msgid


@dataclass(frozen=True)
class Gap:
    """A counterpart left with a free slot because its meeting was cancelled."""

    participant: Participant
    slot: Slot


@dataclass
class ChangeResult:
    """What a staff action did: the meetings it changed, who is affected, new gaps.

    ``repeated``: nothing was written, because the action is one the same user made a
    moment ago (a double click or tap sends a form twice); ``entry`` is that change. The
    page says it is done, as it would have for the first request, whose answer the
    browser dropped, and sends no second e-mail.
    """

    entry: AuditEntry
    meetings: list[Meeting] = field(default_factory=list)
    affected: list[Participant] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    repeated: bool = False


@dataclass(frozen=True)
class PlacementView:
    """Where a meeting is (or would be): its slot, table and status."""

    slot: Slot | None
    table: Table | None
    status: str


@dataclass
class Preview:
    """A proposed change checked against the current state, without writing anything."""

    problems: list[Problem]
    affected: list[Participant]
    lines: list[tuple[Meeting | None, PlacementView | None, PlacementView]]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Offer:
    """A counterpart a walk-in (or anyone with gaps) could meet now, and where."""

    counterpart: Participant
    places: list[tuple[Slot, Table]]
    interest_from_counterpart: int
    interest_to_counterpart: int
    shared_technologies: list[str]
    checked_in: bool
    # Why no meeting can be added with this counterpart (None: ``places`` says where one can).
    blocked: Problem | None = None

    @property
    def score(self) -> tuple[int, int, int, int]:
        interest = 2 * self.interest_from_counterpart + self.interest_to_counterpart
        return (interest, len(self.shared_technologies), int(self.checked_in), len(self.places))


@dataclass(frozen=True)
class _Change:
    """One meeting's new placement (``meeting`` None: a new meeting)."""

    meeting: Meeting | None
    a_id: int
    b_id: int
    slot_id: int
    table_id: int | None
    status: str = MeetingStatus.PLANNED


# --------------------------------------------------------------------------- finding people


def search_participants(
    session: Session,
    event: Event,
    query: str,
    *,
    role: str | None = None,
    limit: int = MAX_SEARCH_RESULTS,
) -> list[Participant]:
    """Participants whose code, company name or kana, or an attendee's name or kana matches
    (only those of ``role`` when given), at most ``limit`` of them: ask for one more than
    is shown to know whether there are more.

    Matching ignores full/half width, case, spaces and hiragana/katakana, so
    "やまだ", "ヤマダ" and "ﾔﾏﾀﾞ" all find 山田製作所 (ヤマダセイサクショ). Exact codes first.
    """
    needle = search_key(query)
    if not needle:
        return []
    participants = session.scalars(
        select(Participant)
        .where(
            Participant.event_id == event.id,
            Participant.status == ParticipantStatus.APPROVED,
            Participant.role == role if role is not None else Participant.id.is_not(None),
        )
        .options(
            selectinload(Participant.organization),
            selectinload(Participant.attendances).selectinload(Attendance.person),
        )
        .order_by(Participant.code, Participant.id)
    ).all()
    found: list[tuple[int, Participant]] = []
    for participant in participants:
        code = search_key(participant.code)
        if code == needle:
            found.append((0, participant))
            continue
        haystack = [
            code,
            search_key(participant.organization.name),
            search_key(participant.organization.name_kana),
            *(search_key(a.person.name) for a in participant.attendances),
            *(search_key(a.person.name_kana) for a in participant.attendances),
        ]
        if any(needle in text_ for text_ in haystack if text_):
            found.append((1, participant))
    found.sort(key=lambda item: item[0])
    return [p for _, p in found[:limit]]


def find_by_scan(session: Session, event: Event, content: str) -> Participant | None:
    """The participant a scanned QR code (its schedule link) or a typed code stands for."""
    content = content.strip()
    if not content:
        return None
    match = _SCHEDULE_LINK.search(content)
    if match is not None:
        return session.scalar(
            select(Participant).where(
                Participant.event_id == event.id, Participant.access_token == match.group(1)
            )
        )
    code = unicodedata.normalize("NFKC", content).strip().upper()
    return session.scalar(
        select(Participant).where(Participant.event_id == event.id, Participant.code == code)
    )


def get_participant(session: Session, event: Event, participant_id: int) -> Participant:
    """The event's participant with ``participant_id``, or NotFound: also for one not
    taking part (a pending, declined or withdrawn registration), which reception's
    search never lists and which must not be checked in by its card's address (QA)."""
    participant = session.get(Participant, participant_id)
    if (
        participant is None
        or participant.event_id != event.id
        or participant.status != ParticipantStatus.APPROVED
    ):
        raise NotFound(N_("This participant does not exist."))
    return participant


def get_meeting(session: Session, event: Event, meeting_id: int) -> Meeting:
    """The event's meeting with ``meeting_id``, or NotFound."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.event_id != event.id:
        raise NotFound(N_("This meeting does not exist."))
    return meeting


def meetings_of(session: Session, participant: Participant) -> list[Meeting]:
    """The participant's meetings of the event (cancelled included), by start time."""
    return list(
        session.scalars(
            select(Meeting)
            .join(Slot, Meeting.slot_id == Slot.id)
            .where(
                Meeting.event_id == participant.event_id,
                or_(
                    Meeting.participant_a_id == participant.id,
                    Meeting.participant_b_id == participant.id,
                ),
            )
            .options(
                selectinload(Meeting.participant_a).selectinload(Participant.organization),
                selectinload(Meeting.participant_b).selectinload(Participant.organization),
                selectinload(Meeting.table),
                selectinload(Meeting.slot),
            )
            .order_by(Slot.starts_at, Meeting.id)
        )
    )


def _meeting_query(event: Event) -> Select[tuple[Meeting]]:
    return (
        select(Meeting)
        .join(Slot, Meeting.slot_id == Slot.id)
        .outerjoin(Table, Meeting.table_id == Table.id)
        .where(Meeting.event_id == event.id)
        .options(
            selectinload(Meeting.participant_a).selectinload(Participant.organization),
            selectinload(Meeting.participant_b).selectinload(Participant.organization),
            selectinload(Meeting.slot),
            selectinload(Meeting.table),
        )
        .order_by(Slot.starts_at, Table.sort_order, Table.label, Meeting.id)
    )


def meetings_in_slot(session: Session, event: Event, slot_id: int) -> list[Meeting]:
    """The meetings of one slot (cancelled included), in table order."""
    return list(session.scalars(_meeting_query(event).where(Meeting.slot_id == slot_id)))


def swap_candidates(session: Session, meeting: Meeting) -> list[Meeting]:
    """Planned meetings still to come worth swapping with: the same slot (trading tables)
    or one of the same participants (trading times)."""
    event = meeting.participant_a.event
    people = (meeting.participant_a_id, meeting.participant_b_id)
    query = _meeting_query(event).where(
        Meeting.id != meeting.id,
        Meeting.status == MeetingStatus.PLANNED,
        Slot.starts_at > utcnow(),
        or_(
            Meeting.slot_id == meeting.slot_id,
            Meeting.participant_a_id.in_(people),
            Meeting.participant_b_id.in_(people),
        ),
    )
    return list(session.scalars(query))


# --------------------------------------------------------------------------- locking


def lock_for_change(
    session: Session,
    event_id: int,
    *,
    participant_ids: Iterable[int] = (),
    table_ids: Iterable[int | None] = (),
    meeting_ids: Iterable[int] = (),
    lock_event: bool = False,
) -> dict[int, Meeting]:
    """Take the write locks of a change and return the meetings, freshly read.

    Locks are taken in one global order (the event, participants, tables, meetings;
    each by id), which every writer of meetings must follow so that two of them cannot
    deadlock. ``lock_event`` takes the event's row first, as publishing does (its
    version number and first-publication stamp are read fresh under the lock).
    """
    dialect = session.get_bind().dialect.name
    try:
        if dialect == "sqlite":
            # pysqlite opens the transaction lazily at the first write and runs reads
            # outside it; a no-op write takes SQLite's single write lock now (waiting for
            # another writer to finish), so every read below sees the current state.
            session.execute(text("UPDATE events SET id = id WHERE id = :id"), {"id": event_id})
        if lock_event:
            session.scalars(
                select(Event)
                .where(Event.id == event_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        people = sorted(set(participant_ids))
        if people:
            session.scalars(
                select(Participant)
                .where(Participant.id.in_(people))
                .order_by(Participant.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        tables = sorted({t for t in table_ids if t is not None})
        if tables:
            session.scalars(
                select(Table).where(Table.id.in_(tables)).order_by(Table.id).with_for_update()
            ).all()
        ids = sorted(set(meeting_ids))
        meetings: dict[int, Meeting] = {}
        if ids:
            for meeting in session.scalars(
                select(Meeting)
                .where(Meeting.id.in_(ids))
                .order_by(Meeting.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ):
                meetings[meeting.id] = meeting
    except OperationalError as error:  # a deadlock or lock timeout chosen by the database
        raise _busy() from error
    return meetings


def _busy() -> Conflict:
    return Conflict(N_("Another change was being saved at the same moment. Please try again."))


def _flush(session: Session) -> None:
    """Flush, turning a constraint the database caught into a Conflict."""
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict(
            N_("That table was taken at the same moment by another change. Please try again.")
        ) from error
    except OperationalError as error:
        raise _busy() from error


# --------------------------------------------------------------------------- describing


def _when(event: Event, slot: Slot | None) -> str:
    return event.local(slot.starts_at).strftime("%H:%M") if slot is not None else "—"


def _name(participant: Participant) -> str:
    return f"{participant.code} {participant.organization.name}".strip()


def _pair(meeting: Meeting) -> str:
    return f"{_name(meeting.participant_a)} – {_name(meeting.participant_b)}"


def _place(event: Event, slot: Slot | None, table: Table | None, status: str) -> str:
    where = f"{_when(event, slot)} {table.label if table is not None else '—'}"
    return f"{where} ({status})" if status != MeetingStatus.PLANNED else where


def _stale(event: Event, meeting: Meeting) -> StaleState:
    """The refusal of a change to a meeting someone else changed first, with where it is now.

    The status is a parameter of its own (``status``, the stored code, which the page
    translates) rather than a suffix of the place as the change log stores it: inside a
    sentence an untranslated "(cancelled)" would show, and a translation that brackets
    the place would close two brackets in a row."""
    place = _place(event, meeting.slot, meeting.table, MeetingStatus.PLANNED)
    if meeting.status == MeetingStatus.PLANNED:
        return StaleState(
            N_(
                "Someone else changed this meeting a moment ago: %(pair)s is now %(place)s. "
                "The current state is shown; check it and try again."
            ),
            params={"pair": _pair(meeting), "place": place},
            meetings=[meeting],
        )
    return StaleState(
        N_(
            "Someone else changed this meeting a moment ago: %(pair)s at %(place)s is now "
            "%(status)s. The current state is shown; check it and try again."
        ),
        params={"pair": _pair(meeting), "place": place, "status": str(meeting.status)},
        meetings=[meeting],
    )


# --------------------------------------------------------------------------- validation


def _slot_map(session: Session, ids: Iterable[int]) -> dict[int, Slot]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {s.id: s for s in session.scalars(select(Slot).where(Slot.id.in_(wanted)))}


def _problems(
    session: Session,
    event: Event,
    changes: Sequence[_Change],
    *,
    now: datetime,
    new_pair: bool = False,
) -> list[Problem]:
    """Every rule the new placements would break, read against the current state.

    The meetings being changed are left out of the occupancy (their old places are
    vacated by the same change), and the placements are checked against each other.
    """
    problems: list[Problem] = []
    active = [c for c in changes if c.status != MeetingStatus.CANCELLED]
    if not active:
        return problems
    if new_pair:
        already = _already_scheduled(session, event, active)
        if already is not None:
            # The meeting asked for is there already (the confirmation sent again after
            # the back button): one message, not the busy people and table it implies.
            return [already]
    slots = _slot_map(session, (c.slot_id for c in active))
    days = fair_days(event)
    tables = {
        t.id: t
        for t in session.scalars(
            select(Table).where(Table.id.in_({c.table_id for c in active if c.table_id}))
        )
    }
    people_ids = {pid for c in active for pid in (c.a_id, c.b_id)}
    people = {
        p.id: p
        for p in session.scalars(
            select(Participant)
            .where(Participant.id.in_(people_ids))
            .options(selectinload(Participant.organization))
        )
    }
    changing = {c.meeting.id for c in changes if c.meeting is not None}
    occupants = session.scalars(
        select(Meeting)
        .where(
            Meeting.event_id == event.id,
            Meeting.slot_id.in_(slots.keys()),
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.id.not_in(changing) if changing else Meeting.id.is_not(None),
        )
        .options(
            selectinload(Meeting.participant_a).selectinload(Participant.organization),
            selectinload(Meeting.participant_b).selectinload(Participant.organization),
            selectinload(Meeting.table),
        )
    ).all()
    person_load: dict[tuple[int, int], int] = defaultdict(int)
    table_holder: dict[tuple[int, int], str] = {}
    for meeting in occupants:
        person_load[(meeting.participant_a_id, meeting.slot_id)] += 1
        person_load[(meeting.participant_b_id, meeting.slot_id)] += 1
        if meeting.table_id is not None:
            table_holder[(meeting.table_id, meeting.slot_id)] = _pair(meeting)

    for change in active:
        slot = slots.get(change.slot_id)
        if slot is None or slot.event_id != event.id:
            problems.append(Problem(N_("That slot does not belong to this event.")))
            continue
        when = _when(event, slot)
        if slot.ends_at <= now:
            problems.append(Problem(N_("The %(when)s slot is already over."), {"when": when}))
        table = tables.get(change.table_id) if change.table_id is not None else None
        if change.table_id is None or table is None or table.event_id != event.id:
            problems.append(Problem(N_("Choose a table of this event.")))
        for pid in (change.a_id, change.b_id):
            person = people.get(pid)
            if person is None or person.event_id != event.id:
                problems.append(Problem(N_("That participant does not belong to this event.")))
                continue
            name = _name(person)
            if person.status != ParticipantStatus.APPROVED:
                problems.append(
                    Problem(N_("%(name)s is not an approved participant."), {"name": name})
                )
            if status_rules_out(person, slot, days) == DayStatus.NO_SHOW:
                problems.append(Problem(N_("%(name)s is marked as a no-show."), {"name": name}))
            elif not person.is_available(slot):
                problems.append(_unavailable(session, event, person, slot))
            if person_load[(pid, slot.id)] >= person.parallel_desks:
                problems.append(
                    Problem(
                        N_("%(name)s already has a meeting at %(when)s."),
                        {"name": name, "when": when},
                    )
                )
            person_load[(pid, slot.id)] += 1
        if table is not None:
            host = (
                session.get(Participant, table.host_participant_id)
                if table.host_participant_id not in (None, change.a_id, change.b_id)
                else None
            )
            # A table whose host no longer takes part (withdrew, was declined) is free for
            # anyone, as it is for the solver (scheduler.problem_builder): staff may seat
            # a pair there, and a plan may too.
            if host is not None and host.status == ParticipantStatus.APPROVED:
                problems.append(
                    Problem(
                        N_("Table %(table)s is the own table of %(host)s."),
                        {"table": table.label, "host": _name(host)},
                    )
                )
            holder = table_holder.get((table.id, slot.id))
            if holder is not None:
                problems.append(
                    Problem(
                        N_("Table %(table)s is taken at %(when)s (%(pair)s)."),
                        {"table": table.label, "when": when, "pair": holder},
                    )
                )
            table_holder[(table.id, slot.id)] = "…"
    if new_pair:
        problems.extend(_pair_problems(session, event, active))
    return problems


def _unavailable(session: Session, event: Event, person: Participant, slot: Slot) -> Problem:
    """Why ``person`` cannot meet in ``slot``: arriving later, leaving earlier (that
    day), or a slot it cannot attend."""
    params: dict[str, object] = {"name": _name(person), "when": _when(event, slot)}
    since, until = window_on(session, person, event.local(slot.starts_at).date())
    if since is not None and slot.starts_at < since:
        params["since"] = _when_moment(event, since)
        if status_rules_out(person, slot) == DayStatus.LATE:
            return Problem(
                N_(
                    "%(name)s was marked late, arriving at %(since)s, so it cannot meet at "
                    "%(when)s. If it has arrived, check it in first."
                ),
                params,
            )
        return Problem(N_("%(name)s is only available from %(since)s, not at %(when)s."), params)
    if until is not None and slot.ends_at > until:
        return Problem(
            N_("%(name)s leaves at %(until)s, so it cannot meet at %(when)s."),
            {**params, "until": _when_moment(event, until)},
        )
    return Problem(N_("%(name)s is not available at %(when)s."), params)


def _already_scheduled(
    session: Session, event: Event, changes: Sequence[_Change]
) -> Problem | None:
    """A new meeting that is already in the schedule: the pair meets in that very slot."""
    for change in changes:
        a, b = change.a_id, change.b_id
        existing = session.scalar(
            select(Meeting).where(
                Meeting.event_id == event.id,
                Meeting.status != MeetingStatus.CANCELLED,
                Meeting.slot_id == change.slot_id,
                or_(
                    (Meeting.participant_a_id == a) & (Meeting.participant_b_id == b),
                    (Meeting.participant_a_id == b) & (Meeting.participant_b_id == a),
                ),
            )
        )
        if existing is not None and a != b:
            return Problem(
                N_(
                    "This meeting is already in the schedule: %(pair)s at %(when)s, "
                    "table %(table)s."
                ),
                {
                    "pair": _pair(existing),
                    "when": _when(event, existing.slot),
                    "table": existing.table.label if existing.table is not None else "—",
                },
            )
    return None


def _pair_problems(session: Session, event: Event, changes: Sequence[_Change]) -> list[Problem]:
    """A new meeting must not repeat an active one, nor bring together a declined pair."""
    problems: list[Problem] = []
    for change in changes:
        a, b = change.a_id, change.b_id
        if a == b:
            problems.append(Problem(N_("A meeting needs two different participants.")))
            continue
        existing = session.scalar(
            select(Meeting).where(
                Meeting.event_id == event.id,
                Meeting.status != MeetingStatus.CANCELLED,
                or_(
                    (Meeting.participant_a_id == a) & (Meeting.participant_b_id == b),
                    (Meeting.participant_a_id == b) & (Meeting.participant_b_id == a),
                ),
            )
        )
        if existing is not None:
            problems.append(
                Problem(
                    N_("%(pair)s already meet at %(when)s."),
                    {"pair": _pair(existing), "when": _when(event, existing.slot)},
                )
            )
        declined_query = select(Interest).where(
            Interest.declined.is_(True),
            or_(
                (Interest.from_participant_id == a) & (Interest.to_participant_id == b),
                (Interest.from_participant_id == b) & (Interest.to_participant_id == a),
            ),
        )
        if not event.screening_enabled:  # screening answers count only while it is on
            from scheduler.preferences import SCREENING_SOURCE  # (imports this module)

            declined_query = declined_query.where(Interest.source != SCREENING_SOURCE)
        declined = session.scalars(declined_query.order_by(Interest.id)).first()
        if declined is not None:
            problems.append(
                Problem(
                    N_("%(name)s declined a meeting with %(other)s."),
                    {
                        "name": _name(declined.from_participant),
                        "other": _name(declined.to_participant),
                    },
                )
            )
    return problems


def _unchangeable(event: Event, meeting: Meeting, now: datetime, *, moving: bool) -> Problem | None:
    """Why ``meeting`` can no longer be changed: it is not planned, it is over, or (to
    move it) it has already started. None when it can be."""
    if meeting.status != MeetingStatus.PLANNED:
        return Problem(
            N_("Only planned meetings can be changed; this one is %(status)s."),
            {"status": meeting.status},
        )
    if meeting.slot.ends_at <= now or (moving and meeting.slot.starts_at <= now):
        return Problem(
            N_("The meeting %(pair)s at %(when)s has already started."),
            {"pair": _pair(meeting), "when": _when(event, meeting.slot)},
        )
    return None


def _check_changeable(event: Event, meeting: Meeting, now: datetime, *, moving: bool) -> None:
    """A meeting that is over (or, to move it, already started) can no longer be changed."""
    problem = _unchangeable(event, meeting, now, moving=moving)
    if problem is not None:
        raise ValidationFailed(problem.msgid, params=problem.params)


# --------------------------------------------------------------------------- change sets


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _meeting_state(meeting: Meeting) -> dict[str, Any]:
    return {
        "slot_id": meeting.slot_id,
        "table_id": meeting.table_id,
        "status": meeting.status,
        # Where it had moved from: an undone move puts that back too (not the undone
        # place, which it never left for good).
        "moved_from_slot_id": meeting.moved_from_slot_id,
        "moved_from_table_id": meeting.moved_from_table_id,
    }


def _participant_state(participant: Participant) -> dict[str, Any]:
    return {
        "day_status": participant.day_status,
        "day_status_at": _iso(participant.day_status_at),
        "available_from": _iso(participant.available_from),
        "available_until": _iso(participant.available_until),
        # A late arrival or early leave on a day with fair days before or after it closes
        # that day's slots (:func:`set_day_status`).
        "unavailable_slot_ids": sorted(s.id for s in participant.unavailable_slots),
    }


def _state_is(participant: Participant, state: dict[str, Any]) -> bool:
    """Whether the participant is in the recorded ``state`` (a state recorded before
    the unavailable slots were part of it is compared without them)."""
    current = _participant_state(participant)
    return all(current.get(key) == value for key, value in state.items())


class _ChangeSet:
    """Records each row's state before and after a change: the log line and the undo."""

    def __init__(self, event: Event, now: datetime | None = None) -> None:
        self.event = event
        self.now = utcnow() if now is None else now
        self.meetings: dict[int, dict[str, Any]] = {}
        self.new_meetings: list[Meeting] = []
        self.participants: dict[int, dict[str, Any]] = {}
        # Each participant's status for the day before the change, as the pages showed it.
        self._status_before: dict[int, DayStatus] = {}
        self.attendances: dict[int, str | None] = {}
        self._meeting_objects: dict[int, Meeting] = {}
        self._before_place: dict[int, str] = {}

    def meeting(self, meeting: Meeting) -> None:
        if meeting.id not in self.meetings:
            self.meetings[meeting.id] = _meeting_state(meeting)
            self._meeting_objects[meeting.id] = meeting
            self._before_place[meeting.id] = _place(
                self.event, meeting.slot, meeting.table, meeting.status
            )

    def participant(self, participant: Participant) -> None:
        if participant.id not in self.participants:
            self.participants[participant.id] = _participant_state(participant)
            self._status_before[participant.id] = status_today(participant, self.now)

    def attendance(self, attendance: Attendance) -> None:
        self.attendances.setdefault(attendance.id, _iso(attendance.checked_in_at))

    def details(self, session: Session) -> dict[str, Any]:
        lines = []
        undo_meetings = []
        for meeting_id, before in self.meetings.items():
            meeting = self._meeting_objects[meeting_id]
            session.refresh(meeting)  # slot/table relationships follow the new ids
            undo_meetings.append(
                {
                    "id": meeting_id,
                    "before": before,
                    "after": _meeting_state(meeting),
                    "version": meeting.version,
                }
            )
            lines.append(
                {
                    "pair": _pair(meeting),
                    "before": self._before_place[meeting_id],
                    "after": _place(self.event, meeting.slot, meeting.table, meeting.status),
                }
            )
        for meeting in self.new_meetings:
            undo_meetings.append(
                {
                    "id": meeting.id,
                    "before": None,
                    "after": _meeting_state(meeting),
                    "version": meeting.version,
                }
            )
            lines.append(
                {
                    "pair": _pair(meeting),
                    "before": "",
                    "after": _place(self.event, meeting.slot, meeting.table, meeting.status),
                }
            )
        undo_participants = []
        status_changed: set[int] = set()
        status_lines: list[dict[str, Any]] = []
        for participant_id, before in self.participants.items():
            participant = session.get(Participant, participant_id)
            assert participant is not None
            # Today's status before and after: yesterday's "checked in" kept in the row is
            # "expected" today, and checking the company in today changes it.
            status_before = self._status_before[participant_id]
            status_after = status_today(participant, self.now)
            if status_before != status_after:
                status_changed.add(participant_id)
                status_lines.append(
                    {
                        "pair": _name(participant),
                        "before": status_before.value,
                        "after": status_after.value,
                    }
                )
            undo_participants.append(
                {"id": participant_id, "before": before, "after": _participant_state(participant)}
            )
        undo_attendances = []
        for attendance_id, before_at in self.attendances.items():
            attendance = session.get(Attendance, attendance_id)
            assert attendance is not None
            before = _from_iso(before_at)
            cutoff = status_cutoff(self.event, self.now)
            if (
                (before is None or (cutoff is not None and before < cutoff))
                and attendance.checked_in_at is not None
                and attendance.checked_in_at != before
                and attendance.participant_id not in status_changed
            ):
                # Who arrived: a later check-in of a second person changes no status,
                # and the log would otherwise name nobody.
                lines.append(
                    {
                        "pair": f"{_name(attendance.participant)} · {attendance.person.name}",
                        "before": "",
                        "after": "",
                    }
                )
            undo_attendances.append(
                {"id": attendance_id, "before": before_at, "after": _iso(attendance.checked_in_at)}
            )
        return {
            # The company whose status changed first: it is what the change is about (a
            # no-show), the meetings it cancelled follow.
            "lines": status_lines + lines,
            "undo": {
                "meetings": undo_meetings,
                "participants": undo_participants,
                "attendances": undo_attendances,
            },
        }


def _bump(meeting: Meeting, now: datetime) -> None:
    meeting.version = (meeting.version or 0) + 1
    meeting.updated_at = now


def _apply_change(meeting: Meeting, change: _Change, now: datetime) -> None:
    meeting.move_to(change.slot_id, change.table_id, since=(meeting.slot_id, meeting.table_id))
    meeting.status = change.status
    _bump(meeting, now)


def _record(
    session: Session,
    event: Event,
    action: str,
    changes: _ChangeSet,
    *,
    user_id: int | None,
    reason: str,
    participant_id: int | None = None,
    target: Any = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry:
    details = changes.details(session)
    details.update(extra or {})
    affected: set[int] = set(changes.participants)
    for item in details["undo"]["meetings"]:
        meeting = session.get(Meeting, item["id"])
        if meeting is not None:
            affected.update((meeting.participant_a_id, meeting.participant_b_id))
    details["affected"] = sorted(affected)
    return audit.record(
        session,
        action,
        event_id=event.id,
        user_id=user_id,
        participant_id=participant_id,
        target=target,
        details=details,
        reason=reason.strip(),
    )


def _affected(session: Session, entry: AuditEntry) -> list[Participant]:
    ids = entry.details.get("affected", [])
    if not ids:
        return []
    return list(
        session.scalars(
            select(Participant)
            .where(Participant.id.in_(ids))
            .options(selectinload(Participant.organization))
            .order_by(Participant.code, Participant.id)
        )
    )


# --------------------------------------------------------------------------- the same form twice


def _just_now(moment: datetime | None, now: datetime) -> bool:
    """Whether ``moment`` is within :data:`REPEAT_WINDOW` before ``now``."""
    return moment is not None and now - REPEAT_WINDOW <= moment <= now


def _users_entries(
    session: Session,
    event: Event,
    user_id: int | None,
    actions: Collection[str],
    *,
    participant_id: int | None = None,
    target_id: int | None = None,
) -> list[AuditEntry]:
    """The user's latest changes of ``actions`` (not undone), newest first."""
    if user_id is None:
        return []
    query = select(AuditEntry).where(
        AuditEntry.event_id == event.id,
        AuditEntry.user_id == user_id,
        AuditEntry.action.in_(list(actions)),
    )
    if participant_id is not None:
        query = query.where(AuditEntry.participant_id == participant_id)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    entries = session.scalars(query.order_by(AuditEntry.id.desc()).limit(10))
    return [e for e in entries if not e.details.get("undone_at")]


def _repeated_change(
    session: Session,
    event: Event,
    action: str,
    expected: dict[int, int],
    *,
    user_id: int | None,
    now: datetime,
    wanted: Callable[[dict[str, Any]], bool] | None = None,
) -> ChangeResult | None:
    """The user's own change that a stale version stands for, when the form was sent twice.

    A double tap on Confirm sends the versions the page showed twice; the first request
    changes the meetings, so the second finds newer versions and would say someone else
    changed them. It is the same action when the user's latest ``action`` of exactly these
    meetings was made from those versions (each one up by one since), a moment ago,
    nothing changed them since, and (``wanted``, given each meeting's undo item) it put
    them where this request asks.
    """
    meetings = {mid: session.get(Meeting, mid) for mid in expected}
    if any(m is None or not _just_now(m.updated_at, now) for m in meetings.values()):
        return None
    for entry in _users_entries(session, event, user_id, [action]):
        items = {item["id"]: item for item in entry.details.get("undo", {}).get("meetings", [])}
        if set(items) != set(expected):
            continue
        same = all(
            item["version"] == meetings[mid].version  # type: ignore[union-attr]
            and item["version"] == expected[mid] + 1
            and (wanted is None or wanted(item))
            for mid, item in items.items()
        )
        if same:
            found = [m for m in meetings.values() if m is not None]
            return ChangeResult(entry, found, _affected(session, entry), repeated=True)
        return None  # the user's latest such change is another one
    return None


# --------------------------------------------------------------------------- meeting changes


def _move_changes(meeting: Meeting, slot_id: int | None, table_id: int | None) -> list[_Change]:
    return [
        _Change(
            meeting,
            meeting.participant_a_id,
            meeting.participant_b_id,
            slot_id if slot_id is not None else meeting.slot_id,
            table_id if table_id is not None else meeting.table_id,
        )
    ]


def _swap_changes(first: Meeting, second: Meeting) -> list[_Change]:
    return [
        _Change(
            first, first.participant_a_id, first.participant_b_id, second.slot_id, second.table_id
        ),
        _Change(
            second, second.participant_a_id, second.participant_b_id, first.slot_id, first.table_id
        ),
    ]


def _preview(
    session: Session,
    event: Event,
    changes: list[_Change],
    *,
    new_pair: bool = False,
    moving: bool | None = None,
) -> Preview:
    """``changes`` checked as the write will check them; ``moving`` (True for a move or
    a swap, False for a cancellation) first asks whether the meetings may still change."""
    now = utcnow()
    problems: list[Problem] = []
    if moving is not None:
        for change in changes:
            assert change.meeting is not None
            problem = _unchangeable(event, change.meeting, now, moving=moving)
            if problem is not None:
                problems.append(problem)
    problems += _problems(session, event, changes, now=now, new_pair=new_pair)
    slots = _slot_map(session, (c.slot_id for c in changes))
    lines: list[tuple[Meeting | None, PlacementView | None, PlacementView]] = []
    ids: set[int] = set()
    for change in changes:
        after = PlacementView(
            slots.get(change.slot_id),
            session.get(Table, change.table_id) if change.table_id else None,
            change.status,
        )
        before = (
            PlacementView(change.meeting.slot, change.meeting.table, change.meeting.status)
            if change.meeting is not None
            else None
        )
        lines.append((change.meeting, before, after))
        ids.update((change.a_id, change.b_id))
    affected = list(
        session.scalars(
            select(Participant)
            .where(Participant.id.in_(ids))
            .options(selectinload(Participant.organization))
            .order_by(Participant.code, Participant.id)
        )
    )
    return Preview(problems=problems, affected=affected, lines=lines)


def preview_cancel(session: Session, meeting: Meeting) -> Preview:
    """What cancelling ``meeting`` would do (nothing written)."""
    change = _Change(
        meeting,
        meeting.participant_a_id,
        meeting.participant_b_id,
        meeting.slot_id,
        meeting.table_id,
        MeetingStatus.CANCELLED,
    )
    return _preview(session, meeting.participant_a.event, [change], moving=False)


def preview_move(
    session: Session, meeting: Meeting, *, slot_id: int | None, table_id: int | None
) -> Preview:
    """Whether ``meeting`` could move to the slot and/or table, and who it affects.

    A move to where the meeting already is is refused here, on the first step, rather
    than after it was confirmed (the write refuses it too)."""
    changes = _move_changes(meeting, slot_id, table_id)
    preview = _preview(session, meeting.participant_a.event, changes, moving=True)
    if changes[0].slot_id == meeting.slot_id and changes[0].table_id == meeting.table_id:
        preview.problems.insert(0, Problem(N_("The meeting is already there.")))
    return preview


def preview_swap(session: Session, first: Meeting, second: Meeting | None) -> Preview:
    """Whether two meetings could exchange their slots and tables (``second`` None: none
    was chosen, which is refused)."""
    if second is None or first.id == second.id:
        raise ValidationFailed(N_("Choose another meeting to swap with."))
    return _preview(session, first.participant_a.event, _swap_changes(first, second), moving=True)


def preview_add(
    session: Session, event: Event, *, a_id: int, b_id: int, slot_id: int, table_id: int | None
) -> Preview:
    """Whether a new meeting of ``a`` and ``b`` fits at the slot and table."""
    return _preview(session, event, [_Change(None, a_id, b_id, slot_id, table_id)], new_pair=True)


def _locked_meetings(
    session: Session,
    event: Event,
    expected: dict[int, int],
    *,
    new_tables: Iterable[int | None] = (),
    extra_participants: Iterable[int] = (),
) -> dict[int, Meeting]:
    """Lock the meetings (and their people and tables) and check the versions seen."""
    current = {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(expected)))}
    if len(current) != len(expected) or any(m.event_id != event.id for m in current.values()):
        raise NotFound(N_("This meeting does not exist."))
    people = {pid for m in current.values() for pid in (m.participant_a_id, m.participant_b_id)}
    tables = {m.table_id for m in current.values()} | set(new_tables)
    locked = lock_for_change(
        session,
        event.id,
        participant_ids=people | set(extra_participants),
        table_ids=tables,
        meeting_ids=expected,
    )
    for meeting_id, version in expected.items():
        meeting = locked[meeting_id]
        if meeting.version != version:
            session.refresh(meeting)
            raise _stale(event, meeting)
    return locked


def cancel_meeting(
    session: Session,
    event: Event,
    meeting_id: int,
    *,
    expected_version: int,
    user_id: int | None,
    reason: str = "",
) -> ChangeResult:
    """Cancel a planned meeting; both sides get a gap (and a calendar update).

    The same cancellation sent twice is returned as done (:func:`_repeated_change`)."""
    now = utcnow()
    expected = {meeting_id: expected_version}
    try:
        meeting = _locked_meetings(session, event, expected)[meeting_id]
    except StaleState:
        repeated = _repeated_change(
            session,
            event,
            "day.meeting_cancel",
            expected,
            user_id=user_id,
            now=now,
            wanted=lambda item: item["after"]["status"] == MeetingStatus.CANCELLED,
        )
        if repeated is None:
            raise
        return repeated
    _check_changeable(event, meeting, now, moving=False)
    changes = _ChangeSet(event)
    changes.meeting(meeting)
    meeting.status = MeetingStatus.CANCELLED
    _bump(meeting, now)
    _flush(session)
    entry = _record(
        session,
        event,
        "day.meeting_cancel",
        changes,
        user_id=user_id,
        reason=reason,
        target=meeting,
    )
    gaps = [Gap(p, meeting.slot) for p in (meeting.participant_a, meeting.participant_b)]
    return ChangeResult(entry, [meeting], _affected(session, entry), gaps)


def move_meeting(
    session: Session,
    event: Event,
    meeting_id: int,
    *,
    expected_version: int,
    slot_id: int | None = None,
    table_id: int | None = None,
    user_id: int | None,
    reason: str = "",
) -> ChangeResult:
    """Move a planned meeting to another slot and/or table, checked against the live state.

    The same move sent twice is returned as done (:func:`_repeated_change`)."""
    if slot_id is None and table_id is None:
        raise ValidationFailed(N_("Choose a new slot or a new table."))
    now = utcnow()
    expected = {meeting_id: expected_version}
    try:
        meeting = _locked_meetings(session, event, expected, new_tables=[table_id])[meeting_id]
    except StaleState:

        def asked(item: dict[str, Any]) -> bool:
            before, after = item["before"], item["after"]
            to_slot = slot_id if slot_id is not None else before["slot_id"]
            to_table = table_id if table_id is not None else before["table_id"]
            return bool(after["slot_id"] == to_slot and after["table_id"] == to_table)

        repeated = _repeated_change(
            session, event, "day.meeting_move", expected, user_id=user_id, now=now, wanted=asked
        )
        if repeated is None:
            raise
        return repeated
    _check_changeable(event, meeting, now, moving=True)
    planned = _move_changes(meeting, slot_id, table_id)
    if planned[0].slot_id == meeting.slot_id and planned[0].table_id == meeting.table_id:
        raise ValidationFailed(N_("The meeting is already there."))
    return _write(session, event, "day.meeting_move", planned, now, user_id, reason, meeting)


def swap_meetings(
    session: Session,
    event: Event,
    first_id: int,
    second_id: int,
    *,
    expected_versions: tuple[int, int],
    user_id: int | None,
    reason: str = "",
) -> ChangeResult:
    """Exchange the slots and tables of two planned meetings.

    The same swap sent twice is returned as done (:func:`_repeated_change`)."""
    if first_id == second_id:
        raise ValidationFailed(N_("Choose another meeting to swap with."))
    now = utcnow()
    expected = {first_id: expected_versions[0], second_id: expected_versions[1]}
    try:
        locked = _locked_meetings(session, event, expected)
    except StaleState:
        repeated = _repeated_change(
            session, event, "day.meeting_swap", expected, user_id=user_id, now=now
        )
        if repeated is None:
            raise
        return repeated
    first, second = locked[first_id], locked[second_id]
    for meeting in (first, second):
        _check_changeable(event, meeting, now, moving=True)
    planned = _swap_changes(first, second)
    return _write(session, event, "day.meeting_swap", planned, now, user_id, reason, first)


def add_meeting(
    session: Session,
    event: Event,
    *,
    a_id: int,
    b_id: int,
    slot_id: int,
    table_id: int | None,
    user_id: int | None,
    reason: str = "",
    source: str = "staff",
) -> ChangeResult:
    """Add a meeting between two participants (not declined, not already meeting).

    The same meeting added by the same user a moment ago, unchanged since, is this
    request sent twice: it is returned as done (``repeated``) instead of being refused
    because the pair already meets."""
    now = utcnow()
    lock_for_change(session, event.id, participant_ids=[a_id, b_id], table_ids=[table_id])
    repeated = _repeated_add(
        session, event, (a_id, b_id, slot_id, table_id), user_id=user_id, now=now
    )
    if repeated is not None:
        return repeated
    planned = [_Change(None, a_id, b_id, slot_id, table_id)]
    problems = _problems(session, event, planned, now=now, new_pair=True)
    if problems:
        raise ChangeRefused(problems)
    meeting = Meeting(
        event_id=event.id,
        participant_a_id=a_id,
        participant_b_id=b_id,
        slot_id=slot_id,
        table_id=table_id,
        status=MeetingStatus.PLANNED,
        version=0,
        source=source,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    _flush(session)
    session.refresh(meeting)
    changes = _ChangeSet(event)
    changes.new_meetings.append(meeting)
    entry = _record(
        session, event, "day.meeting_add", changes, user_id=user_id, reason=reason, target=meeting
    )
    return ChangeResult(entry, [meeting], _affected(session, entry))


def _repeated_add(
    session: Session,
    event: Event,
    asked: tuple[int, int, int, int | None],
    *,
    user_id: int | None,
    now: datetime,
) -> ChangeResult | None:
    """The meeting ``asked`` (a, b, slot, table) if the user added it a moment ago."""
    a_id, b_id, slot_id, table_id = asked
    existing = session.scalar(
        select(Meeting).where(
            Meeting.event_id == event.id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.slot_id == slot_id,
            Meeting.table_id == table_id,
            or_(
                (Meeting.participant_a_id == a_id) & (Meeting.participant_b_id == b_id),
                (Meeting.participant_a_id == b_id) & (Meeting.participant_b_id == a_id),
            ),
        )
    )
    if existing is None or existing.version != 0 or not _just_now(existing.created_at, now):
        return None
    entries = _users_entries(session, event, user_id, ["day.meeting_add"], target_id=existing.id)
    if not entries:
        return None
    return ChangeResult(entries[0], [existing], _affected(session, entries[0]), repeated=True)


def _write(
    session: Session,
    event: Event,
    action: str,
    planned: list[_Change],
    now: datetime,
    user_id: int | None,
    reason: str,
    target: Meeting,
) -> ChangeResult:
    """Validate the placements under the locks already held, then apply and audit them."""
    problems = _problems(session, event, planned, now=now)
    if problems:
        raise ChangeRefused(problems)
    changes = _ChangeSet(event)
    for change in planned:
        assert change.meeting is not None
        changes.meeting(change.meeting)
    # Two meetings may trade places at one table: vacate every old place first, so the
    # partial unique index never sees both meetings at one table in one slot.
    if len(planned) > 1:
        for change in planned:
            assert change.meeting is not None
            change.meeting.status = MeetingStatus.CANCELLED
        _flush(session)
    for change in planned:
        assert change.meeting is not None
        _apply_change(change.meeting, change, now)
    _flush(session)
    entry = _record(session, event, action, changes, user_id=user_id, reason=reason, target=target)
    return ChangeResult(entry, [c.meeting for c in planned if c.meeting], _affected(session, entry))


# --------------------------------------------------------------------------- the fair's days
#
# The participant's row keeps one status for the day (``day_status``, set at
# ``day_status_at``). On a fair of several days it concerns the day it was set on: these
# say which day that is and what the status means on the day being worked on now.


def fair_days(event: Event) -> list[date]:
    """The days of the fair: the local dates (the event's zone) its slots start on."""
    return sorted({event.local(s.starts_at).date() for s in event.slots})


def fair_day_of(
    event: Event, moment: datetime | None, days: Sequence[date] | None = None
) -> date | None:
    """The fair day what is done at ``moment`` concerns: that day while its meetings run,
    or the next fair day (the evening after a fair day's last meeting, when a company
    phones to say it will not come tomorrow; a day without meetings before or between
    fair days). None after the last day's last meeting, and without ``moment``."""
    if moment is None:
        return None
    days = fair_days(event) if days is None else days
    local_day = event.local(moment).date()
    for day in days:
        if day > local_day or (day == local_day and moment < _day_end(event, day)):
            return day
    return None


def _day_end(event: Event, day: date) -> datetime:
    """When the last meeting of fair day ``day`` ends."""
    return max(s.ends_at for s in event.slots if event.local(s.starts_at).date() == day)


def status_cutoff(
    event: Event, now: datetime, days: Sequence[date] | None = None
) -> datetime | None:
    """Statuses for the day (and check-ins) made before this moment concern an earlier
    fair day than the one ``now`` concerns, so they are not today's: the end of the
    previous fair day's last meeting (what is marked after it concerns the next day).
    None when all of them still count: up to the end of the first fair day, after the
    last one, and always on a one-day fair."""
    days = fair_days(event) if days is None else days
    today = fair_day_of(event, now, days)
    earlier = [d for d in days if today is not None and d < today]
    if not earlier:
        return None
    return _day_end(event, earlier[-1])


def status_today(participant: Participant, now: datetime | None = None) -> DayStatus:
    """The participant's status for the fair day ``now`` (default: the clock) concerns:
    the status set for it, or "expected" when the one kept was set for an earlier day
    (what reception, the staff pages and the checks of the day read)."""
    cutoff = status_cutoff(participant.event, utcnow() if now is None else now)
    at = participant.day_status_at
    if cutoff is not None and at is not None and at < cutoff:
        return DayStatus.EXPECTED
    return DayStatus(participant.day_status)


def checked_in_today(attendance: Attendance, now: datetime | None = None) -> datetime | None:
    """When the person was checked in on the fair day ``now`` concerns (None: not yet; a
    check-in of an earlier fair day does not count, the person is checked in again)."""
    at = attendance.checked_in_at
    cutoff = status_cutoff(attendance.participant.event, utcnow() if now is None else now)
    return None if at is None or (cutoff is not None and at < cutoff) else at


def _closes_slots(status: DayStatus, day: date, days: Sequence[date]) -> bool:
    """Whether a late arrival (an early leave) on ``day`` closes that day's slots before
    (after) it, rather than setting the window's edge: when a fair day comes before
    (after) it, which the window's edge would close too."""
    if status == DayStatus.LATE:
        return any(d < day for d in days)
    return status == DayStatus.LEFT_EARLY and any(d > day for d in days)


def status_rules_out(
    participant: Participant, slot: Slot, days: Sequence[date] | None = None
) -> DayStatus | None:
    """The participant's status for the day that rules out a meeting in ``slot``, as
    :func:`set_day_status` cancels them (None when it does not): a no-show, every slot of
    the day it concerns (and of the days before, which are over); a late arrival, the
    slots of its day before it arrives; an early leave, those of its day after it leaves.
    A no-show without a time (set before days were told apart) rules out every slot."""
    status = participant.day_status
    if status not in (DayStatus.NO_SHOW, DayStatus.LATE, DayStatus.LEFT_EARLY):
        return None
    event = participant.event
    days = fair_days(event) if days is None else days
    marked = fair_day_of(event, participant.day_status_at, days)
    day = event.local(slot.starts_at).date()
    if status == DayStatus.NO_SHOW:
        return DayStatus.NO_SHOW if marked is None or day <= marked else None
    if marked is not None and day != marked:
        return None
    late = status == DayStatus.LATE
    edge = participant.available_from if late else participant.available_until
    if edge is not None and (slot.starts_at < edge if late else slot.ends_at > edge):
        return DayStatus(status)
    if not _closes_slots(DayStatus(status), day, days) or participant.is_available(slot):
        return None
    # The closed slots of the day: those before the arrival (after the leave) are all
    # unavailable, from the day's first (last) slot up to this one.
    day_slots = sorted(
        (s for s in event.slots if event.local(s.starts_at).date() == day),
        key=lambda s: s.starts_at,
        reverse=not late,
    )
    for other in day_slots:
        if other.id == slot.id:
            return DayStatus(status)
        if participant.is_available(other):
            return None
    return None


def absent_from_fair(session: Session, event: Event) -> set[int]:
    """The participants (ids) that did not come to the fair: marked as a no-show and, on a
    fair of several days, not there on another day either (checked in on any day, or a
    meeting on another day than the one marked that took place: not cancelled, and over).
    On a one-day fair: every one marked a no-show, as before."""
    days = fair_days(event)
    no_shows = list(
        session.scalars(
            select(Participant)
            .where(Participant.event_id == event.id, Participant.day_status == DayStatus.NO_SHOW)
            .options(selectinload(Participant.attendances))
        )
    )
    if len(days) <= 1 or not no_shows:
        return {p.id for p in no_shows}
    ids = [p.id for p in no_shows]
    now = utcnow()
    met_on: defaultdict[int, set[date]] = defaultdict(set)
    for a_id, b_id, starts_at, ends_at in session.execute(
        select(Meeting.participant_a_id, Meeting.participant_b_id, Slot.starts_at, Slot.ends_at)
        .join(Slot, Slot.id == Meeting.slot_id)
        .where(
            or_(Meeting.participant_a_id.in_(ids), Meeting.participant_b_id.in_(ids)),
            Meeting.status != MeetingStatus.CANCELLED,
        )
    ):
        if ends_at <= now:
            for pid in (a_id, b_id):
                met_on[pid].add(event.local(starts_at).date())
    absent: set[int] = set()
    for participant in no_shows:
        marked = fair_day_of(event, participant.day_status_at, days) or days[-1]
        came = any(a.checked_in_at is not None for a in participant.attendances) or any(
            day != marked for day in met_on[participant.id]
        )
        if not came:
            absent.add(participant.id)
    return absent


def _status_entries(session: Session, participant: Participant, status: str) -> list[AuditEntry]:
    """The participant's marks as ``status`` that stand (not undone), newest first."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.event_id == participant.event_id,
            AuditEntry.participant_id == participant.id,
            AuditEntry.action == f"{ACTION_PREFIX}{status}",
        )
        .order_by(AuditEntry.id.desc())
        .limit(20)
    )
    return [e for e in entries if not e.details.get("undone_at")]


def marked_time(session: Session, participant: Participant) -> datetime | None:
    """When the participant marked late arrives, or marked as leaving early leaves, as
    the mark said (None for any other status). A mark on a day with fair days before
    (after) it closes the day's slots and keeps its time in the log only."""
    status = participant.day_status
    if status not in (DayStatus.LATE, DayStatus.LEFT_EARLY):
        return None
    for entry in _status_entries(session, participant, status)[:1]:
        if entry.details.get("at"):
            return _from_iso(entry.details["at"])
    return participant.available_from if status == DayStatus.LATE else participant.available_until


def window_on(
    session: Session, participant: Participant, day: date | None
) -> tuple[datetime | None, datetime | None]:
    """From when and until when the participant can meet on the fair day ``day`` (None:
    the day's own start or end): its window where it falls on that day, and that day's
    late arrival or early leave."""
    event = participant.event
    since, until = participant.available_from, participant.available_until
    if since is not None and event.local(since).date() != day:
        since = None
    if until is not None and event.local(until).date() != day:
        until = None
    status = participant.day_status
    if status in (DayStatus.LATE, DayStatus.LEFT_EARLY) and fair_day_of(
        event, participant.day_status_at
    ) in (day, None):
        moment = marked_time(session, participant)
        if status == DayStatus.LATE:
            since = moment
        else:
            until = moment
    return since, until


def _same_fair_day(event: Event, first: str | None, second: str | None) -> bool:
    """Whether two statuses (their ISO times) concern the same fair day (a time unknown,
    or after the fair, is taken for the same day, as before days were told apart)."""
    days = fair_days(event)
    one, other = (fair_day_of(event, _from_iso(m), days) for m in (first, second))
    return one is None or other is None or one == other


def _before_marks(session: Session, participant: Participant, status: str) -> dict[str, Any] | None:
    """The participant's state before its latest, uninterrupted run of marks as ``status``
    for one fair day (the first of them, and the corrections of its time that followed),
    from the log; None when the log has none."""
    for entry in _status_entries(session, participant, status):
        for item in entry.details.get("undo", {}).get("participants", []):
            if item["id"] != participant.id:
                continue
            before, after = item["before"], item["after"]
            if before["day_status"] != status or not _same_fair_day(
                participant.event, before["day_status_at"], after["day_status_at"]
            ):
                return before
    return None


def _closed_by_marks(session: Session, participant: Participant, status: str) -> list[Slot]:
    """The slots the participant's latest run of marks as ``status`` closed
    (:func:`_closes_slots`), which it could make before."""
    before = _before_marks(session, participant, status)
    if before is None or "unavailable_slot_ids" not in before:
        return []
    had = set(before["unavailable_slot_ids"])
    return [s for s in participant.unavailable_slots if s.id not in had]


def _set_unavailable(participant: Participant, slots: Iterable[Slot]) -> None:
    participant.unavailable_slots = sorted(
        {s.id: s for s in slots}.values(), key=lambda s: (s.starts_at, s.id)
    )


# --------------------------------------------------------------------------- people on the day


def check_in(
    session: Session,
    participant: Participant,
    *,
    person_ids: Collection[int] | None = None,
    user_id: int | None,
) -> ChangeResult:
    """Record the arrival of the participant's people (all of them when none are named).

    Checking in a company marked as having left early means it came back: its leaving
    time goes (the window it had before is restored, or the slots of the day its leaving
    closed are opened again), so it can be given meetings again. Like the early arrival
    of a late company, the log keeps the time it replaces and Undo puts it back; the
    meetings cancelled when it left are not restored. Before the time it was marked as
    leaving (a leave announced in the morning), checking it in is its arrival: the
    leaving time stays.

    On a fair of several days each day starts afresh (:func:`status_today`): a company
    checked in yesterday, and its people, are checked in again today.

    The same check-in made by the same user a moment ago (a double tap) is returned as
    done (``repeated``) rather than refused as "already checked in".
    """
    now = utcnow()
    lock_for_change(session, participant.event_id, participant_ids=[participant.id])
    event = participant.event
    today = status_today(participant, now)
    changes = _ChangeSet(event, now)
    attendances = [
        a for a in participant.attendances if person_ids is None or a.person_id in person_ids
    ]
    if person_ids is not None and len(attendances) != len(set(person_ids)):
        raise NotFound(N_("This person is not registered with this participant."))
    for attendance in attendances:
        if checked_in_today(attendance, now) is None:
            changes.attendance(attendance)
            attendance.checked_in_at = now
    extra: dict[str, Any] = {}
    arrives = marked_time(session, participant) if today == DayStatus.LATE else None
    if arrives is not None and arrives > now:
        # Marked late, and here before the time announced: it can meet from now on (the
        # log keeps the time it replaces, and Undo puts it back).
        changes.participant(participant)
        extra["opened_from"] = {
            "before": _when_moment(event, arrives),
            "after": _when_moment(event, now),
        }
        if participant.available_from is not None and participant.available_from > now:
            participant.available_from = now
        opened = {
            s.id
            for s in _closed_by_marks(session, participant, DayStatus.LATE)
            if s.starts_at >= now
        }
        if opened:
            _set_unavailable(
                participant, (s for s in participant.unavailable_slots if s.id not in opened)
            )
    leaves = marked_time(session, participant) if today == DayStatus.LEFT_EARLY else None
    if today == DayStatus.LEFT_EARLY and (leaves is None or leaves <= now):
        # It came back: the leaving time goes, and the window it had before is restored
        # (or the slots its leaving closed open again). A company checked in before the
        # time it said it leaves (marked at 9:00 as leaving at 14:00) has not left: it
        # arrives, and keeps its leaving time.
        before = _before_marks(session, participant, DayStatus.LEFT_EARLY)
        until = _from_iso(before["available_until"]) if before is not None else None
        moved = participant.available_until is not None and participant.available_until != until
        closed = {s.id for s in _closed_by_marks(session, participant, DayStatus.LEFT_EARLY)}
        if moved or closed:
            changes.participant(participant)
            extra["reopened_until"] = {
                "before": _when_moment(event, leaves) if leaves is not None else "",
                "after": _when_moment(event, until) if moved and until is not None else "",
            }
            if moved:
                participant.available_until = until
            if closed:
                _set_unavailable(
                    participant, (s for s in participant.unavailable_slots if s.id not in closed)
                )
    if today != DayStatus.CHECKED_IN:
        changes.participant(participant)
        participant.day_status = DayStatus.CHECKED_IN
        participant.day_status_at = now
    if not changes.attendances and not changes.participants:
        repeated = _repeated_check_in(session, participant, attendances, user_id=user_id, now=now)
        if repeated is not None:
            return repeated
        raise ValidationFailed(
            N_("%(name)s is already checked in."), params={"name": _name(participant)}
        )
    _flush(session)
    entry = _record(
        session,
        event,
        "day.check_in",
        changes,
        user_id=user_id,
        reason="",
        participant_id=participant.id,
        target=participant,
        extra=extra,
    )
    return ChangeResult(entry, [], [participant])


def _repeated_check_in(
    session: Session,
    participant: Participant,
    attendances: Sequence[Attendance],
    *,
    user_id: int | None,
    now: datetime,
) -> ChangeResult | None:
    """The user's check-in of this participant a moment ago, when it is asked for again
    (everyone asked for is checked in, and nobody changed anything since)."""
    if not attendances or any(checked_in_today(a, now) is None for a in attendances):
        return None
    entries = _users_entries(
        session, participant.event, user_id, ["day.check_in"], participant_id=participant.id
    )
    if not entries:
        return None
    undo = entries[0].details.get("undo", {})
    made = [_from_iso(item["after"]) for item in undo.get("attendances", [])]
    made += [_from_iso(item["after"]["day_status_at"]) for item in undo.get("participants", [])]
    if not any(_just_now(moment, now) for moment in made):
        return None
    if any(not _state_is(participant, item["after"]) for item in undo.get("participants", [])):
        return None
    return ChangeResult(entries[0], [], [participant], repeated=True)


def _when_moment(event: Event, moment: datetime) -> str:
    return event.local(moment).strftime("%H:%M")


def day_status_seen(participant: Participant) -> str:
    """The participant's day status as a page shows it (sent back with a change)."""
    at = participant.day_status_at
    return f"{participant.day_status}|{at.isoformat() if at is not None else ''}"


def set_day_status(
    session: Session,
    participant: Participant,
    status: str,
    *,
    at: datetime | None = None,
    user_id: int | None,
    reason: str = "",
    seen: str | None = None,
) -> ChangeResult:
    """Mark the participant late (from ``at``), leaving early (at ``at``) or a no-show.

    ``seen`` is :func:`day_status_seen` as the staff member's page showed it: when
    someone else set the status since, the change is refused (Conflict) instead of
    silently replacing theirs (a no-show turned into "late" with every meeting gone).
    When it was this user, a moment ago, with the same status and time, it is the form
    sent twice: returned as done (``repeated``), not refused.

    Planned meetings the participant can no longer attend are cancelled (version
    bumped, so calendars show it), and the counterparts left with a gap are returned.
    A no-show loses every meeting not yet over. An early leaver loses the meetings that
    start at or after ``at``: one under way when it leaves took place, at least partly,
    and its counterpart could not be given anyone else for a slot that has begun. A late
    arrival loses the meetings that start before ``at``, except one already under way
    that still runs when it arrives (it joins it late, and nobody else can take a slot
    that has begun): a meeting that has not started yet is given up, so the counterpart
    can meet someone else for the whole slot.

    Each mark concerns one fair day (:func:`fair_day_of`: the day of ``at``, or for a
    no-show the day it is set on), and cancels only meetings of that day: a company that
    leaves early or does not come on the first day of two keeps its meetings of the
    second. A late arrival on the first day moves the start of its window
    (``available_from``), an early leave on the last day its end (``available_until``),
    as on a one-day fair; on any other day the window's edge would close the other days
    too, so the mark closes that day's slots before the arrival (after the leave)
    instead, and the log keeps its time. A corrected time replaces the one before.
    """
    try:
        status = DayStatus(status)
    except ValueError:
        raise ValidationFailed(N_("Unknown day status."), field="status") from None
    if status in (DayStatus.LATE, DayStatus.LEFT_EARLY) and at is None:
        raise ValidationFailed(N_("Give the time."), field="at")
    now = utcnow()
    event = participant.event
    days = fair_days(event)
    if at is not None and status in (DayStatus.LATE, DayStatus.LEFT_EARLY):
        _check_status_time(session, event, participant, status, at)
        day: date | None = event.local(at).date()
    else:
        day = fair_day_of(event, now, days)
    candidates = [m for m in meetings_of(session, participant) if m.status == MeetingStatus.PLANNED]
    counterpart_ids = {m.participant_a_id for m in candidates} | {
        m.participant_b_id for m in candidates
    }
    locked = lock_for_change(
        session,
        event.id,
        participant_ids=counterpart_ids | {participant.id},
        meeting_ids=[m.id for m in candidates],
    )
    if seen is not None and seen != day_status_seen(participant):
        repeated = _repeated_status(session, participant, status, at, user_id=user_id, now=now)
        if repeated is not None:
            return repeated
        raise Conflict(
            N_(
                "Someone else changed %(name)s's status for the day a moment ago. "
                "Check it below and try again."
            ),
            params={"name": participant.display_name},
        )
    # Under the lock: the participant's meetings cannot change any more, re-read them.
    fresh = [m for m in meetings_of(session, participant) if m.status == MeetingStatus.PLANNED]
    lost_meeting_ids = {m.id for m in fresh} - set(locked)
    if lost_meeting_ids:  # a meeting added between the read and the lock
        raise _busy()

    def lost(meeting: Meeting) -> bool:
        if meeting.slot.ends_at <= now:
            return False
        if day is not None and event.local(meeting.slot.starts_at).date() != day:
            return False  # a mark concerns its own day only
        if status == DayStatus.NO_SHOW:
            return True
        if status == DayStatus.LATE:
            assert at is not None
            under_way = meeting.slot.starts_at <= now and meeting.slot.ends_at > at
            return meeting.slot.starts_at < at and not under_way
        if status == DayStatus.LEFT_EARLY:
            assert at is not None
            return meeting.slot.starts_at >= at
        return False

    changes = _ChangeSet(event, now)
    changes.participant(participant)
    if day is not None and _closes_slots(status, day, days):
        assert at is not None
        # A corrected time of the same day replaces the earlier one: what the marks of
        # this run closed opens first.
        replaced = (
            {s.id for s in _closed_by_marks(session, participant, status)}
            if status_today(participant, now) == status
            and fair_day_of(event, participant.day_status_at, days) == day
            else set()
        )
        closing = [
            s
            for s in event.slots
            if event.local(s.starts_at).date() == day
            and (s.starts_at < at if status == DayStatus.LATE else s.ends_at > at)
        ]
        _set_unavailable(
            participant,
            [*(s for s in participant.unavailable_slots if s.id not in replaced), *closing],
        )
    elif status == DayStatus.LATE:
        participant.available_from = at
    elif status == DayStatus.LEFT_EARLY:
        participant.available_until = at
    participant.day_status = status
    participant.day_status_at = now
    cancelled: list[Meeting] = []
    gaps: list[Gap] = []
    for meeting in fresh:
        if lost(meeting):
            changes.meeting(meeting)
            meeting.status = MeetingStatus.CANCELLED
            _bump(meeting, now)
            cancelled.append(meeting)
            other = (
                meeting.participant_b
                if meeting.participant_a_id == participant.id
                else meeting.participant_a
            )
            gaps.append(Gap(other, meeting.slot))
    _flush(session)
    extra: dict[str, Any] = {
        "gaps": [
            {
                "participant_id": g.participant.id,
                "name": _name(g.participant),
                "slot_id": g.slot.id,
                "when": _when(event, g.slot),
            }
            for g in gaps
        ]
    }
    if at is not None and status in (DayStatus.LATE, DayStatus.LEFT_EARLY):
        extra["at"] = at.isoformat()  # the time as marked (:func:`marked_time`)
    entry = _record(
        session,
        event,
        f"day.{status.value}",
        changes,
        user_id=user_id,
        reason=reason,
        participant_id=participant.id,
        target=participant,
        extra=extra,
    )
    return ChangeResult(entry, cancelled, _affected(session, entry), gaps)


def _repeated_status(
    session: Session,
    participant: Participant,
    status: DayStatus,
    at: datetime | None,
    *,
    user_id: int | None,
    now: datetime,
) -> ChangeResult | None:
    """The user's own change of the status a moment ago, when the same form comes again:
    the same status (and time), nothing since.

    A time typed on the form is whole minutes and must be the very same: 11:01 after
    11:00 is a correction, not the form sent twice. Only "now" (no time typed, so a
    time with seconds) may differ, by the few seconds between the two sends."""
    if participant.day_status != status or not _just_now(participant.day_status_at, now):
        return None
    entries = _users_entries(
        session,
        participant.event,
        user_id,
        [f"{ACTION_PREFIX}{status.value}"],
        participant_id=participant.id,
    )
    if not entries:
        return None
    entry = entries[0]
    items = [i for i in entry.details["undo"]["participants"] if i["id"] == participant.id]
    if not items or not _state_is(participant, items[0]["after"]):
        return None
    if status in (DayStatus.LATE, DayStatus.LEFT_EARLY):
        moment = (
            _from_iso(entry.details["at"])
            if entry.details.get("at")
            else participant.available_from
            if status == DayStatus.LATE
            else participant.available_until
        )
        if at is None or moment is None:
            return None
        typed = at.second == 0 and at.microsecond == 0
        if (moment != at) if typed else abs(moment - at) > REPEAT_WINDOW:
            return None
    meetings = [session.get(Meeting, item["id"]) for item in entry.details["undo"]["meetings"]]
    return ChangeResult(
        entry,
        [m for m in meetings if m is not None],
        _affected(session, entry),
        gaps_of(session, entry),
        repeated=True,
    )


def _check_status_time(
    session: Session, event: Event, participant: Participant, status: str, at: datetime
) -> None:
    """Refuse an arrival or leaving time that would cancel every meeting of the day by
    mistake (a typo such as 23:55 for 13:55): one outside the day's slots, or one that
    contradicts the participant's own other end of that day. A company that does not
    come at all is a no-show, which says so."""
    day = event.local(at).date()
    slots = [s for s in event.slots if event.local(s.starts_at).date() == day]
    if not slots:
        raise ValidationFailed(N_("No meetings are planned on that day."), field="at")
    first = min(s.starts_at for s in slots)
    last = max(s.ends_at for s in slots)
    since, until = window_on(session, participant, day)

    def clock(moment: datetime) -> str:
        return event.local(moment).strftime("%H:%M")

    if status == DayStatus.LATE:
        if at >= last:
            raise ValidationFailed(
                N_(
                    "%(at)s is after the day's last meeting ends (%(end)s). "
                    "If the company is not coming, mark it as a no-show."
                ),
                field="at",
                params={"at": clock(at), "end": clock(last)},
            )
        if until is not None and at >= until:
            raise ValidationFailed(
                N_("%(at)s is not before the time it leaves (%(until)s)."),
                field="at",
                params={"at": clock(at), "until": clock(until)},
            )
    else:
        if at <= first:
            raise ValidationFailed(
                N_(
                    "%(at)s is before the day's first meeting starts (%(start)s). "
                    "If the company is not coming, mark it as a no-show."
                ),
                field="at",
                params={"at": clock(at), "start": clock(first)},
            )
        if since is not None and at <= since:
            raise ValidationFailed(
                N_("%(at)s is not after the time it arrives (%(since)s)."),
                field="at",
                params={"at": clock(at), "since": clock(since)},
            )


def register_walk_in(
    session: Session,
    event: Event,
    *,
    company: str,
    role: str,
    contact_name: str,
    company_kana: str = "",
    email: str = "",
    phone: str = "",
    technologies: Sequence[str] = (),
    user_id: int | None,
) -> Participant:
    """Register a company at the desk with the minimum (its profile can be completed later).

    The contact is checked in at once. A company already known from earlier fairs is
    reused (:func:`scheduler.profiles.organization_named`: the same name, but not another
    legal form) and gains the ``technologies`` it lacks; one
    already registered in this event is refused with its code, so reception finds it
    instead of creating a twin. The exception is the same form sent twice (a double
    click): the walk-in this user registered a moment ago with the same role and contact
    is returned as it is, with nothing written.

    Names and the other fields are cleaned as the registration form cleans them
    (:func:`_one_line`): they go into e-mails, calendar entries and printed sheets.
    """
    company = _one_line(unicodedata.normalize("NFKC", company))
    company_kana = _one_line(kana_as_typed(company_kana))
    contact_name = _one_line(contact_name)
    email, phone = _one_line(email), phone_as_typed(_one_line(phone))
    if not company:
        raise ValidationFailed(N_("Enter the company name."), field="company")
    if not contact_name:
        raise ValidationFailed(N_("Enter the contact's name."), field="contact_name")
    if role not in (ParticipantRole.BUYER, ParticipantRole.SUPPLIER):
        raise ValidationFailed(N_("Choose buyer or supplier."), field="role")
    unknown = [code for code in technologies if not is_known_technology(code)]
    if unknown:
        raise ValidationFailed(
            N_("Unknown choice: %(value)s."), field="technologies", params={"value": unknown[0]}
        )
    technologies = list(dict.fromkeys(technologies))
    lock_for_change(session, event.id)
    if session.get_bind().dialect.name != "sqlite":
        # Codes are numbered per event: one walk-in registration at a time.
        session.scalars(select(Event).where(Event.id == event.id).with_for_update()).all()
    key = company_name_key(company)
    organization = organization_named(session, company)  # 有限会社 X is not 株式会社 X
    if organization is not None:
        existing = session.scalar(
            select(Participant).where(
                Participant.event_id == event.id, Participant.organization_id == organization.id
            )
        )
        if existing is not None:
            if _same_walk_in(session, existing, role, contact_name, user_id=user_id):
                return existing
            raise ValidationFailed(
                N_("%(name)s is already registered in this event (code %(code)s)."),
                field="company",
                params={"name": organization.name, "code": existing.code},
            )
        # What the desk ticked is added to what the directory knows (nothing is removed).
        added = [code for code in technologies if code not in organization.technologies]
        if added:
            organization.technologies = [*organization.technologies, *added]
    else:
        organization = Organization(
            name=company,
            name_kana=kana_as_typed(company_kana).strip(),
            name_key=key,
            technologies=list(technologies),
        )
        session.add(organization)
    now = utcnow()
    code = next_participant_code(session, event, role)
    person = Person(
        organization=organization, name=contact_name, email=email.strip(), phone=phone.strip()
    )
    session.add(person)
    participant = Participant(
        event=event,
        organization=organization,
        role=role,
        status=ParticipantStatus.APPROVED,
        code=code,
        registered_via="walkin",
        day_status=DayStatus.CHECKED_IN,
        day_status_at=now,
    )
    participant.attendances.append(Attendance(person=person, is_contact=True, checked_in_at=now))
    session.add(participant)
    _flush(session)
    audit.record(
        session,
        "day.walk_in",
        event_id=event.id,
        user_id=user_id,
        participant_id=participant.id,
        target=participant,
        details={
            "lines": [{"pair": _name(participant), "before": "", "after": role}],
            "registered_at": now.isoformat(),
        },
    )
    return participant


# Invisible characters that change how text around them is shown (bidirectional
# overrides and isolates, marks, a byte order mark) and C1 controls: U+202E in a name
# shows the rest of the line reversed on every page, sheet and calendar it goes to.
_INVISIBLE = re.compile("[\x80-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _one_line(value: str) -> str:
    """A short text typed at the desk as stored: no control characters (a NUL cannot be
    stored in PostgreSQL's text and makes an invalid calendar), no direction overrides,
    NFC (:func:`scheduler.profiles.typed_text`), on one line and spaced as the
    registration form and the import store names
    (:func:`scheduler.participant_import.single_spaced`)."""
    return single_spaced(_INVISIBLE.sub("", typed_text(value)))


def _same_walk_in(
    session: Session, existing: Participant, role: str, contact_name: str, *, user_id: int | None
) -> bool:
    """Whether ``existing`` is the walk-in this user registered a moment ago from the
    same form (its role and contact): the form sent twice, not a second registration."""
    if existing.registered_via != "walkin" or existing.role != role:
        return False
    if not any(a.is_contact and a.person.name == contact_name for a in existing.attendances):
        return False
    entries = _users_entries(
        session, existing.event, user_id, ["day.walk_in"], participant_id=existing.id
    )
    return bool(entries) and _just_now(_from_iso(entries[0].details.get("registered_at")), utcnow())


def walk_in_offers(session: Session, participant: Participant, *, limit: int = 12) -> list[Offer]:
    """Counterparts ``participant`` could meet in a slot still to come, best first.

    A counterpart qualifies when neither side declined, they do not meet already,
    both are available and free in the slot, the counterpart is under its meeting cap
    and a table is free (the own table of either side when one has one, else an
    unhosted table, or one whose host no longer takes part). Ranking: the counterpart's
    stated interest in this participant, then this participant's in it, shared
    technologies, being checked in, free slots.
    """
    offers = [o for o in _offers(session, participant) if o.places]
    offers.sort(key=lambda o: (tuple(-x for x in o.score), o.counterpart.code))
    return offers[:limit]


def offers_with(
    session: Session, participant: Participant, counterparts: Sequence[Participant]
) -> list[Offer]:
    """For each of ``counterparts`` (in their order): every free slot still to come in
    which ``participant`` could meet it, or, when there is none, why (``blocked``).

    For a walk-in who asks for one company by name: the ranked offers are a shortcut,
    this answers for any counterpart and any time.
    """
    found = {o.counterpart.id: o for o in _offers(session, participant, only=counterparts)}
    return [found[c.id] for c in counterparts if c.id in found]


def _offers(
    session: Session, participant: Participant, *, only: Sequence[Participant] | None = None
) -> list[Offer]:
    """Every counterpart of the other role with the places it could meet ``participant``.

    Without ``only``, counterparts that cannot meet it are left out; with ``only``,
    just those are considered and each one that cannot is kept with the reason.
    """
    event = participant.event
    now = utcnow()
    days = fair_days(event)
    upcoming = [s for s in event.slots if s.starts_at >= now]

    def no_show(person: Participant) -> bool:
        """Marked as a no-show for every slot still to come (a no-show of today may meet
        on a later fair day)."""
        return person.day_status == DayStatus.NO_SHOW and all(
            status_rules_out(person, s, days) == DayStatus.NO_SHOW for s in upcoming
        )

    slots = [
        s
        for s in upcoming
        if participant.is_available(s)
        and status_rules_out(participant, s, days) != DayStatus.NO_SHOW
    ]
    explain = only is not None
    if not explain and not slots:
        return []
    other_role = (
        ParticipantRole.SUPPLIER
        if participant.role == ParticipantRole.BUYER
        else ParticipantRole.BUYER
    )
    query = select(Participant).where(
        Participant.event_id == event.id,
        Participant.role == other_role,
        Participant.status == ParticipantStatus.APPROVED,
    )
    if only is not None:
        query = query.where(Participant.id.in_([c.id for c in only]))
    candidates = session.scalars(
        query.options(
            selectinload(Participant.organization),
            selectinload(Participant.unavailable_slots),
            selectinload(Participant.needs),
        )
    ).all()
    active = session.scalars(
        select(Meeting)
        .where(Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED)
        .options(selectinload(Meeting.slot))
    ).all()
    load: dict[tuple[int, int], int] = defaultdict(int)
    table_busy: set[tuple[int, int]] = set()
    meeting_count: dict[int, int] = defaultdict(int)
    partners: dict[int, Slot] = {}
    for meeting in active:
        for pid in (meeting.participant_a_id, meeting.participant_b_id):
            load[(pid, meeting.slot_id)] += 1
            meeting_count[pid] += 1
        if participant.id in (meeting.participant_a_id, meeting.participant_b_id):
            for pid in (meeting.participant_a_id, meeting.participant_b_id):
                partners[pid] = meeting.slot
        if meeting.table_id is not None:
            table_busy.add((meeting.table_id, meeting.slot_id))
    interests = session.scalars(
        select(Interest).where(
            or_(
                Interest.from_participant_id == participant.id,
                Interest.to_participant_id == participant.id,
            )
        )
    ).all()
    from scheduler.preferences import interest_counts  # (imports this module)

    interests = [i for i in interests if interest_counts(i, event.screening_enabled)]
    # Who declined whom, by counterpart: a refusal names the side that declined, as
    # adding the meeting would (:func:`_pair_problems`).
    declined: dict[int, Interest] = {}
    for i in sorted(interests, key=lambda i: i.id):
        if i.declined:
            other_id = (
                i.to_participant_id
                if i.from_participant_id == participant.id
                else i.from_participant_id
            )
            declined.setdefault(other_id, i)
    level_from = {
        i.from_participant_id: i.level
        for i in interests
        if i.to_participant_id == participant.id and not i.declined
    }
    level_to = {
        i.to_participant_id: i.level
        for i in interests
        if i.from_participant_id == participant.id and not i.declined
    }
    tables = session.scalars(
        select(Table).where(Table.event_id == event.id).order_by(Table.sort_order, Table.label)
    ).all()
    # The tables of hosts who no longer take part are open, as for the solver.
    hosts = set(
        session.scalars(
            select(Participant.id).where(
                Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
            )
        )
    )
    own_tables: dict[int, list[Table]] = defaultdict(list)
    open_tables = []
    for table in tables:
        if table.host_participant_id not in hosts:
            open_tables.append(table)
        else:
            own_tables[table.host_participant_id].append(table)
    mine = set(participant.organization.technologies or [])
    cutoff = status_cutoff(event, now, days)  # a check-in of an earlier fair day is not today's
    checked_in = {
        a.participant_id
        for a in session.scalars(
            select(Attendance).where(
                Attendance.participant_id.in_([c.id for c in candidates]),
                Attendance.checked_in_at.is_not(None),
                Attendance.checked_in_at >= cutoff if cutoff is not None else true(),
            )
        )
    }

    def blocked(other: Participant) -> Problem | None:
        if no_show(participant):
            return Problem(N_("%(name)s is marked as a no-show."), {"name": _name(participant)})
        if no_show(other):
            return Problem(N_("%(name)s is marked as a no-show."), {"name": _name(other)})
        refusal = declined.get(other.id)
        if refusal is not None:
            by, of = (
                (participant, other)
                if refusal.from_participant_id == participant.id
                else (other, participant)
            )
            return Problem(
                N_("%(name)s declined a meeting with %(other)s."),
                {"name": _name(by), "other": _name(of)},
            )
        if other.id in partners:
            return Problem(
                N_("These two already meet at %(when)s."),
                {"when": _when(event, partners[other.id])},
            )
        if other.max_meetings is not None and meeting_count[other.id] >= other.max_meetings:
            return Problem(
                N_("%(name)s already has its maximum number of meetings (%(max)s)."),
                {"name": _name(other), "max": other.max_meetings},
            )
        return None

    offers: list[Offer] = []
    for other in candidates:
        if other.id == participant.id:
            continue
        reason = blocked(other)
        if reason is not None and not explain:
            continue
        hosted = own_tables.get(other.id, []) + own_tables.get(participant.id, [])
        places: list[tuple[Slot, Table]] = []
        for slot in slots if reason is None else []:
            if (
                not other.is_available(slot)
                or status_rules_out(other, slot, days) == DayStatus.NO_SHOW
            ):
                continue
            if load[(participant.id, slot.id)] >= participant.parallel_desks:
                continue
            if load[(other.id, slot.id)] >= other.parallel_desks:
                continue
            table = next(
                (t for t in (hosted or open_tables) if (t.id, slot.id) not in table_busy), None
            )
            if table is not None:
                places.append((slot, table))
        if reason is None and not places:
            if not explain:
                continue
            reason = Problem(N_("No slot still to come is free for both, with a free table."))
        theirs = set(other.organization.technologies or []) | {
            tech for need in other.needs for tech in need.technologies
        }
        offers.append(
            Offer(
                counterpart=other,
                places=places,
                interest_from_counterpart=level_from.get(other.id, 0),
                interest_to_counterpart=level_to.get(other.id, 0),
                shared_technologies=sorted(mine & theirs),
                checked_in=other.id in checked_in
                or status_today(other, now) == DayStatus.CHECKED_IN,
                blocked=reason,
            )
        )
    return offers


# --------------------------------------------------------------------------- undo and log


def _undoable(entry: AuditEntry) -> bool:
    return (
        entry.action.startswith(ACTION_PREFIX)
        and "undo" in entry.details
        and not entry.details.get("undone_at")
        and not entry.details.get("undo_impossible_at")
    )


def last_undoable(session: Session, event: Event, user_id: int) -> AuditEntry | None:
    """The user's most recent change of the day that has not been undone.

    Undoing again walks further back; a change that cannot be undone (a walk-in
    registration, or one whose undo was refused because a later change is in the way)
    stops the walk, so Undo never skips over it to something older.
    """
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.event_id == event.id,
            AuditEntry.user_id == user_id,
            _day_action(),
            AuditEntry.action != UNDO_ACTION,
        )
        .order_by(AuditEntry.id.desc())
        .limit(50)
    )
    latest = next((e for e in entries if not e.details.get("undone_at")), None)
    return latest if latest is not None and _undoable(latest) else None


def undo_last(
    session: Session, event: Event, *, user_id: int, entry_id: int | None = None
) -> ChangeResult:
    """Revert the user's last change, if nothing it touched has changed since.

    Restored meetings are validated like any placement (the freed table may have been
    given away meanwhile) and get a new version, so calendars follow the undo too.

    ``entry_id`` is the change the Undo button showed. Without it, a double click would
    undo two changes, the second one unseen: when that change was just undone by this
    user, the undo is returned as done (``repeated``); when the last change is another
    one, nothing is undone.
    """
    if entry_id is not None:
        shown = session.get(AuditEntry, entry_id)
        if (
            shown is not None
            and shown.event_id == event.id
            and shown.user_id == user_id
            and shown.details.get("undone_at")
        ):
            repeated = _repeated_undo(session, event, shown, user_id=user_id)
            if repeated is not None:
                return repeated
            raise Conflict(N_("This change was undone a moment ago."))
    entry = last_undoable(session, event, user_id)
    if entry is None:
        raise ValidationFailed(N_("There is no change of yours to undo."))
    if entry_id is not None and entry.id != entry_id:
        raise Conflict(
            N_(
                "Your last change is no longer the one the page showed; nothing was undone. "
                "Check the change shown now and try again."
            )
        )
    undo = entry.details["undo"]
    meeting_items = undo.get("meetings", [])
    meeting_ids = [item["id"] for item in meeting_items]
    current = {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids)))}
    people = {pid for m in current.values() for pid in (m.participant_a_id, m.participant_b_id)}
    people.update(item["id"] for item in undo.get("participants", []))
    tables = {m.table_id for m in current.values()}
    tables.update(item["before"]["table_id"] for item in meeting_items if item["before"])
    locked = lock_for_change(
        session, event.id, participant_ids=people, table_ids=tables, meeting_ids=meeting_ids
    )
    session.refresh(entry)
    if not _undoable(entry):
        raise Conflict(N_("This change was undone a moment ago."))
    changed_since: list[Problem] = []
    for item in meeting_items:
        meeting = locked.get(item["id"])
        if meeting is None or meeting.version != item["version"]:
            changed_since.append(
                Problem(
                    N_("%(pair)s changed again since; the change can no longer be undone."),
                    {"pair": _pair(meeting) if meeting else "?"},
                )
            )
    for item in undo.get("participants", []):
        participant = session.get(Participant, item["id"])
        if participant is None or not _state_is(participant, item["after"]):
            changed_since.append(
                Problem(
                    N_("%(name)s changed again since; the change can no longer be undone."),
                    {"name": _name(participant) if participant else "?"},
                )
            )
    for item in undo.get("attendances", []):
        attendance = session.get(Attendance, item["id"])
        if attendance is None or _iso(attendance.checked_in_at) != item["after"]:
            changed_since.append(
                Problem(N_("The check-in changed again since; it can no longer be undone."))
            )
            break
    if changed_since:
        raise UndoImpossible(entry.id, changed_since)

    now = utcnow()
    restored = [_restoring(locked[item["id"]], item["before"]) for item in meeting_items]
    changes = _ChangeSet(event, now)
    slots_by_id = {s.id: s for s in event.slots}
    for item in undo.get("participants", []):
        participant = session.get(Participant, item["id"])
        assert participant is not None
        changes.participant(participant)
        before = item["before"]
        participant.day_status = before["day_status"]
        participant.day_status_at = _from_iso(before["day_status_at"])
        participant.available_from = _from_iso(before["available_from"])
        participant.available_until = _from_iso(before["available_until"])
        if "unavailable_slot_ids" in before:  # (not recorded by older versions)
            _set_unavailable(
                participant,
                (slots_by_id[i] for i in before["unavailable_slot_ids"] if i in slots_by_id),
            )
    _flush(session)
    # Validated with the participants' restored availability (an undone no-show is back).
    problems = _problems(session, event, restored, now=now)
    if problems:
        raise UndoImpossible(entry.id, problems)
    for change in restored:  # vacate first: an undone swap trades places at one table
        assert change.meeting is not None
        changes.meeting(change.meeting)
        change.meeting.status = MeetingStatus.CANCELLED
    _flush(session)
    befores = {item["id"]: item["before"] for item in meeting_items}
    for change in restored:
        assert change.meeting is not None
        _apply_change(change.meeting, change, now)
        before = befores.get(change.meeting.id)
        if before is not None:  # (an entry recorded before moves were remembered: none)
            # Where it had moved from, unless that slot or table has been deleted since
            # (restoring its id would break the foreign key and block undo for good).
            slot_id = before.get("moved_from_slot_id")
            table_id = before.get("moved_from_table_id")
            if slot_id is not None and session.get(Slot, slot_id) is None:
                slot_id = table_id = None
            if table_id is not None and session.get(Table, table_id) is None:
                # In the same slot, a move from a table that is gone has nothing left
                # to say ("Table assigned" would be wrong): as if it had not moved.
                table_id = None
                if slot_id == change.meeting.slot_id:
                    slot_id = None
            change.meeting.moved_from_slot_id = slot_id
            change.meeting.moved_from_table_id = table_id
    for item in undo.get("attendances", []):
        attendance = session.get(Attendance, item["id"])
        assert attendance is not None
        changes.attendance(attendance)
        attendance.checked_in_at = _from_iso(item["before"])
    _flush(session)
    entry.details = {**entry.details, "undone_at": now.isoformat()}
    undo_entry = _record(
        session,
        event,
        UNDO_ACTION,
        changes,
        user_id=user_id,
        reason="",
        participant_id=entry.participant_id,
        extra={"undoes": entry.id},
    )
    undo_entry.details = {k: v for k, v in undo_entry.details.items() if k != "undo"}
    _flush(session)
    return ChangeResult(
        undo_entry, [c.meeting for c in restored if c.meeting], _affected(session, undo_entry)
    )


def _repeated_undo(
    session: Session, event: Event, undone: AuditEntry, *, user_id: int
) -> ChangeResult | None:
    """The user's undo of ``undone`` a moment ago, when Undo is sent again for it."""
    if not _just_now(_from_iso(undone.details.get("undone_at")), utcnow()):
        return None
    for entry in _users_entries(session, event, user_id, [UNDO_ACTION]):
        if entry.details.get("undoes") == undone.id:
            return ChangeResult(entry, [], _affected(session, entry), repeated=True)
    return None


def retire_undo(
    session: Session, event: Event, entry_id: int, problems: Sequence[Problem], *, user_id: int
) -> None:
    """Mark the user's change ``entry_id`` as one that can no longer be undone (after its
    undo was refused with :class:`UndoImpossible` and rolled back), with the reasons: Undo
    stops offering it and the day's log says so. Flushes."""
    entry = session.get(AuditEntry, entry_id)
    if entry is None or entry.event_id != event.id or entry.user_id != user_id:
        return
    entry.details = {
        **entry.details,
        "undo_impossible_at": utcnow().isoformat(),
        "undo_impossible": [{"msgid": p.msgid, "params": p.params} for p in problems],
    }
    _flush(session)


def _restoring(meeting: Meeting, before: dict[str, Any] | None) -> _Change:
    """The change that puts ``meeting`` back as it was; one that did not exist is cancelled."""
    if before is None:
        return _Change(
            meeting,
            meeting.participant_a_id,
            meeting.participant_b_id,
            meeting.slot_id,
            meeting.table_id,
            MeetingStatus.CANCELLED,
        )
    return _Change(
        meeting,
        meeting.participant_a_id,
        meeting.participant_b_id,
        before["slot_id"],
        before["table_id"],
        before["status"],
    )


def day_log(session: Session, event: Event, *, limit: int = 200) -> list[AuditEntry]:
    """The day's changes, newest first, with who made them."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.event_id == event.id, _day_action())
            .options(selectinload(AuditEntry.user))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


def gaps_of(session: Session, entry: AuditEntry) -> list[Gap]:
    """The counterparts a status change left with a gap (from its audit entry)."""
    gaps = []
    for item in entry.details.get("gaps", []):
        participant = session.get(Participant, item["participant_id"])
        slot = session.get(Slot, item["slot_id"])
        if participant is not None and slot is not None:
            gaps.append(Gap(participant, slot))
    return gaps
