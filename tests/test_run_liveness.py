"""A running run whose worker went silent (killed outright) does not look alive.

The worker writes a heartbeat every second; the run is marked failed only once it is
``runs.STALE_AFTER`` (45 s) old. Meanwhile the run page said "Running" with a clock
going on past the time limit. Now, a few seconds without a heartbeat, the status and
the page say the worker may have stopped, and the clock stops at the last heartbeat.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import runs, worker
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Event, RunStatus, ScheduleRun, User
from web import runs as web_runs

RUNS_JS = Path(__file__).resolve().parents[1] / "web" / "static" / "js" / "runs.js"
QUIET_WORDS = "No sign of the solver for"


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=9, buyers=4, suppliers=14)
    db_session.commit()
    return event


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The web's clock, frozen (the stale check keeps the real one, as close as that)."""
    moment = utcnow()
    monkeypatch.setattr(web_runs, "utcnow", lambda: moment)
    return moment


def _running(
    db_session: Session, fair: Event, *, started: datetime, beat: datetime, limit: int = 20
) -> ScheduleRun:
    run = runs.create_run(db_session, fair, parameters={"time_limit": limit})
    run.status, run.worker = RunStatus.RUNNING, "solver-host:4242"
    run.started_at, run.heartbeat_at = started, beat
    db_session.commit()
    return run


def _status(client: FlaskClient, run: ScheduleRun) -> dict:
    return client.get(f"/events/{run.event_id}/schedule/runs/{run.id}/status.json").get_json()


def _quiet_note(page: str) -> re.Match[str] | None:
    return re.search(r'<p class="flash flash-warning" id="quiet-note"([^>]*)>(.*?)</p>', page, re.S)


def test_a_silent_worker_stops_the_clock_and_the_status_says_it_may_have_stopped(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, now: datetime
) -> None:
    # QA's case: a 20 s run, its worker and work horse killed 20.5 s in, 46.2 s ago.
    # (Here 40 s ago, so that the real clock's stale check leaves it running.)
    started = now - timedelta(seconds=40)
    run = _running(db_session, fair, started=started, beat=started + timedelta(seconds=20.5))
    body = _status(client, run)
    assert body["status"] == RunStatus.RUNNING and not body["finished"]
    assert body["elapsed"] == 20.5, "the clock stops at the last heartbeat"
    assert body["quiet"] == 19
    assert body["quiet_note"] == (
        "No sign of the solver for 19 s: its worker may have stopped. "
        f"The run is marked failed if nothing comes within {runs.STALE_AFTER.seconds} s."
    )
    # The page says so as loaded, with the clock stopped too.
    page = client.get(f"/events/{fair.id}/schedule/runs/{run.id}").get_data(as_text=True)
    note = _quiet_note(page)
    assert note is not None and "hidden" not in note.group(1)
    assert note.group(2).startswith(QUIET_WORDS)
    assert '<span class="value" id="elapsed">20</span>' in page


def test_a_beating_worker_shows_a_running_clock_and_no_warning(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, now: datetime
) -> None:
    started = now - timedelta(seconds=12)
    run = _running(db_session, fair, started=started, beat=now - timedelta(seconds=1))
    body = _status(client, run)
    assert body["elapsed"] == 12.0 and body["quiet"] is None and body["quiet_note"] == ""
    page = client.get(f"/events/{fair.id}/schedule/runs/{run.id}").get_data(as_text=True)
    note = _quiet_note(page)
    assert note is not None and "hidden" in note.group(1) and note.group(2) == ""
    # A heartbeat a little late (a busy SQLite file) is no alarm yet ...
    run.heartbeat_at = now - web_runs.QUIET_AFTER
    db_session.commit()
    assert _status(client, run)["quiet"] is None
    # ... a few seconds more is; and once it beats again, the warning goes.
    run.heartbeat_at = now - web_runs.QUIET_AFTER - timedelta(seconds=1)
    db_session.commit()
    assert _status(client, run)["quiet"] == web_runs.QUIET_AFTER.seconds + 1
    run.heartbeat_at = now
    db_session.commit()
    body = _status(client, run)
    assert body["quiet"] is None and body["quiet_note"] == "" and body["elapsed"] == 12.0


def test_a_run_marked_failed_keeps_the_stopped_clock(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, now: datetime
) -> None:
    started = now - timedelta(seconds=80)
    run = _running(db_session, fair, started=started, beat=started + timedelta(seconds=20.5))
    body = _status(client, run)  # 59.5 s without a heartbeat: marked failed by the poll
    assert body["status"] == RunStatus.FAILED and body["finished"]
    assert body["elapsed"] == 20.5 and body["quiet"] is None and body["quiet_note"] == ""
    assert "worker" in body["error"]


