"""A partial schedule that knows which meetings still fit: the state of the constructive baselines.

Greedy and the slot-by-slot heuristic both build a schedule one meeting at a time
and must never break a hard rule; :class:`Board` answers "may this pair meet in
this slot, and at which table?" for every rule of ``docs/problem-format.md``
(pair slots, availability, ``parallel``, ``max_meetings``, ``now``, hosts and
pooled tables, ``max_breaks``), so the two heuristics only decide the order.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from solver.problem import Meeting, Pair, Problem
from solver.timeline import count_breaks, slot_days


class Board:
    """Meetings placed so far on ``problem``, with the look-ups to place more."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.participants = {p.id: p for p in problem.participants}
        self.slot_index = {s.id: i for i, s in enumerate(problem.slots)}
        self.days = [tuple(day) for day in slot_days(problem)]
        self.day_of: dict[int, tuple[int, ...]] = {}
        for day in self.days:
            for i in day:
                self.day_of[i] = day
        now = problem.now
        self.open_slots = {s.id for s in problem.slots if now is None or s.start >= now}
        self.hosted: dict[str, list[str]] = defaultdict(list)
        self.pooled: list[str] = []
        for table in problem.tables or ():
            if table.host is None:
                self.pooled.append(table.id)
            else:
                self.hosted[table.host].append(table.id)
        self.unlimited_tables = problem.tables is None
        self.per_slot: Counter[tuple[str, str]] = Counter()
        self.total: Counter[str] = Counter()
        self.busy: defaultdict[str, set[int]] = defaultdict(set)
        self.table_taken: set[tuple[str, str]] = set()
        self.met: set[frozenset[str]] = set()
        self.meetings: list[Meeting] = []

    def slot_capacity(self, who: str, slot: str) -> int:
        """How many more meetings ``who`` may have in ``slot`` (0 when unavailable)."""
        participant = self.participants[who]
        if participant.available is not None and slot not in participant.available:
            return 0
        room = participant.parallel - self.per_slot[(who, slot)]
        if participant.max_meetings is not None:
            room = min(room, participant.max_meetings - self.total[who])
        if who in self.hosted:
            room = min(room, len(self.free_hosted(who, slot)))
        return max(room, 0)

    def free_hosted(self, host: str, slot: str) -> list[str]:
        """``host``'s tables still free in ``slot``."""
        return [t for t in self.hosted[host] if (t, slot) not in self.table_taken]

    def free_pooled(self, slot: str) -> list[str]:
        """Tables without a host still free in ``slot``."""
        return [t for t in self.pooled if (t, slot) not in self.table_taken]

    def breaks_added(self, who: str, slot: str) -> int:
        """How many breaks ``who`` gains (or, negative, loses) by meeting in ``slot``."""
        index = self.slot_index[slot]
        day = self.day_of[index]
        busy = self.busy[who]
        return count_breaks(day, busy | {index}) - count_breaks(day, busy)

    def may_meet(self, pair: Pair, slot: str) -> bool:
        """Every rule but the table's: the pair may meet in ``slot`` given what is placed."""
        if pair.key in self.met or slot not in self.open_slots:
            return False
        if pair.slots is not None and slot not in pair.slots:
            return False
        if self.slot_capacity(pair.a, slot) <= 0 or self.slot_capacity(pair.b, slot) <= 0:
            return False
        limit = self.problem.max_breaks
        if limit is not None:
            for who in (pair.a, pair.b):
                index = self.slot_index[slot]
                if count_breaks(self.day_of[index], self.busy[who] | {index}) > limit - (
                    self._breaks_elsewhere(who, index)
                ):
                    return False
        return True

    def _breaks_elsewhere(self, who: str, index: int) -> int:
        """Breaks of ``who`` on the days other than the day of slot ``index``."""
        own = self.day_of[index]
        return sum(count_breaks(d, self.busy[who]) for d in self.days if d != own)

    def table_for(self, pair: Pair, slot: str, preferred: str | None = None) -> str | bool | None:
        """A free table where ``pair`` may meet in ``slot``; None when tables are unlimited.

        Returns False when no table fits (rule 4: hosts meet at their own tables,
        two non-hosts at a table without a host).
        """
        if self.unlimited_tables:
            return None
        hosts = [who for who in (pair.a, pair.b) if who in self.hosted]
        if hosts:
            options = [t for host in hosts for t in self.free_hosted(host, slot)]
        else:
            options = self.free_pooled(slot)
        if preferred in options:
            return preferred
        return options[0] if options else False

    def place(self, meeting: Meeting) -> None:
        """Add ``meeting`` (the caller has checked that it fits, or it is a lock)."""
        self.meetings.append(meeting)
        self.met.add(meeting.key)
        for who in {meeting.a, meeting.b}:
            self.per_slot[(who, meeting.slot)] += 1
            self.total[who] += 1
            self.busy[who].add(self.slot_index[meeting.slot])
        if meeting.table is not None:
            self.table_taken.add((meeting.table, meeting.slot))
