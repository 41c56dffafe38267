"""A participant's meeting preferences: requests, suggestions, screening, proposal sheets.

Every view lives under ``/p/<token>/``, is wrapped in
:func:`web.participant_access.participant_required`, and reads or changes only
what belongs to ``g.participant``: the services refuse anyone else's request or
sheet with ``NotFound`` (404), so a page never tells whether it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from scheduler import preferences, proposals, suggestions
from scheduler.db import utcnow
from scheduler.errors import DeadlinePassed, ValidationFailed
from scheduler.event_setup import phase_deadline
from scheduler.models import Event, Participant, ParticipantRole, ParticipantStatus, Phase, Proposal
from web.database import get_session
from web.form_fields import TextAreaField
from web.i18n import translate_error
from web.pagination import back_to
from web.participant_access import (
    PORTAL_PREFIX,
    PortalSection,
    current_participant,
    participant_required,
    register_portal_section,
)
from web.portal import profile_field_error

bp = Blueprint("preferences", __name__, url_prefix=PORTAL_PREFIX)

LEVEL_LABELS = {
    preferences.HIGH: lazy_gettext("High"),
    preferences.MEDIUM: lazy_gettext("Medium"),
    preferences.LOW: lazy_gettext("Low"),
}
_SHOWN_PHASES = frozenset({Phase.REGISTRATION, Phase.PREFERENCES, Phase.SCHEDULING})

# Outside the request period the pages refuse every change (check_requests_open), so
# the home page describes them as what is left to do there: read (closed_description).
register_portal_section(PortalSection(
    "preferences.my_requests", lazy_gettext("My meeting requests"),
    lazy_gettext("Whom you want to meet, and the answers you received."), phases=_SHOWN_PHASES,
    closed_description=lazy_gettext(
        "View the meetings you requested and the answers you received."
    ),
))
register_portal_section(PortalSection(
    "preferences.suggested", lazy_gettext("Suggested for you"),
    lazy_gettext("Companies whose profile fits, with the reasons."),
    phases=frozenset({Phase.REGISTRATION, Phase.PREFERENCES}),
))
register_portal_section(PortalSection(
    "preferences.buyer_needs", lazy_gettext("Buyer needs"),
    lazy_gettext("Apply to a buyer's need with a proposal sheet."),
    roles=frozenset({ParticipantRole.SUPPLIER}), phases=_SHOWN_PHASES,
    closed_description=lazy_gettext(
        "Read the buyers' needs and view the proposal sheets you sent."
    ),
))
register_portal_section(PortalSection(
    "preferences.received_proposals", lazy_gettext("Proposal sheets"),
    lazy_gettext("Screen the sheets suppliers sent for your needs."),
    roles=frozenset({ParticipantRole.BUYER}), phases=_SHOWN_PHASES,
    closed_description=lazy_gettext(
        "View the sheets suppliers sent for your needs and your decisions."
    ),
))


def _level_choices() -> list[SelectChoice]:
    return [SelectChoice(str(level), str(LEVEL_LABELS[level])) for level in preferences.LEVELS]


def _locale() -> str:
    return str(get_locale() or "ja")


def uploads_dir() -> Path:
    """The folder under the instance folder where proposal attachments are kept."""
    configured = current_app.config.get("INSTANCE_UPLOADS")
    path = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_attachment_bytes() -> int:
    """The attachment size limit (``PROPOSAL_MAX_BYTES``, 5 MB by default)."""
    return int(current_app.config.get("PROPOSAL_MAX_BYTES",
                                      proposals.DEFAULT_MAX_ATTACHMENT_BYTES))


def send_attachment(proposal: Proposal) -> Response:
    """The sheet's attachment as a download (never shown inline: it is someone's upload)."""
    path = proposals.attachment_file(uploads_dir(), proposal)
    response = send_file(
        path, mimetype=proposal.attachment_type, as_attachment=True,
        download_name=proposal.attachment_name or path.name, max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _approved() -> Participant:
    participant = current_participant()
    if participant.status != ParticipantStatus.APPROVED:
        abort(404)
    return participant


def _of_role(role: str) -> Participant:
    participant = _approved()
    if participant.role != role:
        abort(404)
    return participant


class LevelForm(FlaskForm):
    """A level and an optional note (a request, or accepting one)."""

    level = SelectField(lazy_gettext("Level"), default=str(preferences.MEDIUM))
    note = TextAreaField(
        lazy_gettext("Note"), validators=[Length(max=preferences.MAX_NOTE_LENGTH)],
        description=lazy_gettext(
            "What you would like to discuss (optional); the other company sees it"
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = _level_choices()

    @property
    def level_value(self) -> int:
        """The posted level; 0 (refused by the services) when blank, unknown or not posted.

        A post without a ``level`` field would otherwise take the field's default (medium)
        and be saved as if someone had chosen it.
        """
        if not self.level.raw_data:
            return 0
        try:
            return int(self.level.raw_data[0] or 0)
        except ValueError:
            return 0


class AnswerForm(LevelForm):
    """Screening: accept with a level, or decline."""

    decision = HiddenField(default="accept")


# --------------------------------------------------------------------------- requests


@bp.get("/requests")
@participant_required
def my_requests(token: str):  # type: ignore[no-untyped-def]
    """One's own requests with their level, note and answer, and the cap left."""
    participant = _approved()
    session = get_session()
    event = participant.event
    incoming = (
        preferences.incoming_requests(session, participant) if event.screening_enabled else []
    )
    return render_template(
        "preferences/my_requests.html", participant=participant, event=event,
        rows=preferences.my_requests(session, participant),
        remaining=preferences.remaining_requests(session, participant),
        is_open=preferences.requests_open(event),
        unanswered=sum(1 for row in incoming if row.answer is None),
        incoming_count=len(incoming), level_labels=LEVEL_LABELS,
    )


