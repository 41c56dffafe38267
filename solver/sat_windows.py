"""Fewer breaks on a compact day: a SAT solver re-plans one part of the schedule at a time.

On the tightest compact days the questions from below (:mod:`solver.compact_scan`)
prove a bound but find no schedule near it, and the annealing
(:mod:`solver.timetable_search`) stalls a dozen or more breaks above it (the
generator's seed 9: 27-36 breaks at 30 s against a proven 6). Asking the whole day
"at most one break fewer?" takes a SAT solver or CP-SAT longer than the run has.
Asking it of a part of the day does not: every meeting outside the part keeps its
slot (as assumptions, so the solver keeps what it learned from one part to the
next), and the question "fewer breaks in all?" is answered in milliseconds.

The parts alternate between two kinds:

- a window of consecutive slots: the meetings in it may move anywhere their rules
  allow, every other one stays. Windows start at :data:`FIRST_WIDTH` slots; once
  every window of a width has been answered "no", they widen by
  :data:`WIDTH_STEP` up to the whole day, where a "no" proves the schedule
  optimal;
- a few companies that have a break (:data:`COMPANIES_FREED`), with all their
  meetings free: breaks that come from how a company's partners are spread over
  the day, which no window of slots holds whole.

Measured on the open days of the generator's range, from schedules the engine
returned at 30 s before it had the windows (docs/benchmarks.md): seed 9 from 36
to 27 breaks in 5 s and to 22 in 10 s, seed 19 from 21 to 15 and to 11.

The clauses are the questions' own (:func:`solver.sat_questions.build_clauses`),
with a totalizer over the break literals whose outputs cap the breaks in all.
MiniSat 2.2 answers, through PySAT: unlike CaDiCaL there it can be interrupted, so
each question is cut off after :data:`QUESTION_SECONDS` (a part that takes longer
is left for a wider or another one). The clock decides what gets answered, so the
engine runs this only when it is not asked for a reproducible run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from solver.model.prepared import Prepared
from solver.sat_questions import Clauses
from solver.timeline import count_breaks as breaks_in_day

try:  # PySAT is a dependency; without it the engine does not call this module.
    from pysat.card import ITotalizer
    from pysat.solvers import Solver
except ImportError:  # pragma: no cover - exercised only where PySAT is missing
    pass

# The SAT solver (its PySAT name): one that PySAT can interrupt. On seeds 9 and 19,
# from the engine's 30 s schedules, MiniSat 2.2 and Glucose 4 and 4.2 went as far in
# 5-20 s (one run differs from the next by more than they do), MapleChrono hardly
# at all. Glucose answered interrupts up to 1.2 s late (4.2: 4.7 s), which overran
# the engine's time limit on seed 15 by up to 3.4 s; MiniSat stopped on time.
SAT_SOLVER = "minisat22"
# Longest wait for one part's answer.
QUESTION_SECONDS = 1.0
# The first windows' width in slots, and how much wider they get once all are "no".
FIRST_WIDTH = 6
WIDTH_STEP = 2
# Companies with a break whose meetings one company part frees.
COMPANIES_FREED = 4


@dataclass(slots=True)
class WindowsResult:
    """The best timetable found and what the search did.

    ``chosen``: (pair, slot) of every meeting; ``breaks``: its breaks (``start_breaks``
    before); ``optimal``: the whole day was asked for one break fewer and answered
    "no", so no schedule has fewer breaks; ``questions``: parts asked; ``longest``:
    seconds of the slowest answer (an interrupted one included).
    """

    chosen: list[tuple[int, int]]
    breaks: int
    start_breaks: int
    optimal: bool
    questions: int
    longest: float = 0.0


def count_breaks(prep: Prepared, slot_of: dict[int, int]) -> int:
    """Breaks in all of the timetable ``slot_of`` (pair -> slot): runs of idle slots
    between two meetings of the same participant on the same day."""
    return sum(_breaks_by_company(prep, slot_of))


def _breaks_by_company(prep: Prepared, slot_of: dict[int, int]) -> list[int]:
    busy: list[set[int]] = [set() for _ in prep.pairs_of]
    for pair, slot in slot_of.items():
        busy[prep.pairs[pair].a].add(slot)
        busy[prep.pairs[pair].b].add(slot)
    return [sum(breaks_in_day(day, slots) for day in prep.days) for slots in busy]


def improve_by_windows(
    prep: Prepared,
    clauses: Clauses,
    chosen: list[tuple[int, int]],
    *,
    deadline: float,
    floor: int = 0,
    seed: int = 0,
    stop: threading.Event | None = None,
    on_better: Callable[[list[tuple[int, int]]], None] | None = None,
) -> WindowsResult:
    """Fewer breaks for ``chosen`` (pair, slot) by re-planning parts of it, until ``deadline``
    (``time.perf_counter()``), ``stop``, or a timetable with ``floor`` breaks (a proven
    bound). ``on_better`` is called with each better timetable as it is found."""
    slot_of = dict(chosen)
    by_company = _breaks_by_company(prep, slot_of)
    start_breaks = current = sum(by_company)
    result = WindowsResult(sorted(slot_of.items()), current, start_breaks, False, 0)
    if current <= floor or not clauses.breaks:
        return result
    counter = ITotalizer(lits=clauses.breaks, ubound=current, top_id=clauses.top)
    rng = random.Random(seed)
    slots = len(prep.slot_ids)
    width = min(FIRST_WIDTH, slots)
    answered_no: set[int] = set()  # window starts at this width with no better plan
    timed_out: set[int] = set()
    with Solver(name=SAT_SOLVER, bootstrap_with=clauses.clauses + counter.cnf.clauses) as sat:

        def ask(fixed: list[int]) -> bool | None:
            """Whether one break fewer is possible with the ``fixed`` meeting literals."""
            left = min(QUESTION_SECONDS, deadline - time.perf_counter())
            if left <= 0:
                return None
            timer = threading.Timer(left, sat.interrupt)
            asked = time.perf_counter()
            timer.start()
            try:
                answer = sat.solve_limited(
                    assumptions=[*fixed, -counter.rhs[current - 1]], expect_interrupt=True
                )
            finally:
                timer.cancel()
                sat.clear_interrupt()
            result.longest = max(result.longest, time.perf_counter() - asked)
            result.questions += 1
            return answer

        while current > floor and time.perf_counter() < deadline:
            if stop is not None and stop.is_set():
                break
            starts = [s for s in range(slots - width + 1) if s not in answered_no]
            if not starts:  # every window of this width answered "no": widen
                width = min(slots, width + WIDTH_STEP)
                answered_no.clear()
                timed_out.clear()
                continue
            companies = [c for c, breaks in enumerate(by_company) if breaks]
            by_companies = result.questions % 2 == 1 and len(companies) > 1
            if by_companies:
                picked = rng.sample(companies, min(COMPANIES_FREED, len(companies)))
                free = {pair for c in picked for pair in prep.pairs_of[c]}
                fixed = [clauses.meeting_var[p, s] for p, s in slot_of.items() if p not in free]
            else:
                untried = [s for s in starts if s not in timed_out]
                first = rng.choice(untried or starts)
                window = range(first, first + width)
                fixed = [clauses.meeting_var[p, s] for p, s in slot_of.items() if s not in window]
            answer = ask(fixed)
            if answer:
                true = set(lit for lit in sat.get_model() if lit > 0)
                slot_of = {p: s for (p, s), var in clauses.meeting_var.items() if var in true}
                by_company = _breaks_by_company(prep, slot_of)
                current = sum(by_company)
                result.chosen, result.breaks = sorted(slot_of.items()), current
                answered_no.clear()
                timed_out.clear()
                if on_better is not None:
                    on_better(result.chosen)
            elif by_companies:
                continue
            elif answer is False:
                if width >= slots:  # the whole day: no timetable has fewer breaks
                    result.optimal = True
                    break
                answered_no.add(first)
            else:
                timed_out.add(first)
                if width >= slots or all(s in timed_out for s in starts):
                    # Nothing of this width answers in time: start again from the
                    # narrowest windows, which the schedule may since have opened up.
                    width = min(FIRST_WIDTH, slots)
                    answered_no.clear()
                    timed_out.clear()
    return result
