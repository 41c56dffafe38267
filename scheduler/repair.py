"""Re-optimising the rest of the day: the repair problem from the live state, a preview of
what would change and why, and applying it atomically.

Three steps, each its own call so nothing is applied unseen:

1. :func:`prepare_repair` builds the problem from the live state (what has started or
   starts within the lead time is locked and ``now`` is set after it, what staff moved,
   swapped or added on the day is locked where they put it, no-shows are unavailable
   on the day they were marked for, late arrivals and early leavers keep their windows
   (of that day), walk-ins are ordinary approved participants, the live plan is
   ``current`` with the change penalty: :func:`scheduler.problem_builder.build_problem`),
   solves it *synchronously* within a short budget and stores both as a ``ScheduleRun``
   of kind ``repair``, with a fingerprint of the live state it was computed from.
2. :func:`repair_preview` compares the run's schedule with the live meetings: kept,
   moved, cancelled and added, each change with the reason it happens, and who is
   affected. It can be recomputed from the run at any time (a page reload).
3. :func:`apply_repair` re-checks the fingerprint under the write locks (any meeting
   version, status or placement, any participant's day status, the screening switch
   or a pair rule changed since the preview: Conflict) and that no slot it changes
   has started or starts within the lead time, then writes through
   :func:`scheduler.publishing.publish_run`, so a pair keeps its meeting row and
   calendar UID and every changed meeting's version goes up (higher SEQUENCE in the
   feeds). The caller commits, then e-mails the affected people
   (``web.mail_feedback.notify_changed``).

Why synchronous and not through the run worker: the whole round trip must stay
within about three seconds while people wait at their tables. The worker's queue
(claim polling, a process per job, heartbeats) adds latency and a second place where
things can be stuck; a repair is small (the past is fixed) and its solver budget is
bounded by :data:`ROUND_TRIP_BUDGET`, so it fits within one request.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit, publishing
from scheduler.day_operations import (
    REPAIR_ACTION,
    fair_day_of,
    fair_days,
    lock_for_change,
    status_rules_out,
)
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    ParticipantUnavailableSlot,
    RunStatus,
    ScheduleRun,
    Slot,
    Table,
    User,
)
from scheduler.preferences import interest_counts, requested_pairs
from scheduler.problem_builder import (
    CHANGE_LEAD,
    DEFAULT_PARAMETERS,
    build_problem,
    changes_from,
    participant_key,
    slot_key,
)
from solver import problem as sp
from solver.engine import solve
from solver.problem_io import problem_from_dict, problem_to_dict, schedule_from_dict
from solver.problem_io import schedule_to_dict as _schedule_to_dict
from solver.validation import check, objective

KIND = "repair"
# The whole round trip (build, solve, preview) aims at this many seconds; the solver
# gets what the build leaves of it, but never less than MIN_SOLVE_SECONDS.
ROUND_TRIP_BUDGET = 2.4
MIN_SOLVE_SECONDS = 0.4
# Parameters of the published run that the repair keeps, so it optimises the same thing.
KEPT_PARAMETERS = ("meeting_bonus", "break_penalty")
CHANGE_PENALTY_RANGE = (0, 1000)
# The lead time of the day (scheduler.problem_builder.CHANGE_LEAD) in minutes, for the
# messages: a plan changes nothing that starts within it, when computed or applied.
LEAD_MINUTES = int(CHANGE_LEAD.total_seconds() // 60)
# Why a side cannot attend a planned meeting any more, by its day status.
UNAVAILABLE_BECAUSE = {
    DayStatus.NO_SHOW: N_("%(name)s is a no-show."),
    DayStatus.LATE: N_("%(name)s arrives late."),
    DayStatus.LEFT_EARLY: N_("%(name)s left early."),
}


# --------------------------------------------------------------------------- building


def _published_parameters(session: Session, event: Event) -> dict[str, Any]:
    """The objective's parameters of the last published run (defaults when none)."""
    run = session.scalar(
        select(ScheduleRun)
        .where(ScheduleRun.event_id == event.id, ScheduleRun.published_at.is_not(None))
        .order_by(ScheduleRun.published_at.desc(), ScheduleRun.id.desc())
        .limit(1)
    )
    source = run.parameters if run is not None else {}
    return {k: source.get(k, DEFAULT_PARAMETERS[k]) for k in KEPT_PARAMETERS}


