"""Breaks nobody can avoid: for each participant, the fewest its must meetings allow.

A participant whose every pair is a must meets all of them in every valid
schedule. Taken alone — each of its meetings in one of the pair's feasible slots
(availability of both sides, session, ``now``, a lock), one meeting per slot —
the fewest breaks it can have is a lower bound for every schedule, because
partners, tables and the other participants only take choices away. A company
that must meet in the morning session and in the afternoon, and cannot use a slot
around lunch, has a break whatever anyone else does.

The sum over participants, times ``break_penalty``, comes off the relaxation
bound (which ignores breaks); and each floor is added to the CP-SAT model as a
redundant constraint on the participant's break counters. CP-SAT's own bound
misses these: "14 meetings, and no 14 free slots in a row" is a pigeonhole
argument its linear relaxation cannot see.

The floor is found by trying placements, not by a model: a participant's busy
slots with ``b`` breaks are ``b + 1`` runs of consecutive slots, and a bipartite
matching of its pairs to the slots of the runs says whether the pairs fit there.
One run (no break) and two runs (one break) are tried; when neither fits, the
floor is 2. Only participants whose usable slots lie in one day are looked at
(compact days are one day; elsewhere must pairs are few and the floor is taken
as 0).
"""

from __future__ import annotations

from solver.model.prepared import Prepared

# Floors are tried up to this many breaks; past it, the floor is this number.
MAX_FLOOR = 2


def break_floors(prep: Prepared) -> dict[int, int]:
    """Participant index -> breaks it has in every valid schedule (only those above 0).

    Only participants with every pair a must, one meeting per slot and at least
    two pairs are looked at: for anyone else the floor is 0.
    """
    floors: dict[int, int] = {}
    for participant, info in enumerate(prep.problem.participants):
        pairs = prep.pairs_of[participant]
        if info.parallel != 1 or len(pairs) < 2 or participant in prep.frozen:
            continue
        if not all(prep.pairs[i].pair.must for i in pairs):
            continue
        floor = _fewest_breaks(prep, participant)
        if floor > 0:
            floors[participant] = floor
    return floors


def _fewest_breaks(prep: Prepared, participant: int) -> int:
    """A lower bound on the participant's breaks with all its pairs met (0..MAX_FLOOR)."""
    pairs = prep.pairs_of[participant]
    allowed = [set(prep.pairs[i].slots) for i in pairs]
    if not all(allowed):
        return 0  # a pair that cannot meet at all: the prechecks say so
    usable = set().union(*allowed)
    days = [day for day in prep.days if usable.intersection(day)]
    if len(days) != 1:
        return 0
    # Only usable slots can be busy: runs are made of them.
    day = [slot for slot in days[0] if slot in usable]
    position = {slot: k for k, slot in enumerate(days[0])}
    size = len(pairs)
    for breaks in range(MAX_FLOOR):
        for slots in _runs(day, position, size, breaks + 1):
            if _matches_all(allowed, slots):
                return breaks
    return MAX_FLOOR


def _runs(day: list[int], position: dict[int, int], size: int, count: int):
    """Every set of ``size`` usable slots made of exactly ``count`` runs, in slot order.

    ``day`` lists the usable slots of the day in order; a run is a stretch of them
    at consecutive positions of the whole day (an unusable slot in between, or an
    idle one, separates runs).
    """
    # Where each maximal stretch of consecutive usable slots starts and ends.
    stretch_end: dict[int, int] = {}
    k = len(day) - 1
    end = k
    while k >= 0:
        if k < len(day) - 1 and position[day[k + 1]] != position[day[k]] + 1:
            end = k
        stretch_end[k] = end
        k -= 1

    def extend(first: int, runs_left: int, size_left: int, taken: list[int]):
        if runs_left == 0:
            if size_left == 0:
                yield taken
            return
        for start in range(first, len(day)):
            longest = stretch_end[start] - start + 1
            # Each later run needs at least one slot (and a gap before it).
            top = min(longest, size_left - (runs_left - 1))
            lowest = size_left if runs_left == 1 else 1
            for length in range(lowest, top + 1):
                run = day[start : start + length]
                # The next run starts after an idle slot, or in the next stretch.
                after = start + length + (0 if start + length - 1 == stretch_end[start] else 1)
                yield from extend(after, runs_left - 1, size_left - length, taken + run)

    yield from extend(0, count, size, [])


def _matches_all(allowed: list[set[int]], window: list[int]) -> bool:
    """Whether every pair gets its own slot of ``window`` among its allowed slots."""
    holder: dict[int, int] = {}

    def place(pair: int, seen: set[int]) -> bool:
        for slot in window:
            if slot in allowed[pair] and slot not in seen:
                seen.add(slot)
                if slot not in holder or place(holder[slot], seen):
                    holder[slot] = pair
                    return True
        return False

    return all(place(pair, set()) for pair in range(len(allowed)))
