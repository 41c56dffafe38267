"""What came of the meetings: the participant's reports and the organizer's results.

* ``/p/<token>/outcomes`` — the participant reports on each of its meetings once it
  has started (one small form per meeting) and may update the report later; below, the
  fair survey (satisfaction, coming again, a comment), posted to ``…/outcomes/survey``;
* ``/events/<id>/participants/<pid>/outcomes`` — the organizer records reports and the
  survey answer on a participant's behalf (a phone survey, a paper questionnaire), audited;
* ``/events/<id>/outcomes`` — the fair's results, headed by the fair's days, venue and
  the time of the figures (it is printed): meetings planned and reported held, next
  steps, ordered amount, participating companies, reports and prospects by side, the
  survey (satisfaction by side, coming again, comments), the meetings by the supplier's
  industry and place, every meeting with both reports, and the companies that have not
  reported yet (with their secret links);
  ``/events/<id>/outcomes.xlsx`` — the same as an Excel workbook, set up to print.

A form with a mistake comes back with what was typed and the message next to the
field (status 400); the other meetings' forms show what is stored.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import datetime
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
from flask_babel import format_decimal, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from scheduler import event_setup, feedback, notifications, outcomes
from scheduler.db import utcnow
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import (
    SATISFACTION_LEVELS,
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
from scheduler.spreadsheet import keep_as_text
from web import mail_feedback
from web.auth import organizer_required
from web.database import get_session
from web.filters import list_separator
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
JOIN_AGAIN_LABELS = {
    JoinAgain.YES: lazy_gettext("Would take part again"),
    JoinAgain.PERHAPS: lazy_gettext("Perhaps"),
    JoinAgain.NO: lazy_gettext("Would not take part again"),
    "": lazy_gettext("Did not say"),
}


@bp.app_context_processor
def _outcome_labels() -> dict[str, object]:
    return {"next_step_labels": NEXT_STEP_LABELS, "prospect_labels": PROSPECT_LABELS,
            "satisfaction_labels": SATISFACTION_LABELS,
            "join_again_choices": JOIN_AGAIN_CHOICES, "join_again_labels": JOIN_AGAIN_LABELS}


def _submitted() -> outcomes.OutcomeInput:
    return outcomes.OutcomeInput(
        took_place=request.form.get("took_place", ""),
        prospect=request.form.get("prospect", ""),
        next_steps=request.form.getlist("next_steps"),
        order_amount=request.form.get("order_amount", ""),
        note=request.form.get("note", ""),
    )


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


def _reports_page(participant: Participant, *, user_id: int | None, template: str,
                  action_url: Any, done_url: Any, survey_url: str,
                  meeting_id: int | None = None, survey_posted: bool = False,
                  **context: object):  # type: ignore[no-untyped-def]
    """The list of the participant's started meetings, each with its form, and the fair
    survey; on POST, save the report on ``meeting_id`` (or the survey answer) and go back
    to it, or show it again with the error."""
    session = get_session()
    now = utcnow()
    typed: dict[int, outcomes.OutcomeInput] = {}
    errors: dict[int, dict[str, str]] = {}
    survey_typed: feedback.FeedbackInput | None = None
    survey_errors: dict[str, str] = {}
    if survey_posted:
        survey_typed = _survey_answers()
        try:
            _save_survey(session, participant, survey_typed, now, user_id)
        except ValidationFailed as error:
            session.rollback()
            survey_errors = _problems(error)
        else:
            session.commit()
            return redirect(f"{done_url}?answered=1#survey")
    if meeting_id is not None:
        data = _submitted()
        try:
            _save(session, participant, meeting_id, data, now, user_id)
        except NotFound:
            session.rollback()
            abort(404)
        except ValidationFailed as error:
            session.rollback()
            typed[meeting_id] = data
            errors[meeting_id] = _problems(error)
        else:
            session.commit()
            # Said in the meeting's card, where the page lands (a flash would be far above).
            return redirect(f"{done_url}?saved={meeting_id}#meeting-{meeting_id}")
    items = outcomes.reportable_meetings(session, participant, now)
    if meeting_id in errors and all(i.meeting.id != meeting_id for i in items):
        # Not listed (cancelled meanwhile, or not started): say why above the list.
        flash(next(iter(errors[meeting_id].values())), "error")
        return redirect(done_url)
    forms = {i.meeting.id: typed.get(i.meeting.id) or outcomes.OutcomeInput.of(i.outcome)
             for i in items}
    status = 400 if errors or survey_errors else 200
    saved = parse_id(request.args.get("saved")) if meeting_id is None else None
    stored_answer = feedback.feedback_of(session, participant)
    opens_at = feedback.survey_opens_at(session, participant.event)
    survey = {
        "open": feedback.survey_open(participant.event, opens_at, now),
        "opens_at": opens_at,
        "can_answer": feedback.can_answer(participant),
        "answer": stored_answer,
        "form": survey_typed or feedback.FeedbackInput.of(stored_answer),
        "errors": survey_errors,
        "action": survey_url,
        "answered": not survey_posted and request.args.get("answered") == "1",
        "comment_max": feedback.COMMENT_MAX_CHARS,
    }
    # The organizer entering answers from a call sees what the other side reported (a
    # participant never does: reports are the organizer's only).
    theirs = outcomes.counterpart_reports(session, items) if user_id is not None else {}
    return render_template(
        template, participant=participant, event=participant.event, items=items, forms=forms,
        # Each side's steps in its own words: the counterpart of a buyer is a supplier.
        next_step_labels=next_step_labels_of(participant.role),
        their_next_step_labels=next_step_labels_of(
            ParticipantRole.SUPPLIER if participant.role == ParticipantRole.BUYER
            else ParticipantRole.BUYER
        ),
        errors=errors, action_url=action_url, saved=saved, on_behalf=user_id is not None,
        theirs=theirs,
        upcoming=outcomes.upcoming_count(session, participant, now),
        reported=sum(1 for i in items if i.outcome is not None), survey=survey, **context,
    ), status


def meetings_to_report(participant: Participant) -> int:
    """How many of the participant's meetings await its report (for the portal home and
    the schedule page, which ask for them)."""
    return outcomes.awaiting_report(get_session(), participant, utcnow())


# --------------------------------------------------------------------------- participant


# A report is posted to its meeting's address; a GET there (reloading the page after a
# mistake) goes back to the list, at that meeting.


@bp.get(f"{PORTAL_PREFIX}/outcomes")
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
        done_url=done_url, survey_url=url_for("outcomes.my_survey"), meeting_id=meeting_id,
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
        done_url=done_url, survey_url=url_for("outcomes.my_survey"), survey_posted=True,
    )


# --------------------------------------------------------------------------- organizer


@bp.get("/events/<int:event_id>/participants/<int:participant_id>/outcomes")
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
    """The participant's reports and survey as the organizer enters them: a report on
    ``meeting_id`` or the survey answer (``survey``) posted, or the page; a GET of a
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
        done_url=done_url, meeting_id=meeting_id, survey_posted=survey,
        survey_url=url_for("outcomes.survey_for", event_id=event.id,
                           participant_id=participant.id),
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


