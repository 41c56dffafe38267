"""The Redis queue of a scaled-out set-up: runs the web could not put on Redis go ahead
of the runs queued since (they were started first), and ``matchfair worker --threads``
is the number of CP-SAT threads of the runs its work horses execute.

These tests use Redis database :data:`QUEUE_DB` of ``REDIS_URL``'s server, emptied
before and after each.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler import runs, worker
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Event, ScheduleRun

QUEUE_DB = 13


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=5, buyers=3, suppliers=8)
    db_session.commit()
    return event


@pytest.fixture
def queue_url() -> Iterator[str]:
    from redis import Redis

    url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{QUEUE_DB}"))
    connection = Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()
    connection.close()


def _run(db_session: Session, event: Event, *, age: float = 0) -> ScheduleRun:
    run = runs.create_run(db_session, event, parameters={"time_limit": 2})
    run.created_at = utcnow() - timedelta(seconds=age)
    db_session.commit()
    return run


@pytest.mark.redis
def test_runs_queued_again_go_ahead_of_later_runs_oldest_first(
    db_session: Session, fair: Event, queue_url: str, factory: sessionmaker
) -> None:
    from redis import Redis

    connection = Redis.from_url(queue_url)
    queue = worker.run_queue(connection)
    # Two runs started while Redis was away, then one the web queued once it was back.
    first, second = _run(db_session, fair, age=120), _run(db_session, fair, age=60)
    later = _run(db_session, fair, age=30)
    worker.enqueue_run(later.id, queue_url, time_limit=2)
    assert queue.job_ids == [worker.job_id(later.id)]

    done = worker.reconcile(factory, connection, grace=timedelta(0))
    assert done.enqueued == [first.id, second.id]
    assert queue.job_ids == [worker.job_id(r.id) for r in (first, second, later)]
    connection.close()


@pytest.mark.redis
def test_the_worker_threads_reach_the_runs_its_work_horses_execute(
    db_session: Session,
    fair: Event,
    queue_url: str,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The work horse is a child forked by RQ: what it was given is written to a file."""
    seen = tmp_path / "threads"

    def execute_run(run_id: int, _factory, *, threads: int = 2, **_kwargs) -> None:
        seen.write_text(f"{run_id} {threads}")

    monkeypatch.setattr(runs, "execute_run", execute_run)
    monkeypatch.setattr(worker, "_job_sessions", None)
    monkeypatch.setattr(worker, "_job_threads", 2, raising=False)
    run = _run(db_session, fair)
    worker.enqueue_run(run.id, queue_url, time_limit=2)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.run_rq_worker(queue_url, database_url, burst=True, threads=5)
    finally:  # RQ's worker installs its own
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert seen.read_text() == f"{run.id} 5"
