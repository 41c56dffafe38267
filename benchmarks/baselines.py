"""The baselines matchfair must beat: what an organiser or practitioner would try first.

* :func:`greedy` — pairs by descending weight (must-meet pairs first), each in the
  earliest slot and at the first table where it fits.
* :func:`slot_by_slot` — the published heuristic of Huang, Zhang and Alexander
  (2012): slots in time order, in each a maximum-weight matching on the pairs not
  yet met among the participants still free.
* :func:`benchmarks.time_indexed.first_cut_cpsat` and
  :func:`benchmarks.time_indexed.mip_highs` — the textbook time-indexed model, one
  Boolean per (pair, slot, table), on CP-SAT and on HiGHS.

The constructive baselines honour every hard rule through :class:`benchmarks.board.Board`
and start from the ``locked`` meetings; on a repair problem greedy also keeps the
``current`` plan first (an organiser fills the holes, they do not reshuffle), and
slot-by-slot rewards keeping a current meeting by the change penalty it avoids.
Their output is checked by :func:`solver.validation.check` in the runner like
everyone else's; a must-meet pair they cannot place makes their schedule invalid.
"""

from __future__ import annotations

from collections import deque

from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

from benchmarks.board import Board
from benchmarks.time_indexed import ModelResult, first_cut_cpsat, mip_highs
from solver.problem import Meeting, Pair, Problem

__all__ = ["ModelResult", "first_cut_cpsat", "greedy", "mip_highs", "slot_by_slot"]

# A must-meet pair outranks any wish: its edge is worth more than every weight and
# bonus of a slot together.
MUST_BOOST = 1_000_000


def _start(problem: Problem) -> Board:
    board = Board(problem)
    for lock in problem.locked:
        board.place(lock)
    return board


def greedy(problem: Problem) -> list[Meeting]:
    """Pairs by descending weight, each in the earliest slot and table where it fits."""
    board = _start(problem)
    pairs = {p.key: p for p in problem.pairs}
    for kept in problem.current:
        pair = pairs.get(kept.key)
        if pair is not None and board.may_meet(pair, kept.slot):
            table = board.table_for(pair, kept.slot, kept.table)
            if table == kept.table:
                board.place(kept)
    slot_ids = [s.id for s in problem.slots]
    for pair in sorted(problem.pairs, key=lambda p: (not p.must, -p.weight, p.a, p.b)):
        if pair.key in board.met:
            continue
        for slot in slot_ids:
            if not board.may_meet(pair, slot):
                continue
            table = board.table_for(pair, slot)
            if table is not False:
                board.place(Meeting(pair.a, pair.b, slot, table))  # type: ignore[arg-type]
                break
    return board.meetings


def _two_sides(problem: Problem) -> tuple[set[str], set[str]] | None:
    """A bipartition of the pair graph, or None when some pairs close an odd cycle."""
    neighbours: dict[str, list[str]] = {p.id: [] for p in problem.participants}
    for pair in problem.pairs:
        neighbours[pair.a].append(pair.b)
        neighbours[pair.b].append(pair.a)
    side: dict[str, int] = {}
    for root in neighbours:
        if root in side:
            continue
        side[root] = 0
        queue = deque([root])
        while queue:
            who = queue.popleft()
            for other in neighbours[who]:
                if other not in side:
                    side[other] = 1 - side[who]
                    queue.append(other)
                elif side[other] == side[who]:
                    return None
    left = {who for who, s in side.items() if s == 0}
    return left, set(side) - left


