"""An English-speaking participant's QA round: a sheet turned down after the buyer
accepted the supplier's request, the cap on the proposal-sheet form, attachment sizes
and the withdraw confirmation (the calendar links and the keywords' separator are
tested in test_calendars.py and test_profiles.py)."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import preferences
from scheduler.models import Phase, Proposal
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


def _get(client: FlaskClient, participant, path: str) -> str:
    response = client.get(_p(participant, path))
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _apply(client: FlaskClient, fair, attachment: bytes | None = None):
    data: dict[str, object] = {"offer": "一体削り出し", "level": "3"}
    if attachment is not None:
        data["attachment"] = (io.BytesIO(attachment), "catalogue.pdf")
    return client.post(_p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"), data=data,
                       content_type="multipart/form-data")


# ------------------------------------------------- a sheet turned down, the request accepted


def test_turning_down_a_sheet_leaves_the_accepted_request_and_its_note(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """QA: S001 requested B001 and applied to its need; B001 accepted the request at High
    ("Looking forward…"), then turned the sheet down. /incoming said "Your answer:
    Declined" beside the accept note, and S001's requests "Declined" beside "Their note:
    Looking forward…"."""
    client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"),
                data={"level": "3", "note": "About the housing"})
    assert _apply(client, fair).status_code == 302
    client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                data={"decision": "accept", "level": "3", "note": "Looking forward…"})
    sheet = db_session.scalars(select(Proposal)).one()

    # Before deciding, the sheet says where the pair stands and what turning it down does.
    screening = _get(client, fair.buyer, "/proposals")
    assert "Not decided" in screening
    assert ('You accepted the meeting request of <span lang="ja">ＡＢＣ精工株式会社</span> '
            "(High). Turning down this sheet does not change that.") in screening

    response = client.post(_p(fair.buyer, f"/proposals/{sheet.id}/decide"),
                           data={"decision": "decline", "note": "Not for this need"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The meeting with ＡＢＣ精工株式会社 still stands" in page
    assert 'badge err">Declined' in page  # the sheet itself

    incoming = _get(client, fair.buyer, "/incoming")
    assert "Accepted (High)" in incoming and "Looking forward…" in incoming
    assert "Declined" not in incoming
    mine = _get(client, fair.supplier, "/requests")
    assert 'badge ok">Accepted' in mine and "Looking forward…" in mine
    assert "Declined" not in mine
    needs = _get(client, fair.supplier, "/buyer-needs")
    assert 'badge err">Declined' in needs and "Not for this need" in needs
    db_session.expire_all()
    pair = {frozenset((p.a, p.b)) for p in preferences.requested_pairs(db_session, fair.event)}
    assert frozenset((fair.buyer.id, fair.supplier.id)) in pair


# --------------------------------------------------------------------------- the cap


def test_the_sheet_form_warns_of_the_cap_before_anything_is_typed(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.event.max_requests = 1
    db_session.commit()
    client.post(_p(fair.supplier, f"/request/{fair.other_buyer.id}"), data={"level": "2"})
    form = _get(client, fair.supplier, f"/buyer-needs/{fair.need.id}/apply")
    assert 'data-test="cap-reached"' in form
    assert form.index('data-test="cap-reached"') < form.index('name="offer"')
    assert "You have used all 1 of your requests" in form
    # The refusal stays.
    refused = _apply(client, fair)
    assert refused.status_code == 200
    assert "limit of 1 meeting requests" in refused.get_data(as_text=True)
    assert db_session.scalars(select(Proposal)).all() == []
    # A buyer already asked for costs nothing more: no warning, and the sheet is sent.
    client.post(_p(fair.supplier, f"/request/{fair.other_buyer.id}/withdraw"))
    client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"), data={"level": "2"})
    form = _get(client, fair.supplier, f"/buyer-needs/{fair.need.id}/apply")
    assert 'data-test="cap-reached"' not in form
    assert _apply(client, fair).status_code == 302


# --------------------------------------------------------------------------- small ones


@pytest.mark.parametrize(("size", "shown"), [(250, "(1 KB)"), (1024, "(1 KB)"),
                                             (10 * 1024, "(10 KB)")])
def test_a_small_attachment_is_not_listed_as_0_kb(
    client: FlaskClient, fair, size: int, shown: str
) -> None:
    content = PDF + b"%" * (size - len(PDF))
    assert _apply(client, fair, content).status_code == 302
    page = _get(client, fair.buyer, "/proposals")
    assert "catalogue.pdf" in page and shown in page and "(0 KB)" not in page


def test_the_withdraw_confirmation_names_the_note_only_when_there_is_one(
    client: FlaskClient, fair
) -> None:
    client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"), data={"level": "2"})
    page = _get(client, fair.supplier, "/requests")
    assert "Withdraw your meeting request to" in page
    assert "Your note to them is deleted too" not in page
    client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"),
                data={"level": "2", "note": "About the housing"})
    page = _get(client, fair.supplier, "/requests")
    assert "Your note to them is deleted too" in page
