"""The copy form sent twice (a double click, Back and resend, two tabs) makes one copy."""

from __future__ import annotations

import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from scheduler import event_copy, event_setup
from scheduler.db import utcnow
from scheduler.models import AuditEntry, Event
from tests.races import race

TODAY = utcnow().date()
SOURCE_DAY = date(TODAY.year + 1, 10, 7)


@pytest.fixture
def english(client, logged_in):
    """The organizer, logged in, reading the pages in English (the messages checked)."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    return logged_in


@pytest.fixture
def source(db_session) -> Event:
    event = event_setup.create_event(
        db_session,
        name=f"ものづくり商談会 {SOURCE_DAY.year} 秋",
        slug=f"monozukuri-{SOURCE_DAY.year}",
    )
    event_setup.save_day(
        db_session,
        event,
        event_setup.DayPlan(date=SOURCE_DAY, start=time(10, 0), end=time(12, 0)),
    )
    db_session.commit()
    return event


def _form(client, event_id: int) -> dict[str, str]:
    """What the copy form, freshly opened, would send (its suggestions, its one-time value)."""
    body = client.get(f"/events/{event_id}/copy").get_data(as_text=True)
    fields = {}
    for name in ("name", "slug", "first_day", "attempt"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', body) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', body
        )
        assert found is not None, name
        fields[name] = html.unescape(found.group(1))
    return fields | {"action": "copy"}


def _event_count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count(Event.id)))


def _event_id(response) -> int:
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


@pytest.mark.parametrize("slug", ["", "suggested"])
def test_the_same_form_sent_twice_leads_to_the_copy_it_made(
    client, english, db_session, source, slug
) -> None:
    data = _form(client, source.id)
    assert data["attempt"]
    if not slug:
        data["slug"] = ""  # the slug is then suggested at each sending
    first = client.post(f"/events/{source.id}/copy", data=data)
    assert first.status_code == 302
    copy_id = _event_id(first)

    again = client.post(f"/events/{source.id}/copy", data=data)

    assert again.status_code == 302 and _event_id(again) == copy_id
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    copy = db_session.get(Event, copy_id)
    assert f"{html.escape(copy.name)} was already created by this form" in page
    assert _event_count(db_session) == 2
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.event_id == copy_id))
    assert entry.details["attempt"] == data["attempt"]


def test_a_new_opening_of_the_form_makes_a_second_copy(client, english, db_session, source):
    """The one-time value is the form's: opened again, it copies again (a deliberate
    second copy, say for a spring fair too)."""
    data = _form(client, source.id)
    assert client.post(f"/events/{source.id}/copy", data=data | {"slug": ""}).status_code == 302
    other = _form(client, source.id)
    assert other["attempt"] != data["attempt"]
    second = client.post(
        f"/events/{source.id}/copy", data=other | {"slug": "", "name": "春の商談会"}
    )
    assert second.status_code == 302
    assert _event_count(db_session) == 3


def test_a_second_tab_is_told_that_the_copy_was_made(client, english, db_session, source):
    tab_a, tab_b = _form(client, source.id), _form(client, source.id)
    assert tab_a["slug"] == tab_b["slug"] and tab_a["attempt"] != tab_b["attempt"]
    made = client.post(f"/events/{source.id}/copy", data=tab_a)
    copy = db_session.get(Event, _event_id(made))

    response = client.post(f"/events/{source.id}/copy", data=tab_b)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Another event already uses &#39;{tab_b['slug']}&#39;" in body
    notice = body.split('id="copy-exists"')[1].split("</p>")[0]
    assert "a copy of this event, already has this short name" in notice
    assert f'href="/events/{copy.id}"' in notice
    assert _event_count(db_session) == 2


def test_a_taken_slug_of_another_event_gets_no_such_notice(client, english, db_session, source):
    event_setup.create_event(db_session, name="別の商談会", slug="taken-elsewhere")
    db_session.commit()
    data = _form(client, source.id) | {"slug": "taken-elsewhere"}
    body = client.post(f"/events/{source.id}/copy", data=data).get_data(as_text=True)
    assert "Another event already uses &#39;taken-elsewhere&#39;" in body
    assert 'id="copy-exists"' not in body


def test_two_sendings_at_the_same_moment_make_one_copy(db_session, factory, source) -> None:
    """Both sendings of a form, at once and each with a slug of its own suggested: the
    first takes the source's row, the second finds its copy once it may go on."""
    first_day = source.days[0].date + timedelta(days=364)
    made: list[int] = []
    found: list[int] = []

    def send(session) -> None:
        try:
            event = event_copy.copy_event(
                session,
                session.get(Event, source.id),
                name="ものづくり商談会 次回",
                slug="",
                first_day=first_day,
                attempt="same-form",
            )
        except event_copy.CopiedBefore as again:
            found.append(again.event.id)
            raise
        made.append(event.id)

    failures = race(factory, [send, send])

    assert [type(f) for f in failures] == [event_copy.CopiedBefore]
    assert len(made) == 1 and found == made
    assert _event_count(db_session) == 2
