"""Table signs and the hall grid write the day as the sheets do, a two-day fair's signs
come off the printer day by day, and every company's sheets are numbered through the
whole file (QA 5)."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import printing, sheet_builds
from scheduler.models import Event, Participant, ParticipantStatus, Slot, Table
from scheduler.schedule_view import slots_by_day
from tests.published_fair import busiest_participant, published_fair
from tests.sheet_build_flow import every_sheet_pdf, needs_printing

pytestmark = needs_printing


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def _add_second_day(session: Session, event: Event) -> None:
    """The same slots again the next day (no meetings yet)."""
    for slot in list(event.slots):
        later = slot.starts_at + timedelta(days=1)
        session.add(
            Slot(
                event_id=event.id, starts_at=later, ends_at=later + (slot.ends_at - slot.starts_at)
            )
        )
    session.commit()
    session.refresh(event)


def _pages(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "printout.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def _written_out(day: str) -> str:
    year, month, date = (int(part) for part in day.split("-"))
    return f"{year}年{month}月{date}日"


def test_table_signs_of_a_two_day_fair_come_day_by_day(db_session, fair) -> None:
    _add_second_day(db_session, fair)
    days = list(slots_by_day(fair))
    tables = db_session.scalars(select(Table).where(Table.event_id == fair.id)).all()
    assert len(days) == 2 and len(tables) >= 2
    signs = printing.table_signs(db_session, fair)
    assert [sign.day for sign in signs] == [day for day in days for _ in tables]
    assert [sign.table.id for sign in signs[: len(tables)]] == [
        sign.table.id for sign in signs[len(tables) :]
    ]


def test_table_signs_write_the_day_out_as_the_sheets_do(
    client, logged_in, db_session, fair, tmp_path
) -> None:
    _add_second_day(db_session, fair)
    days = list(slots_by_day(fair))
    tables = db_session.scalars(select(Table).where(Table.event_id == fair.id)).all()
    response = client.get(f"/events/{fair.id}/print/tables.pdf")
    assert response.status_code == 200
    pages = _pages(response.data, tmp_path)
    assert len(pages) == len(days) * len(tables)
    for number, page in enumerate(pages):
        day = days[number // len(tables)]  # day by day
        flat = page.replace(" ", "")
        assert _written_out(day) in flat and "曜日" in flat, page
        assert day not in page  # not the ISO date 2027-02-17


def test_the_grid_writes_the_day_out_as_the_sheets_do(
    client, logged_in, db_session, fair, tmp_path
) -> None:
    (day,) = slots_by_day(fair)
    response = client.get(f"/events/{fair.id}/print/grid.pdf")
    assert response.status_code == 200
    for page in _pages(response.data, tmp_path):
        assert _written_out(day) in page.replace(" ", "") and day not in page


def _footer_numbers(pdf: bytes, tmp_path: Path) -> list[int]:
    """The number at the foot of each page (its last line)."""
    numbers = []
    for page in _pages(pdf, tmp_path):
        last = [line.strip() for line in page.splitlines() if line.strip()][-1]
        assert re.fullmatch(r"\d+", last), last
        numbers.append(int(last))
    return numbers


def test_every_companys_sheets_are_numbered_through_the_whole_file(
    client, logged_in, db_session, fair, tmp_path, monkeypatch
) -> None:
    # Printed in parts of 3 sheets, and in two languages: still numbered 1 to N.
    monkeypatch.setattr(sheet_builds, "SHEETS_PER_PART", 3)
    participants = db_session.scalars(
        select(Participant).where(
            Participant.event_id == fair.id, Participant.status == ParticipantStatus.APPROVED
        )
    ).all()
    participants[1].locale = "en"
    busiest_participant(db_session, fair).locale = "en"
    db_session.commit()
    response = every_sheet_pdf(client, fair.id)
    assert response.status_code == 200
    pages = len(PdfReader(io.BytesIO(response.data)).pages)
    assert pages == len(participants) > 6
    assert _footer_numbers(response.data, tmp_path) == list(range(1, pages + 1))


def test_documents_printed_together_are_numbered_on(tmp_path) -> None:
    page = (
        "<html><head><style>@page {{ size: A6; @bottom-center {{ content: counter(page) }} }}"
        "section {{ break-after: page }}</style></head><body>{}</body></html>"
    )
    documents = [page.format("<section>a</section>" * 2), page.format("<section>b</section>" * 3)]
    assert _footer_numbers(printing.html_to_pdf(documents), tmp_path) == [1, 2, 3, 4, 5]
    numbered = printing.html_to_pdf(documents, first_page=11)
    assert _footer_numbers(numbered, tmp_path) == [11, 12, 13, 14, 15]
