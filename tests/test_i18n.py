"""The Japanese catalog is complete and compiled, pages follow the language switch, and
services' domain errors reach users in their language (English stays in logs and the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from scheduler import preferences, proposals
from scheduler.errors import NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Phase, Room, Table
from scheduler.users import create_user
from tests.conftest import PASSWORD
from tests.participant_fair import make_fair, read_in_english
from web.database import get_session
from web.i18n import translate_error

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"
JA_PO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.po"
JA_MO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.mo"


@pytest.fixture(scope="module")
def extracted_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Every message marked in the code now, extracted exactly as ``make translations``
    does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def extracted_msgids(extracted_catalog: Catalog) -> set[str]:
    """Every msgid marked in the code now (the singular of a plural pair)."""
    return {_key(message.id) for message in extracted_catalog if message.id}


def _key(msgid: str | tuple[str, ...] | list[str]) -> str:
    """The singular of a plural msgid (a tuple from .po files, a list from .mo files)."""
    return msgid[0] if isinstance(msgid, tuple | list) else msgid


def _forms(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def _translated(string: str | tuple[str, ...]) -> bool:
    return all(_forms(string))


def _ja_catalog() -> Catalog:
    with JA_PO.open("rb") as fh:
        return read_po(fh, locale="ja")


def test_extraction_finds_python_template_and_service_strings(extracted_msgids) -> None:
    # One marker of each kind, so a broken babel.cfg section cannot pass silently.
    assert "Log in" in extracted_msgids  # template _()
    assert "Venue" in extracted_msgids  # lazy_gettext in web/
    assert "The e-mail or the password is not right." in extracted_msgids  # gettext in web/
    assert "%(range)s: the range runs backwards." in extracted_msgids  # N_ in scheduler/


def test_every_extracted_string_has_a_japanese_translation(extracted_msgids) -> None:
    catalog = _ja_catalog()
    missing = sorted(m for m in extracted_msgids if m not in catalog)
    untranslated = sorted(
        m for m in extracted_msgids if m in catalog and not _translated(catalog[m].string)
    )
    fuzzy = sorted(_key(m.id) for m in catalog if m.id and m.fuzzy)
    assert missing == [], "run `make translations` and translate these"
    assert untranslated == [], "translate these in messages.po"
    assert fuzzy == [], "review these and remove the fuzzy flag"


def test_translations_keep_their_placeholders() -> None:
    problems = [
        (message.id, str(error)) for message, errors in _ja_catalog().check() for error in errors
    ]
    assert problems == []


def test_committed_mo_matches_the_po() -> None:
    """``make demo`` uses the committed .mo: it must be compiled from the current .po."""
    catalog = _ja_catalog()
    with JA_MO.open("rb") as fh:
        compiled = read_mo(fh)
    expected = {
        _key(m.id): _forms(m.string)
        for m in catalog
        if m.id and _translated(m.string) and not m.fuzzy
    }
    actual = {_key(m.id): _forms(m.string) for m in compiled if m.id}
    assert actual == expected, "run `make translations` (pybabel compile) and commit the .mo"


def test_domain_error_keeps_english_message_and_params() -> None:
    error = ValidationFailed(
        N_("%(range)s: the range runs backwards."), field="labels", params={"range": "A05-A01"}
    )
    assert error.message == "A05-A01: the range runs backwards."
    assert str(error) == error.message
    assert error.msgid == "%(range)s: the range runs backwards."
    # Without parameters the text is not %-formatted, as with gettext().
    assert ValidationFailed("100% full").message == "100% full"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ja", "A05-A01：範囲の順序が逆になっています。"),
        ("en", "A05-A01: the range runs backwards."),
    ],
)
def test_translate_error_follows_the_language(app, lang, expected) -> None:
    error = ValidationFailed(
        N_("%(range)s: the range runs backwards."), params={"range": "A05-A01"}
    )
    with app.test_request_context(headers={"Accept-Language": lang}):
        assert translate_error(error) == expected


def test_translate_error_shows_unknown_messages_as_given(app) -> None:
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        assert translate_error(NotFound("Not in any catalog 100%")) == "Not in any catalog 100%"


@pytest.mark.parametrize(
    ("lang", "shown", "absent"),
    [("ja", "ログイン", ">Log in<"), ("en", ">Log in<", "ログイン")],
)
def test_language_switch_changes_the_page(client, lang, shown, absent) -> None:
    response = client.post("/language", data={"lang": lang, "next": "/auth/login"})
    assert response.headers["Location"].endswith("/auth/login")
    body = client.get("/auth/login").get_data(as_text=True)
    assert shown in body
    assert absent not in body
    assert f'<html lang="{lang}">' in body


def _event_with_room(client) -> tuple[int, int]:
    response = client.post(
        "/events/new", data={"name": "ものづくり商談会", "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 302
    event_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/events/{event_id}/rooms", data={"room-name": "A 会場"}).status_code == 302
    with client.application.app_context():
        room_id = get_session().scalar(select(Room.id).where(Room.event_id == event_id))
    assert room_id is not None
    return event_id, room_id


@pytest.mark.parametrize(
    ("lang", "expected", "english"),
    [
        ("ja", "A05-A01：範囲の順序が逆になっています。", "runs backwards"),
        ("en", "A05-A01: the range runs backwards.", "範囲の順序"),
    ],
)
def test_service_error_next_to_the_field_is_in_the_readers_language(
    client, logged_in, lang, expected, english
) -> None:
    event_id, room_id = _event_with_room(client)
    client.post("/language", data={"lang": lang, "next": "/"})
    response = client.post(
        f"/events/{event_id}/rooms", data={"tables-room": room_id, "tables-labels": "A05-A01"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert expected in body
    assert english not in body


def test_error_page_of_a_service_error_is_japanese(client, logged_in) -> None:
    client.post("/language", data={"lang": "ja", "next": "/"})
    response = client.get("/events/999999")
    assert response.status_code == 404
    assert "この商談会は存在しません。" in response.get_data(as_text=True)


def test_flashed_service_error_is_japanese(client, logged_in) -> None:
    event_id, room_id = _event_with_room(client)
    client.post(f"/events/{event_id}/rooms", data={"tables-room": room_id, "tables-labels": "T1"})
    client.post("/language", data={"lang": "ja", "next": "/"})
    page = f"http://localhost/events/{event_id}/rooms"
    with client.application.app_context():
        table_id = get_session().scalar(select(Table.id).where(Table.event_id == event_id))
    response = client.post(
        f"/events/{event_id}/tables/{table_id}/host",
        data={"host": "999999"},
        headers={"Referer": page},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert "この商談会の参加企業を選んでください。" in body
    assert "Choose a participant" not in body


def test_cli_keeps_english(db_session) -> None:
    # The CLI prints error.message: the English rendering, whatever the catalog says.
    with pytest.raises(ValidationFailed) as info:
        create_user(db_session, email="x@example.jp", name="x", password="short")
    assert info.value.message == "The password must have at least 8 characters."
    assert info.value.params == {"min": 8}


def test_switching_language_on_one_device_leaves_the_others_of_the_account_alone(
    app, client, logged_in
) -> None:
    """A staff account is often shared by several tablets at the venue: one switched to
    English must not turn the others English in the middle of their work. The choice is
    the account's default for the sessions that begin later."""
    other = app.test_client()
    other.post("/auth/login", data={"email": logged_in.email, "password": PASSWORD})
    assert '<html lang="ja">' in other.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "en"})
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert '<html lang="ja">' in other.get("/").get_data(as_text=True)
    later = app.test_client()
    later.post("/auth/login", data={"email": logged_in.email, "password": PASSWORD})
    assert '<html lang="en">' in later.get("/").get_data(as_text=True)


