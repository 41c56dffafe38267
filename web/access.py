"""Organizers manage a participant: its secret link (show, print, re-issue), and
whether it takes part (approve a declined registration after all, withdraw, undo that).

Re-issuing replaces the token at once, so a link sent to the wrong person stops
working. Sending links by e-mail belongs to the notifications (issue 5).

This page is where a declined registration is approved after all (the company cannot
register again by itself) and where a company that cancels is withdrawn
(:mod:`scheduler.withdrawal`): its meetings to come are cancelled and the counterparts
e-mailed the change notice, as a cancellation on the day is (after the commit).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import profiles, registration, withdrawal
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Attendance, Event, Participant, ParticipantStatus, Person
from scheduler.printing import qr_svg_data_uri
from scheduler.schedule_view import is_published
from web import mail_feedback
from web.auth import organizer_required
from web.database import get_session
from web.filters import listing
from web.i18n import translate_error
from web.portal import ProfileForm, profile_field_error, profile_template_context

bp = Blueprint("access", __name__, url_prefix="/events/<int:event_id>")


def _event(event_id: int) -> Event:
    event = get_session().get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


def _participant(event: Event, participant_id: int) -> Participant:
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    return participant


def link_of(participant: Participant) -> str:
    """The full secret link of a participant's pages."""
    return url_for("portal.home", token=participant.access_token, _external=True)


@bp.get("/participants/<int:participant_id>/access")
@organizer_required
def show(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """The participant's secret link with a copy button, a slip to print, and re-issue;
    and what can change whether it takes part: approving a declined registration after
    all, withdrawing the company (with what that would cancel), or undoing that."""
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    plan = declined = withdrawn = None
    if participant.status == ParticipantStatus.APPROVED:
        plan = withdrawal.plan_withdrawal(session, participant)
    elif participant.status == ParticipantStatus.REJECTED:
        declined = registration.last_decline_entries(session, [participant.id]).get(
            participant.id
        )
    elif participant.status == ParticipantStatus.WITHDRAWN:
        withdrawn = withdrawal.last_withdrawal(session, participant)
    return render_template(
        "access/show.html", event=event, participant=participant, link=link_of(participant),
        contact=registration.contact_person(participant),
        plan=plan, refusal=translate_error(plan.refusal) if plan and plan.refusal else "",
        stale_runs=_stale_runs_text(participant, plan.stale_runs) if plan and plan.stale_runs
        else "",
        declined=declined, withdrawn=withdrawn,
        # Whether the counterparts would be e-mailed (as notify_changed decides).
        published=is_published(event), mail_on=mail_feedback.configured_mail() is not None,
    )


@bp.post("/participants/<int:participant_id>/access/reissue")
@organizer_required
def reissue(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    registration.reissue_token(session, participant, user_id=current_user.id)
    session.commit()
    flash(_("A new link was issued. The old link no longer works."), "success")
    flash(
        _(
            "Calendars subscribed with the old link are emptied: the participant adds "
            "the calendar again from its schedule page."
        ),
        "info",
    )
    return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))


@bp.post("/participants/<int:participant_id>/access/company-edit")
@organizer_required
def allow_company_edit(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """The organizer confirms a self-registered contact belongs to the known company."""
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    registration.allow_company_edit(session, participant, user_id=current_user.id)
    session.commit()
    flash(
        _("%(name)s's contact may now change the company profile.",
          name=participant.organization.name),
        "success",
    )
    return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))


