"""The solver's input and output as plain, immutable Python objects.

These mirror the problem file (``matchfair-problem/1``) and the schedule file
(``matchfair-schedule/1``) described in ``docs/problem-format.md``. Reading and
writing the JSON form, with field-by-field validation, lives in
:mod:`solver.problem_io`. Nothing here knows about CP-SAT, Flask or SQLAlchemy:
the web app builds a :class:`Problem` from its database, the CLI from a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PROBLEM_FORMAT = "matchfair-problem/1"
SCHEDULE_FORMAT = "matchfair-schedule/1"

STATUS_OPTIMAL = "OPTIMAL"
STATUS_FEASIBLE = "FEASIBLE"
STATUS_INFEASIBLE = "INFEASIBLE"
STATUSES = (STATUS_OPTIMAL, STATUS_FEASIBLE, STATUS_INFEASIBLE)


@dataclass(frozen=True, slots=True)
class Slot:
    """A meeting slot. ``start``/``end`` are timezone-aware datetimes."""

    id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Table:
    """A table. ``host`` is the id of the participant that sits there, if any."""

    id: str
    room: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class Participant:
    """A participant. ``available`` is None when it is available in every slot."""

    id: str
    role: str = ""
    name: str = ""
    available: frozenset[str] | None = None
    max_meetings: int | None = None
    parallel: int = 1


@dataclass(frozen=True, slots=True)
class Pair:
    """A pair that may meet. ``slots`` is None when any slot will do."""

    a: str
    b: str
    weight: int = 0
    must: bool = False
    slots: frozenset[str] | None = None

    @property
    def key(self) -> frozenset[str]:
        """The unordered identity of the pair (a pair may be listed once only)."""
        return frozenset((self.a, self.b))


@dataclass(frozen=True, slots=True)
class Meeting:
    """A meeting: a pair in a slot at a table (``table`` None when tables are unlimited)."""

    a: str
    b: str
    slot: str
    table: str | None = None

    @property
    def key(self) -> frozenset[str]:
        return frozenset((self.a, self.b))


@dataclass(frozen=True, slots=True)
class Problem:
    """A complete, validated scheduling problem.

    ``slots`` are sorted by start time. ``tables`` is None when the file has no
    ``tables`` field (unlimited tables, assigned later by the caller).
    """

    slots: tuple[Slot, ...]
    participants: tuple[Participant, ...]
    pairs: tuple[Pair, ...]
    tables: tuple[Table, ...] | None = None
    event_name: str = ""
    timezone: str = "Asia/Tokyo"
    meeting_bonus: tuple[int, ...] = ()
    break_penalty: int = 0
    max_breaks: int | None = None
    locked: tuple[Meeting, ...] = ()
    current: tuple[Meeting, ...] = ()
    change_penalty: int = 0
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnscheduledPair:
    """A requested pair the schedule leaves out, with a reason an organizer can act on.

    ``reason`` is one of ``declined``, ``no_common_slot``, ``at_maximum``,
    ``out_competed``, ``no_table``; ``detail`` names who or what (for
    ``out_competed`` the participant and the meetings that won).
    """

    a: str
    b: str
    reason: str
    detail: str = ""


@dataclass(slots=True)
class Schedule:
    """The solver's answer, as written to a schedule file."""

    status: str
    objective: int
    bound: int
    solve_seconds: float
    meetings: list[Meeting] = field(default_factory=list)
    unscheduled_must: list[dict] = field(default_factory=list)
    unscheduled: list[UnscheduledPair] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
