"""The executable specification of a valid schedule and of its objective.

Everything the CP-SAT engine promises is checked here again, independently and
without importing OR-Tools: :func:`check` lists every violated hard rule (rules
1–8 of ``docs/problem-format.md``) and :func:`objective` recomputes the objective
from the meetings alone. Every solver test and benchmark passes its output
through :func:`assert_valid`, and the schedule file's ``objective`` is the value
of :func:`objective`, never a number copied from the solver's internals.

Pairs are matched unordered: a meeting ``(S010, B001)`` is the pair listed as
``{"a": "B001", "b": "S010"}``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from solver.problem import Meeting, Pair, Participant, Problem, Slot, Table
from solver.timeline import count_breaks, slot_days

# A meeting's identity for rules 6 and 7 and for the change penalty: the unordered
# pair, the slot and the table.
MeetingKey = tuple[frozenset[str], str, str | None]


def meeting_key(meeting: Meeting) -> MeetingKey:
    """The identity of a meeting that ignores the order of ``a`` and ``b``."""
    return (meeting.key, meeting.slot, meeting.table)


def _describe(meeting: Meeting) -> str:
    where = f" at table {meeting.table}" if meeting.table is not None else ""
    return f"meeting {meeting.a}–{meeting.b} in slot {meeting.slot}{where}"


class _Index:
    """Look-ups by id over one problem, built once per check."""

    def __init__(self, problem: Problem) -> None:
        self.slots: dict[str, Slot] = {s.id: s for s in problem.slots}
        self.participants: dict[str, Participant] = {p.id: p for p in problem.participants}
        self.pairs: dict[frozenset[str], Pair] = {p.key: p for p in problem.pairs}
        self.tables: dict[str, Table] | None = (
            None if problem.tables is None else {t.id: t for t in problem.tables}
        )
        self.hosts: set[str] = {t.host for t in problem.tables or () if t.host is not None}


def check(problem: Problem, meetings: Iterable[Meeting]) -> list[str]:
    """Every hard rule the meetings break, one human-readable message each.

    An empty list means the schedule is valid. Messages name the pair,
    participant, slot or table at fault and the rule's number in the format doc.
    """
    meetings = list(meetings)
    index = _Index(problem)
    errors: list[str] = []
    errors += _check_references(index, meetings)
    errors += _check_pairs(index, meetings)
    errors += _check_participants(problem, index, meetings)
    errors += _check_tables(index, meetings, {meeting_key(m) for m in problem.locked})
    errors += _check_must(problem, meetings)
    errors += _check_locked_and_now(problem, index, meetings)
    errors += _check_breaks(problem, meetings)
    return errors


def assert_valid(problem: Problem, meetings: Iterable[Meeting]) -> None:
    """Raise ``AssertionError`` listing every violated hard rule, if any."""
    errors = check(problem, meetings)
    if errors:
        raise AssertionError(
            f"{len(errors)} hard rule violation(s):\n" + "\n".join(f"- {e}" for e in errors)
        )


def _check_references(index: _Index, meetings: list[Meeting]) -> list[str]:
    """Ids that exist, and a table exactly when the problem has tables."""
    errors = []
    for m in meetings:
        if m.a == m.b:
            errors.append(f"rule 1: {_describe(m)} pairs {m.a} with itself")
        for who in (m.a, m.b):
            if who not in index.participants:
                errors.append(f"rule 1: {_describe(m)} names unknown participant {who}")
        if m.slot not in index.slots:
            errors.append(f"rule 1: {_describe(m)} is in unknown slot {m.slot}")
        if index.tables is None:
            if m.table is not None:
                errors.append(
                    f"rule 4: {_describe(m)} names table {m.table}, but the problem has no tables"
                )
        elif m.table is None:
            errors.append(f"rule 4: {_describe(m)} has no table, but the problem lists tables")
        elif m.table not in index.tables:
            errors.append(f"rule 4: {_describe(m)} is at unknown table {m.table}")
    return errors


def _check_pairs(index: _Index, meetings: list[Meeting]) -> list[str]:
    """Rule 1: only listed pairs, at most once, only in the pair's slots."""
    errors = []
    times = Counter(m.key for m in meetings)
    for m in meetings:
        pair = index.pairs.get(m.key)
        if pair is None:
            if m.a != m.b:
                errors.append(f"rule 1: {_describe(m)}: {m.a}–{m.b} is not a listed pair")
            continue
        if pair.slots is not None and m.slot not in pair.slots:
            allowed = ", ".join(sorted(pair.slots))
            errors.append(
                f"rule 1: {_describe(m)}: pair {pair.a}–{pair.b} may meet only in slots {allowed}"
            )
    for key, count in sorted(times.items(), key=lambda kv: sorted(kv[0])):
        if count > 1 and key in index.pairs:
            pair = index.pairs[key]
            errors.append(f"rule 1: pair {pair.a}–{pair.b} meets {count} times (at most once)")
    return errors


