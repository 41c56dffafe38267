"""The staff console on the day: reception, participant cards, walk-ins, meeting changes, undo.

Phone and tablet first. Views are thin: they parse the request, call one service of
``scheduler.day_operations``, commit, and redirect. A Conflict (someone else was
faster) rolls back, says so clearly, and lands on a page that reads the fresh state.
Every meeting change is shown first as a confirmation listing who is affected.
A form sent twice is answered as the first one was (``ChangeResult.repeated``), without
a second e-mail; the console's forms are also sent only once (``_submit_once.html``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select
from werkzeug.wrappers import Response
from wtforms import (
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from scheduler import board, event_setup
from scheduler import day_operations as ops
from scheduler.db import utcnow
from scheduler.errors import DomainError, ValidationFailed
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Slot,
    Table,
)
from web import mail_feedback
from web.auth import staff_required
from web.database import get_session
from web.form_fields import typed_email, typed_phone
from web.i18n import safe_next, translate_error
from web.ids import parse_id
from web.participant_access import ROLE_LABELS
from web.portal import profile_template_context, technology_choices

bp = Blueprint("staff", __name__, url_prefix="/events/<int:event_id>/day")

DAY_STATUS_LABELS = {
    DayStatus.EXPECTED: lazy_gettext("Expected"),
    DayStatus.CHECKED_IN: lazy_gettext("Checked in"),
    DayStatus.LATE: lazy_gettext("Late"),
    DayStatus.LEFT_EARLY: lazy_gettext("Left early"),
    DayStatus.NO_SHOW: lazy_gettext("No-show"),
}

ACTION_LABELS = {
    "day.check_in": lazy_gettext("Check-in"),
    "day.checked_in": lazy_gettext("Checked in"),
    "day.late": lazy_gettext("Late"),
    "day.left_early": lazy_gettext("Left early"),
    "day.no_show": lazy_gettext("No-show"),
    "day.expected": lazy_gettext("Expected"),
    "day.walk_in": lazy_gettext("Walk-in registered"),
    "day.meeting_cancel": lazy_gettext("Meeting cancelled"),
    "day.meeting_move": lazy_gettext("Meeting moved"),
    "day.meeting_swap": lazy_gettext("Meetings swapped"),
    "day.meeting_add": lazy_gettext("Meeting added"),
    "day.undo": lazy_gettext("Undo"),
    ops.REPAIR_ACTION: lazy_gettext("Re-optimisation applied"),
    # Recorded by the event set-up (a fair day and its slots), under the same prefix.
    "day.save": lazy_gettext("Fair day and its slots saved"),
    "day.delete": lazy_gettext("Fair day deleted"),
}


def action_label(action: str) -> str:
    """A change-log action in the reader's language; never the stored code."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else _("Other change")


MEETING_STATUS_LABELS = {
    MeetingStatus.PLANNED: lazy_gettext("planned"),
    MeetingStatus.HELD: lazy_gettext("held"),
    MeetingStatus.CANCELLED: lazy_gettext("cancelled"),
}


