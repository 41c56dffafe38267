"""Japanese data on English pages is marked ``lang="ja"`` (the ``ja`` and ``kana``
filters), so that a screen reader reads company, person and event names, kana readings
and notes with a Japanese voice; Japanese pages (all ``lang="ja"`` already) are unchanged.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import board, preferences, proposals
from scheduler.models import (
    Event,
    Meeting,
    Participant,
    ParticipantRole,
    Phase,
    Room,
    ScheduleRun,
    User,
)
from scheduler.proposals import ProposalData
from scheduler.schedule_view import event_meetings
from tests.conftest import AuthActions
from tests.day_fair import Clock, participant
from tests.participant_fair import Fair, add_company, make_fair
from tests.published_fair import busiest_participant, published_fair
from web.board import board_token

JA = '<span lang="ja">'


def ja(text: str) -> str:
    """``text`` as the ``ja`` filter marks it: escaped, in a Japanese span."""
    return f"{JA}{escape(text)}</span>"


def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _japanese(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "ja"}).status_code == 302


def _get(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _both(client: FlaskClient, url: str) -> tuple[str, str]:
    """The page in English, then in Japanese (which marks nothing: it is all Japanese)."""
    _english(client)
    english = _get(client, url)
    assert '<html lang="en">' in english
    # Never inside a tag (an attribute value such as aria-label, title or value).
    assert re.search(r'<[^<>]*<span lang="ja">', english) is None, url
    _japanese(client)
    japanese = _get(client, url)
    assert '<html lang="ja">' in japanese
    assert JA not in japanese, url
    return english, japanese


# --------------------------------------------------------------------------- the filters


def _render(app: Flask, source: str, locale: str, **values: object) -> str:
    with app.test_request_context("/", headers={"Accept-Language": locale}):
        return render_template_string(source, **values)


@pytest.mark.parametrize(
    "text",
    [
        "ABC精工株式会社",  # Latin and kanji mixed: any Japanese character counts
        "やまだ",
        "ヤマダバンキン",
        "ｴｰﾋﾞｰｼｰｾｲｺｳ",  # half-width katakana
        "ＡＢＣ",  # full-width Latin
        "佐々木",  # the iteration mark
        "𠮷野家",  # an ideograph beyond the BMP
        "Tokyo、Japan",  # Japanese punctuation
    ],
)
def test_japanese_text_is_wrapped_on_an_english_page_only(app: Flask, text: str) -> None:
    assert _render(app, "{{ v|ja }}", "en", v=text) == ja(text)
    assert _render(app, "{{ v|ja }}", "ja", v=text) == str(escape(text))


@pytest.mark.parametrize("text", ["Acme Tooling Ltd.", "B001", "Café Zürich", "", "–"])
def test_text_without_japanese_is_only_escaped(app: Flask, text: str) -> None:
    assert _render(app, "{{ v|ja }}", "en", v=text) == _render(app, "{{ v }}", "en", v=text)


@pytest.mark.parametrize(
    "value", ['<script>alert("x")</script>株式会社', "<b>&'\"</b>", None, 0, 12.5]
)
def test_escaping_is_exactly_jinjas(app: Flask, value: object) -> None:
    for locale in ("en", "ja"):
        plain = _render(app, "{{ v }}", locale, v=value)
        marked = _render(app, "{{ v|ja }}", locale, v=value)
        assert marked in (plain, f"{JA}{plain}</span>")
    english = _render(app, "{{ v|ja }}", "en", v='<script>alert("x")</script>株式会社')
    assert english == f'{JA}&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;株式会社</span>'
    assert "<script>" not in english


def test_markup_is_kept_and_plain_text_templates_get_plain_text(app: Flask) -> None:
    from markupsafe import Markup

    marked = _render(app, "{{ v|ja }}", "en", v=Markup("<b>株式会社</b>"))
    assert marked == f"{JA}<b>株式会社</b></span>"
    source = "{% autoescape false %}{{ v|ja }}{% endautoescape %}"
    assert _render(app, source, "en", v="<株式会社>") == "<株式会社>"


def test_a_name_in_a_translated_sentence_stays_markup(app: Flask) -> None:
    source = "{{ _('Free meetings for %(name)s', name=v|ja) }}"
    marked = _render(app, source, "en", v="<ABC>精工")
    assert marked == f"Free meetings for {JA}&lt;ABC&gt;精工</span>"


def test_kana_readings_are_always_japanese_on_an_english_page(app: Flask) -> None:
    assert _render(app, "{{ v|kana }}", "en", v="ｴｰﾋﾞｰｼｰｾｲｺｳ") == ja("ｴｰﾋﾞｰｼｰｾｲｺｳ")
    # Even without a Japanese character (a reading typed in rōmaji), and also as a parameter.
    assert _render(app, "{{ v|kana }}", "en", v="Yamada") == ja("Yamada")
    assert _render(app, "{{ v|ja(always=True) }}", "en", v="Yamada") == ja("Yamada")
    assert _render(app, "{{ v|kana }}", "en", v="") == ""  # no empty span
    assert _render(app, "{{ v|kana }}", "ja", v="ヤマダ") == "ヤマダ"
    assert _render(app, "{{ v|kana }}", "en", v="<x>") == ja("<x>")


# --------------------------------------------------------------------------- staff pages


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def as_staff(auth: AuthActions, staff: User) -> User:
    assert auth.login("staff@example.jp").status_code == 302
    return staff


def _with_readings(session: Session, event: Event) -> Participant:
    """A supplier whose company and contact person have kana readings."""
    found = busiest_participant(session, event)
    found.organization.name_kana = "テストカナ"
    person = found.attendances[0].person
    person.name, person.name_kana = "山田 太郎", "ヤマダ タロウ"
    session.commit()
    return found


def test_staff_card_and_reception_results_mark_japanese_names(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    company = _with_readings(db_session, fair)
    name, code = company.display_name, company.code
    base = f"/events/{fair.id}/day"
    card, _ = _both(client, f"{base}/participants/{company.id}")
    assert f'<span class="code">{code}</span> {ja(name)}</h1>' in card
    assert f'<p class="muted">{ja("テストカナ")}' in card
    assert f'{ja("山田 太郎")}<small class="muted">{ja("ヤマダ タロウ")}</small>' in card
    counterpart = event_meetings(db_session, fair, participant_id=company.id)[0]
    other = (counterpart.participant_b if counterpart.participant_a_id == company.id
             else counterpart.participant_a)
    assert f'<span class="code">{other.code}</span> {ja(other.display_name)}</span>' in card

    results, _ = _both(client, f"{base}/?q={code}")
    assert (f'<span class="name">{ja(company.organization.name)}'
            f'<small class="muted">{ja("テストカナ")}</small></span>') in results
    # Not in attribute values: the quick check-in button's label stays plain text.
    assert f'aria-label="Check in {code} {escape(company.organization.name)}"' in results

    meetings, _ = _both(client, f"{base}/meetings")
    assert ja(other.display_name) in meetings
    meeting, _ = _both(client, f"{base}/meetings/{counterpart.id}")
    assert f"{ja(name)}</a>" in meeting
    offers, _ = _both(client, f"{base}/participants/{company.id}/offers")
    assert f"{code} {ja(name)}</a></p>" in offers
    assert f"<h1>Free meetings for {ja(name)}</h1>" in offers


def test_the_change_log_marks_the_pair_the_staff_member_and_the_reason(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    from scheduler import day_operations

    staff_user = as_staff
    staff_user.name = "受付 花子"
    db_session.commit()
    item = event_meetings(db_session, fair)[0]
    day_operations.cancel_meeting(
        db_session, fair, item.id, expected_version=item.version, user_id=staff_user.id,
        reason="体調不良のため",
    )
    db_session.commit()
    log, _ = _both(client, f"/events/{fair.id}/day/log")
    assert f'<span class="muted">· {ja("受付 花子")}</span>' in log
    assert f"Why: {ja('体調不良のため')}" in log
    assert f"<li>{JA}{escape(item.participant_a.code)} " in log
    # The undo bar of the day pages names the pair of the staff member's last change.
    home, _ = _both(client, f"/events/{fair.id}/day/")
    assert f'<span class="muted"> · {JA}{escape(item.participant_a.code)} ' in home


def test_the_confirmation_of_a_change_marks_the_affected_companies(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    item = event_meetings(db_session, fair)[0]
    url = f"/events/{fair.id}/day/meetings/change"
    form = {"op": "cancel", "meeting": item.id, "version": item.version}
    _english(client)
    english = client.post(url, data=form).get_data(as_text=True)
    for side in (item.participant_a, item.participant_b):
        assert f'<span class="code">{side.code}</span> {ja(side.display_name)}</li>' in english
    _japanese(client)
    assert JA not in client.post(url, data=form).get_data(as_text=True)


# --------------------------------------------------------------------------- schedule, board


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: frozen.now)
    return frozen


def test_schedule_page_and_live_card_mark_japanese_names(
    client: FlaskClient, db_session: Session, fair: Event, clock: Clock
) -> None:
    b1 = participant(db_session, fair, "B001")
    mine = event_meetings(db_session, fair, include_cancelled=False, participant_id=b1.id)
    first = min(mine, key=lambda m: m.slot.starts_at)
    other = first.participant_b if first.participant_a_id == b1.id else first.participant_a
    clock.now = first.slot.starts_at + timedelta(minutes=1)
    page, _ = _both(client, f"/p/{b1.access_token}/schedule")
    assert f'<p class="breadcrumb">{ja(fair.name)}</p>' in page
    assert f'<p class="muted">{ja(b1.display_name)}' in page
    assert f'<h2 class="meeting-with">{ja(other.display_name)}' in page
    assert f"</strong> {ja(first.table.room.name)}" in page
    # The live card ("Today"): now, with whom.
    live = page.split('id="live-now">', 1)[1].split("</p>", 1)[0]
    assert live.endswith(ja(other.display_name))


def test_hall_board_marks_the_event_room_and_company_names(
    app: Flask, client: FlaskClient, db_session: Session, fair: Event, clock: Clock,
    as_staff: User,
) -> None:
    room = db_session.scalars(select(Room).where(Room.event_id == fair.id)).first()
    with app.app_context():
        token = board_token(fair.id, room.id)
    first = min(fair.slots, key=lambda s: s.starts_at)
    clock.now = first.starts_at + timedelta(minutes=1)
    url = f"/events/{fair.id}/board/{room.id}?token={token}"
    english = _get(client, url + "&lang=en")
    assert f'<p class="board-event">{ja(fair.name)}</p>' in english
    assert f'<h1 class="board-room">{ja(room.name)}</h1>' in english
    assert f"<title>{escape(room.name)} · {escape(fair.name)}</title>" in english  # plain
    now = re.findall(r'<td class="board-now">(.*?)</td>', english)
    assert any(cell.startswith(JA) and f"</span> × {JA}" in cell for cell in now), now
    assert JA not in _get(client, url + "&lang=ja")
    index, _ = _both(client, f"/events/{fair.id}/board")
    assert f">{ja(fair.name)}</a></p>" in index and f"<strong>{ja(room.name)}</strong>" in index


# --------------------------------------------------------------------------- directory, profiles


@pytest.fixture
def small(db_session: Session) -> Fair:
    """The hand-made fair in its preferences phase, with one English-named company and
    one whose name would be markup."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    add_company(db_session, fair.event, "Acme Tooling Ltd.", ParticipantRole.SUPPLIER,
                email="acme@example.com", code="S003")
    add_company(db_session, fair.event, "<script>alert(1)</script>工業", ParticipantRole.SUPPLIER,
                email="x@example.jp", code="S004")
    db_session.commit()
    return fair


