"""Participants of an event as CSV (UTF-8 with BOM) or Excel, in the import's own layout.

The headers and cell formats are exactly those :mod:`scheduler.participant_import`
reads, so an exported file imported again changes nothing, and an organizer can
export, correct a few cells in Excel and import the file back.

The file holds the companies taking part (approved), the ones the participant list
counts: a registration waiting, declined or withdrawn is not in it, so the file and the
list agree, and importing the file back does not give such a registration a code.
Headers, roles and the sheet's name are in the reader's language (``language``, "ja"
or "en"); the import reads both.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import Attendance, Event, Participant, ParticipantStatus
from scheduler.participant_import import COLUMNS, FIX_HEADERS, code_sort_key, entry_cells
from scheduler.spreadsheet import cell_text

UTF8_BOM = b"\xef\xbb\xbf"
# Columns holding counts: numbers in the Excel export.
NUMBER_KEYS = frozenset({"employees", "max_meetings", "desks"})
SHEET_NAMES = {"ja": "参加企業", "en": "Participants"}


def export_rows(session: Session, event: Event, language: str = "ja") -> list[list[str]]:
    """The header row and one row per participant taking part (buyers first, then by
    code in its natural order: S2 before S10)."""
    participants = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id,
               Participant.status == ParticipantStatus.APPROVED)
        .options(selectinload(Participant.organization),
                 selectinload(Participant.attendances).selectinload(Attendance.person))
    ).all()
    ordered = sorted(participants,
                     key=lambda p: (p.role != "buyer", code_sort_key(p.code or ""), p.id))
    rows = [[column.export_header(language) for column in COLUMNS]]
    for participant in ordered:
        cells = entry_cells(participant, language)
        rows.append([cells[column.key] for column in COLUMNS])
    return rows


def export_csv(session: Session, event: Event, language: str = "ja") -> bytes:
    """The participants as CSV in UTF-8 with a BOM (so Excel in Japan shows it right).

    Cells that a spreadsheet would run as a formula get a leading apostrophe, which
    the import removes again.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in export_rows(session, event, language):
        writer.writerow([cell_text(cell) for cell in row])
    return UTF8_BOM + buffer.getvalue().encode("utf-8")


def export_xlsx(session: Session, event: Event, language: str = "ja") -> bytes:
    """The participants as an Excel workbook: bold frozen header, sized columns, text cells
    (numbers for the counts)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = export_rows(session, event, language)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAMES["en" if language.startswith("en") else "ja"]
    for row in rows:
        sheet.append(row)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    numeric = {index for index, column in enumerate(COLUMNS) if column.key in NUMBER_KEYS}
    for row in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(row):
            text = cell.value if isinstance(cell.value, str) else ""
            if index in numeric and text.isascii() and text.isdigit():
                # Counts are numbers, so Excel sums and sorts them (and does not flag
                # "number stored as text"); the import reads them back either way.
                cell.value = int(cell.value)
                continue
            # Stored as text: "=…" must not become a formula, "007" must keep its zeros.
            cell.data_type = "s"
    for index, _column in enumerate(COLUMNS, start=1):
        widest = max(_display_width(row[index - 1]) for row in rows)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _display_width(text: str) -> int:
    """Columns a text takes in Excel: full-width (Japanese) characters count twice."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def rows_to_fix_csv(headers: list[str], rows: list[tuple[int, list[str], str]]) -> bytes:
    """Rows an import left out, as CSV to correct and upload again (UTF-8 with BOM).

    ``headers`` are the file's own column names and each row ``(number, cells, problems)``
    its row number in the original file, its cells under those headers and what is wrong
    with it; the last two go into the two columns of :data:`FIX_HEADERS`, which the
    import skips without a word when the corrected file comes back. A row shorter than
    the headers is filled with blank cells, so that these two stay in their columns.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*(cell_text(header) for header in headers), *FIX_HEADERS])
    for number, cells, text in rows:
        blanks = [""] * (len(headers) - len(cells))
        writer.writerow([cell_text(cell) for cell in [*cells, *blanks, str(number), text]])
    return UTF8_BOM + buffer.getvalue().encode("utf-8")
