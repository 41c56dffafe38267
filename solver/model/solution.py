"""What one CP-SAT run produced, before tables are assigned and the objective recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Solution:
    """The chosen (pair, slot) combinations and the solver's own account of the run.

    ``sides`` maps a chosen host–host meeting to the host whose table it takes;
    ``kept`` holds the meeting keys of ``current`` meetings the model keeps.
    ``objective`` and ``bound`` are CP-SAT's (None without a solution/bound):
    the engine reports the objective recomputed by :mod:`solver.validation`.
    """

    status: str
    chosen: list[tuple[int, int]] = field(default_factory=list)
    sides: dict[tuple[int, int], int] = field(default_factory=dict)
    kept: set = field(default_factory=set)
    objective: int | None = None
    bound: int | None = None
    seconds: float = 0.0
    deterministic_time: float = 0.0
    branches: int = 0
    conflicts: int = 0

    @property
    def has_solution(self) -> bool:
        """Whether CP-SAT found a feasible assignment."""
        return self.status in ("OPTIMAL", "FEASIBLE")
