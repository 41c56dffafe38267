"""The staff console through the web: staff-only, CSRF-protected, and each flow end to end."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.day_operations import meetings_of
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    Participant,
    User,
)
from tests.conftest import PASSWORD, AuthActions
from tests.day_fair import Clock, fill_the_gap_at_ten, local, meeting, participant, slot, table
from tests.published_fair import published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(monkeypatch)
    monkeypatch.setattr("web.staff.utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def as_staff(client: FlaskClient, auth: AuthActions, staff: User) -> User:
    response = auth.login("staff@example.jp")
    assert response.status_code == 302
    # The pages are read in English (the msgids); the Japanese catalog follows later.
    client.post("/language", data={"lang": "en"})
    return staff


def _day(event: Event, path: str = "/") -> str:
    return f"/events/{event.id}/day{path}"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/"),
        ("post", "/scan"),
        ("get", "/log"),
        ("get", "/walk-in"),
        ("get", "/meetings"),
        ("get", "/meetings/check?op=cancel&meeting=1"),
        ("post", "/undo"),
        ("post", "/meetings/change"),
    ],
)
def test_only_logged_in_staff_may_use_the_console(
    client: FlaskClient, fair: Event, method: str, path: str
) -> None:
    response = getattr(client, method)(_day(fair, path))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_event_pages_link_to_the_day_console(
    client: FlaskClient, fair: Event, as_staff: User
) -> None:
    assert f'href="/events/{fair.id}/day/"' in _text(client.get(f"/events/{fair.id}"))


def test_posts_need_the_csrf_token(csrf_app: Flask, db_session: Session, staff: User) -> None:
    event = published_fair(db_session)
    s001 = participant(db_session, event, "S001")
    client = csrf_app.test_client()
    login_page = _text(client.get("/auth/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert token is not None
    client.post(
        "/auth/login",
        data={"email": "staff@example.jp", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    url = _day(event, f"/participants/{s001.id}/status")
    refused = client.post(url, data={"status": "no_show"})
    assert refused.status_code == 400
    db_session.expire_all()
    assert participant(db_session, event, "S001").day_status == DayStatus.EXPECTED

    card = _text(client.get(_day(event, f"/participants/{s001.id}")))
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', card)
    assert form_token is not None
    accepted = client.post(url, data={"status": "no_show", "csrf_token": form_token.group(1)})
    assert accepted.status_code == 302
    db_session.expire_all()
    assert participant(db_session, event, "S001").day_status == DayStatus.NO_SHOW


def test_staff_print_a_companys_sheet_from_its_card(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    """QA: a walk-in could only be handed its schedule through a 193-entry list."""
    s001 = participant(db_session, fair, "S001")
    card = _text(client.get(_day(fair, f"/participants/{s001.id}")))
    link = re.search(r'href="([^"]+)" data-test="print-sheet"', card)
    assert link is not None
    sheet = client.get(link.group(1).replace("&amp;", "&"))
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"


# --------------------------------------------------------------------------- reception


def test_search_by_kana_and_scan_of_a_schedule_link(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    page = _text(client.get(_day(fair, "/?q=こうよう")))
    assert "光洋医科工業株式会社" in page and "B002" in page
    s003 = participant(db_session, fair, "S003")
    link = f"http://localhost/p/{s003.access_token}/schedule"
    # The scanned link is posted: it never appears in an address (history, logs).
    response = client.post(_day(fair, "/scan"), data={"code": link})
    assert response.headers["Location"].endswith(f"/day/participants/{s003.id}")
    unknown = client.post(_day(fair, "/scan"), data={"code": "ZZ9"}, follow_redirects=True)
    assert "No participant has the code “ZZ9”" in _text(unknown)
    # A link that matches nobody (another fair's, a replaced one) is not echoed anywhere.
    stale = f"http://localhost/p/{'x' * 43}/schedule"
    response = client.post(_day(fair, "/scan"), data={"code": stale})
    assert "x" * 43 not in response.headers["Location"]
    assert "x" * 43 not in _text(client.get(response.headers["Location"]))
    assert client.get(_day(fair, "/scan?code=B001")).headers["Location"].endswith("/day/")
    # What the camera read is never said back (a Wi-Fi QR code holds its password).
    wifi = client.post(_day(fair, "/scan"), data={"code": "WIFI:T:WPA;P:pw123;;", "scanned": "1"})
    assert "pw123" not in wifi.headers["Location"]
    assert "pw123" not in _text(client.get(wifi.headers["Location"]))


def test_check_in_one_person_then_the_rest(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    b002 = participant(db_session, fair, "B002")
    first = b002.attendances[0]
    url = _day(fair, f"/participants/{b002.id}/check-in")
    one = client.post(url, data={"person_id": first.person_id})
    # The card stays while some of its people are still to check in ...
    assert one.headers["Location"] == _day(fair, f"/participants/{b002.id}")
    page = _text(client.get(_day(fair, f"/participants/{b002.id}")))
    assert "✓ 09:00" in page and "Check in everyone" in page
    # ... then back to the search for the next company (L17).
    assert client.post(url).headers["Location"] == _day(fair)
    db_session.expire_all()
    b002 = participant(db_session, fair, "B002")
    assert b002.day_status == DayStatus.CHECKED_IN
    assert all(a.checked_in_at is not None for a in b002.attendances)


def test_no_show_shows_the_counterparts_with_a_gap(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    response = client.post(
        _day(fair, f"/participants/{s001.id}/status"),
        data={"status": "no_show", "reason": "連絡なし"},
    )
    assert "change=" in response.headers["Location"]
    page = _text(client.get(response.headers["Location"]))
    assert "These counterparts now have a gap" in page
    gaps = page.split('data-test="gaps"')[1].split("</section>")[0]
    assert "B002" in gaps and "B003" in gaps and "B001" not in gaps  # 10:00 was already over
    assert "Find a replacement" in gaps


def test_a_status_set_by_someone_else_meanwhile_is_not_silently_replaced(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    card = _text(client.get(_day(fair, f"/participants/{s001.id}")))
    seen = re.search(r'name="seen" value="([^"]*)"', card).group(1)
    # Another desk marks the no-show first (its page showed the same status).
    first = client.post(
        _day(fair, f"/participants/{s001.id}/status"), data={"status": "no_show", "seen": seen}
    )
    assert first.status_code == 302
    # This desk, from the card it loaded before, marks the company late.
    second = client.post(
        _day(fair, f"/participants/{s001.id}/status"),
        data={"status": "late", "at": "11:00", "seen": seen},
        follow_redirects=True,
    )
    page = _text(second)
    assert "Someone else changed" in page and "status for the day a moment ago" in page
    assert 'value="11:00"' in page  # what was typed is kept in its form
    db_session.expire_all()
    assert db_session.get(Participant, s001.id).day_status == DayStatus.NO_SHOW


def test_late_arrival_typed_as_a_local_time(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    s003 = participant(db_session, fair, "S003")
    client.post(
        _day(fair, f"/participants/{s003.id}/status"), data={"status": "late", "at": "11:00"}
    )
    db_session.expire_all()
    s003 = participant(db_session, fair, "S003")
    assert s003.day_status == DayStatus.LATE
    assert fair.local(s003.available_from).strftime("%H:%M") == "11:00"


def test_a_late_time_after_the_day_is_refused_and_the_form_keeps_it(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    s003 = participant(db_session, fair, "S003")
    response = client.post(
        _day(fair, f"/participants/{s003.id}/status"),
        data={"status": "late", "at": "23:55", "reason": "電車遅延"},
        follow_redirects=True,
    )
    page = _text(response)
    assert "23:55 is after the day&#39;s last meeting ends" in page
    late_form = page.split('name="status" value="late"')[1].split("</form>")[0]
    assert 'value="23:55"' in late_form and 'value="電車遅延"' in late_form
    assert 'aria-label="Reason (optional)"' in late_form  # a placeholder is not a label
    early_form = page.split('name="status" value="left_early"')[1].split("</form>")[0]
    assert "23:55" not in early_form and "電車遅延" not in early_form
    db_session.expire_all()
    s003 = participant(db_session, fair, "S003")
    assert s003.day_status != DayStatus.LATE
    assert all(m.status == MeetingStatus.PLANNED for m in meetings_of(db_session, s003))


# --------------------------------------------------------------------------- walk-in


def test_walk_in_registration_then_an_offered_meeting(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(12, 30)
    response = client.post(
        _day(fair, "/walk-in"),
        data={"company": "株式会社 飛込精機", "role": "supplier", "contact_name": "飛込 一郎"},
    )
    assert response.status_code == 302 and "/offers" in response.headers["Location"]
    offers = _text(client.get(response.headers["Location"]))
    walk_in = participant(db_session, fair, "S009")
    assert walk_in.registered_via == "walkin"
    form = re.search(
        r'<form method="post" action="[^"]+/meetings/change">(.*?)</form>', offers, re.S
    )
    assert form is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    confirm = client.post(_day(fair, "/meetings/change"), data=fields)
    page = _text(confirm)
    assert "Add this meeting?" in page and "S009" in page.split('data-test="affected"')[1]
    done = client.post(_day(fair, "/meetings/change"), data={**fields, "confirm": "1"})
    assert done.status_code == 302
    added = db_session.scalar(select(Meeting).where(Meeting.participant_b_id == walk_in.id))
    assert added is not None and added.source == "walkin" and added.status == "planned"


def test_walk_in_form_shows_what_is_missing(
    client: FlaskClient, fair: Event, as_staff: User
) -> None:
    page = _text(client.post(_day(fair, "/walk-in"), data={"company": "", "role": "buyer"}))
    assert "Please correct the highlighted fields." in page


WALK_IN = {"company": "株式会社 飛込精機", "role": "supplier", "contact_name": "飛込 一郎"}
TICKED = ["machining.5axis", "sheet_metal.laser_cutting"]


def test_the_walk_in_form_has_the_profiles_technology_picker(
    client: FlaskClient, fair: Event, as_staff: User
) -> None:
    page = _text(client.get(_day(fair, "/walk-in")))
    picker = page.split('id="walk-in-technologies"')[1].split("</form>")[0]
    assert 'class="field choice-groups' in picker  # the macro of the profile form
    for code in TICKED:
        assert f'name="technologies" value="{code}"' in picker
    assert "5-axis machining" in picker and "Machining" in picker


def test_walk_in_technologies_are_saved_with_the_company(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(12, 30)
    response = client.post(_day(fair, "/walk-in"), data={**WALK_IN, "technologies": TICKED})
    assert response.status_code == 302
    walk_in = participant(db_session, fair, "S009")
    assert walk_in.organization.technologies == TICKED


def test_a_buyer_walk_in_keeps_no_technologies(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(12, 30)
    data = {**WALK_IN, "role": "buyer", "technologies": TICKED}
    assert client.post(_day(fair, "/walk-in"), data=data).status_code == 302
    walk_in = db_session.scalar(
        select(Participant).where(
            Participant.event_id == fair.id, Participant.registered_via == "walkin"
        )
    )
    assert walk_in is not None and walk_in.role == "buyer"
    assert walk_in.organization.technologies == []


def _ticked(page: str) -> list[str]:
    return re.findall(r'name="technologies" value="([^"]+)" checked', page)


def test_a_walk_in_form_error_keeps_what_was_typed_and_ticked(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User
) -> None:
    data = {**WALK_IN, "contact_name": "", "technologies": TICKED}
    page = _text(client.post(_day(fair, "/walk-in"), data=data))
    assert "Please correct the highlighted fields." in page
    assert 'value="株式会社 飛込精機"' in page and _ticked(page) == TICKED
    # A refusal by the service (the company is already here) keeps them too.
    known = participant(db_session, fair, "S001").organization.name
    data = {**WALK_IN, "company": known, "technologies": TICKED[:1]}
    page = _text(client.post(_day(fair, "/walk-in"), data=data))
    assert "is already registered in this event (code S001)" in page
    assert _ticked(page) == TICKED[:1]
    assert (
        db_session.scalar(
            select(Participant).where(
                Participant.event_id == fair.id, Participant.registered_via == "walkin"
            )
        )
        is None
    )


def test_the_walk_in_picker_is_in_japanese(
    client: FlaskClient, fair: Event, as_staff: User
) -> None:
    client.post("/language", data={"lang": "ja"})
    page = _text(client.get(_day(fair, "/walk-in")))
    picker = page.split('id="walk-in-technologies"')[1].split("</form>")[0]
    assert "5軸加工" in picker and "切削加工" in picker and "技術" in picker
    assert "5-axis machining" not in picker and "For a supplier" not in picker


# --------------------------------------------------------------------------- meeting changes


def _move_to_15(session: Session, fair: Event) -> dict[str, object]:
    """The form that moves B003–S002 to 15:00 at its own table."""
    item = meeting(session, fair, "B003", "S002")
    return {
        "op": "move",
        "meeting": item.id,
        "version": item.version,
        "slot": slot(session, fair, "15:00").id,
        "table": item.table_id,
    }


def test_move_goes_through_a_confirmation_listing_who_is_affected(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    data = _move_to_15(db_session, fair) | {"reason": "先方の希望"}
    page = _text(client.post(_day(fair, "/meetings/change"), data=data))
    affected = page.split('data-test="affected"')[1].split("</ul>")[0]
    assert "B003" in affected and "S002" in affected
    db_session.expire_all()
    assert meeting(db_session, fair, "B003", "S002").version == 0  # nothing written yet
    done = client.post(
        _day(fair, "/meetings/change"), data={**data, "confirm": "1"}, follow_redirects=True
    )
    # Without a mail server the day console does not repeat that warning on every change
    # (the participants' pages then promise no e-mail).
    assert "No mail server is configured" not in _text(done)
    db_session.expire_all()
    moved = meeting(db_session, fair, "B003", "S002")
    assert moved.slot.label == "15:00" and moved.version == 1
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "day.meeting_move"))
    assert entry is not None and entry.user_id == as_staff.id and entry.reason == "先方の希望"


def test_a_change_on_the_day_emails_both_sides_and_their_pages_mark_it(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    fair: Event,
    as_staff: User,
    clock: Clock,
    smtp_server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The schedule page and the printed sheet promise an e-mail for every change on
    the day: a move reaches both sides (and nobody else), and their pages say which
    meeting changed."""
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    # People wait at the table: a dead mail server may hold the page seconds, not 20.
    from scheduler import notifications

    timeouts = []
    send = notifications.send_notices

    def timed(notices, settings):  # type: ignore[no-untyped-def]
        timeouts.append(settings.timeout)
        return send(notices, settings)

    monkeypatch.setattr(notifications, "send_notices", timed)
    data = _move_to_15(db_session, fair) | {"confirm": "1"}
    page = _text(client.post(_day(fair, "/meetings/change"), data=data, follow_redirects=True))
    assert "2 participants were e-mailed" in page
    links = {
        re.search(r"/p/([\w-]+)/schedule", m.get_payload(decode=True).decode()).group(1)
        for m in inbox.messages
    }
    b003, s002 = participant(db_session, fair, "B003"), participant(db_session, fair, "S002")
    assert links == {b003.access_token, s002.access_token}
    assert timeouts and max(timeouts) <= 4

    mine = _text(client.get(f"/p/{s002.access_token}/schedule"))
    changed = mine.split('data-test="changed"')
    assert len(changed) == 2, "only the moved meeting is marked"
    card = changed[0].rsplit('<li class="meeting-card', 1)[1]
    assert "15:00" in card

    # Marking a company late e-mails the counterparts of the meetings it loses.
    before = len(inbox.messages)
    s003 = participant(db_session, fair, "S003")
    lost = {
        m.participant_a_id if m.participant_b_id == s003.id else m.participant_b_id
        for m in meetings_of(db_session, s003)
        if m.status == MeetingStatus.PLANNED and m.slot.starts_at < local(11, 0)
    }
    assert lost
    client.post(
        _day(fair, f"/participants/{s003.id}/status"), data={"status": "late", "at": "11:00"}
    )
    assert len(inbox.messages) - before == len(lost) + 1


