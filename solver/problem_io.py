"""Reading and writing the problem file and the schedule file (JSON).

The reader is strict on purpose: a file that strays from ``docs/problem-format.md``
raises :class:`~solver.errors.ProblemFormatError` naming the JSON path of the
offending value (``pairs[3].b``, ``slots[0].start``) and saying what is wrong,
with a "did you mean" for misspelt field names and ids. An unknown field is an
error, because a typo (``"wieght": 9``) must not silently change the problem.

What the reader checks is *form*: types, ids that exist, times with an offset,
values in range. Whether a well-formed problem can be satisfied (a must-meet pair
without a common slot, a lock of an unlisted pair) is the engine's question, and
its answer is an ``INFEASIBLE`` schedule, not an error.

``null`` is accepted wherever a field is optional and means the same as leaving
the field out.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from solver.errors import ProblemFormatError
from solver.problem import (
    PROBLEM_FORMAT,
    SCHEDULE_FORMAT,
    STATUSES,
    Meeting,
    Pair,
    Participant,
    Problem,
    Schedule,
    Slot,
    Table,
    UnscheduledPair,
)
from solver.wording import quoted

#: Why a requested pair is not in the schedule (``stats.unscheduled[].reason``).
UNSCHEDULED_REASONS = ("declined", "no_common_slot", "at_maximum", "out_competed", "no_table")

_PROBLEM_FIELDS = (
    "format",
    "event",
    "slots",
    "tables",
    "participants",
    "pairs",
    "meeting_bonus",
    "break_penalty",
    "max_breaks",
    "locked",
    "current",
    "change_penalty",
    "now",
)
_SCHEDULE_FIELDS = (
    "format",
    "status",
    "objective",
    "bound",
    "solve_seconds",
    "meetings",
    "unscheduled_must",
    "stats",
)

T = TypeVar("T")
PathOrFile = str | os.PathLike[str] | IO[str]


# ---------------------------------------------------------------------------
# Typed access to JSON values, each failure naming its path
# ---------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _object(
    value: object, path: str, known: Iterable[str], required: Iterable[str] = ()
) -> dict[str, Any]:
    """``value`` as a JSON object with only ``known`` fields and all ``required`` ones."""
    if not isinstance(value, dict):
        what = "must be" if path else "the file must hold"
        raise ProblemFormatError(path, f"{what} a JSON object, not {_type_name(value)}")
    known = tuple(known)
    for key in value:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            raise ProblemFormatError(
                where, f"unknown field{_suggestion(str(key), known)} (known: {', '.join(known)})"
            )
    for key in required:
        if value.get(key) is None:
            problem = "required field missing" if key not in value else "required, not null"
            raise ProblemFormatError(f"{path}.{key}" if path else key, problem)
    return value


def _string(value: object, path: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str):
        raise ProblemFormatError(path, f"must be a string, not {_type_name(value)}")
    if nonempty and not value.strip():
        raise ProblemFormatError(path, "must not be empty")
    return value


# Every integer of a problem lies within ±MAX_INTEGER. Far beyond any fair's numbers,
# and small enough that sums over thousands of pairs stay within the 64-bit integers
# of CP-SAT and the min-cost flow (10^18 made the flow fail, 10^19 overflowed them).
MAX_INTEGER = 10**9


def _integer(
    value: object, path: str, *, minimum: int | None = None, maximum: int | None = MAX_INTEGER
) -> int:
    # bool is a subclass of int in Python, but `true` is not a number in the file.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemFormatError(path, f"must be an integer, not {_type_name(value)}")
    if minimum is not None and value < minimum:
        raise ProblemFormatError(path, f"must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ProblemFormatError(path, f"must be at most {maximum:,}, not {value}")
    if maximum is not None and value < -maximum:
        raise ProblemFormatError(path, f"must be at least {-maximum:,}, not {value}")
    return value


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProblemFormatError(path, f"must be true or false, not {_type_name(value)}")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemFormatError(path, f"must be a list, not {_type_name(value)}")
    return value


def _items(data: Mapping[str, Any], key: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
    """Read the list ``data[key]`` (absent or null: empty) item by item."""
    value = data.get(key)
    if value is None:
        return ()
    return tuple(read(item, f"{key}[{i}]") for i, item in enumerate(_list(value, key)))


def _datetime(value: object, path: str) -> datetime:
    text = _string(value, path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        # Python says why only when the form is right but a value is not (a 30 February).
        why = "" if str(exc).startswith("Invalid isoformat") else f" ({exc})"
        raise ProblemFormatError(
            path,
            f"{quoted(text)} is not an ISO 8601 time{why}; "
            'write it like "2027-02-10T10:00:00+09:00"',
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        try:
            day: date | None = date.fromisoformat(text)
        except ValueError:
            day = None  # it has a time of day: only the offset is missing
        if day is not None:
            raise ProblemFormatError(
                path,
                f"{quoted(text)} is a date without a time and UTC offset; "
                f'write both, e.g. "{day.isoformat()}T10:00:00+09:00"',
            )
        raise ProblemFormatError(
            path,
            f"{quoted(text)} has no UTC offset; write it with one, "
            f'e.g. "{moment.isoformat()}+09:00"',
        )
    return moment


def _reference(value: object, path: str, known: Mapping[str, Any] | set[str], kind: str) -> str:
    ident = _string(value, path)
    if ident not in known:
        raise ProblemFormatError(path, f"unknown {kind} {quoted(ident)}{_suggestion(ident, known)}")
    return ident


def _references(value: object, path: str, known: Mapping[str, Any], kind: str) -> frozenset[str]:
    ids: list[str] = []
    for i, item in enumerate(_list(value, path)):
        ident = _reference(item, f"{path}[{i}]", known, kind)
        if ident in ids:
            raise ProblemFormatError(f"{path}[{i}]", f'{kind} "{ident}" is listed twice')
        ids.append(ident)
    return frozenset(ids)


def _unique_ids(items: Iterable[Any], section: str, kind: str) -> dict[str, int]:
    """Map each item's id to its position, refusing duplicates."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            raise ProblemFormatError(
                f"{section}[{i}].id",
                f'duplicate {kind} id "{item.id}" (first at {section}[{seen[item.id]}])',
            )
        seen[item.id] = i
    return seen


