"""Hard and Soft: breaks — capped by ``max_breaks`` (rule 8), penalised by ``break_penalty``.

A break is an idle run between two busy slots of one day. A participant's busy
slots in a day form ``r`` maximal runs and then it has ``r - 1`` breaks (0 when
idle all day), so breaks are counted through *run starts*: a slot that is busy
while the slot before it in the same day is not. ``breaks_day >= starts - 1``
is enough: the cap and the penalty both push it down to the true count, and a
lower bound on run starts is exactly what both rules need.

Only slots in which the participant could meet at all get a ``busy`` term; a day
where no two such slots have an idle one between them cannot hold a break and
gets no variables. The module is only used when a break rule is active.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model.variables import Variables


def add_breaks(v: Variables, max_breaks: int | None) -> dict[int, list[cp_model.IntVar]]:
    """Break counters per participant (one per day that could hold a break).

    Adds ``sum(counters) <= max_breaks`` when a cap is given and returns the
    counters so the objective can penalise them.
    """
    model = v.model
    prep = v.prep
    counters: dict[int, list[cp_model.IntVar]] = {}
    for participant, info in enumerate(prep.problem.participants):
        if participant in prep.frozen:
            continue  # all its meetings are fixed: its breaks are a constant
        candidate = set(v.busy_slots(participant))
        per_day: list[cp_model.IntVar] = []
        for day in prep.days:
            positions = [k for k, slot in enumerate(day) if slot in candidate]
            if len(positions) < 2 or positions[-1] - positions[0] + 1 == len(positions) == 2:
                continue  # one possible busy slot, or two adjacent ones: no break possible
            busy: dict[int, cp_model.LinearExprT] = {}
            for k in positions:
                xs = [var for _, var in v.of_participant_in_slot(participant, day[k])]
                known = v.busy_flags.get((participant, day[k]))
                if known is not None:
                    busy[k] = known  # an explicit Boolean (solver.model.activity)
                elif info.parallel == 1 or len(xs) == 1:
                    busy[k] = sum(xs)  # at most one meeting in the slot: the sum is 0/1
                else:
                    flag = model.new_bool_var(f"busy_{participant}_{day[k]}")
                    for var in xs:
                        model.add_implication(var, flag)
                    model.add(flag <= sum(xs))
                    busy[k] = flag
                    v.busy_flags[participant, day[k]] = flag
            starts: list[cp_model.LinearExprT] = []
            for k in positions:
                previous = busy.get(k - 1)
                if previous is None:
                    starts.append(busy[k])
                    continue
                start = model.new_bool_var(f"start_{participant}_{day[k]}")
                model.add(start >= busy[k] - previous)
                model.add(start <= busy[k])
                model.add(start <= 1 - previous)
                starts.append(start)
                v.run_starts[participant, day[k]] = start
            # Runs may be separated by slots it cannot use, so up to one run per position.
            counter = model.new_int_var(0, len(positions) - 1, f"breaks_{participant}_{day[0]}")
            model.add(counter >= sum(starts) - 1)
            per_day.append(counter)
            v.break_counters.append((participant, [day[k] for k in positions], counter))
        if per_day:
            counters[participant] = per_day
            if max_breaks is not None:
                model.add(sum(per_day) <= max_breaks)
    return counters


def add_no_breaks(v: Variables) -> None:
    """Hard: no participant has a break (``max_breaks`` 0), as one block per day.

    Run starts propagate a zero cap weakly; an explicit block does better. Per
    participant and day two monotone chains of Booleans, ``after_first[k]``
    (position k is at or after the block's start) and ``before_last[k]`` (at or
    before its end), bound the block, and a slot is busy exactly when it lies in
    the block. Two busy slots thus force every slot between them busy, which
    propagates straight into the partners' and tables' constraints.
    """
    model = v.model
    prep = v.prep
    for participant in range(len(prep.participant_ids)):
        if participant in prep.frozen:
            continue
        candidate = set(v.busy_slots(participant))
        for day in prep.days:
            positions = [k for k, slot in enumerate(day) if slot in candidate]
            if len(positions) < 2:
                continue
            span = range(positions[0], positions[-1] + 1)
            if len(span) == len(positions) == 2:
                continue  # two adjacent slots: no break possible
            after_first = {k: model.new_bool_var(f"af_{participant}_{day[k]}") for k in span}
            before_last = {k: model.new_bool_var(f"bl_{participant}_{day[k]}") for k in span}
            v.blocks.append((participant, [(day[k], after_first[k], before_last[k]) for k in span]))
            for k in span[:-1]:
                model.add_implication(after_first[k], after_first[k + 1])
                model.add_implication(before_last[k + 1], before_last[k])
            usable = set(positions)
            for k in span:
                if k not in usable:
                    model.add_bool_or([after_first[k].Not(), before_last[k].Not()])
                    continue
                xs = [var for _, var in v.of_participant_in_slot(participant, day[k])]
                busy = _busy_flag(v, participant, day[k], xs)
                model.add_implication(busy, after_first[k])
                model.add_implication(busy, before_last[k])
                model.add_bool_or([after_first[k].Not(), before_last[k].Not(), busy])


def _busy_flag(
    v: Variables, participant: int, slot: int, xs: list[cp_model.IntVar]
) -> cp_model.IntVar:
    """A Boolean equal to "has a meeting in ``slot``" (the x itself when there is one)."""
    if len(xs) == 1:
        return xs[0]
    flag = v.busy_flags.get((participant, slot))
    if flag is not None:
        return flag
    flag = v.model.new_bool_var(f"busy_{participant}_{slot}")
    v.model.add_bool_or([flag.Not(), *xs])  # busy only with a meeting
    for var in xs:
        v.model.add_implication(var, flag)
    v.busy_flags[participant, slot] = flag
    return flag


def add_gap_flags(v: Variables) -> None:
    """Redundant: a flag per break counter that is 1 when the day's span has an idle slot.

    Per participant and day, two monotone chains of Booleans are tied exactly to
    the busy slots: ``after_first[k]`` (a meeting at or before position k) and
    ``before_last[k]`` (one at or after it). A slot inside both chains that is
    idle means a break, so ``gap >= after_first[k] + before_last[k] - busy[k] - 1``
    and the counter is at least ``gap``. Run starts alone say the same in a way
    search cannot use: with the chains, setting ``gap`` to 0 forces every slot
    between two meetings busy (as :func:`add_no_breaks` does), so a search on
    the gap flags (CP-SAT's core search) proves "someone in this group must
    have a break" by propagation. Used for compact days (every pair a must,
    only breaks vary), where the break count is the whole objective.
    """
    model = v.model
    prep = v.prep
    day_of = {slot: day for day in prep.days for slot in day}
    for participant, slots, counter in v.break_counters:
        day = day_of[slots[0]]
        span = day[day.index(slots[0]) : day.index(slots[-1]) + 1]
        busy: dict[int, cp_model.LinearExprT] = {}
        for slot in slots:
            xs = [var for _, var in v.of_participant_in_slot(participant, slot)]
            busy[slot] = v.busy_flags.get((participant, slot), sum(xs))
        after_first = {s: model.new_bool_var(f"sf_{participant}_{s}") for s in span}
        before_last = {s: model.new_bool_var(f"sl_{participant}_{s}") for s in span}
        gap = model.new_bool_var(f"gap_{participant}_{span[0]}")
        for i, slot in enumerate(span):
            here = busy.get(slot, 0)
            earlier = after_first[span[i - 1]] if i else 0
            later = before_last[span[i + 1]] if i + 1 < len(span) else 0
            # after_first[k] = after_first[k-1] or busy[k]; before_last mirrors it.
            model.add(after_first[slot] <= earlier + here)
            model.add(after_first[slot] >= here)
            model.add(before_last[slot] <= later + here)
            model.add(before_last[slot] >= here)
            if i:
                model.add_implication(after_first[span[i - 1]], after_first[slot])
            if i + 1 < len(span):
                model.add_implication(before_last[span[i + 1]], before_last[slot])
            model.add(after_first[slot] + before_last[slot] - here - 1 <= gap)
        model.add(counter >= gap)
        v.spans.append((participant, [(s, after_first[s], before_last[s]) for s in span], gap))
