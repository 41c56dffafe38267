"""A participant's own pages, reached through its secret link ``/p/<token>/``.

Every view is wrapped in :func:`web.participant_access.participant_required` and
reads or changes only ``g.participant`` and what belongs to it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from scheduler import preferences, profiles
from scheduler.directory import counterpart_profile, prefecture_label
from scheduler.errors import ValidationFailed
from scheduler.event_setup import phase_deadline
from scheduler.models import Participant, ParticipantRole, ParticipantStatus, Phase
from scheduler.registration import contact_person, other_registrations
from scheduler.vocabulary import (
    CERTIFICATIONS,
    LOT_SIZES,
    PREFECTURES,
    TECHNOLOGIES,
    technologies_by_field,
)
from web.database import get_session
from web.directory import run_search
from web.filters import list_separator
from web.form_fields import (
    IntegerField,
    NumberRange,
    TextAreaField,
    WebAddress,
    typed_web_address,
)
from web.i18n import translate_error
from web.outcomes import meetings_to_report
from web.participant_access import (
    PORTAL_PREFIX,
    current_participant,
    participant_required,
    portal_sections,
)

bp = Blueprint("portal", __name__, url_prefix=PORTAL_PREFIX)

#: Phases in which a published schedule can exist.
SCHEDULE_PHASES = frozenset({Phase.PUBLISHED, Phase.ON_THE_DAY, Phase.CLOSED})


@bp.get("/")
@participant_required
def home(token: str):  # type: ignore[no-untyped-def]
    """Event, phase and deadlines, and what the participant should do now."""
    participant = current_participant()
    event = participant.event
    deadline = phase_deadline(event, Phase.PREFERENCES)
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
        to_report=meetings_to_report(participant),
        requests_open=preferences.requests_open(event),
        requests_close=deadline.closes_at if deadline is not None else None,
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


# --------------------------------------------------------------------------- profile


def _locale() -> str:
    return str(get_locale() or "ja")


def technology_choices() -> list[SelectChoice]:
    """The technology picker's choices, labelled in the reader's language."""
    locale = _locale()
    return [SelectChoice(code, term.label(locale)) for code, term in TECHNOLOGIES.items()]


def _lot_size_choices() -> list[SelectChoice]:
    return [SelectChoice(t.code, t.label(_locale())) for t in LOT_SIZES]


class ProfileForm(FlaskForm):
    """The company profile; buyers' and suppliers' forms differ (see ``for_role``)."""

    name = StringField(lazy_gettext("Company name"), validators=[DataRequired(), Length(max=200)])
    name_kana = StringField(lazy_gettext("Company name (kana)"), validators=[Length(max=200)])
    department = StringField(lazy_gettext("Department"), validators=[Length(max=200)])
    prefecture = SelectField(lazy_gettext("Prefecture"), validate_choice=True)
    city = StringField(lazy_gettext("City"), validators=[Length(max=100)])
    industry = StringField(lazy_gettext("Industry"), validators=[Length(max=100)])
    employees = IntegerField(
        lazy_gettext("Employees"), validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    website = StringField(
        lazy_gettext("Website"), validators=[Length(max=300), WebAddress()],
        filters=[typed_web_address],
    )
    description = TextAreaField(
        lazy_gettext("About the company"), validators=[Length(max=profiles.MAX_TEXT_LENGTH)]
    )
    what_we_buy = TextAreaField(
        lazy_gettext("What we buy"), validators=[Length(max=profiles.MAX_TEXT_LENGTH)]
    )
    technologies = SelectMultipleField(lazy_gettext("Technologies"))
    tags = StringField(
        lazy_gettext("Other keywords"),
        description=lazy_gettext(
            "Separated by commas, e.g. aluminium, prototypes, short lead times"
        ),
    )
    equipment = TextAreaField(
        lazy_gettext("Equipment"), validators=[Length(max=profiles.MAX_TEXT_LENGTH)]
    )
    materials = TextAreaField(
        lazy_gettext("Materials handled"), validators=[Length(max=profiles.MAX_TEXT_LENGTH)]
    )
    certifications = SelectMultipleField(lazy_gettext("Certifications"))
    certifications_other = StringField(
        lazy_gettext("Other certifications"), validators=[Length(max=300)]
    )
    lot_sizes = SelectMultipleField(lazy_gettext("Lot sizes"))
    strengths = TextAreaField(
        lazy_gettext("Strengths and differences from others"),
        validators=[Length(max=profiles.MAX_TEXT_LENGTH)],
    )

    BUYER_ONLY = ("department", "what_we_buy")
    SUPPLIER_ONLY = (
        "technologies",
        "tags",
        "equipment",
        "materials",
        "certifications",
        "certifications_other",
        "lot_sizes",
        "strengths",
    )

    def __init__(self, *args: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.SUPPLIER_ONLY if role == ParticipantRole.BUYER else self.BUYER_ONLY:
            delattr(self, name)
        locale = _locale()
        self.prefecture.choices = [
            SelectChoice("", "—"),
            *(SelectChoice(p, prefecture_label(p, locale)) for p in PREFECTURES),
        ]
        if role == ParticipantRole.SUPPLIER:
            self.technologies.choices = technology_choices()
            self.certifications.choices = [
                SelectChoice(t.code, t.label(locale)) for t in CERTIFICATIONS
            ]
            self.lot_sizes.choices = _lot_size_choices()

    def load(self, participant: Participant) -> None:
        """Fill the form from the stored profile (a GET)."""
        organization = participant.organization
        for name in (
            "name",
            "name_kana",
            "prefecture",
            "city",
            "industry",
            "employees",
            "website",
            "description",
            "what_we_buy",
            "technologies",
            "equipment",
            "materials",
            "lot_sizes",
            "strengths",
        ):
            if name in self:
                self[name].data = getattr(organization, name)
        if "department" in self:
            self.department.data = participant.department
        # Joined as the reader writes lists (", " in English, "、" in Japanese): both
        # split again on saving (profiles.split_tags), so no tag can hold either.
        separator = list_separator()
        if "tags" in self:
            self.tags.data = separator.join(organization.tags)
        if "certifications" in self:
            known = {t.code for t in CERTIFICATIONS}
            self.certifications.data = [c for c in organization.certifications if c in known]
            self.certifications_other.data = separator.join(
                c for c in organization.certifications if c not in known
            )

    def data_for_service(self) -> profiles.ProfileData:
        """The typed values for :func:`scheduler.profiles.update_profile`."""
        data = profiles.ProfileData(set_employees=True)
        for name in (
            "name",
            "name_kana",
            "department",
            "prefecture",
            "city",
            "industry",
            "website",
            "description",
            "what_we_buy",
            "equipment",
            "materials",
            "strengths",
        ):
            if name in self:
                setattr(data, name, self[name].data or "")
        data.employees = self.employees.data
        if "technologies" in self:
            data.technologies = list(self.technologies.data or [])
            data.lot_sizes = list(self.lot_sizes.data or [])
            data.tags = profiles.split_tags(self.tags.data or "")
            data.certifications = [
                *(self.certifications.data or []),
                *profiles.split_tags(self.certifications_other.data or "", keep_punctuation=True),
            ]
        return data


def profile_field_error(form: FlaskForm, error: ValidationFailed) -> None:
    """Show a service's error next to the field it names (or above the form)."""
    message = translate_error(error)
    name = error.field
    target = form[name] if name and name in form else None
    if target is not None:
        target.errors = [*target.errors, message]
    else:
        form.form_errors.append(message)


