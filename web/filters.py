"""Template helpers: times in the event's zone, phase names, the language switch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_date, get_locale, gettext, lazy_gettext

from scheduler.models import Event, ParticipantStatus, Phase
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


def listing(items: Iterable[object]) -> str:
    """Items joined with :func:`list_separator` (autoescaped by the template as usual)."""
    return list_separator().join(str(item) for item in items)


def init_app(app: Flask) -> None:
    app.add_template_filter(listing, "listing")
    app.add_template_filter(run_error, "run_error")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(local_date, "local_date")

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "current_locale": str(get_locale() or "ja"),
            "list_separator": list_separator,
            # Pages and printouts promise e-mail for changes only where it is sent.
            "mail_configured": MailSettings.from_config(app.config) is not None,
            "phase_labels": PHASE_LABELS,
            "participant_status_labels": PARTICIPANT_STATUS_LABELS,
            "endpoints": app.view_functions,
        }
