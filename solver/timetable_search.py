"""Fewer breaks for a fixed set of meetings: simulated annealing over Kempe-chain swaps.

When the meetings are decided (every pair a must, or the relaxation's matching
timetabled as musts by the engine), only their slots are left, and the objective
loses ``break_penalty`` per break. CP-SAT finds break-free timetables quickly
when one exists, but where breaks cannot all go (tables full in every slot) its
search improves slowly. A timetable is a proper edge colouring of the meeting
graph (participants are vertices, slots are colours: nobody meets twice in a
slot), and the classic move for those is the *Kempe chain*: take a meeting in
slot ``t1`` and a target slot ``t2``; the meetings in ``t1`` or ``t2`` that touch
it, their neighbours, and so on form a path or cycle, and swapping ``t1`` and
``t2`` along it keeps everyone in one meeting per slot. Only the chain's two
end participants change their busy slots, so a move is scored in a few steps.

A move is taken when every meeting of the chain may use its new slot (the
pair's feasible slots: availability, session, ``now``), nobody in it is locked,
pooled tables still suffice in both slots and ``max_breaks`` holds; a move that
adds breaks is taken with the annealing probability. Breaks alone are a flat
landscape (a three-slot gap and a one-slot gap are one break each, so shrinking
a gap looks like no progress), so the energy also counts every idle slot inside
a participant's day at ``IDLE_WEIGHT``: moves that shrink a gap are favoured
until it closes. The best timetable is the one with the fewest breaks.

The start may break ``max_breaks`` (a timetable found with the break rules left
out, when nothing valid is known yet): then every break over the cap weighs
``EXCESS_WEIGHT``, no move takes anyone further over it, and only timetables
within the cap count as found. The search is plain Python
(no CP-SAT), works only where its moves keep every rule (see :func:`eligible`),
and returns the best timetable seen; the engine validates it like any other.
"""

from __future__ import annotations

import math
import random
import threading
import time

from solver.model.prepared import Prepared

# A chain longer than this is not tried (a long chain rarely gains and costs time).
MAX_CHAIN = 40
# Temperatures of the annealing, from the start to the end of the time given.
START_TEMPERATURE = 0.6
END_TEMPERATURE = 0.05
CHECK_EVERY = 256  # moves between looks at the clock
# Energy of one idle slot between two meetings of a day, against 1 per break.
IDLE_WEIGHT = 0.1
# Energy of one break over ``max_breaks`` (a start that breaks the cap).
EXCESS_WEIGHT = 4.0


def eligible(prep: Prepared) -> bool:
    """Whether Kempe swaps keep every hard rule of ``prep``.

    They do when each participant meets once per slot (``parallel`` 1), each
    host has one table (its clash rule is then its table's), no meeting joins
    two hosts (a side choice), and breaks cost something.
    """
    problem = prep.problem
    if not problem.break_penalty or not prep.pairs:
        return False
    if any(info.parallel != 1 for info in problem.participants):
        return False
    if any(len(tables) > 1 for tables in prep.hosted_tables):
        return False
    return not any(p.both_hosts for p in prep.pairs)


def improve_timetable(
    prep: Prepared,
    chosen: list[tuple[int, int]],
    *,
    deadline: float,
    moves: int | None = None,
    seed: int = 0,
    stop: threading.Event | None = None,
    floor: int = 0,
) -> tuple[list[tuple[int, int]], int]:
    """The best timetable found for the meetings ``chosen`` (pair, slot), and breaks saved.

    ``chosen`` must keep every rule but perhaps ``max_breaks`` (see the module
    docstring); the pairs stay the same, only slots change. The search
    ends at ``deadline`` (``time.perf_counter``) or after ``moves`` tries, and with
    ``moves`` its cooling follows the count, so it is the same on every run. It
    also ends when the breaks are down to ``floor``, a proven lower bound. When
    ``chosen`` breaks the cap and no timetable within it is found, ``chosen`` comes
    back with 0 saved; a start over the cap that is repaired may come back with
    more breaks than it had (a negative saving).
    """
    search = _Search(prep, chosen, random.Random(seed))
    return search.run(deadline, moves, stop, floor)