def default_change_penalty(session: Session, event: Event) -> int:
    """The change penalty of the event's last repair (the organizer's choice), else the
    default: staff re-optimising on the day get what the organizer last set."""
    run = session.scalar(
        select(ScheduleRun)
        .where(ScheduleRun.event_id == event.id, ScheduleRun.kind == KIND)
        .order_by(ScheduleRun.id.desc())
        .limit(1)
    )
    if run is not None and isinstance(run.parameters.get("change_penalty"), int):
        return int(run.parameters["change_penalty"])
    return int(DEFAULT_PARAMETERS["change_penalty"])


def build_repair_problem(
    session: Session, event: Event, *, now: datetime, change_penalty: int
) -> sp.Problem:
    """The rest of the day as a solver problem, from the live state at ``now``.

    :func:`scheduler.problem_builder.build_problem` starts it from the day as it is
    (what has started or starts within :data:`~scheduler.problem_builder.CHANGE_LEAD`
    is locked, as is what staff placed on the day; no-shows are available nowhere from
    now on; the live plan is ``current``). On top of that, forced pairs become optional
    and the break cap is lifted: a repair must always return a plan, and the change
    penalty already protects what is planned. The objective's other parameters are
    those of the published run.
    """
    low, high = CHANGE_PENALTY_RANGE
    if not low <= change_penalty <= high:
        raise ValidationFailed(
            N_("The change penalty must be between %(low)s and %(high)s."),
            field="change_penalty",
            params={"low": low, "high": high},
        )
    parameters = {
        **_published_parameters(session, event),
        "kind": KIND,
        "now": now.isoformat(),
        "change_penalty": change_penalty,
        "max_breaks": None,
    }
    base = build_problem(session, event, parameters=parameters)
    return replace(
        base,
        pairs=tuple(replace(pair, must=False) for pair in base.pairs),
        max_breaks=None,
    )


def state_fingerprint(session: Session, event: Event) -> str:
    """A digest of everything a repair depends on that can change on the day: each
    meeting's version, status and place; each participant's status, window, cap and
    desks; the interests (walk-ins state theirs at the desk); and what decides which
    pairs may meet at all, where and how often: whether screening answers count (a
    plan computed with screening off may pair companies that declined each other),
    the organizer's pair rules, the event's default cap, slots and tables.

    Only what changes the plan belongs here: anything else would make plans stale
    that are still right (see the day status below).
    """
    digest = hashlib.sha256()

    def add(rows: Iterable[Any]) -> None:
        for row in rows:
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")

    digest.update(repr((event.screening_enabled, event.default_max_meetings)).encode())
    add(
        session.execute(
            select(Meeting.id, Meeting.version, Meeting.status, Meeting.slot_id, Meeting.table_id)
            .where(Meeting.event_id == event.id)
            .order_by(Meeting.id)
        )
    )
    days = fair_days(event)
    for row in session.execute(
        select(
            Participant.id,
            Participant.status,
            Participant.day_status,
            Participant.day_status_at,
            Participant.available_from,
            Participant.available_until,
            Participant.max_meetings,
            Participant.parallel_desks,
        )
        .where(Participant.event_id == event.id)
        .order_by(Participant.id)
    ):
        pid, status, day_status, status_at, available_from, available_until, cap, desks = row
        # Of the day status only "no-show", and the fair day it concerns, shapes the plan
        # (late arrivals and early leavers by their windows or closed slots): checking
        # companies in, which goes on all day at reception, must not make every plan
        # stale before it can be applied.
        no_show = day_status == DayStatus.NO_SHOW and (True, fair_day_of(event, status_at, days))
        digest.update(
            repr((pid, status, no_show, available_from, available_until, cap, desks)).encode()
        )
    add(
        session.execute(
            select(ParticipantUnavailableSlot.participant_id, ParticipantUnavailableSlot.slot_id)
            .join(Participant, Participant.id == ParticipantUnavailableSlot.participant_id)
            .where(Participant.event_id == event.id)
            .order_by(ParticipantUnavailableSlot.participant_id, ParticipantUnavailableSlot.slot_id)
        )
    )
    count, newest = session.execute(
        select(func.count(Interest.id), func.max(Interest.updated_at)).where(
            Interest.event_id == event.id
        )
    ).one()
    digest.update(repr((count, newest)).encode())
    add(
        session.execute(
            select(
                PairRule.id,
                PairRule.kind,
                PairRule.participant_a_id,
                PairRule.participant_b_id,
                PairRule.slot_id,
                PairRule.table_id,
            )
            .where(PairRule.event_id == event.id)
            .order_by(PairRule.id)
        )
    )
    add(
        session.execute(
            select(Slot.id, Slot.starts_at, Slot.ends_at)
            .where(Slot.event_id == event.id)
            .order_by(Slot.id)
        )
    )
    add(
        session.execute(
            select(Table.id, Table.label, Table.host_participant_id)
            .where(Table.event_id == event.id)
            .order_by(Table.id)
        )
    )
    return digest.hexdigest()


