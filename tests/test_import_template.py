"""The participant-list template of the import page: an empty list in the export's layout,
with drop-down lists and a guide, which the import reads back once filled in."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler.models import Event, User
from scheduler.participant_import import (
    COLUMNS,
    REQUIRED_KEYS,
    RowAction,
    preview_import,
    validate_entry,
)
from scheduler.vocabulary import CERTIFICATIONS, PREFECTURES, TECHNOLOGIES
from tests.conftest import AuthActions

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _template(client: FlaskClient, event: Event) -> TestResponse:
    return client.get(f"/events/{event.id}/participants/import/template.xlsx")


def _book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def _first_row(data: bytes) -> list[str]:
    return [cell.value for cell in _book(data).worksheets[0][1]]


def _validations(book: Workbook) -> dict[str, tuple[str, str, str]]:
    """The first sheet's validations by the range they cover: (type, formula, style)."""
    return {str(v.sqref): (v.type, v.formula1, v.errorStyle)
            for v in book.worksheets[0].data_validations.dataValidation}


def _letter(key: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter([c.key for c in COLUMNS].index(key) + 1)


def _filled(data: bytes, rows: list[dict[str, object]]) -> bytes:
    """The template with ``rows`` (by column key) typed into its first sheet."""
    book = _book(data)
    sheet = book.worksheets[0]
    keys = [c.key for c in COLUMNS]
    for number, row in enumerate(rows, start=2):
        for key, value in row.items():
            sheet.cell(row=number, column=keys.index(key) + 1, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_import_page_links_to_the_template(client: FlaskClient, organizer_en: User,
                                               event: Event) -> None:
    page = client.get(f"/events/{event.id}/participants/import").get_data(as_text=True)
    card = page.split("The file")[1]
    assert f'href="/events/{event.id}/participants/import/template.xlsx"' in card
    assert "Template (Excel)" in card


def test_the_template_is_an_xlsx_download(client: FlaskClient, organizer_en: User,
                                          event: Event) -> None:
    response = _template(client, event)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == XLSX
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=participants-template.xlsx")
    assert response.data.startswith(b"PK\x03\x04")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_first_sheet_has_the_exports_header_row_and_no_rows(
    client: FlaskClient, organizer_en: User, event: Event, lang: str
) -> None:
    client.post("/language", data={"lang": lang})
    template = _template(client, event).data
    export = client.get(f"/events/{event.id}/participants/export.xlsx").data

    assert _first_row(template) == _first_row(export)
    book = _book(template)
    sheet = book.worksheets[0]
    assert sheet.title == _book(export).worksheets[0].title
    assert sheet.max_row == 1 and sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    # Required columns are marked by their fill, not by their text.
    filled = {c.key for c, cell in zip(COLUMNS, sheet[1], strict=True)
              if cell.fill.fill_type == "solid"}
    assert filled == set(REQUIRED_KEYS)
    # Typed in, a code or phone number keeps its leading zeros.
    for key in ("code", "phone"):
        assert sheet.column_dimensions[_letter(key)].number_format == "@"
    for key in ("company", "technologies", "email"):
        assert sheet.column_dimensions[_letter(key)].width >= 14


def test_the_sheets_headers_are_in_english_or_japanese(client: FlaskClient, organizer_en: User,
                                                      event: Event) -> None:
    english = _first_row(_template(client, event).data)
    client.post("/language", data={"lang": "ja"})
    japanese = _first_row(_template(client, event).data)

    assert english[:4] == ["Code", "Company", "Company kana", "Role"]
    assert japanese[:4] == ["コード", "会社名", "会社名カナ", "区分"]


@pytest.mark.parametrize(("lang", "roles"), [("en", '"Buyer,Supplier"'),
                                             ("ja", '"バイヤー,サプライヤー"')])
def test_role_prefecture_and_counts_have_drop_downs_and_checks(
    app: Flask, client: FlaskClient, organizer_en: User, event: Event, lang: str, roles: str
) -> None:
    client.post("/language", data={"lang": lang})
    book = _book(_template(client, event).data)
    validations = _validations(book)
    last = 5001  # the header and the import's 5000 rows

    assert validations[f"{_letter('role')}2:{_letter('role')}{last}"] == ("list", roles, "warning")
    kind, formula, _style = validations[f"{_letter('prefecture')}2:{_letter('prefecture')}{last}"]
    # 47 prefectures are too long for a literal list: a range of the hidden sheet.
    hidden = book.worksheets[-1]
    assert hidden.sheet_state == "hidden"
    assert kind == "list" and formula == f"'{hidden.title}'!$A$1:$A$47"
    assert [row[0].value for row in hidden["A1:A47"]] == list(PREFECTURES)
    for key, minimum in (("employees", "0"), ("max_meetings", "0"), ("desks", "1")):
        assert validations[f"{_letter(key)}2:{_letter(key)}{last}"] == ("whole", minimum, "stop")

    app.config["IMPORT_MAX_ROWS"] = 100
    smaller = _validations(_book(_template(client, event).data))
    assert f"{_letter('role')}2:{_letter('role')}101" in smaller


def test_the_guide_names_every_column_with_what_it_takes(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    guide = _book(_template(client, event).data).worksheets[1]
    rows = [[cell.value for cell in row] for row in guide.iter_rows()]

    assert guide.title == "How to fill in"
    table = {row[0]: row[1:] for row in rows if row[0] in {c.header_en for c in COLUMNS}}
    assert list(table) == [c.header_en for c in COLUMNS]
    assert {h for h, (need, _help, _ex) in table.items() if need == "Required"} == {
        "Company", "Role"}
    assert all(help_text for _need, help_text, _ex in table.values())
    assert "Buyer or Supplier" in table["Role"][1]
    assert 'Names from the sheet "Accepted names"' in table["Technologies"][1]
    assert table["Technologies"][2] == "Turning, Machining centre work"
    assert table["Phone"][2] == "0532-00-0000"
    # The example's free text reads in English too; the katakana column stays katakana.
    assert table["Company"][2] == "Yamada Seisakusho Co., Ltd."
    assert table["Contact"][2] == "Taro Yamada"
    notes = " ".join(str(row[0]) for row in rows[:10])
    assert "One row per company." in notes and "At most 5000 rows per file." in notes
    assert "a blank cell leaves the stored value as it is" in notes


def test_the_japanese_guide_uses_the_catalog(client: FlaskClient, organizer_en: User,
                                             event: Event) -> None:
    client.post("/language", data={"lang": "ja"})
    guide = _book(_template(client, event).data).worksheets[1]
    text = " ".join(str(cell.value) for row in guide.iter_rows() for cell in row if cell.value)

    # A sentence of the import page, already translated.
    assert "同じファイルをもう一度取り込むと参加企業の情報が更新されます" in text
    assert all(c.header in text for c in COLUMNS)
    assert "旋盤加工、マシニング加工" in text  # the example in Japanese names
    assert "株式会社山田製作所" in text and "Yamada Seisakusho" not in text


def test_the_names_sheet_lists_every_technology_certification_and_prefecture(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    names = _book(_template(client, event).data).worksheets[2]
    values = {cell.value for row in names.iter_rows() for cell in row if cell.value}

    assert {t.en for t in TECHNOLOGIES.values()} <= values
    assert {c.en for c in CERTIFICATIONS} <= values
    assert set(PREFECTURES) <= values
    assert names.sheet_state == "visible"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_name_on_the_names_sheet_is_recognised_by_the_import(
    client: FlaskClient, organizer_en: User, event: Event, lang: str
) -> None:
    client.post("/language", data={"lang": lang})
    names = _book(_template(client, event).data).worksheets[2]
    column = {heading: [cell.value for cell in names[letter][3:] if cell.value]
              for letter, heading in (("B", "technologies"), ("D", "certifications"),
                                      ("F", "prefecture"))}

    entry, errors, notes = validate_entry({
        "company": "山田製作所", "role": "S",
        "technologies": "、".join(column["technologies"]),
        "certifications": ", ".join(column["certifications"]),
    })
    assert errors == [] and notes == []
    assert entry.technologies == list(TECHNOLOGIES) and entry.tags == []
    assert entry.certifications == [c.code for c in CERTIFICATIONS]
    assert column["prefecture"] == list(PREFECTURES)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_guides_example_row_imports_without_a_word(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event, lang: str
) -> None:
    client.post("/language", data={"lang": lang})
    template = _template(client, event).data
    guide = _book(template).worksheets[1]
    headers = _first_row(template)
    example = {row[0].value: row[3].value for row in guide.iter_rows() if row[0].value in headers}
    keys = {header: column.key for header, column in zip(headers, COLUMNS, strict=True)}

    data = _filled(template, [{keys[h]: value for h, value in example.items()}])
    preview = preview_import(db_session, event, data, "t.xlsx")

    assert preview.file_errors == []
    [row] = preview.rows
    assert (row.errors, row.warnings) == ([], [])
    assert row.entry.role == "supplier" and row.entry.email == "taro@yamada.example.jp"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_filled_in_template_imports(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event, lang: str
) -> None:
    client.post("/language", data={"lang": lang})
    template = _template(client, event).data
    supplier, buyer = ("Supplier", "Buyer") if lang == "en" else ("サプライヤー", "バイヤー")
    data = _filled(template, [
        {"code": "007", "company": "株式会社山田製作所", "role": supplier,
         "prefecture": "愛知県", "employees": 45, "technologies": "旋盤加工、Milling",
         "certifications": "ISO 9001", "contact_name": "山田　太郎",
         "email": "taro@yamada.example.jp", "phone": "0532000000", "max_meetings": 8,
         "desks": 2},
        {"company": "トヨハシ自動車", "role": buyer},
    ])

    preview = preview_import(db_session, event, data, "participants-template.xlsx")

    assert preview.file_errors == [] and preview.file_warnings == []
    # Only the first sheet is read: its header row, every column recognised.
    assert preview.headers == _first_row(template)
    assert set(preview.columns) == {c.key for c in COLUMNS}
    assert [(r.number, r.action, r.errors) for r in preview.rows] == [
        (2, RowAction.CREATE, []), (3, RowAction.CREATE, [])]
    first = preview.rows[0].entry
    assert (first.code, first.role, first.phone) == ("007", "supplier", "0532000000")
    assert first.technologies == ["machining.turning", "machining.milling"]
    assert (first.employees, first.max_meetings, first.desks) == (45, 8, 2)


def test_the_empty_template_is_recognised_but_has_no_rows(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    """Uploaded as it is, the template is read as a list with its column names (none is
    missing), only without participants; the other sheets do not count as rows."""
    preview = preview_import(db_session, event, _template(client, event).data, "t.xlsx")

    assert [i.text() for i in preview.file_errors] == [
        "The file has a header row (row 1) but no participants below it."]


def test_staff_cannot_download_the_template(client: FlaskClient, auth: AuthActions,
                                            staff: User, event: Event) -> None:
    auth.login("staff@example.jp")

    assert _template(client, event).status_code == 403
    assert client.get(f"/events/{event.id}/participants/import").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client: FlaskClient, event: Event) -> None:
    response = _template(client, event)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_unknown_event_has_no_template(client: FlaskClient, organizer_en: User,
                                          event: Event) -> None:
    assert client.get(f"/events/{event.id + 1000}/participants/import/template.xlsx"
                      ).status_code == 404
