"""The runner measures each solver in its own process and trusts no solver's own numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import compact_range
from benchmarks.baselines import greedy
from benchmarks.generator import generate
from benchmarks.run import DISCUSSION_MARKER, Instance, Run, measure, write_markdown
from solver.problem import Meeting
from solver.validation import objective


def test_measure_validates_and_scores_the_schedule_of_a_spawned_run() -> None:
    problem = generate("fair", 0, buyers=4, suppliers=12)
    run = measure("greedy", problem, limit=5, workers=1, seed=0)
    assert run.status == "DONE" and run.valid
    assert run.objective == objective(problem, greedy(problem))
    assert run.peak_mb is not None and run.peak_mb > 10  # an interpreter, at least
    assert run.seconds is not None and run.seconds < 5


def test_an_invalid_schedule_is_reported_and_not_scored_against_the_bound(tmp_path: Path) -> None:
    problem = generate("fair", 0, buyers=4, suppliers=12)
    pair = problem.pairs[0]
    clash = [Meeting(pair.a, pair.b, problem.slots[0].id, None)]  # fair tables are hosted
    instance = Instance("fair", "fair", problem, relaxation=100, relaxation_seconds=0.0)
    instance.runs.append(
        Run(
            "broken",
            seconds=0.1,
            objective=999,
            status="DONE",
            meetings=clash,
            valid=False,
            notes=["INVALID: 1 violations"],
        )
    )
    out = tmp_path / "bench.md"
    out.write_text(f"old tables\n{DISCUSSION_MARKER}\nHand-written discussion.\n")
    args = argparse.Namespace(workers=2, seed=0, solver_version="abc1234")
    write_markdown(out, [instance], args, elapsed=1.0)
    text = out.read_text()
    assert "old tables" not in text and "Hand-written discussion." in text
    row = next(line for line in text.splitlines() if line.startswith("| broken"))
    assert "999" in row and "999.00%" not in row and "INVALID" in row


def test_crosscheck_agrees_with_the_mip_on_a_tiny_fair() -> None:
    from benchmarks.crosscheck import crosscheck

    problem = generate("fair", 0, buyers=4, suppliers=12, slots_per_day=6)
    line, findings = crosscheck(problem, time_limit=3, mip_limit=10)
    assert findings == [], line
    assert "HiGHS OPTIMAL" in line


def test_compact_range_counts_breaks_itself_and_reports_each_day(tmp_path: Path) -> None:
    out = tmp_path / "compact.md"
    assert (
        compact_range.main(
            ["--seeds", "5", "--time-limits", "3", "--workers", "1", "--out", str(out)]
        )
        == 0
    )
    day = compact_range.run_day(5, 3, 1)
    assert day.valid and day.breaks is not None
    # Seed 5 has two companies that cannot avoid a break: the floor is part of the bound.
    assert day.floor == 2
    assert day.breaks >= day.proven_breaks >= day.floor
    text = out.read_text(encoding="utf-8")
    assert f"| 5 | {day.companies} | {day.meetings} | {day.slots} | {day.tables} |" in text
    assert "## Time limit 3 s" in text and "of 1 days proven optimal" in text


def test_compact_range_repeats_report_how_often_each_day_was_proven() -> None:
    def day(seed: int, status: str, breaks: int, proven: int, seconds: float) -> compact_range.Day:
        return compact_range.Day(
            seed=seed,
            companies=61,
            meetings=293,
            slots=19,
            tables=20,
            status=status,
            breaks=breaks,
            proven_breaks=proven,
            floor=0,
            seconds=seconds,
            valid=True,
        )

    first = [day(3, "OPTIMAL", 4, 4, 6.3), day(5, "OPTIMAL", 3, 3, 0.9)]
    second = [day(3, "FEASIBLE", 7, 4, 10.0), day(5, "OPTIMAL", 3, 3, 1.2)]
    text = compact_range.report([(10.0, [first, second])], workers=2)
    assert "**Proven optimal in all 2 runs: 1 of 2 days; in at least one run: 2.**" in text
    assert "A proven day took at most 6.3 s." in text  # the open run's 10 s is no proof
    assert "| 3 | 61 | 293 | 19 | 20 | 1 of 2 | 4–7 | 4 | 0 | 6.3–10.0 |" in text
    assert "| 5 | 61 | 293 | 19 | 20 | 2 of 2 | 3 | 3 | 0 | 0.9–1.2 |" in text
