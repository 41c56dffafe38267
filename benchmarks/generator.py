"""Seedable generator of realistic matching-fair problems (pure: no database, no solver).

Every family shares the traits of real 商談会 that make scheduling hard:

* **Slots** in Asia/Tokyo with a lunch gap: a day is 10:00–12:00 and 13:00–17:00 in
  30-minute slots (12 slots a day); the lunch hour is a gap, not a slot.
* **Late arrivals and early leavers**: about 18% of participants miss the first or
  the last 2–5 slots of one day (their ``available`` set).
* **Requests skewed towards a few buyers**: each supplier asks for about 5 buyers
  (3–7), drawn with Zipf-like popularity (buyer of rank r has weight 1/r^0.8).
* **Screening by buyers**: a buyer declines 10% of requests (the pair is omitted),
  is neutral on 45% and accepts the rest with a level 1–3.

Scoring rule (the pair's ``weight``): ``2 × supplier level (1–3) + buyer score``,
where the buyer score is the acceptance level (1–3) or 1 when neutral. Weights
range 3–9; a very keen supplier outweighs a lukewarm buyer, as organisers want.
Fairness is asked for with ``meeting_bonus = [20, 5]`` (a participant's first
meeting is worth far more than its third), and waiting costs ``break_penalty = 1``.

Families (:data:`FAMILIES`): ``fair`` (40 buyers host their tables, 200 suppliers,
12 slots), ``pooled`` (60 × 120, no hosts, 21 pooled tables that bind), ``expo``
(200 × 1500 over two days, 12% of buyers with two desks), ``mega`` (1000 × 5000
over three days, hosted like expo), ``repair`` (expo after 5% no-shows a third into
day one, see :func:`repair_from`) and ``compact`` (60–80 companies meeting each
other, every meeting a must, tight pooled tables and ``max_breaks = 2``).
``compact-infeasible`` is ``compact`` with one table too few for its must-meetings.
Keyword overrides shrink or reshape any family (``generate("fair", buyers=10,
suppliers=40)``), which is how the tests use the generator.

From the command line it writes one problem file (``docs/problem-format.md``)::

    python -m benchmarks.generator FAMILY [--seed N] [--set NAME=VALUE ...] [-o PROBLEM.json]
    python -m benchmarks.generator fair --seed 3 --set buyers=10 --set suppliers=40 -o fair.json
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from solver.problem import Meeting, Pair, Participant, Problem, Slot, Table
from solver.timeline import count_breaks

TOKYO = ZoneInfo("Asia/Tokyo")
FIRST_DAY = date(2027, 2, 10)
MEETING_BONUS = (20, 5)
BREAK_PENALTY = 1
CHANGE_PENALTY = 6

# Buyer screening: (answer, score, probability). A declined pair is left out.
SCREENING = (
    ("declined", 0, 0.10),
    ("neutral", 1, 0.45),
    ("accept", 1, 0.15),
    ("accept", 2, 0.18),
    ("accept", 3, 0.12),
)
SUPPLIER_LEVELS = ((1, 0.3), (2, 0.4), (3, 0.3))

FAMILIES: dict[str, dict] = {
    "fair": {
        "buyers": 40,
        "suppliers": 200,
        "days": 1,
        "hosted": True,
        "pooled_tables": 0,
        "two_desk_share": 0.0,
    },
    "pooled": {
        "buyers": 60,
        "suppliers": 120,
        "days": 1,
        "hosted": False,
        "pooled_tables": 21,
        "two_desk_share": 0.0,
    },
    "expo": {
        "buyers": 200,
        "suppliers": 1500,
        "days": 2,
        "hosted": True,
        "pooled_tables": 0,
        "two_desk_share": 0.12,
    },
    "mega": {
        "buyers": 1000,
        "suppliers": 5000,
        "days": 3,
        "hosted": True,
        "pooled_tables": 0,
        "two_desk_share": 0.12,
    },
}
COMPACT_FAMILIES = ("compact", "compact-infeasible")
ALL_FAMILIES = (*FAMILIES, "repair", *COMPACT_FAMILIES)

# The overrides each family takes (see generate), with their type and smallest value;
# shares lie between 0 and 1.
_BUYER_SUPPLIER_OVERRIDES: dict[str, tuple[type, float]] = {
    "buyers": (int, 1),
    "suppliers": (int, 1),
    "days": (int, 1),
    "slots_per_day": (int, 2),
    "hosted": (bool, 0),
    "pooled_tables": (int, 0),
    "two_desk_share": (float, 0),
    "requests_mean": (int, 1),
    "late_share": (float, 0),
}
_COMPACT_OVERRIDES: dict[str, tuple[type, float]] = {
    "companies": (int, 2),
    "meetings": (int, 1),
    "slots": (int, 2),
    "tables": (int, 1),
}
OVERRIDES: dict[str, dict[str, tuple[type, float]]] = {
    **{family: _BUYER_SUPPLIER_OVERRIDES for family in FAMILIES},
    "repair": {**_BUYER_SUPPLIER_OVERRIDES, "no_show_share": (float, 0)},
    **{family: _COMPACT_OVERRIDES for family in COMPACT_FAMILIES},
}


def generate(family: str, seed: int = 0, **overrides: object) -> Problem:
    """A realistic problem of ``family``, the same for the same seed and overrides.

    Overrides for the buyer–supplier families: ``buyers``, ``suppliers``, ``days``,
    ``slots_per_day``, ``hosted``, ``pooled_tables``, ``two_desk_share``,
    ``requests_mean``, ``late_share``. ``repair`` accepts the same (they shape the
    underlying expo) plus ``no_show_share``. ``compact`` accepts ``companies``,
    ``meetings``, ``slots``, ``tables``.
    """
    # Both compact variants share their random stream: the infeasible one is the same
    # fair with one table too few.
    stream = "compact" if family in COMPACT_FAMILIES else family
    rng = random.Random(f"{stream}:{seed}")
    if family in FAMILIES:
        params = {**FAMILIES[family], **overrides}
        return _buyer_supplier_problem(rng, family, **params)
    if family == "repair":
        # Imported here: the baselines use the problem objects, not the generator.
        from benchmarks.baselines import greedy

        no_show_share = float(overrides.pop("no_show_share", 0.05))  # type: ignore[arg-type]
        expo = generate("expo", seed, **overrides)
        return repair_from(expo, greedy(expo), seed, no_show_share=no_show_share)
    if family in COMPACT_FAMILIES:
        return _compact_problem(rng, infeasible=family == "compact-infeasible", **overrides)
    raise ValueError(f"unknown family {family!r}; choose one of {', '.join(ALL_FAMILIES)}")


def day_slots(day_index: int, slots_per_day: int = 12, minutes: int = 30) -> list[Slot]:
    """One day's slots: a third before lunch ending 12:00, the rest from 13:00."""
    day = FIRST_DAY + timedelta(days=day_index)
    morning = slots_per_day // 3
    starts = [
        datetime(day.year, day.month, day.day, 12, tzinfo=TOKYO) - timedelta(minutes=minutes * k)
        for k in range(morning, 0, -1)
    ]
    afternoon = datetime(day.year, day.month, day.day, 13, tzinfo=TOKYO)
    starts += [afternoon + timedelta(minutes=minutes * k) for k in range(slots_per_day - morning)]
    return [
        Slot(f"d{day_index + 1}s{i + 1:02d}", start, start + timedelta(minutes=minutes))
        for i, start in enumerate(starts)
    ]


