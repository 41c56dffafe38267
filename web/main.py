"""The home page: the organizer's list of events."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from scheduler.models import Event, Participant, ParticipantStatus
from web.database import get_session

bp = Blueprint("main", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    session = get_session()
    counts = dict(
        session.execute(
            select(Participant.event_id, func.count(Participant.id))
            .where(Participant.status == ParticipantStatus.APPROVED)
            .group_by(Participant.event_id)
        ).all()
    )
    events = session.scalars(select(Event).order_by(Event.created_at.desc())).all()
    return render_template("main/index.html", events=events, counts=counts)


@bp.get("/favicon.ico")
def favicon():  # type: ignore[no-untyped-def]
    """Browsers and calendar apps ask for /favicon.ico whatever the page says."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    get_session().execute(select(1))
    return {"status": "ok"}