def prepare_repair(
    session: Session,
    event: Event,
    *,
    change_penalty: int | None = None,
    user_id: int | None = None,
    workers: int = 2,
    budget: float = ROUND_TRIP_BUDGET,
) -> ScheduleRun:
    """Solve the rest of the day now and keep the result as a repair run to preview.

    The run is stored finished (never queued for the worker) with the problem, the
    schedule, the timings and the fingerprint of the state it started from. Flushes.
    """
    started = time.perf_counter()
    now = utcnow()
    if event.published_at is None:
        raise ValidationFailed(N_("Publish the schedule before re-optimising it."))
    if not any(s.ends_at > now for s in event.slots):
        raise ValidationFailed(N_("All meetings are over: there is nothing left to re-optimise."))
    if not any(s.starts_at >= changes_from(now) for s in event.slots):
        raise ValidationFailed(
            N_(
                "No slot starts more than %(minutes)s minutes from now: the meetings left "
                "stay as they are, so there is nothing to re-optimise."
            ),
            params={"minutes": LEAD_MINUTES},
        )
    penalty = default_change_penalty(session, event) if change_penalty is None else change_penalty
    fingerprint = state_fingerprint(session, event)
    problem = build_repair_problem(session, event, now=now, change_penalty=penalty)
    built = time.perf_counter()
    limit = max(MIN_SOLVE_SECONDS, budget - (built - started))
    schedule = solve(problem, time_limit=limit, workers=workers, seed=0)
    solved = time.perf_counter()
    result = _schedule_to_dict(schedule)
    result["stats"]["repair_timings"] = {
        "build": round(built - started, 4),
        "solve": round(solved - built, 4),
    }
    run = ScheduleRun(
        event_id=event.id,
        kind=KIND,
        parameters={
            # Kept so that the next repair (which reads the last published run) optimises
            # the same objective as the organizer's run did.
            **_published_parameters(session, event),
            "kind": KIND,
            "now": now.isoformat(),
            # The plan changes nothing in a slot starting before this (the lead time).
            "changes_from": changes_from(now).isoformat(),
            "change_penalty": penalty,
            "time_limit": round(limit, 3),
            "fingerprint": fingerprint,
        },
        problem=problem_to_dict(problem),
        result=result,
        progress=[],
        objective=schedule.objective,
        bound=schedule.bound,
        started_at=now,
        finished_at=utcnow(),
        created_by_id=user_id,
        status=RunStatus.SUCCEEDED if schedule.status != sp.STATUS_INFEASIBLE else RunStatus.FAILED,
        error="" if schedule.status != sp.STATUS_INFEASIBLE else "infeasible",
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        "repair.preview",
        event_id=event.id,
        user_id=user_id,
        target=run,
        details={"change_penalty": penalty, "objective": schedule.objective},
    )
    if run.status == RunStatus.FAILED:
        raise Conflict(N_("No plan for the rest of the day honours what has already happened."))
    return run


def get_repair_run(session: Session, event: Event, run_id: int) -> ScheduleRun:
    """The repair run ``run_id`` of ``event`` (NotFound otherwise)."""
    run = session.get(ScheduleRun, run_id)
    if run is None or run.event_id != event.id or run.kind != KIND:
        raise NotFound(N_("This re-optimisation does not exist."))
    return run


