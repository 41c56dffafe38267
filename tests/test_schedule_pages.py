"""The personal schedule page behind a participant's secret link, the staff outputs page
and feed, and the organizer's CSV/Excel exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import (
    Event,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    Participant,
    ParticipantStatus,
    Phase,
)
from scheduler.schedule_export import HEADERS, JAPANESE, export_labels, schedule_rows
from scheduler.schedule_view import event_meetings, personal_schedule
from tests.published_fair import busiest_participant, published_fair
from web.schedule_outputs import staff_feed_token

EN = {"Accept-Language": "en"}  # for the staff pages (participants' follow their locale)


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


@pytest.fixture
def participant(db_session: Session, fair: Event) -> Participant:
    """The busiest participant, reading its pages in English (the assertions' language)."""
    participant = busiest_participant(db_session, fair)
    participant.locale = "en"
    db_session.commit()
    return participant


def _page(client, participant: Participant) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/p/{participant.access_token}/schedule")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _meetings(session: Session, event: Event) -> list[Meeting]:
    return list(session.scalars(select(Meeting).where(Meeting.event_id == event.id)))


# --------------------------------------------------------------------------- personal page


def test_page_shows_only_its_own_meetings(client, db_session, fair, participant) -> None:
    body = _page(client, participant)
    schedule = personal_schedule(db_session, participant)
    met = {v.counterpart.id for v in schedule.meetings}
    assert met
    for view in schedule.meetings:
        assert view.counterpart.display_name in body
        assert f'<strong class="table-label">{view.table.label}</strong>' in body
    strangers = [p for p in fair.participants if p.id not in met and p.id != participant.id]
    assert strangers
    for stranger in strangers:
        assert stranger.display_name not in body


def test_page_shows_purpose_profile_and_free_slots(client, db_session, participant) -> None:
    schedule = personal_schedule(db_session, participant)
    meeting = schedule.meetings[0].meeting
    meeting.purpose = "試作の相談と見積り依頼"
    db_session.commit()
    body = _page(client, participant)
    assert "試作の相談と見積り依頼" in body
    counterpart = schedule.meetings[0].counterpart
    assert counterpart.organization.prefecture in body
    free = personal_schedule(db_session, participant).free_slots
    assert free, "the greedy fair leaves free slots"
    assert f'datetime="{schedule.meetings[0].slot.starts_at.isoformat()}"' in body
    assert "Free slots" in body


def test_a_company_with_two_desks_sees_how_many_are_free(client, db_session, participant) -> None:
    # With a second desk, every slot of a meeting still has one desk free: it is listed
    # as free, with that said, and a slot without meetings is listed plainly.
    participant.parallel_desks = 2
    db_session.commit()
    schedule = personal_schedule(db_session, participant)
    taken = {view.slot.id for view in schedule.meetings}
    assert taken <= {slot.id for slot in schedule.free_slots}
    assert {schedule.desks_free(slot) for slot in schedule.free_slots if slot.id in taken} == {1}
    assert any(slot.id not in taken for slot in schedule.free_slots)
    free_list = _page(client, participant).split('class="free-slots"', 1)[1].split("</ul>", 1)[0]
    assert free_list.count("(1 of your desks free)") == len(taken)
    assert "2 of your desks free" not in free_list


def test_page_lists_a_cancelled_meeting_apart(client, db_session, participant) -> None:
    view = personal_schedule(db_session, participant).meetings[0]
    view.meeting.status = MeetingStatus.CANCELLED
    view.meeting.version += 1
    db_session.commit()
    body = _page(client, participant)
    cancelled_section = body.split('class="card cancelled-meetings"', 1)[1]
    assert view.counterpart.display_name in cancelled_section.split("</section>", 1)[0]
    main_list = body.split('class="meeting-list"', 1)[1].split("</ol>", 1)[0]
    assert view.counterpart.display_name not in main_list


def test_page_before_publication_says_so_and_shows_nothing(
    client, db_session, fair, participant
) -> None:
    names = {
        v.counterpart.display_name for v in personal_schedule(db_session, participant).meetings
    }
    fair.phase, fair.published_at = Phase.SCHEDULING, None
    db_session.commit()
    body = _page(client, participant)
    assert "Not published yet" in body
    assert names and not any(name in body for name in names)


def test_page_offers_calendar_subscriptions_and_explains_google_delay(client, participant) -> None:
    body = _page(client, participant)
    feed = f"http://localhost/cal/{participant.feed_token}.ics"
    webcal = f"webcal://localhost/cal/{participant.feed_token}.ics"
    assert feed in body and f'href="{webcal}"' in body
    google = next(
        line for line in body.splitlines() if "calendar.google.com/calendar/r?cid=" in line
    )
    href = google.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert parse_qs(urlsplit(href).query)["cid"] == [webcal]
    outlook = next(line for line in body.splitlines() if "outlook.live.com" in line)
    href = outlook.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert urlsplit(href).path == "/calendar/0/addfromweb"
    query = parse_qs(urlsplit(href).query)
    assert query["url"] == [feed] and participant.display_name in query["name"][0]
    assert "Google Calendar refreshes subscribed calendars only every several hours" in body
    # E-mail is promised only where a mail server is configured.
    assert "Same-day changes are always shown on this page" in body and "e-mail" not in body


def test_the_page_promises_e_mail_only_with_a_mail_server(app, client, participant) -> None:
    app.config.update(MAIL_SERVER="smtp.example.jp")
    assert "Same-day changes are always sent to you by e-mail" in _page(client, participant)


def test_page_is_in_the_participants_language(client, db_session, participant) -> None:
    participant.locale = "ja"
    db_session.commit()
    body = client.get(f"/p/{participant.access_token}/schedule", headers=EN).get_data(as_text=True)
    assert '<html lang="ja">' in body
    assert "Google Calendar refreshes subscribed calendars" not in body
    assert '<html lang="en">' in _page(client, _as_english(db_session, participant))


def _as_english(session: Session, participant: Participant) -> Participant:
    participant.locale = "en"
    session.commit()
    return participant


@pytest.mark.parametrize("suffix", ["schedule", "schedule.ics", "schedule.pdf"])
def test_unknown_tokens_get_404(client, participant, suffix) -> None:
    assert client.get(f"/p/not-a-real-token/{suffix}").status_code == 404
    # The feed token only opens the feed, never the page.
    assert client.get(f"/p/{participant.feed_token}/{suffix}").status_code == 404


def test_withdrawn_participant_link_is_closed(client, db_session, participant) -> None:
    participant.status = ParticipantStatus.WITHDRAWN
    db_session.commit()
    assert client.get(f"/p/{participant.access_token}/schedule").status_code == 404
    # The feed empties the subscribed calendars (tests/test_retired_feeds.py).
    feed = client.get(f"/cal/{participant.feed_token}.ics")
    assert feed.status_code == 200 and b"BEGIN:VEVENT" not in feed.data


def test_each_token_shows_its_own_participant(client, db_session, fair, participant) -> None:
    other = next(
        p for p in fair.participants if p.id != participant.id and p.role != participant.role
    )
    body = client.get(f"/p/{other.access_token}/schedule", headers=EN).get_data(as_text=True)
    assert other.display_name in body
    own_only = {
        v.counterpart.display_name for v in personal_schedule(db_session, participant).meetings
    } - {v.counterpart.display_name for v in personal_schedule(db_session, other).meetings}
    for name in own_only - {other.display_name}:
        assert name not in body


# --------------------------------------------------------------------------- staff


def test_outputs_page_links_everything_for_the_organizer(client, logged_in, fair) -> None:
    response = client.get(f"/events/{fair.id}/schedule/outputs", headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for path in ("print/sheets.pdf", "print/tables.pdf", "print/grid.pdf", "schedule.xlsx"):
        assert f"/events/{fair.id}/{path}" in body
    assert f"/cal/events/{fair.id}/" in body


def test_staff_feed_by_login_and_by_derived_token(
    client, app, auth, staff, db_session, fair
) -> None:
    assert client.get(f"/events/{fair.id}/calendar.ics").status_code == 302
    with app.test_request_context():
        token = staff_feed_token(fair.id)
    subscribed = client.get(f"/cal/events/{fair.id}/{token}.ics")
    assert subscribed.status_code == 200
    assert subscribed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert subscribed.data.count(b"BEGIN:VEVENT") == len(_meetings(db_session, fair))
    assert client.get(f"/cal/events/{fair.id}/{'0' * 40}.ics").status_code == 404
    assert client.get(f"/cal/events/{fair.id + 1}/{token}.ics").status_code == 404
    auth.login("staff@example.jp")
    logged = client.get(f"/events/{fair.id}/calendar.ics")
    assert logged.status_code == 200 and logged.data == subscribed.data


# --------------------------------------------------------------------------- exports


def test_csv_export_has_bom_japanese_headers_and_every_meeting(
    client, logged_in, db_session, fair
) -> None:
    response = client.get(f"/events/{fair.id}/schedule.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # charset once
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(HEADERS)
    assert rows[0][:3] == ["日付", "開始", "終了"]
    meetings = _meetings(db_session, fair)
    assert len(rows) == 1 + len(meetings)
    first = min(meetings, key=lambda m: m.slot.starts_at)
    assert rows[1][1] == fair.local(first.slot.starts_at).strftime("%H:%M")
    assert {r[6] for r in rows[1:]} <= {p.display_name for p in fair.participants}
    assert {r[9] for r in rows[1:]} == {"予定"}


def test_xlsx_export_has_a_grid_per_day_and_a_list(client, logged_in, db_session, fair) -> None:
    response = client.get(f"/events/{fair.id}/schedule.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["2027-02-17", "一覧"]
    grid, listing = workbook["2027-02-17"], workbook["一覧"]
    assert grid.freeze_panes == "B3" and listing.freeze_panes == "A2"
    assert [c.value for c in listing[1]] == list(HEADERS)
    assert listing["A1"].font.bold
    meetings = _meetings(db_session, fair)
    assert listing.max_row == 1 + len(meetings)
    meeting = meetings[0]
    column = next(c.column for c in grid[2] if c.value == meeting.table.label)
    row = next(
        c.row
        for c in grid["A"]
        if c.value and str(c.value).startswith(fair.local(meeting.slot.starts_at).strftime("%H:%M"))
    )
    cell = str(grid.cell(row=row, column=column).value)
    assert meeting.participant_a.display_name in cell
    assert meeting.participant_b.display_name in cell


def test_exports_are_for_organizers(client, auth, staff, fair) -> None:
    auth.login("staff@example.jp")
    assert client.get(f"/events/{fair.id}/schedule.csv").status_code == 403
    assert client.get(f"/events/{fair.id}/schedule.xlsx").status_code == 403
    assert client.get(f"/events/{fair.id}/schedule/outputs").status_code == 200


def test_portal_links_the_schedule_once_published(client, db_session, fair, participant) -> None:
    link = f'href="/p/{participant.access_token}/schedule"'
    assert link in client.get(f"/p/{participant.access_token}/").get_data(as_text=True)
    fair.phase, fair.published_at = Phase.PREFERENCES, None
    db_session.commit()
    assert link not in client.get(f"/p/{participant.access_token}/").get_data(as_text=True)


def test_the_phase_alone_does_not_publish(client, db_session, fair, participant) -> None:
    """Only the publish step (which stamps published_at) shows meetings to participants."""
    fair.published_at = None
    db_session.commit()
    assert fair.phase == Phase.PUBLISHED
    assert "Not published yet" in _page(client, participant)
    feed = client.get(f"/cal/{participant.feed_token}.ics")
    assert feed.status_code == 200 and b"BEGIN:VEVENT" not in feed.data


def test_exports_never_turn_a_company_name_into_a_formula(
    client, logged_in, db_session, fair
) -> None:
    meeting = _meetings(db_session, fair)[0]
    meeting.participant_b.organization.name = '=HYPERLINK("http://evil.example","x")'
    db_session.commit()
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/events/{fair.id}/schedule.csv").data.decode("utf-8-sig"))
        )
    )
    assert '\'=HYPERLINK("http://evil.example","x")' in {r[8] for r in rows}
    workbook = load_workbook(io.BytesIO(client.get(f"/events/{fair.id}/schedule.xlsx").data))
    cells = [c for row in workbook["一覧"].iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    # In the workbook the cell is typed as text and shows the name exactly as written.
    assert cells and all(c.data_type == "s" and str(c.value).startswith("=") for c in cells)


def test_the_grid_never_turns_a_room_or_table_name_into_a_formula(
    client, logged_in, db_session, fair
) -> None:
    table = _meetings(db_session, fair)[0].table
    table.room.name = '=HYPERLINK("http://evil.example","room")'
    table.label = "@SUM(A1)"
    db_session.commit()
    workbook = load_workbook(io.BytesIO(client.get(f"/events/{fair.id}/schedule.xlsx").data))
    grid = workbook[workbook.sheetnames[0]]
    headers = [c for row in grid.iter_rows(max_row=2) for c in row]
    assert '=HYPERLINK("http://evil.example","room")' in {c.value for c in headers}
    assert "@SUM(A1)" in {c.value for c in headers}
    assert all(c.data_type != "f" for c in headers)


ENGLISH_HEADERS = [
    "Date",
    "Start",
    "End",
    "Room",
    "Table",
    "Buyer code",
    "Buyer",
    "Supplier code",
    "Supplier",
    "Status",
    "Purpose",
]
LONG_NAME = "Supercalifragilisticexpialidocious" + "ManufacturingHoldings" + "Group"


def _csv_rows(client, fair: Event) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/events/{fair.id}/schedule.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _workbook(client, fair: Event):  # type: ignore[no-untyped-def]
    response = client.get(f"/events/{fair.id}/schedule.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def test_exports_follow_the_organizers_language(client, logged_in, db_session, fair) -> None:
    _meetings(db_session, fair)[0].status = MeetingStatus.CANCELLED
    db_session.commit()
    japanese = client.get(f"/events/{fair.id}/schedule.csv").data
    client.post("/language", data={"lang": "en"})
    assert client.get(f"/events/{fair.id}/schedule.csv").data != japanese
    rows = _csv_rows(client, fair)
    assert rows[0] == ENGLISH_HEADERS
    assert {r[9] for r in rows[1:]} == {"Planned", "Cancelled"}
    workbook = _workbook(client, fair)
    assert workbook.sheetnames == ["2027-02-17", "Meetings"]
    grid, listing = workbook["2027-02-17"], workbook["Meetings"]
    assert (grid["A1"].value, grid["A2"].value) == ("Room", "Time")
    assert [c.value for c in listing[1]] == ENGLISH_HEADERS
    assert {row[9].value for row in listing.iter_rows(min_row=2)} == {"Planned", "Cancelled"}
    # Back in Japanese, the files are what Japanese back offices have always read.
    client.post("/language", data={"lang": "ja"})
    assert client.get(f"/events/{fair.id}/schedule.csv").data == japanese
    rows = _csv_rows(client, fair)
    assert rows[0] == list(HEADERS) and {r[9] for r in rows[1:]} == {"予定", "取消"}
    workbook = _workbook(client, fair)
    assert workbook.sheetnames == ["2027-02-17", "一覧"]
    assert (workbook["2027-02-17"]["A1"].value, workbook["2027-02-17"]["A2"].value) == (
        "部屋",
        "時間",
    )


def _report(
    session: Session,
    meeting: Meeting,
    side: Participant,
    *,
    took_place: bool,
    slot_id: int | None = None,
) -> None:
    session.add(
        MeetingOutcome(
            event_id=meeting.event_id,
            meeting_id=meeting.id,
            participant_id=side.id,
            slot_id=slot_id or meeting.slot_id,
            took_place=took_place,
        )
    )


def test_after_its_time_a_meeting_reads_as_its_reports_say(db_session, fair) -> None:
    """Staff do not mark meetings held: the participants' reports say whether they took
    place, and the export says so instead of "planned" for a meeting long over."""
    meetings = sorted(_meetings(db_session, fair), key=lambda m: (m.slot.starts_at, m.id))
    disputed, not_held, silent, moved, cancelled = meetings[:5]
    _report(db_session, disputed, disputed.participant_a, took_place=True)
    _report(db_session, disputed, disputed.participant_b, took_place=False)
    _report(db_session, not_held, not_held.participant_a, took_place=False)
    _report(db_session, not_held, not_held.participant_b, took_place=False)
    # A report made before the meeting was moved is not about the meeting as it stands.
    earlier = next(s.id for s in fair.slots if s.id != moved.slot_id)
    _report(db_session, moved, moved.participant_a, took_place=True, slot_id=earlier)
    cancelled.status = MeetingStatus.CANCELLED
    db_session.commit()
    db_session.expire_all()

    def states(now: datetime, labels=JAPANESE) -> dict[int, str]:  # type: ignore[no-untyped-def]
        rows = schedule_rows(db_session, fair, labels, now=now)
        order = [m.id for m in event_meetings(db_session, fair)]  # the export's row order
        return dict(zip(order, [r[9] for r in rows], strict=True))

    after = max(s.ends_at for s in fair.slots)
    state = states(after)
    assert state[disputed.id] == "実施済"  # one side says it took place: counted held
    assert state[not_held.id] == "不実施"
    assert state[silent.id] == "終了（未報告）"
    assert state[moved.id] == "終了（未報告）"
    assert state[cancelled.id] == "取消"
    others = set(state) - {m.id for m in meetings[:5]}
    assert others and {state[i] for i in others} == {"終了（未報告）"}
    english = states(after, export_labels("en", lambda msgid: msgid))
    assert (english[disputed.id], english[not_held.id], english[silent.id]) == (
        "Held",
        "Not held",
        "Over, not reported",
    )
    # Before the fair nothing is over; a report (entered early, say) still counts.
    before = min(s.starts_at for s in fair.slots) - timedelta(days=1)
    state = states(before)
    assert state[silent.id] == state[moved.id] == "予定"
    assert state[disputed.id] == "実施済" and state[not_held.id] == "不実施"
    # During the fair a meeting is "over" only once its slot has ended.
    first_end = silent.slot.ends_at
    state = states(first_end - timedelta(minutes=1))
    assert state[silent.id] == "予定"
    assert states(first_end)[silent.id] == "終了（未報告）"


def test_export_labels_are_japanese_unless_another_language_is_asked_for() -> None:
    assert export_labels("ja", str.upper) is JAPANESE
    assert export_labels(None, str.upper) is JAPANESE
    english = export_labels("en", lambda msgid: msgid)
    assert list(english.headers) == ENGLISH_HEADERS
    assert english.list_sheet == "Meetings" and (english.room, english.time) == ("Room", "Time")
    assert export_labels("en", str.upper).statuses[MeetingStatus.HELD] == "HELD"


def test_xlsx_list_has_real_dates_and_times_and_fitted_columns(
    client, logged_in, db_session, fair
) -> None:
    meeting = _meetings(db_session, fair)[0]
    meeting.participant_b.organization.name = LONG_NAME
    db_session.commit()
    listing = _workbook(client, fair)["一覧"]
    rows = list(listing.iter_rows(min_row=2))
    assert rows
    for row in rows:
        day, start, end = row[:3]
        assert day.is_date and day.number_format == "yyyy-mm-dd"
        assert isinstance(day.value, datetime) and day.value.time() == time(0, 0)
        for cell in (start, end):
            assert isinstance(cell.value, time) and cell.number_format == "hh:mm"
        assert start.value < end.value
    first = min(_meetings(db_session, fair), key=lambda m: m.slot.starts_at)
    local = fair.local(first.slot.starts_at)
    assert rows[0][0].value.date() == local.date()
    assert rows[0][1].value == local.time().replace(tzinfo=None)
    # The CSV keeps ISO text.
    csv_row = _csv_rows(client, fair)[1]
    assert csv_row[:2] == [local.date().isoformat(), f"{local:%H:%M}"]
    # Columns are as wide as their text, a long one capped.
    widths = {c: listing.column_dimensions[c].width for c in "ABCDEFGHIJK"}
    name_column = next(c.column_letter for row in rows for c in row if c.value == LONG_NAME)
    assert widths[name_column] == 50  # capped: 60 characters wrap in Excel's own way
    assert 12 <= widths["A"] <= 14  # 2027-02-17
    assert widths["B"] <= 8 and widths["C"] <= 8  # 10:00, 開始
    assert widths["E"] < 12  # テーブル, A01


def test_xlsx_grid_cells_wrap_with_rows_as_tall_as_their_names(
    client, logged_in, db_session, fair
) -> None:
    meeting = _meetings(db_session, fair)[0]
    meeting.participant_b.organization.name = LONG_NAME
    db_session.commit()
    grid = _workbook(client, fair)["2027-02-17"]
    long_rows, other_rows = set(), set()
    for row in grid.iter_rows(min_row=3, min_col=2):
        for cell in row:
            if cell.value:
                assert cell.alignment.wrap_text
                (long_rows if LONG_NAME in cell.value else other_rows).add(cell.row)
                assert grid.column_dimensions[cell.column_letter].width <= 30
    other_rows -= long_rows
    assert long_rows and other_rows
    for number in other_rows:  # two names of one line each
        assert 30 <= grid.row_dimensions[number].height <= 36
    for number in long_rows:  # the long name wraps over three lines in its column
        assert grid.row_dimensions[number].height >= 4 * 15


def _without_meetings(session: Session, event: Event, participant: Participant) -> Participant:
    for meeting in _meetings(session, event):
        if participant.id in (meeting.participant_a_id, meeting.participant_b_id):
            session.delete(meeting)
    session.commit()
    return participant


def test_a_company_without_meetings_is_told_why_and_whom_to_ask(
    client, db_session, fair, participant
) -> None:
    fair.contact_email = "info@fair.example.jp"
    _without_meetings(db_session, fair, participant)
    body = _page(client, participant)
    note = body[body.index('data-test="no-meetings"'):]
    assert "You have no meetings in the published schedule." in note
    assert "no request to meet was made or accepted" in note  # what it means
    assert "please contact the organizer" in note and "info@fair.example.jp" in note
    # Without the organizer's address, still whom to ask; after the fair, no next step.
    fair.contact_email = ""
    db_session.commit()
    note = _page(client, participant).split('data-test="no-meetings"', 1)[1]
    assert "please contact the organizer" in note and "info@fair" not in note
    fair.phase = Phase.CLOSED
    db_session.commit()
    note = _page(client, participant).split('data-test="no-meetings"', 1)[1]
    assert "no request to meet" in note and "please contact the organizer" not in note


def test_the_calendar_file_is_named_and_the_subscription_is_a_click_away(
    client, participant
) -> None:
    body = _page(client, participant)
    actions = body.split('class="schedule-actions actions"', 1)[1].split("</div>", 1)[0]
    assert "Calendar file (.ics)" in actions and "Download .ics" not in body
    # The top of the page leads to the subscription, whose section is that anchor.
    assert 'href="#add-to-calendar"' in actions
    assert 'class="card calendar-links" id="add-to-calendar"' in body


# --------------------------------------------------------------------------- the fair day


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """One frozen clock on the fair's day for the day operations, the board and the page."""
    from scheduler import board
    from tests.day_fair import Clock

    frozen = Clock(monkeypatch)
    monkeypatch.setattr(board, "utcnow", lambda: frozen.now)
    monkeypatch.setattr("web.schedules.utcnow", lambda: frozen.now)
    return frozen


def _note(client, participant: Participant) -> str:  # type: ignore[no-untyped-def]
    return _page(client, participant).split('data-test="no-meetings"', 1)[1].split("</section>")[0]


def _sheet(app, session: Session, participant: Participant) -> str:  # type: ignore[no-untyped-def]
    """The printed sheet's HTML as the PDF is made from it (no PDF engine needed)."""
    from scheduler import printing
    from web.schedules import sheets_html

    with app.test_request_context():
        schedule = personal_schedule(session, participant)
        sheet = printing.company_sheet(schedule, "https://example.jp/p/x", draw_qr=False)
        return "".join(sheets_html(participant.event, [sheet], locale="en"))


def test_a_company_whose_meetings_were_all_cancelled_is_told_so_and_why(
    app, client, db_session, fair, participant, clock
) -> None:
    """QA: a company marked as a no-show read "No meeting could be arranged … no request
    to meet was made" above a list of its three cancelled meetings."""
    from scheduler import day_operations as ops

    clock.set(9, 0)
    ops.set_day_status(db_session, participant, "no_show", user_id=None)
    db_session.commit()
    note = _note(client, participant)
    assert "All your meetings were cancelled because your company was recorded as not " in note
    assert "please go to the reception desk" in note
    assert "no request to meet" not in note
    sheet = _sheet(app, db_session, participant)
    assert "recorded as not attending the fair" in sheet and "no request to meet" not in sheet


def test_all_cancelled_because_the_counterparts_could_not_come(
    app, client, db_session, fair, participant, clock
) -> None:
    from scheduler import day_operations as ops

    clock.set(9, 0)
    counterparts = {v.counterpart.id for v in personal_schedule(db_session, participant).meetings}
    for other in counterparts:
        ops.set_day_status(db_session, db_session.get(Participant, other), "no_show", user_id=None)
    db_session.commit()
    note = _note(client, participant)
    assert "All your meetings were cancelled because the companies you were to meet " in note
    assert "companies you were to meet could not attend" in _sheet(app, db_session, participant)


def test_all_cancelled_for_no_known_reason_and_none_arranged_are_told_apart(
    client, db_session, fair, participant, clock
) -> None:
    from scheduler import day_operations as ops

    clock.set(9, 0)
    for item in personal_schedule(db_session, participant).meetings:
        ops.cancel_meeting(
            db_session, fair, item.meeting.id, expected_version=item.meeting.version, user_id=None
        )
    db_session.commit()
    note = _note(client, participant)
    assert "All your meetings were cancelled.</p>" in note
    assert "no request to meet" not in note and "because" not in note
    # A company that never had a meeting is still told the usual reasons.
    _without_meetings(db_session, fair, participant)
    note = _note(client, participant)
    assert "no request to meet was made or accepted" in note and "All your" not in note


def test_free_slots_on_the_fair_day_are_those_still_to_come(
    client, db_session, fair, participant, clock
) -> None:
    """QA: in the afternoon of the fair's day the page still offered the morning's free
    slots."""
    every = personal_schedule(db_session, participant).free_slots
    assert len(every) >= 2
    clock.now = every[0].starts_at + timedelta(minutes=1)  # the first free slot under way
    ahead = [slot for slot in every if slot.starts_at >= clock.now]
    assert ahead and len(ahead) < len(every)
    listed = _page(client, participant).split('class="free-slots"', 1)[1].split("</ul>", 1)[0]
    assert listed.count("<li>") == len(ahead)
    for slot in every:
        shown = fair.local(slot.starts_at).strftime("%H:%M") + "–" in listed
        assert shown == (slot in ahead), fair.local(slot.starts_at)
    # The list alone (what the page's script swaps in) says the same, in the page's language.
    alone = client.get(f"/p/{participant.access_token}/schedule/list").get_data(as_text=True)
    assert alone.split('class="free-slots"', 1)[1].split("</ul>", 1)[0] == listed
    assert "Free slots" in alone and "<html" not in alone
    assert client.get("/p/" + "x" * 43 + "/schedule/list").status_code == 404


def test_a_participant_sees_when_and_where_the_fair_is(
    client, db_session, fair, participant
) -> None:
    """QA: the venue's address was on no participant page, sheet or calendar."""
    assert fair.venue and fair.address
    for path in ("/", "/schedule"):
        page = client.get(f"/p/{participant.access_token}{path}").get_data(as_text=True)
        block = page.split('data-test="venue"', 1)[1].split("</dl>", 1)[0]
        assert fair.venue in block and fair.address in block, path
        assert "Wednesday, February 17, 2027" in block  # the day, in the reader's language
        assert 'href="https://www.google.com/maps/search/?api=1&amp;query=' in block
    # The tab's title names the fair too (one of several fairs open in a browser).
    assert f"<title>My meetings · {fair.name}" in _page(client, participant)
    fair.address = ""
    db_session.commit()
    page = client.get(f"/p/{participant.access_token}/").get_data(as_text=True)
    assert fair.venue in page and "google.com/maps" not in page


def test_home_says_what_to_do_once_requests_are_closed(
    client, db_session, fair, participant
) -> None:
    """QA: after the requests closed, "What to do now" held only "Profiles can no longer
    be changed", which is no task."""
    home = _home(client, participant)
    todo = home.split('data-test="check-schedule"', 1)[1].split("</li>", 1)[0]
    assert f'href="/p/{participant.access_token}/schedule"' in todo
    fair.phase, fair.published_at = Phase.SCHEDULING, None
    db_session.commit()
    home = _home(client, participant)
    assert 'data-test="being-scheduled"' in home and 'data-test="check-schedule"' not in home


def _home(client, participant: Participant) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/p/{participant.access_token}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)
