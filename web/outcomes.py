"""What came of the meetings: the participant's reports and the organizer's results.

* ``/p/<token>/outcomes`` — the participant reports on each of its meetings once it
  has started (a card per meeting) and may update the report later; below, the fair
  survey (satisfaction, coming again, a comment). The cards and the survey are one form:
  whichever button is pressed (a card's, the survey's, "Save all"), everything typed is
  saved, each card on its own (a card with a mistake comes back with it, the others are
  saved);
* ``/events/<id>/participants/<pid>/outcomes`` — the organizer records reports and the
  survey answer on a participant's behalf (a phone survey, a paper questionnaire), audited;
* ``/events/<id>/outcomes`` — the fair's results, headed by the fair's days, venue and
  the time of the figures (it is printed): meetings planned and reported held, next
  steps, ordered amount, participating companies, reports and prospects by side, the
  survey (satisfaction by side, coming again, comments), the meetings by the supplier's
  industry and place, every meeting with both reports, and the companies that have not
  reported yet (with their secret links);
  ``/events/<id>/outcomes.xlsx`` — the same as an Excel workbook, set up to print.

A card with a mistake comes back with what was typed and the message next to the
field (status 400); the other cards show what is stored (saved, if typed into).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal, get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler import event_setup, feedback, notifications, outcomes
from scheduler.db import utcnow
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import (
    SATISFACTION_LEVELS,
    Attendance,
    AuditEntry,
    Event,
    JoinAgain,
    NextStep,
    Participant,
    ParticipantRole,
    Phase,
    Prospect,
)
from scheduler.participant_import import contact_of
from scheduler.profiles import typed_text
from scheduler.spreadsheet import keep_as_text
from web import mail_feedback
from web.auth import organizer_required
from web.database import get_session
from web.filters import label_colon, list_separator
from web.i18n import translate_error
from web.ids import parse_id
from web.participant_access import (
    PORTAL_PREFIX,
    PortalSection,
    current_participant,
    participant_required,
    register_portal_section,
)

bp = Blueprint("outcomes", __name__)

# How long after a reminder another may be sent (a second click within it sends none).
REMIND_AGAIN_AFTER = mail_feedback.REMIND_AGAIN_AFTER

register_portal_section(PortalSection(
    "outcomes.mine", lazy_gettext("Meeting results"),
    # Buyers and suppliers read it: orders both placed (発注) and received (受注).
    lazy_gettext("After your meetings: how they went and what followed (visits, quotations, "
                 "orders placed or received), and a short survey about the fair."),
    phases=frozenset({Phase.ON_THE_DAY, Phase.CLOSED}),
    order=70,
))

NEXT_STEP_LABELS = {
    NextStep.FURTHER_TALKS: lazy_gettext("Further talks"),
    NextStep.FACTORY_VISIT: lazy_gettext("Factory visit"),
    NextStep.QUOTATION: lazy_gettext("Quotation"),
    NextStep.TEST_ORDER: lazy_gettext("Prototype or trial order"),
    NextStep.ORDER: lazy_gettext("Order"),
}
#: A buyer places the order a supplier receives: its own form and page say so (in
#: Japanese 発注 rather than 受注; "Order" is the supplier's, and the organizer's).
BUYER_NEXT_STEP_LABELS = {**NEXT_STEP_LABELS, NextStep.ORDER: lazy_gettext("Order placed")}


def next_step_labels_of(role: str) -> dict[NextStep, Any]:
    """The next steps as a participant of ``role`` reports them."""
    return BUYER_NEXT_STEP_LABELS if role == ParticipantRole.BUYER else NEXT_STEP_LABELS


PROSPECT_LABELS = {
    Prospect.HIGH: lazy_gettext("Very promising"),
    Prospect.SOME: lazy_gettext("Some prospect"),
    Prospect.NONE: lazy_gettext("No prospect for now"),
}


SATISFACTION_LABELS = {
    5: lazy_gettext("Very satisfied"),
    4: lazy_gettext("Satisfied"),
    3: lazy_gettext("Neither satisfied nor dissatisfied"),
    2: lazy_gettext("Somewhat dissatisfied"),
    1: lazy_gettext("Dissatisfied"),
}
assert tuple(SATISFACTION_LABELS) == SATISFACTION_LEVELS
#: The answers as the participant chooses them.
JOIN_AGAIN_CHOICES = {
    JoinAgain.YES: lazy_gettext("Yes, I would like to take part again"),
    JoinAgain.PERHAPS: lazy_gettext("Perhaps, depending on the companies taking part"),
    JoinAgain.NO: lazy_gettext("No, I would not take part again"),
}
#: The same answers in the organizer's tables ("" for a participant that did not say).
#: "Perhaps" in the words the participant chose it in: a bare "Perhaps" (検討する) read as
#: another answer than the form's "depending on the companies taking part" (QA).
JOIN_AGAIN_LABELS = {
    JoinAgain.YES: lazy_gettext("Would take part again"),
    JoinAgain.PERHAPS: JOIN_AGAIN_CHOICES[JoinAgain.PERHAPS],
    JoinAgain.NO: lazy_gettext("Would not take part again"),
    "": lazy_gettext("Did not say"),
}


@bp.app_context_processor
def _outcome_labels() -> dict[str, object]:
    return {"next_step_labels": NEXT_STEP_LABELS, "prospect_labels": PROSPECT_LABELS,
            "satisfaction_labels": SATISFACTION_LABELS,
            "join_again_choices": JOIN_AGAIN_CHOICES, "join_again_labels": JOIN_AGAIN_LABELS}


def _submitted(prefix: str = "") -> outcomes.OutcomeInput:
    """A report as posted: a single card's fields, or (``prefix`` "m12-") one card's
    among the page's."""
    form = request.form
    return outcomes.OutcomeInput(
        took_place=form.get(f"{prefix}took_place", ""),
        prospect=form.get(f"{prefix}prospect", ""),
        next_steps=form.getlist(f"{prefix}next_steps"),
        order_amount=form.get(f"{prefix}order_amount", ""),
        order_month=form.get(f"{prefix}order_month", ""),
        note=form.get(f"{prefix}note", ""),
    )


def _fingerprint(*values: object) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:20]