class _Search:
    def __init__(self, prep: Prepared, chosen: list[tuple[int, int]], rng: random.Random):
        self.prep = prep
        self.rng = rng
        n_slots = len(prep.slot_ids)
        self.pair_of = [pair for pair, _ in chosen]
        self.slot = [slot for _, slot in chosen]
        self.ends = [(prep.pairs[p].a, prep.pairs[p].b) for p in self.pair_of]
        self.allowed = [set(prep.pairs[p].slots) for p in self.pair_of]
        self.movable = [prep.pairs[p].locked is None for p in self.pair_of]
        self.pooled = [prep.has_tables and not prep.table_hosts(p) for p in self.pair_of]
        self.capacity = [
            prep.pooled_capacity(t) if prep.has_tables else len(chosen) for t in range(n_slots)
        ]
        self.count = [0] * n_slots
        # at[participant][slot] -> meeting index (each participant meets once per slot).
        self.at: list[dict[int, int]] = [{} for _ in prep.participant_ids]
        self.mask = [0] * len(prep.participant_ids)
        for m, (a, b) in enumerate(self.ends):
            t = self.slot[m]
            self.at[a][t] = m
            self.at[b][t] = m
            self.mask[a] |= 1 << t
            self.mask[b] |= 1 << t
            if self.pooled[m]:
                self.count[t] += 1
        self.days = prep.days
        self.by_slot: list[set[int]] = [set() for _ in range(n_slots)]
        for m, t in enumerate(self.slot):
            self.by_slot[t].add(m)
        self.max_breaks = prep.problem.max_breaks
        self._cache: dict[int, tuple[int, int]] = {}
        self.breaks = [self.breaks_of(mk) for mk in self.mask]
        self.idle = [self.profile(mk)[1] for mk in self.mask]
        self.over = sum(self.excess(b) for b in self.breaks)  # breaks over the cap, in all
        self.movable_meetings = [m for m in range(len(chosen)) if self.movable[m]]

    def excess(self, breaks: int) -> int:
        """Breaks over ``max_breaks`` of a participant with ``breaks``."""
        return 0 if self.max_breaks is None else max(0, breaks - self.max_breaks)

    def breaks_of(self, mask: int) -> int:
        """Breaks of a participant busy in the slots of ``mask``."""
        return self.profile(mask)[0]

    def profile(self, mask: int) -> tuple[int, int]:
        """Breaks and idle slots between meetings of a participant busy in ``mask``."""
        cached = self._cache.get(mask)
        if cached is not None:
            return cached
        breaks = idle = 0
        for day in self.days:
            bits = 0
            for position, slot in enumerate(day):
                if mask >> slot & 1:
                    bits |= 1 << position
            if bits:
                bits //= bits & -bits  # drop idle slots before the first meeting
                # Runs of busy slots: a one followed by a zero (or the end) ends a run.
                breaks += bin(bits & ~(bits >> 1)).count("1") - 1
                idle += bits.bit_length() - bin(bits).count("1")
        self._cache[mask] = breaks, idle
        return breaks, idle

    def chain(self, start: int, t2: int) -> tuple[list[int], list[int]] | None:
        """The Kempe chain of meeting ``start`` between its slot and ``t2``."""
        t1 = self.slot[start]
        members = {start}
        todo = [start]
        while todo:
            m = todo.pop()
            other = t2 if self.slot[m] == t1 else t1
            for who in self.ends[m]:
                n = self.at[who].get(other)
                if n is not None and n not in members:
                    members.add(n)
                    if len(members) > MAX_CHAIN:
                        return None
                    todo.append(n)
        first = [m for m in members if self.slot[m] == t1]
        second = [m for m in members if self.slot[m] == t2]
        return first, second

    def run(
        self,
        deadline: float,
        moves_allowed: int | None,
        stop: threading.Event | None,
        floor: int = 0,
    ) -> tuple[list[tuple[int, int]], int]:
        rng = self.rng
        start_breaks = current = sum(self.breaks)
        valid_start = self.over == 0
        best = current if valid_start else math.inf
        best_slots = list(self.slot)
        if not self.movable_meetings or best <= floor:
            return list(zip(self.pair_of, best_slots, strict=True)), 0
        started = time.perf_counter()
        span = max(1e-3, deadline - started)
        temperature = START_TEMPERATURE
        moves = 0
        while True:
            moves += 1
            if moves_allowed is not None and moves >= moves_allowed:
                break
            if moves % CHECK_EVERY == 0:
                now = time.perf_counter()
                if now >= deadline or (stop is not None and stop.is_set()) or best <= floor:
                    break
                if moves_allowed is None:
                    progress = (now - started) / span
                else:
                    progress = moves / moves_allowed
                temperature = START_TEMPERATURE * (END_TEMPERATURE / START_TEMPERATURE) ** progress
            m = rng.choice(self.movable_meetings)
            t1 = self.slot[m]
            t2 = rng.choice(tuple(self.allowed[m]))
            if t2 == t1:
                continue
            found = self.chain(m, t2)
            if found is None:
                continue
            first, second = found
            if not self.fits(first, second, t1, t2):
                # Full tables: swap a second chain the other way along with it.
                others = self.by_slot[t2]
                if not others:
                    continue
                other = rng.choice(tuple(others))
                if other in second:
                    continue
                more = self.chain(other, t1)
                if more is None:
                    continue
                first, second = first + more[1], second + more[0]
                if not self.fits(first, second, t1, t2):
                    continue
            delta = self.try_swap(first, second, t1, t2, temperature)
            if delta is None:
                continue
            current += delta
            if current < best and self.over == 0:
                best = current
                best_slots = list(self.slot)
        if best == math.inf:
            return list(zip(self.pair_of, best_slots, strict=True)), 0
        return list(zip(self.pair_of, best_slots, strict=True)), start_breaks - int(best)

    def fits(self, first: list[int], second: list[int], t1: int, t2: int) -> bool:
        """Whether pooled tables suffice in both slots after the swap."""
        pooled_first = sum(1 for m in first if self.pooled[m])
        pooled_second = sum(1 for m in second if self.pooled[m])
        return (
            self.count[t1] - pooled_first + pooled_second <= self.capacity[t1]
            and self.count[t2] - pooled_second + pooled_first <= self.capacity[t2]
        )

    def try_swap(
        self, first: list[int], second: list[int], t1: int, t2: int, temperature: float
    ) -> int | None:
        """Swap the chain if the rules allow and annealing accepts; the change in breaks.

        Acceptance follows the energy (breaks plus idle slots at ``IDLE_WEIGHT``).
        """
        for m in first:
            if not self.movable[m] or t2 not in self.allowed[m]:
                return None
        for m in second:
            if not self.movable[m] or t1 not in self.allowed[m]:
                return None
        pooled_first = sum(1 for m in first if self.pooled[m])
        pooled_second = sum(1 for m in second if self.pooled[m])
        # Only participants in one of the two sides change their busy slots.
        flip = (1 << t1) | (1 << t2)
        touched: dict[int, int] = {}
        for m in first:
            for who in self.ends[m]:
                touched[who] = touched.get(who, 0) + 1
        for m in second:
            for who in self.ends[m]:
                touched[who] = touched.get(who, 0) + 1
        delta = 0
        energy = 0.0
        changes: list[tuple[int, int, int, int]] = []
        for who, times in touched.items():
            if times == 2:
                continue  # busy in both slots before and after
            mask = self.mask[who] ^ flip
            after, idle = self.profile(mask)
            before = self.breaks[who]
            over = self.excess(after) - self.excess(before)
            if over > 0:
                return None  # nobody goes (further) over the cap
            delta += after - before
            energy += after - before + IDLE_WEIGHT * (idle - self.idle[who])
            energy += EXCESS_WEIGHT * over
            changes.append((who, mask, after, idle))
        if energy > 0 and self.rng.random() >= math.exp(-energy / temperature):
            return None
        moves = ((first, t1, t2), (second, t2, t1))
        for group, old, _ in moves:  # vacate both slots first: the two sides trade places
            for m in group:
                for who in self.ends[m]:
                    del self.at[who][old]
        for group, old, new in moves:
            for m in group:
                self.by_slot[old].discard(m)
                self.by_slot[new].add(m)
                self.slot[m] = new
                for who in self.ends[m]:
                    self.at[who][new] = m
        self.count[t1] += pooled_second - pooled_first
        self.count[t2] += pooled_first - pooled_second
        for who, mask, after, idle in changes:
            self.over += self.excess(after) - self.excess(self.breaks[who])
            self.mask[who] = mask
            self.breaks[who] = after
            self.idle[who] = idle
        return delta