@bp.post("/participants/<int:participant_id>/withdraw")
@organizer_required
def withdraw(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """The company cancels: it leaves the fair, its meetings to come are cancelled, and
    the counterparts are e-mailed the change (as on the day) once it is saved."""
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    try:
        result = withdrawal.withdraw(
            session, participant, user_id=current_user.id,
            reason=request.form.get("reason", "")[:1000],
        )
    except Conflict as error:
        session.rollback()
        flash(translate_error(error), "error")
        return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))
    session.commit()
    flash(
        ngettext(
            "%(name)s has withdrawn. %(num)d planned meeting was cancelled.",
            "%(name)s has withdrawn. %(num)d planned meetings were cancelled.",
            len(result.meetings), name=participant.display_name,
        ),
        "success",
    )
    if result.stale_runs:
        flash(_stale_runs_text(participant, result.stale_runs), "warning")
    # After the commit: a mail server that fails cannot undo the withdrawal. Nothing is
    # sent before the schedule is published (the counterparts cannot see it yet).
    mail_feedback.notify_changed(event, [p.id for p in result.counterparts])
    return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))


def _stale_runs_text(participant: Participant, run_ids: list[int]) -> str:
    return _(
        "Runs computed while %(name)s took part (%(runs)s) still give it meetings, so "
        "they can no longer be published: start a new run and publish that.",
        name=participant.display_name, runs=listing(str(i) for i in run_ids),
    )


@bp.post("/participants/<int:participant_id>/reinstate")
@organizer_required
def reinstate(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """Undo a withdrawal: the company takes part again; its cancelled meetings stay so."""
    event = _event(event_id)
    participant = _participant(event, participant_id)
    session = get_session()
    try:
        withdrawal.reinstate(
            session, participant, user_id=current_user.id,
            reason=request.form.get("reason", "")[:1000],
        )
    except Conflict as error:
        session.rollback()
        flash(translate_error(error), "error")
        return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))
    session.commit()
    flash(
        _(
            "%(name)s takes part again. Its cancelled meetings stay cancelled: the next "
            "run can schedule it again.",
            name=participant.display_name,
        ),
        "success",
    )
    return redirect(url_for("access.show", event_id=event.id, participant_id=participant.id))


@bp.get("/access/slips")
@organizer_required
def slips(event_id: int):  # type: ignore[no-untyped-def]
    """Printable slips with every approved participant's link (one per company)."""
    event = _event(event_id)
    participants = get_session().scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED)
        .options(
            selectinload(Participant.organization),
            # each slip names the contact: one query for all, not two per company
            selectinload(Participant.attendances).selectinload(Attendance.person),
        )
        .order_by(Participant.code, Participant.id)
    ).all()
    return render_template(
        "access/slips.html", event=event,
        slips=[_slip(p) for p in participants],
    )


@bp.get("/participants/<int:participant_id>/access/slip")
@organizer_required
def slip(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    event = _event(event_id)
    participant = _participant(event, participant_id)
    return render_template(
        "access/slips.html", event=event,
        slips=[_slip(participant)],
    )


def _slip(participant: Participant) -> tuple[Participant, str, Person | None, str]:
    """One printed slip: the participant, its link, its contact and a QR code of the link
    (a 43-character token is easy to mistype from paper: l/I/1, O/0)."""
    link = link_of(participant)
    return participant, link, registration.contact_person(participant), qr_svg_data_uri(link)


@bp.route("/participants/<int:participant_id>/profile", methods=["GET", "POST"])
@organizer_required
def edit_profile(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """The organizer edits a company profile on its behalf, in any phase (audited)."""
    event = _event(event_id)
    participant = _participant(event, participant_id)
    form = ProfileForm(role=participant.role)
    if request.method == "GET":
        form.load(participant)
    if form.validate_on_submit():
        session = get_session()
        try:
            profiles.update_profile(
                session, participant, form.data_for_service(), user_id=current_user.id
            )
        except ValidationFailed as error:
            session.rollback()
            profile_field_error(form, error)
        else:
            session.commit()
            flash(_("The profile of %(name)s was saved.", name=participant.organization.name),
                  "success")
            return redirect(
                url_for("access.show", event_id=event.id, participant_id=participant.id)
            )
    return render_template(
        "access/profile.html", event=event, participant=participant, form=form, editable=True,
        **profile_template_context(),
    )
