"""The organizer's manual edits before publishing: forbid, force or pin a pair, move a meeting.

Pair rules live in the database (:class:`~scheduler.models.PairRule`) and shape
every later run (:func:`scheduler.problem_builder.build_problem`): a forbidden
pair is left out, a forced one must meet, a pinned one is locked in place. A move
edits a finished run's schedule (after a conflict check against the run's own
problem) and pins the meeting there, so re-running around the pins keeps it.
Every edit is audited.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from scheduler import audit
from scheduler.day_operations import lock_for_change
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Event,
    Interest,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantStatus,
    RunStatus,
    ScheduleRun,
    Slot,
    Table,
)
from scheduler.preferences import ASKING_SOURCES, SCREENING_SOURCE
from scheduler.problem_builder import participant_key, slot_key
from solver.problem import Meeting, Problem
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.validation import breaks_per_participant, check, objective


@dataclass(frozen=True)
class MoveConflict:
    """Why a meeting cannot go where the organizer wants it (an English msgid with params)."""

    msgid: str
    params: dict[str, str]

    @property
    def message(self) -> str:
        return self.msgid % self.params


def participant_by_code(session: Session, event: Event, code: str) -> Participant:
    """The approved participant of ``event`` with ``code`` (NotFound otherwise)."""
    code = unicodedata.normalize("NFKC", code).strip().upper()  # ｂ００１ is B001
    for participant in session.scalars(
        select(Participant).where(
            Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
        )
    ):
        if participant_key(participant).upper() == code:
            return participant
    raise NotFound(N_("No approved participant has the code %(code)s."), params={"code": code})


def rule_between(
    session: Session, event: Event, first: Participant, second: Participant
) -> PairRule | None:
    """The pair's rule, if it has one (a pair has at most one)."""
    a_id, b_id = sorted((first.id, second.id))
    return session.scalar(
        select(PairRule).where(
            PairRule.event_id == event.id,
            PairRule.participant_a_id == a_id,
            PairRule.participant_b_id == b_id,
        )
    )


@dataclass(frozen=True)
class Decline:
    """``by`` declined a meeting with ``other`` (a screening answer, or a buyer's
    decision on proposal sheets), which a rule forcing the pair overrides.

    ``asked`` is the level (1–3) at which ``other`` asks for the meeting, 0 when it
    does not (or no longer does).
    """

    by: Participant
    other: Participant
    note: str
    asked: int


#: Rules that make a pair meet, and so override a decline.
MEETING_RULES = frozenset({PairRuleKind.FORCE, PairRuleKind.PIN})


def declines(
    session: Session, event: Event, pairs: Iterable[frozenset[int]] | None = None
) -> dict[frozenset[int], list[Decline]]:
    """The declines that stand between approved participants of ``event``, by pair of
    participant ids (all pairs, or those of ``pairs``).

    A decline counts as :func:`scheduler.preferences.requested_pairs` counts it: a
    screening answer only while screening is on (a proposal decision always).
    """
    wanted = None if pairs is None else set(pairs)
    if wanted is not None and not wanted:
        return {}
    decline, back = aliased(Interest), aliased(Interest)
    query = (
        select(decline, back)
        .outerjoin(
            back,
            and_(
                back.from_participant_id == decline.to_participant_id,
                back.to_participant_id == decline.from_participant_id,
            ),
        )
        .where(decline.event_id == event.id, decline.declined.is_(True))
        .order_by(decline.id)
    )
    if not event.screening_enabled:
        query = query.where(decline.source != SCREENING_SOURCE)
    involved = set().union(*wanted) if wanted is not None else set()
    if wanted is not None and len(involved) <= 500:  # a few pairs: ask for theirs only
        query = query.where(
            decline.from_participant_id.in_(involved), decline.to_participant_id.in_(involved)
        )
    rows = [
        (interest, answer)
        for interest, answer in session.execute(query).all()
        if wanted is None
        or frozenset((interest.from_participant_id, interest.to_participant_id)) in wanted
    ]
    ids = {i.from_participant_id for i, _a in rows} | {i.to_participant_id for i, _a in rows}
    people = {
        p.id: p
        for p in session.scalars(
            select(Participant)
            .where(Participant.id.in_(ids), Participant.status == ParticipantStatus.APPROVED)
            .options(selectinload(Participant.organization))
        )
    } if ids else {}
    found: dict[frozenset[int], list[Decline]] = {}
    for interest, answer in rows:
        pair = frozenset((interest.from_participant_id, interest.to_participant_id))
        by, other = people.get(interest.from_participant_id), people.get(interest.to_participant_id)
        if by is None or other is None:
            continue  # a side withdrew: no pair to force
        asked = 0
        if answer is not None and answer.source in ASKING_SOURCES and not answer.declined:
            asked = answer.level
        found.setdefault(pair, []).append(
            Decline(by=by, other=other, note=interest.note or "", asked=asked)
        )
    return found


