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
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, select
from sqlalchemy.orm import Session, aliased

from scheduler import pair_rules
from scheduler.errors import NotFound
from scheduler.i18n import N_
from scheduler.models import (
    Event,
    Interest,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantStatus,
    ScheduleRun,
    Table,
)
from scheduler.names import search_key
from scheduler.preferences import ASKING_SOURCES, SCREENING_SOURCE
from scheduler.problem_builder import participant_key, slot_key
from solver.model.diagnosis import NOT_NARROWED
from solver.model.prechecks import over_capacity
from solver.model.prepared import Prepared, prepare
from solver.problem import Meeting, Problem, Schedule
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.reasons import Finding, find_reasons
from solver.validation import breaks_per_participant, objective


@dataclass(frozen=True)
class Summary:
    """The numbers that compare runs.

    Meetings and pairs are counted apart on purpose: a pair rule ("always", or a
    pin) can make two companies meet that neither requested (its pair has weight 0),
    so ``meetings`` may exceed ``fulfilled`` and the problem's pairs ``requested``.
    A rule can also force a pair that one side declined: the decline takes the
    pair's weight (0, as in :func:`scheduler.preferences.requested_pairs`), but
    somebody did ask, so those meetings are ``overridden``, not ``unasked``.
    """

    meetings: int
    requested: int  # requested pairs (weight > 0: at least one side asked) in the problem
    fulfilled: int  # of those, how many meet
    objective: int | None
    bound: int | None
    waits: int  # breaks over all participants (what break_penalty and max_breaks are about)
    pairs: int = 0  # every pair of the problem: the requested ones and those only rules set
    edited: bool = False  # a meeting was moved by hand after the solver finished
    overridden: int = 0  # meetings of forced pairs that one side declined (weight 0)

    @property
    def unrequested(self) -> int:
        """Meetings that are no requested pair met (weight 0: set by a pair rule or, in
        a re-optimisation of the day, already published): :attr:`unasked` and
        :attr:`overridden` together."""
        return self.meetings - self.fulfilled

    @property
    def unasked(self) -> int:
        """Meetings of pairs neither side requested (set by a pair rule or, in a
        re-optimisation of the day, already published)."""
        return self.unrequested - self.overridden

    @property
    def gap(self) -> float | None:
        """How far the schedule may be from the best possible, as a share of the bound.

        After an edit by hand the objective is recomputed and the solver's bound still
        holds (no schedule scores more), so this stays the honest gap."""
        if self.objective is None or not self.bound:
            return None
        return max(0.0, (self.bound - self.objective) / abs(self.bound))

    @property
    def proven_best(self) -> bool:
        """Whether no schedule can score more: the score reaches the bound."""
        if self.objective is None or self.bound is None:
            return False
        return self.objective >= self.bound


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


@dataclass(frozen=True)
class ReviewMeeting:
    """A meeting of the run as the review lists it (``a``: the buyer, when roles differ)."""

    a: str
    b: str
    a_name: str
    b_name: str
    slot: str
    start: datetime
    label: str  # the slot's local start: ``10:30``, or ``2/18 10:30`` on a fair of several days
    table: str | None
    overridden: bool = False  # a pair rule forced it although one side declined


@dataclass
class ParticipantReview:
    key: str
    name: str
    role: str
    # slot, start, label, table, other, other_name, overridden (forced despite a decline)
    meetings: list[dict[str, Any]] = field(default_factory=list)
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
    label: str = ""  # as ReviewMeeting.label


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
    meetings: list[ReviewMeeting] = field(default_factory=list)  # by time, then table
    overridden: list[OverriddenPair] = field(default_factory=list)  # forced despite a decline


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


def summarize(
    run: ScheduleRun, declined: Collection[frozenset[str]] = frozenset()
) -> Summary | None:
    """The comparison numbers of a run with a schedule (None before it has one, or when
    it ended without one). ``declined``: the event's declined pairs by participant key
    (:func:`declined_pairs`), to tell the forced pairs that one side declined apart
    from those that nobody asked for."""
    if not run.result or not run.problem or without_schedule(run):
        return None
    met = {frozenset((m["a"], m["b"])) for m in run.result.get("meetings", [])}
    requested = requested_pairs(run.problem)
    overridden = forced_despite_decline(run.problem, declined) & met
    return Summary(
        meetings=len(met),
        requested=len(requested),
        fulfilled=len(requested & met),
        objective=run.objective,
        bound=run.bound,
        waits=_waits(run),
        pairs=len(run.problem["pairs"]),
        edited=run.edited_at is not None,
        overridden=len(overridden),
    )


