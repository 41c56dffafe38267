"""A long proof on one compact day: the engine's SAT chain alone, without a time limit.

``python -m benchmarks.compact_proof SEED --from K [--to K2]``

The engine asks "a schedule with at most k breaks?" from the floors up within its time
limit (:mod:`solver.compact_scan`, :mod:`solver.sat_questions`). On the generator's
open days (seeds 9, 15 and 19) its questions stop short of the optimum, each "no"
costing about twice the one before. This runs the same clauses on one CaDiCaL solver
that keeps what it learned from cap to cap, starting at ``K`` (every cap below it
counts as answered "no", as proven before), and prints each answer with its time.
The first "yes" is decoded into a schedule, given tables, and checked by
:func:`solver.validation.check`; its breaks are recounted from the meetings. So the
optimum it reports rests on the solver's "no" below and a checked schedule at it.

It is a measurement, not part of the product: on the open days it takes minutes to
hours (`docs/benchmarks.md`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Sequence

from benchmarks.generator import generate
from solver.model.prepared import prepare
from solver.problem import Meeting
from solver.sat_questions import SAT_SOLVER, build_clauses
from solver.validation import breaks_per_participant, check


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=int, help="the compact day of benchmarks.generator")
    parser.add_argument("--from", dest="start", type=int, default=0,
                        help="the first cap to ask (caps below count as proven 'no')")
    parser.add_argument("--to", dest="end", type=int, default=None,
                        help="the last cap to ask (default: until a 'yes')")
    args = parser.parse_args(argv)

    from pysat.card import ITotalizer
    from pysat.solvers import Solver

    problem = generate("compact", args.seed)
    prep = prepare(problem)
    base = build_clauses(prep)
    end = args.end if args.end is not None else len(base.breaks) - 1
    counter = ITotalizer(lits=base.breaks, ubound=end, top_id=base.top)
    began = time.monotonic()
    with Solver(name=SAT_SOLVER, bootstrap_with=base.clauses + counter.cnf.clauses) as solver:
        for below in range(args.start):
            solver.add_clause([counter.rhs[below]])  # at least ``start`` breaks
        for cap in range(args.start, end + 1):
            asked = time.monotonic()
            found = solver.solve(assumptions=[-counter.rhs[cap]])
            now = time.monotonic()
            print(f"seed {args.seed}: at most {cap} breaks? {'yes' if found else 'no'} "
                  f"in {now - asked:.1f} s ({now - began:.1f} s in all)", flush=True)
            if not found:
                solver.add_clause([counter.rhs[cap]])
                continue
            chosen = {v for v in solver.get_model() if v > 0}
            meetings = _schedule(prep, base.meeting_var, chosen)
            problems = check(problem, meetings)
            breaks = sum(breaks_per_participant(problem, meetings).values())
            print(f"  schedule: {len(meetings)} meetings, {breaks} breaks, "
                  f"{'valid' if not problems else 'INVALID: ' + problems[0]}", flush=True)
            return 0 if not problems and breaks <= cap else 1
    return 0


def _schedule(prep, meeting_var, chosen: set[int]) -> list[Meeting]:  # type: ignore[no-untyped-def]
    """The meetings of a model: each pair in its chosen slot, at the next free pooled table."""
    used: dict[int, int] = defaultdict(int)
    meetings = []
    for (pair_index, slot), var in sorted(meeting_var.items()):
        if var not in chosen:
            continue
        pair = prep.pairs[pair_index].pair
        table = prep.pooled_tables[used[slot]] if prep.has_tables else None
        used[slot] += 1
        meetings.append(Meeting(pair.a, pair.b, prep.slot_ids[slot], table))
    return meetings


if __name__ == "__main__":
    sys.exit(main())
