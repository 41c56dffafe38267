"""A participant's own pages, reached through its secret link ``/p/<token>/``.

Every view is wrapped in :func:`web.participant_access.participant_required` and
reads or changes only ``g.participant`` and what belongs to it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from scheduler import profiles
from scheduler.models import Phase
from scheduler.registration import other_registrations
from web.database import get_session
from web.participant_access import current_participant, participant_required, portal_sections

bp = Blueprint("portal", __name__, url_prefix="/p/<token>")

#: Phases in which a published schedule can exist.
SCHEDULE_PHASES = frozenset({Phase.PUBLISHED, Phase.ON_THE_DAY, Phase.CLOSED})


@bp.get("/")
@participant_required
def home(token: str):  # type: ignore[no-untyped-def]
    """Event, phase and deadlines, and what the participant should do now."""
    participant = current_participant()
    event = participant.event
    schedule_url = None
    if event.phase in SCHEDULE_PHASES and "schedules.page" in current_app.view_functions:
        schedule_url = url_for("schedules.page", token=participant.access_token)
    return render_template(
        "portal/home.html",
        participant=participant,
        event=event,
        editable=profiles.profile_editable(event),
        sections=portal_sections(participant),
        schedule_url=schedule_url,
        others=other_registrations(get_session(), participant),
    )


@bp.post("/profile/confirm")
@participant_required
def confirm_profile(token: str):  # type: ignore[no-untyped-def]
    """The company's profile is still right for this event."""
    participant = current_participant()
    profiles.confirm_profile(get_session(), participant)
    get_session().commit()
    flash(_("Thank you: your company profile is confirmed for this event."), "success")
    return redirect(url_for("portal.home"))