@bp.route("/request/<int:participant_id>", methods=["GET", "POST"])
@participant_required
def request_form(token: str, participant_id: int):  # type: ignore[no-untyped-def]
    """Request a meeting with a counterpart, or change the request (linked from profiles)."""
    participant = _approved()
    session = get_session()
    other = preferences.counterpart(session, participant, participant_id)
    existing = preferences.interest_between(session, participant.id, other.id)
    if existing is not None and existing.source not in preferences.REQUEST_SOURCES:
        existing = None
    # Opened from a page of the directory or from this company's profile: back there.
    back = back_to(url_for("portal.directory"))
    profile_back = None if back else back_to(url_for("portal.counterpart", participant_id=other.id))
    form = LevelForm()
    if request.method == "GET" and existing is not None:
        form.level.data = str(existing.level)
        form.note.data = existing.note
    if request.method == "POST":
        preferences.check_requests_open(participant.event)
    if form.validate_on_submit():
        try:
            preferences.request_meeting(session, participant, other.id,
                                        level=form.level_value, note=form.note.data or "")
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("Your meeting request to %(name)s was saved.", name=other.display_name),
                  "success")
            if back is not None:
                return redirect(f"{back}#entry-{other.id}")
            if profile_back is not None:
                return redirect(profile_back)
            return redirect(url_for("preferences.my_requests"))
    return render_template(
        "preferences/request_form.html", participant=participant, event=participant.event,
        other=other, form=form, existing=existing,
        remaining=preferences.remaining_requests(session, participant),
        is_open=preferences.requests_open(participant.event), locale=_locale(), back=back,
        profile_back=profile_back,
    )


@bp.post("/request/<int:participant_id>/withdraw")
@participant_required
def withdraw(token: str, participant_id: int):  # type: ignore[no-untyped-def]
    participant = _approved()
    session = get_session()
    preferences.withdraw_request(session, participant, participant_id)
    session.commit()
    flash(_("The request was withdrawn."), "success")
    return redirect(url_for("preferences.my_requests"))


# --------------------------------------------------------------------------- directory
#
# The directory (``templates/directory/index.html``, a page at a time) includes
# ``preferences/_directory_entry.html`` on each company: the viewer's own request to it
# (kept in the database, so it stays when the reader moves between pages) or a
# one-click request that saves that company alone and comes back to the same page.


