"""Organizer set-up of an event: details, days and slot grid, rooms and tables, phases."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from scheduler import event_copy, event_deletion, event_setup, outcomes, runs
from scheduler.db import utcnow
from scheduler.errors import Conflict, ValidationFailed
from scheduler.models import (
    Event,
    EventDay,
    Participant,
    ParticipantStatus,
    Phase,
    Room,
    Slot,
    Table,
)
from web import mail_feedback
from web.auth import organizer_required, staff_required
from web.database import get_session
from web.filters import PHASE_LABELS, listing, local_datetime
from web.form_fields import IntegerField, NumberRange, typed_email
from web.i18n import translate_error, translate_message
from web.ids import parse_id
from web.schedule_outputs import staff_feed_token

bp = Blueprint("events", __name__, url_prefix="/events")

COMMON_ZONES = [
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
]


def _zone_choices() -> list[tuple[str, str]]:
    rest = sorted(z for z in available_timezones() if "/" in z and z not in COMMON_ZONES)
    return [SelectChoice(z) for z in COMMON_ZONES + rest]


class EventForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(lazy_gettext("Short name for links and files"), validators=[Optional()])
    venue = StringField(lazy_gettext("Venue"), validators=[Optional(), Length(max=300)])
    address = StringField(lazy_gettext("Address"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(lazy_gettext("Description"), validators=[Optional()])
    timezone = SelectField(lazy_gettext("Time zone"), default="Asia/Tokyo")
    contact_email = EmailField(
        lazy_gettext("Contact e-mail"),
        validators=[Optional(), Email(), Length(max=254)],
        filters=[typed_email],  # the one spelling, as every other e-mail field
    )
    max_requests = IntegerField(
        lazy_gettext("Requests per participant (cap)"),
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    default_max_meetings = IntegerField(
        lazy_gettext("Meetings per participant (default cap)"),
        # 0 would leave everyone without a cap of their own with no meeting (QA).
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=200,
                message=lazy_gettext(
                    "Enter a number from %(min)s to %(max)s, or leave it empty for no cap."
                ),
            ),
        ],
    )
    screening_enabled = BooleanField(
        lazy_gettext("The receiving side screens requests"), default=True
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = _zone_choices()

    def details(self) -> dict[str, object]:
        return {
            "name": self.name.data,
            "slug": (self.slug.data or "").strip(),
            "venue": (self.venue.data or "").strip(),
            "address": (self.address.data or "").strip(),
            "description": (self.description.data or "").strip(),
            "timezone": self.timezone.data,
            "contact_email": (self.contact_email.data or "").strip(),
            "max_requests": self.max_requests.data,
            "default_max_meetings": self.default_max_meetings.data,
            "screening_enabled": bool(self.screening_enabled.data),
        }


class CopyForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name of the new event"), validators=[DataRequired(), Length(max=200)]
    )
    # Shown, ticked or not, only while another event has the name typed: two events of
    # one name are two identical cards, but a second fair may knowingly share it.
    same_name_ok = BooleanField(lazy_gettext("Use this name anyway"))
    slug = StringField(lazy_gettext("Short name for links and files"), validators=[Optional()])
    first_day = DateField(lazy_gettext("First day of the new fair"), validators=[Optional()])
    # A new random value each time the empty form is opened, recorded with the copy it
    # makes: the same value again is this form sent again (a double click, Back and
    # resend), which leads to that copy instead of making a second one.
    attempt = HiddenField()


class DeleteForm(FlaskForm):
    confirmation = StringField(
        lazy_gettext("Type the event's name (or its short name) to confirm"),
        validators=[DataRequired()],
    )
    delete_companies = BooleanField(default=True)


class DayForm(FlaskForm):
    date = DateField(lazy_gettext("Date"), validators=[DataRequired()])
    start_time = TimeField(
        lazy_gettext("First meeting starts"), validators=[DataRequired()], default=time(10, 0)
    )
    end_time = TimeField(
        lazy_gettext("Last meeting ends by"), validators=[DataRequired()], default=time(17, 0)
    )
    meeting_minutes = IntegerField(
        lazy_gettext("Meeting length (minutes)"),
        default=25,
        validators=[InputRequired(), NumberRange(min=5, max=240)],
    )
    changeover_minutes = IntegerField(
        lazy_gettext("Changeover (minutes)"),
        default=5,
        validators=[Optional(), NumberRange(min=0, max=120)],
    )
    # A callable: the label of the suggested break follows the reader's language.
    breaks = TextAreaField(lazy_gettext("Breaks"), default=lambda: f"12:00-13:00 {_('Lunch')}")
    # Shown, ticked or not, only while the end typed is before the start: an end before
    # the start is refused as a slip unless the organizer says the day runs overnight.
    overnight = BooleanField(lazy_gettext("The day runs past midnight"))

    def plan(self) -> event_setup.DayPlan:
        return event_setup.DayPlan(
            date=self.date.data,
            start=self.start_time.data,
            end=self.end_time.data,
            meeting_minutes=self.meeting_minutes.data,
            changeover_minutes=self.changeover_minutes.data or 0,
            breaks=event_setup.parse_breaks(self.breaks.data or ""),
            overnight=bool(self.overnight.data),
        )

    def fingerprint(self, plan: event_setup.DayPlan) -> str:
        """A short digest of ``plan``: the preview carries it with its Save button, so a
        save after the fields were changed is not taken for the grid that was shown."""
        text = repr((
            plan.date.isoformat(),
            f"{plan.start:%H:%M}",
            f"{plan.end:%H:%M}",
            plan.meeting_minutes,
            plan.changeover_minutes,
            [(f"{b.start:%H:%M}", f"{b.end:%H:%M}", b.label) for b in plan.breaks],
            plan.overnight,
        ))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def ends_before_start(self) -> bool:
        """Whether the end typed is before the start (the overnight box is then shown)."""
        start, end = self.start_time.data, self.end_time.data
        return bool(start and end and end < start)


class SlotForm(FlaskForm):
    date = DateField(lazy_gettext("Date"), validators=[DataRequired()])
    start = TimeField(lazy_gettext("Start"), validators=[DataRequired()])
    end = TimeField(lazy_gettext("End"), validators=[DataRequired()])
    label = StringField(lazy_gettext("Label"), validators=[Optional(), Length(max=50)])


class RoomForm(FlaskForm):
    name = StringField(lazy_gettext("Room name"), validators=[DataRequired(), Length(max=100)])


class RenameRoomForm(FlaskForm):
    """A room's new name, one small form per room on the rooms page."""

    room = HiddenField()
    name = StringField(lazy_gettext("New name"), validators=[DataRequired(), Length(max=100)])


