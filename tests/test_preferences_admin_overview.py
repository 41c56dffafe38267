"""The organizer's preferences overview: reminding those who have stated no preference
yet, and the proposal sheets still shown when the settings come back with a mistake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import notifications, preferences, proposals
from scheduler.db import utcnow
from scheduler.models import AuditEntry, Phase, PhaseDeadline
from tests.participant_fair import make_fair, read_in_english

# A Tuesday, 17:00 in Tokyo: far enough ahead to stay before the deadline.
CLOSES_AT = datetime(2099, 6, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.add(PhaseDeadline(event=fair.event, phase=Phase.PREFERENCES, closes_at=CLOSES_AT))
    db_session.commit()
    return fair


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


def _base(fair) -> str:
    return f"/events/{fair.event.id}/preferences"


def _text(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_payload(decode=True).decode("utf-8")


# --------------------------------------------------------------------------- 4: reminders


def test_the_deadline_reads_in_each_language_in_the_events_time_zone(fair) -> None:
    assert notifications.deadline_text(fair.event, CLOSES_AT, "ja") == "2099年6月30日（火）17:00"
    assert (notifications.deadline_text(fair.event, CLOSES_AT, "en")
            == "Tuesday 30 June 2099, 17:00 JST")


def test_reminders_go_to_those_without_preferences_with_their_own_link_and_the_deadline(
    app: Flask, client: FlaskClient, db_session: Session, fair, logged_in, smtp_server
) -> None:
    # The supplier asked for the buyer; the buyer only received it and is still idle.
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    fair.other_buyer.locale = "en"
    for attendance in fair.other_supplier.attendances:  # nobody to write to
        attendance.person.email = ""
    db_session.commit()

    # Without a mail server the button is there but says why it cannot work.
    page = client.get(_base(fair)).get_data(as_text=True)
    assert "Remind 3 participants by e-mail to state preferences" in page
    assert "reminders cannot be e-mailed" in page
    response = client.post(f"{_base(fair)}/remind", follow_redirects=True)
    assert "participants were not e-mailed" in response.get_data(as_text=True)
    assert db_session.scalar(
        select(AuditEntry).where(AuditEntry.action == "preference.remind")) is None

    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    response = client.post(f"{_base(fair)}/remind", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "2 participants were e-mailed." in body
    assert "No e-mail address for: 山田板金有限会社." in body
    assert "Last reminder to state preferences:" in body
    by_recipient = {m["To"]: m for m in inbox.messages}
    assert set(by_recipient) == {"buyer@example.jp", "b2@example.jp"}

    japanese = by_recipient["buyer@example.jp"]
    assert str(make_header(decode_header(japanese["Subject"]))) == (
        "【テスト商談会】商談希望のご登録のお願い")
    text = _text(japanese)
    assert f"/p/{fair.buyer.access_token}/requests" in text
    assert "登録の締切は 2099年6月30日（火）17:00 です。" in text
    english = _text(by_recipient["b2@example.jp"])
    assert f"/p/{fair.other_buyer.access_token}/requests" in english
    assert "The deadline is Tuesday 30 June 2099, 17:00 JST." in english
    assert fair.supplier.access_token not in text + english  # it asked for someone

    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "preference.remind")).one()
    assert entry.user_id == logged_in.id
    assert entry.details == {"sent": 2, "failed": 0, "without_email": 1}

    # A second click (or a second organizer) within half an hour sends nothing.
    again = client.post(f"{_base(fair)}/remind", follow_redirects=True)
    assert "A reminder to state preferences went out at" in again.get_data(as_text=True)
    assert len(inbox.messages) == 2


def test_without_a_deadline_the_reminder_asks_to_choose_soon(
    app: Flask, client: FlaskClient, db_session: Session, fair, logged_in, smtp_server
) -> None:
    for deadline in fair.event.phases:
        deadline.closes_at = None
    db_session.commit()
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    assert "Each gets its own link to its requests page." in client.get(
        _base(fair)).get_data(as_text=True)
    client.post(f"{_base(fair)}/remind")
    assert len(inbox.messages) == 4
    assert all("お早めにご登録ください。" in _text(m) for m in inbox.messages)


@pytest.mark.parametrize("closed", ["deadline", "phase"])
def test_no_reminder_once_requests_are_closed(
    app: Flask, client: FlaskClient, db_session: Session, fair, logged_in, smtp_server,
    closed: str,
) -> None:
    if closed == "deadline":
        fair.event.phases[0].closes_at = utcnow() - timedelta(minutes=1)
    else:
        fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    assert "/remind" not in client.get(_base(fair)).get_data(as_text=True)
    response = client.post(f"{_base(fair)}/remind", follow_redirects=True)
    assert "Reminders can be sent only while participants can make requests" in (
        response.get_data(as_text=True))
    assert inbox.messages == []


def test_nobody_to_remind_when_everybody_took_part(
    app: Flask, client: FlaskClient, db_session: Session, fair, logged_in, smtp_server
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.request_meeting(db_session, fair.other_supplier, fair.other_buyer.id, level=2)
    preferences.request_meeting(db_session, fair.buyer, fair.other_supplier.id, level=2)
    preferences.request_meeting(db_session, fair.other_buyer, fair.supplier.id, level=2)
    db_session.commit()
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    assert "/remind" not in client.get(_base(fair)).get_data(as_text=True)
    response = client.post(f"{_base(fair)}/remind", follow_redirects=True)
    assert "Everybody has asked for someone" in response.get_data(as_text=True)
    assert inbox.messages == []


def test_only_organizers_send_reminders(
    client: FlaskClient, auth, staff, db_session: Session, fair
) -> None:
    auth.login("staff@example.jp")
    assert client.post(f"{_base(fair)}/remind").status_code == 403
    assert db_session.scalar(select(AuditEntry).where(
        AuditEntry.action == "preference.remind")) is None


# --------------------------------------------------------------------------- 5: sheets


def test_settings_with_a_mistake_still_show_the_proposal_sheets(
    app: Flask, client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    proposals.submit_proposal(
        db_session, fair.supplier, fair.need.id, proposals.ProposalData(offer="提案"),
        proposals.Attachment("sheet.pdf", b"%PDF-1.7\n%%EOF\n"),
        uploads_dir=Path(app.config["INSTANCE_UPLOADS"]),
    )
    db_session.commit()
    response = client.post(f"{_base(fair)}/settings", data={"max_requests": "-3"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="-3"' in body and "has-error" in body  # what was typed, at the field
    assert "Proposal sheets" in body and "sheet.pdf" in body and "アルミ筐体の試作" in body
