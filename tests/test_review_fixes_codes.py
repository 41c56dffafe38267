"""A run's codes mean the participants they meant when it was computed (review, finding 1).

A role change re-codes a company (S008 becomes B004); its old code must not go to the
next newcomer, and publishing a run computed before must not give the newcomer (holding
that code by hand) the meetings the run planned for the company that had it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import day_operations, publishing, registration, runs
from scheduler.errors import Conflict
from scheduler.models import (
    Event,
    Meeting,
    MeetingStatus,
    Organization,
    Participant,
    ParticipantStatus,
    RunStatus,
    ScheduleRun,
)
from scheduler.names import company_name_key
from scheduler.participant_import import PARTICIPANT_IDS, apply_import, preview_import
from tests.published_fair import published_fair


def _import(session: Session, event: Event, text: str) -> None:
    preview = preview_import(session, event, text.encode(), "p.csv")
    assert not preview.error_rows, [[i.text() for i in r.errors] for r in preview.error_rows]
    apply_import(session, event, preview, only_valid=False, user_id=None)
    session.commit()


@pytest.fixture
def recoded(db_session: Session, factory: sessionmaker) -> tuple[Event, ScheduleRun, str, int]:
    """A fair with a finished run, after which the run's highest supplier became a buyer:
    the event, the run, the supplier's code in the run and its participant id."""
    event = published_fair(db_session)
    run = runs.create_run(db_session, event, parameters={"time_limit": 1})
    db_session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    db_session.expire_all()
    run = db_session.get(ScheduleRun, run.id)
    suppliers = db_session.scalars(
        select(Participant).where(Participant.event_id == event.id, Participant.role == "supplier")
    ).all()
    top = max(suppliers, key=lambda p: int(p.code[1:]))
    code, top_id = top.code, top.id
    assert any(code in (m["a"], m["b"]) for m in run.result["meetings"])
    assert run.parameters[PARTICIPANT_IDS][code] == top_id
    _import(db_session, event, f"会社名,区分\n{top.organization.name},バイヤー\n")
    db_session.expire_all()
    assert db_session.get(Participant, top_id).code != code
    return event, run, code, top_id


def test_an_imported_newcomer_does_not_get_a_code_a_run_used(
    db_session: Session, recoded: tuple[Event, ScheduleRun, str, int]
) -> None:
    event, _run, code, _top_id = recoded
    _import(db_session, event, "会社名,区分\n新参精密株式会社,サプライヤー\n")
    newcomer = db_session.scalars(
        select(Participant)
        .join(Participant.organization)
        .where(
            Participant.event_id == event.id, Participant.organization.has(name="新参精密株式会社")
        )
    ).one()
    assert newcomer.code.startswith("S")
    assert int(newcomer.code[1:]) > int(code[1:])


def test_a_walk_in_does_not_get_a_code_a_run_used(
    db_session: Session, recoded: tuple[Event, ScheduleRun, str, int]
) -> None:
    event, _run, code, _top_id = recoded
    walk_in = day_operations.register_walk_in(
        db_session,
        event,
        company="飛込精機株式会社",
        role="supplier",
        contact_name="山田 太郎",
        user_id=None,
    )
    assert int(walk_in.code[1:]) > int(code[1:])


def test_an_approved_registration_does_not_get_a_code_a_run_used(
    db_session: Session, recoded: tuple[Event, ScheduleRun, str, int]
) -> None:
    """Review: approving a self-registration took the next code after the highest held,
    which was the freed one."""
    event, _run, code, _top_id = recoded
    pending = Participant(
        event=event,
        organization=Organization(
            name="新星ファクトリー", name_key=company_name_key("新星ファクトリー")
        ),
        role="supplier",
        status=ParticipantStatus.PENDING,
        registered_via="self",
    )
    db_session.add(pending)
    db_session.flush()
    registration.approve(db_session, pending, user_id=None)
    assert pending.code.startswith("S")
    assert int(pending.code[1:]) > int(code[1:])


def test_publishing_refuses_a_run_whose_code_now_means_another_company(
    db_session: Session, recoded: tuple[Event, ScheduleRun, str, int]
) -> None:
    event, run, code, _top_id = recoded
    # The organizer types the freed code for a new company by hand.
    _import(db_session, event, f"コード,会社名,区分\n{code},新参精密株式会社,サプライヤー\n")
    newcomer = db_session.scalars(
        select(Participant).where(Participant.event_id == event.id, Participant.code == code)
    ).one()
    run = db_session.get(ScheduleRun, run.id)
    assert publishing.preview_publication(db_session, event, run) is None
    with pytest.raises(Conflict) as refused:
        publishing.publish_run(db_session, event, run, user_id=None)
    assert refused.value.params == {"code": code}
    db_session.rollback()
    assert not db_session.scalars(
        select(Meeting).where(
            Meeting.status != MeetingStatus.CANCELLED,
            (Meeting.participant_a_id == newcomer.id) | (Meeting.participant_b_id == newcomer.id),
        )
    ).all()


def test_a_run_whose_codes_are_unchanged_still_publishes(
    db_session: Session, factory: sessionmaker
) -> None:
    event = published_fair(db_session)
    run = runs.create_run(db_session, event, parameters={"time_limit": 1})
    db_session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    db_session.expire_all()
    run = db_session.get(ScheduleRun, run.id)
    assert publishing.preview_publication(db_session, event, run) is not None
    publishing.publish_run(db_session, event, run, user_id=None)  # no Conflict
