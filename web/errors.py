"""The one place that turns errors into pages: never a traceback to a user."""

from __future__ import annotations

import re

from flask import Flask, flash, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from scheduler.errors import DomainError
from web.i18n import translate_error


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        _rollback()
        message = translate_error(error)
        if request.method == "POST" and request.referrer:
            flash(message, "error")
            return redirect(request.referrer)
        return render_template(
            "errors/error.html", code=error.status_code, message=message
        ), error.status_code

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        _rollback()
        return render_template(
            "errors/error.html",
            code=400,
            message=_(
                "The form has expired or was sent from elsewhere. Please reload the page "
                "and submit it again."
            ),
        ), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if error.code is not None and error.code < 400:
            return error
        _rollback()
        messages = {
            403: _("You do not have access to this page."),
            404: _("This page does not exist, or the link is no longer valid."),
            405: _("This action is not allowed here."),
            413: _("The uploaded file is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        return render_template(
            "errors/error.html",
            code=error.code,
            message=messages.get(error.code or 500, error.description),
        ), error.code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("Unhandled error on %s %s", request.method, redacted_path())
        _rollback()
        if app.testing and not app.config.get("TEST_ERROR_PAGES"):
            raise error  # tests see the real failure; users never do
        return render_template(
            "errors/error.html",
            code=500,
            message=_("Something went wrong on our side. Nothing was saved; please try again."),
        ), 500


# Secret links and feed tokens in a path: logs are read by more people than the links.
_SECRET_IN_PATH = re.compile(r"^/(p/[^/]+|cal/.+)")


def redacted_path() -> str:
    """The request's path with a participant's secret link or feed token masked."""
    return _SECRET_IN_PATH.sub(lambda m: f"/{m.group(1).split('/')[0]}/<secret>", request.path)


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()
