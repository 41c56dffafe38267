"""Setting up an event through the pages; who may do what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from scheduler.models import Event, Slot, Table


def _create_event(client, **overrides) -> int:
    data = {
        "name": "ものづくり受発注商談会 2027",
        "venue": "県産業振興センター",
        "timezone": "Asia/Tokyo",
        "screening_enabled": "y",
    } | overrides
    response = client.post("/events/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_anonymous_is_sent_to_login(client) -> None:
    response = client.get("/events/new")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_login_with_wrong_password_keeps_email(client, organizer) -> None:
    response = client.post("/auth/login", data={"email": "org@example.jp", "password": "nope-nope"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="org@example.jp"' in body
    assert "password" in body.lower()


def test_staff_cannot_create_or_change_events(client, auth, staff, organizer) -> None:
    auth.login("org@example.jp")
    event_id = _create_event(client)
    auth.logout()
    auth.login("staff@example.jp")
    assert client.get("/events/new").status_code == 403
    assert client.post(f"/events/{event_id}/rooms", data={"room-name": "X"}).status_code == 403
    assert client.get(f"/events/{event_id}").status_code == 200  # staff may look


def test_create_event_with_errors_keeps_what_was_typed(client, logged_in) -> None:
    response = client.post(
        "/events/new",
        data={
            "name": "",
            "venue": "県産業振興センター",
            "timezone": "Asia/Tokyo",
            "contact_email": "not-an-email",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="県産業振興センター"' in body
    assert 'value="not-an-email"' in body
    assert body.count('class="errors"') >= 2


def test_full_setup_through_the_pages(client, logged_in, db_session) -> None:
    event_id = _create_event(client)
    day = {
        "date": "2027-02-10",
        "start_time": "10:00",
        "end_time": "16:30",
        "meeting_minutes": "25",
        "changeover_minutes": "5",
        "breaks": "12:00-13:00 昼休み",
    }
    preview = client.post(f"/events/{event_id}/days/new", data=day | {"action": "preview"})
    body = preview.get_data(as_text=True)
    assert "11 " in body and "13:00" in body and "昼休み" in body
    assert db_session.scalars(select(Slot).where(Slot.event_id == event_id)).all() == []
    saved = client.post(f"/events/{event_id}/days/new", data=day | {"action": "save"})
    assert saved.status_code == 302
    slots = db_session.scalars(select(Slot).where(Slot.event_id == event_id)).all()
    assert len(slots) == 11
    # The same date again is refused at the preview, not only once "save" is pressed.
    again = client.post(f"/events/{event_id}/days/new", data=day | {"action": "preview"})
    body = again.get_data(as_text=True)
    assert "2027-02-10 はすでにこの商談会の開催日に登録されています。" in body  # (ja page)
    assert 'value="save"' not in body

    assert (
        client.post(f"/events/{event_id}/rooms", data={"room-name": "大会議室"}).status_code == 302
    )
    event = db_session.scalar(select(Event).where(Event.id == event_id))
    db_session.refresh(event)
    room_id = event.rooms[0].id
    response = client.post(
        f"/events/{event_id}/rooms", data={"tables-room": str(room_id), "tables-labels": "A01-A40"}
    )
    assert response.status_code == 302
    labels = db_session.scalars(select(Table.label).where(Table.event_id == event_id)).all()
    assert len(labels) == 40 and "A40" in labels

    again = client.post(
        f"/events/{event_id}/rooms", data={"tables-room": str(room_id), "tables-labels": "A40-A41"}
    )
    assert again.status_code == 200
    assert "A40" in again.get_data(as_text=True)

    phases = client.post(
        f"/events/{event_id}/phases",
        data={
            "phase": "preferences",
            "registration_opens": "2026-12-01T09:00",
            "registration_closes": "2027-01-10T17:00",
            "preferences_closes": "2027-01-25T17:00",
        },
    )
    assert phases.status_code == 302
    db_session.expire_all()
    event = db_session.get(Event, event_id)
    assert event.phase == "preferences"
    closes = {p.phase: p.closes_at for p in event.phases}
    assert closes["registration"].hour == 8  # 17:00 JST is 08:00 UTC

    overview = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "ものづくり受発注商談会 2027" in overview
    assert "公開されたスケジュールはまだありません" not in overview

    # Moving on to "published" with nothing published: the organizer is warned.
    published = client.post(
        f"/events/{event_id}/phases", data={"phase": "published"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "公開されたスケジュールはまだありません" in published


def test_edit_single_slot_refuses_overlap(client, logged_in, db_session) -> None:
    event_id = _create_event(client)
    client.post(
        f"/events/{event_id}/days/new",
        data={
            "date": "2027-02-10",
            "start_time": "10:00",
            "end_time": "11:00",
            "meeting_minutes": "25",
            "changeover_minutes": "5",
            "breaks": "",
            "action": "save",
        },
    )
    first, _second = db_session.scalars(
        select(Slot).where(Slot.event_id == event_id).order_by(Slot.starts_at)
    ).all()
    response = client.post(
        f"/events/{event_id}/slots/{first.id}",
        data={"date": "2027-02-10", "start": "10:20", "end": "10:45"},
    )
    assert response.status_code == 200
    # the default language is Japanese; the service's message is translated
    assert "時間枠 2027-02-10 10:30–10:55 と重なっています" in response.get_data(as_text=True)
    ok = client.post(
        f"/events/{event_id}/slots/{first.id}",
        data={"date": "2027-02-10", "start": "09:30", "end": "09:55", "label": "早朝"},
    )
    assert ok.status_code == 302


def test_other_events_objects_are_not_reachable(client, logged_in, db_session) -> None:
    one = _create_event(client, name="Fair one")
    two = _create_event(client, name="Fair two")
    client.post(
        f"/events/{one}/days/new",
        data={
            "date": "2027-02-10",
            "start_time": "10:00",
            "end_time": "11:00",
            "meeting_minutes": "25",
            "changeover_minutes": "5",
            "breaks": "",
            "action": "save",
        },
    )
    slot = db_session.scalars(select(Slot).where(Slot.event_id == one)).first()
    assert client.get(f"/events/{two}/slots/{slot.id}").status_code == 404


@pytest.mark.parametrize("lang,text", [("ja", "ログイン"), ("en", "Log in")])
def test_login_page_speaks_both_languages(client, lang, text) -> None:
    client.post("/language", data={"lang": lang, "next": "/auth/login"})
    assert text in client.get("/auth/login").get_data(as_text=True)


def test_csrf_is_enforced(csrf_app, organizer) -> None:
    client = csrf_app.test_client()
    response = client.post("/auth/login", data={"email": "org@example.jp", "password": "x" * 10})
    assert response.status_code == 400


def test_favicon_is_served(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200 and b"<svg" in icon.get_data()
    icon.close()


def test_add_a_single_slot_through_the_page(client, logged_in, db_session) -> None:
    event_id = _create_event(client)
    client.post(
        f"/events/{event_id}/days/new",
        data={
            "date": "2027-02-10",
            "start_time": "10:00",
            "end_time": "11:00",
            "meeting_minutes": "25",
            "changeover_minutes": "5",
            "breaks": "",
            "action": "save",
        },
    )
    clash = client.post(
        f"/events/{event_id}/slots/new",
        data={"date": "2027-02-10", "start": "10:45", "end": "11:10"},
    )
    assert clash.status_code == 200 and 'value="10:45"' in clash.get_data(as_text=True)
    added = client.post(
        f"/events/{event_id}/slots/new",
        data={"date": "2027-02-10", "start": "17:00", "end": "17:25", "label": "延長枠"},
    )
    assert added.status_code == 302
    labels = db_session.scalars(select(Slot.label).where(Slot.event_id == event_id)).all()
    assert sorted(labels) == ["", "", "延長枠"]
    # A date that is none of the event's days is refused next to the date, as typed.
    typo = client.post(
        f"/events/{event_id}/slots/new",
        data={"date": "2027-02-01", "start": "17:30", "end": "17:55", "label": "追加"},
    )
    page = typo.get_data(as_text=True)
    assert typo.status_code == 200
    assert re.search(r'id="date-err">\s*<li>2027-02-01 ', page)
    assert 'value="2027-02-01"' in page and 'value="17:30"' in page and 'value="追加"' in page
    assert db_session.scalar(select(func.count(Slot.id)).where(Slot.event_id == event_id)) == 3


def test_the_suggested_break_is_in_the_readers_language(client, logged_in) -> None:
    event_id = _create_event(client)
    client.post("/language", data={"lang": "en"})
    english = client.get(f"/events/{event_id}/days/new").get_data(as_text=True)
    assert "12:00-13:00 Lunch</textarea>" in english and "昼休み" not in english
    client.post("/language", data={"lang": "ja"})
    japanese = client.get(f"/events/{event_id}/days/new").get_data(as_text=True)
    assert "12:00-13:00 昼休み</textarea>" in japanese


def test_slug_is_chosen_on_the_form_and_a_clash_keeps_what_was_typed(
    client, logged_in, db_session
) -> None:
    event_id = _create_event(client, slug="Shizuoka-2027")
    event = db_session.get(Event, event_id)
    assert event.slug == "shizuoka-2027"
    page = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert "/e/shizuoka-2027/register" in page
    other = _create_event(client, name="食品商談会 2027")
    response = client.post(
        f"/events/{other}/edit",
        data={"name": "食品商談会 2027 秋", "slug": "shizuoka-2027", "timezone": "Asia/Tokyo"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="shizuoka-2027"' in body and 'value="食品商談会 2027 秋"' in body
    assert "shizuoka-2027" in body.split('class="errors"', 1)[1]
    db_session.expire_all()
    assert db_session.get(Event, other).name == "食品商談会 2027"
