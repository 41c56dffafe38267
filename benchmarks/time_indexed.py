"""The first-cut time-indexed model, written once and solved by CP-SAT or by HiGHS.

This is the model an operations-research practitioner writes first: one 0/1
variable per (pair, slot, table) that could hold the meeting, and linear rows for
every hard rule. The objective is the full one of ``docs/problem-format.md``:

* weights: ``Σ weight × x``;
* concave meeting bonus: ``y[p,k] ∈ [0,1]`` for each participant ``p`` and
  ``k < len(meeting_bonus)``, with ``Σ_k y[p,k] ≤ Σ x[p]``; the bonus list is
  non-increasing, so the optimum fills the first (largest) entries;
* breaks (only when ``break_penalty`` or ``max_breaks`` is set): ``busy[p,s]`` equals
  "p meets in s"; ``start[p,s] ≥ busy[p,s] − busy[p,s−1]`` counts runs of meetings
  in a day, ``any[p,d] ≤ Σ_s busy[p,s]``, and breaks on a day are runs − any;
* changes: ``change_penalty × x`` for each ``current`` meeting, minus the constant.

No hint, no symmetry breaking, no decomposition: that is the point of the baseline.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from solver.problem import Meeting, Problem
from solver.timeline import slot_days


@dataclass
class ModelResult:
    """What a model baseline found: meetings, solver status and its proven bound."""

    meetings: list[Meeting]
    status: str
    bound: float | None
    stats: dict = field(default_factory=dict)


@dataclass
class LinearModel:
    """Variables and rows of the time-indexed model, independent of the solver."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[tuple[list[int], list[float], float, float]] = field(default_factory=list)
    constant: float = 0.0
    meeting_of: dict[int, Meeting] = field(default_factory=dict)

    def var(self, lower: float, upper: float, cost: float, integer: bool = True) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        self.cost.append(cost)
        self.integer.append(integer)
        return len(self.lower) - 1

    def row(self, index: list[int], coef: list[float], lo: float, hi: float) -> None:
        self.rows.append((index, coef, lo, hi))


INF = float("inf")


def build_time_indexed(problem: Problem) -> LinearModel:
    """The time-indexed model of ``problem`` (see the module docstring)."""
    lm = LinearModel()
    people = {p.id: p for p in problem.participants}
    hosts: dict[str, list[str]] = defaultdict(list)
    pooled: list[str | None] = []
    for table in problem.tables or ():
        if table.host:
            hosts[table.host].append(table.id)
        else:
            pooled.append(table.id)
    if problem.tables is None:
        pooled = [None]
    now = problem.now
    open_slot = {s.id: now is None or s.start >= now for s in problem.slots}
    locked = {(m.key, m.slot, m.table) for m in problem.locked}
    current = {(m.key, m.slot, m.table) for m in problem.current}

    by_pair: dict[frozenset, list[int]] = defaultdict(list)
    by_person_slot: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_table_slot: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pair in problem.pairs:
        a, b = people[pair.a], people[pair.b]
        if pair.a in hosts or pair.b in hosts:
            tables = hosts.get(pair.a, []) + hosts.get(pair.b, [])
        else:
            tables = pooled
        for slot in problem.slots:
            if pair.slots is not None and slot.id not in pair.slots:
                continue
            if any(p.available is not None and slot.id not in p.available for p in (a, b)):
                continue
            for table in tables:
                key = (pair.key, slot.id, table)
                if not open_slot[slot.id] and key not in locked:
                    continue
                gain = pair.weight + (problem.change_penalty if key in current else 0)
                fixed = 1.0 if key in locked else 0.0
                x = lm.var(fixed, 1.0, gain)
                lm.meeting_of[x] = Meeting(pair.a, pair.b, slot.id, table)
                by_pair[pair.key].append(x)
                by_person_slot[(pair.a, slot.id)].append(x)
                by_person_slot[(pair.b, slot.id)].append(x)
                if table is not None:
                    by_table_slot[(table, slot.id)].append(x)
    lm.constant = -problem.change_penalty * len(current)

    for pair in problem.pairs:
        xs = by_pair.get(pair.key, [])
        lm.row(xs, [1.0] * len(xs), 1.0 if pair.must else 0.0, 1.0)
    for (who, _), xs in by_person_slot.items():
        lm.row(xs, [1.0] * len(xs), 0.0, float(people[who].parallel))
    for xs in by_table_slot.values():
        lm.row(xs, [1.0] * len(xs), 0.0, 1.0)

    per_person: dict[str, list[int]] = defaultdict(list)
    for (who, _), xs in by_person_slot.items():
        per_person[who].extend(xs)
    for who, xs in per_person.items():
        person = people[who]
        if person.max_meetings is not None:
            lm.row(xs, [1.0] * len(xs), 0.0, float(person.max_meetings))
        ys = [lm.var(0.0, 1.0, float(b)) for b in problem.meeting_bonus[: len(xs)] if b]
        if ys:
            lm.row(ys + xs, [1.0] * len(ys) + [-1.0] * len(xs), -INF, 0.0)

    if problem.break_penalty or problem.max_breaks is not None:
        _add_breaks(problem, lm, by_person_slot, people)
    return lm


