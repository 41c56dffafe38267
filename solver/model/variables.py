"""The decision variables and the look-ups every constraint module needs.

``x[pair, slot]`` exists only for feasible combinations (see
:func:`solver.model.prepared.prepare`): a model for a 1000-company fair would
not fit in memory with one variable per pair and slot, let alone per table.
Pooled tables are interchangeable, so there are no table variables at all; only
a meeting of two hosts, which may sit at either host's table, gets a side choice
(``at_table_of``), created by :mod:`solver.model.tables`.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model.prepared import Prepared


class Variables:
    """``x[pair, slot]`` Booleans with per-pair, per-participant and per-slot views."""

    def __init__(self, model: cp_model.CpModel, prep: Prepared) -> None:
        self.model = model
        self.prep = prep
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self._by_pair: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in prep.pairs]
        self._by_participant_slot: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = {}
        self._by_slot: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in prep.slot_ids]
        # Side choice for host–host meetings: (pair, slot, host participant) -> Bool.
        self.at_table_of: dict[tuple[int, int, int], cp_model.IntVar] = {}
        # Auxiliary variables, registered by the modules that create them so a hint
        # can be completed without search (see :mod:`solver.model.hints`).
        self.busy_flags: dict[tuple[int, int], cp_model.IntVar] = {}
        self.run_starts: dict[tuple[int, int], cp_model.IntVar] = {}
        self.break_counters: list[tuple[int, list[int], cp_model.IntVar]] = []
        self.bonus_levels: dict[int, list[cp_model.IntVar]] = {}
        # (participant, [(slot, after_first, before_last)]) per block of add_no_breaks.
        self.blocks: list[tuple[int, list[tuple[int, cp_model.IntVar, cp_model.IntVar]]]] = []
        # (participant, [(slot, after_first, before_last)], gap) per span of add_gap_flags.
        self.spans: list[
            tuple[int, list[tuple[int, cp_model.IntVar, cp_model.IntVar]], cp_model.IntVar]
        ] = []
        # (keep, literal it needs, table, slot id) per keepable current meeting.
        self.keeps: list[tuple[cp_model.IntVar, cp_model.IntVar, str | None, str]] = []
        for prepared in prep.pairs:
            for slot in prepared.slots:
                var = model.new_bool_var(f"x_p{prepared.index}_s{slot}")
                self.x[prepared.index, slot] = var
                self._by_pair[prepared.index].append((slot, var))
                self._by_slot[slot].append((prepared.index, var))
                for who in (prepared.a, prepared.b):
                    self._by_participant_slot.setdefault((who, slot), []).append(
                        (prepared.index, var)
                    )

    def of_pair(self, pair: int) -> list[tuple[int, cp_model.IntVar]]:
        """``(slot, x)`` for every slot pair ``pair`` may meet in."""
        return self._by_pair[pair]

    def meets(self, pair: int) -> cp_model.LinearExprT:
        """1 when pair ``pair`` is scheduled (it meets at most once)."""
        return sum(var for _, var in self._by_pair[pair])

    def of_participant_in_slot(
        self, participant: int, slot: int
    ) -> list[tuple[int, cp_model.IntVar]]:
        """``(pair, x)`` for the participant's possible meetings in ``slot``."""
        return self._by_participant_slot.get((participant, slot), [])

    def of_participant(self, participant: int) -> list[cp_model.IntVar]:
        """Every x of the participant, over all its pairs and slots."""
        return [var for pair in self.prep.pairs_of[participant] for _, var in self._by_pair[pair]]

    def busy_slots(self, participant: int) -> list[int]:
        """Slots (ascending) in which the participant could have a meeting."""
        return sorted(
            {slot for pair in self.prep.pairs_of[participant] for slot, _ in self._by_pair[pair]}
        )

    def in_slot(self, slot: int) -> list[tuple[int, cp_model.IntVar]]:
        """``(pair, x)`` for every possible meeting in ``slot``."""
        return self._by_slot[slot]
