"""Public self-registration (``/e/<slug>/register``) and the organizer's approval queue."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from scheduler import notifications, registration
from scheduler.db import utcnow
from scheduler.directory import prefecture_label
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.event_setup import phase_deadline
from scheduler.i18n import N_
from scheduler.models import Event, Participant, ParticipantRole, Phase
from scheduler.vocabulary import PREFECTURES
from web import mail_feedback
from web.access import link_of
from web.auth import organizer_required
from web.database import get_session
from web.form_fields import (
    IntegerField,
    NumberRange,
    WebAddress,
    typed_email,
    typed_phone,
    typed_web_address,
)
from web.i18n import translate_error
from web.participant_access import ROLE_LABELS, check_rate

bp = Blueprint("registration", __name__)


class RegistrationForm(FlaskForm):
    # Autocomplete hints (WHATWG autofill tokens): a browser fills in the company, the
    # contact's name and how to reach them; input modes bring up the fitting keyboard.
    company = StringField(
        lazy_gettext("Company name"), validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    company_kana = StringField(lazy_gettext("Company name (kana)"), validators=[Length(max=200)])
    role = RadioField(
        lazy_gettext("We take part as"),
        validators=[InputRequired(lazy_gettext("Please choose one."))],
    )
    department = StringField(lazy_gettext("Department"), validators=[Length(max=200)])
    prefecture = SelectField(
        lazy_gettext("Prefecture"), render_kw={"autocomplete": "address-level1"}
    )
    city = StringField(
        lazy_gettext("City"), validators=[Length(max=100)],
        render_kw={"autocomplete": "address-level2"},
    )
    industry = StringField(lazy_gettext("Industry"), validators=[Length(max=100)])
    employees = IntegerField(
        lazy_gettext("Employees"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    website = StringField(
        lazy_gettext("Website"), validators=[Length(max=300), WebAddress()],
        filters=[typed_web_address],
        render_kw={"autocomplete": "url", "inputmode": "url"},
    )
    contact_name = StringField(
        lazy_gettext("Contact person"), validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    contact_kana = StringField(lazy_gettext("Contact person (kana)"), validators=[Length(max=200)])
    email = EmailField(
        lazy_gettext("E-mail"), validators=[DataRequired(), Email(), Length(max=254)],
        filters=[typed_email],  # a full-width ＠ is an @, before the address is checked
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    phone = TelField(
        lazy_gettext("Phone"), validators=[Length(max=50)],
        filters=[typed_phone],  # half-width digits and hyphens, as every entry stores it
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [
            SelectChoice(ParticipantRole.SUPPLIER.value, lazy_gettext("Supplier (受注企業)")),
            SelectChoice(ParticipantRole.BUYER.value, lazy_gettext("Buyer (発注企業)")),
        ]
        # Shown in the reader's language (Shizuoka in English); the value stays 静岡県.
        locale = str(get_locale() or "ja")
        self.prefecture.choices = [
            SelectChoice("", "—"),
            *(SelectChoice(p, prefecture_label(p, locale)) for p in PREFECTURES),
        ]

    def data_for_service(self, locale: str) -> registration.RegistrationData:
        return registration.RegistrationData(
            company=self.company.data or "",
            role=self.role.data or "",
            contact_name=self.contact_name.data or "",
            email=self.email.data or "",
            company_kana=self.company_kana.data or "",
            department=self.department.data or "",
            prefecture=self.prefecture.data or "",
            city=self.city.data or "",
            industry=self.industry.data or "",
            employees=self.employees.data,
            website=self.website.data or "",
            contact_kana=self.contact_kana.data or "",
            phone=self.phone.data or "",
            locale=locale,
        )


def _public_event(slug: str) -> Event:
    event = get_session().scalar(select(Event).where(Event.slug == slug))
    if event is None:
        abort(404)
    return event


@bp.route("/e/<slug>/register", methods=["GET", "POST"])
def register(slug: str):  # type: ignore[no-untyped-def]
    """A company registers itself; the organizer approves it before it gets its link."""
    event = _public_event(slug)
    deadline = phase_deadline(event, Phase.REGISTRATION)
    if not registration.registration_open(event):
        return render_template(
            "registration/closed.html", event=event, deadline=deadline, now=utcnow()
        )
    form = RegistrationForm()
    if request.method == "POST":
        check_rate("register", "REGISTRATION_LIMIT")
    if form.validate_on_submit():
        session = get_session()
        try:
            registered = registration.self_register(
                session, event, form.data_for_service(str(get_locale() or "ja"))
            )
        except (ValidationFailed, Conflict) as error:
            session.rollback()
            target = getattr(form, error.field or "", None)
            if target is not None and hasattr(target, "errors"):
                target.errors = [*target.errors, translate_error(error)]
            else:
                form.form_errors.append(translate_error(error))
        else:
            session.commit()
            # The thanks page repeats the address the link will go to, so that a typo is
            # seen. Kept in the signed session cookie of the one who typed it, not in the
            # URL, and shown once (a shared computer does not show it to the next company).
            contact = registration.contact_person(registered)
            browser_session[_THANKS_KEY] = {
                "slug": event.slug, "email": contact.email if contact else form.email.data,
            }
            return redirect(url_for("registration.thanks", slug=event.slug))
    return render_template("registration/form.html", event=event, form=form, deadline=deadline)


#: The session key of the address just registered, for the thanks page.
_THANKS_KEY = "registered_email"


@bp.get("/e/<slug>/register/thanks")
def thanks(slug: str):  # type: ignore[no-untyped-def]
    event = _public_event(slug)
    registered = browser_session.pop(_THANKS_KEY, None)
    email = ""
    if isinstance(registered, dict) and registered.get("slug") == event.slug:
        email = str(registered.get("email") or "")
    return render_template("registration/thanks.html", event=event, email=email)


# --------------------------------------------------------------------------- organizer queue


def _event(event_id: int) -> Event:
    event = get_session().get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


def _pending(event: Event, participant_id: int) -> Participant:
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    return participant


@bp.get("/events/<int:event_id>/registrations")
@organizer_required
def queue(event_id: int):  # type: ignore[no-untyped-def]
    """Self-registrations waiting for approval, and the declined ones (collapsed): a
    declined company cannot register again, so taking the decision back is done here."""
    event = _event(event_id)
    session = get_session()
    pending = registration.pending_registrations(session, event)
    declined = registration.declined_registrations(session, event)
    return render_template(
        "registration/queue.html",
        event=event,
        pending=pending,
        declined=declined,
        role_labels=ROLE_LABELS,
        contact_of=registration.contact_person,
        register_url=url_for("registration.register", slug=event.slug, _external=True),
        reused={
            p.id: len(p.organization.participations) > 1
            for p in [*pending, *(d.participant for d in declined)]
        },
    )


@bp.post("/events/<int:event_id>/registrations/<int:participant_id>/approve")
@organizer_required
def approve(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """Approve a waiting registration, or a declined one after all: the same admission
    (its code, its link, and the e-mail with the link when mail is set up)."""
    event = _event(event_id)
    participant = _pending(event, participant_id)
    session = get_session()
    registration.approve(
        session,
        participant,
        user_id=current_user.id,
        company_edit=request.form.get("company_edit") == "y",
    )
    session.commit()
    settings = mail_feedback.configured_mail()
    if settings is None:
        flash(
            _("%(name)s is approved. Send them their link:", name=participant.organization.name),
            "success",
        )
    else:
        # The registration form promised the link by e-mail.
        flash(_("%(name)s is approved.", name=participant.organization.name), "success")
        notices, unreachable = notifications.welcome_notices(event, [participant], link_for=link_of)
        failures = notifications.send_notices(notices, settings)
        mail_feedback.flash_outcome(
            len(notices) - len(failures), failures, unreachable, about_schedule=False
        )
    return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))


@bp.post("/events/<int:event_id>/registrations/<int:participant_id>/reject")
@organizer_required
def reject(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    participant = _pending(event, participant_id)
    session = get_session()
    registration.reject(
        session, participant, user_id=current_user.id, reason=request.form.get("reason", "")[:1000]
    )
    session.commit()
    flash(
        _("The registration of %(name)s was declined.", name=participant.organization.name),
        "success",
    )
    return redirect(url_for("registration.queue", event_id=event.id))
