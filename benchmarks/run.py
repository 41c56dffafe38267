"""Run matchfair's solver and the baselines on every family; print and write the results.

``python -m benchmarks.run [--families fair,pooled,...] [--quick] [--seed N]
[--workers N] [--out docs/benchmarks.md]``

Each solver run happens in its own freshly *spawned* process, so its peak memory
(``ru_maxrss`` of that process, read at its end) is its own and nothing leaks
between runs; the wall time is measured around the solver call in that process.
Every schedule is checked by :func:`solver.validation.check` and scored by
:func:`solver.validation.objective` here, in the parent: a solver's own number is
never trusted. A hand-written discussion below the ``<!-- discussion -->`` marker
of an existing output file is kept when the file is rewritten.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import queue
import resource
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.generator import generate, no_shows, repair_from
from solver.problem import Meeting, Problem
from solver.validation import breaks_per_participant, check, meeting_key, objective

SOLVERS = ("matchfair", "greedy", "slot-by-slot", "cp-sat first cut", "mip highs")
DEFAULT_FAMILIES = ("fair", "pooled", "expo", "repair", "compact", "mip-scale", "mega")
# Sizes at which the reference MIP proved optimality (about 100 participants and
# 400 pairs, 300 participants and 2,000 pairs): smaller fairs, to compare with a proven
# optimum rather than a bound.
MIP_SCALE = {
    "fair 100 participants": {"buyers": 20, "suppliers": 80},
    "fair 300 participants": {"buyers": 60, "suppliers": 240, "requests_mean": 9},
}
DISCUSSION_MARKER = "<!-- discussion -->"

# Time limits in seconds: matchfair gets the target's limit; the model baselines the
# limits of the reference measurements in the issue (MIP as long as CP-SAT or more).
LIMITS = {
    "fair": {"matchfair": 5, "cp-sat first cut": 20, "mip highs": 30},
    "pooled": {"matchfair": 10, "cp-sat first cut": 20, "mip highs": 30},
    "expo": {"matchfair": 30, "cp-sat first cut": 60, "mip highs": 120},
    "mega": {"matchfair": 120},
    "repair": {"matchfair": 2, "cp-sat first cut": 20, "mip highs": 30},
    "compact": {"matchfair": 10, "cp-sat first cut": 20, "mip highs": 30},
    "compact-infeasible": {"matchfair": 10, "cp-sat first cut": 20, "mip highs": 30},
    "mip-scale": {"matchfair": 5, "cp-sat first cut": 20, "mip highs": 60},
}
QUICK_LIMITS = {"matchfair": 5, "cp-sat first cut": 5, "mip highs": 5}
# Targets from the issue: (minimum objective/bound, within seconds, memory MB).
TARGETS = {
    "fair": (0.999, 5, None),
    "pooled": (0.995, 10, None),
    "expo": (0.995, 30, None),
    "mega": (0.995, 120, 4096),
    "repair": (None, 2, None),
}
SKIPPED = {
    ("mega", "cp-sat first cut"): "not run: ~800,000 Booleans; the reference found no MIP "
    "solution already at 1,000 participants / 6,000 pairs in 120 s",
    ("mega", "mip highs"): "not run: see cp-sat first cut",
}


@dataclass
class Run:
    """One solver on one instance, as measured and checked by the parent."""

    solver: str
    seconds: float | None = None
    objective: int | None = None
    bound: float | None = None
    peak_mb: float | None = None
    status: str = ""
    notes: list[str] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    valid: bool = False


@dataclass
class Instance:
    """One generated problem and every run on it."""

    family: str
    name: str
    problem: Problem
    relaxation: int | None
    relaxation_seconds: float
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def best_bound(self) -> float | None:
        """The tightest proven upper bound: the relaxation's or any solver's."""
        bounds = [r.bound for r in self.runs if r.bound is not None and r.valid]
        if self.relaxation is not None:
            bounds.append(self.relaxation)
        return min(bounds) if bounds else None


def _solve_in_child(
    solver: str,
    problem: Problem,
    limit: float,
    workers: int,
    seed: int,
    results: multiprocessing.Queue,
) -> None:
    """Body of the spawned process: run one solver, report meetings, time and peak RSS."""
    try:
        started = time.perf_counter()
        bound, status, stats = None, "", {}
        if solver == "matchfair":
            from solver.engine import solve

            schedule = solve(problem, time_limit=limit, workers=workers, seed=seed)
            meetings, bound, status = schedule.meetings, schedule.bound, schedule.status
            stats = {
                "source": schedule.stats.get("source"),
                "restricted": (schedule.stats.get("cp_sat") or {}).get("restricted_to_pairs"),
            }
        elif solver == "greedy":
            from benchmarks.baselines import greedy

            meetings, status = greedy(problem), "DONE"
        elif solver == "slot-by-slot":
            from benchmarks.baselines import slot_by_slot

            meetings, status = slot_by_slot(problem), "DONE"
        elif solver == "cp-sat first cut":
            from benchmarks.baselines import first_cut_cpsat

            result = first_cut_cpsat(problem, time_limit=limit, workers=workers, seed=seed)
            meetings, bound, status, stats = (
                result.meetings,
                result.bound,
                result.status,
                result.stats,
            )
        elif solver == "mip highs":
            from benchmarks.baselines import mip_highs

            result = mip_highs(problem, time_limit=limit, threads=workers, seed=seed)
            meetings, bound, status, stats = (
                result.meetings,
                result.bound,
                result.status,
                result.stats,
            )
        else:
            raise ValueError(f"unknown solver {solver}")
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = [(m.a, m.b, m.slot, m.table) for m in meetings]
        results.put(
            {
                "meetings": rows,
                "bound": bound,
                "status": status,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "stats": stats,
            }
        )
    except Exception as error:  # report, never hang the parent
        results.put({"error": f"{type(error).__name__}: {error}"})


def measure(solver: str, problem: Problem, limit: float, workers: int, seed: int) -> Run:
    """Run ``solver`` in a spawned process and check its schedule against ``problem``."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=_solve_in_child, args=(solver, problem, limit, workers, seed, results)
    )
    process.start()
    run = Run(solver)
    try:
        # Generous: building a large model happens before the solver's own clock starts.
        answer = results.get(timeout=3 * limit + 300)
    except queue.Empty:
        process.kill()
        process.join()
        run.status = "KILLED"
        run.notes.append(f"no answer within {3 * limit + 300:.0f} s")
        return run
    process.join()
    if "error" in answer:
        run.status = "CRASH"
        run.notes.append(answer["error"])
        return run
    run.meetings = [Meeting(*row) for row in answer["meetings"]]
    run.seconds = answer["seconds"]
    run.peak_mb = answer["peak_mb"]
    run.status = answer["status"]
    run.bound = answer["bound"]
    stats = answer["stats"] or {}
    if stats.get("restricted"):
        run.notes.append(f"model on {stats['restricted']} candidate pairs")
    if "variables" in stats:
        run.notes.append(f"{stats['variables']:,} vars, built in {stats['build_seconds']} s")
    if run.status == "INFEASIBLE":
        run.notes.append("infeasibility proven")
        return run
    if not run.meetings and problem.pairs:
        run.notes.append("no solution found")
        return run
    errors = check(problem, run.meetings)
    run.valid = not errors
    if errors:
        run.notes.append(f"INVALID: {len(errors)} violations, e.g. {errors[0]}")
    run.objective = objective(problem, run.meetings)
    return run


