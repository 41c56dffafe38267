"""Compact days over the generator's whole range: how many are proven optimal, and how fast.

``python -m benchmarks.compact_range [--seeds 0-11] [--time-limits 10,30] [--workers 2]
[--repeats 1] [--out docs/benchmarks-compact.md]``

The main runner (:mod:`benchmarks.run`) compares every solver on two compact days;
this one runs matchfair alone on many (each seed draws its own size: 60–80
companies, 150–300 meetings, 10–22 slots, 12–27 tables), because whether a
compact day is proven depends far more on the day than on the solver's time. Each
time limit gets a table of its own: the limit is the organizer's choice, and a day
proven early stops there, so the time column is the time to the answer.
Every schedule is checked by :func:`solver.validation.check` and its breaks are
counted here, never taken from the solver. For each day the table gives the breaks
found, the lower bound on breaks that the solver proved (its bound turned into
breaks: every pair is a must and the bonus is fixed, so the objective is the
weights less the breaks), the part of that bound that comes from breaks single
companies cannot avoid (``solver.model.break_floor``), and the time to the answer.

With two workers the questions are raced by searches whose first answer wins, so a
day's time to its answer, and whether it comes within the limit, varies from run to
run. ``--repeats`` runs every day that many times and reports how often each was
proven, and the range of its breaks, bound and time.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.generator import generate
from benchmarks.run import proven_breaks
from solver.engine import solve
from solver.validation import breaks_per_participant, check


@dataclass(slots=True)
class Day:
    """One compact day's result."""

    seed: int
    companies: int
    meetings: int
    slots: int
    tables: int
    status: str
    breaks: int | None
    proven_breaks: int
    floor: int
    seconds: float
    valid: bool


def run_day(seed: int, time_limit: float, workers: int) -> Day:
    """Solve compact day ``seed`` and measure it."""
    problem = generate("compact", seed)
    started = time.perf_counter()
    schedule = solve(problem, time_limit=time_limit, workers=workers, seed=0)
    seconds = time.perf_counter() - started
    valid = not check(problem, schedule.meetings)
    breaks = None
    if schedule.meetings and valid:
        breaks = sum(breaks_per_participant(problem, schedule.meetings).values())
    return Day(
        seed=seed,
        companies=len(problem.participants),
        meetings=len(problem.pairs),
        slots=len(problem.slots),
        tables=len(problem.tables or ()),
        status=schedule.status,
        breaks=breaks,
        proven_breaks=proven_breaks(problem, schedule.bound),
        floor=int(schedule.stats.get("break_floor", 0)),
        seconds=seconds,
        valid=valid,
    )


def _span(values: list[float], digits: int = 0) -> str:
    """``a–b`` for the range of ``values``, one number when they are all the same."""
    low, high = min(values), max(values)
    text = f"{low:.{digits}f}"
    return text if f"{high:.{digits}f}" == text else f"{text}–{high:.{digits}f}"


def _repeated(time_limit: float, repeats: list[list[Day]]) -> list[str]:
    """One time limit's section when every day ran several times."""
    n = len(repeats)
    by_seed = list(zip(*repeats, strict=True))
    always = sum(1 for runs in by_seed if all(d.status == "OPTIMAL" for d in runs))
    ever = sum(1 for runs in by_seed if any(d.status == "OPTIMAL" for d in runs))
    proven_times = [d.seconds for runs in by_seed for d in runs if d.status == "OPTIMAL"]
    headline = (
        f"**Proven optimal in all {n} runs: {always} of {len(by_seed)} days; "
        f"in at least one run: {ever}.**"
    )
    if proven_times:
        headline += f" A proven day took at most {max(proven_times):.1f} s."
    lines = [
        f"## Time limit {time_limit:g} s",
        "",
        headline,
        "",
        "| seed | companies | meetings | slots | tables | proven in runs | breaks "
        "| proven ≥ breaks | of which single-company floors | time s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for runs in by_seed:
        d = runs[0]
        invalid = sum(1 for r in runs if not r.valid)
        found = [r.breaks for r in runs if r.valid and r.breaks is not None]
        breaks = _span(found) if found else "–"
        if invalid:
            breaks += f" (INVALID in {invalid})"
        proven = sum(1 for r in runs if r.status == "OPTIMAL")
        lines.append(
            f"| {d.seed} | {d.companies} | {d.meetings} | {d.slots} | {d.tables} "
            f"| {proven} of {n} | {breaks} | {_span([r.proven_breaks for r in runs])} "
            f"| {d.floor} | {_span([r.seconds for r in runs], 1)} |"
        )
    lines.append("")
    return lines


def report(runs: list[tuple[float, list[list[Day]]]], workers: int) -> str:
    """The Markdown page: one table per time limit (each day's runs summarised)."""
    lines = [
        "# Compact days over the generator's range",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} CPUs), matchfair with {workers} workers, by "
        "`python -m benchmarks.compact_range`. Every meeting is a must; `break_penalty` 1, "
        "`max_breaks` 2. A day proven before its time limit stops there: the time column is "
        "the time to the answer.",
        "",
    ]
    for time_limit, repeats in runs:
        if len(repeats) > 1:
            lines += _repeated(time_limit, repeats)
            continue
        days = repeats[0]
        proven = [d for d in days if d.status == "OPTIMAL"]
        lines += [
            f"## Time limit {time_limit:g} s",
            "",
            f"**{len(proven)} of {len(days)} days proven optimal**"
            + (f", each in at most {max(d.seconds for d in proven):.1f} s." if proven else "."),
            "",
            "| seed | companies | meetings | slots | tables | status | breaks | proven ≥ breaks "
            "| of which single-company floors | time s |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for d in days:
            found = "INVALID" if not d.valid else ("–" if d.breaks is None else str(d.breaks))
            lines.append(
                f"| {d.seed} | {d.companies} | {d.meetings} | {d.slots} | {d.tables} | {d.status} "
                f"| {found} | {d.proven_breaks} | {d.floor} | {d.seconds:.1f} |"
            )
        lines.append("")
    lines += [
        "A day is proven when the breaks found equal the proven lower bound. The "
        "bound starts from the floors (a company whose meetings do not fit in one run of "
        "slots it can use has a break in every schedule) and rises by one with each "
        'question "a schedule with at most k breaks?" that CP-SAT or the SAT solver '
        "racing it answers no (`solver.compact_scan`, `solver.sat_questions`); the first "
        "yes is a schedule at the bound.",
        "",
    ]
    return "\n".join(lines)


def _seeds(text: str) -> list[int]:
    if "-" in text:
        first, last = text.split("-", 1)
        return list(range(int(first), int(last) + 1))
    return [int(part) for part in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-11", help="a range 0-11 or a list 0,3,5")
    parser.add_argument("--time-limits", default="10,30", help="seconds, e.g. 10,30")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="runs of every day per limit")
    parser.add_argument("--out", default="docs/benchmarks-compact.md")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    runs = []
    for time_limit in (float(t) for t in args.time_limits.split(",")):
        repeats = []
        for repeat in range(args.repeats):
            days = []
            for seed in _seeds(args.seeds):
                day = run_day(seed, time_limit, args.workers)
                print(
                    f"{time_limit:g} s, run {repeat + 1}, seed {seed}: {day.status} "
                    f"breaks {day.breaks} proven ≥ {day.proven_breaks} (floors {day.floor}) "
                    f"{day.seconds:.1f} s",
                    flush=True,
                )
                days.append(day)
            repeats.append(days)
        runs.append((time_limit, repeats))
    Path(args.out).write_text(report(runs, args.workers), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
