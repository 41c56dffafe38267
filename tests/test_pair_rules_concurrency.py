"""Two organizers editing one run's schedule at the same moment: no edit is lost, and
rules for one pair set at once end as one rule, never a 500."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import pair_rules
from scheduler.db import make_engine
from scheduler.demo import generate_demo
from scheduler.models import (
    Event,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantRole,
    ScheduleRun,
)
from solver.problem import Meeting
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.validation import check
from tests.races import race


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=7, buyers=4, suppliers=14)
    db_session.commit()
    return event


def _two_independent_moves(run: ScheduleRun) -> list[Meeting]:
    """Two meetings moved to free places, valid together (so both moves must stand)."""
    problem = problem_from_dict(run.problem)
    meetings = list(schedule_from_dict(run.result).meetings)
    moves: list[Meeting] = []
    for meeting in meetings:
        others = [m for m in meetings if m.key != meeting.key]
        for slot in problem.slots:
            for table in problem.tables or ():
                moved = dataclasses.replace(meeting, slot=slot.id, table=table.id)
                if moved != meeting and not check(problem, [*others, moved]):
                    meetings = [*others, moved]
                    moves.append(moved)
                    break
            if len(moves) and moves[-1].key == meeting.key:
                break
        if len(moves) == 2:
            return moves
    raise AssertionError("the fixture should allow two moves")


def test_two_moves_in_one_run_at_once_both_stand(
    database_url: str,
    db_session: Session,
    fair: Event,
    solved: ScheduleRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moves = _two_independent_moves(solved)
    checked = pair_rules.move_conflicts

    def slow_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # both organizers are surely editing at once
        return checked(*args, **kwargs)

    monkeypatch.setattr(pair_rules, "move_conflicts", slow_check)
    engine = make_engine(database_url, pool_size=3)

    def mover(move: Meeting) -> Callable[[Session], object]:
        def job(session: Session) -> object:
            event, run = session.get(Event, fair.id), session.get(ScheduleRun, solved.id)
            return pair_rules.move_meeting(
                session, event, run, move.a, move.b, move.slot, move.table, user_id=None
            )

        return job

    failures = race(sessionmaker(engine, expire_on_commit=False), [mover(m) for m in moves])
    engine.dispose()
    assert failures == []
    db_session.expire_all()
    result = schedule_from_dict(db_session.get(ScheduleRun, solved.id).result).meetings
    placed = {m.key: (m.slot, m.table) for m in result}
    for move in moves:
        assert placed[move.key] == (move.slot, move.table), move
    assert check(problem_from_dict(solved.problem), result) == []


class _SlowAdd(Session):
    """Holds a new rule a moment before it is written, so two inserts surely meet."""

    def add(self, instance: object, _warn: bool = True) -> None:
        if isinstance(instance, PairRule):
            time.sleep(0.2)
        super().add(instance, _warn=_warn)


def _buyer_and_supplier(session: Session, fair: Event) -> list[Participant]:
    people = session.scalars(
        select(Participant).where(Participant.event_id == fair.id).order_by(Participant.id)
    ).all()
    buyer = next(p for p in people if p.role == ParticipantRole.BUYER)
    return [buyer, next(p for p in people if p.role != buyer.role)]


def test_two_rules_for_one_pair_at_once_end_as_one(
    database_url: str, db_session: Session, fair: Event
) -> None:
    people = _buyer_and_supplier(db_session, fair)
    a_id, b_id = people[0].id, people[1].id
    engine = make_engine(database_url, pool_size=3)

    def setter(kind: str) -> Callable[[Session], object]:
        def job(session: Session) -> object:
            event = session.get(Event, fair.id)
            a, b = session.get(Participant, a_id), session.get(Participant, b_id)
            return pair_rules.set_rule(session, event, a, b, kind)

        return job

    failures = race(
        sessionmaker(engine, class_=_SlowAdd),
        [setter(PairRuleKind.FORBID), setter(PairRuleKind.FORCE)],
    )
    engine.dispose()
    assert failures == []
    rules = db_session.scalars(select(PairRule).where(PairRule.event_id == fair.id)).all()
    assert len(rules) == 1 and rules[0].kind in (PairRuleKind.FORBID, PairRuleKind.FORCE)


def test_moving_a_meeting_while_the_run_is_published_does_not_deadlock(
    database_url: str,
    db_session: Session,
    fair: Event,
    solved: ScheduleRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scheduler import publishing

    move = _two_independent_moves(solved)[0]
    checked = pair_rules.move_conflicts

    def slow_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.4)  # the move holds its locks while the publication arrives
        return checked(*args, **kwargs)

    monkeypatch.setattr(pair_rules, "move_conflicts", slow_check)
    engine = make_engine(database_url, pool_size=3)

    def mover(session: Session) -> object:
        event, run = session.get(Event, fair.id), session.get(ScheduleRun, solved.id)
        return pair_rules.move_meeting(
            session, event, run, move.a, move.b, move.slot, move.table, user_id=None
        )

    def publisher(session: Session) -> object:
        time.sleep(0.1)
        event, run = session.get(Event, fair.id), session.get(ScheduleRun, solved.id)
        return publishing.publish_run(session, event, run)

    failures = race(sessionmaker(engine, expire_on_commit=False), [mover, publisher])
    engine.dispose()
    assert failures == []


def test_a_rule_is_not_saved_when_its_request_is_rolled_back(
    db_session: Session, fair: Event
) -> None:
    people = _buyer_and_supplier(db_session, fair)
    pair_rules.set_rule(db_session, fair, people[0], people[1], PairRuleKind.FORBID)
    db_session.rollback()
    assert db_session.scalars(select(PairRule)).all() == []
