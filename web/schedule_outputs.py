"""What organizers and staff take out of a schedule: the whole-event calendar feed,
printed sheets, table signs and the reception grid, and CSV/Excel exports."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import audit, calendars, event_setup, printing
from scheduler.errors import NotFound
from scheduler.i18n import N_
from scheduler.models import Event, Participant, ParticipantStatus
from scheduler.schedule_export import export_labels, schedule_csv, schedule_xlsx
from scheduler.schedule_view import is_published, personal_schedule
from web.auth import organizer_required, staff_required
from web.database import get_session
from web.derived_tokens import event_token, event_token_matches
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

    Calendar apps cannot log in, so the URL carries a secret; the organizer's re-issue
    of the event's staff links revokes it (web.derived_tokens).
    """
    return event_token("matchfair-staff-feed", event_id)


def _staff_feed_response(event: Event):  # type: ignore[no-untyped-def]
    # A calendar app is nobody's session: the subscription carries its language.
    wanted = request.args.get("lang")
    locale = (
        wanted
        if wanted in current_app.config["LANGUAGES"]
        else getattr(current_user, "locale", None) or "ja"
    )
    feed = calendars.event_feed(
        get_session(),
        event,
        locale=locale,
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
        lang=get_locale().language,
        _external=True,
    )
    participants = get_session().scalars(
        select(Participant)
        .where(
            Participant.event_id == event.id,
            Participant.status == ParticipantStatus.APPROVED,
        )
        .options(selectinload(Participant.organization))  # each one's name in the list
        .order_by(Participant.code, Participant.id)
    )
    return render_template(
        "schedules/outputs.html",
        event=event,
        published=is_published(event),
        links=subscription_links(feed_url, event.name),
        participants=list(participants),
    )


@bp.post("/events/<int:event_id>/schedule/outputs/reissue-staff-links")
@organizer_required
def reissue_staff_links(event_id: int):  # type: ignore[no-untyped-def]
    """New secret links for the staff calendar and the hall boards; the old ones stop."""
    event = _event(event_id)
    session = get_session()
    event_setup.reissue_staff_links(session, event, user_id=current_user.id)
    session.commit()
    flash(
        _(
            "New staff links were issued: the staff calendar subscriptions and hall board "
            "links given out before no longer open. Give the new ones to the staff."
        ),
        "success",
    )
    return redirect(url_for("schedule_outputs.index", event_id=event.id))


@bp.get("/events/<int:event_id>/calendar.ics")
@snapshot_reads
@staff_required
def event_calendar(event_id: int):  # type: ignore[no-untyped-def]
    return _staff_feed_response(_event(event_id))


@bp.get("/cal/events/<int:event_id>/<token>.ics")
@snapshot_reads
def staff_feed(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """The staff feed for calendar apps: the derived token is the credential."""
    if not event_token_matches(token, "matchfair-staff-feed", event_id):
        abort(404)
    return _staff_feed_response(_event(event_id))


@bp.get("/events/<int:event_id>/schedule.csv")
@organizer_required
def export_csv(event_id: int):  # type: ignore[no-untyped-def]
    """The schedule as CSV, its column names and statuses in the organizer's language."""
    event = _event(event_id)
    labels = export_labels(get_locale().language, _)
    return send_file(
        io.BytesIO(schedule_csv(get_session(), event, labels)),
        mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to text/* itself
        as_attachment=True,
        download_name=f"schedule-{event.slug}.csv",
    )


@bp.get("/events/<int:event_id>/schedule.xlsx")
@organizer_required
def export_xlsx(event_id: int):  # type: ignore[no-untyped-def]
    """The schedule as a workbook, its words in the organizer's language."""
    event = _event(event_id)
    labels = export_labels(get_locale().language, _)
    return send_file(
        io.BytesIO(schedule_xlsx(get_session(), event, labels)),
        mimetype=XLSX_TYPE,
        as_attachment=True,
        download_name=f"schedule-{event.slug}.xlsx",
    )


@bp.get("/events/<int:event_id>/print/sheets.pdf")
@staff_required
def sheets_pdf(event_id: int):  # type: ignore[no-untyped-def]
    """Every approved company's sheet (organizers), or one (``?participant=<id>``).

    Each sheet's QR code is the company's secret link, which opens and changes its
    pages: staff print one company's sheet at a time (at the desk, for the company in
    front of them; recorded in the audit log), not every company's links at once.
    """
    event = _event(event_id)
    session = get_session()
    query = select(Participant).where(
        Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
    )
    only = parse_id(request.args.get("participant"))
    if only is None and not current_user.is_organizer:
        abort(403)
    if only is not None:
        query = query.where(Participant.id == only)
    participants = list(session.scalars(query.order_by(Participant.code, Participant.id)))
    if not participants:
        abort(404)
    if only is not None:
        audit.record(
            session,
            "sheet.print",
            event_id=event.id,
            user_id=current_user.id,
            participant_id=participants[0].id,
            target=participants[0],
        )
        session.commit()
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
