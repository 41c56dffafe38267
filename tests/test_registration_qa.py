"""QA of the self-registration pages: the organizer's approval queue stays readable with long
entries, the public form speaks the reader's language and helps autofill, and the thanks
page repeats the e-mail address the link will go to."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import registration
from scheduler.models import Organization, Participant, User
from tests.participant_fair import Fair, add_company, make_fair, read_in_english

FORM = {
    "company": "株式会社　新星ファクトリー", "role": "supplier", "prefecture": "静岡県",
    "city": "沼津市", "contact_name": "新星 一郎", "email": "ichiro@shinsei.example.jp",
    "phone": "055-000-0000",
}


@pytest.fixture
def fair(db_session: Session) -> Fair:
    fair = make_fair(db_session)
    db_session.commit()
    return fair


def _tag(page: str, pattern: str) -> str:
    """The one opening tag matching ``pattern``."""
    found = re.findall(r"<(?:input|select)\b[^>]*" + pattern + r"[^>]*>", page)
    assert len(found) == 1, found
    return found[0]


def test_queue_keeps_long_entries_inside_their_columns(
    client: FlaskClient, db_session: Session, fair: Fair, logged_in: User
) -> None:
    department = "ProcurementDepartment" * 9 + "営業部"  # 192 characters, no space
    registration.self_register(db_session, fair.event, registration.RegistrationData(
        company="新星ファクトリー", role="supplier", contact_name="新星 一郎",
        email="ichiro@shinsei.example.jp", department=department,
    ))
    # A company already in the directory (from another fair): the queue offers the
    # "same company" checkbox, whose label is long.
    earlier = make_fair(db_session, slug="earlier")
    add_company(db_session, earlier.event, "既存工業株式会社", "supplier", email="k@example.jp")
    registration.self_register(db_session, fair.event, registration.RegistrationData(
        company="既存工業株式会社", role="supplier", contact_name="別 二郎",
        email="jiro@example.jp",
    ))
    db_session.commit()
    page = client.get(f"/events/{fair.event.id}/registrations").get_data(as_text=True)
    # Set column widths: a long word or department no longer widens its column and
    # squeezes the others; long text wraps inside the cell.
    assert '<table class="data stack registration-queue">' in page
    assert page.count('<col class="col-role">') == 1
    style = page.split("<style>")[1].split("</style>")[0]
    assert "table-layout: fixed" in style and "overflow-wrap: anywhere" in style
    # The role on one line; a long department cut to three lines, all of it in its title.
    assert "role-label { white-space: nowrap; }" in style
    assert "-webkit-line-clamp: 3" in style
    assert f'<small class="department" title="{department}">{department}</small>' in page
    assert '<span class="role-label">' in page
    # The checkbox, the reason field and the buttons wrap inside the actions cell.
    assert re.search(r"td\.actions > form \{ display: flex; flex-wrap: wrap;[^}]*"
                     r"white-space: normal; \}", style)
    assert page.count('name="company_edit"') == 1
    assert re.search(r"input\[name=reason\] \{ flex: 1 1 9rem; min-width: 0;", style)
    # On a phone the rows are stacked cards: the column widths are dropped.
    assert re.search(r"@media \(max-width: 640px\) \{[^@]*table-layout: auto; min-width: 0;"
                     r"[^@]*colgroup \{ display: none; \}", style)


def test_english_form_names_prefectures_in_english_and_stores_japanese(
    client: FlaskClient, db_session: Session, fair: Fair
) -> None:
    page = client.get(f"/e/{fair.event.slug}/register").get_data(as_text=True)
    assert '<option value="静岡県">静岡県</option>' in page
    read_in_english(client)
    page = client.get(f"/e/{fair.event.slug}/register").get_data(as_text=True)
    assert '<option value="静岡県">Shizuoka</option>' in page
    assert '<option value="東京都">Tokyo</option>' in page
    response = client.post(f"/e/{fair.event.slug}/register", data=FORM)
    assert response.status_code == 302
    organization = db_session.scalars(
        select(Organization).where(Organization.name == FORM["company"])
    ).one()
    assert organization.prefecture == "静岡県"


def test_form_gives_autocomplete_and_keyboard_hints(client: FlaskClient, fair: Fair) -> None:
    page = client.get(f"/e/{fair.event.slug}/register").get_data(as_text=True)
    assert 'autocomplete="organization"' in _tag(page, 'name="company"')
    assert 'autocomplete="name"' in _tag(page, 'name="contact_name"')
    email = _tag(page, 'name="email"')
    assert 'autocomplete="email"' in email and 'inputmode="email"' in email
    phone = _tag(page, 'name="phone"')
    assert 'autocomplete="tel"' in phone and 'inputmode="tel"' in phone
    assert 'autocomplete="address-level1"' in _tag(page, 'name="prefecture"')
    assert 'autocomplete="address-level2"' in _tag(page, 'name="city"')
    website = _tag(page, 'name="website"')
    assert 'autocomplete="url"' in website and 'inputmode="url"' in website
    # The kana fields have no autofill token that fits: none is claimed.
    assert "autocomplete" not in _tag(page, 'name="company_kana"')


def test_thanks_page_repeats_the_address_once(
    client: FlaskClient, db_session: Session, fair: Fair
) -> None:
    read_in_english(client)
    response = client.post(f"/e/{fair.event.slug}/register",
                           data={**FORM, "email": "Ichiro@Shinsei.example.jp"})
    assert response.status_code == 302
    assert "shinsei" not in response.location.lower()  # not in the URL
    page = client.get(response.location).get_data(as_text=True)
    shown = page.split('data-test="registered-email"')[1].split("</p>")[0]
    assert "Your link will be sent to this address:" in shown
    assert "ichiro@shinsei.example.jp" in shown  # as stored: what the link goes to
    assert "If this address is wrong, contact the organizer: fair@example.jp" in page
    assert db_session.scalars(select(Participant).where(
        Participant.registered_via == "self")).one()
    # Shown once: a reload, or the next company at a shared computer, does not see it.
    again = client.get(response.location).get_data(as_text=True)
    assert "ichiro@shinsei.example.jp" not in again and "registered-email" not in again
    assert "organizer will check" in again


def test_thanks_page_of_another_event_does_not_show_the_address(
    client: FlaskClient, db_session: Session, fair: Fair
) -> None:
    other = make_fair(db_session, slug="other")
    db_session.commit()
    client.post(f"/e/{fair.event.slug}/register", data=FORM)
    page = client.get(f"/e/{other.event.slug}/register/thanks").get_data(as_text=True)
    assert "ichiro@shinsei.example.jp" not in page
