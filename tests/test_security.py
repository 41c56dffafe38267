"""Headers, logins and sessions: what protects organizers' accounts and participants' links."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import users
from scheduler.models import User
from tests.conftest import PASSWORD
from tests.published_fair import busiest_participant, published_fair
from web import create_app
from web.database import get_engine


def test_pages_cannot_be_framed_and_do_not_leak_their_address(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_guessing_a_password_is_refused_after_the_limit(
    app: Flask, client: FlaskClient, organizer: User
) -> None:
    limit = int(app.config["LOGIN_FAILURE_LIMIT"].split("/")[0])
    for _ in range(limit):
        wrong = client.post(
            "/auth/login",
            data={"email": "org@example.jp", "password": "x" * 12},
            headers={"Accept-Language": "en"},
        )
        assert wrong.status_code == 200
        assert "The e-mail or the password is not right." in wrong.get_data(as_text=True)
    # Even the right password now waits: the guesser cannot tell when it hit.
    refused = client.post("/auth/login", data={"email": "ORG@example.jp", "password": PASSWORD})
    assert refused.status_code == 429
    # Another account at the same address, and the same account elsewhere, are not held.
    other = client.post(
        "/auth/login",
        data={"email": "org@example.jp", "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert other.status_code == 302


def test_unknown_accounts_cost_a_password_check_too(
    db_session: Session, organizer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash", lambda h, p: checked.append(p) or real(h, p))
    assert users.authenticate(db_session, "nobody@example.jp", "guess-guess") is None
    assert users.authenticate(db_session, "org@example.jp", "guess-guess") is None
    # Both answers took one scrypt check: timing tells no one which accounts exist.
    assert checked == ["guess-guess", "guess-guess"]


def test_a_new_password_ends_the_sessions_issued_before_it(
    client: FlaskClient, db_session: Session, organizer: User
) -> None:
    login = client.post(
        "/auth/login", data={"email": "org@example.jp", "password": PASSWORD, "remember": "y"}
    )
    assert login.status_code == 302
    assert client.get("/events/new").status_code == 200
    users.set_password(organizer, "a-brand-new-password")
    db_session.commit()
    # The copied cookies (session and "keep me logged in") no longer open anything.
    response = client.get("/events/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert (
        client.post(
            "/auth/login", data={"email": "org@example.jp", "password": "a-brand-new-password"}
        ).status_code
        == 302
    )
    assert client.get("/events/new").status_code == 200


def test_remember_cookie_is_lax_and_lasts_a_month(client: FlaskClient, organizer: User) -> None:
    response = client.post(
        "/auth/login", data={"email": "org@example.jp", "password": PASSWORD, "remember": "y"}
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember"))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_secret_links_are_masked_in_the_error_log(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    from web import errors

    app.config["TEST_ERROR_PAGES"] = True
    with app.test_request_context("/p/SECRET-TOKEN-1234567890abcdef/schedule"):
        assert errors.redacted_path() == "/p/<secret>/schedule"
    with app.test_request_context("/cal/events/2/abcdef0123456789.ics"):
        assert errors.redacted_path() == "/cal/<secret>"
    with app.test_request_context("/events/2/participants"):
        assert errors.redacted_path() == "/events/2/participants"


def test_behind_a_proxy_the_clients_own_address_counts(database_url: str) -> None:
    application = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url, "PROXY_COUNT": 1}
    )
    try:
        seen: list[str | None] = []

        @application.get("/_whoami")
        def whoami() -> str:
            from flask import request

            seen.append(request.remote_addr)
            return "ok"

        application.test_client().get(
            "/_whoami",
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_overrides={"REMOTE_ADDR": "10.0.0.1"},
        )
        assert seen == ["203.0.113.9"]
    finally:
        get_engine(application).dispose()


def test_a_bad_proxy_count_is_a_clear_start_up_error(database_url: str) -> None:
    with pytest.raises(SystemExit, match="PROXY_COUNT must be a whole number"):
        create_app(
            {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url, "PROXY_COUNT": "two"}
        )


def test_error_log_names_no_secret(app: Flask, client: FlaskClient, caplog) -> None:
    app.config["TEST_ERROR_PAGES"] = True

    @app.get("/p/<token>/_boom")
    def boom(token: str) -> str:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        response = client.get("/p/SECRET-TOKEN-1234567890abcdef/_boom")
    assert response.status_code == 500
    assert "SECRET-TOKEN" not in caplog.text and "/p/<secret>/_boom" in caplog.text


def test_links_that_leave_the_site_are_built_on_the_public_url(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """A schedule published from http://localhost must not send everyone localhost links."""
    fair = published_fair(db_session)
    participant = busiest_participant(db_session, fair)
    page = client.get(f"/p/{participant.access_token}/schedule").get_data(as_text=True)
    assert f"webcal://localhost/cal/{participant.feed_token}.ics" in page
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    page = client.get(f"/p/{participant.access_token}/schedule").get_data(as_text=True)
    assert f"webcal://fair.example.jp/cal/{participant.feed_token}.ics" in page
    assert "localhost" not in page
    assert f'href="/p/{participant.access_token}/' in page  # the site's own links stay relative


@pytest.mark.parametrize("bad", ["fair.example.jp", "https://fair.example.jp/matchfair", "ftp://x"])
def test_a_public_url_that_is_not_an_origin_is_a_clear_start_up_error(
    database_url: str, bad: str
) -> None:
    with pytest.raises(SystemExit, match="PUBLIC_URL must be the site's address"):
        create_app(
            {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url, "PUBLIC_URL": bad}
        )


def test_a_pasted_email_with_spaces_around_it_logs_in(auth, organizer: User) -> None:
    response = auth.login(email="  Org@example.jp\n")
    assert response.status_code == 302, response.get_data(as_text=True)


def test_an_email_typed_in_full_width_logs_in(auth, organizer: User) -> None:
    """A Japanese keyboard left in full-width mode types ｏｒｇ＠ｅｘａｍｐｌｅ．ｊｐ."""
    response = auth.login(email="ｏｒｇ＠ｅｘａｍｐｌｅ．ｊｐ")
    assert response.status_code == 302, response.get_data(as_text=True)
