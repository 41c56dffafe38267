"""Calendar subscriptions that no longer show a schedule answer with an empty calendar.

Calendar apps keep the events they last read when a subscription answers with an error,
so after a 404 a deleted fair's meetings (or a revoked link's) would stay in every
subscriber's calendar for good. A valid calendar without events makes them remove the
meetings; these tests check that this is what a deleted event's feeds, a re-issued
feed and a withdrawn participant's feed answer, read by independent parsers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import calendars
from scheduler.db import utcnow
from scheduler.models import (
    RETIRED_FEED_DAYS,
    Event,
    Participant,
    ParticipantStatus,
    Phase,
    RetiredFeed,
)
from tests.published_fair import busiest_participant, published_fair
from tests.test_calendars import PARSERS
from web.schedule_outputs import staff_feed_token


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def _staff_feed(app: Flask, event: Event) -> str:
    with app.app_context():
        return f"/cal/events/{event.id}/{staff_feed_token(event.id)}.ics"


def _events_in(client: FlaskClient, path: str) -> int:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return len(icalendar.Calendar.from_ical(response.data).walk("VEVENT"))


def _assert_emptied(client: FlaskClient, path: str, name: str, why: str) -> bytes:
    """``path`` answers with a valid calendar named ``name`` that has no events and
    says ``why`` (in English, beside the Japanese)."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["X-WR-CALNAME"]) == name
    assert why in str(calendar["X-WR-CALDESC"]) and why in str(calendar["DESCRIPTION"])
    assert calendar.walk("VTIMEZONE"), "RFC 5545 wants a component: the event's zone"
    # Polled again unchanged: 304, so calendar apps are answered cheaply.
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    return response.data


def _delete(client: FlaskClient, event: Event, session: Session) -> None:
    event.phase = Phase.CLOSED  # a fair under way cannot be deleted
    session.commit()
    event_id, name = event.id, event.name
    response = client.post(f"/events/{event_id}/delete", data={"confirmation": name})
    assert response.status_code == 302
    session.expunge_all()
    assert session.get(Event, event_id) is None


def test_a_deleted_fairs_feeds_answer_with_an_empty_calendar(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, logged_in
) -> None:
    participant = busiest_participant(db_session, fair)
    feed, staff = f"/cal/{participant.feed_token}.ics", _staff_feed(app, fair)
    assert _events_in(client, feed) > 0 and _events_in(client, staff) > 0
    name, tokens = fair.name, db_session.scalar(
        select(func.count(Participant.id)).where(Participant.event_id == fair.id)
    )

    _delete(client, fair, db_session)

    _assert_emptied(client, feed, name, "The organizer deleted this fair.")
    _assert_emptied(client, staff, name, "The organizer deleted this fair.")
    # Every participant's feed and the staff feed, and only digests of their secrets.
    rows = db_session.scalars(select(RetiredFeed)).all()
    assert len(rows) == tokens + 1
    assert {r.reason for r in rows} == {"deleted"}
    assert participant.feed_token not in {r.digest for r in rows}
    # A token that never existed is still refused.
    assert client.get("/cal/" + "x" * 43 + ".ics").status_code == 404


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_every_parser_reads_the_empty_calendar(
    parser: str,
    client: FlaskClient,
    db_session: Session,
    fair: Event,
    logged_in,
    tmp_path: Path,
) -> None:
    participant = busiest_participant(db_session, fair)
    feed = f"/cal/{participant.feed_token}.ics"
    _delete(client, fair, db_session)
    assert PARSERS[parser](client.get(feed).data, tmp_path) == []


def test_a_reissued_participant_feed_is_emptied_and_the_new_one_shows_the_meetings(
    client: FlaskClient, db_session: Session, fair: Event, logged_in
) -> None:
    participant = busiest_participant(db_session, fair)
    old = f"/cal/{participant.feed_token}.ics"
    meetings = _events_in(client, old)
    response = client.post(
        f"/events/{fair.id}/participants/{participant.id}/access/reissue"
    )
    assert response.status_code == 302
    db_session.expire_all()
    _assert_emptied(client, old, fair.name, "Subscribe to the new one from the schedule page.")
    assert _events_in(client, f"/cal/{participant.feed_token}.ics") == meetings


def test_reissued_staff_links_empty_the_old_staff_calendar(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, logged_in
) -> None:
    old = _staff_feed(app, fair)
    meetings = _events_in(client, old)
    response = client.post(f"/events/{fair.id}/schedule/outputs/reissue-staff-links")
    assert response.status_code == 302
    db_session.expire_all()
    new = _staff_feed(app, fair)
    assert new != old
    _assert_emptied(client, old, fair.name, "no longer in use")
    assert _events_in(client, new) == meetings


@pytest.mark.parametrize("status", [ParticipantStatus.WITHDRAWN, ParticipantStatus.REJECTED])
def test_a_withdrawn_participants_feed_is_emptied_and_shows_nothing_of_the_fair(
    client: FlaskClient, db_session: Session, fair: Event, status: ParticipantStatus
) -> None:
    participant = busiest_participant(db_session, fair)
    feed = f"/cal/{participant.feed_token}.ics"
    assert _events_in(client, feed) > 0
    participant.status = status
    db_session.commit()
    body = _assert_emptied(
        client, feed, fair.name, "This registration for the fair is no longer active."
    )
    assert participant.display_name.encode() not in body


def test_retired_feeds_are_forgotten_after_their_time(
    db_session: Session, fair: Event
) -> None:
    calendars.retire_feeds(db_session, ["old-token"], event=fair, reason="deleted")
    row = db_session.get(RetiredFeed, calendars.feed_digest("old-token"))
    assert calendars.retired_feed(db_session, "old-token") is not None
    row.retired_at = utcnow() - timedelta(days=RETIRED_FEED_DAYS + 1)
    db_session.flush()
    assert calendars.retired_feed(db_session, "old-token") is None  # expired: unknown again
    # ... and purged by the next retirement; retiring a token twice keeps one row.
    calendars.retire_feeds(db_session, ["new-token", "new-token"], event=fair, reason="deleted")
    calendars.retire_feeds(db_session, ["new-token"], event=fair, reason="reissued")
    digests = set(db_session.scalars(select(RetiredFeed.digest)))
    assert digests == {calendars.feed_digest("new-token")}
