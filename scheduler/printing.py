"""Printed material: each company's schedule sheet, a sign per table, the reception grid.

The layout lives in HTML templates (``templates/print/``) that the web layer renders;
this module prepares what they show (pages already split, so templates only loop) and
turns the HTML into PDF with WeasyPrint. WeasyPrint and a Japanese font are optional
at run time: ``make demo`` works without them, and printing then raises
:class:`PrintingUnavailable` with a message saying what to install.
"""

from __future__ import annotations

import html as html_escaping
import itertools
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TypeVar
from urllib.parse import quote, unquote

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import DomainError
from scheduler.i18n import N_
from scheduler.models import Event, Meeting, MeetingStatus, Room, Slot, Table
from scheduler.schedule_view import (
    MeetingView,
    PersonalSchedule,
    event_meetings,
    slots_by_day,
)

log = logging.getLogger(__name__)

# The master grid on A3 landscape: at most this many tables (rows) and slots (columns)
# per page; a day or a hall with more is shared out evenly between pages.
GRID_TABLES_PER_PAGE = 16
GRID_SLOTS_PER_PAGE = 12
JAPANESE_FONT_FAMILY = "Noto Sans CJK JP"
T = TypeVar("T")


class PrintingUnavailable(DomainError):
    """The PDF renderer or the Japanese fonts are not installed on this machine."""

    status_code = 503


# --------------------------------------------------------------------------- engine


def _load_weasyprint() -> ModuleType:
    """WeasyPrint, imported only when printing (it needs Pango, and takes a second)."""
    import weasyprint

    return weasyprint