class TablesForm(FlaskForm):
    room = SelectField(lazy_gettext("Room"), coerce=int)
    labels = StringField(
        lazy_gettext("Table labels"),
        validators=[DataRequired()],
        description=lazy_gettext("A range such as A01-A40, or a list: T1, T2, T3"),
    )


class PhasesForm(FlaskForm):
    phase = SelectField(
        lazy_gettext("Current phase"),
        choices=[SelectChoice(p.value, PHASE_LABELS[p]) for p in Phase],
    )


for _phase in Phase:
    setattr(
        PhasesForm,
        f"{_phase.value}_opens",
        DateTimeLocalField(lazy_gettext("Opens"), validators=[Optional()], format="%Y-%m-%dT%H:%M"),
    )
    setattr(
        PhasesForm,
        f"{_phase.value}_closes",
        DateTimeLocalField(
            lazy_gettext("Closes"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
        ),
    )


def _load(event_id: int) -> Event:
    return event_setup.get_event(get_session(), event_id)


def _field_error(form: FlaskForm, error: ValidationFailed) -> None:
    """Show a service's error next to the field it names (or above the form)."""
    message = translate_error(error)
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, message]
    else:
        form.form_errors.append(message)


# --------------------------------------------------------------------------- event


@bp.route("/new", methods=["GET", "POST"])
@organizer_required
def create():  # type: ignore[no-untyped-def]
    form = EventForm()
    if form.validate_on_submit():
        session = get_session()
        details = form.details()
        name = details.pop("name")
        try:
            event = event_setup.create_event(
                session, name=str(name), user_id=current_user.id, **details
            )
        except ValidationFailed as error:
            session.rollback()
            _field_error(form, error)
        else:
            session.commit()
            flash(_("The event was created. Next, add its days and slot grid."), "success")
            return redirect(url_for("events.show", event_id=event.id))
    return render_template("events/form.html", form=form, event=None)


