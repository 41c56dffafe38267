"""Publishing a run: its meetings become the schedule participants see, in one transaction.

A pair keeps one Meeting row (and so one calendar UID) for the life of the event:
an unchanged meeting is left alone, a moved one is updated with ``version + 1``,
a dropped one is cancelled with ``version + 1`` (never deleted, so calendars
learn it is off), a pair that meets again reuses its cancelled row. Everything
happens in the caller's transaction, so readers see the old published schedule
or the new one, never a mix. Publishing the same run again changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.day_operations import fair_days, status_rules_out
from scheduler.db import utcnow
from scheduler.errors import Conflict
from scheduler.i18n import N_
from scheduler.models import (
    PHASE_ORDER,
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantStatus,
    Phase,
    RunStatus,
    ScheduleRun,
    Slot,
    Table,
)
from scheduler.pair_rules import lock_run
from scheduler.problem_builder import (
    CHANGE_LEAD,
    PARTICIPANT_IDS,
    changes_from,
    fair_under_way,
    participant_key,
    slot_key,
    staff_day_changes,
)
from solver.problem import STATUS_INFEASIBLE, Problem
from solver.problem import Meeting as SolverMeeting
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.validation import MeetingKey, check, meeting_key

log = logging.getLogger(__name__)

PUBLISHABLE = frozenset({RunStatus.SUCCEEDED, RunStatus.CANCELLED})
# Runs of this kind are the day's re-optimisations (scheduler.repair): applied through
# their preview, which checks the day itself (what changed since, what has started).
REPAIR_KIND = "repair"


@dataclass
class PublishOutcome:
    """What a publication changed, and whom to tell."""

    version: int
    first: bool = False
    inserted: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0
    notify: set[int] = field(default_factory=set)  # participant ids

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.moved or self.cancelled or self.first)


# What each hard rule of ``solver.validation.check`` ("rule N: …") means to an organizer.
# The checker's own text is English with internal ids: it goes to the log only.
_BROKEN_RULE = {
    "1": N_(
        "This run's schedule cannot be published: a pair meets that may not meet, meets "
        "in a slot it may not use, or meets more than once (problems found: %(count)s). "
        "Start a new run and publish that."
    ),
    "2": N_(
        "This run's schedule cannot be published: a company meets when it is not "
        "available, or has more meetings than allowed (problems found: %(count)s). "
        "Start a new run and publish that."
    ),
    "3": N_(
        "This run's schedule cannot be published: a table holds two meetings in the same "
        "slot (problems found: %(count)s). Start a new run and publish that."
    ),
    "4": N_(
        "This run's schedule cannot be published: a meeting is at a table it may not use "
        "(problems found: %(count)s). Start a new run and publish that."
    ),
    "5": N_(
        "This run's schedule cannot be published: a pair that must meet has no meeting "
        "(problems found: %(count)s). Start a new run and publish that."
    ),
    "6": N_(
        "This run's schedule cannot be published: a pinned meeting is not where it was "
        "pinned (problems found: %(count)s). Start a new run and publish that."
    ),
    "7": N_(
        "This run's schedule cannot be published: a meeting was added in a slot that has "
        "already started (problems found: %(count)s). Start a new run and publish that."
    ),
    "8": N_(
        "This run's schedule cannot be published: a company has more waits between "
        "meetings than allowed (problems found: %(count)s). Start a new run and publish "
        "that."
    ),
}
_RULE_NUMBER = re.compile(r"rule (\d+):")


def _broken_rule(run: ScheduleRun, problems: list[str]) -> Conflict:
    """The refusal to publish a schedule that breaks a hard rule, in the organizer's terms."""
    log.warning(
        "run %s breaks %d rule(s), not published: %s", run.id, len(problems), "; ".join(problems)
    )
    found = _RULE_NUMBER.match(problems[0])
    msgid = _BROKEN_RULE.get(found.group(1)) if found else None
    return Conflict(
        msgid
        or N_(
            "This run's schedule breaks a scheduling rule and cannot be published "
            "(problems found: %(count)s). Start a new run and publish that."
        ),
        params={"count": len(problems)},
    )