@lru_cache(maxsize=1)
def japanese_font_installed() -> bool:
    """Whether fontconfig knows a Japanese font (without one, Japanese prints as boxes)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        found = subprocess.run(
            [fc_list, ":lang=ja", "family"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.stdout.strip())


def check_printing() -> ModuleType:
    """WeasyPrint, ready to print Japanese, or :class:`PrintingUnavailable` saying why."""
    try:
        weasyprint = _load_weasyprint()
    except (ImportError, OSError):
        raise PrintingUnavailable(
            N_(
                "PDF printing is not available on this server: install WeasyPrint "
                "(pip install weasyprint) and the Pango library, then restart the app."
            )
        ) from None
    if not japanese_font_installed():
        raise PrintingUnavailable(
            N_(
                "PDF printing needs a Japanese font on this server: install "
                "fonts-noto-cjk (Debian/Ubuntu) and restart the app."
            )
        )
    _warn_without_harfbuzz_subset()
    return weasyprint


_warned_subset = False


def _warn_without_harfbuzz_subset() -> None:
    """Say once in the log when fonts are subset by fontTools: a Japanese sheet then
    takes seconds of CPU (and about a gigabyte) instead of a fraction of a second."""
    global _warned_subset
    if _warned_subset:
        return
    _warned_subset = True
    try:
        from weasyprint.text import ffi
    except (ImportError, OSError):  # pragma: no cover - a WeasyPrint without it
        return
    if getattr(ffi, "harfbuzz_subset", True) is None:
        log.warning(
            "PDF printing is slow on this server: install HarfBuzz's subset library "
            "(libharfbuzz-subset0 on Debian/Ubuntu) and restart; without it every "
            "Japanese sheet takes seconds of CPU instead of a fraction of a second"
        )


def html_to_pdf(
    html: str | Sequence[str], *, base_url: str | None = None, first_page: int = 1
) -> bytes:
    """Print ``html`` (with its own ``@page`` rules) to PDF bytes.

    Several documents (e.g. sheets rendered in different languages) are printed one
    after the other into one PDF, in the order given; their pages are numbered on
    (``counter(page)``) from ``first_page``, not from 1 in each document: a build of
    every company's sheets printed in parts passes where each part begins, so the
    whole file is numbered through. QR codes left as :func:`qr_placeholder` are drawn
    first.
    """
    weasyprint = check_printing()
    parts = [html] if isinstance(html, str) else list(html)
    documents, pages = [], []
    for part in parts:
        numbered = _numbered_from(draw_qr_codes(part), first_page + len(pages))
        document = weasyprint.HTML(string=numbered, base_url=base_url).render()
        documents.append(document)
        pages.extend(document.pages)
    return documents[0].copy(pages).write_pdf()


def _numbered_from(html: str, number: int) -> str:
    """``html`` whose first page is numbered ``number`` (WeasyPrint restarts every
    document's page counter at 1)."""
    if number == 1:
        return html
    rule = f"<style>@page :first {{ counter-reset: page {int(number)}; }}</style>"
    head, found, rest = html.partition("</head>")
    return f"{head}{rule}{found}{rest}" if found else rule + html


def join_pdfs(files: Sequence[Path], target: Path) -> int:
    """Join the PDFs ``files`` into ``target``, in order; the number of pages.

    Each company's bookmark (its name, from the sheet's heading) is kept, so a viewer's
    outline still finds any company in the whole file. The document's title and
    producer are the first file's.
    """
    from pypdf import PdfReader, PdfWriter  # imported here: only joining needs it

    writer = PdfWriter()
    for file in files:
        writer.append(str(file))
    if files:
        metadata = PdfReader(str(files[0])).metadata
        if metadata:
            writer.add_metadata({key: value for key, value in metadata.items()})
    with target.open("wb") as out:
        writer.write(out)
    return len(writer.pages)


def qr_svg_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI, drawn locally (no internet at the venue)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


# An image source standing for the QR code of the URL after it (percent-encoded).
QR_PLACEHOLDER = "matchfair-qr:"
_QR_SOURCE = re.compile(r'src="' + re.escape(QR_PLACEHOLDER) + r'([^"]*)"')


def qr_placeholder(url: str) -> str:
    """An image source that :func:`html_to_pdf` replaces with the QR code of ``url``.

    Drawing a QR code takes about 12 ms (segno tries every mask): a second for every
    80 companies. Sheets printed in the background leave them to the printing process;
    the HTML still names every URL, so it still says exactly what will be printed.
    """
    return QR_PLACEHOLDER + quote(url, safe="")


def draw_qr_codes(html: str) -> str:
    """``html`` with every :func:`qr_placeholder` image source replaced by its QR code.

    Only the templates' own ``src="…"`` attributes can match: text from the database
    is escaped, so it never contains a double quote.
    """
    return _QR_SOURCE.sub(
        lambda match: f'src="{html_escaping.escape(qr_svg_data_uri(unquote(match[1])))}"', html
    )


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class CompanySheet:
    """One company's A4 sheet: its meetings, free slots and a QR code of its page."""

    schedule: PersonalSchedule
    url: str
    qr: str

    @property
    def meetings_by_day(self) -> list[list[MeetingView]]:
        """The meetings in runs of one local day: the sheet prints a table per day, so a
        day that goes on to the next page repeats its heading there."""
        event = self.schedule.participant.event
        return [
            list(run)
            for _, run in itertools.groupby(
                self.schedule.meetings, key=lambda view: event.local(view.slot.starts_at).date()
            )
        ]


def company_sheet(schedule: PersonalSchedule, url: str, *, draw_qr: bool = True) -> CompanySheet:
    """The sheet for one participant's published schedule, linking to ``url``.

    ``draw_qr=False`` leaves the QR code as a placeholder that printing draws
    (:func:`qr_placeholder`), for sheets rendered in a request and printed elsewhere.
    """
    qr = qr_svg_data_uri(url) if draw_qr else qr_placeholder(url)
    return CompanySheet(schedule=schedule, url=url, qr=qr)


@dataclass(frozen=True)
class TableSign:
    """An A4 landscape sign for one table on one day: its label and its meetings."""

    table: Table
    day: str  # ISO date in the event's zone
    rows: list[tuple[Slot, Meeting | None]]

    @property
    def starts_at(self) -> datetime:
        """When the sign's day begins (its first slot): the day, for writing it out."""
        return self.rows[0][0].starts_at


def table_signs(session: Session, event: Event) -> list[TableSign]:
    """A sign per table and day, listing every slot with its meeting (or none).

    Day by day (every table's sign of the first day, then of the second): each day's
    stack comes off the printer whole, to be set out on the tables that morning.
    """
    by_cell = _active_by_cell(session, event)
    tables = _tables(session, event)
    signs: list[TableSign] = []
    for day, slots in slots_by_day(event).items():
        for table in tables:
            rows = [(slot, by_cell.get((table.id, slot.id))) for slot in slots]
            signs.append(TableSign(table=table, day=day, rows=rows))
    return signs


@dataclass(frozen=True)
class GridPage:
    """One A3 page of the reception grid: some tables (rows) by some slots (columns)."""

    day: str
    tables: list[Table]
    slots: list[Slot]
    cells: dict[tuple[int, int], Meeting] = field(default_factory=dict)  # (table, slot)
    number: int = 1
    of: int = 1

    def meeting(self, table: Table, slot: Slot) -> Meeting | None:
        return self.cells.get((table.id, slot.id))

    @property
    def starts_at(self) -> datetime | None:
        """When the page's first slot begins: its day, for writing it out."""
        return self.slots[0].starts_at if self.slots else None


def master_grid(session: Session, event: Event) -> list[GridPage]:
    """The reception desk's grid of every day, split into pages that fit A3 landscape.

    Slots and tables are shared out evenly between the pages a day needs (13 slots
    print as 7 and 6 columns), never leaving a page with a lone column stretched
    across the paper, or a lone row.
    """
    by_cell = _active_by_cell(session, event)
    tables = _tables(session, event)
    pages: list[GridPage] = []
    for day, slots in slots_by_day(event).items():
        for slot_part in _even_chunks(slots, GRID_SLOTS_PER_PAGE):
            for table_part in _even_chunks(tables, GRID_TABLES_PER_PAGE):
                table_ids = {t.id for t in table_part}
                slot_ids = {s.id for s in slot_part}
                cells = {
                    key: meeting
                    for key, meeting in by_cell.items()
                    if key[0] in table_ids and key[1] in slot_ids
                }
                pages.append(GridPage(day=day, tables=table_part, slots=slot_part, cells=cells))
    return [
        GridPage(p.day, p.tables, p.slots, p.cells, number=i, of=len(pages))
        for i, p in enumerate(pages, start=1)
    ]


def _tables(session: Session, event: Event) -> list[Table]:
    return list(
        session.scalars(
            select(Table)
            .join(Room, Table.room_id == Room.id)
            .where(Table.event_id == event.id)
            .order_by(Room.sort_order, Table.sort_order, Table.label)
        )
    )


def _active_by_cell(session: Session, event: Event) -> dict[tuple[int, int], Meeting]:
    cells: dict[tuple[int, int], Meeting] = {}
    for meeting in event_meetings(session, event, include_cancelled=False):
        if meeting.table_id is not None and meeting.status != MeetingStatus.CANCELLED:
            cells[(meeting.table_id, meeting.slot_id)] = meeting
    return cells


def _even_chunks(items: Sequence[T], most: int) -> list[list[T]]:
    """``items`` in as few runs of at most ``most`` as possible, their lengths differing
    by one at most (13 by 12 gives 7 and 6, not 12 and 1); one empty run for none."""
    if not items:
        return [[]]
    parts = -(-len(items) // most)  # ceiling division
    size, longer = divmod(len(items), parts)
    bounds = itertools.accumulate(size + (i < longer) for i in range(parts))
    starts = [0, *bounds]
    return [list(items[a:b]) for a, b in itertools.pairwise(starts)]
