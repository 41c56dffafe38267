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
import io
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import click

from solver import work
from solver.errors import ProblemFormatError
from solver.problem import STATUS_INFEASIBLE, Schedule
from solver.problem_io import dump_json, load_problem
from solver.wording import counted

EXIT_FOUND = 0
EXIT_INFEASIBLE = 1
EXIT_INVALID = 2

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_WORKERS = 2
DEFAULT_SEED = 0
# CP-SAT takes 32-bit seeds and worker counts; far more workers than cores only slow
# every search down, and each one is a thread (and, racing questions, a solver).
MAX_SEED = work.SEEDS - 1
MAX_WORKERS = 256

# The summary is one line: it lists this many findings of an infeasible problem at
# most, and of a finding shared by many pairs (the same reason and detail) this many.
SUMMARY_FINDINGS = 5
SUMMARY_NAMES = 3


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
    # With stderr closed (2>&-) sys.stderr is None, and print(file=None) would put the
    # summary on stdout, into the schedule file: say nothing instead.
    err = (sys.stderr if stderr is None else stderr) or io.StringIO()
    # Checked before solving: a run of minutes must not end in "cannot write".
    if output is not None and not str(output):
        print("error: --output: the file name is empty", file=err)
        return EXIT_INVALID
    if output is None and out is None:  # stdout closed (>&-)
        print("error: cannot write the schedule to stdout: it is closed", file=err)
        return EXIT_INVALID
    try:
        problem = load_problem(problem_path)
    except ProblemFormatError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INVALID

    # Imported here so that reading and validating a file never pays for OR-Tools.
    from solver.engine import solve

    schedule = solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    try:
        if output is None:
            dump_json(schedule, out)
            out.flush()  # a full disk or a closed pipe shows here, not at exit
        else:
            dump_json(schedule, output)
    except OSError as exc:
        if output is None and out is sys.stdout:
            _discard_stdout()
        print(f"error: cannot write {output or 'stdout'}: {exc.strerror or exc}", file=err)
        return EXIT_INVALID
    print(summary(schedule), file=err)
    return EXIT_INFEASIBLE if schedule.status == STATUS_INFEASIBLE else EXIT_FOUND


def _discard_stdout() -> None:
    """Point stdout at /dev/null after a failed write, so that Python's flush at exit
    does not fail again with a second message (as the Python docs advise for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a real file (a test's buffer): nothing will flush it at exit


def summary(schedule: Schedule) -> str:
    """One line for a person at a terminal: what was found and how good it is.

    For an infeasible problem it lists the findings, each said once for all the pairs
    that share it, and at most :data:`SUMMARY_FINDINGS` of them: the schedule file has
    every one.
    """
    if schedule.status == STATUS_INFEASIBLE:
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for item in schedule.unscheduled_must:
            key = (str(item.get("reason") or ""), str(item.get("detail") or ""))
            groups.setdefault(key, []).append(item)
        said = [_describe_findings(items) for items in groups.values()]
        if len(said) > SUMMARY_FINDINGS:
            more = counted(len(said) - SUMMARY_FINDINGS, "more finding")
            said = [*said[:SUMMARY_FINDINGS], f"and {more} in unscheduled_must"]
        return f"INFEASIBLE after {schedule.solve_seconds:.1f} s: " + (
            "; ".join(said) or "no schedule satisfies every hard rule"
        )
    gap = 100.0 * (schedule.bound - schedule.objective) / max(1, abs(schedule.bound))
    left_out = f", {counted(len(schedule.unscheduled), 'requested pair')} left out"
    return (
        f"{schedule.status}: {counted(len(schedule.meetings), 'meeting')}, "
        f"objective {schedule.objective}, bound {schedule.bound}, "
        f"gap {gap:.1f}% in {schedule.solve_seconds:.1f} s"
        + (left_out if schedule.unscheduled else "")
    )


def _describe_findings(items: list[Mapping[str, Any]]) -> str:
    """``B001–S010: no_common_slot (detail)`` for one ``unscheduled_must`` entry, or
    ``over_capacity (detail): B001–S010, B002–S011, … and 87 more`` for many that share
    their reason and detail."""
    if not all("a" in item and "b" in item for item in items):
        return "; ".join(json.dumps(dict(item), ensure_ascii=False) for item in items)
    reason, detail = items[0].get("reason"), items[0].get("detail")
    what = (str(reason) if reason else "") + (f" ({detail})" if detail else "")
    names = ["–".join(str(item[k]) for k in ("a", "b") if item[k]) for item in items]
    if len(items) == 1:
        return f"{names[0]}: {what}" if names[0] else what
    listed = ", ".join(names[:SUMMARY_NAMES])
    if len(names) > SUMMARY_NAMES:
        listed += f" and {len(names) - SUMMARY_NAMES:,} more"
    return f"{what}: {listed}"


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


def _integer_in(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {text}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, not {text}")
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
        type=_integer_in(1, MAX_WORKERS),
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"CP-SAT search workers, 1 to {MAX_WORKERS} (default {DEFAULT_WORKERS}; "
        "1 gives reproducible runs)",
    )
    solve.add_argument(
        "--seed",
        type=_integer_in(0, MAX_SEED),
        default=DEFAULT_SEED,
        metavar="N",
        help=f"random seed, 0 to {MAX_SEED}, for repeatable runs (default {DEFAULT_SEED})",
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
    type=click.IntRange(min=1, max=MAX_WORKERS),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="CP-SAT search workers.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=MAX_SEED),
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