def declines_to_override(
    session: Session, event: Event, first: Participant, second: Participant
) -> list[Decline]:
    """The declines a new rule making ``first`` and ``second`` meet would override,
    which the organizer confirms first: none when the pair has no decline, or a
    rule that makes it meet already (forced or pinned: that was confirmed then)."""
    earlier = rule_between(session, event, first, second)
    if earlier is not None and earlier.kind in MEETING_RULES:
        return []
    return declines(session, event, [frozenset((first.id, second.id))]).get(
        frozenset((first.id, second.id)), []
    )


def overridden_declines(
    session: Session, event: Event, rules: Iterable[PairRule]
) -> dict[int, list[Decline]]:
    """The declines each forcing or pinning rule overrides, by rule id (rules that
    override none are left out)."""
    by_pair = {
        frozenset((rule.participant_a_id, rule.participant_b_id)): rule.id
        for rule in rules
        if rule.kind in MEETING_RULES
    }
    return {
        by_pair[pair]: found
        for pair, found in declines(session, event, by_pair).items()
    }


def set_rule(
    session: Session,
    event: Event,
    first: Participant,
    second: Participant,
    kind: str,
    *,
    slot: Slot | None = None,
    table: Table | None = None,
    user_id: int | None = None,
) -> PairRule:
    """Forbid, force or pin the pair (replacing any earlier rule for it); flushes and audits."""
    if kind not in set(PairRuleKind):
        raise ValidationFailed(N_("Unknown rule."), field="kind")
    if first.id == second.id:
        raise ValidationFailed(N_("A pair needs two different participants."), field="b")
    if first.role == second.role:
        # Meetings are between a buyer and a supplier: the schedule, its sheets and
        # exports have a side for each, and nobody asked for the pair.
        raise ValidationFailed(
            N_(
                "%(a)s and %(b)s are both buyers or both suppliers: a rule pairs a buyer "
                "with a supplier."
            ),
            field="b",
            params={"a": participant_key(first), "b": participant_key(second)},
        )
    if kind == PairRuleKind.PIN and slot is None:
        raise ValidationFailed(N_("A pinned meeting needs a slot."), field="slot")
    a_id, b_id = sorted((first.id, second.id))
    # Writers' lock order; on SQLite this begins the transaction, so the savepoint
    # below is nested in it (alone, SQLite would commit the rule on its release).
    lock_for_change(session, event.id)
    the_pairs_rule = select(PairRule).where(
        PairRule.event_id == event.id,
        PairRule.participant_a_id == a_id,
        PairRule.participant_b_id == b_id,
    )
    fields = {
        "kind": kind,
        "slot_id": slot.id if slot is not None and kind == PairRuleKind.PIN else None,
        "table_id": table.id if table is not None and kind == PairRuleKind.PIN else None,
        "created_by_id": user_id,
    }
    rule = session.scalar(the_pairs_rule)
    if rule is None:
        # Two organizers setting a rule for the same pair at once: the second insert
        # meets the first's row (unique per pair) and takes it over; the last one wins.
        try:
            with session.begin_nested():
                rule = PairRule(
                    event_id=event.id, participant_a_id=a_id, participant_b_id=b_id, **fields
                )
                session.add(rule)
                session.flush()
        except IntegrityError:
            rule = session.scalar(the_pairs_rule.with_for_update())
            if rule is None:  # the other one was removed again meanwhile
                raise Conflict(
                    N_("Another change was being saved at the same moment. Please try again.")
                ) from None
    for name, value in fields.items():
        setattr(rule, name, value)
    session.flush()
    overridden = (
        declines(session, event, [frozenset((a_id, b_id))]).get(frozenset((a_id, b_id)), [])
        if kind in MEETING_RULES
        else []
    )
    audit.record(
        session,
        f"pair_rule.{kind}",
        event_id=event.id,
        user_id=user_id,
        target=rule,
        details={
            "a": participant_key(first),
            "b": participant_key(second),
            # By id too: codes change, and History finds a company's entries by id.
            "affected": sorted((first.id, second.id)),
            "slot": slot_key(slot) if slot is not None else None,
            "table": table.label if table is not None else None,
            # Who had declined the meeting this rule now makes happen.
            **({"overrides_decline_of": [participant_key(d.by) for d in overridden]}
               if overridden else {}),
        },
    )
    return rule