# --------------------------------------------------------------------------- plurals


def test_a_count_of_one_reads_in_the_singular_in_english(
    client, db_session, logged_in, tmp_path
) -> None:
    """"1 requests", "1 sheets": counts before a noun are plural pairs (ngettext)."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    proposals.submit_proposal(db_session, fair.supplier, fair.need.id,
                              proposals.ProposalData(offer="提案"), uploads_dir=tmp_path)
    db_session.commit()
    read_in_english(client)
    overview = f"/events/{fair.event.id}/preferences"
    sheets = f"/p/{fair.buyer.access_token}/proposals"
    assert "— 1 request</li>" in client.get(overview).get_data(as_text=True)
    assert ">1 sheet</small>" in client.get(sheets).get_data(as_text=True)
    preferences.request_meeting(db_session, fair.other_supplier, fair.buyer.id, level=2)
    proposals.submit_proposal(db_session, fair.other_supplier, fair.need.id,
                              proposals.ProposalData(offer="提案"), uploads_dir=tmp_path)
    db_session.commit()
    assert "— 2 requests</li>" in client.get(overview).get_data(as_text=True)
    assert ">2 sheets</small>" in client.get(sheets).get_data(as_text=True)


# A count before a plural noun, once a single msgid ("%(n)d requests" gave "1 requests"),
# is now a singular/plural pair wherever the count can be 1.
COUNTED_NOUNS = [
    ("%(n)d requests", "%(num)d request"),
    ("%(n)d sheets", "%(num)d sheet"),
    ("%(n)s tables", "%(num)d table"),
    ("%(n)s tables were added to %(room)s.", "%(num)d table was added to %(room)s."),
    ("Save these %(n)s slots", "Save this %(num)d slot"),
    ("Preview: %(n)s slots", "Preview: %(num)d slot"),
    ("%(n)s shared technologies", "%(num)d shared technology"),
    ("%(n)s free slots", "%(num)d free slot"),
    ("%(n)s participants", "%(num)d participant"),
    ("%(n)s pairs", "%(num)d pair"),
    ("%(n)s meetings", "%(num)d meeting"),
    ("%(n)d slots you cannot make", "%(num)d slot you cannot make"),
    ("%(n)s employees", "%(num)d employee"),
    (
        "Leave empty to take the organizer’s limit of %(n)d meetings per desk. You can ask "
        "for fewer, not more.",
        "Leave empty to take the organizer’s limit of %(num)d meeting per desk. You can ask "
        "for fewer, not more.",
    ),
    ("Being prepared: %(done)s of %(total)s companies.",
     "Being prepared: %(done)s of %(num)d company."),
    ("%(done)s of %(total)s companies' sheets printed.",
     "%(done)s of %(num)d company's sheets printed."),
    ("Printing the sheets of %(total)s companies…", "Printing the sheet of %(num)d company…"),
]


@pytest.mark.parametrize(("before", "singular"), COUNTED_NOUNS)
def test_counted_nouns_are_plural_pairs(extracted_catalog, before: str, singular: str) -> None:
    assert before not in extracted_catalog
    assert singular in extracted_catalog and extracted_catalog[singular].pluralizable
