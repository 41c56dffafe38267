"""The solver problem of an event, built from the database.

One function, :func:`build_problem`, turns the event's slots, tables, approved
participants, requested pairs, the organizer's pair rules and the run's
parameters into a :class:`solver.problem.Problem`. Runs store
``problem_to_dict`` of it, so ``matchfair solve`` on that file reproduces any run.

Ids in the problem are what an organizer reads on printed sheets: participant
codes (``B001``), table labels (``A01``) and ``s<slot id>`` for slots.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db import utcnow
from scheduler.errors import ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
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


def slot_key(slot: Slot | int) -> str:
    """The id of a slot in problem and schedule files."""
    return f"s{slot if isinstance(slot, int) else slot.id}"


def participant_key(participant: Participant) -> str:
    """The id of a participant in problem files: its printed code (or ``P<id>`` without one)."""
    return participant.code or f"P{participant.id}"


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
    infeasible and names what cannot fit). With
    ``parameters["kind"] == "repair"`` the published meetings become ``current``
    (every change costs ``change_penalty``) and held or locked ones are locked.
    Other runs after a publication keep the published meetings as ``current`` too
    (``keep_published``, on by default), so a re-run does not reshuffle calendars.
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
    for rule in session.scalars(select(PairRule).where(PairRule.event_id == event.id)):
        pair = frozenset((rule.participant_a_id, rule.participant_b_id))
        if not pair <= by_id.keys():
            continue  # a side withdrew: the rule has nothing to apply to
        if rule.kind == PairRuleKind.FORBID:
            weights.pop(pair, None)
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
    if params.get("kind") == "repair":
        now = _parse_now(params.get("now"))
        for meeting in session.scalars(
            select(Meeting).where(
                Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
            )
        ):
            pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
            if not pair <= by_id.keys():
                continue
            weights.setdefault(pair, 0)
            item = sp.Meeting(
                a=keys[meeting.participant_a_id],
                b=keys[meeting.participant_b_id],
                slot=slot_key(meeting.slot_id),
                table=meeting.table.label if meeting.table is not None and tables else None,
            )
            pinned = meeting.locked or meeting.status == MeetingStatus.HELD
            if pinned and all(m.key != item.key for m in locked):
                locked.append(item)
            current.append(item)
    elif params.get("keep_published") and event.published_at is not None:
        # A new run after a publication starts from what people already have in their
        # calendars: each published meeting not kept costs change_penalty. Pairs that
        # are no longer requested (or now forbidden) are not brought back.
        for meeting in session.scalars(
            select(Meeting).where(
                Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
            )
        ):
            pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
            if pair not in weights:
                continue
            current.append(
                sp.Meeting(
                    a=keys[meeting.participant_a_id],
                    b=keys[meeting.participant_b_id],
                    slot=slot_key(meeting.slot_id),
                    table=meeting.table.label if meeting.table is not None and tables else None,
                )
            )

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
