"""A fast greedy schedule: the warm start (hint) for CP-SAT and the fallback answer.

Locked meetings first, then the ``current`` plan where it still fits, then must
pairs (fewest possible slots first), then the rest by descending weight, each
in the slot that adds the fewest breaks (earliest on ties), and only when the
meeting is worth it (weight + marginal bonus − break penalty > 0). Every hard
rule is respected meeting by meeting, so the result is valid except that some
must pair may be left out (then it is only a hint, never an answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solver.model.prepared import Prepared
from solver.timeline import count_breaks


@dataclass(slots=True)
class GreedyResult:
    """Chosen (pair, slot) combinations, host sides of host–host meetings, must pairs missed."""

    chosen: list[tuple[int, int]] = field(default_factory=list)
    sides: dict[tuple[int, int], int] = field(default_factory=dict)
    missed_must: list[int] = field(default_factory=list)


class _State:
    """Occupancy counters for incremental feasibility checks."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        n = len(prep.participant_ids)
        self.per_slot: dict[tuple[int, int], int] = {}
        self.count = [0] * n
        self.busy: list[set[int]] = [set() for _ in range(n)]
        self.pooled_used: dict[int, int] = {}
        self.host_used: dict[tuple[int, int], int] = {}
        self.met: set[int] = set()
        self.day_of = {slot: day for day in prep.days for slot in day}
        self.day_slots = {slot: day for day in prep.days for slot in day}

    def breaks_delta(self, who: int, slot: int) -> int:
        if slot in self.busy[who]:
            return 0
        day = self.day_slots[slot]
        before = count_breaks(day, self.busy[who])
        return count_breaks(day, self.busy[who] | {slot}) - before

    def total_breaks_after(self, who: int, slot: int) -> int:
        busy = self.busy[who] | {slot}
        return sum(count_breaks(day, busy) for day in self.prep.days)

    def side_for(self, pair_index: int, slot: int) -> int | bool | None:
        """The table group that has room: host id, None (pooled/unlimited), False (full)."""
        prep = self.prep
        if not prep.has_tables:
            return None
        prepared = prep.pairs[pair_index]
        hosts = [w for w in (prepared.a, prepared.b) if prep.is_host(w)]
        if not hosts:
            free = len(prep.pooled_tables) - self.pooled_used.get(slot, 0)
            return None if free > 0 else False
        for host in hosts:
            if self.host_used.get((host, slot), 0) < len(prep.hosted_tables[host]):
                return host
        return False

    def fits(self, pair_index: int, slot: int) -> bool:
        prep = self.prep
        prepared = prep.pairs[pair_index]
        if pair_index in self.met:
            return False
        for who in (prepared.a, prepared.b):
            info = prep.problem.participants[who]
            if self.per_slot.get((who, slot), 0) >= info.parallel:
                return False
            if info.max_meetings is not None and self.count[who] >= info.max_meetings:
                return False
            cap = prep.problem.max_breaks
            if cap is not None and self.total_breaks_after(who, slot) > cap:
                return False
        return self.side_for(pair_index, slot) is not False

    def place(self, pair_index: int, slot: int, side: int | None, result: GreedyResult) -> None:
        prepared = self.prep.pairs[pair_index]
        for who in (prepared.a, prepared.b):
            self.per_slot[who, slot] = self.per_slot.get((who, slot), 0) + 1
            self.count[who] += 1
            self.busy[who].add(slot)
        if self.prep.has_tables:
            if side is None:
                self.pooled_used[slot] = self.pooled_used.get(slot, 0) + 1
            else:
                self.host_used[side, slot] = self.host_used.get((side, slot), 0) + 1
                if prepared.both_hosts:
                    result.sides[pair_index, slot] = side
        self.met.add(pair_index)
        result.chosen.append((pair_index, slot))


def greedy_schedule(prep: Prepared, *, only_pairs: list[int] | None = None) -> GreedyResult:
    """A valid-by-construction schedule (see module docstring); ``only_pairs`` limits the pool."""
    problem = prep.problem
    state = _State(prep)
    result = GreedyResult()
    bonus = list(problem.meeting_bonus)

    def marginal_bonus(who: int) -> int:
        k = state.count[who]
        return bonus[k] if k < len(bonus) else 0

    # Locks are placed unconditionally (their soundness is checked elsewhere).
    for prepared in prep.pairs:
        if prepared.locked is not None and prepared.slots:
            slot = prepared.slots[0]
            table = prepared.locked.table
            side = prep.table_host.get(table) if table is not None else None
            state.place(prepared.index, slot, side, result)
    # The current plan, where it still fits: a stable hint for re-optimisation.
    for meeting in problem.current:
        pair_index = prep.pair_index.get(meeting.key)
        slot = prep.slot_index.get(meeting.slot)
        if pair_index is None or slot is None or slot not in prep.pairs[pair_index].slots:
            continue
        if state.fits(pair_index, slot):
            side = state.side_for(pair_index, slot)
            state.place(pair_index, slot, side if side is not False else None, result)

    pool = range(len(prep.pairs)) if only_pairs is None else only_pairs
    musts = sorted(
        (i for i in pool if prep.pairs[i].pair.must and i not in state.met),
        key=lambda i: (len(prep.pairs[i].slots), i),
    )
    others = sorted(
        (i for i in pool if not prep.pairs[i].pair.must and i not in state.met),
        key=lambda i: (-prep.pairs[i].pair.weight, i),
    )
    for pair_index in musts + others:
        prepared = prep.pairs[pair_index]
        best: tuple[int, int] | None = None
        for slot in prepared.slots:
            if not state.fits(pair_index, slot):
                continue
            delta = state.breaks_delta(prepared.a, slot) + state.breaks_delta(prepared.b, slot)
            if best is None or delta < best[0]:
                best = (delta, slot)
                if delta <= 0:
                    break
        if best is None:
            if prepared.pair.must:
                result.missed_must.append(pair_index)
            continue
        delta, slot = best
        gain = (
            prepared.pair.weight
            + marginal_bonus(prepared.a)
            + marginal_bonus(prepared.b)
            - problem.break_penalty * delta
        )
        if not prepared.pair.must and gain <= 0:
            continue
        side = state.side_for(pair_index, slot)
        state.place(pair_index, slot, None if side is False else side, result)
    return result
