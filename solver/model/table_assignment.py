"""Concrete table ids for chosen meetings, after solving.

The model only counts meetings per table group and slot (pooled tables, or one
host's tables), so any assignment within a group is valid. Order of
preference, slot by slot: a locked meeting gets its locked table; a kept
``current`` meeting its current table; then a table either participant sat at
in its previous meeting (so people do not wander between meetings); then the
first free table of the group in listing order.
"""

from __future__ import annotations

from solver.model.prepared import Prepared
from solver.problem import Meeting


def table_group(prep: Prepared, pair_index: int, side: int | None) -> list[str]:
    """The tables a meeting of ``pair_index`` may use (``side``: host chosen for host–host)."""
    hosts = prep.table_hosts(pair_index)
    if not hosts:
        return prep.pooled_tables
    if len(hosts) == 1:
        return prep.hosted_tables[hosts[0]]
    if side is not None:
        return prep.hosted_tables[side]
    return prep.hosted_tables[hosts[0]] + prep.hosted_tables[hosts[1]]


def assign_tables(
    prep: Prepared,
    chosen: list[tuple[int, int]],
    sides: dict[tuple[int, int], int] | None = None,
    preferred: dict[tuple[int, int], str] | None = None,
) -> list[Meeting]:
    """Meetings with tables for ``chosen`` (pair, slot) combinations.

    ``sides`` says whose table a host–host meeting takes (as decided by the
    model); ``preferred`` maps (pair, slot) to a table to use when free (current
    plan). Without tables in the problem every table is None.
    """
    sides = sides or {}
    preferred = preferred or {}
    by_slot: dict[int, list[int]] = {}
    for pair_index, slot in sorted(chosen, key=lambda c: (c[1], c[0])):
        by_slot.setdefault(slot, []).append(pair_index)
    meetings: list[Meeting] = []
    last_table: dict[int, str] = {}
    for slot in sorted(by_slot):
        slot_id = prep.slot_ids[slot]
        pairs = by_slot[slot]
        if not prep.has_tables:
            meetings.extend(
                Meeting(prep.pairs[i].pair.a, prep.pairs[i].pair.b, slot_id) for i in pairs
            )
            continue
        used: set[str] = set()
        table_of: dict[int, str] = {}
        for pair_index in pairs:
            lock = prep.pairs[pair_index].locked
            if lock is not None and lock.table is not None:
                table_of[pair_index] = lock.table
                used.add(lock.table)
        for pair_index in pairs:
            wanted = preferred.get((pair_index, slot))
            if pair_index in table_of or wanted is None or wanted in used:
                continue
            if wanted in table_group(prep, pair_index, sides.get((pair_index, slot))):
                table_of[pair_index] = wanted
                used.add(wanted)
        for pair_index in pairs:
            if pair_index in table_of:
                continue
            group = table_group(prep, pair_index, sides.get((pair_index, slot)))
            prepared = prep.pairs[pair_index]
            sticky = [last_table.get(prepared.a), last_table.get(prepared.b)]
            choice = next((t for t in sticky if t in group and t not in used), None)
            if choice is None:
                choice = next((t for t in group if t not in used), None)
            if choice is None:
                raise RuntimeError(
                    f"no free table for {prepared.pair.a}–{prepared.pair.b} in slot {slot_id}"
                )
            table_of[pair_index] = choice
            used.add(choice)
        for pair_index in pairs:
            prepared = prep.pairs[pair_index]
            table = table_of[pair_index]
            last_table[prepared.a] = table
            last_table[prepared.b] = table
            meetings.append(Meeting(prepared.pair.a, prepared.pair.b, slot_id, table))
    return meetings
