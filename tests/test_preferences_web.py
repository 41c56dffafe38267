"""The preferences pages through the client: requests, suggestions, screening, sheets."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import preferences, proposals
from scheduler.models import Interest, Phase, Proposal, ProposalStatus, SuggestionShown
from tests.participant_fair import make_fair, read_in_english

PDF = b"%PDF-1.7\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


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


def _interest(db_session: Session, a, b) -> Interest | None:
    db_session.expire_all()
    return preferences.interest_between(db_session, a.id, b.id)


# --------------------------------------------------------------------------- requests


def test_request_change_and_withdraw(client: FlaskClient, db_session: Session, fair) -> None:
    page = client.get(_p(fair.supplier, f"/request/{fair.buyer.id}"))
    assert page.status_code == 200
    assert "発注重工株式会社" in page.get_data(as_text=True)
    assert "the other company sees it" in page.get_data(as_text=True)  # the note's hint
    response = client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"),
                           data={"level": "3", "note": "<script>alert(1)</script>筐体"})
    assert response.status_code == 302
    interest = _interest(db_session, fair.supplier, fair.buyer)
    assert (interest.level, interest.source) == (3, "request")
    body = client.get(_p(fair.supplier, "/requests")).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;筐体" in body  # shown escaped
    assert "<script>alert(1)" not in body
    assert "No answer yet" in body
    # The form shows the stored request when opened again.
    again = client.get(_p(fair.supplier, f"/request/{fair.buyer.id}")).get_data(as_text=True)
    assert 'selected value="3"' in again
    client.post(_p(fair.supplier, f"/request/{fair.buyer.id}/withdraw"))
    assert _interest(db_session, fair.supplier, fair.buyer) is None


def test_form_keeps_what_was_typed_and_names_the_cap(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.event.max_requests = 1
    db_session.commit()
    client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"), data={"level": "2"})
    response = client.post(_p(fair.supplier, f"/request/{fair.other_buyer.id}"),
                           data={"level": "2", "note": "全角１２３の相談"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "limit of 1 meeting requests" in body
    assert "全角１２３の相談" in body
    assert _interest(db_session, fair.supplier, fair.other_buyer) is None
    # Opened afresh at the cap, the page says so up front instead of offering the form.
    page = client.get(_p(fair.supplier, f"/request/{fair.other_buyer.id}")).get_data(as_text=True)
    assert 'data-test="cap-reached"' in page and "Send the request" not in page
    # The buyer already asked is still open to change.
    again = client.get(_p(fair.supplier, f"/request/{fair.buyer.id}")).get_data(as_text=True)
    assert "Save the request" in again


def test_bad_level_and_over_long_note_are_shown_on_the_form(client: FlaskClient, fair) -> None:
    response = client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"),
                           data={"level": "9", "note": "あ" * 1001})
    assert response.status_code == 200
    assert "has-error" in response.get_data(as_text=True)


def test_requests_are_refused_outside_the_preferences_phase(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    page = client.get(_p(fair.supplier, f"/request/{fair.buyer.id}")).get_data(as_text=True)
    # The reason is the phase, not a deadline (whose date may still lie ahead).
    assert "Meeting requests are closed: the event has moved on" in page
    assert "deadline for meeting requests has passed" not in page
    response = client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"), data={"level": "2"})
    assert response.status_code == 403
    assert _interest(db_session, fair.supplier, fair.buyer) is None


def test_same_role_is_not_a_counterpart(client: FlaskClient, fair) -> None:
    assert client.get(_p(fair.supplier, f"/request/{fair.other_supplier.id}")).status_code == 404


def test_directory_links_to_the_request_form(client: FlaskClient, fair) -> None:
    body = client.get(_p(fair.supplier, f"/directory/{fair.buyer.id}")).get_data(as_text=True)
    assert f"/request/{fair.buyer.id}" in body


# --------------------------------------------------------------------------- suggestions


def test_one_click_request_from_a_suggestion(
    client: FlaskClient, db_session: Session, fair
) -> None:
    body = client.get(_p(fair.buyer, "/suggestions")).get_data(as_text=True)
    assert "ＡＢＣ精工株式会社" in body and "5-axis machining" in body
    assert db_session.scalar(select(SuggestionShown.suggested_id)) == fair.supplier.id
    client.post(_p(fair.buyer, f"/suggestions/{fair.supplier.id}/request"), data={"level": "3"})
    interest = _interest(db_session, fair.buyer, fair.supplier)
    assert (interest.level, interest.source) == (3, "suggestion")


# --------------------------------------------------------------------------- screening


def test_screening_accept_and_decline(client: FlaskClient, db_session: Session, fair) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2, note="相談")
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=1)
    db_session.commit()
    body = client.get(_p(fair.buyer, "/incoming")).get_data(as_text=True)
    assert "ＡＢＣ精工株式会社" in body and "山田板金有限会社" in body
    # The requester sees both notes: the fields say so before anything is typed.
    assert "Reason, shown to the other company (optional)" in body
    assert "Note to the other company (optional)" in body
    client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                data={"decision": "accept", "level": "3"})
    client.post(_p(fair.buyer, f"/incoming/{fair.other_supplier.id}/answer"),
                data={"decision": "decline", "note": "今回は見送り"})
    db_session.expire_all()
    pairs = {frozenset((p.a, p.b)): p for p in preferences.requested_pairs(db_session, fair.event)}
    assert pairs[frozenset((fair.buyer.id, fair.supplier.id))].mutual
    assert frozenset((fair.buyer.id, fair.other_supplier.id)) not in pairs
    mine = client.get(_p(fair.other_supplier, "/requests")).get_data(as_text=True)
    assert "Declined" in mine and "今回は見送り" in mine


def test_no_screening_pages_when_screening_is_off(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    fair.event.screening_enabled = False
    db_session.commit()
    assert client.get(_p(fair.buyer, "/incoming")).status_code == 404
    response = client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                           data={"decision": "decline"})
    assert response.status_code == 404
    assert _interest(db_session, fair.buyer, fair.supplier) is None


# --------------------------------------------------------------------------- proposal sheets


def test_apply_screen_and_download(client: FlaskClient, db_session: Session, fair) -> None:
    needs = client.get(_p(fair.supplier, "/buyer-needs")).get_data(as_text=True)
    assert "アルミ筐体の試作" in needs
    response = client.post(
        _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"),
        data={"offer": "一体削り出し", "track_record": "", "equipment": "", "level": "3",
              "attachment": (io.BytesIO(PDF), "会社案内.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    proposal = db_session.scalars(select(Proposal)).one()
    screening = client.get(_p(fair.buyer, "/proposals")).get_data(as_text=True)
    assert "一体削り出し" in screening and "会社案内.pdf" in screening
    for reader in (fair.buyer, fair.supplier):
        with client.get(_p(reader, f"/proposals/{proposal.id}/attachment")) as download:
            assert download.status_code == 200 and download.data == PDF
            assert download.headers["Content-Disposition"].startswith("attachment")
            assert download.headers["X-Content-Type-Options"] == "nosniff"
    for stranger in (fair.other_buyer, fair.other_supplier):
        assert client.get(_p(stranger, f"/proposals/{proposal.id}/attachment")).status_code == 404
    client.post(_p(fair.buyer, f"/proposals/{proposal.id}/decide"),
                data={"decision": "accept", "level": "2", "note": "ぜひ"})
    db_session.expire_all()
    assert db_session.get(Proposal, proposal.id).status == ProposalStatus.ACCEPTED
    assert _interest(db_session, fair.buyer, fair.supplier).level == 2


def test_a_pdf_that_is_really_a_png_is_refused_on_the_form(
    client: FlaskClient, db_session: Session, fair
) -> None:
    response = client.post(
        _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"),
        data={"offer": "提案の内容", "level": "3", "attachment": (io.BytesIO(PNG), "a.pdf")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "PDF, PNG or JPEG" in body and "提案の内容" in body
    assert db_session.scalars(select(Proposal)).first() is None


def test_too_large_attachment_is_refused(app: Flask, client: FlaskClient, fair) -> None:
    app.config["PROPOSAL_MAX_BYTES"] = 10
    response = client.post(
        _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"),
        data={"offer": "提案", "level": "3", "attachment": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert "larger than" in response.get_data(as_text=True)


def test_nobody_acts_on_another_participants_request_or_sheet(
    app: Flask, client: FlaskClient, db_session: Session, fair, tmp_path
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    sheet = proposals.submit_proposal(
        db_session, fair.supplier, fair.need.id, proposals.ProposalData(offer="提案"),
        uploads_dir=tmp_path,
    )
    db_session.commit()
    # Another buyer cannot screen the sheet or answer a request made to someone else.
    assert client.post(_p(fair.other_buyer, f"/proposals/{sheet.id}/decide"),
                       data={"decision": "decline"}).status_code == 404
    assert client.post(_p(fair.other_buyer, f"/incoming/{fair.supplier.id}/answer"),
                       data={"decision": "decline"}).status_code == 404
    # Another supplier cannot withdraw the sheet or the request.
    assert client.post(_p(fair.other_supplier, f"/proposals/{sheet.id}/withdraw")
                       ).status_code == 404
    assert client.post(_p(fair.other_supplier, f"/request/{fair.buyer.id}/withdraw")
                       ).status_code == 404
    # Buyers' pages are not suppliers' and the other way round.
    assert client.get(_p(fair.supplier, "/proposals")).status_code == 404
    assert client.get(_p(fair.buyer, "/buyer-needs")).status_code == 404
    db_session.expire_all()
    assert db_session.get(Proposal, sheet.id).status == ProposalStatus.SUBMITTED
    assert _interest(db_session, fair.supplier, fair.buyer) is not None
    assert _interest(db_session, fair.other_buyer, fair.supplier) is None


# --------------------------------------------------------------------------- organizer


def test_organizer_overview_settings_and_report(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    db_session.commit()
    base = f"/events/{fair.event.id}/preferences"
    body = client.get(base).get_data(as_text=True)
    assert "発注重工株式会社" in body and "Mutual pairs" in body
    assert "ビー電機株式会社" in body  # without requests
    response = client.post(f"{base}/settings", data={"max_requests": "7"})
    assert response.status_code == 302
    db_session.expire_all()
    event = db_session.get(type(fair.event), fair.event.id)
    assert (event.max_requests, event.screening_enabled) == (7, False)
    assert client.post(f"{base}/settings", data={"max_requests": "-3"}).status_code == 400
    assert client.get(f"{base}/suggestions").status_code == 200


def test_organizer_pages_are_for_organizers_only(
    client: FlaskClient, auth, staff, fair
) -> None:
    base = f"/events/{fair.event.id}/preferences"
    assert client.get(base).status_code == 302  # to the login page
    auth.login("staff@example.jp")
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/settings", data={"max_requests": "1"}).status_code == 403


def test_every_page_renders_in_japanese_on_the_demo_fair(
    client: FlaskClient, db_session: Session, logged_in
) -> None:
    from scheduler.demo import generate_demo
    from scheduler.models import Participant

    client.post("/language", data={"lang": "ja", "next": "/"})
    event = generate_demo(db_session, seed=7, buyers=5, suppliers=20, slug="demo",
                          phase=Phase.PREFERENCES)
    db_session.commit()
    people = db_session.scalars(select(Participant).where(Participant.event_id == event.id))
    buyer = next(p for p in people if p.role == "buyer")
    supplier = db_session.scalars(select(Participant).where(
        Participant.event_id == event.id, Participant.role == "supplier")).first()
    pages = [
        _p(buyer, "/requests"), _p(buyer, "/suggestions"), _p(buyer, "/incoming"),
        _p(buyer, "/proposals"), _p(buyer, f"/request/{supplier.id}"),
        _p(supplier, "/requests"), _p(supplier, "/suggestions"), _p(supplier, "/buyer-needs"),
        _p(supplier, f"/request/{buyer.id}"), _p(supplier, "/"),
        _p(supplier, f"/directory/{buyer.id}"),
        f"/events/{event.id}/preferences", f"/events/{event.id}/preferences/suggestions",
    ]
    if buyer.needs:
        pages.append(_p(supplier, f"/buyer-needs/{buyer.needs[0].id}/apply"))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="ja"' in response.get_data(as_text=True), url
    home = client.get(_p(buyer, "/")).get_data(as_text=True)
    assert _p(buyer, "/requests") in home and _p(buyer, "/proposals") in home
    assert _p(buyer, "/buyer-needs") not in home  # suppliers' page only


def test_organizer_requests_on_a_participants_behalf_after_the_deadline(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    from scheduler.models import AuditEntry

    fair.event.phase = Phase.SCHEDULING  # participants can no longer change anything
    db_session.commit()
    page = f"/events/{fair.event.id}/preferences/participants/{fair.supplier.id}"
    form = client.get(page)
    assert form.status_code == 200
    # The note travels to the other company as the meeting's purpose: the form says so.
    assert "The other company sees it on its schedule and sheet" in form.get_data(as_text=True)
    response = client.post(page, data={"counterpart": str(fair.buyer.id), "level": "3",
                                       "note": "電話で依頼"})
    assert response.status_code == 302
    interest = _interest(db_session, fair.supplier, fair.buyer)
    assert (interest.level, interest.note) == (3, "電話で依頼")
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "preference.request")
    ).one()
    assert (entry.user_id, entry.participant_id) == (logged_in.id, fair.supplier.id)
    client.post(f"{page}/withdraw/{fair.buyer.id}")
    assert _interest(db_session, fair.supplier, fair.buyer) is None
    # A participant of another event is not reachable through this event.
    other = make_fair(db_session, slug="other")
    db_session.commit()
    assert client.get(
        f"/events/{fair.event.id}/preferences/participants/{other.supplier.id}"
    ).status_code == 404


def test_organizer_downloads_attachments_of_its_event_only(
    app: Flask, client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    sheet = proposals.submit_proposal(
        db_session, fair.supplier, fair.need.id, proposals.ProposalData(offer="提案"),
        proposals.Attachment("a.pdf", PDF), uploads_dir=Path(app.config["INSTANCE_UPLOADS"]),
    )
    db_session.commit()
    url = f"/events/{fair.event.id}/preferences/proposals/{sheet.id}/attachment"
    with client.get(url) as download:
        assert download.status_code == 200 and download.data == PDF
    assert "a.pdf" in client.get(f"/events/{fair.event.id}/preferences").get_data(as_text=True)
    assert client.get(
        f"/events/{fair.event.id + 1}/preferences/proposals/{sheet.id}/attachment"
    ).status_code == 404


@pytest.mark.parametrize(
    ("intruder", "victim"),
    [("buyer", "other_buyer"), ("supplier", "other_supplier"), ("supplier", "buyer"),
     ("other_buyer", "supplier")],
)
def test_preferences_routes_never_change_another_participants_data_while_open(
    app: Flask, client: FlaskClient, db_session: Session, fair, intruder: str, victim: str
) -> None:
    """The access walk of every route, in the phase where the preferences pages do write."""
    from tests.test_participant_access import INTRUDER_FORM, _snapshot, _urls, _victim_ids

    app.config["PARTICIPANT_PAGE_LIMIT"] = "100000/minute"
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=3,
                                note="秘密のメモ")
    proposals.submit_proposal(db_session, fair.other_supplier, fair.need.id,
                              proposals.ProposalData(offer="秘密の提案"),
                              uploads_dir=Path(app.config["INSTANCE_UPLOADS"]))
    preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=1)
    db_session.commit()
    me, them = getattr(fair, intruder), getattr(fair, victim)
    before = _snapshot(db_session, them)
    ids = _victim_ids(db_session, them)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("preferences.")]
    assert len(rules) >= 10
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for url in _urls(rule, me.access_token, ids):
                response = client.open(url, method=method, data=INTRUDER_FORM)
                response.close()
                assert response.status_code < 500, (url, method)
    assert _snapshot(db_session, them) == before


def test_a_request_without_any_level_is_refused_not_saved_as_medium(
    client: FlaskClient, db_session: Session, fair
) -> None:
    # A post that lost its level field must not be stored with the form's default level.
    response = client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"), data={"note": "相談"})
    assert response.status_code == 200
    assert "has-error" in response.get_data(as_text=True)
    response = client.post(_p(fair.supplier, f"/suggestions/{fair.buyer.id}/request"), data={},
                           follow_redirects=True)
    assert "flash-error" in response.get_data(as_text=True)
    assert _interest(db_session, fair.supplier, fair.buyer) is None


def test_accepting_without_a_level_is_refused(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    db_session.commit()
    response = client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                           data={"decision": "accept"}, follow_redirects=True)
    assert "flash-error" in response.get_data(as_text=True)
    assert _interest(db_session, fair.buyer, fair.supplier) is None


def _item(page: str, participant_id: int) -> str:
    match = re.search(rf'<li class="card request-item" id="req-{participant_id}">.*?</li>', page,
                      re.S)
    assert match, f"no request item for {participant_id}"
    return match.group(0)


def test_answered_requests_show_labelled_levels_and_a_change_control(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=1)
    db_session.commit()
    client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                data={"decision": "accept", "level": "1"})
    page = client.get(_p(fair.buyer, "/incoming")).get_data(as_text=True)
    answered = _item(page, fair.supplier.id)
    # Whose level is whose is said in words, and the answer is shown as it stands.
    assert "Their interest" in answered and "Your answer" in answered
    assert "Accepted (Low)" in answered
    assert '<details class="change-answer">' in answered
    assert '<option value="1" selected>' in answered  # the change form starts at the answer
    unanswered = _item(page, fair.other_supplier.id)
    assert "Not answered" in unanswered and "<details" not in unanswered
    assert 'class="answer-accept"' in unanswered


def test_declining_reads_the_same_everywhere_in_japanese(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    db_session.commit()
    client.post("/language", data={"lang": "ja", "next": "/"})
    page = client.get(_p(fair.buyer, "/incoming")).get_data(as_text=True)
    assert "お断りする" in page and "不承認" not in page and "辞退" not in page
    page = client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                       data={"decision": "decline"}, follow_redirects=True).get_data(as_text=True)
    assert "商談希望をお断りしました。" in page
    assert '<span class="badge err">お断り</span>' in _item(page, fair.supplier.id)
    assert "辞退" not in page
    mine = client.get(_p(fair.supplier, "/requests")).get_data(as_text=True)
    assert '<span class="badge err">お断り</span>' in mine


def test_suggestions_say_when_every_fitting_buyer_was_asked_already(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """Not 'add technologies' to a supplier that has them and has asked every buyer
    suggested to it."""
    from scheduler import suggestions

    shown = suggestions.suggestions_for(db_session, fair.supplier, locale="en")
    assert shown and fair.supplier.organization.technologies
    for suggestion in shown:
        preferences.request_meeting(db_session, fair.supplier, suggestion.counterpart.id, level=2)
    db_session.commit()
    page = client.get(_p(fair.supplier, "/suggestions")).get_data(as_text=True)
    assert "No more suggestions" in page and "Adding technologies" not in page


def test_a_request_after_the_deadline_reads_as_it_stands(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """Closed, a request already made shows its level by name and its note, under a title
    that no longer offers to request the meeting."""
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3,
                                note="筐体の試作について")
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    page = client.get(_p(fair.supplier, f"/request/{fair.buyer.id}")).get_data(as_text=True)
    assert 'Your meeting request to <span lang="ja">発注重工株式会社</span>' in page
    assert "Request a meeting with" not in page
    shown = page[page.index('data-test="existing-request"'):]
    assert '<span class="badge level level-3">High</span>' in shown
    assert "筐体の試作について" in shown
    assert "Level: 3" not in page and "<form" not in shown


def test_a_stale_request_after_the_deadline_is_refused_with_one_message(
    client: FlaskClient, db_session: Session, fair
) -> None:
    form = _p(fair.supplier, f"/request/{fair.buyer.id}")
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    response = client.post(form, data={"level": "2"}, headers={"Referer": f"http://localhost{form}"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The deadline for meeting requests has passed" in page
    assert 'class="flash flash-error"' in page  # a refusal still reads as one
    assert "Meeting requests are closed" not in page  # not said twice
    assert _interest(db_session, fair.supplier, fair.buyer) is None
    # Read again later, the page explains itself.
    assert "Meeting requests are closed" in client.get(form).get_data(as_text=True)


def test_suggestions_offer_no_request_once_every_request_is_used(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """As in the directory: no button that every click would only have refused."""
    fair.event.max_requests = 1
    preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    db_session.commit()
    page = client.get(_p(fair.supplier, "/suggestions")).get_data(as_text=True)
    assert "発注重工株式会社" in page  # still suggested, to read about
    assert f"/suggestions/{fair.buyer.id}/request" not in page
    assert 'data-test="cap-reached"' in page and "withdraw one of your requests" in page
    fair.event.max_requests = 2
    db_session.commit()
    page = client.get(_p(fair.supplier, "/suggestions")).get_data(as_text=True)
    assert f"/suggestions/{fair.buyer.id}/request" in page
    assert 'data-test="cap-reached"' not in page


def test_an_attachment_over_the_request_limit_gets_a_page_stating_the_limit(
    app: Flask, client: FlaskClient, fair
) -> None:
    """Larger than any request may be (a scanned catalogue), the upload never reaches the
    form's own check: the 413 page says what happened and the form's limit, and leads
    back to the form, not to the staff login."""
    # Small limits: the test client keeps a body under 500 KB in memory.
    app.config["MAX_CONTENT_LENGTH"] = 400 * 1024
    app.config["PROPOSAL_MAX_BYTES"] = 205 * 1024  # 0.2 MB
    big = PDF + b"0" * 450 * 1024
    form = _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply")
    response = client.post(
        form,
        data={"offer": "提案", "level": "3", "attachment": (io.BytesIO(big), "catalogue.pdf")},
        content_type="multipart/form-data",
        headers={"Referer": f"http://localhost{form}"},
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert 'data-test="too-large"' in page
    assert "Files of up to 0.2 MB can be sent here" in page
    links = re.findall(r'href="([^"]*)"', page)
    assert f"http://localhost{form}" in links
    assert "/auth/login" not in links and "/" not in links
    assert "a PDF with fewer or smaller pictures" in page  # advice for this form's files
    assert "history.back()" in page  # the browser's Back keeps what was typed
    # Without the form's address, back to the company's own pages, by that link (the
    # browser's Back would lead wherever the reader came from).
    for headers in ({}, {"Referer": "http://evil.example/x"}):
        response = client.post(form, data={"attachment": (io.BytesIO(big), "a.pdf")},
                               content_type="multipart/form-data", headers=headers)
        assert response.status_code == 413
        page = response.get_data(as_text=True)
        assert f'href="/p/{fair.supplier.access_token}/"' in page
        assert "history.back()" not in page and "evil.example" not in page


def test_with_screening_off_no_page_shows_a_decline_that_no_longer_counts(
    client: FlaskClient, db_session: Session, fair, logged_in
) -> None:
    """The organizer unticked screening after B002 declined: the pair goes to the solver,
    so the supplier's list, the directory and the organizer's page show no decline."""
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False,
                               note="今回は見送ります")
    fair.event.screening_enabled = False
    db_session.commit()
    pages = {
        "requests": client.get(_p(fair.supplier, "/requests")).get_data(as_text=True),
        "directory": client.get(_p(fair.supplier, "/directory")).get_data(as_text=True),
        "organizer": client.get(
            f"/events/{fair.event.id}/preferences/participants/{fair.supplier.id}"
        ).get_data(as_text=True),
    }
    assert 'data-test="requested"' in pages["directory"]  # the request itself is shown
    for name, page in pages.items():
        assert "Declined" not in page and "今回は見送ります" not in page, name
    assert "No answer yet" in pages["requests"] and "No answer yet" in pages["organizer"]
    # Turned back on, the stored answer shows again.
    fair.event.screening_enabled = True
    db_session.commit()
    page = client.get(_p(fair.supplier, "/requests")).get_data(as_text=True)
    assert "Declined" in page and "今回は見送ります" in page


def test_a_note_of_many_lines_is_measured_as_typed_not_as_sent(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """The browser sends each line break as CRLF but counts it once against maxlength: a
    note of 801 characters on 401 lines is 1201 characters on the wire."""
    lines = ["あ"] * 401
    sent = "\r\n".join(lines)
    assert len(sent) > preferences.MAX_NOTE_LENGTH >= len("\n".join(lines))
    form = client.get(_p(fair.supplier, f"/request/{fair.buyer.id}")).get_data(as_text=True)
    assert f'maxlength="{preferences.MAX_NOTE_LENGTH}"' in form  # the browser's limit stays
    response = client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"),
                           data={"level": "2", "note": sent})
    assert response.status_code == 302
    assert _interest(db_session, fair.supplier, fair.buyer).note == "\n".join(lines)
    # Over the limit as typed is still refused on the form.
    response = client.post(_p(fair.supplier, f"/request/{fair.buyer.id}"),
                           data={"level": "2", "note": "\r\n".join(["あ"] * 501)})
    assert response.status_code == 200 and "has-error" in response.get_data(as_text=True)


def test_a_proposal_sheet_of_many_lines_is_measured_as_typed(
    client: FlaskClient, db_session: Session, fair
) -> None:
    lines = ["一体削り出し"] * 700  # 4200 characters and 699 line breaks: 5598 sent
    sent = "\r\n".join(lines)
    assert len(sent) > proposals.MAX_TEXT_LENGTH >= len("\n".join(lines))
    response = client.post(
        _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"),
        data={"offer": sent, "track_record": sent, "equipment": sent, "level": "3"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    sheet = db_session.scalars(select(Proposal)).one()
    assert sheet.offer == sheet.track_record == sheet.equipment == "\n".join(lines)
