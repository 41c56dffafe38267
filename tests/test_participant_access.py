"""Secret links: who gets in, who does not, and how guessing is slowed down."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.models import ParticipantStatus
from tests.participant_fair import make_fair


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session)
    db_session.commit()
    return fair


def test_home_opens_with_the_secret_link(client: FlaskClient, fair) -> None:
    response = client.get(f"/p/{fair.supplier.access_token}/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "ＡＢＣ精工株式会社" in page
    assert "テスト商談会" in page


def test_unknown_token_is_404(client: FlaskClient, fair) -> None:
    assert client.get("/p/" + "x" * 43 + "/").status_code == 404
    assert client.get("/p/short/").status_code == 404


@pytest.mark.parametrize("status", [ParticipantStatus.REJECTED, ParticipantStatus.WITHDRAWN])
def test_rejected_or_withdrawn_participant_is_refused(
    client: FlaskClient, db_session: Session, fair, status: str
) -> None:
    fair.supplier.status = status
    db_session.commit()
    assert client.get(f"/p/{fair.supplier.access_token}/").status_code == 404


def test_many_bad_tokens_from_one_address_get_429(app: Flask, client: FlaskClient, fair) -> None:
    limit = int(app.config["PARTICIPANT_BAD_TOKEN_LIMIT"].split("/")[0])
    for i in range(limit):
        assert client.get(f"/p/guess{i:040d}/").status_code == 404
    assert client.get("/p/" + "y" * 43 + "/").status_code == 429
    # Once an address is over the limit even a valid link waits: nothing to learn by probing.
    assert client.get(f"/p/{fair.supplier.access_token}/").status_code == 429
    # Another address is not affected.
    other = client.get(
        f"/p/{fair.supplier.access_token}/", environ_overrides={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 200