@bp.get("/<int:event_id>")
@staff_required
def show(event_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    counts = dict(
        session.execute(
            select(Participant.role, func.count(Participant.id))
            # Taking part: registrations waiting, declined or withdrawn are not.
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
            .group_by(Participant.role)
        ).all()
    )
    tables = session.scalar(select(func.count(Table.id)).where(Table.event_id == event.id)) or 0
    hosted = (
        session.scalar(
            select(func.count(Table.id)).where(
                Table.event_id == event.id, Table.host_participant_id.is_not(None)
            )
        )
        or 0
    )
    # Staff see the set-up too, but link only to the pages they may open (the others,
    # organizers only, would answer 403): without a link the item shows as plain text.
    organizer = current_user.is_organizer
    checklist = [
        (_("Days and slot grid"), bool(event.slots), url_for("events.days", event_id=event.id)),
        (
            _("Rooms and tables"),
            tables > 0,
            url_for("events.rooms", event_id=event.id) if organizer else None,
        ),
        (
            _("Phases and deadlines"),
            any(p.closes_at for p in event.phases),
            url_for("events.phases", event_id=event.id) if organizer else None,
        ),
        (_("Participants"), bool(counts), _participants_url(event.id)),
    ]
    return render_template(
        "events/show.html",
        event=event,
        counts=counts,
        tables=tables,
        hosted=hosted,
        checklist=checklist,
        next_step=_next_step(event) if all(done for _l, done, _h in checklist) else None,
        results=_results_so_far(event),
    )


def _next_step(event: Event) -> tuple[str, str, str] | None:
    """Once every set-up item is done, what the organizer does next in the event's
    phase: (sentence, link label, link), or None (staff, a closed fair, a page this
    app lacks)."""
    if not current_user.is_organizer:
        return None
    endpoints = current_app.view_functions
    phases = (_("Phases"), url_for("events.phases", event_id=event.id))
    step: tuple[str, tuple[str, str]] | None = None
    if event.phase == Phase.REGISTRATION:
        step = (
            _(
                "Next: when registration is over, move the event to the phase %(phase)s, "
                "so that participants state whom they want to meet.",
                phase=PHASE_LABELS[Phase.PREFERENCES],
            ),
            phases,
        )
    elif event.phase == Phase.PREFERENCES and "preferences_admin.overview" in endpoints:
        step = (
            _(
                "Next: see that every participant states its requests with its own link "
                "(reminders on the Requests page); after the deadline, move the event to "
                "the phase %(phase)s.",
                phase=PHASE_LABELS[Phase.SCHEDULING],
            ),
            (_("Requests"), url_for("preferences_admin.overview", event_id=event.id)),
        )
    elif event.phase == Phase.SCHEDULING and event.published_at is not None:
        step = (
            _(
                "Next: the schedule is published; move the event to the phase %(phase)s, "
                "so that participants are pointed to their schedule.",
                phase=PHASE_LABELS[Phase.PUBLISHED],
            ),
            phases,
        )
    elif event.phase == Phase.SCHEDULING:
        step = (
            _("Next: make the schedule, check it and publish it."),
            (_("Schedule"), url_for("runs.index", event_id=event.id)),
        )
    elif event.phase == Phase.PUBLISHED:
        step = (
            _(
                "Next: on the fair's first day, move the event to the phase %(phase)s, so "
                "that participants can report on their meetings.",
                phase=PHASE_LABELS[Phase.ON_THE_DAY],
            ),
            phases,
        )
    elif event.phase == Phase.ON_THE_DAY and "staff.home" in endpoints:
        step = (
            _("Next: follow the day's meetings and arrivals on the page On the day."),
            (_("On the day"), url_for("staff.home", event_id=event.id)),
        )
    if step is None:
        return None
    text, (label, href) = step
    return text, label, href


def _results_so_far(event: Event) -> outcomes.FairResults | None:
    """On the day and after: what the participants have reported (organizers only)."""
    from flask import current_app

    if (
        not current_user.is_organizer
        or event.phase not in (Phase.ON_THE_DAY, Phase.CLOSED)
        or "outcomes.results" not in current_app.view_functions
    ):
        return None
    results = outcomes.fair_results(get_session(), event, utcnow())
    return results if results.started else None


def _participants_url(event_id: int) -> str | None:
    from flask import current_app

    if "participants_admin.index" in current_app.view_functions:
        return url_for("participants_admin.index", event_id=event_id)
    return None


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(event_id: int):  # type: ignore[no-untyped-def]
    event = _load(event_id)
    form = EventForm(obj=event)
    if form.validate_on_submit():
        session = get_session()
        try:
            event_setup.update_event(session, event, user_id=current_user.id, **form.details())
        except ValidationFailed as error:
            session.rollback()  # nothing half-changed stays in the session
            _field_error(form, error)
        else:
            session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("events.show", event_id=event.id))
    return render_template("events/form.html", form=form, event=event)


