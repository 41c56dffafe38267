"""What organizers and staff take out of a schedule: the whole-event calendar feed,
printed sheets, table signs and the reception grid, and CSV/Excel exports."""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from scheduler import calendars, printing
from scheduler.errors import NotFound
from scheduler.i18n import N_
from scheduler.models import Event, Participant, ParticipantStatus
from scheduler.schedule_export import schedule_csv, schedule_xlsx
from scheduler.schedule_view import is_published, personal_schedule
from web.auth import organizer_required, staff_required
from web.database import get_session
from web.derived_tokens import derived_token, token_matches
from web.ids import parse_id
from web.read_snapshot import snapshot_reads
from web.schedules import (
    calendar_response,
    pdf_response,
    sheets_pdf_response,
    subscription_links,
)

bp = Blueprint("schedule_outputs", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _event(event_id: int) -> Event:
    event = get_session().get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


def staff_feed_token(event_id: int) -> str:
    """The secret in the staff feed's URL, derived from the app's SECRET_KEY.

    Calendar apps cannot log in, so the URL carries a secret; deriving it (rather than
    storing one) needs no schema change, and rotating SECRET_KEY revokes every one.
    """
    return derived_token("matchfair-staff-feed", event_id)


def _staff_feed_response(event: Event):  # type: ignore[no-untyped-def]
    feed = calendars.event_feed(
        get_session(),
        event,
        locale=getattr(current_user, "locale", None) or "ja",
        url=url_for("events.show", event_id=event.id, _external=True),
    )
    return calendar_response(feed, f"{event.slug}-all.ics")


@bp.get("/events/<int:event_id>/schedule/outputs")
@staff_required
def index(event_id: int):  # type: ignore[no-untyped-def]
    """Links to every printout, export and the staff calendar subscription."""
    event = _event(event_id)
    feed_url = url_for(
        "schedule_outputs.staff_feed",
        event_id=event.id,
        token=staff_feed_token(event.id),
        _external=True,
    )
    participants = get_session().scalars(
        select(Participant)
        .where(
            Participant.event_id == event.id,
            Participant.status == ParticipantStatus.APPROVED,
        )
        .order_by(Participant.code, Participant.id)
    )
    return render_template(
        "schedules/outputs.html",
        event=event,
        published=is_published(event),
        links=subscription_links(feed_url, event.name),
        participants=list(participants),
    )


@bp.get("/events/<int:event_id>/calendar.ics")
@snapshot_reads
@staff_required
def event_calendar(event_id: int):  # type: ignore[no-untyped-def]
    return _staff_feed_response(_event(event_id))


@bp.get("/cal/events/<int:event_id>/<token>.ics")
@snapshot_reads
def staff_feed(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """The staff feed for calendar apps: the derived token is the credential."""
    if not token_matches(token, "matchfair-staff-feed", event_id):
        abort(404)
    return _staff_feed_response(_event(event_id))


@bp.get("/events/<int:event_id>/schedule.csv")
@organizer_required
def export_csv(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    return send_file(
        io.BytesIO(schedule_csv(get_session(), event)),
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to text/* itself
        as_attachment=True,
        download_name=f"schedule-{event.slug}.csv",
    )


@bp.get("/events/<int:event_id>/schedule.xlsx")
@organizer_required
def export_xlsx(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    return send_file(
        io.BytesIO(schedule_xlsx(get_session(), event)),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name=f"schedule-{event.slug}.xlsx",
    )


@bp.get("/events/<int:event_id>/print/sheets.pdf")
@staff_required
def sheets_pdf(event_id: int):  # type: ignore[no-untyped-def]
    """Every approved company's sheet, or one (``?participant=<id>``)."""
    event = _event(event_id)
    session = get_session()
    query = select(Participant).where(
        Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
    )
    only = parse_id(request.args.get("participant"))
    if only is not None:
        query = query.where(Participant.id == only)
    participants = list(session.scalars(query.order_by(Participant.code, Participant.id)))
    if not participants:
        abort(404)
    sheets = [
        printing.company_sheet(
            personal_schedule(session, p),
            url_for("schedules.page", token=p.access_token, _external=True),
        )
        for p in participants
    ]
    return sheets_pdf_response(event, sheets, f"sheets-{event.slug}.pdf")


@bp.get("/events/<int:event_id>/print/tables.pdf")
@staff_required
def tables_pdf(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    signs = printing.table_signs(get_session(), event)
    return pdf_response("print/tables.html", f"tables-{event.slug}.pdf", event=event, signs=signs)


@bp.get("/events/<int:event_id>/print/grid.pdf")
@staff_required
def grid_pdf(event_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    pages = printing.master_grid(get_session(), event)
    return pdf_response("print/grid.html", f"grid-{event.slug}.pdf", event=event, pages=pages)
