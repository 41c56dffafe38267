"""The problem in the shape the model needs: integer indices and feasible slots.

Everything here is derived once from a :class:`~solver.problem.Problem` and is
shared by the CP-SAT model, the greedy warm start, the relaxation bound and the
reasons for unscheduled pairs, so all four agree on which (pair, slot)
combinations are possible at all. Iteration orders are lists, never sets, so the
same problem always builds the same model (determinism with one worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solver.problem import Meeting, Pair, Problem
from solver.timeline import slot_days

POOLED = "pooled"  # table group of tables with no host
UNLIMITED = "unlimited"  # the problem has no tables at all


@dataclass(slots=True)
class PreparedPair:
    """One listed pair with the slots it may meet in (already filtered)."""

    index: int
    pair: Pair
    a: int
    b: int
    slots: list[int]
    locked: Meeting | None = None
    both_hosts: bool = False  # both sides host tables: it may sit at either's table
    # Locked at a table with no host although a side hosts tables (on the day, staff
    # may seat a host elsewhere, e.g. when its own table is out of use): its one
    # meeting takes a table of the pool, not one of the host's (rule 4).
    pooled_lock: bool = False


@dataclass(slots=True)
class Prepared:
    """Indices and derived facts of one problem (see module docstring)."""

    problem: Problem
    participant_ids: list[str] = field(default_factory=list)
    participant_index: dict[str, int] = field(default_factory=dict)
    slot_ids: list[str] = field(default_factory=list)
    slot_index: dict[str, int] = field(default_factory=dict)
    days: list[list[int]] = field(default_factory=list)
    past: list[bool] = field(default_factory=list)
    pairs: list[PreparedPair] = field(default_factory=list)
    pair_index: dict[frozenset[str], int] = field(default_factory=dict)
    pairs_of: list[list[int]] = field(default_factory=list)
    # Tables: per participant the tables it hosts (empty for non-hosts), and the pool.
    hosted_tables: list[list[str]] = field(default_factory=list)
    pooled_tables: list[str] = field(default_factory=list)
    has_tables: bool = False
    table_host: dict[str, int | None] = field(default_factory=dict)
    # Set only for a neighbourhood of a large-neighbourhood search (solver.model.lns):
    # pooled tables left per slot by meetings outside the neighbourhood, and the
    # participants whose every meeting is fixed (no break or bonus terms needed).
    pooled_limit: dict[int, int] | None = None
    frozen: frozenset[int] = frozenset()

    def is_host(self, participant: int) -> bool:
        """Whether ``participant`` hosts tables (and so meets only at its own)."""
        return bool(self.hosted_tables[participant])

    def table_hosts(self, pair_index: int) -> list[int]:
        """The sides of pair ``pair_index`` whose own tables its meeting takes (one of
        them for a meeting of two hosts); empty when it takes a pooled table."""
        prepared = self.pairs[pair_index]
        if prepared.pooled_lock:
            return []
        return [who for who in (prepared.a, prepared.b) if self.is_host(who)]

    def pooled_capacity(self, slot: int) -> int:
        """Pooled tables free for the model's meetings in ``slot``."""
        if self.pooled_limit is None:
            return len(self.pooled_tables)
        return self.pooled_limit.get(slot, len(self.pooled_tables))

    def max_meetings(self, participant: int) -> int | None:
        """The participant's ``max_meetings`` (None: no cap)."""
        return self.problem.participants[participant].max_meetings

    def usable_capacity(self, participant: int) -> int:
        """An upper bound on the participant's meetings: slots it can use × per-slot limit.

        Under ``max_breaks`` only the slots it can be busy in without exceeding the
        cap count (see :meth:`_within_breaks`).
        """
        slots: set[int] = set()
        for pair_index in self.pairs_of[participant]:
            slots.update(self.pairs[pair_index].slots)
        per_slot = self.problem.participants[participant].parallel
        # Each of a host's meetings sits at one of its own tables, unless the other
        # side is a host too or it is locked at a pooled table; without those its
        # tables cap each slot.
        if (
            self.has_tables
            and self.is_host(participant)
            and not any(
                self.pairs[i].both_hosts or self.pairs[i].pooled_lock
                for i in self.pairs_of[participant]
            )
        ):
            per_slot = min(per_slot, len(self.hosted_tables[participant]))
        usable = len(slots) if self.problem.max_breaks is None else self._within_breaks(slots)
        cap = usable * per_slot
        limit = self.max_meetings(participant)
        return cap if limit is None else min(cap, limit)

    def _within_breaks(self, slots: set[int]) -> int:
        """How many of ``slots`` one participant can be busy in under ``max_breaks``.

        Busy slots form runs inside the runs of usable slots; one run per day is
        free and every further run costs a break. So the most is each day's
        longest usable run plus the ``max_breaks`` longest of the other runs.
        """
        best_per_day = 0
        others: list[int] = []
        for day in self.days:
            runs: list[int] = []
            length = 0
            for slot in day:
                if slot in slots:
                    length += 1
                elif length:
                    runs.append(length)
                    length = 0
            if length:
                runs.append(length)
            if runs:
                runs.sort(reverse=True)
                best_per_day += runs[0]
                others.extend(runs[1:])
        others.sort(reverse=True)
        return best_per_day + sum(others[: self.problem.max_breaks or 0])

    def other(self, pair_index: int, participant: int) -> int:
        """The other side of pair ``pair_index``."""
        prepared = self.pairs[pair_index]
        return prepared.b if prepared.a == participant else prepared.a


