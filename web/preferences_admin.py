"""The organizer's view of preferences: overview, suggestion report, screening and the cap."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from scheduler import event_setup, preferences, proposals, suggestions
from scheduler.errors import ValidationFailed
from scheduler.models import (
    Event,
    Need,
    Participant,
    ParticipantStatus,
    Proposal,
    ProposalStatus,
)
from web.auth import organizer_required
from web.database import get_session
from web.form_fields import IntegerField, NumberRange
from web.ids import parse_id
from web.portal import profile_field_error
from web.preferences import LEVEL_LABELS, LevelForm, send_attachment

bp = Blueprint("preferences_admin", __name__, url_prefix="/events/<int:event_id>/preferences")


class SettingsForm(FlaskForm):
    screening_enabled = BooleanField(
        lazy_gettext("The receiving side screens requests (accept with a level or decline)")
    )
    max_requests = IntegerField(
        lazy_gettext("Requests per participant (cap)"),
        validators=[Optional(), NumberRange(min=0, max=1000)],
        description=lazy_gettext("Empty: no limit. A proposal sheet counts once per buyer."),
    )


def _event(event_id: int) -> Event:
    return event_setup.get_event(get_session(), event_id)


def _weight_table() -> list[tuple[object, list[int | None]]]:
    """The weight rule as a table: rows one side's level, columns the other's (0 = none)."""
    levels = [0, *reversed(preferences.LEVELS)]
    return [
        (LEVEL_LABELS.get(a, _("No request")),
         [preferences.pair_weight(a, b, False) for b in levels])
        for a in levels
    ]


@bp.get("")
@organizer_required
def overview(event_id: int):  # type: ignore[no-untyped-def]
    """Requests per participant, most-wanted buyers, those without requests, mutual pairs."""
    event = _event(event_id)
    session = get_session()
    form = SettingsForm(obj=event)
    sheets = session.scalars(
        select(Proposal)
        .where(Proposal.event_id == event.id, Proposal.status != ProposalStatus.WITHDRAWN)
        .options(
            selectinload(Proposal.need).selectinload(Need.participant)
            .selectinload(Participant.organization),
            selectinload(Proposal.supplier).selectinload(Participant.organization),
        )
        .order_by(Proposal.need_id, Proposal.id)
    ).all()
    return render_template(
        "preferences_admin/overview.html", event=event, form=form,
        result=preferences.overview(session, event), weights=_weight_table(),
        level_labels=LEVEL_LABELS, sheets=sheets,
        is_open=preferences.requests_open(event),
    )


@bp.post("/settings")
@organizer_required
def settings(event_id: int):  # type: ignore[no-untyped-def]
    """Turn screening on or off and set the request cap (audited)."""
    event = _event(event_id)
    session = get_session()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            preferences.update_settings(
                session, event, screening_enabled=bool(form.screening_enabled.data),
                max_requests=form.max_requests.data, user_id=current_user.id,
            )
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("preferences_admin.overview", event_id=event.id))
    return render_template(
        "preferences_admin/overview.html", event=event, form=form,
        result=preferences.overview(session, event), weights=_weight_table(),
        level_labels=LEVEL_LABELS, sheets=[], is_open=preferences.requests_open(event),
    ), 400


@bp.get("/suggestions")
@organizer_required
def suggestion_report(event_id: int):  # type: ignore[no-untyped-def]
    """How many suggestions were shown and how many were followed by a request."""
    event = _event(event_id)
    return render_template(
        "preferences_admin/suggestions.html", event=event,
        rows=suggestions.conversion_report(get_session(), event),
    )


@bp.get("/proposals/<int:proposal_id>/attachment")
@organizer_required
def attachment(event_id: int, proposal_id: int):  # type: ignore[no-untyped-def]
    """Organizers may read every sheet's attachment of their event."""
    return send_attachment(proposals.organizer_proposal(get_session(), event_id, proposal_id))


# --------------------------------------------------------------------------- on someone's behalf


class BehalfForm(LevelForm):
    """A request made by the organizer for a participant (e.g. one who phoned in)."""

    counterpart = SelectField(lazy_gettext("Counterpart"), coerce=int)
    # The participant's own note to the counterpart, shown on both schedules and sheets
    # as the meeting's purpose: nothing for the organizer's eyes only.
    note = TextAreaField(
        lazy_gettext("Note"), validators=[Length(max=preferences.MAX_NOTE_LENGTH)],
        description=lazy_gettext(
            "What the company would like to discuss (optional). The other company sees "
            "it on its schedule and sheet: nothing meant for the organizers only."
        ),
    )


def _participant(event: Event, participant_id: int) -> Participant:
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    return participant


@bp.route("/participants/<int:participant_id>", methods=["GET", "POST"])
@organizer_required
def participant_requests(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """A participant's requests, changed by the organizer on its behalf (audited).

    Open until the schedule is published, also after the participants' deadline.
    """
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    counterparts = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.role != participant.role,
               Participant.status == ParticipantStatus.APPROVED)
        .options(selectinload(Participant.organization))
        .order_by(Participant.code, Participant.id)
    ).all()
    form = BehalfForm()
    form.counterpart.choices = [
        SelectChoice(p.id, f"{p.code} {p.display_name}".strip()) for p in counterparts
    ]
    counterpart = parse_id(request.args.get("counterpart", ""))
    if request.method == "GET" and counterpart is not None:
        form.counterpart.data = counterpart
    if form.validate_on_submit():
        try:
            preferences.request_meeting(
                session, participant, form.counterpart.data, level=form.level_value,
                note=form.note.data or "", user_id=current_user.id,
            )
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("preferences_admin.participant_requests",
                                    event_id=event.id, participant_id=participant.id))
    return render_template(
        "preferences_admin/participant.html", event=event, participant=participant,
        form=form, rows=preferences.my_requests(session, participant),
        incoming=preferences.incoming_requests(session, participant),
        remaining=preferences.remaining_requests(session, participant),
        level_labels=LEVEL_LABELS,
    )


@bp.post("/participants/<int:participant_id>/withdraw/<int:counterpart_id>")
@organizer_required
def withdraw_for(event_id: int, participant_id: int, counterpart_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    preferences.withdraw_request(session, participant, counterpart_id, user_id=current_user.id)
    session.commit()
    flash(_("The request was withdrawn."), "success")
    return redirect(url_for("preferences_admin.participant_requests",
                            event_id=event.id, participant_id=participant.id))
