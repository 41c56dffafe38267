"""What the organizer is told after e-mailing participants (publish, repair on the day).

The e-mail goes out after the commit, so nothing here can undo a publication: a
failure is reported, and the schedule pages are right whatever happened to the mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask import current_app, flash, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from scheduler import audit, notifications
from scheduler.day_operations import lock_for_change
from scheduler.models import AuditEntry, Event, Participant
from scheduler.schedule_view import is_published
from web.database import get_session
from web.filters import local_time

log = logging.getLogger(__name__)


def configured_mail() -> notifications.MailSettings | None:
    """The SMTP settings, or None when no mail server is configured (nothing said)."""
    return notifications.MailSettings.from_config(current_app.config)


def mail_settings() -> notifications.MailSettings | None:
    """The SMTP settings, or None after telling the organizer that nobody is e-mailed."""
    settings = configured_mail()
    if settings is None:
        flash(
            _("No mail server is configured (MAIL_SERVER): participants were not e-mailed."),
            "warning",
        )
    return settings


# How long after a reminder another may be sent (a second click within it sends none).
REMIND_AGAIN_AFTER = timedelta(minutes=30)


def last_entry(event: Event, action: str) -> AuditEntry | None:
    """The newest audit entry of ``action`` for ``event`` (e.g. the last reminder)."""
    return get_session().scalar(
        select(AuditEntry)
        .where(AuditEntry.event_id == event.id, AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


def claim_reminder(
    event: Event, action: str, user_id: int
) -> tuple[AuditEntry | None, AuditEntry | None]:
    """Claim the sending of a reminder: ``(entry, None)`` when this request sends it, or
    ``(None, last)`` when one went out less than :data:`REMIND_AGAIN_AFTER` ago.

    The check and the claim happen under the event's write lock, and the claim (the
    audit entry, details filled in by :func:`finish_reminder`) is committed before any
    mail goes out: a double click or two organizers at once wait for each other, and the
    second finds the first's entry instead of e-mailing everyone a second time. A
    reminder that was interrupted (an error, or a claim left "sending" longer than any
    sending takes) does not hold the next one back.
    """
    session = get_session()
    lock_for_change(session, event.id, lock_event=True)
    last = last_entry(event, action)
    # The real clock, as the audit entry's time is.
    if (
        last is not None
        and datetime.now(UTC) - last.created_at < REMIND_AGAIN_AFTER
        and not _interrupted(last)
    ):
        session.rollback()
        return None, last
    entry = audit.record(session, action, event_id=event.id, user_id=user_id, target=event,
                         details={"sending": True})
    session.commit()
    return entry, None


#: Longer than sending to every company of a fair takes: a claim still "sending" after
#: this was cut off (the process died) and does not count as a reminder sent.
SENDING_AT_MOST = timedelta(minutes=10)


def _interrupted(entry: AuditEntry) -> bool:
    details = entry.details or {}
    if details.get("interrupted"):
        return True
    return bool(details.get("sending")) and (
        datetime.now(UTC) - entry.created_at > SENDING_AT_MOST
    )


def reminder_state(entry: AuditEntry) -> str:
    """How a reminder's claim ended, for the "last reminder" line: ``"sending"`` (still
    going out), ``"interrupted"`` (an error, or cut off) or ``"sent"``."""
    if _interrupted(entry):
        return "interrupted"
    return "sending" if (entry.details or {}).get("sending") else "sent"


def finish_reminder(entry: AuditEntry, sent: int, failed: int, without_email: int) -> None:
    """Record what a claimed reminder did (:func:`claim_reminder`)."""
    entry.details = {"sent": sent, "failed": failed, "without_email": without_email}
    get_session().commit()


def send_reminder(
    event: Event,
    action: str,
    user_id: int,
    notices_for: Callable[[], tuple[list[notifications.Notice], list[Participant]]],
    too_soon: Callable[[str, int], str],
) -> None:
    """E-mail a reminder once (:func:`claim_reminder`) and tell the organizer what came of
    it: the notices and the participants without an e-mail address from ``notices_for``;
    ``too_soon(time, minutes)`` says when the last one went out and when another may."""
    settings = mail_settings()
    if settings is None:
        return
    entry, last = claim_reminder(event, action, user_id)
    if entry is None:
        # A double click, or two organizers at once: one reminder is enough.
        assert last is not None
        flash(too_soon(local_time(last.created_at, event),
                       int(REMIND_AGAIN_AFTER.total_seconds() // 60)), "warning")
        return
    try:
        notices, unreachable = notices_for()
        failures = notifications.send_notices(notices, settings)
    except Exception as error:
        # Said and recorded as interrupted (it does not hold the next reminder back),
        # instead of an error page claiming nothing happened while some mail went out.
        log.exception("the reminder %s of event %s was interrupted", action, event.id)
        get_session().rollback()
        entry.details = {"interrupted": True, "error": type(error).__name__}
        get_session().commit()
        flash(_("The reminder was interrupted by an error: some participants may have "
                "been e-mailed. Send it again to reach everyone."), "error")
        return
    finish_reminder(entry, len(notices) - len(failures), len(failures), len(unreachable))
    flash_outcome(len(notices) - len(failures), failures, unreachable, about_schedule=False)


def schedule_link(participant: Participant) -> str:
    """The personal schedule page every notice links to."""
    return url_for("schedules.page", token=participant.access_token, _external=True)


def flash_outcome(
    sent: int,
    failures: Sequence[notifications.Failure],
    unreachable: Sequence[Participant] = (),
    *,
    about_schedule: bool = True,
) -> None:
    """How many were e-mailed, which sends failed, who has no address.

    ``about_schedule``: the mail told of a schedule change, so a failure still leaves
    the participants' schedule pages right (said in the message).
    """
    flash(
        ngettext("%(num)s participant was e-mailed.", "%(num)s participants were e-mailed.", sent),
        "info",
    )
    if failures and about_schedule:
        flash(
            _(
                "E-mail to %(n)s participants failed (%(error)s); "
                "their schedule pages are up to date anyway.",
                n=len(failures),
                error=failures[0].error,
            ),
            "error",
        )
    elif failures:
        flash(
            _(
                "E-mail to %(n)s participants failed (%(error)s).",
                n=len(failures),
                error=failures[0].error,
            ),
            "error",
        )
    if unreachable:
        flash(
            _(
                "No e-mail address for: %(names)s.",
                names=", ".join(p.display_name for p in unreachable),
            ),
            "warning",
        )


# On the day a change is made while people wait at the table: an unreachable mail
# server may hold the staff member's page this long at most (the pages and calendars
# are right whatever happens to the mail).
DAY_MAIL_TIMEOUT = 4.0


def notify_changed(
    event: Event,
    participant_ids: Iterable[int],
    *,
    first: bool = False,
    on_the_day: bool = False,
    warn_without_mail: bool = True,
) -> None:
    """E-mail each participant whose meetings changed that its schedule did (call after
    the commit), and tell the user how that went. Nothing is sent before the schedule is
    published: until then participants cannot see it. ``warn_without_mail`` False: no
    warning when no mail server is configured (the day console's single changes, where
    it would repeat on every click; the pages then promise no e-mail)."""
    ids = set(participant_ids)
    if not ids or not is_published(event):
        return
    settings = mail_settings() if warn_without_mail else configured_mail()
    if settings is None:
        return
    if on_the_day:
        settings = replace(settings, timeout=min(settings.timeout, DAY_MAIL_TIMEOUT))
    notices, unreachable = notifications.schedule_notices(
        get_session(), event, ids, link_for=schedule_link, first=first
    )
    failures = notifications.send_notices(notices, settings)
    flash_outcome(len(notices) - len(failures), failures, unreachable)
