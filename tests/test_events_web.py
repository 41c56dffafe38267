"""Setting up an event through the pages; who may do what."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from scheduler import event_setup
from scheduler.models import (
    Event,
    Meeting,
    Organization,
    Participant,
    ParticipantStatus,
    Slot,
    Table,
)


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


def test_a_contact_email_typed_in_full_width_is_saved_as_the_address(
    client, logged_in, db_session
) -> None:
    response = client.post("/events/new", data={
        "name": "商談会", "timezone": "Asia/Tokyo", "contact_email": "ｉｎｆｏ＠ｃｃｉ．ｊｐ "})
    assert response.status_code == 302
    assert db_session.scalar(select(Event.contact_email)) == "info@cci.jp"


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


ONE_MORNING = {
    "date": "2027-02-10",
    "start_time": "10:00",
    "end_time": "12:00",
    "meeting_minutes": "25",
    "changeover_minutes": "5",
    "breaks": "",
}


def _schedule_a_meeting(db_session, event_id: int) -> None:
    """A meeting in the event's first slot, as a published schedule leaves one."""
    event = db_session.get(Event, event_id)
    room = event_setup.add_room(db_session, event, "大会議室")
    table = event_setup.add_tables(db_session, room, "A01")[0]
    buyer, supplier = (
        Participant(event_id=event_id, organization=Organization(name=name, name_key=name),
                    role=role, status=ParticipantStatus.APPROVED)
        for name, role in (("発注重工株式会社", "buyer"), ("精密加工株式会社", "supplier"))
    )
    db_session.add_all([buyer, supplier])
    db_session.flush()
    first = db_session.scalars(
        select(Slot).where(Slot.event_id == event_id).order_by(Slot.starts_at)
    ).first()
    db_session.add(Meeting(event_id=event_id, participant_a_id=buyer.id,
                           participant_b_id=supplier.id, slot_id=first.id, table_id=table.id))
    db_session.commit()


