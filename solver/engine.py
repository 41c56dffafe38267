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

import threading
import time
from collections.abc import Callable

from solver.bound import flow_matching
from solver.greedy import GreedyResult, compact_timetable, greedy_schedule
from solver.model.diagnosis import explain_infeasible
from solver.model.lns import improve
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

# Share of the time limit for timetabling the relaxation's pairs (phase 1).
FOCUS_SHARE = 0.35

# Phase 1 pays off only when it is much smaller than the whole model.
FOCUS_MAX_FRACTION = 0.7

# Time kept back for table assignment, validation and reasons: a share of the
# limit plus a little per x variable.
RESERVE_SHARE = 0.02
RESERVE_PER_VARIABLE = 1e-5

# Above this many x variables the whole model is not built: a large-neighbourhood
# search improves the best warm start instead (solver.model.lns).
LNS_THRESHOLD = 100_000

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
    focus = _focus_pairs(prep, flow_pairs)
    full_size = sum(len(p.slots) for p in prep.pairs)
    warm_starts = [(greedy_schedule(prep), "greedy")]
    if len(focus) < len(prep.pairs):
        warm_starts.append((greedy_schedule(prep, only_pairs=focus), "greedy_focus"))
    if problem.max_breaks is not None or problem.break_penalty:
        # Breaks make the timetable the hard part: build one slot by slot without them.
        per_slot = min(0.2, 0.1 * time_limit / max(1, len(problem.slots)))
        warm_starts.append(
            (compact_timetable(prep, focus, seconds_per_slot=per_slot, seed=seed), "compact")
        )
    mark = lap("greedy", mark)

    preferred_tables = _current_tables(prep)
    options: list[tuple[list[Meeting], str]] = []
    # Valid schedules so far as (objective, chosen, sides) in ``prep``'s indices.
    found: list[tuple[int, list[tuple[int, int]], dict[tuple[int, int], int]]] = []
    for start, name in warm_starts:
        if start.missed_must:
            continue
        meetings = assign_tables(prep, start.chosen, start.sides, preferred_tables)
        if check(problem, meetings):
            continue
        options.append((meetings, name))
        found.append((objective(problem, meetings), start.chosen, start.sides))
    greedy = warm_starts[0][0]
    in_focus = set(focus)
    focus_found = [f for f in found if all(pair in in_focus for pair, _ in f[1])]
    hint, hint_sides = _best_hint(focus_found or found, greedy)
    report = _Reporter(progress, started)
    phases: dict[str, dict] = {}

    # Phase 1: timetable the pairs the relaxation picks (plus must, locked, current).
    # When they all fit, the schedule meets the relaxation bound and is optimal; when
    # not, it is a strong hint. Must and locked pairs are all in, so a proof of
    # infeasibility here holds for the whole problem (other pairs are optional).
    proven_infeasible = False
    focus_size = sum(len(prep.pairs[i].slots) for i in focus)
    if focus_size <= min(FOCUS_MAX_FRACTION * full_size, LNS_THRESHOLD):
        sub = _restrict(prep, focus)
        model = ScheduleModel(sub)
        model.add_hint(
            _translate(hint, prep, sub),
            _translate_sides(hint_sides, prep, sub),
        )
        mark = lap("build_focus", mark)
        remaining = time_limit - (time.perf_counter() - started)
        solution, _ = model.solve(
            time_limit=max(0.05, FOCUS_SHARE * remaining),
            workers=workers,
            seed=seed,
            progress=report.phase(relaxation),
            stop=stop,
        )
        mark = lap("cp_sat_focus", mark)
        phases["focus"] = _phase_stats(solution, model, len(focus))
        if solution.has_solution:
            meetings = assign_tables(sub, solution.chosen, solution.sides, preferred_tables)
            options.append((meetings, "cp_sat_focus"))
            if not check(problem, meetings):
                found.append(
                    (
                        objective(problem, meetings),
                        _translate(solution.chosen, sub, prep),
                        _translate_sides(solution.sides, sub, prep),
                    )
                )
        proven_infeasible = solution.status == "INFEASIBLE"

    best = _best_valid(problem, options)
    full_bound: int | None = None
    done = best is not None and objective(problem, best[0]) >= relaxation
    stopped = stop is not None and stop.is_set()
    if not done and not stopped and not proven_infeasible:
        hint, hint_sides = _best_hint(found, greedy)
    if not done and not stopped and not proven_infeasible and full_size > LNS_THRESHOLD and found:
        # Phase 2 for a very large problem: improve the best schedule neighbourhood
        # by neighbourhood; one model of every pair would not fit in memory.
        reserve = RESERVE_SHARE * time_limit + RESERVE_PER_VARIABLE * full_size
        value = max(f[0] for f in found)
        callback = report.phase(relaxation)
        gains = [value]

        def on_improvement(gain: int) -> None:
            gains[0] += gain
            if callback is not None:
                callback(0.0, gains[0], relaxation)

        lns = improve(
            prep,
            hint,
            hint_sides,
            deadline=started + time_limit - reserve,
            workers=workers,
            seed=seed,
            on_improvement=on_improvement,
            stop=stop,
        )
        mark = lap("lns", mark)
        phases["lns"] = {
            "status": "FEASIBLE",
            "neighbourhoods": lns.neighbourhoods,
            "improvements": lns.improvements,
            "gained": lns.gained,
            "branches": lns.branches,
            "conflicts": lns.conflicts,
        }
        options.append((assign_tables(prep, lns.chosen, lns.sides, preferred_tables), "lns"))
    elif not done and not stopped and not proven_infeasible:
        # Phase 2: every pair (or, without any valid start, a candidate subset).
        candidates = _candidate_pairs(prep, [pair for pair, _ in hint], flow_pairs)
        model_prep = prep if candidates is None else _restrict(prep, candidates)
        model = ScheduleModel(model_prep)
        model.add_hint(
            _translate(hint, prep, model_prep),
            _translate_sides(hint_sides, prep, model_prep),
        )
        mark = lap("build", mark)
        reserve = RESERVE_SHARE * time_limit + RESERVE_PER_VARIABLE * len(model.vars.x)
        remaining = time_limit - (time.perf_counter() - started) - reserve
        solution, _ = model.solve(
            time_limit=max(0.05, remaining),
            workers=workers,
            seed=seed,
            progress=report.phase(relaxation if candidates is not None else None),
            stop=stop,
        )
        mark = lap("cp_sat", mark)
        phases["full"] = _phase_stats(
            solution, model, len(prep.pairs) if candidates is None else len(candidates)
        )
        if solution.has_solution:
            meetings = assign_tables(model_prep, solution.chosen, solution.sides, preferred_tables)
            options.append((meetings, "cp_sat"))
            if candidates is None and solution.bound is not None:
                full_bound = solution.bound
        proven_infeasible = solution.status == "INFEASIBLE" and candidates is None
    cp_stats = {
        "status": next(reversed(phases.values()))["status"] if phases else None,
        "branches": sum(p["branches"] for p in phases.values()),
        "conflicts": sum(p["conflicts"] for p in phases.values()),
        "phases": phases,
    }

    if proven_infeasible:
        # Naming culprits is worth a few seconds, not another full time limit.
        diagnosis_time = max(1.0, min(5.0, time_limit / 2))
        findings = explain_infeasible(prep, time_limit=diagnosis_time, seed=seed, workers=workers)
        lap("diagnosis", mark)
        return _infeasible(problem, findings, started, timings, workers, seed, "cp_sat", cp_stats)

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
    bound = relaxation if full_bound is None else min(relaxation, full_bound)
    bound = max(bound, value)
    mark = time.perf_counter()
    unscheduled = explain_unscheduled(prep, meetings)
    lap("reasons", mark)
    stats = _stats(problem, meetings, timings, workers, seed, cp_stats)
    stats.update(
        source=source, relaxation_bound=relaxation, warm_starts=_warm_start_values(problem, options)
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


class _Reporter:
    """Forwards only improving solutions to ``progress``, with a bound valid for the problem."""

    def __init__(self, progress: Callable[[float, int, int], None] | None, started: float):
        self._progress = progress
        self._started = started
        self._best: int | None = None

    def phase(self, bound_cap: int | None) -> Callable[[float, int, int], None] | None:
        """A callback for one CP-SAT run; ``bound_cap`` replaces a bound that covers a subset."""
        if self._progress is None:
            return None

        def report(_elapsed: float, value: int, bound: int) -> None:
            if self._best is not None and value <= self._best:
                return
            self._best = value
            shown = bound if bound_cap is None else bound_cap
            elapsed = time.perf_counter() - self._started
            self._progress(elapsed, value, max(value, shown))

        return report


def _best_hint(
    found: list[tuple[int, list[tuple[int, int]], dict[tuple[int, int], int]]],
    fallback: GreedyResult,
) -> tuple[list[tuple[int, int]], dict[tuple[int, int], int]]:
    """The best valid schedule found so far (the first on ties), else the fallback."""
    if not found:
        return fallback.chosen, fallback.sides
    best = max(found, key=lambda f: f[0])
    return best[1], best[2]


def _phase_stats(solution, model: ScheduleModel, pairs: int) -> dict:
    return {
        "status": solution.status,
        "pairs": pairs,
        "variables": model.variable_count,
        "branches": solution.branches,
        "conflicts": solution.conflicts,
        "wall_time": round(solution.seconds, 4),
        "objective": solution.objective,
        "best_bound": solution.bound,
    }


def _current_tables(prep: Prepared) -> dict[tuple[int, int], str]:
    """(pair, slot) -> table of the ``current`` plan, to keep people where they were."""
    return {
        (prep.pair_index[m.key], prep.slot_index[m.slot]): m.table
        for m in prep.problem.current
        if m.table is not None and m.key in prep.pair_index and m.slot in prep.slot_index
    }


def _focus_pairs(prep: Prepared, flow_pairs: list[int]) -> list[int]:
    """The relaxation's pairs plus every must, locked and current pair."""
    current = {prep.pair_index[m.key] for m in prep.problem.current if m.key in prep.pair_index}
    keep = {p.index for p in prep.pairs if p.pair.must or p.locked is not None}
    return sorted(keep | current | set(flow_pairs))


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


def _warm_start_values(problem: Problem, options: list[tuple[list[Meeting], str]]) -> dict:
    return {
        source: objective(problem, meetings)
        for meetings, source in options
        if source in ("greedy", "greedy_focus", "compact")
    }


def _candidate_pairs(prep: Prepared, hinted: list[int], flow_pairs: list[int]) -> list[int] | None:
    """Pairs to model when all of them would not fit (None: model them all)."""
    total = sum(len(p.slots) for p in prep.pairs)
    if total <= MAX_MODEL_VARIABLES:
        return None
    keep = set(_focus_pairs(prep, flow_pairs)) | set(hinted)
    total_vars = sum(len(prep.pairs[i].slots) for i in keep)
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


def _translate_sides(
    sides: dict[tuple[int, int], int], source: Prepared, target: Prepared
) -> dict[tuple[int, int], int]:
    """Host–host side choices from one prepared problem's pair indices to another's."""
    if source is target:
        return sides
    out = {}
    for (pair_index, slot), host in sides.items():
        key = source.pairs[pair_index].pair.key
        if key in target.pair_index:
            out[target.pair_index[key], slot] = host
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
