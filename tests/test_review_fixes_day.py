"""On-the-day fixes from review: a withdrawn host's tables (finding 4) and a corrected
arrival time sent from the same page (finding 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import day_operations as ops
from scheduler import withdrawal
from scheduler.errors import Conflict
from scheduler.models import Event, Meeting, MeetingStatus, Participant, Table, User
from scheduler.problem_builder import build_problem
from tests.day_fair import Clock, local, participant
from tests.published_fair import published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_a_withdrawn_hosts_table_is_free_for_staff_as_for_the_solver(
    db_session: Session, fair: Event
) -> None:
    own = db_session.scalars(
        select(Table).where(Table.event_id == fair.id, Table.host_participant_id.is_not(None))
    ).first()
    host = db_session.get(Participant, own.host_participant_id)
    withdrawal.withdraw(db_session, host, user_id=None)
    db_session.commit()
    assert {t.id: t.host for t in build_problem(db_session, fair, parameters={}).tables}[
        own.label
    ] is None
    meeting = db_session.scalars(
        select(Meeting).where(
            Meeting.event_id == fair.id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.table_id != own.id,
        )
    ).first()

    preview = ops.preview_move(db_session, meeting, slot_id=None, table_id=own.id)

    assert "Table %(table)s is the own table of %(host)s." not in [
        p.msgid for p in preview.problems
    ]


def test_an_approved_hosts_table_stays_its_own(db_session: Session, fair: Event) -> None:
    own = db_session.scalars(
        select(Table).where(Table.event_id == fair.id, Table.host_participant_id.is_not(None))
    ).first()
    meeting = db_session.scalars(
        select(Meeting).where(
            Meeting.event_id == fair.id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.participant_a_id != own.host_participant_id,
            Meeting.participant_b_id != own.host_participant_id,
        )
    ).first()

    preview = ops.preview_move(db_session, meeting, slot_id=None, table_id=own.id)

    assert "Table %(table)s is the own table of %(host)s." in [p.msgid for p in preview.problems]


def test_a_corrected_arrival_time_is_not_taken_for_the_form_sent_twice(
    db_session: Session, fair: Event, staff: User, clock: Clock
) -> None:
    clock.set(9, 30)
    s001 = participant(db_session, fair, "S001")
    seen = ops.day_status_seen(s001)
    ops.set_day_status(db_session, s001, "late", at=local(11, 0), user_id=staff.id, seen=seen)
    db_session.commit()
    clock.now += timedelta(seconds=20)

    # The same page, a minute later on the form: a correction, not a double click.
    with pytest.raises(Conflict):
        ops.set_day_status(db_session, s001, "late", at=local(11, 1), user_id=staff.id, seen=seen)
    db_session.rollback()
    # The very same time is still the form sent twice.
    again = ops.set_day_status(
        db_session, s001, "late", at=local(11, 0), user_id=staff.id, seen=seen
    )
    assert again.repeated


def test_leaving_now_sent_twice_is_still_one_action(
    db_session: Session, fair: Event, staff: User, clock: Clock
) -> None:
    clock.now = local(11, 0) + timedelta(seconds=7, microseconds=250)
    s001 = participant(db_session, fair, "S001")
    seen = ops.day_status_seen(s001)
    ops.set_day_status(db_session, s001, "left_early", at=clock.now, user_id=staff.id, seen=seen)
    db_session.commit()
    clock.now += timedelta(seconds=3)

    again = ops.set_day_status(
        db_session, s001, "left_early", at=clock.now, user_id=staff.id, seen=seen
    )

    assert again.repeated
