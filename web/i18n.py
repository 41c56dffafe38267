"""The language switch (Japanese / English)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from scheduler.errors import DomainError
from web.database import get_session

bp = Blueprint("i18n", __name__)


@bp.post("/language")
def switch_language():  # type: ignore[no-untyped-def]
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            get_session().commit()
    target = safe_next(request.form.get("next"))
    return redirect(target if target and _opens_with_get(target) else url_for("main.index"))


def _opens_with_get(path: str) -> bool:
    """Whether ``path`` is a page (a GET route), not only an address forms post to."""
    adapter = current_app.url_map.bind("")
    try:
        adapter.match(urlsplit(path).path, method="GET")
    except HTTPException as error:
        # A redirect (a missing trailing slash) still leads to a page.
        return isinstance(error, RequestRedirect)
    return True


@bp.app_context_processor
def _language_switch() -> dict[str, object]:
    return {"language_next": language_next}


def language_next() -> str:
    """Where the language switch returns to: this page; after a form was posted (a page
    showing its mistakes at the address it was posted to, which may not open with a
    GET), the page the form was on, so that what was typed is put back into it
    (``keep-typed.js``)."""
    here = request.full_path.rstrip("?")
    if request.method == "GET" or not request.referrer:
        return here
    referrer = urlsplit(request.referrer)
    if referrer.netloc != request.host or not referrer.path.startswith("/"):
        return here
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def safe_next(target: str | None) -> str | None:
    """Only same-site paths may be redirected to (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


class ServiceMessage(Protocol):
    """A message from ``scheduler/``: an English msgid marked with ``N_`` and its values."""

    @property
    def msgid(self) -> str: ...

    @property
    def params(self) -> Mapping[str, object]: ...


def translate_error(error: DomainError) -> str:
    """A service's error in the reader's language, its ``%(name)s`` parameters filled in.

    ``error.msgid`` is the English message the service marked with ``N_``; one that
    is not in the catalog (yet) is shown in English rather than not at all.
    """
    return translate_message(error)


def translate_message(message: ServiceMessage) -> str:
    """Any service message (an error, a run review's detail) in the reader's language."""
    return gettext(message.msgid, **message.params)