@dataclass
class _Plan:
    """How a run's meetings map onto the event's Meeting rows (nothing written yet)."""

    participants: dict[str, Participant]
    pinned: set[frozenset[int]]
    cancel: list[tuple[frozenset[int], Meeting]] = field(default_factory=list)
    keep: list[tuple[frozenset[int], Meeting]] = field(default_factory=list)
    move: list[tuple[frozenset[int], Meeting, Slot, Table | None]] = field(default_factory=list)
    insert: list[tuple[frozenset[int], Participant, Participant, Slot, Table | None]] = field(
        default_factory=list
    )


def _plan(session: Session, event: Event, run: ScheduleRun, *, lock: bool) -> _Plan:
    """Check ``run`` can be published (Conflict if not) and sort its meetings into
    cancelled, kept, moved (or meeting again) and new, against the rows as they are."""
    if run.event_id != event.id or run.status not in PUBLISHABLE or not run.result:
        raise Conflict(N_("Only a finished run with a schedule can be published."))
    schedule = schedule_from_dict(run.result)
    if schedule.status == STATUS_INFEASIBLE:
        raise Conflict(N_("This run found no schedule that honours every forced pair."))
    problem = problem_from_dict(run.problem)
    problems = check(problem, schedule.meetings)
    if problems:
        raise _broken_rule(run, problems)

    # Only those who take part: a run computed before a company withdrew (or was
    # declined) still gives it meetings, and publishing it must not bring them back.
    participants = {
        participant_key(p): p
        for p in session.scalars(select(Participant).where(Participant.event_id == event.id))
        if p.status == ParticipantStatus.APPROVED
    }
    _check_codes(run, schedule.meetings, participants)
    slots = {slot_key(s): s for s in session.scalars(select(Slot).where(Slot.event_id == event.id))}
    tables = {t.label: t for t in session.scalars(select(Table).where(Table.event_id == event.id))}
    wanted: dict[frozenset[int], tuple[Participant, Participant, Slot, Table | None]] = {}
    for meeting in schedule.meetings:
        a, b = participants.get(meeting.a), participants.get(meeting.b)
        slot = slots.get(meeting.slot)
        table = tables.get(meeting.table) if meeting.table is not None else None
        if a is None or b is None or slot is None or (meeting.table and table is None):
            raise Conflict(
                N_(
                    "The event changed since this run (%(what)s is gone): "
                    "start a new run and publish that."
                ),
                params={"what": " ".join(x for x in (meeting.a, meeting.b, meeting.table) if x)},
            )
        wanted[frozenset((a.id, b.id))] = (a, b, slot, table)

    pinned = {
        frozenset((r.participant_a_id, r.participant_b_id))
        for r in session.scalars(
            select(PairRule).where(PairRule.event_id == event.id, PairRule.kind == PairRuleKind.PIN)
        )
    }
    active: dict[frozenset[int], Meeting] = {}
    dormant: dict[frozenset[int], Meeting] = {}
    rows = select(Meeting).where(Meeting.event_id == event.id).order_by(Meeting.id)
    for meeting in session.scalars(rows.with_for_update() if lock else rows):
        pair = frozenset((meeting.participant_a_id, meeting.participant_b_id))
        if meeting.status == MeetingStatus.CANCELLED:
            dormant[pair] = meeting  # the newest cancelled row of the pair wins
        else:
            active[pair] = meeting

    plan = _Plan(participants, pinned)
    for pair, meeting in active.items():
        # A meeting that took place stays: history is not rewritten by a later plan.
        if pair not in wanted and meeting.status != MeetingStatus.HELD:
            plan.cancel.append((pair, meeting))
    for pair, (a, b, slot, table) in wanted.items():
        meeting = active.get(pair) or dormant.get(pair)
        if meeting is None:
            plan.insert.append((pair, a, b, slot, table))
            continue
        same_place = meeting.slot_id == slot.id and meeting.table_id == (
            table.id if table is not None else None
        )
        if meeting.status != MeetingStatus.CANCELLED and same_place:
            plan.keep.append((pair, meeting))
        else:
            plan.move.append((pair, meeting, slot, table))
    # The statuses first: "it gives X a meeting, but X is a no-show" says more than
    # "the day changed since this run".
    _check_day_statuses(plan)
    _check_the_day(session, event, run, problem, plan)
    return plan


