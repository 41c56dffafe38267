"""The language switch (Japanese / English)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

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
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


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