def _limits(family: str, quick: bool) -> dict[str, float]:
    limits = dict(LIMITS[family])
    if quick:
        limits = {k: min(v, QUICK_LIMITS[k]) for k, v in limits.items()}
    return limits


def _relaxation(problem: Problem) -> tuple[int | None, float]:
    started = time.perf_counter()
    try:
        from solver.bound import relaxation_bound
    except ImportError:
        return None, 0.0
    return relaxation_bound(problem), time.perf_counter() - started


def run_instance(
    family: str,
    name: str,
    problem: Problem,
    *,
    quick: bool,
    workers: int,
    seed: int,
    solvers: tuple[str, ...] = SOLVERS,
) -> Instance:
    """Every solver on one problem, printed as it goes."""
    relaxation, relaxation_seconds = _relaxation(problem)
    instance = Instance(family, name, problem, relaxation, relaxation_seconds)
    print(
        f"\n== {name}: {len(problem.participants)} participants, {len(problem.pairs)} pairs, "
        f"{len(problem.slots)} slots, relaxation bound {relaxation}",
        flush=True,
    )
    limits = _limits(family, quick)
    for solver in solvers:
        if (family, solver) in SKIPPED:
            run = Run(solver, status="SKIPPED", notes=[SKIPPED[(family, solver)]])
        else:
            run = measure(solver, problem, limits.get(solver, 0), workers, seed)
        _annotate(instance, run)
        instance.runs.append(run)
        print("  " + " | ".join(_cells(instance, run)), flush=True)
    return instance


