"""The scheduling engine: problem in, validated schedule out.

Phases (each timed in ``stats["timings"]``): prepare indices and feasible slots;
name obvious infeasibility without search; compute the relaxation bound; build
a greedy schedule (hint and fallback); build and solve the CP-SAT model; assign
concrete tables; recompute the objective with :mod:`solver.validation` (never
trusting the solver's number) and explain every requested pair left out.

Very large problems are solved on a *candidate* subset of pairs (must, locked,
current, those the flow relaxation and the greedy pick, then the best remaining
by weight) so the model stays within memory; the reported bound is then the
relaxation's alone, since CP-SAT's bound only covers the subset.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from solver.bound import flow_matching
from solver.greedy import GreedyResult, greedy_schedule
from solver.model.diagnosis import explain_infeasible
from solver.model.prechecks import finding, precheck
from solver.model.prepared import Prepared, prepare
from solver.model.schedule_model import ScheduleModel
from solver.model.table_assignment import assign_tables
from solver.problem import (
    STATUS_FEASIBLE,
    STATUS_INFEASIBLE,
    STATUS_OPTIMAL,
    Meeting,
    Problem,
    Schedule,
)
from solver.reasons import explain_unscheduled
from solver.validation import breaks_per_participant, check, meeting_counts, objective

# Above this many x variables the model is restricted to candidate pairs: about
# 1 KB of memory per variable once constraints are in, so this stays well under 4 GB.
MAX_MODEL_VARIABLES = 600_000


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[float, int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> Schedule:
    """Schedule ``problem`` within about ``time_limit`` seconds.

    ``progress(elapsed_s, objective, bound)`` is called on each improving CP-SAT
    solution; setting ``stop`` ends the search and keeps the best schedule found.
    With ``workers=1`` the same problem and ``seed`` give the same schedule.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 4)
        return now

    prep = prepare(problem)
    mark = lap("prepare", started)
    findings = precheck(prep)
    mark = lap("precheck", mark)
    if findings:
        return _infeasible(problem, findings, started, timings, workers, seed, "precheck")

    relaxation, flow_pairs = flow_matching(prep)
    mark = lap("relaxation_bound", mark)
    greedy = greedy_schedule(prep)
    mark = lap("greedy", mark)

    candidates = _candidate_pairs(prep, greedy, flow_pairs)
    model_prep = prep if candidates is None else _restrict(prep, candidates)
    model = ScheduleModel(model_prep)
    model.add_hint(_translate(greedy.chosen, prep, model_prep))
    mark = lap("build", mark)

    remaining = time_limit - (time.perf_counter() - started)
    solution, _ = model.solve(
        time_limit=max(0.05, remaining), workers=workers, seed=seed, progress=progress, stop=stop
    )
    mark = lap("cp_sat", mark)
    cp_stats = {
        "status": solution.status,
        "branches": solution.branches,
        "conflicts": solution.conflicts,
        "wall_time": round(solution.seconds, 4),
        "objective": solution.objective,
        "best_bound": solution.bound,
        "variables": model.variable_count,
        "restricted_to_pairs": None if candidates is None else len(candidates),
    }

    if solution.status == "INFEASIBLE" and candidates is None:
        diagnosis_time = max(1.0, min(10.0, time_limit))
        findings = explain_infeasible(prep, time_limit=diagnosis_time, seed=seed)
        lap("diagnosis", mark)
        return _infeasible(problem, findings, started, timings, workers, seed, "cp_sat", cp_stats)

    options: list[tuple[list[Meeting], str]] = []
    if solution.has_solution:
        preferred = {
            (model_prep.pair_index[m.key], model_prep.slot_index[m.slot]): m.table
            for m in problem.current
            if m.table is not None and m.key in model_prep.pair_index
        }
        chosen = solution.chosen
        meetings = assign_tables(model_prep, chosen, solution.sides, preferred)
        options.append((meetings, "cp_sat"))
    if not greedy.missed_must:
        preferred = {
            (prep.pair_index[m.key], prep.slot_index[m.slot]): m.table
            for m in problem.current
            if m.table is not None and m.key in prep.pair_index
        }
        options.append((assign_tables(prep, greedy.chosen, greedy.sides, preferred), "greedy"))
    best = _best_valid(problem, options)
    lap("assign_tables", mark)
    if best is None:
        missing = [prep.pairs[i].pair for i in greedy.missed_must]
        findings = [
            finding(p.a, p.b, "not_found", "no schedule found within the time limit")
            for p in missing
        ]
        return _infeasible(problem, findings, started, timings, workers, seed, "timeout", cp_stats)
    meetings, source = best

    value = objective(problem, meetings)
    bound = relaxation
    if candidates is None and solution.bound is not None and math.isfinite(solution.bound):
        bound = min(bound, solution.bound)
    bound = max(bound, value)
    mark = time.perf_counter()
    unscheduled = explain_unscheduled(prep, meetings)
    lap("reasons", mark)
    stats = _stats(problem, meetings, timings, workers, seed, cp_stats)
    stats.update(
        source=source, relaxation_bound=relaxation, greedy_objective=_greedy_value(problem, options)
    )
    return Schedule(
        status=STATUS_OPTIMAL if value == bound else STATUS_FEASIBLE,
        objective=value,
        bound=bound,
        solve_seconds=round(time.perf_counter() - started, 4),
        meetings=meetings,
        unscheduled=unscheduled,
        stats=stats,
    )


