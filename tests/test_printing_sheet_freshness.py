"""Every company's sheets stay current whoever looks at them, at whatever host name (QA
2); sheets of a schedule changed since are not offered as ready (QA 3); QR codes that
would point at the server itself are warned about before printing (QA 2)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler import sheet_builds
from scheduler.models import (
    AuditEntry,
    DayStatus,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    Participant,
    Room,
    SheetBuild,
    Table,
)
from tests.conftest import PASSWORD
from tests.published_fair import busiest_participant, published_fair
from tests.sheet_build_flow import build_status, needs_printing, wait_for_build
from web import create_app, schedule_outputs

LOOPBACK = "127.0.0.1:5000"


@pytest.fixture
def app(database_url: str, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app as `matchfair serve` runs it: no SERVER_NAME, so links take the host of
    the request (or PUBLIC_URL), as in QA's report."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_UPLOADS": str(tmp_path / "uploads"),
        }
    )
    yield application
    from web.database import get_engine

    get_engine(application).dispose()


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


class _Browser:
    """A test client whose every request goes to ``http://<host>``."""

    def __init__(self, client: FlaskClient, host: str) -> None:
        self.client, self.base_url = client, f"http://{host}"

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, base_url=self.base_url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.post(url, base_url=self.base_url, **kwargs)


def _at(app: Flask, host: str) -> _Browser:
    """An organizer's browser that opened the site at ``host``, logged in, in English."""
    browser = _Browser(app.test_client(), host)
    login = browser.post("/auth/login", data={"email": "org@example.jp", "password": PASSWORD})
    assert login.status_code == 302
    assert browser.post("/language", data={"lang": "en"}).status_code == 302
    return browser


def _prepare(client: _Browser, event: Event) -> str:
    response = client.post(f"/events/{event.id}/print/sheets")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    path = re.sub(r"^https?://[^/]+", "", response.headers["Location"])
    assert re.fullmatch(rf"/events/{event.id}/print/sheets/\d+", path), path
    return path


def _outputs(client: _Browser, event: Event) -> str:
    page = client.get(f"/events/{event.id}/schedule/outputs")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _move_a_meeting(session: Session, event: Event) -> Meeting:
    meeting = session.scalar(
        select(Meeting).where(Meeting.event_id == event.id).order_by(Meeting.id)
    )
    moved_to = next(
        slot
        for slot in sorted(event.slots, key=lambda s: s.starts_at, reverse=True)
        if slot.id != meeting.slot_id
        and not session.scalar(
            select(Meeting.id).where(
                Meeting.table_id == meeting.table_id, Meeting.slot_id == slot.id
            )
        )
    )
    meeting.slot, meeting.version = moved_to, meeting.version + 1
    session.commit()
    return meeting


@pytest.fixture
def organizer_at_loopback(app, organizer) -> _Browser:  # type: ignore[no-untyped-def]
    return _at(app, LOOPBACK)


# --------------------------------------------------------------------------- QA 2


@needs_printing
def test_sheets_prepared_at_one_host_name_are_current_at_another(
    app, organizer_at_loopback, db_session, fair
) -> None:
    build_url = _prepare(organizer_at_loopback, fair)
    assert wait_for_build(organizer_at_loopback, build_url)[0] == "done"
    # The same organizer, the same server, another name for it: nothing changed.
    elsewhere = _at(app, "localhost:5000")
    pdf = elsewhere.get(f"{build_url}.pdf", buffered=True)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert build_status(elsewhere, build_url)[0] == "done"
    assert 'data-test="sheets-outdated"' not in _outputs(elsewhere, fair)
    assert organizer_at_loopback.get(f"{build_url}.pdf", buffered=True).status_code == 200
    # Preparing again there is a new build: its QR codes point elsewhere.
    again = _prepare(elsewhere, fair)
    assert again != build_url
    assert wait_for_build(elsewhere, again)[0] == "done"
    assert PdfReader(io.BytesIO(elsewhere.get(f"{again}.pdf", buffered=True).data)).pages


