"""Warm starts for CP-SAT, and fallback answers: two fast constructive schedules.

:func:`greedy_schedule` — locked meetings first, then the ``current`` plan where
it still fits, then must pairs (fewest possible slots first), then the rest by
descending weight, each in the slot that adds the fewest breaks (earliest on
ties), and only when the meeting is worth it (weight + marginal bonus − break
penalty > 0).

:func:`compact_timetable` — a chosen set of pairs (the relaxation's matching)
placed slot by slot, the participants with the least slack first.

Both respect every hard rule meeting by meeting, except that some must pair may
be left out (then the result is only a hint, never an answer); the engine
passes every candidate through :func:`solver.validation.check` anyway.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from solver import work
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
        hosts = prep.table_hosts(pair_index)
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


def compact_timetable(
    prep: Prepared,
    pairs: list[int],
    *,
    seconds_per_slot: float = 0.2,
    seed: int = 0,
    blocks: bool = True,
    stop: threading.Event | None = None,
) -> GreedyResult:
    """Timetable the given pairs slot by slot, most urgent participants first.

    Slots are filled in time order. In each slot a small CP-SAT model picks the
    meetings (every hard rule of that slot: ``parallel``, tables, availability) to
    maximise a priority. A participant whose remaining meetings fill its
    remaining usable slots has no slack and must meet now — the rule that edge-
    colours a bipartite graph with as many slots as the busiest participant has
    meetings. With ``blocks`` (breaks matter), a participant that met in the
    previous slot and has meetings left goes first too, and others wait, so
    blocks of meetings stay contiguous. Locked pairs are placed in their slot.
    Pairs it cannot place are left out (``missed_must`` lists the must ones), and
    so is everything after ``stop`` is set.
    """
    from ortools.sat.python import cp_model  # local: greedy_schedule needs no CP-SAT

    problem = prep.problem
    state = _State(prep)
    result = GreedyResult()
    remaining = set(pairs)
    left: dict[int, int] = {}
    for i in remaining:
        for who in (prep.pairs[i].a, prep.pairs[i].b):
            left[who] = left.get(who, 0) + 1
    slots_left: dict[int, set[int]] = {}
    for i in remaining:
        for who in (prep.pairs[i].a, prep.pairs[i].b):
            slots_left.setdefault(who, set()).update(prep.pairs[i].slots)
    day_of = {slot: d for d, day in enumerate(prep.days) for slot in day}
    previous = {day[k]: day[k - 1] for day in prep.days for k in range(1, len(day))}
    for slot in (s for day in prep.days for s in day):
        if stop is not None and stop.is_set():
            break
        candidates = sorted(i for i in remaining if slot in prep.pairs[i].slots)
        if not candidates:
            continue
        locked_here = [i for i in candidates if prep.pairs[i].locked is not None]
        model = cp_model.CpModel()
        x = {i: model.new_bool_var(f"x{i}") for i in candidates}
        for i in locked_here:
            model.add(x[i] == 1)
        by_person: dict[int, list] = {}
        pooled, hosted = [], {}
        # Whose tables each meeting takes (None: pooled or no tables), decided once
        # so the model, the greedy pick and the placement all count alike.
        host_of: dict[int, int | None] = {}
        for i in candidates:
            prepared = prep.pairs[i]
            for who in (prepared.a, prepared.b):
                by_person.setdefault(who, []).append(x[i])
            if not prep.has_tables:
                continue
            host_of[i] = _table_host_for(prep, i)
            if host_of[i] is None:
                pooled.append(x[i])
            else:
                hosted.setdefault(host_of[i], []).append(x[i])
        for who, xs in by_person.items():
            info = problem.participants[who]
            room = info.parallel - state.per_slot.get((who, slot), 0)
            if info.max_meetings is not None:
                room = min(room, info.max_meetings - state.count[who])
            model.add(sum(xs) <= max(0, room))
        if prep.has_tables:
            model.add(sum(pooled) <= len(prep.pooled_tables) - state.pooled_used.get(slot, 0))
            for host, xs in hosted.items():
                free = len(prep.hosted_tables[host]) - state.host_used.get((host, slot), 0)
                model.add(sum(xs) <= max(0, free))
        before = previous.get(slot)
        score: dict[int, int] = {}
        for who in by_person:
            usable = sum(1 for s in slots_left.get(who, ()) if s >= slot)
            busy_before = before is not None and before in state.busy[who]
            started_today = any(s in state.busy[who] for s in prep.days[day_of[slot]] if s < slot)
            if not blocks:
                score[who] = 1000 * min(left[who], usable) // max(1, usable)
            elif busy_before:
                score[who] = 1000  # going on keeps the block unbroken
            elif started_today:
                score[who] = 50  # already had a break today; better go on than wait
            elif left[who] >= usable:
                score[who] = 800  # no slack left: must start now
            else:
                score[who] = 10 * left[who] // max(1, usable)
        value = {
            i: score[prep.pairs[i].a]
            + score[prep.pairs[i].b]
            + prep.pairs[i].pair.weight
            + (100 if prep.pairs[i].pair.must else 0)
            for i in candidates
        }
        model.maximize(sum(x[i] * value[i] for i in candidates))
        # A greedy pick by value is the hint, and the answer if CP-SAT has none in time.
        picked = _greedy_slot_pick(prep, state, slot, candidates, value, locked_here, host_of)
        for i in candidates:
            model.add_hint(x[i], i in picked)
        solver = cp_model.CpSolver()
        # One worker, stopped on work done: the same warm start on every run.
        work.limit(solver.parameters, seconds_per_slot, reproducible=True)
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = work.cp_sat_seed(seed)
        if solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            picked = {i for i in candidates if solver.boolean_value(x[i])}
        for i in candidates:
            if i in picked:
                state.place(i, slot, host_of.get(i), result)
                remaining.discard(i)
                for who in (prep.pairs[i].a, prep.pairs[i].b):
                    left[who] -= 1
    result.missed_must = sorted(i for i in remaining if prep.pairs[i].pair.must)
    return result


def _greedy_slot_pick(
    prep: Prepared,
    state: _State,
    slot: int,
    candidates: list[int],
    value: dict[int, int],
    locked_here: list[int],
    host_of: dict[int, int | None],
) -> set[int]:
    """Meetings for one slot by descending value, within every limit of that slot."""
    problem = prep.problem
    order = locked_here + sorted(
        (i for i in candidates if i not in locked_here), key=lambda i: (-value[i], i)
    )
    taken: dict[int, int] = {}
    pooled = state.pooled_used.get(slot, 0)
    hosted: dict[int, int] = {}
    picked: set[int] = set()
    for i in order:
        prepared = prep.pairs[i]
        room = True
        for who in (prepared.a, prepared.b):
            info = problem.participants[who]
            held = state.per_slot.get((who, slot), 0) + taken.get(who, 0)
            total = state.count[who] + taken.get(who, 0)
            if held >= info.parallel or (
                info.max_meetings is not None and total >= info.max_meetings
            ):
                room = False
        host = host_of.get(i)
        if room and prep.has_tables:
            if host is None:
                room = pooled < len(prep.pooled_tables)
            else:
                used = state.host_used.get((host, slot), 0) + hosted.get(host, 0)
                room = used < len(prep.hosted_tables[host])
        if not room and i not in locked_here:
            continue
        picked.add(i)
        for who in (prepared.a, prepared.b):
            taken[who] = taken.get(who, 0) + 1
        if prep.has_tables:
            if host is None:
                pooled += 1
            else:
                hosted[host] = hosted.get(host, 0) + 1
    return picked


def _table_host_for(prep: Prepared, pair_index: int) -> int | None:
    """The host whose tables a meeting of the pair takes (None: a pooled table).

    A lock says so by its table; a meeting of two hosts otherwise takes the one with
    more tables — good enough for a warm start.
    """
    prepared = prep.pairs[pair_index]
    lock = prepared.locked
    if lock is not None and lock.table is not None:
        return prep.table_host.get(lock.table)
    hosts = prep.table_hosts(pair_index)
    if not hosts:
        return None
    return max(hosts, key=lambda h: (len(prep.hosted_tables[h]), -h))
