"""Participant import: files that cannot be read as they are, the rows to fix, and the
messages about them in the reader's language."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler.errors import ValidationFailed
from scheduler.models import Event, User
from scheduler.participant_import import FIX_HEADERS, preview_import, read_table

# A list with a column the import does not read (the organizer's notes), between others.
NOTED = ("会社名,区分,備考,担当者,メール,メモ\r\n"
         "株式会社山田製作所,サプライヤー,名刺交換済み,山田 太郎,taro@yamada.example.jp,A\r\n"
         "佐藤精機,お客さん,来年も参加予定,佐藤 一郎,ichiro@sato.example.jp\r\n"
         "清水プレス工業,サプライヤー,要フォロー,高橋 健,x@,B\r\n")


def _upload(client: FlaskClient, event: Event, data: bytes,
            filename: str = "list.csv") -> TestResponse:
    return client.post(f"/events/{event.id}/participants/import",
                       data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _file_errors(session: Session, event: Event, data: bytes, filename: str) -> list[str]:
    return [issue.text() for issue in preview_import(session, event, data, filename).file_errors]


def _csv_rows(response: TestResponse) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


# --------------------------------------------------------------------------- rows to fix


def test_the_rows_to_fix_keep_every_column_of_the_file_in_its_order(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    preview_url = _upload(client, event, NOTED.encode()).headers["Location"]
    header = ["会社名", "区分", "備考", "担当者", "メール", "メモ", *FIX_HEADERS]

    before = _csv_rows(client.get(preview_url + "/errors.csv"))
    assert before[0] == header
    assert [row[:6] for row in before[1:]] == [
        ["佐藤精機", "お客さん", "来年も参加予定", "佐藤 一郎", "ichiro@sato.example.jp", ""],
        ["清水プレス工業", "サプライヤー", "要フォロー", "高橋 健", "x@", "B"],
    ]
    assert [row[6] for row in before[1:]] == ["3", "4"]

    done = client.post(preview_url, data={"mode": "valid"})
    left_out = done.headers["Location"]
    assert _csv_rows(client.get(left_out + ".csv")) == before
    page = client.get(left_out).get_data(as_text=True)
    assert "<th>備考</th>" in page and "来年も参加予定" in page
    # The bad cell is marked in its own column, not shifted by the columns not read.
    row_4 = page.split('<tr id="row-4"')[1].split("</tr>")[0]
    assert '<td class="cell-error" aria-invalid="true">x@</td>' in row_4


def test_a_file_of_rows_to_fix_coming_back_with_errors_has_its_columns_once(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    first = _upload(client, event, NOTED.encode()).headers["Location"]
    to_fix = client.get(first + "/errors.csv").data

    again = _upload(client, event, to_fix, "list-to-fix.csv").headers["Location"]
    rows = _csv_rows(client.get(again + "/errors.csv"))

    assert rows[0] == ["会社名", "区分", "備考", "担当者", "メール", "メモ", *FIX_HEADERS]
    assert rows[1][:3] == ["佐藤精機", "お客さん", "来年も参加予定"]


# --------------------------------------------------------------------------- unreadable files


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


NOT_A_WORKBOOK = ("The file is not an Excel workbook (.xlsx) that can be read: it may be "
                  "damaged, or another kind of file. Please open it in Excel, save it again as "
                  "an Excel workbook (.xlsx) or as CSV, and upload that.")


@pytest.mark.parametrize(
    "data",
    [
        _zip({"[Content_Types].xml": "<?xml version='1.0'?><Types xmlns='http://schemas."
              "openxmlformats.org/package/2006/content-types'/>",
              "word/document.xml": "<?xml version='1.0'?><document/>"}),
        b"PK\x03\x04 not really a zip",
        b"%PDF-1.4\n1 0 obj<<>>endobj\n",
    ],
    ids=["word-document", "broken-zip", "pdf"],
)
def test_a_file_that_is_no_readable_workbook_is_said_so_without_the_error_name(
    db_session: Session, event: Event, data: bytes
) -> None:
    assert _file_errors(db_session, event, data, "list.xlsx") == [NOT_A_WORKBOOK]
    with pytest.raises(ValidationFailed) as raised:
        read_table(data, "list.xlsx")
    assert raised.value.msgid == NOT_A_WORKBOOK


def test_a_word_document_named_xlsx_is_a_plain_message_on_the_upload_form(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    data = _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<document/>"})

    page = _upload(client, event, data, "list.xlsx").get_data(as_text=True)

    assert "not an Excel workbook (.xlsx) that can be read" in page
    assert "OSError" not in page and "BadZipFile" not in page


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("会社名,区分\n\"A社,バイヤー\nB社,サプライヤー\n", 2),
        ("会社名,区分\nA社,バイヤー\n\n\"B社,サプライヤー\nC社,サプライヤー\nD社,バイヤー\n", 4),
        # A cell with a line break before it is one row, as in Excel.
        ("会社名,区分,部署\nA社,バイヤー,\"物流部\n第二課\"\n\"B社,サプライヤー,\n", 3),
    ],
    ids=["second-row", "after-a-blank-line", "after-a-cell-with-a-line-break"],
)
def test_an_unclosed_quotation_mark_is_an_error_naming_its_row(
    db_session: Session, event: Event, text: str, row: int
) -> None:
    assert _file_errors(db_session, event, text.encode(), "list.csv") == [
        f"Row {row} of the CSV file opens a quotation mark (\") that is never closed, so the "
        "rest of the file would be read as one cell. Please check the quotation marks in "
        "that row, or save the file from Excel again."
    ]


def test_a_quotation_mark_closed_in_the_wrong_place_is_an_error_not_a_lost_row(
    db_session: Session, event: Event
) -> None:
    text = "会社名,区分\n\"A社,バイヤー\nB社,サプライヤー\n\"C社\",バイヤー\n"

    assert _file_errors(db_session, event, text.encode(), "list.csv") == [
        "Row 2 of the CSV file cannot be read. Please check its quotation marks, or save the "
        "file from Excel again."
    ]


def test_cells_with_line_breaks_and_quotes_are_still_read(db_session: Session,
                                                          event: Event) -> None:
    text = ("会社名,区分,部署\r\n\"清水港運株式会社\",バイヤー,\"物流部\r\n第二課\"\r\n"
            "\"牧之原\"\"茶\"\"業\",サプライヤー,\r\n")

    preview = preview_import(db_session, event, text.encode(), "list.csv")

    assert preview.file_errors == []
    assert [(r.number, r.entry.company, r.entry.department) for r in preview.rows] == [
        (2, "清水港運株式会社", "物流部\r\n第二課"), (3, "牧之原\"茶\"業", "")]


@pytest.mark.parametrize(
    ("data", "row"),
    [
        ("会社名,区分\n株式会社浜松テスト,S\n".encode() + b"Caf\xe9 Shizuoka,B\n", 3),
        ("会社名,区分\n株式会社浜松テスト,S\n".encode("cp932") + b"\x82\xff,B\n", 3),
        (b"\xef\xbb\xbf" + "会社名,区分\nA社,S\nB社,S\n\"C\n社\",S\n".encode() + b"\xff,B\n", 5),
    ],
    ids=["utf-8", "shift-jis", "utf-8-bom-after-a-cell-with-a-line-break"],
)
def test_an_undecodable_file_names_the_row_of_its_first_bad_character(
    db_session: Session, event: Event, data: bytes, row: int
) -> None:
    assert _file_errors(db_session, event, data, "list.csv") == [
        f"The file is neither UTF-8 nor Shift_JIS (CP932) text: row {row} has a character "
        "that is neither. Please save it from Excel as \"CSV UTF-8\" or as an .xlsx workbook."
    ]


# --------------------------------------------------------------------------- Japanese


def test_japanese_messages_join_lists_with_the_japanese_comma(
    client: FlaskClient, logged_in: User, event: Event
) -> None:
    data = "企業,担当者,メール\n山田製作所,山田,taro@example.jp\n".encode()

    page = _upload(client, event, data).get_data(as_text=True)  # the organizer reads Japanese

    assert "会社名 (company)、区分 (role)" in page
    assert "企業、担当者、メール" in page
    assert ", " not in page.split("必須の列がありません")[1].split("</")[0]
    client.post("/language", data={"lang": "en"})
    english = _upload(client, event, data).get_data(as_text=True)
    assert "会社名 (company), 区分 (role)" in english and "企業, 担当者, メール" in english


def test_japanese_problems_follow_their_column_after_a_full_width_colon(
    client: FlaskClient, logged_in: User, event: Event
) -> None:
    preview_url = _upload(client, event, NOTED.encode()).headers["Location"]

    page = client.get(preview_url).get_data(as_text=True)
    row_3 = page.split('<tr id="row-3"')[1].split("</tr>")[0]
    assert "<strong>区分</strong>：" in row_3 and "</strong>: " not in row_3
    problems = _csv_rows(client.get(preview_url + "/errors.csv"))[2][7]
    assert problems.startswith("メール：") and ": " not in problems


# --------------------------------------------------------------------------- export


def test_the_export_is_in_the_readers_language(client: FlaskClient, organizer_en: User,
                                               event: Event) -> None:
    client.post(_upload(client, event, NOTED.encode()).headers["Location"],
                data={"mode": "valid"})

    english = _csv_rows(client.get(f"/events/{event.id}/participants/export.csv"))
    client.post("/language", data={"lang": "ja"})
    japanese = _csv_rows(client.get(f"/events/{event.id}/participants/export.csv"))

    assert english[0][:4] == ["Code", "Company", "Company kana", "Role"]
    assert english[1][:4] == ["S001", "株式会社山田製作所", "", "Supplier"]
    assert japanese[0][:4] == ["コード", "会社名", "会社名カナ", "区分"]
    assert japanese[1][:4] == ["S001", "株式会社山田製作所", "", "サプライヤー"]


# --------------------------------------------------------------------------- title rows


def _titled_workbook(rows: list[list[object]]) -> bytes:
    """A workbook as people make them: a merged title and a date above the list."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"] = "東三河ものづくり商談会　参加企業一覧"
    sheet.merge_cells("A1:D1")
    sheet["A2"] = "2027年2月17日現在"
    for offset, row in enumerate(rows, start=4):  # row 3 left blank
        for column, value in enumerate(row, start=1):
            sheet.cell(row=offset, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_title_above_the_column_names_is_skipped_with_a_word(
    db_session: Session, event: Event
) -> None:
    """QA: a list with its title in row 1 was refused (required columns missing, found:
    the title)."""
    data = _titled_workbook([
        ["No", "会社名", "区分", "担当者", "メール"],
        [1, "株式会社山田製作所", "サプライヤー", "山田 太郎", "taro@yamada.example.jp"],
        [2, "佐藤精機", "バイヤー", "佐藤 一郎", "x@"],
    ])
    preview = preview_import(db_session, event, data, "list.xlsx")
    assert preview.file_errors == []
    assert preview.file_warnings[0].text() == (
        "Rows 1–2, above the column names, were not read: "
        "東三河ものづくり商談会　参加企業一覧 / 2027年2月17日現在"
    )
    assert preview.headers == ["No", "会社名", "区分", "担当者", "メール"]
    # Rows keep their numbers in the file, so the organizer finds them.
    assert [(r.number, r.cells["company"]) for r in preview.rows] == [
        (5, "株式会社山田製作所"), (6, "佐藤精機")
    ]
    assert [r.number for r in preview.rows if r.errors] == [6]

    one_title = "参加企業一覧\r\n" + NOTED
    csv_preview = preview_import(db_session, event, one_title.encode(), "list.csv")
    assert csv_preview.file_errors == []
    assert "Row 1, above the column names, was not read: 参加企業一覧" in [
        i.text() for i in csv_preview.file_warnings
    ]
    assert [r.number for r in csv_preview.rows] == [3, 4, 5]


def test_a_file_without_column_names_in_its_first_rows_is_still_refused_clearly(
    db_session: Session, event: Event
) -> None:
    text = "".join(f"メモ{n}\r\n" for n in range(6)) + "会社名,区分\r\n山田製作所,サプライヤー\r\n"
    errors = _file_errors(db_session, event, text.encode(), "list.csv")
    assert errors and errors[0].startswith("Required columns are missing")


def test_title_rows_do_not_cost_rows_at_the_limit(db_session: Session, event: Event) -> None:
    """With two title rows, a workbook of exactly the most rows allowed imports them all
    (none silently left behind), and one more is counted."""
    rows = [["会社名", "区分"], *([f"会社{n}", "サプライヤー"] for n in range(1, 4))]
    at_limit = preview_import(db_session, event, _titled_workbook(rows), "l.xlsx", max_rows=3)
    assert at_limit.file_errors == [] and len(at_limit.rows) == 3
    over = preview_import(
        db_session, event, _titled_workbook([*rows, ["会社4", "バイヤー"]]), "l.xlsx", max_rows=3
    )
    assert [i.text() for i in over.file_errors] == [
        "The file has 4 rows; at most 3 can be imported at once. Please split it."
    ]


def test_a_tab_separated_file_with_a_title_is_read(db_session: Session, event: Event) -> None:
    """Review: the separator was chosen from the first line, the title, so the tabs of
    the column names were not seen."""
    tsv = "参加企業一覧\n会社名\t区分\t担当者\n伊豆電子工業株式会社\tサプライヤー\t加藤 大輔\n"
    preview = preview_import(db_session, event, tsv.encode(), "list.tsv")
    assert preview.file_errors == []
    assert [r.cells["company"] for r in preview.rows] == ["伊豆電子工業株式会社"]
