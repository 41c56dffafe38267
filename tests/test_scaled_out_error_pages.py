"""The database going away while a logged-in user browses: the site's own error page,
as for anyone not logged in, one traceback in the log per request, never the server's
bare English "Internal Server Error" (which it gave when the error page itself failed
asking the database who is logged in)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from scheduler.models import User

DOWN = "server closed the connection unexpectedly"


@pytest.fixture
def error_pages(app: Flask) -> Flask:
    app.config["TEST_ERROR_PAGES"] = True
    return app


def _database_down(monkeypatch: pytest.MonkeyPatch, *, after: int = 0) -> None:
    """Every query of every session fails from the ``after``-th one on."""
    real = Session._execute_internal
    calls = {"n": 0}

    def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > after:
            raise OperationalError("SELECT", {}, Exception(DOWN))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Session, "_execute_internal", execute)


def _tracebacks(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for record in caplog.records if record.exc_info)


def test_a_logged_in_user_gets_the_styled_error_page_when_the_database_is_gone(
    error_pages: Flask,
    client: FlaskClient,
    logged_in: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _database_down(monkeypatch)
    caplog.set_level(logging.INFO)
    response = client.get("/account")  # a page that needs a login
    page = response.get_data(as_text=True)
    assert response.status_code == 500, "the error page, not a redirect to the login form"
    assert "error-page" in page and 'href="/"' in page
    assert logged_in.name not in page  # shown as to someone not logged in
    assert _tracebacks(caplog) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not load the logged-in user" in warnings[0]
    assert DOWN in warnings[0]


def test_other_error_pages_of_a_logged_in_user_need_no_database_either(
    error_pages: Flask,
    client: FlaskClient,
    logged_in: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _database_down(monkeypatch)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "error-page" in response.get_data(as_text=True)
    assert _tracebacks(caplog) == 0


def test_the_database_going_away_after_the_user_was_read_still_gives_the_error_page(
    error_pages: Flask,
    client: FlaskClient,
    logged_in: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The user is read, then the page's own query fails: the rollback expires the
    account, and the menu (its name, its role) cannot be read again."""
    _database_down(monkeypatch, after=1)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "error-page" in page and logged_in.name not in page
    assert _tracebacks(caplog) == 1


def test_when_no_error_page_can_be_made_a_plain_one_in_both_languages_is_served(
    error_pages: Flask,
    client: FlaskClient,
    logged_in: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import web.errors

    def broken_template(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("templates are unreadable")

    _database_down(monkeypatch)
    monkeypatch.setattr(web.errors, "render_template", broken_template)
    response = client.get("/account")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "システムでエラーが発生したため" in page and "Something went wrong on our side" in page
    assert "Internal Server Error" not in page
    assert _tracebacks(caplog) == 1
    assert any(
        "could not show the error page" in r.getMessage() and "templates are unreadable"
        in r.getMessage() for r in caplog.records
    )


def test_a_database_hiccup_never_turns_the_session_into_the_remembered_account(
    error_pages: Flask, client: FlaskClient, auth, organizer: User, staff: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shared tablet: the organizer logged in with "keep me logged in", later a staff
    member logged in over it. One failed user query must not make the next requests the
    organizer's (review: Flask-Login wrote the remember cookie's user into the session)."""
    from tests.conftest import PASSWORD

    assert client.post("/auth/login", data={"email": "org@example.jp", "password": PASSWORD,
                                            "remember": "y"}).status_code == 302
    assert client.post("/auth/login", data={"email": "staff@example.jp",
                                            "password": PASSWORD}).status_code == 302
    # Logging in over another account dropped that account's remember cookie.
    assert client.get_cookie("remember_token") is None
    assert "staff@example.jp" in client.get("/account").get_data(as_text=True)

    _database_down(monkeypatch)
    assert client.get("/account").status_code == 500
    assert client.get("/").status_code == 500  # the home page too: not the login form
    monkeypatch.undo()
    page = client.get("/account").get_data(as_text=True)
    assert "staff@example.jp" in page and "org@example.jp" not in page


def test_after_a_hiccup_the_remember_cookie_is_not_written_into_the_session(
    error_pages: Flask, client: FlaskClient, organizer: User, staff: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same with the two cookies disagreeing anyway (an older version, another tab)."""
    from tests.conftest import PASSWORD

    client.post("/auth/login", data={"email": "org@example.jp", "password": PASSWORD,
                                     "remember": "y"})
    remembered = client.get_cookie("remember_token").value
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "staff@example.jp", "password": PASSWORD})
    client.set_cookie("remember_token", remembered)
    _database_down(monkeypatch)
    client.get("/account")
    monkeypatch.undo()
    page = client.get("/account").get_data(as_text=True)
    assert "staff@example.jp" in page and "org@example.jp" not in page
