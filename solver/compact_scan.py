"""Compact days, answered from below: "a schedule with at most k breaks?" for k = floor, floor+1, …

On a compact day every pair is a must, so schedules differ only in their breaks,
and the fewest breaks is what the organizer wants proven. The engine asks CP-SAT
the question for the smallest k no schedule is yet known to need
(:meth:`ScheduleModel.decide`): a "no" proves every schedule has more than k
breaks and the next k is asked; the first "yes" is a schedule with k breaks, and
since every smaller k was answered "no", it is optimal. Each question under a
tight cap is small for CP-SAT (the blocks of busy slots it allows are few and
count against the tables at once, :mod:`solver.model.activity`), which is why
this settles days that an optimisation run, whose bound never moves off the
single-company floors, leaves open.

When a question is not answered in its share of the time, the bound stays and
the engine anneals the best timetable; :func:`climb_above` then asks caps between
the proven bound and that timetable's breaks for a closer schedule.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from solver import work
from solver.model.schedule_model import ScheduleModel
from solver.model.solution import Solution

# Share of the scan's time left that one question from below may take: the answer
# at the true minimum is the one that takes longest, and it proves optimality.
BELOW_SHARE = 0.85
# Share of the time left for one question while climbing above the bound.
CLIMB_SHARE = 0.5
# No question gets less than this (seconds): CP-SAT's presolve alone takes a part of it.
MIN_QUESTION = 0.3


@dataclass(slots=True)
class Scan:
    """What the scan proved and found.

    ``lower``: every schedule has at least this many breaks (proven). ``solution``:
    the schedule with the fewest breaks the scan found (at most ``upper``), or None.
    ``infeasible``: no schedule obeys the break rules at all (the cap asked was not
    binding). ``steps``: one ``{"most_breaks", "status", "seconds"}`` per question.
    ``work``: seconds of the budget used (work, not the clock, when reproducible).
    """

    lower: int
    upper: int | None = None
    solution: Solution | None = None
    infeasible: bool = False
    steps: list[dict] = field(default_factory=list)
    work: float = 0.0

    @property
    def settled(self) -> bool:
        """Whether the fewest breaks is known: a schedule (found or given) meets the bound."""
        return self.upper is not None and self.upper <= self.lower


class _Asker:
    """Asks ``model`` its break questions within ``budget`` and records them in ``scan``."""

    def __init__(self, model, scan, budget, workers, seed, stop, reproducible) -> None:
        self.model = model
        self.scan = scan
        self.budget = budget
        self.workers = workers
        self.seed = seed
        self.stop = stop
        self.reproducible = reproducible

    def left(self) -> float:
        return self.budget - self.scan.work

    def can_ask(self) -> bool:
        return not (self.stop is not None and self.stop.is_set()) and self.left() >= MIN_QUESTION

    def ask(self, most_breaks: int, share: float, *, again: int = 0) -> Solution:
        """``again``: how often this question went unanswered before (a new seed each time)."""
        seconds = max(MIN_QUESTION, share * self.left())
        started = time.perf_counter()
        answer = self.model.decide(
            most_breaks,
            time_limit=seconds,
            workers=self.workers,
            seed=self.seed + again,
            stop=self.stop,
            reproducible=self.reproducible,
        )
        spent = time.perf_counter() - started
        if self.reproducible:
            spent_work = work.seconds_of(
                answer.deterministic_time, work.DECISION_DETERMINISTIC_PER_SECOND
            )
        else:
            spent_work = spent
        self.scan.work += spent_work
        self.scan.steps.append(
            {"most_breaks": most_breaks, "status": answer.status, "seconds": round(spent, 3)}
        )
        return answer


def ask_once(
    model: ScheduleModel,
    most_breaks: int,
    budget: float,
    *,
    workers: int,
    seed: int,
    stop: threading.Event | None = None,
    reproducible: bool = False,
) -> Scan:
    """One question, "a schedule with at most ``most_breaks`` breaks?", with all of ``budget``.

    ``infeasible`` then means "no": the caller knows whether that is the problem's
    own rule (no break allowed at all, or any schedule within the caps).
    """
    scan = Scan(lower=0)
    answer = _Asker(model, scan, budget, workers, seed, stop, reproducible).ask(most_breaks, 1.0)
    if answer.has_solution:
        scan.solution, scan.upper = answer, most_breaks
    scan.infeasible = answer.status == "INFEASIBLE"
    return scan


def raise_bound(
    model: ScheduleModel,
    floor: int,
    budget: float,
    *,
    upper: int | None,
    workers: int,
    seed: int,
    stop: threading.Event | None = None,
    reproducible: bool = False,
    above_floor: float | None = None,
) -> Scan:
    """Ask from ``floor`` up: each "no" raises the proven fewest breaks, a "yes" ends it.

    ``upper`` is the breaks of the best valid schedule known (None: none known): at
    that bound there is nothing left to ask. ``budget`` is in seconds (of work when
    reproducible); once the question at ``floor`` is answered "no", the budget in all
    is at most ``above_floor`` when given. Stops at the first question not answered in
    its share.
    """
    most = model.most_breaks
    scan = Scan(lower=floor, upper=upper)
    asker = _Asker(model, scan, budget, workers, seed, stop, reproducible)
    while asker.can_ask():
        if scan.upper is not None and scan.lower >= scan.upper:
            break  # the known schedule is already at the bound
        answer = asker.ask(scan.lower, BELOW_SHARE)
        if answer.status == "INFEASIBLE":
            if scan.lower >= most:
                scan.infeasible = True  # no cap at all: the break rules cannot hold
                break
            scan.lower += 1
            if above_floor is not None:
                asker.budget = min(asker.budget, above_floor)
        elif answer.has_solution:
            scan.solution, scan.upper = answer, scan.lower
            break
        else:
            break  # not answered in time: the bound stays
    return scan


def climb_above(
    model: ScheduleModel,
    lower: int,
    budget: float,
    *,
    upper: int | None,
    workers: int,
    seed: int,
    stop: threading.Event | None = None,
    reproducible: bool = False,
) -> Scan:
    """Ask above the proven ``lower``, whose own question went unanswered, below ``upper``.

    A bisection between the highest cap left unanswered and the best schedule known:
    the cap halfway between is asked (a looser cap is answered sooner); a "yes" is a
    better schedule and the next cap lies below it, an unanswered question sends the
    next one above it, and a "no" raises the proven bound. When no cap is left
    between them (the best schedule is one break above an unanswered cap), that cap
    is asked again with all the time left, by searches with other seeds: how long a
    search takes varies several-fold with its seed.
    """
    most = model.most_breaks
    scan = Scan(lower=lower, upper=upper)
    asker = _Asker(model, scan, budget, workers, seed, stop, reproducible)
    unanswered = lower
    again = 0
    while asker.can_ask():
        top = most if scan.upper is None else scan.upper - 1
        first = max(scan.lower, unanswered + 1)
        if scan.lower > top:
            break  # the best schedule is at the bound
        if first > top:
            again += 1
            cap = top
            answer = asker.ask(cap, 1.0, again=again)
        else:
            cap = (first + top) // 2
            answer = asker.ask(cap, CLIMB_SHARE)
        if answer.has_solution:
            scan.solution, scan.upper = answer, cap
        elif answer.status == "INFEASIBLE":
            scan.lower = cap + 1
        else:
            unanswered = cap
    return scan
