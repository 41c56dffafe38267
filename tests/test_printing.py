"""Printed PDFs: they render, have the pages expected, carry the Japanese text in a
Japanese font, and a server without WeasyPrint or fonts answers with a clear page."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from flask import render_template
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import printing
from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    Participant,
    ParticipantStatus,
    Phase,
    Slot,
    Table,
)
from scheduler.schedule_view import personal_schedule, slots_by_day
from tests.published_fair import busiest_participant, published_fair
from tests.sheet_build_flow import every_sheet_pdf, needs_printing

A4 = (595.28, 841.89)
A3 = (841.89, 1190.55)


pytestmark = needs_printing


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def _pdf(response) -> PdfReader:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.data))


def _size(reader: PdfReader, page: int = 0) -> tuple[float, float]:
    box = reader.pages[page].mediabox
    return round(float(box.width), 2), round(float(box.height), 2)


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def _approved(session: Session, event: Event) -> list[Participant]:
    return list(
        session.scalars(
            select(Participant).where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
        )
    )


def test_one_a4_sheet_per_company_in_a_japanese_font(client, logged_in, db_session, fair) -> None:
    reader = _pdf(every_sheet_pdf(client, fair.id))
    participants = _approved(db_session, fair)
    assert len(reader.pages) == len(participants)
    assert _size(reader) == A4
    text = _text(reader)
    for participant in participants:
        assert participant.display_name in text
    assert any("Noto-Sans-CJK-JP" in name for name in _fonts(reader))


def test_one_company_sheet_lists_its_meetings_and_free_slots(
    client, logged_in, db_session, fair
) -> None:
    participant = busiest_participant(db_session, fair)
    schedule = personal_schedule(db_session, participant)
    reader = _pdf(client.get(f"/events/{fair.id}/print/sheets.pdf?participant={participant.id}"))
    assert len(reader.pages) == 1
    text = _text(reader)
    assert participant.display_name in text and participant.code in text
    for view in schedule.meetings:
        assert view.counterpart.display_name in text
        assert view.table.label in text
        assert fair.local(view.slot.starts_at).strftime("%H:%M") in text
    for slot in schedule.free_slots:
        assert fair.local(slot.starts_at).strftime("%H:%M") in text
    # The sheet says which day: a printed sheet outlives the page it came from.
    for day in {fair.local(view.slot.starts_at).date() for view in schedule.meetings}:
        assert f"{day.year}年{day.month}月{day.day}日" in text.replace(" ", "")


def test_one_landscape_sign_per_table_and_day(client, logged_in, db_session, fair) -> None:
    reader = _pdf(client.get(f"/events/{fair.id}/print/tables.pdf"))
    tables = db_session.scalars(select(Table).where(Table.event_id == fair.id)).all()
    assert len(reader.pages) == len(tables) * len(slots_by_day(fair))
    assert _size(reader) == (A4[1], A4[0])
    first = reader.pages[0].extract_text()
    assert tables[0].label in first and tables[0].room.name in first


def test_master_grid_is_a3_landscape_and_paginated(
    client, logged_in, db_session, fair, monkeypatch
) -> None:
    monkeypatch.setattr(printing, "GRID_TABLES_PER_PAGE", 2)
    monkeypatch.setattr(printing, "GRID_SLOTS_PER_PAGE", 6)
    reader = _pdf(client.get(f"/events/{fair.id}/print/grid.pdf"))
    tables = db_session.scalars(select(Table).where(Table.event_id == fair.id)).all()
    slots = len(fair.slots)
    assert len(reader.pages) == math.ceil(len(tables) / 2) * math.ceil(slots / 6)
    assert _size(reader) == (A3[1], A3[0])
    text = _text(reader)
    buyer = busiest_participant(db_session, fair)
    assert buyer.code in text


def test_a_long_day_is_shared_evenly_between_grid_pages(
    client, logged_in, db_session, fair, tmp_path
) -> None:
    """13 slots print as 7 and 6 columns, not 12 and a page with one stretched column."""
    day_slots = next(iter(slots_by_day(fair).values()))
    assert len(day_slots) == 11
    last = day_slots[-1]
    for step in (1, 2):  # 16:30 and 17:00: 13 slots
        start = last.starts_at + step * timedelta(minutes=30)
        db_session.add(Slot(event=fair, day=last.day, starts_at=start,
                            ends_at=start + timedelta(minutes=25)))
    db_session.commit()
    db_session.refresh(fair)
    pages = printing.master_grid(db_session, fair)
    assert [len(page.slots) for page in pages] == [7, 6]
    pdf = client.get(f"/events/{fair.id}/print/grid.pdf")
    assert pdf.status_code == 200
    if shutil.which("pdftotext") is None:
        return
    times = [
        re.findall(r"\b\d\d:\d\d\b", page)
        for page in _pdftotext(pdf.data, tmp_path).split("\f")[:-1]
    ]
    assert [len(found) for found in times] == [7, 6]
    assert times[1][0] == "14:30" and times[1][-1] == "17:00"


@pytest.mark.parametrize(("count", "most", "lengths"), [
    (0, 12, [0]), (1, 12, [1]), (12, 12, [12]), (13, 12, [7, 6]), (25, 12, [9, 8, 8]),
    (17, 16, [9, 8]), (40, 16, [14, 13, 13]),
])
def test_grid_pages_share_rows_and_columns_evenly(count, most, lengths) -> None:
    chunks = printing._even_chunks(list(range(count)), most)
    assert [len(chunk) for chunk in chunks] == lengths
    assert [item for chunk in chunks for item in chunk] == list(range(count))


def test_participant_prints_its_own_sheet_from_its_link(client, db_session, fair) -> None:
    participant = busiest_participant(db_session, fair)
    reader = _pdf(client.get(f"/p/{participant.access_token}/schedule.pdf"))
    assert len(reader.pages) == 1
    assert participant.display_name in _text(reader)
    # The page's top margin names the company, so a second page of a long sheet, loose
    # on a desk, can be matched to it.
    assert f"{participant.code} {participant.display_name}" in reader.pages[0].extract_text()


def test_the_personal_sheet_is_in_the_language_its_reader_chose(client, db_session, fair) -> None:
    participant = busiest_participant(db_session, fair)
    participant.locale = "ja"
    db_session.commit()
    assert "商談スケジュール" in _text(
        _pdf(client.get(f"/p/{participant.access_token}/schedule.pdf"))
    )
    client.post("/language", data={"lang": "en"})
    text = _text(_pdf(client.get(f"/p/{participant.access_token}/schedule.pdf")))
    assert "Meeting schedule" in text and "商談スケジュール" not in text


def test_no_personal_pdf_before_publication(client, db_session, fair) -> None:
    fair.phase, fair.published_at = Phase.SCHEDULING, None
    db_session.commit()
    participant = busiest_participant(db_session, fair)
    assert client.get(f"/p/{participant.access_token}/schedule.pdf").status_code == 404


def test_printouts_need_a_staff_login(client, fair) -> None:
    response = client.get(f"/events/{fair.id}/print/grid.pdf")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_staff_print_one_companys_sheet_at_a_time_and_it_is_logged(
    client, auth, staff, db_session, fair
) -> None:
    """Each sheet's QR code is the company's secret link: staff print them one company
    at a time, for the company at the desk, not all the links of the fair at once."""
    auth.login("staff@example.jp")
    assert client.get(f"/events/{fair.id}/print/sheets.pdf").status_code == 403
    outputs = client.get(f"/events/{fair.id}/schedule/outputs").get_data(as_text=True)
    assert f'href="/events/{fair.id}/print/sheets.pdf"' not in outputs
    assert 'name="participant"' in outputs  # the one-company form stays
    participant = busiest_participant(db_session, fair)
    one = client.get(f"/events/{fair.id}/print/sheets.pdf?participant={participant.id}")
    assert one.status_code == 200 and one.mimetype == "application/pdf"
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "sheet.print"))
    assert entry.user_id == staff.id and entry.participant_id == participant.id


@pytest.mark.parametrize("missing", ["weasyprint", "fonts"])
def test_missing_renderer_or_fonts_gives_a_clear_page(
    client, logged_in, fair, monkeypatch, missing
) -> None:
    if missing == "weasyprint":

        def no_weasyprint():  # type: ignore[no-untyped-def]
            raise OSError("cannot load library 'libpango-1.0-0'")

        monkeypatch.setattr(printing, "_load_weasyprint", no_weasyprint)
    else:
        monkeypatch.setattr(printing, "japanese_font_installed", lambda: False)
    response = client.get(f"/events/{fair.id}/print/tables.pdf")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert ("WeasyPrint" if missing == "weasyprint" else "fonts-noto-cjk") in body
    assert "Traceback" not in body


def test_each_sheet_is_in_its_participants_language(client, logged_in, db_session, fair) -> None:
    participants = sorted(_approved(db_session, fair), key=lambda p: (p.code, p.id))
    english = participants[1]
    english.locale = "en"
    db_session.commit()
    client.post("/language", data={"lang": "en"})  # the organizer's language does not count
    reader = _pdf(every_sheet_pdf(client, fair.id))
    assert len(reader.pages) == len(participants)
    for participant, page in zip(participants, reader.pages, strict=True):
        text = page.extract_text()
        assert participant.display_name in text
        # Each language's punctuation: 「空き時間枠：14:30、15:00」, "Free slots: 14:30, 15:00".
        assert ("Free slots: " if participant is english else "空き時間枠：") in text
        assert "空き時間枠:" not in text


# --------------------------------------------------------------------------- long sheets

# Rows of one to three lines (a purpose of 0, 10, 40 or 80 characters): with these, the
# sheet's page breaks used to fall inside a meeting's row.
PURPOSE_LENGTHS = (0, 20, 40, 0, 5, 0, 40, 20, 5, 20, 0, 40, 5, 0, 20) * 2
MARGIN = 12 * 72 / 25.4  # the 12 mm page margin, in points
TIME_RANGE = re.compile(r"^\s*\d\d:\d\d–\d\d:\d\d(?!\S)")
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs pdftotext (poppler-utils)"
)


def _with_thirty_more_meetings(session: Session, event: Event) -> Participant:
    """The busiest participant with 30 more meetings, on two more days at its own table."""
    participant = busiest_participant(session, event)
    table = session.scalar(
        select(Table).where(Table.host_participant_id == participant.id)
    ) or session.scalar(select(Table).where(Table.event_id == event.id))
    others = [p for p in _approved(session, event) if p.role != participant.role]
    first = min(slot.starts_at for slot in event.slots)
    for number, length in enumerate(PURPOSE_LENGTHS):
        start = first + timedelta(days=1 + number // 15, minutes=30 * (number % 15))
        slot = Slot(event_id=event.id, starts_at=start, ends_at=start + timedelta(minutes=25))
        session.add(slot)
        session.add(
            Meeting(
                event_id=event.id,
                participant_a=participant,
                participant_b=others[number % len(others)],
                slot=slot,
                table=table,
                purpose="相談" * length,
            )
        )
    session.commit()
    return participant


def _pdftotext(pdf: bytes, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "printout.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _layout_pages(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """Each page's non-blank lines, laid out as printed (a table row on one line)."""
    pages = _pdftotext(pdf, tmp_path, "-layout").split("\f")[:-1]
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]