class WalkInForm(FlaskForm):
    company = StringField(
        lazy_gettext("Company name"), validators=[DataRequired(), Length(max=200)]
    )
    company_kana = StringField(
        lazy_gettext("Company name (kana)"), validators=[Optional(), Length(max=200)]
    )
    role = SelectField(
        lazy_gettext("Comes as"),
        choices=[
            SelectChoice(ParticipantRole.SUPPLIER.value, lazy_gettext("Supplier")),
            SelectChoice(ParticipantRole.BUYER.value, lazy_gettext("Buyer")),
        ],
        default=ParticipantRole.SUPPLIER.value,
    )
    contact_name = StringField(
        lazy_gettext("Contact name"), validators=[DataRequired(), Length(max=200)]
    )
    email = EmailField(
        lazy_gettext("E-mail"),
        filters=[typed_email],
        validators=[Optional(), Email(), Length(max=254)],
    )
    phone = TelField(
        lazy_gettext("Phone"), validators=[Optional(), Length(max=50)], filters=[typed_phone]
    )
    # The picker of the supplier profile (portal/_choices.html), so offers can match on them.
    technologies = SelectMultipleField(lazy_gettext("Technologies"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.technologies.choices = technology_choices()

    def chosen_technologies(self) -> list[str]:
        """The ticked technologies; a buyer has none (its wants are in its needs)."""
        if self.role.data != ParticipantRole.SUPPLIER.value:
            return []
        return list(self.technologies.data or [])


def log_value(value: str) -> str:
    """A value of a change-log line in the reader's language.

    Lines are stored when the change is made, with the stored codes of a day status
    (``no_show``), a role (``supplier``) or a meeting's status after its place
    (``10:00 A04 (cancelled)``); they are shown translated.
    """
    if value in DayStatus.__members__.values():
        return str(DAY_STATUS_LABELS[DayStatus(value)])
    if value in ParticipantRole.__members__.values():
        return str(ROLE_LABELS[ParticipantRole(value)])
    place, _, status = value.rpartition(" (")
    if place and status[:-1] in MeetingStatus.__members__.values() and status.endswith(")"):
        return f"{place} ({MEETING_STATUS_LABELS[MeetingStatus(status[:-1])]})"
    return value


def log_lines(entry: AuditEntry, event: Event) -> list[dict[str, str]]:
    """The lines of a change-log entry as the log shows them (``pair``, ``before``,
    ``after`` and ``at``). A late arrival or an early leave says the time staff gave
    ("Expected → Late 10:40"), which the entry keeps apart from its lines; a corrected
    time, which changes no status and so has no line of its own, gets one."""
    lines = [dict(line) for line in entry.details.get("lines", [])]
    at = entry.details.get("at")
    status = entry.action.removeprefix(ops.ACTION_PREFIX)
    if not at or status not in (DayStatus.LATE, DayStatus.LEFT_EARLY):
        return lines
    when = event.local(datetime.fromisoformat(at)).strftime("%H:%M")
    for line in lines:
        if line.get("after") == status:
            line["at"] = when
            return lines
    participant = (
        get_session().get(Participant, entry.participant_id) if entry.participant_id else None
    )
    name = f"{participant.code} {participant.organization.name}".strip() if participant else ""
    return [{"pair": name, "before": "", "after": status, "at": when}, *lines]


def undo_summary(entry: AuditEntry) -> dict[str, Any]:
    """What the Undo bar says a change was: ``action`` (its label), ``pair`` (who),
    ``status`` (a new status for the day, else None) and ``more`` (further lines).

    A change of a company's status for the day leads with that company and its new
    status ("S081 … No-show"), not with the first meeting it cancelled (the lines of
    older changes list the meetings first); any other change with its action and the
    first pair it touched."""
    lines = entry.details.get("lines", [])
    status_line = next(
        (line for line in lines if line.get("after") in DayStatus.__members__.values()), None
    )
    head = status_line or (lines[0] if lines else {})
    return {
        "action": action_label(entry.action),
        "pair": head.get("pair", ""),
        "status": log_value(status_line["after"]) if status_line else None,
        "more": max(len(lines) - 1, 0),
    }


def _last_change(event: Event) -> AuditEntry | None:
    """The current user's change Undo would revert: every page of the console offers it,
    so that it is there on the page a change leads to (a meeting, the offers)."""
    if not current_user.is_authenticated:
        return None
    return ops.last_undoable(get_session(), event, current_user.id)


def day_context() -> dict[str, object]:
    """The labels and helpers of the day console's pages (also the re-optimisation's,
    which include its navigation and undo bar)."""
    return {
        "day_status_labels": DAY_STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "action_label": action_label,
        "meeting_status_labels": MEETING_STATUS_LABELS,
        "log_value": log_value,
        "log_lines": log_lines,
        "last_change": _last_change,
        "undo_summary": undo_summary,
    }


@bp.context_processor
def _labels() -> dict[str, object]:
    return day_context()


# --------------------------------------------------------------------------- helpers


def _event(event_id: int) -> Event:
    return event_setup.get_event(get_session(), event_id)


def _participant(event: Event, participant_id: int) -> Participant:
    try:
        return ops.get_participant(get_session(), event, participant_id)
    except DomainError:
        abort(404)


def _meeting(event: Event, meeting_id: int) -> Meeting:
    try:
        return ops.get_meeting(get_session(), event, meeting_id)
    except DomainError:
        abort(404)


def _int(name: str, *, required: bool = True) -> int | None:
    value = parse_id(request.values.get(name, ""), signed=True)
    if value is not None:
        return value
    if required:
        abort(400)
    return None


def _reason() -> str:
    return request.form.get("reason", "").strip()[:500]


def _refused(error: DomainError) -> None:
    """Roll back and say what went wrong; a refused change lists every reason."""
    get_session().rollback()
    if isinstance(error, ops.ChangeRefused):
        for problem in error.problems:
            flash(_problem_text(problem), "error")
    else:
        flash(_error_text(error), "error")


def _service_text(msgid: str, params: dict[str, object]) -> str:
    """A message of the day's services in the reader's language. A meeting's status
    comes as its stored code (``cancelled``) and is shown as the pages show it."""
    status = params.get("status")
    if isinstance(status, str) and status in MeetingStatus.__members__.values():
        params = {**params, "status": str(MEETING_STATUS_LABELS[MeetingStatus(status)])}
    return _(msgid, **params)


def _error_text(error: DomainError) -> str:
    return _service_text(error.msgid, error.params)


def _problem_text(problem: ops.Problem) -> str:
    return _service_text(problem.msgid, problem.params)


def _day_date(event: Event) -> date:
    """The fair day that times typed by staff refer to: the one a status set now concerns
    (:func:`scheduler.day_operations.fair_day_of`: today while its meetings run, else the
    next fair day), else, after the fair, the last."""
    now = utcnow()
    days = ops.fair_days(event)
    return ops.fair_day_of(event, now, days) or (days[-1] if days else event.local(now).date())


# What a participant's code looks like (B003, S012, an imported "EXH-12"): letters,
# digits and a few marks, no spaces. Anything else typed in the code box is a name.
_CODE_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")

_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：]\d{2})?")


