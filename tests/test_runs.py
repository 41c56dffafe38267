"""Solver runs: queued by a request, executed by a worker (embedded or RQ), cancelled, lost."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import runs, worker
from scheduler.demo import generate_demo
from scheduler.models import AuditEntry, Event, Meeting, RunStatus, ScheduleRun
from solver.problem_io import problem_from_dict, schedule_from_dict
from solver.validation import check
from tests.published_fair import place_greedily

REPO = Path(__file__).resolve().parent.parent
FINISHED = frozenset(runs.FINISHED)


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=5, buyers=5, suppliers=20)
    db_session.commit()
    return event


BUSY = {"break_penalty": 30}


@pytest.fixture
def busy_fair(db_session: Session) -> Event:
    """A fair where proving optimality takes the solver many seconds: runs stay running.

    Queue its runs with :data:`BUSY`: the full-size demo with a steep break penalty
    keeps one worker searching (10 x 50 without it is proven optimal in 0.2 s).
    """
    event = generate_demo(db_session, seed=9, buyers=32, suppliers=160, slug="busy-fair")
    db_session.commit()
    return event


def _queue(db_session: Session, event: Event, **parameters: object) -> ScheduleRun:
    run = runs.create_run(db_session, event, parameters={"time_limit": 2, **parameters})
    db_session.commit()
    return run


def _status(factory: sessionmaker, run_id: int) -> ScheduleRun:
    with factory() as session:
        return session.get(ScheduleRun, run_id)


def _wait_running(factory: sessionmaker, run_id: int, timeout: float = 60) -> None:
    status = runs.wait_for(factory, run_id, frozenset({RunStatus.RUNNING, *FINISHED}), timeout)
    assert status == RunStatus.RUNNING


def test_a_run_stores_the_problem_it_will_solve(db_session: Session, fair: Event) -> None:
    run = _queue(db_session, fair, meeting_bonus=[9, 3], max_breaks=2)
    problem = problem_from_dict(run.problem)
    assert run.status == RunStatus.QUEUED
    assert problem.meeting_bonus == (9, 3) and problem.max_breaks == 2
    assert run.parameters["time_limit"] == 2 and run.parameters["break_penalty"] == 2
    assert db_session.scalar(select(AuditEntry.action).where(AuditEntry.target_id == run.id)) == (
        "run.start"
    )


def test_time_limit_out_of_range_is_refused(db_session: Session, fair: Event) -> None:
    from scheduler.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        runs.create_run(db_session, fair, parameters={"time_limit": 0})
    assert error.value.field == "time_limit"


def test_embedded_worker_process_executes_a_queued_run(
    db_session: Session, fair: Event, database_url: str, factory: sessionmaker
) -> None:
    run = _queue(db_session, fair)
    process = worker.start_embedded_worker(database_url, threads=1)
    try:
        status = runs.wait_for(factory, run.id, FINISHED, timeout=90)
    finally:
        process.terminate()
        process.join(10)
    done = _status(factory, run.id)
    assert status == RunStatus.SUCCEEDED, done.error
    schedule = schedule_from_dict(done.result)
    assert check(problem_from_dict(done.problem), schedule.meetings) == []
    assert schedule.meetings and done.objective == schedule.objective
    assert done.objective <= done.bound
    assert done.progress and all(len(point) == 3 for point in done.progress)
    assert done.worker.endswith(f":{process.pid}")


def test_serve_keeps_an_embedded_worker_alive(
    app, db_session: Session, fair: Event, factory: sessionmaker, monkeypatch
) -> None:
    """``matchfair serve`` starts the worker; killed, it comes back and runs the next run."""
    import waitress

    from web.cli import cli

    seen: dict[str, object] = {}

    def fake_serve(_app, **_kwargs) -> None:  # stands for the server's lifetime
        first = _queue(db_session, fair)
        assert runs.wait_for(factory, first.id, FINISHED, 90) == RunStatus.SUCCEEDED
        supervisor = seen["worker"]
        old = supervisor.process
        old.kill()
        old.join(10)
        second = _queue(db_session, fair)
        assert runs.wait_for(factory, second.id, FINISHED, 90) == RunStatus.SUCCEEDED
        assert supervisor.process.pid != old.pid
        seen["process"] = supervisor.process

    original = worker.EmbeddedWorker.start

    def remember(self) -> None:
        seen["worker"] = self
        self.restart_delay = 0.1
        original(self)

    monkeypatch.setattr(waitress, "serve", fake_serve)
    monkeypatch.setattr(worker.EmbeddedWorker, "start", remember)
    result = app.test_cli_runner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert "Solver worker started" in result.output and "restarting" in result.output
    assert not seen["process"].is_alive(), "the worker ends with the server"


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (zombies, already ended, left out)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_stopped_or_killed_server_leaves_no_worker_behind(tmp_path: Path, how: str) -> None:
    """A service manager stops ``matchfair serve`` with SIGTERM; the OOM killer uses
    SIGKILL. Either way its solver worker must not go on claiming runs alone."""
    import signal

    from tests.mail_inbox import free_port

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        MATCHFAIR_INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    )
    command = str(Path(sys.executable).with_name("matchfair"))
    subprocess.run([command, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [command, "serve", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: set[int] = set()
    try:
        assert server.stdout is not None
        lines = []
        for line in server.stdout:
            lines.append(line)
            if "is running on" in line:
                break
        assert any("Solver worker started" in line for line in lines), lines
        children = _children(server.pid)
        assert children, "the worker runs as a child process"
        server.send_signal(getattr(signal, how))
        server.wait(30)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in children:  # a failure leaves no stray worker on the test machine
            if _alive(pid):
                os.kill(pid, 9)
        if server.stdout is not None:
            server.stdout.close()


def test_claim_is_atomic_one_worker_per_run(
    db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    run = _queue(db_session, fair)
    assert runs.claim_next_run(factory, "first:1") == run.id
    assert runs.claim_next_run(factory, "second:2") is None
    assert runs.execute_run(run.id, factory, worker="second:2") is None
    assert _status(factory, run.id).worker == "first:1"


def test_cancel_stops_the_search_and_keeps_the_best_schedule(
    db_session: Session, busy_fair: Event, factory: sessionmaker
) -> None:
    run = _queue(db_session, busy_fair, time_limit=60, **BUSY)
    outcome: list[str | None] = []
    thread = threading.Thread(
        target=lambda: outcome.append(runs.execute_run(run.id, factory, threads=1))
    )
    thread.start()
    _wait_running(factory, run.id)
    with factory() as session:
        runs.request_cancel(session, session.get(ScheduleRun, run.id), user_id=None)
        session.commit()
    thread.join(50)
    assert not thread.is_alive(), "a cancel must reach the search within seconds"
    done = _status(factory, run.id)
    assert outcome == [RunStatus.CANCELLED] and done.status == RunStatus.CANCELLED
    schedule = schedule_from_dict(done.result)
    assert schedule.meetings, "the best schedule found so far is kept"
    assert check(problem_from_dict(done.problem), schedule.meetings) == []


def test_cancelling_a_queued_run_ends_it_before_any_worker(
    db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    run = _queue(db_session, fair)
    runs.request_cancel(db_session, run)
    db_session.commit()
    assert run.status == RunStatus.CANCELLED
    assert runs.claim_next_run(factory, "w:1") is None


def test_killed_worker_fails_the_run_and_leaves_the_published_schedule(
    db_session: Session, busy_fair: Event, database_url: str, factory: sessionmaker
) -> None:
    fair = busy_fair
    place_greedily(db_session, fair)
    db_session.commit()
    before = [
        (m.id, m.slot_id, m.table_id, m.status, m.version)
        for m in db_session.scalars(select(Meeting).order_by(Meeting.id))
    ]
    run = _queue(db_session, fair, time_limit=120, **BUSY)
    process = worker.start_embedded_worker(database_url, threads=1)
    try:
        _wait_running(factory, run.id)
        process.kill()
        process.join(10)
        # Its heartbeat stopped: the next poll (here with no grace) marks it failed.
        with factory() as session, session.begin():
            assert runs.fail_stale_runs(session, stale_after=timedelta(0)) == [run.id]
    finally:
        if process.is_alive():
            process.kill()
    done = _status(factory, run.id)
    assert done.status == RunStatus.FAILED and "worker" in done.error
    assert done.result is None
    with factory() as session:
        after = [
            (m.id, m.slot_id, m.table_id, m.status, m.version)
            for m in session.scalars(select(Meeting).order_by(Meeting.id))
        ]
    assert after == before and before


def test_a_crashing_run_is_marked_failed_with_the_error(
    db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    run = _queue(db_session, fair)
    run.problem = {**run.problem, "pairs": "not a list"}
    db_session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.FAILED
    done = _status(factory, run.id)
    assert "pairs" in done.error and done.finished_at is not None


def test_a_fresh_heartbeat_is_not_stale(
    db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    run = _queue(db_session, fair)
    runs.claim_next_run(factory, "w:1")
    with factory() as session, session.begin():
        assert runs.fail_stale_runs(session) == []
    assert _status(factory, run.id).status == RunStatus.RUNNING


@pytest.mark.redis
def test_redis_queue_and_matchfair_worker_execute_a_run(
    db_session: Session, fair: Event, database_url: str, factory: sessionmaker
) -> None:
    from redis import Redis
    from rq import Queue

    redis_url = os.environ["REDIS_URL"]
    Queue(worker.QUEUE_NAME, connection=Redis.from_url(redis_url)).empty()
    run = _queue(db_session, fair)
    job_id = worker.enqueue_run(run.id, redis_url, time_limit=2)
    assert job_id == f"run-{run.id}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("matchfair")), "worker", "--burst"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    done = _status(factory, run.id)
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert schedule_from_dict(done.result).meetings


def test_matchfair_worker_burst_executes_waiting_runs(
    app, db_session: Session, fair: Event, factory: sessionmaker
) -> None:
    from web.cli import cli

    run = _queue(db_session, fair)
    result = app.test_cli_runner().invoke(cli, ["worker", "--burst", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "polling the database" in result.output
    assert _status(factory, run.id).status == RunStatus.SUCCEEDED


def test_progress_never_shows_a_weaker_bound_than_one_already_proven(
    db_session: Session, fair: Event, factory: sessionmaker, monkeypatch
) -> None:
    """A later phase's looser bound (seen on the demo fair: 7462, then 28097) is not shown."""
    real_solve = runs.solve

    def solve_with_a_loose_second_phase(problem, **kwargs):
        report = kwargs["progress"]
        report(0.5, 10, 100)
        report(1.0, 20, 400)  # a second phase with a weaker, still valid, bound
        report(1.5, 30, 90)
        return real_solve(problem, **{**kwargs, "progress": None})

    monkeypatch.setattr(runs, "solve", solve_with_a_loose_second_phase)
    run = _queue(db_session, fair, time_limit=1)
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    done = _status(factory, run.id)
    bounds = [point[2] for point in done.progress]
    assert bounds[:3] == [100, 100, 90]
    # The chart ends on the run's own score (and a bound no weaker than the run's).
    assert len(done.progress) == 4
    assert done.progress[-1][1] == done.objective and done.progress[-1][2] <= done.bound
