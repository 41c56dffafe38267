"""Runs never wait for nothing: the Redis queue is reconciled with the database, dead
work horses fail their run at once, pages say when no worker is there, what to do,
and when runs of one event run at once; stopping a queued run says what it does.

Redis tests use their own database number (:data:`QUEUE_DB`), emptied around each.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import runs, worker
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Event, RunStatus, ScheduleRun, User
from tests.mail_inbox import free_port

REPO = Path(__file__).resolve().parent.parent
MATCHFAIR = str(Path(sys.executable).with_name("matchfair"))
FINISHED = frozenset(runs.FINISHED)
# The Redis database these tests use (REDIS_URL's host, another number): emptied
# before and after each test, so they collide neither with the other Redis tests nor
# with whatever runs on REDIS_URL's own database.
QUEUE_DB = 11
BUSY = {"break_penalty": 30}


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=5, buyers=5, suppliers=20)
    db_session.commit()
    return event


@pytest.fixture
def queue_url() -> Iterator[str]:
    """An empty Redis database of its own for the test."""
    from redis import Redis

    url = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{QUEUE_DB}"))
    connection = Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()
    connection.close()


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _unreachable_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def _base(event: Event) -> str:
    return f"/events/{event.id}/schedule"


def _queue(db_session: Session, event: Event, **parameters: object) -> ScheduleRun:
    run = runs.create_run(db_session, event, parameters={"time_limit": 2, **parameters})
    db_session.commit()
    return run


def _get(factory: sessionmaker, run_id: int) -> ScheduleRun:
    with factory() as session:
        return session.get(ScheduleRun, run_id)


def _queued_for(db_session: Session, run: ScheduleRun, seconds: float) -> None:
    run.created_at = utcnow() - timedelta(seconds=seconds)
    db_session.commit()


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _note(page: str, note_id: str) -> str | None:
    found = re.search(rf'<p class="([^"]*)" id="{note_id}"[^>]*>(.*?)</p>', page, re.S)
    return f"{found.group(1)}|{_plain(found.group(2))}" if found else None


class _Worker:
    """A ``matchfair worker`` process on the test's database and Redis, its output in a file."""

    def __init__(self, database_url: str, redis_url: str, log: Path) -> None:
        self.log = log
        self.output = log.open("w")
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
        self.process = subprocess.Popen(
            [MATCHFAIR, "worker"], cwd=REPO, env=env, stdout=self.output, stderr=subprocess.STDOUT
        )

    def wait_registered(self, connection, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while worker.live_workers(connection) < 1:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def stop(self) -> None:
        # A second SIGTERM is RQ's cold shutdown: it ends a work horse still solving.
        for _ in range(2):
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                time.sleep(0.5)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()


# ------------------------------------------------------------------ the Redis queue


@pytest.mark.redis
def test_a_run_the_web_could_not_queue_is_run_by_a_worker_started_later(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    fair: Event,
    db_session: Session,
    database_url: str,
    queue_url: str,
    factory: sessionmaker,
) -> None:
    app.config["REDIS_URL"] = _unreachable_redis()
    response = client.post(f"{_base(fair)}/runs", data={"time_limit": 2}, follow_redirects=True)
    assert "The job queue cannot be reached" in response.get_data(as_text=True)
    run = db_session.scalar(select(ScheduleRun))
    assert run.status == RunStatus.QUEUED
    # Redis is back (here: the test's own); a worker started now finds the run.
    completed = subprocess.run(
        [MATCHFAIR, "worker", "--burst"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": queue_url},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr
    done = _get(factory, run.id)
    assert done.status == RunStatus.SUCCEEDED, (done.status, completed.stderr)


@pytest.mark.redis
def test_a_job_redis_lost_is_queued_again_once(
    db_session: Session, fair: Event, queue_url: str, factory: sessionmaker
) -> None:
    from redis import Redis

    connection = Redis.from_url(queue_url)
    queue = worker.run_queue(connection)
    run = _queue(db_session, fair)
    worker.enqueue_run(run.id, queue_url, time_limit=2)
    worker.enqueue_run(run.id, queue_url, time_limit=2)  # queueing again changes nothing
    assert queue.job_ids == [worker.job_id(run.id)]
    assert worker.reconcile(factory, connection, grace=timedelta(0)).enqueued == []

    connection.flushdb()  # Redis restarted without persistence
    assert worker.reconcile(factory, connection, grace=timedelta(0)).enqueued == [run.id]
    assert worker.reconcile(factory, connection, grace=timedelta(0)).enqueued == []
    assert queue.job_ids == [worker.job_id(run.id)]
    assert queue.fetch_job(worker.job_id(run.id)).args == (run.id,)

    # A run the web has just created may be on its way to Redis: it is left a moment.
    fresh = _queue(db_session, fair)
    assert worker.reconcile(factory, connection).enqueued == []
    assert worker.job_id(fresh.id) not in queue.job_ids
    # Runs that are not waiting are not queued.
    runs.request_cancel(db_session, fresh)
    db_session.commit()
    _queued_for(db_session, fresh, 60)
    assert worker.reconcile(factory, connection).enqueued == []


@pytest.mark.redis
def test_a_running_worker_queues_runs_whose_job_was_lost(
    db_session: Session,
    fair: Event,
    database_url: str,
    queue_url: str,
    factory: sessionmaker,
    tmp_path: Path,
) -> None:
    from redis import Redis

    connection = Redis.from_url(queue_url)
    process = _Worker(database_url, queue_url, tmp_path / "worker.log")
    try:
        process.wait_registered(connection)
        run = _queue(db_session, fair)  # queued in the database, its job lost on the way
        status = runs.wait_for(factory, run.id, FINISHED, timeout=90)
        assert status == RunStatus.SUCCEEDED, process.log.read_text()
    finally:
        process.stop()


@pytest.mark.redis
def test_a_killed_work_horse_fails_its_run_at_once(
    db_session: Session,
    database_url: str,
    queue_url: str,
    factory: sessionmaker,
    tmp_path: Path,
) -> None:
    from redis import Redis

    busy = generate_demo(db_session, seed=9, buyers=32, suppliers=160, slug="busy-fair")
    db_session.commit()
    connection = Redis.from_url(queue_url)
    run = _queue(db_session, busy, time_limit=120, **BUSY)
    worker.enqueue_run(run.id, queue_url, time_limit=120)
    process = _Worker(database_url, queue_url, tmp_path / "worker.log")
    try:
        process.wait_registered(connection)
        status = runs.wait_for(
            factory, run.id, frozenset({RunStatus.RUNNING, *FINISHED}), timeout=90
        )
        assert status == RunStatus.RUNNING, process.log.read_text()
        time.sleep(2)  # a few heartbeats
        horse = int(_get(factory, run.id).worker.rpartition(":")[2])
        os.kill(horse, signal.SIGKILL)
        killed = time.monotonic()
        # Long before its heartbeat is stale (45 s): the worker that forked it tells.
        status = runs.wait_for(factory, run.id, FINISHED, timeout=15)
        assert status == RunStatus.FAILED, process.log.read_text()
        assert time.monotonic() - killed < runs.STALE_AFTER.total_seconds() / 2
        assert process.process.poll() is None, "the worker itself carries on"
    finally:
        process.stop()
    done = _get(factory, run.id)
    assert done.error == runs.WORKER_LOST and done.result is None
    assert done.finished_at == done.heartbeat_at, "it ran until its last heartbeat"


@pytest.mark.redis
def test_a_worker_whose_redis_goes_away_mid_run_exits_with_a_failure(
    db_session: Session, database_url: str, factory: sessionmaker, tmp_path: Path
) -> None:
    """RQ ends its loop on a Redis error outside its wait for a job, as if asked to
    stop; a service manager that restarts failed workers must see a failure."""
    from redis import Redis

    port = free_port()
    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    busy = generate_demo(db_session, seed=9, buyers=32, suppliers=160, slug="busy-fair")
    db_session.commit()
    process = None
    try:
        connection = Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                connection.ping()
                break
            except Exception:
                assert time.monotonic() < deadline, "the test's Redis did not start"
                time.sleep(0.1)
        run = _queue(db_session, busy, time_limit=120, **BUSY)
        worker.enqueue_run(run.id, url, time_limit=120)
        process = _Worker(database_url, url, tmp_path / "worker.log")
        process.wait_registered(connection)
        status = runs.wait_for(
            factory, run.id, frozenset({RunStatus.RUNNING, *FINISHED}), timeout=90
        )
        assert status == RunStatus.RUNNING, process.log.read_text()
        redis_server.kill()
        redis_server.wait()
        code = process.process.wait(90)
        log = process.log.read_text()
        assert code == 1, log
        last = log.strip().splitlines()[-1]
        assert last.startswith("Error: the Redis worker stopped"), log
        assert "start it again" in last
    finally:
        if redis_server.poll() is None:
            redis_server.kill()
            redis_server.wait()
        if process is not None:
            process.stop()
        # The work horse solving the run outlives its worker: end it too.
        claimed = _get(factory, run.id).worker or ""
        horse = claimed.rpartition(":")[2]
        if horse.isdigit():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(horse), signal.SIGKILL)


@pytest.mark.redis
@pytest.mark.parametrize("how", ["SIGTERM", "RQ's shutdown command"])
def test_an_idle_worker_asked_to_stop_exits_cleanly_and_soon(
    database_url: str, queue_url: str, tmp_path: Path, how: str
) -> None:
    """A service manager's stop, or RQ's command: exit status 0 within seconds (RQ's
    own command listener waited up to a minute before an idle worker stopped)."""
    from redis import Redis
    from rq import Worker
    from rq.command import send_shutdown_command

    connection = Redis.from_url(queue_url)
    process = _Worker(database_url, queue_url, tmp_path / "worker.log")
    try:
        process.wait_registered(connection)
        time.sleep(1)  # listening for commands
        if how == "SIGTERM":
            process.process.send_signal(signal.SIGTERM)
        else:
            (name,) = [w.name for w in Worker.all(queue=worker.run_queue(connection))]
            send_shutdown_command(connection, name)
        assert process.process.wait(10) == 0, process.log.read_text()
    finally:
        process.stop()


def test_a_dead_work_horse_fails_the_run_it_had_claimed_and_no_other(
    db_session: Session, fair: Event, database_url: str, factory: sessionmaker
) -> None:
    """RQ's handler of a killed work horse (in the worker that forked it)."""
    from types import SimpleNamespace

    run, other = _queue(db_session, fair), _queue(db_session, fair)
    assert runs.claim_next_run(factory, runs.worker_name(4242)) == run.id
    assert runs.claim_next_run(factory, runs.worker_name(4343)) == other.id
    reconciler = worker.Reconciler(_unreachable_redis(), database_url)
    try:
        for run_id in (run.id, other.id):  # both jobs' horses had pid 4242
            job = SimpleNamespace(id=worker.job_id(run_id), args=(run_id,))
            reconciler.work_horse_killed(job, 4242, 9, None)
    finally:
        reconciler.stop()
    done = _get(factory, run.id)
    assert done.status == RunStatus.FAILED and done.error == runs.WORKER_LOST
    assert done.finished_at == done.heartbeat_at
    assert _get(factory, other.id).status == RunStatus.RUNNING, "another horse's run"


@pytest.mark.redis
def test_a_run_whose_job_rq_reports_dead_is_failed_by_its_pages_and_the_workers(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    fair: Event,
    db_session: Session,
    queue_url: str,
    factory: sessionmaker,
) -> None:
    from redis import Redis
    from rq.job import Job, JobStatus

    connection = Redis.from_url(queue_url)
    app.config["REDIS_URL"] = queue_url
    lost = {}
    for name in ("page", "list", "worker"):
        run = _queue(db_session, fair)
        worker.enqueue_run(run.id, queue_url, time_limit=2)
        assert runs.claim_next_run(factory, f"{name}:1") == run.id
        with factory() as session, session.begin():  # started 20 s ago, beat 5 s ago
            row = session.get(ScheduleRun, run.id)
            row.started_at = utcnow() - timedelta(seconds=20)
            row.heartbeat_at = utcnow() - timedelta(seconds=5)
        lost[name] = run.id
    # Still beating, but RQ says the job is dead (work horse terminated, job stopped).
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert history.count(">Running<") == 3
    for name, status in (("page", JobStatus.FAILED), ("list", JobStatus.STOPPED)):
        Job.fetch(worker.job_id(lost[name]), connection=connection).set_status(status)

    body = client.get(f"{_base(fair)}/runs/{lost['page']}/status.json").get_json()
    assert body["status"] == RunStatus.FAILED and "worker" in body["error"]
    assert 14 <= body["elapsed"] <= 16, "elapsed until its last heartbeat, not until now"
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    row = re.search(rf'<tr id="run-{lost["list"]}">(.*?)</tr>', history, re.S).group(1)
    assert ">Failed<" in row and "The worker executing this run stopped" in row
    assert _get(factory, lost["worker"]).status == RunStatus.RUNNING

    Job.fetch(worker.job_id(lost["worker"]), connection=connection).set_status(JobStatus.FAILED)
    assert worker.reconcile(factory, connection).failed == [lost["worker"]]
    assert _get(factory, lost["worker"]).status == RunStatus.FAILED


@pytest.mark.redis
def test_with_redis_the_run_page_says_when_no_worker_is_there(
    app: Flask,
    client: FlaskClient,
    logged_in: User,
    fair: Event,
    db_session: Session,
    queue_url: str,
) -> None:
    from redis import Redis
    from rq import Worker

    app.config["REDIS_URL"] = queue_url
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    run = db_session.scalar(select(ScheduleRun))
    url = f"{_base(fair)}/runs/{run.id}/status.json"
    body = client.get(url).get_json()
    assert not body["no_worker"] and "Waiting for the solver worker" in body["queued_note"]
    _queued_for(db_session, run, 40)
    body = client.get(url).get_json()
    assert body["no_worker"] and body["status"] == RunStatus.QUEUED
    assert "No solver worker seems to be running" in body["queued_note"]
    assert "Start “matchfair worker” on a solver machine" in body["queued_note"]
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    assert _note(page, "queued-note").startswith("flash flash-warning|No solver worker")

    connection = Redis.from_url(queue_url)
    alive = Worker([worker.run_queue(connection)], connection=connection)
    alive.register_birth()
    try:
        body = client.get(url).get_json()
        assert not body["no_worker"] and "No solver worker" not in body["queued_note"]
    finally:
        alive.register_death()
    assert client.get(url).get_json()["no_worker"]


def test_an_unreachable_queue_is_said_on_the_run_page_and_the_list(
    app: Flask, client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    app.config["REDIS_URL"] = _unreachable_redis()
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    run = db_session.scalar(select(ScheduleRun))
    _queued_for(db_session, run, 40)
    body = client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()
    assert body["status"] == RunStatus.QUEUED and body["no_worker"]
    assert body["queued_note"].startswith("The job queue (Redis) cannot be reached")
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "The job queue (Redis) cannot be reached" in _note(history, "no-worker-note")


def test_matchfair_worker_says_in_one_line_that_redis_cannot_be_reached(app: Flask) -> None:
    from web.cli import cli

    port = free_port()
    app.config["REDIS_URL"] = f"redis://:secret@127.0.0.1:{port}/0"
    result = app.test_cli_runner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: cannot reach Redis at redis://:***@127.0.0.1:{port}/0: ")
    assert "secret" not in result.output and "Traceback" not in result.output


# ------------------------------------------------------------ the database queue


def test_a_run_without_any_worker_says_so_and_starts_once_one_runs(
    client: FlaskClient,
    logged_in: User,
    fair: Event,
    db_session: Session,
    database_url: str,
    factory: sessionmaker,
) -> None:
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    run = db_session.scalar(select(ScheduleRun))
    url = f"{_base(fair)}/runs/{run.id}/status.json"
    body = client.get(url).get_json()
    assert not body["no_worker"]
    assert body["queued_note"] == "Waiting for the solver worker to pick this run up…"

    _queued_for(db_session, run, 40)
    body = client.get(url).get_json()
    assert body["no_worker"] and body["status"] == RunStatus.QUEUED
    assert body["queued_note"].startswith("No solver worker seems to be running")
    assert "Restart “matchfair serve”" in body["queued_note"]
    assert "matchfair worker" in body["queued_note"]
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    assert _note(page, "queued-note").startswith("flash flash-warning|No solver worker")
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "No solver worker seems to be running" in _note(history, "no-worker-note")

    # A worker busy with a run of another event: this one waits its turn.
    other = generate_demo(db_session, seed=6, buyers=4, suppliers=12, slug="other-fair")
    db_session.commit()
    busy = _queue(db_session, other)
    busy.status, busy.worker = RunStatus.RUNNING, "busy:1"
    busy.started_at = busy.heartbeat_at = utcnow()
    db_session.commit()
    body = client.get(url).get_json()
    assert not body["no_worker"]
    assert body["queued_note"] == (
        "Waiting for the solver worker: 1 run is queued or running ahead of this one."
    )
    assert body["same_event_note"] == "", "the other run is another event's"
    assert _note(client.get(f"{_base(fair)}/").get_data(as_text=True), "no-worker-note") is None

    # The worker finished that run a while ago and is gone since.
    busy.status, busy.finished_at = RunStatus.SUCCEEDED, utcnow() - timedelta(seconds=30)
    db_session.commit()
    assert client.get(url).get_json()["no_worker"]
    # A worker appears: the run, still queued, is executed.
    assert worker.run_worker(database_url, burst=True, threads=1) == 1
    assert _get(factory, run.id).status == RunStatus.SUCCEEDED


def test_the_run_list_fails_runs_whose_worker_stopped_beating(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, factory: sessionmaker
) -> None:
    run = _queue(db_session, fair)
    assert runs.claim_next_run(factory, "killed:1") == run.id
    started = utcnow() - timedelta(seconds=100)
    last_beat = started + timedelta(seconds=40)
    with factory() as session, session.begin():
        row = session.get(ScheduleRun, run.id)
        row.started_at, row.heartbeat_at = started, last_beat
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    row = re.search(rf'<tr id="run-{run.id}">(.*?)</tr>', history, re.S).group(1)
    assert ">Failed<" in row and "The worker executing this run stopped" in row
    done = _get(factory, run.id)
    assert done.status == RunStatus.FAILED and done.finished_at == last_beat
    body = client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()
    assert body["elapsed"] == 40.0, "until its last heartbeat, not until it was noticed"


# ------------------------------------------------------------------- the run page


def test_cancelling_a_queued_run_says_nothing_was_solved(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, factory: sessionmaker
) -> None:
    client.post(f"{_base(fair)}/runs", data={"time_limit": 60})
    run = db_session.scalar(select(ScheduleRun))
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    button = re.search(r'<button[^>]*id="cancel-button"[^>]*>(.*?)</button>', page, re.S)
    assert button.group(1) == "Cancel this run"
    response = client.post(f"{_base(fair)}/runs/{run.id}/cancel", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The run was cancelled before it started: nothing was solved." in page
    assert "is kept" not in page and "best schedule kept" not in page
    assert re.search(r'id="run-status">Cancelled before it started</span>', page)
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "Cancelled before it started" in history and "best schedule kept" not in history

    # A running run keeps what it found: its button and message say so.
    running = _queue(db_session, fair, time_limit=60)
    assert runs.claim_next_run(factory, "w:1") == running.id
    page = client.get(f"{_base(fair)}/runs/{running.id}").get_data(as_text=True)
    button = re.search(r'<button[^>]*id="cancel-button"[^>]*>(.*?)</button>', page, re.S)
    assert button.group(1) == "Stop and keep the best schedule"
    response = client.post(f"{_base(fair)}/runs/{running.id}/cancel", follow_redirects=True)
    assert "Stopping the run: the best schedule found so far is kept." in response.get_data(
        as_text=True
    )


def test_runs_of_one_event_started_at_once_are_pointed_out(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    first, second = db_session.scalars(select(ScheduleRun).order_by(ScheduleRun.id)).all()
    page = client.get(f"{_base(fair)}/runs/{second.id}").get_data(as_text=True)
    assert _note(page, "same-event-note") == (
        f"muted|Run {first.id} of this event was started before this one and has not "
        "finished: each run is solved in full, so stop any you do not need."
    )
    assert "1 run is queued or running ahead of this one" in _note(page, "queued-note")
    body = client.get(f"{_base(fair)}/runs/{second.id}/status.json").get_json()
    assert body["same_event_note"].startswith(f"Run {first.id} of this event")
    page = client.get(f"{_base(fair)}/runs/{first.id}").get_data(as_text=True)
    assert re.search(r'id="same-event-note"\s+hidden>\s*</p>', page)
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert _note(history, "concurrent-note") == (
        f"muted|Runs {first.id}, {second.id} of this event are queued or running at the same "
        "time: each is solved in full, so stop any you do not need on its page."
    )
    client.post(f"{_base(fair)}/runs/{first.id}/cancel")
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert _note(history, "concurrent-note") is None
    body = client.get(f"{_base(fair)}/runs/{second.id}/status.json").get_json()
    assert body["same_event_note"] == ""