# --------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class Place:
    """Where a meeting is (or would be): its slot and table."""

    slot: Slot
    table: Table | None


@dataclass
class Change:
    """One pair's meeting in the preview: ``kind`` is kept, moved, cancelled or added.

    ``reasons`` are (English msgid, params) pairs saying why it changes.
    """

    kind: str
    a: Participant
    b: Participant
    before: Place | None
    after: Place | None
    meeting: Meeting | None = None
    reasons: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    @property
    def pair_ids(self) -> frozenset[int]:
        return frozenset((self.a.id, self.b.id))


@dataclass
class RepairPreview:
    """What applying a repair run would change, and who is affected."""

    run: ScheduleRun
    kept: list[Change]
    moved: list[Change]
    cancelled: list[Change]
    added: list[Change]
    affected: list[Participant]
    stale: bool
    # The first slot this plan changes that has started since it was computed, or
    # starts within the lead time now: its meetings are under way or about to be, so
    # the plan can no longer be applied.
    started_since: Slot | None
    score_before: int | None
    score_after: int
    timings: dict[str, float]
    # The plan changes nothing in a slot starting before this (computed + lead time);
    # None for a plan stored before it was recorded.
    changes_from: datetime | None = None
    # The first slot the plan may change (starting at or after ``changes_from``).
    first_open_slot: Slot | None = None
    # Whether ``started_since`` has begun (else it starts within the lead time).
    begun: bool = True

    @property
    def changes(self) -> list[Change]:
        return [*self.moved, *self.cancelled, *self.added]

    @property
    def applied(self) -> bool:
        return self.run.published_at is not None

    @property
    def proven_best(self) -> bool:
        """Whether the solver proved its plan the best (score equal to the bound); one
        stopped by the time limit has only found nothing better, so the page says that."""
        return (self.run.result or {}).get("status") == sp.STATUS_OPTIMAL


def applied_entry(session: Session, run: ScheduleRun) -> AuditEntry | None:
    """The log entry of ``run``'s application (who, when, how many meetings changed).

    Once applied, a plan compared with the live meetings shows no difference; what it
    did is what this entry recorded.
    """
    return session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == REPAIR_ACTION,
            AuditEntry.target_type == ScheduleRun.__name__,
            AuditEntry.target_id == run.id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def repair_preview(session: Session, event: Event, run: ScheduleRun) -> RepairPreview:
    """Compare ``run``'s schedule with the live meetings (read-only)."""
    started = time.perf_counter()
    if run.result is None or run.problem is None:
        raise Conflict(N_("This re-optimisation has no plan to show."))
    schedule = schedule_from_dict(run.result)
    problem = problem_from_dict(run.problem)
    participants = {
        participant_key(p): p
        for p in session.scalars(
            select(Participant)
            .where(Participant.event_id == event.id)
            .options(selectinload(Participant.organization))
        )
    }
    slots = {slot_key(s): s for s in event.slots}
    tables = {t.label: t for t in session.scalars(select(Table).where(Table.event_id == event.id))}
    live = {
        frozenset((m.participant_a_id, m.participant_b_id)): m
        for m in session.scalars(
            select(Meeting)
            .where(Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED)
            .options(selectinload(Meeting.slot), selectinload(Meeting.table))
        )
    }
    planned: dict[frozenset[int], tuple[Participant, Participant, Place]] = {}
    for item in schedule.meetings:
        a, b = participants.get(item.a), participants.get(item.b)
        slot = slots.get(item.slot)
        if a is None or b is None or slot is None:
            raise Conflict(N_("The event changed since this re-optimisation: run it again."))
        place = Place(slot, tables.get(item.table) if item.table else None)
        planned[frozenset((a.id, b.id))] = (a, b, place)

    kept: list[Change] = []
    moved: list[Change] = []
    cancelled: list[Change] = []
    added: list[Change] = []
    for pair, meeting in live.items():
        before = Place(meeting.slot, meeting.table)
        target = planned.get(pair)
        a, b = meeting.participant_a, meeting.participant_b
        if target is None:
            if meeting.status == MeetingStatus.HELD:
                continue  # history is never cancelled (publishing keeps it too)
            cancelled.append(Change("cancelled", a, b, before, None, meeting))
        elif target[2].slot.id == before.slot.id and _table_id(target[2]) == meeting.table_id:
            kept.append(Change("kept", a, b, before, before, meeting))
        else:
            moved.append(Change("moved", a, b, before, target[2], meeting))
    for pair, (a, b, place) in planned.items():
        if pair not in live:
            added.append(Change("added", a, b, None, place))

    _explain(event, moved, cancelled, added, asked=_who_asked(session, event))
    order = _change_order
    affected_ids = {pid for change in (*moved, *cancelled, *added) for pid in change.pair_ids}
    affected = sorted(
        (p for p in participants.values() if p.id in affected_ids),
        key=lambda p: (p.code, p.id),
    )
    current = list(problem.current)
    score_before = objective(problem, current) if not check(problem, current) else None
    timings = dict(run.result.get("stats", {}).get("repair_timings", {}))
    timings["preview"] = round(time.perf_counter() - started, 4)
    now = utcnow()
    started_since = _first_started([*moved, *cancelled, *added], changes_from(now))
    cutoff = _changes_from(run, problem)
    return RepairPreview(
        run=run,
        kept=sorted(kept, key=order),
        moved=sorted(moved, key=order),
        cancelled=sorted(cancelled, key=order),
        added=sorted(added, key=order),
        affected=affected,
        stale=started_since is not None
        or run.parameters.get("fingerprint") != state_fingerprint(session, event),
        started_since=started_since,
        score_before=score_before,
        score_after=schedule.objective,
        timings=timings,
        changes_from=cutoff,
        first_open_slot=min(
            (s for s in event.slots if cutoff is None or s.starts_at >= cutoff),
            key=lambda slot: slot.starts_at,
            default=None,
        ),
        begun=started_since is None or started_since.starts_at <= now,
    )