# ---------------------------------------------------------------------------
# Problem file -> Problem
# ---------------------------------------------------------------------------


def _read_slot(value: object, path: str) -> Slot:
    data = _object(value, path, ("id", "start", "end"), ("id", "start", "end"))
    slot = Slot(
        id=_string(data["id"], f"{path}.id", nonempty=True),
        start=_datetime(data["start"], f"{path}.start"),
        end=_datetime(data["end"], f"{path}.end"),
    )
    if slot.end <= slot.start:
        raise ProblemFormatError(f"{path}.end", "must be later than start")
    return slot


def _read_table(value: object, path: str) -> Table:
    data = _object(value, path, ("id", "room", "host"), ("id",))
    room, host = data.get("room"), data.get("host")
    return Table(
        id=_string(data["id"], f"{path}.id", nonempty=True),
        room=None if room is None else _string(room, f"{path}.room"),
        host=None if host is None else _string(host, f"{path}.host"),
    )


def problem_from_dict(data: object) -> Problem:
    """Validate a decoded problem file and build the :class:`Problem` it describes.

    Raises :class:`ProblemFormatError` naming the first offending field. Slots
    come back sorted by start time (ties keep the file's order).
    """
    data = _object(data, "", _PROBLEM_FIELDS, ("format", "slots", "participants", "pairs"))
    if data["format"] != PROBLEM_FORMAT:
        raise ProblemFormatError(
            "format", f'must be "{PROBLEM_FORMAT}", not {json.dumps(data["format"])}'
        )

    event_name, timezone = "", "Asia/Tokyo"
    if data.get("event") is not None:
        event = _object(data["event"], "event", ("name", "timezone"))
        if event.get("name") is not None:
            event_name = _string(event["name"], "event.name")
        if event.get("timezone") is not None:
            timezone = _timezone(event["timezone"], "event.timezone")

    slots = _items(data, "slots", _read_slot)
    slot_ids = _unique_ids(slots, "slots", "slot")

    tables: tuple[Table, ...] | None = None
    if data.get("tables") is not None:
        tables = _items(data, "tables", _read_table)
        _unique_ids(tables, "tables", "table")

    participants = _items(
        data, "participants", lambda value, path: _read_participant(value, path, slot_ids)
    )
    participant_ids = _unique_ids(participants, "participants", "participant")

    for i, table in enumerate(tables or ()):
        if table.host is not None:
            _reference(table.host, f"tables[{i}].host", participant_ids, "participant")

    pairs = _items(
        data, "pairs", lambda value, path: _read_pair(value, path, participant_ids, slot_ids)
    )
    first_listed: dict[frozenset[str], int] = {}
    for i, pair in enumerate(pairs):
        if pair.key in first_listed:
            first = first_listed[pair.key]
            raise ProblemFormatError(
                f"pairs[{i}]", f"pair {pair.a}–{pair.b} is listed twice (first at pairs[{first}])"
            )
        first_listed[pair.key] = i

    table_ids = None if tables is None else {t.id: t for t in tables}

    def read_meeting(value: object, path: str) -> Meeting:
        return _read_meeting(value, path, participant_ids, slot_ids, table_ids)

    meeting_bonus = _meeting_bonus(data.get("meeting_bonus"))
    max_breaks = data.get("max_breaks")
    now = data.get("now")
    return Problem(
        slots=tuple(sorted(slots, key=lambda s: s.start)),
        participants=participants,
        pairs=pairs,
        tables=tables,
        event_name=event_name,
        timezone=timezone,
        meeting_bonus=meeting_bonus,
        break_penalty=_optional_int(data, "break_penalty", minimum=0, default=0),
        max_breaks=None if max_breaks is None else _integer(max_breaks, "max_breaks", minimum=0),
        locked=_items(data, "locked", read_meeting),
        current=_items(data, "current", read_meeting),
        change_penalty=_optional_int(data, "change_penalty", minimum=0, default=0),
        now=None if now is None else _datetime(now, "now"),
    )


