"""Obvious infeasibility, named without running CP-SAT.

Each finding is a dict ``{"a", "b", "reason", "detail"}`` naming a must pair or a
lock the problem cannot honour. ``reason`` is one of:
``no_common_slot`` (a must pair has no slot both can use), ``over_capacity``
(a participant has more must pairs than it can hold, or must meetings need more
tables than there are: none at all for two participants without tables of their
own when every table has a host), ``lock_not_a_pair``,
``lock_unavailable`` (slot outside the pair's slots or someone's availability),
``lock_table`` (table unknown, or another host's), ``lock_clash``
(two locks on one table or beyond someone's ``parallel``, or a pair locked in two
places; the same lock listed twice is harmless),
``lock_over_maximum`` (locks beyond someone's ``max_meetings``).
"""

from __future__ import annotations

from collections import Counter

from solver.model.prepared import Prepared, PreparedPair
from solver.problem import Meeting
from solver.wording import counted


def finding(a: str, b: str, reason: str, detail: str) -> dict:
    """One item of ``Schedule.unscheduled_must``."""
    return {"a": a, "b": b, "reason": reason, "detail": detail}


def _lock_findings(prep: Prepared) -> list[dict]:
    problem = prep.problem
    out: list[dict] = []
    seen_pairs: dict[frozenset[str], Meeting] = {}
    per_table: Counter[tuple[str, str]] = Counter()
    per_person: Counter[tuple[str, str]] = Counter()
    per_total: Counter[str] = Counter()
    for lock in problem.locked:
        where = f"slot {lock.slot}" + (f", table {lock.table}" if lock.table else "")
        pair_index = prep.pair_index.get(lock.key)
        if pair_index is None:
            out.append(finding(lock.a, lock.b, "lock_not_a_pair", f"locked in {where}"))
            continue
        previous = seen_pairs.get(lock.key)
        if previous is not None:
            # The same lock said twice is harmless; the pair locked in two places clashes.
            if (previous.slot, previous.table) != (lock.slot, lock.table):
                detail = "the pair is locked in two places"
                out.append(finding(lock.a, lock.b, "lock_clash", detail))
            continue
        seen_pairs[lock.key] = lock
        pair = prep.pairs[pair_index].pair
        if pair.slots is not None and lock.slot not in pair.slots:
            out.append(finding(lock.a, lock.b, "lock_unavailable", f"{where} is not in its slots"))
        for who in (lock.a, lock.b):
            info = problem.participants[prep.participant_index[who]]
            if info.available is not None and lock.slot not in info.available:
                out.append(
                    finding(lock.a, lock.b, "lock_unavailable", f"{who} is unavailable in {where}")
                )
        out += _lock_table_findings(prep, lock, pair_index)
        if lock.table is not None:
            per_table[lock.table, lock.slot] += 1
        for who in {lock.a, lock.b}:
            per_person[who, lock.slot] += 1
            per_total[who] += 1
    for (table, slot), count in sorted(per_table.items()):
        if count > 1:
            for lock in problem.locked:
                if (lock.table, lock.slot) == (table, slot):
                    out.append(
                        finding(lock.a, lock.b, "lock_clash", f"table {table} in slot {slot}")
                    )
    for (who, slot), count in sorted(per_person.items()):
        if count > problem.participants[prep.participant_index[who]].parallel:
            for lock in problem.locked:
                if lock.slot == slot and who in (lock.a, lock.b):
                    out.append(
                        finding(lock.a, lock.b, "lock_clash", f"{who} is double-booked in {slot}")
                    )
    for who, count in sorted(per_total.items()):
        cap = problem.participants[prep.participant_index[who]].max_meetings
        if cap is not None and count > cap:
            for lock in problem.locked:
                if who in (lock.a, lock.b):
                    detail = f"{who} allows at most {counted(cap, 'meeting')}"
                    out.append(finding(lock.a, lock.b, "lock_over_maximum", detail))
    return out


def _lock_table_findings(prep: Prepared, lock: Meeting, pair_index: int) -> list[dict]:
    if not prep.has_tables:
        if lock.table is None:
            return []
        return [finding(lock.a, lock.b, "lock_table", f"table {lock.table}: no tables listed")]
    if lock.table is None or lock.table not in prep.table_host:
        return [finding(lock.a, lock.b, "lock_table", f"table {lock.table} is not listed")]
    prepared = prep.pairs[pair_index]
    hosts = [who for who in (prepared.a, prepared.b) if prep.is_host(who)]
    host = prep.table_host[lock.table]
    # A lock may seat a host at a table with no host (rule 4): staff do so on the day.
    if host is not None and host not in hosts:
        return [
            finding(
                lock.a,
                lock.b,
                "lock_table",
                f"table {lock.table} belongs to {prep.participant_ids[host]}",
            )
        ]
    return []


