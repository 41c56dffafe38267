"""Time budgets that give the same schedule every run when the engine has one worker.

A search cut off by the wall clock stops wherever the machine happens to be, so
two runs differ. With one worker the engine therefore budgets *work* instead:
CP-SAT stops on its deterministic time (a count of work done, the same on every
run), the annealing on a number of moves, and every later phase's share is
computed from the work budgeted so far, never from the clock. The wall clock
only guards against a machine far slower (or busier) than usual: each step may
take up to ``WALL_SLACK`` times its budget before it is cut off (and then the
run is no longer reproducible, but still valid). With two or more workers CP-SAT's
parallel search is not reproducible anyway, so the wall clock rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the annealing and the greedy starts use this without CP-SAT
    from ortools.sat.python import cp_model

# CP-SAT's deterministic time per second of one worker on the machines we measured
# (0.33 to 0.5 for our models on the 2-core benchmark machine): a budget of s seconds stops at
# DETERMINISTIC_PER_SECOND * s, which a normal machine reaches in under s seconds.
DETERMINISTIC_PER_SECOND = 0.4
# The same for the break questions of compact days (solver.compact_scan): a search
# without linear relaxation counts work faster (0.5 to 1.05 per second measured on
# the compact days of the benchmark on that machine).
DECISION_DETERMINISTIC_PER_SECOND = 0.8
# A reproducible step is cut off by the wall clock only after this many times its budget.
WALL_SLACK = 4.0
# Kempe-chain moves of the annealing per second of budget (180,000 to 260,000 are
# made per second on compact days of the benchmark on that machine).
MOVES_PER_SECOND = 120_000


def limit(
    params: cp_model.SatParameters,
    seconds: float,
    reproducible: bool,
    rate: float = DETERMINISTIC_PER_SECOND,
) -> None:
    """Stop a CP-SAT search after ``seconds`` (as work when ``reproducible``).

    ``rate`` is the search's deterministic time per second of the clock.
    """
    seconds = max(0.01, seconds)
    if reproducible:
        params.max_deterministic_time = rate * seconds
        params.max_time_in_seconds = WALL_SLACK * seconds
    else:
        params.max_time_in_seconds = seconds


# CP-SAT's random_seed is a signed 32-bit integer. The command line takes seeds below
# this; seeds derived from one (a race's seed × stride + i, a question asked again
# with seed + 1) may pass it and wrap around.
SEEDS = 2**31


def cp_sat_seed(seed: int) -> int:
    """``seed`` as CP-SAT's ``random_seed`` (unchanged below :data:`SEEDS`)."""
    return seed % SEEDS


def seconds_of(deterministic_time: float, rate: float = DETERMINISTIC_PER_SECOND) -> float:
    """The budget, in seconds, that a search of this deterministic time used."""
    return deterministic_time / rate
