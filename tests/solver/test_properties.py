"""Property: for random small problems the engine returns a valid schedule whose
objective is recomputed exactly and never exceeds its bound or the relaxation."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.bound import relaxation_bound
from solver.engine import solve
from solver.validation import check, objective
from tests.solver.random_problems import random_problem


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(0, 10**6),
    buyers=st.integers(1, 4),
    suppliers=st.integers(1, 6),
    per_day=st.sampled_from([(3,), (5,), (2, 3)]),
    tables=st.booleans(),
    host_pairs=st.booleans(),
    current=st.booleans(),
)
def test_random_problems_give_valid_bounded_schedules(
    seed, buyers, suppliers, per_day, tables, host_pairs, current
):
    problem = random_problem(
        random.Random(seed),
        buyers=buyers,
        suppliers=suppliers,
        per_day=per_day,
        tables=tables,
        host_pairs=host_pairs,
        must_share=0.1,
        current=current,
    )
    schedule = solve(problem, time_limit=1.0, workers=1, seed=seed % 7)
    if schedule.status == "INFEASIBLE":
        assert schedule.unscheduled_must, "an infeasible answer must say why"
        assert any(p.must for p in problem.pairs) or problem.locked
        return
    assert check(problem, schedule.meetings) == []
    assert schedule.objective == objective(problem, schedule.meetings)
    assert schedule.objective <= schedule.bound <= relaxation_bound(problem)
    scheduled = {m.key for m in schedule.meetings}
    explained = {frozenset((u.a, u.b)) for u in schedule.unscheduled}
    requested = {p.key for p in problem.pairs if p.weight > 0}
    assert explained == requested - scheduled
