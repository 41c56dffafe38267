"""Name the must pairs and locks behind an infeasible problem.

Each must rule and each lock is guarded by its own literal and the literals are
passed to CP-SAT as assumptions; an infeasible run then returns a sufficient
subset of them (``SufficientAssumptionsForInfeasibility``) — the items an
organizer must look at. Assumption cores are only extracted with one worker.

When ``max_breaks`` is set it is tested first: if every must pair and lock fits
once the cap is lifted, the cap is what makes the problem infeasible, and the
finding says so (``reason`` ``max_breaks``) before naming the pairs involved.
"""

from __future__ import annotations

from dataclasses import replace

from solver.model.prechecks import finding
from solver.model.prepared import Prepared, prepare
from solver.model.schedule_model import ScheduleModel

# Ends each finding's detail when the time ran out before the culprits were narrowed
# down (every must pair and lock is then listed as a suspect).
NOT_NARROWED = " (not narrowed down within the time limit)"


def explain_infeasible(
    prep: Prepared, *, time_limit: float, seed: int, workers: int = 1
) -> list[dict]:
    """Findings (as in :mod:`solver.model.prechecks`) for a problem CP-SAT found infeasible."""
    out: list[dict] = []
    problem = prep.problem
    if problem.max_breaks is not None and _feasible_without_break_cap(
        prep, time_limit=time_limit / 3, seed=seed, workers=workers
    ):
        out.append(
            finding(
                "",
                "",
                "max_breaks",
                f"every must pair and lock fits, but not with at most "
                f"{problem.max_breaks} break(s) per participant",
            )
        )
    guarded = ScheduleModel(prep, guarded=True)
    literals = {}
    for pair_index, literal in guarded.must_guards.items():
        literals[literal.index] = (pair_index, "must")
    for pair_index, literal in guarded.lock_guards.items():
        literals[literal.index] = (pair_index, "lock")
    assumptions = list(guarded.must_guards.values()) + list(guarded.lock_guards.values())
    solution, solver = guarded.solve(
        time_limit=time_limit, workers=1, seed=seed, assumptions=assumptions, reproducible=True
    )
    narrowed = solution.status == "INFEASIBLE"
    core = sorted(solver.sufficient_assumptions_for_infeasibility()) if narrowed else []
    if not narrowed:
        core = sorted(literals)  # not narrowed down in time: every one is a suspect
    why = "" if narrowed else NOT_NARROWED
    for index in core:
        if index not in literals:
            continue
        pair_index, kind = literals[index]
        pair = prep.pairs[pair_index].pair
        if kind == "must":
            detail = "cannot be scheduled together with the rest" + why
            out.append(finding(pair.a, pair.b, "conflict", detail))
        else:
            lock = prep.pairs[pair_index].locked
            where = f"locked in slot {lock.slot}" + (f", table {lock.table}" if lock.table else "")
            out.append(finding(pair.a, pair.b, "lock_conflict", where + why))
    if not out:
        out.append(finding("", "", "conflict", "the rules contradict each other"))
    return out


def _feasible_without_break_cap(
    prep: Prepared, *, time_limit: float, seed: int, workers: int
) -> bool:
    relaxed = ScheduleModel(prepare(replace(prep.problem, max_breaks=None)), guarded=True)
    for literal in [*relaxed.must_guards.values(), *relaxed.lock_guards.values()]:
        relaxed.model.add(literal == 1)
    solution, _ = relaxed.solve(
        time_limit=time_limit, workers=workers, seed=seed, reproducible=workers == 1
    )
    return solution.has_solution
