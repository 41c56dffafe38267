"""Solver runs: created by a request, executed by a worker, never inside a request.

A run's life: ``queued`` (created with its problem) -> ``running`` (claimed by
exactly one worker with an atomic UPDATE) -> ``succeeded``, ``failed`` or
``cancelled``. While it runs, the worker writes a heartbeat, the progress points
``[elapsed, objective, bound]`` and reads whether the organizer asked to cancel,
each in its own short transaction, so the site reads fresh progress and a
cancel reaches the search within a second. A run whose worker stopped beating
(killed, machine lost) is marked failed by the next claim, reconciliation of the
Redis queue (:func:`scheduler.worker.reconcile`), status poll or run list; it ends
at its last heartbeat. A queued run's page says where it stands
(:func:`queue_spot`): what runs before it, and whether any worker shows signs of life.

Runs never touch published meetings: publishing is a separate, explicit step
(:mod:`scheduler.publishing`), so a failed run leaves the previous schedule as it was.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Event, RunStatus, ScheduleRun
from scheduler.problem_builder import (
    PARTICIPANT_IDS,
    build_problem,
    participant_ids,
    with_defaults,
)
from solver.engine import solve
from solver.problem import STATUS_INFEASIBLE
from solver.problem_io import problem_from_dict, problem_to_dict, schedule_to_dict

log = logging.getLogger(__name__)

# The worker writes a heartbeat (and progress, and reads cancel requests) this often.
HEARTBEAT_SECONDS = 1.0
# A running run without a heartbeat for this long lost its worker. Generous, since a
# busy SQLite file can hold a write back for many seconds.
STALE_AFTER = timedelta(seconds=45)
# Progress keeps at most this many points (the chart needs no more).
MAX_PROGRESS_POINTS = 300
# A queued run waiting this long while no worker showed any sign of life for as long
# has no worker to run it (an idle worker claims a run within a second or so).
NO_WORKER_AFTER = timedelta(seconds=25)

MIN_TIME_LIMIT, MAX_TIME_LIMIT = 1, 3600
# Stored as a run's error in English; pages show it translated (it is a catalog msgid).
WORKER_LOST = N_(
    "The worker executing this run stopped (killed or lost). "
    "The published schedule is unchanged; start the run again."
)
# A crash is stored as this message, a line break and the exception (the technical
# detail, for whoever maintains the installation): pages translate the first line.
CRASHED = N_(
    "The solver stopped on an internal error. The published schedule is unchanged; "
    "start the run again. If it fails again, pass this run's technical detail (on "
    "its page) to whoever maintains this matchfair installation."
)
FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})

SessionFactory = sessionmaker | Callable[[], Session]


def worker_name(pid: int | None = None) -> str:
    """Who executes runs here: host and process id (shown on the run page).

    ``pid``: the name of another process of this host (an RQ work horse, seen from
    the worker that forked it).
    """
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"[:100]


def create_run(
    session: Session,
    event: Event,
    *,
    parameters: Mapping[str, Any],
    user_id: int | None = None,
    kind: str = "initial",
) -> ScheduleRun:
    """Queue a run of ``event`` with ``parameters``; its problem is built and stored now.

    Storing the problem makes the run reproducible (``matchfair solve`` on it) and
    keeps it what the organizer saw when starting it, whatever changes later. Its
    parameters keep which participant each code meant (``PARTICIPANT_IDS``): codes are
    reused, so publishing checks the run's codes still mean the same companies.
    """
    params = with_defaults({**parameters, "kind": kind})
    limit = params["time_limit"]
    if not isinstance(limit, int | float) or not MIN_TIME_LIMIT <= limit <= MAX_TIME_LIMIT:
        raise ValidationFailed(
            N_("The time limit must be between %(low)s and %(high)s seconds."),
            field="time_limit",
            params={"low": MIN_TIME_LIMIT, "high": MAX_TIME_LIMIT},
        )
    problem = build_problem(session, event, parameters=params)
    if not problem.pairs:
        raise ValidationFailed(
            N_("Nobody has asked to meet anybody yet: there is nothing to schedule.")
        )
    run = ScheduleRun(
        event_id=event.id,
        kind=kind,
        status=RunStatus.QUEUED,
        # Which participant each code meant (publishing maps the meetings by it).
        parameters={**params, PARTICIPANT_IDS: participant_ids(session, event)},
        problem=problem_to_dict(problem),
        progress=[],
        created_by_id=user_id,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        "run.start",
        event_id=event.id,
        user_id=user_id,
        target=run,
        details={"parameters": params, "pairs": len(problem.pairs)},
    )
    return run


def get_run(session: Session, event: Event, run_id: int) -> ScheduleRun:
    """The run ``run_id`` of ``event`` (NotFound otherwise)."""
    run = session.get(ScheduleRun, run_id)
    if run is None or run.event_id != event.id:
        raise NotFound(N_("This solver run does not exist."))
    return run


def request_cancel(session: Session, run: ScheduleRun, *, user_id: int | None = None) -> None:
    """Stop ``run``: a queued run is cancelled at once, a running one keeps its best schedule."""
    if run.status in FINISHED:
        raise Conflict(N_("This run has already finished."))
    now = utcnow()
    # Conditional UPDATEs: a worker may claim or finish the run at the same moment.
    cancelled_queued = session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.id == run.id, ScheduleRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.CANCELLED, cancel_requested_at=now, finished_at=now)
    ).rowcount
    if not cancelled_queued:
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run.id, ScheduleRun.status == RunStatus.RUNNING)
            .values(cancel_requested_at=now)
        )
    session.refresh(run)
    audit.record(session, "run.cancel", event_id=run.event_id, user_id=user_id, target=run)


def fail_stale_runs(
    session: Session, *, stale_after: timedelta = STALE_AFTER, now: datetime | None = None
) -> list[int]:
    """Mark failed every running run whose worker stopped beating; return their ids."""
    limit = (now or utcnow()) - stale_after
    stale = session.scalars(
        select(ScheduleRun.id).where(
            ScheduleRun.status == RunStatus.RUNNING, ScheduleRun.heartbeat_at < limit
        )
    ).all()
    return fail_lost_runs(session, stale)


def fail_lost_runs(
    session: Session, run_ids: Iterable[int], *, worker: str | None = None
) -> list[int]:
    """Mark failed those of ``run_ids`` still running (by ``worker``, when given): their
    worker is gone (killed, its machine lost). Return the ids marked failed.

    The run ends at its last heartbeat, so its elapsed time is what its worker spent
    on it, not the time until somebody noticed. Conditional UPDATEs: a run that
    finished meanwhile keeps its result.
    """
    failed = []
    for run_id in run_ids:
        mine = [ScheduleRun.id == run_id, ScheduleRun.status == RunStatus.RUNNING]
        if worker is not None:
            mine.append(ScheduleRun.worker == worker)
        marked = session.execute(
            update(ScheduleRun)
            .where(*mine)
            .values(
                status=RunStatus.FAILED,
                finished_at=func.coalesce(ScheduleRun.heartbeat_at, ScheduleRun.started_at),
                error=WORKER_LOST,
            )
            .execution_options(synchronize_session="fetch")
        ).rowcount
        if marked:
            failed.append(run_id)
            log.warning("run %s lost its worker; marked failed", run_id)
    return failed


@dataclass(frozen=True)
class QueueSpot:
    """Where an unfinished run stands (for its page and the run list)."""

    # Seconds since the run was queued.
    waited: float
    # Unfinished runs (any event) before it: queued earlier, or running.
    ahead: int
    # Unfinished runs of the same event started before it (ids, oldest first).
    earlier_same_event: list[int]
    # The last sign of life of any worker in the database (a running run's heartbeat,
    # a run's end); None when no worker ever ran anything.
    worker_seen: datetime | None

    def no_worker_seen(self, now: datetime | None = None) -> bool:
        """Queued long enough, with no worker alive in the database for as long, that
        no worker is there to run it (database queue: embedded or ``matchfair worker``)."""
        limit = (now or utcnow()) - NO_WORKER_AFTER
        return self.waited >= NO_WORKER_AFTER.total_seconds() and (
            self.worker_seen is None or self.worker_seen < limit
        )


def queue_spot(session: Session, run: ScheduleRun, *, now: datetime | None = None) -> QueueSpot:
    """Where ``run`` stands: how long it has waited, what is before it, workers' last sign."""
    now = now or utcnow()
    unfinished = ScheduleRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])
    before = and_(
        unfinished,
        ScheduleRun.id != run.id,
        (ScheduleRun.status == RunStatus.RUNNING) | (ScheduleRun.id < run.id),
    )
    ahead = session.scalar(select(func.count(ScheduleRun.id)).where(before)) or 0
    same_event = session.scalars(
        select(ScheduleRun.id)
        .where(unfinished, ScheduleRun.event_id == run.event_id, ScheduleRun.id < run.id)
        .order_by(ScheduleRun.id)
    ).all()
    return QueueSpot(
        waited=max(0.0, (now - run.created_at).total_seconds()) if run.created_at else 0.0,
        ahead=int(ahead),
        earlier_same_event=list(same_event),
        worker_seen=last_worker_activity(session),
    )


