"""Hard: a participant holds at most ``parallel`` meetings per slot and at most
``max_meetings`` in all (rule 2). Availability is enforced by variable creation."""

from __future__ import annotations

from solver.model.variables import Variables


def add_capacity(v: Variables) -> None:
    """Per-slot ``parallel`` limit and the overall ``max_meetings`` cap."""
    model = v.model
    for participant, info in enumerate(v.prep.problem.participants):
        if participant in v.prep.frozen:
            continue  # only fixed meetings: they already obey both limits
        for slot in v.busy_slots(participant):
            xs = [var for _, var in v.of_participant_in_slot(participant, slot)]
            if len(xs) <= info.parallel:
                continue
            if info.parallel == 1:
                model.add_at_most_one(xs)
            else:
                model.add(sum(xs) <= info.parallel)
        cap = info.max_meetings
        if cap is not None:
            xs = v.of_participant(participant)
            if len(xs) > cap:
                model.add(sum(xs) <= cap)
