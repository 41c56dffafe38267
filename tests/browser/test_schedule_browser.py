"""The organizer runs the solver, reviews the schedule and publishes it, in Chromium."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from scheduler import worker
from scheduler.demo import generate_demo
from scheduler.models import Event, Meeting, MeetingStatus, ScheduleRun
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_organizer_runs_reviews_and_publishes_the_demo_fair(
    page, live_server, organizer, db_session, database_url
) -> None:
    event = generate_demo(db_session, seed=4, buyers=5, suppliers=20)
    db_session.commit()
    process = worker.start_embedded_worker(database_url, threads=1)  # as `matchfair serve` does
    try:
        page.goto(f"{live_server}/auth/login")
        page.fill("input[name=email]", "org@example.jp")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")

        page.goto(f"{live_server}/events/{event.id}")
        page.click(f"nav.subnav a[href='/events/{event.id}/schedule/']")
        page.fill("input[name=time_limit]", "2")
        page.click("form[action$='/schedule/runs'] button[type=submit]")
        page.wait_for_url(re.compile(r"/schedule/runs/\d+$"))

        # Live progress until the run finishes; the page then reloads with the review.
        page.wait_for_selector("#headline", timeout=90_000)
        points = page.get_attribute("#progress-chart .objective-line", "points")
        # A line from the first report to the end, however fast the run settled.
        xs = [float(point.split(",")[0]) for point in (points or "").split()]
        assert len(xs) >= 2 and xs[0] == 60.0 and xs[-1] == 590.0
        # The scale is written beside it: the best possible score on top.
        run = db_session.scalar(select(ScheduleRun).where(ScheduleRun.event_id == event.id))
        db_session.refresh(run)
        assert page.text_content("#axis-hi") == str(max(run.bound, run.objective))
        assert int(page.text_content("#axis-lo")) <= run.objective
        headline = page.inner_text("#headline")
        run = db_session.scalar(select(ScheduleRun).where(ScheduleRun.event_id == event.id))
        assert run.status == "succeeded"
        meetings = len(run.result["meetings"])
        assert str(meetings) in headline
        assert page.locator("#distribution svg rect").count() >= 1
        assert page.locator("#review-list tbody tr").count() == 25  # all 25 on the first page

        # The live conflict check answers for a move before anything is changed: the
        # meetings' list opens one shared dialog for whichever meeting is chosen.
        page.click("nav.view-tabs a:nth-child(2)")
        page.wait_for_url(re.compile(r"view=meetings"))
        page.locator("a[data-move]").first.click()
        page.wait_for_selector("#move-dialog[open]")
        page.wait_for_selector("#move-dialog .ok-note:not([hidden]), #move-dialog .conflicts li")
        page.screenshot(path=str(SCREENSHOTS / "schedule_review.png"), full_page=True)
        page.click("#move-dialog [data-close]")
        assert page.locator("#move-dialog[open]").count() == 0

        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#publish")
        page.wait_for_url(re.compile(r"/schedule/$"))
        assert page.locator(".flash-success").count() == 1
        assert page.locator(f"#run-{run.id} .badge.ok").count() == 1
    finally:
        process.terminate()
        process.join(10)

    db_session.expire_all()
    assert db_session.get(Event, event.id).published_version == 1
    published = db_session.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.event_id == event.id, Meeting.status == MeetingStatus.PLANNED
        )
    )
    assert published == meetings


def test_waiting_note_goes_away_once_a_worker_picks_the_run_up(
    page, live_server, organizer, db_session
) -> None:
    """The 'waiting for the worker' line stayed on screen for the whole solve (seen in QA)."""
    from datetime import timedelta

    from scheduler import runs
    from scheduler.db import utcnow

    event = generate_demo(db_session, seed=4, buyers=5, suppliers=20)
    run = runs.create_run(db_session, event, parameters={"time_limit": 30})
    db_session.commit()
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/events/{event.id}/schedule/runs/{run.id}")
    assert page.locator("#queued-note").is_visible()

    # A worker claims it (as `runs.claim_next_run` does) and starts beating.
    run.status, run.worker = "running", "test:1"
    run.started_at = utcnow()
    run.heartbeat_at = utcnow() + timedelta(seconds=60)  # not stale while the test runs
    db_session.commit()
    page.wait_for_selector("#queued-note", state="hidden", timeout=10_000)
    assert page.inner_text("#run-status") == "実行中"
