"""An upper bound on the objective from a min-cost-flow relaxation.

Why it is valid. Drop every rule that only removes schedules — slots and their
clashes, tables, must pairs, locks, ``max_breaks`` — and every term that only
lowers the objective — break and change penalties, both ``>= 0``. What is left is
a maximum-value b-matching: choose pairs (each at most once and only if it has
a feasible slot at all), each participant in at most ``cap(p)`` of them, where
``cap(p) = min(max_meetings, usable slots × per-slot limit)``, valued by
weights plus each participant's concave bonus. Any valid schedule is such a
matching with at least the same value, so the matching's optimum bounds the
objective from above.

Pairs may join any two participants (suppliers meeting suppliers), so the graph
need not be bipartite. The bipartite *double cover* solves that: each
participant appears on a left side (source → p_L) and a right side (p_R → sink),
each with its bonus as parallel unit arcs of cost ``-bonus[k]``, and a pair
``{a, b}`` becomes two arcs ``a_L → b_R`` and ``b_L → a_R`` of cost ``-weight``.
A schedule of value V maps to a flow of cost ``-2V`` (every meeting both ways,
every participant's degree on both sides), so ``floor(-min_cost / 2)`` is an
upper bound; for a bipartite pair graph the double cover is two copies of the
graph and the bound is the exact matching optimum. Because the bonus is
non-increasing, the cheapest parallel arcs fill first, so the flow prices each
participant's degree exactly as the objective does. Integers throughout.
"""

from __future__ import annotations

from ortools.graph.python import min_cost_flow

from solver.model.prepared import Prepared, prepare
from solver.problem import Problem


def relaxation_bound(problem: Problem) -> int:
    """An integer upper bound on the objective of any valid schedule of ``problem``."""
    return prepared_relaxation_bound(prepare(problem))


def prepared_relaxation_bound(prep: Prepared) -> int:
    """:func:`relaxation_bound` for an already prepared problem."""
    bound, _ = flow_matching(prep)
    return bound


def flow_matching(prep: Prepared) -> tuple[int, list[int]]:
    """The bound and the pairs the relaxation picks (a pair counts when used both ways)."""
    problem = prep.problem
    n = len(prep.participant_ids)
    source, sink = 2 * n, 2 * n + 1
    bonus = list(problem.meeting_bonus)
    flow = min_cost_flow.SimpleMinCostFlow()
    total_supply = 0
    for participant in range(n):
        cap = prep.usable_capacity(participant)
        if cap <= 0:
            continue
        total_supply += cap
        left, right = participant, n + participant
        for k in range(min(cap, len(bonus))):
            flow.add_arc_with_capacity_and_unit_cost(source, left, 1, -bonus[k])
            flow.add_arc_with_capacity_and_unit_cost(right, sink, 1, -bonus[k])
        rest = cap - min(cap, len(bonus))
        if rest > 0:
            flow.add_arc_with_capacity_and_unit_cost(source, left, rest, 0)
            flow.add_arc_with_capacity_and_unit_cost(right, sink, rest, 0)
    pair_arcs: list[tuple[int, int, int]] = []
    for prepared in prep.pairs:
        if not prepared.slots:
            continue
        a, b = prepared.a, prepared.b
        weight = prepared.pair.weight
        forward = flow.add_arc_with_capacity_and_unit_cost(a, n + b, 1, -weight)
        backward = flow.add_arc_with_capacity_and_unit_cost(b, n + a, 1, -weight)
        pair_arcs.append((prepared.index, forward, backward))
    # Unused capacity drains straight to the sink at no cost.
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total_supply, 0)
    flow.set_node_supply(source, total_supply)
    flow.set_node_supply(sink, -total_supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"relaxation flow failed with status {status}")
    value = -flow.optimal_cost()
    picked = [index for index, fwd, bwd in pair_arcs if flow.flow(fwd) + flow.flow(bwd) >= 1]
    return value // 2, picked
