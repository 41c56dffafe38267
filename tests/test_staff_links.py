"""The staff calendar's and hall boards' secret links: re-issued by the organizer, the
old ones stop (a helper who has left keeps nothing that still opens)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import AuditEntry, Event, Room, User
from tests.conftest import AuthActions
from tests.published_fair import published_fair
from web.board import board_token
from web.derived_tokens import derived_token
from web.schedule_outputs import staff_feed_token


def _tokens(app: Flask, event: Event, room: Room) -> tuple[str, str]:
    with app.app_context():
        return staff_feed_token(event.id), board_token(event.id, room.id)


def test_reissuing_stops_the_old_staff_links_and_gives_working_new_ones(
    app: Flask, client: FlaskClient, auth: AuthActions, db_session: Session, organizer: User
) -> None:
    fair = published_fair(db_session)
    fair.links_salt = ""  # an event from before salts: the links given out keep working
    db_session.commit()
    room = db_session.scalars(select(Room).where(Room.event_id == fair.id)).first()
    feed, board = _tokens(app, fair, room)
    with app.app_context():  # links given out before versions existed keep working
        assert feed == derived_token("matchfair-staff-feed", fair.id)
    old_feed, old_board = f"/cal/events/{fair.id}/{feed}.ics", (
        f"/events/{fair.id}/board/{room.id}/state.json?token={board}"
    )
    assert client.get(old_feed).status_code == 200
    assert client.get(old_board).status_code == 200

    auth.login()
    outputs = client.get(f"/events/{fair.id}/schedule/outputs").get_data(as_text=True)
    assert 'data-test="reissue-staff-links"' in outputs
    response = client.post(f"/events/{fair.id}/schedule/outputs/reissue-staff-links")
    assert response.status_code == 302
    auth.logout()

    db_session.expire_all()
    emptied = client.get(old_feed)  # an empty calendar: subscribed apps drop the meetings
    assert emptied.status_code == 200 and b"BEGIN:VEVENT" not in emptied.data
    assert client.get(old_board).status_code == 404
    new_feed, new_board = _tokens(app, fair, room)
    assert new_feed != feed and new_board != board
    assert client.get(f"/cal/events/{fair.id}/{new_feed}.ics").status_code == 200
    assert client.get(
        f"/events/{fair.id}/board/{room.id}/state.json?token={new_board}"
    ).status_code == 200
    assert db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "event.reissue_staff_links")
    )


def test_staff_cannot_reissue_and_do_not_see_the_button(
    client: FlaskClient, auth: AuthActions, db_session: Session, staff: User
) -> None:
    fair = published_fair(db_session)
    auth.login("staff@example.jp")
    outputs = client.get(f"/events/{fair.id}/schedule/outputs").get_data(as_text=True)
    assert 'data-test="reissue-staff-links"' not in outputs
    assert client.post(
        f"/events/{fair.id}/schedule/outputs/reissue-staff-links"
    ).status_code == 403
    db_session.expire_all()
    assert db_session.get(Event, fair.id).staff_links_version == 0


def test_the_staff_subscription_carries_its_language(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    fair = published_fair(db_session)
    with app.app_context():
        feed = staff_feed_token(fair.id)
    english = client.get(f"/cal/events/{fair.id}/{feed}.ics?lang=en").data.decode()
    japanese = client.get(f"/cal/events/{fair.id}/{feed}.ics").data.decode()
    assert "SUMMARY:Meeting" in english and "SUMMARY:商談" in japanese


def test_a_token_with_other_characters_is_a_404_not_a_500(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    app.config["TEST_ERROR_PAGES"] = True
    fair = published_fair(db_session)
    room = db_session.scalars(select(Room).where(Room.event_id == fair.id)).first()
    assert client.get(f"/cal/events/{fair.id}/%C3%A9%C3%A9.ics").status_code == 404
    assert client.get(f"/events/{fair.id}/board/{room.id}?token=%C3%A9").status_code == 404


def test_an_event_never_opens_with_a_deleted_events_links(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """SQLite gives the next event the id of a deleted newest one (and rooms theirs):
    last fair's staff calendar and hall-board links must not open the new fair."""
    from scheduler.event_deletion import delete_event

    old = published_fair(db_session)
    room = db_session.scalars(select(Room).where(Room.event_id == old.id)).first()
    feed, board = _tokens(app, old, room)
    old_id, room_id = old.id, room.id
    assert client.get(f"/cal/events/{old_id}/{feed}.ics").status_code == 200
    delete_event(db_session, old, confirmation=old.slug)
    db_session.commit()

    new = published_fair(db_session)
    new_room = db_session.scalars(select(Room).where(Room.event_id == new.id)).first()
    assert client.get(f"/cal/events/{new.id}/{feed}.ics").status_code == 404
    assert client.get(
        f"/events/{new.id}/board/{new_room.id}/state.json?token={board}"
    ).status_code == 404
    new_feed, new_board = _tokens(app, new, new_room)
    assert client.get(f"/cal/events/{new.id}/{new_feed}.ics").status_code == 200
    assert client.get(
        f"/events/{new.id}/board/{new_room.id}/state.json?token={new_board}"
    ).status_code == 200
    if db_session.get_bind().dialect.name == "sqlite":  # the case this guards against
        assert (new.id, new_room.id) == (old_id, room_id)
