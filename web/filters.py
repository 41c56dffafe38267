"""Template helpers: times in the event's zone, phase names, the language switch,
Japanese data marked as Japanese on English pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_date, get_locale, gettext, lazy_gettext
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from scheduler.models import Event, ParticipantStatus, Phase
from scheduler.names import has_japanese
from scheduler.notifications import MailSettings
from scheduler.runs import error_parts

PHASE_LABELS = {
    Phase.REGISTRATION: lazy_gettext("Registration"),
    Phase.PREFERENCES: lazy_gettext("Preferences"),
    Phase.SCHEDULING: lazy_gettext("Scheduling"),
    Phase.PUBLISHED: lazy_gettext("Published"),
    Phase.ON_THE_DAY: lazy_gettext("On the day"),
    Phase.CLOSED: lazy_gettext("Closed"),
}


def local_time(
    moment: datetime | None, event: Event | str | None = None, fmt: str = "%H:%M"
) -> str:
    """A stored UTC time shown in the event's time zone."""
    if moment is None:
        return ""
    zone = event.timezone if isinstance(event, Event) else (event or "Asia/Tokyo")
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def local_datetime(moment: datetime | None, event: Event | str | None = None) -> str:
    if moment is None:
        return ""
    zone = event.timezone if isinstance(event, Event) else (event or "Asia/Tokyo")
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_date(local.date(), 'medium')} {local:%H:%M}"


def local_date(moment: datetime | None, event: Event | str | None = None) -> str:
    """The local date of a stored UTC time, written out in the reader's language."""
    if moment is None:
        return ""
    zone = event.timezone if isinstance(event, Event) else (event or "Asia/Tokyo")
    return format_date(moment.astimezone(ZoneInfo(zone)).date(), "full")


def _decimal(value: float | int | Decimal) -> Decimal:
    """A figure as the decimal it is written as: a float through its shortest repr
    (``4.25``, ``0.625``), so that a half is a half, as Excel reads the cell's value."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def half_up(value: float | int | Decimal | None, places: int = 0) -> str:
    """A figure rounded half up to ``places`` decimals (4.25 -> "4.3", 2.5 -> "3"), as
    Excel rounds a cell's shown value: the page and the workbook say the same. (Python's
    ``'%.1f'`` rounds the binary float, to even: 4.25 -> "4.2".) "" for none."""
    if value is None:
        return ""
    exponent = Decimal(1).scaleb(-places)
    return str(_decimal(value).quantize(exponent, rounding=ROUND_HALF_UP))


def percent(share: float | int | Decimal | None, places: int = 0) -> str:
    """A share (0.625) as a percentage rounded half up like Excel's ``0%`` format
    ("63%"); "" for none."""
    if share is None:
        return ""
    return f"{half_up(_decimal(share) * 100, places)}%"


def run_error(error: str | None) -> tuple[str, str]:
    """A run's stored error as (message in the reader's language, technical detail)."""
    message, detail = error_parts(error)
    return (gettext(message) if message else ""), detail  # gettext("") is the PO header

PARTICIPANT_STATUS_LABELS = {
    ParticipantStatus.PENDING: lazy_gettext("Awaiting approval"),
    ParticipantStatus.APPROVED: lazy_gettext("Approved"),
    ParticipantStatus.REJECTED: lazy_gettext("Not approved"),
    ParticipantStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
}


def list_separator() -> str:
    """Between the items of a list in running text: 、 in Japanese, a comma otherwise."""
    return "、" if str(get_locale() or "ja").startswith("ja") else ", "


def label_colon() -> str:
    """Between a label and its value in running text ("Need: …"): a full-width colon in
    Japanese (「ニーズ：…」), a colon and a space otherwise."""
    return "：" if str(get_locale() or "ja").startswith("ja") else ": "


def listing(items: Iterable[object]) -> str:
    """Items joined with :func:`list_separator` (autoescaped by the template as usual)."""
    return list_separator().join(str(item) for item in items)


def _page_is_japanese() -> bool:
    return str(get_locale() or "ja").startswith("ja")


@pass_eval_context
def ja(eval_ctx: EvalContext, value: object, always: bool = False) -> Markup | str:
    """Japanese data (a company's or a person's name, an event's, a note) on a page in
    another language, wrapped in ``<span lang="ja">`` so that a screen reader reads it
    with a Japanese voice; otherwise the text escaped exactly as ``{{ value }}`` is.

    Wrapped when the page is not Japanese and the text has a Japanese character;
    with ``always=True`` (the ``kana`` filter) any non-empty text on such a page is: a
    kana reading is Japanese by definition. (On a Japanese page everything already is
    ``lang="ja"``.) Not for attribute values, ``<option>`` or ``<title>``.
    """
    if not eval_ctx.autoescape:  # plain text (a mail): nothing to mark up
        return str(value)
    text = escape(value)
    if not text or _page_is_japanese():
        return text
    if always or has_japanese(value):
        return Markup('<span lang="ja">%s</span>') % text
    return text


@pass_eval_context
def kana(eval_ctx: EvalContext, value: object) -> Markup | str:
    """A kana reading, always marked as Japanese (see :func:`ja`)."""
    return ja(eval_ctx, value, always=True)


def init_app(app: Flask) -> None:
    app.add_template_filter(ja, "ja")
    app.add_template_filter(kana, "kana")
    app.add_template_filter(listing, "listing")
    app.add_template_filter(run_error, "run_error")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(half_up, "half_up")
    app.add_template_filter(percent, "percent")
    # Also a global, for macros imported without the context (templates/_forms.html).
    app.add_template_global(label_colon, "label_colon")

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "current_locale": str(get_locale() or "ja"),
            "list_separator": list_separator,
            "label_colon": label_colon,
            # Pages and printouts promise e-mail for changes only where it is sent.
            "mail_configured": MailSettings.from_config(app.config) is not None,
            "phase_labels": PHASE_LABELS,
            "participant_status_labels": PARTICIPANT_STATUS_LABELS,
            "endpoints": app.view_functions,
        }
