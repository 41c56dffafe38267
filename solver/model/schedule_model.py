"""The CP-SAT model of one problem, composed from the constraint and objective modules.

Build order matters only where one module needs another's variables: tables
create the host–host side choices that locks and kept meetings refer to.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from solver import work
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
    With ``gap_flags=True`` each break counter also gets the redundant span
    structure of :func:`~solver.model.breaks.add_gap_flags` (for compact days).
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
        self.break_counters = {}
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
        params.random_seed = seed
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
        observer = _Observer(progress, stop)
        watcher = None
        done = threading.Event()
        if stop is not None:
            # The callback only runs on new solutions; this thread stops a search that
            # is proving a bound without finding anything new.
            def watch() -> None:
                while not done.is_set():
                    if stop.wait(0.05):
                        solver.stop_search()
                        return

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
            if self.objective is not None:
                solution.objective = round(solver.objective_value)
                # The objective is an integer, so the floor of a proven bound is one too.
                solution.bound = math.floor(solver.best_objective_bound + 1e-6)
        return solution, solver
