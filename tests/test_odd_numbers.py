"""Ids typed or tampered into addresses and forms: "²" (a digit to ``str.isdigit``, not
to ``int``) and numbers beyond 64 bits get the usual 400/404, never a 500."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Event, Participant, Table
from tests.conftest import AuthActions
from tests.published_fair import published_fair
from web.ids import MAX_ID, parse_id

HUGE = "99999999999999999999999"


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def someone(db_session: Session, fair: Event) -> Participant:
    return db_session.scalars(select(Participant).where(Participant.event_id == fair.id)).first()


def test_parse_id_takes_ascii_ids_a_column_can_hold() -> None:
    assert parse_id("42") == 42 and parse_id(" 7 ") == 7
    assert parse_id(str(MAX_ID)) == MAX_ID
    for raw in ("²", "١٢", "4²", "", "-3", "3.0", HUGE, str(MAX_ID + 1), None, 5):
        assert parse_id(raw) is None, raw
    assert parse_id("-3", signed=True) == -3


@pytest.mark.parametrize("odd", ["²", HUGE])
def test_staff_and_organizer_forms_refuse_odd_ids_without_a_500(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    organizer,
    db_session: Session,
    fair: Event,
    someone: Participant,
    odd: str,
) -> None:
    app.config["TEST_ERROR_PAGES"] = True
    assert auth.login().status_code == 302
    table = db_session.scalars(select(Table).where(Table.event_id == fair.id)).first()
    requests = [
        ("POST", f"/events/{fair.id}/day/meetings/change", {"op": "cancel", "meeting": odd}),
        ("GET", f"/events/{fair.id}/day/participants/{someone.id}?change={odd}", None),
        ("POST", f"/events/{fair.id}/day/participants/{someone.id}/check-in", {"person_id": odd}),
        ("POST", f"/events/{fair.id}/tables/{table.id}/host", {"host": odd}),
        ("GET", f"/events/{fair.id}/preferences/participants/{someone.id}?counterpart={odd}", None),
        ("GET", f"/events/{fair.id}/print/sheets.pdf?participant={odd}", None),
        ("GET", f"/events/{HUGE}/participants", None),
        ("GET", f"/events/{fair.id}/participants/{HUGE}/access", None),
    ]
    for method, url, data in requests:
        status = client.open(url, method=method, data=data).status_code
        assert status < 500, (method, url, status)


def test_participant_addresses_with_huge_ids_are_404(
    app: Flask, client: FlaskClient, someone: Participant
) -> None:
    app.config["TEST_ERROR_PAGES"] = True
    for path in ("directory", "request", "outcomes"):
        response = client.get(f"/p/{someone.access_token}/{path}/{HUGE}")
        assert response.status_code == 404, path


def test_codes_and_keys_with_non_ascii_digits_are_not_numbers(db_session) -> None:
    """``str.isdigit`` accepts "²" and "١", which ``int`` refuses: a participant code like
    "S²" made every walk-in's new code a 500, and a slot key "s²" a 500 instead of a 404."""
    from scheduler import pair_rules
    from scheduler.demo import generate_demo
    from scheduler.errors import NotFound
    from scheduler.models import ParticipantRole
    from scheduler.participant_import import next_participant_code

    event = generate_demo(db_session, seed=3, buyers=2, suppliers=4)
    supplier = next(p for p in event.participants if p.role == ParticipantRole.SUPPLIER)
    supplier.code = "S²"
    db_session.flush()
    code = next_participant_code(db_session, event, ParticipantRole.SUPPLIER)
    assert code.startswith("S") and code[1:].isascii() and code[1:].isdigit()
    for key in ("s²", "s١", "x1", "s"):
        with pytest.raises(NotFound):
            pair_rules._slot(db_session, event, key)
