"""Every company's schedule sheet of an event as one PDF, printed by a process of its own.

A 950-company fair took about two minutes and more than a gigabyte to print inside the
web request: past gunicorn's 30 seconds, and a burden on the web process. Now the web
layer only renders the sheets' HTML (a fixed number of queries; QR codes are left to
the printer as placeholders: a few seconds in all) and hands it here:

* :func:`content_key` hashes the HTML (each sheet in its language): the key of the
  printed PDF, so a build is reused exactly as long as nothing it shows changed. The
  QR codes' links are part of it, built on the address recorded with the build
  (:func:`build_parameters`), so whoever looks at a build, at whatever host name,
  compares it with the same links;
* :func:`content_stamp` is a cheap fingerprint of what the sheets are made of (a few
  aggregate queries), recorded with the build: the pages that show a build compare it
  first and render every sheet again only when it differs;
* :func:`claim` finds the build of that content or starts one. The state is a
  :class:`~scheduler.models.SheetBuild` row that every web process sees; claims of an
  event take its row lock, so two clicks on the same content get one build, and a build
  that failed or lost its process is started again;
* :func:`write_input` puts the HTML in the shared uploads folder, and :func:`launch`
  starts ``python -m scheduler.sheet_builds`` on it. That process prints
  :data:`SHEETS_PER_PART` sheets at a time (WeasyPrint holds every page's layout until
  it writes the PDF: printed whole, 950 sheets took 1.2 GB), joins the parts, writes a
  heartbeat and its progress into the row, and at the end removes the event's older
  builds and their files;
* :func:`check_alive` marks failed a build whose process is gone: at once on the machine
  that runs it, from any other machine when its heartbeat is :data:`STALE_AFTER` old.

Files live in ``<uploads>/sheets/event-<id>/``: ``sheets-<build id>.pdf``, and while
it is printed, its input ``build-<build id>-<attempt>/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler import printing
from scheduler.day_operations import lock_for_change
from scheduler.db import make_engine, make_session_factory, utcnow
from scheduler.i18n import N_
from scheduler.models import (
    AuditEntry,
    Event,
    Interest,
    Meeting,
    Organization,
    Participant,
    ParticipantUnavailableSlot,
    Room,
    SheetBuild,
    SheetBuildStatus,
    Slot,
    Table,
)

log = logging.getLogger(__name__)

# Sheets printed into one part. Memory grows with a part's pages and the file with the
# number of parts (each embeds its own subset of the Japanese font, about 0.25 MB);
# 100 keeps the printing process near 0.3 GB and a 950-company PDF at a few MB.
SHEETS_PER_PART = 100
# The printing process writes its heartbeat this often ...
HEARTBEAT_SECONDS = 5.0
# ... and one silent for this long is gone (seen from a machine that cannot look up
# its process; a busy SQLite file may hold a write back for many seconds).
STALE_AFTER = timedelta(seconds=60)
# The printing process reads the database address here, not from its command line
# (which every user of the machine can read, password included).
DATABASE_ENV = "MATCHFAIR_SHEET_BUILD_DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Stored as a build's error (a catalog msgid, then a line break and the technical
# detail, as for solver runs); pages show the first line translated.
PROCESS_LOST = N_(
    "The process printing the sheets stopped before it finished (the server may have "
    "restarted or run out of memory). Prepare the sheets again."
)
CRASHED = N_(
    "The sheets could not be printed because of an internal error. Prepare them again; "
    "if it fails again, pass the technical detail below to whoever maintains this "
    "matchfair installation."
)
NOT_STARTED = N_(
    "The process printing the sheets could not be started on this server. Prepare the "
    "sheets again; if it fails again, pass the technical detail below to whoever "
    "maintains this matchfair installation."
)
REPLACED = N_(
    "These sheets were stopped: the schedule or a company's details changed, and newer "
    "sheets are being prepared."
)
FILE_GONE = N_(
    "The printed sheets are no longer on the server (the uploads folder was cleared). "
    "Prepare them again."
)

_BUILD_FILE = re.compile(r"^(?:sheets-(\d+)\.pdf(?:\.\d+\.tmp)?|build-(\d+)-\d+)$")
# Our printing processes, polled so that a finished one does not linger as a zombie
# (which would look alive to :func:`check_alive` on this machine).
_children: list[subprocess.Popen[bytes]] = []


# --------------------------------------------------------------------------- keys, files


@dataclass(frozen=True)
class Part:
    """Sheets printed together: their HTML documents (a run of one language each, in
    order) and how many company sheets they hold."""

    documents: list[str]
    sheets: int


def content_key(parts: Sequence[Part]) -> str:
    """SHA-256 of the sheets as rendered: every part's HTML documents, in order.

    Each document carries its language (``<html lang>`` and every word on the sheet),
    the event, the companies, their meetings and the links their QR codes encode, so
    equal keys mean equal sheets.
    """
    digest = hashlib.sha256(b"matchfair sheets 1")
    for part in parts:
        digest.update(b"\x00part")
        for document in part.documents:
            encoded = document.encode()
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
    return digest.hexdigest()


def content_stamp(session: Session, event: Event) -> str:
    """A cheap fingerprint of everything the event's sheets are made of.

    Rendering every sheet to compare (:func:`content_key`) takes about 0.4 s for 192
    companies and seconds for 950: too slow for each view of the pages that show a
    build. This reads a few small queries instead: the event's row, the printed columns
    of the meetings, participants and organizations, the request notes (count, id sum,
    newest ``updated_at``) and the rows without a timestamp (slots, rooms, tables,
    unavailable slots). Any change to what a
    sheet shows changes it; a change a sheet does not show (the event's description)
    may change it too, and the caller then compares the sheets themselves.
    """
    in_event = select(Participant.id).where(Participant.event_id == event.id)
    unavailable = ParticipantUnavailableSlot
    queries = [
        select(Event.updated_at, Event.published_version, Event.published_at, Event.phase).where(
            Event.id == event.id
        ),
        # What sheets show of a company, not its updated_at: check-ins on the day touch
        # every participant's row and change nothing printed.
        select(
            Participant.id,
            Participant.status,
            Participant.code,
            Participant.department,
            Participant.locale,
            Participant.access_token,
            Participant.parallel_desks,
            Participant.available_from,
            Participant.available_until,
            Participant.organization_id,
        )
        .where(Participant.event_id == event.id)
        .order_by(Participant.id),
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(in_event.with_only_columns(Participant.organization_id)))
        .order_by(Organization.id),
        # What a sheet shows of each meeting, not its updated_at: a change the sheets do
        # not show would send every view of the pages into rendering them all again.
        select(
            Meeting.id,
            Meeting.participant_a_id,
            Meeting.participant_b_id,
            Meeting.slot_id,
            Meeting.table_id,
            Meeting.status,
            Meeting.purpose,
        )
        .where(Meeting.event_id == event.id)
        .order_by(Meeting.id),
        select(func.count(), func.sum(Interest.id), func.max(Interest.updated_at)).where(
            Interest.event_id == event.id
        ),
        select(unavailable.participant_id, unavailable.slot_id)
        .where(unavailable.participant_id.in_(in_event))
        .order_by(unavailable.participant_id, unavailable.slot_id),
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.label)
        .where(Slot.event_id == event.id)
        .order_by(Slot.id),
        select(Room.id, Room.name, Room.sort_order)
        .where(Room.event_id == event.id)
        .order_by(Room.id),
        select(Table.id, Table.label, Table.room_id, Table.sort_order)
        .where(Table.event_id == event.id)
        .order_by(Table.id),
    ]
    digest = hashlib.sha256(b"matchfair sheet stamp 1")
    for query in queries:
        for row in session.execute(query):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


# The audit entry of each "prepare" click records the build's parameters in its details:
# the address its QR codes' links are built on, and the content stamp it showed.
PREPARE_ACTION = "sheets.prepare"
LINKS = "links"
STAMP = "stamp"


def build_parameters(session: Session, build: SheetBuild) -> dict[str, Any]:
    """What ``build`` was prepared with (:data:`LINKS`, :data:`STAMP`), from the newest
    "prepare" of it that recorded them (a later click on the same content refreshes the
    stamp); empty for builds prepared before they were recorded."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.event_id == build.event_id,
            AuditEntry.action == PREPARE_ACTION,
            AuditEntry.target_type == SheetBuild.__name__,
            AuditEntry.target_id == build.id,
        )
        .order_by(AuditEntry.id.desc())
    )
    for entry in entries:
        if (entry.details or {}).get(LINKS):
            return dict(entry.details)
    return {}


