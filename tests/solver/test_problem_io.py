"""Reading and writing problem and schedule files: round trips, and every kind of
malformed input rejected with the JSON path of the offending field."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.errors import ProblemFormatError
from solver.problem import (
    Meeting,
    Pair,
    Participant,
    Problem,
    Schedule,
    Slot,
    Table,
    UnscheduledPair,
)
from solver.problem_io import (
    dump_json,
    load_problem,
    load_schedule,
    problem_from_dict,
    problem_to_dict,
    schedule_from_dict,
    schedule_to_dict,
)

SMALL = Path(__file__).parent / "data" / "small.json"


def minimal() -> dict[str, Any]:
    return {
        "format": "matchfair-problem/1",
        "slots": [
            {"id": "s2", "start": "2027-02-10T10:30:00+09:00", "end": "2027-02-10T10:55:00+09:00"},
            {"id": "s1", "start": "2027-02-10T10:00:00+09:00", "end": "2027-02-10T10:25:00+09:00"},
        ],
        "tables": [{"id": "T1", "host": "B1"}, {"id": "T2"}],
        "participants": [{"id": "B1", "role": "buyer"}, {"id": "S1"}, {"id": "S2"}],
        "pairs": [{"a": "B1", "b": "S1", "weight": 3}, {"a": "B1", "b": "S2"}],
    }


def test_small_file_round_trips() -> None:
    problem = load_problem(SMALL)
    assert problem.event_name == "ものづくり商談会 2027 浜松"
    assert problem_from_dict(problem_to_dict(problem)) == problem
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(problem)))) == problem


def test_reads_every_field() -> None:
    problem = load_problem(SMALL)
    by_id = {p.id: p for p in problem.participants}
    assert by_id["B002"].available == frozenset({"s01", "s02", "s03"})
    assert by_id["B001"].max_meetings == 5
    assert by_id["B003"].parallel == 2
    assert by_id["S001"].available is None
    assert problem.pairs[0].must is True
    assert problem.pairs[5].slots == frozenset({"s01", "s02"})
    assert problem.tables is not None
    assert problem.tables[0].host == "B001"
    assert problem.meeting_bonus == (20, 5)
    assert (problem.break_penalty, problem.max_breaks, problem.change_penalty) == (3, 2, 6)
    assert problem.locked == (Meeting("B003", "S003", "s01", "T03"),)
    assert len(problem.current) == 2


def test_defaults_and_slot_order() -> None:
    problem = problem_from_dict(minimal())
    assert [s.id for s in problem.slots] == ["s1", "s2"]  # sorted by start
    assert problem.timezone == "Asia/Tokyo"
    assert problem.now is None and problem.max_breaks is None
    assert problem.meeting_bonus == () and problem.locked == ()
    assert problem.pairs[1].weight == 0 and problem.pairs[1].must is False
    assert problem.participants[1].parallel == 1


def test_null_means_absent() -> None:
    data = minimal()
    data.update(tables=None, now=None, max_breaks=None)
    data["participants"][0]["available"] = None
    problem = problem_from_dict(data)
    assert problem.tables is None
    assert problem.participants[0].available is None


def test_tables_absent_means_unlimited_and_round_trips() -> None:
    data = minimal()
    del data["tables"]
    data["locked"] = [{"a": "S1", "b": "B1", "slot": "s1"}]
    problem = problem_from_dict(data)
    assert problem.tables is None
    assert problem.locked == (Meeting("S1", "B1", "s1", None),)
    assert problem_from_dict(problem_to_dict(problem)) == problem


def test_times_keep_their_offset() -> None:
    data = minimal()
    data["now"] = "2027-02-10T01:40:00Z"
    problem = problem_from_dict(data)
    assert problem.now == datetime(2027, 2, 10, 10, 40, tzinfo=timezone(timedelta(hours=9)))
    assert problem_from_dict(problem_to_dict(problem)) == problem


def test_negative_weight_is_allowed() -> None:
    data = minimal()
    data["pairs"][0]["weight"] = -4  # a pair both sides would rather avoid
    assert problem_from_dict(data).pairs[0].weight == -4


Mutation = Callable[[dict[str, Any]], None]


def set_(path: str, value: object) -> Mutation:
    """A mutation setting ``data[...]`` along a dotted path with [i] indices."""

    def apply(data: dict[str, Any]) -> None:
        target: Any = data
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return apply


def delete(path: str) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return apply


BAD_INPUTS: list[tuple[str, Mutation, str, str]] = [
    ("wrong format", set_("format", "matchfair-problem/2"), "format", "matchfair-problem/1"),
    ("missing pairs", delete("pairs"), "pairs", "required field missing"),
    ("null slots", set_("slots", None), "slots", "required, not null"),
    ("missing pair member", delete("pairs.0.b"), "pairs[0].b", "required field missing"),
    (
        "unknown top field",
        set_("meeting_bonuss", [3]),
        "meeting_bonuss",
        'did you mean "meeting_bonus"',
    ),
    ("unknown pair field", set_("pairs[0].wieght", 9), "pairs[0].wieght", 'did you mean "weight"'),
    ("unknown slot field", set_("slots[1].begin", "x"), "slots[1].begin", "unknown field"),
    ("unknown event field", set_("event", {"tz": "UTC"}), "event.tz", "unknown field"),
    (
        "bool as int",
        set_("pairs[0].weight", True),
        "pairs[0].weight",
        "must be an integer, not a boolean",
    ),
    (
        "string as int",
        set_("participants[0].max_meetings", "3"),
        "participants[0].max_meetings",
        "not a string",
    ),
    ("float as int", set_("break_penalty", 1.5), "break_penalty", "must be an integer"),
    ("int as bool", set_("pairs[1].must", 1), "pairs[1].must", "true or false"),
    ("list expected", set_("pairs", {"a": "B1"}), "pairs", "must be a list"),
    ("object expected", set_("pairs[0]", ["B1", "S1"]), "pairs[0]", "must be a JSON object"),
    (
        "naive time",
        set_("slots[0].start", "2027-02-10T10:30:00"),
        "slots[0].start",
        "no UTC offset",
    ),
    ("unparsable time", set_("slots[1].end", "10:25 JST"), "slots[1].end", "not an ISO 8601 time"),
    ("naive now", set_("now", "2027-02-10T11:40:00"), "now", "no UTC offset"),
    (
        "end before start",
        set_("slots[0].end", "2027-02-10T10:30:00+09:00"),
        "slots[0].end",
        "later than start",
    ),
    (
        "duplicate slot id",
        set_("slots[1].id", "s2"),
        "slots[1].id",
        'duplicate slot id "s2" (first at slots[0])',
    ),
    (
        "duplicate participant",
        set_("participants[2].id", "S1"),
        "participants[2].id",
        "duplicate participant id",
    ),
    ("duplicate table", set_("tables[1].id", "T1"), "tables[1].id", "duplicate table id"),
    ("empty id", set_("participants[0].id", " "), "participants[0].id", "must not be empty"),
    ("unknown pair member", set_("pairs[1].b", "S3"), "pairs[1].b", 'unknown participant "S3"'),
    ("unknown id suggestion", set_("pairs[0].a", "B01"), "pairs[0].a", 'did you mean "B1"'),
    (
        "unknown available slot",
        set_("participants[1].available", ["s1", "s9"]),
        "participants[1].available[1]",
        'unknown slot "s9"',
    ),
    (
        "slot listed twice",
        set_("pairs[0].slots", ["s1", "s1"]),
        "pairs[0].slots[1]",
        "listed twice",
    ),
    ("unknown pair slot", set_("pairs[0].slots", ["s3"]), "pairs[0].slots[0]", 'unknown slot "s3"'),
    ("unknown host", set_("tables[0].host", "B9"), "tables[0].host", 'unknown participant "B9"'),
    ("pair with itself", set_("pairs[1].b", "B1"), "pairs[1].b", "two participants"),
    (
        "pair listed twice reversed",
        set_("pairs[1]", {"a": "S1", "b": "B1"}),
        "pairs[1]",
        "listed twice (first at pairs[0])",
    ),
    ("bonus increasing", set_("meeting_bonus", [20, 5, 6]), "meeting_bonus[2]", "must not exceed"),
    ("bonus negative", set_("meeting_bonus", [5, -1]), "meeting_bonus[1]", "at least 0"),
    (
        "max_meetings negative",
        set_("participants[0].max_meetings", -1),
        "participants[0].max_meetings",
        "at least 0",
    ),
    (
        "parallel zero",
        set_("participants[2].parallel", 0),
        "participants[2].parallel",
        "at least 1",
    ),
    ("max_breaks negative", set_("max_breaks", -1), "max_breaks", "at least 0"),
    ("break_penalty negative", set_("break_penalty", -3), "break_penalty", "at least 0"),
    ("change_penalty negative", set_("change_penalty", -1), "change_penalty", "at least 0"),
    (
        "bad timezone",
        set_("event", {"timezone": "Asia/Tokio"}),
        "event.timezone",
        "unknown time zone",
    ),
    (
        "locked without table",
        set_("locked", [{"a": "B1", "b": "S1", "slot": "s1"}]),
        "locked[0].table",
        "required",
    ),
    (
        "locked unknown table",
        set_("locked", [{"a": "B1", "b": "S1", "slot": "s1", "table": "T9"}]),
        "locked[0].table",
        'unknown table "T9"',
    ),
    (
        "locked unknown slot",
        set_("locked", [{"a": "B1", "b": "S1", "slot": "s7", "table": "T1"}]),
        "locked[0].slot",
        'unknown slot "s7"',
    ),
    (
        "current unknown person",
        set_("current", [{"a": "B1", "b": "X", "slot": "s1", "table": "T1"}]),
        "current[0].b",
        "unknown participant",
    ),
    (
        "current unknown field",
        set_("current", [{"a": "B1", "b": "S1", "slot": "s1", "tabel": "T1"}]),
        "current[0].tabel",
        'did you mean "table"',
    ),
    # Numbers past 64-bit sums made the flow and CP-SAT fail with a traceback.
    ("huge weight", set_("pairs[0].weight", 10**18), "pairs[0].weight", "at most 1,000,000,000"),
    ("huge negative weight", set_("pairs[0].weight", -(10**18)), "pairs[0].weight", "at least"),
    ("huge bonus", set_("meeting_bonus", [10**18]), "meeting_bonus[0]", "at most"),
    ("huge penalty", set_("break_penalty", 10**19), "break_penalty", "at most"),
    ("huge desks", set_("participants[0].parallel", 10**19), "participants[0].parallel", "at most"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [pytest.param(m, f, msg, id=name) for name, m, f, msg in BAD_INPUTS],
)
def test_bad_input_names_the_field(mutate: Mutation, field: str, fragment: str) -> None:
    data = copy.deepcopy(minimal())
    mutate(data)
    with pytest.raises(ProblemFormatError) as info:
        problem_from_dict(data)
    assert info.value.field == field
    assert fragment in info.value.message
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Asia", id="a-region"),  # IsADirectoryError, once a traceback
        pytest.param("Etc", id="another-region"),
        pytest.param("../x", id="outside"),  # ValueError
        pytest.param("Asia//Tokyo", id="not-normalised"),
        pytest.param("", id="empty"),
        pytest.param("Asia/Tokyo\x00", id="nul"),
        pytest.param("zone1970.tab", id="a-data-file"),  # ValueError: not a TZif file
        pytest.param("x" * 5000, id="too-long"),  # OSError: file name too long
        pytest.param("Asia/Tokyo ", id="trailing-space"),  # ZoneInfoNotFoundError
    ],
)
def test_every_way_a_time_zone_name_fails_is_one_clear_error(name: str) -> None:
    data = minimal()
    data["event"] = {"timezone": name}
    with pytest.raises(ProblemFormatError) as info:
        problem_from_dict(data)
    assert info.value.field == "event.timezone"
    assert info.value.message.startswith("unknown time zone ")
    assert len(info.value.message) < 200  # a long name is cut short


def test_a_region_of_the_zone_database_is_named_as_such() -> None:
    data = minimal()
    data["event"] = {"timezone": "Asia"}
    with pytest.raises(ProblemFormatError) as info:
        problem_from_dict(data)
    assert str(info.value) == (
        'event.timezone: unknown time zone "Asia": a region, not a zone; '
        'name a zone in it, such as "Asia/Tokyo"'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "2027-02-10 10:00",
            '"2027-02-10 10:00" has no UTC offset; write it with one, '
            'e.g. "2027-02-10T10:00:00+09:00"',
            id="space-no-offset",
        ),
        pytest.param(
            "2027-02-10",
            '"2027-02-10" is a date without a time and UTC offset; '
            'write both, e.g. "2027-02-10T10:00:00+09:00"',
            id="date-alone",
        ),
        pytest.param(
            "2027-02-30T10:00:00+09:00",
            '"2027-02-30T10:00:00+09:00" is not an ISO 8601 time (day is out of range for '
            'month); write it like "2027-02-10T10:00:00+09:00"',
            id="no-such-day",
        ),
    ],
)
def test_a_time_error_says_what_is_wrong_and_a_valid_fix(text: str, message: str) -> None:
    data = minimal()
    data["slots"][0]["start"] = text
    with pytest.raises(ProblemFormatError) as info:
        problem_from_dict(data)
    assert (info.value.field, info.value.message) == ("slots[0].start", message)
    example = message.rsplit('"', 2)[1]
    data["slots"][0]["start"] = example  # the suggested value is valid
    data["slots"][0]["end"] = "2027-02-10T10:25:00+09:00"
    assert problem_from_dict(data).slots


def test_an_integer_too_long_for_python_is_an_error_with_its_place() -> None:
    text = json.dumps(minimal(), indent=1).replace('"weight": 3', '"weight": ' + "9" * 5000)
    with pytest.raises(ProblemFormatError) as info:
        load_problem(io.StringIO(text))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "9999" in row)
    assert info.value.field == ""
    assert info.value.message.startswith(f"invalid JSON at line {line}, column ")
    assert "an integer of 5,000 digits" in info.value.message


def test_json_nested_too_deeply_is_an_error_not_a_recursion_traceback() -> None:
    text = '{"format": "matchfair-problem/1", "event": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ProblemFormatError) as info:
        load_problem(io.StringIO(text))
    assert str(info.value) == (
        "invalid JSON: lists and objects are nested too deeply inside one another"
    )


def test_a_key_given_twice_deep_in_the_file_is_named_by_its_path() -> None:
    data = minimal()
    data["participants"][2]["parallel"] = 1
    text = json.dumps(data).replace('"parallel": 1', '"parallel": 1, "parallel": 2')
    with pytest.raises(ProblemFormatError) as info:
        load_problem(io.StringIO(text))
    assert info.value.field == "participants[2].parallel"
    top = json.dumps(minimal()).replace('"format"', '"format": 1, "format"', 1)
    with pytest.raises(ProblemFormatError) as info:
        load_problem(io.StringIO(top))
    assert info.value.field == "format"


def test_table_given_when_problem_has_no_tables() -> None:
    data = minimal()
    del data["tables"]
    data["locked"] = [{"a": "B1", "b": "S1", "slot": "s1", "table": "T1"}]
    with pytest.raises(ProblemFormatError) as info:
        problem_from_dict(data)
    assert info.value.field == "locked[0].table"
    assert "lists no tables" in info.value.message


def test_file_that_is_not_an_object() -> None:
    with pytest.raises(ProblemFormatError) as info:
        problem_from_dict([])
    assert info.value.field == ""
    assert str(info.value) == "the file must hold a JSON object, not a list"


def test_load_problem_reports_json_position() -> None:
    with pytest.raises(ProblemFormatError) as info:
        load_problem(io.StringIO('{\n  "format": "matchfair-problem/1",\n  "slots": [,]\n}'))
    assert info.value.field == ""
    assert "invalid JSON at line 3, column 13" in info.value.message


def test_a_key_given_twice_is_an_error_not_the_last_one_winning() -> None:
    text = json.dumps(minimal()).replace('"weight": ', '"weight": 9, "weight": ', 1)
    assert text.count('"weight"') >= 2
    with pytest.raises(ProblemFormatError) as info:
        load_problem(io.StringIO(text))
    # Named by its JSON path, as every other error is.
    assert info.value.field == "pairs[0].weight"
    assert info.value.message == 'the key "weight" is given twice in one object'


def test_load_problem_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ProblemFormatError) as info:
        load_problem(missing)
    assert f"cannot read {missing}" in info.value.message


def test_dump_json_keeps_japanese_and_round_trips(tmp_path: Path) -> None:
    problem = load_problem(SMALL)
    out = tmp_path / "p.json"
    dump_json(problem, out)
    text = out.read_text(encoding="utf-8")
    assert "遠州精機株式会社" in text
    assert text.endswith("}\n")
    assert '\n  "format"' in text  # indented by 2
    assert load_problem(out) == problem


def sample_schedule() -> Schedule:
    return Schedule(
        status="FEASIBLE",
        objective=123,
        bound=130,
        solve_seconds=1.5,
        meetings=[Meeting("B1", "S1", "s1", "T1"), Meeting("S2", "B1", "s2", "T1")],
        unscheduled_must=[],
        unscheduled=[UnscheduledPair("B2", "S3", "out_competed", "B2 met S1, S2 instead")],
        stats={"meetings": 2},
    )


def test_schedule_dict_has_exactly_the_documented_fields() -> None:
    data = schedule_to_dict(sample_schedule())
    assert list(data) == [
        "format",
        "status",
        "objective",
        "bound",
        "solve_seconds",
        "meetings",
        "unscheduled_must",
        "stats",
    ]
    assert data["format"] == "matchfair-schedule/1"
    assert data["stats"]["unscheduled"] == [
        {"a": "B2", "b": "S3", "reason": "out_competed", "detail": "B2 met S1, S2 instead"}
    ]
    assert data["meetings"][1] == {"a": "S2", "b": "B1", "slot": "s2", "table": "T1"}


def test_schedule_round_trips(tmp_path: Path) -> None:
    schedule = sample_schedule()
    assert schedule_from_dict(schedule_to_dict(schedule)) == schedule
    path = tmp_path / "s.json"
    dump_json(schedule, path)
    assert load_schedule(path) == schedule


def test_schedule_without_tables_round_trips() -> None:
    schedule = Schedule("OPTIMAL", 5, 5, 0.0, meetings=[Meeting("B1", "S1", "s1")])
    data = schedule_to_dict(schedule)
    assert data["meetings"] == [{"a": "B1", "b": "S1", "slot": "s1"}]
    assert schedule_from_dict(data) == schedule


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        pytest.param(set_("status", "DONE"), "status", id="status"),
        pytest.param(set_("format", "matchfair-problem/1"), "format", id="format"),
        pytest.param(set_("objective", 1.5), "objective", id="objective"),
        pytest.param(set_("extra", 1), "extra", id="extra-field"),
        pytest.param(delete("bound"), "bound", id="missing-bound"),
        pytest.param(set_("meetings[0].slott", "s1"), "meetings[0].slott", id="meeting-field"),
        pytest.param(
            set_("stats.unscheduled[0].reason", "no_tables"),
            "stats.unscheduled[0].reason",
            id="reason",
        ),
    ],
)
def test_bad_schedule_names_the_field(mutate: Mutation, field: str) -> None:
    data = schedule_to_dict(sample_schedule())
    mutate(data)
    with pytest.raises(ProblemFormatError) as info:
        schedule_from_dict(data)
    assert info.value.field == field


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """Small well-formed problems with every optional field sometimes present."""
    jst = timezone(timedelta(hours=9))
    n_slots = draw(st.integers(1, 5))
    starts = draw(st.lists(st.integers(0, 20), min_size=n_slots, max_size=n_slots, unique=True))
    slots = tuple(
        Slot(
            f"s{i}",
            datetime(2027, 2, 10, 9, tzinfo=jst) + timedelta(minutes=30 * start),
            datetime(2027, 2, 10, 9, 25, tzinfo=jst) + timedelta(minutes=30 * start),
        )
        for i, start in enumerate(starts)
    )
    slot_ids = [s.id for s in slots]
    ids = [f"P{i}" for i in range(draw(st.integers(2, 5)))]
    some_slots = st.none() | st.frozensets(st.sampled_from(slot_ids))
    participants = tuple(
        Participant(
            ident,
            role=draw(st.sampled_from(["buyer", "supplier", ""])),
            name=draw(st.text(max_size=6)),
            available=draw(some_slots),
            max_meetings=draw(st.none() | st.integers(0, 9)),
            parallel=draw(st.integers(1, 3)),
        )
        for ident in ids
    )
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda t: t[0] != t[1]),
            unique_by=lambda t: frozenset(t),
            max_size=6,
        )
    )
    pairs = tuple(
        Pair(a, b, draw(st.integers(-9, 9)), draw(st.booleans()), draw(some_slots)) for a, b in keys
    )
    tables = draw(
        st.none()
        | st.just((Table("T1", "Hall A", host=ids[0]), Table("T2"), Table("T3", room="Hall B")))
    )
    table_ids = st.none() if tables is None else st.sampled_from(["T1", "T2", "T3"])

    def meetings() -> tuple[Meeting, ...]:
        if not keys:
            return ()
        chosen = draw(st.lists(st.sampled_from(keys), max_size=2))
        return tuple(
            Meeting(a, b, draw(st.sampled_from(slot_ids)), draw(table_ids)) for a, b in chosen
        )

    bonus = sorted(draw(st.lists(st.integers(0, 30), max_size=3)), reverse=True)
    return Problem(
        slots=tuple(sorted(slots, key=lambda s: s.start)),
        participants=participants,
        pairs=pairs,
        tables=tables,
        event_name=draw(st.text(max_size=8)),
        timezone=draw(st.sampled_from(["Asia/Tokyo", "UTC"])),
        meeting_bonus=tuple(bonus),
        break_penalty=draw(st.integers(0, 5)),
        max_breaks=draw(st.none() | st.integers(0, 3)),
        locked=meetings(),
        current=meetings(),
        change_penalty=draw(st.integers(0, 5)),
        now=draw(st.none() | st.just(datetime(2027, 2, 10, 11, tzinfo=jst))),
    )


@settings(max_examples=60, deadline=None)
@given(problems())
def test_any_problem_round_trips_through_json(problem: Problem) -> None:
    text = json.dumps(problem_to_dict(problem), ensure_ascii=False)
    assert problem_from_dict(json.loads(text)) == problem