@bp.route("/<int:event_id>/copy", methods=["GET", "POST"])
@organizer_required
def copy(event_id: int):  # type: ignore[no-untyped-def]
    """Copy the event's set-up for next year's fair: new name, slug and first day."""
    session = get_session()
    source = _load(event_id)
    form = CopyForm()
    if request.method == "GET":
        first_day = event_copy.suggest_first_day(source)
        form.first_day.data = first_day
        form.name.data = event_copy.suggest_name(source, first_day)
        form.slug.data = event_copy.suggest_slug(session, source, first_day)
        form.attempt.data = secrets.token_urlsafe(12)
    plan = None
    slug_holder = None  # a copy of this event that already has the slug typed
    if request.method == "GET" or form.validate_on_submit():
        try:
            if request.form.get("action") == "copy":
                event = event_copy.copy_event(
                    session,
                    source,
                    name=form.name.data or "",
                    slug=form.slug.data,
                    first_day=form.first_day.data,
                    user_id=current_user.id,
                    attempt=(form.attempt.data or "")[:64],
                    same_name_ok=bool(form.same_name_ok.data),
                )
                session.commit()
                flash(
                    _(
                        "The copy was created in the phase %(phase)s. Check its details, "
                        "days and deadlines; participants register anew.",
                        phase=PHASE_LABELS[Phase.REGISTRATION],
                    ),
                    "success",
                )
                return redirect(url_for("events.show", event_id=event.id))
            event_copy.check_first_day(source, form.first_day.data)
            plan = event_copy.plan_copy(session, source, form.first_day.data)
        except event_copy.CopiedBefore as again:
            # The same form sent again (a double click, Back and resend): its copy
            # exists, and is where the organizer meant to go.
            session.rollback()
            flash(
                _(
                    "%(name)s was already created by this form: no second copy was made.",
                    name=again.event.name,
                ),
                "info",
            )
            return redirect(url_for("events.show", event_id=again.event.id))
        except ValidationFailed as error:
            session.rollback()
            _field_error(form, error)
            if error.field == "slug" and error.params.get("slug"):
                # Most likely the same copy made from another tab or window: say so,
                # rather than only that the short name is taken.
                slug_holder = event_copy.copy_using_slug(session, source, str(error.params["slug"]))
    if plan is None:  # the lists of what is copied, without new dates until one is valid
        plan = event_copy.plan_copy(session, source, None)
    return render_template(
        "events/copy.html",
        event=source,
        form=form,
        plan=plan,
        source_first_day=event_copy.source_first_day(source),
        namesake=event_copy.event_named(session, form.name.data or ""),
        slug_holder=slug_holder,
    )


def _uploads_dir() -> Path:
    """Where uploads of every event are kept (``INSTANCE_UPLOADS``); not created here."""
    configured = current_app.config.get("INSTANCE_UPLOADS")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


@bp.route("/<int:event_id>/delete", methods=["GET", "POST"])
@organizer_required
def delete(event_id: int):  # type: ignore[no-untyped-def]
    """Delete the event and everything of it, after the organizer typed its name."""
    session = get_session()
    event = _load(event_id)
    form = DeleteForm()
    if form.validate_on_submit():
        try:
            deleted = event_deletion.delete_event(
                session,
                event,
                confirmation=form.confirmation.data or "",
                delete_companies=bool(form.delete_companies.data),
                user_id=current_user.id,
                uploads_dir=_uploads_dir(),
                other_feed_tokens=[staff_feed_token(event.id)],
            )
        except ValidationFailed as error:
            session.rollback()
            _field_error(form, error)
        except Conflict as error:
            session.rollback()
            form.form_errors.append(translate_error(error))
        else:
            session.commit()
            event_deletion.remove_files(deleted.files)
            flash(_("%(name)s and all its data were deleted.", name=deleted.name), "success")
            return redirect(url_for("main.index"))
        event = _load(event_id)
    elif request.method == "GET" and runs.fail_stale_runs(session):
        session.commit()  # a run whose worker died no longer stands in the way
    problem = event_deletion.refusal(session, event, utcnow())
    run_id = event_deletion.active_run(session, event)
    return render_template(
        "events/delete.html",
        event=event,
        form=form,
        summary=event_deletion.summarize(session, event, _uploads_dir()),
        problem=translate_error(problem) if problem else None,
        active_run_url=(
            url_for("runs.show", event_id=event.id, run_id=run_id)
            if run_id is not None and "runs.show" in current_app.view_functions
            else None
        ),
        results_url=_results_url(event),
    )