def prepare(problem: Problem) -> Prepared:
    """Index ``problem`` and compute every pair's feasible slots.

    A pair's feasible slots are its own ``slots`` ∩ both sides' availability ∩
    slots not starting before ``now``, and empty when no table can ever hold it
    (two non-hosts and no pooled table). A locked pair has exactly its locked slot,
    whatever the filters say: whether the lock itself is sound is checked by
    :mod:`solver.model.prechecks`. A lock at a table with no host takes a pooled
    table even when a side hosts tables (``pooled_lock``).
    """
    prep = Prepared(problem=problem)
    prep.participant_ids = [p.id for p in problem.participants]
    prep.participant_index = {pid: i for i, pid in enumerate(prep.participant_ids)}
    prep.slot_ids = [s.id for s in problem.slots]
    prep.slot_index = {sid: i for i, sid in enumerate(prep.slot_ids)}
    prep.days = slot_days(problem)
    now = problem.now
    prep.past = [now is not None and s.start < now for s in problem.slots]

    prep.hosted_tables = [[] for _ in problem.participants]
    prep.has_tables = problem.tables is not None
    for table in problem.tables or ():
        if table.host is None:
            prep.pooled_tables.append(table.id)
            prep.table_host[table.id] = None
        else:
            host = prep.participant_index.get(table.host)
            prep.table_host[table.id] = host
            if host is not None:
                prep.hosted_tables[host].append(table.id)

    locks: dict[frozenset[str], Meeting] = {}
    for lock in problem.locked:
        locks.setdefault(lock.key, lock)

    all_slots = list(range(len(problem.slots)))
    available = [
        all_slots
        if p.available is None
        else [s for s in all_slots if prep.slot_ids[s] in p.available]
        for p in problem.participants
    ]
    prep.pairs_of = [[] for _ in problem.participants]
    for pair in problem.pairs:
        a = prep.participant_index[pair.a]
        b = prep.participant_index[pair.b]
        index = len(prep.pairs)
        lock = locks.get(pair.key)
        if lock is not None and lock.slot in prep.slot_index:
            slots = [prep.slot_index[lock.slot]]
        else:
            avail_b = set(available[b])
            slots = [
                s
                for s in available[a]
                if s in avail_b
                and not prep.past[s]
                and (pair.slots is None or prep.slot_ids[s] in pair.slots)
            ]
            if (
                prep.has_tables
                and not prep.pooled_tables
                and not prep.hosted_tables[a]
                and not prep.hosted_tables[b]
            ):
                slots = []
        hosting = bool(prep.hosted_tables[a]) or bool(prep.hosted_tables[b])
        pooled_lock = (
            lock is not None
            and lock.slot in prep.slot_index
            and lock.table is not None
            and lock.table in prep.table_host
            and prep.table_host[lock.table] is None
            and hosting
        )
        both_hosts = bool(prep.hosted_tables[a]) and bool(prep.hosted_tables[b]) and not pooled_lock
        prepared = PreparedPair(index, pair, a, b, slots, lock, both_hosts, pooled_lock)
        prep.pairs.append(prepared)
        prep.pair_index[pair.key] = index
        prep.pairs_of[a].append(index)
        prep.pairs_of[b].append(index)
    return prep
