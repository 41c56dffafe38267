"""Name the must pairs and locks behind an infeasible problem.

Each must rule and each lock is guarded by its own literal and the literals are
passed to CP-SAT as assumptions; an infeasible run then returns a sufficient
subset of them (``SufficientAssumptionsForInfeasibility``) — the items an
organizer must look at. Assumption cores are only extracted with one worker.

When ``max_breaks`` is set it is tested first: if every must pair and lock fits
once the cap is lifted, the cap is what makes the problem infeasible, and the
finding says so (``reason`` ``max_breaks``). The pairs are then not the culprits:
the participants are. Each participant's cap is guarded by its own literal
instead, and the participants named (``reason`` ``max_breaks_participant``) are a
group that cannot all keep to the cap together, whatever the others do.
"""

from __future__ import annotations

import time
from dataclasses import replace

from solver.model.break_floor import break_floors
from solver.model.prechecks import finding
from solver.model.prepared import Prepared, prepare
from solver.model.schedule_model import ScheduleModel
from solver.wording import counted

# Ends each finding's detail when the time ran out before the culprits were narrowed
# down (every must pair and lock is then listed as a suspect).
NOT_NARROWED = " (not narrowed down within the time limit)"

# Groups of participants that cannot keep to max_breaks together are made minimal
# (each one needed) only up to this size.
MINIMISE_AT_MOST = 12


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
                f"{counted(problem.max_breaks, 'break')} per participant",
            )
        )
        group = _over_the_break_cap(prep, time_limit=time_limit, seed=seed)
        for participant in group:
            # Alone, its own must pairs and locks force the breaks; in a group, the
            # group's together.
            together = " together with the other participants named" if len(group) > 1 else ""
            out.append(
                finding(
                    prep.participant_ids[participant],
                    "",
                    "max_breaks_participant",
                    f"cannot keep to at most {counted(problem.max_breaks, 'break')}{together}",
                )
            )
        return out
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


def _over_the_break_cap(prep: Prepared, *, time_limit: float, seed: int) -> list[int]:
    """Participants that cannot all keep to ``max_breaks`` together (empty: not found in time).

    The model counts breaks without a cap; each participant's cap holds under its own
    literal, and the literals are CP-SAT's assumptions, so an infeasible run names a
    sufficient group of them. The break structure of compact days (blocks of busy
    slots counted against the tables) is what makes this fast.
    """
    problem = prep.problem
    relaxed = replace(prep, problem=replace(problem, max_breaks=None, break_penalty=1))
    model = ScheduleModel(relaxed, gap_flags=True, break_floors=break_floors(prep))
    guards = {}
    for participant, counters in model.break_counters.items():
        guard = model.model.new_bool_var(f"cap_{participant}")
        model.model.add(sum(counters) <= problem.max_breaks).only_enforce_if(guard)
        guards[guard.index] = participant
    if not guards:
        return []
    model.model.clear_objective()
    model.model.clear_hints()
    deadline = time.perf_counter() + time_limit

    def infeasible_with(asked: list[int]) -> list[int] | None:
        """A sufficient group within ``asked`` when it cannot keep the cap, else None."""
        left = deadline - time.perf_counter()
        if left <= 0.05:
            return None
        solution, solver = model.solve(
            time_limit=left,
            workers=1,
            seed=seed,
            assumptions=[model.model.get_bool_var_from_proto_index(i) for i in asked],
            linearization=0,
            reproducible=True,
        )
        if solution.status != "INFEASIBLE":
            return None
        return [i for i in solver.sufficient_assumptions_for_infeasibility() if i in guards]

    core = infeasible_with(list(guards))
    if core is None:
        return []
    if len(core) > MINIMISE_AT_MOST:
        # A large group is a whole-day obstruction (typically the tables): each one
        # left out makes the rest feasible, measured, so the search is not worth it.
        return sorted(guards[index] for index in core)
    # Leave each one out in turn: when the rest still cannot keep the cap, it was not
    # needed (and the rest's own group replaces the core); otherwise it stays.
    for candidate in list(core):
        if candidate not in core or time.perf_counter() >= deadline:
            continue
        smaller = infeasible_with([i for i in core if i != candidate])
        if smaller is not None:
            core = smaller
    return sorted(guards[index] for index in core)