def _add_breaks(problem: Problem, lm: LinearModel, by_person_slot: dict, people: dict) -> None:
    """busy/start/any variables per participant, penalised and capped as the rules say."""
    days = [[problem.slots[i].id for i in day] for day in slot_days(problem)]
    for who, person in people.items():
        terms: list[int] = []
        coefs: list[float] = []
        for day in days:
            busy: list[int | None] = []
            for slot in day:
                xs = by_person_slot.get((who, slot))
                if not xs:
                    busy.append(None)
                    continue
                u = lm.var(0.0, 1.0, 0.0)
                busy.append(u)
                # u = 1 exactly when who meets in slot (at most `parallel` meetings there).
                lm.row([u, *xs], [1.0] + [-1.0] * len(xs), -INF, 0.0)
                lm.row([u, *xs], [float(person.parallel)] + [-1.0] * len(xs), 0.0, INF)
            present = [u for u in busy if u is not None]
            if len(present) < 2:
                continue  # one possible slot in a day: no break possible
            day_any = lm.var(0.0, 1.0, float(problem.break_penalty))
            lm.row([day_any, *present], [1.0] + [-1.0] * len(present), -INF, 0.0)
            terms.append(day_any)
            coefs.append(-1.0)
            previous = None
            for u in busy:
                if u is not None:
                    start = lm.var(0.0, 1.0, -float(problem.break_penalty))
                    index, coef = [start, u], [1.0, -1.0]
                    if previous is not None:
                        index.append(previous)
                        coef.append(1.0)
                    lm.row(index, coef, 0.0, INF)
                    terms.append(start)
                    coefs.append(1.0)
                previous = u
        if problem.max_breaks is not None and terms:
            lm.row(terms, coefs, -INF, float(problem.max_breaks))


def first_cut_cpsat(
    problem: Problem, *, time_limit: float = 20.0, workers: int = 2, seed: int = 0
) -> ModelResult:
    """The time-indexed model on CP-SAT, with no hint and default parameters."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    lm = build_time_indexed(problem)
    model = cp_model.CpModel()
    variables = [
        model.new_int_var(int(lo), int(hi), "") for lo, hi in zip(lm.lower, lm.upper, strict=True)
    ]
    for index, coef, lo, hi in lm.rows:
        if not index:
            continue
        expr = cp_model.LinearExpr.weighted_sum(
            [variables[i] for i in index], [int(c) for c in coef]
        )
        if lo == hi:
            model.add(expr == int(lo))
        else:
            if lo != -INF:
                model.add(expr >= int(lo))
            if hi != INF:
                model.add(expr <= int(hi))
    scored = [i for i, c in enumerate(lm.cost) if c]
    model.maximize(
        cp_model.LinearExpr.weighted_sum(
            [variables[i] for i in scored], [int(lm.cost[i]) for i in scored]
        )
    )
    built = time.perf_counter() - started
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - built)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    name = solver.status_name(status)
    stats = {"variables": len(variables), "rows": len(lm.rows), "build_seconds": round(built, 2)}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ModelResult([], name, None, stats)
    meetings = [m for x, m in lm.meeting_of.items() if solver.value(variables[x])]
    stats["model_objective"] = round(solver.objective_value + lm.constant)
    return ModelResult(meetings, name, solver.best_objective_bound + lm.constant, stats)


def mip_highs(
    problem: Problem, *, time_limit: float = 20.0, threads: int = 2, seed: int = 0
) -> ModelResult:
    """The time-indexed model as a MIP on HiGHS (what a practitioner writes first)."""
    import highspy
    import numpy as np

    started = time.perf_counter()
    lm = build_time_indexed(problem)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", seed)
    # The objective is an integer: a gap below 1 proves optimality.
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.999)
    n = len(lm.lower)
    h.addVars(n, np.array(lm.lower), np.array(lm.upper))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(lm.cost))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    rows = [r for r in lm.rows if r[0]]
    starts, indices, values, lows, highs = [], [], [], [], []
    for index, coef, lo, hi in rows:
        starts.append(len(indices))
        indices.extend(index)
        values.extend(coef)
        lows.append(-highspy.kHighsInf if lo == -INF else lo)
        highs.append(highspy.kHighsInf if hi == INF else hi)
    h.addRows(
        len(rows),
        np.array(lows),
        np.array(highs),
        len(indices),
        np.array(starts, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        np.array(values, dtype=np.float64),
    )
    integral = [i for i, flag in enumerate(lm.integer) if flag]
    h.changeColsIntegrality(
        len(integral),
        np.array(integral, dtype=np.int32),
        np.array([highspy.HighsVarType.kInteger] * len(integral)),
    )
    built = time.perf_counter() - started
    h.setOptionValue("time_limit", max(0.1, time_limit - built))
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    stats = {"variables": n, "rows": len(rows), "build_seconds": round(built, 2)}
    bound = info.mip_dual_bound + lm.constant if np.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return ModelResult([], status.upper(), bound, stats)
    values_ = h.getSolution().col_value
    meetings = [m for x, m in lm.meeting_of.items() if values_[x] > 0.5]
    stats["model_objective"] = round(info.objective_function_value + lm.constant)
    return ModelResult(meetings, status.upper(), bound, stats)