def proven_breaks(problem: Problem, bound: float) -> int:
    """The fewest breaks a compact day's ``bound`` proves.

    Every pair is a must and there is no bonus, so objective = Σ weight − breaks.
    """
    weights = sum(pair.weight for pair in problem.pairs)
    return max(0, weights - math.floor(bound))


def _annotate(instance: Instance, run: Run) -> None:
    """Family-specific notes: breaks for compact, changed meetings for repair."""
    problem = instance.problem
    if not run.meetings:
        return
    if instance.family.startswith("compact"):
        breaks = sum(breaks_per_participant(problem, run.meetings).values())
        run.notes.append(f"breaks {breaks}")
        if run.bound is not None:
            run.notes.append(f"proven ≥ {proven_breaks(problem, run.bound)} breaks")
    if problem.current:
        kept = {meeting_key(m) for m in run.meetings}
        changed = [m for m in problem.current if meeting_key(m) not in kept]
        untouched = [
            m
            for m in changed
            if m.a not in instance_touched(instance) and m.b not in instance_touched(instance)
        ]
        run.notes.append(
            f"changed {len(changed)} of {len(problem.current)} planned meetings "
            f"({len(untouched)} of participants untouched by no-shows), "
            f"{len(run.meetings) - len(problem.locked)} meetings from now"
        )


_TOUCHED: dict[int, set[str]] = {}


def instance_touched(instance: Instance) -> set[str]:
    """No-shows and their partners in the original plan (set by the repair runner)."""
    return _TOUCHED.get(id(instance.problem), no_shows(instance.problem))


def _pct(value: float | None, bound: float | None) -> str:
    if value is None or not bound:
        return "–"
    return f"{100 * value / bound:.2f}%"


def _cells(instance: Instance, run: Run) -> list[str]:
    return [
        run.solver,
        "–" if run.seconds is None else f"{run.seconds:.1f}",
        "–" if run.objective is None else f"{run.objective:,}",
        "–" if run.bound is None else f"{run.bound:,.0f}",
        _pct(run.objective if run.valid else None, instance.relaxation),
        _pct(run.objective if run.valid else None, instance.best_bound()),
        "–" if run.peak_mb is None else f"{run.peak_mb:,.0f}",
        run.status,
        "; ".join(run.notes),
    ]


