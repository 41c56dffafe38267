"""WTForms' own messages, in the app's words and catalog.

WTForms ships Japanese for its messages, but in developer's words: "このフィールドは
必須です。", "フィールドは 300 文字を超えることはできません。", "選択肢が正しくありません。"
next to the app's own plain messages. Its msgids are listed below so that
``make translations`` extracts them into the app's catalog, where they get the app's
Japanese; :func:`init_app` makes forms look a message up there first and fall back
to WTForms' catalog for any message not listed.
"""

from __future__ import annotations

from typing import Any

from babel import support
from flask import Flask, current_app, request
from flask_babel import get_locale, lazy_gettext, lazy_ngettext
from wtforms.i18n import messages_path

from web.extensions import TRANSLATIONS_DIR

# For extraction only: WTForms asks for these msgids itself (never rendered from here).
MESSAGES = (
    lazy_gettext("This field is required."),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    lazy_ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    lazy_gettext("Field must be between %(min)d and %(max)d characters long."),
    lazy_gettext("Not a valid choice."),
    lazy_gettext("Not a valid integer value."),
    lazy_gettext("Invalid email address."),
    lazy_gettext("Not a valid date value."),
    lazy_gettext("Not a valid time value."),
    lazy_gettext("Not a valid datetime value."),
)

_CACHE_KEY = "matchfair.form_translations"


def _translations() -> Any:
    """The app's catalog for the reader's language, falling back to WTForms' own."""
    locale = str(get_locale() or "")
    cache: dict[str, Any] = current_app.extensions.setdefault(_CACHE_KEY, {})
    found = cache.get(locale)
    if found is None:
        # A catalog of its own (not Flask-Babel's cached one, which must not fall back to
        # WTForms' messages): the app's first, then WTForms' for the rest.
        found = support.Translations.load(str(TRANSLATIONS_DIR), [locale])
        wtforms = support.Translations.load(messages_path(), [locale], domain="wtforms")
        if isinstance(found, support.Translations):
            found.add_fallback(wtforms)
        else:
            found = wtforms
        cache[locale] = found
    return found


class _FormTranslations:
    """What Flask-WTF asks for a message (resolved per request, on first use)."""

    def ugettext(self, string: str) -> str:
        return str(_translations().ugettext(string))

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return str(_translations().ungettext(singular, plural, n))


FORM_TRANSLATIONS = _FormTranslations()


def init_app(app: Flask) -> None:
    @app.before_request
    def _form_translations() -> None:
        # Flask-WTF reads this attribute before loading WTForms' catalog itself.
        request.wtforms_translations = FORM_TRANSLATIONS  # type: ignore[attr-defined]