def _timezone(value: object, path: str) -> str:
    name = _string(value, path)
    try:
        ZoneInfo(name)
    except IsADirectoryError:
        # "Asia", "America", "Etc": a folder of the zone database, not a zone.
        raise ProblemFormatError(
            path,
            f"unknown time zone {quoted(name)}: a region, not a zone; "
            'name a zone in it, such as "Asia/Tokyo"',
        ) from None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # Not found; not a normalised relative path ("", "../x", "a//b") or a NUL byte
        # (ValueError), a file of the database that is no zone (ValueError, "Invalid
        # TZif file"), a name too long for the file system (OSError).
        raise ProblemFormatError(
            path, f'unknown time zone {quoted(name)} (an IANA name such as "Asia/Tokyo")'
        ) from None
    return name


def _optional_int(data: Mapping[str, Any], key: str, *, minimum: int, default: int) -> int:
    value = data.get(key)
    return default if value is None else _integer(value, key, minimum=minimum)


def _meeting_bonus(value: object) -> tuple[int, ...]:
    if value is None:
        return ()
    bonus = tuple(
        _integer(item, f"meeting_bonus[{i}]", minimum=0)
        for i, item in enumerate(_list(value, "meeting_bonus"))
    )
    for i in range(1, len(bonus)):
        if bonus[i] > bonus[i - 1]:
            raise ProblemFormatError(
                f"meeting_bonus[{i}]",
                f"must not exceed the entry before it ({bonus[i]} > {bonus[i - 1]}): the list "
                "is non-increasing, so a participant's first meeting is worth the most",
            )
    return bonus


def _read_participant(value: object, path: str, slot_ids: Mapping[str, int]) -> Participant:
    data = _object(
        value,
        path,
        ("id", "role", "name", "available", "max_meetings", "parallel"),
        ("id",),
    )
    available, max_meetings = data.get("available"), data.get("max_meetings")
    parallel = data.get("parallel")
    return Participant(
        id=_string(data["id"], f"{path}.id", nonempty=True),
        role="" if data.get("role") is None else _string(data["role"], f"{path}.role"),
        name="" if data.get("name") is None else _string(data["name"], f"{path}.name"),
        available=(
            None
            if available is None
            else _references(available, f"{path}.available", slot_ids, "slot")
        ),
        max_meetings=(
            None
            if max_meetings is None
            else _integer(max_meetings, f"{path}.max_meetings", minimum=0)
        ),
        parallel=1 if parallel is None else _integer(parallel, f"{path}.parallel", minimum=1),
    )