@needs_printing
def test_the_build_records_the_address_its_qr_codes_point_at(
    app, organizer_at_loopback, db_session, fair
) -> None:
    build_url = _prepare(organizer_at_loopback, fair)
    (build,) = db_session.scalars(select(SheetBuild).where(SheetBuild.event_id == fair.id))
    parameters = sheet_builds.build_parameters(db_session, build)
    assert parameters[sheet_builds.LINKS] == f"http://{LOOPBACK}"
    assert parameters[sheet_builds.STAMP] == sheet_builds.content_stamp(db_session, fair)
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "sheets.prepare"))
    assert entry.target_id == build.id
    wait_for_build(organizer_at_loopback, build_url)


def test_qr_codes_pointing_at_the_server_itself_are_warned_about(
    app, organizer, db_session, fair
) -> None:
    for host in (LOOPBACK, "localhost:5000", "127.0.0.2", "[::1]:5000"):
        page = _outputs(_at(app, host), fair)
        assert 'data-test="qr-address-warning"' in page, host
        assert f"will point at http://{host}" in page
        assert "set PUBLIC_URL" in page
    # The address participants use: no warning.
    assert 'data-test="qr-address-warning"' not in _outputs(_at(app, "192.168.10.5:5000"), fair)
    assert 'data-test="qr-address-warning"' not in _outputs(_at(app, "fair.example.jp"), fair)
    # PUBLIC_URL set: links are built on it, whatever the organizer typed.
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    assert 'data-test="qr-address-warning"' not in _outputs(_at(app, LOOPBACK), fair)


@needs_printing
def test_the_build_page_warns_about_its_own_qr_address(
    app, organizer_at_loopback, db_session, fair
) -> None:
    build_url = _prepare(organizer_at_loopback, fair)
    status, page = wait_for_build(organizer_at_loopback, build_url)
    assert status == "done"
    assert 'data-test="qr-address-warning"' in page
    assert f"point at http://{LOOPBACK}" in page
    # Seen from the address participants use, these sheets still point at the server.
    _status, page = build_status(_at(app, "192.168.10.5:5000"), build_url)
    assert f"point at http://{LOOPBACK}" in page


@needs_printing
def test_with_public_url_the_qr_codes_use_it_and_nothing_is_warned(
    app, organizer, db_session, fair
) -> None:
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    client = _at(app, LOOPBACK)
    build_url = _prepare(client, fair)
    status, page = wait_for_build(client, build_url)
    assert status == "done" and 'data-test="qr-address-warning"' not in page
    (build,) = db_session.scalars(select(SheetBuild).where(SheetBuild.event_id == fair.id))
    links = sheet_builds.build_parameters(db_session, build)[sheet_builds.LINKS]
    assert links == "https://fair.example.jp"
    assert _at(app, "localhost").get(f"{build_url}.pdf", buffered=True).status_code == 200


@pytest.mark.parametrize(
    ("base", "unreachable"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://127.8.9.1", True),
        ("http://localhost:5000", True),
        ("http://LOCALHOST.", True),
        ("http://app.localhost", True),
        ("http://[::1]:5000", True),
        ("http://[::ffff:127.0.0.1]", True),
        ("http://0.0.0.0:5000", True),
        ("http://169.254.1.2", True),
        ("http://192.168.1.20:5000", False),
        ("http://10.0.0.5", False),
        ("https://fair.example.jp", False),
        ("http://venue-server", False),
    ],
)
def test_which_addresses_participants_cannot_open(base: str, unreachable: bool) -> None:
    assert schedule_outputs.unreachable_link_base(base) is unreachable