def test_sheet_css_keeps_rows_whole_and_repeats_the_head(app, db_session, fair) -> None:
    participant = _with_thirty_more_meetings(db_session, fair)
    schedule = personal_schedule(db_session, participant)
    with app.test_request_context():
        html = render_template(
            "print/sheets.html",
            event=fair,
            sheets=[printing.company_sheet(schedule, "https://example.jp/p/x")],
        )
    css = re.sub(r"\s+", " ", html)
    assert re.search(r"\btr \{[^}]*\bbreak-inside: avoid", css)
    assert re.search(r"\bthead \{[^}]*display: table-header-group", css)
    assert "string(continued, first-except)" in css
    # A table per day, its head (the day, then the column names) repeated on a new page.
    days = {fair.local(view.slot.starts_at).date() for view in schedule.meetings}
    tables = re.findall(r'<table class="meetings">.*?</table>', html, flags=re.S)
    assert len(tables) == len(days) == 3
    for table in tables:
        head = re.search(r"<thead>(.*?)</thead>", table, flags=re.S)
        assert head and 'class="day"' in head.group(1) and "<tbody>" not in head.group(1)


@needs_pdftotext
@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_long_sheet_keeps_each_meeting_on_one_page(
    client, logged_in, app, db_session, fair, tmp_path, language
) -> None:
    participant = _with_thirty_more_meetings(db_session, fair)
    participant.locale = language
    db_session.commit()
    schedule = personal_schedule(db_session, participant)
    assert len(schedule.meetings) >= 30
    response = client.get(f"/events/{fair.id}/print/sheets.pdf?participant={participant.id}")
    _pdf(response)
    pages = _layout_pages(response.data, tmp_path)
    assert len(pages) >= 3
    with app.test_request_context(), force_locale(language):
        continued, time_header = gettext("(continued)"), gettext("Time")
    running = f"{participant.code} {participant.display_name}"
    rows = 0
    for number, lines in enumerate(pages, start=1):
        # The top margin names the company on every page, "(continued)" after the first.
        assert lines[0].startswith(running)
        assert (continued in lines[0]) == (number > 1), lines[0]
        times = [i for i, line in enumerate(lines) if TIME_RANGE.match(line)]
        for i in times:
            # Time, table and counterpart of a meeting on the same line, so the same page.
            assert schedule.meetings[0].table.label in lines[i], lines[i]
            assert re.search(r"\([A-Z]\d{3}\)", lines[i]), lines[i]
        rows += len(times)
        if number > 1 and times:
            # A continued day repeats its heading and the column names first.
            assert lines[1].replace(" ", "").endswith(("2027", "日")), lines[1]
            assert lines[2].startswith(time_header), lines[2]
            assert times[0] == 3, lines[:4]
    assert rows == len(schedule.meetings)


