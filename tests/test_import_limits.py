"""Participant import of crafted .xlsx files: a made-up sheet size, parts that unpack to
too much or are read over and over, XML entities and broken XML each get a clear file
error, not minutes of work, gigabytes of memory or an error page; real workbooks with a
wrong, missing or huge dimension still import every row.

The workbooks are built here part by part (a workbook is a zip of XML parts), as Excel
and LibreOffice write them or as an attacker would.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import participant_import
from scheduler.models import Event, User
from scheduler.participant_import import TITLE_ROWS_MAX, ImportPreview, preview_import

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
RELS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"

# More cell conversions than any workbook of these tests needs; a read that visits the
# empty cells of a made-up sheet size would need millions (and take an hour).
CELL_LIMIT = 500

HEADER = ["会社名", "区分", "担当者"]
DATA = [["山田製作所", "サプライヤー", "山田 太郎"], ["トヨハシ自動車", "バイヤー", "鈴木 花子"]]


@pytest.fixture
def cell_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the cells the import converts to text, failing past CELL_LIMIT."""
    calls = [0]
    convert = participant_import._cell_text

    def counted(value: object) -> str:
        calls[0] += 1
        if calls[0] > CELL_LIMIT:
            raise AssertionError("the import converts cells that are not in the file")
        return convert(value)

    monkeypatch.setattr(participant_import, "_cell_text", counted)
    return calls


# --------------------------------------------------------------------------- building


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _row(number: int, values: list[str], *, first_column: int = 1) -> str:
    """A row of inline-string cells, the first in column ``first_column``."""
    cells = "".join(
        f'<c r="{_column(first_column + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
        if v
    )
    return f'<row r="{number}">{cells}</row>'


def _list_rows(start: int = 1) -> str:
    """The header and the two participants, from row ``start``."""
    return "".join(_row(start + i, values) for i, values in enumerate([HEADER, *DATA]))


def _sheet(
    rows: str, *, dimension: str | None = None, before_data: str = "", after_data: str = ""
) -> str:
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{size}{before_data}'
        f"<sheetData>{rows}</sheetData>{after_data}</worksheet>"
    )


def _workbook_part(sheet_targets: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="Sheet{i}" sheetId="{i}" r:id="rId{i}"/>'
        for i in range(1, len(sheet_targets) + 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{sheets}</sheets></workbook>'
    )


def _xlsx(
    sheet: str | bytes,
    *,
    strings: str | bytes | None = None,
    parts: Mapping[str, str | bytes] | None = None,
    sheet_targets: list[str] | None = None,
    sheet_part: str = SHEET,
) -> bytes:
    """A workbook whose first sheet is ``sheet`` (and shared ``strings`` if given).

    ``sheet_targets`` lists the part of each sheet, relative to xl/ (all of them
    ``worksheets/sheet1.xml`` makes sheets share one part); ``parts`` adds or replaces
    parts by name.
    """
    targets = sheet_targets or [sheet_part.removeprefix("xl/")]
    relations = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="{target}"/>'
        for i, target in enumerate(targets, start=1)
    )
    overrides = "".join(
        f'<Override PartName="/{name}" ContentType="{CONTENT_TYPE}.worksheet+xml"/>'
        for name in sorted({"xl/" + t for t in targets})
    )
    if strings is not None:
        relations += (
            f'<Relationship Id="rIdS" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
        overrides += (
            f'<Override PartName="/{STRINGS}" ContentType="{CONTENT_TYPE}.sharedStrings+xml"/>'
        )
    package: dict[str, str | bytes] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="{RELS_TYPE}"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT_TYPE}.sheet.main+xml"/>'
            f"{overrides}</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{PACKAGE_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": _workbook_part(targets),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{PACKAGE_REL_NS}">{relations}</Relationships>'
        ),
        sheet_part: sheet,
    }
    if strings is not None:
        package[STRINGS] = strings
    package.update(parts or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in package.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _shared_strings(strings: list[str], doctype: str = "") -> str:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
        f'<sst xmlns="{MAIN_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        f"{items}</sst>"
    )


