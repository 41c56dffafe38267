"""Soft: keep the ``current`` plan — each current meeting not kept with the same
pair, slot and table costs ``change_penalty``.

``keep[c]`` may be 1 only if the pair meets in that slot (at that host's table,
for a meeting of two hosts) and the table is sound for the pair; at most one
kept or locked meeting claims a table in a slot, so table assignment can honour
every kept meeting at its table. A hint alone would not keep a schedule stable.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model.variables import Variables
from solver.problem import Meeting
from solver.validation import meeting_key


def keepable_literal(v: Variables, meeting: Meeting) -> cp_model.IntVar | None:
    """The literal that must be true for ``meeting`` to be kept, or None if it cannot be."""
    prep = v.prep
    pair_index = prep.pair_index.get(meeting.key)
    slot = prep.slot_index.get(meeting.slot)
    if pair_index is None or slot is None or (pair_index, slot) not in v.x:
        return None
    if not prep.has_tables:
        return v.x[pair_index, slot] if meeting.table is None else None
    if meeting.table not in prep.table_host:
        return None
    host = prep.table_host[meeting.table]
    hosts = prep.table_hosts(pair_index)
    if host is None:
        return v.x[pair_index, slot] if not hosts else None
    if host not in hosts:
        return None
    if len(hosts) == 2:
        return v.at_table_of[pair_index, slot, host]
    return v.x[pair_index, slot]


def add_changes(v: Variables) -> tuple[list[tuple[int, cp_model.IntVar]], dict]:
    """Keep literals with their multiplicity in ``current``, and ``keep`` by meeting key.

    The objective adds ``change_penalty × multiplicity`` per kept literal and
    subtracts ``change_penalty × len(current)`` as a constant.
    """
    prep = v.prep
    model = v.model
    multiplicity: dict = {}
    first: dict = {}
    for meeting in prep.problem.current:
        key = meeting_key(meeting)
        multiplicity[key] = multiplicity.get(key, 0) + 1
        first.setdefault(key, meeting)
    locked_tables = {(m.table, m.slot) for m in prep.problem.locked if m.table is not None}
    terms: list[tuple[int, cp_model.IntVar]] = []
    keep_by_key: dict = {}
    claims: dict[tuple[str, str], list[cp_model.IntVar]] = {}
    for key, meeting in first.items():
        literal = keepable_literal(v, meeting)
        if literal is None:
            continue
        lock = prep.pairs[prep.pair_index[meeting.key]].locked
        if lock is not None:
            # A locked pair is fixed; it is kept exactly when the lock equals it.
            if key == meeting_key(lock):
                terms.append((multiplicity[key], literal))
                keep_by_key[key] = literal
            continue
        if meeting.table is not None and (meeting.table, meeting.slot) in locked_tables:
            continue  # a lock holds that table then
        keep = model.new_bool_var(f"keep_{len(keep_by_key)}")
        model.add_implication(keep, literal)
        terms.append((multiplicity[key], keep))
        keep_by_key[key] = keep
        v.keeps.append((keep, literal, meeting.table, meeting.slot))
        if meeting.table is not None:
            claims.setdefault((meeting.table, meeting.slot), []).append(keep)
    for claim in claims.values():
        if len(claim) > 1:
            model.add_at_most_one(claim)
    return terms, keep_by_key
