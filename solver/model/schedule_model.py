"""The CP-SAT model of one problem, composed from the constraint and objective modules.

Build order matters only where one module needs another's variables: tables
create the host–host side choices that locks and kept meetings refer to.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ortools.sat.python import cp_model

from solver import work
from solver.model.activity import add_activity
from solver.model.breaks import add_breaks, add_gap_flags, add_no_breaks
from solver.model.capacity import add_capacity
from solver.model.changes import add_changes
from solver.model.hints import complete_hint
from solver.model.locks import add_locks
from solver.model.objective import ObjectiveTerms, build_objective
from solver.model.pairs import add_pair_rules
from solver.model.prepared import Prepared
from solver.model.solution import Solution
from solver.model.tables import add_table_capacity
from solver.model.variables import Variables

Progress = Callable[[float, int, int], None]

# Seeds of the searches raced on one break question (:meth:`ScheduleModel.decide`) lie
# this far apart, so that no two runs of the engine share one.
RACE_SEED_STRIDE = 7919


class _Observer(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution and stops the search when asked to."""

    def __init__(self, progress: Progress | None, stop: threading.Event | None) -> None:
        super().__init__()
        self._progress = progress
        self._stop = stop
        self._started = time.perf_counter()

    def on_solution_callback(self) -> None:
        if self._progress is not None:
            self._progress(
                time.perf_counter() - self._started,
                round(self.objective_value),
                round(self.best_objective_bound),
            )
        if self._stop is not None and self._stop.is_set():
            self.stop_search()


