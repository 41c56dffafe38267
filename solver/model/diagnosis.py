"""Name the must pairs and locks behind an infeasible problem.

Each must rule and each lock is guarded by its own literal and the literals are
passed to CP-SAT as assumptions; an infeasible run then returns a sufficient
subset of them (``SufficientAssumptionsForInfeasibility``) — the items an
organizer must look at. Assumption cores are only extracted with one worker.
"""

from __future__ import annotations

from solver.model.prechecks import finding
from solver.model.prepared import Prepared
from solver.model.schedule_model import ScheduleModel


def explain_infeasible(prep: Prepared, *, time_limit: float, seed: int) -> list[dict]:
    """Findings (as in :mod:`solver.model.prechecks`) for a problem CP-SAT found infeasible."""
    guarded = ScheduleModel(prep, guarded=True)
    literals = {}
    for pair_index, literal in guarded.must_guards.items():
        literals[literal.index] = (pair_index, "must")
    for pair_index, literal in guarded.lock_guards.items():
        literals[literal.index] = (pair_index, "lock")
    assumptions = list(guarded.must_guards.values()) + list(guarded.lock_guards.values())
    solution, solver = guarded.solve(
        time_limit=time_limit, workers=1, seed=seed, assumptions=assumptions
    )
    if solution.status != "INFEASIBLE":
        # Not proved in time: every must pair and lock is a suspect.
        core = sorted(literals)
    else:
        core = sorted(solver.sufficient_assumptions_for_infeasibility())
    out = []
    for index in core:
        if index not in literals:
            continue
        pair_index, kind = literals[index]
        pair = prep.pairs[pair_index].pair
        if kind == "must":
            out.append(
                finding(pair.a, pair.b, "conflict", "cannot be scheduled together with the rest")
            )
        else:
            lock = prep.pairs[pair_index].locked
            out.append(
                finding(
                    pair.a,
                    pair.b,
                    "lock_conflict",
                    f"locked in slot {lock.slot}" + (f", table {lock.table}" if lock.table else ""),
                )
            )
    if not out:
        out.append(finding("", "", "conflict", "the rules contradict each other (max_breaks?)"))
    return out