def last_worker_activity(session: Session) -> datetime | None:
    """When a worker last showed life in the database: the newest heartbeat of a run
    it executes, or the end of one it executed (runs solved in a request, like a
    re-optimisation of the day, have no worker and do not count)."""
    return session.scalar(
        select(func.max(func.coalesce(ScheduleRun.finished_at, ScheduleRun.heartbeat_at))).where(
            ScheduleRun.worker != "", ScheduleRun.started_at.is_not(None)
        )
    )


def claim_next_run(session_factory: SessionFactory, worker: str) -> int | None:
    """Claim the oldest queued run for ``worker``; None when there is none.

    The UPDATE's ``status = 'queued'`` condition makes the claim atomic: when two
    workers pick the same run, exactly one update matches a row.
    """
    with session_factory() as session, session.begin():
        fail_stale_runs(session)
        run_id = session.scalar(
            select(ScheduleRun.id)
            .where(ScheduleRun.status == RunStatus.QUEUED)
            .order_by(ScheduleRun.id)
            .limit(1)
        )
        if run_id is None or not _claim(session, run_id, worker):
            return None
        return run_id


def _claim(session: Session, run_id: int, worker: str) -> bool:
    now = utcnow()
    return bool(
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id, ScheduleRun.status == RunStatus.QUEUED)
            .values(status=RunStatus.RUNNING, worker=worker, started_at=now, heartbeat_at=now)
        ).rowcount
    )