def _typed_time(event: Event) -> datetime | None:
    """The time typed in ``at`` on the fair day (None: nothing typed).

    Something typed that is not a time of day (``25:99``, sent by hand or by a browser
    without a time picker) is refused (:class:`_NotATime`) rather than read as "no time":
    for "left early" no time means now, which cancels meetings."""
    raw = unicodedata.normalize("NFKC", request.form.get("at", "")).strip()
    if not raw:
        return None
    match = _CLOCK.fullmatch(raw)
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (99, 99)
    if hour > 23 or minute > 59:
        raise _NotATime(raw[:10])
    return event_setup.local_datetime(event, _day_date(event), time(hour, minute))


class _NotATime(ValueError):
    """What was typed as a time is not one (the text typed is its argument)."""


def _planned_meetings(meetings: list[Meeting]) -> list[Meeting]:
    return [m for m in meetings if m.status != MeetingStatus.CANCELLED]


def _with_reason(url: str) -> str:
    """``url`` with the reason typed, so a refused change can be retried without retyping."""
    reason = _reason()
    return url + ("?" + urlencode({"reason": reason}) if reason else "")


def _notify(event: Event, result: ops.ChangeResult) -> None:
    """E-mail everyone whose meetings the change touched (after the commit), as the
    schedule page and the printed sheet promise for changes on the day."""
    touched = {m.participant_a_id for m in result.meetings}
    touched |= {m.participant_b_id for m in result.meetings}
    mail_feedback.notify_changed(event, touched, on_the_day=True, warn_without_mail=False)


def _back(default: str) -> Response:
    return redirect(safe_next(request.form.get("next")) or default)


# --------------------------------------------------------------------------- reception