@dataclass(frozen=True)
class UnheededRule:
    """A pair rule that a run's schedule breaks (the rule was set after the run)."""

    kind: str
    a: str  # participant codes
    b: str


def rules_not_in(session: Session, event: Event, run: ScheduleRun) -> list[UnheededRule]:
    """The event's pair rules that ``run``'s schedule breaks: a forbidden pair that
    meets, a forced pair that does not, a pinned meeting elsewhere than its pin. A run
    made before the rules would publish a schedule that ignores them; a run edited by
    hand (a move pins the meeting where it went) follows its own pins."""
    if not run.problem or not run.result:
        return []
    # Read from the stored files as they are: the run page already parses them once for
    # its review, and a large fair's problem takes a fifth of a second to parse.
    placed = {
        frozenset((m["a"], m["b"])): (m["slot"], m.get("table"))
        for m in run.result.get("meetings", [])
    }
    present = {p["id"] for p in run.problem.get("participants", [])}
    has_tables = bool(run.problem.get("tables"))
    unheeded = []
    for rule in session.scalars(
        select(PairRule)
        .where(PairRule.event_id == event.id)
        .options(  # one query each, whatever the number of rules
            selectinload(PairRule.participant_a),
            selectinload(PairRule.participant_b),
            selectinload(PairRule.slot),
            selectinload(PairRule.table),
        )
        .order_by(PairRule.id)
    ):
        a, b = participant_key(rule.participant_a), participant_key(rule.participant_b)
        key = frozenset((a, b))
        if not key <= present:
            continue  # a side withdrew: the rule applies to nothing (as in build_problem)
        if rule.kind == PairRuleKind.FORBID:
            broken = key in placed
        elif rule.kind == PairRuleKind.FORCE:
            broken = key not in placed
        elif rule.slot is not None:
            table = rule.table.label if rule.table is not None and has_tables else None
            broken = placed.get(key) != (slot_key(rule.slot), table)
        else:
            continue
        if broken:
            unheeded.append(UnheededRule(str(rule.kind), a, b))
    return unheeded


def remove_rule(session: Session, event: Event, rule_id: int, *, user_id: int | None) -> None:
    """Drop a pair rule (later runs treat the pair as requested, or not, again)."""
    rule = session.get(PairRule, rule_id)
    if rule is None or rule.event_id != event.id:
        raise NotFound(N_("This rule does not exist."))
    audit.record(
        session,
        "pair_rule.remove",
        event_id=event.id,
        user_id=user_id,
        target=rule,
        details={
            "kind": rule.kind,
            "a": rule.participant_a_id,
            "b": rule.participant_b_id,
            "affected": sorted((rule.participant_a_id, rule.participant_b_id)),
        },
    )
    session.delete(rule)
    session.flush()


def pin_meeting(
    session: Session, event: Event, run: ScheduleRun, a: str, b: str, *, user_id: int | None
) -> PairRule:
    """Pin the run's meeting of the pair ``a``–``b`` where the run placed it."""
    lock_run(session, run)  # where it is now, after any move saved a moment ago
    meeting = _find(run, a, b)
    return set_rule(
        session,
        event,
        participant_by_code(session, event, meeting.a),
        participant_by_code(session, event, meeting.b),
        PairRuleKind.PIN,
        slot=_slot(session, event, meeting.slot),
        table=_table(session, event, meeting.table),
        user_id=user_id,
    )


