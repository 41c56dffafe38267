"""The schedule for organizers who work in Excel: CSV (UTF-8 with BOM) and .xlsx.

The words in the files (column names, statuses, sheet names) are in the language of
the organizer who downloads them (:func:`export_labels`). In Japanese they are the
fixed names Japanese back offices know (:data:`HEADERS`): their macros and pivot
tables look columns up by name, so these never follow a rewording in the UI catalog.
The CSV has a BOM because Excel opens a BOM-less UTF-8 CSV as Shift_JIS garbage.

A meeting's status is the staff's (planned, cancelled) until its time; afterwards it
reads as its participants' reports say: held, not held, or over and not reported.

The .xlsx has one grid per day (slots down, tables across, as on the reception desk's
board) and a list sheet with the same columns as the CSV, where dates and times are
real Excel dates and times (so they sort and filter); the CSV writes them as ISO text.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db import utcnow
from scheduler.i18n import N_
from scheduler.models import (
    Event,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    Participant,
    ParticipantRole,
    Room,
    Slot,
    Table,
)
from scheduler.schedule_view import event_meetings, meeting_purpose, slots_by_day, stated_purposes
from scheduler.spreadsheet import cell_text, keep_as_text

HEADERS: tuple[str, ...] = (
    "日付",
    "開始",
    "終了",
    "部屋",
    "テーブル",
    "発注企業コード",
    "発注企業名",
    "受注企業コード",
    "受注企業名",
    "状態",
    "商談目的",
)
STATUS_LABELS = {
    MeetingStatus.PLANNED: "予定",
    MeetingStatus.HELD: "実施済",
    MeetingStatus.CANCELLED: "取消",
}
# After its time, a planned meeting reads as its participants' reports say (see
# :func:`meeting_state`): held when a side reported it took place, these otherwise.
NOT_HELD, UNREPORTED = "不実施", "終了（未報告）"
LIST_SHEET = "一覧"
GRID_ROOM, GRID_TIME = "部屋", "時間"
BOM = "\ufeff"


@dataclass(frozen=True)
class ExportLabels:
    """The words of a schedule export in one language."""

    headers: tuple[str, ...]  # the list's columns, as in HEADERS
    statuses: dict[MeetingStatus, str]
    not_held: str  # every report on the meeting says it did not take place
    unreported: str  # its time is over and neither side has reported on it
    list_sheet: str  # the .xlsx sheet with every meeting
    room: str  # the grid's corner: the row of rooms
    time: str  # ... and the column of times


JAPANESE = ExportLabels(
    headers=HEADERS,
    statuses=STATUS_LABELS,
    not_held=NOT_HELD,
    unreported=UNREPORTED,
    list_sheet=LIST_SHEET,
    room=GRID_ROOM,
    time=GRID_TIME,
)
# The same words as msgids, for any other language (the results workbook's words, so
# both workbooks of an English-speaking organizer read alike).
HEADER_MSGIDS: tuple[str, ...] = (
    N_("Date"),
    N_("Start"),
    N_("End"),
    N_("Room"),
    N_("Table"),
    N_("Buyer code"),
    N_("Buyer"),
    N_("Supplier code"),
    N_("Supplier"),
    N_("Status"),
    N_("Purpose"),
)
STATUS_MSGIDS = {
    MeetingStatus.PLANNED: N_("Planned"),
    MeetingStatus.HELD: N_("Held"),
    MeetingStatus.CANCELLED: N_("Cancelled"),
}


def export_labels(locale: str | None, gettext: Callable[[str], str]) -> ExportLabels:
    """The words for an organizer reading ``locale``: Japanese as always (see the module
    docstring), any other language the msgids translated with ``gettext`` (the web
    layer's, in the reader's language; English is the msgids themselves)."""
    if not locale or locale.lower().startswith("ja"):
        return JAPANESE
    return ExportLabels(
        headers=tuple(gettext(msgid) for msgid in HEADER_MSGIDS),
        statuses={status: gettext(msgid) for status, msgid in STATUS_MSGIDS.items()},
        not_held=gettext(N_("Not held")),
        unreported=gettext(N_("Over, not reported")),
        # Excel refuses a sheet name over 31 characters.
        list_sheet=gettext(N_("Meetings"))[:31],
        room=gettext(N_("Room")),
        time=gettext(N_("Time")),
    )


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
_THIN = Side(style="thin", color="B8C2D0")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
# Column widths fitted to the text are never wider than this (a long purpose wraps in
# Excel's own way), and the grid's are narrower: a meeting cell wraps its two names.
MAX_COLUMN_WIDTH = 50
GRID_COLUMN_WIDTH = (14, 30)  # at least, at most
GRID_LINE_HEIGHT = 15  # points: one line of Excel's default 11 pt font
DATE_FORMAT, TIME_FORMAT = "yyyy-mm-dd", "hh:mm"


# Excel runs a cell starting with one of these as a formula (CSV injection); openpyxl
# even writes such strings as formulas. Text from participants is quoted with "'".


@dataclass(frozen=True)
class _Pair:
    buyer: Participant
    supplier: Participant


def _pair(meeting: Meeting) -> _Pair:
    """Buyer first when the pair has one (the usual 発注/受注 reading order)."""
    a, b = meeting.participant_a, meeting.participant_b
    if a.role != ParticipantRole.BUYER and b.role == ParticipantRole.BUYER:
        a, b = b, a
    return _Pair(a, b)


def meeting_state(
    meeting: Meeting, reports: Sequence[MeetingOutcome], now: datetime, labels: ExportLabels
) -> str:
    """The status column's word for ``meeting``, given its participants' ``reports``.

    Staff record cancellations on the day; whether a meeting then took place only its
    participants say afterwards. So a planned meeting reads "held" once either side
    reported that it took place (the results page counts it so too), "not held" when
    every report says it did not, and "over, not reported" when its time has passed
    without a report. Reports made for an earlier slot of a moved meeting do not count.
    """
    status = MeetingStatus(meeting.status)
    if status != MeetingStatus.PLANNED:
        return labels.statuses[status]
    current = [r for r in reports if r.is_current(meeting)]
    if any(r.took_place for r in current):
        return labels.statuses[MeetingStatus.HELD]
    if current:
        return labels.not_held
    if meeting.slot.ends_at <= now:
        return labels.unreported
    return labels.statuses[status]


def schedule_records(
    session: Session, event: Event, labels: ExportLabels = JAPANESE, *, now: datetime | None = None
) -> list[list[Any]]:
    """Every meeting (cancelled ones too, marked) as rows under ``labels.headers``: the
    date and the start and end times as :class:`date` and :class:`time` (local), the
    rest as text. The status is :func:`meeting_state` at ``now`` (default: the present)."""
    now = now if now is not None else utcnow()
    purposes = stated_purposes(session, event)
    reports: dict[int, list[MeetingOutcome]] = {}
    for report in session.scalars(
        select(MeetingOutcome).where(MeetingOutcome.event_id == event.id)
    ):
        reports.setdefault(report.meeting_id, []).append(report)
    rows: list[list[Any]] = []
    for meeting in event_meetings(session, event):
        start = event.local(meeting.slot.starts_at)
        end = event.local(meeting.slot.ends_at)
        pair = _pair(meeting)
        table = meeting.table
        rows.append(
            [
                start.date(),
                start.time(),
                end.time(),
                table.room.name if table else "",
                table.label if table else "",
                pair.buyer.code,
                pair.buyer.display_name,
                pair.supplier.code,
                pair.supplier.display_name,
                meeting_state(meeting, reports.get(meeting.id, ()), now, labels),
                meeting_purpose(meeting, purposes),
            ]
        )
    return rows


def schedule_rows(
    session: Session, event: Event, labels: ExportLabels = JAPANESE, *, now: datetime | None = None
) -> list[list[str]]:
    """:func:`schedule_records` as text: the date ``YYYY-MM-DD``, the times ``HH:MM``."""
    records = schedule_records(session, event, labels, now=now)
    return [[_text(value) for value in row] for row in records]


def _text(value: Any) -> str:
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def schedule_csv(
    session: Session, event: Event, labels: ExportLabels = JAPANESE, *, now: datetime | None = None
) -> bytes:
    """The schedule as CSV: UTF-8 with a BOM (so Excel reads it right), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(labels.headers)
    rows = schedule_rows(session, event, labels, now=now)
    writer.writerows([cell_text(v) for v in row] for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


def schedule_xlsx(
    session: Session, event: Event, labels: ExportLabels = JAPANESE, *, now: datetime | None = None
) -> bytes:
    """The schedule as a workbook: a grid sheet per day, then the list sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    tables = list(
        session.scalars(
            select(Table)
            .join(Room, Table.room_id == Room.id)
            .where(Table.event_id == event.id)
            .order_by(Room.sort_order, Table.sort_order, Table.label)
        )
    )
    active = [
        m for m in event_meetings(session, event, include_cancelled=False) if m.table_id is not None
    ]
    for day, slots in slots_by_day(event).items():
        _day_grid(workbook.create_sheet(day), event, slots, tables, active, labels)
    _list_sheet(
        workbook.create_sheet(labels.list_sheet),
        schedule_records(session, event, labels, now=now),
        labels,
    )
    for sheet in workbook.worksheets:
        keep_as_text(sheet)  # a name such as "=HYPERLINK(…)" stays text, as written
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _style_header(cells: Sequence[Any]) -> None:
    for cell in cells:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _text_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for a full-width (e.g. Japanese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _lines(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a column ``width`` wide (a rough count: Excel
    wraps at spaces, this at any character)."""
    room = max(width - 1, 1)  # the cell's own padding
    return sum(max(1, math.ceil(_text_width(line) / room)) for line in text.split("\n"))


def _fit_height(sheet: Worksheet, row: int, widths: dict[int, float], least: int = 1) -> None:
    """Make ``row`` tall enough for its tallest wrapped cell, and ``least`` lines."""
    lines = max(
        [least]
        + [
            _lines(str(cell.value), widths[cell.column])
            for cell in sheet[row]
            if cell.value and cell.column in widths
        ]
    )
    sheet.row_dimensions[row].height = lines * GRID_LINE_HEIGHT + 3


def _day_grid(
    sheet: Worksheet,
    event: Event,
    slots: Sequence[Slot],
    tables: Sequence[Table],
    meetings: Sequence[Meeting],
    labels: ExportLabels,
) -> None:
    """Slots down, tables across: row 1 the rooms, row 2 the table labels. A meeting's
    cell holds its two companies on two lines; columns are as wide as the longest name
    (within :data:`GRID_COLUMN_WIDTH`), rows as tall as their cells wrap."""
    cells = {(m.slot_id, m.table_id): m for m in meetings}
    sheet.cell(row=1, column=1, value=labels.room)
    sheet.cell(row=2, column=1, value=labels.time)
    for column, table in enumerate(tables, start=2):
        sheet.cell(row=1, column=column, value=table.room.name)
        sheet.cell(row=2, column=column, value=table.label)
    _style_header(sheet[1])
    _style_header(sheet[2])
    texts: dict[int, list[str]] = {column: [] for column in range(2, len(tables) + 2)}
    for row, slot in enumerate(slots, start=3):
        start, end = event.local(slot.starts_at), event.local(slot.ends_at)
        time_cell = sheet.cell(row=row, column=1, value=f"{start:%H:%M}–{end:%H:%M}")
        time_cell.font = Font(bold=True)
        time_cell.border = _BORDER
        for column, table in enumerate(tables, start=2):
            meeting = cells.get((slot.id, table.id))
            text = ""
            if meeting is not None:
                pair = _pair(meeting)
                text = (
                    f"{pair.buyer.code} {pair.buyer.display_name}\n"
                    f"{pair.supplier.code} {pair.supplier.display_name}"
                )
            cell = sheet.cell(row=row, column=column, value=text)
            cell.alignment = _WRAP
            cell.border = _BORDER
            texts[column].extend(text.split("\n"))
    widths: dict[int, float] = {1: max(13, _text_width(labels.time) + 2)}
    least, most = GRID_COLUMN_WIDTH
    for column, table in enumerate(tables, start=2):
        texts[column] += [table.room.name, table.label]
        widest = max(_text_width(text) for text in texts[column]) + 2
        widths[column] = min(max(least, widest), most)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    for row in (1, 2):
        _fit_height(sheet, row, widths)
    for row in range(3, len(slots) + 3):
        _fit_height(sheet, row, widths, least=2)  # a meeting's two names
    sheet.freeze_panes = "B3"


def _list_sheet(sheet: Worksheet, rows: list[list[Any]], labels: ExportLabels) -> None:
    """Every meeting under the CSV's columns: the date and times as Excel dates and
    times, each column as wide as its text (up to :data:`MAX_COLUMN_WIDTH`)."""
    sheet.append(list(labels.headers))
    _style_header(sheet[1])
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows(min_row=2, max_col=3):
        cells[0].number_format = DATE_FORMAT
        cells[1].number_format = cells[2].number_format = TIME_FORMAT
    for column, header in enumerate(labels.headers, start=1):
        values = [header] + [_text(row[column - 1]) for row in rows]
        widest = max(_text_width(value) for value in values) + 2
        sheet.column_dimensions[get_column_letter(column)].width = min(widest, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(labels.headers))}{len(rows) + 1}"
