"""A contact renamed by an import with a blank e-mail cell, or by the organizer's form, when
the person serves another event too (review, finding 3): the other fair's contact must
stay who it was."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Attendance, Event, Organization, Participant, Person
from scheduler.participant_import import (
    ImportPreview,
    apply_import,
    entry_cells,
    preview_import,
    save_entry,
    validate_entry,
)

LIST = (
    "コード,会社名,区分,担当者,メール\n"
    "S001,伊豆電子工業株式会社,サプライヤー,加藤 大輔,daisuke.kato@izu-denshi.example.jp\n"
)
NEW_CONTACT = "会社名,区分,担当者,メール\n伊豆電子工業株式会社,サプライヤー,田中 誠,\n"


def _import(session: Session, event: Event, text: str) -> ImportPreview:
    preview = preview_import(session, event, text.encode(), "p.csv")
    apply_import(session, event, preview, only_valid=False, user_id=None)
    session.commit()
    return preview


def _attendees(session: Session, event: Event) -> set[tuple[str, str, bool]]:
    session.expire_all()
    return {
        (a.person.name, a.person.email, a.is_contact)
        for a in session.scalars(
            select(Attendance).join(Participant).where(Participant.event_id == event.id)
        )
    }


def _two_fairs(session: Session) -> tuple[Event, Event]:
    past = Event(name="2026 fair", slug="f2026")
    now = Event(name="2027 fair", slug="f2027")
    session.add_all([past, now])
    session.commit()
    _import(session, past, LIST)
    _import(session, now, LIST)
    return past, now


def test_a_contact_of_another_event_is_not_renamed(db_session: Session) -> None:
    past, now = _two_fairs(db_session)
    assert len(db_session.scalars(select(Person)).all()) == 1  # one person, both fairs

    preview = _import(db_session, now, NEW_CONTACT)

    assert [i.text() for i in preview.rows[0].warnings] == [
        "The contact person changes from 加藤 大輔 to 田中 誠. 加藤 大輔 is not renamed, as "
        "they also take part in another event, and 田中 誠 has no e-mail address, as the "
        "e-mail cell is blank: e-mails go to 加藤 大輔 (daisuke.kato@izu-denshi.example.jp) "
        "until you enter the address of 田中 誠."
    ]
    assert _attendees(db_session, past) == {
        ("加藤 大輔", "daisuke.kato@izu-denshi.example.jp", True)
    }
    assert _attendees(db_session, now) == {
        ("加藤 大輔", "daisuke.kato@izu-denshi.example.jp", False),
        ("田中 誠", "", True),
    }
    organization = db_session.scalars(select(Organization)).one()
    assert {p.name for p in organization.people} == {"加藤 大輔", "田中 誠"}


def test_a_contact_of_this_event_only_is_still_renamed(db_session: Session) -> None:
    past = Event(name="2026 fair", slug="f2026")
    now = Event(name="2027 fair", slug="f2027")
    db_session.add_all([past, now])
    db_session.commit()
    _import(db_session, now, LIST)

    _import(db_session, now, NEW_CONTACT)

    assert _attendees(db_session, now) == {("田中 誠", "daisuke.kato@izu-denshi.example.jp", True)}


def _edit_contact(session: Session, event: Event, **cells: str) -> None:
    participant = session.scalars(
        select(Participant).where(Participant.event_id == event.id)
    ).one()
    form = {**entry_cells(participant), **cells}
    entry, errors, _notes = validate_entry(form)
    assert errors == []
    save_entry(session, event, entry, participant=participant, user_id=None)
    session.commit()


def test_the_form_does_not_rewrite_another_events_contact(db_session: Session) -> None:
    """Review: the organizer's form renamed the shared person in place, so the 2026 fair's
    contact became the 2027 one."""
    past, now = _two_fairs(db_session)

    _edit_contact(db_session, now, contact_name="田中 誠", email="makoto.tanaka@example.jp")

    assert _attendees(db_session, past) == {
        ("加藤 大輔", "daisuke.kato@izu-denshi.example.jp", True)
    }
    assert _attendees(db_session, now) == {
        ("加藤 大輔", "daisuke.kato@izu-denshi.example.jp", False),
        ("田中 誠", "makoto.tanaka@example.jp", True),
    }
    # Saving the form again as it is changes nothing more.
    _edit_contact(db_session, now)
    assert len(db_session.scalars(select(Person)).all()) == 2


def test_the_form_corrects_a_shared_contacts_name_by_the_same_address(
    db_session: Session,
) -> None:
    """The same e-mail address is the same person: a corrected name is theirs everywhere."""
    past, now = _two_fairs(db_session)

    _edit_contact(db_session, now, contact_name="加藤 大介", phone="054-000-0000")

    assert _attendees(db_session, past) == {
        ("加藤 大介", "daisuke.kato@izu-denshi.example.jp", True)
    }
    assert len(db_session.scalars(select(Person)).all()) == 1


def test_the_form_changes_a_contact_of_this_event_only_in_place(db_session: Session) -> None:
    now = Event(name="2027 fair", slug="f2027")
    db_session.add(now)
    db_session.commit()
    _import(db_session, now, LIST)

    _edit_contact(db_session, now, contact_name="田中 誠", email="makoto.tanaka@example.jp")

    assert _attendees(db_session, now) == {("田中 誠", "makoto.tanaka@example.jp", True)}
    assert len(db_session.scalars(select(Person)).all()) == 1


def test_a_shared_person_named_on_the_form_keeps_what_the_form_leaves_blank(
    db_session: Session,
) -> None:
    """Review: naming as contact a person who is another fair's contact wrote the form's
    blank phone and kana over theirs."""
    with_phone = (
        "コード,会社名,区分,担当者,担当者カナ,メール,電話\n"
        "S001,伊豆電子工業株式会社,サプライヤー,田中 誠,タナカ マコト,makoto.tanaka@example.jp,"
        "054-111-2222\n"
    )
    first = Event(name="2025 fair", slug="f2025")
    db_session.add(first)
    db_session.commit()
    _import(db_session, first, with_phone)
    _past, now = _two_fairs(db_session)

    _edit_contact(
        db_session, now, contact_name="田中 誠", email="makoto.tanaka@example.jp",
        contact_kana="", phone="",
    )

    tanaka = db_session.scalars(select(Person).where(Person.name == "田中 誠")).one()
    assert (tanaka.name_kana, tanaka.phone) == ("タナカ マコト", "054-111-2222")
    assert ("田中 誠", "makoto.tanaka@example.jp", True) in _attendees(db_session, now)
