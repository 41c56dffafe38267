"""Participant import: what an update changes, said before it is written.

Contacts renamed with a blank e-mail cell, codes (row counters, changes of code, changes
of role), registrations not taking part, spacing, and export -> import round trips.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import registration
from scheduler.models import Event, Organization, Participant, ParticipantStatus, Person
from scheduler.participant_export import export_csv, export_rows, export_xlsx
from scheduler.participant_import import (
    ImportPreview,
    ImportResult,
    RowAction,
    apply_import,
    code_sort_key,
    preview_import,
    save_entry,
    validate_entry,
)
from web.participants_admin import _ListRow

LIST = ("コード,会社名,区分,担当者,メール\n"
        "B001,ヤマハ発動機株式会社,バイヤー,佐藤 花子,hanako.sato@example.co.jp\n"
        "S001,伊豆電子工業株式会社,サプライヤー,加藤 大輔,daisuke.kato@izu-denshi.example.jp\n"
        "S002,焼津フーズ株式会社,サプライヤー,山本 翔,sho.yamamoto@yaizu-foods.example.jp\n")


@pytest.fixture
def event(db_session: Session) -> Event:
    fair = Event(name="静岡ものづくり商談会", slug="shizuoka")
    db_session.add(fair)
    db_session.commit()
    return fair


def _import(session: Session, event: Event, text: str | bytes, filename: str = "p.csv"
            ) -> tuple[ImportPreview, ImportResult]:
    data = text.encode() if isinstance(text, str) else text
    preview = preview_import(session, event, data, filename)
    result = apply_import(session, event, preview, only_valid=False, user_id=None)
    session.commit()
    return preview, result


def _participant(session: Session, name: str) -> Participant:
    session.expire_all()
    return session.scalars(select(Participant).join(Participant.organization)
                           .where(Organization.name == name)).one()


def _texts(issues: list) -> list[str]:
    return [issue.text() for issue in issues]


# --------------------------------------------------------------------------- contacts


def test_a_corrected_contact_name_keeps_the_stored_e_mail(db_session: Session,
                                                          event: Event) -> None:
    _import(db_session, event, LIST)
    people = db_session.scalar(select(func.count(Person.id)))
    row = "会社名,区分,担当者,メール\n伊豆電子工業株式会社,サプライヤー,加藤 大介,\n"

    preview, result = _import(db_session, event, row)

    [previewed] = preview.rows
    assert previewed.action is RowAction.UPDATE
    assert _texts(previewed.warnings) == [
        "The contact person 加藤 大輔 is renamed 加藤 大介 and keeps the e-mail address "
        "daisuke.kato@izu-denshi.example.jp, as the e-mail cell is blank. If 加藤 大介 is "
        "someone else, enter their e-mail address."
    ]
    assert (result.updated, result.people_added) == (1, 0)
    participant = _participant(db_session, "伊豆電子工業株式会社")
    assert [(a.person.name, a.person.email, a.is_contact) for a in participant.attendances] == [
        ("加藤 大介", "daisuke.kato@izu-denshi.example.jp", True)]
    assert db_session.scalar(select(func.count(Person.id))) == people


def test_another_contact_with_an_e_mail_address_is_still_another_person(
    db_session: Session, event: Event
) -> None:
    _import(db_session, event, LIST)
    row = ("会社名,区分,担当者,メール\n"
           "伊豆電子工業株式会社,サプライヤー,田中 誠,makoto.tanaka@izu-denshi.example.jp\n")

    preview, result = _import(db_session, event, row)

    assert _texts(preview.rows[0].warnings) == [
        "The contact person changes from 加藤 大輔 to 田中 誠."]
    assert result.people_added == 1
    contacts = {a.person.name: (a.person.email, a.is_contact)
                for a in _participant(db_session, "伊豆電子工業株式会社").attendances}
    assert contacts == {"加藤 大輔": ("daisuke.kato@izu-denshi.example.jp", False),
                        "田中 誠": ("makoto.tanaka@izu-denshi.example.jp", True)}


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize("counter", ["No", "番号", "No.", "連番", "№"])
def test_a_row_counter_column_is_not_read_as_the_code(db_session: Session, event: Event,
                                                      counter: str) -> None:
    _import(db_session, event, LIST)
    rows = (f"{counter},会社名,区分\n1,ヤマハ発動機株式会社,バイヤー\n"
            "2,清水精工株式会社,サプライヤー\n3,伊豆電子工業株式会社,サプライヤー\n")

    preview, _result = _import(db_session, event, rows)

    assert "code" not in preview.columns
    assert _texts(preview.file_warnings) == [
        f"The column \"{counter}\" was ignored: a row number is not a participant code. If it "
        "holds the codes, name it \"コード\" (code)."
    ]
    assert [r.action for r in preview.rows] == [RowAction.UNCHANGED, RowAction.CREATE,
                                                RowAction.UNCHANGED]
    codes = dict(db_session.execute(select(Organization.name, Participant.code)
                                    .join(Participant.organization)).all())
    assert codes == {"ヤマハ発動機株式会社": "B001", "伊豆電子工業株式会社": "S001",
                     "焼津フーズ株式会社": "S002", "清水精工株式会社": "S003"}


@pytest.mark.parametrize("header", ["コード", "参加企業コード", "参加者コード", "code", "Code"])
def test_a_code_column_is_read_under_its_explicit_names(db_session: Session, event: Event,
                                                        header: str) -> None:
    preview, _result = _import(db_session, event, f"{header},会社名,区分\nB007,甲社,B\n")

    assert preview.columns["code"] == header
    assert _participant(db_session, "甲社").code == "B007"


def test_a_change_of_code_is_said_old_to_new(db_session: Session, event: Event) -> None:
    _import(db_session, event, LIST)

    preview = preview_import(db_session, event, "コード,会社名,区分\nB010,ヤマハ発動機株式会社,B\n"
                             .encode(), "p.csv")

    row = preview.rows[0]
    assert row.action is RowAction.UPDATE
    assert _texts(row.warnings) == [
        "The code changes from B001 to B010: what was printed with B001 (link slips, "
        "schedules) shows the old code."
    ]
    assert [i.header for i in row.warnings] == ["コード"]
    assert row.notes == []  # not "Changes: コード." as well


def test_a_change_of_role_is_said_in_words_and_gives_a_code_of_the_new_role(
    db_session: Session, event: Event
) -> None:
    _import(db_session, event, LIST)
    rows = ("会社名,区分,担当者,メール\n"
            "焼津フーズ株式会社,バイヤー,山本 翔,sho.yamamoto@yaizu-foods.example.jp\n"
            "ヤマハ発動機株式会社,サプライヤー,佐藤 花子,hanako.sato@example.co.jp\n")

    preview, result = _import(db_session, event, rows)

    assert [_texts(r.warnings) for r in preview.rows] == [
        ["The role changes from supplier to buyer.",
         "The code changes from S002 to B002: what was printed with S002 (link slips, "
         "schedules) shows the old code."],
        ["The role changes from buyer to supplier.",
         "The code changes from B001 to S003: what was printed with B001 (link slips, "
         "schedules) shows the old code."],
    ]
    assert [r.notes for r in preview.rows] == [[], []]
    assert result.updated == 2
    foods = _participant(db_session, "焼津フーズ株式会社")
    yamaha = _participant(db_session, "ヤマハ発動機株式会社")
    assert (foods.role, foods.code) == ("buyer", "B002")
    assert (yamaha.role, yamaha.code) == ("supplier", "S003")


def test_a_role_change_recodes_as_the_hand_edit_form_does(db_session: Session,
                                                          event: Event) -> None:
    _import(db_session, event, LIST)
    foods = _participant(db_session, "焼津フーズ株式会社")
    entry, errors, _notes = validate_entry({"company": "焼津フーズ株式会社", "role": "buyer"})
    assert errors == []

    save_entry(db_session, event, entry, participant=foods, user_id=None)
    db_session.commit()
    by_form = (_participant(db_session, "焼津フーズ株式会社").role,
               _participant(db_session, "焼津フーズ株式会社").code)

    _import(db_session, event, "会社名,区分\nヤマハ発動機株式会社,サプライヤー\n")
    by_import = _participant(db_session, "ヤマハ発動機株式会社")
    assert by_form == ("buyer", "B002")
    assert (by_import.role, by_import.code) == ("supplier", "S002")  # after the highest, S001


def test_a_code_the_file_gives_is_kept_on_a_role_change_with_a_word_how_to_recode(
    db_session: Session, event: Event
) -> None:
    """An exported list whose role cell was changed still holds the old code."""
    _import(db_session, event, LIST)
    row = "コード,会社名,区分\nS002,焼津フーズ株式会社,バイヤー\n"

    preview, _result = _import(db_session, event, row)

    assert _texts(preview.rows[0].warnings) == [
        "The role changes from supplier to buyer.",
        "The code S002 is kept, as the file gives it; leave the code cell blank to give the "
        "next free code of the new role instead.",
    ]
    assert _participant(db_session, "焼津フーズ株式会社").code == "S002"


def test_codes_sort_by_their_number(db_session: Session) -> None:
    codes = ["S101", "S1000", "S100", "S2", "", "S1045", "B10", "B9", "s20"]

    assert sorted(codes, key=code_sort_key) == [
        "B9", "B10", "S2", "s20", "S100", "S101", "S1000", "S1045", ""]
    rows = [_ListRow(n, "supplier", "approved", code, "", "") for n, code in
            enumerate(["S101", "S1000", "S100", "S1045", ""], start=1)]
    rows.append(_ListRow(9, "buyer", "approved", "B10", "", ""))
    assert [r.code for r in sorted(rows, key=lambda r: r.sort_key)] == [
        "B10", "S100", "S101", "S1000", "S1045", ""]


def test_the_export_lists_codes_in_their_natural_order(db_session: Session,
                                                       event: Event) -> None:
    _import(db_session, event, "コード,会社名,区分\nS101,甲社,S\nS1000,乙社,S\nS100,丙社,S\n")

    assert [row[0] for row in export_rows(db_session, event)[1:]] == ["S100", "S101", "S1000"]


# --------------------------------------------------------------------------- not taking part


def _registered(session: Session, event: Event, company: str, contact: str, email: str,
                **more: str) -> Participant:
    data = registration.RegistrationData(company=company, role="supplier",
                                         contact_name=contact, email=email, **more)
    return registration.self_register(session, event, data)


def test_the_export_holds_only_the_companies_taking_part(db_session: Session,
                                                         event: Event) -> None:
    _import(db_session, event, LIST)
    declined = _registered(db_session, event, "断り工業株式会社", "断 一郎",
                           "a@kotowari.example.jp")
    registration.reject(db_session, declined, user_id=None)
    _registered(db_session, event, "待ち精機株式会社", "待 二郎", "b@machi.example.jp")
    db_session.commit()

    names = [row[1] for row in export_rows(db_session, event)[1:]]
    assert names == ["ヤマハ発動機株式会社", "伊豆電子工業株式会社", "焼津フーズ株式会社"]
    workbook = load_workbook(io.BytesIO(export_xlsx(db_session, event)))
    assert workbook.active.max_row == 4


@pytest.mark.parametrize(
    ("status", "warning"),
    [(ParticipantStatus.REJECTED,
      "This company's registration was declined: importing the row does not make it take "
      "part."),
     (ParticipantStatus.PENDING,
      "This company's registration is waiting for approval: importing the row does not "
      "approve it.")],
)
def test_a_registration_not_taking_part_is_not_made_to_by_an_import(
    db_session: Session, event: Event, status: str, warning: str
) -> None:
    registered = _registered(db_session, event, "断り工業株式会社", "断 一郎",
                             "a@kotowari.example.jp")
    if status == ParticipantStatus.REJECTED:
        registration.reject(db_session, registered, user_id=None)
    db_session.commit()

    preview, _result = _import(db_session, event, "会社名,区分,部署\n断り工業株式会社,S,営業部\n")

    assert warning in _texts(preview.rows[0].warnings)
    participant = _participant(db_session, "断り工業株式会社")
    assert (participant.status, participant.code, participant.department) == (
        status, "", "営業部")


# --------------------------------------------------------------------------- spacing


def test_a_self_registered_company_exported_and_imported_again_is_unchanged(
    db_session: Session, event: Event
) -> None:
    registered = _registered(db_session, event, "株式会社　しずおか精密", "望月　太郎",
                             "taro@shizuoka-seimitsu.example.jp", contact_kana="モチヅキ　タロウ",
                             company_kana="シズオカ　セイミツ", department="製造部　第二課")
    registration.approve(db_session, registered, user_id=None)
    db_session.commit()
    before = export_csv(db_session, event)

    for data, filename in ((before, "export.csv"), (export_xlsx(db_session, event), "e.xlsx")):
        preview, result = _import(db_session, event, data, filename)
        assert [(r.action, r.changes, _texts(r.notes)) for r in preview.rows] == [
            (RowAction.UNCHANGED, [], [])]
        assert result.written == 0
    assert export_csv(db_session, event) == before


def test_names_are_spaced_alike_by_registration_import_and_form(db_session: Session,
                                                                event: Event) -> None:
    registered = _registered(db_session, event, " 株式会社 　しずおか精密 ", "望月 　 太郎",
                             "taro@shizuoka-seimitsu.example.jp", contact_kana="モチヅキ  タロウ")
    entry, _errors, _notes = validate_entry({"company": " 株式会社 　しずおか精密 ", "role": "S",
                                             "contact_name": "望月 　 太郎",
                                             "contact_kana": "モチヅキ  タロウ"})

    person = registered.attendances[0].person
    assert (registered.organization.name, person.name, person.name_kana) == (
        "株式会社　しずおか精密", "望月　太郎", "モチヅキ タロウ")
    assert (entry.company, entry.contact_name) == ("株式会社　しずおか精密", "望月　太郎")
    # Names keep what was typed otherwise: full-width letters stay as they are.
    assert validate_entry({"company": "ＡＢＣ工業", "role": "S"})[0].company == "ＡＢＣ工業"


def test_a_difference_in_spacing_only_is_no_change_and_is_not_written(
    db_session: Session, event: Event
) -> None:
    _import(db_session, event, "会社名,区分,担当者,担当者カナ,メール\n"
            "甲社,S,望月 太郎,モチヅキ タロウ,taro@kou.example.jp\n")
    again = ("会社名,区分,担当者,担当者カナ,メール\n"
             "甲社,S,望月　太郎,モチヅキ　　タロウ,taro@kou.example.jp\n")

    preview, result = _import(db_session, event, again)

    assert (preview.rows[0].action, preview.rows[0].changes) == (RowAction.UNCHANGED, [])
    assert result.written == 0
    person = _participant(db_session, "甲社").attendances[0].person
    assert (person.name, person.name_kana) == ("望月 太郎", "モチヅキ タロウ")


# --------------------------------------------------------------------------- language


def test_an_english_export_has_english_headers_roles_and_sheet_and_imports_back(
    db_session: Session, event: Event
) -> None:
    _import(db_session, event, LIST + "S003,清水精工株式会社,S,清水 一,hajime@shimizu.example.jp\n")
    _import(db_session, event,
            "会社名,区分,技術,認証\n清水精工株式会社,S,旋盤加工、独自技術,ISO9001\n")

    rows = export_rows(db_session, event, "en")
    assert rows[0][:4] == ["Code", "Company", "Company kana", "Role"]
    assert "E-mail" in rows[0] and "Max meetings" in rows[0]
    cells = dict(zip(rows[0], rows[-1], strict=True))
    assert (cells["Role"], cells["Technologies"], cells["Certifications"]) == (
        "Supplier", "Turning, 独自技術", "ISO 9001")
    workbook = load_workbook(io.BytesIO(export_xlsx(db_session, event, "en")))
    assert workbook.sheetnames == ["Participants"]
    japanese = load_workbook(io.BytesIO(export_xlsx(db_session, event)))
    assert japanese.sheetnames == ["参加企業"]
    assert export_rows(db_session, event)[0][:4] == ["コード", "会社名", "会社名カナ", "区分"]

    for data, filename in ((export_csv(db_session, event, "en"), "en.csv"),
                           (export_xlsx(db_session, event, "en"), "en.xlsx")):
        preview, result = _import(db_session, event, data, filename)
        assert preview.is_valid, [i.text() for r in preview.rows for i in r.errors]
        assert {r.action for r in preview.rows} == {RowAction.UNCHANGED}
        assert result.written == 0
