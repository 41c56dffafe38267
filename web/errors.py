"""The one place that turns errors into pages: never a traceback to a user."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from scheduler.errors import DeadlinePassed, DomainError
from web.i18n import translate_error
from web.participant_access import UnknownParticipantLink

#: The flash category of a change refused for its deadline (shown as an error).
DEADLINE_FLASH = "deadline"

#: Uploads whose own size limit is below ``MAX_CONTENT_LENGTH`` (the limit of a whole
#: request, whose excess is the 413): the page states the limit the form itself has.
UPLOAD_LIMITS = {
    "preferences.apply": "PROPOSAL_MAX_BYTES",
    "participants_admin.upload": "IMPORT_MAX_BYTES",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        _rollback()
        message = translate_error(error)
        if request.method == "POST" and request.referrer:
            # A change refused for its deadline: the page it goes back to leaves out its
            # own "closed" notice, which would say the same a second time.
            flash(message, DEADLINE_FLASH if isinstance(error, DeadlinePassed) else "error")
            return redirect(request.referrer)
        return render_template(
            "errors/error.html", code=error.status_code, message=message, back=_way_back()
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
            back=_way_back(),
        ), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if error.code is not None and error.code < 400:
            return error
        _rollback()
        if isinstance(error, UnknownParticipantLink):
            return render_template("errors/participant_link.html"), error.code
        if error.code == 413:
            back = _way_back(form=True)
            return render_template(
                "errors/too_large.html",
                limit_mb=_upload_limit_mb(),
                advice=_too_large_advice(),
                back=back,
                # The browser's Back keeps what was typed, but only leads to the form
                # when the form is where the request came from.
                back_in_history=back is not None and back[0] == request.referrer,
            ), 413
        messages = {
            403: _("You do not have access to this page."),
            404: _("This page does not exist, or the link is no longer valid."),
            405: _("This action is not allowed here."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        return render_template(
            "errors/error.html",
            code=error.code,
            message=messages.get(error.code or 500, error.description),
            back=_way_back(),
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
            back=_way_back(),
        ), 500


def _way_back(*, form: bool = False) -> tuple[str, str] | None:
    """Where an error page's link leads, and its label; None for no link.

    Participants go back to their own pages, never to the staff login (the start page of
    anyone not logged in), which tells them to use the link they came by. ``form``: the
    page the request was sent from, when it is on this site (a refused upload's form).
    """
    if form and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            return request.referrer, _("Back to the form")
    # The token kept when the link opened, not read from the participant: the handler
    # has rolled back, and reading the expired row again would fail with the database
    # down (an error page that fails itself, with the secret link in the server's log).
    token = g.get("participant_token")
    if token is not None:
        return url_for("portal.home", token=token), _("Back to your company’s pages")
    if _SECRET_IN_PATH.match(request.path):
        return None  # a participant's address whose link did not open: no staff login
    return url_for("main.index"), _("Back to the start page")


def _too_large_advice() -> str:
    """What to do about the file, for the form it was sent with."""
    if request.endpoint == "preferences.apply":
        return _(
            "Please go back, choose a smaller file (a PDF with fewer or smaller pictures, "
            "for example) and send it again."
        )
    if request.endpoint == "participants_admin.upload":
        return _(
            "Please go back and send a smaller file: save the list as CSV, or split it "
            "into several files."
        )
    return _("Please go back, choose a smaller file and send it again.")


def _upload_limit_mb() -> str:
    """The size limit of this request's upload, in MB as the reader writes numbers."""
    whole = int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)
    own = int(current_app.config.get(UPLOAD_LIMITS.get(request.endpoint or ""), 0) or 0)
    limit = min(own, whole) if own and whole else own or whole
    return format_decimal(round(limit / 1024 / 1024, 1))


# Secret links and feed tokens in a path: logs are read by more people than the links.
_SECRET_IN_PATH = re.compile(r"^/(p/[^/]+|cal/.+)")


def redacted_path() -> str:
    """The request's path with a participant's secret link or feed token masked."""
    return _SECRET_IN_PATH.sub(lambda m: f"/{m.group(1).split('/')[0]}/<secret>", request.path)


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()