def requested_pairs(problem: dict[str, Any]) -> set[frozenset[str]]:
    """The pairs of a stored problem that somebody requested (weight > 0); the others
    are there only because a pair rule (or, on the day, a published meeting) needs them."""
    return {frozenset((p["a"], p["b"])) for p in problem["pairs"] if p.get("weight", 0) > 0}


def forced_despite_decline(
    problem: dict[str, Any], declined: Collection[frozenset[str]]
) -> set[frozenset[str]]:
    """The pairs of a stored problem that a pair rule forces although one side declined:
    must pairs of weight 0 (the decline took their weight) among ``declined``."""
    if not declined:
        return set()
    pairs = (
        (frozenset((p["a"], p["b"])), p) for p in problem["pairs"]
        if p.get("must") and p.get("weight", 0) <= 0
    )
    return {key for key, _pair in pairs if key in declined}


@dataclass(frozen=True)
class DeclinedBy:
    """``by`` declined a meeting with ``other`` (participant keys and names), with its
    note; ``asked``: the level at which ``other`` asks for it (0: it does not)."""

    by: str
    by_name: str
    other: str
    other_name: str
    note: str
    asked: int


def declined_pairs(session: Session, event: Event) -> dict[frozenset[str], list[DeclinedBy]]:
    """The event's declines as they stand now, by pair of participant keys (the ids of
    problem files); see :func:`scheduler.pair_rules.declines`."""
    said: dict[frozenset[str], list[DeclinedBy]] = {}
    for found in pair_rules.declines(session, event).values():
        for decline in found:
            by, other = participant_key(decline.by), participant_key(decline.other)
            said.setdefault(frozenset((by, other)), []).append(
                DeclinedBy(
                    by=by,
                    by_name=decline.by.display_name,
                    other=other,
                    other_name=decline.other.display_name,
                    note=decline.note,
                    asked=decline.asked,
                )
            )
    return said


@dataclass(frozen=True)
class OverriddenPair:
    """A meeting of the run that a pair rule forced although one side declined it."""

    a: str  # the buyer, when roles differ
    b: str
    a_name: str
    b_name: str
    declines: list[DeclinedBy]


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


