"""Printed PDFs: they render, have the pages expected, carry the Japanese text in a
Japanese font, and a server without WeasyPrint or fonts answers with a clear page."""

from __future__ import annotations

import io
import math

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import printing
from scheduler.errors import DomainError
from scheduler.models import Event, Participant, ParticipantStatus, Phase, Table
from scheduler.schedule_view import personal_schedule, slots_by_day
from tests.published_fair import busiest_participant, published_fair

A4 = (595.28, 841.89)
A3 = (841.89, 1190.55)


def _printing_ready() -> str | None:
    try:
        printing.check_printing()
    except DomainError as error:
        return error.message
    return None


pytestmark = pytest.mark.skipif(
    _printing_ready() is not None,
    reason=f"PDF printing is not set up here: {_printing_ready()}",
)


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
    reader = _pdf(client.get(f"/events/{fair.id}/print/sheets.pdf"))
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
    reader = _pdf(
        client.get(f"/events/{fair.id}/print/sheets.pdf", headers={"Accept-Language": "ja"})
    )
    assert len(reader.pages) == len(participants)
    for participant, page in zip(participants, reader.pages, strict=True):
        text = page.extract_text()
        assert participant.display_name in text
        assert ("Free slots" if participant is english else "空き時間枠") in text
