"""Random problems for the engine's tests, and a brute-force optimum for tiny ones.

Tiny problems are solved by enumerating every choice of slot (or none) per pair;
tables are then placed group by group (pooled, or the host's own), which is
exact whenever no pair joins two hosts — the generator never makes such pairs
when ``host_pairs`` is False.
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

from solver.problem import Meeting, Pair, Participant, Problem, Slot, Table
from solver.validation import check, objective

JST = timezone(timedelta(hours=9))


def make_slots(per_day: list[int], lunch_after: int | None = None) -> tuple[Slot, ...]:
    """``per_day[d]`` slots on day d, 30 minutes apart (a lunch gap after ``lunch_after``)."""
    slots = []
    for day, count in enumerate(per_day):
        start = datetime(2027, 2, 10 + day, 10, 0, tzinfo=JST)
        for k in range(count):
            if lunch_after is not None and k == lunch_after:
                start += timedelta(minutes=90)
            slots.append(Slot(f"d{day}s{k:02d}", start, start + timedelta(minutes=25)))
            start += timedelta(minutes=30)
    return tuple(slots)


def a_meets_b_and_c(per_day: list[int], c_slot: str, max_breaks: int | None) -> Problem:
    """A meets B in the first slot of the first day and C in slot ``c_slot``, all musts."""
    return Problem(
        slots=make_slots(per_day),
        participants=tuple(Participant(i) for i in "ABC"),
        pairs=(
            Pair("A", "B", 1, True, frozenset({"d0s00"})),
            Pair("A", "C", 1, True, frozenset({c_slot})),
        ),
        tables=(Table("T1"),),
        break_penalty=1,
        max_breaks=max_breaks,
    )


def random_problem(
    rng: random.Random,
    *,
    buyers: int = 3,
    suppliers: int = 4,
    per_day: tuple[int, ...] = (4,),
    density: float = 0.6,
    hosted: bool = True,
    pooled: int = 2,
    tables: bool = True,
    must_share: float = 0.2,
    supplier_pairs: bool = True,
    host_pairs: bool = False,
    penalties: bool = True,
    current: bool = False,
) -> Problem:
    """A random, well-formed problem (it may be infeasible when musts are drawn)."""
    slots = make_slots(list(per_day))
    slot_ids = [s.id for s in slots]
    participants = []
    for i in range(buyers):
        available = None
        if rng.random() < 0.3:
            available = frozenset(rng.sample(slot_ids, max(1, len(slot_ids) - rng.randint(1, 2))))
        participants.append(
            Participant(
                f"B{i}",
                "buyer",
                available=available,
                max_meetings=rng.choice([None, None, 2, 3]),
                parallel=rng.choice([1, 1, 1, 2]),
            )
        )
    for i in range(suppliers):
        participants.append(
            Participant(f"S{i}", "supplier", max_meetings=rng.choice([None, None, 2]))
        )
    table_list: list[Table] = []
    hosts: list[str] = []
    if tables:
        for i in range(buyers):
            if hosted and rng.random() < 0.6:
                hosts.append(f"B{i}")
                table_list.extend(
                    Table(f"H{i}_{k}", host=f"B{i}") for k in range(rng.choice([1, 1, 2]))
                )
        table_list.extend(Table(f"P{k}") for k in range(pooled))
    pairs = []
    for i in range(buyers):
        for j in range(suppliers):
            if rng.random() < density:
                pairs.append(_pair(rng, f"B{i}", f"S{j}", slot_ids, must_share))
    if supplier_pairs:
        for i, j in itertools.combinations(range(suppliers), 2):
            if rng.random() < density / 3:
                pairs.append(_pair(rng, f"S{i}", f"S{j}", slot_ids, must_share))
    if host_pairs:
        for i, j in itertools.combinations(range(buyers), 2):
            if rng.random() < density / 2:
                pairs.append(_pair(rng, f"B{i}", f"B{j}", slot_ids, must_share))
    bonus = tuple(sorted((rng.randint(0, 12) for _ in range(rng.randint(0, 3))), reverse=True))
    plan: tuple[Meeting, ...] = ()
    if current and pairs:
        # A previous plan, not necessarily valid now: random pairs, slots and tables.
        table_ids = [t.id for t in table_list] if tables else [None]
        plan = tuple(
            Meeting(p.a, p.b, rng.choice(slot_ids), rng.choice(table_ids or [None]))
            for p in rng.sample(pairs, rng.randint(1, len(pairs)))
        )
    return Problem(
        slots=slots,
        participants=tuple(participants),
        pairs=tuple(pairs),
        tables=tuple(table_list) if tables else None,
        meeting_bonus=bonus,
        break_penalty=rng.choice([0, 2, 5]) if penalties else 0,
        max_breaks=rng.choice([None, None, 0, 1]) if penalties else None,
        current=plan,
        change_penalty=rng.choice([1, 4, 20]) if plan else 0,
    )


def _pair(rng: random.Random, a: str, b: str, slot_ids: list[str], must_share: float) -> Pair:
    slots = None
    if rng.random() < 0.2:
        slots = frozenset(rng.sample(slot_ids, rng.randint(1, len(slot_ids))))
    return Pair(a, b, weight=rng.randint(0, 10), must=rng.random() < must_share, slots=slots)


def brute_force_optimum(problem: Problem) -> int | None:
    """The best objective over all valid schedules (None if there is none).

    Exponential: only for a handful of pairs and slots, and no host–host pairs.
    """
    slot_ids = [s.id for s in problem.slots]
    locked = {m.key: m for m in problem.locked}
    choices = []
    for pair in problem.pairs:
        if pair.key in locked:
            choices.append([locked[pair.key].slot])
        else:
            choices.append([None, *slot_ids])
    best = None
    for combo in itertools.product(*choices):
        meetings = _place(problem, combo)
        if meetings is None or check(problem, meetings):
            continue
        value = objective(problem, meetings)
        if best is None or value > best:
            best = value
    return best


def _place(problem: Problem, combo: tuple) -> list[Meeting] | None:
    hosts = {t.host for t in problem.tables or () if t.host is not None}
    locked = {m.key: m for m in problem.locked}
    used: set[tuple[str, str]] = {(m.table, m.slot) for m in problem.locked}
    meetings = []
    for pair, slot in zip(problem.pairs, combo, strict=True):
        if slot is None:
            continue
        if pair.key in locked:
            meetings.append(locked[pair.key])
            continue
        table = None
        if problem.tables is not None:
            host = next((w for w in (pair.a, pair.b) if w in hosts), None)
            group = [t.id for t in problem.tables if t.host == host]
            table = next((t for t in group if (t, slot) not in used), None)
            if table is None:
                return None
            used.add((table, slot))
        meetings.append(Meeting(pair.a, pair.b, slot, table))
    return meetings
