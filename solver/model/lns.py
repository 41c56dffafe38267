"""Large-neighbourhood search for problems too big for one CP-SAT model.

A 1000 × 5000 fair has millions of feasible (pair, slot) combinations; one model
of them all does not fit in memory and would not even load its hint in time.
Instead a valid schedule is improved piece by piece: pick a neighbourhood of
participants, free every meeting of theirs, and re-solve exactly that part
with everything else fixed. The sub-model is exact for the full objective up
to a constant:

* the free pairs (those of a set of participants, or those in a time window)
  have ``M`` as their participants, and every fixed meeting of someone in ``M``
  enters as a lock, so each ``M`` participant's limits, breaks and bonus see all its meetings;
* participants outside ``M`` appear only in such locks, their meetings are all
  fixed, so their breaks and bonus are constants and are left out (``frozen``);
* pooled tables taken by fixed meetings outside the sub-model are subtracted
  per slot (``pooled_limit``); a host's tables are only ever used by its own
  meetings, which are all in the sub-model when it is in ``M``.

A neighbourhood's result replaces the current schedule only when CP-SAT finds
a better objective than the (complete, feasible) hint it starts from.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from solver import work
from solver.model.hints import complete_hint
from solver.model.prepared import Prepared, PreparedPair
from solver.model.schedule_model import ScheduleModel
from solver.problem import Meeting

# Free (pair, slot) variables per neighbourhood: big enough to move many meetings,
# small enough to solve in about a second.
NEIGHBOURHOOD_VARIABLES = 2000
SECONDS_PER_NEIGHBOURHOOD = 0.5
# Budgeted work for building one neighbourhood's model (reproducible runs only).
NEIGHBOURHOOD_OVERHEAD = 0.05


@dataclass(slots=True)
class LnsResult:
    """The improved schedule as (pair, slot) and host sides, with counters for stats."""

    chosen: list[tuple[int, int]]
    sides: dict[tuple[int, int], int]
    neighbourhoods: int = 0
    improvements: int = 0
    gained: int = 0
    branches: int = 0
    conflicts: int = 0


def improve(
    prep: Prepared,
    chosen: list[tuple[int, int]],
    sides: dict[tuple[int, int], int],
    *,
    deadline: float,
    workers: int,
    seed: int,
    on_improvement: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    windows: bool = False,
    budget: float | None = None,
) -> LnsResult:
    """Improve ``chosen`` neighbourhood by neighbourhood until ``deadline`` (perf_counter).

    Neighbourhoods are sets of participants (all their meetings move freely) and,
    with ``windows``, also time windows: every meeting in a few consecutive slots
    of one day may move within the window, and pairs not yet scheduled may join
    it. Windows are what removes breaks: a break is a local pattern in time.

    With ``budget`` (seconds of work, :mod:`solver.work`) the search is the same
    on every run: each neighbourhood's CP-SAT stops on deterministic time and the
    loop ends when the budget is spent (``deadline`` then only guards the wall
    clock).
    """
    rng = random.Random(seed)
    state = dict(chosen)
    sides = dict(sides)
    result = LnsResult([], {})
    active = [p for p in range(len(prep.participant_ids)) if prep.pairs_of[p]]
    if not active:
        result.chosen, result.sides = sorted(state.items()), sides
        return result
    used = 0.0

    def time_left() -> float:
        wall = deadline - time.perf_counter()
        return wall if budget is None else min(budget - used, wall)

    while time_left() > 0.2 and not (stop is not None and stop.is_set()):
        used += NEIGHBOURHOOD_OVERHEAD
        if windows and rng.random() < 0.5:
            free_pairs, allowed = _pick_window(prep, rng, state)
        else:
            people = _pick_neighbourhood(prep, rng, active)
            free_pairs = sorted({i for who in people for i in prep.pairs_of[who]})
            allowed = None
        sub, back = _neighbourhood(prep, state, sides, free_pairs, allowed)
        if not back:
            continue
        model = ScheduleModel(sub)
        forward = {old: new for new, old in enumerate(back)}
        hint_chosen = [(forward[i], s) for i, s in state.items() if i in forward]
        hint_sides = {(forward[i], s): h for (i, s), h in sides.items() if i in forward}
        hints = complete_hint(model.vars, hint_chosen, hint_sides)
        for var, value in hints:
            model.model.add_hint(var, value)
        values = {var.index: value for var, value in hints}
        assert model.objective is not None
        start_value = model.objective.constant + sum(
            c * values.get(var.index, 0) for c, var in model.objective.terms
        )
        limit = min(SECONDS_PER_NEIGHBOURHOOD, time_left())
        if limit <= 0.1:
            break
        solution, _ = model.solve(
            time_limit=limit,
            workers=workers,
            seed=seed,
            stop=stop,
            reproducible=budget is not None,
        )
        used += work.seconds_of(solution.deterministic_time)
        result.neighbourhoods += 1
        result.branches += solution.branches
        result.conflicts += solution.conflicts
        if not solution.has_solution or solution.objective is None:
            continue
        if solution.objective <= start_value:
            continue
        for old in back:
            state.pop(old, None)
        for key in [k for k in sides if k[0] in forward]:
            del sides[key]
        for new, slot in solution.chosen:
            state[back[new]] = slot
        for (new, slot), host in solution.sides.items():
            sides[back[new], slot] = host
        result.improvements += 1
        result.gained += solution.objective - start_value
        if on_improvement is not None:
            on_improvement(solution.objective - start_value)
    result.chosen = sorted(state.items())
    result.sides = sides
    return result


def _pick_neighbourhood(prep: Prepared, rng: random.Random, active: list[int]) -> set[int]:
    """A connected set of participants: a random one, then partners of partners."""
    start = rng.choice(active)
    free = {start}
    frontier = [start]
    variables = 0
    while frontier and variables < NEIGHBOURHOOD_VARIABLES:
        who = frontier.pop(rng.randrange(len(frontier)))
        pairs = list(prep.pairs_of[who])
        rng.shuffle(pairs)
        for pair_index in pairs:
            other = prep.other(pair_index, who)
            if other in free:
                continue
            variables += sum(len(prep.pairs[i].slots) for i in prep.pairs_of[other])
            free.add(other)
            frontier.append(other)
            if variables >= NEIGHBOURHOOD_VARIABLES:
                break
    return free


def _pick_window(
    prep: Prepared, rng: random.Random, state: dict[int, int]
) -> tuple[list[int], set[int]]:
    """The pairs of a random window of consecutive slots, and the window's slots."""
    day = rng.choice([d for d in prep.days if d])
    width = min(len(day), rng.randint(3, 5))
    first = rng.randrange(len(day) - width + 1)
    window = set(day[first : first + width])
    inside = [i for i, s in state.items() if s in window]
    waiting = [
        p.index for p in prep.pairs if p.index not in state and any(s in window for s in p.slots)
    ]
    budget = max(0, NEIGHBOURHOOD_VARIABLES - width * len(inside)) // width
    if len(waiting) > budget:
        waiting = rng.sample(waiting, budget)
    return sorted(inside + waiting), window


