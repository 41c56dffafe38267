"""Hard: every locked meeting is in the schedule exactly as given (rule 6).

A locked pair's only variable is its locked slot (see
:func:`solver.model.prepared.prepare`), so "exactly" means fixing that variable
to 1 and, for a meeting of two hosts, fixing which host's table it takes. The
table itself is given to the meeting when tables are assigned. Soundness of the
lock (its slot, table and participants) is checked before the model is built.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model.variables import Variables


def add_locks(v: Variables, lock_guards: dict[int, cp_model.IntVar] | None = None) -> None:
    """Fix each locked pair's variable; ``lock_guards`` (pair -> literal) for diagnosis."""
    prep = v.prep
    for prepared in prep.pairs:
        lock = prepared.locked
        if lock is None:
            continue
        slot = prep.slot_index[lock.slot]
        literals = [v.x[prepared.index, slot]]
        host = prep.table_host.get(lock.table) if lock.table is not None else None
        side = v.at_table_of.get((prepared.index, slot, host)) if host is not None else None
        if side is not None:
            literals.append(side)
        guard = lock_guards.get(prepared.index) if lock_guards is not None else None
        if guard is None:
            for literal in literals:
                v.model.add(literal == 1)
        else:
            v.model.add_bool_and(literals).only_enforce_if(guard)