def move_conflicts(
    run: ScheduleRun, a: str, b: str, slot: str, table: str | None
) -> list[MoveConflict]:
    """What would break if the meeting ``a``–``b`` moved to ``slot`` at ``table`` (empty: fine)."""
    current = _find(run, a, b)
    problem = problem_from_dict(run.problem)
    # The move replaces the pair's pin (a meeting moved before is pinned in the runs
    # after): its own lock does not hold it where it is.
    problem = dataclasses.replace(
        problem, locked=tuple(m for m in problem.locked if m.key != current.key)
    )
    meetings = schedule_from_dict(run.result).meetings if run.result else []
    slots = {s.id for s in problem.slots}
    tables = {t.id: t for t in problem.tables or ()}
    if slot not in slots:
        return [MoveConflict(N_("Unknown slot."), {})]
    if problem.tables is not None and table not in tables:
        return [MoveConflict(N_("Unknown table."), {})]
    moved = dataclasses.replace(current, slot=slot, table=table if tables else None)
    others = [m for m in meetings if m.key != current.key]
    conflicts: list[MoveConflict] = []
    participants = {p.id: p for p in problem.participants}
    for who in (moved.a, moved.b):
        person = participants[who]
        if person.available is not None and slot not in person.available:
            conflicts.append(
                MoveConflict(N_("%(who)s is not available in this slot."), {"who": _name(person)})
            )
        busy = [m for m in others if m.slot == slot and who in (m.a, m.b)]
        if len(busy) >= person.parallel:
            other = busy[0].b if busy[0].a == who else busy[0].a
            conflicts.append(
                MoveConflict(
                    N_("%(who)s already meets %(other)s in this slot."),
                    {"who": _name(person), "other": _name(participants[other])},
                )
            )
    taken = next((m for m in others if m.slot == slot and m.table == moved.table), None)
    if tables and taken is not None:
        conflicts.append(
            MoveConflict(
                N_("Table %(table)s is taken by %(a)s–%(b)s in this slot."),
                {"table": str(table), "a": taken.a, "b": taken.b},
            )
        )
    conflicts += _place_conflicts(problem, moved, participants, tables)
    if conflicts:
        return conflicts
    if problem.max_breaks is not None:
        breaks = breaks_per_participant(problem, [*others, moved])
        conflicts = [
            MoveConflict(
                N_("%(who)s would have %(count)s breaks (at most %(max)s are allowed)."),
                {"who": _name(participants[who]), "count": str(breaks[who]),
                 "max": str(problem.max_breaks)},
            )
            for who in (moved.a, moved.b)
            if breaks[who] > problem.max_breaks
        ]
        if conflicts:
            return conflicts
    # Everything else the schedule must obey (host tables, pair slots, break caps).
    return [MoveConflict("%(rule)s", {"rule": text}) for text in check(problem, [*others, moved])]


def _place_conflicts(
    problem: Problem, moved: Meeting, participants: dict[str, Any], tables: dict[str, Any]
) -> list[MoveConflict]:
    """The pair's own slots, and host tables: a host meets only at its own tables, and
    a host's table holds only its meetings."""
    conflicts = []
    pair = next((p for p in problem.pairs if p.key == moved.key), None)
    if pair is not None and pair.slots is not None and moved.slot not in pair.slots:
        conflicts.append(
            MoveConflict(
                N_("%(a)s and %(b)s may meet only in the slots set for their pair."),
                {"a": _name(participants[moved.a]), "b": _name(participants[moved.b])},
            )
        )
    table = tables.get(moved.table) if moved.table is not None else None
    if table is None:
        return conflicts
    hosts = {t.host for t in tables.values() if t.host is not None}
    if table.host is not None and table.host not in (moved.a, moved.b):
        conflicts.append(
            MoveConflict(
                N_("Table %(table)s is the own table of %(host)s: only its meetings are held "
                   "there."),
                {"table": table.id, "host": _name(participants[table.host])},
            )
        )
    elif table.host is None:
        conflicts += [
            MoveConflict(
                N_("%(who)s meets only at its own tables."), {"who": _name(participants[who])}
            )
            for who in (moved.a, moved.b)
            if who in hosts
        ]
    return conflicts