def _read_pair(
    value: object, path: str, participant_ids: Mapping[str, int], slot_ids: Mapping[str, int]
) -> Pair:
    data = _object(value, path, ("a", "b", "weight", "must", "slots"), ("a", "b"))
    a = _reference(data["a"], f"{path}.a", participant_ids, "participant")
    b = _reference(data["b"], f"{path}.b", participant_ids, "participant")
    if a == b:
        raise ProblemFormatError(
            f"{path}.b", f'a pair needs two participants, but a and b are "{a}"'
        )
    slots = data.get("slots")
    return Pair(
        a=a,
        b=b,
        weight=0 if data.get("weight") is None else _integer(data["weight"], f"{path}.weight"),
        must=False if data.get("must") is None else _boolean(data["must"], f"{path}.must"),
        slots=None if slots is None else _references(slots, f"{path}.slots", slot_ids, "slot"),
    )


def _read_meeting(
    value: object,
    path: str,
    participant_ids: Mapping[str, int],
    slot_ids: Mapping[str, int],
    tables: Mapping[str, Table] | None,
) -> Meeting:
    """A locked or current meeting; it needs a table exactly when the problem has tables."""
    data = _object(value, path, ("a", "b", "slot", "table"), ("a", "b", "slot"))
    a = _reference(data["a"], f"{path}.a", participant_ids, "participant")
    b = _reference(data["b"], f"{path}.b", participant_ids, "participant")
    if a == b:
        raise ProblemFormatError(
            f"{path}.b", f'a meeting needs two participants, but a and b are "{a}"'
        )
    slot = _reference(data["slot"], f"{path}.slot", slot_ids, "slot")
    table = data.get("table")
    if tables is None:
        if table is not None:
            raise ProblemFormatError(
                f"{path}.table", f'unknown table "{table}": the problem lists no tables'
            )
    elif table is None:
        raise ProblemFormatError(f"{path}.table", "required, because the problem lists tables")
    else:
        table = _reference(table, f"{path}.table", tables, "table")
    return Meeting(a=a, b=b, slot=slot, table=table)


# ---------------------------------------------------------------------------
# Problem -> problem file
# ---------------------------------------------------------------------------


def _meeting_to_dict(meeting: Meeting) -> dict[str, Any]:
    out: dict[str, Any] = {"a": meeting.a, "b": meeting.b, "slot": meeting.slot}
    if meeting.table is not None:
        out["table"] = meeting.table
    return out


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The problem file for ``problem``; ``problem_from_dict`` of it equals ``problem``.

    Optional fields at their defaults are left out; id sets (``available``, a pair's
    ``slots``) are written in slot order.
    """
    order = {s.id: i for i, s in enumerate(problem.slots)}

    def slot_list(ids: frozenset[str]) -> list[str]:
        return sorted(ids, key=lambda ident: (order.get(ident, len(order)), ident))

    out: dict[str, Any] = {
        "format": PROBLEM_FORMAT,
        "event": {"name": problem.event_name, "timezone": problem.timezone},
        "slots": [
            {"id": s.id, "start": s.start.isoformat(), "end": s.end.isoformat()}
            for s in problem.slots
        ],
    }
    if problem.tables is not None:
        out["tables"] = [
            {
                "id": t.id,
                **({"room": t.room} if t.room is not None else {}),
                **({"host": t.host} if t.host is not None else {}),
            }
            for t in problem.tables
        ]
    participants = []
    for p in problem.participants:
        item: dict[str, Any] = {"id": p.id, "role": p.role, "name": p.name}
        if p.available is not None:
            item["available"] = slot_list(p.available)
        if p.max_meetings is not None:
            item["max_meetings"] = p.max_meetings
        if p.parallel != 1:
            item["parallel"] = p.parallel
        participants.append(item)
    out["participants"] = participants
    pairs = []
    for pair in problem.pairs:
        item = {"a": pair.a, "b": pair.b, "weight": pair.weight, "must": pair.must}
        if pair.slots is not None:
            item["slots"] = slot_list(pair.slots)
        pairs.append(item)
    out["pairs"] = pairs
    if problem.meeting_bonus:
        out["meeting_bonus"] = list(problem.meeting_bonus)
    if problem.break_penalty:
        out["break_penalty"] = problem.break_penalty
    if problem.max_breaks is not None:
        out["max_breaks"] = problem.max_breaks
    if problem.locked:
        out["locked"] = [_meeting_to_dict(m) for m in problem.locked]
    if problem.current:
        out["current"] = [_meeting_to_dict(m) for m in problem.current]
    if problem.change_penalty:
        out["change_penalty"] = problem.change_penalty
    if problem.now is not None:
        out["now"] = problem.now.isoformat()
    return out


# ---------------------------------------------------------------------------
# Schedule <-> schedule file
# ---------------------------------------------------------------------------


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The schedule file: exactly the documented fields.

    The per-pair reasons (``schedule.unscheduled``) go to ``stats["unscheduled"]``
    as ``{"a", "b", "reason", "detail"}`` objects, always present (maybe empty).
    """
    stats = dict(schedule.stats)
    stats["unscheduled"] = [
        {"a": u.a, "b": u.b, "reason": u.reason, "detail": u.detail} for u in schedule.unscheduled
    ]
    return {
        "format": SCHEDULE_FORMAT,
        "status": schedule.status,
        "objective": schedule.objective,
        "bound": schedule.bound,
        "solve_seconds": schedule.solve_seconds,
        "meetings": [_meeting_to_dict(m) for m in schedule.meetings],
        "unscheduled_must": [dict(item) for item in schedule.unscheduled_must],
        "stats": stats,
    }