@bp.route("/profile", methods=["GET", "POST"])
@participant_required
def profile(token: str):  # type: ignore[no-untyped-def]
    """The company profile (read-only once the profile phases are over)."""
    participant = current_participant()
    event = participant.event
    editable = profiles.profile_editable(event)
    form = ProfileForm(role=participant.role)
    if request.method == "POST":
        profiles.check_profile_editable(event)
    elif request.method == "GET":
        form.load(participant)
    if form.validate_on_submit():
        session = get_session()
        try:
            profiles.update_profile(session, participant, form.data_for_service())
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("Your company profile was saved."), "success")
            return redirect(url_for("portal.profile"))
    return render_template(
        "portal/profile.html",
        participant=participant,
        event=event,
        form=form,
        editable=editable,
        contact=contact_person(participant),
        **profile_template_context(),
    )


def profile_template_context() -> dict[str, Any]:
    """What the profile form's template needs besides the form."""
    return {"fields": technologies_by_field(), "locale": _locale()}


# --------------------------------------------------------------------------- needs


class NeedForm(FlaskForm):
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=200)])
    technologies = SelectMultipleField(lazy_gettext("Technologies wanted"))
    material = StringField(lazy_gettext("Material"), validators=[Length(max=200)])
    lot_size = SelectField(lazy_gettext("Lot size"))
    timing = StringField(
        lazy_gettext("Timing"),
        validators=[Length(max=100)],
        description=lazy_gettext("e.g. first half of fiscal 2027, from April"),
    )
    description = TextAreaField(
        lazy_gettext("Description"), validators=[Length(max=profiles.MAX_TEXT_LENGTH)]
    )
    published = BooleanField(lazy_gettext("Published (suppliers can see it)"), default=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.technologies.choices = technology_choices()
        self.lot_size.choices = [SelectChoice("", "—"), *_lot_size_choices()]

    def data_for_service(self) -> profiles.NeedData:
        return profiles.NeedData(
            title=self.title.data or "",
            technologies=list(self.technologies.data or []),
            material=self.material.data or "",
            lot_size=self.lot_size.data or "",
            timing=self.timing.data or "",
            description=self.description.data or "",
            published=bool(self.published.data),
        )


def _buyer() -> Participant:
    participant = current_participant()
    if participant.role != ParticipantRole.BUYER:
        abort(404)
    return participant


@bp.route("/needs/new", methods=["GET", "POST"])
@bp.route("/needs/<int:need_id>/edit", methods=["GET", "POST"])
@participant_required
def need_form(token: str, need_id: int | None = None):  # type: ignore[no-untyped-def]
    """Add or change one of the buyer's needs (発注ニーズ)."""
    participant = _buyer()
    session = get_session()
    need = profiles.get_need(session, participant, need_id) if need_id is not None else None
    if request.method == "POST":
        profiles.check_profile_editable(participant.event)
    form = NeedForm(obj=need)
    if form.validate_on_submit():
        try:
            if need is None:
                profiles.add_need(session, participant, form.data_for_service())
            else:
                profiles.update_need(session, participant, need.id, form.data_for_service())
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("The need was saved."), "success")
            return redirect(url_for("portal.profile") + "#needs")
    return render_template(
        "portal/need_form.html",
        participant=participant,
        event=participant.event,
        form=form,
        need=need,
        fields=technologies_by_field(),
        locale=_locale(),
    )