def _slot_minutes(db_session, event_id: int) -> list[int]:
    db_session.expire_all()
    slots = db_session.scalars(select(Slot).where(Slot.event_id == event_id)).all()
    return [int((s.ends_at - s.starts_at).total_seconds() // 60) for s in slots]


def test_a_day_with_meetings_says_it_cannot_be_regenerated_and_keeps_what_was_typed(
    client, logged_in, db_session, monkeypatch
) -> None:
    event_id = _create_event(client)
    client.post(f"/events/{event_id}/days/new", data=ONE_MORNING | {"action": "save"})
    _schedule_a_meeting(db_session, event_id)
    day_id = db_session.get(Event, event_id).days[0].id
    client.post("/language", data={"lang": "en"})
    # The days list does not offer to regenerate (or delete) the day, and says why.
    days = client.get(f"/events/{event_id}/days").get_data(as_text=True)
    assert "Regenerate grid" not in days and "Delete day" not in days
    assert "1 meeting is scheduled on this day: its grid can no longer be regenerated" in days
    # The form says so before anything is typed, and its preview offers no saving.
    edit = f"/events/{event_id}/days/{day_id}/edit"
    warning = "1 meeting is already scheduled on this day, so its grid cannot be regenerated"
    assert warning in client.get(edit).get_data(as_text=True)
    typed = ONE_MORNING | {"meeting_minutes": "40"}
    preview = client.post(edit, data=typed | {"action": "preview"}).get_data(as_text=True)
    assert warning in preview and "edit a slot to change its times" in preview
    assert 'value="save"' not in preview and 'value="40"' in preview
    # Saving anyway is refused on the form, which keeps the 40 minutes typed.
    refused = client.post(edit, data=typed | {"action": "save"})
    assert refused.status_code == 200
    assert warning in refused.get_data(as_text=True)
    assert 'value="40"' in refused.get_data(as_text=True)
    assert _slot_minutes(db_session, event_id) == [25, 25, 25, 25]
    # The meeting was placed after the page was shown (the page counted none): the
    # service refuses, and the form still keeps what was typed and says why.
    real_count, calls = event_setup.meetings_on_day, []

    def none_at_first(session, day) -> int:
        calls.append(day.id)
        return 0 if len(calls) == 1 else real_count(session, day)

    monkeypatch.setattr(event_setup, "meetings_on_day", none_at_first)
    raced = client.post(edit, data=typed | {"action": "save"})
    assert len(calls) == 3  # the page, the service, the page again after the refusal
    assert raced.status_code == 200
    assert warning in raced.get_data(as_text=True) and 'value="40"' in raced.get_data(as_text=True)
    assert _slot_minutes(db_session, event_id) == [25, 25, 25, 25]


def test_a_day_without_meetings_is_regenerated_and_counts_read_in_the_singular(
    client, logged_in, db_session
) -> None:
    event_id = _create_event(client)
    client.post("/language", data={"lang": "en"})
    one_slot = ONE_MORNING | {"end_time": "10:30"}
    preview = client.post(f"/events/{event_id}/days/new", data=one_slot | {"action": "preview"})
    body = preview.get_data(as_text=True)
    assert "Preview: 1 slot<" in body and "Save this 1 slot<" in body
    client.post(f"/events/{event_id}/days/new", data=one_slot | {"action": "save"})
    day_id = db_session.get(Event, event_id).days[0].id
    days = client.get(f"/events/{event_id}/days").get_data(as_text=True)
    assert "Regenerate grid" in days and "meeting is scheduled" not in days
    edit = f"/events/{event_id}/days/{day_id}/edit"
    assert "already scheduled" not in client.get(edit).get_data(as_text=True)
    saved = client.post(edit, data=ONE_MORNING | {"meeting_minutes": "40", "action": "save"})
    assert saved.status_code == 302
    assert _slot_minutes(db_session, event_id) == [40, 40]
    client.post(f"/events/{event_id}/rooms", data={"room-name": "大会議室"})
    room_id = db_session.get(Event, event_id).rooms[0].id
    added = client.post(
        f"/events/{event_id}/rooms",
        data={"tables-room": str(room_id), "tables-labels": "A01"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 table was added to 大会議室." in added and ">1 table<" in added


def test_a_preferences_deadline_after_the_first_fair_day_is_saved_with_a_warning(
    client, logged_in, db_session
) -> None:
    event_id = _create_event(client)
    client.post(f"/events/{event_id}/days/new",
                data=ONE_MORNING | {"date": "2026-11-12", "action": "save"})
    client.post("/language", data={"lang": "en"})
    page = f"/events/{event_id}/phases"
    typed = {
        "phase": "registration",
        "registration_opens": "2026-09-01T09:00",
        "registration_closes": "2026-09-30T17:00",
        "preferences_opens": "2026-10-01T09:00",
        "preferences_closes": "2026-12-20T17:00",
    }
    saved = client.post(page, data=typed)
    # Saved as typed, but the organizer is brought back to the phases, not the overview.
    assert saved.status_code == 302 and saved.headers["Location"].endswith(page)
    body = client.get(page).get_data(as_text=True)
    assert "A deadline is on or after the fair&#39;s first day" in body
    warning = re.search(r'id="preferences-warning">([^<]*)<', body)
    assert warning and "closes on 2026-12-20 17:00" in warning.group(1)
    assert "first day (2026-11-12)" in warning.group(1)
    assert 'value="2026-12-20T17:00"' in body and 'id="registration-warning"' not in body
    # A save refused for another reason keeps what was typed, and still warns.
    refused = client.post(page, data=typed | {"registration_closes": "2026-10-05T17:00"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'value="2026-10-05T17:00"' in body and 'value="2026-12-20T17:00"' in body
    assert 'id="preferences-warning"' in body
    # Corrected: saved, no warning, on to the overview as before.
    fixed = client.post(page, data=typed | {"preferences_closes": "2026-10-20T17:00"})
    assert fixed.status_code == 302 and fixed.headers["Location"].endswith(f"/events/{event_id}")
    assert "-warning" not in client.get(page).get_data(as_text=True)


def test_overview_subtitle_has_no_stray_separator(client, logged_in) -> None:
    bare = _create_event(client, venue="")
    assert '<p class="muted">Asia/Tokyo</p>' in client.get(f"/events/{bare}").get_data(as_text=True)
    full = _create_event(client, address="静岡市葵区")
    assert "県産業振興センター · 静岡市葵区 · Asia/Tokyo" in client.get(
        f"/events/{full}").get_data(as_text=True)


def test_a_japanese_name_gives_a_dated_slug_and_the_form_says_one_can_be_typed(
    client, logged_in, db_session, monkeypatch
) -> None:
    monkeypatch.setattr(event_setup, "utcnow", lambda: datetime(2026, 11, 5, 3, tzinfo=UTC))
    client.post("/language", data={"lang": "en"})
    form = client.get("/events/new").get_data(as_text=True)
    assert "type a short name in Latin letters, such as shizuoka-2027" in form
    event_id = _create_event(client, name="令和7年度 しずおか ものづくり受発注商談会")
    assert db_session.get(Event, event_id).slug == "fair-2025"  # 令和7年度
    again = _create_event(client, name="令和7年度 しずおか ものづくり受発注商談会")
    assert db_session.get(Event, again).slug == "fair-2025-2"
    undated = _create_event(client, name="しずおか ものづくり受発注商談会")
    assert db_session.get(Event, undated).slug == "fair-2026-11"  # the month it was made
