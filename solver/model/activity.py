"""Redundant, for compact days: who is busy when, as Booleans of their own.

Every meeting seats two participants at one table, so in every slot the
participants with a meeting are at most twice the tables. The model already
says so through the x variables, but only once the meetings themselves are
chosen. A compact day is decided earlier, by *when* each participant is busy:
once a participant's day is one block (no break), its first and last meeting
fix every slot in between as busy (:func:`solver.model.breaks.add_gap_flags`).
With an explicit ``busy`` Boolean per participant and slot, and

* per slot: the busy participants are at most twice the tables,
* per participant whose every pair is a must: it is busy in exactly as many
  slots as it has pairs,

those blocks count against the tables as soon as they are placed, long before
any meeting is. This is what lets CP-SAT prove "no timetable has fewer than k
breaks" in a fraction of a second, where without it the same proof is out of
reach in minutes (docs/benchmarks.md, compact days).

The Booleans are registered in ``Variables.busy_flags``, which the break
modules and the hints already use.
"""

from __future__ import annotations

from solver.model.variables import Variables


def add_activity(v: Variables) -> None:
    """Busy Booleans for every participant and usable slot, and their two counts."""
    model = v.model
    prep = v.prep
    busy_in_slot: list[list] = [[] for _ in prep.slot_ids]
    for participant, info in enumerate(prep.problem.participants):
        if participant in prep.frozen:
            continue
        slots = v.busy_slots(participant)
        for slot in slots:
            xs = [var for _, var in v.of_participant_in_slot(participant, slot)]
            flag = v.busy_flags.get((participant, slot))
            if flag is None:
                flag = model.new_bool_var(f"busy_{participant}_{slot}")
                if info.parallel == 1:
                    model.add(sum(xs) == flag)
                else:
                    model.add(flag <= sum(xs))
                    for var in xs:
                        model.add_implication(var, flag)
                v.busy_flags[participant, slot] = flag
            busy_in_slot[slot].append(flag)
        pairs = prep.pairs_of[participant]
        if info.parallel == 1 and pairs and all(prep.pairs[i].pair.must for i in pairs):
            # Every pair meets, each in a slot of its own.
            model.add(sum(v.busy_flags[participant, slot] for slot in slots) == len(pairs))
    if not prep.has_tables:
        return
    hosted = sum(len(tables) for tables in prep.hosted_tables)
    for slot, flags in enumerate(busy_in_slot):
        seats = 2 * (prep.pooled_capacity(slot) + hosted)
        if len(flags) > seats:
            model.add(sum(flags) <= seats)
