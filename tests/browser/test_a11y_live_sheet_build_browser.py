"""While every company's sheets print, their page updates itself in place: no reload
that throws a screen reader back to the top and loses the keyboard focus."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scheduler import sheet_builds
from scheduler.db import utcnow
from scheduler.models import SheetBuildStatus
from tests.conftest import PASSWORD
from tests.published_fair import published_fair
from tests.test_a11y_live_sheet_build import running_build

pytestmark = pytest.mark.browser


def test_the_build_page_follows_the_build_without_reloading(
    page, live_server, organizer, db_session: Session, monkeypatch
) -> None:
    monkeypatch.setattr("web.schedule_outputs.BUILD_STATUS_POLL_SECONDS", 0.3)
    fair = published_fair(db_session)
    build = running_build(db_session, fair)
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/events/{fair.id}/print/sheets/{build.id}")
    page.evaluate("window.notReloaded = true")
    page.focus(".breadcrumb a")
    progress = page.locator("#sheet-build [data-test=progress]")
    assert "11" in progress.inner_text()

    build.sheets_done = 4
    build.heartbeat_at = utcnow()
    db_session.commit()
    page.wait_for_function("document.querySelector('#sheet-build progress').value === 4")
    assert "4" in progress.inner_text() and "11" in progress.inner_text()
    page.wait_for_timeout(3500)  # longer than the reload the page used to do
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.activeElement.closest('.breadcrumb') !== null")

    # It failed: the section (a status, read out) shows what to do, still no reload.
    build.status = SheetBuildStatus.FAILED
    build.error = sheet_builds.PROCESS_LOST
    build.finished_at = utcnow()
    db_session.commit()
    page.wait_for_selector("#sheet-build[data-status=failed] [data-test=prepare-sheets]")
    assert page.get_attribute("#sheet-build", "role") == "status"
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.activeElement.closest('.breadcrumb') !== null")