def review(
    session: Session,
    event: Event,
    run: ScheduleRun,
    declined: dict[frozenset[str], list[DeclinedBy]] | None = None,
) -> RunReview | None:
    """The full review of a run with a result (None before it has one); ``declined``:
    :func:`declined_pairs` of the event, when the caller has them already."""
    if declined is None:
        declined = declined_pairs(session, event)
    summary = summarize(run, declined)
    if summary is None:
        return None
    overridden = forced_despite_decline(run.problem, declined)
    problem = problem_from_dict(run.problem)
    schedule = schedule_from_dict(run.result)
    slot_start = {s.id: s.start for s in problem.slots}
    label = slot_labels(event, problem)
    people = {
        p.id: ParticipantReview(key=p.id, name=p.name, role=p.role) for p in problem.participants
    }
    for pair in problem.pairs:
        if pair.weight > 0:
            people[pair.a].requested += 1
            people[pair.b].requested += 1
    by_slot: dict[str, list[str | None]] = defaultdict(list)
    listed: list[ReviewMeeting] = []
    for meeting in sorted(schedule.meetings, key=lambda m: (slot_start[m.slot], m.table or "")):
        by_slot[meeting.slot].append(meeting.table)
        first, second = sorted(
            (people[meeting.a], people[meeting.b]), key=lambda p: (p.role, p.key)
        )
        listed.append(
            ReviewMeeting(
                a=first.key,
                b=second.key,
                a_name=first.name,
                b_name=second.name,
                slot=meeting.slot,
                start=slot_start[meeting.slot],
                label=label[meeting.slot],
                table=meeting.table,
                overridden=meeting.key in overridden,
            )
        )
        for me, other in ((meeting.a, meeting.b), (meeting.b, meeting.a)):
            people[me].meetings.append(
                {
                    "slot": meeting.slot,
                    "start": slot_start[meeting.slot],
                    "label": label[meeting.slot],
                    "table": meeting.table,
                    "other": other,
                    "other_name": people[other].name,
                    "overridden": meeting.key in overridden,
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
            label=label[s.id],
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
        meetings=listed,
        overridden=[
            OverriddenPair(m.a, m.b, m.a_name, m.b_name, declined[frozenset((m.a, m.b))])
            for m in sorted(listed, key=lambda m: (m.a, m.b))
            if m.overridden
        ],
    )


def slot_labels(event: Event, problem: Problem) -> dict[str, str]:
    """Each slot's local start as people read it: ``10:30``, or ``2/18 10:30`` when the
    fair has several days (a time alone would not say which day)."""
    local = {s.id: event.local(s.start) for s in problem.slots}
    several_days = len({moment.date() for moment in local.values()}) > 1
    return {
        key: f"{moment.month}/{moment.day} {moment:%H:%M}" if several_days else f"{moment:%H:%M}"
        for key, moment in local.items()
    }


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
    """Pairs (by participant key) where both sides want to meet (and neither declined).

    The ``mutual`` of :func:`scheduler.preferences.requested_pairs`, asked of the
    database as two columns: both directions stated, both with a level above 0 and
    not declined, one of them an asking source, screening answers only while
    screening is on, both participants approved. (Building every pair's weight from
    the event's interests as objects took most of a large fair's review.)
    """
    keys = {
        pid: code or f"P{pid}"  # participant_key, from the two columns it reads
        for pid, code in session.execute(
            select(Participant.id, Participant.code).where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
        )
    }
    forward, back = aliased(Interest), aliased(Interest)
    query = (
        select(forward.from_participant_id, forward.to_participant_id)
        .join(
            back,
            and_(
                back.from_participant_id == forward.to_participant_id,
                back.to_participant_id == forward.from_participant_id,
            ),
        )
        .where(
            forward.event_id == event.id,
            forward.from_participant_id < forward.to_participant_id,
            forward.level > 0,
            back.level > 0,
            forward.declined == false(),
            back.declined == false(),
            forward.source.in_(ASKING_SOURCES) | back.source.in_(ASKING_SOURCES),
        )
    )
    if not event.screening_enabled:
        query = query.where(forward.source != SCREENING_SOURCE, back.source != SCREENING_SOURCE)
    return {
        frozenset((keys[a], keys[b])) for a, b in session.execute(query) if a in keys and b in keys
    }


def pinned_places(session: Session, event: Event) -> dict[frozenset[str], tuple[str, str | None]]:
    """Where each pinned pair of ``event`` is pinned now: pair key -> (slot key, table).

    Pins are rules of the event, not of a run: the review marks a run's meeting as
    pinned when a pin holds it exactly where that run placed it.
    """
    first, second = aliased(Participant), aliased(Participant)
    rows = session.execute(
        select(first.id, first.code, second.id, second.code, PairRule.slot_id, Table.label)
        .join(first, first.id == PairRule.participant_a_id)
        .join(second, second.id == PairRule.participant_b_id)
        .outerjoin(Table, Table.id == PairRule.table_id)
        .where(
            PairRule.event_id == event.id,
            PairRule.kind == PairRuleKind.PIN,
            PairRule.slot_id.is_not(None),
        )
    )
    return {
        frozenset((a_code or f"P{a_id}", b_code or f"P{b_id}")): (slot_key(slot_id), table)
        for a_id, a_code, b_id, b_code, slot_id, table in rows
    }


# --------------------------------------------------------------------------- finding rows

#: What the participant list can be narrowed to, besides a search and a role.
PARTICIPANT_SHOWS = ("without", "unmet", "waits")


def find_participants(
    review: RunReview, *, text: str = "", role: str = "", show: str = ""
) -> list[ParticipantReview]:
    """The review's participants whose code or name contains ``text`` (as typed: width,
    kana and spaces do not matter), of ``role``, and, by ``show``, only those without a
    meeting, with an unmet request or with a wait."""
    needle = search_key(text)
    keep = {
        "without": lambda p: not p.meetings,
        "unmet": lambda p: bool(p.unmet),
        "waits": lambda p: p.waits > 0,
    }.get(show, lambda p: True)
    return [
        p
        for p in review.participants
        if (not role or p.role == role)
        and keep(p)
        and (not needle or needle in search_key(f"{p.key} {p.name}"))
    ]


def find_meetings(
    review: RunReview, *, text: str = "", slot: str = "", table: str = ""
) -> list[ReviewMeeting]:
    """The review's meetings in ``slot``, at ``table``, of a company whose code or name
    contains ``text`` (any of them left empty: not narrowed by it)."""
    needle = search_key(text)
    matching = (
        {p.key for p in review.participants if needle in search_key(f"{p.key} {p.name}")}
        if needle
        else None
    )
    return [
        m
        for m in review.meetings
        if (not slot or m.slot == slot)
        and (not table or m.table == table)
        and (matching is None or m.a in matching or m.b in matching)
    ]


@dataclass(frozen=True)
class SlotChoice:
    """A slot a meeting could move to, as both sides' day and the tables say."""

    key: str
    label: str
    current: bool  # where the meeting is now
    a_away: bool  # the first company cannot make this slot
    b_away: bool
    a_with: list[str]  # whom the first company meets there already ("B001 name")
    b_with: list[str]
    a_full: bool  # its desks are all taken there (it meets as many as it has desks)
    b_full: bool
    free_tables: list[str]  # tables the pair may use, without another meeting then


def move_choices(
    event: Event, run: ScheduleRun, a: str, b: str
) -> tuple[ReviewMeeting, list[SlotChoice]]:
    """The run's meeting of ``a`` and ``b`` and, slot by slot, what a move there meets:
    availability, the other meetings of both sides, the free tables.

    The organizer reads it to choose where a meeting can go; whether it may (host
    tables, pair slots, the most waits) is :func:`scheduler.pair_rules.move_conflicts`.
    """
    problem = problem_from_dict(run.problem)
    meetings = schedule_from_dict(run.result).meetings if run.result else []
    wanted = frozenset((a.strip().upper(), b.strip().upper()))
    current = next((m for m in meetings if frozenset(k.upper() for k in m.key) == wanted), None)
    if current is None:
        raise NotFound(N_("This run has no meeting of %(a)s and %(b)s."), params={"a": a, "b": b})
    people = {p.id: p for p in problem.participants}
    label = slot_labels(event, problem)
    first, second = sorted((people[current.a], people[current.b]), key=lambda p: (p.role, p.id))
    meeting = ReviewMeeting(
        a=first.id,
        b=second.id,
        a_name=first.name,
        b_name=second.name,
        slot=current.slot,
        start=next(s.start for s in problem.slots if s.id == current.slot),
        label=label[current.slot],
        table=current.table,
    )
    by_slot: dict[str, list[Meeting]] = defaultdict(list)
    for other in meetings:
        if other.key != current.key:
            by_slot[other.slot].append(other)
    # The tables this pair may use: a host's own (of either side), else those without
    # a host; another buyer's table is no choice, however free.
    tables = problem.tables or ()
    hosts = {t.host for t in tables if t.host is not None}
    if hosts & {current.a, current.b}:
        table_ids = [t.id for t in tables if t.host in (current.a, current.b)]
    else:
        table_ids = [t.id for t in tables if t.host is None]

    def met_by(who: str, there: list[Meeting]) -> list[str]:
        return [
            f"{partner} {people[partner].name}".strip()
            for m in there
            if who in (m.a, m.b)
            for partner in (m.b if m.a == who else m.a,)
        ]

    choices = []
    for slot in problem.slots:
        there = by_slot[slot.id]
        taken = {m.table for m in there}
        a_with, b_with = met_by(first.id, there), met_by(second.id, there)
        choices.append(
            SlotChoice(
                key=slot.id,
                label=label[slot.id],
                current=slot.id == current.slot,
                a_away=first.available is not None and slot.id not in first.available,
                b_away=second.available is not None and slot.id not in second.available,
                a_with=a_with,
                b_with=b_with,
                a_full=len(a_with) >= first.parallel,
                b_full=len(b_with) >= second.parallel,
                free_tables=[t for t in table_ids if t not in taken],
            )
        )
    return meeting, choices


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
        labels = slot_labels(event, prep.problem)
        self.labels = [labels[s.id] for s in prep.problem.slots]  # by slot index

    def name(self, who: int) -> str:
        participant = self.prep.problem.participants[who]
        return participant.name or participant.id

    def name_of(self, key: str) -> str:
        return self.name(self.prep.participant_index[key])

    def time(self, slot: int) -> str:
        """The slot's local start: ``10:30``, or ``2/18 10:30`` when the fair has several days."""
        return self.labels[slot]

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
