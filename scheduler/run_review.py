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
from solver.model.prepared import Prepared, PreparedPair, prepare
from solver.model.table_assignment import table_group
from solver.problem import Meeting, Problem, Schedule, UnscheduledPair
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.timeline import count_breaks


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


# --------------------------------------------------------------------------- reasons in words


def unscheduled_details(
    event: Event, problem: Problem, schedule: Schedule
) -> dict[frozenset[str], Detail | None]:
    """A :class:`Detail` for each pair the solver left out (by pair key).

    The facts are those ``solver.reasons`` uses, recomputed from the problem and the
    schedule: who is at its ``max_meetings``, who is booked in the common slots and
    by which meetings, which common slots are free. A reason whose facts cannot be
    found again (the schedule was edited by hand since, or the pair is not in the
    problem) has None: the page then shows the reason alone.
    """
    facts = _Facts(event, problem, schedule)
    return {frozenset((u.a, u.b)): facts.detail(u) for u in schedule.unscheduled}


class _Facts:
    """The schedule indexed the way ``solver.reasons`` reads it."""

    def __init__(self, event: Event, problem: Problem, schedule: Schedule) -> None:
        self.event = event
        self.problem = problem
        self.prep: Prepared = prepare(problem)
        prep = self.prep
        self.count: Counter[int] = Counter()
        self.in_slot: dict[tuple[int, int], list[Meeting]] = defaultdict(list)
        self.busy: dict[int, set[int]] = defaultdict(set)
        self.tables_used: dict[int, set[str]] = defaultdict(set)
        for m in schedule.meetings:
            slot = prep.slot_index.get(m.slot)
            sides = {prep.participant_index.get(m.a), prep.participant_index.get(m.b)}
            if slot is None or None in sides:
                continue
            for who in sides:
                assert who is not None
                self.count[who] += 1
                self.in_slot[(who, slot)].append(m)
                self.busy[who].add(slot)
            if m.table is not None:
                self.tables_used[slot].add(m.table)
        days = {self.event.local(s.start).date() for s in problem.slots}
        self.several_days = len(days) > 1

    # -- words

    def name(self, who: int) -> str:
        participant = self.problem.participants[who]
        return participant.name or participant.id

    def name_of(self, key: str) -> str:
        index = self.prep.participant_index.get(key)
        return key if index is None else self.name(index)

    def time(self, slot: int) -> str:
        """The slot's local start: ``10:30``, or ``2/18 10:30`` when the fair has several days."""
        local = self.event.local(self.problem.slots[slot].start)
        return f"{local.month}/{local.day} {local:%H:%M}" if self.several_days else f"{local:%H:%M}"

    # -- facts

    def booked(self, who: int, slot: int) -> bool:
        held = len(self.in_slot.get((who, slot), []))
        return held >= self.problem.participants[who].parallel

    def free_slots(self, pair: PreparedPair) -> list[int]:
        return [s for s in pair.slots if not self.booked(pair.a, s) and not self.booked(pair.b, s)]

    def with_table(self, pair: PreparedPair, free: list[int]) -> list[int]:
        if not self.prep.has_tables:
            return free
        group = table_group(self.prep, pair.index, None)
        return [s for s in free if any(t not in self.tables_used[s] for t in group)]

    def detail(self, item: UnscheduledPair) -> Detail | None:
        index = self.prep.pair_index.get(frozenset((item.a, item.b)))
        if index is None:
            return None
        pair = self.prep.pairs[index]
        if item.reason == "no_common_slot":
            return self._no_common_slot(pair)
        if item.reason == "at_maximum":
            return self._at_maximum(pair)
        if item.reason == "out_competed":
            return self._out_competed(pair)
        if item.reason == "no_table":
            return self._no_table(pair)
        return None

    def _no_common_slot(self, pair: PreparedPair) -> Detail | None:
        if pair.slots:
            return None
        if self.problem.now is not None and any(self.prep.past):
            return Detail(N_("No time slot that has not started yet suits both companies."))
        return Detail(N_("No time slot suits both companies."))

    def _at_maximum(self, pair: PreparedPair) -> Detail | None:
        for who in (pair.a, pair.b):
            cap = self.problem.participants[who].max_meetings
            if cap is not None and self.count[who] >= cap:
                return Detail(
                    N_("%(name)s already has its maximum of %(max)s meetings."),
                    {"name": self.name(who), "max": cap},
                )
        return None

    def _out_competed(self, pair: PreparedPair) -> Detail | None:
        if not pair.slots:
            return None
        free = self.free_slots(pair)
        if not free:
            blocked = {
                who: [s for s in pair.slots if self.booked(who, s)] for who in (pair.a, pair.b)
            }
            who = max((pair.a, pair.b), key=lambda w: len(blocked[w]))
            me = self.prep.participant_ids[who]
            meetings = [
                f"{self.time(s)} {self.name_of(m.b if m.a == me else m.a)}"
                for s in blocked[who]
                for m in self.in_slot[(who, s)]
            ]
            return Detail(
                N_("%(name)s is already booked in every slot both could use: %(meetings)s."),
                {"name": self.name(who), "meetings": ", ".join(meetings)},
            )
        usable = self.with_table(pair, free)
        if not usable:
            return None
        limit = self.problem.max_breaks
        if limit is not None:
            for who in (pair.a, pair.b):
                mine = self.busy[who]
                if all(
                    sum(count_breaks(day, mine | {s}) for day in self.prep.days) > limit
                    for s in usable
                ):
                    return Detail(
                        N_(
                            "%(name)s would have more than %(max)s waits between meetings "
                            "in every free slot both could use."
                        ),
                        {"name": self.name(who), "max": limit},
                    )
        return Detail(
            N_(
                "Both are free at %(times)s, but the schedule as a whole scores higher "
                "with other meetings."
            ),
            {"times": ", ".join(self.time(s) for s in usable)},
        )

    def _no_table(self, pair: PreparedPair) -> Detail | None:
        prep = self.prep
        if not pair.slots:
            if prep.has_tables and not prep.pooled_tables and not (
                prep.is_host(pair.a) or prep.is_host(pair.b)
            ):
                return Detail(
                    N_("Neither company has a table of its own, and every table has a host.")
                )
            return None
        free = self.free_slots(pair)
        if not free or self.with_table(pair, free):
            return None
        return Detail(
            N_("Both are free at %(times)s, but every table they may use is taken."),
            {"times": ", ".join(self.time(s) for s in free)},
        )
