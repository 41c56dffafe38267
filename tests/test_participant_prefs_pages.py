"""What participants' preference pages say about a request's answer, the deadline, the
cap and withdrawing, and the directory's place names in English."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import preferences
from scheduler.directory import PREFECTURE_NAMES_EN, prefecture_label
from scheduler.models import Phase, PhaseDeadline
from scheduler.vocabulary import PREFECTURES
from tests.participant_fair import make_fair, read_in_english

NOTE = "ぜひ一度お話を伺いたいです"
PDF = b"%PDF-1.7\n%%EOF\n"
#: 08:00 UTC is 17:00 in Tokyo, the fair's zone.
PAST = datetime(2020, 1, 31, 8, 0, tzinfo=UTC)
FUTURE = datetime(2099, 6, 30, 8, 0, tzinfo=UTC)


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


def _close_requests(db_session: Session, fair, closes_at: datetime) -> None:
    db_session.add(PhaseDeadline(event=fair.event, phase=Phase.PREFERENCES, closes_at=closes_at))
    db_session.commit()


def _requesting_part(page: str) -> str:
    """The request part of a counterpart's profile (before the profile itself)."""
    return page.split('<section class="card profile-view">')[0].split("<main")[-1]


# --------------------------------------------------------------------------- the answer's note


def test_the_note_of_an_accepting_answer_reaches_the_requester(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    db_session.commit()
    client.post(_p(fair.buyer, f"/incoming/{fair.supplier.id}/answer"),
                data={"decision": "accept", "level": "3", "note": NOTE})
    mine = _get(client, fair.supplier, "/requests")
    item = mine[mine.index(f'id="req-{fair.buyer.id}"'):]
    # The note is Japanese, marked so on this English page.
    assert "Accepted" in item and f'Their note: <span lang="ja">{NOTE}</span>' in item
    # The directory entry and the buyer's profile show the same answer with its note.
    listing = _get(client, fair.supplier, "/directory")
    entry = listing[listing.index(f'id="entry-{fair.buyer.id}"'):]
    assert f'Their note: <span lang="ja">{NOTE}</span>' in entry.split("</li>")[0]
    profile = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.buyer.id}"))
    assert "Accepted" in profile and f'Their note: <span lang="ja">{NOTE}</span>' in profile


def test_the_requester_also_reads_the_other_sides_own_note_when_both_asked(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=3,
                                note="試作の相談")
    db_session.commit()
    mine = _get(client, fair.supplier, "/requests")
    assert "Mutual" in mine and 'Their note: <span lang="ja">試作の相談</span>' in mine


# --------------------------------------------------------------------------- the deadline


def test_a_counterparts_profile_offers_no_request_after_the_deadline(
    client: FlaskClient, db_session: Session, fair
) -> None:
    _close_requests(db_session, fair, PAST)
    assert fair.event.phase == Phase.PREFERENCES  # the organizer has not moved on yet
    page = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.buyer.id}"))
    assert "Request a meeting" not in page and "Apply to a need" not in page
    assert f"/request/{fair.buyer.id}" not in page
    # Before the deadline both are offered, and the form comes back to the profile.
    db_session.query(PhaseDeadline).delete()
    db_session.commit()
    page = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.buyer.id}"))
    assert "Request a meeting" in page and "Apply to a need" in page
    assert re.search(rf'/request/{fair.buyer.id}\?back=[^"]*directory/{fair.buyer.id}', page)


def test_a_profile_shows_the_request_already_made_and_the_cap(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    fair.event.max_requests = 1
    db_session.commit()
    asked = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.buyer.id}"))
    assert 'data-test="requested"' in asked and ">Change<" in asked
    assert "Request a meeting" not in asked
    # The cap is used up: the other buyer's profile says so instead of offering a request.
    other = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.other_buyer.id}"))
    assert 'data-test="cap-reached"' in other and "Request a meeting" not in other
    assert f"/request/{fair.other_buyer.id}" not in other


def test_home_names_the_deadline_in_the_events_zone(
    client: FlaskClient, db_session: Session, fair
) -> None:
    _close_requests(db_session, fair, FUTURE)
    home = _get(client, fair.supplier, "/")
    assert "State which companies you want to meet by Jun 30, 2099 17:00." in home


def test_home_says_when_the_deadline_has_passed(
    client: FlaskClient, db_session: Session, fair
) -> None:
    _close_requests(db_session, fair, PAST)
    home = _get(client, fair.supplier, "/")
    assert "The deadline for meeting requests (Jan 31, 2020 17:00) has passed." in home
    assert "State which companies you want to meet" not in home


# --------------------------------------------------------------------------- the form


def test_the_form_of_an_existing_request_is_headed_as_a_change(
    client: FlaskClient, db_session: Session, fair
) -> None:
    new = _get(client, fair.supplier, f"/request/{fair.buyer.id}")
    assert '<h1>Request a meeting with <span lang="ja">発注重工株式会社</span></h1>' in new
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    db_session.commit()
    page = _get(client, fair.supplier, f"/request/{fair.buyer.id}")
    assert '<h1>Change the request to <span lang="ja">発注重工株式会社</span></h1>' in page
    assert "Request a meeting with" not in page and "Save the request" in page


# --------------------------------------------------------------------------- withdrawing


def _form_tag(page: str, action: str) -> str:
    match = re.search(rf'<form method="post" action="[^"]*{re.escape(action)}"[^>]*>', page)
    assert match, action
    return match.group(0)


def test_withdrawing_a_request_asks_first(
    client: FlaskClient, db_session: Session, fair
) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2, note="相談")
    db_session.commit()
    tag = _form_tag(_get(client, fair.supplier, "/requests"), f"/request/{fair.buyer.id}/withdraw")
    assert 'onsubmit="return confirm(&#34;Withdraw your meeting request to ' in tag
    assert "Your note to them is deleted too." in tag


