"""The annealing timetable search: same meetings, valid, never more breaks, fewer where it can."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from benchmarks.generator import generate
from solver.greedy import greedy_schedule
from solver.model.prepared import prepare
from solver.model.table_assignment import assign_tables
from solver.problem import Meeting, Pair, Participant, Problem, Table
from solver.timetable_search import eligible, improve_timetable
from solver.validation import breaks_per_participant, check
from tests.solver.random_problems import make_slots

SLOTS = make_slots([4])


def _total_breaks(problem, prep, chosen, sides=None):
    meetings = assign_tables(prep, chosen, sides or {}, {})
    assert check(problem, meetings) == []
    return sum(breaks_per_participant(problem, meetings).values()), meetings


def test_a_break_is_closed_by_moving_a_meeting():
    # B meets S1 at 10:00 and S2 at 11:00: one break, which one move removes.
    problem = Problem(
        slots=SLOTS,
        participants=(Participant("B"), Participant("S1"), Participant("S2")),
        pairs=(Pair("B", "S1", 3, True), Pair("B", "S2", 3, True)),
        break_penalty=1,
    )
    prep = prepare(problem)
    chosen = [(prep.pair_index[p.key], slot) for p, slot in zip(problem.pairs, (0, 2), strict=True)]
    assert _total_breaks(problem, prep, chosen)[0] == 1
    better, saved = improve_timetable(prep, chosen, deadline=time.perf_counter() + 2)
    assert saved == 1
    assert sorted(pair for pair, _ in better) == sorted(pair for pair, _ in chosen)
    assert _total_breaks(problem, prep, better)[0] == 0


def test_a_start_over_the_break_cap_is_brought_within_it():
    # B meets S1, S2, S3 at 10:00, 11:00 and 12:00 of 5 slots: two breaks, over a cap
    # of 1. Such a start comes from a timetable found without the break rules.
    problem = Problem(
        slots=make_slots([5]),
        participants=tuple(Participant(i) for i in ("B", "S1", "S2", "S3")),
        pairs=tuple(Pair("B", s, 1, True) for s in ("S1", "S2", "S3")),
        break_penalty=1,
        max_breaks=1,
    )
    prep = prepare(problem)
    slots = (0, 2, 4)
    chosen = [(prep.pair_index[p.key], t) for p, t in zip(problem.pairs, slots, strict=True)]
    meetings = assign_tables(prep, chosen, {}, {})
    assert [e.split(":")[0] for e in check(problem, meetings)] == ["rule 8"]
    better, _ = improve_timetable(prep, chosen, deadline=time.perf_counter() + 2)
    assert _total_breaks(problem, prep, better)[0] == 0  # valid, and no break left


def test_a_start_over_the_cap_that_cannot_be_repaired_comes_back_unchanged():
    # Every meeting is pinned to its slot: nothing can move, the cap stays broken.
    problem = Problem(
        slots=make_slots([5]),
        participants=tuple(Participant(i) for i in ("B", "S1", "S2", "S3")),
        pairs=tuple(
            Pair("B", s, 1, True, frozenset({slot}))
            for s, slot in (("S1", "d0s00"), ("S2", "d0s02"), ("S3", "d0s04"))
        ),
        break_penalty=1,
        max_breaks=1,
    )
    prep = prepare(problem)
    slots = (0, 2, 4)
    chosen = [(prep.pair_index[p.key], t) for p, t in zip(problem.pairs, slots, strict=True)]
    better, saved = improve_timetable(prep, chosen, deadline=time.perf_counter() + 0.5)
    assert saved == 0
    assert sorted(better) == sorted(chosen)


def test_locked_meetings_and_full_tables_are_respected():
    # One pooled table: the three meetings need three different slots. B's meeting
    # with S1 is locked at 10:00, so B's other meetings can only follow it.
    locked = Meeting("B", "S1", "d0s00", "T1")
    problem = Problem(
        slots=SLOTS,
        participants=(Participant("B"), Participant("S1"), Participant("S2"), Participant("S3")),
        pairs=(Pair("B", "S1", 3, True), Pair("B", "S2", 3, True), Pair("S2", "S3", 3, True)),
        tables=(Table("T1"),),
        locked=(locked,),
        break_penalty=1,
    )
    prep = prepare(problem)
    index = {p.key: prep.pair_index[p.key] for p in problem.pairs}
    b_s1, b_s2, s2_s3 = (index[p.key] for p in problem.pairs)
    chosen = [(b_s1, 0), (b_s2, 3), (s2_s3, 1)]  # B and S2 each have a break
    assert _total_breaks(problem, prep, chosen)[0] == 2
    better, saved = improve_timetable(prep, chosen, deadline=time.perf_counter() + 2)
    assert saved == 2
    breaks, meetings = _total_breaks(problem, prep, better)
    assert breaks == 0
    assert locked in meetings


@pytest.mark.parametrize(
    ("family", "overrides"),
    [
        ("fair", {"buyers": 6, "suppliers": 24}),
        ("pooled", {"buyers": 8, "suppliers": 16, "pooled_tables": 4}),
        ("compact", {"companies": 20, "meetings": 45, "slots": 10, "tables": 6}),
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_schedules_stay_valid_and_never_gain_breaks(family, overrides, seed):
    problem = generate(family, seed, **overrides)
    prep = prepare(problem)
    start = greedy_schedule(prep)
    assert eligible(prep)
    before, _ = _total_breaks(problem, prep, start.chosen, start.sides)
    better, saved = improve_timetable(
        prep, start.chosen, deadline=time.perf_counter() + 0.5, seed=seed
    )
    after, _ = _total_breaks(problem, prep, better, start.sides)  # checks every rule
    assert sorted(p for p, _ in better) == sorted(p for p, _ in start.chosen)
    assert after == before - saved <= before
    if problem.max_breaks is not None:
        assert max(
            breaks_per_participant(problem, assign_tables(prep, better, {}, {})).values()
        ) <= (problem.max_breaks)


def test_not_used_where_swaps_could_break_a_rule():
    problem = generate("fair", 0, buyers=4, suppliers=12)
    assert eligible(prepare(problem))
    two_desks = replace(
        problem,
        participants=tuple(
            replace(p, parallel=2) if i == 0 else p for i, p in enumerate(problem.participants)
        ),
    )
    assert not eligible(prepare(two_desks))
    assert not eligible(prepare(replace(problem, break_penalty=0)))