def test_directory_marks_japanese_names_and_readings_only(
    client: FlaskClient, db_session: Session, small: Fair, logged_in: User
) -> None:
    listing, japanese = _both(client, f"/events/{small.event.id}/directory")
    assert f">{ja('ＡＢＣ精工株式会社')}</a>" in listing
    assert f"{ja('ｴｰﾋﾞｰｼｰｾｲｺｳ')} · {ja('静岡県浜松市')}" in listing
    assert ">Acme Tooling Ltd.</a>" in listing  # English names are left as they are
    assert f">{ja('<script>alert(1)</script>工業')}</a>" in listing
    assert "<script>alert(1)" not in listing and "<script>alert(1)" not in japanese
    assert ">ＡＢＣ精工株式会社</a>" in japanese
    profile, _ = _both(client, f"/events/{small.event.id}/directory/{small.supplier.id}")
    assert f"<h1>{ja('ＡＢＣ精工株式会社')}</h1>" in profile
    assert f'<p class="prewrap">{ja("アルミの切削加工と試作が得意です。")}</p>' in profile
    buyer, _ = _both(client, f"/events/{small.event.id}/directory/{small.buyer.id}")
    assert f"<h3>{ja('アルミ筐体の試作')}" in buyer


def test_portal_directory_profile_and_own_profile_mark_japanese_data(
    client: FlaskClient, small: Fair
) -> None:
    portal = f"/p/{small.buyer.access_token}"
    listing, _ = _both(client, f"{portal}/directory")
    assert f">{ja('ＡＢＣ精工株式会社')}</a>" in listing
    counterpart, _ = _both(client, f"{portal}/directory/{small.supplier.id}")
    assert f"<h1>{ja('ＡＢＣ精工株式会社')}</h1>" in counterpart
    own, _ = _both(client, f"{portal}/profile")
    assert f"Your contact for this fair: {ja('発注重工株式会社 担当')}" in own
    assert f"<h3>{ja('アルミ筐体の試作')} " in own


