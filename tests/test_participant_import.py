"""Participant import and export: encodings, file problems, row errors, matching, round trips."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.errors import ValidationFailed
from scheduler.models import AuditEntry, Event, Organization, Participant, Person
from scheduler.names import legal_form
from scheduler.participant_export import UTF8_BOM, export_csv, export_xlsx, rows_to_fix_csv
from scheduler.participant_import import (
    ImportPreview,
    ImportResult,
    RowAction,
    apply_import,
    preview_import,
    validate_entry,
)
from scheduler.spreadsheet import cell_text

HEADER = "会社名,会社名カナ,区分,都道府県,技術,従業員数,担当者,メール,最大商談数"
ROWS = [
    "株式会社山田製作所,ヤマダセイサクショ,サプライヤー,愛知県,旋盤加工、5軸加工,120,山田 太郎,"
    "taro@yamada.example.jp,6",
    "トヨハシ自動車,トヨハシジドウシャ,バイヤー,愛知,,3000,鈴木 花子,hanako@toyohashi.example.jp,",
]
SAMPLE = "\r\n".join([HEADER, *ROWS]) + "\r\n"


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _import(session: Session, event: Event, data: bytes, filename: str = "p.csv", *,
            only_valid: bool = False) -> tuple[ImportPreview, ImportResult]:
    preview = preview_import(session, event, data, filename)
    result = apply_import(session, event, preview, only_valid=only_valid, user_id=None)
    session.commit()
    return preview, result


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("data", "expected_format"),
    [
        (SAMPLE.encode("cp932"), "cp932"),
        (b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), "utf-8-sig"),
        (SAMPLE.encode("utf-8"), "utf-8"),
        (SAMPLE.replace(",", "\t").encode("utf-8"), "utf-8"),
    ],
    ids=["cp932", "utf8-bom", "utf8", "tab-separated"],
)
def test_csv_encodings_and_delimiters_read_the_same_rows(
    db_session: Session, event: Event, data: bytes, expected_format: str
) -> None:
    preview = preview_import(db_session, event, data, "participants.csv")

    assert preview.file_errors == []
    assert preview.file_format == expected_format
    assert preview.is_valid, [i.text() for r in preview.rows for i in r.errors]
    first, second = preview.rows
    assert (first.number, second.number) == (2, 3)
    assert first.entry.company == "株式会社山田製作所"  # the BOM is not part of the header
    assert first.entry.role == "supplier"
    assert first.entry.technologies == ["machining.turning", "machining.5axis"]
    assert first.entry.employees == 120
    assert second.entry.role == "buyer"
    assert second.entry.prefecture == "愛知県"
    assert [r.action for r in preview.rows] == [RowAction.CREATE, RowAction.CREATE]


def test_bytes_in_no_supported_encoding_are_a_file_error(db_session: Session,
                                                         event: Event) -> None:
    data = "会社名,区分\n".encode() + b"\xff\xfe\x80\x81,\x82\n"
    preview = preview_import(db_session, event, data, "broken.csv")

    assert not preview.is_valid
    assert "neither UTF-8 nor Shift_JIS" in preview.file_errors[0].text()


def test_english_headers_and_fullwidth_header_forms_are_recognised(db_session: Session,
                                                                   event: Event) -> None:
    data = (" Company ,ＲＯＬＥ,E-mail,Contact Name,Max_Meetings,Desks\n"
            "ACME,buyer,a@acme.example,A,4,2\n")
    preview = preview_import(db_session, event, data.encode(), "en.csv")

    assert preview.is_valid
    assert set(preview.columns) == {"company", "role", "email", "contact_name", "max_meetings",
                                    "desks"}
    entry = preview.rows[0].entry
    assert (entry.max_meetings, entry.desks, entry.email) == (4, 2, "a@acme.example")


# --------------------------------------------------------------------------- file problems


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" , ,\n"],
                         ids=["no-bytes", "bom-only", "blank-lines", "blank-cells"])
def test_an_empty_file_is_reported(db_session: Session, event: Event, data: bytes) -> None:
    preview = preview_import(db_session, event, data, "empty.csv")

    assert [i.text() for i in preview.file_errors] == ["The file is empty."]
    assert preview.rows == []
    with pytest.raises(ValidationFailed):
        apply_import(db_session, event, preview, only_valid=True, user_id=None)


def test_a_header_without_rows_is_reported(db_session: Session, event: Event) -> None:
    preview = preview_import(db_session, event, HEADER.encode(), "header.csv")

    assert len(preview.file_errors) == 1
    assert "no participants" in preview.file_errors[0].text()


def test_missing_required_columns_are_named_with_what_was_found(db_session: Session,
                                                                event: Event) -> None:
    data = "企業,担当者,メール\n山田製作所,山田,taro@example.jp\n".encode()
    preview = preview_import(db_session, event, data, "wrong.csv")

    message = preview.file_errors[0].text()
    assert "会社名" in message and "区分" in message  # what is missing
    assert "企業, 担当者, メール" in message  # what was there
    assert preview.rows == []


def test_unknown_columns_are_ignored_with_a_warning(db_session: Session, event: Event) -> None:
    data = "会社名,区分,備考\n山田製作所,S,よろしく\n".encode()
    preview = preview_import(db_session, event, data, "extra.csv")

    assert preview.is_valid
    assert ["備考" in i.text() for i in preview.file_warnings] == [True]


def test_too_many_rows_is_a_file_error(db_session: Session, event: Event) -> None:
    data = ("会社名,区分\n" + "".join(f"会社{i},B\n" for i in range(4))).encode()
    preview = preview_import(db_session, event, data, "big.csv", max_rows=3)

    assert "at most 3" in preview.file_errors[0].text()


@pytest.mark.parametrize("filename", ["participants.xls", "participants.pdf"])
def test_unsupported_file_types_are_refused_by_name(db_session: Session, event: Event,
                                                    filename: str) -> None:
    preview = preview_import(db_session, event, SAMPLE.encode(), filename)

    assert preview.file_errors and preview.rows == []


def test_a_broken_workbook_is_a_file_error_not_a_crash(db_session: Session, event: Event) -> None:
    preview = preview_import(db_session, event, b"PK\x03\x04 not really a zip", "p.xlsx")

    assert "Excel workbook" in preview.file_errors[0].text()


# --------------------------------------------------------------------------- row errors


def test_each_bad_cell_is_reported_with_row_number_and_column_header(db_session: Session,
                                                                     event: Event) -> None:
    data = "\n".join([
        HEADER,
        ROWS[0],
        "鈴木工業,スズキコウギョウ,お客さん,愛知県,,百人,鈴木,suzuki@,x",
        ",,バイヤー,,,,,,",
        "佐藤精機,,B,,,-3,,,",
    ]).encode()
    preview = preview_import(db_session, event, data, "errors.csv")

    problems = {(r.number, i.header) for r in preview.rows for i in r.errors}
    assert problems == {
        (3, "区分"), (3, "従業員数"), (3, "メール"), (3, "最大商談数"),
        (4, "会社名"),
        (5, "従業員数"),
    }
    bad_role = next(i for i in preview.rows[1].errors if i.key == "role")
    assert "お客さん" in bad_role.text()
    assert preview.rows[0].is_valid
    assert len(preview.valid_rows) == 1


def test_duplicate_companies_in_one_file_are_errors_after_the_first(db_session: Session,
                                                                    event: Event) -> None:
    data = "\n".join([
        "会社名,区分",
        "(株)山田製作所,S",
        "株式会社 山田製作所,S",
        "㈱山田製作所,S",
        "ABC工業,S",
        "ＡＢＣ工業,S",
        "abc工業,B",
        "山田精機,S",
    ]).encode()
    preview = preview_import(db_session, event, data, "dups.csv")

    actions = [(r.number, r.action) for r in preview.rows]
    assert actions == [
        (2, RowAction.CREATE), (3, RowAction.DUPLICATE), (4, RowAction.DUPLICATE),
        (5, RowAction.CREATE), (6, RowAction.DUPLICATE), (7, RowAction.DUPLICATE),
        (8, RowAction.CREATE),
    ]
    assert "row 2" in preview.rows[1].errors[0].text()
    assert "row 5" in preview.rows[4].errors[0].text()


def test_another_legal_form_is_another_company_and_the_preview_says_so(
    db_session: Session, event: Event
) -> None:
    """株式会社 / (株) / ㈱ / none are one company; 有限会社 and 株式会社 are two."""
    data = "\n".join([
        "会社名,区分",
        "有限会社 清水プレス工業,S",
        "株式会社 清水プレス工業,S",
        "清水プレス工業,S",
        "㈱清水プレス工業,S",
    ]).encode("cp932")
    preview = preview_import(db_session, event, data, "forms.csv")

    assert [(r.number, r.action) for r in preview.rows] == [
        (2, RowAction.CREATE), (3, RowAction.CREATE), (4, RowAction.DUPLICATE),
        (5, RowAction.DUPLICATE),
    ]
    # Not an error, but said, as it may be a typo or a company that changed its form.
    assert preview.rows[1].is_valid
    assert [(i.key, i.text()) for i in preview.rows[1].warnings if i.key == "company"] == [
        ("company", "Row 2 has the same name with another legal form (有限会社 清水プレス工業): "
                    "the two are taken to be different companies.")]
    # A name without its form is the first company it may be; ㈱ is 株式会社 = row 3.
    assert "row 2" in preview.rows[2].errors[0].text()
    assert "row 3" in preview.rows[3].errors[0].text()
    message = preview.rows[3].errors[0].text()
    assert message == (
        "The same company as row 3 (names are compared ignoring spaces, full-width forms and "
        "a missing legal form; 株式会社, (株) and ㈱ are the same, but 有限会社 and 株式会社 are "
        "different companies).")

    result = apply_import(db_session, event, preview, only_valid=True, user_id=None)
    db_session.commit()
    assert (result.created, result.skipped) == (2, 2)
    assert set(db_session.scalars(select(Organization.name))) == {
        "有限会社 清水プレス工業", "株式会社 清水プレス工業"}


def test_the_directory_is_matched_by_name_and_legal_form(db_session: Session,
                                                         event: Event) -> None:
    earlier = Event(name="前回の商談会", slug="earlier")
    db_session.add(earlier)
    db_session.flush()
    _import(db_session, earlier, "会社名,区分\n有限会社 清水プレス工業,S\n".encode())

    preview, result = _import(db_session, event, "会社名,区分\n株式会社 清水プレス工業,S\n"
                              .encode())
    assert preview.rows[0].action is RowAction.CREATE  # not the 有限会社 of the directory
    assert [i.text() for i in preview.rows[0].warnings if i.key == "company"] == [
        "The directory has 有限会社 清水プレス工業, the same name with another legal form: "
        "this row is added as a different company."]
    assert _count(db_session, Organization) == 2

    # Each spelling finds its own company; a name without a form takes part already.
    data = "会社名,区分\n(有)清水プレス工業,S\n（株）清水プレス工業,S\n清水プレス工業,S\n"
    preview = preview_import(db_session, event, data.encode(), "again.csv")
    ids = {o.name: o.id for o in db_session.scalars(select(Organization))}
    assert [(r.action, r.organization_id) for r in preview.rows] == [
        (RowAction.REUSE, ids["有限会社 清水プレス工業"]),
        (RowAction.UNCHANGED, ids["株式会社 清水プレス工業"]),
        (RowAction.DUPLICATE, None),
    ]
    assert result.created == 1


def test_two_legal_forms_cannot_both_be_one_company_of_the_directory(
    db_session: Session, event: Event
) -> None:
    """A directory company whose name states no form matches either row, not both."""
    earlier = Event(name="前回の商談会", slug="earlier")
    db_session.add(earlier)
    db_session.flush()
    _import(db_session, earlier, "会社名,区分\n清水プレス工業,S\n".encode())
    data = "会社名,区分\n株式会社 清水プレス工業,S\n有限会社 清水プレス工業,B\n".encode()
    preview, result = _import(db_session, event, data, only_valid=True)

    assert [r.action for r in preview.rows] == [RowAction.REUSE, RowAction.DUPLICATE]
    assert [(i.key, i.text()) for i in preview.rows[1].errors] == [
        ("company", "The same company as row 2: both rows match 清水プレス工業 in the directory.")]
    assert preview.rows[1].warnings == []  # no longer "taken to be different companies"
    assert (result.reused, result.skipped) == (1, 1)
    assert db_session.scalars(select(Participant.role)
                              .where(Participant.event_id == event.id)).all() == ["supplier"]


@pytest.mark.parametrize(
    ("name", "form"),
    [("株式会社山田製作所", "株式会社"), ("山田製作所(株)", "株式会社"),
     ("㈱山田製作所", "株式会社"), ("（株）山田製作所", "株式会社"),
     ("山田製作所㍿", "株式会社"), ("㈲山田製作所", "有限会社"),
     ("公益社団法人 山田会", "社団法人"), ("一般社団法人 山田会", "社団法人"),
     ("静岡事業協同組合", "協同組合"), ("Yamada Co., Ltd.", ""), ("山田製作所", "")],
)
def test_legal_forms_are_read_in_every_spelling(name: str, form: str) -> None:
    assert legal_form(name) == form


def test_fullwidth_cells_are_normalised(db_session: Session, event: Event) -> None:
    data = ("会社名,区分,従業員数,最大商談数,担当者,メール,電話,コード\n"
            "テスト(株),ｻﾌﾟﾗｲﾔｰ,１，２００,８,試験 太郎,ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ,"
            "０５２－１２３－４５６７,ｓ０１０\n")
    preview = preview_import(db_session, event, data.encode(), "fw.csv")

    assert preview.is_valid, [i.text() for r in preview.rows for i in r.errors]
    entry = preview.rows[0].entry
    assert (entry.role, entry.employees, entry.max_meetings) == ("supplier", 1200, 8)
    assert (entry.email, entry.phone, entry.code) == ("taro@example.jp", "052-123-4567", "S010")


def test_unknown_technologies_become_tags_with_a_warning(db_session: Session,
                                                         event: Event) -> None:
    data = ("会社名,区分,担当者,メール,技術\n山田製作所,S,山田,taro@yamada.example.jp,"
            "CAD/CAMデータ作成／旋盤加工;machining.edm、チタン加工\n")
    preview = preview_import(db_session, event, data.encode(), "tech.csv")

    row = preview.rows[0]
    assert row.is_valid
    assert row.entry.technologies == ["design_prototyping.cad_cam", "machining.turning",
                                      "machining.edm"]
    assert row.entry.tags == ["チタン加工"]
    assert [i.header for i in row.warnings] == ["技術"]


def _email_warnings(preview: ImportPreview) -> list[tuple[int, str]]:
    return [(r.number, i.header) for r in preview.rows for i in r.warnings if i.key == "email"]


def test_a_company_without_an_e_mail_address_is_warned_about_by_row(
    db_session: Session, event: Event
) -> None:
    data = "\n".join([
        "会社名,区分,担当者,メール",
        "山田製作所,S,山田 太郎,taro@yamada.example.jp",
        "清水プレス工業,S,高橋 健,",
        "佐藤精機,S,,",
        "鈴木工業,S,鈴木,suzuki@",  # its error says what is wrong with the address
    ]).encode()
    preview = preview_import(db_session, event, data, "mail.csv")

    assert _email_warnings(preview) == [(3, "メール"), (4, "メール")]
    warning = next(i for i in preview.rows[1].warnings if i.key == "email")
    assert warning.text() == (
        "No e-mail address: this company's link and schedule cannot be e-mailed to it; you "
        "will have to hand them over yourself (on its link slip, for example).")
    # A warning, not an error: the rows are imported.
    assert [r.number for r in preview.valid_rows] == [2, 3, 4]


def test_no_e_mail_warning_when_a_stored_address_is_kept(db_session: Session,
                                                         event: Event) -> None:
    """A blank cell keeps what is stored: the participant, or the person of that name in
    the directory, still has an address."""
    earlier = Event(name="前回の商談会", slug="earlier")
    db_session.add(earlier)
    db_session.flush()
    _import(db_session, event, SAMPLE.encode())
    _import(db_session, earlier, "会社名,区分,担当者,メール\n清水プレス工業,S,高橋 健,"
            "takahashi@shimizu.example.jp\n".encode())
    data = ("会社名,区分,担当者,メール\n株式会社山田製作所,S,,\n"
            "トヨハシ自動車,B,別の 人,\n清水プレス工業,S,高橋 健,\n")
    preview = preview_import(db_session, event, data.encode(), "blank.csv")

    assert [r.action for r in preview.rows] == [RowAction.UNCHANGED, RowAction.UPDATE,
                                                RowAction.REUSE]
    assert _email_warnings(preview) == []


# --------------------------------------------------------------------------- writing


def test_nothing_is_written_by_the_preview(db_session: Session, event: Event) -> None:
    preview_import(db_session, event, SAMPLE.encode(), "p.csv")
    db_session.commit()

    assert _count(db_session, Organization) == 0
    assert _count(db_session, Participant) == 0


def test_import_creates_organizations_participants_and_contacts(db_session: Session,
                                                                event: Event) -> None:
    _, result = _import(db_session, event, SAMPLE.encode("cp932"))

    assert (result.created, result.people_added) == (2, 2)
    participants = db_session.scalars(select(Participant).order_by(Participant.code)).all()
    assert [(p.code, p.role, p.organization.name) for p in participants] == [
        ("B001", "buyer", "トヨハシ自動車"), ("S001", "supplier", "株式会社山田製作所"),
    ]
    supplier = participants[1]
    assert supplier.max_meetings == 6
    assert supplier.organization.name_key == "山田製作所"
    assert [(a.person.name, a.person.email, a.is_contact) for a in supplier.attendances] == [
        ("山田 太郎", "taro@yamada.example.jp", True)]
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "participants.import"))
    assert entry is not None and entry.details["created"] == 2


def test_the_same_file_twice_creates_nothing_twice(db_session: Session, event: Event) -> None:
    _import(db_session, event, SAMPLE.encode())
    preview, result = _import(db_session, event, SAMPLE.encode())

    assert [r.action for r in preview.rows] == [RowAction.UNCHANGED, RowAction.UNCHANGED]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert _count(db_session, Organization) == 2
    assert _count(db_session, Participant) == 2
    assert _count(db_session, Person) == 2


def test_a_reimport_with_changes_updates_and_keeps_blank_cells(db_session: Session,
                                                               event: Event) -> None:
    _import(db_session, event, SAMPLE.encode())
    changed = ("会社名,区分,従業員数,担当者,メール\n"
               "(株)山田製作所,S,150,山田 太郎,taro@yamada.example.jp\n")
    preview, result = _import(db_session, event, changed.encode())

    assert preview.rows[0].action is RowAction.UPDATE
    assert preview.rows[0].changes == ["organization.employees"]
    # The preview says what the update changes, in the file's own column names, as a
    # plain note: the row is not flagged for it.
    assert [i.text() for i in preview.rows[0].notes] == ["Changes: 従業員数."]
    assert preview.rows[0].warnings == []
    assert result.updated == 1
    organization = db_session.scalar(select(Organization).where(
        Organization.name_key == "山田製作所"))
    assert organization is not None
    assert organization.employees == 150
    assert organization.prefecture == "愛知県"  # not in the second file: kept
    assert organization.technologies == ["machining.turning", "machining.5axis"]


def test_a_company_of_an_earlier_fair_is_reused(db_session: Session, event: Event) -> None:
    earlier = Event(name="前回の商談会", slug="earlier")
    db_session.add(earlier)
    db_session.flush()
    _import(db_session, earlier, SAMPLE.encode())
    spelled_otherwise = "会社名,区分,市区町村\n（株）　山田製作所,サプライヤー,豊橋市\n"
    preview, result = _import(db_session, event, spelled_otherwise.encode())

    assert preview.rows[0].action is RowAction.REUSE
    assert result.reused == 1
    assert _count(db_session, Organization) == 2
    organization = db_session.scalar(select(Organization).where(
        Organization.name_key == "山田製作所"))
    assert organization is not None
    assert organization.name == "株式会社山田製作所"  # the directory's spelling stays
    assert organization.city == "豊橋市"
    assert len(organization.participations) == 2


def test_a_file_with_errors_is_refused_unless_only_valid_rows_are_chosen(
    db_session: Session, event: Event
) -> None:
    data = "\n".join([HEADER, ROWS[0], "悪い行,,不明,,,,,,"]).encode()
    preview = preview_import(db_session, event, data, "p.csv")

    with pytest.raises(ValidationFailed):
        apply_import(db_session, event, preview, only_valid=False, user_id=None)
    assert _count(db_session, Participant) == 0

    result = apply_import(db_session, event, preview, only_valid=True, user_id=None)
    assert (result.created, result.skipped) == (1, 1)
    assert _count(db_session, Participant) == 1


def test_codes_are_kept_when_given_and_allocated_after_the_highest(db_session: Session,
                                                                   event: Event) -> None:
    data = "コード,会社名,区分\nB007,甲社,B\n,乙社,B\n,丙社,S\n".encode()
    _import(db_session, event, data)

    codes = dict(db_session.execute(select(Organization.name, Participant.code)
                                    .join(Participant.organization)).all())
    assert codes == {"甲社": "B007", "乙社": "B008", "丙社": "S001"}


def test_a_code_of_another_participant_is_a_row_error(db_session: Session, event: Event) -> None:
    _import(db_session, event, "コード,会社名,区分\nB001,甲社,B\n".encode())
    data = "コード,会社名,区分\nB001,乙社,B\n".encode()
    preview = preview_import(db_session, event, data, "c.csv")

    assert [i.key for i in preview.rows[0].errors] == ["code"]
    assert "甲社" in preview.rows[0].errors[0].text()


# --------------------------------------------------------------------------- Excel and export


def _workbook_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_reads_numbers_as_text_and_keeps_row_numbers(db_session: Session,
                                                                 event: Event) -> None:
    data = _workbook_bytes([
        ["会社名", "区分", "従業員数", "最大商談数", "電話"],
        ["山田製作所", "サプライヤー", 120, 6.0, "052-000-0000"],
        [None, None, None, None, None],
        ["トヨハシ自動車", "バイヤー", "abc", None, None],
    ])
    preview = preview_import(db_session, event, data, "participants.xlsx")

    assert preview.file_format == "xlsx"
    assert [r.number for r in preview.rows] == [2, 4]
    assert (preview.rows[0].entry.employees, preview.rows[0].entry.max_meetings) == (120, 6)
    assert [(i.header, i.key) for i in preview.rows[1].errors] == [("従業員数", "employees")]
    # Numbers stored as numbers raise no warning (the sheet has no e-mail column: that does).
    assert [i.key for i in preview.rows[0].warnings] == ["email"]


def test_a_phone_number_that_lost_its_leading_zero_in_excel_is_flagged(
    db_session: Session, event: Event
) -> None:
    data = _workbook_bytes([
        ["会社名", "区分", "担当者", "メール", "電話"],
        ["山田製作所", "サプライヤー", "山田", "yamada@example.jp", 531234567],  # 0531234567
        ["佐藤精機", "サプライヤー", "佐藤", "sato@example.jp", "0531234567"],
    ])
    preview = preview_import(db_session, event, data, "participants.xlsx")
    flagged, fine = preview.rows
    assert [(i.key, i.text()) for i in flagged.warnings] == [
        ("phone", '"531234567" may have lost its leading 0 (Excel stores phone numbers typed '
                  "as digits as numbers): check it.")
    ]
    assert flagged.is_valid and not fine.warnings  # a warning only: the row still imports


@pytest.mark.parametrize(
    ("typed", "written"),
    [("-1", "-1"), ("-3.5", "-3.5"), ("-1,000", "-1,000"), ("-0.25", "-0.25"),
     ("-1+1", "'-1+1"), ("-A1", "'-A1"), ("-", "'-"), ("-1e3", "'-1e3"), ("-1,2", "'-1,2"),
     ("-見積依頼", "'-見積依頼"), ("=1+1", "'=1+1"), ("+81 54 000", "'+81 54 000"),
     ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("12", "12")],
)
def test_csv_cells_guard_formulas_but_keep_plain_negative_numbers(typed: str,
                                                                  written: str) -> None:
    assert cell_text(typed) == written


def test_a_file_of_rows_to_fix_keeps_negative_numbers_as_typed(db_session: Session,
                                                               event: Event) -> None:
    """The rows downloaded to correct read back exactly as they were uploaded."""
    data = "会社名,区分,最大商談数\n-2+3,S,-1\n清水プレス工業,S,-3.5\n".encode()
    preview = preview_import(db_session, event, data, "p.csv")
    rows = [(r.number, [r.cells["company"], r.cells["role"], r.cells["max_meetings"]], "x")
            for r in preview.error_rows]
    written = rows_to_fix_csv(["会社名", "区分", "最大商談数"], rows).decode("utf-8-sig")

    assert written.splitlines()[1:] == ["'-2+3,S,-1,2,x", "清水プレス工業,S,-3.5,3,x"]
    again = preview_import(db_session, event, written.encode(), "p-to-fix.csv")
    assert [r.cells for r in again.rows] == [r.cells for r in preview.rows]


def test_csv_export_starts_with_the_bom_and_uses_the_import_headers(db_session: Session,
                                                                    event: Event) -> None:
    _import(db_session, event, SAMPLE.encode())
    data = export_csv(db_session, event)

    assert data.startswith(UTF8_BOM)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("コード,会社名,会社名カナ,区分")
    assert len(lines) == 3
    assert "旋盤加工、5軸加工" in data.decode("utf-8-sig")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(db_session: Session, event: Event, fmt: str) -> None:
    mixed = "\n".join([
        "会社名,区分,技術,認証,担当者,電話,デスク数,URL",
        "佐藤精機,S,旋盤加工、独自技術,ISO9001、エコアクション21,佐藤,+81-52-000-0000,2,"
        "www.yamada.example.jp",
        "=HYPERLINK(\"x\"),B,,,,,,",
    ]).encode()
    _import(db_session, event, SAMPLE.encode())
    _import(db_session, event, mixed)
    before = export_csv(db_session, event)

    data = export_csv(db_session, event) if fmt == "csv" else export_xlsx(db_session, event)
    preview, result = _import(db_session, event, data, f"export.{fmt}")

    assert preview.is_valid, [i.text() for r in preview.rows for i in r.errors]
    assert {r.action for r in preview.rows} == {RowAction.UNCHANGED}
    assert (result.unchanged, result.written) == (4, 0)
    assert export_csv(db_session, event) == before
    assert _count(db_session, Organization) == 4


def test_xlsx_export_has_a_bold_frozen_header_and_text_cells(db_session: Session,
                                                             event: Event) -> None:
    rows = "会社名,区分,従業員数,デスク数,担当者,電話\n=1+1,B,2400,2,佐藤,053-123-4567\n"
    _import(db_session, event, rows.encode())
    workbook = load_workbook(io.BytesIO(export_xlsx(db_session, event)))
    sheet = workbook.active

    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "コード" and sheet["A1"].font.bold
    assert sheet["B2"].value == "=1+1" and sheet["B2"].data_type == "s"  # not a formula
    assert sheet.column_dimensions["B"].width >= 8
    cells = {header.value: value for header, value in zip(sheet[1], sheet[2], strict=True)}
    # Counts are numbers Excel can sum; a phone number keeps its leading zero as text.
    assert cells["従業員数"].value == 2400 and cells["従業員数"].data_type == "n"
    assert cells["デスク数"].value == 2 and cells["デスク数"].data_type == "n"
    assert cells["電話"].value == "053-123-4567" and cells["電話"].data_type == "s"


def test_a_new_contact_in_a_reimport_becomes_the_contact(db_session: Session,
                                                         event: Event) -> None:
    _import(db_session, event, SAMPLE.encode())
    data = "会社名,区分,担当者,メール\n山田製作所,S,山田 次郎,jiro@yamada.example.jp\n".encode()
    preview, result = _import(db_session, event, data)

    assert preview.rows[0].changes == ["person.name", "person.email", "participant.contact"]
    # Before anything is written, the preview says who stops being the contact.
    row = preview.rows[0]
    assert [i.text() for i in row.warnings] == [
        "The contact person changes from 山田 太郎 to 山田 次郎."
    ]
    assert [i.text() for i in row.notes] == ["Changes: メール."]
    assert (result.updated, result.people_added) == (1, 1)
    participant = db_session.scalar(select(Participant).where(Participant.role == "supplier"))
    # The same contact written anew (same e-mail, another spelling of the name) is said too.
    renamed = "会社名,区分,担当者,メール\n山田製作所,S,山田 二郎,jiro@yamada.example.jp\n"
    notes = [i.text() for i in preview_import(db_session, event, renamed.encode(), "p.csv")
             .rows[0].warnings]
    assert notes == ["The contact person changes from 山田 次郎 to 山田 二郎."]
    assert participant is not None
    contacts = {a.person.name: a.is_contact for a in participant.attendances}
    assert contacts == {"山田 太郎": False, "山田 次郎": True}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("静岡県", "静岡県"), ("静岡", "静岡県"), ("静岡　県", "静岡県"), ("Shizuoka", "静岡県"),
     ("shizuoka-ken", "静岡県"), ("Shizuoka Prefecture", "静岡県"), ("Tokyo-to", "東京都"),
     ("Kyoto", "京都府"), ("ＨＯＫＫＡＩＤＯ", "北海道")],
)
def test_a_prefecture_is_read_however_it_is_spaced_and_in_english(typed: str, stored: str) -> None:
    """QA: "静岡　県" (a full-width space) and "Shizuoka" were kept as written, with a
    warning that they were no Japanese prefecture; the location filter then missed them."""
    entry, errors, notes = validate_entry({"company": "東海製作所", "role": "supplier",
                                           "prefecture": typed})
    assert (entry.prefecture, errors) == (stored, [])
    assert not [n for n in notes if n.key == "prefecture"]


def test_a_place_that_is_no_prefecture_is_kept_with_a_warning() -> None:
    entry, _errors, notes = validate_entry({"company": "東海製作所", "role": "supplier",
                                            "prefecture": "Kyo"})
    assert entry.prefecture == "Kyo"
    assert [n.key for n in notes] == ["prefecture"]