def test_a_queued_run_is_never_called_silent(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, now: datetime
) -> None:
    run = runs.create_run(db_session, fair, parameters={"time_limit": 20})
    db_session.commit()
    body = _status(client, run)
    assert body["status"] == RunStatus.QUEUED and body["quiet"] is None
    assert body["quiet_note"] == ""


def test_the_embedded_worker_killed_outright_mid_run(
    client: FlaskClient,
    logged_in: User,
    database_url: str,
    factory: sessionmaker,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded mode (a background process on the same database) the same way: its
    worker process killed with SIGKILL mid-run leaves a silent heartbeat."""
    fair = generate_demo(db_session, seed=9, buyers=32, suppliers=160, slug="busy-fair")
    db_session.commit()
    client.post(f"/events/{fair.id}/schedule/runs", data={"time_limit": 60, "break_penalty": 30})
    run = db_session.scalar(select(ScheduleRun))
    process = worker.start_embedded_worker(database_url, threads=1)
    try:
        assert (
            runs.wait_for(factory, run.id, frozenset({RunStatus.RUNNING, *runs.FINISHED}), 60)
            == RunStatus.RUNNING
        )
        first_beat = _row(factory, run.id).heartbeat_at
        for _ in range(50):  # a heartbeat of the solving worker, past the claim's
            if _row(factory, run.id).heartbeat_at != first_beat:
                break
            time.sleep(0.1)
        assert _status(client, run)["quiet"] is None
    finally:
        process.kill()  # SIGKILL: no cleanup, no last write
        process.join(10)
    lost = _row(factory, run.id)
    assert lost.status == RunStatus.RUNNING and lost.heartbeat_at != first_beat
    later = lost.heartbeat_at + timedelta(seconds=15)
    monkeypatch.setattr(web_runs, "utcnow", lambda: later)
    body = _status(client, run)
    assert body["status"] == RunStatus.RUNNING and body["quiet"] == 15
    assert body["quiet_note"].startswith(QUIET_WORDS)
    assert body["elapsed"] == round((lost.heartbeat_at - lost.started_at).total_seconds(), 1)


def _row(factory: sessionmaker, run_id: int) -> ScheduleRun:
    with factory() as session:
        return session.get(ScheduleRun, run_id)


# ---------------------------------------------------------------- the page's poll (runs.js)

# A stand-in for the run page's DOM, fetch and timers: enough for runs.js's poll.
NODE_HARNESS = r"""
const fs = require("fs");
const [source, answers] = [fs.readFileSync(process.argv[2], "utf8"), JSON.parse(process.argv[3])];
const elements = {};
function element(id, attributes) {
  const el = {
    id, hidden: false, textContent: "", className: "", attributes: attributes || {},
    getAttribute(name) { return name in this.attributes ? this.attributes[name] : null; },
  };
  elements[id] = el;
  return el;
}
element("progress", {"data-status-url": "/status.json", "data-finished": "false"});
for (const id of ["elapsed", "objective", "bound", "run-status", "same-event-note"]) {
  element(id);
}
element("quiet-note").hidden = true;
global.document = {
  getElementById: (id) => elements[id] || null,
  querySelectorAll: () => [],
  addEventListener: () => {},
};
const timers = [];
global.window = {setTimeout: (fn) => { timers.push(fn); }, location: {reload() {}}};
let asked = 0;
global.fetch = () => Promise.resolve({json: () => Promise.resolve(answers[asked++])});
new Function(source)();
const seen = [];
(async () => {
  for (let i = 0; i < answers.length; i++) {
    timers.shift()();
    for (let k = 0; k < 10; k++) { await Promise.resolve(); }
    const note = elements["quiet-note"];
    const elapsed = String(elements.elapsed.textContent);
    seen.push({hidden: note.hidden, text: note.textContent, elapsed});
  }
  process.stdout.write(JSON.stringify(seen));
})();
"""


def _answer(**changes: object) -> dict:
    return {
        "status": "running",
        "label": "Running",
        "finished": False,
        "cancel_requested": False,
        "elapsed": 20.5,
        "time_limit": 20,
        "progress": [],
        "objective": None,
        "bound": None,
        "quiet": None,
        "quiet_note": "",
        "same_event_note": "",
        **changes,
    }


def test_the_polling_page_shows_and_clears_the_warning_without_a_reload(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the run page's script check needs Node.js")
    script = tmp_path / "harness.js"
    script.write_text(NODE_HARNESS)
    said = "No sign of the solver for 19 s: its worker may have stopped."
    answers = [_answer(), _answer(quiet=19, quiet_note=said), _answer(elapsed=21.5)]
    out = subprocess.run(
        [node, str(script), str(RUNS_JS), json.dumps(answers)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen == [
        {"hidden": True, "text": "", "elapsed": "21"},
        {"hidden": False, "text": said, "elapsed": "21"},
        {"hidden": True, "text": "", "elapsed": "22"},
    ]
