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

from solver.model.prepared import Prepared
from solver.model.table_assignment import table_group
from solver.problem import Meeting, UnscheduledPair
from solver.timeline import count_breaks


def explain_unscheduled(prep: Prepared, meetings: Iterable[Meeting]) -> list[UnscheduledPair]:
    """One :class:`UnscheduledPair` per requested pair missing from ``meetings``."""
    meetings = list(meetings)
    problem = prep.problem
    scheduled = {m.key for m in meetings}
    count: Counter[int] = Counter()
    in_slot: dict[tuple[int, int], list[Meeting]] = {}
    tables_used: dict[int, set[str]] = {}
    busy: dict[int, set[int]] = {}
    for m in meetings:
        slot = prep.slot_index[m.slot]
        for who in {prep.participant_index[m.a], prep.participant_index[m.b]}:
            count[who] += 1
            in_slot.setdefault((who, slot), []).append(m)
            busy.setdefault(who, set()).add(slot)
        if m.table is not None:
            tables_used.setdefault(slot, set()).add(m.table)
    weight = {p.pair.key: p.pair.weight for p in prep.pairs}
    out: list[UnscheduledPair] = []
    for prepared in prep.pairs:
        pair = prepared.pair
        if pair.weight <= 0 or pair.key in scheduled:
            continue
        if not prepared.slots:
            hosts = prep.is_host(prepared.a) or prep.is_host(prepared.b)
            if prep.has_tables and not hosts and not prep.pooled_tables:
                detail = "two participants without tables of their own, and no table without a host"
                out.append(UnscheduledPair(pair.a, pair.b, "no_table", detail))
            else:
                detail = _no_slot_detail(prep)
                out.append(UnscheduledPair(pair.a, pair.b, "no_common_slot", detail))
            continue
        full = [
            who
            for who in (prepared.a, prepared.b)
            if (cap := problem.participants[who].max_meetings) is not None and count[who] >= cap
        ]
        if full:
            who = full[0]
            cap = problem.participants[who].max_meetings
            detail = f"{prep.participant_ids[who]} already has its maximum of {cap} meetings"
            out.append(UnscheduledPair(pair.a, pair.b, "at_maximum", detail))
            continue

        def booked(who: int, slot: int) -> bool:
            held = len(in_slot.get((who, slot), []))
            return held >= problem.participants[who].parallel

        free = [
            s for s in prepared.slots if not booked(prepared.a, s) and not booked(prepared.b, s)
        ]
        if not free:
            blocked = {
                who: [s for s in prepared.slots if booked(who, s)]
                for who in (prepared.a, prepared.b)
            }
            who = max((prepared.a, prepared.b), key=lambda w: len(blocked[w]))
            winners = [
                f"{_other(m, prep.participant_ids[who])} ({weight.get(m.key, 0)}) in {m.slot}"
                for s in blocked[who]
                for m in in_slot[(who, s)]
            ]
            detail = f"{prep.participant_ids[who]}: " + ", ".join(winners)
            out.append(UnscheduledPair(pair.a, pair.b, "out_competed", detail))
            continue
        group = table_group(prep, prepared.index, None) if prep.has_tables else []
        with_table = [
            s
            for s in free
            if not prep.has_tables or any(t not in tables_used.get(s, set()) for t in group)
        ]
        if not with_table:
            slots = ", ".join(prep.slot_ids[s] for s in free)
            detail = f"both are free in {slots} but every table they may use is taken"
            out.append(UnscheduledPair(pair.a, pair.b, "no_table", detail))
            continue
        detail = "a common slot is free, but the rest of the schedule is worth more"
        if problem.max_breaks is not None:
            for who in (prepared.a, prepared.b):
                mine = busy.get(who, set())
                if all(
                    sum(count_breaks(day, mine | {s}) for day in prep.days) > problem.max_breaks
                    for s in with_table
                ):
                    detail = (
                        f"{prep.participant_ids[who]} would exceed max_breaks "
                        f"({problem.max_breaks}) in every free common slot"
                    )
                    break
        out.append(UnscheduledPair(pair.a, pair.b, "out_competed", detail))
    return out


def _other(meeting: Meeting, who: str) -> str:
    return meeting.b if meeting.a == who else meeting.a


def _no_slot_detail(prep: Prepared) -> str:
    if prep.problem.now is not None and any(prep.past):
        return "no slot in its slots, both availabilities and after now"
    return "no slot in its slots and both availabilities"
