"""A complete hint from a chosen set of meetings, computed without search.

CP-SAT takes a complete, feasible hint as its first solution, but repairs a
partial one (x only) poorly once break, bonus and keep variables depend on x —
on large models it often gives up and starts from scratch. Every auxiliary
variable here is a plain function of x, so its hinted value is computed
directly, exactly as the constraint modules define it.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model.variables import Variables


def complete_hint(
    v: Variables, chosen: list[tuple[int, int]], sides: dict[tuple[int, int], int]
) -> list[tuple[cp_model.IntVar, int]]:
    """(variable, value) for every variable of the model, given the chosen (pair, slot)."""
    prep = v.prep
    wanted = set(chosen)
    values: dict[int, int] = {}
    hints: list[tuple[cp_model.IntVar, int]] = []

    def put(var: cp_model.IntVar, value: int) -> None:
        values[var.index] = value
        hints.append((var, value))

    busy: set[tuple[int, int]] = set()
    count = [0] * len(prep.participant_ids)
    for key, var in v.x.items():
        on = key in wanted
        put(var, int(on))
        if on:
            pair_index, slot = key
            for who in (prep.pairs[pair_index].a, prep.pairs[pair_index].b):
                busy.add((who, slot))
                count[who] += 1
    taken: dict[tuple[int, int], int] = {}
    for (pair_index, slot, host), var in v.at_table_of.items():
        if (pair_index, slot) not in wanted:
            put(var, 0)
            continue
        side = sides.get((pair_index, slot))
        if side is None:
            # No side given: the first host listed in the pair takes it (the other
            # gets it if the first already claimed this one).
            side = taken.setdefault((pair_index, slot), host)
        put(var, int(side == host))
    for (who, slot), var in v.busy_flags.items():
        put(var, int((who, slot) in busy))
    previous = {day[k]: day[k - 1] for day in prep.days for k in range(1, len(day))}
    for (who, slot), var in v.run_starts.items():
        before = previous.get(slot)
        started = (who, slot) in busy and (before is None or (who, before) not in busy)
        put(var, int(started))
    for who, day_slots, var in v.break_counters:
        runs = 0
        last_busy = False
        for position, slot in enumerate(day_slots):
            now_busy = (who, slot) in busy
            # Slots it cannot use are idle too, so only adjacent slots of the day continue a run.
            adjacent = position > 0 and previous.get(slot) == day_slots[position - 1]
            if now_busy and not (last_busy and adjacent):
                runs += 1
            last_busy = now_busy
        put(var, max(0, runs - 1))
    for who, chain in v.blocks:
        busy_at = [i for i, (slot, _, _) in enumerate(chain) if (who, slot) in busy]
        first = busy_at[0] if busy_at else len(chain)  # no meeting: an empty block
        last = busy_at[-1] if busy_at else len(chain) - 1
        for i, (_, after_first, before_last) in enumerate(chain):
            put(after_first, int(i >= first))
            put(before_last, int(i <= last))
    for who, chain, gap in v.spans:
        busy_at = [i for i, (slot, _, _) in enumerate(chain) if (who, slot) in busy]
        for i, (_, after_first, before_last) in enumerate(chain):
            put(after_first, int(bool(busy_at) and i >= busy_at[0]))
            put(before_last, int(bool(busy_at) and i <= busy_at[-1]))
        put(gap, int(bool(busy_at) and busy_at[-1] - busy_at[0] + 1 > len(busy_at)))
    for who, levels in v.bonus_levels.items():
        for k, var in enumerate(levels, start=1):
            put(var, int(count[who] >= k))
    claimed: set[tuple[str, str]] = set()
    for keep, literal, table, slot_id in v.keeps:
        able = values.get(literal.index, 0) == 1
        if able and table is not None:
            able = (table, slot_id) not in claimed
            if able:
                claimed.add((table, slot_id))
        put(keep, int(able))
    return hints