def _best_valid(
    problem: Problem, options: list[tuple[list[Meeting], str]]
) -> tuple[list[Meeting], str] | None:
    """The valid option with the highest objective (CP-SAT first on ties)."""
    best: tuple[int, list[Meeting], str] | None = None
    for meetings, source in options:
        if check(problem, meetings):
            continue
        value = objective(problem, meetings)
        if best is None or value > best[0]:
            best = (value, meetings, source)
    return None if best is None else (best[1], best[2])


def _greedy_value(problem: Problem, options: list[tuple[list[Meeting], str]]) -> int | None:
    for meetings, source in options:
        if source == "greedy":
            return objective(problem, meetings)
    return None


def _candidate_pairs(
    prep: Prepared, greedy: GreedyResult, flow_pairs: list[int]
) -> list[int] | None:
    """Pairs to model when all of them would not fit (None: model them all)."""
    total = sum(len(p.slots) for p in prep.pairs)
    if total <= MAX_MODEL_VARIABLES:
        return None
    current = {prep.pair_index[m.key] for m in prep.problem.current if m.key in prep.pair_index}
    keep = {p.index for p in prep.pairs if p.pair.must or p.locked is not None}
    keep |= current | set(flow_pairs) | {pair for pair, _ in greedy.chosen}
    budget = total_vars = sum(len(prep.pairs[i].slots) for i in keep)
    budget = MAX_MODEL_VARIABLES
    for prepared in sorted(prep.pairs, key=lambda p: (-p.pair.weight, p.index)):
        if total_vars >= budget:
            break
        if prepared.index in keep or not prepared.slots:
            continue
        keep.add(prepared.index)
        total_vars += len(prepared.slots)
    return sorted(keep)


def _restrict(prep: Prepared, pairs: list[int]) -> Prepared:
    """A prepared problem with only ``pairs`` (indices into ``prep.pairs``)."""
    from dataclasses import replace

    from solver.model.prepared import PreparedPair

    chosen = [prep.pairs[i] for i in pairs]
    sub = replace(prep, pairs=[], pair_index={}, pairs_of=[[] for _ in prep.participant_ids])
    for new_index, old in enumerate(chosen):
        copy = PreparedPair(
            new_index, old.pair, old.a, old.b, old.slots, old.locked, old.both_hosts
        )
        sub.pairs.append(copy)
        sub.pair_index[old.pair.key] = new_index
        sub.pairs_of[old.a].append(new_index)
        sub.pairs_of[old.b].append(new_index)
    return sub


def _translate(
    chosen: list[tuple[int, int]], source: Prepared, target: Prepared
) -> list[tuple[int, int]]:
    """(pair, slot) from one prepared problem's pair indices to another's."""
    if source is target:
        return chosen
    out = []
    for pair_index, slot in chosen:
        key = source.pairs[pair_index].pair.key
        if key in target.pair_index:
            out.append((target.pair_index[key], slot))
    return out


def _infeasible(
    problem: Problem,
    findings: list[dict],
    started: float,
    timings: dict[str, float],
    workers: int,
    seed: int,
    found_by: str,
    cp_stats: dict | None = None,
) -> Schedule:
    locks = [f for f in findings if f["reason"].startswith("lock")]
    stats = {
        "timings": timings,
        "workers": workers,
        "seed": seed,
        "infeasible_found_by": found_by,
        "locks": locks,
        "counts": _counts(problem),
    }
    if cp_stats is not None:
        stats["cp_sat"] = cp_stats
    return Schedule(
        status=STATUS_INFEASIBLE,
        objective=0,
        bound=0,
        solve_seconds=round(time.perf_counter() - started, 4),
        unscheduled_must=findings,
        stats=stats,
    )


def _counts(problem: Problem) -> dict[str, int]:
    return {
        "participants": len(problem.participants),
        "slots": len(problem.slots),
        "tables": len(problem.tables) if problem.tables is not None else 0,
        "pairs": len(problem.pairs),
        "must_pairs": sum(1 for p in problem.pairs if p.must),
        "locked": len(problem.locked),
        "current": len(problem.current),
    }


def _stats(
    problem: Problem,
    meetings: list[Meeting],
    timings: dict[str, float],
    workers: int,
    seed: int,
    cp_stats: dict,
) -> dict:
    per_participant = list(meeting_counts(problem, meetings).values()) or [0]
    return {
        "counts": {**_counts(problem), "meetings": len(meetings)},
        "timings": timings,
        "breaks_total": sum(breaks_per_participant(problem, meetings).values()),
        "meetings_per_participant": {
            "min": min(per_participant),
            "mean": round(sum(per_participant) / len(per_participant), 3),
            "max": max(per_participant),
        },
        "workers": workers,
        "seed": seed,
        "cp_sat": cp_stats,
    }
