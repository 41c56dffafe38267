"""The SAT windows: a compact day's timetable re-planned a part at a time."""

from __future__ import annotations

import threading
import time

import pytest
from pysat.solvers import Solver

import solver.engine as engine
from benchmarks.generator import generate
from solver.compact_scan import Scan
from solver.engine import solve
from solver.model.prepared import prepare
from solver.model.table_assignment import assign_tables
from solver.sat_questions import SAT_SOLVER, build_clauses
from solver.sat_windows import count_breaks, improve_by_windows
from solver.validation import assert_valid, breaks_per_participant
from tests.solver.random_problems import a_meets_b_and_c

# Small compact days whose tables force breaks, with the fewest breaks HiGHS proved
# (benchmarks.crosscheck --size tight).
TIGHT = {"companies": 14, "meetings": 24, "slots": 8, "tables": 3}


def poor_timetable(prep, clauses) -> list[tuple[int, int]]:
    """Any timetable within the rules, breaks not counted: the clauses' first answer."""
    with Solver(name=SAT_SOLVER, bootstrap_with=clauses.clauses) as sat:
        assert sat.solve()
        true = set(sat.get_model())
    return sorted(key for key, var in clauses.meeting_var.items() if var in true)


def nothing_proven(questions, floor, budget, *, upper, **options):
    """Stands in for the questions from below where they prove nothing (the open days)."""
    return Scan(lower=floor, upper=upper)


def breaks_of(problem, prep, chosen) -> int:
    meetings = assign_tables(prep, chosen, {}, {})
    assert_valid(problem, meetings)
    return sum(breaks_per_participant(problem, meetings).values())


@pytest.mark.parametrize(("seed", "fewest"), [(0, 5), (2, 6), (7, 4)])
def test_windows_bring_a_timetable_down_to_the_optimum_and_prove_it(seed, fewest):
    problem = generate("compact", seed, **TIGHT)
    prep = prepare(problem)
    clauses = build_clauses(prep)
    start = poor_timetable(prep, clauses)
    assert breaks_of(problem, prep, start) > fewest
    found = []
    result = improve_by_windows(
        prep, clauses, start, deadline=time.perf_counter() + 60, on_better=found.append
    )
    assert result.start_breaks == breaks_of(problem, prep, start)
    assert result.breaks == breaks_of(problem, prep, result.chosen) == fewest
    # The whole day was asked for one break fewer and answered no.
    assert result.optimal
    # Each better timetable was handed on as found, the last being the result.
    assert found and found[-1] == result.chosen
    steps = [breaks_of(problem, prep, chosen) for chosen in found]
    assert steps == sorted(steps, reverse=True) and len(set(steps)) == len(steps)


def test_windows_stop_at_a_proven_floor_and_when_asked():
    problem = generate("compact", 0, **TIGHT)
    prep = prepare(problem)
    clauses = build_clauses(prep)
    start = poor_timetable(prep, clauses)
    breaks = count_breaks(prep, dict(start))
    # Nothing to gain below a proven floor: nothing is asked.
    at_floor = improve_by_windows(
        prep, clauses, start, deadline=time.perf_counter() + 60, floor=breaks
    )
    assert (at_floor.questions, at_floor.breaks, at_floor.chosen) == (0, breaks, start)
    # A floor above the optimum (5) ends the search once it is reached, unproven.
    to_floor = improve_by_windows(prep, clauses, start, deadline=time.perf_counter() + 60, floor=7)
    assert 5 <= to_floor.breaks <= 7 and not to_floor.optimal
    stop = threading.Event()
    stop.set()
    stopped = improve_by_windows(prep, clauses, start, deadline=time.perf_counter() + 60, stop=stop)
    assert (stopped.questions, stopped.chosen) == (0, start)