def over_capacity(prep: Prepared) -> dict[int, tuple[int, int]]:
    """Participants with more must pairs than room: participant -> (must pairs, room).

    A must pair with no slot both can use is not counted (it is a finding of its
    own); room is :meth:`Prepared.usable_capacity`.
    """
    must_count: Counter[int] = Counter()
    for prepared in prep.pairs:
        if prepared.pair.must and prepared.slots:
            must_count[prepared.a] += 1
            must_count[prepared.b] += 1
    out = {}
    for participant in sorted(must_count):
        room = prep.usable_capacity(participant)
        if must_count[participant] > room:
            out[participant] = (must_count[participant], room)
    return out


def lacks_a_table(prep: Prepared, prepared: PreparedPair) -> bool:
    """Whether no table can ever hold the pair: two participants without tables of
    their own, and no table without a host (or no table at all)."""
    hosts = prep.is_host(prepared.a) or prep.is_host(prepared.b)
    return prep.has_tables and not hosts and not prep.pooled_tables


def no_slot_detail(prep: Prepared, prepared: PreparedPair) -> str:
    """Why a pair has no slot to meet in, in words (``solver.reasons`` says the same of
    an unscheduled pair): no table for it, a side available nowhere, or what empties
    the common slots."""
    if lacks_a_table(prep, prepared):
        if not prep.table_host:
            return "no table at all: the problem's tables list is empty"
        return "neither has tables of its own, and every table has a host"
    problem = prep.problem
    now = problem.now is not None and any(prep.past)
    for who in (prepared.a, prepared.b):
        available = problem.participants[who].available
        slots = (
            range(len(prep.slot_ids))
            if available is None
            else [prep.slot_index[s] for s in available]
        )
        if not any(not prep.past[s] for s in slots):
            # A no-show (available nowhere), or someone whose slots are all past.
            when = "no slot" if not slots else "no slot after now"
            return f"{prep.participant_ids[who]} is available in {when}"
    common = "both can use" + (" after now" if now else "")
    if prepared.pair.slots is not None:
        return f"no slot in its slots that {common}"
    return f"no slot that {common}"


def _must_findings(prep: Prepared) -> list[dict]:
    out = [
        finding(
            p.pair.a,
            p.pair.b,
            # No table at all is a shortage of tables, like too few of them.
            "over_capacity" if lacks_a_table(prep, p) else "no_common_slot",
            no_slot_detail(prep, p),
        )
        for p in prep.pairs
        if p.pair.must and not p.slots
    ]
    breaks = prep.problem.max_breaks
    # The room counts its meeting maximum, the slots it can use and, with a cap, its breaks.
    within = (
        " (its maximum and usable slots"
        + ("" if breaks is None else f", with at most {counted(breaks, 'break')}")
        + ")"
    )
    for participant, (required, capacity) in over_capacity(prep).items():
        who = prep.participant_ids[participant]
        detail = f"{who} has {counted(required, 'must pair')} but room for {capacity}{within}"
        for pair_index in prep.pairs_of[participant]:
            pair = prep.pairs[pair_index].pair
            if pair.must and prep.pairs[pair_index].slots:
                out.append(finding(pair.a, pair.b, "over_capacity", detail))
    return out


def _pooled_table_findings(prep: Prepared) -> list[dict]:
    """Must meetings of two non-hosts beyond pooled tables × the slots they can use."""
    if not prep.has_tables:
        return []
    pooled_musts = [
        p for p in prep.pairs if p.pair.must and p.slots and not prep.table_hosts(p.index)
    ]
    slots = {s for p in pooled_musts for s in p.slots}
    capacity = len(prep.pooled_tables) * len(slots)
    if len(pooled_musts) <= capacity:
        return []
    needed, tables = len(pooled_musts), len(prep.pooled_tables)
    detail = (
        f"{counted(needed, 'must meeting')} {'needs' if needed == 1 else 'need'} a table "
        f"with no host, but there {'is' if tables == 1 else 'are'} "
        f"{counted(tables, 'such table')} × {counted(len(slots), 'slot')}"
    )
    return [finding(p.pair.a, p.pair.b, "over_capacity", detail) for p in pooled_musts]


def precheck(prep: Prepared) -> list[dict]:
    """Every obvious reason the problem is infeasible (empty when none is found)."""
    return _lock_findings(prep) + _must_findings(prep) + _pooled_table_findings(prep)