def report_fingerprint(data: outcomes.OutcomeInput) -> str:
    """A card's answers in a few characters: the page sends back (hidden) what each card
    showed, so that a card left as it was is told from one typed into."""
    return _fingerprint(
        data.took_place.strip(), data.prospect.strip(),
        sorted(s.strip() for s in data.next_steps if s.strip()),
        data.order_amount.strip(), data.order_month.strip(), typed_text(data.note),
    )


def survey_fingerprint(data: feedback.FeedbackInput) -> str:
    """The survey card's answers in a few characters (see :func:`report_fingerprint`)."""
    return _fingerprint(data.satisfaction.strip(), data.join_again.strip(),
                        typed_text(data.comment))


def _save(session: Any, participant: Participant, meeting_id: int,
          data: outcomes.OutcomeInput, now: Any, user_id: int | None) -> None:
    """Save a report; a double-tapped button (two first reports at once) saves it once."""
    try:
        outcomes.save_outcome(session, participant, meeting_id, data, now=now, user_id=user_id)
    except IntegrityError:
        session.rollback()  # the other request stored it a moment ago: update that one
        outcomes.save_outcome(session, participant, meeting_id, data, now=now, user_id=user_id)


def _survey_answers() -> feedback.FeedbackInput:
    return feedback.FeedbackInput(
        satisfaction=request.form.get("satisfaction", ""),
        join_again=request.form.get("join_again", ""),
        comment=request.form.get("comment", ""),
    )


def _save_survey(session: Any, participant: Participant, data: feedback.FeedbackInput,
                 now: Any, user_id: int | None) -> None:
    """Save a survey answer; a double-tapped button (two first answers at once) saves it once."""
    try:
        feedback.save_feedback(session, participant, data, now=now, user_id=user_id)
    except IntegrityError:
        session.rollback()  # the other request stored it a moment ago: update that one
        feedback.save_feedback(session, participant, data, now=now, user_id=user_id)


def _problems(error: ValidationFailed) -> dict[str, str]:
    """Each field's first problem, translated ("form" for one about the whole form)."""
    found: dict[str, str] = {}
    for problem in getattr(error, "problems", [error]):
        found.setdefault(problem.field or "form", translate_error(problem))
    return found


@dataclass
class _Posted:
    """What a POST of the reports page did: the reports saved (meeting ids, in order), the
    ones sent back with their mistakes (as typed), and the same for the survey."""

    saved: list[int] = field(default_factory=list)
    typed: dict[int, outcomes.OutcomeInput] = field(default_factory=dict)
    errors: dict[int, dict[str, str]] = field(default_factory=dict)
    survey_saved: bool = False
    survey_typed: feedback.FeedbackInput | None = None
    survey_errors: dict[str, str] = field(default_factory=dict)


def _save_report(session: Any, participant: Participant, meeting_id: int,
                 data: outcomes.OutcomeInput, now: Any, user_id: int | None,
                 posted: _Posted, *, one_card: bool = True) -> None:
    """Save one report on its own (committed), or note its mistakes in ``posted``.

    A meeting that is not the participant's: 404 for a card posted alone; among the
    page's cards (a form tampered with), said above the list while the others are saved
    (review: the cards before it were saved and the page answered "not found")."""
    try:
        _save(session, participant, meeting_id, data, now, user_id)
    except NotFound as error:
        session.rollback()
        if one_card:
            abort(404)
        posted.errors[meeting_id] = {"": translate_error(error)}
    except ValidationFailed as error:
        session.rollback()
        posted.typed[meeting_id] = data
        posted.errors[meeting_id] = _problems(error)
    else:
        session.commit()
        posted.saved.append(meeting_id)


def _save_answer(session: Any, participant: Participant, data: feedback.FeedbackInput,
                 now: Any, user_id: int | None, posted: _Posted) -> None:
    """Save the survey answer (committed), or note its mistakes in ``posted``."""
    try:
        _save_survey(session, participant, data, now, user_id)
    except ValidationFailed as error:
        session.rollback()
        posted.survey_typed = data
        posted.survey_errors = _problems(error)
    else:
        session.commit()
        posted.survey_saved = True


# The page's cards are one form: each card's fields are named after its meeting
# ("m12-took_place"), with what the card showed ("m12-shown"), and so the survey's.
_CARD_SHOWN = re.compile(r"m(\d{1,12})-shown")


def _save_whole_page(session: Any, participant: Participant, now: Any, user_id: int | None,
                     meeting_id: int | None, survey_posted: bool) -> _Posted:
    """Save everything typed on the page, whichever of its buttons was pressed: every
    card typed into (or whose own button was pressed) and the survey if it was, each on
    its own, so that a mistake in one keeps none of the others from being saved."""
    posted = _Posted()
    cards = [int(m[1]) for key in request.form if (m := _CARD_SHOWN.fullmatch(key))]
    if meeting_id is not None and meeting_id not in cards:
        cards.append(meeting_id)
    for card in dict.fromkeys(cards):
        prefix = f"m{card}-"
        data = _submitted(prefix)
        if card != meeting_id and report_fingerprint(data) == request.form.get(f"{prefix}shown"):
            continue  # left as it was (or as another tab of the page changed it since)
        _save_report(session, participant, card, data, now, user_id, posted,
                     one_card=card == meeting_id)
    answer = _survey_answers()
    if survey_posted or (
        "survey-shown" in request.form
        and survey_fingerprint(answer) != request.form.get("survey-shown")
    ):
        _save_answer(session, participant, answer, now, user_id, posted)
    return posted


