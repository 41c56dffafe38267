"""The on-the-day repair round trip: build the repair problem from the database, solve
it, compute the preview — timed as staff experience it.

``python -m benchmarks.repair_roundtrip [--cases demo,large] [--repeats 3] [--workers 2]
[--out docs/benchmarks-repair.md]``

Each case is a demo fair (:func:`scheduler.demo.generate_demo`) in a fresh SQLite file,
scheduled once by the engine and published, exactly as the organizer would. The clock
is then put at a third of the day, 5% of the participants (a seeded random sample) are marked
no-show through the staff service (which cancels their
remaining meetings), and the round trip :func:`scheduler.repair.prepare_repair` +
:func:`scheduler.repair.repair_preview` is timed. Targets (issue 6): under 3 s for the
demo fair, under 5 s for 200 buyers × 1,500 suppliers, on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from scheduler import day_operations, migrations, publishing, repair
from scheduler.db import make_engine, make_session_factory
from scheduler.demo import generate_demo
from scheduler.models import DayStatus, Event, Meeting, MeetingStatus, Phase, RunStatus, ScheduleRun
from scheduler.problem_builder import build_problem, with_defaults
from solver.engine import solve
from solver.problem_io import (
    problem_from_dict,
    problem_to_dict,
    schedule_from_dict,
    schedule_to_dict,
)
from solver.validation import check

CASES = {
    # name: (buyers, suppliers, initial solve seconds, target seconds)
    "demo": (32, 160, 20.0, 3.0),
    "large": (200, 1500, 60.0, 5.0),
}
NO_SHOW_SHARE = 0.05
NO_SHOW_SEED = 1  # which participants fail to come: a seeded sample of all


@dataclass
class Result:
    name: str
    buyers: int
    suppliers: int
    target: float
    pairs: int = 0
    meetings: int = 0
    no_shows: int = 0
    cancelled_by_no_shows: int = 0
    setup_seconds: float = 0.0
    totals: list[float] = field(default_factory=list)
    build: list[float] = field(default_factory=list)
    solve: list[float] = field(default_factory=list)
    preview: list[float] = field(default_factory=list)
    moved: int = 0
    cancelled: int = 0
    added: int = 0
    kept: int = 0
    status: str = ""
    objective: int = 0
    bound: int = 0
    valid: bool = False


class FrozenClock:
    """The one clock of the day operations and the repair, set to a moment of the day."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        for module in (day_operations, repair):
            module.utcnow = self  # type: ignore[attr-defined]

    def __call__(self) -> datetime:
        return self.moment


def publish_initial(session, event: Event, time_limit: float, workers: int) -> int:  # type: ignore[no-untyped-def]
    """Solve ``event`` and publish the schedule as the organizer would, then open the day.

    Commits; returns the number of pairs. The repair tests build their fair with it too.
    """
    parameters = with_defaults({"kind": "initial", "time_limit": time_limit})
    problem = build_problem(session, event, parameters=parameters)
    schedule = solve(problem, time_limit=time_limit, workers=workers, seed=0)
    run = ScheduleRun(
        event_id=event.id,
        kind="initial",
        status=RunStatus.SUCCEEDED,
        parameters=parameters,
        problem=problem_to_dict(problem),
        result=schedule_to_dict(schedule),
        progress=[],
        objective=schedule.objective,
        bound=schedule.bound,
    )
    session.add(run)
    session.flush()
    publishing.publish_run(session, event, run)
    event.phase = Phase.ON_THE_DAY
    session.commit()
    return len(problem.pairs)


