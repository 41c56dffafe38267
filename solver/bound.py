"""An upper bound on the objective from a min-cost-flow relaxation.

Why it is valid. Drop every rule that only removes schedules — slots and their
clashes, tables, must pairs, locks, ``max_breaks`` — and every term that only
lowers the objective — break and change penalties, both ``>= 0``. What is left is
a maximum-value b-matching: choose pairs (each at most once and only if it has
a feasible slot at all), each participant in at most ``cap(p)`` of them, where
``cap(p) = min(max_meetings, usable slots × per-slot limit)`` (under
``max_breaks``, only as many slots as it can be busy in within the cap — see
:meth:`Prepared.usable_capacity`; every valid schedule obeys that), valued by
weights plus each participant's concave bonus. Any valid schedule is such a
matching with at least the same value, so the matching's optimum bounds the
objective from above.

One penalty is certain and is subtracted: a ``current`` meeting whose pair can
no longer meet in its slot at its table (a no-show, ``now``, a lock elsewhere)
costs ``change_penalty`` in every valid schedule.

Pairs may join any two participants (suppliers meeting suppliers), so the graph
need not be bipartite. The bipartite *double cover* solves that: each
participant appears on a left side (source → p_L) and a right side (p_R → sink),
each with its bonus as parallel unit arcs of cost ``-bonus[k]``, and a pair
``{a, b}`` becomes two arcs ``a_L → b_R`` and ``b_L → a_R`` of cost ``-weight``.
A schedule of value V maps to a flow of cost ``-2V`` (every meeting both ways,
every participant's degree on both sides), so ``floor(-min_cost / 2)`` is an
upper bound. When the pair graph is bipartite (buyers meet suppliers only) the
double cover would be two copies of it, so one copy is solved and doubled: the
same bound, and one consistent optimal matching. Because the bonus is
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
    bound, _, _ = flow_matching(prep)
    return bound


def flow_matching(prep: Prepared) -> tuple[int, list[int], list[int]]:
    """The bound, the pairs the relaxation uses, and a consistent matching among them.

    The double cover may use a pair in one direction only (two optimal matchings
    overlaid); the *matching* keeps the pairs used both ways and adds one-way
    pairs by descending weight while both sides have room, so no participant
    gets more pairs than it can hold.

    When pooled tables are scarce, the pooled-table capacity (meetings of two
    non-hosts ≤ pooled tables × slots they can use) is added. When every meeting
    needs a pooled table it is one more arc through which all flow passes: still
    a min-cost flow, never looser than a Lagrangian bound (exact for a bipartite
    pair graph), and its matching fills the tables. Otherwise it is added by Lagrangian
    relaxation: every such meeting pays ``λ >= 0`` and ``λ × capacity`` is added
    back. For every valid schedule this only raises the value, so each ``λ``
    gives a valid bound; the smallest ``λ`` that brings the pooled meetings
    within capacity is found by bisection and the better of it and its
    neighbour is kept.
    """
    bound, used = _matching_bound(prep)
    bound -= prep.problem.change_penalty * unkeepable_current(prep)
    return bound, sorted(i for i, _ in used), _consistent_matching(prep, used)


def _consistent_matching(prep: Prepared, used: list[tuple[int, int]]) -> list[int]:
    degree = [0] * len(prep.participant_ids)
    chosen = []
    both = [i for i, ways in used if ways == 2]
    one_way = sorted(
        (i for i, ways in used if ways == 1), key=lambda i: (-prep.pairs[i].pair.weight, i)
    )
    for i in both + one_way:
        a, b = prep.pairs[i].a, prep.pairs[i].b
        if i in both or (
            degree[a] < prep.usable_capacity(a) and degree[b] < prep.usable_capacity(b)
        ):
            degree[a] += 1
            degree[b] += 1
            chosen.append(i)
    return sorted(chosen)


def unkeepable_current(prep: Prepared) -> int:
    """``current`` meetings no valid schedule can keep (their change penalty is certain).

    A current meeting is kept only with the same pair, slot and table, so it is
    lost for sure when its pair cannot meet in that slot any more (availability,
    ``now``, a lock elsewhere) or its table is not one the pair may use.
    """
    lost = 0
    for meeting in prep.problem.current:
        pair_index = prep.pair_index.get(meeting.key)
        slot = prep.slot_index.get(meeting.slot)
        if pair_index is None or slot is None or slot not in prep.pairs[pair_index].slots:
            lost += 1
            continue
        prepared = prep.pairs[pair_index]
        lock = prepared.locked
        if lock is not None:
            # A locked pair is fixed (its soundness is checked before): kept if it is this.
            lost += (lock.slot, lock.table) != (meeting.slot, meeting.table)
        elif not _table_allowed(prep, prepared.a, prepared.b, meeting.table):
            lost += 1
    return lost


def _table_allowed(prep: Prepared, a: int, b: int, table: str | None) -> bool:
    if not prep.has_tables:
        return table is None
    if table not in prep.table_host:
        return False
    host = prep.table_host[table]
    hosts = [who for who in (a, b) if prep.is_host(who)]
    return host in hosts if host is not None else not hosts


def _matching_bound(prep: Prepared) -> tuple[int, list[tuple[int, int]]]:
    """The (Lagrangian) b-matching bound, before certain change penalties."""
    pooled_capacity = _pooled_capacity(prep)
    sides = _bipartition(prep)
    value, picked, pooled_used = _solve_flow(prep, 0, sides)
    best = (value // 2, picked)
    if pooled_capacity is None or pooled_used <= 2 * pooled_capacity:
        return best
    if all(_is_pooled(prep, p.index) for p in prep.pairs if p.slots):
        # Every meeting needs a pooled table: one arc of that capacity carries all
        # the flow, and the capped flow is the exact (bipartite) or a valid (double
        # cover) optimum, with a matching that fills the tables.
        limit = pooled_capacity if sides is not None else 2 * pooled_capacity
        value, picked, _ = _solve_flow(prep, 0, sides, limit)
        return value // 2, picked
    low, high = 0, 2 * _largest_gain(prep) + 1
    # P(λ) (pooled meetings used) falls as λ grows; at ``high`` no pooled pair pays.
    while high - low > 1:
        middle = (low + high) // 2
        _, _, used = _solve_flow(prep, middle, sides)
        if used <= 2 * pooled_capacity:
            high = middle
        else:
            low = middle
    for penalty in sorted({low, high}):
        value, picked, _ = _solve_flow(prep, penalty, sides)
        bound = (value + 2 * penalty * pooled_capacity) // 2
        if bound < best[0] or (bound == best[0] and penalty == high):
            best = (bound, picked)
    return best


def _pooled_capacity(prep: Prepared) -> int | None:
    """Pooled tables × slots any two-non-host pair can use (None: not a constraint)."""
    if not prep.has_tables:
        return None
    slots: set[int] = set()
    for prepared in prep.pairs:
        if not prep.table_hosts(prepared.index):
            slots.update(prepared.slots)
    return len(prep.pooled_tables) * len(slots)


def _is_pooled(prep: Prepared, pair_index: int) -> bool:
    return prep.has_tables and not prep.table_hosts(pair_index)


def _largest_gain(prep: Prepared) -> int:
    """An upper bound on what one meeting can add: weight plus two first bonuses."""
    top_bonus = max([0, *prep.problem.meeting_bonus])
    top_weight = max([0, *(p.pair.weight for p in prep.pairs)])
    return top_weight + 2 * top_bonus


def _bipartition(prep: Prepared) -> list[int] | None:
    """A side (0/1) per participant so every usable pair joins both sides, if one exists."""
    side = [-1] * len(prep.participant_ids)
    for root in range(len(side)):
        if side[root] != -1:
            continue
        side[root] = 0
        stack = [root]
        while stack:
            who = stack.pop()
            for pair_index in prep.pairs_of[who]:
                if not prep.pairs[pair_index].slots:
                    continue
                other = prep.other(pair_index, who)
                if side[other] == -1:
                    side[other] = 1 - side[who]
                    stack.append(other)
                elif side[other] == side[who]:
                    return None
    return side


def _solve_flow(
    prep: Prepared, pooled_penalty: int, sides: list[int] | None, limit: int | None = None
) -> tuple[int, list[tuple[int, int]], int]:
    """Double-cover flow value (2× the matching value), (pair, ways used), pooled arcs used.

    With ``sides`` (a bipartite pair graph) one copy suffices: participants of side
    0 only on the left, side 1 only on the right; the result is scaled to match.
    """
    problem = prep.problem
    n = len(prep.participant_ids)
    source, sink = 2 * n, 2 * n + 1
    bonus = list(problem.meeting_bonus)
    flow = min_cost_flow.SimpleMinCostFlow()
    # With ``limit`` every meeting's flow passes one arc of that capacity (hub).
    hub = 2 * n + 2 if limit is not None else source
    total_supply = 0
    for participant in range(n):
        cap = prep.usable_capacity(participant)
        if cap <= 0:
            continue
        total_supply += cap
        left, right = participant, n + participant
        on_left = sides is None or sides[participant] == 0
        on_right = sides is None or sides[participant] == 1
        for k in range(min(cap, len(bonus))):
            if on_left:
                flow.add_arc_with_capacity_and_unit_cost(hub, left, 1, -bonus[k])
            if on_right:
                flow.add_arc_with_capacity_and_unit_cost(right, sink, 1, -bonus[k])
        rest = cap - min(cap, len(bonus))
        if rest > 0:
            if on_left:
                flow.add_arc_with_capacity_and_unit_cost(hub, left, rest, 0)
            if on_right:
                flow.add_arc_with_capacity_and_unit_cost(right, sink, rest, 0)
    pair_arcs: list[tuple[int, int, int, bool]] = []
    forced_arcs: list[int] = []
    reward = _forcing_reward(prep, pooled_penalty)
    for prepared in prep.pairs:
        if not prepared.slots:
            continue
        a, b = prepared.a, prepared.b
        pooled = _is_pooled(prep, prepared.index)
        cost = -prepared.pair.weight + (pooled_penalty if pooled else 0)
        forced = _in_every_schedule(prepared)
        if forced:
            cost -= reward
        if sides is not None:
            a, b = (a, b) if sides[a] == 0 else (b, a)
            arc = flow.add_arc_with_capacity_and_unit_cost(a, n + b, 1, cost)
            pair_arcs.append((prepared.index, arc, arc, pooled))  # counted twice below
            forced_arcs += [arc] if forced else []
            continue
        forward = flow.add_arc_with_capacity_and_unit_cost(a, n + b, 1, cost)
        backward = flow.add_arc_with_capacity_and_unit_cost(b, n + a, 1, cost)
        pair_arcs.append((prepared.index, forward, backward, pooled))
        forced_arcs += [forward, backward] if forced else []
    # Unused capacity drains straight to the sink at no cost.
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total_supply, 0)
    if limit is not None:
        flow.add_arc_with_capacity_and_unit_cost(source, hub, limit, 0)
    flow.set_node_supply(source, total_supply)
    flow.set_node_supply(sink, -total_supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"relaxation flow failed with status {status}")
    picked = []
    pooled_used = 0
    for index, forward, backward, pooled in pair_arcs:
        used = flow.flow(forward) + flow.flow(backward)
        if used:
            picked.append((index, used))
            if pooled:
                pooled_used += used
    value = -flow.optimal_cost() - reward * sum(flow.flow(arc) for arc in forced_arcs)
    return (2 * value if sides is not None else value), picked, pooled_used


def _in_every_schedule(prepared: object) -> bool:
    """A must or locked pair: every valid schedule holds it."""
    return bool(prepared.pair.must or prepared.locked is not None)  # type: ignore[attr-defined]


def _forcing_reward(prep: Prepared, pooled_penalty: int) -> int:
    """A reward per arc of a pair every valid schedule holds (must, locked), larger
    than any value a flow can have otherwise.

    Dropping must pairs and locks from the relaxation keeps it valid but loose: its
    matching may leave a must pair out for better ones, and a schedule, which must
    hold it, then never meets the bound. With the reward the flow holds every such
    pair it can (a flow holding one fewer loses more than all other arcs are worth),
    and among those it is the best; the reward is taken off again. Every valid
    schedule is a matching holding them all, so the bound stays valid; where no
    matching holds them all there is no valid schedule to bound.
    """
    if not any(_in_every_schedule(p) for p in prep.pairs if p.slots):
        return 0
    bonus = sum(max(0, b) for b in prep.problem.meeting_bonus)
    arcs = sum(abs(p.pair.weight) + pooled_penalty for p in prep.pairs if p.slots)
    return 2 * (arcs + bonus * len(prep.participant_ids)) + 1