def test_links_are_built_on_public_url_when_set(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/", base_url=f"http://{LOOPBACK}"):
        assert schedule_outputs.link_base() == f"http://{LOOPBACK}"
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    with app.test_request_context("/", base_url=f"http://{LOOPBACK}"):
        assert schedule_outputs.link_base() == "https://fair.example.jp"


# --------------------------------------------------------------------------- QA 3


@needs_printing
@pytest.mark.parametrize("change", ["move", "cancel"])
def test_sheets_of_a_changed_schedule_are_not_shown_as_ready(
    app, organizer_at_loopback, db_session, fair, change
) -> None:
    client = organizer_at_loopback
    build_url = _prepare(client, fair)
    assert wait_for_build(client, build_url)[0] == "done"
    outputs = _outputs(client, fair)
    assert "Last prepared" in outputs and f'href="{build_url}"' in outputs
    if change == "move":
        _move_a_meeting(db_session, fair)
    else:
        meeting = db_session.scalar(select(Meeting).where(Meeting.event_id == fair.id))
        meeting.status = MeetingStatus.CANCELLED
        db_session.commit()
    outputs = _outputs(client, fair)
    assert 'data-test="sheets-outdated"' in outputs and "out of date" in outputs
    assert "Last prepared" not in outputs and f'href="{build_url}"' not in outputs
    status, page = build_status(client, build_url)
    assert status == "outdated" and "The sheets are ready" not in page
    assert "download-sheets" not in page and 'data-test="prepare-sheets"' in page
    assert client.get(f"{build_url}.pdf", buffered=True).status_code == 409


@needs_printing
def test_an_unchanged_schedule_is_confirmed_without_rendering_every_sheet(
    app, organizer_at_loopback, db_session, fair, monkeypatch
) -> None:
    client = organizer_at_loopback
    build_url = _prepare(client, fair)
    assert wait_for_build(client, build_url)[0] == "done"
    rendered: list[int] = []
    real = schedule_outputs._every_sheet

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        rendered.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(schedule_outputs, "_every_sheet", counted)
    assert "Last prepared" in _outputs(client, fair)
    assert build_status(client, build_url)[0] == "done"
    assert rendered == []  # the content stamp was enough
    # A change the sheets do not show: compared once, then known.
    fair.description = "会場の案内を更新しました"
    company = busiest_participant(db_session, fair)
    company.day_status = DayStatus.CHECKED_IN  # check-ins on the day: not even that
    db_session.commit()
    assert "Last prepared" in _outputs(client, fair)
    assert build_status(client, build_url)[0] == "done"
    assert len(rendered) == 1
    # The PDF itself is always compared in full.
    assert client.get(f"{build_url}.pdf", buffered=True).status_code == 200 and len(rendered) == 2


def test_the_content_stamp_follows_what_the_sheets_show(db_session, fair) -> None:
    def stamp() -> str:
        db_session.commit()
        return sheet_builds.content_stamp(db_session, fair)

    seen = {stamp()}

    def changed() -> None:
        now = stamp()
        assert now not in seen
        seen.add(now)

    company = busiest_participant(db_session, fair)
    company.day_status = DayStatus.CHECKED_IN
    company.notes = "受付済み"
    assert stamp() in seen  # nothing printed changed
    _move_a_meeting(db_session, fair)
    changed()
    meeting = db_session.scalar(select(Meeting).where(Meeting.event_id == fair.id))
    meeting.status = MeetingStatus.CANCELLED
    changed()
    meeting.purpose = "試作の相談"
    changed()
    company.department = "営業二部"
    changed()
    company.organization.name = "株式会社 新社名"
    changed()
    company.unavailable_slots.append(fair.slots[-1])
    changed()
    db_session.scalars(select(Table).where(Table.event_id == fair.id)).first().label = "Z9"
    changed()
    db_session.scalars(select(Room).where(Room.event_id == fair.id)).first().name = "別館"
    changed()
    interest = db_session.scalars(select(Interest).where(Interest.event_id == fair.id)).first()
    interest.note = "新しい目的"
    changed()
    other = db_session.scalars(
        select(Participant).where(Participant.event_id == fair.id, Participant.id != company.id)
    ).first()
    other.status = "withdrawn"
    changed()
    fair.name = "改名した商談会"
    changed()
    fair.published_version += 1
    changed()


@needs_printing
def test_sheets_built_before_public_url_was_set_or_changed_are_outdated(
    app, organizer, db_session, fair
) -> None:
    """Review: sheets prepared on the venue network's address stayed "current" after the
    organizer set PUBLIC_URL, so QR codes with the old address went to the printer."""
    client = _at(app, "192.168.1.10:5000")
    build_url = _prepare(client, fair)
    assert wait_for_build(client, build_url)[0] == "done"
    assert client.get(f"{build_url}.pdf", buffered=True).status_code == 200
    app.config["PUBLIC_URL"] = "https://fair.example.jp"
    assert client.get(f"{build_url}.pdf", buffered=True).status_code == 409
    assert 'data-test="sheets-outdated"' in _outputs(client, fair)
    # Prepared again on the public address, then that address changes once more.
    again = _prepare(client, fair)
    assert wait_for_build(client, again)[0] == "done"
    assert client.get(f"{again}.pdf", buffered=True).status_code == 200
    app.config["PUBLIC_URL"] = "https://shodankai.example.jp"
    assert client.get(f"{again}.pdf", buffered=True).status_code == 409
