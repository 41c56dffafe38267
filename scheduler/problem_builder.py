"""The solver problem of an event, built from the database.

One function, :func:`build_problem`, turns the event's slots, tables, approved
participants, requested pairs, the organizer's pair rules and the run's
parameters into a :class:`solver.problem.Problem`. Runs store
``problem_to_dict`` of it, so ``matchfair solve`` on that file reproduces any run.

Ids in the problem are what an organizer reads on printed sheets: participant
codes (``B001``), table labels (``A01``) and ``s<slot id>`` for slots.

Once the fair is under way (:func:`fair_under_way`), or staff have changed its day
before the first meeting (:func:`plans_the_day`), every run, the organizer's as well
as the day's re-optimisation (:mod:`scheduler.repair`), starts from the day as it is
(:func:`_on_the_day`): what has started or starts within :data:`CHANGE_LEAD` is locked
and ``now`` is set, so no plan rewrites the past; what staff placed on the day is
locked where they put it; the live plan, day-added meetings included, is ``current``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.day_operations import fair_days, status_rules_out
from scheduler.db import utcnow
from scheduler.errors import ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Slot,
    Table,
)
from scheduler.participant_import import PARTICIPANT_IDS as PARTICIPANT_IDS
from scheduler.preferences import requested_pairs
from solver import problem as sp

# Defaults of the run parameters (documented on the run form):
# - meeting_bonus: what a participant's 1st, 2nd, 3rd… meeting adds on top of the
#   pair's weight. The first meeting is worth more than any single pair weight, so
#   the solver would rather give everybody one meeting than someone a tenth. Each
#   later meeting is worth half the one before (as the run form says, which sends
#   the first value and halves it: docs/preferences.md).
# - break_penalty: cost of each idle gap between two meetings of a participant.
# - max_breaks: no cap by default (a cap can make a crowded fair infeasible).
# - change_penalty: per published meeting that changes, in repair runs on the day and
#   in new runs after a publication when keep_published is on (people have already
#   put the published times in their calendars: a new run should not reshuffle them
#   for a marginal gain).
DEFAULT_PARAMETERS: dict[str, Any] = {
    "time_limit": 30,
    "meeting_bonus": [20, 10, 5, 2],
    "break_penalty": 2,
    "max_breaks": None,
    "change_penalty": 6,
    "keep_published": True,
    "all_must": False,
    "seed": 0,
}


# On the fair day a plan changes nothing in a slot that starts within this lead: the
# people of such a meeting are on their way to its table, the notice would reach them
# too late, and staff could not find them in time (a repair once cancelled a staff-added
# replacement meeting 11 minutes before it started). Meetings in those slots are locked
# like the past, and the problem's ``now`` is the build time plus this lead, so the
# solver places nothing new there either.
CHANGE_LEAD = timedelta(minutes=10)

# The staff actions of the day that put a meeting somewhere (scheduler.day_operations
# records each with the meeting's slot and table right after it). Such a placement is a
# decision made on the floor, often for a reason no problem file knows (a projector
# that broke at a host's own table): every later plan keeps it where staff put it.
STAFF_PLACEMENTS = frozenset({"day.meeting_move", "day.meeting_swap", "day.meeting_add"})


def slot_key(slot: Slot | int) -> str:
    """The id of a slot in problem and schedule files."""
    return f"s{slot if isinstance(slot, int) else slot.id}"


def participant_key(participant: Participant) -> str:
    """The id of a participant in problem files: its printed code (or ``P<id>`` without one)."""
    return participant.code or f"P{participant.id}"


def participant_ids(session: Session, event: Event) -> dict[str, int]:
    """Each code of a problem of ``event`` built now, with its participant's id."""
    participants = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED)
        .order_by(Participant.code, Participant.id)
    ).all()
    return {key: pid for pid, key in _unique_keys(list(participants)).items()}


def changes_from(now: datetime) -> datetime:
    """The earliest start of a slot that a plan computed at ``now`` may change."""
    return now + CHANGE_LEAD


def fair_under_way(event: Event, now: datetime) -> bool:
    """Whether the fair is being lived: a slot starts before :func:`changes_from`
    ``now`` (so a plan can no longer change it), and the schedule is published or the
    fair is not over yet.

    Unlike :func:`scheduler.event_deletion.fair_under_way` (the fair's dates, for what
    may be deleted) this is about time: before its first meeting a fair can still be
    re-planned freely, and from then on the past must be kept. A schedule published for
    the first time while the fair runs must not place meetings in slots that have begun
    (review: it did); a fair wholly past and never published may still be planned (an
    old event tried out in matchfair).
    """
    cutoff = changes_from(now)
    if not any(s.starts_at < cutoff for s in event.slots):
        return False
    return event.published_at is not None or any(s.ends_at > now for s in event.slots)


