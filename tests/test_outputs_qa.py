"""What the fair's outputs show (QA): one company's sheet is named for it, the notice
about changes on the day sits beside the QR code it points to, the room board fits a
1920×1080 screen and writes its date as the app does, and the survey's results name the
"perhaps" answer as the form does."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.http import parse_options_header

from scheduler import printing
from scheduler.feedback import FeedbackInput, save_feedback
from scheduler.models import Event, JoinAgain, Participant, ParticipantStatus
from tests.published_fair import ReportsClock, fair_on_the_day, published_fair
from tests.sheet_build_flow import needs_printing
from tests.test_printing import _with_thirty_more_meetings

FORM_PERHAPS = "Perhaps, depending on the companies taking part"
QR_ABOVE = (
    "Changes on the day are sent by e-mail and shown on your schedule page (QR code above).",
    "Changes on the day are shown on your schedule page (QR code above).",
)
QR_BESIDE = "Changes on the day are shown on your schedule page (QR code on the right)."


def _approved(session: Session, event: Event) -> list[Participant]:
    return list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
            .order_by(Participant.id)
        )
    )


# --------------------------------------------------------------- 1. one company's file name


def _sheet_file(client, event: Event, participant: Participant) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The parameters of the sheet's Content-Disposition (``filename*`` decoded)."""
    response = client.get(f"/events/{event.id}/print/sheets.pdf?participant={participant.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    disposition, names = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "inline"
    return names


def test_one_companys_sheet_is_named_for_the_company_not_as_every_companys(
    client, logged_in, db_session: Session, monkeypatch
) -> None:
    monkeypatch.setattr(printing, "html_to_pdf", lambda html, **kwargs: b"%PDF-1.7\n")
    fair = published_fair(db_session)
    first, second, third = _approved(db_session, fair)[:3]
    assert first.code
    names = _sheet_file(client, fair, first)
    assert names["filename"] == f"sheet-{fair.slug}-{first.code}.pdf"
    assert names["filename"] != f"sheets-{fair.slug}.pdf"
    # A company without a code: its id. A code beyond ASCII (or with a slash): RFC 5987.
    second.code = ""
    third.code = "東京/01"
    db_session.commit()
    assert _sheet_file(client, fair, second)["filename"] == f"sheet-{fair.slug}-{second.id}.pdf"
    response = client.get(f"/events/{fair.id}/print/sheets.pdf?participant={third.id}")
    header = response.headers["Content-Disposition"]
    assert header.isascii() and "filename*=UTF-8''" in header
    assert parse_options_header(header)[1]["filename"] == f"sheet-{fair.slug}-東京-01.pdf"


# --------------------------------------------------------------- 2. the sheet's notice


def _pages(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return ["".join(page.split()) for page in text.split("\f")[:-1]]


@needs_printing
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_second_page_does_not_point_to_a_qr_code_above(
    client, logged_in, app: Flask, db_session: Session, tmp_path, language
) -> None:
    fair = published_fair(db_session)
    participant = _with_thirty_more_meetings(db_session, fair)
    participant.locale = language
    db_session.commit()
    response = client.get(f"/events/{fair.id}/print/sheets.pdf?participant={participant.id}")
    assert response.status_code == 200
    pages = _pages(response.data, tmp_path)
    assert len(pages) >= 2
    with app.test_request_context(), force_locale(language):
        above = ["".join(gettext(text).split()) for text in QR_ABOVE]
        beside = "".join(gettext(QR_BESIDE).split())
    assert not any(text in page for text in above for page in pages)
    # Once, on the first page, where the QR code is.
    assert beside in pages[0]
    assert not any(beside in page for page in pages[1:])
    assert len(PdfReader(io.BytesIO(response.data)).pages) == len(pages)


# --------------------------------------------------------------- 3. the room board


# --------------------------------------------------------------- 4. the survey's "perhaps"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_results_name_perhaps_as_the_form_does(
    client, logged_in, app: Flask, db_session: Session, monkeypatch, language
) -> None:
    fair = fair_on_the_day(db_session)
    clock = ReportsClock(monkeypatch)
    clock.now = max(s.starts_at for s in fair.slots) + timedelta(minutes=30)
    participant = _approved(db_session, fair)[0]
    save_feedback(
        db_session, participant, FeedbackInput("4", JoinAgain.PERHAPS.value), now=clock.now
    )
    db_session.commit()
    assert client.post("/language", data={"lang": language}).status_code == 302
    with app.test_request_context(), force_locale(language):
        label, bare = gettext(FORM_PERHAPS), gettext("Perhaps")
    page = client.get(f"/events/{fair.id}/outcomes").get_data(as_text=True)
    survey = page.split('id="survey"', 1)[1].split("</table>", 1)[0]
    assert f'<th scope="row">{label}</th>' in survey
    assert f'<th scope="row">{bare}</th>' not in survey
    response = client.get(f"/events/{fair.id}/outcomes.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    cells = [str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for cell in row if cell is not None]
    assert label in cells  # the answer's own row, as the company chose it
    assert any(cell.endswith(label) and cell != label for cell in cells)  # the summary's row
    assert bare not in cells and not any(cell.endswith(f"：{bare}") for cell in cells)
