"""QA 3 on the day of the fair: what a tester found using the real pages.

Leaving early and late arrival around a meeting under way, a company that comes back,
walk-in names with control characters, the stale-change message, an empty scan code,
forms sent twice, the undo bar on every page, and the meeting page's wording.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import calendars
from scheduler import day_operations as ops
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    User,
)
from tests.day_fair import Clock, local, meeting, participant, slot, table
from tests.day_fair import day_path as _day
from tests.day_fair import flashes as _flashes
from tests.day_fair import page_text as _text
from tests.published_fair import published_fair


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(monkeypatch)
    monkeypatch.setattr("web.staff.utcnow", lambda: clock.now)
    return clock


# --------------------------------------------------------------------------- 1 leaving and arriving


def test_leaving_early_now_keeps_the_meeting_under_way(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """S006 leaves at 13:10, in the middle of its 13:00 meeting: that one took place (at
    least partly) and no replacement is offered for it; only 13:30 is cancelled."""
    clock.set(13, 10)
    under_way = meeting(db_session, fair, "B001", "S006")  # 13:00–13:25
    later = meeting(db_session, fair, "B003", "S006")  # 13:30
    s006 = participant(db_session, fair, "S006")
    result = ops.set_day_status(db_session, s006, "left_early", at=clock.now, user_id=staff.id)
    assert under_way.status == MeetingStatus.PLANNED and under_way.version == 0
    assert later.status == MeetingStatus.CANCELLED
    assert [(g.participant.code, g.slot.label) for g in result.gaps] == [("B003", "13:30")]


def test_a_meeting_that_starts_at_the_leaving_time_is_cancelled(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    s006 = participant(db_session, fair, "S006")
    ops.set_day_status(db_session, s006, "left_early", at=local(13, 30), user_id=staff.id)
    assert meeting(db_session, fair, "B001", "S006").status == MeetingStatus.PLANNED  # 13:00
    cancelled = [m for m in ops.meetings_of(db_session, s006) if m.status == "cancelled"]
    assert [m.slot.label for m in cancelled] == ["13:30"]


def test_arriving_late_during_a_meeting_under_way_joins_it(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """At 10:05 S003 calls: it arrives at 10:15. Its 10:00 meeting is under way (B002
    waits at the table, nobody else can take the slot): kept, it joins it late."""
    clock.set(10, 5)
    s003 = participant(db_session, fair, "S003")  # 10:00 B002, 10:30 B001, 11:30 B003
    result = ops.set_day_status(db_session, s003, "late", at=local(10, 15), user_id=staff.id)
    assert meeting(db_session, fair, "B002", "S003").status == MeetingStatus.PLANNED
    assert result.gaps == [] and result.meetings == []


def test_arriving_after_a_meeting_under_way_ends_loses_it(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """Arriving at 10:40: the 10:00 meeting ends before (lost), and the 10:30 one, not
    started yet, is given up so that B001 can meet someone else for the whole slot."""
    clock.set(10, 5)
    s003 = participant(db_session, fair, "S003")
    result = ops.set_day_status(db_session, s003, "late", at=local(10, 40), user_id=staff.id)
    assert sorted((g.participant.code, g.slot.label) for g in result.gaps) == [
        ("B001", "10:30"),
        ("B002", "10:00"),
    ]
    assert meeting(db_session, fair, "B003", "S003").status == MeetingStatus.PLANNED  # 11:30


def test_leaving_early_on_the_card_with_no_time_keeps_the_meeting_under_way(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(13, 10)
    s006 = participant(db_session, fair, "S006")
    response = client.post(
        _day(fair, f"/participants/{s006.id}/status"), data={"status": "left_early", "at": ""}
    )
    page = _text(client.get(response.headers["Location"]))
    gaps = page.split('data-test="gaps"')[1].split("</section>")[0]
    assert "B003" in gaps and "B001" not in gaps
    db_session.expire_all()
    assert meeting(db_session, fair, "B001", "S006").status == MeetingStatus.PLANNED


# --------------------------------------------------------------------------- 2 coming back


def test_checking_in_a_company_that_left_early_reopens_its_day(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    s006 = participant(db_session, fair, "S006")
    clock.set(9, 30)
    ops.check_in(db_session, s006, user_id=staff.id)
    clock.set(13, 10)
    ops.set_day_status(db_session, s006, "left_early", at=clock.now, user_id=staff.id)
    assert ops.walk_in_offers(db_session, s006) == []  # gone: nothing to offer
    clock.set(14, 20)  # it came back
    result = ops.check_in(db_session, s006, user_id=staff.id)
    assert s006.day_status == DayStatus.CHECKED_IN and s006.available_until is None
    assert result.entry.details["reopened_until"] == {"before": "13:10", "after": ""}
    assert ops.walk_in_offers(db_session, s006)  # it can be given meetings again
    # The cancelled 13:30 meeting is not restored.
    assert all(
        m.status == MeetingStatus.CANCELLED
        for m in ops.meetings_of(db_session, s006)
        if m.slot.label == "13:30"
    )
    ops.undo_last(db_session, fair, user_id=staff.id)  # the check-in, audited like the rest
    assert s006.day_status == DayStatus.LEFT_EARLY and s006.available_until == local(13, 10)


def test_coming_back_restores_the_window_registered_before_leaving(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    """Registered as staying until 15:00; left at 13:10, then corrected to 13:05; back:
    until 15:00 again, not until the first leaving time."""
    s006 = participant(db_session, fair, "S006")
    s006.available_until = local(15, 0)
    db_session.flush()
    clock.set(13, 10)
    ops.set_day_status(db_session, s006, "left_early", at=clock.now, user_id=staff.id)
    clock.set(13, 12)
    ops.set_day_status(db_session, s006, "left_early", at=local(13, 5), user_id=staff.id)
    clock.set(14, 0)
    result = ops.check_in(db_session, s006, user_id=staff.id)
    assert s006.available_until == local(15, 0)
    assert result.entry.details["reopened_until"] == {"before": "13:05", "after": "15:00"}


def test_the_card_of_a_company_that_left_offers_to_check_it_in_again(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    s006 = participant(db_session, fair, "S006")
    client.post(_day(fair, f"/participants/{s006.id}/check-in"))
    clock.set(13, 10)
    client.post(_day(fair, f"/participants/{s006.id}/status"), data={"status": "left_early"})
    card = _text(client.get(_day(fair, f"/participants/{s006.id}")))
    assert 'data-test="came-back"' in card and "Available until 13:10" in card
    clock.set(14, 20)
    response = client.post(_day(fair, f"/participants/{s006.id}/check-in"), follow_redirects=True)
    page = _text(response)
    assert "It was marked as leaving at 13:10; that is cleared" in page
    assert 'data-test="day-status">Checked in<' in page
    assert "Available until" not in page and 'data-test="came-back"' not in page
    log = _text(client.get(_day(fair, "/log")))
    assert "Came back after leaving at 13:10" in log


# --------------------------------------------------------------------------- 3 walk-in names


def test_a_walk_ins_names_lose_control_and_direction_characters(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    clock.set(12, 30)
    walk_in = ops.register_walk_in(
        db_session,
        fair,
        company="飛込\x00精機\u202e",
        company_kana="トビコミ\x07セイキ",
        role="supplier",
        contact_name="飛込\x07 一郎\n",
        email="ichiro@tobikomi.example.jp\x00",
        phone="03-1234\x1b-5678",
        user_id=staff.id,
    )
    assert walk_in.organization.name == "飛込精機"
    assert walk_in.organization.name_kana == "トビコミセイキ"
    contact = walk_in.attendances[0].person
    assert (contact.name, contact.email, contact.phone) == (
        "飛込 一郎",
        "ichiro@tobikomi.example.jp",
        "03-1234-5678",
    )
    # The counterpart's calendar entry is valid iCalendar.
    b001 = participant(db_session, fair, "B001")
    ops.add_meeting(
        db_session,
        fair,
        a_id=b001.id,
        b_id=walk_in.id,
        slot_id=slot(db_session, fair, "16:00").id,
        table_id=table(db_session, fair, "A01").id,
        user_id=staff.id,
    )
    body = calendars.participant_feed(db_session, b001).body.decode()
    assert "飛込精機" in body and "\x00" not in body and "\u202e" not in body
    # Nothing left once cleaned is missing, as an empty field is.
    with pytest.raises(ValidationFailed, match="company name"):
        ops.register_walk_in(
            db_session, fair, company="\x00\u202e", role="buyer", contact_name="x", user_id=None
        )


def test_the_walk_in_form_stores_clean_names(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    response = client.post(
        _day(fair, "/walk-in"),
        data={
            "company": "株式会社\x00 飛込\u202e精機",
            "role": "buyer",
            "contact_name": "飛\x07込",
        },
    )
    assert response.status_code == 302
    walk_in = participant(db_session, fair, "B004")
    assert walk_in.organization.name == "株式会社 飛込精機"
    assert walk_in.attendances[0].person.name == "飛込"


# --------------------------------------------------------------------------- 4 stale message


def test_a_stale_change_names_the_status_apart_from_the_place(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")  # 10:00 A03
    ops.cancel_meeting(db_session, fair, item.id, expected_version=0, user_id=organizer.id)
    with pytest.raises(ops.StaleState) as caught:
        ops.move_meeting(
            db_session,
            fair,
            item.id,
            expected_version=0,
            table_id=table(db_session, fair, "A04").id,
            user_id=staff.id,
        )
    assert caught.value.params["place"] == "10:00 A03"
    assert caught.value.params["status"] == "cancelled"


def test_a_stale_change_reads_in_japanese_without_a_raw_status(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    client.post("/language", data={"lang": "ja"})
    item = meeting(db_session, fair, "B003", "S002")
    item.status = MeetingStatus.CANCELLED  # a colleague cancelled it a moment ago
    item.version = 1
    db_session.commit()
    page = _text(
        client.post(
            _day(fair, "/meetings/change"),
            data={"op": "cancel", "meeting": item.id, "version": 0, "confirm": "1"},
            follow_redirects=True,
        )
    )
    message = _flashes(page)
    assert "10:00 A03" in message and "キャンセル" in message
    assert "(cancelled)" not in message and ")）" not in message

    # A planned meeting moved meanwhile: the translated sentence closes one bracket.
    other = meeting(db_session, fair, "B003", "S004")  # 10:30 A03
    other.table_id = table(db_session, fair, "A04").id
    other.version = 1
    db_session.commit()
    page = _text(
        client.post(
            _day(fair, "/meetings/change"),
            data={"op": "cancel", "meeting": other.id, "version": 0, "confirm": "1"},
            follow_redirects=True,
        )
    )
    message = _flashes(page)
    assert "10:30 A04）" in message and ")）" not in message


# --------------------------------------------------------------------------- 5 empty scan code


def test_an_empty_scan_code_says_what_to_do(
    client: FlaskClient, fair: Event, as_staff: User
) -> None:
    home = _text(client.get(_day(fair)))
    field = re.search(r'<input type="text" id="code"[^>]*>', home)
    assert field is not None and " required" in field.group(0)
    for typed in ("", "   "):
        page = _text(client.post(_day(fair, "/scan"), data={"code": typed}, follow_redirects=True))
        assert "Type a participant&#39;s code, or scan its QR code." in page
        assert "No participant has the code" not in page


# --------------------------------------------------------------------------- 6 forms sent twice


WALK_IN = {"company": "株式会社 飛込精機", "role": "supplier", "contact_name": "飛込 一郎"}


def test_a_walk_in_sent_twice_is_registered_once_and_says_so(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(12, 30)
    first = client.post(_day(fair, "/walk-in"), data=WALK_IN)
    second = client.post(_day(fair, "/walk-in"), data=WALK_IN, follow_redirects=False)
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    page = _text(client.get(second.headers["Location"]))
    assert "registered as S009 and checked in" in page
    assert "already registered" not in page
    count = db_session.scalar(
        select(func.count(Participant.id)).where(
            Participant.event_id == fair.id, Participant.registered_via == "walkin"
        )
    )
    assert count == 1


def test_a_second_walk_in_registration_is_still_refused(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    """Only the same user's same form a moment ago is a repeat: a colleague registering
    the company too, another contact, or a minute later is refused with the code."""
    clock.set(12, 30)
    kwargs = {"company": "飛込精機", "role": "buyer", "contact_name": "飛込"}
    walk_in = ops.register_walk_in(db_session, fair, **kwargs, user_id=staff.id)
    entries = db_session.scalar(select(func.count(AuditEntry.id)))
    assert ops.register_walk_in(db_session, fair, **kwargs, user_id=staff.id) is walk_in
    assert db_session.scalar(select(func.count(AuditEntry.id))) == entries  # nothing written
    for user, changed in (
        (organizer.id, {}),
        (staff.id, {"contact_name": "別人"}),
        (staff.id, {"role": "supplier"}),
    ):
        with pytest.raises(ValidationFailed, match="already registered"):
            ops.register_walk_in(db_session, fair, **(kwargs | changed), user_id=user)
    clock.now += timedelta(seconds=61)
    with pytest.raises(ValidationFailed, match="already registered"):
        ops.register_walk_in(db_session, fair, **kwargs, user_id=staff.id)


def test_a_change_confirmed_twice_is_saved_once_without_a_false_conflict(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    fair: Event,
    as_staff: User,
    clock: Clock,
    smtp_server,
) -> None:
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    item = meeting(db_session, fair, "B003", "S002")
    data = {
        "op": "move",
        "meeting": item.id,
        "version": 0,
        "slot": slot(db_session, fair, "15:00").id,
        "table": item.table_id,
        "confirm": "1",
    }
    client.post(_day(fair, "/meetings/change"), data=data)
    mails = len(inbox.messages)
    page = _text(client.post(_day(fair, "/meetings/change"), data=data, follow_redirects=True))
    assert "Saved. Affected: B003, S002." in page
    assert "Someone else changed" not in page
    assert len(inbox.messages) == mails  # e-mailed once
    db_session.expire_all()
    moved = meeting(db_session, fair, "B003", "S002")
    assert moved.slot.label == "15:00" and moved.version == 1


@pytest.mark.parametrize("op", ["cancel", "swap"])
def test_a_cancel_or_swap_sent_twice_is_done_once(
    db_session: Session, fair: Event, clock: Clock, staff: User, op: str
) -> None:
    first = meeting(db_session, fair, "B001", "S005")  # 11:30
    second = meeting(db_session, fair, "B001", "S007")  # 13:30

    def send() -> ops.ChangeResult:
        if op == "cancel":
            return ops.cancel_meeting(
                db_session, fair, first.id, expected_version=0, user_id=staff.id
            )
        return ops.swap_meetings(
            db_session, fair, first.id, second.id, expected_versions=(0, 0), user_id=staff.id
        )

    done = send()
    again = send()
    assert again.repeated and again.entry.id == done.entry.id
    assert first.version == 1  # not changed twice
    if op == "swap":
        assert first.slot.label == "13:30" and second.slot.label == "11:30"


def test_a_stale_version_is_still_a_conflict_when_it_is_not_the_same_action(
    db_session: Session, fair: Event, clock: Clock, staff: User, organizer: User
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    a04, a05 = table(db_session, fair, "A04"), table(db_session, fair, "A05")
    ops.move_meeting(
        db_session, fair, item.id, expected_version=0, table_id=a04.id, user_id=staff.id
    )
    with pytest.raises(ops.StaleState):  # the same user, but elsewhere
        ops.move_meeting(
            db_session, fair, item.id, expected_version=0, table_id=a05.id, user_id=staff.id
        )
    with pytest.raises(ops.StaleState):  # the same move, by someone else
        ops.move_meeting(
            db_session, fair, item.id, expected_version=0, table_id=a04.id, user_id=organizer.id
        )
    clock.now += timedelta(seconds=61)
    with pytest.raises(ops.StaleState):  # the same move, but not a moment ago
        ops.move_meeting(
            db_session, fair, item.id, expected_version=0, table_id=a04.id, user_id=staff.id
        )


def test_an_add_sent_twice_is_added_once(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(12, 30)
    b001 = participant(db_session, fair, "B001")
    s009 = ops.register_walk_in(
        db_session, fair, company="飛込精機", role="supplier", contact_name="飛込", user_id=None
    )
    db_session.commit()
    data = {
        "op": "add",
        "a": b001.id,
        "b": s009.id,
        "slot": slot(db_session, fair, "16:00").id,
        "table": table(db_session, fair, "A01").id,
        "confirm": "1",
    }
    client.post(_day(fair, "/meetings/change"), data=data)
    page = _text(client.post(_day(fair, "/meetings/change"), data=data, follow_redirects=True))
    assert "Saved. Affected: B001, S009." in _flashes(page)
    assert "already meet" not in page and "is taken" not in page
    count = db_session.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.participant_a_id == b001.id,
            Meeting.participant_b_id == s009.id,
            Meeting.status == MeetingStatus.PLANNED,
        )
    )
    assert count == 1


def test_a_status_and_a_check_in_sent_twice_are_done_once(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    card = _text(client.get(_day(fair, f"/participants/{s001.id}")))
    seen = re.search(r'name="seen" value="([^"]*)"', card).group(1)
    url = _day(fair, f"/participants/{s001.id}/status")
    client.post(url, data={"status": "no_show", "seen": seen})
    page = _text(client.post(url, data={"status": "no_show", "seen": seen}, follow_redirects=True))
    assert "No-show. 2 meetings cancelled." in page and "Someone else changed" not in page
    assert (
        db_session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "day.no_show")
        )
        == 1
    )

    b002 = participant(db_session, fair, "B002")
    client.post(_day(fair, f"/participants/{b002.id}/check-in"))
    page = _text(
        client.post(_day(fair, f"/participants/{b002.id}/check-in"), follow_redirects=True)
    )
    assert "checked in." in page and "already checked in" not in page


def test_undo_clicked_twice_undoes_only_the_change_it_showed(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    first = meeting(db_session, fair, "B003", "S002")
    second = meeting(db_session, fair, "B003", "S004")
    for item in (first, second):
        client.post(
            _day(fair, "/meetings/change"),
            data={"op": "cancel", "meeting": item.id, "version": 0, "confirm": "1"},
        )
    home = _text(client.get(_day(fair)))
    entry = re.search(r'name="entry" value="(\d+)"', home).group(1)
    client.post(_day(fair, "/undo"), data={"entry": entry})
    page = _text(client.post(_day(fair, "/undo"), data={"entry": entry}, follow_redirects=True))
    assert "Undone." in page
    db_session.expire_all()
    assert db_session.get(Meeting, second.id).status == MeetingStatus.PLANNED  # undone
    assert db_session.get(Meeting, first.id).status == MeetingStatus.CANCELLED  # not undone


def test_undo_of_a_change_that_is_no_longer_the_last_is_refused(
    db_session: Session, fair: Event, clock: Clock, staff: User
) -> None:
    first = meeting(db_session, fair, "B003", "S002")
    shown = ops.cancel_meeting(db_session, fair, first.id, expected_version=0, user_id=staff.id)
    second = meeting(db_session, fair, "B003", "S004")
    ops.cancel_meeting(db_session, fair, second.id, expected_version=0, user_id=staff.id)
    with pytest.raises(Conflict, match="no longer the one the page showed"):
        ops.undo_last(db_session, fair, user_id=staff.id, entry_id=shown.entry.id)
    assert second.status == MeetingStatus.CANCELLED


def test_the_console_sends_each_form_once(client: FlaskClient, fair: Event, as_staff: User) -> None:
    for path in ("/", "/walk-in", "/meetings"):
        assert "matchfairSubmitOnce" in _text(client.get(_day(fair, path)))


# --------------------------------------------------------------------------- 7 undo everywhere


def test_the_undo_bar_is_on_the_page_a_change_leads_to(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    done = client.post(
        _day(fair, "/meetings/change"),
        data={"op": "cancel", "meeting": item.id, "version": 0, "confirm": "1"},
    )
    assert 'data-test="undo"' in _text(client.get(done.headers["Location"]))  # the meeting
    s002 = participant(db_session, fair, "S002")
    offers = _text(client.get(_day(fair, f"/participants/{s002.id}/offers")))
    assert 'data-test="undo"' in offers and "Meeting cancelled" in offers
    assert 'data-test="undo"' in _text(client.get(_day(fair, "/meetings")))
    assert 'data-test="undo"' in _text(client.get(_day(fair, "/log")))


def test_the_undo_bar_of_a_no_show_leads_with_the_company(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    client.post(_day(fair, f"/participants/{s001.id}/status"), data={"status": "no_show"})
    home = _text(client.get(_day(fair)))
    bar = home.split('data-test="undo-bar"')[1].split("</form>")[0]
    strong = re.sub(r"<[^>]+>", "", re.search(r"<strong>(.*?)</strong>", bar, re.S).group(1))
    assert strong.startswith("S001") and strong.rstrip().endswith("No-show")
    assert "and 2 more" in bar
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "day.no_show"))
    assert entry.details["lines"][0]["after"] == "no_show"  # the log leads with it too


# --------------------------------------------------------------------------- 8 meeting page


def test_the_meeting_page_says_how_often_it_was_changed_only_when_it_was(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    page = _text(client.get(_day(fair, f"/meetings/{item.id}")))
    state = page.split('data-test="meeting-state"')[1].split("</section>")[0]
    assert "Version" not in state and "Changed" not in state
    clock.set(9, 25)
    ops.move_meeting(
        db_session,
        fair,
        item.id,
        expected_version=0,
        table_id=table(db_session, fair, "A04").id,
        user_id=as_staff.id,
    )
    db_session.commit()
    page = _text(client.get(_day(fair, f"/meetings/{item.id}")))
    assert "Changed 1 time, last at 09:25" in page


# --------------------------------------------------------------------------- 10 late time


def test_a_time_that_is_not_one_is_refused_and_kept(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    clock.set(10, 45)
    s001 = participant(db_session, fair, "S001")
    card = _text(client.get(_day(fair, f"/participants/{s001.id}")))
    assert 'id="late-at" name="at" required step="60"' in card
    assert 'step="300"' not in card
    for status in ("late", "left_early"):  # left early: not taken for "now"
        page = _text(
            client.post(
                _day(fair, f"/participants/{s001.id}/status"),
                data={"status": status, "at": "25:99"},
                follow_redirects=True,
            )
        )
        assert "“25:99” is not a time of day" in page and "Give the time" not in page
        form = page.split(f'name="status" value="{status}"')[1].split("</form>")[0]
        assert 'value="25:99"' in form
    db_session.expire_all()
    s001 = participant(db_session, fair, "S001")
    assert s001.day_status == DayStatus.EXPECTED
    # 22:32, one minute off the five-minute grid, is a time.
    client.post(
        _day(fair, f"/participants/{s001.id}/status"), data={"status": "late", "at": "12:32"}
    )
    db_session.expire_all()
    assert (
        fair.local(participant(db_session, fair, "S001").available_from).strftime("%H:%M")
        == "12:32"
    )


# --------------------------------------------------------------------------- 11 swap and move


def test_the_swap_list_starts_with_nothing_chosen(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    first = meeting(db_session, fair, "B001", "S005")
    page = _text(client.get(_day(fair, f"/meetings/{first.id}")))
    select_ = re.search(r'<select id="swap-other"[^>]*>\s*<option([^>]*)>', page)
    assert select_ is not None and 'value=""' in select_.group(1)
    assert "required" in select_.group(0)
    refused = client.post(
        _day(fair, "/meetings/change"),
        data={"op": "swap", "meeting": first.id, "version": 0, "other": ""},
        follow_redirects=True,
    )
    assert refused.status_code == 200
    assert "Choose another meeting to swap with." in _text(refused)


def test_a_swap_confirmed_without_the_script_uses_the_version_it_showed(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    """The list carries no version without its script: the confirmation supplies it."""
    first = meeting(db_session, fair, "B001", "S005")  # 11:30
    second = meeting(db_session, fair, "B001", "S007")  # 13:30
    second.version = 2  # changed earlier today
    db_session.commit()
    page = _text(
        client.post(
            _day(fair, "/meetings/change"),
            data={"op": "swap", "meeting": first.id, "version": 0, "other": second.id},
        )
    )
    fields = dict(
        re.findall(r'name="(\w+)" value="([^"]*)"', page.split('data-test="affected"')[1])
    )
    assert fields["other_version"] == "2"
    client.post(_day(fair, "/meetings/change"), data={**fields, "confirm": "1"})
    db_session.expire_all()
    assert meeting(db_session, fair, "B001", "S005").slot.label == "13:30"


def test_a_move_to_where_the_meeting_is_is_refused_at_the_first_step(
    client: FlaskClient, db_session: Session, fair: Event, as_staff: User, clock: Clock
) -> None:
    item = meeting(db_session, fair, "B003", "S002")
    page = _text(
        client.post(
            _day(fair, "/meetings/change"),
            data={
                "op": "move",
                "meeting": item.id,
                "version": 0,
                "slot": item.slot_id,
                "table": item.table_id,
            },
        )
    )
    assert "The meeting is already there." in page
    assert 'data-test="confirm"' not in page
