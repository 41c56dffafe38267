"""The page of every company's sheets follows a build through a small JSON status (the
organizer's only, like the page) instead of reloading itself every few seconds; without
script it still reloads, less often."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import sheet_builds
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import Event, SheetBuild, SheetBuildStatus
from tests.conftest import AuthActions
from tests.published_fair import published_fair
from web import schedule_outputs


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def running_build(session: Session, event: Event, *, done: int = 0) -> SheetBuild:
    """A build printing elsewhere (another machine's process: alive while it beats)."""
    build = SheetBuild(
        event_id=event.id,
        content_key="a" * 64,
        status=SheetBuildStatus.RUNNING,
        sheets=11,
        sheets_done=done,
        worker="another-machine:1",
        heartbeat_at=utcnow(),
    )
    session.add(build)
    session.commit()
    return build


def _url(build: SheetBuild) -> str:
    return f"/events/{build.event_id}/print/sheets/{build.id}"


def test_the_status_says_how_far_the_build_is(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    build = running_build(db_session, fair)
    first = client.get(f"{_url(build)}/status.json").get_json()
    assert first == {
        "status": "running",
        "finished": False,
        "sheets": 11,
        "sheets_done": 0,
        "progress": "Printing the sheets of 11 companies…",
    }
    build.sheets_done = 4
    db_session.commit()
    later = client.get(f"{_url(build)}/status.json").get_json()
    assert later["sheets_done"] == 4 and later["progress"] == "4 of 11 companies' sheets printed."
    build.status = SheetBuildStatus.FAILED
    build.error = sheet_builds.PROCESS_LOST
    db_session.commit()
    assert client.get(f"{_url(build)}/status.json").get_json() == {
        "status": "failed",
        "finished": True,
        "sheets": 11,
        "sheets_done": 4,
        "progress": "",
    }


def test_the_status_of_a_build_whose_process_died_is_failed(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    build = running_build(db_session, fair)
    build.heartbeat_at = utcnow() - sheet_builds.STALE_AFTER * 2
    db_session.commit()
    answer = client.get(f"{_url(build)}/status.json").get_json()
    assert answer["status"] == "failed" and answer["finished"] is True


def test_the_status_is_the_organizers_only_and_of_its_own_event(
    client: FlaskClient, auth: AuthActions, organizer, staff, db_session: Session, fair: Event
) -> None:
    build = running_build(db_session, fair)
    url = f"{_url(build)}/status.json"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    auth.login("staff@example.jp")
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login()
    other = generate_demo(db_session, seed=5, buyers=2, suppliers=3, slug="other-fair")
    db_session.commit()
    gone = client.get(f"/events/{other.id}/print/sheets/{build.id}/status.json")
    assert gone.status_code == 404 and gone.get_json()["status"] == "gone"
    missing = f"/events/{fair.id}/print/sheets/{build.id + 99}/status.json"
    assert client.get(missing).status_code == 404


def test_the_page_reloads_itself_only_without_script(
    client: FlaskClient, logged_in, db_session: Session, fair: Event
) -> None:
    build = running_build(db_session, fair)
    page = client.get(_url(build)).get_data(as_text=True)
    refresh = re.search(r'(<noscript>)?<meta http-equiv="refresh" content="(\d+)">', page)
    assert refresh is not None
    assert refresh[1] == "<noscript>", "the page must not reload itself while script runs"
    assert int(refresh[2]) == schedule_outputs.BUILD_PAGE_REFRESH_SECONDS >= 10
    section = re.search(r'<section [^>]*id="sheet-build"[^>]*>', page)
    assert section is not None and 'role="status"' in section[0]
    assert f'data-status-url="{_url(build)}/status.json"' in section[0]
