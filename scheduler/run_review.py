"""What an organizer needs to judge a run before publishing it.

Computed from the run's stored problem and result (what was asked, what the
solver found and why pairs were left out) plus the stated interests (to tell
mutual requests apart), so a run reviews the same however the event changed since.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Event, Participant, ScheduleRun
from scheduler.preferences import requested_pairs
from scheduler.problem_builder import participant_key
from solver.problem_io import problem_from_dict, schedule_from_dict


@dataclass(frozen=True)
class Summary:
    """The numbers that compare runs."""

    meetings: int
    requested: int  # requested pairs (weight > 0) in the problem
    fulfilled: int  # of those, how many meet
    objective: int | None
    bound: int | None

    @property
    def gap(self) -> float | None:
        """How far the schedule may be from the best possible, as a share of the bound."""
        if self.objective is None or not self.bound:
            return None
        return max(0.0, (self.bound - self.objective) / abs(self.bound))


@dataclass
class ParticipantReview:
    key: str
    name: str
    role: str
    meetings: list[dict[str, Any]] = field(default_factory=list)  # slot, time, table, other
    unmet: list[dict[str, str]] = field(default_factory=list)  # other, reason, detail
    requested: int = 0


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


def summarize(run: ScheduleRun) -> Summary | None:
    """The comparison numbers of a run with a result (None before it has one)."""
    if not run.result or not run.problem:
        return None
    met = {frozenset((m["a"], m["b"])) for m in run.result.get("meetings", [])}
    requested = {frozenset((p["a"], p["b"])) for p in run.problem["pairs"] if p.get("weight", 0)}
    return Summary(
        meetings=len(met),
        requested=len(requested),
        fulfilled=len(requested & met),
        objective=run.objective,
        bound=run.bound,
    )


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
    for item in schedule.unscheduled:
        for me, other in ((item.a, item.b), (item.b, item.a)):
            if me in people:
                people[me].unmet.append(
                    {
                        "other": other,
                        "other_name": people[other].name if other in people else "",
                        "reason": item.reason,
                        "detail": item.detail,
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
    )


def _mutual_pairs(session: Session, event: Event) -> set[frozenset[str]]:
    """Pairs (by participant key) where both sides want to meet (and neither declined)."""
    keys = {
        p.id: participant_key(p)
        for p in session.scalars(select(Participant).where(Participant.event_id == event.id))
    }
    return {frozenset((keys[p.a], keys[p.b])) for p in requested_pairs(session, event) if p.mutual}
