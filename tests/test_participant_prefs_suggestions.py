"""Suggestions that have asked the viewer first: marked, with the way to answer them."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import preferences, suggestions
from scheduler.models import Phase
from tests.participant_fair import make_fair, read_in_english

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


def _p(participant, path: str) -> str:
    return f"/p/{participant.access_token}{path}"


def _card(page: str, key: str) -> str:
    start = page.index(f'id="sugg-{key}"')
    return page[start:page.index("</li>", start)]


def test_a_supplier_waiting_for_the_buyers_answer_is_marked_in_its_suggestion(
    db_session: Session, fair
) -> None:
    [group] = suggestions.suggestions_by_need(db_session, fair.buyer)
    [fit] = [s for s in group.suggestions if s.counterpart.id == fair.supplier.id]
    assert fit.asks_you is None
    request = preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    [group] = suggestions.suggestions_by_need(db_session, fair.buyer)
    [fit] = [s for s in group.suggestions if s.counterpart.id == fair.supplier.id]
    assert fit.asks_you is request
    # Once answered, the supplier is no longer suggested.
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=True, level=2)
    found = suggestions.suggestions_for(db_session, fair.buyer)
    assert fair.supplier.id not in [s.counterpart.id for s in found]


def test_a_buyer_waiting_for_the_suppliers_answer_is_marked_too(
    db_session: Session, fair
) -> None:
    request = preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=2)
    [fit] = suggestions.suggestions_for(db_session, fair.supplier)
    assert fit.counterpart.id == fair.buyer.id and fit.asks_you is request


def test_the_card_asks_the_buyer_to_answer_instead_of_requesting(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    db_session.commit()
    card = _card(client.get(_p(fair.buyer, "/suggestions")).get_data(as_text=True),
                 f"{fair.need.id}-{fair.supplier.id}")
    assert "Already asked to meet you" in card
    assert f'{_p(fair.buyer, "/incoming")}#req-{fair.supplier.id}"' in card
    assert "Answer the request" in card
    assert "/request" not in card  # a request of its own would cost one under the cap


def test_without_screening_the_card_marks_them_and_keeps_the_request_button(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    fair.event.screening_enabled = False
    db_session.commit()
    card = _card(client.get(_p(fair.buyer, "/suggestions")).get_data(as_text=True),
                 f"{fair.need.id}-{fair.supplier.id}")
    # Requests received are not shown with screening off: no mark gives one away.
    assert "Already asked to meet you" not in card and "Answer the request" not in card
    assert f"/suggestions/{fair.supplier.id}/request" in card


def test_a_pending_proposal_sheet_leads_to_its_screening(
    client: FlaskClient, db_session: Session, fair
) -> None:
    client.post(
        _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"),
        data={"offer": "一体削り出し", "level": "3",
              "attachment": (io.BytesIO(PDF), "会社案内.pdf")},
        content_type="multipart/form-data",
    )
    card = _card(client.get(_p(fair.buyer, "/suggestions")).get_data(as_text=True),
                 f"{fair.need.id}-{fair.supplier.id}")
    assert "Already asked to meet you" in card and "Screen the proposal sheet" in card
    assert f'href="{_p(fair.buyer, "/proposals")}"' in card
    assert "/request" not in card