def test_withdrawing_a_proposal_sheet_asks_first(client: FlaskClient, fair) -> None:
    client.post(
        _p(fair.supplier, f"/buyer-needs/{fair.need.id}/apply"),
        data={"offer": "一体削り出し", "level": "3",
              "attachment": (io.BytesIO(PDF), "会社案内.pdf")},
        content_type="multipart/form-data",
    )
    page = _get(client, fair.supplier, "/buyer-needs")
    tag = _form_tag(page, "/withdraw")
    assert 'onsubmit="return confirm(&#34;Withdraw your proposal sheet for ' in tag
    assert "its attachment is deleted" in tag


# --------------------------------------------------------------------------- prefectures


def test_every_prefecture_has_its_romanised_name() -> None:
    assert list(PREFECTURE_NAMES_EN) == list(PREFECTURES)
    assert len(set(PREFECTURE_NAMES_EN.values())) == 47
    assert PREFECTURE_NAMES_EN["北海道"] == "Hokkaido"
    assert PREFECTURE_NAMES_EN["沖縄県"] == "Okinawa"
    assert prefecture_label("兵庫県", "en") == "Hyogo"
    assert prefecture_label("高知県", "en") == "Kochi"
    assert prefecture_label("静岡県", "ja") == "静岡県"
    assert prefecture_label("どこか", "en") == "どこか"  # not a prefecture: shown as stored


def test_the_directorys_region_filter_names_prefectures_in_the_readers_language(
    client: FlaskClient, fair
) -> None:
    english = _get(client, fair.buyer, "/directory")
    assert '<option value="東京都">Tokyo</option>' in english
    assert '<option value="静岡県">Shizuoka</option>' in english
    assert '<option value="大阪府">Osaka</option>' in english
    # The stored value still filters: Shizuoka finds the Hamamatsu supplier only.
    found = _get(client, fair.buyer, "/directory?location=静岡県")
    assert "ＡＢＣ精工株式会社" in found and "山田板金有限会社" not in found
    assert '<option selected value="静岡県">Shizuoka</option>' in found
    client.post("/language", data={"lang": "ja", "next": "/"})
    japanese = _get(client, fair.buyer, "/directory")
    assert '<option value="東京都">東京都</option>' in japanese


def test_the_profile_forms_prefectures_are_named_in_english(client: FlaskClient, fair) -> None:
    page = _get(client, fair.supplier, "/profile")
    assert '<option selected value="静岡県">Shizuoka</option>' in page
    assert '<option value="北海道">Hokkaido</option>' in page


# --------------------------------------------------------------------------- closed requests


def _page_head(page: str) -> str:
    """The page's heading with its buttons (before any note or card)."""
    return page.split('<div class="page-head">', 1)[1].split("<p class=", 1)[0]


def test_requests_page_past_the_deadline_says_closed_instead_of_requests_left(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.event.max_requests = 8
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    db_session.commit()
    open_page = _get(client, fair.supplier, "/requests")
    assert "Requests left: 7 of 8" in open_page
    assert "/suggestions" in _page_head(open_page) and "/directory" in _page_head(open_page)
    _close_requests(db_session, fair, PAST)
    page = _get(client, fair.supplier, "/requests")
    assert "Requests left" not in page and 'data-test="cap-note"' not in page
    assert ("The deadline for meeting requests (Jan 31, 2020 17:00) has passed."
            in page.split('data-test="requests-closed"')[1])
    # No button invites a new request: neither the directory nor the suggestions.
    head = _page_head(page)
    assert "/suggestions" not in head and "/directory" not in head
    for path in (f"/request/{fair.other_buyer.id}", "/suggestions"):
        assert "Requests left" not in _get(client, fair.supplier, path), path


def test_requests_page_in_a_later_phase_names_when_requests_closed(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.event.max_requests = 8
    _close_requests(db_session, fair, PAST)
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    page = _get(client, fair.supplier, "/requests")
    assert "Requests left" not in page
    assert "Meeting requests closed on Jan 31, 2020 17:00: the event has moved on" in page
    assert "You did not request any meeting." in page
    assert "Browse the directory or your suggestions" not in page
    assert ">View them<" in page and "Screen them" not in page  # answers can only be read


def test_a_phase_moved_on_before_the_deadline_names_no_closing_time(
    client: FlaskClient, db_session: Session, fair
) -> None:
    _close_requests(db_session, fair, FUTURE)
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    page = _get(client, fair.supplier, "/requests")
    assert "Meeting requests are closed: the event has moved on" in page
    assert "2099" not in page.split('data-test="requests-closed"')[1].split("</p>")[0]


def test_a_declined_request_says_how_to_free_its_place(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """QA: a declined request used one of the 8 requests and nothing said so. It keeps
    its place (a decline can be taken back, or screening turned off), and says how to
    free it: withdrawing it lets the supplier ask another company."""
    fair.event.max_requests = 1
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=False)
    db_session.commit()
    page = _get(client, fair.supplier, "/requests")
    assert "Requests left: 0 of 1" in page
    hint = page.split('data-test="declined-still-counted"')[1].split("</p>")[0]
    assert "declined. This request still counts toward your 1 requests: withdraw it" in hint
    other = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.other_buyer.id}"))
    assert 'data-test="cap-reached"' in other
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    db_session.commit()
    assert "Requests left: 1 of 1" in _get(client, fair.supplier, "/requests")
    other = _requesting_part(_get(client, fair.supplier, f"/directory/{fair.other_buyer.id}"))
    assert "Request a meeting" in other and 'data-test="cap-reached"' not in other
