"""Soft: the objective of the format doc, term by term, as one linear expression.

weights of scheduled pairs + each participant's concave meeting bonus
− ``break_penalty`` × breaks − ``change_penalty`` × current meetings not kept.

The bonus uses ``y[p, k]`` = "p has at least k meetings" with
``y[p, k] >= y[p, k + 1]`` and ``sum_k y[p, k] <= meetings(p)``. Because the
bonus list is non-increasing, maximising picks the first entries, so the value
equals ``bonus[0] + … + bonus[m - 1]`` exactly at any optimum. Only as many
``y`` as the participant can actually use are created.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.model.variables import Variables


@dataclass(slots=True)
class ObjectiveTerms:
    """The objective's linear terms and constant (the change-penalty baseline)."""

    terms: list[tuple[int, cp_model.IntVar]]
    constant: int

    def expression(self) -> cp_model.LinearExprT:
        """The objective as one CP-SAT expression (constant included)."""
        variables = [var for _, var in self.terms]
        coefficients = [coefficient for coefficient, _ in self.terms]
        return cp_model.LinearExpr.weighted_sum(variables, coefficients) + self.constant


def build_objective(
    v: Variables,
    break_counters: dict[int, list[cp_model.IntVar]],
    keep_terms: list[tuple[int, cp_model.IntVar]],
) -> ObjectiveTerms:
    """Collect weights, bonus, break and change terms into :class:`ObjectiveTerms`."""
    prep = v.prep
    problem = prep.problem
    terms: list[tuple[int, cp_model.IntVar]] = []
    for prepared in prep.pairs:
        if prepared.pair.weight:
            terms.extend((prepared.pair.weight, var) for _, var in v.of_pair(prepared.index))
    bonus = list(problem.meeting_bonus)
    while bonus and bonus[-1] == 0:
        bonus.pop()
    # A negative entry is a cost the solver would dodge by leaving y at 0, so then
    # every level is modelled and sum(y) equals the meeting count.
    exact = any(b < 0 for b in bonus)
    if bonus:
        for participant in range(len(prep.participant_ids)):
            if participant in prep.frozen:
                continue  # its meetings are fixed, so its bonus is a constant
            capacity = prep.usable_capacity(participant)
            levels = capacity if exact else min(len(bonus), capacity)
            if levels <= 0:
                continue
            ys = [v.model.new_bool_var(f"bonus_{participant}_{k + 1}") for k in range(levels)]
            v.bonus_levels[participant] = ys
            for higher, lower in itertools.pairwise(ys):
                v.model.add_implication(lower, higher)
            count = sum(v.of_participant(participant))
            if exact:
                v.model.add(sum(ys) == count)
            else:
                v.model.add(sum(ys) <= count)
            padded = bonus[:levels] + [0] * (levels - len(bonus[:levels]))
            terms.extend((b, y) for b, y in zip(padded, ys, strict=True) if b)
    if problem.break_penalty:
        for participant in sorted(break_counters):
            terms.extend((-problem.break_penalty, c) for c in break_counters[participant])
    constant = 0
    if problem.change_penalty:
        terms.extend((problem.change_penalty * count, keep) for count, keep in keep_terms)
        constant = -problem.change_penalty * len(problem.current)
    return ObjectiveTerms(terms, constant)