def _preview(session: Session, event: Event, data: bytes, **options: int) -> ImportPreview:
    return preview_import(session, event, data, "participants.xlsx", **options)


def _file_errors(preview: ImportPreview) -> list[str]:
    return [issue.text() for issue in preview.file_errors]


def _imported(preview: ImportPreview) -> list[tuple[int, str, str, str]]:
    assert _file_errors(preview) == []
    assert preview.is_valid, [i.text() for r in preview.rows for i in r.errors]
    return [(r.number, r.entry.company, r.entry.role, r.entry.contact_name) for r in preview.rows]


EXPECTED = [(2, "山田製作所", "supplier", "山田 太郎"), (3, "トヨハシ自動車", "buyer", "鈴木 花子")]


# --------------------------------------------------------------------------- sheet size

# LibreOffice writes a sheet whose whole columns are formatted as A1:AMJ1048576 (its
# 1024 columns, every row), with column styles and rows that carry only formatting.
LIBREOFFICE_COLUMNS = (
    '<sheetFormatPr defaultColWidth="11.53515625" defaultRowHeight="12.8" '
    'zeroHeight="false" outlineLevelRow="0" outlineLevelCol="0"/>'
    '<cols><col collapsed="false" customWidth="false" hidden="false" '
    'outlineLevel="0" max="1024" min="1" style="1" width="11.52"/></cols>'
)
LIBREOFFICE_ROW = (
    ' customFormat="false" ht="12.8" hidden="false" customHeight="false" '
    'outlineLevel="0" collapsed="false"'
)


@pytest.mark.parametrize(
    ("sheet", "numbers"),
    [
        # The security review's file: a 2 KB workbook claiming every cell of the sheet,
        # with a cell in the very last one (an hour of work before).
        (
            _sheet(
                _list_rows() + _row(1048576, ["x"], first_column=16384), dimension="A1:XFD1048576"
            ),
            [2, 3],
        ),
        # The same, but the last row holds a participant: it is read, and the million
        # rows in between cost nothing.
        (
            _sheet(
                _row(1, HEADER) + _row(2, DATA[0]) + _row(1048576, DATA[1]),
                dimension="A1:XFD1048576",
            ),
            [2, 1048576],
        ),
        (
            _sheet(
                _list_rows() + "".join(f'<row r="{n}"{LIBREOFFICE_ROW}/>' for n in range(4, 40)),
                dimension="A1:AMJ1048576",
                before_data=LIBREOFFICE_COLUMNS,
            ),
            [2, 3],
        ),
    ],
    ids=["whole-sheet-claimed", "last-row-used", "libreoffice-whole-columns"],
)
def test_a_made_up_sheet_size_does_not_make_the_import_visit_empty_cells(
    db_session: Session, event: Event, cell_calls: list[int], sheet: str, numbers: list[int]
) -> None:
    preview = _preview(db_session, event, _xlsx(sheet))

    assert [row[0] for row in _imported(preview)] == numbers
    assert cell_calls[0] <= 3 * len(HEADER)  # the cells in the file, and no others


def test_a_too_small_dimension_loses_no_rows_or_columns(db_session: Session, event: Event) -> None:
    # As Excel writes it (shared strings, styles, spans), but the file says A1:B2.
    strings = [*HEADER, *DATA[0], *DATA[1]]
    rows = "".join(
        f'<row r="{r}" spans="1:3">'
        + "".join(
            f'<c r="{_column(c)}{r}" s="1" t="s"><v>{3 * (r - 1) + c - 1}</v></c>'
            for c in range(1, 4)
        )
        + "</row>"
        for r in range(1, 4)
    )
    sheet = _sheet(
        rows,
        dimension="A1:B2",
        before_data='<sheetViews><sheetView tabSelected="1" workbookViewId="0"/>'
        '</sheetViews><sheetFormatPr defaultRowHeight="18.75"/>',
        after_data='<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
        'header="0.3" footer="0.3"/>',
    )

    preview = _preview(db_session, event, _xlsx(sheet, strings=_shared_strings(strings)))

    assert _imported(preview) == EXPECTED