def _targets(instance: Instance) -> list[str]:
    """Whether matchfair met the issue's targets on this instance, one line each."""
    ours = next((r for r in instance.runs if r.solver == "matchfair"), None)
    if ours is None:
        return []
    lines = []
    target = TARGETS.get(instance.family)
    best = instance.best_bound()
    if target is not None:
        share, seconds, memory = target
        if share is not None:
            ratio = ours.objective / best if ours.valid and best else 0
            met = ratio >= share and (ours.seconds or 1e9) <= seconds * 1.1
            lines.append(
                f"objective ≥ {share:.1%} of the best proven bound within {seconds} s: "
                f"{'met' if met else 'MISSED'} ({ratio:.2%} in {ours.seconds or 0:.1f} s)"
            )
        else:
            lines.append(
                f"within {seconds} s: "
                f"{'met' if (ours.seconds or 1e9) <= seconds * 1.1 else 'MISSED'} "
                f"({ours.seconds or 0:.1f} s)"
            )
        if memory is not None:
            lines.append(
                f"peak memory under {memory} MB: "
                f"{'met' if (ours.peak_mb or 1e9) < memory else 'MISSED'} "
                f"({ours.peak_mb or 0:,.0f} MB)"
            )
    for run in instance.runs:
        if run.solver == "matchfair" or not run.valid or run.objective is None:
            continue
        if not ours.valid or ours.objective is None:
            verdict = "MISSED (no valid matchfair schedule)"
        elif ours.objective > run.objective:
            verdict = "beaten"
        elif ours.objective == run.objective:
            verdict = "tied"
        else:
            verdict = "NOT beaten"
        if run.status == "OPTIMAL" and ours.objective == run.objective:
            verdict += f" (its proven optimum matched, {ours.seconds:.1f} s vs {run.seconds:.1f} s)"
        lines.append(f"vs {run.solver}: {verdict}")
    return lines


def build_instances(families: list[str], seed: int, quick: bool) -> list[tuple[str, str, Problem]]:
    """The (family, name, problem) list to run, compact expanded into its variants."""
    out: list[tuple[str, str, Problem]] = []
    for family in families:
        if family == "compact":
            for s in (seed,) if quick else (seed, seed + 1):
                out.append(("compact", f"compact seed {s}", generate("compact", s)))
            out.append(
                (
                    "compact-infeasible",
                    f"compact seed {seed}, one table too few",
                    generate("compact-infeasible", seed),
                )
            )
        elif family == "mip-scale":
            for name, overrides in MIP_SCALE.items():
                out.append(("mip-scale", name, generate("fair", seed, **overrides)))
        elif family != "repair":
            out.append((family, family, generate(family, seed)))
    return out


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import ortools

        ortools_version = ortools.__version__
    except ImportError:
        ortools_version = "not installed"
    try:
        from importlib.metadata import version

        highs_version = version("highspy")
    except Exception:
        highs_version = "not installed"
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "ortools": ortools_version,
        "highspy": highs_version,
        "platform": platform.platform(),
    }


HEADER = [
    "solver",
    "time s",
    "objective",
    "bound",
    "obj/MCF bound",
    "obj/best bound",
    "peak MB",
    "status",
    "notes",
]


