"""The organizer's view of preferences: overview, suggestion report, screening and the cap.

Besides reading, the organizer acts for participants who phone or write in: requests
made, changed or withdrawn and requests received accepted or declined on their behalf
(audited with the organizer's name), and an e-mail reminding those who have not stated
any preference yet of their link and the deadline.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from scheduler import event_setup, notifications, preferences, proposals, suggestions
from scheduler.errors import DeadlinePassed, ValidationFailed
from scheduler.models import (
    AuditEntry,
    Event,
    Interest,
    Need,
    Participant,
    ParticipantStatus,
    Phase,
    Proposal,
    ProposalStatus,
)
from web import mail_feedback
from web.auth import organizer_required
from web.database import get_session
from web.form_fields import IntegerField, NumberRange, TextAreaField
from web.i18n import translate_error
from web.ids import parse_id
from web.portal import profile_field_error
from web.preferences import LEVEL_LABELS, AnswerForm, LevelForm, send_attachment

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


def _closes_at(event: Event) -> datetime | None:
    """The closing time of the preferences phase (the participants' deadline), if set."""
    deadline = event_setup.phase_deadline(event, Phase.PREFERENCES)
    return deadline.closes_at if deadline is not None else None


def _last_reminder(event: Event) -> AuditEntry | None:
    """The latest reminder to state preferences sent for ``event``."""
    return mail_feedback.last_entry(event, "preference.remind")


def _overview_page(event: Event, form: SettingsForm) -> str:
    """The overview with ``form`` as given: fresh, or sent back with its mistakes (the
    proposal sheets and the reminder stay on the page either way)."""
    session = get_session()
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
        is_open=preferences.requests_open(event), closes_at=_closes_at(event),
        last_reminder=_last_reminder(event),
        reminder_state=mail_feedback.reminder_state,
        can_mail=mail_feedback.configured_mail() is not None,
    )


@bp.get("")
@organizer_required
def overview(event_id: int):  # type: ignore[no-untyped-def]
    """Requests per participant, most-wanted buyers, those without requests, mutual pairs."""
    event = _event(event_id)
    return _overview_page(event, SettingsForm(obj=event))


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
    return _overview_page(event, form), 400


@bp.post("/remind")
@organizer_required
def remind(event_id: int):  # type: ignore[no-untyped-def]
    """E-mail each participant that has neither asked for anyone nor answered anyone its
    link to its requests page, with the deadline (audited).

    Only while participants can still act on it: in the preferences phase, before its
    closing time. A second click within half an hour sends nothing, as for the outcome
    reminders (:func:`web.outcomes.remind`).
    """
    session = get_session()
    event = _event(event_id)
    back = url_for("preferences_admin.overview", event_id=event.id) + "#idle"
    if not preferences.requests_open(event):
        flash(
            _(
                "Reminders can be sent only while participants can make requests "
                "(in the preferences phase, until its closing time)."
            ),
            "error",
        )
        return redirect(back)
    idle = [c.participant for c in preferences.overview(session, event).without_requests]
    if not idle:
        flash(_("Everybody has asked for someone or answered a request."), "info")
        return redirect(back)
    mail_feedback.send_reminder(
        event, "preference.remind", current_user.id,
        lambda: notifications.preference_reminders(
            event, idle, closes_at=_closes_at(event),
            link_for=lambda p: url_for(
                "preferences.my_requests", token=p.access_token, _external=True
            ),
        ),
        lambda time, minutes: _(
            "A reminder to state preferences went out at %(time)s. Another can be "
            "sent %(minutes)s minutes after it.", time=time, minutes=minutes,
        ),
    )
    return redirect(back)


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
    # A level changed by phone must not cost the note the company wrote itself: an
    # empty note keeps it, and removing it is a choice of its own.
    # The company whose request the note was loaded from ("Change"): saved for another
    # company picked since, that note would go to the wrong counterpart.
    note_for = HiddenField()
    clear_note = BooleanField(
        lazy_gettext("Remove the note"),
        description=lazy_gettext(
            "Saved with an empty note, a request keeps the note the company already "
            "wrote; tick this to remove it."
        ),
    )


def _participant(event: Event, participant_id: int) -> Participant:
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    return participant