def _check_participants(problem: Problem, index: _Index, meetings: list[Meeting]) -> list[str]:
    """Rule 2: availability, ``parallel`` per slot, ``max_meetings`` in all."""
    errors = []
    per_slot: Counter[tuple[str, str]] = Counter()
    total: Counter[str] = Counter()
    for m in meetings:
        for who in {m.a, m.b}:
            participant = index.participants.get(who)
            if participant is None:
                continue
            per_slot[(who, m.slot)] += 1
            total[who] += 1
            if participant.available is not None and m.slot not in participant.available:
                errors.append(f"rule 2: {_describe(m)}: {who} is not available in slot {m.slot}")
    for (who, slot), count in sorted(per_slot.items()):
        limit = index.participants[who].parallel
        if count > limit:
            errors.append(
                f"rule 2: {who} has {count} meetings in slot {slot} (parallel allows {limit})"
            )
    for participant in problem.participants:
        cap = participant.max_meetings
        if cap is not None and total[participant.id] > cap:
            errors.append(
                f"rule 2: {participant.id} has {total[participant.id]} meetings "
                f"(max_meetings is {cap})"
            )
    return errors


def _check_tables(index: _Index, meetings: list[Meeting], locked: set[MeetingKey]) -> list[str]:
    """Rules 3 and 4: one meeting per table and slot; hosts keep to their tables, but
    a ``locked`` meeting may seat a host at a table with no host (staff do so on the
    day, when a host's own table cannot be used)."""
    if index.tables is None:
        return []
    errors = []
    occupancy: defaultdict[tuple[str, str], list[Meeting]] = defaultdict(list)
    for m in meetings:
        table = index.tables.get(m.table) if m.table is not None else None
        if table is None:
            continue  # reported by _check_references
        occupancy[(table.id, m.slot)].append(m)
        hosting = [who for who in (m.a, m.b) if who in index.hosts]
        # Two checks cover all of rule 4: a hosted table's host is in the meeting (so a
        # meeting of two hosts may use either's table), and a meeting with a host in it
        # is at a hosted table (hence its own). A meeting of two non-hosts thereby
        # lands on a table with no host.
        if table.host is not None and table.host not in (m.a, m.b):
            errors.append(
                f"rule 4: {_describe(m)}: table {table.id} belongs to host "
                f"{table.host}, who is not in this meeting"
            )
        elif hosting and table.host is None and meeting_key(m) not in locked:
            errors.append(
                f"rule 4: {_describe(m)}: {' and '.join(hosting)} host tables and "
                f"meet only at their own, but table {table.id} has no host"
            )
    for (table_id, slot), held in sorted(occupancy.items()):
        if len(held) > 1:
            names = "; ".join(f"{m.a}–{m.b}" for m in held)
            errors.append(
                f"rule 3: table {table_id} holds {len(held)} meetings in slot {slot} ({names})"
            )
    return errors


