"""Accounts from the site: organizers add, change, deactivate and reactivate accounts and
reset passwords; everyone changes their own name, language and password.

What an organizer relies on: a generated password is shown once and kept nowhere in
clear, a deactivated account is logged out at its next click, a new password ends the
other sessions, and the site is never left without an active organizer.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import users
from scheduler.db import make_engine
from scheduler.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from scheduler.models import AuditEntry, Role, User
from tests.conftest import PASSWORD
from tests.races import race
from web.cli import cli

# A page that only a logged-in organizer opens (200), else 302 to the login or 403.
ORGANIZER_PAGE = "/events/new"
STAFF_PAGE = "/account"


def _in_english(client: FlaskClient) -> None:
    """This browser session (and the account's default) in English, so the test reads
    the same whatever the Japanese catalog says."""
    client.post("/language", data={"lang": "en"})


def _login(client: FlaskClient, email: str, password: str = PASSWORD, *, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data)


def _logged_in(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 200


def _shown_password(html: str) -> str:
    found = re.search(r'id="new-password"[^>]*>([^<]+)<', html)
    assert found, html
    return found.group(1).strip()


@pytest.fixture
def second_organizer(db_session: Session) -> User:
    user = users.create_user(
        db_session, email="org2@example.jp", name="副主催 次郎", password=PASSWORD
    )
    db_session.commit()
    return user


@pytest.fixture
def english(client: FlaskClient, logged_in: User) -> User:
    _in_english(client)
    return logged_in


def _audit(db_session: Session, action: str) -> list[AuditEntry]:
    """The audit entries of ``action``, each about an account (as its history lists them)."""
    db_session.expire_all()
    entries = list(
        db_session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )
    assert all(entry.target_type == "User" for entry in entries), entries
    return entries


# --------------------------------------------------------------------------- who may


def test_staff_cannot_open_accounts_but_has_my_account(
    app: Flask, client: FlaskClient, staff: User, organizer: User
) -> None:
    assert _login(client, "staff@example.jp").status_code == 302
    assert client.get("/accounts/").status_code == 403
    assert client.get("/accounts/new").status_code == 403
    assert client.get(f"/accounts/{organizer.id}").status_code == 403
    assert client.post(f"/accounts/{organizer.id}/deactivate").status_code == 403
    assert client.post(f"/accounts/{organizer.id}/reset-password").status_code == 403
    page = client.get("/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/account"' in html and 'href="/accounts/"' not in html


def test_logged_out_visitors_are_sent_to_the_login(client: FlaskClient) -> None:
    for path in ("/account", "/accounts/", "/accounts/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_organizers_see_accounts_in_the_navigation_and_the_list(
    client: FlaskClient, english: User, staff: User
) -> None:
    home = client.get("/").get_data(as_text=True)
    assert 'href="/accounts/"' in home and 'href="/account"' in home
    listing = client.get("/accounts/").get_data(as_text=True)
    for text in ("org@example.jp", "staff@example.jp", "主催 花子", "係員 太郎", "Staff"):
        assert text in listing
    assert f'action="/accounts/{english.id}/deactivate"' not in listing  # not for oneself
    assert f'action="/accounts/{staff.id}/deactivate"' in listing


# --------------------------------------------------------------------------- adding


def test_a_generated_password_is_shown_once_and_kept_nowhere(
    app: Flask,
    client: FlaskClient,
    english: User,
    db_session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        attempt = re.search(r'name="attempt" type="hidden" value="([^"]+)"',
                            client.get("/accounts/new").get_data(as_text=True)).group(1)
        response = client.post(
            "/accounts/new",
            data={
                "name": "ボランティア 一郎",
                "email": "Volunteer1@Example.jp ",
                "role": "staff",
                "locale": "ja",
                "password_choice": "generate",
                "attempt": attempt,
            },
        )
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"]
        html = response.get_data(as_text=True)
        password = _shown_password(html)
        assert len(password) >= users.MIN_PASSWORD_LENGTH
        assert "volunteer1@example.jp" in html and "/auth/login" in html

        # Shown once: no other page shows it again.
        account = db_session.scalar(select(User).where(User.email == "volunteer1@example.jp"))
        assert account is not None and account.role == Role.STAFF and account.active
        for path in ("/accounts/", f"/accounts/{account.id}", "/account"):
            assert password not in client.get(path).get_data(as_text=True)

        # Reloading that page sends the form again: the account exists and is shown,
        # with how to give it a new password, never the password itself.
        again = client.post(
            "/accounts/new",
            data={"name": "ボランティア 一郎", "email": "ｖｏｌｕｎｔｅｅｒ１＠example.jp",
                  "role": "staff", "locale": "ja", "password_choice": "generate",
                  "attempt": attempt},
            follow_redirects=True,
        )
        page = again.get_data(as_text=True)
        assert again.request.path == f"/accounts/{account.id}"
        assert "You added the account of volunteer1@example.jp a moment ago" in page
        assert password not in page and "already exists" not in page
        # A form opened anew with that e-mail is a second try: refused as taken.
        fresh = re.search(r'name="attempt" type="hidden" value="([^"]+)"',
                          client.get("/accounts/new").get_data(as_text=True)).group(1)
        assert fresh != attempt
        second = client.post(
            "/accounts/new",
            data={"name": "ボランティア 二郎", "email": "volunteer1@example.jp",
                  "role": "staff", "locale": "ja", "password_choice": "generate",
                  "attempt": fresh},
        )
        assert second.status_code == 200
        assert "An account for volunteer1@example.jp already exists." in second.get_data(
            as_text=True)

        volunteer = app.test_client()
        assert _login(volunteer, "volunteer1@example.jp", password).status_code == 302
        assert volunteer.get(STAFF_PAGE).status_code == 200
        assert volunteer.get(ORGANIZER_PAGE).status_code == 403

    # Stored only as a hash; in no audit entry and no log line.
    assert password not in account.password_hash
    created = _audit(db_session, "account.create")
    assert len(created) == 1
    assert created[0].user_id == english.id and created[0].target_id == account.id
    assert created[0].details["password"] == "generated"
    for entry in db_session.scalars(select(AuditEntry)):
        assert password not in json.dumps(entry.details, ensure_ascii=False) + entry.reason
    assert password not in caplog.text
    assert "Set-Cookie" not in response.headers or all(
        password not in cookie for cookie in response.headers.getlist("Set-Cookie")
    )


def test_an_organizer_may_type_the_password(
    app: Flask, client: FlaskClient, english: User, db_session: Session
) -> None:
    response = client.post(
        "/accounts/new",
        data={
            "name": "副主催 三郎",
            "email": "org3@example.jp",
            "role": "organizer",
            "locale": "en",
            "password_choice": "typed",
            "password": "typed-by-the-organizer",
            "confirm_password": "typed-by-the-organizer",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/accounts/")
    account = db_session.scalar(select(User).where(User.email == "org3@example.jp"))
    assert account.role == Role.ORGANIZER and account.locale == "en"
    assert _audit(db_session, "account.create")[0].details["password"] == "typed"
    other = app.test_client()
    assert _login(other, "org3@example.jp", "typed-by-the-organizer").status_code == 302
    assert other.get("/accounts/").status_code == 200


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "Type the password, or choose to have one generated."),
        ("short", "short", "The password must have at least 8 characters."),
        ("long enough one", "long enough two", "The two passwords are not the same."),
        # QA: eight spaces made an account the login form could never let in, and
        # the passwords tried first against any site were accepted.
        (" " * 8, " " * 8, "The password must have at least 8 characters."),
        ("  abc  de  ", "  abc  de  ", "The password must have at least 8 characters."),
        ("12345678", "12345678", "among the first ones anybody tries"),
        ("Password", "Password", "among the first ones anybody tries"),
    ],
)
def test_a_typed_password_must_be_usable(
    client: FlaskClient, english: User, db_session: Session, password, confirm, message
) -> None:
    response = client.post(
        "/accounts/new",
        data={
            "name": "係員 四郎",
            "email": "four@example.jp",
            "role": "staff",
            "locale": "ja",
            "password_choice": "typed",
            "password": password,
            "confirm_password": confirm,
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="係員 四郎"' in html and 'value="four@example.jp"' in html
    assert db_session.scalar(select(User).where(User.email == "four@example.jp")) is None


def test_a_duplicate_email_is_refused_and_the_form_keeps_what_was_typed(
    client: FlaskClient, english: User, staff: User, db_session: Session
) -> None:
    response = client.post(
        "/accounts/new",
        data={
            "name": "別人 五郎",
            "email": " STAFF@Example.JP",
            "role": "organizer",
            "locale": "en",
            "password_choice": "generate",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "An account for staff@example.jp already exists." in html
    assert 'value="別人 五郎"' in html and "STAFF@Example.JP" in html
    assert re.search(r'<option selected value="organizer">|value="organizer" selected', html)
    assert 'id="new-password"' not in html
    db_session.expire_all()
    assert len(db_session.scalars(select(User)).all()) == 2
    assert db_session.get(User, staff.id).name == "係員 太郎"
    assert _audit(db_session, "account.create") == []


def test_editing_an_account_to_anothers_email_is_refused(
    client: FlaskClient, english: User, staff: User, second_organizer: User, db_session: Session
) -> None:
    response = client.post(
        f"/accounts/{staff.id}",
        data={
            "name": "係員 太郎 (受付)",
            "email": "Org2@example.jp",
            "role": "staff",
            "locale": "ja",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "An account for org2@example.jp already exists." in html
    assert 'value="係員 太郎 (受付)"' in html
    db_session.expire_all()
    assert db_session.get(User, staff.id).email == "staff@example.jp"


def test_an_organizer_changes_details_and_role_and_it_is_recorded(
    app: Flask, client: FlaskClient, english: User, staff: User, db_session: Session
) -> None:
    staff_client = app.test_client()
    _login(staff_client, "staff@example.jp")
    assert staff_client.get("/accounts/").status_code == 403
    response = client.post(
        f"/accounts/{staff.id}",
        data={"name": "係員 太郎", "email": "taro@example.jp", "role": "organizer", "locale": "en"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    changed = db_session.get(User, staff.id)
    assert (changed.email, changed.role, changed.locale) == ("taro@example.jp", "organizer", "en")
    # The new role counts from the next click, in the session already open.
    assert staff_client.get("/accounts/").status_code == 200
    [entry] = _audit(db_session, "account.update")
    assert entry.user_id == english.id
    assert entry.details["changes"] == {
        "email": ["staff@example.jp", "taro@example.jp"],
        "role": ["staff", "organizer"],
        "locale": ["ja", "en"],
    }
    history = client.get(f"/accounts/{staff.id}").get_data(as_text=True)
    assert "Details changed" in history and "taro@example.jp" in history


# --------------------------------------------------------------------------- deactivating


def test_a_deactivated_account_is_logged_out_at_its_next_request_and_cannot_log_in(
    app: Flask, client: FlaskClient, english: User, staff: User, db_session: Session
) -> None:
    volunteer = app.test_client()
    assert _login(volunteer, "staff@example.jp", remember=True).status_code == 302
    assert volunteer.get(STAFF_PAGE).status_code == 200

    response = client.post(f"/accounts/{staff.id}/deactivate", data={"next": "/accounts/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/accounts/")
    assert "was deactivated" in client.get("/accounts/").get_data(as_text=True)

    # Neither the open session nor the "keep me logged in" cookie opens anything now.
    refused = volunteer.get(STAFF_PAGE)
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    volunteer.delete_cookie("session", domain="localhost")
    assert volunteer.get(STAFF_PAGE).status_code == 302
    assert _login(volunteer, "staff@example.jp").status_code == 200  # the form again
    assert volunteer.get(STAFF_PAGE).status_code == 302
    [entry] = _audit(db_session, "account.deactivate")
    assert entry.user_id == english.id and entry.target_id == staff.id


def test_reactivating_gives_a_new_password_and_old_sessions_stay_ended(
    app: Flask, client: FlaskClient, english: User, staff: User, db_session: Session
) -> None:
    volunteer = app.test_client()
    _login(volunteer, "staff@example.jp", remember=True)
    client.post(f"/accounts/{staff.id}/deactivate")
    page = client.get(f"/accounts/{staff.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)
    response = client.post(f"/accounts/{staff.id}/reactivate", data={"version": version})
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    password = _shown_password(response.get_data(as_text=True))
    db_session.expire_all()
    assert db_session.get(User, staff.id).active
    # Last year's phone does not come back to life with the account.
    assert volunteer.get(STAFF_PAGE).status_code == 302
    assert _login(app.test_client(), "staff@example.jp").status_code == 200
    fresh = app.test_client()
    assert _login(fresh, "staff@example.jp", password).status_code == 302
    assert fresh.get(STAFF_PAGE).status_code == 200
    assert _audit(db_session, "account.reactivate")
    # The same form sent twice (a double click) changes nothing more, and says that the
    # password shown to the first click was new.
    again = client.post(
        f"/accounts/{staff.id}/reactivate",
        data={"version": version},
        headers={"Referer": f"/accounts/{staff.id}"},
    )
    assert again.status_code == 302
    assert "was changed a moment ago" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert _login(app.test_client(), "staff@example.jp", password).status_code == 302


def test_an_organizer_cannot_deactivate_or_demote_themselves(
    client: FlaskClient, english: User, second_organizer: User, db_session: Session
) -> None:
    response = client.post(
        f"/accounts/{english.id}/deactivate", headers={"Referer": f"/accounts/{english.id}"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot deactivate your own account; another organizer can." in page

    # The role field is disabled on one's own page; a forged one changes nothing either.
    own_page = client.get(f"/accounts/{english.id}").get_data(as_text=True)
    assert re.search(
        r'<select[^>]*disabled[^>]*name="role"|<select[^>]*name="role"[^>]*disabled', own_page
    )
    response = client.post(
        f"/accounts/{english.id}",
        data={"name": "主催 花子", "email": "org@example.jp", "role": "staff", "locale": "en"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    me = db_session.get(User, english.id)
    assert me.active and me.role == Role.ORGANIZER
    assert client.get("/accounts/").status_code == 200
    with pytest.raises(ValidationFailed, match="your own role"):
        users.update_account(
            db_session,
            me,
            users.AccountDetails(email=me.email, name=me.name, role="staff", locale="ja"),
            actor=me,
        )
    db_session.rollback()


def test_the_last_active_organizer_can_never_be_deactivated_or_demoted(
    db_session: Session, organizer: User, second_organizer: User, staff: User
) -> None:
    # With another organizer it is allowed (here from the command line: no actor) ...
    users.update_account(
        db_session,
        second_organizer,
        users.AccountDetails(
            email=second_organizer.email, name=second_organizer.name, role="staff", locale="ja"
        ),
        actor=None,
    )
    db_session.commit()
    # ... but the one left is not to be taken away, by anyone.
    with pytest.raises(Conflict, match="last active organizer"):
        users.deactivate_account(db_session, organizer, actor=None)
    db_session.rollback()
    with pytest.raises(Conflict, match="last active organizer"):
        users.update_account(
            db_session,
            organizer,
            users.AccountDetails(
                email=organizer.email, name=organizer.name, role="staff", locale="ja"
            ),
            actor=None,
        )
    db_session.rollback()
    db_session.expire_all()
    assert db_session.get(User, organizer.id).active
    assert db_session.get(User, organizer.id).role == Role.ORGANIZER
    # A deactivated organizer does not count as one.
    users.update_account(
        db_session,
        second_organizer,
        users.AccountDetails(
            email=second_organizer.email,
            name=second_organizer.name,
            role="organizer",
            locale="ja",
        ),
        actor=organizer,
    )
    users.deactivate_account(db_session, second_organizer, actor=organizer)
    db_session.commit()
    with pytest.raises(Conflict, match="last active organizer"):
        users.deactivate_account(db_session, organizer, actor=None)
    db_session.rollback()


def test_two_organizers_deactivating_each_other_at_once_leave_one(
    database_url: str,
    db_session: Session,
    organizer: User,
    second_organizer: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = users._keeps_an_organizer

    def slow_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = checked(*args, **kwargs)
        time.sleep(0.3)  # both have surely checked before either writes, unless locked
        return result

    monkeypatch.setattr(users, "_keeps_an_organizer", slow_check)
    engine = make_engine(database_url, pool_size=3)

    def deactivate(actor_id: int, target_id: int) -> Callable[[Session], object]:
        def job(session: Session) -> object:
            actor, target = session.get(User, actor_id), session.get(User, target_id)
            return users.deactivate_account(session, target, actor=actor)

        return job

    failures = race(
        sessionmaker(engine, expire_on_commit=False),
        [
            deactivate(organizer.id, second_organizer.id),
            deactivate(second_organizer.id, organizer.id),
        ],
    )
    engine.dispose()
    assert len(failures) == 1 and isinstance(failures[0], DomainError), failures
    db_session.expire_all()
    active = db_session.scalars(
        select(User).where(User.role == Role.ORGANIZER, User.active.is_(True))
    ).all()
    assert len(active) == 1


def test_a_deactivated_organizer_cannot_act_through_a_page_opened_before(
    db_session: Session, organizer: User, second_organizer: User, staff: User
) -> None:
    users.deactivate_account(db_session, second_organizer, actor=organizer)
    db_session.commit()
    with pytest.raises(PermissionDenied):
        users.deactivate_account(db_session, staff, actor=second_organizer)
    db_session.rollback()


# --------------------------------------------------------------------------- passwords


def test_a_reset_password_works_and_the_old_one_does_not(
    app: Flask,
    client: FlaskClient,
    english: User,
    staff: User,
    db_session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    volunteer = app.test_client()
    _login(volunteer, "staff@example.jp")
    page = client.get(f"/accounts/{staff.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)

    with caplog.at_level(logging.DEBUG):
        response = client.post(f"/accounts/{staff.id}/reset-password", data={"version": version})
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    password = _shown_password(response.get_data(as_text=True))
    assert password not in caplog.text

    assert volunteer.get(STAFF_PAGE).status_code == 302  # logged out there
    assert _login(app.test_client(), "staff@example.jp", PASSWORD).status_code == 200
    fresh = app.test_client()
    assert _login(fresh, "staff@example.jp", password).status_code == 302
    assert fresh.get(STAFF_PAGE).status_code == 200

    # The same form sent again (a reload) does not replace the password just handed over.
    again = client.post(
        f"/accounts/{staff.id}/reset-password",
        data={"version": version},
        headers={"Referer": f"/accounts/{staff.id}"},
    )
    assert again.status_code == 302
    assert "was changed a moment ago" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert _login(app.test_client(), "staff@example.jp", password).status_code == 302
    [entry] = _audit(db_session, "account.password_reset")
    assert entry.user_id == english.id and entry.target_id == staff.id
    assert password not in json.dumps(entry.details) + entry.reason


def test_organizers_reset_only_others_passwords(
    client: FlaskClient, english: User, db_session: Session
) -> None:
    response = client.post(
        f"/accounts/{english.id}/reset-password", headers={"Referer": "/accounts/"}
    )
    assert response.status_code == 302
    assert "Change your own password in My account" in client.get("/accounts/").get_data(
        as_text=True
    )
    assert _login(client, "org@example.jp").status_code == 302  # unchanged


def test_changing_ones_password_keeps_this_session_and_ends_the_others(
    app: Flask, client: FlaskClient, organizer: User, db_session: Session
) -> None:
    assert _login(client, "org@example.jp", remember=True).status_code == 302
    _in_english(client)
    laptop = app.test_client()
    assert _login(laptop, "org@example.jp", remember=True).status_code == 302
    assert laptop.get(ORGANIZER_PAGE).status_code == 200

    response = client.post(
        "/account/password",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": "a much better password",
            "password-confirm_password": "a much better password",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    page = client.get("/account").get_data(as_text=True)
    assert "Your password was changed." in page
    assert client.get(ORGANIZER_PAGE).status_code == 200
    # "Keep me logged in" is renewed here: without the session cookie, still logged in.
    client.delete_cookie("session", domain="localhost")
    assert client.get(ORGANIZER_PAGE).status_code == 200

    ended = laptop.get(ORGANIZER_PAGE)
    assert ended.status_code == 302 and "/auth/login" in ended.headers["Location"]
    assert _login(app.test_client(), "org@example.jp", PASSWORD).status_code == 200
    assert _login(app.test_client(), "org@example.jp", "a much better password").status_code == 302
    [entry] = _audit(db_session, "account.password_change")
    assert entry.user_id == organizer.id and entry.target_id == organizer.id
    assert "a much better password" not in json.dumps(entry.details)
    history = client.get(f"/accounts/{organizer.id}").get_data(as_text=True)
    assert "Password changed by its owner" in history


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        (
            "not my password",
            "a much better password",
            "a much better password",
            "The current password is not right.",
        ),
        (PASSWORD, "short", "short", "The password must have at least 8 characters."),
        (
            PASSWORD,
            "a much better password",
            "a much better passwort",
            "The two new passwords are not the same.",
        ),
        (PASSWORD, PASSWORD, PASSWORD, "The new password must differ from the current one."),
    ],
)
def test_a_password_change_that_cannot_be_made_says_why(
    client: FlaskClient, english: User, db_session: Session, current, new, again, message
) -> None:
    response = client.post(
        "/account/password",
        data={
            "password-current_password": current,
            "password-new_password": new,
            "password-confirm_password": again,
        },
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert client.get(ORGANIZER_PAGE).status_code == 200  # still logged in
    db_session.expire_all()
    assert users.authenticate(db_session, "org@example.jp", PASSWORD) is not None


def test_guessing_the_current_password_counts_as_failed_logins(
    app: Flask, client: FlaskClient, english: User
) -> None:
    limit = int(app.config["LOGIN_FAILURE_LIMIT"].split("/")[0])
    data = {
        "password-current_password": "a wrong guess",
        "password-new_password": "a much better password",
        "password-confirm_password": "a much better password",
    }
    for _ in range(limit):
        assert client.post("/account/password", data=data).status_code == 200
    assert client.post("/account/password", data=data).status_code == 429


# --------------------------------------------------------------------------- my account


def test_my_account_changes_name_and_language(
    client: FlaskClient, staff: User, db_session: Session
) -> None:
    _login(client, "staff@example.jp")
    page = client.get("/account").get_data(as_text=True)
    assert "staff@example.jp" in page and 'value="係員 太郎"' in page
    response = client.post("/account", data={"profile-name": "受付 太郎", "profile-locale": "en"})
    assert response.status_code == 302
    db_session.expire_all()
    me = db_session.get(User, staff.id)
    assert (me.name, me.locale) == ("受付 太郎", "en")
    page = client.get("/account")
    assert '<html lang="en">' in page.get_data(as_text=True)  # from this page on
    assert _audit(db_session, "account.profile")[0].user_id == staff.id

    empty = client.post("/account", data={"profile-name": "  ", "profile-locale": "en"})
    assert empty.status_code == 200 and "This field is required." in empty.get_data(as_text=True)


def test_account_changes_need_the_csrf_token(
    csrf_app: Flask, db_session: Session, organizer: User, staff: User
) -> None:
    client = csrf_app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post(
        "/auth/login",
        data={"email": "org@example.jp", "password": PASSWORD, "csrf_token": token},
    )
    assert client.get("/accounts/").status_code == 200
    assert client.post(f"/accounts/{staff.id}/deactivate").status_code == 400
    db_session.expire_all()
    assert db_session.get(User, staff.id).active


def test_create_user_on_the_command_line_refuses_an_email_in_other_letters(
    app: Flask, db_session: Session
) -> None:
    runner = app.test_cli_runner()
    args = ["create-user", "Chief@Pref.example.jp", "--password", "long enough pw"]
    assert runner.invoke(cli, [*args, "--role", "staff"]).exit_code == 0
    assert db_session.scalar(select(User).where(User.email == "chief@pref.example.jp"))
    again = runner.invoke(cli, ["create-user", "chief@PREF.example.jp", "--password", "x" * 10])
    assert again.exit_code == 1 and "already exists" in again.output


@pytest.mark.parametrize("version", [None, "", "é", "0" * 16])
def test_a_reset_without_the_pages_version_is_refused_and_nothing_changes(
    client: FlaskClient, english: User, staff: User, db_session: Session, version: str | None
) -> None:
    """Only the account page's form resets (it carries the password's version): a post
    without it, or with a wrong or non-ASCII one, says so instead of a 500 or a reset."""
    before = db_session.get(User, staff.id).password_hash
    data = {} if version is None else {"version": version}
    response = client.post(
        f"/accounts/{staff.id}/reset-password",
        data=data,
        headers={"Referer": f"/accounts/{staff.id}"},
    )
    assert response.status_code == 302
    assert "was changed a moment ago" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    db_session.expire_all()
    assert db_session.get(User, staff.id).password_hash == before
