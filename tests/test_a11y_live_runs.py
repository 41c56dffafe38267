"""The schedule pages for screen readers: no nameless action column, the run's status a
status, the move dialog's "no conflict" read out as its conflicts are."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import pair_rules
from scheduler.demo import generate_demo
from scheduler.models import Event, ScheduleRun, User
from solver.problem_io import schedule_from_dict


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=9, buyers=4, suppliers=14)
    db_session.commit()
    return event


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _headers(page: str) -> list[str]:
    return re.findall(r"<th\b[^>]*>(.*?)</th>", page, flags=re.S)


def test_every_column_of_the_run_pages_has_a_header_text(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, solved: ScheduleRun
) -> None:
    first = schedule_from_dict(solved.result).meetings[0]
    pair_rules.pin_meeting(db_session, fair, solved, first.a, first.b, user_id=logged_in.id)
    db_session.commit()
    index = client.get(f"/events/{fair.id}/schedule/").get_data(as_text=True)
    assert 'id="rules"' in index
    show = client.get(f"/events/{fair.id}/schedule/runs/{solved.id}?view=meetings").get_data(
        as_text=True
    )
    for page in (index, show):
        headers = _headers(page)
        assert headers and all(re.sub(r"<[^>]+>", "", text).strip() for text in headers)
    action = '<th><span class="visually-hidden">Actions</span></th>'
    assert index.count(action) == 2  # the runs' buttons and the rules' "Remove"
    assert show.count(action) == 1  # each meeting's pin and move


def test_the_run_status_and_the_move_check_are_statuses(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun
) -> None:
    page = client.get(f"/events/{fair.id}/schedule/runs/{solved.id}").get_data(as_text=True)
    status = re.search(r'<span [^>]*id="run-status"[^>]*>', page)
    assert status is not None and 'role="status"' in status[0]
    ok_note = re.search(r'<p class="ok-note"[^>]*>', page)
    assert ok_note is not None and 'role="status"' in ok_note[0]
    result = re.search(r'<p [^>]*id="run-result"[^>]*>', page)
    assert result is not None and 'role="status"' in result[0]
    # The elapsed time and the scores change at every poll: never read out.
    for name in ("elapsed", "objective", "bound"):
        value = re.search(rf'<span [^>]*id="{name}"[^>]*>', page)
        assert value is not None and "role=" not in value[0] and "aria-live" not in value[0]
