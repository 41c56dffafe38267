"""``solve PROBLEM.json``: the solver on its own, from a problem file to a schedule file.

Two front doors share one function, :func:`run_solve`:

* ``python -m solver solve PROBLEM.json [-o SCHEDULE.json] ...`` (argparse, :func:`main`),
  usable with nothing but the solver package installed;
* ``matchfair solve ...`` (Click, :data:`solve_command`), which the web app attaches
  to its Flask CLI group.

Exit status: 0 when a schedule was found (optimal or not), 1 when the problem is
infeasible (the schedule file is still written and says why), 2 when the problem
file is invalid or a file cannot be read or written. An invalid file is reported
as one line, ``error: <field>: <message>``, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import click

from solver.errors import ProblemFormatError
from solver.problem import STATUS_INFEASIBLE, Schedule
from solver.problem_io import dump_json, load_problem

EXIT_FOUND = 0
EXIT_INFEASIBLE = 1
EXIT_INVALID = 2

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_WORKERS = 2
DEFAULT_SEED = 0


def run_solve(
    problem_path: str | Path,
    output: str | Path | None = None,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = DEFAULT_WORKERS,
    seed: int = DEFAULT_SEED,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Solve the problem file at ``problem_path`` and write the schedule file.

    The schedule goes to ``output`` when given, else to ``stdout``; a one-line
    summary (status, meetings, objective, bound, gap) goes to ``stderr``.
    Returns the exit status described in the module docstring.
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    try:
        problem = load_problem(problem_path)
    except ProblemFormatError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INVALID

    # Imported here so that reading and validating a file never pays for OR-Tools.
    from solver.engine import solve

    schedule = solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    try:
        dump_json(schedule, out if output is None else output)
    except OSError as exc:
        print(f"error: cannot write {output or 'stdout'}: {exc.strerror or exc}", file=err)
        return EXIT_INVALID
    print(summary(schedule), file=err)
    return EXIT_INFEASIBLE if schedule.status == STATUS_INFEASIBLE else EXIT_FOUND


def summary(schedule: Schedule) -> str:
    """One line for a person at a terminal: what was found and how good it is."""
    if schedule.status == STATUS_INFEASIBLE:
        reasons = "; ".join(_describe_unscheduled_must(item) for item in schedule.unscheduled_must)
        return f"INFEASIBLE after {schedule.solve_seconds:.1f} s: " + (
            reasons or "no schedule satisfies every hard rule"
        )
    gap = 100.0 * (schedule.bound - schedule.objective) / max(1, abs(schedule.bound))
    left_out = f", {len(schedule.unscheduled)} requested pairs left out"
    return (
        f"{schedule.status}: {len(schedule.meetings)} meetings, objective {schedule.objective}, "
        f"bound {schedule.bound}, gap {gap:.1f}% in {schedule.solve_seconds:.1f} s"
        + (left_out if schedule.unscheduled else "")
    )


def _describe_unscheduled_must(item: Mapping[str, Any]) -> str:
    """``B001–S010: no_common_slot (detail)`` from one ``unscheduled_must`` entry."""
    if "a" in item and "b" in item:
        reason, detail = item.get("reason"), item.get("detail")
        text = f"{item['a']}–{item['b']}" + (f": {reason}" if reason else "")
        return text + (f" ({detail})" if detail else "")
    return json.dumps(dict(item), ensure_ascii=False)


# ---------------------------------------------------------------------------
# python -m solver (argparse)
# ---------------------------------------------------------------------------


def _finite_seconds(value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"must be a number of seconds, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    # "nan" and "inf" parse as floats; neither is a number of seconds.
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds more than 0, not {text}")
    return value


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {text}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its "invalid ... value" message
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``python -m solver``."""
    parser = argparse.ArgumentParser(
        prog="python -m solver",
        description="matchfair's meeting scheduler, without the web app or a database.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    solve = commands.add_parser(
        "solve",
        help="solve a problem file and write a schedule file",
        description="Solve PROBLEM (a matchfair-problem/1 JSON file). Exit status: 0 schedule "
        "found, 1 infeasible (the schedule file says why), 2 invalid file.",
    )
    solve.add_argument("problem", metavar="PROBLEM.json", help="the problem file")
    solve.add_argument(
        "-o", "--output", metavar="SCHEDULE.json", help="write the schedule here (default: stdout)"
    )
    solve.add_argument(
        "--time-limit",
        type=_positive_float,
        default=DEFAULT_TIME_LIMIT,
        metavar="S",
        help=f"stop searching after S seconds (default {DEFAULT_TIME_LIMIT:g})",
    )
    solve.add_argument(
        "--workers",
        type=_at_least(1),
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"CP-SAT search workers (default {DEFAULT_WORKERS}; 1 gives reproducible runs)",
    )
    solve.add_argument(
        "--seed",
        type=_at_least(0),
        default=DEFAULT_SEED,
        metavar="N",
        help=f"random seed, for repeatable runs (default {DEFAULT_SEED})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m solver`` with ``argv`` (default: the process's) and return the status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    return run_solve(
        args.problem,
        args.output,
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
    )


# ---------------------------------------------------------------------------
# matchfair solve (Click)
# ---------------------------------------------------------------------------


@click.command("solve")
@click.argument("problem", metavar="PROBLEM.json", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    metavar="SCHEDULE.json",
    type=click.Path(dir_okay=False),
    help="Write the schedule here (default: stdout).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    callback=lambda _ctx, _param, value: _finite_seconds(value),
    default=DEFAULT_TIME_LIMIT,
    show_default=True,
    help="Stop searching after this many seconds.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="CP-SAT search workers.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed, for repeatable runs.",
)
@click.pass_context
def solve_command(
    ctx: click.Context,
    problem: str,
    output: str | None,
    time_limit: float,
    workers: int,
    seed: int,
) -> None:
    """Solve a problem file (no database needed).

    Exit status: 0 schedule found, 1 infeasible (the schedule file says why),
    2 invalid file.
    """
    ctx.exit(
        run_solve(
            problem,
            output,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
        )
    )
