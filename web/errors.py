"""The one place that turns errors into pages: never a traceback to a user."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from scheduler.errors import DeadlinePassed, DomainError
from web.config import first_line
from web.extensions import USER_LOAD_ERROR, login_manager
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
        return error_page(
            "errors/error.html",
            error.status_code,
            lambda: {"code": error.status_code, "message": message, "back": _way_back()},
        )

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        _rollback()
        return error_page(
            "errors/error.html",
            400,
            lambda: {
                "code": 400,
                "message": _(
                    "The form has expired or was sent from elsewhere. Please reload the page "
                    "and submit it again."
                ),
                "back": _way_back(),
            },
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        if error.code is not None and error.code < 400:
            return error
        _rollback()
        code = error.code or 500
        if isinstance(error, UnknownParticipantLink):
            return error_page("errors/participant_link.html", code, dict)
        if error.code == 413:

            def too_large() -> dict[str, Any]:
                back = _way_back(form=True)
                return {
                    "limit_mb": _upload_limit_mb(),
                    "advice": _too_large_advice(),
                    "back": back,
                    # The browser's Back keeps what was typed, but only leads to the form
                    # when the form is where the request came from.
                    "back_in_history": back is not None and back[0] == request.referrer,
                }

            return error_page("errors/too_large.html", 413, too_large)

        def page() -> dict[str, Any]:
            messages = {
                403: _("You do not have access to this page."),
                404: _("This page does not exist, or the link is no longer valid."),
                405: _("This action is not allowed here."),
                429: _("Too many attempts. Please wait a minute and try again."),
            }
            return {
                "code": error.code,
                "message": messages.get(code, error.description),
                "back": _way_back(),
            }

        return error_page("errors/error.html", code, page)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("Unhandled error on %s %s", request.method, redacted_path())
        _rollback()
        if app.testing and not app.config.get("TEST_ERROR_PAGES"):
            raise error  # tests see the real failure; users never do
        if isinstance(error, DBAPIError):
            # The database is away: the page's menu must not ask it who is logged in.
            _as_anonymous()
        return error_page(
            "errors/error.html",
            500,
            lambda: {
                "code": 500,
                "message": _(
                    "Something went wrong on our side. Nothing was saved; please try again."
                ),
                "back": _way_back(),
            },
        )


def error_page(
    template: str, code: int, context: Callable[[], dict[str, Any]]
) -> tuple[str, int]:
    """The error page ``template`` with ``context()``, as the request's user sees it;
    as someone not logged in when the user cannot be read (the database away: the
    account, expired by the rollback, is read again for the menu and the language);
    and, should that fail too, a plain page in both languages. Never a failure of the
    error handler, which the server would answer with its bare English 500."""
    if g.get(USER_LOAD_ERROR) is not None:
        _as_anonymous()
    try:
        return render_template(template, **context()), code
    except Exception as error:
        if not _as_anonymous():
            return _plain_error_page(code, error)
    try:
        return render_template(template, **context()), code
    except Exception as error:
        return _plain_error_page(code, error)


def _as_anonymous() -> bool:
    """Make the rest of the request see nobody logged in; False if it already did."""
    user = g.get("_login_user")  # where Flask-Login 0.6 keeps the request's user
    if user is not None and not user.is_authenticated:
        return False
    g._login_user = login_manager.anonymous_user()
    return True


#: The last resort, when not even the error page can be made: no template, no database.
PLAIN_ERROR_PAGE = """<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{code}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em">
<h1>{code}</h1>
<p lang="ja">システムでエラーが発生したため、このページを表示できません。
しばらくしてから、もう一度お試しください。</p>
<p lang="en">Something went wrong on our side and this page cannot be shown.
Please try again in a moment.</p>
</body>
</html>
"""


def _plain_error_page(code: int, error: Exception) -> tuple[str, int]:
    current_app.logger.error(
        "could not show the error page of %s %s: %s: %s",
        request.method,
        redacted_path(),
        type(error).__name__,
        first_line(error),
    )
    return PLAIN_ERROR_PAGE.format(code=int(code)), code


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
    if request.endpoint in ("registration.register", "registration.thanks") and request.view_args:
        # A company registering has no account: back to the form (the browser's Back
        # keeps what was typed), not to the staff login (QA).
        slug = request.view_args.get("slug")
        return url_for("registration.register", slug=slug), _("Back to the form")
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
        try:
            session.rollback()
        except Exception as error:  # the connection is gone: nothing to undo there
            current_app.logger.warning("could not roll back: %s", first_line(error))
