"""What the set-up pages say before it matters: a venue without tables, deletes asked
first, dates written as the reader reads them, phases switched before their start."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from scheduler import event_setup
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.event_setup import DayPlan
from scheduler.models import Event, ScheduleRun, Table

NO_TABLES = "The venue has no tables: the number of meetings at once is not limited"


@pytest.fixture
def fair(db_session: Session) -> Event:
    """A small demo fair whose tables were removed (the solver's ``solved`` fixture)."""
    event = generate_demo(db_session, seed=9, buyers=3, suppliers=8)
    db_session.flush()
    db_session.execute(delete(Table).where(Table.event_id == event.id))
    db_session.commit()
    db_session.expire_all()
    return event


@pytest.fixture
def english(client: FlaskClient, logged_in) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _text(page: str) -> str:
    return html.unescape(page)


def _question(form_tag: str) -> str:
    """The question a delete form's ``onsubmit`` asks (a JSON string in the attribute)."""
    match = re.search(r"return confirm\((.*)\)", _text(form_tag))
    assert match, form_tag
    return json.loads(match.group(1))


def test_a_venue_without_tables_is_said_before_running_and_publishing(
    client, english, db_session: Session, fair: Event, solved: ScheduleRun
) -> None:
    overview = _text(client.get(f"/events/{fair.id}").get_data(as_text=True))
    assert NO_TABLES in overview and "“Table to be announced”" in overview
    runs_page = _text(client.get(f"/events/{fair.id}/schedule/").get_data(as_text=True))
    assert NO_TABLES in runs_page
    # The run made without tables says so where it is published; nothing is refused.
    review = _text(
        client.get(f"/events/{fair.id}/schedule/runs/{solved.id}").get_data(as_text=True)
    )
    assert "This run was made without tables" in review and 'id="publish"' in review
    # With tables, not a word.
    room = db_session.get(Event, fair.id).rooms[0]  # its rooms are kept, empty
    event_setup.add_tables(db_session, room, "A01-A03")
    db_session.commit()
    assert NO_TABLES not in _text(client.get(f"/events/{fair.id}").get_data(as_text=True))
    assert NO_TABLES not in _text(
        client.get(f"/events/{fair.id}/schedule/").get_data(as_text=True)
    )


def _event_with_a_day(session: Session) -> Event:
    event = event_setup.create_event(session, name="Fair")
    event_setup.save_day(session, event, DayPlan(date(2027, 2, 10), time(10), time(11), 25, 5))
    room = event_setup.add_room(session, event, "大会議室")
    event_setup.add_tables(session, room, "A01")
    session.commit()
    return event


def test_slot_and_table_deletes_are_asked_first_as_room_deletes_are(
    client, english, db_session: Session
) -> None:
    event = _event_with_a_day(db_session)
    days = client.get(f"/events/{event.id}/days").get_data(as_text=True)
    slot_form = re.search(r'<form[^>]*action="[^"]*/slots/\d+/delete"[^>]*>', days)
    assert slot_form and _question(slot_form.group(0)) == "Delete the slot 10:00–10:25?"
    rooms = client.get(f"/events/{event.id}/rooms").get_data(as_text=True)
    table_form = re.search(r'<form[^>]*action="[^"]*/tables/\d+/delete"[^>]*>', rooms)
    assert table_form and _question(table_form.group(0)) == "Delete the table A01?"


def test_the_days_page_writes_dates_as_the_availability_page_does(
    client, logged_in, db_session: Session
) -> None:
    event = _event_with_a_day(db_session)
    japanese = client.get(f"/events/{event.id}/days").get_data(as_text=True)
    assert "<h2>2027年2月10日水曜日</h2>" in japanese
    client.post("/language", data={"lang": "en"})
    english = client.get(f"/events/{event.id}/days").get_data(as_text=True)
    assert "<h2>Wednesday, February 10, 2027</h2>" in english


def _local_input(event: Event, moment: datetime) -> str:
    return f"{event.local(moment):%Y-%m-%dT%H:%M}"


def test_switching_to_a_phase_before_its_start_is_saved_with_a_warning(
    client, english, db_session: Session
) -> None:
    event = event_setup.create_event(db_session, name="Fair")
    db_session.commit()
    page = f"/events/{event.id}/phases"
    hint = client.get(page).get_data(as_text=True)
    assert "The current phase changes only when you change it here" in hint
    soon = utcnow() + timedelta(days=3)
    later = soon + timedelta(days=10)
    typed = {
        "phase": "preferences",
        "preferences_opens": _local_input(event, soon),
        "preferences_closes": _local_input(event, later),
    }
    saved = client.post(page, data=typed, follow_redirects=True)
    body = _text(saved.get_data(as_text=True))
    assert "Preferences is now the current phase, before its set start" in body
    db_session.expire_all()
    assert db_session.get(Event, event.id).phase == "preferences"
    # Back to registration before its start: self-registration waits for it.
    back = client.post(
        page,
        data={"phase": "registration", "registration_opens": _local_input(event, soon)},
        follow_redirects=True,
    )
    assert "companies can register themselves only from" in _text(back.get_data(as_text=True))
    # A phase whose start has passed (or that has none) is switched to without a word.
    quiet = client.post(page, data={"phase": "scheduling"}, follow_redirects=True)
    assert "before its set start" not in _text(quiet.get_data(as_text=True))
