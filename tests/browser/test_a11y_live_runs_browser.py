"""The run page for screen readers: its status is read out when it changes (not at every
poll), the result once the run has finished, and the move dialog's "no conflict"."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scheduler import pair_rules, runs
from scheduler.demo import generate_demo
from scheduler.models import Event, RunStatus, ScheduleRun
from solver.problem_io import problem_from_dict, schedule_from_dict
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Counts the changes of an element's words (what a live region reads out).
WATCH = """id => {
  window.changes = window.changes || {};
  window.changes[id] = 0;
  new MutationObserver(() => { window.changes[id] += 1; })
    .observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=9, buyers=4, suppliers=14)
    db_session.commit()
    return event


def _login(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def test_the_status_is_said_when_it_changes_and_the_result_when_finished(
    page, live_server, organizer, db_session: Session, fair: Event, factory
) -> None:
    run = runs.create_run(db_session, fair, parameters={"time_limit": 1})
    db_session.commit()
    _login(page, live_server)
    page.goto(f"{live_server}/events/{fair.id}/schedule/runs/{run.id}")
    assert page.get_attribute("#run-status", "role") == "status"
    page.evaluate(WATCH, "run-status")
    page.wait_for_timeout(3500)  # two polls or more, the status unchanged
    assert page.evaluate("window.changes['run-status']") == 0
    assert page.inner_text("#run-result") == ""

    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    # The page reloads with the review, then says the result in its status line.
    page.wait_for_selector("#headline", timeout=30_000)
    page.wait_for_function("document.getElementById('run-result').textContent !== ''")
    said = page.inner_text("#run-result")
    assert page.inner_text("#run-status") in said
    assert page.inner_text("#objective") in said
    # Said once: opening the finished run again says nothing.
    page.reload()
    page.wait_for_timeout(1500)
    assert page.inner_text("#run-result") == ""


def test_no_conflict_in_the_move_dialog_is_a_status_with_words(
    page, live_server, organizer, fair: Event, solved: ScheduleRun
) -> None:
    _login(page, live_server)
    page.goto(f"{live_server}/events/{fair.id}/schedule/runs/{solved.id}?view=meetings")
    first = schedule_from_dict(solved.result).meetings[0]
    page.click(f"a[data-move='{first.a}|{first.b}'], a[data-move='{first.b}|{first.a}']")
    page.wait_for_selector("#move-dialog[open]")
    ok = page.locator("#move-dialog .ok-note")
    assert ok.get_attribute("role") == "status"
    problem = problem_from_dict(solved.problem)
    free = next(
        (slot.id, table.id)
        for slot in problem.slots
        for table in problem.tables
        if (slot.id, table.id) != (first.slot, first.table)
        and not pair_rules.move_conflicts(solved, first.a, first.b, slot.id, table.id)
    )
    page.select_option("#move-slot", free[0])
    page.select_option("#move-table", free[1])
    page.wait_for_selector("#move-dialog .ok-note:not([hidden])")
    assert ok.inner_text().strip() != ""
    # Another choice: the words go while it is checked, so the next "no conflict" is new.
    meetings = schedule_from_dict(solved.result).meetings
    other = next(m for m in meetings if m.slot != first.slot and m.table)
    page.select_option("#move-slot", other.slot)
    page.select_option("#move-table", other.table)
    page.wait_for_selector("#move-dialog .conflicts li")
    assert ok.is_hidden() and ok.evaluate("node => node.textContent") == ""
