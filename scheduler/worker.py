"""Workers that execute solver runs, outside any web request.

Embedded runtime (default, one laptop at the venue): :func:`run_worker` polls the
database for queued runs; ``matchfair serve`` starts it as a child process
(:func:`start_embedded_worker`), ``matchfair worker`` runs it in the foreground.

Scaled-out runtime (``REDIS_URL`` set): the web app :func:`enqueue_run` on an RQ
queue and ``matchfair worker`` processes on any machine execute them
(:func:`run_rq_worker`). Either way :func:`scheduler.runs.execute_run` does the
work, claiming the run atomically, so a run executes once even if it is both
queued on Redis and seen by a polling worker, or queued on Redis twice.

The database is the truth, Redis only a way to hand runs to workers: each RQ worker
:func:`reconcile` s the two when it starts and every few seconds, so a run the web
could not put on Redis (down at the time) or whose job Redis lost (restarted without
persistence) is queued again, and a run whose job RQ reports dead (its work horse
killed) is marked failed at once instead of when its heartbeat goes stale.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from scheduler import runs
from scheduler.db import make_engine, make_session_factory, utcnow
from scheduler.models import RunStatus, ScheduleRun

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue
    from rq.job import Job

log = logging.getLogger(__name__)

QUEUE_NAME = "matchfair-runs"
# Time an RQ job may take beyond the run's own limit (building tables, reasons, writing).
JOB_TIMEOUT_MARGIN = 600
# An RQ worker's registration expires this long (plus RQ's 60 s) after its last sign of
# life, so a worker killed outright stops counting as "running" within 90 seconds.
WORKER_TTL = 30
# How often each RQ worker reconciles the queue with the database (:func:`reconcile`).
RECONCILE_SECONDS = 10.0
# A queued run this young may still be on its way to Redis from the web process.
ENQUEUE_GRACE = timedelta(seconds=5)
# Held by the worker reconciling, so that several workers do not all do it at once.
RECONCILE_LOCK = "matchfair:runs:reconciling"

_job_sessions: sessionmaker | None = None
# CP-SAT threads of each run an RQ job executes (``matchfair worker --threads``): set
# before the worker starts, so the work horses it forks have it too.
_job_threads: int = 2


def run_worker(
    database_url: str,
    *,
    poll_seconds: float = 1.0,
    stop: Any = None,
    burst: bool = False,
    threads: int = 2,
) -> int:
    """Execute queued runs until ``stop`` is set (or, with ``burst``, none is left).

    Returns how many runs this worker executed. ``stop`` is any object with
    ``is_set()``/``wait()`` (a threading or multiprocessing Event).
    """
    stop = stop or threading.Event()
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    name = runs.worker_name()
    executed = 0
    log.info("worker %s polling for runs", name)
    try:
        while not stop.is_set():
            try:
                run_id = runs.claim_next_run(factory, name)
                if run_id is not None:
                    log.info("worker %s executes run %s", name, run_id)
                    runs.execute_run(run_id, factory, worker=name, threads=threads)
                    executed += 1
                    continue
            except Exception:  # database away or locked for long: keep the worker alive
                log.exception("worker %s could not claim or finish a run", name)
            if burst:
                break
            stop.wait(poll_seconds)
    finally:
        engine.dispose()
    return executed


def start_embedded_worker(database_url: str, *, threads: int = 2) -> BaseProcess:
    """Start :func:`run_worker` in a child process (spawned: no inherited DB connections).

    The process is a daemon, so it ends with the server that started it.
    """
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=_run_embedded,
        args=(database_url, threads, os.getpid()),
        name="matchfair-worker",
        daemon=True,
    )
    process.start()
    return process


class _ParentGone:
    """A ``stop`` for :func:`run_worker` that is set once the server that started the
    worker is gone. A daemon process is ended by its parent's normal exit only; a server
    killed outright (SIGKILL, the OOM killer) would leave the worker claiming runs."""

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid

    def is_set(self) -> bool:
        return os.getppid() != self.parent_pid

    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return self.is_set()


def _run_embedded(database_url: str, threads: int, parent_pid: int) -> None:
    run_worker(database_url, threads=threads, stop=_ParentGone(parent_pid))


class EmbeddedWorker:
    """The embedded worker process of a server, restarted should it die (killed, crashed).

    A run the dead worker was executing is marked failed by the next poll (stale
    heartbeat); queued runs wait for the restarted worker.
    """

    def __init__(
        self,
        database_url: str,
        *,
        threads: int = 2,
        restart_delay: float = 2.0,
        on_restart: Any = None,
    ) -> None:
        self.database_url = database_url
        self.threads = threads
        self.restart_delay = restart_delay
        self.on_restart = on_restart
        self.process: BaseProcess | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker process and the thread that restarts it."""
        self.process = start_embedded_worker(self.database_url, threads=self.threads)
        self._watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            assert self.process is not None
            self.process.join(0.5)
            if self.process.is_alive() or self._stopping.is_set():
                continue
            log.warning("solver worker exited (code %s); restarting", self.process.exitcode)
            if self.on_restart is not None:
                self.on_restart(self.process.exitcode)
            if self._stopping.wait(self.restart_delay):
                break
            self.process = start_embedded_worker(self.database_url, threads=self.threads)

    def stop(self, timeout: float = 10) -> None:
        """Stop restarting and end the worker process."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout)
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)


def job_id(run_id: int) -> str:
    """The RQ job of run ``run_id``: one id per run, so queueing it again is idempotent."""
    return f"run-{run_id}"


def redis_connection(redis_url: str, *, timeout: float | None = None) -> Redis:
    """A Redis client; ``timeout``: seconds any connect or command may take (web pages)."""
    from redis import Redis

    if timeout is None:
        return Redis.from_url(redis_url)
    return Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)


def redis_location(redis_url: str) -> str:
    """``redis_url`` without its password, to be printed."""
    parts = urlsplit(redis_url)
    if parts.password is None:
        return redis_url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def run_queue(connection: Redis) -> Queue:
    from rq import Queue

    return Queue(QUEUE_NAME, connection=connection)


def enqueue_run(
    run_id: int, redis_url: str, *, time_limit: float, connection: Redis | None = None
) -> str:
    """Queue run ``run_id`` on Redis for ``matchfair worker`` processes; the job id.

    Idempotent: a run whose job is already waiting or executing is not queued again.
    """
    queue = run_queue(connection or redis_connection(redis_url))
    _ensure_job(queue, run_id, time_limit)
    return job_id(run_id)


def _ensure_job(queue: Queue, run_id: int, time_limit: float, *, at_front: bool = False) -> bool:
    """Put run ``run_id`` on ``queue`` unless its job waits there or executes already;
    True when it was put there (``at_front``: ahead of the jobs waiting)."""
    from rq.exceptions import DuplicateJobError, NoSuchJobError
    from rq.job import Job, JobStatus

    key = job_id(run_id)
    try:
        job: Job | None = Job.fetch(key, connection=queue.connection)
    except NoSuchJobError:
        job = None
    if job is not None:
        status = job.get_status(refresh=False)
        if status in (JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            return False
        if status == JobStatus.QUEUED and queue.get_job_position(key) is not None:
            return False
        # Ended (failed before it could claim the run, say) or queued where no worker
        # looks: replaced by a new job. The run's claim keeps it from executing twice.
        job.delete()
    try:
        queue.enqueue(
            execute_job,
            run_id,
            job_timeout=int(time_limit) + JOB_TIMEOUT_MARGIN,
            job_id=key,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            unique=True,
            at_front=at_front,
        )
    except DuplicateJobError:  # another worker or the web queued it this very moment
        return False
    return True


def dead_jobs(connection: Redis, run_ids: Sequence[int]) -> list[int]:
    """Those of ``run_ids`` (running runs) whose RQ job ended without finishing them:
    failed (its work horse was killed, or crashed outside the run) or stopped.

    A job that finished normally is left alone: the run's own worker writes its end.
    """
    from rq.job import Job, JobStatus

    if not run_ids:
        return []
    jobs = Job.fetch_many([job_id(r) for r in run_ids], connection=connection)
    ended = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
    return [
        run_id
        for run_id, job in zip(run_ids, jobs, strict=True)
        if job is not None and job.get_status(refresh=False) in ended
    ]


def fail_runs_of_dead_jobs(session: Session, connection: Redis) -> list[int]:
    """Mark failed the running runs whose RQ job is dead (:func:`dead_jobs`); their ids."""
    running = session.scalars(
        select(ScheduleRun.id).where(ScheduleRun.status == RunStatus.RUNNING)
    ).all()
    return runs.fail_lost_runs(session, dead_jobs(connection, list(running)))


def live_workers(connection: Redis) -> int:
    """How many RQ workers are registered on the runs queue and alive.

    A registration lives :data:`WORKER_TTL` + 60 seconds past the worker's last
    heartbeat, so a worker killed outright drops out of the count by then.
    """
    from rq import Worker

    return len(Worker.all(queue=run_queue(connection)))


@dataclass
class Reconciled:
    """What a :func:`reconcile` did."""

    enqueued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def reconcile(
    session_factory: runs.SessionFactory,
    connection: Redis,
    *,
    grace: timedelta = ENQUEUE_GRACE,
) -> Reconciled:
    """Bring the Redis queue in line with the database; safe to run anywhere, any time.

    * runs whose worker stopped beating are marked failed (:func:`runs.fail_stale_runs`),
      and so are running runs whose job RQ reports dead (:func:`dead_jobs`);
    * runs queued in the database (for longer than ``grace``: the web may be queueing
      them right now) without a job waiting or executing on Redis are queued again:
      the web could not reach Redis, or Redis lost its data.
    """
    done = Reconciled()
    limit = utcnow() - grace
    with session_factory() as session, session.begin():
        done.failed += runs.fail_stale_runs(session)
        done.failed += fail_runs_of_dead_jobs(session, connection)
        queued = session.execute(
            select(ScheduleRun.id, ScheduleRun.parameters)
            .where(ScheduleRun.status == RunStatus.QUEUED, ScheduleRun.created_at <= limit)
            .order_by(ScheduleRun.id)
        ).all()
    queue = run_queue(connection)
    # These runs were started before any run the web has queued since: they go to the
    # front of the queue, the newest first so that the oldest ends up ahead of them all.
    for run_id, parameters in reversed(queued):
        time_limit = float((parameters or {}).get("time_limit", 30))
        if _ensure_job(queue, run_id, time_limit, at_front=True):
            log.warning("run %s was queued in the database but not on Redis: queued again", run_id)
            done.enqueued.append(run_id)
    done.enqueued.reverse()
    return done


class Reconciler:
    """Each RQ worker's keeper of the queue: :func:`reconcile` at start and every
    ``interval`` seconds (in a thread), and the worker's handler of a killed work horse.

    It has its own database engine without a pool, so that no connection of it is
    open in the work horses forked meanwhile (they never use it).
    """

    def __init__(
        self, redis_url: str, database_url: str, *, interval: float = RECONCILE_SECONDS
    ) -> None:
        self.engine = make_engine(database_url, poolclass=NullPool)
        self.factory = make_session_factory(self.engine)
        self.connection = redis_connection(redis_url, timeout=10)
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, *, grace: timedelta = ENQUEUE_GRACE, lock: bool = True) -> Reconciled | None:
        """One :func:`reconcile`, unless another worker holds the lock; errors are logged."""
        try:
            if lock and not self.connection.set(
                RECONCILE_LOCK, runs.worker_name(), nx=True, px=int(self.interval * 900)
            ):
                return None
            return reconcile(self.factory, self.connection, grace=grace)
        except RedisError as error:  # Redis away: one line each time, not a traceback
            log.error("could not reconcile the run queue with the database: %s", _reason(error))
        except Exception:  # the database away, or a defect: try again next time
            log.exception("could not reconcile the run queue with the database")
            return None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="run-reconciler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            self.run_once()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.interval + 5)
        self.engine.dispose()

    def work_horse_killed(self, job: Job, retpid: int, _ret_val: int, _rusage: Any) -> None:
        """RQ's handler of a work horse that died (killed, out of memory): its run, if it
        had claimed it, is marked failed now rather than when its heartbeat goes stale."""
        try:
            run_id = int(job.args[0])
            with self.factory() as session, session.begin():
                runs.fail_lost_runs(session, [run_id], worker=runs.worker_name(retpid))
        except Exception:
            log.exception("could not mark the run of job %s failed", job.id)


def execute_job(run_id: int) -> str | None:
    """The RQ job: execute run ``run_id`` against the worker's database."""
    factory = _job_sessions
    if factory is None:
        factory = configure_job_database(os.environ["DATABASE_URL"])
    return runs.execute_run(run_id, factory, threads=_job_threads)