class ScheduleModel:
    """All hard rules and the objective of one prepared problem.

    With ``guarded=True`` each must pair and each lock holds only under its own
    literal (``must_guards``/``lock_guards``) and there is no objective: that
    variant exists to explain infeasibility (:mod:`solver.model.diagnosis`).
    With ``gap_flags=True`` (compact days) each break counter also gets the
    redundant span structure of :func:`~solver.model.breaks.add_gap_flags`, every
    participant explicit busy Booleans counted against the tables
    (:mod:`solver.model.activity`), and the model a ``break_total`` variable that
    :meth:`decide` caps.
    ``break_floors`` (participant -> breaks it cannot avoid, from
    :mod:`solver.model.break_floor`) become redundant lower bounds on its counters.
    """

    def __init__(
        self,
        prep: Prepared,
        *,
        guarded: bool = False,
        gap_flags: bool = False,
        break_floors: dict[int, int] | None = None,
    ) -> None:
        self.prep = prep
        self.model = cp_model.CpModel()
        self.vars = Variables(self.model, prep)
        self.must_guards: dict[int, cp_model.IntVar] = {}
        self.lock_guards: dict[int, cp_model.IntVar] = {}
        if guarded:
            for prepared in prep.pairs:
                if prepared.pair.must:
                    self.must_guards[prepared.index] = self.model.new_bool_var(
                        f"must_{prepared.index}"
                    )
                if prepared.locked is not None:
                    self.lock_guards[prepared.index] = self.model.new_bool_var(
                        f"lock_{prepared.index}"
                    )
        add_pair_rules(self.vars, self.must_guards if guarded else None)
        add_capacity(self.vars)
        add_table_capacity(self.vars)
        add_locks(self.vars, self.lock_guards if guarded else None)
        problem = prep.problem
        if gap_flags and not guarded:
            add_activity(self.vars)
        self.break_counters = {}
        self.break_total: cp_model.IntVar | None = None
        if problem.max_breaks == 0:
            add_no_breaks(self.vars)  # breaks are 0: no counters, no penalty
        elif problem.max_breaks is not None or (problem.break_penalty and not guarded):
            self.break_counters = add_breaks(self.vars, problem.max_breaks)
            for participant, floor in (break_floors or {}).items():
                counters = self.break_counters.get(participant)
                if counters:
                    self.model.add(sum(counters) >= floor)
            if gap_flags:
                add_gap_flags(self.vars)
                counters = [c for per_day in self.break_counters.values() for c in per_day]
                if counters:
                    # The most breaks the rules allow: each participant's counters, up
                    # to max_breaks. A cap at this number asks nothing of the breaks.
                    cap = problem.max_breaks
                    most = sum(
                        min(
                            sum(list(c.proto.domain)[-1] for c in per_day),
                            cap if cap is not None else len(prep.slot_ids),
                        )
                        for per_day in self.break_counters.values()
                    )
                    self.break_total = self.model.new_int_var(0, most, "breaks_total")
                    self.model.add(self.break_total == sum(counters))
        self.keep_terms: list = []
        self.keep_by_key: dict = {}
        self.objective: ObjectiveTerms | None = None
        if not guarded:
            if problem.change_penalty and problem.current:
                self.keep_terms, self.keep_by_key = add_changes(self.vars)
            self.objective = build_objective(self.vars, self.break_counters, self.keep_terms)
            self.model.maximize(self.objective.expression())

    @property
    def variable_count(self) -> int:
        """Number of CP-SAT variables (for stats)."""
        return len(self.model.proto.variables)

    def add_hint(
        self, chosen: list[tuple[int, int]], sides: dict[tuple[int, int], int] | None = None
    ) -> None:
        """Hint every variable from the chosen (pair, slot) meetings (see :mod:`.hints`)."""
        self.model.clear_hints()
        for var, value in complete_hint(self.vars, chosen, sides or {}):
            self.model.add_hint(var, value)

    def solve(
        self,
        *,
        time_limit: float,
        workers: int,
        seed: int,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        assumptions: list[cp_model.IntVar] | None = None,
        core: bool = False,
        linearization: int | None = None,
        reproducible: bool = False,
    ) -> tuple[Solution, cp_model.CpSolver]:
        """Run CP-SAT and read back the chosen meetings.

        ``core`` makes the full-problem worker a core-based search (raising the
        bound by unsatisfiable cores of the objective terms); with two workers
        the other still runs CP-SAT's neighbourhood and local searches.
        ``linearization`` 2 asks for CP-SAT's full linearisation (cuts and the linear
        form of every constraint: a far better bound on small models): the level of
        the one worker, or with two workers a ``max_lp`` search beside the default one.
        ``reproducible`` budgets ``time_limit`` as work (see :mod:`solver.work`).
        """
        solver = cp_model.CpSolver()
        params = solver.parameters
        work.limit(params, time_limit, reproducible)
        params.num_workers = max(1, workers)
        params.random_seed = work.cp_sat_seed(seed)
        if core:
            if workers <= 2:
                params.subsolvers.append("core")
            if workers == 1:
                params.optimize_with_core = True
        elif linearization is not None:
            if workers == 1:
                params.linearization_level = linearization
            elif workers == 2 and linearization >= 2:
                # Two workers get CP-SAT's default portfolio of one full search plus
                # neighbourhoods; run the full linearisation beside the default one.
                params.subsolvers.extend(["max_lp", "default_lp"])
        if assumptions:
            self.model.clear_assumptions()
            self.model.add_assumptions(assumptions)
        solution = self._run(solver, _Observer(progress, stop), stop)
        if solution.has_solution and self.objective is not None:
            solution.objective = round(solver.objective_value)
            # The objective is an integer, so the floor of a proven bound is one too.
            solution.bound = math.floor(solver.best_objective_bound + 1e-6)
        return solution, solver

    @property
    def most_breaks(self) -> int:
        """The most breaks the model allows in all (a cap above it asks nothing)."""
        if self.break_total is None:
            return 0
        return self.model.proto.variables[self.break_total.index].domain[1]

    def at_least_breaks(self, fewest: int) -> None:
        """Every schedule has at least ``fewest`` breaks in all (proven elsewhere)."""
        if self.break_total is None:
            return
        domain = self.model.proto.variables[self.break_total.index].domain
        domain[0] = max(domain[0], min(fewest, domain[1]))

    def decide(
        self,
        most_breaks: int,
        *,
        time_limit: float,
        workers: int,
        seed: int,
        stop: threading.Event | None = None,
        reproducible: bool = False,
    ) -> Solution:
        """Is there a schedule with at most ``most_breaks`` breaks in all? (compact days)

        The question, not the optimisation: the objective and the hint are set aside
        and the search stops at the first schedule. ``INFEASIBLE`` proves that every schedule
        has more breaks; ``UNKNOWN`` says the time ran out. CP-SAT's searches without
        linear relaxation answer these questions far faster than those with it: the
        relaxation knows nothing of blocks of busy slots, and costs time at every node.
        With more than one worker, that many such searches race (:meth:`_race`).
        Needs a model built with ``gap_flags`` (``break_total``).
        """
        if self.break_total is None:
            raise ValueError("decide() needs a model with gap_flags and break counters")
        domain = self.model.proto.variables[self.break_total.index].domain
        kept_domain = list(domain)  # [lowest, highest]: the variable is an interval
        if most_breaks < kept_domain[0]:
            return Solution(status="INFEASIBLE")  # below the floors or a proven minimum
        domain[1] = min(most_breaks, kept_domain[1])
        self.model.clear_objective()
        # A hint with more breaks than the cap leads the search astray (measured: a
        # question answered in 4 s unhinted went unanswered in 10 s hinted). It is put
        # back as it was, not recomputed from the meetings.
        hint = self.model.proto.solution_hint
        kept_hint = (list(hint.vars), list(hint.values))
        self.model.clear_hints()
        try:
            if workers == 1:
                solver = self._decider(time_limit, seed, reproducible)
                return self._run(solver, _Observer(None, stop), stop)
            return self._race(time_limit, workers, seed, stop)
        finally:
            domain[1] = kept_domain[1]
            self.model.proto.solution_hint.vars.extend(kept_hint[0])
            self.model.proto.solution_hint.values.extend(kept_hint[1])
            if self.objective is not None:
                self.model.maximize(self.objective.expression())

    def _decider(self, time_limit: float, seed: int, reproducible: bool) -> cp_model.CpSolver:
        """One single-threaded CP-SAT search without linear relaxation."""
        solver = cp_model.CpSolver()
        params = solver.parameters
        work.limit(params, time_limit, reproducible, work.DECISION_DETERMINISTIC_PER_SECOND)
        params.num_workers = 1
        params.random_seed = work.cp_sat_seed(seed)
        params.linearization_level = 0
        return solver

    def _race(
        self, time_limit: float, workers: int, seed: int, stop: threading.Event | None
    ) -> Solution:
        """``workers`` searches that differ only in their seed; the first answer stops the rest.

        How long one search takes to answer a break question varies several-fold
        with its seed (seed 3 of the generator, "at most 4 breaks?": 1.7-8 s), and
        CP-SAT's own portfolio gains nothing from its second worker here: its other
        searches never answer first (measured with every subsolver it offers). The
        fastest of independent draws cuts that tail (the same question: 2.4-4 s).
        """
        answered = threading.Event()
        searches_done = threading.Event()
        solvers = [
            self._decider(time_limit, seed * RACE_SEED_STRIDE + i, False) for i in range(workers)
        ]

        def search(solver: cp_model.CpSolver) -> Solution:
            try:
                answer = self._run(solver, _Observer(None, answered), answered)
            except BaseException:
                answered.set()  # the others stop; the error reaches the caller
                raise
            if answer.status in ("OPTIMAL", "FEASIBLE", "INFEASIBLE"):
                answered.set()
            return answer

        def forward() -> None:  # the caller's stop ends every search
            while not searches_done.is_set():
                if stop.wait(0.05):
                    answered.set()
                    return

        with ThreadPoolExecutor(max_workers=workers + 1) as pool:
            if stop is not None:
                pool.submit(forward)
            searches = [pool.submit(search, solver) for solver in solvers]
            try:
                answers = [future.result() for future in searches]
            finally:
                answered.set()
                searches_done.set()
        for wanted in ("INFEASIBLE", "OPTIMAL", "FEASIBLE"):
            for answer in answers:
                if answer.status == wanted:
                    return answer
        return answers[0]

    def _run(
        self,
        solver: cp_model.CpSolver,
        observer: _Observer,
        stop: threading.Event | None,
    ) -> Solution:
        """Solve, stopping when ``stop`` is set, and read back the chosen meetings."""
        watcher = None
        done = threading.Event()
        if stop is not None:
            # The callback only runs on new solutions; this thread stops a search that
            # is proving a bound without finding anything new. It asks until the search
            # has ended: a stop asked before the search has started is not kept.
            def watch() -> None:
                while not done.is_set():
                    if stop.wait(0.05):
                        solver.stop_search()
                        done.wait(0.05)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
        try:
            status = solver.solve(self.model, observer)
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
        name = solver.status_name(status)
        solution = Solution(
            status=name,
            seconds=solver.wall_time,
            deterministic_time=solver.deterministic_time,
            branches=solver.num_branches,
            conflicts=solver.num_conflicts,
        )
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solution.chosen = [key for key, var in self.vars.x.items() if solver.boolean_value(var)]
            for (pair_index, slot, host), var in self.vars.at_table_of.items():
                if solver.boolean_value(var):
                    solution.sides[pair_index, slot] = host
            solution.kept = {
                key for key, var in self.keep_by_key.items() if solver.boolean_value(var)
            }
        return solution
