"""Every requested pair left out gets the reason an organizer can act on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from solver.engine import solve
from solver.model.prepared import prepare
from solver.problem import Meeting, Pair, Participant, Problem, Table, UnscheduledPair
from solver.reasons import explain_unscheduled
from solver.validation import assert_valid
from tests.solver.random_problems import make_slots

SLOTS = make_slots([2])  # d0s00, d0s01


def reasons(problem: Problem) -> dict[tuple[str, str], UnscheduledPair]:
    schedule = solve(problem, time_limit=5, workers=1)
    assert_valid(problem, schedule.meetings)
    return {(u.a, u.b): u for u in schedule.unscheduled}


def test_no_common_slot_counts_pair_slots_availability_and_now():
    problem = Problem(
        slots=SLOTS,
        participants=(
            Participant("B", available=frozenset({"d0s00"})),
            Participant("S1", available=frozenset({"d0s01"})),
            Participant("S2"),
            Participant("S3"),
        ),
        pairs=(
            Pair("B", "S1", 5),  # availabilities do not overlap
            Pair("S2", "S3", 5, slots=frozenset({"d0s00"})),  # its only slot is past
        ),
        now=SLOTS[0].start + timedelta(minutes=5),
    )
    found = reasons(problem)
    assert found[("B", "S1")].reason == "no_common_slot"
    assert found[("S2", "S3")].reason == "no_common_slot"
    assert "now" in found[("S2", "S3")].detail


def test_no_common_slot_says_what_empties_the_slots():
    """A no-show is available nowhere, and a pair without slots of its own has none."""
    problem = Problem(
        slots=SLOTS,
        participants=(
            Participant("B", available=frozenset({"d0s00"})),
            Participant("S1", available=frozenset({"d0s01"})),
            Participant("S2", available=frozenset()),  # a no-show
            Participant("S3", available=frozenset({"d0s00"})),
        ),
        pairs=(
            Pair("B", "S1", 5),
            Pair("B", "S2", 5),
            Pair("S1", "S3", 5, slots=frozenset({"d0s01"})),
            Pair("S1", "S2", 5),
        ),
    )
    found = reasons(problem)
    assert found[("B", "S1")].detail == "no slot that both can use"
    assert found[("B", "S2")].detail == "S2 is available in no slot"
    assert found[("S1", "S3")].detail == "no slot in its slots that both can use"
    assert found[("S1", "S2")].detail == "S2 is available in no slot"
    now = replace(problem, now=SLOTS[1].start + timedelta(minutes=5))
    assert reasons(now)[("B", "S1")].detail == "B is available in no slot after now"


def test_at_maximum_names_the_side_that_is_full():
    problem = Problem(
        slots=SLOTS,
        participants=(Participant("B", max_meetings=1), Participant("S1"), Participant("S2")),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 3)),
    )
    found = reasons(problem)
    assert found[("B", "S2")].reason == "at_maximum"
    assert found[("B", "S2")].detail == "B already has its maximum of 1 meeting"


def test_out_competed_names_the_participant_and_the_meetings_that_won():
    problem = Problem(
        slots=SLOTS,
        participants=(Participant("B"), Participant("S1"), Participant("S2"), Participant("S3")),
        pairs=(Pair("B", "S1", 9), Pair("B", "S2", 8), Pair("B", "S3", 2)),
    )
    found = reasons(problem)
    lost = found[("B", "S3")]
    assert lost.reason == "out_competed"
    assert lost.detail.startswith("B: ")
    assert "S1 (9)" in lost.detail and "S2 (8)" in lost.detail


def test_no_table_when_both_are_free_but_tables_are_taken():
    problem = Problem(
        slots=SLOTS[:1],
        participants=tuple(Participant(i) for i in ("A", "B", "C", "D")),
        pairs=(Pair("A", "B", 9), Pair("C", "D", 2)),
        tables=(Table("P1"),),
    )
    found = reasons(problem)
    assert found[("C", "D")].reason == "no_table"


def test_pairs_without_weight_get_no_reason_and_scheduled_pairs_none_either():
    problem = Problem(
        slots=SLOTS[:1],
        participants=(Participant("B"), Participant("S1"), Participant("S2")),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 0)),
    )
    assert reasons(problem) == {}


def test_reasons_for_a_given_schedule():
    # explain_unscheduled works on any schedule, e.g. one edited by hand.
    problem = Problem(
        slots=SLOTS,
        participants=(Participant("B"), Participant("S1"), Participant("S2")),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 4)),
    )
    meetings = [Meeting("B", "S1", "d0s00")]
    found = explain_unscheduled(prepare(problem), meetings)
    assert [(u.a, u.b, u.reason) for u in found] == [("B", "S2", "out_competed")]
    assert "free" in found[0].detail
