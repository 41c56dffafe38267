"""The home page: the organizer's list of events, the current ones and the closed ones."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from scheduler.event_deletion import DELETE_ACTION
from scheduler.models import AuditEntry, Event, EventDay, Participant, ParticipantStatus, Phase
from web.database import get_session
from web.extensions import USER_LOAD_ERROR

bp = Blueprint("main", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        error = g.get(USER_LOAD_ERROR)
        if error is not None:
            raise error  # the database away: the error page, not the login form
        return redirect(url_for("auth.login"))
    session = get_session()
    counts = dict(
        session.execute(
            select(Participant.event_id, func.count(Participant.id))
            .where(Participant.status == ParticipantStatus.APPROVED)
            .group_by(Participant.event_id)
        ).all()
    )
    dates = (
        select(
            EventDay.event_id,
            func.min(EventDay.date).label("first_day"),
            func.max(EventDay.date).label("last_day"),
        )
        .group_by(EventDay.event_id)
        .subquery()
    )
    listed = (
        select(Event)
        .outerjoin(dates, dates.c.event_id == Event.id)
        .options(selectinload(Event.days))  # the dates on every card, in one query
    )
    # The fairs to prepare or run, soonest first; one without days yet has no place in
    # time and comes last. Closed fairs are an archive below, the latest on top.
    current = session.scalars(
        listed.where(Event.phase != Phase.CLOSED).order_by(
            dates.c.first_day.is_(None), dates.c.first_day, Event.id
        )
    ).all()
    closed = session.scalars(
        listed.where(Event.phase == Phase.CLOSED).order_by(
            dates.c.last_day.is_(None), dates.c.last_day.desc(), Event.id.desc()
        )
    ).all()
    # Who deleted which event and when: the one entry a deletion leaves (organizers only,
    # as deleting is theirs); the latest first, a few, the rest in the database.
    deleted = (
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == DELETE_ACTION)
            .order_by(AuditEntry.id.desc())
            .limit(DELETED_SHOWN)
        ).all()
        if current_user.is_organizer
        else []
    )
    return render_template(
        "main/index.html", events=current, closed=closed, counts=counts, deleted=deleted
    )


#: How many deletions the event list recalls.
DELETED_SHOWN = 20


@bp.get("/favicon.ico")
def favicon():  # type: ignore[no-untyped-def]
    """Browsers and calendar apps ask for /favicon.ico whatever the page says."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    get_session().execute(select(1))
    return {"status": "ok"}