def test_breaks_are_counted_within_each_day():
    # A meets B first and C last in its day, or on the next day (the night is no break).
    def prep_of(per_day: list[int], c_slot: str):
        return prepare(a_meets_b_and_c(per_day, c_slot, None))

    same_day = prep_of([4], "d0s03")
    assert count_breaks(same_day, {0: 0, 1: 3}) == 1  # one break of two idle slots
    assert count_breaks(same_day, {0: 0, 1: 1}) == 0
    next_day = prep_of([2, 2], "d1s01")
    assert count_breaks(next_day, {0: 0, 1: 3}) == 0


def test_the_engine_hands_an_open_day_to_the_windows_but_not_in_a_reproducible_run(
    monkeypatch,
):
    # Questions from below that prove nothing (as on the tightest full-size days):
    # the annealed timetable goes to the windows, which reach the optimum and prove
    # it by the whole day's "no".
    monkeypatch.setattr(engine, "raise_bound", nothing_proven)
    monkeypatch.setattr(engine, "COMPACT_ANNEAL_SHARE", 0.0)
    problem = generate("compact", 2, **TIGHT)
    seen = []
    schedule = solve(
        problem, time_limit=20, workers=2, seed=0, progress=lambda t, o, b: seen.append((o, b))
    )
    assert_valid(problem, schedule.meetings)
    # The windows' schedules were reported as found, each with a valid bound.
    assert seen[-1][0] == schedule.objective
    assert all(value <= bound for value, bound in seen)
    phases = schedule.stats["cp_sat"]["phases"]
    assert phases["compact_windows"]["status"] == "OPTIMAL"
    assert sum(breaks_per_participant(problem, schedule.meetings).values()) == 6
    assert schedule.status == "OPTIMAL" and schedule.objective == schedule.bound
    reproducible = solve(problem, time_limit=5, workers=1, seed=0)
    assert "compact_windows" not in reproducible.stats["cp_sat"]["phases"]


def test_a_schedule_above_the_bound_is_reported_with_the_bound_not_as_optimal(monkeypatch):
    # A reproducible run, whose climb above the bound finds a schedule with more
    # breaks than proven: the organizer's progress must not show it as the best possible.
    from solver.model.solution import Solution

    problem = generate("compact", 2, **TIGHT)
    prep = prepare(problem)
    poor = poor_timetable(prep, build_clauses(prep))

    def climb_finds_poor(questions, lower, budget, *, upper, **options):
        return Scan(
            lower=lower,
            upper=count_breaks(prep, dict(poor)),
            solution=Solution(status="FEASIBLE", chosen=poor),
        )

    monkeypatch.setattr(engine, "raise_bound", nothing_proven)
    monkeypatch.setattr(engine, "climb_above", climb_finds_poor)
    monkeypatch.setattr(engine, "COMPACT_ANNEAL_SHARE", 0.0)
    monkeypatch.setattr(engine, "_timetable_without_break_rules", lambda *a, **k: False)
    seen = []
    solve(problem, time_limit=5, workers=1, seed=0, progress=lambda t, o, b: seen.append((o, b)))
    value = engine.objective(problem, assign_tables(prep, poor, {}, {}))
    assert (value, value) not in seen
    assert any(o == value and b > value for o, b in seen)


def test_the_annealed_schedule_of_an_open_day_is_reported(monkeypatch):
    # The annealing has all the time after questions that prove nothing: its schedule
    # is the answer, and the organizer's progress shows it when it is found.
    monkeypatch.setattr(engine, "raise_bound", nothing_proven)
    monkeypatch.setattr(engine, "COMPACT_ANNEAL_SHARE", 1.0)
    monkeypatch.setattr(engine, "COMPACT_WINDOWS_SHARE", 0.0)
    problem = generate("compact", 2, **TIGHT)
    seen = []
    schedule = solve(
        problem, time_limit=3, workers=2, seed=0, progress=lambda t, o, b: seen.append((o, b))
    )
    assert schedule.stats["source"] == "anneal"
    assert seen[-1][0] == schedule.objective
    assert all(value <= bound for value, bound in seen)