@dataclass(frozen=True, slots=True)
class DirectoryRequests:
    """The viewer's requests as the directory's entries show them (one load a page)."""

    rows: dict[int, preferences.RequestRow]  # by counterpart id
    is_open: bool
    remaining: int | None

    def row(self, counterpart_id: int) -> preferences.RequestRow | None:
        return self.rows.get(counterpart_id)

    @property
    def cap_reached(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


@bp.app_template_global()
def directory_requests() -> DirectoryRequests | None:
    """The current participant's requests for the directory page (None off the portal)."""
    participant = g.get("participant")
    if participant is None or participant.status != ParticipantStatus.APPROVED:
        return None
    if "directory_requests" not in g:
        session = get_session()
        g.directory_requests = DirectoryRequests(
            rows={row.counterpart.id: row for row in preferences.my_requests(session, participant)},
            is_open=preferences.requests_open(participant.event),
            remaining=preferences.remaining_requests(session, participant),
        )
    return g.directory_requests


@bp.app_template_global()
def requests_closed_at(event: Event) -> datetime | None:
    """When requests closed, once the preferences deadline has passed (None before, or
    when the organizer set none): the closed note names it in the event's zone."""
    deadline = phase_deadline(event, Phase.PREFERENCES)
    if deadline is None or deadline.closes_at is None or deadline.closes_at > utcnow():
        return None
    return deadline.closes_at


def _directory_page() -> str:
    """The directory page (search, filters, page) the form was sent from, else its first."""
    return back_to(url_for("portal.directory")) or url_for("portal.directory")


@bp.post("/directory/<int:participant_id>/request")
@participant_required
def request_from_directory(token: str, participant_id: int):  # type: ignore[no-untyped-def]
    """One click on a directory entry: request that company at the chosen level.

    Only this company's request is written (a note written earlier stays), and the
    reader comes back to the same page of the directory, at the same entry.
    """
    participant = _approved()
    session = get_session()
    form = LevelForm()
    form.validate()
    other = preferences.counterpart(session, participant, participant_id)
    existing = preferences.interest_between(session, participant.id, other.id)
    note = ""
    if existing is not None and existing.source in preferences.REQUEST_SOURCES:
        note = existing.note  # the level changes; what was written to them stays
    try:
        preferences.request_meeting(session, participant, other.id, level=form.level_value,
                                    note=note)
    except (ValidationFailed, DeadlinePassed) as error:
        session.rollback()
        flash(translate_error(error), "error")
    else:
        session.commit()
        flash(_("Your meeting request to %(name)s was saved.", name=other.display_name),
              "success")
    return redirect(f"{_directory_page()}#entry-{other.id}")


# --------------------------------------------------------------------------- suggestions


@bp.get("/suggestions")
@participant_required
def suggested(token: str):  # type: ignore[no-untyped-def]
    """Counterparts whose profile fits, with reasons and a one-click request."""
    participant = _approved()
    session = get_session()
    locale = _locale()
    groups: list[suggestions.NeedSuggestions] = []
    if participant.role == ParticipantRole.BUYER:
        groups = suggestions.suggestions_by_need(session, participant, locale=locale)
        shown = [s for group in groups for s in group.suggestions]
    else:
        shown = suggestions.suggestions_for(session, participant, locale=locale)
    suggestions.record_shown(session, participant, shown)
    session.commit()
    return render_template(
        "preferences/suggestions.html", participant=participant, event=participant.event,
        groups=groups, flat=shown if participant.role != ParticipantRole.BUYER else [],
        form=LevelForm(), is_open=preferences.requests_open(participant.event),
        remaining=preferences.remaining_requests(session, participant), locale=locale,
        asked_count=len(preferences.requested_counterparts(session, participant)),
    )


@bp.post("/suggestions/<int:participant_id>/request")
@participant_required
def request_suggested(token: str, participant_id: int):  # type: ignore[no-untyped-def]
    """One click on a suggestion: a request whose source says it came from there."""
    participant = _approved()
    session = get_session()
    form = LevelForm()
    form.validate()
    source = (
        "suggestion" if suggestions.is_suggested(session, participant, participant_id)
        else "request"
    )
    other = preferences.counterpart(session, participant, participant_id)
    try:
        preferences.request_meeting(session, participant, other.id, level=form.level_value,
                                    note=form.note.data or "", source=source)
    except ValidationFailed as error:
        session.rollback()
        flash(translate_error(error), "error")
    else:
        session.commit()
        flash(_("Your meeting request to %(name)s was saved.", name=other.display_name),
              "success")
    return redirect(url_for("preferences.suggested"))


# --------------------------------------------------------------------------- screening


@bp.get("/incoming")
@participant_required
def incoming(token: str):  # type: ignore[no-untyped-def]
    """Requests received, to accept with a level or decline (only while screening is on)."""
    participant = _approved()
    if not participant.event.screening_enabled:
        abort(404)
    session = get_session()
    return render_template(
        "preferences/incoming.html", participant=participant, event=participant.event,
        rows=preferences.incoming_requests(session, participant),
        is_open=preferences.requests_open(participant.event), level_labels=LEVEL_LABELS,
        form=AnswerForm(),
    )


@bp.post("/incoming/<int:participant_id>/answer")
@participant_required
def answer(token: str, participant_id: int):  # type: ignore[no-untyped-def]
    participant = _approved()
    if not participant.event.screening_enabled:
        abort(404)
    session = get_session()
    form = AnswerForm()
    form.validate()
    accept = form.decision.data != "decline"
    try:
        preferences.answer_request(session, participant, participant_id, accept=accept,
                                   level=form.level_value, note=form.note.data or "")
    except ValidationFailed as error:
        session.rollback()
        flash(translate_error(error), "error")
    else:
        session.commit()
        flash(_("Your answer was saved.") if accept else _("The request was declined."),
              "success")
    return redirect(url_for("preferences.incoming") + f"#req-{participant_id}")


# --------------------------------------------------------------------------- proposal sheets


class ProposalForm(FlaskForm):
    # Line breaks count once, as the browser and the stored sheet count them.
    offer = TextAreaField(
        lazy_gettext("What you offer for this need"),
        validators=[DataRequired(), Length(max=proposals.MAX_TEXT_LENGTH)],
    )
    track_record = TextAreaField(
        lazy_gettext("Relevant results"), validators=[Length(max=proposals.MAX_TEXT_LENGTH)],
    )
    equipment = TextAreaField(
        lazy_gettext("Equipment"), validators=[Length(max=proposals.MAX_TEXT_LENGTH)],
    )
    level = SelectField(lazy_gettext("Your interest in this buyer"),
                        default=str(preferences.HIGH))
    attachment = FileField(lazy_gettext("Attachment (optional)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = _level_choices()


@bp.get("/buyer-needs")
@participant_required
def buyer_needs(token: str):  # type: ignore[no-untyped-def]
    """The buyers' published needs, each with this supplier's sheet if it applied."""
    supplier = _of_role(ParticipantRole.SUPPLIER)
    session = get_session()
    mine = {p.need_id: p for p in proposals.proposals_of_supplier(session, supplier)}
    return render_template(
        "preferences/buyer_needs.html", participant=supplier, event=supplier.event,
        needs=proposals.published_needs(session, supplier), mine=mine,
        is_open=preferences.requests_open(supplier.event), locale=_locale(),
        level_labels=LEVEL_LABELS,
    )


@bp.route("/buyer-needs/<int:need_id>/apply", methods=["GET", "POST"])
@participant_required
def apply(token: str, need_id: int):  # type: ignore[no-untyped-def]
    """Apply to a need with a proposal sheet (商談シート), or change it before the decision."""
    supplier = _of_role(ParticipantRole.SUPPLIER)
    session = get_session()
    need = proposals.need_for_supplier(session, supplier, need_id)
    existing = proposals.proposal_of(session, supplier, need.id)
    form = ProposalForm()
    if request.method == "GET" and existing is not None:
        for name in ("offer", "track_record", "equipment"):
            form[name].data = getattr(existing, name)
        back = preferences.interest_between(session, supplier.id, need.participant_id)
        if back is not None and back.level:
            form.level.data = str(back.level)
    if request.method == "POST":
        preferences.check_requests_open(supplier.event)
    if form.validate_on_submit():
        upload = form.attachment.data
        attachment = None
        if upload is not None and getattr(upload, "filename", ""):
            content = upload.read(max_attachment_bytes() + 1)
            attachment = proposals.Attachment(upload.filename or "", content)
        try:
            proposals.submit_proposal(
                session, supplier, need.id,
                proposals.ProposalData(
                    offer=form.offer.data or "", track_record=form.track_record.data or "",
                    equipment=form.equipment.data or "",
                    level=int(form.level.data or preferences.HIGH),
                ),
                attachment, uploads_dir=uploads_dir(), max_bytes=max_attachment_bytes(),
            )
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            buyer_name = need.participant.display_name
            flash(_("Your proposal sheet was sent to %(name)s.", name=buyer_name), "success")
            return redirect(url_for("preferences.buyer_needs") + f"#need-{need.id}")
    remaining = preferences.remaining_requests(session, supplier)
    # With no request left, a sheet to a buyer not yet asked for is refused (check_cap):
    # the form says so before anything is typed, as the directory does.
    cap_reached = (
        remaining is not None and remaining <= 0
        and need.participant_id not in preferences.requested_counterparts(session, supplier)
    )
    return render_template(
        "preferences/apply.html", participant=supplier, event=supplier.event, need=need,
        existing=existing, form=form, is_open=preferences.requests_open(supplier.event),
        max_mb=round(max_attachment_bytes() / 1024 / 1024, 1), locale=_locale(),
        remaining=remaining, cap_reached=cap_reached,
    )


@bp.post("/proposals/<int:proposal_id>/withdraw")
@participant_required
def withdraw_proposal(token: str, proposal_id: int):  # type: ignore[no-untyped-def]
    supplier = _of_role(ParticipantRole.SUPPLIER)
    session = get_session()
    proposals.withdraw_proposal(session, supplier, proposal_id, uploads_dir=uploads_dir())
    session.commit()
    flash(_("The proposal sheet was withdrawn."), "success")
    return redirect(url_for("preferences.buyer_needs"))


@bp.get("/proposals")
@participant_required
def received_proposals(token: str):  # type: ignore[no-untyped-def]
    """The buyer's needs with the sheets received, to screen (書類選考).

    A sheet from a supplier the buyer already asked for, or whose meeting request it
    answered, says so: turning the sheet down leaves that answer as it is.
    """
    buyer = _of_role(ParticipantRole.BUYER)
    session = get_session()
    return render_template(
        "preferences/proposals.html", participant=buyer, event=buyer.event,
        groups=proposals.proposals_for_buyer(session, buyer), form=AnswerForm(),
        is_open=preferences.requests_open(buyer.event), level_labels=LEVEL_LABELS,
        locale=_locale(), answers=proposals.buyer_answers(session, buyer),
    )


@bp.post("/proposals/<int:proposal_id>/decide")
@participant_required
def decide(token: str, proposal_id: int):  # type: ignore[no-untyped-def]
    buyer = _of_role(ParticipantRole.BUYER)
    session = get_session()
    form = AnswerForm()
    form.validate()
    accept = form.decision.data != "decline"
    try:
        sheet = proposals.decide_proposal(session, buyer, proposal_id, accept=accept,
                                          level=form.level_value, note=form.note.data or "")
    except ValidationFailed as error:
        session.rollback()
        flash(translate_error(error), "error")
    else:
        answer = proposals.buyer_answer(session, buyer, sheet.supplier)
        stands = answer is not None and not answer.declined
        name = sheet.supplier.display_name
        session.commit()
        if accept:
            flash(_("The proposal sheet was accepted."), "success")
        elif stands:
            # Turning down one sheet (one need) left the meeting the buyer asked for or
            # accepted as it was: say so, rather than let "declined" suggest otherwise.
            flash(_("The proposal sheet was declined. The meeting with %(name)s still "
                    "stands, as you requested or accepted it.",
                    name=name), "success")
        else:
            flash(_("The proposal sheet was declined."), "success")
    return redirect(url_for("preferences.received_proposals") + f"#proposal-{proposal_id}")


@bp.get("/proposals/<int:proposal_id>/attachment")
@participant_required
def attachment(token: str, proposal_id: int):  # type: ignore[no-untyped-def]
    """A sheet's attachment, for the need's buyer and the supplier only."""
    participant = _approved()
    proposal = proposals.attachment_for_participant(get_session(), participant, proposal_id)
    return send_attachment(proposal)
