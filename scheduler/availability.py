"""A participant's availability: when it is at the fair, how many meetings, how many desks.

Participants say, per day of the event, from which slot they can meet ("arrive
from") and until which slot ("leave by"), tick single slots they cannot make, give
the most meetings they want, and buyers with several people ask for parallel desks.

What is stored stays what the solver reads (:meth:`Participant.is_available`):
``available_from`` is the start of the first slot they make on the first day,
``available_until`` the end of the last slot on the last day (both ``None`` when
that is the grid's own edge), and everything else they cannot make is in
``unavailable_slots`` -- a later arrival on a second day and single holes alike.
Reading it back (:func:`current_availability`) gives each day's first and last slot
they can make and the holes between, so a save of an unchanged page changes nothing.

Editable by participants in the preferences phase only, under the same rule and
deadline as meeting requests (:func:`scheduler.preferences.requests_open`);
organizers change it on someone's behalf until the schedule is published (audited
with their name). Services only flush; the caller commits.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from scheduler import audit, preferences
from scheduler.errors import DeadlinePassed, ProblemsFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Event, Participant, ParticipantRole, Phase, Slot

#: Parallel desks a buyer may ask for (each needs a table the organizer assigns).
MAX_PARALLEL_DESKS = 3

#: Organizers may change availability on someone's behalf in these phases.
ORGANIZER_PHASES = frozenset({Phase.REGISTRATION, Phase.PREFERENCES, Phase.SCHEDULING})


@dataclass(frozen=True)
class DayAvailability:
    """One day of the grid as a participant sees it: its window and the holes in it."""

    date: date
    slots: tuple[Slot, ...]
    arrive_slot_id: int  # the first slot they can make (the day's first if none)
    leave_slot_id: int  # the last slot they can make (the day's last if none)
    unavailable_ids: frozenset[int]  # slots inside the window they cannot make


@dataclass(frozen=True)
class AvailabilityInput:
    """What a participant typed, unparsed: slot ids and numbers as the form sent them.

    ``windows`` maps each day to its (arrive, leave) slot ids; a day left out keeps
    its whole grid. ``unavailable`` holds the ids of the single slots ticked.
    """

    windows: Mapping[date, tuple[str, str]] = field(default_factory=dict)
    unavailable: Collection[str] = ()
    max_meetings: str = ""
    parallel_desks: str = "1"


class AvailabilityInvalid(ProblemsFound):
    """A submission with one or more problems, each naming its field (``problems``), so
    the form shows them all at once."""


# --------------------------------------------------------------------------- phase rule


def availability_open(event: Event, now: datetime | None = None) -> bool:
    """Whether participants may change their availability now (the requests' rule)."""
    return preferences.requests_open(event, now)


def check_editable(event: Event, user_id: int | None, now: datetime | None = None) -> None:
    """Raise :class:`DeadlinePassed` when this change is not allowed now, saying why.

    ``user_id`` None is the participant itself; an organizer passes its id.
    """
    if user_id is not None:
        if event.phase not in ORGANIZER_PHASES:
            raise DeadlinePassed(
                N_("Availability can no longer change: the schedule has been published.")
            )
        return
    if availability_open(event, now):
        return
    if event.phase == Phase.REGISTRATION:
        raise DeadlinePassed(
            N_("Availability can be stated in the preferences phase. Please come back then.")
        )
    raise DeadlinePassed(
        N_(
            "The deadline for stating your availability has passed. Please contact the "
            "organizer if something must still change."
        )
    )


# --------------------------------------------------------------------------- reading


def day_grid(event: Event) -> list[tuple[date, tuple[Slot, ...]]]:
    """The event's slots grouped by their local date (in the event's time zone), in order."""
    days: dict[date, list[Slot]] = {}
    for slot in sorted(event.slots, key=lambda s: s.starts_at):
        days.setdefault(event.local(slot.starts_at).date(), []).append(slot)
    return [(day, tuple(slots)) for day, slots in days.items()]


def current_availability(participant: Participant) -> list[DayAvailability]:
    """Each day's window and holes as stored for ``participant``."""
    result = []
    for day, slots in day_grid(participant.event):
        free = [s for s in slots if participant.is_available(s)]
        if free:
            first, last = free[0], free[-1]
            inside = [s for s in slots if first.starts_at <= s.starts_at <= last.starts_at]
            holes = frozenset(s.id for s in inside if s not in free)
        else:  # a day they cannot make at all: every slot is a hole
            first, last = slots[0], slots[-1]
            holes = frozenset(s.id for s in slots)
        result.append(DayAvailability(day, slots, first.id, last.id, holes))
    return result


def max_meetings_limit(event: Event, desks: int) -> int:
    """The most meetings a participant with ``desks`` desks may ask for.

    The organizer's default cap per participant, per desk (a buyer meeting at two
    desks at once meets twice as many); without a cap, every slot at every desk.
    """
    per_desk = (
        event.default_max_meetings if event.default_max_meetings is not None
        else len(event.slots)
    )
    return per_desk * max(desks, 1)


# --------------------------------------------------------------------------- parsing


def parse_whole_number(text: str, field_name: str) -> int | None:
    """``text`` as a whole number (full-width digits accepted), ``None`` when empty."""
    value = unicodedata.normalize("NFKC", text or "").strip().replace(",", "")
    if not value:
        return None
    sign = -1 if value[:1] in {"-", "−"} else 1
    digits = value[1:].strip() if sign < 0 else value
    if not digits.isascii() or not digits.isdigit():
        raise ValidationFailed(N_("Please enter a whole number, e.g. 8."), field=field_name)
    return sign * int(digits)


def _slot_of_day(raw: str, slots: tuple[Slot, ...], field_name: str) -> Slot:
    wanted = unicodedata.normalize("NFKC", raw or "").strip()
    for slot in slots:
        if str(slot.id) == wanted:
            return slot
    raise ValidationFailed(N_("Please choose a time from the list."), field=field_name)


# --------------------------------------------------------------------------- saving


def _snapshot(participant: Participant) -> dict[str, object]:
    return {
        "available_from": (
            participant.available_from.isoformat() if participant.available_from else None
        ),
        "available_until": (
            participant.available_until.isoformat() if participant.available_until else None
        ),
        "unavailable": sorted(s.id for s in participant.unavailable_slots),
        "max_meetings": participant.max_meetings,
        "parallel_desks": participant.parallel_desks,
    }


def _windows(
    event: Event, grid: list[tuple[date, tuple[Slot, ...]]], data: AvailabilityInput,
    problems: list[ValidationFailed],
) -> dict[date, tuple[Slot, Slot]]:
    """Each day's (arrive, leave) slots; a day with a problem (noted) is left out."""
    windows: dict[date, tuple[Slot, Slot]] = {}
    for day, slots in grid:
        raw_arrive, raw_leave = data.windows.get(day, (str(slots[0].id), str(slots[-1].id)))
        chosen = []
        for raw, name in ((raw_arrive, "arrive"), (raw_leave, "leave")):
            try:
                chosen.append(_slot_of_day(raw, slots, f"{name}-{day.isoformat()}"))
            except ValidationFailed as problem:
                problems.append(problem)
        if len(chosen) < 2:
            continue
        arrive, leave = chosen
        if leave.starts_at < arrive.starts_at:
            problems.append(ValidationFailed(
                N_("You would leave (%(leave)s) before you arrive (%(arrive)s)."),
                field=f"leave-{day.isoformat()}",
                params={
                    "leave": f"{event.local(leave.ends_at):%H:%M}",
                    "arrive": f"{event.local(arrive.starts_at):%H:%M}",
                },
            ))
            continue
        windows[day] = (arrive, leave)
    return windows


def _unavailable_slots(
    grid: list[tuple[date, tuple[Slot, ...]]], windows: Mapping[date, tuple[Slot, Slot]],
    raw_ticked: Collection[str], problems: list[ValidationFailed],
) -> list[Slot]:
    """The slots to store as unavailable; a problem is noted when no slot is left."""
    ticked = {unicodedata.normalize("NFKC", raw).strip() for raw in raw_ticked}
    unavailable: list[Slot] = []
    free = 0
    for day, slots in grid:
        arrive, leave = windows[day]
        for slot in slots:
            in_window = arrive.starts_at <= slot.starts_at <= leave.starts_at
            edge = (day == grid[0][0] and slot.starts_at < arrive.starts_at) or (
                day == grid[-1][0] and slot.starts_at > leave.starts_at
            )
            if in_window and str(slot.id) not in ticked:
                free += 1
            elif not edge:  # the first day's arrival and last day's departure are the window
                unavailable.append(slot)
    if free == 0:
        problems.append(ValidationFailed(
            N_("With these choices you could not attend a single meeting slot. Please "
               "leave at least one slot free."),
            field="unavailable",
        ))
    return unavailable


def _desks(
    participant: Participant, raw: str, problems: list[ValidationFailed]
) -> int | None:
    """The parallel desks asked for (always 1 for a supplier); ``None`` with a problem."""
    if participant.role != ParticipantRole.BUYER:
        return 1
    try:
        desks = parse_whole_number(raw, "parallel_desks") or 1
    except ValidationFailed as problem:
        problems.append(problem)
        return None
    if not 1 <= desks <= MAX_PARALLEL_DESKS:
        problems.append(ValidationFailed(
            N_("Please choose between 1 and %(n)d desks."),
            field="parallel_desks", params={"n": MAX_PARALLEL_DESKS},
        ))
        return None
    return desks


def _max_meetings(
    event: Event, raw: str, desks: int | None, problems: list[ValidationFailed]
) -> int | None:
    """The most meetings asked for (``None``: no limit of its own, or a problem noted).
    Its upper limit depends on the desks, so it is checked only with a valid desk count."""
    try:
        max_meetings = parse_whole_number(raw, "max_meetings")
    except ValidationFailed as problem:
        problems.append(problem)
        return None
    if max_meetings is None:
        return None
    if max_meetings < 0:
        problems.append(ValidationFailed(
            N_("The number of meetings cannot be negative."), field="max_meetings"
        ))
    elif max_meetings == 0:
        # 0 would mean no meeting at all: a company not taking part withdraws.
        problems.append(ValidationFailed(
            N_(
                "Enter at least 1, or leave it empty for no limit. A company that will "
                "not take part should tell the organizer."
            ),
            field="max_meetings",
        ))
    elif desks is not None and max_meetings > max_meetings_limit(event, desks):
        problems.append(ValidationFailed(
            N_("At most %(n)d meetings are possible for you in this event."),
            field="max_meetings", params={"n": max_meetings_limit(event, desks)},
        ))
    return max_meetings


def save_availability(
    session: Session,
    participant: Participant,
    data: AvailabilityInput,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Validate ``data`` and store it as ``participant``'s availability (audited).

    Raises :class:`DeadlinePassed` outside the period (see :func:`check_editable`) and
    :class:`AvailabilityInvalid` naming every field at fault: a time not on the grid
    (``arrive-<date>``/``leave-<date>``), leaving before arriving (``leave-<date>``),
    choices that leave no slot at all (``unavailable``), a bad meeting count
    (``max_meetings``) or desk count (``parallel_desks``).
    """
    event = participant.event
    check_editable(event, user_id, now)
    grid = day_grid(event)
    if not grid:
        raise ValidationFailed(
            N_("The organizer has not set up the meeting slots yet."), field="unavailable"
        )
    # Every field is checked, so that the form names all its mistakes at once (QA: a
    # wrong meeting count was said only after the times were put right).
    problems: list[ValidationFailed] = []
    windows = _windows(event, grid, data, problems)
    unavailable: list[Slot] = []
    if len(windows) == len(grid):  # slots can be counted only once every day is right
        unavailable = _unavailable_slots(grid, windows, data.unavailable, problems)
    desks = _desks(participant, data.parallel_desks, problems)
    max_meetings = _max_meetings(event, data.max_meetings, desks, problems)
    if problems:
        raise AvailabilityInvalid(problems)
    assert desks is not None  # a desk count that could not be read is one of the problems

    before = _snapshot(participant)
    first_day_slots, last_day_slots = grid[0][1], grid[-1][1]
    arrive, leave = windows[grid[0][0]][0], windows[grid[-1][0]][1]
    participant.available_from = None if arrive is first_day_slots[0] else arrive.starts_at
    participant.available_until = None if leave is last_day_slots[-1] else leave.ends_at
    participant.unavailable_slots = unavailable
    participant.max_meetings = max_meetings
    participant.parallel_desks = desks
    session.flush()
    after = _snapshot(participant)
    if after != before:
        audit.record(
            session, "availability.change", event_id=event.id, user_id=user_id,
            participant_id=participant.id, target=participant,
            details={"before": before, "after": after},
        )