LONG_NAME = "Supercalifragilisticexpialidocious" + "ManufacturingHoldings" + "Group"
LONG_ROOM = "InternationalConferenceHallNorthWingSecondFloorRoomNumber12"
LONG_EVENT = "GlobalManufacturingBusinessMatchingFairForSmallEnterprises27"
GRID_TABLE_COLUMN = (22 + 2 * 1.2) * 72 / 25.4  # the grid's first column, with its padding


@needs_pdftotext
@pytest.mark.parametrize("printout", ["sheets", "tables", "grid"])
def test_long_unbroken_names_stay_on_the_paper(
    client, logged_in, db_session, fair, tmp_path, printout
) -> None:
    assert len(LONG_NAME) == len(LONG_EVENT) == 60 and " " not in LONG_NAME + LONG_EVENT
    participant = busiest_participant(db_session, fair)
    # A sign's row is wide: only a name of twice the length runs over its edge.
    participant.organization.name = LONG_NAME * (2 if printout == "tables" else 1)
    fair.name = LONG_EVENT
    for table in db_session.scalars(select(Table).where(Table.event_id == fair.id)):
        table.room.name = LONG_ROOM
    db_session.commit()
    query = f"?participant={participant.id}" if printout == "sheets" else ""
    response = client.get(f"/events/{fair.id}/print/{printout}.pdf{query}")
    _pdf(response)
    boxes = _pdftotext(response.data, tmp_path, "-bbox")
    width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))
    words = [
        (float(x_min), float(y_min), float(x_max), float(y_max), word)
        for x_min, y_min, x_max, y_max, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
            boxes,
        )
    ]
    assert words
    for x_min, _, x_max, _, word in words:
        assert x_min >= MARGIN - 1 and x_max <= width - MARGIN + 1, word
        if printout == "grid" and len(word) > 3 and word.rstrip("…") in LONG_ROOM:
            # A room's name wraps in its column, not under the next (where it is hidden).
            assert x_max <= MARGIN + GRID_TABLE_COLUMN + 1, word
    if printout == "sheets":
        # The code box is printed whole, next to the name or under it, not off the page.
        assert participant.code in {word for *_, word in words}
        # The running header is one line in the top margin.
        header = [(y_min, y_max) for _, y_min, _, y_max, _ in words if y_min < MARGIN]
        assert header and len({round(y_min) for y_min, _ in header}) == 1
        assert all(y_max <= MARGIN for _, y_max in header)


