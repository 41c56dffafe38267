"""Compact days: every pair a must, only the timetable (and so the breaks) is free."""

from __future__ import annotations

import random
import threading
from dataclasses import replace

import pytest
from ortools.sat.python import cp_model

from benchmarks.generator import generate
from solver.engine import solve
from solver.model.hints import complete_hint
from solver.model.prepared import prepare
from solver.model.schedule_model import ScheduleModel
from solver.problem import Meeting, Pair, Participant, Problem, Table
from solver.validation import assert_valid, breaks_per_participant, objective
from tests.solver.random_problems import brute_force_optimum, make_slots, random_problem

SLOTS = make_slots([3])


def four_in_a_ring(tables: int, *, slots: int = 4, max_breaks: int = 2) -> Problem:
    """A-B, B-D, D-C, C-A, all musts: each meets its two neighbours."""
    return Problem(
        slots=make_slots([slots]),
        participants=tuple(Participant(i) for i in "ABCD"),
        pairs=(
            Pair("A", "B", 1, True),
            Pair("B", "D", 1, True),
            Pair("C", "D", 1, True),
            Pair("A", "C", 1, True),
        ),
        tables=tuple(Table(f"T{k}") for k in range(1, tables + 1)),
        break_penalty=1,
        max_breaks=max_breaks,
    )


def triangle(max_breaks: int | None) -> Problem:
    """A, B and C all meet each other: one of them must wait between its two meetings."""
    return Problem(
        slots=SLOTS,
        participants=(Participant("A"), Participant("B"), Participant("C")),
        pairs=(Pair("A", "B", 3, True), Pair("B", "C", 2, True), Pair("A", "C", 1, True)),
        tables=(Table("T1"), Table("T2")),
        break_penalty=1,
        max_breaks=max_breaks,
    )


def solved_optimally(problem: Problem, *, breaks: int, optimum: int):
    """Solve ``problem`` (one worker) and check it is proven at ``optimum`` with ``breaks``."""
    schedule = solve(problem, time_limit=5, workers=1)
    assert_valid(problem, schedule.meetings)
    assert sum(breaks_per_participant(problem, schedule.meetings).values()) == breaks
    assert schedule.status == "OPTIMAL"
    assert schedule.objective == schedule.bound == optimum
    return schedule


def test_a_forced_break_is_proven_optimal_by_the_break_questions():
    schedule = solved_optimally(triangle(max_breaks=2), breaks=1, optimum=6 - 1)
    # No single company must wait (the floors are 0): "no break at all?" was answered no.
    scan = schedule.stats["cp_sat"]["phases"]["compact_scan"]
    assert scan["questions"][0]["most_breaks"] == 0
    assert scan["questions"][0]["status"] == "INFEASIBLE"
    assert scan["fewest_breaks"] == 1


def test_a_break_cap_that_cannot_hold_is_proven_infeasible():
    # INFEASIBLE is a proof (running out of time would say UNKNOWN); how fast such
    # proofs are on full-size days is measured by benchmarks.run (compact families).
    schedule = solve(triangle(max_breaks=0), time_limit=5, workers=1)
    assert schedule.status == "INFEASIBLE"
    assert "max_breaks" in {f["reason"] for f in schedule.unscheduled_must}
    # Proven by the question "a schedule with no break at all?" on the model that
    # counts breaks as a penalty.
    assert schedule.stats["infeasible_found_by"] == "cp_sat"
    scan = schedule.stats["cp_sat"]["phases"]["compact_scan"]
    assert [(q["most_breaks"], q["status"]) for q in scan["questions"]] == [(0, "INFEASIBLE")]
    # The cap is the culprit, and the three companies are the group that cannot keep
    # it together (any two of them can); no pair is blamed.
    named = [f["a"] for f in schedule.unscheduled_must if f["reason"] == "max_breaks_participant"]
    assert named == ["A", "B", "C"]
    assert all(
        "together with the other participants named" in f["detail"]
        for f in schedule.unscheduled_must
        if f["reason"] == "max_breaks_participant"
    )
    assert not [f for f in schedule.unscheduled_must if f["reason"] == "conflict"]


def test_no_break_allowed_and_a_break_free_timetable_exists():
    # A ring A-B-D-C-A: each meets its two neighbours back to back when A-B and
    # C-D share a slot, then A-C and B-D; the cap of 0 holds and nothing is lost.
    problem = four_in_a_ring(tables=2, slots=3, max_breaks=0)
    schedule = solve(problem, time_limit=5, workers=1)
    assert_valid(problem, schedule.meetings)
    assert schedule.status == "OPTIMAL"
    assert len(schedule.meetings) == 4
    assert sum(breaks_per_participant(problem, schedule.meetings).values()) == 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5])  # seed 4 is slow to brute-force
