"""A participant withdraws (辞退) before the fair, and the organizer may take that back.

A company that cancels must stop appearing wherever the companies taking part do. The
status ``withdrawn`` does that at once, because every reader of the companies taking
part asks for ``approved``: the directory, the solver's problems
(:func:`scheduler.problem_builder.build_problem`), pair rules, slips and schedule
sheets, the fair's results and survey. Its link closes and its calendar feed answers an
empty calendar (``web.participant_access.INACTIVE_STATUSES``,
:func:`scheduler.calendars.ended_feed`), so its subscribed calendar drops the meetings.

What the status cannot do by itself is done here: its planned meetings that are not
over are cancelled as the day's cancellation cancels them (status ``cancelled``,
``version + 1``, so the counterparts' calendars show them cancelled with a higher
SEQUENCE; never deleted), and the counterparts are returned for the caller to e-mail
the change notice after its commit. Meetings that are over are left alone: history is
not rewritten.

A withdrawal is refused:

* while the fair is under way (:func:`scheduler.event_deletion.fair_under_way`): on the
  day a company that does not come is marked as a no-show at reception, which cancels
  its remaining meetings, keeps the record of the day and can be undone there;
* once the company has had meetings (it took part, and its meetings count in the
  fair's results, which leave withdrawn companies out);
* while a solver run of the event is queued or running: its problem was built with the
  company in it, so its schedule would place the company again.

A run that finished before the withdrawal places the company too, and publishing it
would bring its meetings back: :func:`runs_placing` names those runs, so the organizer
is told to start a new run before publishing.

Undoing a withdrawal (:func:`reinstate`) makes the company take part again, but its
cancelled meetings stay cancelled: the counterparts were told, and their slots may be
taken since. The next run can schedule it again.

Writers follow :func:`scheduler.day_operations.lock_for_change`'s order (the event, the
participants, the tables, the meetings). Services only flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from scheduler import audit, runs
from scheduler.day_operations import lock_for_change, meetings_of
from scheduler.db import utcnow
from scheduler.errors import Conflict
from scheduler.event_deletion import active_run, fair_under_way
from scheduler.i18n import N_
from scheduler.models import (
    AuditEntry,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantStatus,
    ScheduleRun,
)
from scheduler.problem_builder import PARTICIPANT_IDS, participant_key
from scheduler.publishing import PUBLISHABLE
from scheduler.repair import KIND as REPAIR_KIND

WITHDRAW_ACTION = "participant.withdraw"
REINSTATE_ACTION = "participant.reinstate"

_BUSY = N_("Another change was being saved at the same moment. Please try again.")


@dataclass
class WithdrawalPlan:
    """What withdrawing a participant now would do, or why it cannot (nothing written)."""

    participant: Participant
    meetings: list[Meeting] = field(default_factory=list)  # planned, not over: cancelled
    counterparts: list[Participant] = field(default_factory=list)  # told of the change
    refusal: Conflict | None = None
    # Why the refusal: "under_way" (the day's no-show is the way), "run" (with run_id),
    # "met" or "status"; the pages offer the way forward that fits.
    refused_for: str = ""
    run_id: int | None = None
    stale_runs: list[int] = field(default_factory=list)  # finished runs that place it


@dataclass
class WithdrawalResult:
    """What a withdrawal did: its audit entry, the meetings cancelled, whom to tell."""

    entry: AuditEntry
    meetings: list[Meeting]
    counterparts: list[Participant]
    stale_runs: list[int]  # finished runs that would place it again (runs_placing)


def _meetings(session: Session, participant: Participant) -> list[Meeting]:
    """The participant's meetings that are not cancelled, by start time."""
    return [m for m in meetings_of(session, participant) if m.status != MeetingStatus.CANCELLED]


def _other(meeting: Meeting, participant: Participant) -> Participant:
    return meeting.participant_b if meeting.participant_a_id == participant.id else (
        meeting.participant_a
    )


def _counterparts(meetings: list[Meeting], participant: Participant) -> list[Participant]:
    others = {p.id: p for p in (_other(m, participant) for m in meetings)}
    return sorted(others.values(), key=lambda p: (p.code or "~", p.id))


def plan_withdrawal(
    session: Session, participant: Participant, *, now: datetime | None = None
) -> WithdrawalPlan:
    """What withdrawing ``participant`` now would cancel and whom it would tell, or why
    it is refused (:attr:`WithdrawalPlan.refusal`); the page shows it before the
    organizer confirms, and :func:`withdraw` checks it again under the lock."""
    now = now or utcnow()
    event = participant.event
    plan = WithdrawalPlan(participant)
    name = participant.display_name
    if participant.status == ParticipantStatus.WITHDRAWN:
        plan.refusal = Conflict(N_("%(name)s has already withdrawn."), params={"name": name})
        plan.refused_for = "status"
        return plan
    if participant.status != ParticipantStatus.APPROVED:
        plan.refusal = Conflict(
            N_(
                "Only a company that takes part can withdraw: the registration of %(name)s "
                "is not approved."
            ),
            params={"name": name},
        )
        plan.refused_for = "status"
        return plan
    if fair_under_way(event, now):
        plan.refusal = Conflict(
            N_(
                "The fair is under way: on its day, a company that does not come is marked "
                "as a no-show at reception, which cancels its remaining meetings and can be "
                "undone there. Withdrawal is for a company that cancels before the fair."
            )
        )
        plan.refused_for = "under_way"
        return plan
    meetings = _meetings(session, participant)
    if any(m.slot.ends_at <= now for m in meetings):
        plan.refusal = Conflict(
            N_(
                "%(name)s has already had meetings at this fair: a withdrawal would take "
                "them out of the fair’s results. Withdrawal is for a company that cancels "
                "before the fair."
            ),
            params={"name": name},
        )
        plan.refused_for = "met"
        return plan
    run_id = active_run(session, event)
    if run_id is not None:
        plan.refusal = Conflict(
            N_(
                "Solver run %(run)s of this event is queued or running, and its schedule "
                "includes %(name)s: stop it or let it finish, then withdraw the company "
                "(and start a new run before publishing)."
            ),
            params={"run": run_id, "name": name},
        )
        plan.refused_for = "run"
        plan.run_id = run_id
        return plan
    plan.meetings = [m for m in meetings if m.status == MeetingStatus.PLANNED]
    plan.counterparts = _counterparts(plan.meetings, participant)
    plan.stale_runs = runs_placing(session, participant)
    return plan