def _results_url(event: Event) -> str | None:
    """Where the fair's results can be downloaded before they are deleted."""
    if "outcomes.results" in current_app.view_functions and event.phase in (
        Phase.ON_THE_DAY,
        Phase.CLOSED,
    ):
        return url_for("outcomes.results", event_id=event.id)
    return None


# --------------------------------------------------------------------------- days and slots


@bp.get("/<int:event_id>/days")
@staff_required
def days(event_id: int):  # type: ignore[no-untyped-def]
    event = _load(event_id)
    return render_template(
        "events/days.html",
        event=event,
        slot_form=SlotForm(),
        meetings_by_day=event_setup.meetings_by_day(get_session(), event),
    )


@bp.route("/<int:event_id>/days/new", methods=["GET", "POST"])
@bp.route("/<int:event_id>/days/<int:day_id>/edit", methods=["GET", "POST"])
@organizer_required
def day_form(event_id: int, day_id: int | None = None):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    day = None
    if day_id is not None:
        day = session.get(EventDay, day_id)
        if day is None or day.event_id != event.id:
            abort(404)
    form = DayForm(obj=day)
    if day is not None and request.method == "GET":
        form.breaks.data = event_setup.format_breaks(day.breaks)
        form.overnight.data = day.end_time < day.start_time  # saved as an overnight day
    # A day with meetings cannot be regenerated: the page says so from the start, and
    # its preview offers no saving.
    meetings = event_setup.meetings_on_day(session, day) if day is not None else 0
    preview = None
    fingerprint = ""  # of the plan previewed, sent back with the Save button
    changed_since_preview = False
    lost = event_setup.LostAvailability()
    if form.validate_on_submit():
        try:
            plan = form.plan()
            event_setup.check_day_date(session, event, plan.date, day=day)
            preview = event_setup.plan_grid(plan, event.timezone)
            fingerprint = form.fingerprint(plan)
            # Participants' "cannot attend" marks on slots the new grid does not have.
            lost = event_setup.unavailability_lost(session, day, preview.slots)
            previewed = request.form.get("previewed", "")
            if request.form.get("action") == "save" and previewed and previewed != fingerprint:
                # A field was changed after the preview (QA: "Save these 12 slots" saved
                # 8): nothing is saved; the page shows the grid the fields give now.
                changed_since_preview = True
            elif request.form.get("action") == "save":
                event_setup.save_day(session, event, plan, day=day, user_id=current_user.id)
                session.commit()
                flash(_("The day and its slots were saved."), "success")
                if lost.marks:
                    flash(_lost_text(lost, saved=True), "warning")
                return redirect(url_for("events.days", event_id=event.id))
        except ValidationFailed as error:
            session.rollback()  # a refused save may have removed the old slots already
            preview, lost = None, event_setup.LostAvailability()
            _field_error(form, error)
        except Conflict as error:
            # Meetings were placed on the day since the page was shown: the form keeps
            # what was typed, and says why it cannot be saved.
            session.rollback()
            preview, lost = None, event_setup.LostAvailability()
            meetings = event_setup.meetings_on_day(session, day) if day is not None else 0
            if not meetings:
                form.form_errors.append(translate_error(error))
    return render_template(
        "events/day_form.html",
        event=event,
        day=day,
        form=form,
        preview=preview,
        fingerprint=fingerprint,
        changed_since_preview=changed_since_preview,
        meetings=meetings,
        lost_text=_lost_text(lost) if lost.marks else "",
    )


def _lost_text(lost: event_setup.LostAvailability, *, saved: bool = False) -> str:
    """How many "cannot attend" marks a regenerated grid loses, and whose."""
    names = _briefly(lost.companies)
    if saved:
        return ngettext(
            "%(num)d availability mark was not kept: no new slot has the same start and "
            "end as the slot a company marked it cannot attend (%(names)s). Ask them to "
            "check their availability.",
            "%(num)d availability marks were not kept: no new slot has the same start and "
            "end as the slots companies marked they cannot attend (%(names)s). Ask them to "
            "check their availability.",
            lost.marks,
            names=names,
        )
    return ngettext(
        "%(num)d availability mark is lost: no new slot has the same start and end as the "
        "slot a company marked it cannot attend (%(names)s). Marks on slots with the same "
        "times are kept.",
        "%(num)d availability marks are lost: no new slot has the same start and end as "
        "the slots companies marked they cannot attend (%(names)s). Marks on slots with "
        "the same times are kept.",
        lost.marks,
        names=names,
    )