def _own_request(participant: Participant, counterpart_id: int | None) -> Interest | None:
    """``participant``'s request to ``counterpart_id``, if it made one (an answer or a
    proposal sheet is not a request, and its note is not the request's)."""
    if counterpart_id is None:
        return None
    interest = preferences.interest_between(get_session(), participant.id, counterpart_id)
    if interest is None or interest.source not in preferences.REQUEST_SOURCES:
        return None
    return interest


def _note_for_other(form: BehalfForm) -> bool:
    """Whether the form's note was loaded from the request to another company than the
    one now chosen (the organizer opened "Change" for one and picked another): then the
    note is refused once, so that it is not sent to the wrong company unread."""
    loaded_for = parse_id(form.note_for.data or "")
    if loaded_for is None or loaded_for == form.counterpart.data or not form.note.data:
        return False
    form.note.errors = [*form.note.errors, _(
        "This note was written for the request to another company: check it before "
        "saving it for this one."
    )]
    return True


def _behalf_open(event: Event) -> bool:
    """Whether the organizer may still change preferences (until the schedule is public)."""
    try:
        preferences.check_open(event, current_user.id)
    except DeadlinePassed:
        return False
    return True


def _requests_page(event: Event, participant: Participant) -> str:
    return url_for("preferences_admin.participant_requests",
                   event_id=event.id, participant_id=participant.id)


@bp.route("/participants/<int:participant_id>", methods=["GET", "POST"])
@organizer_required
def participant_requests(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """A participant's requests, changed by the organizer on its behalf (audited).

    Open until the schedule is published, also after the participants' deadline.
    Opened for one counterpart (``?counterpart=``, each request's "Change" link), the
    form shows that request's level and note to change.
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
        existing = _own_request(participant, counterpart)
        if existing is not None:
            form.level.data = str(existing.level)
            form.note.data = existing.note
            form.note_for.data = str(existing.to_participant_id)
    if form.validate_on_submit() and _note_for_other(form):
        # Shown again with what was typed; the note now counts as checked for this one.
        form.note_for.data = str(form.counterpart.data)
    elif form.is_submitted() and not form.errors:
        note = form.note.data or ""
        existing = _own_request(participant, form.counterpart.data)
        kept = False
        # The note was shown in the form for this very request ("Change"): what was sent
        # is what the organizer wants, an emptied note included. Otherwise an empty note
        # keeps the company's unless removing it was ticked.
        loaded_here = parse_id(form.note_for.data or "") == form.counterpart.data
        if (not note.strip() and not form.clear_note.data and not loaded_here
                and existing is not None and existing.note):
            note, kept = existing.note, True
        try:
            preferences.request_meeting(
                session, participant, form.counterpart.data, level=form.level_value,
                note=note, user_id=current_user.id,
            )
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("Saved."), "success")
            if kept:
                flash(_("The note the company wrote was kept (tick “Remove the note” to "
                        "remove it)."), "info")
            return redirect(_requests_page(event, participant))
    return render_template(
        "preferences_admin/participant.html", event=event, participant=participant,
        form=form, rows=preferences.my_requests(session, participant),
        incoming=preferences.incoming_requests(session, participant),
        remaining=preferences.remaining_requests(session, participant),
        level_labels=LEVEL_LABELS, behalf_open=_behalf_open(event),
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
    return redirect(_requests_page(event, participant))


@bp.post("/participants/<int:participant_id>/answer/<int:requester_id>")
@organizer_required
def answer_for(event_id: int, participant_id: int, requester_id: int):  # type: ignore[no-untyped-def]
    """Accept (with a level) or decline a request the participant received, for one that
    answered by phone or mail; audited with the organizer's name. The note or reason is
    shown to the requester, as the participant's own would be."""
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    form = AnswerForm()
    form.validate()
    accept = form.decision.data != "decline"
    try:
        preferences.answer_request(
            session, participant, requester_id, accept=accept, level=form.level_value,
            note=form.note.data or "", user_id=current_user.id,
        )
    except ValidationFailed as error:
        session.rollback()
        flash(translate_error(error), "error")
    else:
        session.commit()
        flash(_("Saved.") if accept else _("The request was declined."), "success")
    return redirect(_requests_page(event, participant) + f"#received-{requester_id}")