@bp.post("/needs/<int:need_id>/delete")
@participant_required
def delete_need(token: str, need_id: int):  # type: ignore[no-untyped-def]
    participant = _buyer()
    session = get_session()
    profiles.delete_need(session, participant, need_id)
    session.commit()
    flash(_("The need was deleted."), "success")
    return redirect(url_for("portal.profile") + "#needs")


# --------------------------------------------------------------------------- directory


def _approved() -> Participant:
    """The current participant, if approved: the directory is for admitted companies."""
    participant = current_participant()
    if participant.status != ParticipantStatus.APPROVED:
        abort(404)
    return participant


@bp.get("/directory")
@participant_required
def directory(token: str):  # type: ignore[no-untyped-def]
    """The counterparts of this event (suppliers for buyers, buyers for suppliers)."""
    participant = _approved()
    form, entries = run_search(get_session(), participant.event, participant.role)
    return render_template(
        "directory/index.html",
        event=participant.event,
        form=form,
        entries=entries,
        portal=True,
        locale=_locale(),
    )


@bp.get("/directory/<int:participant_id>")
@participant_required
def counterpart(token: str, participant_id: int):  # type: ignore[no-untyped-def]
    """A counterpart's public profile (never its contact details)."""
    participant = _approved()
    entry = counterpart_profile(get_session(), participant, participant_id)
    if entry is None:
        abort(404)
    return render_template(
        "directory/show.html",
        event=participant.event,
        entry=entry,
        portal=True,
        locale=_locale(),
        pending=False,
    )