def _changes_from(run: ScheduleRun, problem: sp.Problem) -> datetime | None:
    """From when ``run``'s plan may change meetings (its problem's ``now``)."""
    recorded = run.parameters.get("changes_from")
    if isinstance(recorded, str) and recorded:
        return datetime.fromisoformat(recorded)
    return problem.now


def _first_started(changes: Iterable[Change], cutoff: datetime) -> Slot | None:
    """The earliest slot that ``changes`` touch (before or after) and that starts before
    ``cutoff`` (now plus the lead time). Slots starting before the cutoff when the plan
    was computed are locked in it, so this is one that has started since, or is about
    to: applying would change meetings under way or whose people are on their way."""
    touched = {
        place.slot.id: place.slot
        for change in changes
        for place in (change.before, change.after)
        if place is not None and place.slot.starts_at < cutoff
    }
    return min(touched.values(), key=lambda slot: slot.starts_at, default=None)


def _table_id(place: Place) -> int | None:
    return place.table.id if place.table is not None else None


def _change_order(change: Change) -> tuple[Any, ...]:
    place = change.before or change.after
    assert place is not None
    return (place.slot.starts_at, place.table.label if place.table else "", change.a.code)


def _pair_name(change: Change) -> str:
    return f"{change.a.code or change.a.display_name}–{change.b.code or change.b.display_name}"


@dataclass(frozen=True)
class WhoAsked:
    """Who wants each pair's meeting, as the pair's solver weight counts it.

    ``sides``: per requested pair, the participants that asked for the meeting (or
    accepted it when screening); ``by_organizer``: the pairs a pair rule makes meet.
    """

    sides: dict[frozenset[int], frozenset[int]] = field(default_factory=dict)
    by_organizer: frozenset[frozenset[int]] = frozenset()