def _reports_page(participant: Participant, *, user_id: int | None, template: str,
                  action_url: Any, done_url: Any, survey_url: str, save_all_url: str,
                  meeting_id: int | None = None, survey_posted: bool = False,
                  **context: object):  # type: ignore[no-untyped-def]
    """The list of the participant's started meetings, each with its card, and the fair
    survey, all in one form; on POST, save what was typed and go back to the card whose
    button was pressed (or the survey), or show the page again with the mistakes, each in
    its card, the rest saved.

    A POST without the page's form (a single card's fields, ``meeting_id``, or the
    survey's, ``survey_posted``) saves that one alone, as the page's former forms did."""
    session = get_session()
    now = utcnow()
    posted = _Posted()
    whole_page = request.method == "POST" and request.form.get("whole_page") == "1"
    if whole_page:
        posted = _save_whole_page(session, participant, now, user_id, meeting_id, survey_posted)
    elif survey_posted:
        _save_answer(session, participant, _survey_answers(), now, user_id, posted)
    elif meeting_id is not None:
        _save_report(session, participant, meeting_id, _submitted(), now, user_id, posted)
    items = outcomes.reportable_meetings(session, participant, now)
    listed = {i.meeting.id for i in items}
    for unlisted in [m for m in posted.errors if m not in listed]:
        # Not listed (cancelled meanwhile, or not started): said above the list.
        flash(next(iter(posted.errors.pop(unlisted).values())), "error")
    if request.method == "POST" and not posted.errors and not posted.survey_errors:
        return redirect(_after_saving(done_url, posted, meeting_id, survey_posted))
    forms = {i.meeting.id: posted.typed.get(i.meeting.id) or outcomes.OutcomeInput.of(i.outcome)
             for i in items}
    status = 400 if posted.errors or posted.survey_errors else 200
    # The reports saved, the first where the page lands (it says how many came with it).
    if request.method == "POST":
        saved_ids = posted.saved
    else:
        saved_ids = [m for x in request.args.get("saved", "").split(",")
                     if (m := parse_id(x)) is not None]
    stored_answer = feedback.feedback_of(session, participant)
    opens_at = feedback.survey_opens_at(session, participant.event)
    survey = {
        "open": feedback.survey_open(participant.event, opens_at, now),
        "opens_at": opens_at,
        "can_answer": feedback.can_answer(participant),
        "answer": stored_answer,
        "form": posted.survey_typed or feedback.FeedbackInput.of(stored_answer),
        # What the card showed: its stored answer, also while a mistake is to be fixed.
        "shown": survey_fingerprint(feedback.FeedbackInput.of(stored_answer)),
        "errors": posted.survey_errors,
        "action": survey_url,
        "answered": posted.survey_saved or (
            request.method == "GET" and request.args.get("answered") == "1"
        ),
        "with_reports": 0 if request.method == "POST" else len(saved_ids),
        "comment_max": feedback.COMMENT_MAX_CHARS,
    }
    # The organizer entering answers from a call sees what the other side reported (a
    # participant never does: reports are the organizer's only).
    theirs = outcomes.counterpart_reports(session, items) if user_id is not None else {}
    return render_template(
        template, participant=participant, event=participant.event, items=items, forms=forms,
        # What each card showed, sent back with it: a card left as it was is not saved.
        shown={i.meeting.id: report_fingerprint(outcomes.OutcomeInput.of(i.outcome))
               for i in items},
        # Each side's steps in its own words: the counterpart of a buyer is a supplier.
        next_step_labels=next_step_labels_of(participant.role),
        their_next_step_labels=next_step_labels_of(
            ParticipantRole.SUPPLIER if participant.role == ParticipantRole.BUYER
            else ParticipantRole.BUYER
        ),
        errors=posted.errors, action_url=action_url, save_all_url=save_all_url,
        saved=set(saved_ids), saved_lead=saved_ids[0] if saved_ids and status == 200 else None,
        saved_with=len(saved_ids) - 1,
        first_error=next((i.meeting.id for i in items if i.meeting.id in posted.errors), None),
        whole_page=whole_page, on_behalf=user_id is not None, theirs=theirs,
        note_max=outcomes.NOTE_MAX_CHARS,
        upcoming=outcomes.upcoming_count(session, participant, now),
        now_month=local_month(now, participant.event),
        reported=sum(1 for i in items if i.outcome is not None), survey=survey, **context,
    ), status


def _after_saving(done_url: str, posted: _Posted, meeting_id: int | None,
                  survey_posted: bool) -> str:
    """Where the page goes once everything posted is saved: back to the card whose button
    was pressed (or the survey, or the first card saved), saying what was saved there."""
    query = []
    if posted.saved:
        # The card the page lands on first: it says how many others were saved with it.
        ids = sorted(posted.saved, key=lambda m: m != meeting_id)
        query.append(f"saved={','.join(str(m) for m in ids)}")
    if posted.survey_saved:
        query.append("answered=1")
    if survey_posted:
        where = "#survey"
    elif meeting_id is not None:
        where = f"#meeting-{meeting_id}"
    elif posted.saved:
        where = f"#meeting-{posted.saved[0]}"
    elif posted.survey_saved:
        where = "#survey"
    else:
        flash(_("Nothing was changed: there was nothing to save."), "info")
        where = ""
    return f"{done_url}{'?' + '&'.join(query) if query else ''}{where}"


def meetings_to_report(participant: Participant) -> int:
    """How many of the participant's meetings await its report (for the portal home and
    the schedule page, which ask for them)."""
    return outcomes.awaiting_report(get_session(), participant, utcnow())


def survey_to_answer(participant: Participant) -> bool:
    """Whether the portal home asks the participant for the fair survey: it is open, the
    participant's meetings are all behind it and reported (or the fair is closed), and
    it has not answered yet."""
    event = participant.event
    if event.phase not in (Phase.ON_THE_DAY, Phase.CLOSED) or not feedback.can_answer(
        participant
    ):
        return False
    session = get_session()
    now = utcnow()
    if not feedback.survey_open(event, feedback.survey_opens_at(session, event), now):
        return False
    items = outcomes.reportable_meetings(session, participant, now)
    if any(i.outcome is None for i in items):
        return False  # its reports are asked for first (the survey is on the same page)
    if event.phase != Phase.CLOSED and (
        not items or outcomes.upcoming_count(session, participant, now)
    ):
        return False  # nothing behind it yet, or more to come today
    return feedback.feedback_of(session, participant) is None


# --------------------------------------------------------------------------- participant


# The page's form posts to the address of the button pressed: a card's (the page lands
# back on it), the survey's, or the page's own ("Save all"); a GET of a card's or the
# survey's address (reloading the page after a mistake) goes back to the list, there.


@bp.route(f"{PORTAL_PREFIX}/outcomes", methods=["GET", "POST"])
@bp.route(f"{PORTAL_PREFIX}/outcomes/<int:meeting_id>", methods=["GET", "POST"])
@participant_required
def mine(token: str, meeting_id: int | None = None):  # type: ignore[no-untyped-def]
    """The participant's meetings that have started, each with its report form."""
    done_url = url_for("outcomes.mine")
    if meeting_id is not None and request.method == "GET":
        return redirect(f"{done_url}#meeting-{meeting_id}")
    return _reports_page(
        current_participant(), user_id=None, template="outcomes/mine.html",
        action_url=lambda mid: url_for("outcomes.mine", meeting_id=mid),
        done_url=done_url, survey_url=url_for("outcomes.my_survey"), save_all_url=done_url,
        meeting_id=meeting_id,
    )