def _read_schedule_meeting(value: object, path: str) -> Meeting:
    data = _object(value, path, ("a", "b", "slot", "table"), ("a", "b", "slot"))
    table = data.get("table")
    return Meeting(
        a=_string(data["a"], f"{path}.a", nonempty=True),
        b=_string(data["b"], f"{path}.b", nonempty=True),
        slot=_string(data["slot"], f"{path}.slot", nonempty=True),
        table=None if table is None else _string(table, f"{path}.table", nonempty=True),
    )


def _read_unscheduled(value: object, path: str) -> UnscheduledPair:
    data = _object(value, path, ("a", "b", "reason", "detail"), ("a", "b", "reason"))
    reason = _string(data["reason"], f"{path}.reason")
    if reason not in UNSCHEDULED_REASONS:
        raise ProblemFormatError(
            f"{path}.reason",
            f'unknown reason "{reason}"{_suggestion(reason, UNSCHEDULED_REASONS)} '
            f"(known: {', '.join(UNSCHEDULED_REASONS)})",
        )
    detail = data.get("detail")
    return UnscheduledPair(
        a=_string(data["a"], f"{path}.a", nonempty=True),
        b=_string(data["b"], f"{path}.b", nonempty=True),
        reason=reason,
        detail="" if detail is None else _string(detail, f"{path}.detail"),
    )


