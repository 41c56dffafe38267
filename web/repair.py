"""Re-optimise the rest of the day: parameters, the preview, and applying it.

Organizers and staff may both run and apply it: on the day the organizer is often on
the floor, and whoever is at the console must be able to close the gaps a no-show
leaves while people wait. The change penalty (how much the plan may be disturbed)
is the organizer's choice: staff run with the value the organizer last used.
Nothing is applied without the preview page: applying posts the previewed run.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired

from scheduler import repair
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Event
from web import mail_feedback, staff
from web.auth import staff_required
from web.database import get_session
from web.form_fields import NumberRange
from web.i18n import translate_error

bp = Blueprint("repair", __name__, url_prefix="/events/<int:event_id>/day/repair")


class RepairForm(FlaskForm):
    change_penalty = IntegerField(
        lazy_gettext("Change penalty (cost of each changed meeting)"),
        validators=[InputRequired(), NumberRange(*repair.CHANGE_PENALTY_RANGE)],
    )


class ApplyForm(FlaskForm):
    """The apply button: only its CSRF token."""


@bp.context_processor
def _day_console() -> dict[str, object]:
    """What the day console's navigation and undo bar (staff/_daynav.html) read: these
    pages are part of the day, as the other day pages are."""
    return staff.day_context()


def _event(event_id: int) -> Event:
    event = get_session().get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


def reason_text(reason: tuple[str, dict[str, object]]) -> str:
    """One reason of a change in the reader's language."""
    msgid, params = reason
    return _(msgid, **params) if params else _(msgid)


@bp.route("", methods=["GET", "POST"])
@staff_required
def start(event_id: int):  # type: ignore[no-untyped-def]
    """The parameters, then a synchronous solve (about two seconds) and the preview."""
    session = get_session()
    event = _event(event_id)
    default = repair.default_change_penalty(session, event)
    form = RepairForm(data={"change_penalty": default})
    if form.validate_on_submit():
        penalty = form.change_penalty.data if current_user.is_organizer else default
        try:
            run = repair.prepare_repair(
                session, event, change_penalty=penalty, user_id=current_user.id
            )
        except (ValidationFailed, Conflict) as error:
            session.rollback()
            flash(translate_error(error), "error")
        else:
            session.commit()
            return redirect(url_for("repair.preview", event_id=event.id, run_id=run.id))
    return render_template(
        "repair/start.html",
        event=event,
        form=form,
        default=default,
        lead_minutes=repair.LEAD_MINUTES,
    )


@bp.get("/<int:run_id>")
@staff_required
def preview(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    """Kept, moved, cancelled and added meetings with the reasons, and who is affected."""
    session = get_session()
    event = _event(event_id)
    run = repair.get_repair_run(session, event, run_id)
    shown = repair.repair_preview(session, event, run)
    applied = repair.applied_entry(session, run) if shown.applied else None
    return render_template(
        "repair/preview.html",
        event=event,
        preview=shown,
        applied=applied,
        applied_changes=repair.applied_changes(session, applied),
        form=ApplyForm(),
        reason_text=reason_text,
        mail_on=mail_feedback.configured_mail() is not None,
        lead_minutes=repair.LEAD_MINUTES,
    )


@bp.post("/<int:run_id>/apply")
@staff_required
def apply(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    """Apply the previewed plan (Conflict when anything changed since), then e-mail."""
    session = get_session()
    event = _event(event_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("repair.preview", event_id=event.id, run_id=run_id))
    run = repair.get_repair_run(session, event, run_id)
    planned = repair.repair_preview(session, event, run)
    try:
        outcome = repair.apply_repair(session, event, planned, user=current_user)
    except Conflict as error:
        session.rollback()
        flash(translate_error(error), "error")
        return redirect(url_for("repair.preview", event_id=event.id, run_id=run_id))
    session.commit()
    flash(
        _(
            "Applied: %(moved)s moved, %(cancelled)s cancelled, %(added)s added.",
            moved=outcome.moved,
            cancelled=outcome.cancelled,
            added=outcome.added,
        ),
        "success",
    )
    _notify(event, outcome)
    return redirect(url_for("repair.preview", event_id=event.id, run_id=run_id))


def _notify(event: Event, outcome: repair.RepairOutcome) -> None:
    """E-mail the affected participants after the commit; failures are reported only."""
    mail_feedback.notify_changed(event, outcome.notify, on_the_day=True)
