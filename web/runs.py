"""Scheduling from the web: start solver runs, watch them, review, edit, publish.

Runs never execute inside a request: a view queues one (and, with ``REDIS_URL``,
puts it on the Redis queue) and the worker does the rest; the run page polls
:func:`status` for live progress. While a run waits, its page says what it waits
for: runs ahead of it, or no worker at all (and what to do about it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from scheduler import event_setup, pair_rules, publishing, run_review, runs, worker
from scheduler.db import utcnow
from scheduler.errors import DomainError, ValidationFailed
from scheduler.models import (
    Event,
    PairRule,
    PairRuleKind,
    Participant,
    ParticipantRole,
    RunStatus,
    ScheduleRun,
    Table,
)
from scheduler.problem_builder import (
    CHANGE_LEAD,
    DEFAULT_PARAMETERS,
    fair_under_way,
    participant_key,
)
from web import mail_feedback
from web.auth import organizer_required
from web.database import get_session
from web.events import _field_error
from web.filters import run_error
from web.form_fields import IntegerField, NumberRange
from web.i18n import translate_error, translate_message
from web.pagination import Page, paginate
from web.preferences import LEVEL_LABELS

bp = Blueprint("runs", __name__, url_prefix="/events/<int:event_id>/schedule")

REASON_LABELS = {
    "declined": lazy_gettext("declined"),
    "no_common_slot": lazy_gettext("no slot both can make"),
    "at_maximum": lazy_gettext("at the meeting maximum"),
    "out_competed": lazy_gettext("other meetings scored higher"),
    "no_table": lazy_gettext("no free table"),
}
# Why a run has no schedule at all (solver.model.prechecks and .diagnosis findings).
INFEASIBLE_LABELS = {
    "no_common_slot": lazy_gettext("no slot both can make"),
    "over_capacity": lazy_gettext("not enough tables for all required meetings"),
    "conflict": lazy_gettext("cannot take place together with the other required meetings"),
    "conflict_all": lazy_gettext("the required meetings and pinned meetings contradict each other"),
    "max_breaks": lazy_gettext(
        "every required meeting fits, but not within the most waits per participant"
    ),
    "max_breaks_participant": lazy_gettext(
        "cannot keep to the most waits together with the other participants listed"
    ),
    "lock_conflict": lazy_gettext("pinned where it clashes with the other required meetings"),
    "lock_unavailable": lazy_gettext("pinned in a slot one side cannot make"),
    "lock_clash": lazy_gettext("pinned in a slot or at a table already taken"),
    "lock_over_maximum": lazy_gettext("pinned beyond one side's meeting maximum"),
    "lock_table": lazy_gettext("pinned at a table it cannot use"),
    "lock_not_a_pair": lazy_gettext("pinned, but the pair is not to be scheduled"),
    "not_found": lazy_gettext("no schedule found within the time limit"),
}
STATUS_LABELS = {
    RunStatus.QUEUED: lazy_gettext("Waiting for the worker"),
    RunStatus.RUNNING: lazy_gettext("Running"),
    RunStatus.SUCCEEDED: lazy_gettext("Finished"),
    RunStatus.FAILED: lazy_gettext("Failed"),
    RunStatus.CANCELLED: lazy_gettext("Stopped (best schedule kept)"),
}
# A run cancelled while it waited: nothing was solved, so nothing was kept.
CANCELLED_QUEUED_LABEL = lazy_gettext("Cancelled before it started")


# The badge of a run that ended without any schedule (its requests cannot all hold,
# or none was found in time): not the "Failed" of a crash.
NO_SCHEDULE_LABEL = lazy_gettext("No schedule")


class RunForm(FlaskForm):
    time_limit = IntegerField(
        lazy_gettext("Time limit (seconds)"),
        default=DEFAULT_PARAMETERS["time_limit"],
        validators=[InputRequired(), NumberRange(min=runs.MIN_TIME_LIMIT, max=runs.MAX_TIME_LIMIT)],
    )
    first_bonus = IntegerField(
        lazy_gettext("Value of each participant's first meeting"),
        default=DEFAULT_PARAMETERS["meeting_bonus"][0],
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    break_penalty = IntegerField(
        lazy_gettext("Cost of a wait between two meetings"),
        default=DEFAULT_PARAMETERS["break_penalty"],
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    max_breaks = IntegerField(
        lazy_gettext("Most waits per participant (empty: no cap)"),
        validators=[Optional(), NumberRange(min=0, max=50)],
    )
    all_must = BooleanField(
        lazy_gettext("Every requested meeting must take place"),
        default=False,
    )
    keep_published = BooleanField(
        lazy_gettext(
            "Keep the published meetings where possible (people have them in their calendars)"
        ),
        default=True,
    )

    def parameters(self) -> dict[str, Any]:
        first = self.first_bonus.data
        bonus = list(DEFAULT_PARAMETERS["meeting_bonus"])
        if first is not None:
            bonus = halving_bonus(first)
        return {
            "time_limit": self.time_limit.data,
            "meeting_bonus": bonus,
            "break_penalty": self.break_penalty.data
            if self.break_penalty.data is not None
            else DEFAULT_PARAMETERS["break_penalty"],
            "max_breaks": self.max_breaks.data,
            "all_must": bool(self.all_must.data),
            "keep_published": bool(self.keep_published.data),
        }


def halving_bonus(first: int) -> list[int]:
    """The meeting bonus the run form means by its first value: each later meeting is
    worth half the one before (the documented shape, non-increasing as the solver
    requires; the default, ``[20, 10, 5, 2]``, is this of 20)."""
    return [first // 2**k for k in range(len(DEFAULT_PARAMETERS["meeting_bonus"]))]


class RuleForm(FlaskForm):
    a = StringField(lazy_gettext("Participant code"), validators=[DataRequired(), Length(max=20)])
    b = StringField(lazy_gettext("Counterpart code"), validators=[DataRequired(), Length(max=20)])
    kind = SelectField(
        lazy_gettext("Rule"),
        choices=[
            SelectChoice(PairRuleKind.FORBID.value, lazy_gettext("Never schedule this pair")),
            SelectChoice(PairRuleKind.FORCE.value, lazy_gettext("Always schedule this pair")),
        ],
    )


class ActionForm(FlaskForm):
    """A button: only its CSRF token."""


class MoveForm(FlaskForm):
    a = StringField(validators=[DataRequired()])
    b = StringField(validators=[DataRequired()])
    slot = StringField(validators=[DataRequired()])
    table = StringField(validators=[Optional()])


def _event(event_id: int) -> Event:
    return event_setup.get_event(get_session(), event_id)


@bp.get("/")
@organizer_required
def index(event_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    # The list shows no run as running whose worker is gone (as the run page does).
    if _fail_lost_runs(session):
        session.commit()
    return _index_page(event, RunForm())


def run_settings(parameters: dict[str, Any]) -> list[str]:
    """The run's settings that differ from the defaults, in words, for the run history.

    Scores of runs with different settings are on different scales (a first meeting
    worth 0 instead of 20 lowers every score), so the history says which they are.
    """
    said = []
    bonus = list(parameters.get("meeting_bonus") or DEFAULT_PARAMETERS["meeting_bonus"])
    if bonus[:1] != DEFAULT_PARAMETERS["meeting_bonus"][:1]:
        said.append(_("first meeting worth %(n)s", n=bonus[0] if bonus else 0))
    elif bonus != DEFAULT_PARAMETERS["meeting_bonus"]:
        # Same first value, other later ones (not the form's halving): another scale too.
        said.append(_("meetings worth %(values)s", values=", ".join(map(str, bonus))))
    penalty = parameters.get("break_penalty", DEFAULT_PARAMETERS["break_penalty"])
    if penalty != DEFAULT_PARAMETERS["break_penalty"]:
        said.append(_("wait cost %(n)s", n=penalty))
    if parameters.get("max_breaks") is not None:
        said.append(
            ngettext(
                "at most %(num)s wait each", "at most %(num)s waits each", parameters["max_breaks"]
            )
        )
    if parameters.get("all_must"):
        said.append(_("every requested meeting required"))
    return said


def _index_page(  # type: ignore[no-untyped-def]
    event: Event,
    form: RunForm,
    code: int = 200,
    rule_form: RuleForm | None = None,
    confirm_declines: list[pair_rules.Decline] | None = None,
):
    """The runs and the rules; ``confirm_declines``: the declines the rule typed in
    ``rule_form`` would override, which the organizer is asked to confirm."""
    session = get_session()
    history = session.scalars(
        select(ScheduleRun).where(ScheduleRun.event_id == event.id).order_by(ScheduleRun.id.desc())
    ).all()
    rules = session.scalars(
        select(PairRule)
        .where(PairRule.event_id == event.id)
        .order_by(PairRule.id)
        # Names, slots and tables of every rule at once: pins pile up while a schedule
        # is reviewed, and each rule looked its companies, slot and table up one by one.
        .options(
            selectinload(PairRule.participant_a).selectinload(Participant.organization),
            selectinload(PairRule.participant_b).selectinload(Participant.organization),
            selectinload(PairRule.slot),
            selectinload(PairRule.table),
        )
    ).all()
    # Forced pairs that one side declined are no pairs "requested by neither side".
    declined = run_review.declined_pairs(session, event) if history else {}
    return render_template(
        "runs/index.html",
        event=event,
        form=form,
        fair_under_way=fair_under_way(event, utcnow()),
        lead_minutes=int(CHANGE_LEAD.total_seconds() // 60),
        rule_form=rule_form or RuleForm(formdata=None),
        action=ActionForm(formdata=None),
        runs=[(run, run_review.summarize(run, declined)) for run in history],
        live_run=max(
            (r for r in history if r.published_at is not None),
            key=lambda r: r.published_at,
            default=None,
        ),
        rules=rules,
        # What each forcing or pinning rule overrides: who declined, and why.
        overrides={
            rule_id: [_decline_text(d) for d in found]
            for rule_id, found in pair_rules.overridden_declines(session, event, rules).items()
        },
        confirm_declines=[_decline_text(d) for d in confirm_declines or []],
        status_labels=STATUS_LABELS,
        no_schedule_label=NO_SCHEDULE_LABEL,
        run_settings=run_settings,
        without_schedule=run_review.without_schedule,
        ran_out_of_time=run_review.ran_out_of_time,
        is_live=lambda run: is_live(event, run),
        status_label=status_label,
        gap_percent=gap_percent,
        queue_notes=_event_queue_notes(session, history),
        no_tables=not has_tables(session, event),
    ), code


def has_tables(session: Session, event: Event) -> bool:
    """Whether the venue has tables. Without any, the solver does not limit how many
    meetings take place at once (the problem has no tables) and participants see
    "Table to be announced": said before running and before publishing, not refused,
    as the organizer may assign the tables later."""
    return session.scalar(select(Table.id).where(Table.event_id == event.id).limit(1)) is not None


@bp.post("/runs")
@organizer_required
def start(event_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    form = RunForm()
    if form.validate_on_submit():
        try:
            run = runs.create_run(
                session, event, parameters=form.parameters(), user_id=current_user.id
            )
        except ValidationFailed as error:
            _field_error(form, error)
        else:
            session.commit()
            _enqueue(run)
            return redirect(url_for("runs.show", event_id=event.id, run_id=run.id))
    return _index_page(event, form, 400)


def _enqueue(run: ScheduleRun) -> None:
    """Put the run on Redis when scaled out; the embedded worker finds it in the database."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return
    try:
        worker.enqueue_run(
            run.id,
            redis_url,
            time_limit=float(run.parameters["time_limit"]),
            connection=_queue_connection(),
        )
    except Exception:  # Redis down: say so; the workers queue it once it is back
        current_app.logger.exception("cannot queue run %s on Redis", run.id)
        flash(
            _("The job queue cannot be reached: the run waits until a worker picks it up."), "error"
        )


