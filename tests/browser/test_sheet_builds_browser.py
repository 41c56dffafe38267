"""The organizer prepares every company's sheets in Chromium: the button on the outputs
page, the page that reloads itself while they print, then the PDF."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD
from tests.published_fair import published_fair
from tests.sheet_build_flow import needs_printing

pytestmark = pytest.mark.browser


@needs_printing
def test_organizer_prepares_every_sheet_and_opens_the_pdf(
    page, live_app, live_server, organizer, db_session, tmp_path
) -> None:
    live_app.config["INSTANCE_UPLOADS"] = str(tmp_path / "uploads")  # not the repository's
    fair = published_fair(db_session)
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "org@example.jp")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/events/{fair.id}/schedule/outputs")
    page.click("#sheets [data-test=prepare-sheets]")
    page.wait_for_url(re.compile(rf"/events/{fair.id}/print/sheets/\d+$"))
    status = page.get_attribute("#sheet-build", "data-status")
    if status == "running":  # a fast machine may have printed them already
        assert page.locator("progress").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "sheet_build_running.png"), full_page=True)
    # No script: the page reloads itself until the sheets are ready.
    page.wait_for_selector("#sheet-build[data-status=done]", timeout=180_000)
    page.screenshot(path=str(SCREENSHOTS / "sheet_build_done.png"), full_page=True)
    link = page.locator("[data-test=download-sheets]")
    response = page.request.get(live_server + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    assert len(reader.pages) >= 11

    page.goto(f"{live_server}/events/{fair.id}/schedule/outputs")
    assert page.locator("[data-test=sheet-build-state] a").count() == 1
