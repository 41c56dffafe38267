"""Hard: a listed pair meets at most once, a must pair exactly once (rules 1 and 5).

Only listed pairs have variables and only in their feasible slots (rule 1's
``slots`` and rule 2's availability are enforced by not creating the variable).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model.variables import Variables


def add_pair_rules(v: Variables, must_guards: dict[int, cp_model.IntVar] | None = None) -> None:
    """At most one meeting per pair; exactly one for must pairs.

    ``must_guards`` (pair index -> literal), when given, makes each must rule hold
    only under its literal, so an infeasible problem can be explained by the
    literals CP-SAT needs (see :mod:`solver.model.diagnosis`).
    """
    model = v.model
    for prepared in v.prep.pairs:
        xs = [var for _, var in v.of_pair(prepared.index)]
        guard = must_guards.get(prepared.index) if must_guards is not None else None
        if len(xs) > 1:
            model.add_at_most_one(xs)
        if not prepared.pair.must:
            continue
        if guard is None:
            if xs:
                model.add(sum(xs) == 1)
            else:
                model.add_bool_or([])  # no slot at all: an empty clause is infeasible
        elif xs:
            model.add(sum(xs) == 1).only_enforce_if(guard)
        else:
            model.add_bool_or([guard.Not()])