def test_a_stale_version_says_so_and_shows_the_fresh_state(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    item.table_id = table(db_session, fair, "A04").id  # a colleague moved it a moment ago
    item.version = 1
    db_session.commit()
    response = client.post(
        _day(fair, "/meetings/change"),
        data={"op": "cancel", "meeting": item.id, "version": 0, "confirm": "1", "reason": "重複"},
        follow_redirects=True,
    )
    page = _text(response)
    assert "Someone else changed this meeting a moment ago" in page
    state = page.split('data-test="meeting-state"')[1].split("</section>")[0]
    assert "A04" in state and "Changed 1 time, last at" in state
    assert 'name="reason"' in page and 'value="重複"' in page  # kept for the retry
    db_session.expire_all()
    assert meeting(db_session, fair, "B003", "S002").status == MeetingStatus.PLANNED


def test_a_refused_change_lists_every_problem(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    data = {
        "op": "move",
        "meeting": item.id,
        "version": 0,
        "slot": slot(db_session, fair, "10:30").id,
        "table": table(db_session, fair, "A01").id,
        "reason": "先方の希望",
    }
    page = _text(client.post(_day(fair, "/meetings/change"), data=data))
    problems = page.split('data-test="problems"')[1]
    assert "already has a meeting at 10:30" in problems and "own table of B001" in problems
    assert 'data-test="confirm"' not in page
    # Back to the meeting with the reason still typed, to try another slot.
    back = re.search(r'<a class="btn big" href="([^"]+)">Back</a>', page).group(1)
    assert back.startswith(_day(fair, f"/meetings/{item.id}?reason="))
    assert 'value="先方の希望"' in _text(client.get(back.replace("&amp;", "&")))


def test_live_check_answers_in_json(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    free = client.get(
        _day(fair, "/meetings/check"),
        query_string={"op": "move", "meeting": item.id, "slot": slot(db_session, fair, "15:00").id},
    ).get_json()
    assert free["ok"] is True and {a["code"] for a in free["affected"]} == {"B003", "S002"}
    taken = client.get(
        _day(fair, "/meetings/check"),
        query_string={"op": "move", "meeting": item.id, "table": table(db_session, fair, "A01").id},
    ).get_json()
    assert taken["ok"] is False and "own table of B001" in taken["problems"][0]


def test_swap_and_undo_through_the_pages(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    first = meeting(db_session, fair, "B001", "S005")  # 11:30
    second = meeting(db_session, fair, "B001", "S007")  # 13:30
    page = _text(client.get(_day(fair, f"/meetings/{first.id}")))
    assert f'value="{second.id}"' in page  # offered as a swap partner
    client.post(
        _day(fair, "/meetings/change"),
        data={
            "op": "swap",
            "meeting": first.id,
            "version": 0,
            "other": second.id,
            "other_version": 0,
            "confirm": "1",
        },
    )
    db_session.expire_all()
    assert meeting(db_session, fair, "B001", "S005").slot.label == "13:30"
    home = _text(client.get(_day(fair)))
    assert 'data-test="undo"' in home and "Meetings swapped" in home
    client.post(_day(fair, "/undo"))
    db_session.expire_all()
    assert meeting(db_session, fair, "B001", "S005").slot.label == "11:30"
    log = _text(client.get(_day(fair, "/log")))
    assert "Undo" in log and "Meetings swapped" in log and "undone" in log
    assert as_staff.name in log


def test_the_meetings_of_a_slot_and_the_pages_render(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    page = _text(client.get(_day(fair, "/meetings")))
    assert "B001" in page and "A01" in page  # 10:00, the next slot at 09:00
    s001 = participant(db_session, fair, "S001")
    assert "Meetings of the day" in _text(client.get(_day(fair, f"/participants/{s001.id}")))
    other = db_session.scalar(select(Participant).where(Participant.event_id != fair.id))
    assert other is None
    assert client.get(_day(fair, "/participants/99999")).status_code == 404
    assert client.get(_day(fair, "/meetings/99999")).status_code == 404


def test_the_change_log_reads_in_the_readers_language(
    client: FlaskClient, as_staff: User, fair: Event, db_session: Session, clock: Clock
) -> None:
    from scheduler import day_operations as ops

    clock.set(9, 0)
    no_show = participant(db_session, fair, "S001")
    ops.set_day_status(db_session, no_show, DayStatus.NO_SHOW, user_id=as_staff.id)
    db_session.commit()
    client.post("/language", data={"lang": "ja"})
    page = _text(client.get(_day(fair, "/log")))
    lines = re.findall(r"<li>(.*?)</li>", page.split('<ol class="day-log">')[1], re.S)
    assert any("到着前 → 欠席" in line for line in lines)
    assert any("（キャンセル）" in line or "(キャンセル)" in line for line in lines)
    assert "no_show" not in page and "expected" not in page and "(cancelled)" not in page


def test_a_no_show_card_warns_before_a_check_in(
    client: FlaskClient, as_staff: User, fair: Event, db_session: Session, clock: Clock
) -> None:
    from scheduler import day_operations as ops

    clock.set(9, 0)
    s001 = participant(db_session, fair, "S001")
    page = _text(client.get(_day(fair, f"/participants/{s001.id}")))
    assert 'data-test="no-show-warning"' not in page
    assert "This company is marked as a no-show" not in page
    ops.set_day_status(db_session, s001, DayStatus.NO_SHOW, user_id=as_staff.id)
    db_session.commit()
    page = _text(client.get(_day(fair, f"/participants/{s001.id}")))
    # Checking in does not bring its cancelled meetings back: staff are told, and asked.
    assert 'data-test="no-show-warning"' in page
    assert "checking in does not bring them back" in page
    assert 'onsubmit="return confirm(&#34;This company is marked as a no-show' in page


def test_leaving_early_without_a_time_before_the_fair_is_refused(
    client: FlaskClient,
    as_staff: User,
    fair: Event,
    db_session: Session,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'Now' before the fair's day would cancel every meeting, like a no-show."""
    from datetime import timedelta

    days_before = clock.now - timedelta(days=30)
    monkeypatch.setattr("web.staff.utcnow", lambda: days_before)
    clock.now = days_before
    s001 = participant(db_session, fair, "S001")
    response = client.post(
        _day(fair, f"/participants/{s001.id}/status"),
        data={"status": "left_early"},
        follow_redirects=True,
    )
    assert "Enter the time it leaves: today is not a day of the fair." in _text(response)
    db_session.expire_all()
    assert participant(db_session, fair, "S001").day_status == DayStatus.EXPECTED
    assert all(
        m.status == MeetingStatus.PLANNED
        for m in db_session.scalars(
            select(Meeting).where(
                (Meeting.participant_a_id == s001.id) | (Meeting.participant_b_id == s001.id)
            )
        )
    )


# ------------------------------------------------------------- QA 2 (the day of the fair)


def _walk_in(client: FlaskClient, fair: Event) -> str:
    """A walk-in supplier registered at 12:30; its offers page."""
    response = client.post(_day(fair, "/walk-in"), data=WALK_IN)
    assert response.status_code == 302
    return response.headers["Location"]


def _add_forms(page: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
        for form in re.findall(
            r'<form method="post" action="[^"]+/meetings/change">(.*?)</form>', page, re.S
        )
    ]


def test_offers_search_any_counterpart_and_show_all_its_slots(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """M4: a named company (full-width code or kana) and any of its free slots."""
    clock.set(12, 30)
    offers_url = _walk_in(client, fair)
    assert 'name="q"' in _text(client.get(offers_url))
    found = _text(client.get(offers_url, query_string={"q": "ｂ００１"}))
    card = found.split('data-test="offer-B001"')[1].split("</li>")[0]
    assert len(_add_forms(card)) == 4  # the first four, and a link to all of them
    assert "All 5 free slots" in card
    b001 = participant(db_session, fair, "B001")
    every = _text(client.get(offers_url, query_string={"counterpart": b001.id}))
    slots = [f["slot"] for f in _add_forms(every)]
    assert len(slots) == 5 and str(slot(db_session, fair, "16:00").id) in slots
    assert "Every free slot with B001" in every
    by_kana = _text(client.get(offers_url, query_string={"q": "こうよう"}))
    assert 'data-test="offer-B002"' in by_kana
    same_role = _text(client.get(offers_url, query_string={"q": "S001"}))
    assert "No counterpart matches" in same_role
    # A counterpart that cannot meet the walk-in is listed with the reason.
    walk_in = participant(db_session, fair, "S009")
    db_session.add(
        Interest(
            event_id=fair.id,
            from_participant_id=b001.id,
            to_participant_id=walk_in.id,
            declined=True,
            level=0,
        )
    )
    db_session.commit()
    blocked = _text(client.get(offers_url, query_string={"q": "B001"}))
    assert "No meeting can be added:" in blocked and "declined" in blocked


def test_a_refused_add_returns_to_the_offers_page_with_its_search(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """M5: back where the staff member was, with the reason, to pick another slot."""
    clock.set(12, 30)
    offers_url = _walk_in(client, fair)
    page = _text(client.get(offers_url, query_string={"q": "B001"}))
    fields = _add_forms(page)[0]
    assert fields["next"].endswith("/offers?q=B001")
    # Another desk takes that table at that time first.
    b002 = participant(db_session, fair, "B002")
    other = meeting(db_session, fair, "B002", "S001")
    other.slot_id, other.table_id = int(fields["slot"]), int(fields["table"])
    other.version += 1
    db_session.commit()
    assert b002.id  # the table of B001 is now held by B002–S001
    refused = client.post(_day(fair, "/meetings/change"), data={**fields, "confirm": "1"})
    assert refused.status_code == 302
    assert refused.headers["Location"] == fields["next"]
    shown = _text(client.get(refused.headers["Location"]))
    assert "is taken at" in shown and 'value="B001"' in shown
    # The confirmation's Back goes there too.
    confirm = _text(client.post(_day(fair, "/meetings/change"), data=fields))
    assert f'href="{fields["next"]}"' in confirm


def test_an_undo_that_cannot_be_done_says_so_and_is_no_longer_offered(
    client: FlaskClient,
    db_session: Session,
    fair: Event,
    as_staff: User,
    organizer: User,
    clock: Clock,
) -> None:
    """M6."""

    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    client.post(
        _day(fair, "/meetings/change"),
        data={"op": "cancel", "meeting": item.id, "version": 0, "confirm": "1"},
    )
    fill_the_gap_at_ten(db_session, fair, organizer.id)
    db_session.commit()
    assert 'data-test="undo"' in _text(client.get(_day(fair)))
    page = _text(client.post(_day(fair, "/undo"), follow_redirects=True))
    assert "Not undone: a later change is in the way." in page
    assert "Table A03 is taken at 10:00" in page
    assert 'data-test="undo"' not in page  # not offered again, nor anything older
    log = _text(client.get(_day(fair, "/log")))
    assert 'data-test="undo-impossible"' in log
    db_session.expire_all()
    assert meeting(db_session, fair, "B003", "S008").slot.label == "10:00"


def test_a_late_company_checked_in_early_is_told_and_can_meet(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """M7: the check-in opens its day from now and says so."""
    s003 = participant(db_session, fair, "S003")
    client.post(
        _day(fair, f"/participants/{s003.id}/status"), data={"status": "late", "at": "11:00"}
    )
    clock.set(9, 40)
    page = _text(
        client.post(_day(fair, f"/participants/{s003.id}/check-in"), follow_redirects=True)
    )
    assert "It was expected at 11:00 and can meet from now (09:40) on." in page
    card = _text(client.get(_day(fair, f"/participants/{s003.id}")))
    assert "Available from 11:00" not in card
    log = _text(client.get(_day(fair, "/log")))
    assert "can meet from 09:40 (was 11:00)" in log


def test_a_move_of_a_meeting_under_way_is_refused_on_the_confirmation(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """L8: said up front, not only after Confirm; the page offers only a cancellation."""
    clock.set(10, 5)
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    data = {
        "op": "move",
        "meeting": item.id,
        "version": 0,
        "table": table(db_session, fair, "A04").id,
    }
    page = _text(client.post(_day(fair, "/meetings/change"), data=data))
    assert "has already started" in page.split('data-test="problems"')[1]
    assert 'data-test="confirm"' not in page
    check = client.get(_day(fair, "/meetings/check"), query_string=data).get_json()
    assert check["ok"] is False and "has already started" in check["problems"][0]
    card = _text(client.get(_day(fair, f"/meetings/{item.id}")))
    assert 'data-test="started"' in card and 'data-check="move"' not in card
    assert "Check and cancel" in card


def test_every_action_in_the_log_has_a_label(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """L10: the event set-up's day.save (and day.delete) are in the log too."""
    from scheduler import audit

    audit.record(
        db_session, "day.save", event_id=fair.id, details={"date": "2027-02-17", "slots": 11}
    )
    audit.record(db_session, "day.delete", event_id=fair.id, details={"date": "2027-02-18"})
    audit.record(db_session, "day.something_new", event_id=fair.id, details={})
    db_session.commit()
    page = _text(client.get(_day(fair, "/log")))
    assert "Fair day and its slots saved" in page and "2027-02-17: 11 slots" in page
    assert "Fair day deleted" in page and "Other change" in page
    assert "day.save" not in page and "day.delete" not in page and "day.something_new" not in page
    client.post("/language", data={"lang": "ja"})
    assert "day.save" not in _text(client.get(_day(fair, "/log")))


def test_a_walk_ins_full_width_email_is_read_as_typed(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """L11: the shared filter of the e-mail fields."""
    response = client.post(
        _day(fair, "/walk-in"), data={**WALK_IN, "email": " ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ "}
    )
    assert response.status_code == 302
    walk_in = participant(db_session, fair, "S009")
    assert walk_in.attendances[0].person.email == "hanako@example.jp"


def test_reception_search_says_when_there_are_more_results(
    client: FlaskClient, fair: Event, as_staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """L12."""
    monkeypatch.setattr("scheduler.day_operations.MAX_SEARCH_RESULTS", 3)
    page = _text(client.get(_day(fair, "/?q=S00")))
    assert page.count('class="day-result"') == 3
    assert "Only the first 3 are shown. Type more of the name, or the code" in page
    exact = _text(client.get(_day(fair, "/?q=S001")))
    assert 'data-test="more-results"' not in exact


def test_check_in_from_the_results_then_back_to_the_focused_search(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """L17: one tap from the search result, then the search box is ready again."""
    results = _text(client.get(_day(fair, "/?q=B001")))
    b001 = participant(db_session, fair, "B001")
    action = _day(fair, f"/participants/{b001.id}/check-in")
    assert f'action="{action}" class="quick-check-in"' in results
    response = client.post(action)
    assert response.headers["Location"] == _day(fair)
    home = _text(client.get(response.headers["Location"]))
    assert "B001" in home and "checked in." in home
    assert re.search(r'<input type="search" id="q"[^>]*autofocus', home)
    db_session.expire_all()
    assert participant(db_session, fair, "B001").day_status == DayStatus.CHECKED_IN
    again = _text(client.get(_day(fair, "/?q=B001")))
    assert f'action="{action}" class="quick-check-in"' not in again  # already checked in