#: Names a one-line message lists before saying how many more there are.
BRIEF_NAMES = 5


def _briefly(names: Sequence[str]) -> str:
    """A few names for a one-line message, and how many more (the page stays short)."""
    shown = listing(names[:BRIEF_NAMES])
    rest = len(names) - BRIEF_NAMES
    if rest <= 0:
        return shown
    return ngettext(
        "%(names)s and %(num)d more", "%(names)s and %(num)d more", rest, names=shown
    )


@bp.post("/<int:event_id>/days/<int:day_id>/delete")
@organizer_required
def delete_day(event_id: int, day_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    day = session.get(EventDay, day_id)
    if day is None or day.event_id != event_id:
        abort(404)
    event_setup.delete_day(session, day, user_id=current_user.id)
    session.commit()
    flash(_("The day was deleted."), "success")
    return redirect(url_for("events.days", event_id=event_id))


def _slot(event: Event, slot_id: int) -> Slot:
    slot = get_session().get(Slot, slot_id)
    if slot is None or slot.event_id != event.id:
        abort(404)
    return slot


@bp.route("/<int:event_id>/slots/new", methods=["GET", "POST"])
@bp.route("/<int:event_id>/slots/<int:slot_id>", methods=["GET", "POST"])
@organizer_required
def slot_form(event_id: int, slot_id: int | None = None):  # type: ignore[no-untyped-def]
    """Add a single slot, or move/resize/label one (it may not overlap another).

    A new time for a slot that holds meetings moves them: the form first says how many
    meetings and companies, and saves only once the organizer confirms (what was typed
    stays in the form). The companies are then e-mailed, as for a move on the day.
    """
    session = get_session()
    event = _load(event_id)
    slot = _slot(event, slot_id) if slot_id is not None else None
    form = SlotForm()
    if slot is not None and request.method == "GET":
        local_start, local_end = event.local(slot.starts_at), event.local(slot.ends_at)
        form.date.data, form.start.data = local_start.date(), local_start.time()
        form.end.data, form.label.data = local_end.time(), slot.label
    pending: event_setup.SlotMove | None = None  # meetings the change would move
    changed_since = False  # a confirmation sent for other meetings than are there now
    if form.validate_on_submit():
        confirmed = _confirmed_meetings()
        try:
            starts_at, ends_at = _slot_times(event, form)
            times = {"starts_at": starts_at, "ends_at": ends_at, "label": form.label.data or ""}
            if slot is None:
                event_setup.add_slot(session, event, **times, user_id=current_user.id)
                moved = None
            else:
                moved = event_setup.update_slot(
                    session, slot, **times, user_id=current_user.id, confirmed_meetings=confirmed
                )
        except event_setup.UnconfirmedMove as unconfirmed:
            session.rollback()
            pending = unconfirmed.move
            changed_since = confirmed is not None
        except ValidationFailed as error:
            session.rollback()
            _field_error(form, error)
        except Conflict as error:  # another change saved at the same moment
            session.rollback()
            form.form_errors.append(translate_error(error))
        else:
            session.commit()
            flash(
                _("The slot was added.") if slot is None else _("The slot was changed."), "success"
            )
            if moved is not None and moved.meetings:
                flash(
                    ngettext(
                        "%(num)d meeting moved with the slot; the schedule pages and "
                        "calendars of its companies show the new time.",
                        "%(num)d meetings moved with the slot; the schedule pages and "
                        "calendars of their companies show the new time.",
                        moved.meetings,
                    ),
                    "info",
                )
                # The change notice a meeting moved on the day gets (after the commit;
                # nothing before the schedule is published).
                mail_feedback.notify_changed(event, moved.participant_ids)
            return redirect(url_for("events.days", event_id=event.id))
    return render_template(
        "events/slot_form.html",
        event=event,
        slot=slot,
        form=form,
        pending=pending,
        changed_since=changed_since,
        companies=_briefly(pending.companies) if pending else "",
        away=_briefly(pending.away) if pending and pending.away else "",
        published=event.published_at is not None,
    )


def _confirmed_meetings() -> set[int] | None:
    """The meetings the organizer confirmed moving with the slot (None: no confirmation
    sent). The ids the confirmation showed travel with the form, so that a meeting
    placed in the slot since is not moved unseen."""
    if request.form.get("confirm") != "1":
        return None
    ids = (parse_id(part) for part in request.form.get("moving", "").split(","))
    return {i for i in ids if i is not None}


@bp.post("/<int:event_id>/slots/<int:slot_id>/delete")
@organizer_required
def delete_slot(event_id: int, slot_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    event_setup.delete_slot(session, _slot(event, slot_id), user_id=current_user.id)
    session.commit()
    flash(_("The slot was deleted."), "success")
    return redirect(url_for("events.days", event_id=event.id))


def _slot_times(event: Event, form: SlotForm) -> tuple[datetime, datetime]:
    starts_at = event_setup.local_datetime(event, form.date.data, form.start.data, "start")
    ends_at = event_setup.local_datetime(event, form.date.data, form.end.data, "end")
    return starts_at, ends_at


# --------------------------------------------------------------------------- rooms and tables


@bp.route("/<int:event_id>/rooms", methods=["GET", "POST"])
@organizer_required
def rooms(event_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    room_form = RoomForm(prefix="room")
    tables_form = TablesForm(prefix="tables")
    rename_form = RenameRoomForm(prefix="rename")
    tables_form.room.choices = [SelectChoice(r.id, r.name) for r in event.rooms]
    if request.method == "GET":
        # The room just added (or just given tables): its tables come next.
        chosen = parse_id(request.args.get("room", ""))
        if any(r.id == chosen for r in event.rooms):
            tables_form.room.data = chosen
    renaming: Room | None = None  # the room whose rename form was sent back with errors
    if request.method == "POST":
        try:
            if "rename-name" in request.form:
                renaming = _room(event, parse_id(request.form.get("rename-room", "")))
                if rename_form.validate_on_submit():
                    before = renaming.name
                    event_setup.rename_room(
                        session, renaming, rename_form.name.data or "", user_id=current_user.id
                    )
                    session.commit()
                    flash(
                        _("%(old)s was renamed %(new)s.", old=before, new=renaming.name),
                        "success",
                    )
                    return redirect(
                        url_for("events.rooms", event_id=event.id) + f"#room-{renaming.id}"
                    )
            if "room-name" in request.form and room_form.validate_on_submit():
                room = event_setup.add_room(
                    session, event, room_form.name.data or "", user_id=current_user.id
                )
                session.commit()
                flash(_("The room was added."), "success")
                return redirect(url_for("events.rooms", event_id=event.id, room=room.id))
            if "tables-labels" in request.form and tables_form.validate_on_submit():
                room = session.get(Room, tables_form.room.data)
                if room is None or room.event_id != event.id:
                    abort(404)
                created = event_setup.add_tables(
                    session, room, tables_form.labels.data or "", user_id=current_user.id
                )
                session.commit()
                flash(
                    ngettext(
                        "%(num)d table was added to %(room)s.",
                        "%(num)d tables were added to %(room)s.",
                        len(created),
                        room=room.name,
                    ),
                    "success",
                )
                return redirect(url_for("events.rooms", event_id=event.id, room=room.id))
        except ValidationFailed as error:
            session.rollback()
            if "rename-name" in request.form:
                target: FlaskForm = rename_form
            else:
                target = room_form if "room-name" in request.form else tables_form
            _field_error(target, error)
    participants = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id)
        .options(selectinload(Participant.organization))  # names in every host list
        .order_by(Participant.code)
    ).all()
    return render_template(
        "events/rooms.html",
        event=event,
        room_form=room_form,
        tables_form=tables_form,
        rename_form=rename_form,
        renaming=renaming,
        participants=participants,
    )


def _room(event: Event, room_id: int | None) -> Room:
    room = get_session().get(Room, room_id) if room_id is not None else None
    if room is None or room.event_id != event.id:
        abort(404)
    return room


def _table(event: Event, table_id: int) -> Table:
    table = get_session().get(Table, table_id)
    if table is None or table.event_id != event.id:
        abort(404)
    return table


@bp.post("/<int:event_id>/tables/<int:table_id>/host")
@organizer_required
def set_host(event_id: int, table_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    table = _table(event, table_id)
    raw = request.form.get("host", "")
    host_id = parse_id(raw)
    event_setup.set_table_host(session, table, host_id, user_id=current_user.id)
    session.commit()
    flash(_("Table %(label)s saved.", label=table.label), "success")
    return redirect(url_for("events.rooms", event_id=event.id) + f"#table-{table.id}")


@bp.post("/<int:event_id>/tables/<int:table_id>/delete")
@organizer_required
def delete_table(event_id: int, table_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    event_setup.delete_table(session, _table(event, table_id), user_id=current_user.id)
    session.commit()
    flash(_("The table was deleted."), "success")
    return redirect(url_for("events.rooms", event_id=event.id))


@bp.post("/<int:event_id>/rooms/<int:room_id>/delete")
@organizer_required
def delete_room(event_id: int, room_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    room = session.get(Room, room_id)
    if room is None or room.event_id != event_id:
        abort(404)
    event_setup.delete_room(session, room, user_id=current_user.id)
    session.commit()
    flash(_("The room was deleted."), "success")
    return redirect(url_for("events.rooms", event_id=event_id))


# --------------------------------------------------------------------------- phases


@bp.route("/<int:event_id>/phases", methods=["GET", "POST"])
@organizer_required
def phases(event_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _load(event_id)
    form = PhasesForm()
    warnings: list[event_setup.DeadlineWarning] = []
    if request.method == "GET":
        warnings = event_setup.deadline_warnings(event)
        form.phase.data = event.phase
        for record in event.phases:
            for edge in ("opens", "closes"):
                moment = getattr(record, f"{edge}_at")
                if moment is not None:
                    # the form shows wall-clock times in the event's zone
                    getattr(form, f"{record.phase}_{edge}").data = event.local(moment).replace(
                        tzinfo=None
                    )
    if form.validate_on_submit():

        def aware(value: datetime | None) -> datetime | None:
            return value.replace(tzinfo=event.tz) if value else None

        deadlines = {
            p.value: (
                aware(getattr(form, f"{p.value}_opens").data),
                aware(getattr(form, f"{p.value}_closes").data),
            )
            for p in Phase
        }
        early: datetime | None = None  # the set start of a phase switched to before it
        try:
            event_setup.set_phase_deadlines(session, event, deadlines, user_id=current_user.id)
            if form.phase.data != event.phase:
                event_setup.set_phase(session, event, form.phase.data, user_id=current_user.id)
                record = event_setup.phase_deadline(event, event.phase)
                if record is not None and record.opens_at and utcnow() < record.opens_at:
                    early = record.opens_at
        except ValidationFailed as error:
            session.rollback()  # no phase half-changed stays in the session
            _field_error(form, error)
            warnings = event_setup.deadline_warnings(event, deadlines)  # of what was typed
        else:
            session.commit()
            flash(_("Phases saved."), "success")
            if early is not None:
                # Phases change only by the organizer's hand; a start date is not a switch.
                flash(_early_phase_text(event, early), "warning")
            if event.phase in SCHEDULE_SHOWN_PHASES and event.published_at is None:
                # Participants are told to look at a schedule that is not there.
                flash(
                    _(
                        "No schedule is published yet: participants will see none until you "
                        "publish one (Schedule)."
                    ),
                    "warning",
                )
            if event_setup.deadline_warnings(event):
                # Saved as typed, but most likely a slip: back to the phases, each
                # doubtful deadline marked next to its phase.
                flash(
                    _(
                        "A deadline is on or after the fair's first day: see the phase "
                        "marked below."
                    ),
                    "warning",
                )
                return redirect(url_for("events.phases", event_id=event.id))
            return redirect(url_for("events.show", event_id=event.id))
    return render_template(
        "events/phases.html",
        event=event,
        form=form,
        phases=list(Phase),
        warnings={w.phase: translate_message(w) for w in warnings},
    )


def _early_phase_text(event: Event, opens_at: datetime) -> str:
    """What switching to a phase before its set start means: registration keeps to its
    start (:func:`scheduler.registration.registration_open`); the other phases open
    what they allow now, their start date is only shown."""
    when = local_datetime(opens_at, event)
    if event.phase == Phase.REGISTRATION:
        return _(
            "Registration is now the current phase, but companies can register themselves "
            "only from %(when)s, its set start.",
            when=when,
        )
    return _(
        "%(phase)s is now the current phase, before its set start (%(when)s): participants "
        "can already do what this phase allows.",
        phase=PHASE_LABELS[event.phase],
        when=when,
    )


# The phases in which participants are pointed to their schedule.
SCHEDULE_SHOWN_PHASES = frozenset({Phase.PUBLISHED, Phase.ON_THE_DAY})
