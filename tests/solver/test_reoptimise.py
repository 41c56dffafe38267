"""Re-solving on the day: the past is pinned, the plan is kept where it still
holds, and only what the no-shows break is rearranged."""

from __future__ import annotations

import random
import time
from dataclasses import replace

from solver.engine import solve
from solver.problem import Problem
from solver.validation import assert_valid, meeting_key, objective
from tests.solver.random_problems import random_problem


def morning_plan(seed: int) -> tuple[Problem, list]:
    rng = random.Random(seed)
    problem = random_problem(
        rng,
        buyers=8,
        suppliers=16,
        per_day=(8,),
        density=0.4,
        pooled=6,
        must_share=0.0,
        penalties=False,
    )
    problem = replace(problem, meeting_bonus=(10, 2))
    schedule = solve(problem, time_limit=5, workers=1)
    assert_valid(problem, schedule.meetings)
    return problem, schedule.meetings


def on_the_day(problem: Problem, plan: list, no_shows: set[str], now_index: int) -> Problem:
    """The organiser's re-solve: past meetings locked, no-shows gone from now on."""
    now = problem.slots[now_index].start
    past = {s.id for s in problem.slots[:now_index]}
    participants = tuple(
        replace(p, available=frozenset(past) & (p.available or frozenset(past)))
        if p.id in no_shows
        else p
        for p in problem.participants
    )
    locked = tuple(m for m in plan if m.slot in past)
    return replace(
        problem,
        participants=participants,
        locked=locked,
        current=tuple(plan),
        change_penalty=1000,
        now=now,
    )


def test_reoptimisation_keeps_untouched_meetings_and_the_past():
    problem, plan = morning_plan(seed=7)
    involved = sorted({m.a for m in plan} | {m.b for m in plan})
    no_shows = {involved[0], involved[3]}
    again = on_the_day(problem, plan, no_shows, now_index=3)
    started = time.perf_counter()
    schedule = solve(again, time_limit=5, workers=1)
    elapsed = time.perf_counter() - started
    assert_valid(again, schedule.meetings)
    assert schedule.objective == objective(again, schedule.meetings)
    kept = {meeting_key(m) for m in schedule.meetings}
    for lock in again.locked:
        assert meeting_key(lock) in kept
    future = [m for m in plan if m.slot not in {s.id for s in problem.slots[:3]}]
    untouched = [m for m in future if not ({m.a, m.b} & no_shows)]
    assert untouched, "the scenario must leave some meetings untouched"
    for meeting in untouched:
        assert meeting_key(meeting) in kept, f"{meeting} moved although nothing forced it"
    # No-shows have nothing after now.
    for meeting in schedule.meetings:
        if {meeting.a, meeting.b} & no_shows:
            assert meeting_key(meeting) in {meeting_key(m) for m in again.locked}
    assert elapsed < 5


def test_freed_time_is_reused():
    problem, plan = morning_plan(seed=11)
    involved = sorted({m.a for m in plan} | {m.b for m in plan})
    again = on_the_day(problem, plan, {involved[1]}, now_index=2)
    # Without a change penalty the solver may rearrange freely, yet never below the
    # value of simply keeping the rest of the plan.
    free = replace(again, change_penalty=0)
    schedule = solve(free, time_limit=5, workers=1)
    assert_valid(free, schedule.meetings)
    keep_rest = [m for m in plan if m in free.locked or not ({m.a, m.b} & {involved[1]})]
    assert_valid(free, keep_rest)
    assert schedule.objective >= objective(free, keep_rest)


def test_current_meeting_at_its_table_counts_as_kept():
    problem, plan = morning_plan(seed=3)
    again = replace(problem, current=tuple(plan), change_penalty=50)
    schedule = solve(again, time_limit=5, workers=1)
    # Nothing changed: the plan is optimal and keeping every meeting costs nothing.
    assert {meeting_key(m) for m in plan} <= {meeting_key(m) for m in schedule.meetings}
    assert schedule.objective == objective(problem, plan)