def configure_job_database(database_url: str, *, threads: int | None = None) -> sessionmaker:
    """Where RQ jobs in this process read and write runs (the worker's own configuration),
    and with how many CP-SAT ``threads`` they solve (unchanged when None).

    The URL stays on the worker's machine rather than travelling through Redis
    with every job, since it may carry a password.
    """
    global _job_sessions, _job_threads
    _job_sessions = make_session_factory(make_engine(database_url))
    if threads is not None:
        _job_threads = threads
    return _job_sessions


def check_redis(redis_url: str) -> None:
    """Raise redis' own error when ``redis_url`` does not answer (within 5 seconds)."""
    connection = redis_connection(redis_url, timeout=5)
    try:
        connection.ping()
    finally:
        connection.close()


def run_rq_worker(
    redis_url: str,
    database_url: str,
    *,
    burst: bool = False,
    reconcile_seconds: float = RECONCILE_SECONDS,
    threads: int = 2,
) -> None:
    """Run an RQ worker on the runs queue (``burst``: stop when the queue is empty),
    each run solved with ``threads`` CP-SAT threads.

    It first queues on Redis the runs only the database knows (:func:`reconcile`),
    then keeps doing so every ``reconcile_seconds`` while it waits and works.
    """
    configure_job_database(database_url, threads=threads)
    connection = redis_connection(redis_url)
    reconciler = Reconciler(redis_url, database_url, interval=reconcile_seconds)
    try:
        reconciler.run_once(grace=timedelta(0), lock=False)
        worker = _rq_worker_class()(
            [run_queue(connection)],
            connection=connection,
            worker_ttl=WORKER_TTL,
            work_horse_killed_handler=reconciler.work_horse_killed,
        )
        if not burst:
            reconciler.start()
        worker.work(burst=burst, with_scheduler=False)
    except RedisError as error:  # e.g. RQ's own clean-up, once Redis is gone
        raise WorkerStopped(
            f"the Redis worker stopped: Redis at {redis_location(redis_url)} was lost "
            f"({_reason(error)}); start it again once Redis is back"
        ) from None
    finally:
        reconciler.stop()
    if not burst and not worker.stop_asked:
        # RQ ends its loop, and returns as if asked to, on an error it does not retry
        # (Redis gone or silent outside the wait for a job: a heartbeat, maintenance,
        # the end of a job). A service manager that restarts failed workers must see
        # this as a failure, not as a clean stop.
        raise WorkerStopped(
            "the Redis worker stopped unexpectedly (its log above says why, e.g. Redis "
            "went away); start it again"
        )


def _reason(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


class WorkerStopped(RuntimeError):
    """The RQ worker's loop ended without anyone asking it to stop."""


def _rq_worker_class() -> type:
    """RQ's worker, which remembers whether a signal asked it to stop."""
    from rq import Worker

    class RunWorker(Worker):
        stop_asked = False

        def request_stop(self, signum, frame):  # type: ignore[no-untyped-def]
            self.stop_asked = True
            super().request_stop(signum, frame)

        def subscribe(self) -> None:
            # RQ's own listens for commands in 60 s waits, and its warm stop joins that
            # thread: an idle worker could take a minute to stop. 1 s waits cost nothing.
            self.log.info("Worker %s: subscribing to %s", self.name, self.pubsub_channel_name)
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
            )

    return RunWorker