def test_a_workbook_without_dimension_converts_only_the_cells_with_values(
    db_session: Session, event: Event, cell_calls: list[int]
) -> None:
    # Formatting out to the last column (XFD) of every row, and more sheets after the
    # first: none of it is read as cells, and the sheets stay within the read budget.
    formatted = '<c r="XFD{n}" s="1"/>'
    rows = "".join(
        _row(n, values)[: -len("</row>")] + formatted.format(n=n) + "</row>"
        for n, values in enumerate([HEADER, *DATA], start=1)
    ) + "".join(f'<row r="{n}">{formatted.format(n=n)}</row>' for n in range(4, 200))
    other = _sheet(_row(1, ["メモ"]) + "".join(_row(n, ["x" * 50] * 20) for n in range(2, 500)))
    data = _xlsx(
        _sheet(rows),
        sheet_targets=["worksheets/sheet1.xml", "worksheets/sheet2.xml", "worksheets/sheet3.xml"],
        parts={"xl/worksheets/sheet2.xml": other, "xl/worksheets/sheet3.xml": other},
    )

    assert _imported(_preview(db_session, event, data)) == EXPECTED
    assert cell_calls[0] <= 3 * len(HEADER)


def test_too_many_rows_in_a_workbook_are_all_counted_but_not_all_read(
    db_session: Session, event: Event, cell_calls: list[int]
) -> None:
    # 3 rows allowed, room for title rows above the header, and 4 rows more.
    count = 3 + TITLE_ROWS_MAX + 4
    rows = _row(1, HEADER) + "".join(_row(n, [f"会社{n}", "B"]) for n in range(2, count + 2))
    data = _xlsx(_sheet(rows, dimension="A1:XFD1048576"))

    preview = _preview(db_session, event, data, max_rows=3)

    assert _file_errors(preview) == [
        f"The file has {count} rows; at most 3 can be imported at once. Please split it."
    ]
    # The rows past the limit (and the room for titles) are only counted.
    assert cell_calls[0] <= len(HEADER) + (3 + TITLE_ROWS_MAX) * 2 + 4


def test_a_row_after_the_last_row_a_sheet_can_have_is_a_damaged_file(
    db_session: Session, event: Event
) -> None:
    data = _xlsx(_sheet(_list_rows() + _row(1048577, ["x"])))

    assert _file_errors(_preview(db_session, event, data)) == [
        "The Excel workbook (.xlsx) is damaged: its first sheet has rows after row 1048576, "
        "the last row a sheet can have."
    ]


def test_a_column_name_after_the_columns_read_is_an_error_not_lost(
    db_session: Session, event: Event
) -> None:
    # Column 101 (CW) is the first one not read: a header there would be lost.
    header = _row(1, HEADER)[: -len("</row>")] + (
        '<c r="CW1" t="inlineStr"><is><t>メール</t></is></c></row>'
    )
    data_rows = "".join(_row(n, values) for n, values in enumerate(DATA, start=2))
    data = _xlsx(_sheet(header + data_rows, dimension="A1:CW3"))

    assert _file_errors(_preview(db_session, event, data)) == [
        'The sheet has more than 100 columns: row 1 has "メール" in column CW. Only the first '
        "100 columns are read; please delete the columns you do not need, or move the "
        "participant columns to the left."
    ]


# --------------------------------------------------------------------------- unpacking


def test_a_workbook_that_unpacks_to_more_than_the_limit_is_refused(
    db_session: Session, event: Event
) -> None:
    # 51 parts of 1 MB, none compressed suspiciously much on its own (under 1 MB each).
    padding = {f"xl/media/padding{i}.bin": bytes(1024 * 1024 - 1) for i in range(51)}
    data = _xlsx(_sheet(_list_rows()), parts=padding)
    assert len(data) < 100_000

    assert _file_errors(_preview(db_session, event, data)) == [
        "The Excel workbook (.xlsx) would unpack to more than 50 MB when read, so it cannot "
        "be imported. Please copy the participant list into a new workbook, or save it as "
        "CSV, and upload that."
    ]


