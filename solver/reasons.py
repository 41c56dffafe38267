"""Why a requested pair (weight > 0) was left out, in terms an organizer can act on.

Checked in order, the first that applies wins:

``no_common_slot``
    The pair's slots ∩ both availabilities ∩ slots not before ``now`` is empty.
``at_maximum``
    One side already has ``max_meetings`` meetings (``detail`` names it).
``out_competed``
    Neither side is at its maximum, but in every common slot one of them is
    already fully booked; ``detail`` names the side blocking most of those slots
    and the meetings (with their weights) that took them. Also used when a common
    free slot exists but taking it would break ``max_breaks`` or cost more than
    it brings (breaks, fairness) — ``detail`` says so.
``no_table``
    Both sides are free in some common slot, but no table they may use is free there.

``declined`` (a pair the app did not list at all) is the app's business, not the solver's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from solver.model.prechecks import no_slot_detail
from solver.model.prepared import Prepared, PreparedPair
from solver.model.table_assignment import table_group
from solver.problem import Meeting, UnscheduledPair
from solver.timeline import count_breaks
from solver.wording import counted


@dataclass(frozen=True)
class Finding:
    """Why one requested pair is not in a schedule: the reason code and its facts.

    ``fact`` tells the cases of a reason apart: ``no_slot`` and ``no_slot_now``
    (no_common_slot), ``no_own_table`` and ``tables_taken`` (no_table),
    ``at_maximum``, and ``booked``, ``breaks`` and ``outscored`` (out_competed).
    ``who`` is the participant (index) the fact is about, ``cap`` its
    ``max_meetings`` (or the problem's ``max_breaks``), ``slots`` the slot indices
    in question and ``blocking`` the meetings that took them. The solver words it
    in English with ids (:func:`explain_unscheduled`); the app words it again in
    the reader's language with names and times.
    """

    reason: str
    fact: str
    who: int | None = None
    cap: int | None = None
    slots: tuple[int, ...] = ()
    blocking: tuple[Meeting, ...] = ()


def explain_unscheduled(prep: Prepared, meetings: Iterable[Meeting]) -> list[UnscheduledPair]:
    """One :class:`UnscheduledPair` per requested pair missing from ``meetings``."""
    meetings = list(meetings)
    weight = {p.pair.key: p.pair.weight for p in prep.pairs}
    return [
        UnscheduledPair(
            prep.pairs[index].pair.a,
            prep.pairs[index].pair.b,
            finding.reason,
            _english(prep, finding, weight, prep.pairs[index]),
        )
        for index, finding in find_reasons(prep, meetings).items()
    ]


def find_reasons(prep: Prepared, meetings: Iterable[Meeting]) -> dict[int, Finding]:
    """A :class:`Finding` per requested pair (by pair index) missing from ``meetings``."""
    scheduled: set[frozenset[str]] = set()
    count: Counter[int] = Counter()
    in_slot: dict[tuple[int, int], list[Meeting]] = {}
    tables_used: dict[int, set[str]] = {}
    busy: dict[int, set[int]] = {}
    for m in meetings:
        scheduled.add(m.key)
        slot = prep.slot_index[m.slot]
        for who in {prep.participant_index[m.a], prep.participant_index[m.b]}:
            count[who] += 1
            in_slot.setdefault((who, slot), []).append(m)
            busy.setdefault(who, set()).add(slot)
        if m.table is not None:
            tables_used.setdefault(slot, set()).add(m.table)
    out: dict[int, Finding] = {}
    for prepared in prep.pairs:
        pair = prepared.pair
        if pair.weight <= 0 or pair.key in scheduled:
            continue
        out[prepared.index] = _finding(prep, prepared, count, in_slot, tables_used, busy)
    return out


def _finding(
    prep: Prepared,
    prepared: PreparedPair,
    count: Counter[int],
    in_slot: dict[tuple[int, int], list[Meeting]],
    tables_used: dict[int, set[str]],
    busy: dict[int, set[int]],
) -> Finding:
    problem = prep.problem
    if not prepared.slots:
        hosts = prep.is_host(prepared.a) or prep.is_host(prepared.b)
        if prep.has_tables and not hosts and not prep.pooled_tables:
            return Finding("no_table", "no_own_table")
        now = problem.now is not None and any(prep.past)
        return Finding("no_common_slot", "no_slot_now" if now else "no_slot")
    for who in (prepared.a, prepared.b):
        cap = problem.participants[who].max_meetings
        if cap is not None and count[who] >= cap:
            return Finding("at_maximum", "at_maximum", who, cap)

    def booked(who: int, slot: int) -> bool:
        held = len(in_slot.get((who, slot), []))
        return held >= problem.participants[who].parallel

    free = [s for s in prepared.slots if not booked(prepared.a, s) and not booked(prepared.b, s)]
    if not free:
        blocked = {
            who: [s for s in prepared.slots if booked(who, s)] for who in (prepared.a, prepared.b)
        }
        who = max((prepared.a, prepared.b), key=lambda w: len(blocked[w]))
        taken = tuple(m for s in blocked[who] for m in in_slot[(who, s)])
        return Finding("out_competed", "booked", who, None, tuple(blocked[who]), taken)
    group = table_group(prep, prepared.index, None) if prep.has_tables else []
    with_table = [
        s
        for s in free
        if not prep.has_tables or any(t not in tables_used.get(s, set()) for t in group)
    ]
    if not with_table:
        return Finding("no_table", "tables_taken", slots=tuple(free))
    if problem.max_breaks is not None:
        for who in (prepared.a, prepared.b):
            mine = busy.get(who, set())
            if all(
                sum(count_breaks(day, mine | {s}) for day in prep.days) > problem.max_breaks
                for s in with_table
            ):
                return Finding("out_competed", "breaks", who, problem.max_breaks, tuple(with_table))
    return Finding("out_competed", "outscored", slots=tuple(with_table))


def _english(
    prep: Prepared, finding: Finding, weight: dict[frozenset[str], int], prepared: PreparedPair
) -> str:
    """The solver's own words for a finding: English, with ids."""
    name = prep.participant_ids[finding.who] if finding.who is not None else ""
    if finding.fact in ("no_own_table", "no_slot_now", "no_slot"):
        return no_slot_detail(prep, prepared)  # as the prechecks say it of a must pair
    if finding.fact == "at_maximum":
        return f"{name} already has its maximum of {counted(finding.cap or 0, 'meeting')}"
    if finding.fact == "booked":
        winners = [
            f"{_other(m, name)} ({weight.get(m.key, 0)}) in {m.slot}" for m in finding.blocking
        ]
        return f"{name}: " + ", ".join(winners)
    if finding.fact == "tables_taken":
        slots = ", ".join(prep.slot_ids[s] for s in finding.slots)
        return f"both are free in {slots} but every table they may use is taken"
    if finding.fact == "breaks":
        return f"{name} would exceed max_breaks ({finding.cap}) in every free common slot"
    return "a common slot is free, but the rest of the schedule is worth more"


def _other(meeting: Meeting, who: str) -> str:
    return meeting.b if meeting.a == who else meeting.a
