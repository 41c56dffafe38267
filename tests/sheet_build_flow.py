"""Every company's sheets as an organizer gets them: press the button, wait on the page
that reloads itself, open the PDF (for the printing tests)."""

from __future__ import annotations

import re
import time

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from scheduler import printing
from scheduler.errors import DomainError

# Waiting for the printing process, not measuring it: a small fair takes seconds, a
# loaded machine more.
BUILD_WAIT_SECONDS = 180


def _printing_not_ready() -> str | None:
    try:
        printing.check_printing()
    except DomainError as error:
        return error.message
    return None


# Without WeasyPrint's libraries or a Japanese font the PDFs cannot be made: skip, say why.
needs_printing = pytest.mark.skipif(
    _printing_not_ready() is not None,
    reason=f"PDF printing is not set up here: {_printing_not_ready()}",
)


def prepare_sheets(client: FlaskClient, event_id: int) -> str:
    """Press "Prepare every company's sheets"; the build page's address."""
    response = client.post(f"/events/{event_id}/print/sheets")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert re.search(rf"/events/{event_id}/print/sheets/\d+$", location), location
    return location


def build_status(client: FlaskClient, build_url: str) -> tuple[str, str]:
    """The build page's state (running, done, failed, outdated) and its text."""
    page = client.get(build_url)
    assert page.status_code in (200, 409), page.status_code
    text = page.get_data(as_text=True)
    status = re.search(r'id="sheet-build" data-status="(\w+)"', text)
    assert status, text[:1000]
    return status[1], text


def wait_for_build(client: FlaskClient, build_url: str) -> tuple[str, str]:
    """Reload the build page (as its refresh does) until it is no longer printing."""
    deadline = time.monotonic() + BUILD_WAIT_SECONDS
    while True:
        status, text = build_status(client, build_url)
        if status != "running":
            return status, text
        assert 'http-equiv="refresh"' in text  # the page reloads itself meanwhile
        assert time.monotonic() < deadline, "the sheets were still printing"
        time.sleep(0.25)


def every_sheet_pdf(client: FlaskClient, event_id: int) -> TestResponse:
    """The whole flow: prepare, wait until printed, open the PDF."""
    build_url = prepare_sheets(client, event_id)
    status, text = wait_for_build(client, build_url)
    assert status == "done", text[:2000]
    return client.get(f"{build_url}.pdf", buffered=True)  # read whole, file closed