def test_a_huge_compressible_shared_string_is_refused_before_it_is_read(
    db_session: Session, event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The review's memory bomb, smaller: a 2 MB string compressed a thousand times.
    def never(*_args: object, **_options: object) -> None:
        raise AssertionError("openpyxl was asked to read the workbook")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    sheet = _sheet(_row(1, HEADER) + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    data = _xlsx(sheet, strings=_shared_strings(["A" * (2 * 1024 * 1024)]))

    assert _file_errors(_preview(db_session, event, data)) == [
        "The Excel workbook (.xlsx) cannot be imported: its part xl/sharedStrings.xml is "
        "compressed more than 100 times, which a normal workbook never is. Please copy the "
        "participant list into a new workbook, or save it as CSV, and upload that."
    ]


def test_sheets_that_share_one_large_part_are_refused(db_session: Session, event: Event) -> None:
    # A hundred sheets pointing at one 200 KB sheet without dimension: openpyxl would
    # read it a hundred times over (and a thousand sheets of a bigger one, for an hour).
    rows = _list_rows() + "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(4, 6000)
    )
    data = _xlsx(_sheet(rows), sheet_targets=["worksheets/sheet1.xml"] * 100)

    [error] = _file_errors(_preview(db_session, event, data))
    assert error.startswith("The Excel workbook (.xlsx) would unpack to more than ")


def test_xml_entity_declarations_are_refused(db_session: Session, event: Event) -> None:
    # Entities nest (each expanding to ten of the one before): a few KB become gigabytes.
    # Here only a little, so that reading it would still succeed.
    doctype = '<!DOCTYPE sst [<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;">]>'
    sheet = _sheet(
        _row(1, HEADER) + '<row r="2"><c r="A2" t="s"><v>0</v></c>'
        '<c r="B2" t="s"><v>1</v></c></row>'
    )
    data = _xlsx(sheet, strings=_shared_strings(["&b;", "バイヤー"], doctype))

    assert _file_errors(_preview(db_session, event, data)) == [
        "The Excel workbook (.xlsx) cannot be imported: its part xl/sharedStrings.xml "
        "declares XML entities, which Excel workbooks do not use. Please copy the "
        "participant list into a new workbook, or save it as CSV, and upload that."
    ]


# --------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize(
    ("part", "content", "where"),
    [
        (SHEET, _sheet(_list_rows())[:-30], "no element found: line 2"),
        (
            "xl/workbook.xml",
            _workbook_part(["worksheets/sheet1.xml"]).replace("</sheets>", ""),
            "mismatched tag: line 2",
        ),
        ("[Content_Types].xml", "<Types", "unclosed token: line 1, column 0"),
        ("xl/_rels/workbook.xml.rels", "", "no element found: line 1, column 0"),
    ],
    ids=["sheet", "workbook", "content-types", "relationships"],
)
def test_broken_xml_is_a_file_error_naming_the_part(
    db_session: Session, event: Event, part: str, content: str, where: str
) -> None:
    data = _xlsx(_sheet(_list_rows()), parts={part: content})

    [error] = _file_errors(_preview(db_session, event, data))
    assert error.startswith(
        f"The Excel workbook (.xlsx) is damaged: its part {part} is not valid XML ({where}"
    )
    assert error.endswith(
        "Please open the file in Excel or LibreOffice, save it again and upload it again."
    )


def test_other_reading_errors_are_a_file_error_not_a_crash(
    db_session: Session, event: Event
) -> None:
    # A broken sheet in a part not named .xml: only openpyxl finds that it is broken.
    data = _xlsx(_sheet(_list_rows())[:-30], sheet_part="xl/worksheets/sheet1.dat")

    assert _file_errors(_preview(db_session, event, data)) == [
        "The file is not an Excel workbook (.xlsx) that can be read: it may be damaged, or "
        "another kind of file. Please open it in Excel, save it again as an Excel workbook "
        "(.xlsx) or as CSV, and upload that."
    ]


def test_a_broken_workbook_is_a_message_on_the_upload_form(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    data = _xlsx(_sheet(_list_rows()), parts={"xl/workbook.xml": "<workbook"})

    response = client.post(
        f"/events/{event.id}/participants/import",
        data={"file": (io.BytesIO(data), "list.xlsx")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    assert "its part xl/workbook.xml is not valid XML" in response.get_data(as_text=True)