@bp.route(f"{PORTAL_PREFIX}/outcomes/survey", methods=["GET", "POST"])
@participant_required
def my_survey(token: str):  # type: ignore[no-untyped-def]
    """The participant's answer to the fair survey (on its results page)."""
    done_url = url_for("outcomes.mine")
    if request.method == "GET":
        return redirect(f"{done_url}#survey")
    return _reports_page(
        current_participant(), user_id=None, template="outcomes/mine.html",
        action_url=lambda mid: url_for("outcomes.mine", meeting_id=mid),
        done_url=done_url, survey_url=url_for("outcomes.my_survey"), save_all_url=done_url,
        survey_posted=True,
    )


# --------------------------------------------------------------------------- organizer


@bp.route("/events/<int:event_id>/participants/<int:participant_id>/outcomes",
          methods=["GET", "POST"])
@bp.route("/events/<int:event_id>/participants/<int:participant_id>/outcomes/<int:meeting_id>",
          methods=["GET", "POST"])
@organizer_required
def record_for(event_id: int, participant_id: int,
               meeting_id: int | None = None):  # type: ignore[no-untyped-def]
    """The organizer records a participant's reports on its behalf (audited)."""
    return _on_behalf(event_id, participant_id, meeting_id=meeting_id)


@bp.route("/events/<int:event_id>/participants/<int:participant_id>/outcomes/survey",
          methods=["GET", "POST"])