def test_compact_days_reach_the_brute_force_optimum(seed):
    rng = random.Random(seed)
    base = random_problem(rng, buyers=3, suppliers=3, per_day=(5,), density=0.6, must_share=1.0)
    problem = replace(
        base, break_penalty=1, max_breaks=rng.choice([1, 2]), meeting_bonus=(), current=()
    )
    best = brute_force_optimum(problem)
    schedule = solve(problem, time_limit=5, workers=1)
    if best is None:
        assert schedule.status == "INFEASIBLE"
        return
    assert_valid(problem, schedule.meetings)
    assert schedule.objective == objective(problem, schedule.meetings) == best
    assert schedule.status == "OPTIMAL"
    assert schedule.bound == best


def test_gap_flags_accept_a_schedule_with_breaks_and_hint_it_completely():
    # B waits in s01 (meetings in s00 and s02), C meets in s01 and s02: the hint of
    # that schedule must satisfy every span constraint, with only B's gap flag set.
    problem = Problem(
        slots=SLOTS,
        participants=tuple(Participant(i) for i in ("A", "B", "C", "D")),
        pairs=(Pair("A", "B", 1, True), Pair("B", "C", 1, True), Pair("C", "D", 1, True)),
        break_penalty=1,
        max_breaks=1,
    )
    meetings = [Meeting("A", "B", "d0s00"), Meeting("B", "C", "d0s02"), Meeting("C", "D", "d0s01")]
    assert sum(breaks_per_participant(problem, meetings).values()) == 1  # B only
    prep = prepare(problem)
    model = ScheduleModel(prep, gap_flags=True)
    chosen = [(prep.pair_index[m.key], prep.slot_index[m.slot]) for m in meetings]
    hints = complete_hint(model.vars, chosen, {})
    for var, value in hints:
        model.model.add(var == value)
    gaps = {who: gap for who, _, gap in model.vars.spans}
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model.model) == cp_model.OPTIMAL
    values = {var.index: value for var, value in hints}
    flags = {prep.participant_ids[who]: values[gap.index] for who, gap in gaps.items()}
    assert flags["B"] == 1
    assert all(value == 0 for who, value in flags.items() if who != "B")


def test_a_break_only_the_tables_force_is_proven():
    # Alone, every company can meet its two partners back to back (no floor), and
    # with two tables all four can (A-B and C-D, then A-C and B-D). With one table
    # the four meetings take the four slots one by one, and the ring's four
    # companies share only three pairs of neighbouring slots: someone waits.
    assert solve(four_in_a_ring(tables=2), time_limit=5, workers=1).objective == 4
    schedule = solved_optimally(four_in_a_ring(tables=1), breaks=1, optimum=4 - 1)
    assert schedule.stats["break_floor"] == 0


def test_break_questions_answer_and_leave_the_model_as_it_was():
    prep = prepare(four_in_a_ring(tables=1))
    model = ScheduleModel(prep, gap_flags=True)
    most = model.most_breaks
    model.add_hint([(0, 0), (1, 1), (2, 2), (3, 3)])

    def hint() -> tuple[list[int], list[int]]:
        kept = model.model.proto.solution_hint
        return list(kept.vars), list(kept.values)

    hinted = hint()
    assert hinted[0]
    assert model.decide(0, time_limit=5, workers=1, seed=0).status == "INFEASIBLE"
    assert hint() == hinted  # put back as it was
    yes = model.decide(1, time_limit=5, workers=1, seed=0)
    assert yes.has_solution
    meetings = [
        Meeting(prep.pairs[p].pair.a, prep.pairs[p].pair.b, prep.slot_ids[s]) for p, s in yes.chosen
    ]
    assert sum(breaks_per_participant(prep.problem, meetings).values()) == 1
    # The cap was lifted and the objective restored: the optimisation still runs.
    assert model.most_breaks == most
    solution, _ = model.solve(time_limit=5, workers=1, seed=0)
    assert solution.status == "OPTIMAL"
    assert solution.objective == 4 - 1
    # A proven minimum narrows the model for later searches.
    model.at_least_breaks(1)
    assert model.decide(5, time_limit=5, workers=1, seed=0).has_solution
    model.at_least_breaks(2)
    assert model.decide(1, time_limit=5, workers=1, seed=0).status == "INFEASIBLE"


