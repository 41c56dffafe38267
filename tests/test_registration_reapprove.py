"""A declined registration can be approved after all (the company cannot register again by
itself): listed on the registrations page, offered on its access page, approved exactly
as a waiting one is. And the decline's confirmation says what declining really does."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import registration
from scheduler.models import AuditEntry, Participant, ParticipantStatus, User
from tests.conftest import AuthActions
from tests.participant_fair import Fair, make_fair, read_in_english


@pytest.fixture
def fair(db_session: Session) -> Fair:
    fair = make_fair(db_session)
    db_session.commit()
    return fair


@pytest.fixture
def english(client: FlaskClient) -> None:
    read_in_english(client)


def _register(session: Session, fair: Fair, company: str = "新星ファクトリー") -> Participant:
    participant = registration.self_register(
        session, fair.event,
        registration.RegistrationData(
            company=company, role="supplier", contact_name="新星 一郎",
            email="ichiro@shinsei.example.jp",
        ),
    )
    session.commit()
    return participant


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _url(fair: Fair, participant: Participant, action: str) -> str:
    return f"/events/{fair.event.id}/registrations/{participant.id}/{action}"


def test_declined_registrations_are_listed_apart_and_can_be_approved_after_all(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User, english: None
) -> None:
    declined = _register(db_session, fair)
    waiting = _register(db_session, fair, company="待機工業")
    said = client.post(_url(fair, declined, "reject"), data={"reason": "業種が対象外"},
                       follow_redirects=True)
    assert "was declined" in _text(said)
    queue = _text(client.get(f"/events/{fair.event.id}/registrations"))
    to_approve, apart = queue.split('data-test="declined"')
    assert "待機工業" in to_approve and "新星ファクトリー" not in to_approve
    # A section of its own, closed until opened: the queue is what needs doing.
    assert re.search(r'<details class="card" id="declined"\s*$', to_approve)
    assert "Declined registrations (1)" in apart and "新星ファクトリー" in apart
    assert "業種が対象外" in apart and logged_in.name in apart
    assert f'action="{_url(fair, declined, "approve")}"' in apart
    assert "Approve after all" in apart

    response = client.post(_url(fair, declined, "approve"), follow_redirects=True)
    page = _text(response)
    db_session.expire_all()
    # Exactly as a waiting registration: its code, its link shown and working.
    assert declined.status == ParticipantStatus.APPROVED and declined.code == "S003"
    assert declined.access_token in page and "is approved" in page
    assert client.get(f"/p/{declined.access_token}/").status_code == 200
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.participant_id == declined.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["participant.self_register", "participant.reject", "participant.approve"]
    queue = _text(client.get(f"/events/{fair.event.id}/registrations"))
    assert 'data-test="declined"' not in queue and waiting.organization.name in queue


def test_the_access_page_of_a_declined_registration_approves_it_and_e_mails_the_link(
    app: Flask, client: FlaskClient, db_session: Session, fair: Fair, logged_in: User,
    english: None, smtp_server,
) -> None:
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    participant = _register(db_session, fair)
    client.post(_url(fair, participant, "reject"), data={"reason": "定員超過"})
    access = f"/events/{fair.event.id}/participants/{participant.id}/access"
    page = _text(client.get(access))
    assert "Status: Not approved." in page
    card = page.split('data-test="approve-after-all"')[1].split("</section>")[0]
    assert "定員超過" in card and "Approve after all" in card
    assert f'method="post" action="{_url(fair, participant, "approve")}"' in card
    assert 'name="csrf_token"' in card

    done = _text(client.post(_url(fair, participant, "approve"), follow_redirects=True))
    assert "1 participant was e-mailed." in done
    (message,) = inbox.messages
    assert message["To"] == "ichiro@shinsei.example.jp"
    assert f"/p/{participant.access_token}/" in message.get_payload(decode=True).decode()
    assert 'data-test="approve-after-all"' not in done


def test_the_access_page_of_a_waiting_registration_leads_to_the_registrations_page(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User, english: None
) -> None:
    participant = _register(db_session, fair)
    page = _text(client.get(f"/events/{fair.event.id}/participants/{participant.id}/access"))
    assert f'href="/events/{fair.event.id}/registrations"' in page
    assert 'data-test="approve-after-all"' not in page and 'data-test="withdrawal"' not in page


def test_declining_says_no_link_is_sent_instead_of_closing_a_link(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User, english: None
) -> None:
    """A waiting registration was never sent a link: declining closes none."""
    _register(db_session, fair)
    queue = client.get(f"/events/{fair.event.id}/registrations").get_data(as_text=True)
    confirm = re.search(r'onsubmit="return confirm\(([^"]*)\)"', queue)
    assert confirm is not None
    assert "No link is sent" in confirm[1] and "cannot register for this event again" in confirm[1]
    assert "will not open" not in confirm[1]


def test_only_an_organizer_approves_a_declined_registration(
    client: FlaskClient, db_session: Session, fair: Fair, staff: User, auth: AuthActions
) -> None:
    participant = _register(db_session, fair)
    registration.reject(db_session, participant, user_id=None)
    db_session.commit()
    assert auth.login("staff@example.jp").status_code == 302
    assert client.post(_url(fair, participant, "approve")).status_code == 403
    db_session.expire_all()
    assert participant.status == ParticipantStatus.REJECTED