def _check_must(problem: Problem, meetings: list[Meeting]) -> list[str]:
    """Rule 5: every must-meet pair is scheduled."""
    met = {m.key for m in meetings}
    return [
        f"rule 5: must-meet pair {p.a}–{p.b} is not scheduled"
        for p in problem.pairs
        if p.must and p.key not in met
    ]


def _check_locked_and_now(problem: Problem, index: _Index, meetings: list[Meeting]) -> list[str]:
    """Rules 6 and 7: locks are kept exactly; nothing new is placed in the past."""
    errors = []
    present = {meeting_key(m) for m in meetings}
    locked = {meeting_key(m) for m in problem.locked}
    for lock in problem.locked:
        if meeting_key(lock) not in present:
            errors.append(f"rule 6: locked {_describe(lock)} is not in the schedule as given")
    if problem.now is not None:
        for m in meetings:
            slot = index.slots.get(m.slot)
            if slot is not None and slot.start < problem.now and meeting_key(m) not in locked:
                errors.append(
                    f"rule 7: {_describe(m)} is not locked, but slot {m.slot} "
                    f"starts before now ({problem.now.isoformat()})"
                )
    return errors


def _check_breaks(problem: Problem, meetings: list[Meeting]) -> list[str]:
    """Rule 8: nobody has more than ``max_breaks`` breaks."""
    if problem.max_breaks is None:
        return []
    return [
        f"rule 8: {who} has {count} breaks (max_breaks is {problem.max_breaks})"
        for who, count in sorted(breaks_per_participant(problem, meetings).items())
        if count > problem.max_breaks
    ]


def breaks_per_participant(problem: Problem, meetings: Iterable[Meeting]) -> dict[str, int]:
    """Each participant's number of breaks (every participant present, 0 included).

    A break is a maximal run of slots without a meeting between two slots with a
    meeting on the same local day (see :mod:`solver.timeline`). Meetings in
    unknown slots or of unknown participants are ignored here (``check`` reports them).
    """
    position = {s.id: i for i, s in enumerate(problem.slots)}
    busy: defaultdict[str, set[int]] = defaultdict(set)
    for m in meetings:
        if m.slot in position:
            busy[m.a].add(position[m.slot])
            busy[m.b].add(position[m.slot])
    days = slot_days(problem)
    return {p.id: sum(count_breaks(day, busy[p.id]) for day in days) for p in problem.participants}


def meeting_counts(problem: Problem, meetings: Iterable[Meeting]) -> dict[str, int]:
    """Each participant's number of meetings (every participant present, 0 included)."""
    counts = dict.fromkeys((p.id for p in problem.participants), 0)
    for m in meetings:
        for who in {m.a, m.b}:
            if who in counts:
                counts[who] += 1
    return counts


def bonus_for(meeting_bonus: tuple[int, ...], k: int) -> int:
    """``meeting_bonus[0] + … + meeting_bonus[k-1]``; entries past the end count 0."""
    return sum(meeting_bonus[:k])


def objective(problem: Problem, meetings: Iterable[Meeting]) -> int:
    """The objective of ``meetings``, recomputed exactly as the format doc defines it.

    sum of weights of the scheduled pairs (each pair once, unknown pairs 0)
    + each participant's concave meeting bonus
    − ``break_penalty`` × total breaks
    − ``change_penalty`` × ``current`` meetings not kept with the same pair, slot, table.
    The value is meaningful for a valid schedule; :func:`check` says whether it is one.
    """
    meetings = list(meetings)
    weights = {p.key: p.weight for p in problem.pairs}
    value = sum(weights.get(key, 0) for key in {m.key for m in meetings})
    value += sum(
        bonus_for(problem.meeting_bonus, k) for k in meeting_counts(problem, meetings).values()
    )
    if problem.break_penalty:
        value -= problem.break_penalty * sum(breaks_per_participant(problem, meetings).values())
    if problem.change_penalty:
        kept = {meeting_key(m) for m in meetings}
        changed = sum(1 for m in problem.current if meeting_key(m) not in kept)
        value -= problem.change_penalty * changed
    return value