def _check_codes(
    run: ScheduleRun, meetings: list[SolverMeeting], participants: dict[str, Participant]
) -> None:
    """Conflict when a code of ``run``'s meetings now belongs to another participant than
    the one it meant when the run was computed.

    Codes are reused: a role change re-codes a company, and its old code may go to a
    newcomer (or be typed by hand). Publishing by code alone would then hand one
    company's meetings to another. A run stores which participant each code meant
    (:data:`~scheduler.problem_builder.PARTICIPANT_IDS`); a run without that record (a
    re-optimisation of the day, which is applied only while the day is unchanged, or a
    run stored before it existed) is matched by code as before.
    """
    meant = (run.parameters or {}).get(PARTICIPANT_IDS)
    if meant is None:
        return
    for code in sorted({side for m in meetings for side in (m.a, m.b)}):
        holder = participants.get(code)
        if holder is not None and meant.get(code) != holder.id:
            raise Conflict(
                N_(
                    "The code %(code)s belongs to another company than when this run was "
                    "computed: start a new run and publish that."
                ),
                params={"code": code},
            )


def _check_the_day(
    session: Session, event: Event, run: ScheduleRun, problem: Problem, plan: _Plan
) -> None:
    """Conflict when, the fair being under way (or its day changed by staff), ``run``
    would change the day without starting from it.

    A plan for the fair day must keep what has happened and what staff did: runs built
    once the fair is under way lock it (:func:`scheduler.problem_builder.build_problem`).
    So publishing one is refused when it was computed before the fair began (it would
    rewrite meetings that have started, and cancel what staff added), when meetings or
    statuses changed on the day since it was computed (it would undo that; before the
    first meeting this is the one check, for a run from before the day), or when it
    changes a slot that has started since, or starts within the lead time. A repair run
    is not checked here: :func:`scheduler.repair.apply_repair` checks its own plan
    against the day, under the same locks, before it publishes it.
    """
    if run.kind == REPAIR_KIND or not (plan.cancel or plan.move or plan.insert):
        return
    now = utcnow()
    changed = N_(
        "Meetings or someone's status for the day changed after this run was "
        "computed (%(time)s), and publishing it would undo that. Start a new run, "
        "or use “Re-optimise the rest of the day”."
    )
    computed = event.local(run.created_at)
    # A run of an earlier day is dated: "18:40" alone would read as today's.
    when = {
        "time": computed.strftime(
            "%H:%M" if computed.date() == event.local(now).date() else "%Y-%m-%d %H:%M"
        )
    }
    if problem.now is None and not fair_under_way(event, now):
        # Before the first meeting a run from before the day may still be published,
        # unless staff changed the day since (QA review: on the fair's morning it put a
        # meeting staff had moved back where it had been).
        if staff_day_changes(session, event, since=run.created_at):
            raise Conflict(changed, params=when)
        return
    if problem.now is None:
        raise Conflict(
            N_(
                "This run was computed before the fair began, so it does not keep what has "
                "happened since: publishing it would change meetings that have started or "
                "that staff changed today. To change the rest of the day, use "
                "“Re-optimise the rest of the day”."
            )
        )
    if _live_plan(session, event, problem) != {meeting_key(m) for m in problem.current}:
        raise Conflict(changed, params=when)
    cutoff = changes_from(now)
    touched = [slot for _pair, _meeting, slot, _table in plan.move]
    touched += [
        m.slot for _pair, m, _slot, _table in plan.move if m.status != MeetingStatus.CANCELLED
    ]
    touched += [meeting.slot for _pair, meeting in plan.cancel]
    touched += [slot for _pair, _a, _b, slot, _table in plan.insert]
    soon = min(
        (s for s in touched if s.starts_at < cutoff), key=lambda s: s.starts_at, default=None
    )
    if soon is not None:
        raise Conflict(
            N_(
                "The slot at %(time)s has started since this run was computed, or starts "
                "within %(minutes)s minutes, and the run changes meetings in it. Start a new "
                "run, or use “Re-optimise the rest of the day”."
            ),
            params={
                "time": event.local(soon.starts_at).strftime("%H:%M"),
                "minutes": int(CHANGE_LEAD.total_seconds() // 60),
            },
        )


def _live_plan(session: Session, event: Event, problem: Problem) -> set[MeetingKey]:
    """The live meetings of approved participants, as a problem built now writes them
    (``current``): a participant who joined since (a walk-in) or left makes a difference."""
    with_tables = problem.tables is not None
    live: set[MeetingKey] = set()
    for meeting in session.scalars(
        select(Meeting).where(
            Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
        )
    ):
        sides = (meeting.participant_a, meeting.participant_b)
        if any(side.status != ParticipantStatus.APPROVED for side in sides):
            continue
        table = meeting.table.label if with_tables and meeting.table is not None else None
        live.add((frozenset(participant_key(s) for s in sides), slot_key(meeting.slot_id), table))
    return live


def _check_day_statuses(plan: _Plan) -> None:
    """Conflict when the plan would place a meeting where the day has ruled it out: a
    participant marked as a no-show, or before a late arrival or after an early leave
    (staff's marks of the day must not be undone by a publication).

    The messages say what the run would do, not why: a run computed before the day
    never knew of the marks, but one computed on the day may simply predate them.

    A mark concerns its own fair day (:func:`scheduler.day_operations.status_rules_out`):
    a company that did not come on the first day of two may be given meetings on the
    second."""
    placements = [
        (meeting.participant_a, meeting.participant_b, slot)
        for _pair, meeting, slot, _table in plan.move
    ]
    placements += [(a, b, slot) for _pair, a, b, slot, _table in plan.insert]
    days = fair_days(placements[0][2].event) if placements else []
    for a, b, slot in placements:
        for person in (a, b):
            ruled = status_rules_out(person, slot, days)
            if ruled == DayStatus.NO_SHOW:
                msgid = N_(
                    "This run gives %(who)s a meeting, but %(who)s is marked as a no-show "
                    "today: publishing it would undo that. Start a new run (on the day: "
                    "re-optimise the rest of the day) and publish that."
                )
            elif ruled == DayStatus.LATE or (
                person.available_from is not None and slot.starts_at < person.available_from
            ):
                msgid = N_(
                    "This run places a meeting of %(who)s before they arrive: publishing it "
                    "would undo that. Start a new run (on the day: re-optimise the rest of "
                    "the day) and publish that."
                )
            elif ruled == DayStatus.LEFT_EARLY or (
                person.available_until is not None and slot.ends_at > person.available_until
            ):
                msgid = N_(
                    "This run places a meeting of %(who)s after they leave: publishing it "
                    "would undo that. Start a new run (on the day: re-optimise the rest of "
                    "the day) and publish that."
                )
            else:
                continue
            raise Conflict(msgid, params={"who": person.display_name})


def preview_publication(session: Session, event: Event, run: ScheduleRun) -> PublishOutcome | None:
    """What publishing ``run`` now would change, without changing anything (None when it
    cannot be published): shown before the organizer confirms."""
    try:
        plan = _plan(session, event, run, lock=False)
    except Conflict:
        return None
    outcome = PublishOutcome(
        version=event.published_version + 1,
        first=event.published_at is None,
        inserted=len(plan.insert),
        moved=len(plan.move),
        cancelled=len(plan.cancel),
        unchanged=len(plan.keep),
    )
    for pair, *_rest in (*plan.cancel, *plan.move, *plan.insert):
        outcome.notify |= pair
    return outcome


def publish_run(
    session: Session, event: Event, run: ScheduleRun, *, user_id: int | None = None
) -> PublishOutcome:
    """Make ``run``'s meetings the published schedule of ``event`` (flushes, the caller commits).

    Raises Conflict when the run has no usable schedule or the event changed so
    that its meetings no longer fit (a participant withdrew, a slot or table was
    removed): the organizer re-runs instead of publishing something half-applied.
    """
    # Serialise publications of one event, the event's row first as in every writer's
    # lock order (scheduler.day_operations.lock_for_change), and read its version and
    # first-publication stamp afresh under the lock: two organizers publishing at the
    # same moment must not both announce "version 2" (or both e-mail everyone as a
    # first publication).
    try:
        # The event's row, then the run's (edits of its schedule hold it), then its
        # meetings (in _plan).
        lock_run(session, run)
        plan = _plan(session, event, run, lock=True)
    except OperationalError as error:  # a deadlock or lock timeout chosen by the database
        raise Conflict(
            N_("Another change was being saved at the same moment. Please try again.")
        ) from error
    participants = plan.participants

    outcome = PublishOutcome(version=event.published_version, first=event.published_at is None)
    # 1. Cancel dropped meetings first, so their tables are free for the moves below.
    for pair, meeting in plan.cancel:
        meeting.status = MeetingStatus.CANCELLED
        meeting.version += 1
        outcome.cancelled += 1
        outcome.notify |= pair
    session.flush()

    # 2. Moves (and pairs meeting again) leave their old table first: swapping two
    #    meetings' tables must not trip the one-meeting-per-table-and-slot index mid-way.
    for pair, meeting in plan.keep:
        meeting.locked = pair in plan.pinned
        outcome.unchanged += 1
    reinstated: list[int] = []
    # Where each moved meeting was, before its table is let go below.
    was = {meeting.id: (meeting.slot_id, meeting.table_id) for _p, meeting, _s, _t in plan.move}
    for pair, meeting, _slot, _table in plan.move:
        meeting.locked = pair in plan.pinned
        meeting.table_id = None
        if meeting.status == MeetingStatus.CANCELLED:
            reinstated.append(meeting.id)
    if reinstated:
        # Reports on the cancelled meeting are about a meeting that did not stand; the
        # pair meeting again is a new meeting and gets asked afresh.
        session.execute(delete(MeetingOutcome).where(MeetingOutcome.meeting_id.in_(reinstated)))
    session.flush()
    for _pair, meeting, slot, table in plan.move:
        meeting.move_to(slot.id, table.id if table is not None else None, since=was[meeting.id])
        meeting.status = MeetingStatus.PLANNED
        meeting.version += 1
        outcome.moved += 1
        outcome.notify |= {meeting.participant_a_id, meeting.participant_b_id}
    session.flush()

    # 3. New pairs.
    purposes = _purposes(session, event)
    for pair, a, b, slot, table in plan.insert:
        session.add(
            Meeting(
                event_id=event.id,
                participant_a_id=a.id,
                participant_b_id=b.id,
                slot_id=slot.id,
                table_id=table.id if table is not None else None,
                status=MeetingStatus.PLANNED,
                source="solver",
                locked=pair in plan.pinned,
                purpose=purposes.get(pair, ""),
            )
        )
        outcome.inserted += 1
        outcome.notify |= pair
    session.flush()

    if not outcome.changed:
        return outcome
    now = utcnow()
    event.published_version += 1
    event.published_at = now
    if PHASE_ORDER.index(Phase(event.phase)) < PHASE_ORDER.index(Phase.PUBLISHED):
        event.phase = Phase.PUBLISHED
    run.published_at = now
    outcome.version = event.published_version
    if outcome.first:
        outcome.notify |= {
            p.id for p in participants.values() if p.status == ParticipantStatus.APPROVED
        }
    audit.record(
        session,
        "schedule.publish",
        event_id=event.id,
        user_id=user_id,
        target=run,
        details={
            "version": outcome.version,
            "inserted": outcome.inserted,
            "moved": outcome.moved,
            "cancelled": outcome.cancelled,
            "unchanged": outcome.unchanged,
        },
    )
    return outcome


def _purposes(session: Session, event: Event) -> dict[frozenset[int], str]:
    """What each side wrote it wants to discuss (its request notes), per pair."""
    notes: dict[frozenset[int], list[str]] = defaultdict(list)
    for interest in session.scalars(
        select(Interest).where(Interest.event_id == event.id).order_by(Interest.id)
    ):
        if interest.note.strip() and not interest.declined:
            pair = frozenset((interest.from_participant_id, interest.to_participant_id))
            notes[pair].append(interest.note.strip())
    return {pair: "\n".join(texts) for pair, texts in notes.items()}
