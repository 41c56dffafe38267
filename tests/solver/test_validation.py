"""The executable specification: each hard rule accepts a valid tiny schedule and
rejects a violating one; breaks and the objective are checked against hand arithmetic."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from solver.problem import Meeting, Pair, Participant, Problem, Slot, Table
from solver.timeline import count_breaks, slot_days
from solver.validation import assert_valid, breaks_per_participant, check, objective

JST = timezone(timedelta(hours=9))


def slot(slot_id: str, day: int, hour: int, minute: int = 0) -> Slot:
    start = datetime(2027, 2, day, hour, minute, tzinfo=JST)
    return Slot(slot_id, start, start + timedelta(minutes=25))


# Day 10: s1 10:00, s2 10:30, s3 11:00, (lunch) s4 13:00, s5 13:30; day 11: s6 10:00, s7 10:30.
SLOTS = (
    slot("s1", 10, 10),
    slot("s2", 10, 10, 30),
    slot("s3", 10, 11),
    slot("s4", 10, 13),
    slot("s5", 10, 13, 30),
    slot("s6", 11, 10),
    slot("s7", 11, 10, 30),
)


def base(**changes: object) -> Problem:
    """Buyers B1 (hosts T1) and B2, suppliers S1, S2; free tables T8, T9."""
    problem = Problem(
        slots=SLOTS,
        participants=(
            Participant("B1", "buyer"),
            Participant("B2", "buyer"),
            Participant("S1", "supplier"),
            Participant("S2", "supplier"),
        ),
        pairs=(
            Pair("B1", "S1", weight=5),
            Pair("B1", "S2", weight=3),
            Pair("B2", "S1", weight=4),
            Pair("B2", "S2", weight=2),
            Pair("S1", "S2", weight=1),
        ),
        tables=(Table("T1", "Hall A", host="B1"), Table("T8", "Hall B"), Table("T9", "Hall B")),
    )
    return replace(problem, **changes)


def violations(problem: Problem, meetings: list[Meeting], rule: int) -> list[str]:
    return [e for e in check(problem, meetings) if e.startswith(f"rule {rule}:")]


def test_a_plausible_schedule_is_valid() -> None:
    meetings = [
        Meeting("B1", "S1", "s1", "T1"),
        Meeting("S2", "B2", "s1", "T8"),  # order of a and b does not matter
        Meeting("B1", "S2", "s2", "T1"),
        Meeting("B2", "S1", "s2", "T8"),
    ]
    assert check(base(), meetings) == []
    assert_valid(base(), meetings)


def test_assert_valid_lists_every_violation() -> None:
    meetings = [Meeting("B1", "B2", "s1", "T1"), Meeting("S1", "S2", "s1", "T1")]
    with pytest.raises(AssertionError) as info:
        assert_valid(base(), meetings)
    message = str(info.value)
    assert "B1–B2 is not a listed pair" in message
    assert "table T1 holds 2 meetings in slot s1" in message


# Rule 1: only listed pairs, at most once, only in the pair's slots.


def test_rule1_unlisted_pair() -> None:
    errors = violations(base(), [Meeting("B1", "B2", "s1", "T1")], 1)
    assert errors == ["rule 1: meeting B1–B2 in slot s1 at table T1: B1–B2 is not a listed pair"]


def test_rule1_pair_meets_twice() -> None:
    meetings = [Meeting("B2", "S1", "s1", "T8"), Meeting("S1", "B2", "s2", "T8")]
    assert violations(base(), meetings, 1) == ["rule 1: pair B2–S1 meets 2 times (at most once)"]


def test_rule1_pair_slots() -> None:
    problem = base(pairs=(Pair("B2", "S1", slots=frozenset({"s1", "s2"})),))
    assert violations(problem, [Meeting("B2", "S1", "s2", "T8")], 1) == []
    errors = violations(problem, [Meeting("B2", "S1", "s3", "T8")], 1)
    assert len(errors) == 1
    assert "may meet only in slots s1, s2" in errors[0]


def test_rule1_unknown_slot_and_participant() -> None:
    errors = violations(base(), [Meeting("B2", "X9", "s99", "T8")], 1)
    assert any("unknown participant X9" in e for e in errors)
    assert any("unknown slot s99" in e for e in errors)


# Rule 2: availability, parallel, max_meetings.


def test_rule2_availability() -> None:
    problem = base(participants=(Participant("B2", available=frozenset({"s1"})), Participant("S1")))
    assert violations(problem, [Meeting("B2", "S1", "s1", "T8")], 2) == []
    assert violations(problem, [Meeting("B2", "S1", "s2", "T8")], 2) == [
        "rule 2: meeting B2–S1 in slot s2 at table T8: B2 is not available in slot s2"
    ]


def test_rule2_parallel() -> None:
    meetings = [Meeting("B2", "S1", "s1", "T8"), Meeting("B2", "S2", "s1", "T9")]
    assert violations(base(), meetings, 2) == [
        "rule 2: B2 has 2 meetings in slot s1 (parallel allows 1)"
    ]
    two_desks = base(
        participants=(Participant("B2", parallel=2), Participant("S1"), Participant("S2"))
    )
    assert violations(two_desks, meetings, 2) == []


def test_rule2_max_meetings() -> None:
    meetings = [Meeting("B2", "S1", "s1", "T8"), Meeting("B2", "S2", "s2", "T8")]
    capped = base(
        participants=(Participant("B2", max_meetings=1), Participant("S1"), Participant("S2"))
    )
    assert violations(capped, meetings[:1], 2) == []
    assert violations(capped, meetings, 2) == ["rule 2: B2 has 2 meetings (max_meetings is 1)"]


# Rule 3: one meeting per table and slot.


def test_rule3_table_double_booked() -> None:
    meetings = [Meeting("B2", "S1", "s1", "T8"), Meeting("S2", "B1", "s1", "T1")]
    assert violations(base(), meetings, 3) == []
    clash = [Meeting("B2", "S1", "s1", "T8"), Meeting("B2", "S2", "s1", "T8")]
    assert violations(base(), clash, 3) == [
        "rule 3: table T8 holds 2 meetings in slot s1 (B2–S1; B2–S2)"
    ]


# Rule 4: hosted tables.


def test_rule4_hosted_table_holds_only_its_host() -> None:
    errors = violations(base(), [Meeting("B2", "S1", "s1", "T1")], 4)
    assert errors == [
        "rule 4: meeting B2–S1 in slot s1 at table T1: table T1 belongs to host B1, "
        "who is not in this meeting"
    ]


def test_rule4_host_meets_only_at_own_table() -> None:
    assert violations(base(), [Meeting("B1", "S1", "s1", "T1")], 4) == []
    errors = violations(base(), [Meeting("B1", "S1", "s1", "T8")], 4)
    assert len(errors) == 1
    assert "B1 host tables and meet only at their own, but table T8 has no host" in errors[0]


def test_rule4_two_hosts_may_use_either_table() -> None:
    tables = (Table("T1", host="B1"), Table("T2", host="S1"), Table("T8"))
    problem = base(tables=tables)
    assert violations(problem, [Meeting("B1", "S1", "s1", "T1")], 4) == []
    assert violations(problem, [Meeting("B1", "S1", "s1", "T2")], 4) == []
    assert len(violations(problem, [Meeting("B1", "S1", "s1", "T8")], 4)) == 1


def test_rule4_table_presence_matches_the_problem() -> None:
    assert len(violations(base(), [Meeting("B2", "S1", "s1", None)], 4)) == 1
    assert len(violations(base(), [Meeting("B2", "S1", "s1", "T77")], 4)) == 1
    unlimited = base(tables=None)
    assert check(unlimited, [Meeting("B2", "S1", "s1", None)]) == []
    assert violations(unlimited, [Meeting("B2", "S1", "s1", "T8")], 4) == [
        "rule 4: meeting B2–S1 in slot s1 at table T8 names table T8, but the problem has no tables"
    ]


# Rule 5: must-meet pairs.


def test_rule5_must_pair() -> None:
    problem = base(pairs=(Pair("B2", "S1", must=True), Pair("B2", "S2")))
    assert violations(problem, [Meeting("S1", "B2", "s1", "T8")], 5) == []
    assert violations(problem, [Meeting("B2", "S2", "s1", "T8")], 5) == [
        "rule 5: must-meet pair B2–S1 is not scheduled"
    ]


# Rule 6: locks kept exactly (pair unordered, same slot, same table).


def test_rule6_locked_meeting() -> None:
    problem = base(locked=(Meeting("B2", "S1", "s2", "T9"),))
    assert violations(problem, [Meeting("S1", "B2", "s2", "T9")], 6) == []
    for moved in (Meeting("B2", "S1", "s2", "T8"), Meeting("B2", "S1", "s3", "T9")):
        assert violations(problem, [moved], 6) == [
            "rule 6: locked meeting B2–S1 in slot s2 at table T9 is not in the schedule as given"
        ]


# Rule 7: nothing new before now.


def test_rule7_now() -> None:
    now = datetime(2027, 2, 10, 10, 40, tzinfo=JST)  # s1 and s2 have started
    problem = base(now=now, locked=(Meeting("B2", "S1", "s1", "T8"),))
    valid = [Meeting("B2", "S1", "s1", "T8"), Meeting("B2", "S2", "s3", "T8")]
    assert check(problem, valid) == []
    errors = violations(problem, [*valid, Meeting("B1", "S2", "s2", "T1")], 7)
    assert len(errors) == 1
    assert "meeting B1–S2 in slot s2 at table T1 is not locked" in errors[0]


# Rule 8: max_breaks.


def test_rule8_max_breaks() -> None:
    # B2 meets in s1 and s3: one break (s2).
    meetings = [Meeting("B2", "S1", "s1", "T8"), Meeting("B2", "S2", "s3", "T8")]
    assert violations(base(max_breaks=1), meetings, 8) == []
    assert violations(base(max_breaks=0), meetings, 8) == [
        "rule 8: B2 has 1 breaks (max_breaks is 0)"
    ]
    assert violations(base(), meetings, 8) == []  # no max_breaks: no limit


# Breaks.


def test_slot_days_groups_by_local_day_in_start_order() -> None:
    assert slot_days(base()) == [[0, 1, 2, 3, 4], [5, 6]]


def test_slot_day_uses_the_event_timezone() -> None:
    # 23:30 UTC on the 9th is 08:30 on the 10th in Tokyo, the same day as s1.
    early = Slot(
        "s0",
        datetime(2027, 2, 9, 23, 30, tzinfo=UTC),
        datetime(2027, 2, 9, 23, 55, tzinfo=UTC),
    )
    problem = base(slots=(early, *SLOTS))
    assert slot_days(problem)[0] == [0, 1, 2, 3, 4, 5]
    assert slot_days(replace(problem, timezone="UTC"))[0] == [0]


@pytest.mark.parametrize(
    ("busy", "expected"),
    [
        (set(), 0),
        ({0}, 0),
        ({1, 2}, 0),  # idle before the first meeting is no break
        ({0, 4}, 1),  # one run of three idle slots is one break
        ({0, 2, 4}, 2),
        ({0, 1, 2, 3, 4}, 0),
    ],
)
def test_count_breaks(busy: set[int], expected: int) -> None:
    assert count_breaks([0, 1, 2, 3, 4], busy) == expected


def test_lunch_gap_is_no_break() -> None:
    # s3 (11:00) and s4 (13:00) are consecutive slots: the lunch gap is not a slot.
    meetings = [Meeting("B2", "S1", "s3", "T8"), Meeting("B2", "S2", "s4", "T8")]
    assert breaks_per_participant(base(), meetings)["B2"] == 0


def test_overnight_is_no_break_but_each_day_counts() -> None:
    meetings = [
        Meeting("B2", "S1", "s1", "T8"),
        Meeting("B2", "S2", "s3", "T8"),  # break s2 on day 1
        Meeting("B2", "B1", "s5", "T1"),  # not a listed pair; breaks still count: break s4
        Meeting("S1", "S2", "s7", "T9"),  # S1: s1, then s7 the next day -> no break
    ]
    breaks = breaks_per_participant(base(), meetings)
    assert breaks == {"B1": 0, "B2": 2, "S1": 0, "S2": 0}


def test_parallel_meetings_in_one_slot_make_it_busy_once() -> None:
    meetings = [
        Meeting("B2", "S1", "s1", "T8"),
        Meeting("B2", "S2", "s1", "T9"),
        Meeting("B2", "B1", "s3", "T1"),
    ]
    assert breaks_per_participant(base(), meetings)["B2"] == 1


# Objective.


def test_objective_weights_and_concave_bonus() -> None:
    problem = base(meeting_bonus=(10, 4))
    meetings = [
        Meeting("B1", "S1", "s1", "T1"),  # weight 5
        Meeting("B1", "S2", "s2", "T1"),  # weight 3
        Meeting("B2", "S1", "s3", "T8"),  # weight 4
    ]
    # weights 12; B1: 2 meetings 10+4; B2: 1 -> 10; S1: 2 -> 14; S2: 1 -> 10; nothing -> 0.
    assert objective(problem, meetings) == 12 + 14 + 10 + 14 + 10


def test_objective_bonus_past_the_list_counts_zero() -> None:
    problem = base(meeting_bonus=(7,), pairs=(Pair("B2", "S1"), Pair("B2", "S2"), Pair("B1", "B2")))
    meetings = [
        Meeting("B2", "S1", "s1", "T8"),
        Meeting("B2", "S2", "s2", "T8"),
        Meeting("B2", "B1", "s3", "T1"),
    ]
    # B2 has 3 meetings but only the first earns 7; S1, S2, B1 earn 7 each.
    assert objective(problem, meetings) == 7 * 4


def test_objective_break_penalty() -> None:
    problem = base(break_penalty=3)
    meetings = [Meeting("B2", "S1", "s1", "T8"), Meeting("B2", "S2", "s3", "T8")]
    assert objective(problem, meetings) == 4 + 2 - 3


def test_objective_change_penalty_counts_current_meetings_not_kept() -> None:
    current = (
        Meeting("B2", "S1", "s1", "T8"),
        Meeting("B1", "S2", "s2", "T1"),
        Meeting("B2", "S2", "s3", "T9"),
    )
    problem = base(current=current, change_penalty=6)
    meetings = [
        Meeting("S1", "B2", "s1", "T8"),  # kept (order of a/b does not matter)
        Meeting("B1", "S2", "s3", "T1"),  # moved to another slot: changed
        Meeting("B2", "S2", "s3", "T8"),  # moved to another table: changed
    ]
    assert objective(problem, meetings) == 4 + 3 + 2 - 6 * 2
    assert objective(problem, list(current)) == 4 + 3 + 2


def test_objective_of_empty_schedule_is_minus_the_whole_current_plan() -> None:
    problem = base(current=(Meeting("B2", "S1", "s1", "T8"),), change_penalty=6)
    assert objective(problem, []) == -6
