"""Bad input through every participant form: the company profile, a buyer's need, a
meeting request's note, a proposal sheet, public self-registration (and availability
for numbers). Each form refuses over-long text next to the field at fault, stores
markup verbatim and shows it escaped, keeps emoji intact, accepts full-width digits
where a number is expected, and tells what to fix when sent empty."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import event_setup, preferences
from scheduler.models import Need, Organization, Participant, Phase, Proposal, User
from tests.participant_fair import Fair, make_fair, read_in_english

MARKUP = "<script>alert(1)</script><b>太字</b>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;太字&lt;/b&gt;"
EMOJI = "🏭工場👍🏽👨‍👩‍👧"  # a skin-tone modifier and a ZWJ sequence must survive too


def _p(participant: Participant, path: str) -> str:
    return f"/p/{participant.access_token}{path}"


def _newest_need(session: Session, fair: Fair) -> str:
    return session.scalars(select(Need.title).where(Need.participant_id == fair.buyer.id)
                           .order_by(Need.id.desc())).first() or ""


def _note(session: Session, fair: Fair) -> str:
    interest = preferences.interest_between(session, fair.supplier.id, fair.buyer.id)
    return interest.note if interest else ""


def _offer(session: Session, fair: Fair) -> str:
    return session.scalar(select(Proposal.offer).where(Proposal.need_id == fair.need.id)) or ""


def _registered(session: Session, fair: Fair) -> str:
    return session.scalars(select(Organization.name).order_by(Organization.id.desc())).first()


@dataclass(frozen=True)
class FormCase:
    """One participant form: where it posts, a valid submission, the text field tried."""

    name: str
    url: Callable[[Fair], str]
    valid: dict[str, object]
    text_field: str
    max_length: int
    stored: Callable[[Session, Fair], str]  # the text field's stored value
    shown_at: Callable[[Fair], str]  # a page that shows the stored text
    required: tuple[str, ...]  # fields flagged on an empty submission
    phase: str = Phase.PREFERENCES
    organizer_view: bool = False  # the page showing it is the organizer's
    extra: dict[str, object] = field(default_factory=dict)


CASES = [
    FormCase(
        "profile", lambda f: _p(f.supplier, "/profile"),
        {"name": "ＡＢＣ精工株式会社", "prefecture": "静岡県"}, "name", 200,
        lambda s, f: s.get(Participant, f.supplier.id).organization.name,
        lambda f: _p(f.supplier, "/"), ("name",),
    ),
    FormCase(
        "need", lambda f: _p(f.buyer, "/needs/new"),
        {"title": "アルミ筐体", "published": "y", "lot_size": ""}, "title", 200, _newest_need,
        lambda f: _p(f.buyer, "/profile"), ("title",),
    ),
    FormCase(
        "request note", lambda f: _p(f.supplier, f"/request/{f.buyer.id}"),
        {"level": "3"}, "note", preferences.MAX_NOTE_LENGTH, _note,
        lambda f: _p(f.supplier, "/requests"), ("level",),
    ),
    FormCase(
        "proposal sheet", lambda f: _p(f.supplier, f"/buyer-needs/{f.need.id}/apply"),
        {"offer": "5軸加工で試作します", "level": "3"}, "offer", 5000, _offer,
        lambda f: _p(f.buyer, "/proposals"), ("offer",),
    ),
    FormCase(
        "registration", lambda f: f"/e/{f.event.slug}/register",
        {"company": "新星ファクトリー", "role": "supplier", "contact_name": "新星 一郎",
         "email": "ichiro@shinsei.example.jp", "prefecture": ""},
        "company", 200, _registered,
        lambda f: f"/events/{f.event.id}/registrations",
        ("company", "role", "contact_name", "email"),
        phase=Phase.REGISTRATION, organizer_view=True,
    ),
]


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


@pytest.fixture
def fair_for(db_session: Session) -> Callable[[FormCase], Fair]:
    def build(case: FormCase) -> Fair:
        fair = make_fair(db_session, phase=case.phase)
        db_session.commit()
        return fair
    return build


def _field_has_error(body: str, name: str) -> bool:
    """Whether the form flags field ``name``: its block is marked and lists a message."""
    # A radio group is a fieldset (its legend names the question), other fields a div.
    blocks = re.findall(
        r'<(?:div|fieldset) class="field[^"]*has-error[^"]*"[^>]*>(.*?)</ul>', body, re.S
    )
    return any(f'name="{name}"' in block and 'class="errors"' in block for block in blocks)


def _show(client: FlaskClient, case: FormCase, fair: Fair,
          request: pytest.FixtureRequest) -> str:
    if case.organizer_view:
        request.getfixturevalue("logged_in")
    response = client.get(case.shown_at(fair))
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_over_long_text_is_refused_with_the_field_named(
    client: FlaskClient, db_session: Session, fair_for, case: FormCase
) -> None:
    fair = fair_for(case)
    too_long = "あ" * (case.max_length + 1)
    response = client.post(case.url(fair), data={**case.valid, case.text_field: too_long})
    body = response.get_data(as_text=True)
    assert response.status_code in {200, 400}
    assert _field_has_error(body, case.text_field)
    assert str(case.max_length) in body  # the message says the limit
    assert too_long in body  # what was typed is kept
    db_session.expire_all()
    assert case.stored(db_session, fair) != too_long
    # Exactly at the limit is accepted.
    at_limit = "あ" * case.max_length
    response = client.post(case.url(fair), data={**case.valid, case.text_field: at_limit})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    db_session.expire_all()
    assert case.stored(db_session, fair) == at_limit


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_markup_is_stored_verbatim_and_shown_escaped(
    client: FlaskClient, db_session: Session, fair_for, case: FormCase,
    request: pytest.FixtureRequest,
) -> None:
    fair = fair_for(case)
    response = client.post(case.url(fair), data={**case.valid, case.text_field: MARKUP})
    assert response.status_code == 302
    db_session.expire_all()
    assert case.stored(db_session, fair) == MARKUP
    body = _show(client, case, fair, request)
    assert ESCAPED in body
    assert "<script>alert(1)" not in body and "<b>太字</b>" not in body


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_emoji_is_stored_and_shown_intact(
    client: FlaskClient, db_session: Session, fair_for, case: FormCase,
    request: pytest.FixtureRequest,
) -> None:
    fair = fair_for(case)
    response = client.post(case.url(fair), data={**case.valid, case.text_field: EMOJI})
    assert response.status_code == 302
    db_session.expire_all()
    assert case.stored(db_session, fair) == EMOJI
    assert EMOJI in _show(client, case, fair, request)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_empty_submission_shows_what_to_fix(
    client: FlaskClient, db_session: Session, fair_for, case: FormCase
) -> None:
    fair = fair_for(case)
    before = case.stored(db_session, fair)
    # Every field sent blank, as a client without a browser's defaults would.
    response = client.post(case.url(fair), data={name: "" for name in case.valid})
    body = response.get_data(as_text=True)
    assert response.status_code in {200, 400}
    assert "Please correct the highlighted fields." in body
    for name in case.required:
        assert _field_has_error(body, name), name
    db_session.expire_all()
    assert case.stored(db_session, fair) == before


# --------------------------------------------------------------------------- numbers


def _profile_employees(client: FlaskClient, db_session: Session, fair: Fair) -> int | None:
    client.post(_p(fair.supplier, "/profile"),
                data={"name": "ＡＢＣ精工株式会社", "prefecture": "静岡県", "employees": "１２０"})
    db_session.expire_all()
    return db_session.get(Participant, fair.supplier.id).organization.employees


def _registration_employees(client: FlaskClient, db_session: Session, fair: Fair) -> int | None:
    fair.event.phase = Phase.REGISTRATION
    db_session.commit()
    client.post(f"/e/{fair.event.slug}/register", data={
        **CASES[-1].valid, "employees": "１２０"})
    return db_session.scalar(select(Organization.employees)
                             .where(Organization.name == "新星ファクトリー"))


def _availability_max_meetings(client: FlaskClient, db_session: Session,
                               fair: Fair) -> int | None:
    from datetime import date, time

    event_setup.save_day(db_session, fair.event, event_setup.DayPlan(
        date(2027, 2, 17), time(10), time(12)))
    db_session.commit()
    client.post(_p(fair.supplier, "/availability"), data={"max_meetings": "１２０"})
    db_session.expire_all()
    return db_session.get(Participant, fair.supplier.id).max_meetings


@pytest.mark.parametrize(
    "submit", [_profile_employees, _registration_employees, _availability_max_meetings],
    ids=["profile employees", "registration employees", "availability max meetings"],
)
def test_full_width_digits_are_accepted_where_numbers_are_expected(
    client: FlaskClient, db_session: Session, submit, logged_in: User
) -> None:
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    fair.event.default_max_meetings = 200  # availability: 120 is within the cap
    db_session.commit()
    assert submit(client, db_session, fair) == 120


# --------------------------------------------------------------------------- line breaks


def _organization(attribute: str) -> Callable[[Session, Fair], str]:
    def stored(session: Session, fair: Fair) -> str:
        participant = fair.buyer if attribute == "what_we_buy" else fair.supplier
        return getattr(session.get(Participant, participant.id).organization, attribute)
    return stored


def _proposal(attribute: str) -> Callable[[Session, Fair], str]:
    def stored(session: Session, fair: Fair) -> str:
        return session.scalar(select(getattr(Proposal, attribute))
                              .where(Proposal.need_id == fair.need.id)) or ""
    return stored


_SUPPLIER_PROFILE = {"name": "ＡＢＣ精工株式会社", "prefecture": "静岡県"}
_BUYER_PROFILE = {"name": "発注重工株式会社", "prefecture": "愛知県"}
_PROPOSAL = {"offer": "5軸加工で試作します", "level": "3"}

# Every length-limited text area of the participants' forms (and the organizer's on
# their behalf): where it posts, a valid submission, the field, its limit, what is stored.
MULTI_LINE = [
    pytest.param(lambda f: _p(f.supplier, "/profile"), _SUPPLIER_PROFILE, "description",
                 5000, _organization("description"), id="profile description"),
    pytest.param(lambda f: _p(f.supplier, "/profile"), _SUPPLIER_PROFILE, "equipment",
                 5000, _organization("equipment"), id="profile equipment"),
    pytest.param(lambda f: _p(f.supplier, "/profile"), _SUPPLIER_PROFILE, "materials",
                 5000, _organization("materials"), id="profile materials"),
    pytest.param(lambda f: _p(f.supplier, "/profile"), _SUPPLIER_PROFILE, "strengths",
                 5000, _organization("strengths"), id="profile strengths"),
    pytest.param(lambda f: _p(f.buyer, "/profile"), _BUYER_PROFILE, "what_we_buy",
                 5000, _organization("what_we_buy"), id="profile what we buy"),
    pytest.param(lambda f: f"/events/{f.event.id}/participants/{f.supplier.id}/profile",
                 _SUPPLIER_PROFILE, "description", 5000, _organization("description"),
                 id="profile by the organizer"),
    pytest.param(lambda f: _p(f.buyer, "/needs/new"),
                 {"title": "アルミ筐体", "published": "y", "lot_size": ""}, "description",
                 5000, lambda s, f: s.scalars(
                     select(Need.description).where(Need.participant_id == f.buyer.id)
                     .order_by(Need.id.desc())).first(), id="need description"),
    pytest.param(lambda f: _p(f.supplier, f"/buyer-needs/{f.need.id}/apply"), _PROPOSAL,
                 "track_record", 5000, _proposal("track_record"), id="proposal results"),
    pytest.param(lambda f: _p(f.supplier, f"/request/{f.buyer.id}"), {"level": "3"}, "note",
                 preferences.MAX_NOTE_LENGTH, _note, id="request note"),
    pytest.param(lambda f: f"/events/{f.event.id}/preferences/participants/{f.supplier.id}",
                 {"counterpart": "", "level": "3"}, "note", preferences.MAX_NOTE_LENGTH,
                 _note, id="request note by the organizer"),
]


def _typed_lines(length: int) -> str:
    """``length`` characters as a browser counts them (a line break is one), 20 of them
    line breaks, as the browser sends the text: each line break as CRLF."""
    line = (length - 20) // 21
    lines = ["あ" * line] * 20 + ["い" * (length - 20 - 20 * line)]
    return "\r\n".join(lines)


@pytest.mark.parametrize(("url", "valid", "name", "limit", "stored"), MULTI_LINE)
def test_a_line_break_counts_as_one_character_as_on_the_page(
    client: FlaskClient, db_session: Session, logged_in: User, url, valid: dict[str, object],
    name: str, limit: int, stored,
) -> None:
    """The page's counter says a text of many lines fits (a line break is one character);
    the form takes it (the browser sends the break as two, CRLF) and stores it with LF.
    One more character is over the limit, on the page as on the server (QA: "5000 / 5000"
    on the page, then "at most 5000 characters" from the server)."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    data = {**valid, "counterpart": str(fair.buyer.id)} if "counterpart" in valid else valid
    over = _typed_lines(limit + 1)
    response = client.post(url(fair), data={**data, name: over})
    assert response.status_code in {200, 400}
    assert _field_has_error(response.get_data(as_text=True), name)
    at_limit = _typed_lines(limit)
    assert len(at_limit.replace("\r\n", "\n")) == limit and at_limit.count("\r\n") == 20
    response = client.post(url(fair), data={**data, name: at_limit})
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    db_session.expire_all()
    assert stored(db_session, fair) == at_limit.replace("\r\n", "\n")
