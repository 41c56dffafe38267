"""Each hard rule of the format doc on tiny instances, feasible and infeasible.

Every schedule goes through validation.assert_valid, and the reported objective
must equal validation.objective of its meetings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from solver.engine import solve
from solver.problem import Meeting, Pair, Participant, Problem, Schedule, Table
from solver.validation import assert_valid, breaks_per_participant, objective
from tests.solver.random_problems import make_slots

SLOTS = make_slots([3])  # d0s00, d0s01, d0s02


def people(*ids: str, **overrides: Participant) -> tuple[Participant, ...]:
    return tuple(overrides.get(i, Participant(i)) for i in ids)


def run(problem: Problem) -> Schedule:
    schedule = solve(problem, time_limit=5, workers=1)
    if schedule.status != "INFEASIBLE":
        assert_valid(problem, schedule.meetings)
        assert schedule.objective == objective(problem, schedule.meetings)
        assert schedule.bound >= schedule.objective
    return schedule


def slot_of(schedule: Schedule, a: str, b: str) -> str | None:
    return next((m.slot for m in schedule.meetings if {m.a, m.b} == {a, b}), None)


def test_only_listed_pairs_once_each_and_in_their_own_slots():
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2"),
        pairs=(Pair("B", "S1", 5, slots=frozenset({"d0s02"})), Pair("B", "S2", 3)),
    )
    schedule = run(problem)
    assert schedule.status == "OPTIMAL"
    assert len(schedule.meetings) == 2
    assert slot_of(schedule, "B", "S1") == "d0s02"


def test_availability_is_respected():
    only_first = Participant("S1", available=frozenset({"d0s00"}))
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", S1=only_first),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 5)),
    )
    schedule = run(problem)
    assert slot_of(schedule, "B", "S1") == "d0s00"
    assert slot_of(schedule, "B", "S2") != "d0s00"


@pytest.mark.parametrize(("parallel", "expected"), [(1, 1), (2, 2)])
def test_parallel_desks_allow_simultaneous_meetings(parallel, expected):
    problem = Problem(
        slots=SLOTS[:1],
        participants=people("B", "S1", "S2", B=Participant("B", parallel=parallel)),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 4)),
    )
    assert len(run(problem).meetings) == expected


def test_max_meetings_caps_and_keeps_the_heaviest():
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", "S3", B=Participant("B", max_meetings=2)),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 1), Pair("B", "S3", 4)),
    )
    schedule = run(problem)
    assert {frozenset((m.a, m.b)) for m in schedule.meetings} == {
        frozenset(("B", "S1")),
        frozenset(("B", "S3")),
    }


@pytest.mark.parametrize(("slots", "expected"), [(1, 1), (2, 2)])
def test_one_meeting_per_pooled_table_per_slot(slots, expected):
    problem = Problem(
        slots=SLOTS[:slots],
        participants=people("A", "B", "C", "D"),
        pairs=(Pair("A", "B", 5), Pair("C", "D", 5)),
        tables=(Table("P1"),),
    )
    schedule = run(problem)
    assert len(schedule.meetings) == expected
    assert all(m.table == "P1" for m in schedule.meetings)


def test_hosts_meet_at_their_own_tables_and_two_hosts_at_either():
    problem = Problem(
        slots=SLOTS[:2],
        participants=people("H1", "H2", "S1", "S2", "S3"),
        pairs=(
            Pair("H1", "S1", 5),
            Pair("H1", "H2", 5),
            Pair("H2", "S2", 5),
            Pair("H2", "S3", 5),
            Pair("S1", "S2", 1),
        ),
        tables=(Table("T1", host="H1"), Table("T2", host="H2"), Table("P1")),
    )
    schedule = run(problem)
    # H2 has three meetings but only two slots at one table: it must lend nothing and
    # so H1–H2 sits at H1's table, leaving T2 to H2's two supplier meetings.
    assert len(schedule.meetings) == 4
    tables = {frozenset((m.a, m.b)): m.table for m in schedule.meetings}
    assert tables[frozenset(("H1", "H2"))] in {"T1", "T2"}
    assert tables[frozenset(("H2", "S2"))] == "T2"


def test_two_non_hosts_need_a_pooled_table():
    problem = Problem(
        slots=SLOTS,
        participants=people("H", "S1", "S2"),
        pairs=(Pair("H", "S1", 5), Pair("S1", "S2", 9)),
        tables=(Table("T1", host="H"),),
    )
    schedule = run(problem)
    assert [(m.a, m.b) for m in schedule.meetings] == [("H", "S1")]
    reasons = {(u.a, u.b): u.reason for u in schedule.unscheduled}
    assert reasons[("S1", "S2")] == "no_table"


def test_must_pair_beats_a_heavier_rival():
    problem = Problem(
        slots=SLOTS[:1],
        participants=people("B", "S1", "S2"),
        pairs=(Pair("B", "S1", 9), Pair("B", "S2", 1, must=True)),
    )
    schedule = run(problem)
    assert slot_of(schedule, "B", "S2") == "d0s00"
    assert slot_of(schedule, "B", "S1") is None


def test_locked_meeting_is_kept_exactly_even_in_the_past():
    lock = Meeting("B", "S1", "d0s00", "P2")
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2"),
        pairs=(Pair("B", "S1", 1), Pair("B", "S2", 5)),
        tables=(Table("P1"), Table("P2")),
        locked=(lock,),
        now=SLOTS[1].start,
    )
    schedule = run(problem)
    assert lock in schedule.meetings
    # Nothing new before now: B–S2 goes to d0s01 or later.
    assert slot_of(schedule, "B", "S2") in {"d0s01", "d0s02"}


def test_nothing_new_before_now():
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", "S3"),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 5), Pair("B", "S3", 5)),
        now=SLOTS[0].start + timedelta(minutes=1),
    )
    schedule = run(problem)
    assert len(schedule.meetings) == 2
    assert all(m.slot != "d0s00" for m in schedule.meetings)


def test_max_breaks_zero_forces_contiguous_days():
    # S1 can only meet early, S2 only late: with no break allowed B meets one of them
    # unless a middle meeting (S3) fills the gap.
    early = Participant("S1", available=frozenset({"d0s00"}))
    late = Participant("S2", available=frozenset({"d0s02"}))
    base = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", S1=early, S2=late),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 4)),
        max_breaks=0,
    )
    schedule = run(base)
    assert len(schedule.meetings) == 1
    assert slot_of(schedule, "B", "S1") == "d0s00"
    filled = replace(
        base,
        participants=(*base.participants, Participant("S3", available=frozenset({"d0s01"}))),
        pairs=(*base.pairs, Pair("B", "S3", 1)),
    )
    assert len(run(filled).meetings) == 3


def test_break_penalty_trades_a_meeting_against_a_break():
    early = Participant("S1", available=frozenset({"d0s00"}))
    late = Participant("S2", available=frozenset({"d0s02"}))
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", S1=early, S2=late),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 4)),
        break_penalty=3,
    )
    schedule = run(problem)
    assert len(schedule.meetings) == 2  # 4 > 3: worth the break
    assert breaks_per_participant(problem, schedule.meetings)["B"] == 1
    assert schedule.objective == 5 + 4 - 3
    dearer = run(replace(problem, break_penalty=5))
    assert len(dearer.meetings) == 1
    assert dearer.objective == 5


def test_meeting_bonus_spreads_meetings_fairly():
    problem = Problem(
        slots=SLOTS[:1],
        participants=people("B", "S1", "S2"),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 4)),
        meeting_bonus=(10,),
    )
    # One slot, B meets one of them: 5 + 10 (B) + 10 (S1).
    assert run(problem).objective == 25


# --- infeasible problems name their culprits ----------------------------------


def reasons_of(schedule: Schedule) -> set[tuple[str, str, str]]:
    return {(f["a"], f["b"], f["reason"]) for f in schedule.unscheduled_must}


def test_must_pair_without_common_slot_is_named():
    problem = Problem(
        slots=SLOTS,
        participants=people(
            "B",
            "S1",
            B=Participant("B", available=frozenset({"d0s00"})),
            S1=Participant("S1", available=frozenset({"d0s01"})),
        ),
        pairs=(Pair("B", "S1", 5, must=True),),
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert reasons_of(schedule) == {("B", "S1", "no_common_slot")}


@pytest.mark.parametrize(
    ("tables", "detail"),
    [
        ((Table("T1", host="B"),), "neither has tables of its own, and every table has a host"),
        ((), "no table at all: the problem's tables list is empty"),
    ],
    ids=["only-host-tables", "no-tables"],
)
def test_a_must_pair_with_no_table_it_may_use_says_so(tables: tuple, detail: str):
    """Two non-hosts and no table without a host: the pair has no slot because it has no
    table, which is what the organizer must change. The reason is the shortage of tables
    (over_capacity, as for too few of them), not a missing common slot."""
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2"),
        pairs=(Pair("S1", "S2", 5, must=True),),
        tables=tables,
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert schedule.unscheduled_must == [
        {"a": "S1", "b": "S2", "reason": "over_capacity", "detail": detail}
    ]


def test_a_must_pair_with_a_no_show_says_so():
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", S1=Participant("S1", available=frozenset())),
        pairs=(Pair("B", "S1", 5, must=True),),
    )
    assert run(problem).unscheduled_must == [
        {"a": "B", "b": "S1", "reason": "no_common_slot", "detail": "S1 is available in no slot"}
    ]


def test_findings_of_one_say_it_in_the_singular():
    one_meeting = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", B=Participant("B", max_meetings=1)),
        pairs=(Pair("B", "S1", 1), Pair("B", "S2", 1)),
        locked=(Meeting("B", "S1", "d0s00"), Meeting("B", "S2", "d0s01")),
    )
    details = {f["detail"] for f in run(one_meeting).unscheduled_must}
    assert details == {"B allows at most 1 meeting"}
    one_pair = Problem(
        slots=SLOTS,
        participants=people("B", "S1", S1=Participant("S1", max_meetings=0)),
        pairs=(Pair("B", "S1", 1, must=True),),
        max_breaks=1,
    )
    (found,) = run(one_pair).unscheduled_must
    assert found["detail"] == (
        "S1 has 1 must pair but room for 0 (its maximum and usable slots, with at most 1 break)"
    )
    one_table = Problem(
        slots=SLOTS[:1],
        participants=people("A", "B", "C", "D"),
        pairs=(Pair("A", "B", 1, must=True), Pair("C", "D", 1, must=True)),
        tables=(Table("P1"),),
    )
    details = {f["detail"] for f in run(one_table).unscheduled_must}
    assert details == {
        "2 must meetings need a table with no host, but there is 1 such table × 1 slot"
    }


def test_must_pairs_beyond_capacity_are_named():
    problem = Problem(
        slots=SLOTS[:2],
        participants=people("B", "S1", "S2", "S3"),
        pairs=tuple(Pair("B", s, 1, must=True) for s in ("S1", "S2", "S3")),
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert {r for _, _, r in reasons_of(schedule)} == {"over_capacity"}


@pytest.mark.parametrize(
    ("lock", "reason"),
    [
        (Meeting("S1", "S2", "d0s00", "P1"), "lock_not_a_pair"),
        (Meeting("H", "S1", "d0s00", "T2"), "lock_table"),  # another host's table
        (Meeting("H", "S1", "d0s00", "T9"), "lock_table"),
    ],
)
def test_unsound_lock_is_named(lock, reason):
    problem = Problem(
        slots=SLOTS,
        participants=people("H", "G", "S1", "S2"),
        pairs=(Pair("H", "S1", 5), Pair("H", "S2", 5)),
        tables=(Table("T1", host="H"), Table("T2", host="G"), Table("P1")),
        locked=(lock,),
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert (lock.a, lock.b, reason) in reasons_of(schedule)
    assert schedule.stats["locks"]


def test_must_meetings_beyond_pooled_tables_are_named():
    problem = Problem(
        slots=SLOTS[:1],
        participants=people("A", "B", "C", "D"),
        pairs=(Pair("A", "B", 1, must=True), Pair("C", "D", 1, must=True)),
        tables=(Table("P1"),),
    )
    schedule = run(problem)
    assert reasons_of(schedule) == {("A", "B", "over_capacity"), ("C", "D", "over_capacity")}


def test_must_pairs_that_need_a_break_beyond_the_cap_are_named_without_search():
    early = Participant("S1", available=frozenset({"d0s00"}))
    late = Participant("S2", available=frozenset({"d0s02"}))
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2", S1=early, S2=late),
        pairs=(Pair("B", "S1", 5, must=True), Pair("B", "S2", 4, must=True)),
        max_breaks=0,
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert schedule.stats["infeasible_found_by"] == "precheck"
    assert reasons_of(schedule) == {("B", "S1", "over_capacity"), ("B", "S2", "over_capacity")}
    assert "break" in schedule.unscheduled_must[0]["detail"]


def test_break_cap_is_named_when_it_alone_makes_the_problem_infeasible():
    # C meets S1 first thing, S2 can only meet B in the middle, so B meets S1 last:
    # S1 then waits a slot between C and B, and no break is allowed.
    problem = Problem(
        slots=SLOTS,
        participants=people(
            "B",
            "C",
            "S1",
            "S2",
            B=Participant("B", available=frozenset({"d0s01", "d0s02"})),
            C=Participant("C", available=frozenset({"d0s00"})),
            S2=Participant("S2", available=frozenset({"d0s01"})),
        ),
        pairs=(
            Pair("C", "S1", 1, must=True),
            Pair("B", "S1", 1, must=True),
            Pair("B", "S2", 1, must=True),
        ),
        max_breaks=0,
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert schedule.stats["infeasible_found_by"] == "cp_sat"
    # The cap is the culprit, and S1 is who cannot keep it (whatever the others do);
    # no pair is blamed, since every one of them fits once S1 may wait.
    assert reasons_of(schedule) == {("", "", "max_breaks"), ("S1", "", "max_breaks_participant")}
    alone = next(f for f in schedule.unscheduled_must if f["a"] == "S1")
    assert "named" not in alone["detail"]  # no other participant is named with it
    # Allowing one break makes it feasible.
    assert run(replace(problem, max_breaks=1)).status == "OPTIMAL"


def test_an_optional_meeting_that_fills_the_gap_keeps_a_break_cap_feasible():
    # B must meet S1 first and S2 last, with no break: only the optional B–S3 in the
    # middle slot makes that possible. The relaxation leaves B–S3 out (S3 is worth
    # more with C), so the focus model alone is infeasible; that proves nothing for
    # the whole problem (it once came back INFEASIBLE naming no participant).
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "C", "S1", "S2", "S3", S3=Participant("S3", max_meetings=1)),
        pairs=(
            Pair("B", "S1", 5, must=True, slots=frozenset({"d0s00"})),
            Pair("B", "S2", 4, must=True, slots=frozenset({"d0s02"})),
            Pair("C", "S3", 6),
            Pair("B", "S3", 2),
        ),
        max_breaks=0,
    )
    schedule = run(problem)
    assert schedule.status == "OPTIMAL"
    assert slot_of(schedule, "B", "S3") == "d0s01"
    # Without the filler, B alone cannot keep the cap, and the precheck says so.
    without = run(replace(problem, pairs=problem.pairs[:3]))
    assert reasons_of(without) == {("B", "S1", "over_capacity"), ("B", "S2", "over_capacity")}
    assert all(f["detail"].startswith("B has 2 must pairs") for f in without.unscheduled_must)


def test_a_break_cap_broken_by_locks_alone_names_the_participant():
    tables = (Table("T1", host="B"), Table("T2"))
    problem = Problem(
        slots=SLOTS,
        participants=people("B", "S1", "S2"),
        pairs=(Pair("B", "S1", 5), Pair("B", "S2", 4)),
        tables=tables,
        locked=(Meeting("B", "S1", "d0s00", "T1"), Meeting("B", "S2", "d0s02", "T1")),
        max_breaks=0,
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert reasons_of(schedule) == {("", "", "max_breaks"), ("B", "", "max_breaks_participant")}
    assert [f["detail"] for f in schedule.unscheduled_must] == [
        "every must pair and lock fits, but not with at most 0 breaks per participant",
        "cannot keep to at most 0 breaks",
    ]


def test_two_locks_on_one_table_clash():
    problem = Problem(
        slots=SLOTS,
        participants=people("A", "B", "C", "D"),
        pairs=(Pair("A", "B", 1), Pair("C", "D", 1)),
        tables=(Table("P1"), Table("P2")),
        locked=(Meeting("A", "B", "d0s00", "P1"), Meeting("C", "D", "d0s00", "P1")),
    )
    schedule = run(problem)
    assert reasons_of(schedule) == {("A", "B", "lock_clash"), ("C", "D", "lock_clash")}


def test_conflict_found_by_search_names_the_must_pairs_involved():
    # Each must pair alone fits, and three slots hold three meetings at the one pooled
    # table, but two of them need it in d0s00.
    only_first = frozenset({"d0s00"})
    problem = Problem(
        slots=SLOTS,
        participants=people("A", "B", "C", "D", "E", "F"),
        pairs=(
            Pair("A", "B", 1, must=True, slots=only_first),
            Pair("C", "D", 1, must=True, slots=only_first),
            Pair("E", "F", 1, must=True),
        ),
        tables=(Table("P1"),),
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert schedule.stats["infeasible_found_by"] == "cp_sat"
    assert reasons_of(schedule) == {("A", "B", "conflict"), ("C", "D", "conflict")}


def test_lock_against_must_pair_names_both():
    problem = Problem(
        slots=SLOTS[:2],
        participants=people("B", "S1", "S2"),
        pairs=(Pair("B", "S1", 1), Pair("B", "S2", 1, must=True, slots=frozenset({"d0s00"}))),
        locked=(Meeting("B", "S1", "d0s00"),),
    )
    schedule = run(problem)
    assert schedule.status == "INFEASIBLE"
    assert reasons_of(schedule) == {("B", "S1", "lock_conflict"), ("B", "S2", "conflict")}