# Why a pair meets, or met, by who asked: staff weigh a cancellation against what takes
# its place (a meeting both sides wanted, given up for one only one side asked for, is
# a trade-off they must see the right way round).
_ADDED_BECAUSE = {
    "both": N_("Both sides asked to meet and are free at %(when)s."),
    ParticipantRole.BUYER: N_("Only the buyer %(name)s asked to meet; both are free at %(when)s."),
    ParticipantRole.SUPPLIER: N_(
        "Only the supplier %(name)s asked to meet; both are free at %(when)s."
    ),
    "organizer": N_(
        "Neither side asked to meet, but the organizer set this pair to meet; both are free "
        "at %(when)s."
    ),
    "neither": N_("Neither side asked to meet; both are free at %(when)s."),
}
_CANCELLED_PAIR = {
    "both": N_("Both sides had asked to meet."),
    ParticipantRole.BUYER: N_("Only the buyer %(name)s had asked to meet."),
    ParticipantRole.SUPPLIER: N_("Only the supplier %(name)s had asked to meet."),
    "organizer": N_("Neither side had asked to meet; the organizer had set this pair to meet."),
    "neither": N_("Neither side had asked to meet."),
}


def _who_asked(session: Session, event: Event) -> WhoAsked:
    """Who asked for each pair, from the interests as they count now
    (:func:`scheduler.preferences.requested_pairs`: mutual or not, screening answers
    only while screening is on), and the pairs the organizer's rules make meet."""
    requested = {frozenset((p.a, p.b)): p for p in requested_pairs(session, event)}
    wanting: dict[frozenset[int], set[int]] = defaultdict(set)
    for interest in session.scalars(select(Interest).where(Interest.event_id == event.id)):
        pair = frozenset((interest.from_participant_id, interest.to_participant_id))
        preference = requested.get(pair)
        if (
            preference is not None
            and not preference.mutual
            and interest.level > 0
            and not interest.declined
            and interest_counts(interest, event.screening_enabled)
        ):
            wanting[pair].add(interest.from_participant_id)
    ruled = frozenset(
        frozenset((rule.participant_a_id, rule.participant_b_id))
        for rule in session.scalars(
            select(PairRule).where(
                PairRule.event_id == event.id, PairRule.kind != PairRuleKind.FORBID
            )
        )
    )
    return WhoAsked(
        sides={
            pair: pair if preference.mutual else frozenset(wanting[pair])
            for pair, preference in requested.items()
        },
        by_organizer=ruled,
    )


def _asked_reason(
    change: Change, asked: WhoAsked, reasons: dict[Any, str], params: dict[str, object]
) -> tuple[str, dict[str, object]]:
    """The reason in ``reasons`` that says who asked for ``change``'s pair."""
    sides = asked.sides.get(change.pair_ids, frozenset())
    if sides >= change.pair_ids:
        return reasons["both"], params
    for side in (change.a, change.b):
        if side.id in sides:
            role = side.role if side.role in reasons else ParticipantRole.SUPPLIER
            return reasons[role], {**params, "name": side.display_name}
    if change.pair_ids in asked.by_organizer:
        return reasons["organizer"], params
    return reasons["neither"], params