def execute_run(
    run_id: int, session_factory: SessionFactory, *, worker: str | None = None, threads: int = 2
) -> str | None:
    """Execute run ``run_id`` (claiming it if still queued); return its final status.

    Returns None when the run is not this worker's to execute (another worker
    has it, or it was cancelled before it started).
    """
    worker = worker or worker_name()
    with session_factory() as session, session.begin():
        run = session.get(ScheduleRun, run_id)
        if run is None:
            return None
        mine = run.status == RunStatus.RUNNING and run.worker == worker
        if not mine and not _claim(session, run_id, worker):
            return None
        problem_data, parameters = run.problem, dict(run.parameters)

    points: list[list[float]] = []
    lock = threading.Lock()
    stop = threading.Event()
    done = threading.Event()

    def on_progress(elapsed: float, objective: int, bound: int) -> None:
        with lock:
            # Every bound the engine reports is valid, but a later search phase may
            # report a weaker one; the organizer is shown the tightest proven so far,
            # so "best possible" never rises during a run.
            if points:
                bound = min(bound, int(points[-1][2]))
            points.append([round(elapsed, 2), objective, bound])
            if len(points) > MAX_PROGRESS_POINTS:
                del points[1 : len(points) - MAX_PROGRESS_POINTS + 1]

    beat = threading.Thread(
        target=_heartbeat,
        args=(run_id, worker, session_factory, points, lock, stop, done),
        name=f"run-{run_id}-heartbeat",
        daemon=True,
    )
    beat.start()
    values: dict[str, Any]
    solve_started = time.perf_counter()
    try:
        problem = problem_from_dict(problem_data)
        schedule = solve(
            problem,
            time_limit=float(parameters.get("time_limit", 30)),
            workers=threads,
            seed=int(parameters.get("seed") or 0),
            progress=on_progress,
            stop=stop,
        )
        result = schedule_to_dict(schedule)
        if schedule.objective is not None and schedule.bound is not None:
            # The chart ends where the run's figures say (the final bound is often
            # proven after the last improving solution was reported).
            on_progress(time.perf_counter() - solve_started, schedule.objective, schedule.bound)
        if schedule.status == STATUS_INFEASIBLE:
            status, error = RunStatus.FAILED, _infeasible_message(schedule.unscheduled_must)
        else:
            status, error = (RunStatus.CANCELLED if stop.is_set() else RunStatus.SUCCEEDED), ""
        values = {
            "status": status,
            "error": error,
            "result": result,
            "objective": schedule.objective,
            "bound": schedule.bound,
        }
    except Exception as exc:  # a crash must end as a failed run, never a stuck one
        log.exception("run %s crashed", run_id)
        values = {"status": RunStatus.FAILED, "error": f"{CRASHED}\n{type(exc).__name__}: {exc}"}
    finally:
        done.set()
        beat.join(timeout=10)

    with lock:
        values["progress"] = list(points)
    values["finished_at"] = utcnow()
    with session_factory() as session, session.begin():
        # Only while still ours: a run already marked failed as stale stays failed.
        written = session.execute(
            update(ScheduleRun)
            .where(
                ScheduleRun.id == run_id,
                ScheduleRun.status == RunStatus.RUNNING,
                ScheduleRun.worker == worker,
            )
            .values(**values)
        ).rowcount
    return str(values["status"]) if written else None