@bp.get("/")
@staff_required
def home(event_id: int):  # type: ignore[no-untyped-def]
    """Reception: search by name, kana or code, scan a QR code, the day at a glance."""
    session = get_session()
    event = _event(event_id)
    query = request.args.get("q", "").strip()
    results = (
        ops.search_participants(session, event, query, limit=ops.MAX_SEARCH_RESULTS + 1)
        if query
        else []
    )
    more = len(results) > ops.MAX_SEARCH_RESULTS
    results = results[: ops.MAX_SEARCH_RESULTS]
    now = utcnow()
    # Today's statuses: one set on an earlier day of the fair counts as expected.
    cutoff = ops.status_cutoff(event, now)
    status = (
        Participant.day_status
        if cutoff is None
        else case(
            (Participant.day_status_at < cutoff, DayStatus.EXPECTED.value),
            else_=Participant.day_status,
        )
    )
    counts = dict(
        session.execute(
            select(status, func.count(Participant.id))
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
            .group_by(status)
        ).all()
    )
    walk_ins = (
        session.scalar(
            select(func.count(Participant.id)).where(
                Participant.event_id == event.id, Participant.registered_via == "walkin"
            )
        )
        or 0
    )
    return render_template(
        "staff/home.html",
        event=event,
        query=query,
        results=results,
        more=more,
        max_results=ops.MAX_SEARCH_RESULTS,
        statuses={p.id: ops.status_today(p, now) for p in results},
        counts=counts,
        walk_ins=walk_ins,
    )


@bp.route("/scan", methods=["GET", "POST"])
@staff_required
def scan(event_id: int):  # type: ignore[no-untyped-def]
    """A scanned QR code (the schedule link) or a typed code opens the participant's card.

    Posted, not asked for in the address: a scanned code is a participant's secret link,
    which must not end up in the browser's history, a proxy's log or the search box. What
    matches nothing is echoed only when it was typed and looks it (a code or a name):
    never what the camera read, never a link.
    A GET (an old bookmark) goes to the search page.
    """
    event = _event(event_id)
    if request.method == "GET":
        return redirect(url_for("staff.home", event_id=event.id))
    content = request.form.get("code", "")
    if not content.strip():
        # Open pressed with nothing typed (the field is required, but a page without it,
        # or spaces, still gets here): say what to do, not that "" matches nobody.
        flash(_("Type a participant's code, or scan its QR code."), "error")
        return redirect(url_for("staff.home", event_id=event.id))
    session = get_session()
    participant = ops.find_by_scan(session, event, content)
    if participant is None:
        typed = content.strip()
        # What a camera read may be anything (a Wi-Fi code with its password): only a
        # typed code is said back.
        if request.form.get("scanned") or "/" in typed:
            flash(_("This QR code is not a schedule link of this fair."), "error")
            return redirect(url_for("staff.home", event_id=event.id))
        if len(typed) > 40:
            # Typed (or a scanner that types) and too long for a code or a name: not said
            # back, and nothing was scanned by the camera.
            flash(
                _(
                    "That is not a participant's code. Type a code such as B003, or search "
                    "by company name above."
                ),
                "error",
            )
            return redirect(url_for("staff.home", event_id=event.id))
        if _CODE_SHAPE.fullmatch(unicodedata.normalize("NFKC", typed)):
            flash(_("No participant has the code “%(code)s”.", code=typed), "error")
        elif ops.search_participants(session, event, typed, limit=1):
            # A name typed in the code box: the search below lists who it matches.
            flash(
                _(
                    "“%(text)s” is not a code: the companies found by that name are listed "
                    "below.",
                    text=typed,
                ),
                "info",
            )
        else:
            flash(_("No participant has the code or name “%(text)s”.", text=typed), "error")
        return redirect(url_for("staff.home", event_id=event.id, q=typed))
    return redirect(url_for("staff.card", event_id=event.id, participant_id=participant.id))


