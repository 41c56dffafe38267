"""Participants of an event as CSV (UTF-8 with BOM) or Excel, in the import's own layout.

The headers and cell formats are exactly those :mod:`scheduler.participant_import`
reads, so an exported file imported again changes nothing, and an organizer can
export, correct a few cells in Excel and import the file back.

The file holds the companies taking part (approved), the ones the participant list
counts: a registration waiting, declined or withdrawn is not in it, so the file and the
list agree, and importing the file back does not give such a registration a code.
Headers, roles and the sheet's name are in the reader's language (``language``, "ja"
or "en"); the import reads both.

For an organizer without a list yet, :func:`template_xlsx` writes an empty one in the
same layout, with drop-down lists, a guide to every column and the names the import
recognises.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.i18n import N_
from scheduler.models import Attendance, Event, Participant, ParticipantStatus
from scheduler.participant_import import (
    COLUMNS,
    DEFAULT_MAX_ROWS,
    FIX_HEADERS,
    REQUIRED_KEYS,
    ROLE_LABELS,
    ROLE_LABELS_EN,
    code_sort_key,
    entry_cells,
)
from scheduler.spreadsheet import cell_text, keep_as_text
from scheduler.vocabulary import CERTIFICATIONS, FIELDS, PREFECTURES, TECHNOLOGIES

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


# --------------------------------------------------------------------------- template

# The template's words are English msgids (marked with N_); the web layer passes its
# gettext in, so the workbook is in the reader's language. The column names, the roles
# and the first sheet's name are the export's own (the import reads them back).

#: Columns typed as text in the template, so that Excel keeps what is typed ("007"
#: keeps its zeros, "0532-…" does not become a number or a date).
TEXT_KEYS = frozenset({"code", "phone"})
#: The least each count column accepts, as the import checks it.
COUNT_MINIMUMS = {"employees": 0, "max_meetings": 0, "desks": 1}
REQUIRED_COLOUR = "FCE4D6"  # light orange: the headers of the required columns
HEADING_COLOUR = "DDEBF7"  # light blue: the headings of the other sheets' tables
LINE_HEIGHT = 19  # points per line of wrapped text (Japanese glyphs need more than 15)

GUIDE_SHEET = N_("How to fill in")
NAMES_SHEET = N_("Accepted names")
CHOICES_SHEET = N_("Drop-down lists")  # hidden: what the prefecture drop-down offers

GUIDE_TITLE = N_("How to fill in the participant list")
GUIDE_NOTES = (
    N_("Enter the participants on the sheet \"%(sheet)s\" from row 2 on, and keep its first "
       "row: the import finds the columns by these names."),
    N_("The columns with an orange header are required: %(required)s. The others may be "
       "left blank."),
    # The import page's own words.
    N_("One row per company. A company already in the directory is found by its name, "
       "ignoring spaces, full-width forms and a missing legal form: 株式会社, (株) and ㈱ are "
       "the same, but 有限会社 and 株式会社 are different companies."),
    N_("Importing the same file again updates the participants; a blank cell leaves the "
       "stored value as it is."),
    N_("At most %(n)s rows per file."),
    N_("Only the first sheet (\"%(sheet)s\") is imported: this sheet and the others are not "
       "read."),
    N_("You will see a preview of every row before anything is saved."),
)
GUIDE_HEADINGS = (N_("Column"), N_("Required or optional"), N_("What to enter"), N_("Example"))
REQUIRED, OPTIONAL = N_("Required"), N_("Optional")
#: What each column takes, as :func:`scheduler.participant_import.validate_entry` reads
#: it (placeholders: the role labels and the sheet of accepted names).
COLUMN_HELP: dict[str, str] = {
    "code": N_("Letters, digits, \"-\" and \"_\" (B001, S001…). Left blank for a new "
               "participant, the next free code is given."),
    "company": N_("The company's name. A company already in the directory is found by this "
                  "name."),
    "company_kana": N_("The company's name in katakana."),
    "role": N_("%(buyer)s or %(supplier)s, from the list. Also read: 発注企業 or B for a buyer, "
               "受注企業 or S for a supplier."),
    "department": N_("The department taking part (free text)."),
    "prefecture": N_("A prefecture, from the list. Written without 都, 府 or 県 (愛知) it is "
                     "read too; other text is kept as written."),
    "city": N_("Free text."),
    "industry": N_("Free text."),
    "employees": N_("A whole number, 0 or more."),
    "website": N_("A web address (https://…). An address such as example.co.jp gets "
                  "\"https://\" added."),
    "technologies": N_("Names from the sheet \"%(sheet)s\"; several are separated by 、 or "
                       "commas. Other names are kept as free tags."),
    "certifications": N_("Names from the sheet \"%(sheet)s\"; several are separated by 、 or "
                         "commas. Other names are kept as written."),
    "contact_name": N_("The contact person's name. Required when an e-mail address is "
                       "given."),
    "contact_kana": N_("The contact person's name in katakana."),
    "email": N_("The contact person's e-mail address: the company's link and schedule are "
                "e-mailed to it."),
    "phone": N_("The contact person's phone number. The cell is text, so a leading 0 is "
                "kept."),
    "max_meetings": N_("A whole number, 0 or more. Left blank for a new participant, the "
                       "event's default applies."),
    "desks": N_("How many meetings the company holds at the same time (parallel desks): a "
                "whole number, 1 or more. Left blank for a new participant, 1."),
}
#: The error Excel shows for a value outside a drop-down list (a warning: the import
#: reads more than the list offers, e.g. 発注企業 or a prefecture without 県).
CHOOSE_FROM_LIST = N_("Choose from the list.")
COUNT_ERRORS = {0: N_("Enter a whole number, 0 or more."),
                1: N_("Enter a whole number, 1 or more.")}
NAMES_NOTE = N_("The names the import recognises, to copy into the columns "
                "\"%(technologies)s\" and \"%(certifications)s\" (several in one cell are "
                "separated by 、 or commas). Japanese and English names are both read.")
NAMES_HEADINGS = (N_("Technology field"), N_("Technology"), N_("Certification"), N_("Prefecture"))

#: A sample row for the guide (a supplier); the role, technologies and certifications
#: are written in the sheet's language, as the export writes them.
_SAMPLE: dict[str, str] = {
    "code": "S001",
    "company": "株式会社山田製作所",
    "company_kana": "ヤマダセイサクショ",
    "department": "営業部",
    "prefecture": "愛知県",
    "city": "豊橋市",
    "industry": "金属加工",
    "employees": "45",
    "website": "https://yamada.example.jp",
    "contact_name": "山田　太郎",
    "contact_kana": "ヤマダ　タロウ",
    "email": "taro@yamada.example.jp",
    "phone": "0532-00-0000",
    "max_meetings": "8",
    "desks": "1",
}
#: The same sample's free text in English, for an organizer reading the template in
#: English. The katakana readings and the prefecture (the drop-down's names) stay.
_SAMPLE_EN: dict[str, str] = {
    "company": "Yamada Seisakusho Co., Ltd.",
    "department": "Sales",
    "city": "Toyohashi",
    "industry": "Metalworking",
    "contact_name": "Taro Yamada",
}
_SAMPLE_TECHNOLOGIES = ("machining.turning", "machining.machining_center")
_SAMPLE_CERTIFICATIONS = ("iso9001", "iso14001")


def template_xlsx(language: str, gettext: Callable[[str], str], *,
                  max_rows: int = DEFAULT_MAX_ROWS) -> bytes:
    """An empty participant list to fill in and import, as an Excel workbook.

    The first sheet, the one the import reads, has the export's header row in
    ``language`` (required columns in orange), no rows, and drop-down lists and number
    checks on its first ``max_rows`` rows (the import's limit). The second sheet says
    what each column takes, the third lists the technologies, certifications and
    prefectures the import recognises; a hidden fourth holds the prefectures the
    drop-down offers. The words are translated with ``gettext`` (the reader's).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    english = language.startswith("en")

    def text(msgid: str, **params: Any) -> str:
        translated = gettext(msgid)
        return translated % params if params else translated

    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor=REQUIRED_COLOUR)
    heading_fill = PatternFill("solid", fgColor=HEADING_COLOUR)
    wrap = Alignment(wrap_text=True, vertical="top")
    headers = {column.key: column.export_header(language) for column in COLUMNS}
    letters = {column.key: get_column_letter(index)
               for index, column in enumerate(COLUMNS, start=1)}
    roles = ROLE_LABELS_EN if english else ROLE_LABELS
    separator = ", " if english else "、"
    sample = {
        **_SAMPLE,
        **(_SAMPLE_EN if english else {}),
        "role": roles["supplier"],
        "technologies": separator.join(TECHNOLOGIES[code].label(language)
                                       for code in _SAMPLE_TECHNOLOGIES),
        "certifications": separator.join(term.label(language) for term in CERTIFICATIONS
                                         if term.code in _SAMPLE_CERTIFICATIONS),
    }

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAMES["en" if english else "ja"]
    guide = workbook.create_sheet(_sheet_title(text(GUIDE_SHEET)))
    names = workbook.create_sheet(_sheet_title(text(NAMES_SHEET)))
    choices = workbook.create_sheet(_sheet_title(text(CHOICES_SHEET)))
    choices.sheet_state = "hidden"

    # The list: the header row only, formats and checks on the rows to fill in.
    sheet.append([headers[column.key] for column in COLUMNS])
    for column in COLUMNS:
        letter = letters[column.key]
        header = sheet[f"{letter}1"]
        header.font = bold
        if column.key in REQUIRED_KEYS:
            header.fill = required_fill
        dimension = sheet.column_dimensions[letter]
        widest = max(_display_width(headers[column.key]), _display_width(sample[column.key]))
        dimension.width = min(max(widest + 4, 12), 40)
        if column.key in TEXT_KEYS:
            dimension.number_format = "@"  # the column's format: cells typed in keep it
    sheet.freeze_panes = "A2"
    last_row = max_rows + 1

    def rows_of(key: str) -> str:
        return f"{letters[key]}2:{letters[key]}{last_row}"

    for row, prefecture in enumerate(PREFECTURES, start=1):
        choices.cell(row=row, column=1, value=prefecture)
    lists = [
        # A literal list (short: Excel allows 255 characters) and a range of the hidden sheet.
        ("role", '"' + ",".join(roles[role] for role in ("buyer", "supplier")) + '"'),
        ("prefecture", f"{_quoted(choices.title)}!$A$1:$A${len(PREFECTURES)}"),
    ]
    for key, formula in lists:
        validation = DataValidation(type="list", formula1=formula, allow_blank=True,
                                    showErrorMessage=True, errorStyle="warning",
                                    error=text(CHOOSE_FROM_LIST)[:225])
        validation.add(rows_of(key))
        sheet.add_data_validation(validation)
    for key, minimum in COUNT_MINIMUMS.items():
        validation = DataValidation(type="whole", operator="greaterThanOrEqual",
                                    formula1=str(minimum), allow_blank=True,
                                    showErrorMessage=True, errorStyle="stop",
                                    error=text(COUNT_ERRORS[minimum])[:225])
        validation.add(rows_of(key))
        sheet.add_data_validation(validation)

    # The guide: a few lines on the whole file, then one row per column.
    required_headers = [headers[key] for key in REQUIRED_KEYS]
    notes = [
        text(GUIDE_NOTES[0], sheet=sheet.title),
        text(GUIDE_NOTES[1], required=separator.join(required_headers)),
        text(GUIDE_NOTES[2]),
        text(GUIDE_NOTES[3]),
        text(GUIDE_NOTES[4], n=max_rows),
        text(GUIDE_NOTES[5], sheet=sheet.title),
        text(GUIDE_NOTES[6]),
    ]
    rows = [
        [headers[column.key],
         text(REQUIRED if column.key in REQUIRED_KEYS else OPTIONAL),
         text(COLUMN_HELP[column.key], buyer=roles["buyer"], supplier=roles["supplier"],
              sheet=names.title),
         sample[column.key]]
        for column in COLUMNS
    ]
    headings = [text(msgid) for msgid in GUIDE_HEADINGS]
    widths = [
        min(max(_display_width(row[0]) for row in [headings, *rows]) + 4, 30),
        min(max(_display_width(row[1]) for row in [headings, *rows]) + 4, 30),
        60,
        min(max(_display_width(row[3]) for row in [headings, *rows]) + 4, 36),
    ]
    for index, width in enumerate(widths, start=1):
        guide.column_dimensions[get_column_letter(index)].width = width
    guide["A1"] = text(GUIDE_TITLE)
    guide["A1"].font = Font(bold=True, size=14)
    guide.row_dimensions[1].height = 24
    for row, note in enumerate(notes, start=2):
        _note_row(guide, row, note, sum(widths), len(widths), wrap)
    table_row = len(notes) + 3  # after a blank row
    for index, heading in enumerate(headings, start=1):
        cell = guide.cell(row=table_row, column=index, value=heading)
        cell.font, cell.fill = bold, heading_fill
    for offset, values in enumerate(rows, start=1):
        row = table_row + offset
        for index, value in enumerate(values, start=1):
            cell = guide.cell(row=row, column=index, value=value)
            cell.alignment = wrap
            cell.data_type = "s"  # an example such as "0532-…" or "45" stays as written
        if COLUMNS[offset - 1].key in REQUIRED_KEYS:
            guide.cell(row=row, column=1).fill = required_fill
            guide.cell(row=row, column=2).fill = required_fill
        lines = max(_lines(value, width) for value, width in zip(values, widths, strict=True))
        guide.row_dimensions[row].height = LINE_HEIGHT * lines

    # The accepted names, to copy from; an empty column between the three lists.
    technology_rows = [(field.label(language), term.label(language))
                       for field in FIELDS for term in field.technologies]
    certification_names = [term.label(language) for term in CERTIFICATIONS]
    name_headings = [text(msgid) for msgid in NAMES_HEADINGS]
    note = text(NAMES_NOTE, technologies=headers["technologies"],
                certifications=headers["certifications"])
    name_widths = [
        max(_display_width(v) for v in [name_headings[0], *(f for f, _t in technology_rows)]) + 4,
        max(_display_width(v) for v in [name_headings[1], *(t for _f, t in technology_rows)]) + 4,
        3,
        max(_display_width(v) for v in [name_headings[2], *certification_names]) + 4,
        3,
        max(_display_width(v) for v in [name_headings[3], *PREFECTURES]) + 4,
    ]
    for index, width in enumerate(name_widths, start=1):
        names.column_dimensions[get_column_letter(index)].width = width
    _note_row(names, 1, note, sum(name_widths), len(name_widths), wrap)
    for column, heading in zip((1, 2, 4, 6), name_headings, strict=True):
        cell = names.cell(row=3, column=column, value=heading)
        cell.font, cell.fill = bold, heading_fill
    for row, (field_label, technology) in enumerate(technology_rows, start=4):
        names.cell(row=row, column=1, value=field_label)
        names.cell(row=row, column=2, value=technology)
    for row, certification in enumerate(certification_names, start=4):
        names.cell(row=row, column=4, value=certification)
    for row, prefecture in enumerate(PREFECTURES, start=4):
        names.cell(row=row, column=6, value=prefecture)
    names.freeze_panes = "A4"

    for each in (sheet, guide, names, choices):
        keep_as_text(each)
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _note_row(sheet: Any, row: int, note: str, width: int, columns: int,
              alignment: Any) -> None:
    """``note`` across the first ``columns`` columns of ``row`` (``width`` wide in all),
    wrapped, the row as high as its lines (Excel does not fit merged cells itself)."""
    sheet.cell(row=row, column=1, value=note).alignment = alignment
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    sheet.row_dimensions[row].height = LINE_HEIGHT * _lines(note, width)


def _lines(text: str, width: int) -> int:
    """About how many lines ``text`` wraps to in a column ``width`` wide (a full-width
    character is a little wider than two digits, hence the tenth more)."""
    return max(1, math.ceil(_display_width(text) * 1.1 / max(width - 2, 1)))


def _sheet_title(name: str) -> str:
    """``name`` as Excel allows a sheet to be called: without []:*?/\\, not starting or
    ending with an apostrophe, at most 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", name).strip().strip("'")
    return cleaned[:31].strip() or "Sheet"


def _quoted(title: str) -> str:
    """A sheet's name as a formula refers to it."""
    return "'" + title.replace("'", "''") + "'"