def lock_run(session: Session, run: ScheduleRun) -> None:
    """Take ``run``'s row for writing and re-read it (its result may have just changed).

    The event's row first, as every writer does (publishing holds it, then writes the
    run): taken the other way round, a move and a publication deadlocked. On SQLite
    that takes the single write lock up front, so the read below is current.
    """
    lock_for_change(session, run.event_id, lock_event=True)
    session.scalars(
        select(ScheduleRun)
        .where(ScheduleRun.id == run.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def move_meeting(
    session: Session,
    event: Event,
    run: ScheduleRun,
    a: str,
    b: str,
    slot: str,
    table: str | None,
    *,
    user_id: int | None,
) -> Meeting:
    """Move the run's meeting ``a``–``b`` to ``slot``/``table`` and pin it there.

    Raises Conflict naming the first problem when the move would break a rule.
    The run's objective is recomputed (its bound still holds: a bound is a bound).
    """
    # Two organizers moving meetings of one run at once: each move rewrites the run's
    # whole result, so the second must start from the first's (lock, then read afresh).
    lock_run(session, run)
    if run.status not in (RunStatus.SUCCEEDED, RunStatus.CANCELLED) or not run.result:
        raise Conflict(N_("Only a finished run with a schedule can be edited."))
    conflicts = move_conflicts(run, a, b, slot, table)
    if conflicts:
        raise Conflict(conflicts[0].msgid, params=conflicts[0].params)
    current = _find(run, a, b)
    problem: Problem = problem_from_dict(run.problem)
    moved = dataclasses.replace(current, slot=slot, table=table if problem.tables else None)
    result = dict(run.result)
    meetings = [moved if m.key == current.key else m for m in schedule_from_dict(result).meetings]
    result["meetings"] = [
        {"a": m.a, "b": m.b, "slot": m.slot, **({"table": m.table} if m.table else {})}
        for m in meetings
    ]
    result["objective"] = objective(problem, meetings)
    run.result = result
    run.objective = result["objective"]
    run.edited_at = utcnow()
    session.flush()
    first, second = (participant_by_code(session, event, c) for c in (moved.a, moved.b))
    set_rule(
        session,
        event,
        first,
        second,
        PairRuleKind.PIN,
        slot=_slot(session, event, slot),
        table=_table(session, event, moved.table),
        user_id=user_id,
    )
    audit.record(
        session,
        "run.move_meeting",
        event_id=event.id,
        user_id=user_id,
        target=run,
        details={
            "a": moved.a,
            "b": moved.b,
            "from": {"slot": current.slot, "table": current.table},
            "to": {"slot": moved.slot, "table": moved.table},
            "affected": sorted((first.id, second.id)),
        },
    )
    return moved


def _find(run: ScheduleRun, a: str, b: str) -> Meeting:
    key = frozenset((a, b))
    for meeting in schedule_from_dict(run.result).meetings if run.result else []:
        if meeting.key == key:
            return meeting
    raise NotFound(N_("This run has no meeting of %(a)s and %(b)s."), params={"a": a, "b": b})


def _slot(session: Session, event: Event, key: str) -> Slot:
    digits = key.removeprefix("s")
    wellformed = key.startswith("s") and digits.isascii() and digits.isdigit() and len(digits) < 19
    slot = session.get(Slot, int(digits)) if wellformed else None
    if slot is None or slot.event_id != event.id:
        raise NotFound(N_("Unknown slot."))
    return slot


def _table(session: Session, event: Event, label: str | None) -> Table | None:
    if label is None:
        return None
    table = session.scalar(select(Table).where(Table.event_id == event.id, Table.label == label))
    if table is None:
        raise NotFound(N_("Unknown table."))
    return table


def _name(participant: object) -> str:
    return f"{participant.id} {participant.name}".strip()  # type: ignore[attr-defined]