def runs_placing(session: Session, participant: Participant) -> list[int]:
    """The ids of the event's finished runs, not published, whose schedule gives
    ``participant`` a meeting: computed while it took part, publishing one would place
    it again.

    Only the runs since the last publication are read (the candidates for the next
    one; each holds a whole schedule). A re-optimisation of the day is left out: it is
    applied only while the state it was computed from (participants' statuses
    included) is unchanged.
    """
    key = participant_key(participant)
    query = (
        select(ScheduleRun.id, ScheduleRun.result, ScheduleRun.parameters)
        .where(
            ScheduleRun.event_id == participant.event_id,
            ScheduleRun.kind != REPAIR_KIND,
            ScheduleRun.status.in_(PUBLISHABLE),
            ScheduleRun.published_at.is_(None),
            ScheduleRun.result.is_not(None),
        )
        .order_by(ScheduleRun.id)
    )
    published_at = participant.event.published_at
    if published_at is not None:
        query = query.where(ScheduleRun.created_at > published_at)
    placing = []
    for run_id, result, parameters in session.execute(query):
        # The codes the run gave it, which a re-coding may have changed since (runs
        # remember each code's participant; older ones are read by today's code).
        meant = (parameters or {}).get(PARTICIPANT_IDS)
        keys = {key} if meant is None else {c for c, pid in meant.items() if pid == participant.id}
        if any(keys & {m.get("a"), m.get("b")} for m in (result or {}).get("meetings", [])):
            placing.append(run_id)
    return placing


def withdraw(
    session: Session,
    participant: Participant,
    *,
    user_id: int | None,
    reason: str = "",
    now: datetime | None = None,
) -> WithdrawalResult:
    """Withdraw ``participant``: see the module's docstring. Raises :class:`Conflict`
    when it is refused, or when another change was saved at the same moment."""
    now = now or utcnow()
    event = participant.event
    seen = _meetings(session, participant)
    # The event first (a publication or a repair either finished before and is seen
    # below, or waits), then both sides of each meeting, its table and the meetings
    # themselves, as the day's changes take them; the participant is read afresh.
    locked = lock_for_change(
        session,
        event.id,
        lock_event=True,
        participant_ids={participant.id} | {_other(m, participant).id for m in seen},
        table_ids={m.table_id for m in seen},
        meeting_ids=[m.id for m in seen],
    )
    runs.fail_stale_runs(session)  # a run whose worker died must not hold it back
    plan = plan_withdrawal(session, participant, now=now)
    if plan.refusal is not None:
        raise plan.refusal
    if {m.id for m in _meetings(session, participant)} - set(locked):
        raise Conflict(_BUSY)  # a meeting added between the first read and the lock

    lines = []
    for meeting in plan.meetings:
        meeting.status = MeetingStatus.CANCELLED
        meeting.version = (meeting.version or 0) + 1  # the feed's SEQUENCE
        meeting.updated_at = now
        lines.append(
            {
                "id": meeting.id,
                "with": _other(meeting, participant).display_name,
                "when": event.local(meeting.slot.starts_at).strftime("%Y-%m-%d %H:%M"),
                "table": meeting.table.label if meeting.table is not None else "",
                "version": meeting.version,
            }
        )
    participant.status = ParticipantStatus.WITHDRAWN
    try:
        session.flush()
    except OperationalError as error:
        raise Conflict(_BUSY) from error
    entry = audit.record(
        session,
        WITHDRAW_ACTION,
        event_id=event.id,
        user_id=user_id,
        participant_id=participant.id,
        target=participant,
        details={
            "cancelled": lines,
            "counterparts": [p.id for p in plan.counterparts],
        },
        reason=reason.strip(),
    )
    return WithdrawalResult(entry, plan.meetings, plan.counterparts, plan.stale_runs)


def reinstate(
    session: Session, participant: Participant, *, user_id: int | None, reason: str = ""
) -> None:
    """Undo ``participant``'s withdrawal: it takes part again (link, feed, directory,
    future runs), but the meetings cancelled by the withdrawal stay cancelled."""
    # Read afresh under the lock: a withdrawal saved at the same moment is seen.
    lock_for_change(session, participant.event_id, participant_ids=[participant.id])
    if participant.status != ParticipantStatus.WITHDRAWN:
        raise Conflict(
            N_("%(name)s has not withdrawn: there is nothing to undo."),
            params={"name": participant.display_name},
        )
    participant.status = ParticipantStatus.APPROVED
    session.flush()
    audit.record(
        session,
        REINSTATE_ACTION,
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=participant,
        reason=reason.strip(),
    )


def last_withdrawal(session: Session, participant: Participant) -> AuditEntry | None:
    """The audit entry of ``participant``'s latest withdrawal (when, by whom, why)."""
    return session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.participant_id == participant.id, AuditEntry.action == WITHDRAW_ACTION
        )
        .options(selectinload(AuditEntry.user))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