# The review's list of participants or meetings: a page at a time, narrowed by what
# the organizer looks for, all of it in the address (a link or a reload shows the
# same rows). A fair of 1,400 meetings rendered whole was 2.7 MB and 1.5–3 s a view.
LIST_VIEWS = ("participants", "meetings")
PAGE_SIZE = {"participants": 25, "meetings": 100}
SEARCH_MAX = 100
WITHOUT_MEETINGS_SHOWN = 20  # the headline lists this many; the list filter shows all
SHOW_LABELS = {
    "without": lazy_gettext("Without a meeting"),
    "unmet": lazy_gettext("With unmet requests"),
    "waits": lazy_gettext("With waits"),
}


@dataclass(frozen=True)
class ReviewFilter:
    """What the run page lists: which view, narrowed how, which page."""

    view: str = "participants"
    q: str = ""  # code or company name, as typed
    role: str = ""  # participants: buyer or supplier
    show: str = ""  # participants: without, unmet or waits (run_review.PARTICIPANT_SHOWS)
    slot: str = ""  # meetings: a slot key of the run
    table: str = ""  # meetings: a table of the run
    page: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str], review: run_review.RunReview) -> ReviewFilter:
        """The filter the address asks for; a value the run does not know (a slot of
        another run, a page past the end) is left out rather than refused."""
        view = args.get("view", "")
        page = args.get("page", "")
        return cls(
            view=view if view in LIST_VIEWS else "participants",
            q=" ".join(args.get("q", "").split())[:SEARCH_MAX],
            role=_known(args.get("role", ""), {r.value for r in ParticipantRole}),
            show=_known(args.get("show", ""), set(run_review.PARTICIPANT_SHOWS)),
            slot=_known(args.get("slot", ""), {s.key for s in review.slots}),
            table=_known(args.get("table", ""), {t for t, _n in review.tables}),
            page=int(page) if re.fullmatch(r"[1-9][0-9]{0,4}", page) else 1,
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """The address's query for this filter with ``changes`` (only what is set, and
        only what the view uses)."""
        wanted = replace(self, **changes)
        used = ("q", "role", "show") if wanted.view == "participants" else ("q", "slot", "table")
        said: dict[str, Any] = {"view": wanted.view} if wanted.view != "participants" else {}
        said.update({name: getattr(wanted, name) for name in used if getattr(wanted, name)})
        if wanted.page > 1:
            said["page"] = wanted.page
        return said

    @property
    def narrowed(self) -> bool:
        """Whether the view lists less than all its rows."""
        if self.view == "meetings":
            return bool(self.q or self.slot or self.table)
        return bool(self.q or self.role or self.show)


def _known(value: str, known: set[str]) -> str:
    return value if value in known else ""


@dataclass(frozen=True)
class Listing:
    """One page of the review's list."""

    filter: ReviewFilter
    page: Page[Any]  # of ParticipantReview or ReviewMeeting

    @property
    def rows(self) -> list[Any]:
        return self.page.items

    @property
    def total(self) -> int:
        """Rows matching the filter, on every page."""
        return self.page.total


def _listing(review: run_review.RunReview, wanted: ReviewFilter) -> Listing:
    if wanted.view == "meetings":
        rows: list[Any] = run_review.find_meetings(
            review, text=wanted.q, slot=wanted.slot, table=wanted.table
        )
    else:
        rows = run_review.find_participants(
            review, text=wanted.q, role=wanted.role, show=wanted.show
        )
    # The pager's links carry the filter as this page understood it (not whatever else
    # the address held), and land on the list rather than the top of the run page.
    page = replace(
        paginate(rows, PAGE_SIZE[wanted.view], wanted.page),
        args=tuple((k, str(v)) for k, v in wanted.params(page=1).items()),
        fragment="review-list",
    )
    return Listing(filter=replace(wanted, page=page.number), page=page)


@bp.get("/runs/<int:run_id>")
@organizer_required
def show(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    run = runs.get_run(session, event, run_id)
    no_schedule = run_review.no_schedule(run)
    declined = run_review.declined_pairs(session, event) if run.problem else {}
    # A run with no schedule has nothing to review but why.
    review = None if no_schedule else run_review.review(session, event, run, declined)
    publishable = (
        run.status in publishing.PUBLISHABLE
        and review is not None
        # A re-optimisation of the day is applied from its preview (which checks what
        # changed since): this page links there instead of offering to publish it.
        and run.kind != "repair"
    )
    live = is_live(event, run)
    # Before a schedule replaces the one participants already have: what it would change.
    changes = (
        publishing.preview_publication(session, event, run)
        if publishable and not live and event.published_at is not None
        else None
    )
    listing = _listing(review, ReviewFilter.from_args(request.args, review)) if review else None
    # Rules set since this run was made, which its schedule ignores.
    unheeded = pair_rules.rules_not_in(session, event, run) if publishable and not live else []
    requested = _requested_count(run)
    return render_template(
        "runs/show.html",
        # Its meetings have no tables: how many at once was not limited.
        without_tables=publishable
        and not live
        and run.problem is not None
        and not run.problem.get("tables"),
        unheeded=unheeded,
        event=event,
        run=run,
        review=review,
        no_schedule=no_schedule,
        infeasible_labels=INFEASIBLE_LABELS,
        action=ActionForm(),
        status=_status_payload(run) | _waiting_payload(session, run),
        status_labels=STATUS_LABELS,
        reason_labels=REASON_LABELS,
        detail_text=translate_message,
        gap_percent=gap_percent,
        problem_note=problem_file_note(event, run, review.summary if review else None),
        requested_pairs=requested,
        # Pairs forced although one side declined: some side asked, so not "unasked".
        overridden_pairs=len(run_review.forced_despite_decline(run.problem, declined))
        if requested is not None
        else 0,
        decline_text=_decline_text,
        finished=run.status in runs.FINISHED,
        publishable=publishable,
        live=live,
        changes=changes,
        listing=listing,
        pinned_at=_pinned_at(session, event) if review else None,
        role_labels={r.value: ROLE_LABELS[r] for r in ParticipantRole},
        show_labels=SHOW_LABELS,
        without_meetings_shown=WITHOUT_MEETINGS_SHOWN,
        # This page as it is now (its list's filter and page), for edits to return to.
        here=url_for("runs.show", event_id=event.id, run_id=run.id, **listing.filter.params())
        if listing
        else "",
        # Each meeting's own page is this plus "/A/B" (written once, not per meeting).
        meeting_url=url_for("runs.show", event_id=event.id, run_id=run.id) + "/meetings",
    )


def _requested_count(run: ScheduleRun) -> int | None:
    """How many of the problem's pairs somebody requested (None: no readable pairs)."""
    pairs = (run.problem or {}).get("pairs")
    if not isinstance(pairs, list) or not all(isinstance(p, dict) for p in pairs):
        return None
    return len(run_review.requested_pairs(run.problem))


def gap_percent(gap: float) -> str:
    """A gap as "within X %" may say it: rounded up, never down (0.03 % is not "0.0 %"),
    to one decimal, or two below 0.1 %; "0" only when nothing is left."""
    percent = gap * 100
    if percent <= 0:
        return "0"
    if percent < 0.1:
        return f"{math.ceil(percent * 100 - 1e-9) / 100:.2f}"
    return f"{math.ceil(percent * 10 - 1e-9) / 10:.1f}"


def problem_file_note(
    event: Event, run: ScheduleRun, summary: run_review.Summary | None = None
) -> str:
    """What ``matchfair solve`` on the run's problem file gives, truthfully.

    The file is always exactly the problem the run solved. Only a run with one search
    worker, neither stopped nor edited by hand, gives the same schedule again (with the
    same seed and time limit, docs/problem-format.md "Reproducible runs"); with more
    workers CP-SAT's search differs from run to run, and only a score proven the best
    possible is sure to be reached again. ``summary`` is the run's, when the caller
    has it already (the run page: summarizing parses the problem again).
    """
    same_problem = _("“matchfair solve” on this file solves the same problem.")
    if not run.result or run.status not in runs.FINISHED:
        return same_problem
    stats = run.result.get("stats") or {}
    workers = stats.get("workers")
    if summary is None:
        summary = run_review.summarize(run)
    if run.edited_at is None and workers == 1 and run.status != RunStatus.CANCELLED:
        command = (
            f"matchfair solve event-{event.id}-run-{run.id}-problem.json --workers 1 "
            f"--seed {stats.get('seed', run.parameters.get('seed') or 0)} "
            f"--time-limit {run.parameters.get('time_limit')}"
        )
        return _("“%(command)s” gives this run's result again.", command=command)
    if summary is not None and summary.proven_best:
        return _(
            "“matchfair solve” on this file solves the same problem. This schedule's score "
            "is proven the best possible, so a run that proves it too reaches the same "
            "score, though perhaps with other meetings."
        )
    if summary is None:
        return same_problem
    if run.edited_at is not None:
        return _(
            "“matchfair solve” on this file solves the same problem, but not to this "
            "schedule: it was edited by hand after the solver finished."
        )
    if run.status == RunStatus.CANCELLED:
        return _(
            "“matchfair solve” on this file solves the same problem, but not necessarily "
            "to this schedule: this run was stopped by hand."
        )
    if isinstance(workers, int) and workers > 1:
        return _(
            "“matchfair solve” on this file solves the same problem, but not necessarily "
            "to this schedule or score: this run used %(n)s search workers, whose search "
            "differs from run to run. Only a run with one worker (--workers 1) is "
            "repeatable.",
            n=workers,
        )
    return same_problem


def _pinned_at(session: Any, event: Event) -> Any:
    """``(a, b) -> (slot, table)`` where the pair is pinned now (None: not pinned)."""
    places = run_review.pinned_places(session, event)
    return lambda a, b: places.get(frozenset((a, b)))


ROLE_LABELS = {
    ParticipantRole.BUYER: lazy_gettext("Buyers"),
    ParticipantRole.SUPPLIER: lazy_gettext("Suppliers"),
}


def is_live(event: Event, run: ScheduleRun) -> bool:
    """Whether ``run`` is exactly what participants see now (publishing it again would
    change nothing): it made the event's latest publication and was not edited since."""
    return (
        run.published_at is not None
        and run.published_at == event.published_at
        and (run.edited_at is None or run.edited_at <= run.published_at)
    )


@bp.get("/runs/<int:run_id>/status.json")
@organizer_required
def status(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    if _fail_lost_runs(session):
        session.commit()
    run = runs.get_run(session, event, run_id)
    session.refresh(run)
    return jsonify(_status_payload(run) | _waiting_payload(session, run))


def status_label(run: ScheduleRun) -> str:
    """The run's status in words (a run cancelled before it started kept nothing)."""
    if run.status == RunStatus.CANCELLED and run.started_at is None:
        return str(CANCELLED_QUEUED_LABEL)
    return str(STATUS_LABELS[RunStatus(run.status)])


# ---------------------------------------------------------------- the queue and its workers

# Seconds a page waits at most for Redis when it looks at the queue.
QUEUE_TIMEOUT = 1.0
_QUEUE_CONNECTION = "matchfair_run_queue"


def _queue_connection() -> Any:
    """The app's Redis client for the run queue (short timeouts); None when embedded."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    cached = current_app.extensions.get(_QUEUE_CONNECTION)
    if cached is None or cached[0] != url:
        cached = (url, worker.redis_connection(url, timeout=QUEUE_TIMEOUT))
        current_app.extensions[_QUEUE_CONNECTION] = cached
    return cached[1]


def _fail_lost_runs(session: Any) -> bool:
    """Mark failed the runs whose worker is gone: stale heartbeat or, scaled out, a job
    RQ reports dead (its work horse killed). True when any was."""
    failed = runs.fail_stale_runs(session)
    connection = _queue_connection()
    if connection is not None:
        try:
            failed += worker.fail_runs_of_dead_jobs(session, connection)
        except Exception:  # Redis away: the heartbeat still tells, only later
            current_app.logger.warning("Run jobs not checked: the job queue is unreachable")
    return bool(failed)


def _worker_state(spot: runs.QueueSpot) -> str:
    """Whether a run that waits has a worker to go to: "ok", "none" (no worker seems to
    run) or "unreachable" (the Redis queue does not answer)."""
    if spot.waited < runs.NO_WORKER_AFTER.total_seconds():
        return "ok"  # a worker that is there picks it up within seconds
    connection = _queue_connection()
    if connection is None:
        return "none" if spot.no_worker_seen() else "ok"
    try:
        return "ok" if worker.live_workers(connection) else "none"
    except Exception:
        current_app.logger.warning("Solver workers not counted: the job queue is unreachable")
        return "unreachable"


def _no_worker_text(state: str) -> str:
    """What the organizer reads when runs wait for nothing, and what to do about it."""
    if state == "unreachable":
        return " ".join(
            (
                _(
                    "The job queue (Redis) cannot be reached: runs wait and start once it is "
                    "back and a solver worker is running."
                ),
                _(
                    "If this lasts, ask whoever maintains this matchfair installation to "
                    "check Redis and the solver workers."
                ),
            )
        )
    advice = (
        _(
            "Start “matchfair worker” on a solver machine, with the same DATABASE_URL and "
            "REDIS_URL; if you cannot, ask whoever maintains this matchfair installation."
        )
        if current_app.config.get("REDIS_URL")
        else _(
            "Restart “matchfair serve” (it starts the worker) or start “matchfair worker” on "
            "the server; if you cannot, ask whoever maintains this matchfair installation."
        )
    )
    return " ".join(
        (
            _(
                "No solver worker seems to be running: runs wait in the queue and start as "
                "soon as one does."
            ),
            advice,
        )
    )


def _waiting_payload(session: Any, run: ScheduleRun) -> dict[str, Any]:
    """What the run page says while the run waits or runs: what it waits for (runs
    ahead, or no worker at all), and earlier runs of the same event not finished."""
    said: dict[str, Any] = {"queued_note": "", "no_worker": False, "same_event_note": ""}
    if run.status in runs.FINISHED:
        return said
    spot = runs.queue_spot(session, run)
    earlier = spot.earlier_same_event
    if earlier:
        said["same_event_note"] = ngettext(
            "Run %(runs)s of this event was started before this one and has not finished: "
            "each run is solved in full, so stop any you do not need.",
            "Runs %(runs)s of this event were started before this one and have not "
            "finished: each run is solved in full, so stop any you do not need.",
            len(earlier),
            runs=", ".join(str(i) for i in earlier),
        )
    if run.status != RunStatus.QUEUED:
        return said
    state = _worker_state(spot)
    if state != "ok":
        said.update(queued_note=_no_worker_text(state), no_worker=True)
    elif spot.ahead:
        said["queued_note"] = ngettext(
            "Waiting for the solver worker: %(num)s run is queued or running ahead of this one.",
            "Waiting for the solver worker: %(num)s runs are queued or running ahead of this one.",
            spot.ahead,
        )
    else:
        said["queued_note"] = _("Waiting for the solver worker to pick this run up…")
    return said


def _event_queue_notes(session: Any, history: list[ScheduleRun]) -> dict[str, str]:
    """The run list's notes: runs of the event running at once, and runs waiting
    for a worker that does not seem to be there."""
    notes = {"concurrent": "", "no_worker": ""}
    unfinished = sorted(r.id for r in history if r.status not in runs.FINISHED)
    if len(unfinished) > 1:
        notes["concurrent"] = _(
            "Runs %(runs)s of this event are queued or running at the same time: each is "
            "solved in full, so stop any you do not need on its page.",
            runs=", ".join(str(i) for i in unfinished),
        )
    queued = [r for r in history if r.status == RunStatus.QUEUED]
    if queued:
        state = _worker_state(runs.queue_spot(session, min(queued, key=lambda r: r.id)))
        if state != "ok":
            notes["no_worker"] = _no_worker_text(state)
    return notes


# A running run's worker writes its heartbeat every runs.HEARTBEAT_SECONDS. Silent for
# longer than this, it may have stopped (killed outright): the run page says so and its
# clock stops at the last heartbeat, until the run is marked failed at runs.STALE_AFTER.
# Several beats, not one: a busy SQLite file holds a write back for seconds, and the
# clocks of the web and solver machines may differ a little.
QUIET_AFTER = timedelta(seconds=10)


def _quiet_for(run: ScheduleRun, now: datetime) -> float | None:
    """Seconds since the running ``run``'s worker last showed life, when that is longer
    than :data:`QUIET_AFTER`; None while it beats (or the run is not running)."""
    last = run.heartbeat_at or run.started_at
    if run.status != RunStatus.RUNNING or last is None:
        return None
    silent = (now - last).total_seconds()
    return silent if silent > QUIET_AFTER.total_seconds() else None


def _status_payload(run: ScheduleRun) -> dict[str, Any]:
    now = utcnow()
    quiet = _quiet_for(run, now)
    if run.started_at is None:
        elapsed = 0.0
    elif run.finished_at is not None:
        elapsed = (run.finished_at - run.started_at).total_seconds()
    elif quiet is not None:
        # No worker to vouch for the time since: the clock stops at its last sign of
        # life, where the run ends should it be marked failed (runs.fail_lost_runs).
        elapsed = max(0.0, ((run.heartbeat_at or run.started_at) - run.started_at).total_seconds())
    else:
        elapsed = (now - run.started_at).total_seconds()
    best = run.progress[-1] if run.progress else None
    payload = {
        "status": run.status,
        "label": status_label(run),
        "finished": run.status in runs.FINISHED,
        "cancel_requested": run.cancel_requested_at is not None,
        "elapsed": round(elapsed, 1),
        # Seconds without a heartbeat of a running run's worker (None: it beats).
        "quiet": None if quiet is None else int(quiet),
        "quiet_note": ""
        if quiet is None
        else _(
            "No sign of the solver for %(seconds)s s: its worker may have stopped. The run "
            "is marked failed if nothing comes within %(limit)s s.",
            seconds=int(quiet),
            limit=int(runs.STALE_AFTER.total_seconds()),
        ),
        "time_limit": run.parameters.get("time_limit"),
        "progress": run.progress,
        "objective": run.objective if run.objective is not None else (best[1] if best else None),
        "bound": run.bound if run.bound is not None else (best[2] if best else None),
    }
    payload["error"], payload["error_detail"] = run_error(run.error)
    if run_review.without_schedule(run):
        # No score, and no bound worth showing (the file says 0 for both); the run page
        # says why, by company, in the reader's language.
        # Nor a chart: its one point is that 0, a flat line on a made-up scale.
        payload.update(
            label=str(NO_SCHEDULE_LABEL),
            objective=None,
            bound=None,
            error="",
            error_detail="",
            progress=[],
        )
    return payload


@bp.get("/runs/<int:run_id>/problem.json")
@organizer_required
def problem_file(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    """The run's problem file: exactly what the run solved (whether ``matchfair solve``
    on it gives the same schedule again: :func:`problem_file_note`)."""
    run = runs.get_run(get_session(), _event(event_id), run_id)
    response = jsonify(run.problem)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="event-{event_id}-run-{run.id}-problem.json"'
    )
    return response


@bp.post("/runs/<int:run_id>/cancel")
@organizer_required
def cancel(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    if ActionForm().validate_on_submit():
        run = runs.get_run(session, event, run_id)
        runs.request_cancel(session, run, user_id=current_user.id)
        session.commit()
        if run.status == RunStatus.CANCELLED and run.started_at is None:
            flash(_("The run was cancelled before it started: nothing was solved."), "info")
        else:
            flash(_("Stopping the run: the best schedule found so far is kept."), "info")
    return redirect(url_for("runs.show", event_id=event.id, run_id=run_id))


@bp.post("/runs/<int:run_id>/publish")
@organizer_required
def publish(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("runs.show", event_id=event.id, run_id=run_id))
    run = runs.get_run(session, event, run_id)
    if run.kind == "repair":
        # A repair plan is applied through its preview, which checks that nothing
        # changed on the floor since it was computed; publishing it here would skip that.
        flash(_("A re-optimisation of the day is applied from its preview."), "error")
        return redirect(url_for("repair.preview", event_id=event.id, run_id=run.id))
    unheeded = pair_rules.rules_not_in(session, event, run)
    if unheeded and request.form.get("ignore_rules") != "yes":
        # Made before these rules: published, it would ignore them. Only on purpose.
        flash(
            ngettext(
                "This run was made before %(num)d rule was set, and its schedule ignores "
                "it. Run the solver again, or publish it knowing that.",
                "This run was made before %(num)d rules were set, and its schedule ignores "
                "them. Run the solver again, or publish it knowing that.",
                len(unheeded),
            ),
            "error",
        )
        return redirect(url_for("runs.show", event_id=event.id, run_id=run.id))
    outcome = publishing.publish_run(session, event, run, user_id=current_user.id)
    session.commit()
    if not outcome.changed:
        flash(_("This schedule is already published: nothing changed."), "info")
        return redirect(url_for("runs.index", event_id=event.id))
    flash(
        _(
            "Schedule version %(v)s is published: %(new)s new, %(moved)s moved, "
            "%(cancelled)s cancelled meetings.",
            v=outcome.version,
            new=outcome.inserted,
            moved=outcome.moved,
            cancelled=outcome.cancelled,
        ),
        "success",
    )
    _notify(event, outcome)
    return redirect(url_for("runs.index", event_id=event.id))


def _notify(event: Event, outcome: publishing.PublishOutcome) -> None:
    """E-mail the participants whose schedule changed; report, never undo, failures."""
    mail_feedback.notify_changed(event, outcome.notify, first=outcome.first)


# --------------------------------------------------------------------------- manual edits


@bp.post("/rules")
@organizer_required
def add_rule(event_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    form = RuleForm()
    if form.validate_on_submit() and (pair := _rule_pair(session, event, form)):
        first, second = pair
        overridden = (
            pair_rules.declines_to_override(session, event, first, second)
            if form.kind.data in pair_rules.MEETING_RULES
            else []
        )
        if overridden and not _override_confirmed():
            # Forcing a pair that one side declined: only once the organizer has read
            # who declined and why. Nothing is saved; the form keeps what was typed.
            return _index_page(
                event, RunForm(formdata=None), rule_form=form, confirm_declines=overridden
            )
        replaced = _save_rule(session, event, form, first, second)
        if replaced is not None:
            session.commit()
            a, b = participant_key(first), participant_key(second)
            if replaced and replaced != form.kind.data:
                # One rule per pair: say that the new one took the earlier one's place.
                flash(
                    _(
                        "The rule for %(a)s and %(b)s is now “%(rule)s”; it replaces the "
                        "earlier “%(earlier)s”. It applies to the next run.",
                        a=a, b=b, rule=_rule_label(form.kind.data),
                        earlier=_rule_label(replaced),
                    ),
                    "success",
                )
            else:
                flash(_("The rule applies to the next run."), "success")
            if overridden:
                flash(
                    _(
                        "%(a)s and %(b)s will meet although %(names)s declined.",
                        a=a, b=b, names=", ".join(_who(d.by) for d in overridden),
                    ),
                    "warning",
                )
            return redirect(url_for("runs.index", event_id=event.id) + "#rules")
    # What was typed stays in the form, with the error next to the code that is wrong.
    return _index_page(event, RunForm(formdata=None), code=400, rule_form=form)


def _rule_label(kind: str) -> str:
    """The rule as the rules' list names it."""
    return {
        PairRuleKind.FORBID: _("never"),
        PairRuleKind.FORCE: _("always"),
    }.get(PairRuleKind(kind), _("pinned"))


def _rule_pair(
    session: Any, event: Event, form: RuleForm
) -> tuple[Participant, Participant] | None:
    """The two participants whose codes the form names; None (with the error at the
    code that is wrong) when one is unknown."""
    try:
        first = pair_rules.participant_by_code(session, event, form.a.data or "")
    except DomainError as error:
        form.a.errors.append(translate_error(error))
        return None
    try:
        second = pair_rules.participant_by_code(session, event, form.b.data or "")
    except DomainError as error:
        form.b.errors.append(translate_error(error))
        return None
    return first, second


#: The field of a form that says the organizer read the declines and forces the pair.
OVERRIDE_FIELD = "override_decline"


def _override_confirmed() -> bool:
    return request.form.get(OVERRIDE_FIELD) == "yes"


def _who(participant: Participant) -> str:
    return f"{participant_key(participant)} {participant.display_name}".strip()


def _decline_text(decline: pair_rules.Decline | run_review.DeclinedBy) -> str:
    """Who declined whom, its note, and the other side's request, in words."""
    if isinstance(decline, run_review.DeclinedBy):
        by = f"{decline.by} {decline.by_name}".strip()
        other = f"{decline.other} {decline.other_name}".strip()
    else:
        by, other = _who(decline.by), _who(decline.other)
    said = [_("%(name)s declined a meeting with %(other)s.", name=by, other=other)]
    if decline.note:
        said.append(_("Note: “%(note)s”", note=decline.note))
    if decline.asked in LEVEL_LABELS:
        said.append(
            _(
                "%(name)s asked for this meeting (%(level)s).",
                name=other, level=LEVEL_LABELS[decline.asked],
            )
        )
    return " ".join(said)


def _save_rule(
    session: Any, event: Event, form: RuleForm, first: Participant, second: Participant
) -> str | None:
    """Set the rule the form describes; the kind of the rule it replaced ("" when
    new), or None (with the error on the form) when it cannot."""
    earlier = pair_rules.rule_between(session, event, first, second)
    replaced = str(earlier.kind) if earlier is not None else ""
    try:
        pair_rules.set_rule(session, event, first, second, form.kind.data, user_id=current_user.id)
    except ValidationFailed as error:
        _field_error(form, error)
        return None
    return replaced


@bp.post("/rules/<int:rule_id>/delete")
@organizer_required
def remove_rule(event_id: int, rule_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    if ActionForm().validate_on_submit():
        pair_rules.remove_rule(session, event, rule_id, user_id=current_user.id)
        session.commit()
        flash(_("The rule was removed."), "info")
    return redirect(url_for("runs.index", event_id=event.id) + "#rules")


def _review_address(event: Event, run: ScheduleRun, wanted: str) -> str:
    """``wanted`` when it is this run's page (with any filter of its list), else "":
    an address taken from a form or a link is never followed elsewhere."""
    page = url_for("runs.show", event_id=event.id, run_id=run.id)
    wanted = wanted.split("#")[0]
    return wanted if wanted == page or wanted.startswith(page + "?") else ""


def _back_to_review(event: Event, run: ScheduleRun) -> str:
    """Where an edit returns: the run page as the organizer left it (its list filtered
    and paged, from the form's ``next``) or, failing that, the page itself."""
    back = _review_address(event, run, request.values.get("next", ""))
    if back:
        return back + "#review-list"
    return url_for("runs.show", event_id=event.id, run_id=run.id) + "#edit"


def _pair(form: MultiDict[str, str]) -> tuple[str, str] | None:
    """The meeting a pin button or move form names: ``pair`` ("A|B") or ``a`` and ``b``."""
    a, _bar, b = form.get("pair", "").partition("|")
    if not (a and b):
        a, b = form.get("a", ""), form.get("b", "")
    a, b = a.strip(), b.strip()
    return (a, b) if a and b else None


@bp.post("/runs/<int:run_id>/pin")
@organizer_required
def pin(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    run = runs.get_run(session, event, run_id)
    if ActionForm().validate_on_submit():
        pair = _pair(request.form)
        if pair is None:
            flash(_("Choose the meeting to pin."), "error")
        else:
            # A pin forces the meeting too: a pair one side declined is pinned only once
            # the organizer has read who declined (on the meeting's page, which asks).
            if not _override_confirmed() and _declines_to_override(session, event, *pair):
                found, _choices = run_review.move_choices(event, run, *pair)
                return _meeting_page(
                    session,
                    event,
                    run,
                    found.a,
                    found.b,
                    back=_review_address(event, run, request.form.get("next", "")),
                    confirm="pin",
                    code=409,
                )
            pair_rules.pin_meeting(session, event, run, *pair, user_id=current_user.id)
            session.commit()
            flash(_("Pinned: the next run keeps this meeting where it is."), "success")
    return redirect(_back_to_review(event, run))


@bp.get("/runs/<int:run_id>/meetings/<a>/<b>")
@organizer_required
def meeting(event_id: int, run_id: int, a: str, b: str):  # type: ignore[no-untyped-def]
    """One meeting of the run: where it is, where it could go, pin it or move it.

    The run page opens its move in a dialog; this page is the same without
    JavaScript, and a link to one meeting."""
    session = get_session()
    event = _event(event_id)
    run = runs.get_run(session, event, run_id)
    if run_review.no_schedule(run) or not run.result:
        return redirect(url_for("runs.show", event_id=event.id, run_id=run.id))
    # Back to the list it was opened from (a same-site page sends its address).
    referrer = (request.referrer or "").removeprefix(request.host_url.rstrip("/"))
    back = _review_address(event, run, request.args.get("next", "") or referrer)
    return _meeting_page(session, event, run, a, b, back=back)


def _meeting_page(  # type: ignore[no-untyped-def]
    session: Any,
    event: Event,
    run: ScheduleRun,
    a: str,
    b: str,
    *,
    back: str,
    slot: str | None = None,
    table: str | None = None,
    conflicts: list[str] | None = None,
    confirm: str = "",
    code: int = 200,
):
    """The meeting's page; ``confirm`` ("pin" or "move"): that edit was not saved, as it
    would override a decline the page names, and the page asks to confirm it."""
    found, choices = run_review.move_choices(event, run, a, b)
    problem_tables = [t["id"] for t in run.problem.get("tables") or []]
    place = run_review.pinned_places(session, event).get(frozenset((found.a, found.b)))
    return render_template(
        "runs/meeting.html",
        event=event,
        run=run,
        meeting=found,
        choices=choices,
        table_ids=problem_tables,
        pinned_here=place == (found.slot, found.table),
        pinned_elsewhere=place is not None and place != (found.slot, found.table),
        publishable=run.status in publishing.PUBLISHABLE,
        action=ActionForm(),
        chosen_slot=slot or found.slot,
        chosen_table=table if table is not None else (found.table or ""),
        conflicts=conflicts or [],
        back=back,
        # Pinning or moving it forces the pair: who declined it, said before either.
        declines=[
            _decline_text(d) for d in _declines_to_override(session, event, found.a, found.b)
        ],
        override_field=OVERRIDE_FIELD,
        confirm=confirm,
    ), code


def _declines_to_override(
    session: Any, event: Event, a: str, b: str
) -> list[pair_rules.Decline]:
    """The declines that pinning the meeting of the codes ``a`` and ``b`` would override."""
    try:
        first = pair_rules.participant_by_code(session, event, a)
        second = pair_rules.participant_by_code(session, event, b)
    except DomainError:
        return []  # a side is gone: the pin itself says so
    if first.id == second.id:
        return []
    return pair_rules.declines_to_override(session, event, first, second)


@bp.get("/runs/<int:run_id>/meeting")
@organizer_required
def find_meeting(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    """The run's meeting of the two codes typed (either order, any case), or back to
    the run page saying why not."""
    session = get_session()
    event = _event(event_id)
    run = runs.get_run(session, event, run_id)
    pair = _pair(request.args)
    if pair is None:
        flash(_("Enter the codes of both companies."), "error")
        return redirect(url_for("runs.show", event_id=event.id, run_id=run.id) + "#edit")
    try:
        found, _choices = run_review.move_choices(event, run, *pair)
    except DomainError as error:
        flash(translate_error(error), "error")
        return redirect(url_for("runs.show", event_id=event.id, run_id=run.id) + "#edit")
    return redirect(url_for("runs.meeting", event_id=event.id, run_id=run.id, a=found.a, b=found.b))


@bp.post("/runs/<int:run_id>/move")
@organizer_required
def move(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    event = _event(event_id)
    run = runs.get_run(session, event, run_id)
    form = MoveForm()
    if not form.validate_on_submit():
        flash(_("Choose the meeting and where it should go."), "error")
        return redirect(_back_to_review(event, run))
    a, b, slot, table = form.a.data, form.b.data, form.slot.data, form.table.data or None
    # Every reason it cannot go there, on the meeting's page with the choice kept
    # (the live check says the same before sending; without JavaScript this is it).
    conflicts = pair_rules.move_conflicts(run, a, b, slot, table)
    if conflicts:
        return _meeting_page(
            session,
            event,
            run,
            a,
            b,
            back=_review_address(event, run, request.form.get("next", "")),
            slot=slot,
            table=table or "",
            conflicts=[_(c.msgid, **c.params) for c in conflicts],
            code=409,
        )
    if not _override_confirmed() and _declines_to_override(session, event, a, b):
        # The move pins the meeting, which forces a pair one side declined: asked first.
        return _meeting_page(
            session,
            event,
            run,
            a,
            b,
            back=_review_address(event, run, request.form.get("next", "")),
            slot=slot,
            table=table or "",
            confirm="move",
            code=409,
        )
    pair_rules.move_meeting(session, event, run, a, b, slot, table, user_id=current_user.id)
    session.commit()
    flash(_("The meeting was moved and pinned there."), "success")
    return redirect(_back_to_review(event, run))


@bp.get("/runs/<int:run_id>/check-move")
@organizer_required
def check_move(event_id: int, run_id: int):  # type: ignore[no-untyped-def]
    """Live conflict check of a move: participants double-booked, table taken, availability."""
    session = get_session()
    event = _event(event_id)
    run = runs.get_run(session, event, run_id)
    args = request.args
    try:
        conflicts = pair_rules.move_conflicts(
            run,
            args.get("a", ""),
            args.get("b", ""),
            args.get("slot", ""),
            args.get("table") or None,
        )
    except DomainError as error:
        return jsonify({"ok": False, "conflicts": [translate_error(error)], "meeting": ""})
    # Which meeting, in words, for the move dialog's heading.
    names = {p["id"]: p.get("name", "") for p in run.problem.get("participants", [])}
    meeting = " – ".join(
        f"{key} {names.get(key, '')}".strip() for key in (args.get("a", ""), args.get("b", ""))
    )
    return jsonify(
        {
            "ok": not conflicts,
            "conflicts": [_(c.msgid, **c.params) for c in conflicts],
            "meeting": meeting,
        }
    )
