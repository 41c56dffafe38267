"""The organizer's participant page: changing a request on a company's behalf keeps its
note, line breaks count once, requests received are answered for it, and the requests
table asks before withdrawing and keeps its buttons whole beside a long note."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import preferences
from scheduler.models import AuditEntry, Interest, Phase
from tests.participant_fair import make_fair, read_in_english


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


def _page(fair, participant) -> str:
    return f"/events/{fair.event.id}/preferences/participants/{participant.id}"


def _interest(db_session: Session, a, b) -> Interest | None:
    db_session.expire_all()
    return preferences.interest_between(db_session, a.id, b.id)


# --------------------------------------------------------------------------- 1: the note stays


def test_each_request_links_to_a_form_preset_with_its_level_and_note(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1,
                                note="筐体の試作について")
    db_session.commit()
    page = client.get(_page(fair, fair.supplier)).get_data(as_text=True)
    change = f"{_page(fair, fair.supplier)}?counterpart={fair.buyer.id}#behalf"
    assert f'href="{change}"' in page
    form = client.get(change).get_data(as_text=True)
    assert re.search(rf'<option selected value="{fair.buyer.id}">', form)
    assert 'selected value="1"' in form  # the stored level, not the default medium
    assert re.search(r'<textarea[^>]*name="note"[^>]*>\s*筐体の試作について</textarea>', form)


def test_a_note_loaded_for_one_company_is_not_sent_to_another_unread(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1,
                                note="筐体の試作について")
    db_session.commit()
    form = client.get(f"{_page(fair, fair.supplier)}?counterpart={fair.buyer.id}")
    assert f'name="note_for" type="hidden" value="{fair.buyer.id}"' in form.get_data(
        as_text=True)
    # "Change" opened for one buyer, then the other buyer picked in the select.
    sent = {"counterpart": str(fair.other_buyer.id), "level": "2",
            "note": "筐体の試作について", "note_for": str(fair.buyer.id)}
    response = client.post(_page(fair, fair.supplier), data=sent)
    body = response.get_data(as_text=True)
    assert "written for the request to another company" in body
    assert "筐体の試作について</textarea>" in body  # kept as typed
    assert _interest(db_session, fair.supplier, fair.other_buyer) is None
    # Checked and sent again (the form now says the note is for this one): saved.
    assert f'name="note_for" type="hidden" value="{fair.other_buyer.id}"' in body
    client.post(_page(fair, fair.supplier), data={**sent, "note_for": str(fair.other_buyer.id)})
    assert _interest(db_session, fair.supplier, fair.other_buyer).note == "筐体の試作について"


def test_changing_the_level_with_an_empty_note_keeps_the_companys_note(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1,
                                note="筐体の試作について")
    db_session.commit()
    page = client.get(_page(fair, fair.supplier)).get_data(as_text=True)
    assert "keeps the note the company already wrote" in page  # the hint says so up front
    # The counterpart chosen in the select, as before: no note typed.
    response = client.post(_page(fair, fair.supplier),
                           data={"counterpart": str(fair.buyer.id), "level": "3", "note": ""},
                           follow_redirects=True)
    assert "The note the company wrote was kept" in response.get_data(as_text=True)
    interest = _interest(db_session, fair.supplier, fair.buyer)
    assert (interest.level, interest.note) == (3, "筐体の試作について")
    # Removing it is a choice of its own.
    client.post(_page(fair, fair.supplier), data={
        "counterpart": str(fair.buyer.id), "level": "3", "note": "", "clear_note": "y"})
    assert _interest(db_session, fair.supplier, fair.buyer).note == ""
    # A note typed replaces the old one, and no "kept" message follows.
    response = client.post(_page(fair, fair.supplier), data={
        "counterpart": str(fair.buyer.id), "level": "2", "note": "量産の相談"},
        follow_redirects=True)
    assert "was kept" not in response.get_data(as_text=True)
    assert _interest(db_session, fair.supplier, fair.buyer).note == "量産の相談"


def test_an_answers_note_is_not_carried_into_a_new_request(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    """A decline reason is the buyer's answer, not what it wants to discuss."""
    fair.event.screening_enabled = True
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False,
                               note="日程が合わないため")
    db_session.commit()
    client.post(_page(fair, fair.buyer),
                data={"counterpart": str(fair.supplier.id), "level": "2", "note": ""})
    interest = _interest(db_session, fair.buyer, fair.supplier)
    assert (interest.source, interest.declined, interest.note) == ("request", False, "")


# --------------------------------------------------------------------------- 2: CR LF


