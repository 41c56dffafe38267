"""Where slots sit in time: their order, their day, and who is idle between meetings.

The break rule (rule 8 of ``docs/problem-format.md``) and the break penalty in the
objective both depend on two facts about slots: their order by start time and the
local *day* each belongs to. Both the validator and the CP-SAT engine need exactly
the same answer, so it is computed here, once.

Slot *indices* below are positions in ``problem.slots``, which
:func:`solver.problem_io.problem_from_dict` sorts by start time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from solver.problem import Problem, Slot


def slot_day(slot: Slot, timezone: str) -> date:
    """The local calendar date of ``slot``'s start in ``timezone`` (an IANA name).

    The event's timezone decides the day, not the offset written in the file: a slot
    starting at 00:30 +09:00 belongs to that Tokyo date even if it were written in UTC.
    """
    return slot.start.astimezone(ZoneInfo(timezone)).date()


def slot_days(problem: Problem) -> list[list[int]]:
    """Slot indices grouped by local day, days in date order, each day in start order.

    For slots s0..s5 on two days this is e.g. ``[[0, 1, 2], [3, 4, 5]]``. A gap
    between two consecutive slots of a day (lunch) leaves no trace here: breaks are
    counted in slots, and a gap is not a slot.
    """
    order = sorted(range(len(problem.slots)), key=lambda i: problem.slots[i].start)
    days: dict[date, list[int]] = {}
    for index in order:
        days.setdefault(slot_day(problem.slots[index], problem.timezone), []).append(index)
    return [days[day] for day in sorted(days)]


def count_breaks(day_slots: Sequence[int], busy: Collection[int]) -> int:
    """The number of breaks in one day: maximal runs of idle slots between two busy ones.

    ``day_slots`` are the day's slot indices in start order; ``busy`` holds the
    indices in which the participant has at least one meeting. Idle slots before the
    first or after the last busy slot of the day are no break.
    """
    breaks = 0
    seen_busy = False
    idle_run = False
    for index in day_slots:
        if index in busy:
            if seen_busy and idle_run:
                breaks += 1
            seen_busy = True
            idle_run = False
        elif seen_busy:
            idle_run = True
    return breaks
