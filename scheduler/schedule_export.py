"""The schedule for organizers who work in Excel: CSV (UTF-8 with BOM) and .xlsx.

Headers are Japanese because the files go to Japanese back offices and Excel
opens a BOM-less UTF-8 CSV as Shift_JIS garbage. The .xlsx has one grid per day
(slots down, tables across, as on the reception desk's board) and a list sheet
with the same columns as the CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import (
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
    Room,
    Slot,
    Table,
)
from scheduler.schedule_view import event_meetings, meeting_purpose, slots_by_day, stated_purposes
from scheduler.spreadsheet import cell_text

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
BOM = "\ufeff"

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
_THIN = Side(style="thin", color="B8C2D0")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


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


def schedule_rows(session: Session, event: Event) -> list[list[str]]:
    """Every meeting (cancelled ones too, marked) as rows under :data:`HEADERS`."""
    purposes = stated_purposes(session, event)
    rows: list[list[str]] = []
    for meeting in event_meetings(session, event):
        start = event.local(meeting.slot.starts_at)
        end = event.local(meeting.slot.ends_at)
        pair = _pair(meeting)
        table = meeting.table
        rows.append(
            [
                start.date().isoformat(),
                f"{start:%H:%M}",
                f"{end:%H:%M}",
                table.room.name if table else "",
                table.label if table else "",
                pair.buyer.code,
                pair.buyer.display_name,
                pair.supplier.code,
                pair.supplier.display_name,
                STATUS_LABELS.get(MeetingStatus(meeting.status), meeting.status),
                meeting_purpose(meeting, purposes),
            ]
        )
    return rows


def schedule_csv(session: Session, event: Event) -> bytes:
    """The schedule as CSV: UTF-8 with a BOM (so Excel reads it right), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([cell_text(v) for v in row] for row in schedule_rows(session, event))
    return (BOM + buffer.getvalue()).encode("utf-8")


def schedule_xlsx(session: Session, event: Event) -> bytes:
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
        _day_grid(workbook.create_sheet(day), event, slots, tables, active)
    _list_sheet(workbook.create_sheet("一覧"), schedule_rows(session, event))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _style_header(cells: Sequence[Any]) -> None:
    for cell in cells:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _day_grid(
    sheet: Worksheet,
    event: Event,
    slots: Sequence[Slot],
    tables: Sequence[Table],
    meetings: Sequence[Meeting],
) -> None:
    """Slots down, tables across: row 1 the rooms, row 2 the table labels."""
    cells = {(m.slot_id, m.table_id): m for m in meetings}
    sheet.cell(row=1, column=1, value="部屋")
    sheet.cell(row=2, column=1, value="時間")
    for column, table in enumerate(tables, start=2):
        sheet.cell(row=1, column=column, value=cell_text(table.room.name))
        sheet.cell(row=2, column=column, value=cell_text(table.label))
        sheet.column_dimensions[get_column_letter(column)].width = 22
    _style_header(sheet[1])
    _style_header(sheet[2])
    sheet.column_dimensions["A"].width = 13
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
            cell = sheet.cell(row=row, column=column, value=cell_text(text))
            cell.alignment = _WRAP
            cell.border = _BORDER
        sheet.row_dimensions[row].height = 32
    sheet.freeze_panes = "B3"


def _list_sheet(sheet: Worksheet, rows: list[list[str]]) -> None:
    sheet.append(list(HEADERS))
    _style_header(sheet[1])
    for row in rows:
        sheet.append([cell_text(v) for v in row])
    widths = (12, 7, 7, 14, 9, 12, 30, 12, 30, 8, 50)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(rows) + 1}"