def test_a_notes_line_breaks_count_once(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    # 1,200 characters as the browser sends them (CR LF), 800 once stored.
    note = "あ\r\n" * 400
    assert len(note) > preferences.MAX_NOTE_LENGTH >= len(note.replace("\r\n", "\n"))
    response = client.post(_page(fair, fair.supplier),
                           data={"counterpart": str(fair.buyer.id), "level": "2", "note": note})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _interest(db_session, fair.supplier, fair.buyer).note == ("あ\n" * 400).strip()


def test_a_note_over_the_limit_comes_back_with_what_was_typed(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    note = "い\r\n" * 600  # 1,200 once counted right: still too long
    response = client.post(_page(fair, fair.supplier),
                           data={"counterpart": str(fair.buyer.id), "level": "2", "note": note})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "has-error" in body and "い\nい" in body
    assert _interest(db_session, fair.supplier, fair.buyer) is None


# --------------------------------------------------------------------------- 3: answers


def test_the_organizer_declines_and_accepts_for_a_company_that_phoned(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    fair.event.screening_enabled = True
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3,
                                note="5軸加工の相談")
    db_session.commit()
    page = _page(fair, fair.buyer)
    action = f"{page}/answer/{fair.supplier.id}"
    body = client.get(page).get_data(as_text=True)
    assert f'action="{action}"' in body and "Not answered" in body
    assert "5軸加工の相談" in body  # what the requester wrote

    response = client.post(action, data={"decision": "decline", "note": "今回は見送り"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#received-{fair.supplier.id}")
    answer = _interest(db_session, fair.buyer, fair.supplier)
    assert (answer.declined, answer.note, answer.source) == (True, "今回は見送り", "screening")
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "preference.decline")
    ).one()
    assert (entry.user_id, entry.participant_id) == (logged_in.id, fair.buyer.id)
    body = client.get(page).get_data(as_text=True)
    assert "Declined" in body and "今回は見送り" in body  # the reason is shown
    assert "Change answer" in body

    client.post(action, data={"decision": "accept", "level": "1", "note": "15時以降で"})
    answer = _interest(db_session, fair.buyer, fair.supplier)
    assert (answer.declined, answer.level, answer.note) == (False, 1, "15時以降で")
    body = client.get(page).get_data(as_text=True)
    assert "Accepted (Low)" in body and "15時以降で" in body


def test_accepting_without_a_level_is_refused_with_a_message(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    fair.event.screening_enabled = True
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    db_session.commit()
    page = _page(fair, fair.buyer)
    response = client.post(f"{page}/answer/{fair.supplier.id}", data={"decision": "accept"},
                           follow_redirects=True)
    assert "Please choose high, medium or low." in response.get_data(as_text=True)
    assert _interest(db_session, fair.buyer, fair.supplier) is None


def test_no_answers_without_screening(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    fair.event.screening_enabled = False
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    db_session.commit()
    page = _page(fair, fair.buyer)
    body = client.get(page).get_data(as_text=True)
    assert "/answer/" not in body and "Not answered" not in body
    response = client.post(f"{page}/answer/{fair.supplier.id}", data={"decision": "decline"})
    assert response.status_code == 403
    assert _interest(db_session, fair.buyer, fair.supplier) is None


def test_no_answers_once_the_schedule_is_public(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    fair.event.screening_enabled = True
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    fair.event.phase = Phase.PUBLISHED
    db_session.commit()
    page = _page(fair, fair.buyer)
    assert "/answer/" not in client.get(page).get_data(as_text=True)
    client.post(f"{page}/answer/{fair.supplier.id}", data={"decision": "decline"})
    assert _interest(db_session, fair.buyer, fair.supplier) is None


def test_only_organizers_answer_for_a_company(
    client: FlaskClient, auth, staff, db_session: Session, fair
) -> None:
    fair.event.screening_enabled = True
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    db_session.commit()
    action = f"{_page(fair, fair.buyer)}/answer/{fair.supplier.id}"
    assert client.post(action, data={"decision": "decline"}).status_code == 302  # to log in
    auth.login("staff@example.jp")
    assert client.post(action, data={"decision": "decline"}).status_code == 403
    assert _interest(db_session, fair.buyer, fair.supplier) is None


def test_a_company_of_another_event_cannot_be_answered_for(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    other = make_fair(db_session, slug="other", phase=Phase.PREFERENCES)
    other.event.screening_enabled = True
    preferences.request_meeting(db_session, other.supplier, other.buyer.id, level=3)
    db_session.commit()
    action = f"{_page(fair, other.buyer)}/answer/{other.supplier.id}"
    assert client.post(action, data={"decision": "decline"}).status_code == 404
    assert _interest(db_session, other.buyer, other.supplier) is None


# --------------------------------------------------------------------------- 6: the table


def test_withdrawing_asks_first_and_the_buttons_stay_whole_beside_a_long_note(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2,
                                note="x" * 900)
    db_session.commit()
    body = client.get(_page(fair, fair.supplier)).get_data(as_text=True)
    withdraw = f"{_page(fair, fair.supplier)}/withdraw/{fair.buyer.id}"
    form = re.search(rf'<form method="post" action="{withdraw}"[^>]*>', body).group(0)
    assert "return confirm(" in form and "Withdraw the request of" in form
    assert re.search(r'<td class="prewrap"[^>]*>x{900}</td>', body)  # wraps anywhere (app.css)
    assert re.search(rf'<td class="actions">[^<]*<a [^>]*\?counterpart={fair.buyer.id}', body)


def test_a_note_emptied_in_the_form_it_was_shown_in_is_removed(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    """Final review: opened with "Change", the note is in the form; emptying it there
    and saving removes it (before, it came back unless a box was ticked as well)."""
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1,
                                note="筐体の試作について")
    db_session.commit()
    response = client.post(_page(fair, fair.supplier), data={
        "counterpart": str(fair.buyer.id), "level": "2", "note": "",
        "note_for": str(fair.buyer.id)}, follow_redirects=True)
    assert "The note the company wrote was kept" not in response.get_data(as_text=True)
    assert _interest(db_session, fair.supplier, fair.buyer).note == ""
