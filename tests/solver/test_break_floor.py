"""Breaks nobody can avoid: the per-participant floor and what the engine does with it."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from benchmarks.generator import generate
from solver.engine import solve
from solver.model.break_floor import MAX_FLOOR, break_floors
from solver.model.prepared import prepare
from solver.problem import Pair, Participant, Problem, Table
from solver.validation import assert_valid, breaks_per_participant
from tests.solver.random_problems import make_slots

SLOTS = make_slots([5])
IDS = [s.id for s in SLOTS]


def star(
    pairs: int,
    *,
    unavailable: tuple[int, ...] = (),
    pair_slots: dict[int, tuple[int, ...]] | None = None,
    must: bool = True,
    slots=SLOTS,
) -> Problem:
    """Company A meets P0, P1, ... (musts unless ``must`` is False); A may miss some slots,
    and pairs may be restricted to some."""
    ids = [s.id for s in slots]
    available = None
    if unavailable:
        available = frozenset(ids[k] for k in range(len(ids)) if k not in unavailable)
    pair_slots = pair_slots or {}
    partners = [f"P{k}" for k in range(pairs)]
    return Problem(
        slots=slots,
        participants=(Participant("A", available=available), *map(Participant, partners)),
        pairs=tuple(
            Pair(
                "A",
                p,
                1,
                must,
                frozenset(ids[k] for k in pair_slots[i]) if i in pair_slots else None,
            )
            for i, p in enumerate(partners)
        ),
        tables=(Table("T1"), Table("T2")),
        break_penalty=1,
        max_breaks=2,
    )


def floors_by_id(problem: Problem) -> dict[str, int]:
    prep = prepare(problem)
    return {prep.participant_ids[k]: v for k, v in break_floors(prep).items()}


def test_more_meetings_than_free_slots_in_a_row_force_a_break():
    # A is away in the middle slot: 3 meetings in {0, 1} and {3, 4} need two runs.
    assert floors_by_id(star(3, unavailable=(2,))) == {"A": 1}
    # Two meetings fit on either side: no floor.
    assert floors_by_id(star(2, unavailable=(2,))) == {}


def test_runs_on_both_sides_of_an_unusable_slot_count_one_break_not_two():
    # 4 meetings in {0, 1} and {3, 4}: exactly one break, the next run starting
    # right after the unusable slot (not one slot later).
    assert floors_by_id(star(4, unavailable=(2,))) == {"A": 1}


def test_pairs_own_slots_can_force_breaks():
    # One meeting only in the first slot and one only in the last: one break.
    assert floors_by_id(star(2, pair_slots={0: (0,), 1: (4,)})) == {"A": 1}
    # Three meetings pinned to slots 0, 2 and 4: two breaks.
    assert floors_by_id(star(3, pair_slots={0: (0,), 1: (2,), 2: (4,)})) == {"A": 2}
    # Pinned to 0 and 1 with a third anywhere: back to back, no floor.
    assert floors_by_id(star(3, pair_slots={0: (0,), 1: (1,)})) == {}


def test_only_participants_whose_every_pair_is_a_must_get_a_floor():
    # An optional pair may be left out, so nothing is forced.
    assert floors_by_id(star(3, unavailable=(2,), must=False)) == {}


def test_a_participant_spread_over_two_days_gets_no_floor():
    # Each day holds one run without a break; the floor is only computed within one day.
    two_days = make_slots([2, 2])
    assert floors_by_id(star(4, slots=two_days)) == {}


def test_the_engine_proves_a_forced_break_optimal_through_the_floor():
    problem = star(3, unavailable=(2,))
    schedule = solve(problem, time_limit=5, workers=1)
    assert_valid(problem, schedule.meetings)
    assert schedule.stats["break_floor"] == 1
    assert sum(breaks_per_participant(problem, schedule.meetings).values()) == 1
    assert schedule.status == "OPTIMAL"
    # The flow bound (3 meetings of weight 1) less the one break nobody can avoid.
    assert schedule.stats["relaxation_bound"] == 3
    assert schedule.objective == schedule.bound == 2


def test_a_floor_above_the_break_cap_is_proven_infeasible():
    problem = replace(star(3, pair_slots={0: (0,), 1: (2,), 2: (4,)}), max_breaks=1)
    schedule = solve(problem, time_limit=5, workers=1)
    assert schedule.status == "INFEASIBLE"
    assert schedule.unscheduled_must


def test_a_full_size_compact_day_is_proven_optimal_at_its_floor():
    # Compact seed 8 of the benchmark (65 companies, 224 meetings, 12 slots): one
    # company cannot avoid a break, and the schedule has exactly that one.
    problem = generate("compact", 8)
    schedule = solve(problem, time_limit=20, workers=2)
    assert_valid(problem, schedule.meetings)
    assert schedule.stats["break_floor"] == 1
    assert schedule.status == "OPTIMAL"
    assert sum(breaks_per_participant(problem, schedule.meetings).values()) == 1


def fewest_breaks_by_brute_force(problem: Problem) -> int:
    """A's fewest breaks over every placement of its pairs in distinct allowed slots."""
    prep = prepare(problem)
    allowed = [prep.pairs[i].slots for i in prep.pairs_of[0]]
    best = None
    for combo in itertools.product(*allowed):
        if len(set(combo)) < len(combo):
            continue
        busy = sorted(combo)
        breaks = sum(1 for x, y in itertools.pairwise(busy) if y > x + 1)
        best = breaks if best is None else min(best, breaks)
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_floor_is_the_fewest_breaks_a_participant_can_have_alone(seed):
    rng = random.Random(seed)
    slots = make_slots([7])
    while True:
        count = rng.randint(2, 5)
        unavailable = tuple(rng.sample(range(7), rng.randint(0, 2)))
        restricted = {
            i: tuple(sorted(rng.sample(range(7), rng.randint(1, 4))))
            for i in range(count)
            if rng.random() < 0.5
        }
        problem = star(count, unavailable=unavailable, pair_slots=restricted, slots=slots)
        prep = prepare(problem)
        if any(not prep.pairs[i].slots for i in prep.pairs_of[0]):
            continue
        try:
            expected = fewest_breaks_by_brute_force(problem)
        except AssertionError:
            continue  # the pairs cannot all meet: nothing to compare
        break
    floor = floors_by_id(problem).get("A", 0)
    assert floor == min(expected, MAX_FLOOR)


def test_one_worker_finds_a_valid_timetable_for_a_full_size_compact_day():
    # With one worker CP-SAT finds no timetable of compact seed 3 (61 companies, 293
    # meetings, 19 slots) in the time, and every warm start misses must pairs: the
    # engine starts from a timetable without the break rules and anneals it within
    # max_breaks. The run is budgeted by work, so this is the same on every run.
    problem = generate("compact", 3)
    schedule = solve(problem, time_limit=10, workers=1)
    assert schedule.status == "FEASIBLE"
    assert_valid(problem, schedule.meetings)
    assert len(schedule.meetings) == len(problem.pairs)
    assert "timetable_start" in schedule.stats["cp_sat"]["phases"]