def schedule_from_dict(data: object) -> Schedule:
    """Validate a decoded schedule file and build its :class:`Schedule`.

    Ids are checked for type only: whether the meetings fit a problem is
    :func:`solver.validation.check`'s job.
    """
    data = _object(data, "", _SCHEDULE_FIELDS, _SCHEDULE_FIELDS)
    if data["format"] != SCHEDULE_FORMAT:
        raise ProblemFormatError(
            "format", f'must be "{SCHEDULE_FORMAT}", not {json.dumps(data["format"])}'
        )
    status = _string(data["status"], "status")
    if status not in STATUSES:
        raise ProblemFormatError("status", f'must be one of {", ".join(STATUSES)}, not "{status}"')
    seconds = data["solve_seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ProblemFormatError("solve_seconds", "must be a non-negative number")
    stats = data["stats"]
    if not isinstance(stats, dict):
        raise ProblemFormatError("stats", f"must be an object, not {_type_name(stats)}")
    reasons = stats.get("unscheduled")
    unscheduled = [
        _read_unscheduled(item, f"stats.unscheduled[{i}]")
        for i, item in enumerate(() if reasons is None else _list(reasons, "stats.unscheduled"))
    ]
    unscheduled_must = []
    for i, item in enumerate(_list(data["unscheduled_must"], "unscheduled_must")):
        if not isinstance(item, dict):
            raise ProblemFormatError(
                f"unscheduled_must[{i}]", f"must be an object, not {_type_name(item)}"
            )
        unscheduled_must.append(item)
    return Schedule(
        status=status,
        objective=_integer(data["objective"], "objective", maximum=None),
        bound=_integer(data["bound"], "bound", maximum=None),
        solve_seconds=float(seconds),
        meetings=list(_items(data, "meetings", _read_schedule_meeting)),
        unscheduled_must=unscheduled_must,
        unscheduled=unscheduled,
        stats={key: value for key, value in stats.items() if key != "unscheduled"},
    )


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def _read_json(path_or_file: PathOrFile) -> Any:
    """Decode a JSON file, turning every way it can fail into a ProblemFormatError."""
    try:
        if isinstance(path_or_file, str | os.PathLike):
            # utf-8-sig: a byte-order mark (Windows tools write one) is not an error.
            with open(path_or_file, encoding="utf-8-sig") as fp:
                text = fp.read()
        else:
            text = path_or_file.read()
    except OSError as exc:
        name = getattr(exc, "filename", None) or path_or_file
        raise ProblemFormatError("", f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ProblemFormatError("", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    duplicates: list[_DuplicateKeys] = []

    def object_from(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        marked = _DuplicateKeys(obj)
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                marked.key = key
                break
            seen.add(key)
        duplicates.append(marked)
        return marked

    def integer_from(digits: str) -> int:
        try:
            return int(digits)
        except ValueError:  # more digits than Python converts (4,300 by default)
            raise ProblemFormatError(
                "",
                f"invalid JSON at {_where(text, digits)}: an integer of {len(digits):,} "
                "digits, far beyond any number the file may hold",
            ) from None

    try:
        data = json.loads(text, object_pairs_hook=object_from, parse_int=integer_from)
    except json.JSONDecodeError as exc:
        raise ProblemFormatError(
            "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ProblemFormatError(
            "", "invalid JSON: lists and objects are nested too deeply inside one another"
        ) from None
    if duplicates:
        path, key = _first_duplicate_key(data)
        raise ProblemFormatError(
            f"{path}.{key}" if path else key, f"the key {quoted(key)} is given twice in one object"
        )
    return data


class _DuplicateKeys(dict):
    """A JSON object in which ``key`` is given twice. JSON parsers let the last one win
    silently, and a typo must not change the problem unnoticed, so it is refused; the
    refusal waits until the object's JSON path is known."""

    key: str


def _first_duplicate_key(data: Any) -> tuple[str, str]:
    """(JSON path of the object, key) of the first object in the file with a key twice."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:  # depth first, in file order; a loop, as the nesting may be deep
        value, path = stack.pop()
        if isinstance(value, _DuplicateKeys):
            return path, value.key
        if isinstance(value, dict):
            children = [(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    raise AssertionError("a duplicate key was seen while parsing")


def _where(text: str, token: str) -> str:
    """``line L, column C`` of the first occurrence of ``token`` in ``text``."""
    position = max(0, text.find(token))
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return f"line {line}, column {column}"


def load_problem(path_or_file: PathOrFile) -> Problem:
    """Read and validate a problem file from a path or an open text file."""
    return problem_from_dict(_read_json(path_or_file))


def load_schedule(path_or_file: PathOrFile) -> Schedule:
    """Read and validate a schedule file from a path or an open text file."""
    return schedule_from_dict(_read_json(path_or_file))


def dump_json(obj: Problem | Schedule | Mapping[str, Any], fp_or_path: PathOrFile) -> None:
    """Write ``obj`` (a dict, a Problem or a Schedule) as readable UTF-8 JSON.

    Japanese names stay as written (``ensure_ascii=False``), indented by 2, with a
    final newline.
    """
    if isinstance(obj, Problem):
        obj = problem_to_dict(obj)
    elif isinstance(obj, Schedule):
        obj = schedule_to_dict(obj)
    text = json.dumps(obj, ensure_ascii=False, indent=2) + "\n"
    if isinstance(fp_or_path, str | os.PathLike):
        Path(fp_or_path).write_text(text, encoding="utf-8")
    else:
        fp_or_path.write(text)
