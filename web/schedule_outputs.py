"""What organizers and staff take out of a schedule: the whole-event calendar feed,
printed sheets, table signs and the reception grid, and CSV/Excel exports."""

from __future__ import annotations

import io
import re
import unicodedata
from ipaddress import ip_address
from urllib.parse import quote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import audit, calendars, event_setup, printing, sheet_builds
from scheduler.db import utcnow
from scheduler.errors import NotFound
from scheduler.i18n import N_
from scheduler.models import Event, Participant, ParticipantStatus, SheetBuild, SheetBuildStatus
from scheduler.schedule_export import export_labels, schedule_csv, schedule_xlsx
from scheduler.schedule_view import is_published, personal_schedule, personal_schedules
from web.auth import organizer_required, staff_required
from web.database import get_session
from web.derived_tokens import event_token, event_token_matches
from web.ids import parse_id
from web.preferences import uploads_dir
from web.read_snapshot import begin_snapshot, snapshot_reads
from web.schedules import (
    calendar_response,
    pdf_response,
    sheets_html,
    sheets_pdf_response,
    subscription_links,
)

bp = Blueprint("schedule_outputs", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# While every company's sheets are printed, their page asks how far they are this often
# (status.json, updating the page in place: a reload would throw a screen reader back to
# the top and lose the keyboard focus); without script it reloads itself, less often.
BUILD_STATUS_POLL_SECONDS = 3
BUILD_PAGE_REFRESH_SECONDS = 10


def link_base() -> str:
    """The address (``scheme://host[:port]``) that links leaving the site are built on,
    by the app's one rule (:class:`web.MatchfairFlask`): ``PUBLIC_URL`` when it is set,
    else the host of this request."""
    path = url_for("schedules.page", token="-")
    return url_for("schedules.page", token="-", _external=True).removesuffix(path)


def unreachable_link_base(base: str) -> bool:
    """Whether participants' phones cannot open links on ``base``: it names the server
    itself (loopback: 127.0.0.0/8, ::1, localhost) or no usable address (0.0.0.0,
    link-local), as when the organizer opened the site on the server's own browser."""
    host = (urlsplit(base).hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False  # a name: the organizer's own choice
    address = getattr(address, "ipv4_mapped", None) or address
    return address.is_loopback or address.is_unspecified or address.is_link_local


def _qr_warning(base: str) -> str | None:
    """``base`` when the QR codes printed on it would be useless to participants."""
    return base if unreachable_link_base(base) else None


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
    build = sheet_builds.latest_build(get_session(), event) if current_user.is_organizer else None
    # Sheets of a schedule changed since are not offered as ready (QA 3).
    outdated = build is not None and build.status == SheetBuildStatus.DONE
    outdated = outdated and not _is_current(event, build)
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
        sheet_build=build,
        sheet_build_lost=build is not None and sheet_builds.is_lost(build),
        sheet_build_outdated=outdated,
        qr_warning=_qr_warning(link_base()),
    )


@bp.post("/events/<int:event_id>/schedule/outputs/reissue-staff-links")
@organizer_required
def reissue_staff_links(event_id: int):  # type: ignore[no-untyped-def]
    """New secret links for the staff calendar and the hall boards; the old ones stop."""
    event = _event(event_id)
    session = get_session()
    event_setup.reissue_staff_links(
        session, event, user_id=current_user.id, old_feed_token=staff_feed_token(event.id)
    )
    session.commit()
    flash(
        _(
            "New staff links were issued: hall board links given out before no longer "
            "open, and calendars subscribed to the old staff calendar are emptied. Give "
            "the new ones to the staff."
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
        # The address before a re-issue, or of a deleted event: an empty calendar, so
        # calendar apps remove the meetings (on a 404 they would keep them).
        retired = calendars.retired_feed(get_session(), token)
        if retired is None:
            abort(404)
        return calendar_response(retired, "matchfair-all.ics")
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
    """One company's sheet (``?participant=<id>``), printed at once.

    Each sheet's QR code is the company's secret link, which opens and changes its
    pages: staff print one company's sheet at a time (at the desk, for the company in
    front of them; recorded in the audit log), not every company's links at once.
    Every company's sheets are for organizers, prepared in the background
    (:func:`prepare_sheets`); this address without a company leads there.
    """
    event = _event(event_id)
    session = get_session()
    only = parse_id(request.args.get("participant"))
    if only is None:
        if not current_user.is_organizer:
            abort(403)
        flash(
            _(
                "Every company's sheets are now prepared in the background: press "
                "“Prepare every company's sheets” and download them when they are ready."
            ),
            "info",
        )
        return redirect(url_for("schedule_outputs.index", event_id=event.id, _anchor="sheets"))
    participant = session.scalar(
        select(Participant).where(
            Participant.event_id == event.id,
            Participant.status == ParticipantStatus.APPROVED,
            Participant.id == only,
        )
    )
    if participant is None:
        abort(404)
    audit.record(
        session,
        "sheet.print",
        event_id=event.id,
        user_id=current_user.id,
        participant_id=participant.id,
        target=participant,
    )
    session.commit()
    # Printed for one company on the fair day (a walk-in): free slots still to come only.
    sheet = printing.company_sheet(
        personal_schedule(session, participant, now=utcnow()),
        url_for("schedules.page", token=participant.access_token, _external=True),
    )
    # Named for the company, not as the file of every company's sheets (QA): its code,
    # else its id.
    name = f"sheet-{event.slug}-{_file_part(participant.code or '') or participant.id}.pdf"
    response = sheets_pdf_response(event, [sheet], name)
    response.headers.set("Content-Disposition", "inline", **_file_names(name))
    return response


def _file_part(text: str) -> str:
    """``text`` fit for a file name: what is not a letter, digit, ``-`` or ``_`` becomes
    ``-`` (a code is typed by organizers and may hold a slash or a space)."""
    return re.sub(r"[^\w-]+", "-", text.strip()).strip("-")


def _file_names(name: str) -> dict[str, str]:
    """The Content-Disposition parameters naming a file ``name``, as :func:`flask.send_file`
    writes them: a name beyond ASCII also as RFC 5987 ``filename*`` (UTF-8), with an ASCII
    ``filename`` for older clients."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return {"filename": simple, "filename*": f"UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"}
    return {"filename": name}


def _approved_participants(event: Event) -> list[Participant]:
    return list(
        get_session().scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
            .order_by(Participant.code, Participant.id)
        )
    )


def _every_sheet(event: Event, base: str) -> tuple[list[sheet_builds.Part], int, str]:
    """Every approved company's sheet as HTML, in parts of ``SHEETS_PER_PART`` sheets,
    how many sheets, and their :func:`~scheduler.sheet_builds.content_stamp`; read from
    one snapshot (a publication meanwhile is either in all of them or in none), which
    ends here (the caller may write next).

    The QR codes link to the company pages on ``base`` (:func:`link_base` when the
    sheets are prepared, the build's own when they are compared): the same sheets are
    the same HTML whatever host name the organizer looking at them typed.

    Queries are a fixed number whatever the fair's size; QR codes are left to the
    printing process (placeholders naming each link), so a 950-company fair takes a few
    seconds here.
    """
    session = get_session()
    begin_snapshot(session)
    session.refresh(event)  # published or not, as of the snapshot
    stamp = sheet_builds.content_stamp(session, event)
    participants = _approved_participants(event)
    schedules = personal_schedules(session, event, participants)
    sheets = [
        printing.company_sheet(
            schedule,
            base + url_for("schedules.page", token=schedule.participant.access_token),
            draw_qr=False,
        )
        for schedule in schedules
    ]
    size = sheet_builds.SHEETS_PER_PART
    parts = [
        sheet_builds.Part(sheets_html(event, sheets[i : i + size]), len(sheets[i : i + size]))
        for i in range(0, len(sheets), size)
    ]
    session.commit()  # ends the snapshot
    return parts, len(sheets), stamp


# Builds compared in full by this process: (build, its key, the content stamp) -> current.
# A stamp that changed for something the sheets do not show is compared once, not on
# every view of the pages.
_compared: dict[tuple[int, str, str], bool] = {}
_COMPARED_KEPT = 200


def _build_links(build: SheetBuild) -> str:
    """The address the QR codes of ``build`` link to (this request's for builds
    prepared before it was recorded)."""
    recorded = sheet_builds.build_parameters(get_session(), build).get(sheet_builds.LINKS)
    return recorded or link_base()


def _is_current(event: Event, build: SheetBuild, *, thorough: bool = False) -> bool:
    """Whether ``build`` shows every sheet as it is now, whoever asks at whatever host
    (but not when ``PUBLIC_URL`` names another address than its QR codes have).

    The sheets are rendered again with the build's own links and compared
    (:func:`_every_sheet`: 0.4 s for the 192 companies of the demo fair). Pages check
    the cheap :func:`~scheduler.sheet_builds.content_stamp` first and render only when
    it changed; ``thorough`` (the PDF itself) always renders.
    """
    parameters = sheet_builds.build_parameters(get_session(), build)
    base = parameters.get(sheet_builds.LINKS) or link_base()
    if current_app.config.get("PUBLIC_URL") and base.rstrip("/") != link_base().rstrip("/"):
        # The site's public address was set or changed since: these QR codes point at
        # the old one. (Without PUBLIC_URL, the host each viewer typed does not count.)
        return False
    if not thorough:
        stamp = sheet_builds.content_stamp(get_session(), event)
        if stamp == parameters.get(sheet_builds.STAMP):
            return True
        known = _compared.get((build.id, build.content_key, stamp))
        if known is not None:
            return known
    parts, _count, stamp = _every_sheet(event, base)
    current = sheet_builds.content_key(parts) == build.content_key
    if len(_compared) >= _COMPARED_KEPT:
        _compared.clear()
    _compared[(build.id, build.content_key, stamp)] = current
    return current


def _sheet_build(event: Event, build_id: int) -> SheetBuild | None:
    build = get_session().get(SheetBuild, build_id, populate_existing=True)
    return build if build is not None and build.event_id == event.id else None


def _to_build(build: SheetBuild):  # type: ignore[no-untyped-def]
    return redirect(
        url_for("schedule_outputs.sheets_build", event_id=build.event_id, build_id=build.id)
    )


def _build_gone(event: Event):  # type: ignore[no-untyped-def]
    flash(
        _(
            "These sheets are no longer kept: newer ones replaced them. Prepare the sheets "
            "again to print the schedule as it is now."
        ),
        "info",
    )
    return redirect(url_for("schedule_outputs.index", event_id=event.id, _anchor="sheets"))


@bp.post("/events/<int:event_id>/print/sheets")
@organizer_required
def prepare_sheets(event_id: int):  # type: ignore[no-untyped-def]
    """Every approved company's sheet in one PDF, printed by a process of its own
    (:mod:`scheduler.sheet_builds`): a large fair takes minutes, far too long for a
    request. Sheets already printed with the same content are not printed again."""
    event = _event(event_id)
    printing.check_printing()  # not set up: the same clear message as printing at once
    session = get_session()
    base = link_base()
    parts, count, stamp = _every_sheet(event, base)
    if not count:
        flash(_("No company is approved yet: there are no sheets to print."), "error")
        return redirect(url_for("schedule_outputs.index", event_id=event.id, _anchor="sheets"))
    uploads = uploads_dir()
    build, start = sheet_builds.claim(
        session,
        event,
        sheet_builds.content_key(parts),
        sheets=count,
        uploads=uploads,
        user_id=current_user.id,
    )
    # Whoever prepares them can read every company's secret link (its QR code).
    audit.record(
        session,
        sheet_builds.PREPARE_ACTION,
        event_id=event.id,
        user_id=current_user.id,
        target=build,
        details={
            "sheets": count,
            "printed": start,  # False: printed or printing already
            # What the build was made with: its QR codes' address and the content stamp.
            sheet_builds.LINKS: base,
            sheet_builds.STAMP: stamp,
        },
    )
    session.commit()
    if start:
        try:
            sheet_builds.write_input(uploads, build, parts)
            sheet_builds.launch(uploads, build, current_app.config["DATABASE_URL"])
        except OSError as error:
            current_app.logger.exception("could not start sheet build %s", build.id)
            sheet_builds.fail(
                session, build, f"{sheet_builds.NOT_STARTED}\n{type(error).__name__}: {error}"
            )
            session.commit()
    return _to_build(build)


@bp.get("/events/<int:event_id>/print/sheets/<int:build_id>")
@organizer_required
def sheets_build(event_id: int, build_id: int):  # type: ignore[no-untyped-def]
    """Where a build of every company's sheets stands: printing (the page follows it
    through :func:`sheets_build_status`), ready to download, or failed with what to do."""
    event = _event(event_id)
    build = _sheet_build(event, build_id)
    if build is None:
        return _build_gone(event)
    session = get_session()
    sheet_builds.check_alive(session, build)  # its process gone: failed, not "printing"
    session.commit()
    # Printed sheets of a schedule changed since are not shown as ready (QA 3).
    outdated = build.status == SheetBuildStatus.DONE and not _is_current(event, build)
    return _build_page(event, build, outdated=outdated)


def _build_page(event: Event, build: SheetBuild, *, outdated: bool = False):  # type: ignore[no-untyped-def]
    return render_template(
        "schedules/sheets_build.html",
        event=event,
        build=build,
        outdated=outdated,
        refresh_seconds=BUILD_PAGE_REFRESH_SECONDS,
        poll_seconds=BUILD_STATUS_POLL_SECONDS,
        qr_warning=_qr_warning(_build_links(build)),
    )


def build_progress_text(build: SheetBuild) -> str:
    """How far a running build is, in the words of its page."""
    if build.sheets_done:
        return ngettext(
            "%(done)s of %(num)d company's sheets printed.",
            "%(done)s of %(num)d companies' sheets printed.",
            build.sheets,
            done=build.sheets_done,
        )
    return ngettext(
        "Printing the sheet of %(num)d company…",
        "Printing the sheets of %(num)d companies…",
        build.sheets,
    )


@bp.get("/events/<int:event_id>/print/sheets/<int:build_id>/status.json")
@organizer_required
def sheets_build_status(event_id: int, build_id: int):  # type: ignore[no-untyped-def]
    """Where a build stands, for its page to show without reloading itself. Once it is
    no longer printing the page fetches itself once (ready, out of date or failed)."""
    event = _event(event_id)
    build = _sheet_build(event, build_id)
    if build is None:
        return jsonify({"status": "gone", "finished": True}), 404
    session = get_session()
    sheet_builds.check_alive(session, build)  # its process gone: failed, not "printing"
    session.commit()
    running = build.status == SheetBuildStatus.RUNNING
    return jsonify(
        {
            "status": str(build.status),
            "finished": not running,
            "sheets": build.sheets,
            "sheets_done": build.sheets_done or 0,
            "progress": build_progress_text(build) if running else "",
        }
    )


@bp.get("/events/<int:event_id>/print/sheets/<int:build_id>.pdf")
@organizer_required
def sheets_build_pdf(event_id: int, build_id: int):  # type: ignore[no-untyped-def]
    """The printed sheets, if they still show the schedule as it is now.

    The sheets are rendered again to compare (a few seconds for a large fair), with the
    links the build was made with: a meeting moved while they were printed, or since,
    must not reach the paper, while the host name the organizer typed does not matter.
    """
    event = _event(event_id)
    build = _sheet_build(event, build_id)
    if build is None:
        return _build_gone(event)
    if build.status != SheetBuildStatus.DONE:
        return _to_build(build)
    session = get_session()
    path = sheet_builds.pdf_file(uploads_dir(), build)
    if not path.is_file():
        sheet_builds.fail(session, build, sheet_builds.FILE_GONE, was=SheetBuildStatus.DONE)
        session.commit()
        return _to_build(build)
    if not _is_current(event, build, thorough=True):
        return _build_page(event, build, outdated=True), 409
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=False,
        download_name=f"sheets-{event.slug}.pdf",
        conditional=True,
        max_age=0,
    )
    response.cache_control.private = True  # every company's secret link: no shared cache
    return response


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