def run_case(name: str, *, repeats: int, workers: int, directory: Path) -> Result:
    buyers, suppliers, initial_limit, target = CASES[name]
    result = Result(name, buyers, suppliers, target)
    url = f"sqlite:///{directory / (name + '.sqlite3')}"
    migrations.upgrade(url)
    session = make_session_factory(make_engine(url))()
    started = time.perf_counter()
    event = generate_demo(session, buyers=buyers, suppliers=suppliers, slug=f"bench-{name}")
    session.commit()
    result.pairs = publish_initial(session, event, initial_limit, workers)
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    third = slots[0].starts_at + (slots[-1].ends_at - slots[0].starts_at) / 3
    FrozenClock(third)  # installs itself as the clock of the day operations and repair
    active = session.scalars(
        select(Meeting).where(
            Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED
        )
    ).all()
    result.meetings = len(active)
    count = round(NO_SHOW_SHARE * (buyers + suppliers))
    everyone = sorted(p.id for p in event.participants)
    chosen = set(random.Random(NO_SHOW_SEED).sample(everyone, count))
    for participant in event.participants:
        if participant.id in chosen:
            outcome = day_operations.set_day_status(
                session, participant, DayStatus.NO_SHOW, user_id=None
            )
            result.cancelled_by_no_shows += len(outcome.meetings)
    session.commit()
    result.no_shows = len(chosen)
    result.setup_seconds = time.perf_counter() - started

    for _ in range(repeats):
        begin = time.perf_counter()
        run = repair.prepare_repair(session, event, workers=workers)
        preview = repair.repair_preview(session, event, run)
        total = time.perf_counter() - begin
        session.commit()
        result.totals.append(total)
        result.build.append(preview.timings.get("build", 0.0))
        result.solve.append(preview.timings.get("solve", 0.0))
        result.preview.append(preview.timings.get("preview", 0.0))
        result.moved, result.cancelled = len(preview.moved), len(preview.cancelled)
        result.added, result.kept = len(preview.added), len(preview.kept)
        schedule = schedule_from_dict(run.result)
        result.status = schedule.status
        result.objective, result.bound = schedule.objective, schedule.bound
        result.valid = not check(problem_from_dict(run.problem), schedule.meetings)
    session.close()
    return result


def report(results: list[Result], workers: int) -> str:
    lines = [
        "# Repair round trip (build, solve, preview)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs, shared with other work), Python {platform.python_version()}, "
        f"CP-SAT workers={workers}. Produced by `python -m benchmarks.repair_roundtrip`.",
        "",
        "Each fair is the demo generator's, scheduled once and published; the clock is put at "
        "a third of the day and 5% of the participants (a seeded random sample) are marked "
        "no-show through the staff service, which cancels their "
        "remaining meetings. The round trip is what staff wait for after pressing "
        "*Compute a new plan*: the repair problem built from the database, solved within "
        f"the {repair.ROUND_TRIP_BUDGET} s budget, and the preview computed. Every repair "
        "schedule is checked by `solver.validation.check`.",
        "",
        "| fair | pairs | meetings | no-shows (meetings cancelled) | round trip median / max (s) "
        "| build | solve | preview | target | moved | cancelled | added | kept | status "
        "(objective / bound) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        median, worst = statistics.median(r.totals), max(r.totals)
        verdict = "met" if worst <= r.target else "**missed**"
        lines.append(
            f"| {r.name} {r.buyers}×{r.suppliers} | {r.pairs} | {r.meetings} | "
            f"{r.no_shows} ({r.cancelled_by_no_shows}) | {median:.2f} / {worst:.2f} | "
            f"{statistics.median(r.build):.2f} | {statistics.median(r.solve):.2f} | "
            f"{statistics.median(r.preview):.2f} | < {r.target:.0f} s ({verdict}) | "
            f"{r.moved} | {r.cancelled} | {r.added} | {r.kept} | "
            f"{r.status}{'' if r.valid else ' INVALID'} ({r.objective} / {r.bound}) |"
        )
    lines += [
        "",
        "Set-up (generate, first schedule, no-shows) is not part of the round trip: "
        + ", ".join(f"{r.name} {r.setup_seconds:.0f} s" for r in results)
        + ". The web request adds the page rendering (a few tens of milliseconds).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="demo,large")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="docs/benchmarks-repair.md")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for name in args.cases.split(","):
            result = run_case(
                name, repeats=args.repeats, workers=args.workers, directory=Path(directory)
            )
            print(f"{name}: totals {[round(t, 2) for t in result.totals]}", file=sys.stderr)
            results.append(result)
            Path(args.out).write_text(report(results, args.workers), encoding="utf-8")
    print(report(results, args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