def _neighbourhood(
    prep: Prepared,
    state: dict[int, int],
    sides: dict[tuple[int, int], int],
    free_pairs: list[int],
    allowed: set[int] | None,
) -> tuple[Prepared, list[int]]:
    """The sub-problem freeing ``free_pairs`` (only within the ``allowed`` slots, if
    given; see the module docstring) and its pairs' original indices."""

    def movable_slots(i: int) -> list[int]:
        slots = prep.pairs[i].slots
        return slots if allowed is None else [s for s in slots if s in allowed]

    free_pairs = [i for i in free_pairs if movable_slots(i)]
    free_set = set(free_pairs)
    members: set[int] = set()
    for i in free_pairs:
        members.add(prep.pairs[i].a)
        members.add(prep.pairs[i].b)
    fixed = sorted(
        (i, s)
        for i, s in state.items()
        if i not in free_set and (prep.pairs[i].a in members or prep.pairs[i].b in members)
    )
    included = free_set | {i for i, _ in fixed}
    pooled_limit = None
    if prep.has_tables and prep.pooled_tables:
        pooled_limit = {}
        for i, s in state.items():
            if i in included:
                continue
            if not prep.table_hosts(i):
                pooled_limit[s] = pooled_limit.get(s, len(prep.pooled_tables)) - 1
    frozen = frozenset(p for p in range(len(prep.participant_ids)) if p not in members)
    sub = replace(
        prep,
        pairs=[],
        pair_index={},
        pairs_of=[[] for _ in prep.participant_ids],
        pooled_limit=pooled_limit,
        frozen=frozen,
    )
    back: list[int] = []

    def add(old: PreparedPair, slots: list[int], lock: Meeting | None) -> None:
        new = PreparedPair(
            len(sub.pairs), old.pair, old.a, old.b, slots, lock, old.both_hosts, old.pooled_lock
        )
        sub.pairs.append(new)
        sub.pair_index[old.pair.key] = new.index
        sub.pairs_of[old.a].append(new.index)
        sub.pairs_of[old.b].append(new.index)
        back.append(old.index)

    for i in free_pairs:
        old = prep.pairs[i]
        add(old, movable_slots(i), old.locked)
    for i, slot in fixed:
        old = prep.pairs[i]
        table = None
        host = sides.get((i, slot))
        if host is not None and prep.hosted_tables[host]:
            table = prep.hosted_tables[host][0]  # tells the lock whose table it takes
        lock = Meeting(old.pair.a, old.pair.b, prep.slot_ids[slot], table)
        add(old, [slot], lock)
    return sub, back
