"""The benchmark generator's families look like real fairs, and every baseline is valid.

The baselines are only worth comparing with if they never break a hard rule, so
each one's output goes through :func:`solver.validation.check` on small instances
of every family shape (hosts, pooled tables, two desks, repair, compact).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest

from benchmarks.baselines import first_cut_cpsat, greedy, mip_highs, slot_by_slot
from benchmarks.generator import TOKYO, generate, no_shows, repair_from
from solver.timeline import slot_days
from solver.validation import breaks_per_participant, check, objective

SMALL = {
    "fair": {"buyers": 8, "suppliers": 30},
    "pooled": {"buyers": 8, "suppliers": 20, "pooled_tables": 4},
    "expo": {"buyers": 10, "suppliers": 50, "two_desk_share": 0.4},
}
TINY = {
    "fair": {"buyers": 3, "suppliers": 8, "slots_per_day": 6},
    "pooled": {"buyers": 3, "suppliers": 8, "pooled_tables": 2, "slots_per_day": 6},
    "compact": {"companies": 10, "meetings": 14, "slots": 10, "tables": 3},
}


def test_same_seed_same_problem_and_other_seed_another() -> None:
    assert generate("fair", 3, **SMALL["fair"]) == generate("fair", 3, **SMALL["fair"])
    assert generate("fair", 3, **SMALL["fair"]) != generate("fair", 4, **SMALL["fair"])
    assert generate("compact", 1) == generate("compact", 1)


def test_days_have_a_lunch_gap_that_is_not_a_slot() -> None:
    problem = generate("expo", 0, buyers=5, suppliers=10)
    days = slot_days(problem)
    assert len(days) == 2
    for day in days:
        slots = [problem.slots[i] for i in day]
        gaps = [b.start - a.end for a, b in itertools.pairwise(slots)]
        assert gaps.count(timedelta(hours=1)) == 1  # lunch
        assert gaps.count(timedelta(0)) == len(gaps) - 1
        local = [s.start.astimezone(TOKYO) for s in slots]
        assert local[0].hour == 10 and slots[-1].end.astimezone(TOKYO).hour == 17


def test_about_18_percent_arrive_late_or_leave_early() -> None:
    problem = generate("expo", 0, suppliers=800)
    restricted = sum(p.available is not None for p in problem.participants)
    assert 0.14 < restricted / len(problem.participants) < 0.22


def test_requests_are_skewed_towards_a_few_buyers_and_some_are_declined() -> None:
    problem = generate("fair", 0)
    asked = Counter(p.a for p in problem.pairs)
    top, *_, bottom = sorted(asked.values(), reverse=True)
    assert top > 4 * max(bottom, 1)
    suppliers = sum(p.role == "supplier" for p in problem.participants)
    assert len(problem.pairs) < 5 * suppliers  # ~10% declined
    assert {p.weight for p in problem.pairs} <= set(range(3, 10))


def test_fair_buyers_host_one_table_each_and_expo_two_desks_host_two() -> None:
    fair = generate("fair", 0)
    hosts = Counter(t.host for t in fair.tables)
    buyers = {p.id for p in fair.participants if p.role == "buyer"}
    assert set(hosts) == buyers and set(hosts.values()) == {1}
    expo = generate("expo", 0, **SMALL["expo"])
    desks = Counter(t.host for t in expo.tables)
    for p in expo.participants:
        if p.role == "buyer":
            assert desks[p.id] == p.parallel
    assert any(p.parallel == 2 for p in expo.participants)


def test_pooled_has_only_pooled_tables() -> None:
    problem = generate("pooled", 0)
    assert len(problem.tables) == 21 and all(t.host is None for t in problem.tables)


def test_compact_is_all_must_with_sessions_breaks_and_tight_tables() -> None:
    problem = generate("compact", 2)
    assert 60 <= len(problem.participants) <= 80
    assert 10 <= len(problem.slots) <= 22 and 12 <= len(problem.tables) <= 27
    assert 150 <= len(problem.pairs) <= 300 and all(p.must for p in problem.pairs)
    assert problem.max_breaks == 2 and problem.break_penalty == 1
    restricted = [p for p in problem.pairs if p.slots is not None]
    assert restricted and all(
        len(p.slots) == len(problem.slots) // 2
        or len(p.slots) == len(problem.slots) - len(problem.slots) // 2
        for p in restricted
    )
    infeasible = generate("compact-infeasible", 2)
    assert infeasible.pairs == problem.pairs
    assert len(infeasible.tables) * len(infeasible.slots) < len(infeasible.pairs)


def test_repair_locks_the_past_drops_no_shows_and_keeps_the_rest_as_current() -> None:
    expo = generate("expo", 0, **SMALL["expo"])
    plan = greedy(expo)
    problem = repair_from(expo, plan, 0, no_show_share=0.1)
    absent = no_shows(problem)
    assert len(absent) == round(0.1 * len(expo.participants))
    assert problem.now == expo.slots[4].start  # a third into the 12-slot first day
    assert all(
        expo.slots[0].start <= s.start < problem.now
        for s in expo.slots
        if s.id in {m.slot for m in problem.locked}
    )
    assert all(not ({m.a, m.b} & absent) for m in problem.locked + problem.current)
    kept = len(problem.locked) + len(problem.current)
    assert kept == sum(1 for m in plan if not ({m.a, m.b} & absent)) < len(plan)
    assert problem.change_penalty > 0
    assert check(problem, list(problem.locked) + list(problem.current)) == []


@pytest.mark.parametrize("family", ["fair", "pooled", "expo", "repair"])
def test_greedy_and_slot_by_slot_are_valid(family: str) -> None:
    overrides = SMALL["expo" if family == "repair" else family]
    problem = generate(family, 1, **overrides)
    for heuristic in (greedy, slot_by_slot):
        meetings = heuristic(problem)
        assert meetings
        assert check(problem, meetings) == []


def test_heuristics_respect_max_breaks_on_compact() -> None:
    problem = generate("compact", 0)
    for heuristic in (greedy, slot_by_slot):
        meetings = heuristic(problem)
        breaks = breaks_per_participant(problem, meetings)
        assert max(breaks.values()) <= 2
        # Only must-meet pairs they could not place may be wrong (rule 5).
        assert all(e.startswith("rule 5") for e in check(problem, meetings))


def test_greedy_stays_under_the_relaxation_bound() -> None:
    bound_module = pytest.importorskip("solver.bound")
    for family in ("fair", "pooled", "expo"):
        problem = generate(family, 0, **SMALL[family])
        meetings = greedy(problem)
        assert objective(problem, meetings) <= bound_module.relaxation_bound(problem)


@pytest.mark.parametrize("family", ["fair", "pooled", "compact"])
def test_cp_sat_and_mip_model_the_spec_objective_and_agree_on_tiny_problems(family: str) -> None:
    problem = generate(family, 0, **TINY[family])
    cp = first_cut_cpsat(problem, time_limit=2, workers=1)
    mip = mip_highs(problem, time_limit=10, threads=1)  # stops early once optimal
    assert mip.status == "OPTIMAL"
    for result in (cp, mip):
        assert check(problem, result.meetings) == []
        # The model's own objective is exactly the spec's: bonus and breaks are modelled right.
        assert result.stats["model_objective"] == objective(problem, result.meetings)
    optimum = objective(problem, mip.meetings)
    assert mip.bound == pytest.approx(optimum, abs=0.999)
    assert objective(problem, cp.meetings) <= optimum <= cp.bound + 1e-6


def test_model_baselines_prove_the_table_shortage_infeasible() -> None:
    tiny = {**TINY["compact"]}
    tiny.pop("tables")
    problem = generate("compact-infeasible", 0, **tiny)
    assert first_cut_cpsat(problem, time_limit=5, workers=1).status == "INFEASIBLE"
    assert mip_highs(problem, time_limit=5, threads=1).status == "INFEASIBLE"
