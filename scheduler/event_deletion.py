"""Deleting an event with everything of it: a past fair's personal data, or a test event.

Japan's APPI expects personal data to be kept no longer than it is needed, so an
organizer can delete a fair once it is over. Deleting removes every row of the event:
the database cascades from ``events`` to each table that refers to it (``ON DELETE
CASCADE`` on every foreign key to events and to participants; SQLite enforces them
because :func:`scheduler.db.make_engine` turns its foreign keys on), and the files
uploaded for it (proposal-sheet attachments, participant-list imports waiting for
confirmation and their lists of left-out rows) are removed once the deletion is
committed (:func:`remove_files`).

Two kinds of rows outlive an event by design and are handled here:

* **Contact people** (``people``) belong to a company, not to an event; an event
  links them through its participants' attendances. A person who attends no other
  event's participant is personal data collected for this fair only, and is deleted.
* **Companies** (``organizations``) are the shared directory: one that also takes part
  in another event is kept. One that takes part in no other event is deleted too,
  unless the organizer asks to keep it: no page lists a company that belongs to no
  event, so a profile left behind could never be seen, corrected or deleted again,
  and it may hold personal data (a sole proprietor's name, a contact's e-mail in the
  description). It goes with its remaining contact people who attend no other event.

The deletion is refused while the fair is under way (:func:`fair_under_way`) or while
a solver run of the event is queued or running (a worker would write into rows being
deleted). The event's own audit entries go with it; one entry without an event,
saying which event was deleted, by whom and what it held, stays in the audit log.

Services only flush; the caller commits.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler import audit, calendars, runs, sheet_builds
from scheduler.day_operations import lock_for_change
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.event_setup import one_line
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    AuditEntry,
    Event,
    EventDay,
    FairFeedback,
    Interest,
    Meeting,
    MeetingOutcome,
    Need,
    Organization,
    PairRule,
    Participant,
    Person,
    Phase,
    Proposal,
    Room,
    RunStatus,
    ScheduleRun,
    SheetBuild,
    SheetBuildStatus,
    Slot,
    SuggestionShown,
    Table,
    User,
)

log = logging.getLogger(__name__)

DELETE_ACTION = "event.delete"
# Participant-list imports (web.participants_admin) keep the uploaded file as
# import-<token>.bin with import-<token>.json beside it, and the rows an import left
# out as import-<token>-left-out.json; each JSON file names its event_id.
IMPORT_GLOB = "import-*.json"
LEFT_OUT_SUFFIX = "-left-out.json"
# Ids per IN (...) list: well below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500


@dataclass(frozen=True)
class DeletionSummary:
    """What deleting the event removes (and which companies it keeps), counted."""

    participants: int
    people: int  # contact people who attend no other event's participant
    companies_only_here: int  # take part in no other event: deleted unless kept
    companies_shared: int  # also take part in another event: always kept
    needs: int
    proposals: int
    interests: int
    suggestions: int
    pair_rules: int
    meetings: int
    outcomes: int
    survey_answers: int
    runs: int
    days: int
    slots: int
    rooms: int
    tables: int
    audit_entries: int
    files: int  # files kept for the event (attachments, imports, printed sheets)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class DeletedEvent:
    """The event that was deleted, what went with it, and the files to remove after commit."""

    event_id: int
    name: str
    slug: str
    summary: DeletionSummary
    people_deleted: int
    companies_deleted: int
    files: list[Path]


# --------------------------------------------------------------------------- when


def fair_under_way(event: Event, now: datetime | None = None) -> bool:
    """Whether the fair is live: today (in the event's zone) is from its first to its
    last day of slots, and its schedule is out (published, or the phase is On the day).

    A closed event is not live (the organizer closed it); neither is a test event that
    merely has slots today but never published a schedule.
    """
    if event.phase == Phase.CLOSED:
        return False
    if event.phase != Phase.ON_THE_DAY and event.published_at is None:
        return False
    dates = {event.local(moment).date() for s in event.slots for moment in (s.starts_at, s.ends_at)}
    if not dates:
        return False
    today = event.local(now or utcnow()).date()
    return min(dates) <= today <= max(dates)


def active_run(session: Session, event: Event) -> int | None:
    """The id of a queued or running solver run of ``event`` (the oldest), if any."""
    return session.scalar(
        select(ScheduleRun.id)
        .where(
            ScheduleRun.event_id == event.id,
            ScheduleRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        )
        .order_by(ScheduleRun.id)
        .limit(1)
    )


def refusal(session: Session, event: Event, now: datetime | None = None) -> Conflict | None:
    """Why ``event`` cannot be deleted now, or None when it can."""
    if fair_under_way(event, now):
        last = max(event.local(s.ends_at).date() for s in event.slots)
        return Conflict(
            N_(
                "The fair is under way (its last day is %(date)s): an event cannot be deleted "
                "during its fair. Delete it after that day, or once its phase is Closed."
            ),
            params={"date": last.isoformat()},
        )
    run_id = active_run(session, event)
    if run_id is not None:
        return Conflict(
            N_(
                "Solver run %(run)s of this event is queued or running: stop it or let it "
                "finish, then delete the event."
            ),
            params={"run": run_id},
        )
    if _sheets_printing(session, event, now):
        # Its process would still write the finished PDF into the deleted event's folder.
        return Conflict(
            N_(
                "The schedule sheets of this event are being printed: wait until they are "
                "done (a few minutes), then delete the event."
            )
        )
    return None


def _sheets_printing(session: Session, event: Event, now: datetime | None) -> bool:
    building = session.scalars(
        select(SheetBuild).where(
            SheetBuild.event_id == event.id, SheetBuild.status == SheetBuildStatus.RUNNING
        )
    ).all()
    return any(not sheet_builds.is_lost(build, now) for build in building)


def check_confirmation(event: Event, typed: str) -> None:
    """The organizer typed the event's name or its slug exactly (spaces around aside)."""
    typed = one_line(typed or "")
    if not typed or typed not in (event.name, event.slug):
        raise ValidationFailed(
            N_("Type the event's name or its short name exactly as shown to confirm."),
            field="confirmation",
        )


# --------------------------------------------------------------------------- what


def _participant_ids(event: Event):  # type: ignore[no-untyped-def]
    return select(Participant.id).where(Participant.event_id == event.id)


def _people_only_here(session: Session, event: Event) -> set[int]:
    """Contact people of the event's participants who attend no other event's."""
    here = set(
        session.scalars(
            select(Attendance.person_id).where(
                Attendance.participant_id.in_(_participant_ids(event))
            )
        )
    )
    elsewhere = (
        set(
            session.scalars(
                select(Attendance.person_id)
                .join(Participant, Participant.id == Attendance.participant_id)
                .where(Participant.event_id != event.id, Attendance.person_id.in_(here))
            )
        )
        if here
        else set()
    )
    return here - elsewhere


def _companies(session: Session, event: Event) -> tuple[set[int], set[int]]:
    """The event's companies: (taking part in no other event, also in another event)."""
    here = set(
        session.scalars(select(Participant.organization_id).where(Participant.event_id == event.id))
    )
    elsewhere = (
        set(
            session.scalars(
                select(Participant.organization_id).where(
                    Participant.event_id != event.id, Participant.organization_id.in_(here)
                )
            )
        )
        if here
        else set()
    )
    return here - elsewhere, here & elsewhere


def event_files(session: Session, event: Event, uploads_dir: Path | None) -> list[Path]:
    """The files kept for ``event`` under ``uploads_dir``: proposal attachments, imports
    waiting for confirmation and their left-out rows, printed sheets (and their folder,
    listed after its files)."""
    if uploads_dir is None or not uploads_dir.is_dir():
        return []
    root = uploads_dir.resolve()
    found: list[Path] = []
    for relative in session.scalars(
        select(Proposal.attachment_path).where(
            Proposal.event_id == event.id, Proposal.attachment_path != ""
        )
    ):
        path = (root / relative).resolve()
        if root in path.parents and path.is_file():  # never a path leaving the folder
            found.append(path)
    sheets = sheet_builds.event_folder(root, event.id)
    if sheets.is_dir():  # printed schedule sheets (every company's name and meetings)
        found.extend(sorted(path for path in sheets.rglob("*") if path.is_file()))
        found.append(sheets)
    for meta in sorted(root.glob(IMPORT_GLOB)):
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # half-written or removed meanwhile: not provably this event's
        if not isinstance(record, dict) or record.get("event_id") != event.id:
            continue
        found.append(meta)
        if not meta.name.endswith(LEFT_OUT_SUFFIX):
            upload = meta.with_suffix(".bin")
            if upload.is_file():
                found.append(upload)
    return found


def summarize(session: Session, event: Event, uploads_dir: Path | None = None) -> DeletionSummary:
    """Count what deleting ``event`` would remove (for the confirmation page and the log)."""

    def count(model: type, *where: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    only_here, shared = _companies(session, event)
    return DeletionSummary(
        participants=count(Participant, Participant.event_id == event.id),
        people=len(_people_only_here(session, event)),
        companies_only_here=len(only_here),
        companies_shared=len(shared),
        needs=count(Need, Need.participant_id.in_(_participant_ids(event))),
        proposals=count(Proposal, Proposal.event_id == event.id),
        interests=count(Interest, Interest.event_id == event.id),
        suggestions=count(SuggestionShown, SuggestionShown.event_id == event.id),
        pair_rules=count(PairRule, PairRule.event_id == event.id),
        meetings=count(Meeting, Meeting.event_id == event.id),
        outcomes=count(MeetingOutcome, MeetingOutcome.event_id == event.id),
        survey_answers=count(FairFeedback, FairFeedback.event_id == event.id),
        runs=count(ScheduleRun, ScheduleRun.event_id == event.id),
        days=count(EventDay, EventDay.event_id == event.id),
        slots=count(Slot, Slot.event_id == event.id),
        rooms=count(Room, Room.event_id == event.id),
        tables=count(Table, Table.event_id == event.id),
        audit_entries=count(AuditEntry, AuditEntry.event_id == event.id),
        files=sum(1 for path in event_files(session, event, uploads_dir) if not path.is_dir()),
    )


# --------------------------------------------------------------------------- deleting


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _check_foreign_keys(session: Session) -> None:
    """Every row of the event goes by the constraints' cascades: on SQLite only with its
    foreign keys on. A connection made without them would leave orphans behind."""
    if (
        session.get_bind().dialect.name == "sqlite"
        and not session.execute(text("PRAGMA foreign_keys")).scalar()
    ):
        raise RuntimeError("SQLite foreign keys are off: use scheduler.db.make_engine")


def _delete_people(session: Session, ids: set[int]) -> int:
    """Delete those of ``ids`` who attend nobody any more (checked in the statement)."""
    deleted = 0
    for chunk in _chunks(ids):
        deleted += session.execute(
            delete(Person)
            .where(
                Person.id.in_(chunk),
                ~exists().where(Attendance.person_id == Person.id),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return deleted


def _delete_companies(session: Session, ids: set[int]) -> tuple[int, int]:
    """Delete the companies of ``ids`` that take part in no event any more, with their
    contact people; a company with a contact who still attends another company's
    participant is kept, with all its people. Returns (companies, people) deleted."""
    companies = people = 0
    attending = (
        select(Person.id)
        .join(Attendance, Attendance.person_id == Person.id)
        .where(Person.organization_id == Organization.id)
    )
    for chunk in _chunks(ids):
        # A savepoint: a registration for another event that picks one of these companies
        # at this very moment keeps the company instead of failing the whole deletion.
        try:
            with session.begin_nested():
                unused = session.scalars(
                    select(Organization.id).where(
                        Organization.id.in_(chunk),
                        ~exists().where(Participant.organization_id == Organization.id),
                        ~attending.exists(),
                    )
                ).all()
                if not unused:
                    continue
                people += session.execute(
                    delete(Person)
                    .where(Person.organization_id.in_(unused))
                    .execution_options(synchronize_session=False)
                ).rowcount
                companies += session.execute(
                    delete(Organization)
                    .where(Organization.id.in_(unused))
                    .execution_options(synchronize_session=False)
                ).rowcount
        except IntegrityError:
            continue
    return companies, people


def delete_event(
    session: Session,
    event: Event,
    *,
    confirmation: str,
    delete_companies: bool = True,
    user_id: int | None = None,
    uploads_dir: Path | None = None,
    now: datetime | None = None,
    other_feed_tokens: Iterable[str] = (),
) -> DeletedEvent:
    """Delete ``event`` and everything of it; see the module's docstring.

    Its participants' calendar feeds, and ``other_feed_tokens`` (the staff feed, whose
    secret the web layer derives), are retired (:func:`scheduler.calendars.retire_feeds`):
    they go on answering, with an empty calendar, so subscribed calendar apps remove the
    deleted fair's meetings instead of keeping them.

    Raises :class:`Conflict` while the fair is under way or a run of it is queued or
    running, :class:`ValidationFailed` (field ``confirmation``) unless ``confirmation``
    is the event's name or slug. The returned files are to be removed with
    :func:`remove_files` after the caller committed (before, a failed commit would
    leave rows whose files are gone).
    """
    # The event's row first, as every writer of the event does: a run being queued or a
    # change on the day either finished before (and is seen below) or waits, and then
    # finds no event. On SQLite this takes the single write lock, so the reads are current.
    lock_for_change(session, event.id, lock_event=True)
    current = session.scalar(
        select(Event).where(Event.id == event.id).execution_options(populate_existing=True)
    )
    if current is None:  # deleted by someone else a moment ago
        raise NotFound(N_("This event does not exist."))
    runs.fail_stale_runs(session)  # a run whose worker died must not block the deletion
    problem = refusal(session, event, now)
    if problem is not None:
        raise problem
    check_confirmation(event, confirmation)
    _check_foreign_keys(session)

    summary = summarize(session, event, uploads_dir)
    files = event_files(session, event, uploads_dir)
    people = _people_only_here(session, event)
    only_here, _shared = _companies(session, event)
    event_id, name, slug = event.id, event.name, event.slug
    feed_tokens = session.scalars(
        select(Participant.feed_token).where(Participant.event_id == event_id)
    ).all()
    calendars.retire_feeds(
        session, [*feed_tokens, *other_feed_tokens], event=event, reason="deleted"
    )

    session.expunge(event)  # its loaded days, slots and rooms are gone with the row
    session.execute(
        delete(Event).where(Event.id == event_id).execution_options(synchronize_session=False)
    )
    people_deleted = _delete_people(session, people)
    companies_deleted = 0
    if delete_companies:
        companies_deleted, more_people = _delete_companies(session, only_here)
        people_deleted += more_people
    session.expire_all()  # nothing loaded before may be read as if it still existed
    user = session.get(User, user_id) if user_id is not None else None
    entry = audit.record(
        session,
        DELETE_ACTION,
        event_id=None,  # an entry of the event would be deleted with it
        user_id=user_id,
        details={
            "event_id": event_id,
            "name": name,
            "slug": slug,
            # Said in words too: the account may be deleted later (user_id is then NULL).
            "deleted_by": user.email if user is not None else "",
            "counts": summary.as_dict(),
            "people_deleted": people_deleted,
            "companies_deleted": companies_deleted,
            "companies_kept": summary.companies_shared + len(only_here) - companies_deleted,
        },
    )
    entry.target_type, entry.target_id = "Event", event_id
    session.flush()
    return DeletedEvent(
        event_id=event_id,
        name=name,
        slug=slug,
        summary=summary,
        people_deleted=people_deleted,
        companies_deleted=companies_deleted,
        files=files,
    )


def remove_files(files: Sequence[Path]) -> int:
    """Remove the deleted event's files (after the commit); returns how many were removed.

    A file that cannot be removed is left (and not counted): the rows are gone already,
    and nothing points to it any more.
    """
    removed = 0
    for path in files:
        if path.is_dir():  # listed after its files: what is left was added meanwhile
            shutil.rmtree(path, ignore_errors=True)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            log.warning("could not remove %s of a deleted event", path, exc_info=True)
            continue
        removed += 1
    return removed
