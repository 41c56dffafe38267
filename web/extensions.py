"""Flask extensions, unbound until ``init_app``."""

from __future__ import annotations

import contextlib
import hmac
import logging
from pathlib import Path

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf import CSRFProtect
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from scheduler.models import User
from web.config import first_line

log = logging.getLogger(__name__)

#: Where a request keeps the database error that kept its user from loading.
USER_LOAD_ERROR = "user_load_error"


class _LoginManager(LoginManager):
    def unauthorized(self):  # type: ignore[no-untyped-def]
        # A logged-in user whose account could not be read (the database away) is not
        # sent to the login form: the page fails as it would have, with the error page.
        error = g.get(USER_LOAD_ERROR)
        if error is not None:
            raise error
        return super().unauthorized()

    def _load_user_from_remember_cookie(self, cookie):  # type: ignore[no-untyped-def]
        # After the session's user failed to load (the database away), Flask-Login would
        # try the "keep me logged in" cookie and first write its user into the session:
        # on a shared tablet where someone else logged in since, a database hiccup would
        # make the tablet the cookie's account from the next request on.
        if g.get(USER_LOAD_ERROR) is not None:
            return None
        return super()._load_user_from_remember_cookie(cookie)


login_manager = _LoginManager()
csrf = CSRFProtect()
babel = Babel()
# The app's message catalogs (make translations writes them).
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The language: this session's (chosen with the switch, or the account's when the
    session began), else the browser's."""
    languages = babel_languages()
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        # The account's language is read once per browser session and kept there: a
        # shared staff account switched to English on one tablet must not switch the
        # others in the middle of their work (the switch saves the account's default
        # for the next sessions).
        session["lang"] = current_user.locale
        return current_user.locale
    return request.accept_languages.best_match(languages) or languages[0]


def babel_languages() -> list[str]:
    from flask import current_app

    return list(current_app.config["LANGUAGES"])


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    from web.database import get_session

    number, _, fingerprint = user_id.partition(".")
    if not (number.isascii() and number.isdigit()) or len(number) > 18:
        return None
    if g.get(USER_LOAD_ERROR) is not None:
        return None  # tried once in this request (Flask-Login tries the cookie again)
    db_session = get_session()
    try:
        user = db_session.scalar(select(User).where(User.id == int(number)))
    except (DBAPIError, SQLAlchemyTimeoutError) as error:  # also no connection free in time
        # The database went away: this request goes on without its user, so that the
        # error page (whose menu asks who is logged in) can still be shown. One line here;
        # the error itself is logged where the request fails.
        with contextlib.suppress(Exception):  # the connection may be gone for good
            db_session.rollback()
        setattr(g, USER_LOAD_ERROR, error)
        log.warning(
            "could not load the logged-in user, treated as anonymous for this request: %s",
            first_line(error),
        )
        return None
    if user is None or not user.active:
        return None
    # Sessions from before the last password change (or in the old format) end here.
    return user if hmac.compare_digest(fingerprint, user.session_fingerprint) else None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    # Flask-Login's default message is English-only; translate it lazily.
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to open this page.")
