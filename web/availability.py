"""Availability pages: the participant's own (``/p/<token>/availability``) and the
organizer's on someone's behalf (``/events/<id>/participants/<pid>/availability``).

Both show the same form: per day, the slot to arrive from and the slot to leave
by, single slots the participant cannot make, the most meetings it wants and, for
buyers, parallel desks. The per-day fields depend on the event's grid, so they are
read from the request by name (``arrive-<date>``, ``leave-<date>``, ``off``); the
fixed fields are a FlaskForm (CSRF included). On an error the page shows what was
typed, with the message next to the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField

from scheduler import availability, event_setup
from scheduler.errors import ValidationFailed
from scheduler.models import Event, Participant, ParticipantRole, Phase, Slot
from web.auth import organizer_required
from web.database import get_session
from web.i18n import translate_error
from web.participant_access import (
    PORTAL_PREFIX,
    PortalSection,
    current_participant,
    participant_required,
    register_portal_section,
)

bp = Blueprint("availability", __name__)

register_portal_section(PortalSection(
    "availability.edit", lazy_gettext("Availability"),
    lazy_gettext("When you are at the fair, and how many meetings you can take."),
    phases=frozenset({Phase.REGISTRATION, Phase.PREFERENCES, Phase.SCHEDULING}),
))


class AvailabilityForm(FlaskForm):
    """The fields that do not depend on the grid (numbers are parsed by the service)."""

    max_meetings = StringField(lazy_gettext("Meetings at most"))
    parallel_desks = SelectField(lazy_gettext("Parallel desks"), default="1")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.parallel_desks.choices = [
            SelectChoice(str(n), str(n)) for n in range(1, availability.MAX_PARALLEL_DESKS + 1)
        ]


@dataclass(frozen=True)
class DayView:
    """One day as the form shows it: slot ids as strings, so typed values come back."""

    date: date
    slots: tuple[Slot, ...]
    arrive: str
    leave: str
    off: frozenset[str]

    @property
    def label(self) -> str:
        """The date in the reader's language (e.g. 2027年2月17日水曜日)."""
        return str(format_date(self.date, "full"))


def _stored_days(participant: Participant) -> list[DayView]:
    return [
        DayView(d.date, d.slots, str(d.arrive_slot_id), str(d.leave_slot_id),
                frozenset(str(i) for i in d.unavailable_ids))
        for d in availability.current_availability(participant)
    ]


def _submitted_input(event: Event) -> availability.AvailabilityInput:
    windows = {}
    for day, slots in availability.day_grid(event):
        key = day.isoformat()
        windows[day] = (
            request.form.get(f"arrive-{key}", str(slots[0].id)),
            request.form.get(f"leave-{key}", str(slots[-1].id)),
        )
    return availability.AvailabilityInput(
        windows=windows, unavailable=request.form.getlist("off"),
        max_meetings=request.form.get("max_meetings", ""),
        parallel_desks=request.form.get("parallel_desks", "1"),
    )


def _submitted_days(event: Event, data: availability.AvailabilityInput) -> list[DayView]:
    off = frozenset(data.unavailable)
    return [
        DayView(day, slots, *data.windows[day], off)
        for day, slots in availability.day_grid(event)
    ]


def _edit(participant: Participant, *, user_id: int | None, done_url: str, template: str,
          is_open: bool, **context: object):  # type: ignore[no-untyped-def]
    """The shared GET/POST of both pages: load, or validate, save and redirect."""
    event = participant.event
    session = get_session()
    form = AvailabilityForm()
    field_errors: dict[str, str] = {}
    days = _stored_days(participant)
    if request.method == "GET":
        form.max_meetings.data = (
            "" if participant.max_meetings is None else str(participant.max_meetings)
        )
        form.parallel_desks.data = str(participant.parallel_desks)
    else:
        availability.check_editable(event, user_id)
        data = _submitted_input(event)
        days = _submitted_days(event, data)
        if form.validate_on_submit():
            try:
                availability.save_availability(session, participant, data, user_id=user_id)
            except ValidationFailed as error:
                session.rollback()
                # Every problem at its field (AvailabilityInvalid holds them all).
                for problem in getattr(error, "problems", [error]):
                    message = translate_error(problem)
                    if problem.field in form:
                        form[problem.field].errors = [*form[problem.field].errors, message]
                    field_errors[problem.field or "form"] = message
            else:
                session.commit()
                flash(_("Your availability was saved."), "success")
                return redirect(done_url)
    status = 400 if request.method == "POST" else 200
    return render_template(
        template, participant=participant, event=event, form=form, days=days,
        field_errors=field_errors, is_open=is_open,
        is_buyer=participant.role == ParticipantRole.BUYER,
        default_cap=event.default_max_meetings,
        limit=availability.max_meetings_limit(event, participant.parallel_desks),
        max_desks=availability.MAX_PARALLEL_DESKS, **context,
    ), status


@bp.route(f"{PORTAL_PREFIX}/availability", methods=["GET", "POST"])
@participant_required
def edit(token: str):  # type: ignore[no-untyped-def]
    """The participant's own availability (editable in the preferences phase)."""
    participant = current_participant()
    return _edit(
        participant, user_id=None, done_url=url_for("availability.edit"),
        template="availability/edit.html",
        is_open=availability.availability_open(participant.event),
    )


@bp.route("/events/<int:event_id>/participants/<int:participant_id>/availability",
          methods=["GET", "POST"])
@organizer_required
def edit_for(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """A participant's availability changed by the organizer on its behalf (audited)."""
    event = event_setup.get_event(get_session(), event_id)
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    return _edit(
        participant, user_id=current_user.id,
        done_url=url_for("availability.edit_for", event_id=event.id,
                         participant_id=participant.id),
        template="availability/edit_for.html",
        is_open=event.phase in availability.ORGANIZER_PHASES,
    )
