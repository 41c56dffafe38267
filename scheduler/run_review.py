"""What an organizer needs to judge a run before publishing it.

Computed from the run's stored problem and result (what was asked, what the
solver found and why pairs were left out) plus the stated interests (to tell
mutual requests apart), so a run reviews the same however the event changed since.

The solver states why a requested pair was left out as a reason code and an
English detail with internal ids (``solver.reasons``). The review keeps the code
and words the detail again from the same facts (caps, who is booked when, free
slots and tables) as an English msgid with parameters, company names and local
times, which the web layer translates (:class:`Detail`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.i18n import N_
from scheduler.models import Event, Participant, ScheduleRun
from scheduler.preferences import requested_pairs
from scheduler.problem_builder import participant_key
from solver.model.diagnosis import NOT_NARROWED
from solver.model.prechecks import over_capacity
from solver.model.prepared import Prepared, prepare
from solver.problem import Problem, Schedule
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.reasons import Finding, find_reasons
from solver.validation import breaks_per_participant, objective


@dataclass(frozen=True)
class Summary:
    """The numbers that compare runs."""

    meetings: int
    requested: int  # requested pairs (weight > 0) in the problem
    fulfilled: int  # of those, how many meet
    objective: int | None
    bound: int | None
    waits: int  # breaks over all participants (what break_penalty and max_breaks are about)

    @property
    def gap(self) -> float | None:
        """How far the schedule may be from the best possible, as a share of the bound."""
        if self.objective is None or not self.bound:
            return None
        return max(0.0, (self.bound - self.objective) / abs(self.bound))


@dataclass(frozen=True)
class Detail:
    """Why a requested pair was left out, in words: an English msgid and its parameters.

    The web layer shows ``gettext(msgid) % params``; ``message`` is the English.
    """

    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.msgid % self.params if self.params else self.msgid


@dataclass
class ParticipantReview:
    key: str
    name: str
    role: str
    meetings: list[dict[str, Any]] = field(default_factory=list)  # slot, time, table, other
    # other, other_name, reason (the solver's code), detail (a Detail, or None)
    unmet: list[dict[str, Any]] = field(default_factory=list)
    requested: int = 0
    waits: int = 0  # breaks: idle runs between two of its meetings on a day


@dataclass
class SlotLoad:
    key: str
    start: datetime
    meetings: int
    idle_tables: list[str]


@dataclass
class RunReview:
    summary: Summary
    mutual_requested: int
    mutual_met: int
    participants: list[ParticipantReview]
    without_meetings: list[ParticipantReview]
    slots: list[SlotLoad]
    tables: list[tuple[str, int]]  # table, meetings held there
    distribution: list[tuple[int, int]]  # meetings per participant -> participants
    status: str
    waiting: int  # participants with at least one wait (their total: summary.waits)
    fewest_waits: int | None  # proven: no schedule has fewer (all-must runs), else None


def without_schedule(run: ScheduleRun) -> bool:
    """Whether the run ended with no schedule at all (its result is INFEASIBLE).

    Its stored score and bound are then 0 by the file format's convention, which
    must not be shown as a schedule scoring 0 or a best possible of 0.
    """
    return bool(run.result) and run.result.get("status") == "INFEASIBLE"


def ran_out_of_time(run: ScheduleRun) -> bool:
    """Whether a run without a schedule only ran out of time (nothing proven impossible)."""
    stats = (run.result or {}).get("stats") or {}
    return without_schedule(run) and stats.get("infeasible_found_by") == "timeout"


def summarize(run: ScheduleRun) -> Summary | None:
    """The comparison numbers of a run with a schedule (None before it has one, or when
    it ended without one)."""
    if not run.result or not run.problem or without_schedule(run):
        return None
    met = {frozenset((m["a"], m["b"])) for m in run.result.get("meetings", [])}
    requested = {frozenset((p["a"], p["b"])) for p in run.problem["pairs"] if p.get("weight", 0)}
    return Summary(
        meetings=len(met),
        requested=len(requested),
        fulfilled=len(requested & met),
        objective=run.objective,
        bound=run.bound,
        waits=_waits(run),
    )


def _waits(run: ScheduleRun) -> int:
    """All waits of the run's schedule: the solver's count, recounted after an edit."""
    stats = run.result.get("stats") or {}
    if run.edited_at is None and isinstance(stats.get("breaks_total"), int):
        return stats["breaks_total"]
    meetings = schedule_from_dict(run.result).meetings
    return sum(breaks_per_participant(problem_from_dict(run.problem), meetings).values())


@dataclass(frozen=True)
class Infeasibility:
    """One requirement that keeps a run from having any schedule (the solver's finding).

    ``a`` and ``b`` are empty for a finding about the rules as a whole (the cap on
    waits, or a contradiction not narrowed down to pairs); ``detail`` is the solver's
    English, with internal ids.
    """

    a: str
    b: str
    a_name: str
    b_name: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Overload:
    """A participant with more required meetings than it has room for."""

    key: str
    name: str
    required: int
    room: int  # its meeting maximum, the slots it can make and the cap on waits allowing


@dataclass(frozen=True)
class NoSchedule:
    """Why a run found no schedule at all."""

    timed_out: bool  # nothing proven impossible: the time ran out first
    narrowed: bool  # the items are the culprits (else every required one, as a suspect)
    overloaded: list[Overload]
    items: list[Infeasibility]  # the other findings


def no_schedule(run: ScheduleRun) -> NoSchedule | None:
    """Why a run has no schedule (its result is INFEASIBLE), or None when it has one."""
    if not without_schedule(run) or not run.problem:
        return None
    findings = run.result.get("unscheduled_must") or []
    if ran_out_of_time(run):
        return NoSchedule(timed_out=True, narrowed=False, overloaded=[], items=[])
    names = {p["id"]: p.get("name", "") for p in run.problem.get("participants", [])}
    overloaded = (
        _overloaded(problem_from_dict(run.problem))
        if any(item.get("reason") == "over_capacity" for item in findings)
        else []
    )
    over = {o.key for o in overloaded}
    items = [
        Infeasibility(
            a=item.get("a", ""),
            b=item.get("b", ""),
            a_name=names.get(item.get("a", ""), ""),
            b_name=names.get(item.get("b", ""), ""),
            reason=item.get("reason", ""),
            detail=item.get("detail", ""),
        )
        for item in findings
        # Pairs of an overloaded participant are said once, for the participant.
        if not (item.get("reason") == "over_capacity" and {item.get("a"), item.get("b")} & over)
    ]
    return NoSchedule(
        timed_out=False,
        narrowed=not any(item.detail.endswith(NOT_NARROWED) for item in items),
        overloaded=overloaded,
        items=items,
    )


def _overloaded(problem: Problem) -> list[Overload]:
    """Participants whose must pairs exceed their room, as the solver's precheck found."""
    people = problem.participants
    return [
        Overload(people[who].id, people[who].name, required, room)
        for who, (required, room) in over_capacity(prepare(problem)).items()
    ]


def review(session: Session, event: Event, run: ScheduleRun) -> RunReview | None:
    """The full review of a run with a result (None before it has one)."""
    summary = summarize(run)
    if summary is None:
        return None
    problem = problem_from_dict(run.problem)
    schedule = schedule_from_dict(run.result)
    slot_start = {s.id: s.start for s in problem.slots}
    people = {
        p.id: ParticipantReview(key=p.id, name=p.name, role=p.role) for p in problem.participants
    }
    for pair in problem.pairs:
        if pair.weight:
            people[pair.a].requested += 1
            people[pair.b].requested += 1
    by_slot: dict[str, list[str | None]] = defaultdict(list)
    for meeting in sorted(schedule.meetings, key=lambda m: (slot_start[m.slot], m.table or "")):
        by_slot[meeting.slot].append(meeting.table)
        for me, other in ((meeting.a, meeting.b), (meeting.b, meeting.a)):
            people[me].meetings.append(
                {
                    "slot": meeting.slot,
                    "start": slot_start[meeting.slot],
                    "table": meeting.table,
                    "other": other,
                    "other_name": people[other].name,
                }
            )
    details = unscheduled_details(event, problem, schedule)
    for item in schedule.unscheduled:
        for me, other in ((item.a, item.b), (item.b, item.a)):
            if me in people:
                people[me].unmet.append(
                    {
                        "other": other,
                        "other_name": people[other].name if other in people else "",
                        "reason": item.reason,
                        "detail": details.get(frozenset((item.a, item.b))),
                    }
                )
    table_ids = [t.id for t in problem.tables or ()]
    used = Counter(m.table for m in schedule.meetings if m.table is not None)
    slots = [
        SlotLoad(
            key=s.id,
            start=s.start,
            meetings=len(by_slot[s.id]),
            idle_tables=[t for t in table_ids if t not in set(by_slot[s.id])],
        )
        for s in problem.slots
    ]
    counts = Counter(len(p.meetings) for p in people.values())
    for key, waits in breaks_per_participant(problem, schedule.meetings).items():
        people[key].waits = waits
    mutual = _mutual_pairs(session, event)
    met = {m.key for m in schedule.meetings}
    ordered = sorted(people.values(), key=lambda p: (p.role, p.key))
    return RunReview(
        summary=summary,
        mutual_requested=len(mutual),
        mutual_met=len(mutual & met),
        participants=ordered,
        without_meetings=[p for p in ordered if not p.meetings],
        slots=slots,
        tables=[(t, used.get(t, 0)) for t in table_ids],
        distribution=sorted(counts.items()),
        status=schedule.status,
        waiting=sum(1 for p in people.values() if p.waits),
        fewest_waits=_fewest_waits(problem, schedule, summary),
    )


def _fewest_waits(problem: Problem, schedule: Schedule, summary: Summary) -> int | None:
    """The fewest waits any schedule can have, as the run's bound proves it, or None.

    Only where the meetings are fixed (every pair a must, nothing published to
    keep): then every schedule scores the same but for its waits, so the bound
    on the score is a floor on the waits.
    """
    if (
        summary.bound is None
        or not problem.break_penalty
        or problem.current
        or not problem.pairs
        or not all(pair.must for pair in problem.pairs)
        or len(schedule.meetings) != len(problem.pairs)
    ):
        return None
    without_waits = objective(problem, schedule.meetings) + problem.break_penalty * summary.waits
    return max(0, -(-(without_waits - summary.bound) // problem.break_penalty))


def _mutual_pairs(session: Session, event: Event) -> set[frozenset[str]]:
    """Pairs (by participant key) where both sides want to meet (and neither declined)."""
    keys = {
        p.id: participant_key(p)
        for p in session.scalars(select(Participant).where(Participant.event_id == event.id))
    }
    return {frozenset((keys[p.a], keys[p.b])) for p in requested_pairs(session, event) if p.mutual}


# --------------------------------------------------------------------------- reasons in words

# The msgid for each fact of solver.reasons.Finding (see its docstring).
_FACT_MESSAGES = {
    "no_own_table": N_("Neither company has a table of its own, and every table has a host."),
    "no_slot": N_("No time slot suits both companies."),
    "no_slot_now": N_("No time slot that has not started yet suits both companies."),
    "at_maximum": N_("%(name)s already has its maximum of %(max)s meetings."),
    "booked": N_("%(name)s is already booked in every slot both could use: %(meetings)s."),
    "tables_taken": N_("Both are free at %(times)s, but every table they may use is taken."),
    "breaks": N_(
        "%(name)s would have more than %(max)s waits between meetings in every free slot "
        "both could use."
    ),
    "outscored": N_(
        "Both are free at %(times)s, but the schedule as a whole scores higher with other meetings."
    ),
}


def unscheduled_details(
    event: Event, problem: Problem, schedule: Schedule
) -> dict[frozenset[str], Detail | None]:
    """A :class:`Detail` for each pair the solver left out (by pair key).

    The facts are those of ``solver.reasons``, found again from the problem and the
    schedule (who is at its ``max_meetings``, who is booked in the common slots and
    by which meetings, which common slots are free) and worded with company names
    and local times. A reason whose facts cannot be found again (the schedule was
    edited by hand since, or the pair is not in the problem) has None: the page then
    shows the reason alone.
    """
    prep = prepare(problem)
    known = [
        m
        for m in schedule.meetings
        if m.slot in prep.slot_index
        and m.a in prep.participant_index
        and m.b in prep.participant_index
    ]
    findings = find_reasons(prep, known)
    words = _Words(event, prep)
    details: dict[frozenset[str], Detail | None] = {}
    for item in schedule.unscheduled:
        key = frozenset((item.a, item.b))
        index = prep.pair_index.get(key)
        finding = findings.get(index) if index is not None else None
        details[key] = (
            words.detail(finding) if finding is not None and finding.reason == item.reason else None
        )
    return details


class _Words:
    """A :class:`~solver.reasons.Finding` in the organizer's terms: names and local times."""

    def __init__(self, event: Event, prep: Prepared) -> None:
        self.event = event
        self.prep = prep
        days = {event.local(s.start).date() for s in prep.problem.slots}
        self.several_days = len(days) > 1

    def name(self, who: int) -> str:
        participant = self.prep.problem.participants[who]
        return participant.name or participant.id

    def name_of(self, key: str) -> str:
        return self.name(self.prep.participant_index[key])

    def time(self, slot: int) -> str:
        """The slot's local start: ``10:30``, or ``2/18 10:30`` when the fair has several days."""
        local = self.event.local(self.prep.problem.slots[slot].start)
        return f"{local.month}/{local.day} {local:%H:%M}" if self.several_days else f"{local:%H:%M}"

    def detail(self, finding: Finding) -> Detail:
        params: dict[str, object] = {}
        if finding.who is not None:
            params["name"] = self.name(finding.who)
        if finding.cap is not None:
            params["max"] = finding.cap
        if finding.fact == "booked":
            me = self.prep.participant_ids[finding.who] if finding.who is not None else ""
            params["meetings"] = ", ".join(
                f"{self.time(self.prep.slot_index[m.slot])} "
                f"{self.name_of(m.b if m.a == me else m.a)}"
                for m in finding.blocking
            )
        elif finding.slots:
            params["times"] = ", ".join(self.time(s) for s in finding.slots)
        msgid = _FACT_MESSAGES[finding.fact]
        return Detail(msgid, {k: v for k, v in params.items() if f"%({k})" in msgid})