def slot_by_slot(problem: Problem, *, matching_seconds: float = 10.0) -> list[Meeting]:
    """Huang, Zhang & Alexander (2012): a maximum-weight matching per slot, in time order.

    An edge's value is what the meeting adds to the objective given the slots
    already filled: the pair's weight, both participants' next meeting bonus, the
    change penalty it avoids when it keeps a ``current`` meeting, minus the break
    penalty of any break it opens; edges that would exceed ``max_breaks`` are left
    out, and must-meet pairs are boosted above everything else. On a bipartite
    problem whose hosts are all on one side the matching is a min-cost flow
    (exact and fast); otherwise it is a small CP-SAT model per slot.
    """
    board = _start(problem)
    sides = _two_sides(problem)
    use_flow = False
    if sides is not None:
        left, right = sides
        if any(who in board.hosted for who in right):
            left, right = right, left
        use_flow = not any(who in board.hosted for who in right)
    current = {(m.key, m.slot): m.table for m in problem.current}
    bonus = problem.meeting_bonus
    for slot in problem.slots:
        if slot.id not in board.open_slots:
            continue
        edges: list[tuple[Pair, int]] = []
        for pair in problem.pairs:
            if not board.may_meet(pair, slot.id):
                continue
            value = pair.weight
            for who in (pair.a, pair.b):
                k = board.total[who]
                value += bonus[k] if k < len(bonus) else 0
                value -= problem.break_penalty * board.breaks_added(who, slot.id)
            if (pair.key, slot.id) in current:
                value += problem.change_penalty
            if pair.must:
                value += MUST_BOOST
            if value > 0:
                edges.append((pair, value))
        if not edges:
            continue
        if use_flow:
            chosen = _matching_by_flow(board, slot.id, edges, left)
        else:
            chosen = _matching_by_cpsat(board, slot.id, edges, matching_seconds)
        for pair in chosen:
            table = board.table_for(pair, slot.id, current.get((pair.key, slot.id)))
            if table is not False:
                board.place(Meeting(pair.a, pair.b, slot.id, table))  # type: ignore[arg-type]
    return board.meetings


def _matching_by_flow(
    board: Board, slot: str, edges: list[tuple[Pair, int]], left: set[str]
) -> list[Pair]:
    """Maximum-weight b-matching as a min-cost flow (capacities: parallel, tables).

    source → [pool →] left participant → right participant → sink, with a free
    source → sink bypass so that flow is only sent along profitable edges. Pooled
    tables cap the meetings of non-host left participants through the pool node.
    """
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink, pool = 0, 1, 2
    node: dict[str, int] = {}

    def node_of(who: str) -> int:
        if who not in node:
            node[who] = len(node) + 3
        return node[who]

    supply = 0
    pair_arcs = []
    for pair, value in edges:
        a, b = (pair.a, pair.b) if pair.a in left else (pair.b, pair.a)
        arc = flow.add_arc_with_capacity_and_unit_cost(node_of(a), node_of(b), 1, -value)
        pair_arcs.append((arc, pair))
    for who, n in node.items():
        capacity = board.slot_capacity(who, slot)
        if who in left:
            supply += capacity
            hub = source if who in board.hosted or board.unlimited_tables else pool
            flow.add_arc_with_capacity_and_unit_cost(hub, n, capacity, 0)
        else:
            flow.add_arc_with_capacity_and_unit_cost(n, sink, capacity, 0)
    flow.add_arc_with_capacity_and_unit_cost(source, pool, len(board.free_pooled(slot)), 0)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, supply, 0)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed in slot {slot} (status {status})")
    return [pair for arc, pair in pair_arcs if flow.flow(arc) > 0]


def _matching_by_cpsat(
    board: Board, slot: str, edges: list[tuple[Pair, int]], seconds: float
) -> list[Pair]:
    """Maximum-weight matching on a general graph, with host and pooled table limits."""
    model = cp_model.CpModel()
    chosen = [model.new_bool_var(f"{p.a}-{p.b}") for p, _ in edges]
    by_participant: dict[str, list] = {}
    by_host: dict[str, list] = {}
    pooled = []
    for var, (pair, _) in zip(chosen, edges, strict=True):
        for who in (pair.a, pair.b):
            by_participant.setdefault(who, []).append(var)
        hosts = [who for who in (pair.a, pair.b) if who in board.hosted]
        for host in hosts:
            # A meeting of two hosts is charged to both: conservative, always placeable.
            by_host.setdefault(host, []).append(var)
        if not hosts:
            pooled.append(var)
    for who, vars_ in by_participant.items():
        model.add(sum(vars_) <= board.slot_capacity(who, slot))
    for host, vars_ in by_host.items():
        model.add(sum(vars_) <= len(board.free_hosted(host, slot)))
    if not board.unlimited_tables:
        model.add(sum(pooled) <= len(board.free_pooled(slot)))
    model.maximize(sum(v * value for v, (_, value) in zip(chosen, edges, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return []
    return [pair for var, (pair, _) in zip(chosen, edges, strict=True) if solver.value(var)]