# --------------------------------------------------------------------------- requests pages


def test_requests_pages_mark_names_needs_and_notes(
    client: FlaskClient, db_session: Session, small: Fair, app: Flask
) -> None:
    preferences.request_meeting(db_session, small.supplier, small.buyer.id, level=2,
                                note="試作の相談をしたいです")
    preferences.answer_request(db_session, small.buyer, small.supplier.id, accept=True,
                               note="ぜひお願いします")
    proposals.submit_proposal(
        db_session, small.other_supplier, small.need.id,
        ProposalData(offer="薄板で筐体を作ります", track_record="試作30件"),
        uploads_dir=Path(app.config["INSTANCE_UPLOADS"]),
    )
    db_session.commit()
    supplier = f"/p/{small.supplier.access_token}"
    buyer = f"/p/{small.buyer.access_token}"

    mine, _ = _both(client, f"{supplier}/requests")
    assert f">{ja('発注重工株式会社')}</a>" in mine
    assert f'<p class="prewrap note">{ja("試作の相談をしたいです")}</p>' in mine
    assert f"Their note: {ja('ぜひお願いします')}" in mine
    incoming, _ = _both(client, f"{buyer}/incoming")
    assert f">{ja('ＡＢＣ精工株式会社')}</a>" in incoming
    assert f"Their note:</span> {ja('試作の相談をしたいです')}" in incoming
    request_form, _ = _both(client, f"{supplier}/request/{small.buyer.id}")
    assert f"<h1>Change the request to {ja('発注重工株式会社')}</h1>" in request_form
    assert f"{ja('愛知県')}" in request_form
    needs, _ = _both(client, f"{supplier}/buyer-needs")
    assert f"<h2>{ja('アルミ筐体の試作')}</h2>" in needs and ja("秘密ではない説明") in needs
    apply, _ = _both(client, f"{supplier}/buyer-needs/{small.need.id}/apply")
    assert f'<p class="muted">{ja("発注重工株式会社")}</p>' in apply
    sheets, _ = _both(client, f"{buyer}/proposals")
    assert f">{ja('山田板金有限会社')}</a>" in sheets
    assert f'<dd class="prewrap">{ja("薄板で筐体を作ります")}</dd>' in sheets
    suggestions, _ = _both(client, f"{buyer}/suggestions")
    assert f"<h2>{ja('アルミ筐体の試作')}</h2>" in suggestions


