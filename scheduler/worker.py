"""Workers that execute solver runs, outside any web request.

Embedded runtime (default, one laptop at the venue): :func:`run_worker` polls the
database for queued runs; ``matchfair serve`` starts it as a child process
(:func:`start_embedded_worker`), ``matchfair worker`` runs it in the foreground.

Scaled-out runtime (``REDIS_URL`` set): the web app :func:`enqueue_run` on an RQ
queue and ``matchfair worker`` processes on any machine execute them
(:func:`run_rq_worker`). Either way :func:`scheduler.runs.execute_run` does the
work, claiming the run atomically, so a run executes once even if it is both
queued on Redis and seen by a polling worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy.orm import sessionmaker

from scheduler import runs
from scheduler.db import make_engine, make_session_factory

log = logging.getLogger(__name__)

QUEUE_NAME = "matchfair-runs"
# Time an RQ job may take beyond the run's own limit (building tables, reasons, writing).
JOB_TIMEOUT_MARGIN = 600

_job_sessions: sessionmaker | None = None


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


def enqueue_run(run_id: int, redis_url: str, *, time_limit: float) -> str:
    """Queue run ``run_id`` on Redis for ``matchfair worker`` processes; the job id."""
    from redis import Redis
    from rq import Queue

    queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
    job = queue.enqueue(
        execute_job,
        run_id,
        job_timeout=int(time_limit) + JOB_TIMEOUT_MARGIN,
        job_id=f"run-{run_id}",
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )
    return job.id


def execute_job(run_id: int) -> str | None:
    """The RQ job: execute run ``run_id`` against the worker's database."""
    factory = _job_sessions
    if factory is None:
        factory = configure_job_database(os.environ["DATABASE_URL"])
    return runs.execute_run(run_id, factory)


def configure_job_database(database_url: str) -> sessionmaker:
    """Where RQ jobs in this process read and write runs (the worker's own configuration).

    The URL stays on the worker's machine rather than travelling through Redis
    with every job, since it may carry a password.
    """
    global _job_sessions
    _job_sessions = make_session_factory(make_engine(database_url))
    return _job_sessions


def run_rq_worker(redis_url: str, database_url: str, *, burst: bool = False) -> None:
    """Run an RQ worker on the runs queue (``burst``: stop when the queue is empty)."""
    from redis import Redis
    from rq import Queue, Worker

    configure_job_database(database_url)
    connection = Redis.from_url(redis_url)
    worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=burst, with_scheduler=False)