def _late_or_early(rng: random.Random, days: list[list[Slot]], share: float) -> frozenset | None:
    """With probability ``share``, the slots left after arriving late or leaving early."""
    if rng.random() >= share:
        return None
    missed_day = rng.randrange(len(days))
    missed = rng.randint(2, 5)
    day = days[missed_day]
    gone = day[:missed] if rng.random() < 0.5 else day[-missed:]
    gone_ids = {s.id for s in gone}
    return frozenset(s.id for d in days for s in d if s.id not in gone_ids)


def _pick(rng: random.Random, choices: tuple) -> tuple:
    """One entry of ``choices`` whose last element is its probability."""
    roll = rng.random()
    for choice in choices:
        roll -= choice[-1]
        if roll < 0:
            return choice
    return choices[-1]


def _buyer_supplier_problem(
    rng: random.Random,
    family: str,
    *,
    buyers: int,
    suppliers: int,
    days: int,
    hosted: bool,
    pooled_tables: int,
    two_desk_share: float,
    slots_per_day: int = 12,
    requests_mean: int = 5,
    late_share: float = 0.18,
) -> Problem:
    grid = [day_slots(d, slots_per_day) for d in range(days)]
    slots = tuple(s for day in grid for s in day)

    participants: list[Participant] = []
    tables: list[Table] = []
    buyer_ids = [f"B{i + 1:04d}" for i in range(buyers)]
    for buyer_id in buyer_ids:
        available = _late_or_early(rng, grid, late_share)
        parallel = 2 if rng.random() < two_desk_share else 1
        open_slots = len(available) if available is not None else len(slots)
        # Buyers cap their day: most want a few free slots for walk-ins and e-mail.
        cap = max(1, round(open_slots * parallel * rng.uniform(0.6, 1.0)))
        participants.append(
            Participant(buyer_id, "buyer", f"バイヤー {buyer_id}", available, cap, parallel)
        )
        if hosted:
            for desk in range(parallel):
                tables.append(Table(f"T-{buyer_id}-{desk + 1}", "Hall A", buyer_id))
    tables += [Table(f"P{i + 1:03d}", "Hall B") for i in range(pooled_tables)]

    # Zipf-like popularity over a shuffled buyer order: a few buyers are asked by many.
    ranked = buyer_ids[:]
    rng.shuffle(ranked)
    cumulative = list(_cumulate(1.0 / (r + 1) ** 0.8 for r in range(buyers)))

    pairs: list[Pair] = []
    for i in range(suppliers):
        supplier_id = f"S{i + 1:05d}"
        participants.append(
            Participant(
                supplier_id,
                "supplier",
                f"サプライヤー {supplier_id}",
                _late_or_early(rng, grid, late_share),
            )
        )
        wanted = min(buyers, max(1, round(rng.gauss(requests_mean, 1.2))))
        chosen: list[str] = []
        while len(chosen) < wanted:
            buyer_id = rng.choices(ranked, cum_weights=cumulative)[0]
            if buyer_id not in chosen:
                chosen.append(buyer_id)
        for buyer_id in chosen:
            answer, buyer_score, _ = _pick(rng, SCREENING)
            supplier_level = _pick(rng, SUPPLIER_LEVELS)[0]
            if answer == "declined":
                continue
            pairs.append(Pair(buyer_id, supplier_id, 2 * supplier_level + buyer_score))

    return Problem(
        slots=slots,
        participants=tuple(participants),
        pairs=tuple(pairs),
        tables=tuple(tables) if tables else None,
        event_name=f"benchmark {family}",
        meeting_bonus=MEETING_BONUS,
        break_penalty=BREAK_PENALTY,
    )