# The audit actions of staff's changes of the day (scheduler.day_operations records them
# as ``day.<action>``). Not counted: ``day.undo`` takes one back and is no change of its
# own; a check-in or a walk-in's registration changes no meeting and rules out nothing a
# plan could place (review: morning check-ins made the evening's run unpublishable).
DAY_ACTION_PREFIX = "day."
NOT_DAY_CHANGES = ("day.undo", "day.check_in", "day.walk_in")


def staff_day_changes(
    session: Session, event: Event, *, since: datetime | None = None
) -> list[AuditEntry]:
    """Staff's changes of the day that stand (not undone), oldest first; with ``since``,
    only those made after it."""
    query = select(AuditEntry).where(
        AuditEntry.event_id == event.id,
        AuditEntry.action.like(f"{DAY_ACTION_PREFIX}%"),
        AuditEntry.action.not_in(NOT_DAY_CHANGES),
    )
    if since is not None:
        query = query.where(AuditEntry.created_at > since)
    return [
        entry
        for entry in session.scalars(query.order_by(AuditEntry.id))
        if not (entry.details or {}).get("undone_at")
    ]


def plans_the_day(session: Session, event: Event, now: datetime) -> bool:
    """Whether a plan computed at ``now`` must start from the day as it is
    (:func:`_on_the_day`): the fair is under way, or staff have already changed the day
    before its first meeting (a meeting moved or cancelled at reception on the fair's
    morning, a company marked as not coming).

    QA review: on the fair's morning, before the first slot, a run ignored what staff
    had done since breakfast, and publishing it put a meeting staff had moved back
    where it had been."""
    if fair_under_way(event, now):
        return True
    # Published or not: a no-show marked before a first publication binds its run too.
    return bool(staff_day_changes(session, event))


def staff_placements(session: Session, event: Event) -> set[int]:
    """The meetings that are where staff put them on the day, by id.

    A move, swap or addition records where each meeting went (slot and table); the
    newest such placement of a meeting that stands (not undone) holds while the meeting
    is still planned there. A later publication or repair that moved it ends it; one
    that kept it there keeps it, and so does what changes no place: new slot times, or
    a cancellation staff undid (both give the meeting a new version, so the version
    is no test: QA review, a staff move lost its lock when the organizer corrected the
    slot's times)."""
    placed: dict[int, tuple[int | None, int | None]] = {}
    for entry in session.scalars(
        select(AuditEntry)
        .where(AuditEntry.event_id == event.id, AuditEntry.action.in_(STAFF_PLACEMENTS))
        .order_by(AuditEntry.id)
    ):
        if entry.details.get("undone_at"):
            continue
        for item in (entry.details.get("undo") or {}).get("meetings", []):
            after = item.get("after") or {}
            if after.get("status") != MeetingStatus.CANCELLED and "slot_id" in after:
                placed[item["id"]] = (after["slot_id"], after.get("table_id"))
    if not placed:
        return set()
    return {
        meeting_id
        for meeting_id, slot_id, table_id, status in session.execute(
            select(Meeting.id, Meeting.slot_id, Meeting.table_id, Meeting.status).where(
                Meeting.id.in_(placed)
            )
        )
        if status != MeetingStatus.CANCELLED and placed[meeting_id] == (slot_id, table_id)
    }


def staff_cancellations(session: Session, event: Event) -> set[frozenset[int]]:
    """The pairs (participant ids) whose meeting staff cancelled on the day, not undone
    and with no live meeting since: a plan of the day does not bring them back (QA
    review: the next re-optimisation put six cancelled meetings back where they were,
    explaining that both sides asked to meet)."""
    cancelled: set[int] = set()
    for entry in session.scalars(
        select(AuditEntry).where(
            AuditEntry.event_id == event.id, AuditEntry.action == "day.meeting_cancel"
        )
    ):
        if entry.details.get("undone_at"):
            continue
        for item in (entry.details.get("undo") or {}).get("meetings", []):
            cancelled.add(item["id"])
    if not cancelled:
        return set()
    pairs: set[frozenset[int]] = set()
    for meeting in session.scalars(select(Meeting).where(Meeting.id.in_(cancelled))):
        if meeting.status == MeetingStatus.CANCELLED:
            pairs.add(frozenset((meeting.participant_a_id, meeting.participant_b_id)))
    live = {
        frozenset((m.participant_a_id, m.participant_b_id)) for m in _live_meetings(session, event)
    }
    return pairs - live