@bp.get("/participants/<int:participant_id>")
@staff_required
def card(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """A participant's day: status, people and check-in, meetings of the day, new gaps."""
    session = get_session()
    event = _event(event_id)
    participant = _participant(event, participant_id)
    entry_id = parse_id(request.args.get("change", ""))
    gaps: list[ops.Gap] = []
    if entry_id is not None:
        entry = session.get(AuditEntry, entry_id)
        if entry is not None and entry.event_id == event.id:
            gaps = ops.gaps_of(session, entry)
    meetings = ops.meetings_of(session, participant)
    now = utcnow()
    since, until = ops.window_on(session, participant, _day_date(event))
    return render_template(
        "staff/card.html",
        event=event,
        participant=participant,
        # Today's: on a fair of several days, what was set or checked in on an earlier
        # day is not (reception starts each day with everyone expected).
        status=ops.status_today(participant, now),
        checked_in={a.id: ops.checked_in_today(a, now) for a in participant.attendances},
        since=since,
        until=until,
        meetings=meetings,
        gaps=gaps,
        now=now,
        day_status_seen=ops.day_status_seen,
    )


@bp.post("/participants/<int:participant_id>/check-in")
@staff_required
def check_in(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """Check in one person or everyone; for a company that left early, its coming back.

    The same check-in sent twice (a double tap) is answered as the first one was."""
    session = get_session()
    event = _event(event_id)
    participant = _participant(event, participant_id)
    person_id = _int("person_id", required=False)
    try:
        result = ops.check_in(
            session,
            participant,
            person_ids=[person_id] if person_id is not None else None,
            user_id=current_user.id,
        )
    except DomainError as error:
        _refused(error)
        return redirect(url_for("staff.card", event_id=event.id, participant_id=participant.id))
    session.commit()
    flash(
        _("%(code)s %(name)s checked in.", code=participant.code, name=participant.display_name),
        "success",
    )
    opened = result.entry.details.get("opened_from")
    if opened:
        flash(
            _(
                "It was expected at %(before)s and can meet from now (%(after)s) on. Meetings "
                "cancelled because it was late are not restored: add meetings or re-optimise.",
                before=opened["before"],
                after=opened["after"],
            ),
            "info",
        )
    reopened = result.entry.details.get("reopened_until")
    if reopened:
        flash(
            _(
                "It was marked as leaving at %(before)s; that is cleared, so it can be given "
                "meetings again. Meetings cancelled when it left are not restored: add "
                "meetings or re-optimise.",
                before=reopened["before"],
            ),
            "info",
        )
    now = utcnow()
    if reopened or any(ops.checked_in_today(a, now) is None for a in participant.attendances):
        # Some of its people are still to come: the card stays, to check them in too.
        # Back after leaving: the card, to give it meetings again.
        return redirect(url_for("staff.card", event_id=event.id, participant_id=participant.id))
    # Back to the search, ready for the next company in the queue.
    return redirect(url_for("staff.home", event_id=event.id))


@bp.post("/participants/<int:participant_id>/status")
@staff_required
def set_status(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """Late, left early or no-show; the counterparts left with a gap are shown next."""
    session = get_session()
    event = _event(event_id)
    participant = _participant(event, participant_id)
    status = request.form.get("status", "")
    try:
        at = _typed_time(event)
        if status == DayStatus.LEFT_EARLY and at is None:
            if not board.is_fair_day(event, utcnow()):
                # "Now" is only a time of the fair on its own days: before them it would
                # cancel every meeting, as a no-show does.
                flash(_("Enter the time it leaves: today is not a day of the fair."), "error")
                return redirect(
                    url_for("staff.card", event_id=event.id, participant_id=participant.id)
                )
            at = utcnow()
        result = ops.set_day_status(
            session,
            participant,
            status,
            at=at,
            user_id=current_user.id,
            reason=_reason(),
            seen=request.form.get("seen"),
        )
    except (DomainError, _NotATime) as error:
        if isinstance(error, _NotATime):
            flash(
                _(
                    "“%(value)s” is not a time of day: enter hours and minutes, e.g. 13:45.",
                    value=error.args[0],
                ),
                "error",
            )
        else:
            _refused(error)
        # What was typed comes back into the form it was typed in.
        typed = {
            "status": status,
            "at": request.form.get("at", "").strip()[:10],
            "reason": _reason(),
        }
        return redirect(
            url_for(
                "staff.card",
                event_id=event.id,
                participant_id=participant.id,
                **{k: v for k, v in typed.items() if v},
            )
        )
    session.commit()
    label = DAY_STATUS_LABELS[DayStatus(status)]
    if result.meetings:
        flash(
            ngettext(
                "%(name)s: %(status)s. %(num)s meeting cancelled.",
                "%(name)s: %(status)s. %(num)s meetings cancelled.",
                len(result.meetings),
                name=participant.display_name,
                status=label,
            ),
            "success",
        )
    else:  # a late arrival that loses nothing: no "0 meetings cancelled"
        flash(
            _("%(name)s: %(status)s.", name=participant.display_name, status=label), "success"
        )
    if not result.repeated:  # sent twice: the first request e-mailed them
        _notify(event, result)
    return redirect(
        url_for(
            "staff.card",
            event_id=event.id,
            participant_id=participant.id,
            change=result.entry.id,
        )
    )


# --------------------------------------------------------------------------- walk-ins


@bp.route("/walk-in", methods=["GET", "POST"])
@staff_required
def walk_in(event_id: int):  # type: ignore[no-untyped-def]
    """Register a company at the desk with the minimum, then offer it free meetings."""
    session = get_session()
    event = _event(event_id)
    form = WalkInForm()
    if form.validate_on_submit():
        try:
            participant = ops.register_walk_in(
                session,
                event,
                company=form.company.data or "",
                company_kana=form.company_kana.data or "",
                role=form.role.data or "",
                contact_name=form.contact_name.data or "",
                email=form.email.data or "",
                phone=form.phone.data or "",
                technologies=form.chosen_technologies(),
                user_id=current_user.id,
            )
        except ValidationFailed as error:
            session.rollback()
            target = getattr(form, error.field or "", None)
            if target is not None:
                target.errors = [*target.errors, translate_error(error)]
            else:
                form.form_errors.append(translate_error(error))
        else:
            session.commit()
            flash(
                _(
                    "%(name)s registered as %(code)s and checked in.",
                    name=participant.display_name,
                    code=participant.code,
                ),
                "success",
            )
            return redirect(
                url_for("staff.offers", event_id=event.id, participant_id=participant.id)
            )
    return render_template(
        "staff/walk_in.html", event=event, form=form, **profile_template_context()
    )


@bp.get("/participants/<int:participant_id>/offers")
@staff_required
def offers(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """Counterparts with a free slot who would accept a meeting, best first; or the
    counterparts found by a search (``q``: code, name, kana or a person), or every free
    slot with one counterpart (``counterpart``), for a walk-in who asks for a company or a time."""
    session = get_session()
    event = _event(event_id)
    participant = _participant(event, participant_id)
    query = request.args.get("q", "").strip()[:100]
    chosen_id = parse_id(request.args.get("counterpart", ""))
    other_role = (
        ParticipantRole.SUPPLIER
        if participant.role == ParticipantRole.BUYER
        else ParticipantRole.BUYER
    )
    more = False
    chosen = None
    if chosen_id is not None:
        counterpart = session.get(Participant, chosen_id)
        if counterpart is None or counterpart.event_id != event.id:
            abort(404)
        found = ops.offers_with(session, participant, [counterpart])
        chosen = found[0] if found else None
        offers = found
    elif query:
        matches = ops.search_participants(
            session, event, query, role=other_role, limit=ops.MAX_SEARCH_RESULTS + 1
        )
        more = len(matches) > ops.MAX_SEARCH_RESULTS
        offers = ops.offers_with(session, participant, matches[: ops.MAX_SEARCH_RESULTS])
    else:
        offers = ops.walk_in_offers(session, participant)
    return render_template(
        "staff/offers.html",
        event=event,
        participant=participant,
        offers=offers,
        query=query,
        chosen_id=chosen_id,
        chosen=chosen,
        more=more,
        max_results=ops.MAX_SEARCH_RESULTS,
        here=request.full_path.rstrip("?"),
        problem_text=_problem_text,
    )


# --------------------------------------------------------------------------- meetings


@bp.get("/meetings")
@staff_required
def meetings(event_id: int):  # type: ignore[no-untyped-def]
    """The meetings of one slot (the current or next by default), to pick one to change."""
    session = get_session()
    event = _event(event_id)
    slots = list(event.slots)
    chosen = _int("slot", required=False)
    now = utcnow()
    slot = next((s for s in slots if s.id == chosen), None) or next(
        (s for s in slots if s.ends_at > now), slots[-1] if slots else None
    )
    rows = ops.meetings_in_slot(session, event, slot.id) if slot is not None else []
    return render_template(
        "staff/meetings.html", event=event, slots=slots, slot=slot, rows=rows, now=now
    )


@bp.get("/meetings/<int:meeting_id>")
@staff_required
def meeting(event_id: int, meeting_id: int):  # type: ignore[no-untyped-def]
    """One meeting: cancel it, move it (slot and/or table) or swap it with another."""
    session = get_session()
    event = _event(event_id)
    item = _meeting(event, meeting_id)
    now = utcnow()
    tables = session.scalars(
        select(Table).where(Table.event_id == event.id).order_by(Table.sort_order, Table.label)
    ).all()
    return render_template(
        "staff/meeting.html",
        event=event,
        meeting=item,
        # A move goes to a slot that has not started (its own slot: a change of table).
        slots=[s for s in event.slots if s.starts_at > now or s.id == item.slot_id],
        tables=tables,
        swap_candidates=ops.swap_candidates(session, item),
        now=now,
    )


def _preview_for(event: Event, op: str) -> ops.Preview:
    """The preview of the change the request describes (``op`` and its fields)."""
    session = get_session()
    if op == "add":
        return ops.preview_add(
            session,
            event,
            a_id=_int("a") or 0,
            b_id=_int("b") or 0,
            slot_id=_int("slot") or 0,
            table_id=_int("table", required=False),
        )
    item = _meeting(event, _int("meeting") or 0)
    if op == "cancel":
        return ops.preview_cancel(session, item)
    if op == "move":
        return ops.preview_move(
            session,
            item,
            slot_id=_int("slot", required=False),
            table_id=_int("table", required=False),
        )
    if op == "swap":
        other = _int("other", required=False)  # the list starts with "choose…"
        return ops.preview_swap(session, item, _meeting(event, other) if other else None)
    abort(400)


@bp.get("/meetings/check")
@staff_required
def check(event_id: int):  # type: ignore[no-untyped-def]
    """Live conflict check (JSON) while staff choose a target: problems and who is affected."""
    event = _event(event_id)
    try:
        preview = _preview_for(event, request.args.get("op", ""))
    except DomainError as error:
        return jsonify(ok=False, problems=[_error_text(error)], affected=[])
    return jsonify(
        ok=preview.ok,
        problems=[_problem_text(p) for p in preview.problems],
        affected=[{"code": p.code, "name": p.display_name} for p in preview.affected],
    )


@bp.post("/meetings/change")
@staff_required
def change(event_id: int):  # type: ignore[no-untyped-def]
    """Cancel, move, swap or add: first a confirmation listing who is affected, then the write.

    The versions the staff member saw travel with the form; if someone else changed
    a meeting in between, the write is refused and the fresh state shown.
    """
    session = get_session()
    event = _event(event_id)
    op = request.form.get("op", "")
    if op == "add":
        # Back to the offers page it was chosen on (with its search), to pick another.
        back = safe_next(request.form.get("next")) or url_for("staff.home", event_id=event.id)
    else:
        back = url_for("staff.meeting", event_id=event.id, meeting_id=_int("meeting"))
    if request.form.get("confirm") != "1":
        try:
            preview = _preview_for(event, op)
        except DomainError as error:
            _refused(error)
            return redirect(_with_reason(back) if op != "add" else back)
        fields = {k: v for k, v in request.form.items() if k not in ("csrf_token", "confirm")}
        if op == "swap":
            # The other meeting as this confirmation shows it (the list it was chosen in
            # carries no version without its script).
            other = preview.lines[1][0]
            assert other is not None
            fields["other_version"] = str(other.version)
        return render_template(
            "staff/confirm.html",
            event=event,
            op=op,
            preview=preview,
            back=_with_reason(back) if op != "add" else back,
            fields=fields,
            problem_text=_problem_text,
        )
    try:
        result = _perform(event, op)
    except DomainError as error:
        _refused(error)
        # The page reads the state as it is now; the reason typed is kept for the retry.
        return redirect(_with_reason(back) if op != "add" else back)
    session.commit()
    names = ", ".join(p.code for p in result.affected)
    flash(_("Saved. Affected: %(names)s.", names=names), "success")
    if not result.repeated:  # sent twice (a double tap): the first request e-mailed them
        _notify(event, result)
    return _back(url_for("staff.meeting", event_id=event.id, meeting_id=result.meetings[0].id))


def _perform(event: Event, op: str) -> ops.ChangeResult:
    session = get_session()
    user, reason = current_user.id, _reason()
    if op == "add":
        source = "walkin" if request.form.get("source") == "walkin" else "staff"
        return ops.add_meeting(
            session,
            event,
            a_id=_int("a") or 0,
            b_id=_int("b") or 0,
            slot_id=_int("slot") or 0,
            table_id=_int("table", required=False),
            user_id=user,
            reason=reason,
            source=source,
        )
    meeting_id, version = _int("meeting") or 0, _int("version") or 0
    if op == "cancel":
        return ops.cancel_meeting(
            session, event, meeting_id, expected_version=version, user_id=user, reason=reason
        )
    if op == "move":
        return ops.move_meeting(
            session,
            event,
            meeting_id,
            expected_version=version,
            slot_id=_int("slot", required=False),
            table_id=_int("table", required=False),
            user_id=user,
            reason=reason,
        )
    if op == "swap":
        return ops.swap_meetings(
            session,
            event,
            meeting_id,
            _int("other") or 0,
            expected_versions=(version, _int("other_version") or 0),
            user_id=user,
            reason=reason,
        )
    abort(400)


# --------------------------------------------------------------------------- undo and log


@bp.post("/undo")
@staff_required
def undo(event_id: int):  # type: ignore[no-untyped-def]
    """Undo the current user's last change (refused if anything it touched changed since)."""
    session = get_session()
    event = _event(event_id)
    try:
        result = ops.undo_last(
            session,
            event,
            user_id=current_user.id,
            entry_id=parse_id(request.form.get("entry", "")),
        )
    except ops.UndoImpossible as error:
        session.rollback()
        # It will fail the same way every time: stop offering it (the log says why).
        ops.retire_undo(session, event, error.entry_id, error.problems, user_id=current_user.id)
        session.commit()
        flash(
            _(
                "Not undone: a later change is in the way. Undo is no longer offered for "
                "this change; make the change you need by hand."
            ),
            "error",
        )
        for problem in error.problems:
            flash(_problem_text(problem), "error")
    except DomainError as error:
        session.rollback()
        flash(_("Not undone: %(reason)s", reason=_error_text(error)), "error")
    else:
        session.commit()
        names = ", ".join(p.code for p in result.affected)
        flash(_("Undone. Affected: %(names)s.", names=names), "success")
        if not result.repeated:
            _notify(event, result)
    return _back(url_for("staff.home", event_id=event.id))


@bp.get("/log")
@staff_required
def log(event_id: int):  # type: ignore[no-untyped-def]
    """Every change of the day: who, when, what and why, newest first."""
    event = _event(event_id)
    return render_template("staff/log.html", event=event, entries=ops.day_log(get_session(), event))


def slot_label(event: Event, slot: Slot | None) -> str:
    """A slot as staff read it: its local start and end."""
    if slot is None:
        return "—"
    return f"{event.local(slot.starts_at):%H:%M}–{event.local(slot.ends_at):%H:%M}"


@bp.app_template_filter("slot_span")
def _slot_span(slot: Slot | None, event: Event) -> str:
    return slot_label(event, slot)
