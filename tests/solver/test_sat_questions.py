"""The compact days' break questions as clauses, and their race against CP-SAT."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from dataclasses import replace

import pytest
from pysat.card import ITotalizer
from pysat.solvers import Solver

from benchmarks.generator import generate
from solver.model.prepared import prepare
from solver.model.schedule_model import ScheduleModel
from solver.model.table_assignment import assign_tables
from solver.problem import Meeting, Problem, Table
from solver.sat_questions import SAT_SOLVER, RacedQuestions, eligible
from solver.validation import breaks_per_participant, check
from tests.solver.random_problems import a_meets_b_and_c


def ask(prep, most_breaks: int):
    """The clauses' own answer, in this process, with the break counter the chain uses
    (the cap as an assumption): the chosen (pair, slot)s, or None for no."""
    day = RacedQuestions(None, prep).clauses()
    clauses, cap = day.clauses, []
    if most_breaks < len(day.breaks):
        counter = ITotalizer(lits=day.breaks, ubound=most_breaks, top_id=day.top)
        clauses, cap = day.clauses + counter.cnf.clauses, [-counter.rhs[most_breaks]]
    with Solver(name=SAT_SOLVER, bootstrap_with=clauses) as solver:
        if not solver.solve(assumptions=cap):
            return None
        true = set(solver.get_model())
    return sorted(key for key, var in day.meeting_var.items() if var in true)


def schedule_of(prep, chosen) -> list[Meeting]:
    return assign_tables(prep, chosen, {}, {})


def total_breaks(problem: Problem, meetings: list[Meeting]) -> int:
    return sum(breaks_per_participant(problem, meetings).values())


# Small compact days whose tables force 4-6 breaks (HiGHS proved each optimum, see
# benchmarks.crosscheck --size tight), and smaller ones with room to spare.
TIGHT = {"companies": 14, "meetings": 24, "slots": 8, "tables": 3}
SMALL = {"companies": 12, "meetings": 20, "slots": 7, "tables": 4}


@pytest.mark.parametrize(("seed", "breaks"), [(0, 5), (2, 6), (7, 4)])
def test_the_clauses_say_no_below_the_proven_optimum_and_yes_at_it(seed, breaks):
    problem = generate("compact", seed, **TIGHT)
    prep = prepare(problem)
    assert eligible(prep)
    assert ask(prep, breaks - 1) is None
    chosen = ask(prep, breaks)
    meetings = schedule_of(prep, chosen)
    assert check(problem, meetings) == []  # every rule, every must pair, the caps
    assert total_breaks(problem, meetings) <= breaks


@pytest.mark.parametrize("seed", range(8))
def test_the_clauses_answer_every_cap_as_cp_sat_does(seed):
    problem = generate("compact", seed, **SMALL)
    prep = prepare(problem)
    model = ScheduleModel(prep, gap_flags=True)
    answers = []
    for most in range(0, 7):
        chosen = ask(prep, most)
        cp_sat = model.decide(most, time_limit=20, workers=1, seed=0)
        assert cp_sat.status in ("INFEASIBLE", "FEASIBLE", "OPTIMAL")
        assert (chosen is not None) == cp_sat.has_solution, f"at most {most} breaks"
        if chosen is not None:
            meetings = schedule_of(prep, chosen)
            assert check(problem, meetings) == []
            assert total_breaks(problem, meetings) <= most
        answers.append(chosen is not None)
    assert answers == sorted(answers)  # once yes, yes for every looser cap


def test_breaks_are_counted_within_a_day_and_per_company_caps_hold():
    # A meets B in the first slot and C in the last of its day or of the next day.
    problem = a_meets_b_and_c
    same_day = prepare(problem([3], "d0s02", 2))
    assert ask(same_day, 0) is None  # A waits in d0s01
    assert ask(same_day, 1) is not None
    next_day = prepare(problem([2, 2], "d1s01", 2))
    assert ask(next_day, 0) is not None  # the night is no break
    capped = prepare(problem([3], "d0s02", 0))
    assert ask(capped, 5) is None  # A's own cap of no break holds whatever the total


def test_only_days_the_clauses_state_completely_are_eligible():
    prep = prepare(generate("compact", 0, **SMALL))
    assert eligible(prep)
    problem = prep.problem
    hosted = replace(problem, tables=(*problem.tables, Table("H", host=problem.participants[0].id)))
    assert not eligible(prepare(hosted))
    two_desks = replace(
        problem,
        participants=(replace(problem.participants[0], parallel=2), *problem.participants[1:]),
    )
    assert not eligible(prepare(two_desks))
    pair = problem.pairs[0]
    locked = replace(problem, locked=(Meeting(pair.a, pair.b, problem.slots[0].id),))
    assert not eligible(prepare(locked))
    optional = replace(problem, pairs=(replace(pair, must=False), *problem.pairs[1:]))
    assert not eligible(prepare(optional))


@pytest.mark.slow
def test_the_race_returns_the_sat_solvers_no_where_cp_sat_finds_no_answer():
    # Full-size compact day seed 4 (77 companies, 241 meetings, 14 slots, 22 tables):
    # "at most 5 breaks?" went unanswered by CP-SAT's searches in 300 s; CaDiCaL
    # (and Kissat) answer no within seconds (6 is the optimum). The generous limit is not a
    # timing claim (docs/benchmarks.md measures that); it is a limit no answer of
    # CP-SAT's could come within.
    prep = prepare(generate("compact", 4))
    model = ScheduleModel(prep, gap_flags=True)
    most = model.most_breaks
    questions = RacedQuestions(model, prep)
    answer = questions.decide(5, time_limit=120, workers=2, seed=0)
    assert answer.status == "INFEASIBLE"
    assert model.most_breaks == most  # the model's cap is put back
    questions.close()  # the chain would go on to the next cap
    assert_gone(questions.last_children)


def test_a_stopped_race_answers_nothing_and_leaves_no_process():
    prep = prepare(generate("compact", 3))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    stop = threading.Event()
    stop.set()
    answer = questions.decide(4, time_limit=30, workers=2, seed=0, stop=stop)
    assert answer.status == "UNKNOWN"
    questions.close()
    assert_gone(questions.last_children)


def test_a_cap_above_the_chain_is_answered_by_the_same_child():
    # As in the climb: after "at most 0?", a looser cap; the chain (or CP-SAT) answers
    # it, and no second child is started.
    prep = prepare(generate("compact", 0, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    assert questions.decide(0, time_limit=30, workers=2, seed=0).status == "INFEASIBLE"
    yes = questions.decide(8, time_limit=30, workers=2, seed=0)
    assert yes.has_solution
    meetings = schedule_of(prep, yes.chosen)
    assert check(prep.problem, meetings) == []
    assert total_breaks(prep.problem, meetings) <= 8
    assert len(questions.last_children) == 1
    questions.close()
    assert_gone(questions.last_children)


def test_a_sat_child_that_fails_leaves_cp_sat_to_answer_alone():
    prep = prepare(generate("compact", 0, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    questions.solver = "no-such-solver"  # the child's Solver() raises and it exits
    assert questions.decide(3, time_limit=30, workers=2, seed=0).status == "INFEASIBLE"
    assert questions.decide(4, time_limit=30, workers=2, seed=0).status == "INFEASIBLE"
    yes = questions.decide(5, time_limit=30, workers=2, seed=0)
    assert yes.has_solution
    questions.close()
    assert_gone(questions.last_children)


def test_questions_from_below_share_one_child_that_learns_from_cap_to_cap():
    # Tight day seed 0 of the cross-check: 5 breaks is the optimum HiGHS proved.
    prep = prepare(generate("compact", 0, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    answers = []
    children = set()
    for most in range(0, 6):
        answer = questions.decide(most, time_limit=30, workers=2, seed=0)
        answers.append(answer.status)
        children.update(questions.last_children)
    assert answers == ["INFEASIBLE"] * 5 + [answers[-1]]
    assert answers[-1] in ("FEASIBLE", "OPTIMAL")
    assert len(children) == 1  # one chain, started at the first question
    meetings = schedule_of(prep, answer.chosen)
    assert check(prep.problem, meetings) == []
    assert total_breaks(prep.problem, meetings) <= 5
    # What the engine takes from the chain after its annealing: the "no"s it proved
    # itself (CP-SAT may have answered some first) and, in time, its own "yes".
    for _ in range(600):
        no_up_to, chosen = questions.chain_news()
        if chosen is not None:
            break
        time.sleep(0.05)
    assert no_up_to <= 4
    meetings = schedule_of(prep, chosen)
    assert check(prep.problem, meetings) == []
    assert total_breaks(prep.problem, meetings) == 5
    questions.close()
    assert_gone(list(children))
    assert questions.chain_news() is None
    # A cap below the chain's start, after it closed, starts a new chain.
    assert questions.decide(4, time_limit=30, workers=2, seed=0).status == "INFEASIBLE"
    assert len(questions.last_children) == 2
    questions.close()
    assert_gone(questions.last_children)


def test_work_beside_the_chain_is_told_when_the_child_finds_the_optimum():
    # The engine anneals while the chain goes on up; the chain's first "yes" is the
    # optimum and must end the annealing. Tight day seed 0: no up to 4, yes at 5.
    prep = prepare(generate("compact", 0, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    assert not questions.chain_running()
    stop = threading.Event()
    stop.set()  # the scan's CP-SAT search gives up at once: the child asks on alone
    answer = questions.decide(0, time_limit=30, workers=2, seed=0, stop=stop)
    assert answer.status in ("UNKNOWN", "INFEASIBLE")  # the child may have said no by then
    with questions.until_chain_finds() as found:
        assert found.wait(60)
    no_up_to, chosen = questions.chain_news()
    assert no_up_to == 4
    assert total_breaks(prep.problem, schedule_of(prep, chosen)) == 5
    assert not questions.chain_running()
    questions.close()
    assert_gone(questions.last_children)


def test_work_beside_the_chain_is_not_told_before_the_child_answers_but_on_stop():
    prep = prepare(generate("compact", 0, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    with questions.until_chain_finds() as found:  # no chain at all: nothing will come
        assert not found.wait(0.3)
    stop = threading.Event()
    stop.set()
    questions.decide(5, time_limit=30, workers=2, seed=0, stop=stop)
    questions.close()  # the child is gone before it could answer
    stop = threading.Event()
    with questions.until_chain_finds(stop) as found:
        assert not found.wait(0.3)
        stop.set()  # the run is cancelled: the work beside ends too
        assert found.wait(5)
    assert_gone(questions.last_children)


def test_a_sat_child_dies_with_the_process_that_started_it():
    # A run killed mid-question (a cancelled run, a stopped server) cannot end its
    # children; they must not go on solving for hours.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=start_a_chain_and_wait, args=(queue,), daemon=True)
    worker.start()
    child = queue.get(timeout=60)
    os.kill(child, 0)  # running
    worker.kill()
    worker.join(10)
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the SAT child outlived its parent")


def start_a_chain_and_wait(queue) -> None:
    prep = prepare(generate("compact", 9))  # its questions from 7 up take minutes
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    questions.decide(7, time_limit=30, workers=2, seed=0, stop=stop)
    queue.put(questions.last_children[0])
    time.sleep(60)


def assert_gone(pids: list[int]) -> None:
    """The SAT children were started, have ended and were reaped (no zombie)."""
    assert pids
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def answer_in_a_daemon(seed: int, most: int, queue) -> None:
    prep = prepare(generate("compact", seed, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)
    answer = questions.decide(most, time_limit=30, workers=2, seed=0)
    questions.close()
    queue.put((answer.status, bool(questions.last_children)))


def test_the_race_runs_inside_the_daemonic_solver_worker():
    # The embedded web app solves in a daemonic spawned process (scheduler.worker),
    # which may not start multiprocessing children: the SAT child is forked by hand.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=answer_in_a_daemon, args=(0, 4, queue), daemon=True)
    worker.start()
    status, raced = queue.get(timeout=60)
    worker.join(10)
    assert (status, raced) == ("INFEASIBLE", True)


def test_one_worker_keeps_cp_sat_alone_and_reproducible(monkeypatch):
    prep = prepare(generate("compact", 0, **TIGHT))
    questions = RacedQuestions(ScheduleModel(prep, gap_flags=True), prep)

    def no_fork(*args, **kwargs):
        raise AssertionError("a child process in a reproducible run")

    monkeypatch.setattr(os, "fork", no_fork)
    assert questions.decide(4, time_limit=10, workers=1, seed=0).status == "INFEASIBLE"
    first = questions.decide(5, time_limit=10, workers=1, seed=0, reproducible=True)
    again = questions.decide(5, time_limit=10, workers=1, seed=0, reproducible=True)
    assert first.has_solution
    assert first.chosen == again.chosen