@pytest.mark.parametrize("seed", [271_177, 2**31 - 1])
def test_raced_questions_take_any_seed_the_command_line_accepts(seed: int) -> None:
    # The race's seeds are seed × stride + i, and a question asked again uses seed + 1:
    # beyond CP-SAT's 32-bit random_seed for these (a TypeError traceback, once).
    model = ScheduleModel(prepare(four_in_a_ring(tables=1)), gap_flags=True)
    assert model.decide(0, time_limit=2, workers=2, seed=seed).status == "INFEASIBLE"
    assert model.decide(1, time_limit=2, workers=1, seed=seed + 1).has_solution


def test_raced_break_questions_give_the_same_answers_and_stop_when_asked():
    prep = prepare(four_in_a_ring(tables=1))
    model = ScheduleModel(prep, gap_flags=True)
    assert model.decide(0, time_limit=5, workers=2, seed=0).status == "INFEASIBLE"
    yes = model.decide(1, time_limit=5, workers=2, seed=0)
    meetings = [
        Meeting(prep.pairs[p].pair.a, prep.pairs[p].pair.b, prep.slot_ids[s]) for p, s in yes.chosen
    ]
    assert sum(breaks_per_participant(prep.problem, meetings).values()) == 1

    from benchmarks.generator import generate

    # A question the searches answer "yes" within seconds (seed 3, at most 4 breaks),
    # asked after the caller has stopped: no answer, and the model as it was.
    model = ScheduleModel(prepare(generate("compact", 3)), gap_flags=True)
    most = model.most_breaks
    stop = threading.Event()
    stop.set()
    answer = model.decide(4, time_limit=30, workers=2, seed=0, stop=stop)
    assert answer.status == "UNKNOWN"
    assert model.most_breaks == most


def test_a_raced_search_that_fails_stops_the_others_and_reaches_the_caller(monkeypatch):
    from benchmarks.generator import generate

    model = ScheduleModel(prepare(generate("compact", 3)), gap_flags=True)
    most = model.most_breaks
    run = ScheduleModel._run
    calls: list[object] = []
    others: list[str] = []

    def one_fails(self, solver, observer, stop):
        calls.append(solver)
        if len(calls) == 1:
            raise RuntimeError("the search broke")
        answer = run(self, solver, observer, stop)
        others.append(answer.status)
        return answer

    monkeypatch.setattr(ScheduleModel, "_run", one_fails)
    with pytest.raises(RuntimeError, match="the search broke"):
        model.decide(4, time_limit=60, workers=2, seed=0)
    # The other search was stopped before its answer (left alone, it says "yes" in
    # seconds on this question).
    assert others == ["UNKNOWN"]
    assert model.most_breaks == most


# Compact days whose tables force breaks, with the optimum HiGHS proved for each
# (python -m benchmarks.crosscheck --size tight): matchfair must reach and prove it.
TIGHT = {"companies": 14, "meetings": 24, "slots": 8, "tables": 3}


@pytest.mark.parametrize(("seed", "optimum", "breaks"), [(0, 57, 5), (2, 65, 6), (7, 74, 4)])
def test_tight_compact_days_are_proven_at_the_optimum_highs_proved(seed, optimum, breaks):
    from benchmarks.generator import generate

    problem = generate("compact", seed, **TIGHT)
    schedule = solve(problem, time_limit=10, workers=1)
    assert_valid(problem, schedule.meetings)
    assert schedule.status == "OPTIMAL"
    assert schedule.objective == schedule.bound == optimum
    assert sum(breaks_per_participant(problem, schedule.meetings).values()) == breaks


def test_busy_blocks_counted_against_the_tables_prove_breaks_on_a_full_size_day():
    # Compact day seed 3 of the benchmark (61 companies, 293 meetings, 19 slots, 20
    # tables): no company needs a break on its own, yet 4 are needed (an optimum the
    # engine reaches with more time). Without the busy Booleans counted against the
    # tables CP-SAT proved no bound above 0 here in minutes.
    from benchmarks.generator import generate

    prep = prepare(generate("compact", 3))
    model = ScheduleModel(prep, gap_flags=True)
    answer = model.decide(3, time_limit=30, workers=1, seed=0, reproducible=True)
    assert answer.status == "INFEASIBLE"


