"""Small screen-reader fixes across the pages: the staff slot list changes only on its
button, past meetings say so, the copy is said, the current phase is marked, the radio
group says it is required, the slips page has a heading, and titles name the event."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.models import Event, Phase, User
from tests.conftest import AuthActions
from tests.day_fair import Clock, participant
from tests.participant_fair import make_fair, read_in_english
from tests.published_fair import published_fair


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- the fair day


@pytest.fixture
def day_fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(monkeypatch)
    monkeypatch.setattr("web.staff.utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def as_staff(client: FlaskClient, auth: AuthActions, staff: User) -> User:
    assert auth.login("staff@example.jp").status_code == 302
    read_in_english(client)
    return staff


def test_the_slot_list_changes_only_on_its_button(
    client: FlaskClient, day_fair: Event, as_staff: User, clock: Clock
) -> None:
    page = _text(client.get(f"/events/{day_fair.id}/day/meetings"))
    form = re.search(r'<form method="get" class="day-search-row">.*?</form>', page, re.S)
    assert form is not None
    assert "onchange" not in form[0] and "noscript" not in form[0]
    assert re.search(r'<button class="btn" type="submit">Show</button>', form[0])
    later = day_fair.slots[-1]
    chosen = _text(client.get(f"/events/{day_fair.id}/day/meetings?slot={later.id}"))
    assert re.search(rf'<option value="{later.id}" selected>', chosen)


def test_past_meetings_on_the_card_say_they_are_over(
    client: FlaskClient, db_session: Session, day_fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(12, 0)
    b001 = participant(db_session, day_fair, "B001")
    page = _text(client.get(f"/events/{day_fair.id}/day/participants/{b001.id}"))
    items = re.findall(r'<li class="day-meeting[^"]*">.*?</li>', page, re.S)
    assert items
    past = [item for item in items if "is-past" in item]
    assert past and len(past) < len(items)
    for item in items:
        said = '<span class="badge" data-test="past">past</span>' in item
        assert said == ("is-past" in item)


# --------------------------------------------------------------------------- organizer pages


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


def test_the_copy_is_said_and_the_slips_have_a_heading(
    client: FlaskClient, logged_in: User, fair
) -> None:
    event_id, buyer = fair.event.id, fair.buyer
    page = _text(client.get(f"/events/{event_id}/participants/{buyer.id}/access"))
    status = re.search(r'<span [^>]*id="copy-status"[^>]*>', page)
    assert status is not None and 'role="status"' in status[0]
    assert 'class="visually-hidden"' in status[0]
    assert 'data-copied="#copy-status"' in page
    slips = _text(client.get(f"/events/{event_id}/access/slips"))
    heading = re.search(r"<h1\b[^>]*>(.*?)</h1>", slips, re.S)
    assert heading is not None and "Link slips" in heading[1]


def _current_phase(page: str) -> list[str]:
    return re.findall(r'<li class="current"[^>]*>.*?</li>', page, re.S)


def test_the_current_phase_is_marked_in_words(
    client: FlaskClient, db_session: Session, logged_in: User, fair
) -> None:
    from datetime import timedelta

    from scheduler.db import utcnow
    from scheduler.models import PhaseDeadline

    start = utcnow()
    for number, phase in enumerate((Phase.REGISTRATION, Phase.PREFERENCES, Phase.SCHEDULING)):
        fair.event.phases.append(
            PhaseDeadline(
                phase=phase,
                opens_at=start + timedelta(days=number),
                closes_at=start + timedelta(days=number + 1),
            )
        )
    db_session.commit()
    for page in (
        _text(client.get(f"/events/{fair.event.id}")),
        _text(client.get(f"/p/{fair.buyer.access_token}/")),
    ):
        (current,) = _current_phase(page)
        assert 'aria-current="step"' in current
        assert '<span class="visually-hidden"> (current)</span>' in current
        assert page.count('aria-current="step"') == 1


def test_the_role_group_says_it_is_required(db_session: Session, client: FlaskClient) -> None:
    fair = make_fair(db_session, slug="open-fair")
    db_session.commit()
    page = _text(client.get(f"/e/{fair.event.slug}/register"))
    group = re.search(r'<fieldset class="field"[^>]*>', page)
    assert group is not None
    assert 'role="radiogroup"' in group[0] and 'aria-required="true"' in group[0]


# --------------------------------------------------------------------------- titles


def _title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found is not None
    return found[1]


def test_participant_page_titles_name_the_event(client: FlaskClient, fair) -> None:
    buyer, supplier = fair.buyer.access_token, fair.supplier.access_token
    pages = [
        f"/p/{buyer}/profile",
        f"/p/{buyer}/needs/new",
        f"/p/{buyer}/availability",
        f"/p/{buyer}/requests",
        f"/p/{buyer}/request/{fair.supplier.id}",
        f"/p/{buyer}/suggestions",
        f"/p/{buyer}/incoming",
        f"/p/{buyer}/proposals",
        f"/p/{supplier}/buyer-needs",
        f"/p/{supplier}/buyer-needs/{fair.need.id}/apply",
    ]
    for path in pages:
        title = _title(_text(client.get(path)))
        assert re.fullmatch(r".+ · テスト商談会 · matchfair", title), (path, title)


def test_organizer_page_titles_name_the_event(client: FlaskClient, logged_in: User, fair) -> None:
    for path in (f"/events/{fair.event.id}/board", f"/events/{fair.event.id}/edit"):
        title = _title(_text(client.get(path)))
        assert re.fullmatch(r".+ · テスト商談会 · matchfair", title), (path, title)
    assert _title(_text(client.get("/events/new"))) == "New event · matchfair"