def test_a_server_without_harfbuzz_subset_is_told_in_the_log_once(monkeypatch, caplog) -> None:
    from weasyprint.text import ffi

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    monkeypatch.setattr(printing, "_warned_subset", False)
    with caplog.at_level("WARNING", logger="scheduler.printing"):
        printing.check_printing()
        printing.check_printing()
    warnings = [r for r in caplog.records if "libharfbuzz-subset0" in r.getMessage()]
    assert len(warnings) == 1


def test_the_sheet_warns_that_its_qr_code_is_the_companys_secret_link(
    app, client, db_session, fair
) -> None:
    """The QR code opens the company's pages (requests, reports), not only its schedule,
    and the sheet is carried around the venue: it says so beside the code, like the slip,
    in the sheet's language."""
    participant = busiest_participant(db_session, fair)
    with app.test_request_context():
        html = render_template(
            "print/sheets.html", event=fair,
            sheets=[printing.company_sheet(personal_schedule(db_session, participant),
                                           "https://example.jp/p/x")],
        )
    qr = html.split('<div class="qr">', 1)[1].split("</div>", 1)[0]
    assert 'class="qr-warning"' in qr
    assert qr.index("<img") < qr.index("qr-warning")
    client.post("/language", data={"lang": "en"})
    text = " ".join(_text(_pdf(client.get(f"/p/{participant.access_token}/schedule.pdf"))).split())
    assert "opens your company’s pages without a password" in text
    assert "do not let others scan it" in text and "ask the organizer for a new link" in text


def test_a_sheet_without_meetings_says_why_and_whom_to_ask(client, db_session, fair) -> None:
    fair.contact_email = "info@fair.example.jp"
    participant = busiest_participant(db_session, fair)
    for meeting in db_session.scalars(select(Meeting).where(Meeting.event_id == fair.id)):
        if participant.id in (meeting.participant_a_id, meeting.participant_b_id):
            db_session.delete(meeting)
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    text = " ".join(_text(_pdf(client.get(f"/p/{participant.access_token}/schedule.pdf"))).split())
    assert "You have no meetings in the published schedule." in text
    assert "no request to meet was made or accepted" in text
    assert "please contact the organizer" in text and "info@fair.example.jp" in text