class _ScriptedDay:
    """Stands in for a ScheduleModel: answers break questions as ``answers`` say.

    ``answers[cap]`` is a list of statuses given in turn; each question is recorded
    as (cap, seed) in ``asked``.
    """

    most_breaks = 20

    def __init__(self, answers: dict[int, list[str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[int, int]] = []

    def decide(self, cap, *, time_limit, workers, seed, stop=None, reproducible=False):
        from solver.model.solution import Solution

        self.asked.append((cap, seed))
        status = self.answers[cap].pop(0)
        return Solution(status=status, chosen=[(0, cap)] if status == "OPTIMAL" else [])


def test_the_climb_asks_a_cap_just_below_its_best_schedule_again_with_another_seed():
    from solver.compact_scan import climb_above

    # Proven at least 4, best known 6, "at most 4?" went unanswered: 5 is the only cap
    # left. Its first search runs out of time; the second, on another seed, says yes.
    # Then 4 is the only cap left, asked again on a third seed: "no" proves 5 optimal.
    day = _ScriptedDay({5: ["UNKNOWN", "OPTIMAL"], 4: ["INFEASIBLE"]})
    scan = climb_above(day, 4, 10.0, upper=6, workers=2, seed=3, reproducible=True)
    assert day.asked == [(5, 3), (5, 4), (4, 5)]
    assert scan.solution is not None
    assert (scan.lower, scan.upper) == (5, 5)
    assert scan.settled


def test_the_climb_bisects_and_a_no_raises_the_bound():
    from solver.compact_scan import climb_above

    day = _ScriptedDay({8: ["OPTIMAL"], 6: ["INFEASIBLE"], 7: ["OPTIMAL"]})
    scan = climb_above(day, 4, 10.0, upper=12, workers=2, seed=0, reproducible=True)
    # 4 went unanswered before: halfway between 5 and 11 is 8 (yes), then between 5
    # and 7 is 6 (no: the bound is 7), then 7 (yes): the schedule is at the bound.
    assert [cap for cap, _ in day.asked] == [8, 6, 7]
    assert (scan.lower, scan.upper) == (7, 7)
    assert scan.settled


class _TimedDay(_ScriptedDay):
    """A scripted day that also records each question's time limit."""

    def __init__(self, answers):
        super().__init__(answers)
        self.limits = []

    def decide(self, cap, *, time_limit, **options):
        self.limits.append(time_limit)
        return super().decide(cap, time_limit=time_limit, **options)


def test_questions_above_the_floor_get_a_smaller_budget_when_one_is_given():
    from solver.compact_scan import BELOW_SHARE, raise_bound

    # "At most 2?" (the floor) no, "at most 3?" unanswered: the second question has
    # what is left of the smaller budget, the first its share of the whole.
    answers = {2: ["INFEASIBLE"], 3: ["UNKNOWN"]}
    day = _TimedDay({k: list(v) for k, v in answers.items()})
    scan = raise_bound(day, 2, 10.0, upper=None, workers=2, seed=0, above_floor=4.0)
    assert scan.lower == 3
    assert day.limits[0] == pytest.approx(BELOW_SHARE * 10.0, abs=0.05)
    assert day.limits[1] == pytest.approx(BELOW_SHARE * 4.0, abs=0.05)
    whole = _TimedDay({k: list(v) for k, v in answers.items()})
    raise_bound(whole, 2, 10.0, upper=None, workers=2, seed=0)
    assert whole.limits[1] == pytest.approx(BELOW_SHARE * 10.0, abs=0.05)


def test_a_short_limit_still_gives_a_full_size_day_a_schedule() -> None:
    """A review found the generator's full-size days (here 61 companies, 293 must pairs,
    20 tables) reported INFEASIBLE ("not found") with 1-3 s limits: the first question
    took the whole budget before any valid timetable existed. With one worker the
    budgets are counted work, so this holds on a loaded machine too."""
    problem = generate("compact", 3)
    schedule = solve(problem, time_limit=2, workers=1, seed=0)
    assert schedule.status != "INFEASIBLE", schedule.unscheduled_must
    assert_valid(problem, schedule.meetings)

    # Stopped before any schedule: nothing is proven impossible, so the bound stays
    # the proven one (it was 0, which no schedule's objective is below).
    stop = threading.Event()
    stop.set()
    stopped = solve(problem, time_limit=2, workers=1, seed=0, stop=stop)
    assert stopped.status == "INFEASIBLE" and stopped.stats["infeasible_found_by"] == "timeout"
    assert stopped.bound >= schedule.objective > 0
