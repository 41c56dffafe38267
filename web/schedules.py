"""A participant's published schedule: the page, its .ics download and subscription feed,
and its printable PDF. Everything is reached through the participant's secret links."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale, lazy_gettext
from sqlalchemy import select

from scheduler import calendars, printing
from scheduler.calendars import CalendarFeed
from scheduler.db import utcnow
from scheduler.models import Event, Participant
from scheduler.schedule_view import PUBLISHED_PHASES, personal_schedule
from web.database import get_session
from web.outcomes import meetings_to_report
from web.participant_access import (
    INACTIVE_STATUSES,
    PortalSection,
    current_participant,
    participant_locale,
    participant_required,
    refuse_unknown_token,
    register_portal_section,
)
from web.read_snapshot import begin_snapshot, snapshot_reads

bp = Blueprint("schedules", __name__)

register_portal_section(
    PortalSection(
        endpoint="schedules.page",
        label=lazy_gettext("My meetings"),
        description=lazy_gettext("Your published meeting schedule, calendar links and PDF."),
        phases=PUBLISHED_PHASES,
    )
)


def pdf_response(template: str, filename: str, **context: Any) -> Response:
    """``template`` rendered and printed to PDF (a clear error page if printing is not set up)."""
    return _pdf(render_template(template, **context), filename)


def sheets_pdf_response(
    event: Event,
    sheets: list[printing.CompanySheet],
    filename: str,
    *,
    locale: str | None = None,
) -> Response:
    """Company sheets, each in its participant's language, or all in ``locale``."""
    return _pdf(sheets_html(event, sheets, locale=locale), filename)


def sheets_html(
    event: Event, sheets: Sequence[printing.CompanySheet], *, locale: str | None = None
) -> list[str]:
    """Company sheets as HTML documents, each sheet in its participant's language or all
    in ``locale`` (runs of one language share a document, so a fair in one language is
    printed as one)."""
    documents = []
    for language, run in itertools.groupby(
        sheets, key=lambda s: locale or s.schedule.participant.locale
    ):
        with force_locale(language if language in current_app.config["LANGUAGES"] else "ja"):
            documents.append(render_template("print/sheets.html", event=event, sheets=list(run)))
    return documents


def _pdf(html: str | list[str], filename: str) -> Response:
    body = printing.html_to_pdf(html, base_url=request.url_root)
    response = Response(body, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def calendar_response(feed: CalendarFeed, filename: str) -> Response:
    """The feed as ``text/calendar`` with ETag and Last-Modified, or 304 when unchanged.

    Calendar apps poll every few minutes to hours; an unchanged feed is answered with
    304 and no body (the bytes are built from a few indexed queries to compare).
    """
    response = Response(feed.body, content_type="text/calendar; charset=utf-8")
    response.set_etag(feed.etag)
    response.last_modified = feed.last_modified
    # Revalidate every time (the ETag makes that cheap); never cached by shared proxies.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response.make_conditional(request)


def subscription_links(feed_url: str, name: str) -> dict[str, str]:
    """One-click subscription links for Apple (webcal), Google Calendar and Outlook.com."""
    webcal = "webcal://" + feed_url.split("://", 1)[1]
    return {
        "feed": feed_url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?" + urlencode({"cid": webcal}),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": feed_url, "name": name}),
    }


def _schedule_url(participant: Participant) -> str:
    return url_for("schedules.page", token=participant.access_token, _external=True)


@bp.get("/p/<token>/schedule")
@snapshot_reads  # outermost: before the token look-up starts the transaction
@participant_required
def page(token: str):  # type: ignore[no-untyped-def]
    participant = current_participant()
    # Free slots from now on: on the fair's day, one that has begun is no longer offered.
    schedule = personal_schedule(get_session(), participant, now=utcnow())
    # Read in another language than the participant's own (the switch keeps it only in
    # this browser), the subscription offered here is in the page's language too.
    page_language = calendars.requested_language(str(get_locale()))
    lang = None
    if page_language is not None and page_language != calendars.feed_language(
        participant.locale
    ):
        lang = page_language
    feed_url = url_for(
        "schedules.feed", feed_token=participant.feed_token, lang=lang, _external=True
    )
    name = f"{participant.event.name} ({participant.display_name})"
    return render_template(
        "schedules/page.html",
        participant=participant,
        event=participant.event,
        schedule=schedule,
        links=subscription_links(feed_url, name),
        token=token,
        to_report=meetings_to_report(participant),
    )