def event_folder(uploads: Path, event_id: int) -> Path:
    """Where an event's printed sheets and their inputs are kept."""
    return uploads / "sheets" / f"event-{event_id}"


def pdf_file(uploads: Path, build: SheetBuild) -> Path:
    """The printed PDF of ``build`` (present once it is done)."""
    return event_folder(uploads, build.event_id) / f"sheets-{build.id}.pdf"


def _input_folder(uploads: Path, build: SheetBuild) -> Path:
    return event_folder(uploads, build.event_id) / f"build-{build.id}-{build.attempt}"


# --------------------------------------------------------------------------- web side


def latest_build(session: Session, event: Event) -> SheetBuild | None:
    """The event's most recently started build, if any (for the outputs page)."""
    return session.scalar(
        select(SheetBuild)
        .where(SheetBuild.event_id == event.id)
        .order_by(SheetBuild.started_at.desc(), SheetBuild.id.desc())
        .limit(1)
    )


def claim(
    session: Session,
    event: Event,
    key: str,
    *,
    sheets: int,
    uploads: Path,
    user_id: int | None = None,
    now: datetime | None = None,
) -> tuple[SheetBuild, bool]:
    """The build of ``event`` for content ``key``, and whether the caller must print it.

    True when the build is new, or is started again: it failed, its process is gone, or
    its file was removed; the event's builds of other content still printing are then
    stopped (they show what has changed since). False when it is printing or printed.
    Takes the event's row lock, so concurrent claims of the same content cannot both
    start a build; flushes (the caller commits, then calls :func:`write_input` and
    :func:`launch`).
    """
    now = now or utcnow()
    lock_for_change(session, event.id, lock_event=True)  # writers' order: the event first
    build = session.scalar(
        select(SheetBuild)
        .where(SheetBuild.event_id == event.id, SheetBuild.content_key == key)
        .execution_options(populate_existing=True)
    )
    fresh = {
        "status": SheetBuildStatus.RUNNING,
        "sheets": sheets,
        "sheets_done": 0,
        "pages": None,
        "size_bytes": None,
        "error": "",
        "worker": "",
        "started_at": now,
        "heartbeat_at": now,
        "finished_at": None,
        "created_by_id": user_id,
    }
    if build is None:
        build = SheetBuild(event_id=event.id, content_key=key, attempt=1, **fresh)
        session.add(build)
    else:
        check_alive(session, build, now=now)
        if build.status == SheetBuildStatus.RUNNING:
            return build, False
        if build.status == SheetBuildStatus.DONE and pdf_file(uploads, build).is_file():
            return build, False
        for name, value in fresh.items():
            setattr(build, name, value)
        build.attempt += 1  # a process still printing the old attempt stops writing
    session.flush()
    # Sheets of other content still printing show what has changed since: stop them
    # (their process stops at its next part) rather than print twice on a small server.
    session.execute(
        update(SheetBuild)
        .where(
            SheetBuild.event_id == event.id,
            SheetBuild.id != build.id,
            SheetBuild.status == SheetBuildStatus.RUNNING,
        )
        .values(status=SheetBuildStatus.FAILED, error=REPLACED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return build, True


def write_input(uploads: Path, build: SheetBuild, parts: Sequence[Part]) -> None:
    """Put the HTML of ``build`` where its printing process reads it: a file per document
    and a manifest of the parts (a part: its documents and how many sheets they hold)."""
    folder = _input_folder(uploads, build)
    # Inputs of this build's earlier attempts (a process killed outright leaves its own).
    for earlier in folder.parent.glob(f"build-{build.id}-*"):
        shutil.rmtree(earlier, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest: list[dict[str, Any]] = []
    for number, part in enumerate(parts, start=1):
        names = []
        for index, document in enumerate(part.documents, start=1):
            name = f"part-{number:04d}-{index}.html"
            (folder / name).write_text(document, encoding="utf-8")
            names.append(name)
        manifest.append({"documents": names, "sheets": part.sheets})
    (folder / "manifest.json").write_text(json.dumps({"parts": manifest}), encoding="utf-8")


def launch(uploads: Path, build: SheetBuild, database_url: str) -> int:
    """Start the process printing ``build`` (after the claim is committed); its pid.

    A process of its own, not a thread: the layout of hundreds of pages takes most of a
    gigabyte and the CPU for minutes, which the web process must not carry. It is a new
    session, so stopping the web server (Ctrl-C) does not cut a build short.
    Raises ``OSError`` when it cannot be started.
    """
    _reap()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scheduler.sheet_builds",
            str(build.id),
            str(build.attempt),
            str(uploads),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, DATABASE_ENV: database_url},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    _children.append(child)
    return child.pid


def fail(
    session: Session,
    build: SheetBuild,
    error: str,
    *,
    was: SheetBuildStatus = SheetBuildStatus.RUNNING,
) -> bool:
    """Mark ``build`` failed with ``error`` if it still is ``was`` (a printing build that
    finished meanwhile keeps its result); whether it was marked. Flushes."""
    marked = session.execute(
        update(SheetBuild)
        .where(
            SheetBuild.id == build.id,
            SheetBuild.attempt == build.attempt,
            SheetBuild.status == was,
        )
        .values(
            status=SheetBuildStatus.FAILED,
            error=error,
            # A lost process ended at its last sign of life, not when somebody noticed.
            finished_at=build.finished_at or build.heartbeat_at or utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(build)
    return bool(marked)


def is_lost(build: SheetBuild, now: datetime | None = None) -> bool:
    """Whether ``build`` says it is printing but its process is gone."""
    if build.status != SheetBuildStatus.RUNNING:
        return False
    now = now or utcnow()
    if build.heartbeat_at is None or build.heartbeat_at < now - STALE_AFTER:
        return True
    where, _, pid = build.worker.rpartition(":")
    return where == _this_machine() and pid.isdigit() and not _process_running(int(pid))


def _this_machine() -> str:
    """Where a process id means the same process: the host name, and the process-id
    namespace on Linux (containers that share a host name do not share their pids)."""
    try:
        namespace = f"/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}{namespace}"


def check_alive(session: Session, build: SheetBuild, *, now: datetime | None = None) -> None:
    """Mark ``build`` failed when its process is gone, so nobody waits for it forever."""
    if is_lost(build, now) and fail(session, build, PROCESS_LOST):
        log.warning("sheet build %s lost its process; marked failed", build.id)


def _reap() -> None:
    for child in list(_children):
        if child.poll() is not None:
            _children.remove(child)


def _process_running(pid: int) -> bool:
    _reap()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    try:  # Linux: a process that ended but was not waited for is a zombie ("Z")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


# --------------------------------------------------------------------------- printing side


class _Superseded(Exception):
    """The build was started again (or marked failed) elsewhere: stop, write nothing."""


class _Progress:
    """The printing process's writes to its build row, each a short transaction that
    counts only while the attempt is its own."""

    def __init__(self, factory: sessionmaker, build_id: int, attempt: int) -> None:
        self.factory = factory
        self.build_id = build_id
        self.attempt = attempt
        self.superseded = threading.Event()

    def write(self, **values: Any) -> None:
        """Write ``values`` (and a heartbeat); raise :class:`_Superseded` if not ours."""
        values.setdefault("heartbeat_at", utcnow())
        with self.factory() as session, session.begin():
            written = session.execute(
                update(SheetBuild)
                .where(
                    SheetBuild.id == self.build_id,
                    SheetBuild.attempt == self.attempt,
                    SheetBuild.status == SheetBuildStatus.RUNNING,
                )
                .values(**values)
            ).rowcount
        if not written:
            self.superseded.set()
            raise _Superseded

    def beat(self, stop: threading.Event) -> None:
        """Write a heartbeat every :data:`HEARTBEAT_SECONDS` until ``stop`` is set."""
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                self.write()
            except _Superseded:
                return
            except Exception:  # a busy database must not end the build: try next beat
                log.warning("heartbeat of sheet build %s failed", self.build_id, exc_info=True)


def print_build(build_id: int, attempt: int, uploads: Path, database_url: str) -> str:
    """Print build ``build_id`` (its ``attempt``) from its input folder: the body of the
    printing process. Returns the status it ended with."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    progress = _Progress(factory, build_id, attempt)
    stop = threading.Event()
    input_folder: Path | None = None
    try:
        with factory() as session:
            build = session.get(SheetBuild, build_id)
            if build is None or build.attempt != attempt:
                return "superseded"
            event_id = build.event_id
            target = pdf_file(uploads, build)
            input_folder = _input_folder(uploads, build)
        progress.write(worker=f"{_this_machine()}:{os.getpid()}"[-100:])
        threading.Thread(target=progress.beat, args=(stop,), daemon=True).start()
        try:
            pages = _print_parts(
                input_folder,
                target,
                on_part=lambda done: progress.write(sheets_done=done),
                superseded=progress.superseded,
            )
            progress.write(
                status=SheetBuildStatus.DONE,
                pages=pages,
                size_bytes=target.stat().st_size,
                finished_at=utcnow(),
            )
            log.info(
                "sheet build %s printed: %s pages, peak memory %.0f MB",
                build_id,
                pages,
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            )
        except _Superseded:
            raise
        except printing.PrintingUnavailable as error:
            progress.write(status=SheetBuildStatus.FAILED, error=error.msgid, finished_at=utcnow())
            return SheetBuildStatus.FAILED
        except Exception as error:
            log.exception("sheet build %s failed", build_id)
            detail = f"{type(error).__name__}: {error}"
            progress.write(
                status=SheetBuildStatus.FAILED,
                error=f"{CRASHED}\n{detail}"[:10_000],
                finished_at=utcnow(),
            )
            return SheetBuildStatus.FAILED
        try:
            remove_older_builds(factory, uploads, event_id, keep=build_id)
        except Exception:  # the sheets are printed; the next build clears up instead
            log.warning("could not remove older sheet builds of event %s", event_id, exc_info=True)
        return SheetBuildStatus.DONE
    except _Superseded:
        log.info("sheet build %s attempt %s was superseded; stopped", build_id, attempt)
        return "superseded"
    finally:
        stop.set()
        if input_folder is not None:
            shutil.rmtree(input_folder, ignore_errors=True)
        engine.dispose()


def _print_parts(
    folder: Path,
    target: Path,
    *,
    on_part: Callable[[int], None],
    superseded: threading.Event,
) -> int:
    """Print each part of ``folder`` to its own PDF, join them into ``target``; pages."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    printing.check_printing()
    from pypdf import PdfReader  # imported here: only the printing process needs it

    files, done, printed = [], 0, 0
    for number, part in enumerate(manifest["parts"], start=1):
        if superseded.is_set():
            raise _Superseded
        documents = [(folder / name).read_text(encoding="utf-8") for name in part["documents"]]
        path = folder / f"part-{number:04d}.pdf"
        # Numbered on from the parts before: the pages of the whole file run 1 to N.
        path.write_bytes(printing.html_to_pdf(documents, first_page=printed + 1))
        printed += len(PdfReader(path).pages)
        files.append(path)
        done += int(part["sheets"])
        on_part(done)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        pages = printing.join_pdfs(files, partial)
        os.replace(partial, target)  # readers see the whole file or none
    finally:
        partial.unlink(missing_ok=True)
    return pages


def remove_older_builds(factory: sessionmaker, uploads: Path, event_id: int, *, keep: int) -> None:
    """Remove the event's builds other than ``keep`` (done, failed, or lost: not one
    still printing other content) with their files, and files left by no build."""
    folder = event_folder(uploads, event_id)
    # Files first, rows second: a build claimed after this listing has written nothing
    # listed, and one claimed before it is among the rows read below.
    listed = list(folder.iterdir()) if folder.is_dir() else []
    removed: set[int] = set()
    with factory() as session, session.begin():
        builds = session.scalars(select(SheetBuild).where(SheetBuild.event_id == event_id)).all()
        known = {build.id for build in builds}
        for build in builds:
            printing_other_content = build.status == SheetBuildStatus.RUNNING and not is_lost(build)
            if build.id == keep or printing_other_content:
                continue
            removed.add(build.id)
            session.delete(build)
    for path in listed:
        match = _BUILD_FILE.match(path.name)
        if match is None:
            continue
        owner = int(match[1] or match[2])
        if owner in removed or owner not in known:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scheduler.sheet_builds BUILD_ID ATTEMPT UPLOADS`` (started by
    :func:`launch`; the database address comes in ``MATCHFAIR_SHEET_BUILD_DATABASE_URL``)."""
    parser = argparse.ArgumentParser(description="Print a sheet build of matchfair.")
    parser.add_argument("build_id", type=int)
    parser.add_argument("attempt", type=int)
    parser.add_argument("uploads", type=Path)
    args = parser.parse_args(argv)
    database_url = os.environ.get(DATABASE_ENV)
    if not database_url:
        parser.error(f"{DATABASE_ENV} is not set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # not a line per page
    status = print_build(args.build_id, args.attempt, args.uploads, database_url)
    return 0 if status != SheetBuildStatus.FAILED else 1


if __name__ == "__main__":
    sys.exit(main())