def _explain(
    event: Event,
    moved: list[Change],
    cancelled: list[Change],
    added: list[Change],
    *,
    asked: WhoAsked | None = None,
) -> None:
    """Give every change its reasons: a side that cannot attend any more, or the
    changes that take its place (a chain back to the gap that started it); an added
    meeting, and one given up for others, say who asked for it (``asked``)."""
    asked = asked if asked is not None else WhoAsked()
    arriving: dict[tuple[int, int], list[Change]] = defaultdict(list)  # (participant, slot)
    at_table: dict[tuple[int, int], list[Change]] = defaultdict(list)  # (table, slot)
    for change in (*moved, *added):
        assert change.after is not None
        for pid in change.pair_ids:
            arriving[(pid, change.after.slot.id)].append(change)
        if change.after.table is not None:
            at_table[(change.after.table.id, change.after.slot.id)].append(change)

    def unavailable(change: Change) -> list[tuple[str, dict[str, object]]]:
        assert change.before is not None
        reasons: list[tuple[str, dict[str, object]]] = []
        for side in (change.a, change.b):
            if side.status != ParticipantStatus.APPROVED:
                reasons.append((N_("%(name)s no longer takes part."), {"name": side.display_name}))
            elif status_rules_out(
                side, change.before.slot
            ) == DayStatus.NO_SHOW or not side.is_available(change.before.slot):
                # The status set for the meeting's own day: one of another fair day (a
                # no-show yesterday) is no reason today.
                day = event.local(change.before.slot.starts_at).date()
                status = (
                    DayStatus(side.day_status)
                    if fair_day_of(event, side.day_status_at) in (day, None)
                    else None
                )
                msgid = UNAVAILABLE_BECAUSE.get(status, N_("%(name)s is not available then."))
                reasons.append((msgid, {"name": side.display_name}))
        return reasons

    def displaced_by(change: Change) -> list[tuple[str, dict[str, object]]]:
        assert change.before is not None
        slot_id = change.before.slot.id
        others: list[Change] = []
        for pid in change.pair_ids:
            others += [c for c in arriving[(pid, slot_id)] if c is not change]
        if change.before.table is not None:
            others += [c for c in at_table[(change.before.table.id, slot_id)] if c is not change]
        names = sorted({_pair_name(c) for c in others})
        if not names:
            return []
        when = event.local(change.before.slot.starts_at).strftime("%H:%M")
        return [
            (
                N_("Its place at %(when)s goes to %(pairs)s."),
                {"when": when, "pairs": ", ".join(names)},
            )
        ]

    for change in cancelled:
        change.reasons = unavailable(change)
        if not change.reasons:
            # Given up for other meetings: say what it was worth to whom, so that the
            # trade-off reads against the reasons of the meetings that take its place.
            change.reasons = displaced_by(change) or [
                (N_("Dropped so that the rest of the day scores higher overall."), {})
            ]
            change.reasons.append(_asked_reason(change, asked, _CANCELLED_PAIR, {}))

    def table_only(change: Change) -> list[tuple[str, dict[str, object]]]:
        """A move within its slot: only the table changes, which is no gap being filled."""
        assert change.before is not None and change.after is not None
        if change.before.slot.id != change.after.slot.id:
            return []
        table = change.after.table
        host = next(
            (
                side
                for side in (change.a, change.b)
                if table and table.host_participant_id == side.id
            ),
            None,
        )
        if table is not None and host is not None:
            return [
                (
                    N_("Same time, at the own table of %(name)s (%(table)s)."),
                    {"name": host.display_name, "table": table.label},
                )
            ]
        return [
            (
                N_("Same time; only the table changes, to %(table)s."),
                {"table": table.label if table is not None else "—"},
            )
        ]

    for change in moved:
        change.reasons = (
            unavailable(change)
            or displaced_by(change)
            or table_only(change)
            or [(N_("Moved to close a gap in someone's day."), {})]
        )
    for change in added:
        assert change.after is not None
        when = event.local(change.after.slot.starts_at).strftime("%H:%M")
        change.reasons = [_asked_reason(change, asked, _ADDED_BECAUSE, {"when": when})]


# --------------------------------------------------------------------------- applying


@dataclass
class RepairOutcome:
    """What applying a repair changed, and whom to e-mail."""

    run: ScheduleRun
    moved: int
    cancelled: int
    added: int
    notify: set[int]
    version: int