@bp.get("/p/<token>/schedule/list")
@snapshot_reads
def schedule_list(token: str):  # type: ignore[no-untyped-def]
    """The page's list of meetings, cancellations and free slots alone, which the page's
    script (js/live.js) swaps in when the live state says the list has changed: the live
    card and the list below it must never tell two different tables.

    Like the live state, re-reads by a valid link are not counted against the page
    limit (a venue's phones, sharing one address, all re-read as a slot begins);
    guessing links is.
    """
    session = get_session()
    participant = None
    if 20 <= len(token) <= 64:
        participant = session.scalar(select(Participant).where(Participant.access_token == token))
    if participant is None or participant.status in INACTIVE_STATUSES:
        refuse_unknown_token()
    locale = participant_locale(participant)
    with force_locale(locale) if locale is not None else nullcontext():
        schedule = personal_schedule(session, participant, now=utcnow())
        if not schedule.published:
            abort(404)
        body = render_template(
            "schedules/_list.html",
            participant=participant,
            event=participant.event,
            schedule=schedule,
        )
    response = Response(body, content_type="text/html; charset=utf-8")
    # Which list this is (the live state's schedule_stamp), for whoever debugs a phone.
    response.headers["X-Schedule-Stamp"] = schedule.stamp
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


@bp.get("/p/<token>/schedule.ics")
@snapshot_reads
@participant_required
def download(token: str):  # type: ignore[no-untyped-def]
    participant = current_participant()
    # In the language of the page it was downloaded from (the participant's own, unless
    # the reader switched), as the subscription links offered on that page are.
    feed = calendars.participant_feed(get_session(), participant, locale=str(get_locale()))
    response = calendar_response(feed, f"{participant.event.slug}-{participant.code}.ics")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{participant.event.slug}-{participant.code or "schedule"}.ics"'
    )
    return response


@bp.get("/p/<token>/schedule.pdf")
@snapshot_reads
@participant_required
def pdf(token: str):  # type: ignore[no-untyped-def]
    participant = current_participant()
    # As the page: printed on the fair's day, the free slots still to come.
    schedule = personal_schedule(get_session(), participant, now=utcnow())
    if not schedule.published:
        abort(404)
    return sheets_pdf_response(
        participant.event,
        [printing.company_sheet(schedule, _schedule_url(participant))],
        f"{participant.event.slug}-{participant.code or 'schedule'}.pdf",
        locale=str(get_locale()),  # the language of the page it was opened from
    )


@bp.get("/cal/<feed_token>.ics")
def feed(feed_token: str):  # type: ignore[no-untyped-def]
    """The subscription feed: the secret feed token is the only credential (calendar
    apps cannot log in), so it differs from the page token and can be reissued alone.

    In the participant's own language, or in the one its address asks for (``?lang=ja``
    or ``?lang=en``, which the schedule page adds when read in the other language;
    anything else is ignored). The ETag is the body's hash, so it differs by language.
    """
    session = get_session()
    begin_snapshot(session)  # one snapshot for the look-up, the version and the meetings
    # Guessing is refused like on the pages; successful polls are neither counted nor
    # refused (a whole office's calendars may poll from one address).
    participant = session.scalar(select(Participant).where(Participant.feed_token == feed_token))
    if participant is None:
        # A deleted event's or a re-issued feed answers with an empty calendar, which
        # makes calendar apps remove the meetings (on an error they would keep them).
        retired = calendars.retired_feed(session, feed_token)
        if retired is None:
            refuse_unknown_token()
        return calendar_response(retired, "matchfair.ics")
    if participant.status in INACTIVE_STATUSES:  # withdrawn or rejected: likewise emptied
        return calendar_response(
            calendars.ended_feed(participant), f"{participant.event.slug}.ics"
        )
    locale = calendars.requested_language(request.args.get("lang"))
    result = calendars.participant_feed(session, participant, locale=locale)
    return calendar_response(result, f"{participant.event.slug}.ics")