# --------------------------------------------------------------------------- results


def test_results_and_report_pages_mark_names_and_notes(
    client: FlaskClient, db_session: Session, fair: Event, logged_in: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scheduler.outcomes import OutcomeInput, save_outcome

    fair.phase = Phase.ON_THE_DAY
    db_session.commit()
    meetings = event_meetings(db_session, fair, include_cancelled=False)
    after = max(m.slot.starts_at for m in meetings) + timedelta(minutes=30)
    monkeypatch.setattr("web.outcomes.utcnow", lambda: after)
    first: Meeting = meetings[0]
    buyer = first.participant_a if first.participant_a.role == "buyer" else first.participant_b
    save_outcome(db_session, buyer, first.id,
                 OutcomeInput(prospect="some", note="見積もりを依頼"), now=after)
    db_session.commit()
    results, _ = _both(client, f"/events/{fair.id}/outcomes")
    assert f'<p class="breadcrumb">{ja(fair.name)}</p>' in results
    assert f">{ja(buyer.display_name)}</a></td>" in results
    assert f'<div class="prewrap small">{ja("見積もりを依頼")}</div>' in results
    record, _ = _both(client, f"/events/{fair.id}/participants/{buyer.id}/outcomes")
    assert f"<h1>{ja(buyer.display_name)} <small" in record
    other = first.participant_b if buyer is first.participant_a else first.participant_a
    assert f'<h2 class="meeting-with">{ja(other.display_name)}' in record
    mine, _ = _both(client, f"/p/{buyer.access_token}/outcomes")
    assert f'<p class="breadcrumb">{ja(fair.name)}</p>' in mine
    assert f'<h2 class="meeting-with">{ja(other.display_name)}' in mine


# --------------------------------------------------------------------------- run review


def test_run_review_lists_mark_company_names(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun
) -> None:
    url = f"/events/{fair.id}/schedule/runs/{solved.id}"
    participants, _ = _both(client, url)
    row = participants.split('<tr id="participant-', 1)[1].split("</tr>", 1)[0]
    assert f"</td><td>{JA}" in row
    meetings, _ = _both(client, url + "?view=meetings")
    row = meetings.split('<tr id="meeting-', 1)[1].split("</tr>", 1)[0]
    assert row.count(JA) == 2


# --------------------------------------------------------------------------- event names


def test_event_list_and_overview_mark_the_event_name(
    client: FlaskClient, fair: Event, logged_in: User
) -> None:
    index, _ = _both(client, "/")
    assert f">{ja(fair.name)}</a></h2>" in index
    overview, _ = _both(client, f"/events/{fair.id}")
    assert f"<h1>{ja(fair.name)}</h1>" in overview
    assert f"<title>{escape(fair.name)} · matchfair</title>" in overview  # titles stay plain