def _heartbeat(
    run_id: int,
    worker: str,
    session_factory: SessionFactory,
    points: list[list[float]],
    lock: threading.Lock,
    stop: threading.Event,
    done: threading.Event,
) -> None:
    """Every second: heartbeat and progress out, cancel request in (short transactions)."""
    written: object = None
    while not done.wait(HEARTBEAT_SECONDS):
        with lock:
            latest = (len(points), points[-1] if points else None)
            snapshot = list(points) if latest != written else None
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if snapshot is not None:
            values["progress"] = snapshot
        try:
            with session_factory() as session, session.begin():
                mine = and_(
                    ScheduleRun.id == run_id,
                    ScheduleRun.status == RunStatus.RUNNING,
                    ScheduleRun.worker == worker,
                )
                if not session.execute(update(ScheduleRun).where(mine).values(**values)).rowcount:
                    stop.set()  # marked failed meanwhile: nobody wants this result any more
                    return
                if session.scalar(select(ScheduleRun.cancel_requested_at).where(mine)):
                    stop.set()
        except Exception:  # a busy database must not kill the run: try again next beat
            log.warning("heartbeat of run %s failed", run_id, exc_info=True)
            continue
        if snapshot is not None:
            written = latest


def error_parts(error: str | None) -> tuple[str, str]:
    """A run's stored error as its message and its technical detail ("" when none).

    The message is a catalog msgid when the error is one of this module's own
    (:data:`WORKER_LOST`, :data:`CRASHED`); pages show it translated.
    """
    message, _, detail = (error or "").partition("\n")
    return message, detail


def _infeasible_message(findings: list[dict[str, Any]]) -> str:
    parts = []
    for item in findings:
        who = "–".join(str(item[k]) for k in ("a", "b") if item.get(k))
        parts.append(
            " ".join(x for x in (who, str(item.get("reason", "")), item.get("detail", "")) if x)
        )
    return "No schedule can honour every forced and pinned pair: " + "; ".join(parts)


def wait_for(
    session_factory: SessionFactory, run_id: int, statuses: frozenset[str], timeout: float
) -> str:
    """Poll until run ``run_id`` has one of ``statuses`` (for the CLI and tests); its status."""
    deadline = time.monotonic() + timeout
    while True:
        with session_factory() as session:
            status = session.scalar(select(ScheduleRun.status).where(ScheduleRun.id == run_id))
        if status in statuses or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.1)