def apply_repair(
    session: Session, event: Event, preview: RepairPreview, *, user: User | None
) -> RepairOutcome:
    """Apply the previewed repair in the caller's transaction (flushes; the caller commits).

    Takes the write locks of every participant, table and meeting of the event (in the
    global order of :func:`scheduler.day_operations.lock_for_change`, so staff acting at
    the same moment wait or fail cleanly, never deadlock), then refuses with Conflict if
    anything changed since the preview was computed or it was applied already.
    """
    run = preview.run
    if run.event_id != event.id or run.kind != KIND:
        raise NotFound(N_("This re-optimisation does not exist."))
    lock_for_change(
        session,
        event.id,
        lock_event=True,  # publish_run below locks it too: first, as everywhere
        participant_ids=session.scalars(
            select(Participant.id).where(Participant.event_id == event.id)
        ).all(),
        table_ids=session.scalars(select(Table.id).where(Table.event_id == event.id)).all(),
        meeting_ids=session.scalars(select(Meeting.id).where(Meeting.event_id == event.id)).all(),
    )
    session.refresh(run)
    if run.published_at is not None:
        raise Conflict(N_("This re-optimisation has been applied already."))
    now = utcnow()
    begun = _first_started(preview.changes, changes_from(now))
    if begun is not None and begun.starts_at <= now:
        raise Conflict(
            N_(
                "The slot at %(time)s has started since this preview, and the plan changes "
                "meetings in it. Nothing was applied: re-optimise again for a fresh preview."
            ),
            params={"time": event.local(begun.starts_at).strftime("%H:%M")},
        )
    if begun is not None:
        raise Conflict(
            N_(
                "The slot at %(time)s starts in less than %(minutes)s minutes, and the plan "
                "changes meetings in it: the people concerned could not be told in time. "
                "Nothing was applied: re-optimise again for a fresh preview."
            ),
            params={
                "time": event.local(begun.starts_at).strftime("%H:%M"),
                "minutes": LEAD_MINUTES,
            },
        )
    if run.parameters.get("fingerprint") != state_fingerprint(session, event):
        raise Conflict(
            N_(
                "The schedule changed since this preview (a meeting was changed or someone's "
                "status was set). Nothing was applied: re-optimise again for a fresh preview."
            )
        )
    changed_ids = [c.meeting.id for c in (*preview.moved, *preview.cancelled) if c.meeting]
    user_id = user.id if user is not None else None
    outcome = publishing.publish_run(session, event, run, user_id=user_id)
    # The rows publishing wrote carry the database's clock; the day's changes are
    # stamped with the one clock so "changed today" reads the same everywhere.
    added_pairs = {c.pair_ids for c in preview.added}
    for meeting in session.scalars(select(Meeting).where(Meeting.event_id == event.id)):
        pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
        if meeting.id in changed_ids or (
            pair in added_pairs and meeting.status != MeetingStatus.CANCELLED
        ):
            meeting.updated_at = now
    session.flush()
    audit.record(
        session,
        REPAIR_ACTION,
        event_id=event.id,
        user_id=user_id,
        target=run,
        details={
            "change_penalty": run.parameters.get("change_penalty"),
            "moved": len(preview.moved),
            "cancelled": len(preview.cancelled),
            "added": len(preview.added),
            "version": outcome.version,
            # What changed, pair by pair, with the reasons: once applied, the plan no
            # longer differs from the live meetings, and staff still have to tell people.
            "changes": [_recorded(change) for change in preview.changes],
            # The companies those changes concern, for History's company filter.
            "affected": sorted({p.id for c in preview.changes for p in (c.a, c.b)}),
        },
    )
    return RepairOutcome(
        run=run,
        moved=len(preview.moved),
        cancelled=len(preview.cancelled),
        added=len(preview.added),
        notify=set(outcome.notify),
        version=outcome.version,
    )


def _recorded(change: Change) -> dict[str, Any]:
    def place(where: Place | None) -> list[int | None] | None:
        return None if where is None else [where.slot.id, _table_id(where)]

    return {
        "kind": change.kind,
        "a": change.a.id,
        "b": change.b.id,
        "before": place(change.before),
        "after": place(change.after),
        "reasons": [[msgid, params] for msgid, params in change.reasons],
    }


def applied_changes(session: Session, entry: AuditEntry | None) -> dict[str, list[Change]]:
    """The moved, cancelled and added meetings an applied repair recorded, by kind
    (lists empty for an entry from before they were recorded, or a row since deleted)."""
    found: dict[str, list[Change]] = {"moved": [], "cancelled": [], "added": []}
    if entry is None:
        return found
    for item in entry.details.get("changes", []):
        a, b = session.get(Participant, item["a"]), session.get(Participant, item["b"])
        if a is None or b is None or item.get("kind") not in found:
            continue
        places = []
        for where in (item.get("before"), item.get("after")):
            slot = session.get(Slot, where[0]) if where else None
            table = session.get(Table, where[1]) if where and where[1] is not None else None
            places.append(Place(slot, table) if slot is not None else None)
        reasons = [(str(msgid), dict(params or {})) for msgid, params in item.get("reasons", [])]
        found[item["kind"]].append(Change(item["kind"], a, b, places[0], places[1], None, reasons))
    for changes in found.values():
        changes.sort(key=_change_order)
    return found


def describe(reasons: Iterable[tuple[str, dict[str, object]]]) -> list[str]:
    """The reasons in English (logs, the CLI, tests); pages translate the msgids."""
    return [msgid % params if params else msgid for msgid, params in reasons]