@organizer_required
def survey_for(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """The organizer enters a participant's survey answer (a paper questionnaire), audited."""
    return _on_behalf(event_id, participant_id, survey=True)


def _on_behalf(event_id: int, participant_id: int, *, meeting_id: int | None = None,
               survey: bool = False):  # type: ignore[no-untyped-def]
    """The participant's reports and survey as the organizer enters them: what was typed
    posted (from a card's button, the survey's, or "Save all"), or the page; a GET of a
    form's address goes back to the page, at that form."""
    event = event_setup.get_event(get_session(), event_id)
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    done_url = url_for("outcomes.record_for", event_id=event.id, participant_id=participant.id)
    if request.method == "GET" and (survey or meeting_id is not None):
        return redirect(f"{done_url}#{'survey' if survey else f'meeting-{meeting_id}'}")
    return _reports_page(
        participant, user_id=current_user.id, template="outcomes/record_for.html",
        action_url=lambda mid: url_for("outcomes.record_for", event_id=event.id,
                                       participant_id=participant.id, meeting_id=mid),
        done_url=done_url, save_all_url=done_url, meeting_id=meeting_id, survey_posted=survey,
        survey_url=url_for("outcomes.survey_for", event_id=event.id,
                           participant_id=participant.id),
        # Whom to call for the answers (a phone survey is what this page is for).
        contact=contact_of(participant),
    )


@bp.get("/events/<int:event_id>/outcomes")
@organizer_required
def results(event_id: int):  # type: ignore[no-untyped-def]
    """The fair's results, as reported by the participants."""
    event = event_setup.get_event(get_session(), event_id)
    now = utcnow()
    summary = outcomes.fair_results(get_session(), event, now)
    return render_template(
        "outcomes/results.html", event=event, results=summary, contact_of=contact_of,
        survey=feedback.survey_results(get_session(), event),
        answerable=feedback.answerable(get_session(), event),
        as_of=now, buyer_next_step_labels=BUYER_NEXT_STEP_LABELS,
        last_reminder=last_reminder(event),
        reminder_state=mail_feedback.reminder_state,
        can_mail=notifications.MailSettings.from_config(current_app.config) is not None,
    )


@bp.get("/events/<int:event_id>/outcomes/enter")
@organizer_required
def enter_for(event_id: int):  # type: ignore[no-untyped-def]
    """The company chosen on the results page: its reports and survey answer, to enter
    from a paper questionnaire (any company, with meetings or not)."""
    event = event_setup.get_event(get_session(), event_id)
    participant_id = parse_id(request.args.get("participant"))
    participant = get_session().get(Participant, participant_id) if participant_id else None
    if participant is None or participant.event_id != event.id:
        flash(_("Choose a company from the list."), "error")
        return redirect(url_for("outcomes.results", event_id=event.id) + "#survey")
    return redirect(url_for("outcomes.record_for", event_id=event.id,
                            participant_id=participant.id) + "#survey")


@dataclass(frozen=True)
class ReminderTarget:
    """A company the outcomes reminder would e-mail, and what it has left to do."""

    participant: Participant
    needs: notifications.ReminderNeeds


#: The two reminders after the fair, each with its own audit action (and so its own
#: guard against a second one within REMIND_AGAIN_AFTER): to the companies with meetings
#: to report on (asked for the survey too where it is not answered), and to those that
#: reported on every meeting but have not answered the survey.
REMINDER_ACTIONS = {"reports": "outcome.remind", "survey": "outcome.remind_survey"}


@dataclass(frozen=True)
class ReminderGroup:
    """One of the two reminders: whom it would e-mail, and whether it may go now."""

    kind: str  # "reports" or "survey" (REMINDER_ACTIONS)
    targets: list[ReminderTarget]
    last: AuditEntry | None
    #: Until when no other goes (one went out less than REMIND_AGAIN_AFTER ago).
    blocked_until: datetime | None

    @property
    def also_survey(self) -> int:
        """Targets asked for the survey too (it is not answered)."""
        return sum(1 for t in self.targets if t.needs.survey)


@dataclass(frozen=True)
class ReminderPlan:
    """The reminders as the results page offers them."""

    reports: ReminderGroup
    survey: ReminderGroup
    #: The links' address when participants cannot open it (this computer's own).
    unreachable_base: str | None
    #: The deadline the mail gives: when the "closed" phase closes, if still to come.
    closes_at: datetime | None

    def group(self, kind: str) -> ReminderGroup:
        return self.survey if kind == "survey" else self.reports


def reminder_targets(session: Any, event: Event,
                     results: outcomes.FairResults) -> list[ReminderTarget]:
    """Everyone with something left: meetings behind it to report on
    (:attr:`~scheduler.outcomes.FairResults.waiting`), or the survey to answer, asked of
    the companies the response rate counts (:func:`scheduler.feedback.took_part`: a
    company that came but whose meetings were all cancelled too; review: it was counted
    but never reminded) once none of their meetings is still to come; buyers first, by
    code."""
    from scheduler.models import FairFeedback, ParticipantStatus

    waiting = {w.participant.id: w for w in results.waiting}
    answered = set(session.scalars(
        select(FairFeedback.participant_id).where(FairFeedback.event_id == event.id)
    ))
    asked = feedback.took_part(session, event)
    met = {p.id: p for r in results.meetings for p in (r.buyer, r.supplier)}
    for participant in session.scalars(
        select(Participant).where(Participant.id.in_(asked - met.keys()))
    ):
        met[participant.id] = participant
    targets = []
    for participant in sorted(
        met.values(),
        key=lambda p: (p.role != ParticipantRole.BUYER, p.code or "~", p.display_name),
    ):
        if participant.status != ParticipantStatus.APPROVED:
            continue  # withdrawn since: not chased
        item = waiting.get(participant.id)
        needs = notifications.ReminderNeeds(
            unreported=item.started - item.reported if item else 0,
            # As the portal asks (survey_to_answer): not while meetings are still to come
            # (day 2 of a fair of two days) unless the fair is closed.
            survey=participant.id not in answered and participant.id in asked
            and (event.phase == Phase.CLOSED or participant.id not in results.still_to_come),
        )
        if needs.unreported or needs.survey:
            targets.append(ReminderTarget(participant, needs))
    if targets:  # their contacts, for the mail: one query
        session.scalars(
            select(Participant)
            .where(Participant.id.in_([t.participant.id for t in targets]))
            .options(selectinload(Participant.attendances).selectinload(Attendance.person))
        ).all()
    return targets


def _reminder_group(event: Event, kind: str, targets: list[ReminderTarget]) -> ReminderGroup:
    last = mail_feedback.last_entry(event, REMINDER_ACTIONS[kind])
    blocked_until = None
    if last is not None and mail_feedback.reminder_state(last) != "interrupted":
        until = last.created_at + REMIND_AGAIN_AFTER
        # The real clock, as claim_reminder's (the audit entry's time is).
        if datetime.now(UTC) < until:
            blocked_until = until
    return ReminderGroup(kind, targets, last, blocked_until)


def reminder_plan(event: Event, results: outcomes.FairResults | None = None) -> ReminderPlan:
    """The reminders as the results page offers them: whom each would e-mail, whether it
    may go now (:func:`web.mail_feedback.claim_reminder` holds a second one back), and
    whether participants could open their links."""
    from web.schedule_outputs import link_base, unreachable_link_base

    session = get_session()
    now = utcnow()
    if results is None:
        results = outcomes.fair_results(session, event, now)
    targets = reminder_targets(session, event, results)
    deadline = event_setup.phase_deadline(event, Phase.CLOSED)
    closes_at = deadline.closes_at if deadline is not None else None
    base = link_base()
    return ReminderPlan(
        reports=_reminder_group(event, "reports", [t for t in targets if t.needs.unreported]),
        survey=_reminder_group(event, "survey", [t for t in targets if not t.needs.unreported]),
        unreachable_base=base if unreachable_link_base(base) else None,
        closes_at=closes_at if closes_at is not None and closes_at > now else None,
    )


def in_parentheses(text: object) -> str:
    """A short addition to a name, as a list or a menu shows it: 「（バイヤー）」 in
    Japanese, " (Buyer)" otherwise."""
    return f"（{text}）" if str(get_locale() or "ja").startswith("ja") else f" ({text})"


def fiscal_year_label(year: int | None) -> str:
    """A fiscal year (年度) as a report names it: 「2026年度（2026年4月〜2027年3月）」 in
    Japanese; None is the orders whose month nobody gave."""
    if year is None:
        return _("Month not given")
    return _("FY%(year)s (April %(year)s to March %(next)s)", year=year, next=year + 1)


def order_month_text(month: date) -> str:
    """An order's month in running text: 「2027年5月」 in Japanese, "May 2027" otherwise."""
    return f"{month.year}年{month.month}月" if _in_japanese() else f"{month:%B %Y}"


@bp.app_template_filter("local_month")
def local_month(moment: datetime, event: Event) -> str:
    """The month of ``moment`` at the event's place, as an <input type="month"> takes it."""
    return f"{event.local(moment):%Y-%m}"


@bp.app_context_processor
def _reporting_helpers() -> dict[str, object]:
    return {"reminder_plan": reminder_plan, "survey_to_answer": survey_to_answer,
            "in_parentheses": in_parentheses, "fiscal_year_label": fiscal_year_label,
            "order_month_text": order_month_text}


@bp.post("/events/<int:event_id>/outcomes/remind")
@organizer_required
def remind(event_id: int):  # type: ignore[no-untyped-def]
    """E-mail a reminder with their links: to everyone with meetings behind it not
    reported on yet (asked for the survey too where it is not answered), or, with
    ``which=survey``, to those that reported on every meeting but have not answered the
    survey. Each mail asks only for what its company has left."""
    session = get_session()
    event = event_setup.get_event(session, event_id)
    kind = "survey" if request.form.get("which") == "survey" else "reports"
    plan = reminder_plan(event)
    group = plan.group(kind)
    back = url_for("outcomes.results", event_id=event.id)  # the top, where the news is
    if not group.targets:
        flash(_("Everyone with meetings behind them has reported.") if kind == "reports"
              else _("Every company that reported on all its meetings has answered the "
                     "survey."), "info")
        return redirect(back)
    needs = {t.participant.id: t.needs for t in group.targets}
    mail_feedback.send_reminder(
        event, REMINDER_ACTIONS[kind], current_user.id,
        lambda: notifications.outcome_reminders(
            event, [t.participant for t in group.targets],
            link_for=lambda p: url_for("outcomes.mine", token=p.access_token, _external=True),
            needs=needs, closes_at=plan.closes_at,
        ),
        lambda time, minutes: _(
            "A reminder went out at %(time)s. Another can be sent %(minutes)s minutes "
            "after it.", time=time, minutes=minutes,
        ),
    )
    return redirect(back)


def last_reminder(event: Event) -> AuditEntry | None:
    """The latest reminder to report on the meetings sent for ``event``, for the results
    page."""
    return mail_feedback.last_entry(event, REMINDER_ACTIONS["reports"])


def _text_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for a full-width (e.g. Japanese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# A column is never made wider than this: a longer text wraps in its cell.
MAX_COLUMN_WIDTH = 60


def _fit_columns(sheet: Any, widths: Sequence[int],
                 limits: Sequence[int | None] | None = None) -> None:
    """Set each column's width to at least the given one and to its widest text (header
    included), up to its limit (:data:`MAX_COLUMN_WIDTH` unless ``limits`` gives one);
    a text wider than its column wraps, top-aligned, in rows as tall as it takes."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    for number, (width, column) in enumerate(
        zip(widths, sheet.iter_cols(max_col=len(widths)), strict=True), start=1
    ):
        limit = (limits[number - 1] if limits else None) or MAX_COLUMN_WIDTH
        texts = [(cell, _text_width(cell.value)) for cell in column if isinstance(cell.value, str)]
        widest = max((text_width for _cell, text_width in texts), default=0) + 2
        wanted = min(max(width, widest), limit)
        sheet.column_dimensions[get_column_letter(number)].width = wanted
        for cell, text_width in texts:
            if text_width + 2 > wanted or "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _in_japanese() -> bool:
    return str(get_locale() or "ja").startswith("ja")


def _datetime_format() -> str:
    """The workbook's format of a date and time: as the Japanese pages write it
    (2026/10/21 10:00), ISO otherwise (2026-10-21 10:00); a day in :func:`_day_text`'s."""
    return "yyyy/mm/dd hh:mm" if _in_japanese() else "yyyy-mm-dd hh:mm"


def _day_text(day: Any) -> str:
    """A fair day in the workbook (2026/10/21 in Japanese, 2026-10-21 otherwise)."""
    return day.strftime("%Y/%m/%d" if _in_japanese() else "%Y-%m-%d")


# The Meetings sheet: date, table, the pair and the supplier's industry and place take
# 9 columns, then each side's report takes 5 (_report_cells: took place, prospect, next
# steps, amount, note), then the order's month and fiscal year, then what to check.
# Where each side's amount sits (0-based):
PAIR_COLUMNS, REPORT_COLUMNS = 9, 5
AMOUNT_COLUMNS = tuple(PAIR_COLUMNS + side * REPORT_COLUMNS + 3 for side in range(2))
ORDER_MONTH_COLUMN = PAIR_COLUMNS + 2 * REPORT_COLUMNS


# Their widths on the Meetings sheet: at least (the first) and at most (the second);
# date and time, table, the pair and the supplier's industry and place, then per side:
# took place, prospect, next steps, amount, note; the order's month and fiscal year; then
# what to check.
MEETING_COLUMN_WIDTHS = (17, 6, 7, 12, 7, 12, 8, 8, 8, *(2 * (6, 8, 10, 13, 16)), 8, 6, 10)
MEETING_COLUMN_LIMITS = (17, 6, 7, 16, 7, 16, 10, 8, 8, *(2 * (6, 8, 12, 13, 22)), 8, 6, 10)
assert len(MEETING_COLUMN_WIDTHS) == len(MEETING_COLUMN_LIMITS) == (
    PAIR_COLUMNS + 2 * REPORT_COLUMNS + 3)
# The Summary sheet: the labels' column (as wide as its labels, up to this; a longer one
# wraps) and the three columns of figures (a date and time fits: 2026/10/21 10:00).
SUMMARY_LABEL_WIDTH = 60
SUMMARY_FIGURE_WIDTH = 17


def _report_cells(report: Any, step_labels: dict[NextStep, Any]) -> list[object]:
    """One side's report as workbook cells: took place, prospect, next steps, amount, note."""
    if report is None:
        return ["", "", "", None, ""]
    return [
        _("Yes") if report.took_place else _("No"),
        str(PROSPECT_LABELS[Prospect(report.prospect)]) if report.prospect else "",
        list_separator().join(str(step_labels[NextStep(s)]) for s in report.next_steps),
        report.order_amount,
        report.note,
    ]


def _print_setup(sheet: Any, *, title_row: bool, narrow: bool = False) -> None:
    """Landscape A4, one page wide (as many long as it takes), the header row on every
    page, "page / pages" at the foot; ``narrow`` margins for a wide table (Excel's
    "Narrow": 0.25 inch left and right), to print it as large as fits."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if narrow:
        sheet.page_margins.left = sheet.page_margins.right = 0.25
        sheet.page_margins.top = sheet.page_margins.bottom = 0.6
        sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.oddFooter.center.text = "&P / &N"
    if title_row:
        sheet.print_title_rows = "1:1"


def _survey_rows(survey: feedback.SurveyResults) -> list[list[object]]:
    """The survey's block of the Summary sheet: answers, satisfaction, coming again."""
    sides = (survey.sides[ParticipantRole.BUYER], survey.sides[ParticipantRole.SUPPLIER],
             survey.total)
    satisfaction, next_fair, colon = _("Satisfaction"), _("Next fair"), label_colon()
    return [
        [_("Fair survey"), _("Buyers"), _("Suppliers"), _("Total")],
        [_("Answered"), *(side.answered for side in sides)],
        [_("Asked (companies that took part: checked in or had a meeting)"),
         *(side.asked for side in sides)],
        [_("Survey response rate"), *(side.response_rate for side in sides)],
        [_("Satisfied (very satisfied or satisfied)"),
         *(side.satisfied_share if side.answered else None for side in sides)],
        [_("Average (5 = very satisfied)"), *(side.average for side in sides)],
        # Each row says what it counts, also copied alone into a report
        # (「満足度：満足」, 「次回の参加意向：参加したい」).
        *[[f"{satisfaction}{colon}{label}", *(side.levels[level] for side in sides)]
          for level, label in SATISFACTION_LABELS.items()],
        *[[f"{next_fair}{colon}{label}", *(side.join_again[value] for side in sides)]
          for value, label in JOIN_AGAIN_LABELS.items()],
    ]


def _summary_rows(event: Event, now: datetime, summary: outcomes.FairResults,
                  survey: feedback.SurveyResults) -> list[list[object]]:
    """The Summary sheet: the fair, the meetings, the companies, the reports by side, the
    survey."""
    roles = (ParticipantRole.BUYER, ParticipantRole.SUPPLIER)
    taking_part = [summary.participation[role] for role in roles]
    return [
        [event.name],
        [_("Days"), list_separator().join(_day_text(d.date) for d in event.days)],
        *([[_("Venue"), event.venue]] if event.venue else []),
        [_("Figures as of"), event.local(now).replace(tzinfo=None)],
        [],
        # Planned N, held M, as a report quotes them: scheduled = cancelled on the day +
        # planned; planned = held + not held + not reported (+ not started).
        [_("Meetings scheduled (with those cancelled on the day)"), summary.scheduled],
        [_("Cancelled: a company absent on the day"), summary.cancelled_no_show],
        [_("Cancelled on the day for another reason"), summary.cancelled_other],
        [_("Meetings planned"), summary.planned],
        [_("Reported as held"), summary.reported_held],
        [_("Reported as not held"), summary.not_held],
        [_("Meetings not reported yet"), summary.unreported],
        *([[_("Not started yet"), summary.upcoming]] if summary.upcoming else []),
        [_("Meetings that led to a next step"), summary.with_any_step],
        *[[str(NEXT_STEP_LABELS[NextStep(step)]), count]
          for step, count in summary.step_counts.items()],
        [_("Ordered amount (yen)"), summary.order_total],
        [_("Orders without an amount"), summary.orders_without_amount],
        [_("Meetings with two different amounts (the larger is counted)"),
         summary.amount_disagreements],
        [_("Meetings whose reports disagree on whether they took place (counted as held)"),
         summary.disagreements],
        *_fiscal_year_rows(summary),
        [_("Meetings scheduled: the published schedule as the fair ran it, with the "
           "meetings added on the day, including those cancelled on the day, because a "
           "company was marked absent or for another reason (a late arrival, an early "
           "leave, cancelled by staff or by a re-optimisation). Meetings cancelled before "
           "the fair (a new version of the schedule, a withdrawal) are not counted. "
           "Scheduled = cancelled on the day + planned.")],
        [_("Meetings planned: scheduled and not cancelled. Reported as held: at least one "
           "side reported that it took place (also when the other side says it did not). "
           "Meetings not reported yet: neither side has reported on it.")],
        [],
        [_("Participating companies"), _("Buyers"), _("Suppliers"), _("Total")],
        *[[label, *(getattr(side, attr) for side in taking_part),
           sum(getattr(side, attr) for side in taking_part)]
          for attr, label in (("approved", _("Approved participants")),
                              ("with_meetings", _("Had meetings")),
                              ("no_show", _("Absent on the day")),
                              ("without_meetings", _("No meeting scheduled")))],
        [],
        [_("Reports by side"), _("Buyers"), _("Suppliers")],
        [_("With meetings"), summary.buyers.participants, summary.suppliers.participants],
        [_("Reported on at least one meeting"), summary.buyers.reported,
         summary.suppliers.reported],
        [_("Response rate"), summary.buyers.rate, summary.suppliers.rate],
        [],
        [_("Reports by prospect"), _("Buyers"), _("Suppliers")],
        *[[str(PROSPECT_LABELS[p]), summary.buyers.prospects[p.value],
           summary.suppliers.prospects[p.value]] for p in Prospect],
        [],
        *_survey_rows(survey),
    ]


def _fiscal_year_rows(summary: outcomes.FairResults) -> list[list[object]]:
    """The orders by the fiscal year of their month, as a block of the Summary sheet
    (none without orders)."""
    years = summary.orders_by_fiscal_year()
    if not years:
        return []
    return [
        [],
        [_("Orders by fiscal year"), _("Orders"), _("Ordered amount (yen)"),
         _("Orders without an amount")],
        *[[fiscal_year_label(g.year), g.orders, g.order_total, g.without_amount]
          for g in years],
    ]


def _breakdown_rows(heading: str, groups: list[outcomes.Breakdown]) -> list[list[object]]:
    return [
        [heading, _("Suppliers"), _("Meetings planned"), _("Reported as held"),
         _("Led to a next step"), str(NEXT_STEP_LABELS[NextStep.ORDER]),
         _("Ordered amount (yen)")],
        *[[g.key or _("Not given"), len(g.suppliers), g.meetings, g.held, g.with_any_step,
           g.orders, g.order_total] for g in groups],
    ]


@bp.get("/events/<int:event_id>/outcomes.xlsx")
@organizer_required
def results_xlsx(event_id: int):  # type: ignore[no-untyped-def]
    """The results as an Excel workbook: a summary sheet, every meeting, the meetings by
    industry and place, the survey's answers, who has not reported."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    event = event_setup.get_event(get_session(), event_id)
    now = utcnow()
    summary = outcomes.fair_results(get_session(), event, now)
    survey = feedback.survey_results(get_session(), event)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    # What a report to the funding body names first: which fair, when, where, and when
    # the figures were taken (reports keep coming in after the fair).
    rows = _summary_rows(event, now, summary, survey)
    headings = {_("Participating companies"), _("Reports by side"), _("Reports by prospect"),
                _("Fair survey"), _("Orders by fiscal year")}
    year_labels = {fiscal_year_label(g.year) for g in summary.orders_by_fiscal_year()}
    datetime_format = _datetime_format()
    # Column A as wide as its longest label (a full-width character counts two), up to
    # SUMMARY_LABEL_WIDTH; a longer label wraps. The fair's name (A1, larger) and the
    # notes (merged across the figures) are left out: they run over or wrap.
    label_width = min(SUMMARY_LABEL_WIDTH, max(
        [_text_width(row[0]) + 2 for row in rows[1:] if len(row) > 1 and isinstance(row[0], str)],
        default=SUMMARY_LABEL_WIDTH,
    ))
    for number, row in enumerate(rows, start=1):
        sheet.append(row)
        label = row[0] if row else None
        if label in headings:
            for cell in sheet[number]:
                cell.font = Font(bold=True)
        elif label == _("Ordered amount (yen)"):
            sheet.cell(number, 2).number_format = "#,##0"
        elif label in year_labels:
            sheet.cell(number, 3).number_format = "#,##0"
        elif label in (_("Response rate"), _("Survey response rate"),
                       _("Satisfied (very satisfied or satisfied)")):
            for cell in sheet[number][1:]:
                cell.number_format = "0%"
        elif label == _("Average (5 = very satisfied)"):
            for cell in sheet[number][1:]:
                cell.number_format = "0.0"
        elif label == _("Figures as of"):
            sheet.cell(number, 2).number_format = datetime_format
        if isinstance(label, str) and len(row) == 1 and number > 1:
            # A note across the four columns, as many lines tall as its text takes.
            sheet.cell(number, 1).alignment = Alignment(wrap_text=True, vertical="top")
            sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=4)
            across = label_width + 3 * SUMMARY_FIGURE_WIDTH - 2
            lines = -(-_text_width(label) // across)
            sheet.row_dimensions[number].height = 18 * lines + 4
        elif isinstance(label, str) and _text_width(label) + 2 > label_width:
            sheet.cell(number, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = label_width
    for letter in "BCD":
        sheet.column_dimensions[letter].width = SUMMARY_FIGURE_WIDTH
    _print_setup(sheet, title_row=False)

    meetings = book.create_sheet(_("Meetings")[:31])
    buyer, supplier, colon = _("Buyer"), _("Supplier"), label_colon()
    buyer_headers = [_("Took place"), _("Prospect"), _("Next steps"),
                     _("Amount ordered (yen)"), _("Note")]
    supplier_headers = [_("Took place"), _("Prospect"), _("Next steps"),
                        _("Order amount (yen)"), _("Note")]
    meetings.append([
        _("Date and time"), _("Table"), _("Buyer code"), _("Buyer"), _("Supplier code"),
        _("Supplier"),
        *[f"{supplier}{colon}{h}" for h in (_("Industry"), _("Prefecture"), _("City"))],
        *[f"{buyer}{colon}{h}" for h in buyer_headers],
        *[f"{supplier}{colon}{h}" for h in supplier_headers],
        _("Order month"), _("Fiscal year"),
        _("To check"),
    ])
    for result in summary.meetings:
        meeting = result.meeting
        start = event.local(meeting.slot.starts_at)
        company = result.supplier.organization
        checks = [
            *([_("Reports disagree")] if result.disagree else []),
            *([_("Amounts differ")] if result.amounts_differ else []),
            *([_("Order months differ")] if result.order_months_differ else []),
        ]
        month = result.order_month
        meetings.append([
            start.replace(tzinfo=None), meeting.table.label if meeting.table else "",
            result.buyer.code or "", result.buyer.display_name,
            result.supplier.code or "", result.supplier.display_name,
            company.industry, company.prefecture, company.city,
            *_report_cells(result.buyer_report, BUYER_NEXT_STEP_LABELS),
            *_report_cells(result.supplier_report, NEXT_STEP_LABELS),
            month, None if month is None else outcomes.fiscal_year(month),
            list_separator().join(checks),
        ])
    for row in meetings.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top")
        row[0].number_format = datetime_format
        for amount in (row[AMOUNT_COLUMNS[0]], row[AMOUNT_COLUMNS[1]]):
            amount.number_format = "#,##0"
        row[ORDER_MONTH_COLUMN].number_format = "yyyy/mm" if _in_japanese() else "yyyy-mm"
    # Printed one page wide (A4 landscape, narrow margins), its 20 columns must stay
    # readable: each is as wide as its text up to MEETING_COLUMN_LIMITS, and what is
    # longer (names, next steps, notes, the headers) wraps in taller rows. About 230
    # characters across print at some 60% (at most 100%), where the columns fitted to
    # their text (up to 60 each, some 400) printed at 24%.
    _fit_columns(meetings, MEETING_COLUMN_WIDTHS, MEETING_COLUMN_LIMITS)
    meetings.auto_filter.ref = meetings.dimensions

    by_sheets = []
    for title, heading, groups in (
        (_("By industry"), _("Industry"), summary.by_industry()),
        (_("By location"), _("Location"), summary.by_location()),
    ):
        by_sheet = book.create_sheet(title[:31])
        for row in _breakdown_rows(heading, groups):
            by_sheet.append(row)
        for row in by_sheet.iter_rows(min_row=2):
            row[6].number_format = "#,##0"
        _fit_columns(by_sheet, (24, 10, 10, 10, 10, 10, 16))
        by_sheets.append(by_sheet)

    answers = book.create_sheet(_("Fair survey")[:31])
    answers.append([_("Code"), _("Company"), _("Role"), _("Satisfaction"),
                    _("Satisfaction (5 = very satisfied)"), _("Take part in the next fair?"),
                    _("Comment"), _("Last changed")])
    for side in (ParticipantRole.BUYER, ParticipantRole.SUPPLIER):
        for answer in sorted(survey.sides[side].answers,
                             key=lambda a: (a.participant.code or "~", a.participant.display_name)):
            participant = answer.participant
            answers.append([
                participant.code or "", participant.display_name,
                _("Buyer") if participant.role == "buyer" else _("Supplier"),
                str(SATISFACTION_LABELS[answer.satisfaction]), answer.satisfaction,
                str(JOIN_AGAIN_LABELS[answer.join_again or ""]), answer.comment,
                event.local(answer.updated_at).replace(tzinfo=None),
            ])
    for row in answers.iter_rows(min_row=2):
        row[7].number_format = datetime_format
        row[6].alignment = Alignment(wrap_text=True, vertical="top")
    _fit_columns(answers, (10, 32, 12, 20, 10, 20, 50, 17))

    waiting = book.create_sheet(_("Companies not reported yet")[:31])
    waiting.append([_("Code"), _("Company"), _("Role"), _("Meetings reported"),
                    _("Meetings that started"), _("Contact"), _("E-mail"), _("Phone")])
    for item in summary.waiting:
        participant = item.participant
        contact = contact_of(participant)
        waiting.append([
            participant.code or "", participant.display_name,
            _("Buyer") if participant.role == "buyer" else _("Supplier"),
            item.reported, item.started,
            contact.name if contact else "", contact.email if contact else "",
            contact.phone if contact else "",
        ])
    _fit_columns(waiting, (10, 32, 12, 10, 10, 18, 32, 16))
    for table_sheet in (meetings, *by_sheets, answers, waiting):
        for cell in table_sheet[1]:
            cell.font = Font(bold=True)
        table_sheet.freeze_panes = "A2"
        _print_setup(table_sheet, title_row=True, narrow=table_sheet is meetings)
    for any_sheet in book.worksheets:
        keep_as_text(any_sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return send_file(
        buffer, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True, download_name=f"outcomes-{event.slug}.xlsx",
    )


def yen(amount: int | None) -> str:
    """An amount in yen for the pages (¥1,200,000; empty for none)."""
    return "" if amount is None else f"¥{format_decimal(amount)}"


bp.add_app_template_filter(yen, "yen")