def _cumulate(values: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def repair_from(
    problem: Problem,
    meetings: Iterable[Meeting],
    seed: int = 0,
    *,
    no_show_share: float = 0.05,
    change_penalty: int = CHANGE_PENALTY,
) -> Problem:
    """The on-the-day repair of ``meetings``: no-shows a third of the way into day one.

    ``now`` is the start of the slot a third into the first day; meetings before it
    are ``locked`` (they happened), the rest is ``current`` (the plan to keep).
    ``no_show_share`` of the participants never came: they are available nowhere,
    and their meetings, past and planned, are dropped (they never took place and
    cannot be kept). Every change to the rest of the plan costs ``change_penalty``.
    """
    rng = random.Random(f"repair:{seed}")
    first_day = [
        s
        for s in problem.slots
        if s.start.astimezone(TOKYO).date() == problem.slots[0].start.astimezone(TOKYO).date()
    ]
    now = first_day[len(first_day) // 3].start
    started = {s.id for s in problem.slots if s.start < now}
    absent = set(
        rng.sample(
            [p.id for p in problem.participants], round(no_show_share * len(problem.participants))
        )
    )
    participants = tuple(
        replace(p, available=frozenset()) if p.id in absent else p for p in problem.participants
    )
    kept = [m for m in meetings if m.a not in absent and m.b not in absent]
    return replace(
        problem,
        event_name=f"{problem.event_name} repair",
        participants=participants,
        locked=tuple(m for m in kept if m.slot in started),
        current=tuple(m for m in kept if m.slot not in started),
        change_penalty=change_penalty,
        now=now,
    )


def no_shows(problem: Problem) -> set[str]:
    """Participants available in no slot at all (the no-shows of a repair instance)."""
    return {p.id for p in problem.participants if p.available is not None and not p.available}


def _compact_problem(
    rng: random.Random,
    *,
    infeasible: bool,
    companies: int | None = None,
    meetings: int | None = None,
    slots: int | None = None,
    tables: int | None = None,
) -> Problem:
    """Companies meeting each other; every meeting a must; built around a hidden plan.

    A random plan that obeys every hard rule (one meeting per company and slot, the
    tables, at most two breaks each) is drawn first; the problem is then derived
    from it (sessions, forbidden slots, late arrivals never contradict the plan),
    so the feasible variant is feasible by construction. The infeasible variant has
    one table too few for all must-meetings to fit at all.
    """
    n = companies or rng.randint(60, 80)
    n_slots = slots or rng.randint(10, 22)
    target = meetings or rng.randint(150, 300)
    minutes = 15 if n_slots >= 18 else 20 if n_slots >= 14 else 25
    morning = n_slots // 2
    day = FIRST_DAY
    starts = [
        datetime(day.year, day.month, day.day, 12, tzinfo=TOKYO) - timedelta(minutes=minutes * k)
        for k in range(morning, 0, -1)
    ]
    starts += [
        datetime(day.year, day.month, day.day, 13, tzinfo=TOKYO) + timedelta(minutes=minutes * k)
        for k in range(n_slots - morning)
    ]
    slot_list = [
        Slot(f"s{i + 1:02d}", st, st + timedelta(minutes=minutes)) for i, st in enumerate(starts)
    ]
    sessions = [list(range(morning)), list(range(morning, n_slots))]
    target = min(target, int(27 * 0.85 * n_slots))
    n_tables = tables or rng.randint(max(12, math.ceil(target / (0.85 * n_slots))), 27)

    ids = [f"C{i + 1:03d}" for i in range(n)]
    popularity = [rng.uniform(0.5, 2.0) for _ in ids]
    busy: dict[str, set[int]] = {c: set() for c in ids}
    used = [0] * n_slots
    plan: dict[frozenset[str], int] = {}
    all_slots = list(range(n_slots))
    for _ in range(target * 40):
        if len(plan) >= target:
            break
        a, b = rng.choices(ids, weights=popularity, k=2)
        if a == b or frozenset((a, b)) in plan:
            continue
        order = all_slots[:]
        rng.shuffle(order)
        for s in order:
            if (
                used[s] < n_tables
                and s not in busy[a]
                and s not in busy[b]
                and count_breaks(all_slots, busy[a] | {s}) <= 2
                and count_breaks(all_slots, busy[b] | {s}) <= 2
            ):
                busy[a].add(s)
                busy[b].add(s)
                used[s] += 1
                plan[frozenset((a, b))] = s
                break

    participants = []
    for c in ids:
        mine = busy[c]
        free = [s for s in all_slots if s not in mine]
        gone: set[int] = set()
        if mine and rng.random() < 0.18:
            # Late arrival or early leave, never over a planned meeting.
            if rng.random() < 0.5:
                gone = {s for s in free if s < min(mine)}
            else:
                gone = {s for s in free if s > max(mine)}
        elif free and rng.random() < 0.12:
            gone = set(rng.sample(free, min(len(free), rng.randint(1, 2))))  # forbidden slots
        available = (
            None if not gone else frozenset(slot_list[s].id for s in all_slots if s not in gone)
        )
        participants.append(Participant(c, "company", f"企業 {c}", available))

    pairs = []
    for key, s in sorted(plan.items(), key=lambda kv: sorted(kv[0])):
        a, b = sorted(key)
        allowed = None
        if rng.random() < 0.25:
            session = sessions[0] if s < morning else sessions[1]
            allowed = frozenset(slot_list[i].id for i in session)
        pairs.append(Pair(a, b, rng.randint(1, 5), True, allowed))

    if infeasible:
        n_tables = math.ceil(len(pairs) / n_slots) - 1
    return Problem(
        slots=tuple(slot_list),
        participants=tuple(participants),
        pairs=tuple(pairs),
        tables=tuple(Table(f"T{i + 1:02d}", "Hall") for i in range(n_tables)),
        event_name="benchmark compact" + (" (infeasible)" if infeasible else ""),
        break_penalty=1,
        max_breaks=2,
    )


# ---------------------------------------------------------------------------
# python -m benchmarks.generator
# ---------------------------------------------------------------------------


def _override(family: str, text: str) -> tuple[str, object]:
    """``NAME=VALUE`` as a keyword override of ``family``, checked against its type."""
    name, equals, raw = text.partition("=")
    known = OVERRIDES[family]
    if not equals or name not in known:
        raise ValueError(f"{text!r}: {family} takes NAME=VALUE with NAME one of {', '.join(known)}")
    kind, least = known[name]
    try:
        if kind is bool:
            if raw not in ("true", "false"):
                raise ValueError
            return name, raw == "true"
        value = kind(raw)
    except ValueError:
        what = {bool: "true or false", int: "an integer", float: "a number"}[kind]
        raise ValueError(f"{name} must be {what}, not {raw!r}") from None
    if not least <= value <= (1 if kind is float else math.inf):
        bounds = "between 0 and 1" if kind is float else f"at least {least}"
        raise ValueError(f"{name} must be {bounds}, not {raw}")
    return name, value


def main(argv: list[str] | None = None) -> int:
    """Write one generated problem file (stdout without ``-o``); return the exit status."""
    sizes = "; ".join(
        f"{', '.join(families)}: {', '.join(OVERRIDES[families[0]])}"
        for families in (tuple(FAMILIES), ("repair",), COMPACT_FAMILIES)
    )
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generator",
        description="Write a generated matching-fair problem file (matchfair-problem/1).",
        epilog=f"Overrides by family: {sizes}. Example: python -m benchmarks.generator fair "
        "--seed 3 --set buyers=10 --set suppliers=40 -o fair.json",
    )
    parser.add_argument("family", choices=ALL_FAMILIES, help="the kind of fair")
    parser.add_argument("--seed", type=int, default=0, help="the same seed, the same problem")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="reshape the family, e.g. buyers=10 (repeatable; the family's sizes otherwise)",
    )
    parser.add_argument("-o", "--output", metavar="PROBLEM.json", help="default: stdout")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        overrides = dict(_override(args.family, text) for text in args.overrides)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: argument --set: {exc}", file=sys.stderr)
        return 2
    # Imported here: writing the file is the command line's business only.
    from solver.problem_io import dump_json

    problem = generate(args.family, args.seed, **overrides)
    try:
        dump_json(problem, sys.stdout if args.output is None else args.output)
    except OSError as exc:
        where = args.output or "stdout"
        print(f"error: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(
        f"{args.family}, seed {args.seed}: {len(problem.participants)} participants, "
        f"{len(problem.pairs)} pairs, {len(problem.slots)} slots",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
