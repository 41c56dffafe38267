"""The solver problem built from the database: who, when, where, which pairs, which rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import pair_rules
from scheduler.demo import generate_demo
from scheduler.errors import ValidationFailed
from scheduler.models import (
    Event,
    Meeting,
    MeetingStatus,
    PairRuleKind,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Table,
)
from scheduler.preferences import requested_pairs
from scheduler.problem_builder import CHANGE_LEAD, DEFAULT_PARAMETERS, build_problem, slot_key
from solver.problem_io import problem_from_dict, problem_to_dict
from tests.published_fair import place_greedily


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=3, buyers=4, suppliers=12)
    db_session.commit()
    return event


def _by_code(event: Event, code: str) -> Participant:
    return next(p for p in event.participants if p.code == code)


def test_ids_are_codes_labels_and_slot_numbers(db_session: Session, fair: Event) -> None:
    problem = build_problem(db_session, fair, parameters={})
    assert [s.id for s in problem.slots] == [slot_key(s) for s in fair.slots]
    assert problem.slots[0].start == fair.local(fair.slots[0].starts_at)
    assert {p.id for p in problem.participants} == {p.code for p in fair.participants}
    tables = db_session.scalars(select(Table).where(Table.event_id == fair.id)).all()
    hosts = {t.label: (t.host.code if t.host else None) for t in tables}
    assert {t.id: t.host for t in problem.tables} == hosts
    assert problem.event_name == fair.name and problem.timezone == fair.timezone


def test_only_approved_participants_take_part(db_session: Session, fair: Event) -> None:
    gone = fair.participants[0]
    gone.status = ParticipantStatus.WITHDRAWN
    db_session.commit()
    problem = build_problem(db_session, fair, parameters={})
    assert gone.code not in {p.id for p in problem.participants}
    assert all(gone.code not in pair.key for pair in problem.pairs)


def test_availability_caps_and_desks(db_session: Session, fair: Event) -> None:
    late, capped = fair.participants[0], fair.participants[1]
    late.available_from = fair.slots[2].starts_at
    late.unavailable_slots = [fair.slots[-1]]
    late.available_until = None
    capped.max_meetings, capped.parallel_desks = 3, 2
    capped.available_from = capped.available_until = None
    capped.unavailable_slots = []
    fair.default_max_meetings = 7
    db_session.commit()
    problem = {p.id: p for p in build_problem(db_session, fair, parameters={}).participants}
    expected = {slot_key(s) for s in fair.slots[2:-1]}
    assert problem[late.code].available == frozenset(expected)
    assert problem[capped.code].available is None
    assert (problem[capped.code].max_meetings, problem[capped.code].parallel) == (3, 2)
    default = next(p for p in fair.participants[2:] if p.max_meetings is None)
    assert problem[default.code].max_meetings == 7


def test_pairs_carry_the_preference_weights_buyer_first(db_session: Session, fair: Event) -> None:
    problem = build_problem(db_session, fair, parameters={})
    ids = {p.id: p.code for p in fair.participants}
    expected = {
        frozenset((ids[p.a], ids[p.b])): p.weight for p in requested_pairs(db_session, fair)
    }
    assert expected and {pair.key: pair.weight for pair in problem.pairs} == expected
    roles = {p.code: p.role for p in fair.participants}
    for pair in problem.pairs:
        if roles[pair.a] != roles[pair.b]:
            assert roles[pair.a] == ParticipantRole.BUYER


def test_organizer_rules_forbid_force_and_pin(db_session: Session, fair: Event) -> None:
    first = build_problem(db_session, fair, parameters={})
    forbidden, forced = first.pairs[0], first.pairs[1]
    requested = {pair.key for pair in first.pairs}
    buyer = next(p for p in fair.participants if p.role == ParticipantRole.BUYER)
    stranger = next(
        p
        for p in fair.participants
        if p.role == ParticipantRole.SUPPLIER and frozenset((buyer.code, p.code)) not in requested
    )
    table = db_session.scalar(select(Table).where(Table.host_participant_id == buyer.id))
    for pair, kind in ((forbidden, PairRuleKind.FORBID), (forced, PairRuleKind.FORCE)):
        pair_rules.set_rule(
            db_session, fair, _by_code(fair, pair.a), _by_code(fair, pair.b), kind, user_id=None
        )
    pair_rules.set_rule(
        db_session, fair, buyer, stranger, PairRuleKind.PIN, slot=fair.slots[1], table=table
    )
    db_session.commit()
    problem = build_problem(db_session, fair, parameters={})
    pairs = {pair.key: pair for pair in problem.pairs}
    assert forbidden.key not in pairs
    assert pairs[forced.key].must and pairs[forced.key].weight == forced.weight
    pinned = frozenset((buyer.code, stranger.code))
    assert pairs[pinned].must and pairs[pinned].weight == 0
    assert [(m.key, m.slot, m.table) for m in problem.locked] == [
        (pinned, slot_key(fair.slots[1]), table.label)
    ]


def test_parameters_reach_the_problem_and_the_file_reproduces_it(
    db_session: Session, fair: Event
) -> None:
    default = build_problem(db_session, fair, parameters={})
    assert default.meeting_bonus == tuple(DEFAULT_PARAMETERS["meeting_bonus"])
    assert default.break_penalty == DEFAULT_PARAMETERS["break_penalty"]
    assert default.max_breaks is None and default.current == () and default.now is None
    tuned = build_problem(
        db_session, fair, parameters={"meeting_bonus": [9, 4], "break_penalty": 5, "max_breaks": 1}
    )
    assert (tuned.meeting_bonus, tuned.break_penalty, tuned.max_breaks) == ((9, 4), 5, 1)
    assert problem_from_dict(problem_to_dict(tuned)) == tuned


def test_a_repair_run_keeps_the_published_plan_as_current(db_session: Session, fair: Event) -> None:
    meetings = place_greedily(db_session, fair)
    meetings[0].status = MeetingStatus.HELD
    meetings[1].status = MeetingStatus.CANCELLED
    db_session.commit()
    now = fair.slots[3].starts_at + timedelta(minutes=1)
    problem = build_problem(
        db_session, fair, parameters={"kind": "repair", "now": now.isoformat(), "change_penalty": 4}
    )
    active = db_session.scalars(
        select(Meeting).where(Meeting.status != MeetingStatus.CANCELLED)
    ).all()
    assert len(problem.current) == len(active) and problem.change_penalty == 4
    # Nothing new in a slot starting within the lead time, whose meetings are locked
    # like the past (and the held one wherever it is).
    assert problem.now == now + CHANGE_LEAD
    held = meetings[0]
    soon = {s.id for s in fair.slots if s.starts_at < now + CHANGE_LEAD}
    expected = {(slot_key(m.slot_id), m.table.label) for m in active if m.slot_id in soon}
    expected.add((slot_key(held.slot_id), held.table.label))
    assert {(m.slot, m.table) for m in problem.locked} == expected
    assert problem_from_dict(problem_to_dict(problem)) == problem


def test_two_participants_with_one_code_are_refused(db_session: Session, fair: Event) -> None:
    fair.participants[1].code = fair.participants[0].code
    db_session.commit()
    with pytest.raises(ValidationFailed) as error:
        build_problem(db_session, fair, parameters={})
    assert fair.participants[0].code in error.value.message


def test_a_new_run_after_publication_keeps_published_meetings_as_current(
    db_session: Session, fair: Event
) -> None:
    """People have the published times in their calendars: a re-run pays for each change."""
    from scheduler.db import utcnow

    assert build_problem(db_session, fair, parameters={}).current == ()  # nothing published
    meetings = place_greedily(db_session, fair)
    fair.published_at = utcnow()
    forbidden = meetings[0]
    a = db_session.get(Participant, forbidden.participant_a_id)
    b = db_session.get(Participant, forbidden.participant_b_id)
    pair_rules.set_rule(db_session, fair, a, b, PairRuleKind.FORBID)
    db_session.commit()
    problem = build_problem(db_session, fair, parameters={})
    kept = {frozenset((m.a, m.b)) for m in problem.current}
    assert frozenset((a.code, b.code)) not in kept  # a forbidden pair is not brought back
    assert len(problem.current) == len(meetings) - 1
    assert problem.change_penalty == DEFAULT_PARAMETERS["change_penalty"]
    assert problem.locked == () and problem.now is None
    assert build_problem(db_session, fair, parameters={"keep_published": False}).current == ()


def test_all_must_makes_every_requested_pair_a_must_but_not_a_forbidden_one(
    db_session: Session, fair: Event
) -> None:
    """A compact day: every requested meeting takes place, only the timetable is free."""
    first = build_problem(db_session, fair, parameters={})
    assert first.pairs and not any(pair.must for pair in first.pairs)
    forbidden = first.pairs[0]
    pair_rules.set_rule(
        db_session,
        fair,
        _by_code(fair, forbidden.a),
        _by_code(fair, forbidden.b),
        PairRuleKind.FORBID,
        user_id=None,
    )
    db_session.commit()
    compact = build_problem(db_session, fair, parameters={"all_must": True})
    assert {pair.key for pair in compact.pairs} == {pair.key for pair in first.pairs[1:]}
    assert all(pair.must for pair in compact.pairs)
    assert problem_from_dict(problem_to_dict(compact)) == compact
