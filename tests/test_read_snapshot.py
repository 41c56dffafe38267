"""A participant's schedule is read from one snapshot: a reader that straddles a
publication sees the old version throughout, even when it queries again after the
new version is committed (the page, .ics, feed and PDF are built from several queries).

The straddling tests run on whichever database the suite uses (SQLite by default,
PostgreSQL in CI); the PostgreSQL test also checks the isolation level itself and
that, without the snapshot, READ COMMITTED would indeed show the new version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from scheduler import calendars
from scheduler.db import make_engine, make_session_factory
from scheduler.models import Event, Meeting, MeetingStatus, Participant
from scheduler.schedule_view import personal_schedule
from tests.published_fair import busiest_participant, published_fair
from web import schedules
from web.database import get_session
from web.read_snapshot import begin_snapshot


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def participant(db_session: Session, fair: Event) -> Participant:
    return busiest_participant(db_session, fair)


def publish_version_2(database_url: str, participant_id: int) -> None:
    """What a publication does, from another connection: one of the participant's
    meetings is cancelled and the event's published version goes up, in one commit."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            meeting = session.scalars(
                select(Meeting)
                .where(
                    or_(
                        Meeting.participant_a_id == participant_id,
                        Meeting.participant_b_id == participant_id,
                    ),
                    Meeting.status != MeetingStatus.CANCELLED,
                )
                .order_by(Meeting.id)
            ).first()
            assert meeting is not None
            meeting.status = MeetingStatus.CANCELLED
            meeting.version += 1
            event = session.get(Event, meeting.event_id)
            event.published_version += 1
    finally:
        engine.dispose()


def _publishing_midway(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    database_url: str,
    participant_id: int,
    seen: list[Any],
) -> None:
    """Replace ``owner.name`` so that, after the view has looked the participant up, a
    new version is committed elsewhere and everything is queried again before reading."""
    real: Callable[..., Any] = getattr(owner, name)

    def straddling(session: Session, *args: Any, **kwargs: Any) -> Any:
        publish_version_2(database_url, participant_id)
        session.expire_all()  # re-query the participant, the event and the meetings
        result = real(session, *args, **kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr(owner, name, straddling)


def test_schedule_page_straddling_a_publication_shows_only_the_old_version(
    client, participant: Participant, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(personal_schedule_for(client, participant))
    seen: list[Any] = []
    _publishing_midway(
        monkeypatch, schedules, "personal_schedule", database_url, participant.id, seen
    )
    response = client.get(f"/p/{participant.access_token}/schedule")
    assert response.status_code == 200
    (schedule,) = seen
    assert len(schedule.meetings) == before and schedule.cancelled == []

    monkeypatch.undo()  # a request after the publication sees the new version
    after = client.get(f"/p/{participant.access_token}/schedule")
    assert after.status_code == 200
    assert len(personal_schedule_for(client, participant)) == before - 1


def personal_schedule_for(client, participant: Participant) -> list[Any]:
    """The participant's active meetings, read fresh as a new request would."""
    with client.application.test_request_context():
        session = get_session()
        return personal_schedule(session, session.get(Participant, participant.id)).meetings


@pytest.mark.parametrize("kind", ["download", "feed"])
def test_calendar_straddling_a_publication_shows_only_the_old_version(
    client,
    participant: Participant,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    url = (
        f"/p/{participant.access_token}/schedule.ics"
        if kind == "download"
        else f"/cal/{participant.feed_token}.ics"
    )
    old = client.get(url).data
    assert b"STATUS:CANCELLED" not in old
    seen: list[Any] = []
    _publishing_midway(
        monkeypatch, calendars, "participant_feed", database_url, participant.id, seen
    )
    straddling = client.get(url)
    assert straddling.status_code == 200
    assert straddling.data == old  # byte for byte: not one line of the new version

    monkeypatch.undo()
    assert b"STATUS:CANCELLED" in client.get(url).data


def test_pdf_straddling_a_publication_prints_the_old_version(
    client, participant: Participant, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(personal_schedule_for(client, participant))
    seen: list[Any] = []
    _publishing_midway(
        monkeypatch, schedules, "personal_schedule", database_url, participant.id, seen
    )
    monkeypatch.setattr(schedules.printing, "html_to_pdf", lambda html, **_: b"%PDF-1.7 test")
    response = client.get(f"/p/{participant.access_token}/schedule.pdf")
    assert response.status_code == 200
    (schedule,) = seen
    assert len(schedule.meetings) == before and schedule.cancelled == []


def _published_version(session: Session, event_id: int) -> int:
    return session.scalar(select(Event.published_version).where(Event.id == event_id))


@pytest.mark.postgres
def test_postgres_snapshot_is_repeatable_read_and_read_committed_would_mix(
    app: Flask, fair: Event, participant: Participant, database_url: str
) -> None:
    # Without the snapshot (READ COMMITTED), a re-query after the commit sees version 2.
    with app.test_request_context():
        session = get_session()
        assert _published_version(session, fair.id) == 1
        publish_version_2(database_url, participant.id)
        assert _published_version(session, fair.id) == 2

    # With it, a reader started before the commit keeps seeing the version it started on.
    with app.test_request_context():
        session = get_session()
        begin_snapshot(session)
        isolation = session.scalar(text("SHOW transaction_isolation"))
        assert isolation == "repeatable read"
        reader = session.get(Participant, participant.id)
        before = personal_schedule(session, reader)
        assert _published_version(session, fair.id) == 2
        publish_version_2(database_url, participant.id)
        session.expire_all()
        assert _published_version(session, fair.id) == 2
        again = personal_schedule(session, session.get(Participant, participant.id))
        assert [m.meeting.id for m in again.meetings] == [m.meeting.id for m in before.meetings]
        assert len(again.cancelled) == len(before.cancelled)
        session.commit()
        assert _published_version(session, fair.id) == 3  # a new transaction: the new version
