"""Cross-check matchfair against HiGHS's proven optima on small instances of every family.

``python -m benchmarks.crosscheck [--seeds 4] [--size tiny|small|tight] [--time-limit 3]``

For each instance it solves with :func:`solver.engine.solve` and with the
time-indexed MIP (:func:`benchmarks.time_indexed.mip_highs`) and flags what would be
a solver bug or a missed target: an invalid schedule, an ``objective`` field that
differs from the recomputed one, a bound below a proven optimum, OPTIMAL claimed
at a value other than the proven optimum, infeasibility claimed or missed against
the MIP, or an objective short of a proven optimum. Exit status 1 when anything
is flagged.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.generator import generate
from benchmarks.time_indexed import mip_highs
from solver.problem import Problem
from solver.validation import check, objective

SIZES: dict[str, list[tuple[str, dict]]] = {
    "tiny": [
        ("fair", {"buyers": 4, "suppliers": 12, "slots_per_day": 6}),
        ("pooled", {"buyers": 4, "suppliers": 10, "pooled_tables": 2, "slots_per_day": 6}),
        ("expo", {"buyers": 4, "suppliers": 14, "two_desk_share": 0.5, "slots_per_day": 6}),
        ("compact", {"companies": 10, "meetings": 14, "slots": 10, "tables": 3}),
        (
            "repair",
            {
                "buyers": 4,
                "suppliers": 14,
                "two_desk_share": 0.5,
                "slots_per_day": 6,
                "no_show_share": 0.1,
            },
        ),
    ],
    "small": [
        ("fair", {"buyers": 8, "suppliers": 30}),
        ("pooled", {"buyers": 8, "suppliers": 25, "pooled_tables": 5, "slots_per_day": 9}),
        ("expo", {"buyers": 8, "suppliers": 40, "two_desk_share": 0.3}),
        ("compact", {"companies": 20, "meetings": 40, "slots": 10, "tables": 6}),
        ("repair", {"buyers": 8, "suppliers": 40, "two_desk_share": 0.3, "no_show_share": 0.1}),
    ],
    # Compact days whose tables force breaks (2 to 6 of them), small enough for HiGHS
    # to prove the optimum: the check for the breaks matchfair proves by its questions.
    "tight": [
        ("compact", {"companies": 14, "meetings": 24, "slots": 8, "tables": 3}),
        ("compact", {"companies": 14, "meetings": 26, "slots": 8, "tables": 4}),
    ],
}


def crosscheck(problem: Problem, *, time_limit: float, mip_limit: float) -> tuple[str, list[str]]:
    """One summary line and the list of findings (empty when all is well)."""
    from solver.engine import solve

    started = time.perf_counter()
    schedule = solve(problem, time_limit=time_limit, workers=1, seed=0)
    seconds = time.perf_counter() - started
    mip = mip_highs(problem, time_limit=mip_limit, threads=1)
    findings: list[str] = []
    value = None
    if schedule.status != "INFEASIBLE":
        errors = check(problem, schedule.meetings)
        value = objective(problem, schedule.meetings)
        if errors:
            findings.append(f"invalid schedule: {errors[0]}")
        if value != schedule.objective:
            findings.append(f"objective field {schedule.objective} != recomputed {value}")
    optimum = objective(problem, mip.meetings) if mip.status == "OPTIMAL" else None
    if optimum is not None:
        if schedule.status == "INFEASIBLE":
            findings.append(f"claims INFEASIBLE, but HiGHS proved optimum {optimum}")
        elif schedule.bound < optimum:
            findings.append(f"bound {schedule.bound} below the proven optimum {optimum}")
        elif schedule.status == "OPTIMAL" and value != optimum:
            findings.append(f"claims OPTIMAL at {value}, proven optimum {optimum}")
        elif value is not None and value < optimum:
            findings.append(f"objective {value} short of the proven optimum {optimum}")
    if mip.status == "INFEASIBLE" and schedule.status != "INFEASIBLE":
        findings.append("HiGHS proved infeasibility, matchfair did not")
    line = (
        f"matchfair {schedule.status} {value} (bound {schedule.bound}, {seconds:.1f} s) | "
        f"HiGHS {mip.status} {optimum if optimum is not None else '–'}"
    )
    return line, findings


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crosscheck", description=__doc__)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--time-limit", type=float, default=3.0, help="matchfair's, seconds")
    parser.add_argument("--mip-limit", type=float, default=30.0, help="HiGHS's, seconds")
    args = parser.parse_args(argv)
    flagged = 0
    for seed in range(args.seeds):
        for family, overrides in SIZES[args.size]:
            problem = generate(family, seed, **overrides)
            line, findings = crosscheck(
                problem, time_limit=args.time_limit, mip_limit=args.mip_limit
            )
            flagged += bool(findings)
            print(f"{family} seed {seed}: {line} | {'; '.join(findings) or 'ok'}", flush=True)
    print(f"{flagged} instance(s) flagged")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