def write_markdown(
    path: Path, instances: list[Instance], args: argparse.Namespace, elapsed: float
) -> None:
    """Write the report, keeping any hand-written discussion of the previous one."""
    info = machine()
    discussion = ""
    if path.exists() and DISCUSSION_MARKER in path.read_text():
        discussion = path.read_text().split(DISCUSSION_MARKER, 1)[1]
    lines = [
        "# Solver benchmarks",
        "",
        "Generated by `python -m benchmarks.run " + " ".join(sys.argv[1:]) + "` "
        f"on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} in {elapsed / 60:.0f} min.",
        "",
        f"Machine: {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
        f"OR-Tools {info['ortools']}, highspy {info['highspy']}, {info['platform']}. "
        f"Every solver ran with {args.workers} workers/threads, seed {args.seed}"
        + (f", matchfair solver at {args.solver_version}. " if args.solver_version else ". ")
        + "Times are wall-clock and vary by a few percent from run to run; anything else "
        "running on the machine makes them pessimistic.",
        "",
        "How to read the tables: each solver ran in its own spawned process; *time* is "
        "the wall time of the solver call in that process (model building included), "
        "*peak MB* that process's maximum resident set. Objectives are recomputed from "
        "the meetings by `solver.validation.objective` after `solver.validation.check` "
        "found no violated hard rule (otherwise the row says INVALID). *bound* is the "
        "solver's own proven upper bound; *obj/MCF bound* compares with the min-cost-flow "
        "relaxation (`solver.bound.relaxation_bound`: a matching without slot clashes or "
        "breaks, see its docstring), *obj/best bound* with the tightest proven bound of "
        "any run. Instances come from `benchmarks.generator` (its docstring gives the "
        "scoring rule and families).",
        "",
    ]
    for instance in instances:
        problem = instance.problem
        tables = "unlimited" if problem.tables is None else str(len(problem.tables))
        lines += [
            f"## {instance.name}",
            "",
            f"{len(problem.participants):,} participants, {len(problem.pairs):,} pairs "
            f"({sum(p.must for p in problem.pairs):,} must), {len(problem.slots)} slots, "
            f"{tables} tables; MCF bound {instance.relaxation:,} "
            f"({instance.relaxation_seconds:.1f} s); best proven bound "
            f"{instance.best_bound() or 0:,.0f}.",
            "",
            *instance.notes,
            *([""] if instance.notes else []),
            "| " + " | ".join(HEADER) + " |",
            "|" + "|".join("---" for _ in HEADER) + "|",
        ]
        lines += [
            "| " + " | ".join(c.replace("|", "/") for c in _cells(instance, run)) + " |"
            for run in instance.runs
        ]
        targets = _targets(instance)
        if targets:
            lines += ["", "Targets and baselines:", ""] + [f"- {t}" for t in targets]
        lines.append("")
    lines.append(DISCUSSION_MARKER)
    text = "\n".join(lines) + (discussion or "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--families", default=None, help="comma-separated, from " + ",".join(DEFAULT_FAMILIES)
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 s limits, one compact seed; default families fair,pooled,compact",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument(
        "--solver-version",
        default=None,
        help="what solver code was measured (e.g. a commit), for the report header",
    )
    args = parser.parse_args(argv)
    if args.families:
        families = args.families.split(",")
    else:
        families = ["fair", "pooled", "compact"] if args.quick else list(DEFAULT_FAMILIES)
    unknown = set(families) - set(DEFAULT_FAMILIES)
    if unknown:
        parser.error(f"unknown families: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    instances: list[Instance] = []
    for family, name, problem in build_instances(families, args.seed, args.quick):
        instances.append(
            run_instance(
                family, name, problem, quick=args.quick, workers=args.workers, seed=args.seed
            )
        )
        # Written after every instance: a long run cut short still leaves its numbers.
        write_markdown(args.out, instances, args, time.perf_counter() - started)
    if "repair" in families:
        instances.append(_repair(instances, args))
    write_markdown(args.out, instances, args, time.perf_counter() - started)
    print(f"\nwrote {args.out}")
    return 0


def _repair(instances: list[Instance], args: argparse.Namespace) -> Instance:
    """Repair the expo plan: matchfair's expo schedule when it ran, else greedy's."""
    expo_runs = next((i for i in instances if i.family == "expo"), None)
    plan_source = "greedy"
    expo = generate("expo", args.seed)
    plan = None
    if expo_runs is not None:
        ours = next((r for r in expo_runs.runs if r.solver == "matchfair" and r.valid), None)
        if ours is not None:
            plan, plan_source = ours.meetings, "matchfair"
    if plan is None:
        from benchmarks.baselines import greedy

        plan = greedy(expo)
    problem = repair_from(expo, plan, args.seed)
    absent = no_shows(problem)
    touched = set(absent)
    for m in plan:
        if m.a in absent or m.b in absent:
            touched |= {m.a, m.b}
    _TOUCHED[id(problem)] = touched
    instance = run_instance(
        "repair", "repair", problem, quick=args.quick, workers=args.workers, seed=args.seed
    )
    keep = list(problem.locked) + list(problem.current)
    instance.notes.append(
        f"The plan is {plan_source}'s expo schedule; {len(absent)} no-shows, "
        f"{len(touched) - len(absent)} partners of theirs; now = {problem.now:%H:%M} on day 1 "
        f"({len(problem.locked):,} meetings locked, {len(problem.current):,} planned); "
        f"change penalty {problem.change_penalty}. Keeping the plan as it is scores "
        f"{objective(problem, keep):,}."
    )
    return instance


if __name__ == "__main__":
    sys.exit(main())