@bp.post("/events/<int:event_id>/outcomes/remind")
@organizer_required
def remind(event_id: int):  # type: ignore[no-untyped-def]
    """E-mail everyone with meetings behind them who has not reported yet their link."""
    session = get_session()
    event = event_setup.get_event(session, event_id)
    waiting = outcomes.fair_results(session, event, utcnow()).waiting
    back = url_for("outcomes.results", event_id=event.id)  # the top, where the news is
    if not waiting:
        flash(_("Everyone with meetings behind them has reported."), "info")
        return redirect(back)
    mail_feedback.send_reminder(
        event, "outcome.remind", current_user.id,
        lambda: notifications.outcome_reminders(
            event, [w.participant for w in waiting],
            link_for=lambda p: url_for("outcomes.mine", token=p.access_token, _external=True),
        ),
        lambda time, minutes: _(
            "A reminder went out at %(time)s. Another can be sent %(minutes)s minutes "
            "after it.", time=time, minutes=minutes,
        ),
    )
    return redirect(back)


def last_reminder(event: Event) -> AuditEntry | None:
    """The latest reminder sent for ``event``, for the results page."""
    return mail_feedback.last_entry(event, "outcome.remind")


def _text_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for a full-width (e.g. Japanese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# A column is never made wider than this: a long note wraps in Excel's own way.
MAX_COLUMN_WIDTH = 60


def _fit_columns(sheet: Any, widths: Sequence[int]) -> None:
    """Set each column's width to at least the given one and to its widest text (header
    included), up to :data:`MAX_COLUMN_WIDTH`."""
    from openpyxl.utils import get_column_letter

    for number, (width, column) in enumerate(
        zip(widths, sheet.iter_cols(max_col=len(widths)), strict=True), start=1
    ):
        texts = [str(cell.value) for cell in column if isinstance(cell.value, str)]
        widest = max((_text_width(text) for text in texts), default=0) + 2
        wanted = min(max(width, widest), MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(number)].width = wanted


# The Meetings sheet: date, table, the pair and the supplier's industry and place take
# 9 columns, then each side's report takes 5 (_report_cells: took place, prospect, next
# steps, amount, note), then what to check. Where each side's amount sits (0-based):
PAIR_COLUMNS, REPORT_COLUMNS = 9, 5
AMOUNT_COLUMNS = tuple(PAIR_COLUMNS + side * REPORT_COLUMNS + 3 for side in range(2))


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


def _print_setup(sheet: Any, *, title_row: bool) -> None:
    """Landscape A4, one page wide (as many long as it takes), the header row on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_row:
        sheet.print_title_rows = "1:1"


def _survey_rows(survey: feedback.SurveyResults) -> list[list[object]]:
    """The survey's block of the Summary sheet: answers, satisfaction, coming again."""
    sides = (survey.sides[ParticipantRole.BUYER], survey.sides[ParticipantRole.SUPPLIER],
             survey.total)
    return [
        [_("Fair survey"), _("Buyers"), _("Suppliers"), _("Total")],
        [_("Answered"), *(side.answered for side in sides)],
        [_("Asked (approved, not absent)"), *(side.asked for side in sides)],
        [_("Survey response rate"), *(side.response_rate for side in sides)],
        [_("Satisfied (very satisfied or satisfied)"),
         *(side.satisfied_share if side.answered else None for side in sides)],
        [_("Average (5 = very satisfied)"), *(side.average for side in sides)],
        *[[str(label), *(side.levels[level] for side in sides)]
          for level, label in SATISFACTION_LABELS.items()],
        *[[f"{_('Take part in the next fair?')} {label}",
           *(side.join_again[value] for side in sides)]
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
        [_("Days"), list_separator().join(d.date.isoformat() for d in event.days)],
        *([[_("Venue"), event.venue]] if event.venue else []),
        [_("Figures as of"), event.local(now).replace(tzinfo=None)],
        [],
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
                _("Fair survey")}
    for number, row in enumerate(rows, start=1):
        sheet.append(row)
        label = row[0] if row else None
        if label in headings:
            for cell in sheet[number]:
                cell.font = Font(bold=True)
        elif label == _("Ordered amount (yen)"):
            sheet.cell(number, 2).number_format = "#,##0"
        elif label in (_("Response rate"), _("Survey response rate"),
                       _("Satisfied (very satisfied or satisfied)")):
            for cell in sheet[number][1:]:
                cell.number_format = "0%"
        elif label == _("Average (5 = very satisfied)"):
            for cell in sheet[number][1:]:
                cell.number_format = "0.0"
        elif label == _("Figures as of"):
            sheet.cell(number, 2).number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(label, str) and len(row) == 1 and number > 1:
            sheet.cell(number, 1).alignment = Alignment(wrap_text=True, vertical="top")
            sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=4)
            sheet.row_dimensions[number].height = 48
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 44
    for letter in "BCD":
        sheet.column_dimensions[letter].width = 14
    _print_setup(sheet, title_row=False)

    meetings = book.create_sheet(_("Meetings")[:31])
    buyer_headers = [_("Took place"), _("Prospect"), _("Next steps"),
                     _("Amount ordered (yen)"), _("Note")]
    supplier_headers = [_("Took place"), _("Prospect"), _("Next steps"),
                        _("Order amount (yen)"), _("Note")]
    meetings.append([
        _("Date and time"), _("Table"), _("Buyer code"), _("Buyer"), _("Supplier code"),
        _("Supplier"),
        *[f"{_('Supplier')}: {h}" for h in (_("Industry"), _("Prefecture"), _("City"))],
        *[f"{_('Buyer')}: {h}" for h in buyer_headers],
        *[f"{_('Supplier')}: {h}" for h in supplier_headers],
        _("To check"),
    ])
    for result in summary.meetings:
        meeting = result.meeting
        start = event.local(meeting.slot.starts_at)
        company = result.supplier.organization
        checks = [
            *([_("Reports disagree")] if result.disagree else []),
            *([_("Amounts differ")] if result.amounts_differ else []),
        ]
        meetings.append([
            start.replace(tzinfo=None), meeting.table.label if meeting.table else "",
            result.buyer.code or "", result.buyer.display_name,
            result.supplier.code or "", result.supplier.display_name,
            company.industry, company.prefecture, company.city,
            *_report_cells(result.buyer_report, BUYER_NEXT_STEP_LABELS),
            *_report_cells(result.supplier_report, NEXT_STEP_LABELS),
            list_separator().join(checks),
        ])
    for row in meetings.iter_rows(min_row=2):
        row[0].number_format = "yyyy-mm-dd hh:mm"
        for amount in (row[AMOUNT_COLUMNS[0]], row[AMOUNT_COLUMNS[1]]):
            amount.number_format = "#,##0"
    # Date, table, the pair, the supplier's industry and place, then per side: took place,
    # prospect, next steps, amount, note; never narrower than the header (a full-width
    # character takes two).
    widths = (17, 8, 10, 26, 10, 26, 16, 10, 12, *(2 * (10, 16, 30, 16, 40)), 16)
    _fit_columns(meetings, widths)
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
        row[7].number_format = "yyyy-mm-dd hh:mm"
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
        _print_setup(table_sheet, title_row=True)
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
