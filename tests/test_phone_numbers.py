"""Phone numbers are stored in one spelling wherever they are entered (self-registration,
the organizer's participant form, an import, a walk-in at the desk): half-width digits,
the dashes between them hyphens, and otherwise as typed (spaces, 内線)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import day_operations, registration
from scheduler.models import Event, Participant, Phase, User
from scheduler.participant_import import phone_as_typed, validate_entry
from tests.participant_fair import make_fair, read_in_english

QA_TYPED = "０５３－１２３－４５６７"  # the QA tester's, typed on a phone's Japanese keyboard
STORED = "053-123-4567"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (QA_TYPED, STORED),
        ("０５３ー１２３ー４５６７", STORED),  # 長音 "ー", as a Japanese IME gives "-"
        ("053ｰ123ｰ4567", STORED),  # half-width katakana "ｰ"
        ("053―123‐4567", STORED),  # horizontal bar, Unicode hyphen
        ("053−123–4567", STORED),  # minus sign, en dash
        ("（０５３）１２３－４５６７", "(053)123-4567"),
        ("０５３ー１２３ー４５６７　内線　１２", "053-123-4567 内線 12"),  # 内線 kept
        ("03 ー 1234 ー 5678", "03 - 1234 - 5678"),  # spaces kept as typed
        ("  055-000-0000 ", "055-000-0000"),
        ("＋８１－５３－１２３－４５６７", "+81-53-123-4567"),
        ("ー", "ー"),  # not between digits: not a phone number's hyphen, left for a person
        ("", ""),
    ],
)
def test_a_phone_number_as_stored(typed: str, stored: str) -> None:
    assert phone_as_typed(typed) == stored


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


def test_self_registration_stores_the_half_width_number(
    client: FlaskClient, db_session: Session
) -> None:
    fair = make_fair(db_session, phase=Phase.REGISTRATION)
    db_session.commit()
    response = client.post(f"/e/{fair.event.slug}/register", data={
        "company": "新星ファクトリー", "role": "supplier", "contact_name": "新星 一郎",
        "email": "ichiro@shinsei.example.jp", "prefecture": "",
        "phone": "０５３ー１２３ー４５６７　内線　１２",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    participant = db_session.scalars(
        select(Participant).where(Participant.registered_via == "self")).one()
    assert registration.contact_person(participant).phone == "053-123-4567 内線 12"
    # The service stores it so for other callers than the form too.
    again = registration.self_register(
        db_session, make_fair(db_session, slug="next", phase=Phase.REGISTRATION).event,
        registration.RegistrationData(company="新星ファクトリー", role="supplier",
                                      contact_name="新星 一郎", phone=QA_TYPED,
                                      email="ichiro@shinsei.example.jp"))
    assert registration.contact_person(again).phone == STORED


def test_the_organizers_form_stores_the_half_width_number_without_a_warning(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    response = client.post(f"/events/{event.id}/participants/new", data={
        "company": "株式会社山田製作所", "role": "supplier", "contact_name": "山田 太郎",
        "email": "taro@yamada.example.jp", "phone": "０５３ー１２３ー４５６７", "desks": "1",
    }, follow_redirects=True)
    assert response.status_code == 200
    assert "does not look like a phone number" not in response.get_data(as_text=True)
    participant = db_session.scalars(select(Participant)).one()
    assert registration.contact_person(participant).phone == STORED


def test_an_imported_phone_cell_is_stored_half_width() -> None:
    entry, errors, notes = validate_entry({
        "company": "株式会社山田製作所", "role": "サプライヤー", "phone": "０５３―１２３‐４５６７",
    })
    assert not errors and not notes
    assert entry.phone == STORED


def test_a_walk_in_at_the_desk_stores_the_half_width_number(
    db_session: Session, logged_in: User
) -> None:
    fair = make_fair(db_session, phase=Phase.ON_THE_DAY)
    walk_in = day_operations.register_walk_in(
        db_session, fair.event, company="株式会社 飛込精機", role="supplier",
        contact_name="飛込 一郎", phone=QA_TYPED, user_id=logged_in.id)
    assert registration.contact_person(walk_in).phone == STORED
