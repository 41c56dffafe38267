"""Participant pages: upload -> preview -> confirm, access rules, and forms that keep input."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler.models import Event, Organization, Participant, User
from scheduler.participant_export import UTF8_BOM
from tests.conftest import AuthActions

CSV_TEXT = ("会社名,区分,担当者,メール\r\n"
            "株式会社山田製作所,サプライヤー,山田 太郎,taro@yamada.example.jp\r\n"
            "トヨハシ自動車,バイヤー,鈴木 花子,hanako@toyohashi.example.jp\r\n")


def _participants(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Participant.id))) or 0


def _upload(client: FlaskClient, event: Event, data: bytes,
            filename: str = "list.csv") -> TestResponse:
    return client.post(f"/events/{event.id}/participants/import",
                       data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _uploads(app: Flask) -> list[Path]:
    folder = Path(app.config["INSTANCE_UPLOADS"])
    return sorted(folder.glob("import-*")) if folder.exists() else []


def test_upload_preview_confirm_writes_only_on_confirmation(
    app: Flask, client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    response = _upload(client, event, CSV_TEXT.encode("cp932"))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    assert "/participants/import/" in preview_url
    assert len(_uploads(app)) == 2  # the file and its metadata, in the instance folder
    token = preview_url.rsplit("/", 1)[-1]
    cookie = client.get_cookie("session")
    assert cookie is not None
    session_data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert token not in json.dumps(session_data) and "山田" not in json.dumps(session_data)

    page = client.get(preview_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "株式会社山田製作所" in html and "Shift_JIS" in html
    assert _participants(db_session) == 0  # nothing written at preview

    done = client.post(preview_url, data={"mode": "all"})
    assert done.status_code == 302
    assert _participants(db_session) == 2
    assert _uploads(app) == []  # deleted after the import
    listing = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "トヨハシ自動車" in listing and "2 new companies" in listing


def test_a_file_with_errors_imports_only_the_valid_rows_when_asked(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    data = (CSV_TEXT + "佐藤精機,お客さん,,\r\n").encode()
    preview_url = _upload(client, event, data).headers["Location"]

    html = client.get(preview_url).get_data(as_text=True)
    assert 'class="row-error"' in html and 'class="cell-error"' in html
    assert "お客さん" in html
    # The problems column comes before the file's own columns, next to the row number.
    header = html.split("<thead>")[1].split("</thead>")[0]
    assert header.index("Problems and notes") < header.index("会社名")
    assert "Import only the 2 valid rows" in html

    refused = client.post(preview_url, data={"mode": "all"})
    assert refused.headers["Location"].endswith(preview_url.rsplit("/", 1)[-1])
    assert _participants(db_session) == 0

    # Before importing, the rows with errors can be downloaded to correct them.
    to_fix = client.get(preview_url + "/errors.csv")
    assert to_fix.headers["Content-Disposition"] == "attachment; filename=list-to-fix.csv"
    assert to_fix.data.decode("utf-8-sig").splitlines()[1].startswith("佐藤精機,お客さん,,,")

    done = client.post(preview_url, data={"mode": "valid"})
    assert _participants(db_session) == 2
    # The file is gone now; the row left out is shown with its column and error, and
    # can be downloaded in the file's own columns, corrected and uploaded again.
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 row with errors was not imported." in page
    # The reason comes first after the row number: in a wide file the end is off-screen.
    row_4 = (
        r'<tr id="row-4" class="row-error">\s*<td class="num">4</td>\s*'
        r'<td class="issues-col">.*<strong>区分</strong>.*お客さん'
    )
    assert re.search(row_4, page, re.S)
    download = client.get(done.headers["Location"] + ".csv")
    assert download.status_code == 200 and download.data.startswith(UTF8_BOM)
    header, row = csv.reader(io.StringIO(download.data.decode("utf-8-sig")))
    assert header == ["会社名", "区分", "担当者", "メール", "元の行 / Original row",
                      "問題点 / Problems"]
    assert row[:5] == ["佐藤精機", "お客さん", "", "", "4"] and row[5].startswith("区分: ")
    row[1:4] = ["サプライヤー", "佐藤 一郎", "ichiro@sato.example.jp"]
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows([header, row])  # as Excel saves it
    corrected = buffer.getvalue().encode()
    again = client.get(_upload(client, event, corrected).headers["Location"])
    assert "Import all" in again.get_data(as_text=True)
    assert 'class="row-error"' not in again.get_data(as_text=True)
    assert "is not known" not in again.get_data(as_text=True)  # its own columns: no remark
    # Another event's address does not show them.
    other = Event(name="別の商談会", slug="other-fair")
    db_session.add(other)
    db_session.commit()
    elsewhere = done.headers["Location"].replace(f"/events/{event.id}/", f"/events/{other.id}/")
    assert client.get(elsewhere).status_code == 404


def test_the_import_help_names_each_optional_column_in_the_readers_language(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    """In English each Japanese header comes with an English name the import accepts
    (a header written in English is read the same)."""
    page = client.get(f"/events/{event.id}/participants/import").get_data(as_text=True)
    optional = page.split("Optional:")[1].split("</li>")[0]
    assert "最大商談数 (max meetings), デスク数 (desks)" in optional
    client.post("/language", data={"lang": "ja"})
    japanese = client.get(f"/events/{event.id}/participants/import").get_data(as_text=True)
    assert "最大商談数、デスク数" in japanese.split("任意の列：")[1].split("</li>")[0]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        ("企業,担当者\nA社,A\n".encode(), "wrong.csv", "Required columns are missing"),
        (b"%PDF-1.4", "list.pdf", "Please upload a CSV file"),
        (b"not a zip", "list.xlsx", "not an Excel workbook"),
        (CSV_TEXT.encode(), "list.xls", "Please upload a CSV file"),
    ],
    ids=["empty", "wrong-columns", "pdf", "fake-xlsx", "old-xls"],
)
def test_invalid_uploads_get_a_clear_message_on_the_form(
    app: Flask, client: FlaskClient, organizer_en: User, event: Event, data: bytes, filename: str,
    message: str,
) -> None:
    response = _upload(client, event, data, filename)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _uploads(app) == []


def test_an_upload_over_the_size_limit_is_refused(
    app: Flask, client: FlaskClient, organizer_en: User, event: Event
) -> None:
    app.config["IMPORT_MAX_BYTES"] = 100
    response = _upload(client, event, CSV_TEXT.encode() * 5)

    assert response.status_code == 200
    assert "larger than" in response.get_data(as_text=True)


def test_a_stale_or_forged_token_sends_back_to_the_upload(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    for token in ("x" * 32, "..%2F..%2Fsecret_key"):
        response = client.get(f"/events/{event.id}/participants/import/{token}")
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert response.headers["Location"].endswith("/participants/import")


def test_staff_may_see_the_list_but_not_import_or_edit(
    client: FlaskClient, auth: AuthActions, staff: User, event: Event
) -> None:
    auth.login("staff@example.jp")

    assert client.get(f"/events/{event.id}/participants").status_code == 200
    assert client.get(f"/events/{event.id}/participants/import").status_code == 403
    assert _upload(client, event, CSV_TEXT.encode()).status_code == 403
    assert client.get(f"/events/{event.id}/participants/new").status_code == 403
    assert client.get(f"/events/{event.id}/participants/export.csv").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client: FlaskClient, event: Event) -> None:
    for path in ("", "/import", "/new", "/export.xlsx"):
        response = client.get(f"/events/{event.id}/participants{path}")
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


def test_export_downloads_csv_with_bom_and_xlsx(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    preview_url = _upload(client, event, CSV_TEXT.encode()).headers["Location"]
    client.post(preview_url, data={"mode": "all"})

    csv_response = client.get(f"/events/{event.id}/participants/export.csv")
    assert csv_response.data.startswith(UTF8_BOM)
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"  # charset once
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert "株式会社山田製作所" in csv_response.data.decode("utf-8-sig")
    xlsx_response = client.get(f"/events/{event.id}/participants/export.xlsx")
    assert xlsx_response.data.startswith(b"PK\x03\x04")


def test_the_list_filters_by_role_and_finds_kana_in_any_width(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    data = ("会社名,会社名カナ,区分\n山田製作所,ヤマダセイサクショ,S\n"
            "トヨハシ自動車,トヨハシジドウシャ,B\n").encode()
    client.post(_upload(client, event, data).headers["Location"], data={"mode": "all"})
    url = f"/events/{event.id}/participants"

    by_kana = client.get(url, query_string={"q": "ﾔﾏﾀﾞ"}).get_data(as_text=True)
    assert "山田製作所" in by_kana and "トヨハシ自動車" not in by_kana
    by_hiragana = client.get(url, query_string={"q": "とよはし"}).get_data(as_text=True)
    assert "トヨハシ自動車" in by_hiragana and "山田製作所" not in by_hiragana
    buyers = client.get(url, query_string={"role": "buyer"}).get_data(as_text=True)
    assert "トヨハシ自動車" in buyers and "山田製作所" not in buyers


def test_the_form_keeps_what_was_typed_and_shows_the_errors(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    response = client.post(f"/events/{event.id}/participants/new", data={
        "company": "株式会社山田製作所", "role": "supplier", "contact_name": "山田 太郎",
        "email": "taro@", "employees": "たくさん", "desks": "1",
    })

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="株式会社山田製作所"' in html and 'value="たくさん"' in html
    assert "is not a valid e-mail address" in html and "is not a whole number" in html
    assert _participants(db_session) == 0


def test_add_then_edit_by_hand(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    created = client.post(f"/events/{event.id}/participants/new", data={
        "company": "（株）山田製作所", "role": "supplier", "contact_name": "山田 太郎",
        "email": "taro@yamada.example.jp", "technologies": "旋盤加工、5軸加工", "desks": "1",
    })
    assert created.status_code == 302
    participant = db_session.scalars(select(Participant)).one()
    assert participant.code == "S001"
    assert participant.organization.technologies == ["machining.turning", "machining.5axis"]

    edit_url = f"/events/{event.id}/participants/{participant.id}/edit"
    form_html = client.get(edit_url).get_data(as_text=True)
    assert 'value="taro@yamada.example.jp"' in form_html
    bad = client.post(edit_url, data={
        "company": "（株）山田製作所", "role": "supplier", "contact_name": "山田 太郎",
        "email": "taro@yamada.example.jp", "max_meetings": "-1", "desks": "1"})
    assert bad.status_code == 200 and 'value="-1"' in bad.get_data(as_text=True)

    client.post(edit_url, data={"company": "山田製作所株式会社", "role": "supplier",
                                "contact_name": "山田 次郎", "email": "jiro@yamada.example.jp",
                                "max_meetings": "5", "desks": "2"})
    db_session.expire_all()
    participant = db_session.get(Participant, participant.id)
    assert participant is not None
    assert (participant.max_meetings, participant.parallel_desks) == (5, 2)
    assert participant.organization.name == "山田製作所株式会社"
    assert [p.email for p in participant.people] == ["jiro@yamada.example.jp"]
    assert db_session.scalar(select(func.count(Organization.id))) == 1


def test_changing_only_the_role_gives_a_code_of_the_new_role(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    """QA: a supplier S003 made a buyer stayed "S003 … Buyer" in every list and in the
    solver. The form now gives it the next buyer's code and says the code changed; a
    code typed by hand is kept, and one already taken is refused with the other
    mistakes, not on the next submit once they are fixed."""
    base = f"/events/{event.id}/participants"
    for company, role in (("東海製作所", "supplier"), ("発注重工", "buyer")):
        assert client.post(f"{base}/new", data={
            "company": company, "role": role, "contact_name": "担当 一郎", "desks": "1",
        }).status_code == 302
    supplier = db_session.scalars(select(Participant).where(Participant.code == "S001")).one()
    edit_url = f"{base}/{supplier.id}/edit"
    same = {"company": "東海製作所", "contact_name": "担当 一郎", "desks": "1"}
    # A taken code and another mistake: both shown at once, nothing saved.
    page = client.post(edit_url, data={**same, "role": "supplier", "code": "b001",
                                       "email": "x@"}).get_data(as_text=True)
    assert "The code B001 is already used by 発注重工." in page
    assert "is not a valid e-mail address" in page
    moved = client.post(edit_url, data={**same, "role": "buyer", "code": "S001"},
                        follow_redirects=True).get_data(as_text=True)
    db_session.expire_all()
    assert (supplier.role, supplier.code) == ("buyer", "B002")
    assert "The code changes from S001 to B002" in moved
    # A code typed with the change of role is the organizer's choice.
    client.post(edit_url, data={**same, "role": "supplier", "code": "X-7"})
    db_session.expire_all()
    assert (supplier.role, supplier.code) == ("supplier", "X-7")


def test_a_note_on_an_unchanged_field_is_not_repeated_on_every_save(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    """QA: a company with the keyword 家電 got "Not in the technology list, kept as free
    tags: 家電" each time its form was saved, whatever had been changed."""
    base = f"/events/{event.id}/participants"
    first = client.post(f"{base}/new", data={
        "company": "東海製作所", "role": "supplier", "contact_name": "担当 一郎",
        "technologies": "旋盤加工、家電", "desks": "1"}, follow_redirects=True)
    assert "kept as free tags: 家電" in first.get_data(as_text=True)
    company = db_session.scalars(select(Participant)).one()
    edit_url = f"{base}/{company.id}/edit"
    form = client.get(edit_url).get_data(as_text=True)
    shown = re.search(r'<textarea[^>]*name="technologies"[^>]*>(.*?)</textarea>', form, re.S)
    data = {"company": "東海製作所（本社）", "role": "supplier", "contact_name": "担当 一郎",
            "technologies": html.unescape(shown.group(1)).strip(), "desks": "1"}
    renamed = client.post(edit_url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "東海製作所（本社） was saved." in renamed
    assert "kept as free tags" not in renamed
    # A new keyword typed is said.
    data["technologies"] += "、医療機器"
    added = client.post(edit_url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "kept as free tags" in added


def test_every_page_renders_in_japanese(
    client: FlaskClient, logged_in: User, db_session: Session, event: Event
) -> None:
    data = (CSV_TEXT + "佐藤精機,お客さん,,\r\n").encode()
    preview_url = _upload(client, event, data).headers["Location"]
    base = f"/events/{event.id}/participants"

    for url in (preview_url, base, f"{base}/import", f"{base}/new"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ja">' in response.get_data(as_text=True)
    done = client.post(preview_url, data={"mode": "valid"})
    assert client.get(done.headers["Location"]).status_code == 200
    assert _participants(db_session) == 2


def test_adding_a_company_that_already_takes_part_is_refused_on_the_field(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    client.post(_upload(client, event, CSV_TEXT.encode()).headers["Location"],
                data={"mode": "all"})
    response = client.post(f"/events/{event.id}/participants/new", data={
        "company": "(株)山田製作所", "role": "supplier", "desks": "1"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "株式会社山田製作所 already takes part in this event." in html
    assert 'value="(株)山田製作所"' in html
    assert _participants(db_session) == 2


def test_an_update_lists_its_changed_columns_in_the_readers_language(
    client: FlaskClient, logged_in: User, db_session: Session, event: Event
) -> None:
    done = client.post(_upload(client, event, CSV_TEXT.encode()).headers["Location"],
                       data={"mode": "all"})
    assert done.status_code == 302
    changed = ("会社名,区分,都道府県,従業員数\r\n株式会社山田製作所,サプライヤー,愛知県,120\r\n")
    preview_url = _upload(client, event, changed.encode()).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)  # the organizer reads Japanese
    assert "変更：都道府県、従業員数。" in page
    client.post("/language", data={"lang": "en"})
    assert "Changes: 都道府県, 従業員数." in client.get(preview_url).get_data(as_text=True)


def test_a_preview_whose_file_is_gone_sends_back_to_the_upload_with_a_word_why(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    preview_url = _upload(client, event, CSV_TEXT.encode()).headers["Location"]
    assert client.post(preview_url, data={"mode": "all"}).status_code == 302  # imported
    for response in (client.get(preview_url), client.get(preview_url + "/errors.csv"),
                     client.post(preview_url, data={"mode": "all"})):
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/events/{event.id}/participants/import")
    page = client.get(f"/events/{event.id}/participants/import").get_data(as_text=True)
    assert "The uploaded file is no longer available" in page
    assert _participants(db_session) == 2  # imported once, not again


def test_a_row_without_an_e_mail_address_is_flagged_in_the_preview(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    data = (CSV_TEXT + "清水プレス工業,サプライヤー,高橋 健,\r\n").encode()
    preview_url = _upload(client, event, data).headers["Location"]
    html = client.get(preview_url).get_data(as_text=True)

    row_4 = html.split('<tr id="row-4"')[1].split("</tr>")[0]
    assert 'class="row-warning"' in row_4
    assert "メール: No e-mail address: this company&#39;s link and schedule cannot be" in row_4
    assert "No e-mail address" not in html.split('<tr id="row-4"')[0]  # rows 2 and 3 have one
    assert "Import all" in html and 'disabled aria-disabled="true"' not in html
    client.post(preview_url, data={"mode": "all"})
    assert _participants(db_session) == 3  # a warning: the row is imported


def test_the_rows_to_fix_keep_a_negative_number_as_it_was_typed(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    """Only what a spreadsheet would run as a formula gets an apostrophe."""
    data = ("会社名,区分,最大商談数,電話\r\n"
            "清水プレス工業,サプライヤー,-1,+81 54 000 0002\r\n"
            "=HYPERLINK(\"x\"),バイヤー,-3.5,\r\n").encode()
    preview_url = _upload(client, event, data).headers["Location"]

    download = client.get(preview_url + "/errors.csv").data.decode("utf-8-sig")
    _header, first, second = csv.reader(io.StringIO(download))
    assert first[:4] == ["清水プレス工業", "サプライヤー", "-1", "'+81 54 000 0002"]
    assert second[:3] == ["'=HYPERLINK(\"x\")", "バイヤー", "-3.5"]


def test_the_import_page_says_how_company_names_are_compared(
    client: FlaskClient, organizer_en: User, event: Event
) -> None:
    page = client.get(f"/events/{event.id}/participants/import").get_data(as_text=True)

    assert ("found by its name, ignoring spaces, full-width forms and a missing legal form: "
            "株式会社, (株) and ㈱ are the same, but 有限会社 and 株式会社 are different "
            "companies.") in page


def test_a_company_of_another_legal_form_can_be_added_by_hand(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    client.post(_upload(client, event, CSV_TEXT.encode()).headers["Location"],
                data={"mode": "all"})
    response = client.post(f"/events/{event.id}/participants/new", data={
        "company": "有限会社山田製作所", "role": "supplier", "desks": "1"})

    assert response.status_code == 302
    assert _participants(db_session) == 3
    assert db_session.scalar(select(func.count(Organization.id))) == 3


def test_the_left_out_page_flashes_a_count_and_lists_each_problem_once_by_row(
    client: FlaskClient, organizer_en: User, db_session: Session, event: Event
) -> None:
    data = (CSV_TEXT + "佐藤精機,お客さん,,\r\n清水プレス工業,サプライヤー,高橋 健,x@\r\n").encode()
    done = client.post(_upload(client, event, data).headers["Location"], data={"mode": "valid"})
    page = client.get(done.headers["Location"]).get_data(as_text=True)

    flashes = re.findall(r'<p class="flash [^"]*">(.*?)</p>', page, re.S)
    assert [f.strip() for f in flashes] == [
        "Imported: 2 new companies, 0 from the directory, 0 updated, 0 unchanged.",
        "2 rows with errors were not imported."]
    for row, problem in ((4, "お客さん"), (5, "x@")):
        assert page.count(problem) == 2  # in the problem of its row, and in its cell
        cells = page.split(f'<tr id="row-{row}"')[1].split("</tr>")[0]
        assert cells.count(problem) == 2