def with_defaults(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` completed with :data:`DEFAULT_PARAMETERS`."""
    merged = dict(DEFAULT_PARAMETERS)
    merged.update({k: v for k, v in parameters.items() if v is not None or k == "max_breaks"})
    return merged


def build_problem(session: Session, event: Event, *, parameters: Mapping[str, Any]) -> sp.Problem:
    """The scheduling problem of ``event`` now, with the run's ``parameters``.

    Approved participants only, each with its availability (window and unavailable
    slots), meeting cap (its own or the event's default) and parallel desks.
    Pairs come from :func:`scheduler.preferences.requested_pairs` with their
    weight; the organizer's pair rules apply on top (forbidden pairs are left
    out, forced ones must meet, pinned ones are locked in place). With
    ``parameters["all_must"]`` every requested pair must meet (a compact day: the
    meetings are fixed and only the timetable is optimised, or the run is
    infeasible and names what cannot fit). A repair run
    (``parameters["kind"] == "repair"``), and any run once the fair is under way,
    starts from the day as it is (:func:`_on_the_day`; ``parameters["now"]``, an ISO
    time with its zone, or the clock): every change to the live plan costs
    ``change_penalty`` and what has started, what starts within :data:`CHANGE_LEAD`
    and what staff placed on the day is locked. Other runs after a publication keep
    the published meetings as ``current`` (``keep_published``, on by default), so a
    re-run does not reshuffle calendars.
    """
    params = with_defaults(parameters)
    slots = list(event.slots)
    if not slots:
        raise ValidationFailed(N_("The event has no slots yet: add its days first."))
    participants = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED)
        .options(
            selectinload(Participant.unavailable_slots), selectinload(Participant.organization)
        )
        .order_by(Participant.code, Participant.id)
    ).all()
    keys = _unique_keys(participants)
    by_id = {p.id: p for p in participants}

    problem_participants = tuple(
        sp.Participant(
            id=keys[p.id],
            role=p.role,
            name=p.display_name,
            available=_availability(p, slots),
            max_meetings=(
                p.max_meetings if p.max_meetings is not None else event.default_max_meetings
            ),
            parallel=p.parallel_desks,
        )
        for p in participants
    )
    tables = session.scalars(
        select(Table)
        .where(Table.event_id == event.id)
        .options(selectinload(Table.room))
        .order_by(Table.sort_order, Table.label)
    ).all()
    problem_tables = (
        tuple(
            sp.Table(
                id=t.label,
                room=t.room.name,
                # A host that no longer takes part has no key: its table is free for any
                # pair, as staff see it on the day (scheduler.day_operations).
                host=keys.get(t.host_participant_id) if t.host_participant_id else None,
            )
            for t in tables
        )
        if tables
        else None
    )

    weights: dict[frozenset[int], int] = {}
    must: set[frozenset[int]] = set()
    for preference in requested_pairs(session, event):
        if preference.a in by_id and preference.b in by_id:
            pair = frozenset((preference.a, preference.b))
            weights[pair] = preference.weight
            if preference.must:
                must.add(pair)
    if params["all_must"]:
        must.update(weights)  # a pair forbidden below leaves ``weights``, so it is no pair
    locked: list[sp.Meeting] = []
    forbidden: set[frozenset[int]] = set()
    for rule in session.scalars(select(PairRule).where(PairRule.event_id == event.id)):
        pair = frozenset((rule.participant_a_id, rule.participant_b_id))
        if not pair <= by_id.keys():
            continue  # a side withdrew: the rule has nothing to apply to
        if rule.kind == PairRuleKind.FORBID:
            weights.pop(pair, None)
            forbidden.add(pair)
            continue
        weights.setdefault(pair, 0)
        must.add(pair)
        if rule.kind == PairRuleKind.PIN and rule.slot_id is not None:
            a, b = _ordered(by_id[rule.participant_a_id], by_id[rule.participant_b_id])
            locked.append(
                sp.Meeting(
                    a=keys[a.id],
                    b=keys[b.id],
                    slot=slot_key(rule.slot_id),
                    table=rule.table.label if rule.table is not None and tables else None,
                )
            )

    current: list[sp.Meeting] = []
    now: datetime | None = None
    moment = _parse_now(params.get("now"))
    if params.get("kind") == "repair" or plans_the_day(session, event, moment):
        now = changes_from(moment)
        problem_participants, current, locked = _on_the_day(
            session,
            event,
            now=moment,
            keys=keys,
            by_id=by_id,
            has_tables=bool(tables),
            weights=weights,
            pins=locked,
            participants=problem_participants,
            forbidden=forbidden,
        )
    elif params.get("keep_published") and event.published_at is not None:
        # A new run after a publication starts from what people already have in their
        # calendars: each published meeting not kept costs change_penalty. Pairs that
        # are no longer requested (or now forbidden) are not brought back.
        for meeting in _live_meetings(session, event):
            pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
            if pair not in weights:
                continue
            current.append(_solver_meeting(meeting, keys, has_tables=bool(tables)))

    pairs = []
    for pair, weight in sorted(weights.items(), key=lambda kv: sorted(kv[0])):
        a, b = _ordered(*(by_id[i] for i in pair))
        pairs.append(sp.Pair(a=keys[a.id], b=keys[b.id], weight=weight, must=pair in must))

    return sp.Problem(
        slots=tuple(
            sp.Slot(id=slot_key(s), start=event.local(s.starts_at), end=event.local(s.ends_at))
            for s in slots
        ),
        participants=problem_participants,
        pairs=tuple(pairs),
        tables=problem_tables,
        event_name=event.name,
        timezone=event.timezone,
        meeting_bonus=tuple(int(v) for v in params["meeting_bonus"]),
        break_penalty=int(params["break_penalty"]),
        max_breaks=None if params["max_breaks"] is None else int(params["max_breaks"]),
        locked=tuple(locked),
        current=tuple(current),
        change_penalty=int(params["change_penalty"]) if current else 0,
        now=now,
    )


def _live_meetings(session: Session, event: Event) -> Iterable[Meeting]:
    return session.scalars(
        select(Meeting)
        .where(Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED)
        .options(selectinload(Meeting.table))
        .order_by(Meeting.id)
    )


def _solver_meeting(meeting: Meeting, keys: dict[int, str], *, has_tables: bool) -> sp.Meeting:
    return sp.Meeting(
        a=keys[meeting.participant_a_id],
        b=keys[meeting.participant_b_id],
        slot=slot_key(meeting.slot_id),
        table=meeting.table.label if meeting.table is not None and has_tables else None,
    )


def _on_the_day(
    session: Session,
    event: Event,
    *,
    now: datetime,
    keys: dict[int, str],
    by_id: dict[int, Participant],
    has_tables: bool,
    weights: dict[frozenset[int], int],
    pins: list[sp.Meeting],
    participants: tuple[sp.Participant, ...],
    forbidden: set[frozenset[int]] = frozenset(),  # type: ignore[assignment]
) -> tuple[tuple[sp.Participant, ...], list[sp.Meeting], list[sp.Meeting]]:
    """The participants, ``current`` and ``locked`` of a plan computed at ``now`` while
    the fair is under way (adds the live meetings' pairs to ``weights``).

    - Every live meeting is ``current``, whoever placed it; a pair nobody requested
      (a walk-in's meeting added by staff) joins with weight 0, so a plan keeps it
      rather than cancel what people were told.
    - Every live meeting in a slot that starts before :func:`changes_from` ``now`` is
      locked: the past is what happened, and what is about to start stays as announced.
    - A pair staff cancelled today (:func:`staff_cancellations`) is no pair any more,
      and a pair the organizer forbids keeps only its meetings that have started.
    - Held and pinned meetings, those staff placed on the day
      (:func:`staff_placements`) and the organizer's pins still to come are locked
      where they are while both sides can attend then (staff's first, then the
      organizer's); one that can no longer be honoured, or clashes with a lock taken
      already, is dropped (the plan, and staff, see to that meeting).
    - A no-show is available nowhere on the fair day it was marked for (and before),
      only where its locked meetings are; a later fair day it keeps as it registered
      (a company that did not come on the first day may come on the second). Everyone
      keeps the slots of its locked meetings (a late arrival marked after a meeting
      that was already over stays valid), and a meeting cap below the locked meetings
      (staff may add beyond it) rises to them: what happened and what staff decided
      must never make the plan impossible.
    """
    frozen = {slot_key(s) for s in event.slots if s.starts_at < changes_from(now)}
    placed_by_staff = staff_placements(session, event)
    # Pairs staff cancelled today stay cancelled: no plan of the day brings them back.
    for pair in staff_cancellations(session, event):
        weights.pop(pair, None)
    current: list[sp.Meeting] = []
    fixed: dict[frozenset[str], sp.Meeting] = {}
    # Locks wanted, the first of a pair winning: what staff decided on the day comes
    # before the organizer's pins, which were set before the fair.
    by_staff: list[sp.Meeting] = []
    held_or_pinned: list[sp.Meeting] = []
    for meeting in _live_meetings(session, event):
        pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
        if not pair <= by_id.keys():
            continue  # a side withdrew: its meetings are not part of any plan
        item = _solver_meeting(meeting, keys, has_tables=has_tables)
        if pair in forbidden and item.slot not in frozen:
            continue  # forbidden by the organizer: its meeting still to come is cancelled
        weights.setdefault(pair, 0)
        current.append(item)
        if item.slot in frozen:
            fixed.setdefault(item.key, item)
        elif meeting.id in placed_by_staff:
            by_staff.append(item)
        elif meeting.locked or meeting.status == MeetingStatus.HELD:
            held_or_pinned.append(item)
    wanted = [*by_staff, *pins, *held_or_pinned]

    fixed_slots: dict[str, set[str]] = defaultdict(set)
    for item in fixed.values():
        fixed_slots[item.a].add(item.slot)
        fixed_slots[item.b].add(item.slot)
    days = fair_days(event)
    # Each no-show's slots of later fair days (none on a one-day fair).
    no_shows = {
        keys[p.id]: frozenset(
            slot_key(s) for s in event.slots if status_rules_out(p, s, days) != DayStatus.NO_SHOW
        )
        for p in by_id.values()
        if p.day_status == DayStatus.NO_SHOW
    }
    availability: dict[str, frozenset[str] | None] = {}
    for person in participants:
        if person.id in no_shows:
            later = no_shows[person.id]
            if person.available is not None:
                later &= person.available
            availability[person.id] = later | frozenset(fixed_slots[person.id])
        elif person.available is None:
            availability[person.id] = None
        else:
            availability[person.id] = person.available | fixed_slots[person.id]

    def can_meet(who: str, slot: str) -> bool:
        allowed = availability.get(who)
        return allowed is None or slot in allowed

    locked = dict(fixed)
    tables_taken = {(m.table, m.slot) for m in locked.values() if m.table is not None}
    load = Counter((who, m.slot) for m in locked.values() for who in (m.a, m.b))
    desks = {person.id: person.parallel for person in participants}

    def fits(item: sp.Meeting) -> bool:
        """Both sides can attend, and neither the table nor a side is taken by a lock
        already (a pin whose meeting staff cancelled, at a table staff then gave away)."""
        return (
            all(can_meet(who, item.slot) for who in (item.a, item.b))
            and (item.table is None or (item.table, item.slot) not in tables_taken)
            and all(load[(who, item.slot)] < desks.get(who, 1) for who in (item.a, item.b))
        )

    for item in wanted:
        if item.key in locked or item.slot in frozen:
            continue  # the first lock of a pair wins; the past is what happened
        if fits(item):
            locked[item.key] = item
            if item.table is not None:
                tables_taken.add((item.table, item.slot))
            load.update((who, item.slot) for who in (item.a, item.b))
    held = Counter(who for item in locked.values() for who in (item.a, item.b))
    adjusted = tuple(
        replace(
            person,
            available=availability[person.id],
            max_meetings=(
                None if person.max_meetings is None else max(person.max_meetings, held[person.id])
            ),
        )
        for person in participants
    )
    return adjusted, current, list(locked.values())


def _unique_keys(participants: list[Participant]) -> dict[int, str]:
    keys: dict[int, str] = {}
    seen: dict[str, Participant] = {}
    for participant in participants:
        key = participant_key(participant)
        if key in seen:
            raise ValidationFailed(
                N_(
                    "Two participants share the code %(code)s (%(first)s and %(second)s): "
                    "give each its own code before scheduling."
                ),
                params={
                    "code": key,
                    "first": seen[key].display_name,
                    "second": participant.display_name,
                },
            )
        seen[key] = participant
        keys[participant.id] = key
    return keys


def _availability(participant: Participant, slots: list[Slot]) -> frozenset[str] | None:
    available = frozenset(slot_key(s) for s in slots if participant.is_available(s))
    return None if len(available) == len(slots) else available


def _ordered(first: Participant, second: Participant) -> tuple[Participant, Participant]:
    """Buyer first (sheets and signs read buyer–supplier), else by code."""
    if first.role != second.role:
        return (first, second) if first.role == ParticipantRole.BUYER else (second, first)
    return (first, second) if participant_key(first) <= participant_key(second) else (second, first)


def _parse_now(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValidationFailed(N_("The time 'now' of a repair run needs a time zone."))
        return moment
    return utcnow()
