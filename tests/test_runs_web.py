"""The scheduling pages: start runs, live status, review, manual edits, publish; roles and CSRF."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import runs, worker
from scheduler.db import utcnow
from scheduler.demo import generate_demo
from scheduler.models import (
    AuditEntry,
    Event,
    Meeting,
    PairRule,
    Participant,
    ParticipantRole,
    RunStatus,
    ScheduleRun,
    User,
)
from solver.problem_io import problem_from_dict, problem_to_dict, schedule_from_dict
from tests.conftest import PASSWORD
from tests.mail_inbox import Inbox, free_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:aiosmtpd")


@pytest.fixture
def fair(db_session: Session) -> Event:
    event = generate_demo(db_session, seed=9, buyers=4, suppliers=14)
    db_session.commit()
    return event


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    """Pages in English (the msgids), whatever the account's language."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302


def _base(event: Event) -> str:
    return f"/events/{event.id}/schedule"


def test_pages_are_for_organizers_only(
    client: FlaskClient, auth, fair: Event, staff: User, solved: ScheduleRun
) -> None:
    pages = [
        f"{_base(fair)}/",
        f"{_base(fair)}/runs/{solved.id}",
        f"{_base(fair)}/runs/{solved.id}/status.json",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.location
    auth.login("staff@example.jp", PASSWORD)
    for url in pages:
        assert client.get(url).status_code == 403
    assert client.post(f"{_base(fair)}/runs", data={"time_limit": 2}).status_code == 403
    assert client.post(f"{_base(fair)}/runs/{solved.id}/publish").status_code == 403


def test_starting_a_run_queues_it_and_never_solves_in_the_request(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    page = client.get(f"{_base(fair)}/")
    assert page.status_code == 200 and "Run the solver" in page.get_data(as_text=True)
    response = client.post(
        f"{_base(fair)}/runs", data={"time_limit": 2, "first_bonus": 16, "max_breaks": 1}
    )
    assert response.status_code == 302
    run = db_session.scalar(select(ScheduleRun).where(ScheduleRun.event_id == fair.id))
    assert response.location.endswith(f"/runs/{run.id}")
    assert run.status == RunStatus.QUEUED and run.result is None
    assert run.parameters["meeting_bonus"] == [16, 8, 4, 2] and run.parameters["max_breaks"] == 1
    assert run.parameters["all_must"] is False
    assert not any(pair["must"] for pair in run.problem["pairs"] if "must" in pair)
    assert run.created_by_id == logged_in.id
    page = client.get(response.location).get_data(as_text=True)
    assert "Waiting for the solver worker" in page and 'id="progress-chart"' in page


def test_a_bad_time_limit_is_shown_on_the_form(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    response = client.post(f"{_base(fair)}/runs", data={"time_limit": 0})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please correct the highlighted fields" in page
    # 0 was typed: the range is what is wrong, not a missing value.
    assert "Enter a number from 1 to 3600." in page and "This field is required" not in page
    client.post("/language", data={"lang": "ja"})
    page = client.post(f"{_base(fair)}/runs", data={"time_limit": 0}).get_data(as_text=True)
    assert "1～3600 の数値を入力してください。" in page and "以上, " not in page
    assert db_session.scalar(select(func.count(ScheduleRun.id))) == 0


def test_the_run_form_as_a_browser_sends_it_with_its_optional_numbers_empty(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    # Full-width digits and a thousands separator, as typed on a Japanese keyboard.
    data = {"time_limit": "１，２００", "first_bonus": "", "break_penalty": "", "max_breaks": ""}
    response = client.post(f"{_base(fair)}/runs", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    run = db_session.scalar(select(ScheduleRun).where(ScheduleRun.event_id == fair.id))
    assert run.parameters["max_breaks"] is None and run.parameters["time_limit"] == 1200
    empty = client.post(f"{_base(fair)}/runs", data={**data, "time_limit": " "})
    assert empty.status_code == 400
    page = empty.get_data(as_text=True)
    errors = re.search(r'<ul class="errors" id="time_limit-err">(.*?)</ul>', page, re.S)
    assert errors is not None and errors.group(1).count("<li>") == 1
    assert "This field is required." in errors.group(1)


def test_text_that_is_not_a_whole_number_gets_one_error_and_stays_typed(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    response = client.post(f"{_base(fair)}/runs", data={"time_limit": "7.5", "first_bonus": "1.5"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for name, typed in (("time_limit", "7.5"), ("first_bonus", "1.5")):
        errors = re.search(rf'<ul class="errors" id="{name}-err">(.*?)</ul>', page, re.S)
        assert errors is not None and errors.group(1).count("<li>") == 1
        assert "Not a valid integer value" in errors.group(1)
        assert re.search(rf'id="{name}"[^>]*value="{re.escape(typed)}"', page)
    assert "Enter a number from" not in page and "This field is required" not in page
    assert 'aria-describedby="None"' not in page  # fields without errors describe nothing
    assert db_session.scalar(select(func.count(ScheduleRun.id))) == 0


def test_status_json_reports_progress_and_fails_runs_that_lost_their_worker(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, factory
) -> None:
    run = runs.create_run(db_session, fair, parameters={"time_limit": 2})
    db_session.commit()
    runs.claim_next_run(factory, "gone:1")
    with factory() as session, session.begin():
        lost = session.get(ScheduleRun, run.id)
        lost.heartbeat_at = utcnow() - runs.STALE_AFTER - timedelta(seconds=1)
        lost.progress = [[0.5, 10, 40], [1.0, 20, 30]]
    body = client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()
    assert body["status"] == RunStatus.FAILED and body["finished"]
    assert body["progress"] == [[0.5, 10, 40], [1.0, 20, 30]]
    assert body["objective"] == 20 and body["bound"] == 30
    assert "worker" in body["error"]


def test_the_review_shows_headline_participants_and_the_distribution_chart(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun
) -> None:
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    schedule = schedule_from_dict(solved.result)
    problem = problem_from_dict(solved.problem)
    assert "meetings scheduled" in page and f">{len(schedule.meetings)}<" in page
    assert "requested pairs met (at least one side asked)" in page and "mutual pairs met" in page
    assert "proven the best possible" in page or "% of the best possible" in page
    assert '<svg class="histogram"' in page and "<rect" in page
    for participant in problem.participants:
        assert f'id="participant-{participant.id}"' in page
    assert "Publish this schedule" in page and "Move a meeting" in page
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert f'id="run-{solved.id}"' in history and f"{solved.objective}" in history


def test_publishing_before_requests_close_says_what_it_ends(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    """QA: published while the event was still taking registrations, the fair jumped to
    Published behind a plain "Publish this schedule to every participant?"."""
    url = f"{_base(fair)}/runs/{solved.id}"
    for phase, warned in (("registration", True), ("preferences", True), ("scheduling", False)):
        fair.phase = phase
        db_session.commit()
        page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        form = page.split('id="publish"', 1)[0].rsplit("<form", 1)[1]
        assert ("is still in the phase" in form) is warned, phase
        assert "Publish this schedule to every participant?" in form


def test_publishing_from_the_page_emails_participants_once(
    app: Flask, client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_FROM="o@f.jp")
    try:
        response = client.post(f"{_base(fair)}/runs/{solved.id}/publish", follow_redirects=True)
        page = response.get_data(as_text=True)
        assert "Schedule version 1 is published" in page and "were e-mailed" in page
        sent = len(inbox.messages)
        assert sent > 0
        body = inbox.messages[0].get_payload(decode=True).decode()
        token = re.search(r"/p/([\w-]+)/schedule", body).group(1)
        assert db_session.scalar(select(Participant).where(Participant.access_token == token))
        again = client.post(f"{_base(fair)}/runs/{solved.id}/publish", follow_redirects=True)
        assert "already published" in again.get_data(as_text=True)
        assert len(inbox.messages) == sent, "publishing the same run again e-mails nobody"
    finally:
        controller.stop()
    db_session.expire_all()
    assert db_session.get(Event, fair.id).published_version == 1


def test_a_mail_failure_is_shown_and_the_publication_stands(
    app: Flask, client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    page = client.post(f"{_base(fair)}/runs/{solved.id}/publish", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Schedule version 1 is published" in page and "failed" in page
    db_session.expire_all()
    assert db_session.get(Event, fair.id).published_version == 1
    assert db_session.scalar(select(func.count(Meeting.id))) > 0


def test_move_is_checked_live_then_applied_pinned_and_audited(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    meetings = schedule_from_dict(solved.result).meetings
    first, other = meetings[0], next(m for m in meetings[1:] if m.slot != meetings[0].slot)
    url = f"{_base(fair)}/runs/{solved.id}/check-move"
    # Into the slot and table of another meeting: the table is taken.
    clash = client.get(
        url, query_string={"a": first.a, "b": first.b, "slot": other.slot, "table": other.table}
    ).get_json()
    assert not clash["ok"] and any("taken" in text for text in clash["conflicts"])
    problem = problem_from_dict(solved.problem)
    free = None
    for slot in problem.slots:
        for table in problem.tables:
            answer = client.get(
                url, query_string={"a": first.a, "b": first.b, "slot": slot.id, "table": table.id}
            ).get_json()
            if answer["ok"] and (slot.id, table.id) != (first.slot, first.table):
                free = (slot.id, table.id)
                break
        if free:
            break
    assert free is not None
    response = client.post(
        f"{_base(fair)}/runs/{solved.id}/move",
        data={"a": first.a, "b": first.b, "slot": free[0], "table": free[1]},
    )
    assert response.status_code == 302
    db_session.expire_all()
    edited = db_session.get(ScheduleRun, solved.id)
    moved = next(m for m in schedule_from_dict(edited.result).meetings if m.key == first.key)
    assert (moved.slot, moved.table) == free and edited.edited_at is not None
    rule = db_session.scalar(select(PairRule))
    assert rule.kind == "pin" and f"s{rule.slot_id}" == free[0]
    actions = db_session.scalars(select(AuditEntry.action)).all()
    assert "run.move_meeting" in actions and "pair_rule.pin" in actions
    # The next run keeps the pinned meeting where the organizer put it.
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    latest = db_session.scalar(select(ScheduleRun).order_by(ScheduleRun.id.desc()))
    locked = problem_from_dict(latest.problem).locked
    assert [(m.slot, m.table) for m in locked] == [free]
    # That run follows the pin; the run moved in (made before it) ignores nothing either,
    # as its own schedule has the meeting there.
    from scheduler import pair_rules

    assert pair_rules.rules_not_in(db_session, fair, latest) == []


def test_a_meeting_pinned_by_an_earlier_move_can_be_moved_again(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    """The next run holds a moved meeting with a lock (its pin); moving it again in
    that run replaces the pin instead of breaking it."""
    meetings = schedule_from_dict(solved.result).meetings
    first = meetings[0]
    solved.problem = problem_to_dict(
        dataclasses.replace(problem_from_dict(solved.problem), locked=(first,)))
    db_session.commit()
    url = f"{_base(fair)}/runs/{solved.id}/check-move"
    problem = problem_from_dict(solved.problem)
    answers = [
        client.get(url, query_string={"a": first.a, "b": first.b, "slot": slot.id,
                                      "table": first.table}).get_json()
        for slot in problem.slots if slot.id != first.slot
    ]
    assert any(answer["ok"] for answer in answers)
    assert not any("locked" in text for answer in answers for text in answer["conflicts"])


def test_move_conflicts_and_choices_know_whose_table_it_is(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    """A buyer's table is no place for another buyer's meeting: the check says so in
    words, even where a double booking is found too, and the move page offers only the
    tables the pair may use."""
    from scheduler import run_review

    problem = problem_from_dict(solved.problem)
    hosts = {t.host: t.id for t in problem.tables if t.host}
    meeting = next(m for m in schedule_from_dict(solved.result).meetings
                   if hosts.keys() & {m.a, m.b})
    host = next(who for who in (meeting.a, meeting.b) if who in hosts)
    foreign = next(t for t in problem.tables if t.host not in (None, meeting.a, meeting.b))
    answer = client.get(f"{_base(fair)}/runs/{solved.id}/check-move", query_string={
        "a": meeting.a, "b": meeting.b, "slot": meeting.slot, "table": foreign.id}).get_json()
    assert not answer["ok"]
    assert any(f"Table {foreign.id} is the own table of {foreign.host}" in text
               for text in answer["conflicts"])
    assert not any(text.startswith("rule ") for text in answer["conflicts"])
    _meeting, choices = run_review.move_choices(fair, solved, meeting.a, meeting.b)
    own = {t.id for t in problem.tables if t.host in (meeting.a, meeting.b)}
    assert own and all(set(choice.free_tables) <= own for choice in choices)
    assert hosts[host] in own


def test_a_run_made_before_a_rule_is_published_only_on_purpose(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    """Published, a run made before a rule would ignore it: the page says which rules,
    and publishing asks for that to be meant."""
    from scheduler import pair_rules

    meeting = schedule_from_dict(solved.result).meetings[0]
    a, b = (pair_rules.participant_by_code(db_session, fair, code)
            for code in (meeting.a, meeting.b))
    pair_rules.set_rule(db_session, fair, a, b, "forbid")
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    card = page.split('data-test="unheeded-rules"')[1].split("</section>")[0]
    assert f"{min(meeting.a, meeting.b)} × {max(meeting.a, meeting.b)}: never" in card
    refused = client.post(f"{_base(fair)}/runs/{solved.id}/publish", follow_redirects=True)
    assert "This run was made before 1 rule was set" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Event, fair.id).published_at is None
    client.post(f"{_base(fair)}/runs/{solved.id}/publish", data={"ignore_rules": "yes"})
    db_session.expire_all()
    assert db_session.get(Event, fair.id).published_at is not None


def test_forbidding_a_pair_removes_it_from_the_next_run(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    pair = problem_from_dict(solved.problem).pairs[0]
    response = client.post(
        f"{_base(fair)}/rules", data={"a": pair.a, "b": pair.b.lower(), "kind": "forbid"}
    )
    assert response.status_code == 302
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    latest = db_session.scalar(select(ScheduleRun).order_by(ScheduleRun.id.desc()))
    assert pair.key not in {p.key for p in problem_from_dict(latest.problem).pairs}
    rule = db_session.scalar(select(PairRule))
    assert "never" in client.get(f"{_base(fair)}/").get_data(as_text=True)
    client.post(f"{_base(fair)}/rules/{rule.id}/delete")
    assert db_session.scalar(select(func.count(PairRule.id))) == 0


def test_unknown_codes_in_a_rule_are_reported(
    client: FlaskClient, logged_in: User, fair: Event, db_session
) -> None:
    response = client.post(
        f"{_base(fair)}/rules", data={"a": "b001", "b": "Z999", "kind": "forbid"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # The error sits at the wrong code, and everything typed is still there.
    errors = re.search(r'<ul class="errors" id="b-err">(.*?)</ul>', page, re.S)
    assert errors is not None and "No approved participant has the code Z999." in errors.group(1)
    assert re.search(r'<input[^>]*id="a"[^>]*value="b001"', page)
    assert re.search(r'<input[^>]*autofocus[^>]*id="b"[^>]*value="Z999"', page) or re.search(
        r'<input[^>]*id="b"[^>]*autofocus[^>]*value="Z999"', page
    )
    assert re.search(r'<option selected value="forbid">|<option value="forbid" selected>', page)
    assert db_session.scalar(select(func.count(PairRule.id))) == 0

    same = client.post(f"{_base(fair)}/rules", data={"a": "B001", "b": "B001", "kind": "force"})
    assert same.status_code == 400
    assert "A pair needs two different participants." in same.get_data(as_text=True)
    # Two buyers never meet: the schedule, its sheets and exports have a side for each.
    buyers = client.post(f"{_base(fair)}/rules", data={"a": "B001", "b": "B002", "kind": "force"})
    assert buyers.status_code == 400
    assert ("B001 and B002 are both buyers or both suppliers: a rule pairs a buyer with a "
            "supplier.") in buyers.get_data(as_text=True)
    assert db_session.scalar(select(func.count(PairRule.id))) == 0
    # Codes typed in full width are the codes themselves.
    wide = client.post(f"{_base(fair)}/rules", data={"a": "ｂ００１", "b": "Ｓ００１",
                                                      "kind": "forbid"})
    assert wide.status_code == 302
    rule = db_session.scalar(select(PairRule))
    assert {rule.participant_a.code, rule.participant_b.code} == {"B001", "S001"}
    # A second rule for the pair takes the first one's place, and says so (B001 declined
    # S001 in the demo: forcing the pair anyway is confirmed).
    replaced = client.post(f"{_base(fair)}/rules", data={"a": "S001", "b": "B001",
                                                          "kind": "force",
                                                          "override_decline": "yes"},
                           follow_redirects=True)
    assert ("The rule for S001 and B001 is now “always”; it replaces the earlier “never”."
            in replaced.get_data(as_text=True))
    db_session.expire_all()
    assert [r.kind for r in db_session.scalars(select(PairRule))] == ["force"]


def test_actions_need_the_csrf_token(
    csrf_app: Flask, fair: Event, organizer: User, db_session: Session, solved: ScheduleRun
) -> None:
    client = csrf_app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post(
        "/auth/login",
        data={"email": "org@example.jp", "password": PASSWORD, "csrf_token": token},
    )
    before = db_session.scalar(select(func.count(ScheduleRun.id)))
    assert client.post(f"{_base(fair)}/runs", data={"time_limit": 2}).status_code == 400
    assert client.post(f"{_base(fair)}/runs/{solved.id}/publish").status_code == 400
    assert client.post(f"{_base(fair)}/runs/{solved.id}/cancel").status_code == 400
    assert db_session.scalar(select(func.count(ScheduleRun.id))) == before
    assert db_session.get(Event, fair.id).published_version == 0
    page = client.get(f"{_base(fair)}/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"{_base(fair)}/runs", data={"time_limit": 2, "csrf_token": token})
    assert response.status_code == 302


def test_the_site_answers_while_the_embedded_worker_solves(
    client: FlaskClient, logged_in: User, database_url: str, factory, db_session
) -> None:
    """Responsiveness: pages return while a run executes in the worker process.

    The demo fair at its full size with a steep break penalty: the solver needs well
    over its first seconds to close the gap (10 x 50 without breaks is proven optimal
    in 0.2 s), so the run is still going when the pages are requested; it is
    cancelled afterwards.
    """
    fair = generate_demo(db_session, seed=9, buyers=32, suppliers=160, slug="busy-fair")
    db_session.commit()
    client.post(f"{_base(fair)}/runs", data={"time_limit": 60, "break_penalty": 30})
    run = db_session.scalar(select(ScheduleRun))
    process = worker.start_embedded_worker(database_url, threads=1)
    try:
        status = runs.wait_for(
            factory, run.id, frozenset({RunStatus.RUNNING, *runs.FINISHED}), timeout=60
        )
        assert status == RunStatus.RUNNING
        for url in (f"{_base(fair)}/", f"{_base(fair)}/runs/{run.id}", f"/events/{fair.id}"):
            assert client.get(url).status_code == 200
        body = client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()
        assert body["status"] == RunStatus.RUNNING, "the pages answered during the solve"
        client.post(f"{_base(fair)}/runs/{run.id}/cancel")
        assert runs.wait_for(factory, run.id, runs.FINISHED, timeout=60) == RunStatus.CANCELLED
    finally:
        process.terminate()
        process.join(10)


def test_cancel_from_the_page(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    client.post(f"{_base(fair)}/runs", data={"time_limit": 60})
    run = db_session.scalar(select(ScheduleRun))
    response = client.post(f"{_base(fair)}/runs/{run.id}/cancel", follow_redirects=True)
    # Still queued: nothing was solved, so no "best schedule found so far" is kept.
    assert "cancelled before it started" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(ScheduleRun, run.id).status == RunStatus.CANCELLED


@pytest.mark.redis
def test_with_redis_a_started_run_is_queued_for_the_workers(
    app: Flask, client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    import os

    from redis import Redis
    from rq import Queue

    app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    queue = Queue(worker.QUEUE_NAME, connection=Redis.from_url(app.config["REDIS_URL"]))
    queue.empty()
    client.post(f"{_base(fair)}/runs", data={"time_limit": 2})
    run = db_session.scalar(select(ScheduleRun))
    assert queue.job_ids == [f"run-{run.id}"]
    assert queue.fetch_job(f"run-{run.id}").args == (run.id,)
    queue.empty()


def test_the_problem_file_reproduces_the_run(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun
) -> None:
    from solver.engine import solve

    response = client.get(f"{_base(fair)}/runs/{solved.id}/problem.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    problem = problem_from_dict(response.get_json())
    assert problem == problem_from_dict(solved.problem)
    assert solve(problem, time_limit=2, workers=1).objective <= solved.bound
    # The page's claim for a run with one worker: the command it names gives the same.
    note = _problem_note(client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True))
    command = f"--workers 1 --seed 0 --time-limit {solved.parameters['time_limit']}"
    assert command in note and "gives this run's result again" in note
    again = solve(problem, time_limit=solved.parameters["time_limit"], workers=1, seed=0)
    assert {(m.key, m.slot, m.table) for m in again.meetings} == {
        (m.key, m.slot, m.table) for m in schedule_from_dict(solved.result).meetings
    }


def _problem_note(page: str) -> str:
    found = re.search(r'<small id="problem-note">(.*?)</small>', page, re.S)
    assert found is not None
    return _plain(found.group(1)).replace("&#34;", '"').replace("&#39;", "'")


def test_the_problem_file_claims_a_repeat_only_where_one_holds(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session: Session
) -> None:
    """QA F12: "this file reproduces the run" was said of every run; only an uninterrupted,
    unedited run with one search worker is repeatable, and a proven score is reached again."""
    url = f"{_base(fair)}/runs/{solved.id}"

    def note() -> str:
        db_session.commit()
        return _problem_note(client.get(url).get_data(as_text=True))

    result = dict(solved.result)
    result["stats"] = {**result["stats"], "workers": 2}
    solved.result = result
    solved.objective, solved.bound = 7400, 7455  # a run cut off by its limit
    said = note()
    assert "this run used 2 search workers" in said and "(--workers 1) is repeatable" in said
    assert "reproduces" not in client.get(url).get_data(as_text=True)
    solved.objective = solved.bound = 7462  # proven: the score, not the meetings
    assert "proven the best possible, so a run that proves it too" in note()
    solved.status = RunStatus.CANCELLED
    solved.objective = 7406
    assert "this run was stopped by hand" in note()
    solved.status, solved.edited_at = RunStatus.SUCCEEDED, utcnow()
    assert "it was edited by hand after the solver finished" in note()


def test_a_pair_nobody_requested_counts_as_a_meeting_and_the_page_says_so(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session: Session
) -> None:
    """QA F8: 304 meetings, 303 / 741 pairs and 742 pairs on one page, unexplained: a
    pair forced by a rule (weight 0) is a meeting but no requested pair met."""
    problem = dict(solved.problem)
    met = {frozenset((m["a"], m["b"])) for m in solved.result["meetings"]}
    forced = next(p for p in problem["pairs"] if frozenset((p["a"], p["b"])) in met)
    problem["pairs"] = [
        {**p, "weight": 0, "must": True} if p is forced else p for p in problem["pairs"]
    ]
    solved.problem = problem
    db_session.commit()
    requested = len(problem["pairs"]) - 1
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    meetings = len(solved.result["meetings"])
    stat = _plain(re.search(r'id="stat-meetings">(.*?)</div>', page, re.S).group(1))
    assert stat == f"{meetings} meetings scheduled · 1 of them requested by neither side"
    asked = _plain(re.search(r'id="stat-requested">(.*?)</div>', page, re.S).group(1))
    assert asked == (
        f"{meetings - 1} / {requested} requested pairs met (at least one side asked)"
    )
    assert 'id="unrequested-note"' in page
    assert "Meetings and requested pairs met differ by 1" in page
    assert f"{len(problem['pairs'])} pairs, 1 of them requested by neither side" in page
    assert "Pairs for the scheduler" not in page and ">Requested pairs<" in page
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "Requests fulfilled" not in history and ">Requested pairs met<" in history
    row = _plain(re.search(rf'<tr id="run-{solved.id}">(.*?)</tr>', history, re.S).group(1))
    assert f"{meetings} 1 of them requested by neither side {meetings - 1} / {requested}" in row


def test_a_run_without_a_schedule_draws_no_chart(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    """QA F8: the infeasible run's one point (0, 0) drew a flat line on an axis 1 / -1."""
    run = runs.create_run(db_session, fair, parameters={"time_limit": 2, "all_must": True})
    run.status = RunStatus.FAILED
    run.progress = [[0.01, 0, 0]]
    run.result = {
        "format": "matchfair-schedule/1",
        "status": "INFEASIBLE",
        "objective": 0,
        "bound": 0,
        "solve_seconds": 0.01,
        "meetings": [],
        "unscheduled_must": [],
        "stats": {},
    }
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    assert 'id="progress-chart"' not in page and "best possible</p>" not in page
    assert client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()["progress"] == []
    # A finished run that reported nothing has no chart either; a waiting one has its frame.
    run.result, run.progress, run.status = None, [], RunStatus.CANCELLED
    db_session.commit()
    assert 'id="progress-chart"' not in client.get(f"{_base(fair)}/runs/{run.id}").get_data(
        as_text=True
    )
    run.status = RunStatus.QUEUED
    db_session.commit()
    assert 'id="progress-chart"' in client.get(f"{_base(fair)}/runs/{run.id}").get_data(
        as_text=True
    )


def test_an_edited_run_says_how_far_from_the_best_it_may_be_now(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session: Session
) -> None:
    """QA F8: moved by hand to 7460 against a bound of 7462, it still read "within 0.0 %"
    of the best possible, as if proven best."""
    solved.objective, solved.bound, solved.edited_at = 7460, 7462, utcnow()
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    gap = _plain(re.search(r'id="stat-gap">(.*?)</div>', page, re.S).group(1))
    assert gap == "0.03% within 0.03% of the best possible · after the edits by hand"
    assert 'id="run-edited"' in page and "score of this schedule, as edited by hand" in page
    assert 'id="edited-note"' in page
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert ">0.03%<" in history and ">0.0%<" not in history
    # Edited back to the bound: proven best again (a bound is a bound).
    solved.objective = 7462
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    gap = _plain(re.search(r'id="stat-gap">(.*?)</div>', page, re.S).group(1))
    # QA: "0%" above "proven the best possible" read as "0% proven".
    assert gap == "✓ proven the best possible · after the edits by hand"


@pytest.mark.parametrize(
    ("gap", "said"),
    [(0.0, "0"), (0.0000268, "0.01"), (0.000268, "0.03"), (0.001, "0.1"), (0.0074, "0.8"),
     (0.007, "0.7"), (0.25, "25.0")],
)
def test_a_gap_is_never_rounded_down(gap: float, said: str) -> None:
    from web.runs import gap_percent

    assert gap_percent(gap) == said


def test_the_run_form_left_as_it_is_sends_the_documented_default_bonus(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    """QA F8: the form always sent [20, 10, 5, 2], never the default [20, 8, 4, 2]."""
    from scheduler.problem_builder import DEFAULT_PARAMETERS

    page = client.get(f"{_base(fair)}/").get_data(as_text=True)
    first = re.search(r'name="first_bonus"[^>]*value="(\d+)"', page)
    assert first is not None
    sent = {"time_limit": 2, "first_bonus": first.group(1)}
    assert client.post(f"{_base(fair)}/runs", data=sent).status_code == 302
    run = db_session.scalar(select(ScheduleRun).where(ScheduleRun.event_id == fair.id))
    assert run.parameters["meeting_bonus"] == DEFAULT_PARAMETERS["meeting_bonus"] == [20, 10, 5, 2]
    # Another shape with the same first value is on another scale: the history says so.
    other = runs.create_run(
        db_session, fair, parameters={"time_limit": 2, "meeting_bonus": [20, 8, 4, 2]}
    )
    db_session.commit()
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    rows = {
        r.id: _plain(re.search(rf'<tr id="run-{r.id}">(.*?)</tr>', history, re.S).group(1))
        for r in (run, other)
    }
    assert "meetings worth 20, 8, 4, 2" in rows[other.id] and "worth" not in rows[run.id]


def test_the_history_keeps_each_button_whole(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun
) -> None:
    """QA F14: 「公開」 broke into 「公 / 開」: the buttons' cell keeps each button whole."""
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    row = re.search(rf'<tr id="run-{solved.id}">(.*?)</tr>', history, re.S).group(1)
    cell = re.search(r'<td class="actions">(.*?)</td>', row, re.S)
    assert cell is not None and "Publish</button>" in cell.group(1)
    assert "css/runs.css" in history
    css = (Path(__file__).resolve().parent.parent / "web/static/css/runs.css").read_text()
    assert re.search(r"table\.runs-history td\.actions \{[^}]*white-space: nowrap", css)


def test_the_published_run_offers_no_publish_button_until_it_is_edited(
    client: FlaskClient, logged_in: User, fair: Event, solved: ScheduleRun, db_session
) -> None:
    """QA: the run participants already see still offered 'Publish' (which changes nothing)."""
    publish_url = f"{_base(fair)}/runs/{solved.id}/publish"
    assert publish_url in client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert client.post(publish_url).status_code == 302

    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    review = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    assert publish_url not in history and publish_url not in review
    assert f"{_base(fair)}/runs/{solved.id}/pin" in review  # pins and moves stay

    # Once edited (a meeting moved), publishing it again would change something.
    meeting = schedule_from_dict(solved.result).meetings[0]
    problem = problem_from_dict(solved.problem)
    for slot in problem.slots:
        for table in problem.tables:
            if (slot.id, table.id) == (meeting.slot, meeting.table):
                continue  # where it is already: that edit would change nothing
            moved = client.post(
                f"{_base(fair)}/runs/{solved.id}/move",
                data={"a": meeting.a, "b": meeting.b, "slot": slot.id, "table": table.id},
            )
            db_session.expire_all()
            if db_session.get(ScheduleRun, solved.id).edited_at is not None:
                break
        else:
            continue
        break
    assert moved.status_code == 302
    assert publish_url in client.get(f"{_base(fair)}/").get_data(as_text=True)
    review = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    assert publish_url in review
    # Before it replaces what participants have, the page says what would change, and
    # the confirmation asks with the same numbers; publishing then does exactly that.
    changes = review.split('id="publish-changes"')[1].split("</section>")[0]
    assert "Compared with the published schedule (version 1)" in changes
    assert "0 new, 1 moved, 0 cancelled and" in changes and "for 2 participants" in changes
    assert "nobody is e-mailed" in changes  # no mail server in the tests
    assert "1 announced meetings move, 0 are cancelled and 0 are new" in review
    done = client.post(publish_url, follow_redirects=True).get_data(as_text=True)
    assert "Schedule version 2 is published: 0 new, 1 moved, 0 cancelled meetings." in done


def test_a_run_where_every_requested_meeting_must_take_place(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    page = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "Every requested meeting must take place" in page
    response = client.post(f"{_base(fair)}/runs", data={"time_limit": 2, "all_must": "y"})
    assert response.status_code == 302
    run = db_session.scalar(select(ScheduleRun).where(ScheduleRun.event_id == fair.id))
    assert run.parameters["all_must"] is True
    assert run.problem["pairs"] and all(pair["must"] for pair in run.problem["pairs"])


def test_a_run_whose_required_meetings_cannot_all_fit_says_why_in_the_readers_language(
    client: FlaskClient,
    logged_in: User,
    fair: Event,
    db_session: Session,
    factory: sessionmaker,
) -> None:
    buyer = min(
        (p for p in fair.participants if p.role == ParticipantRole.BUYER), key=lambda p: p.code
    )
    buyer.max_meetings = 1  # it has several requests, all of which must now take place
    db_session.commit()
    run = runs.create_run(db_session, fair, parameters={"time_limit": 2, "all_must": True})
    db_session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.FAILED

    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    card = re.search(r'<section class="card" id="infeasible">.*?</section>', page, re.S)
    assert card is not None
    items = re.findall(r"<li>(.*?)</li>", card.group(0), re.S)
    requested = sum(1 for pair in run.problem["pairs"] if buyer.code in (pair["a"], pair["b"]))
    assert requested > 1
    # Said once, for the company that has too many, rather than once per pair.
    assert run.problem.get("max_breaks") is None  # so no wait cap is blamed
    assert [_plain(item) for item in items] == [
        f"{buyer.code} {buyer.display_name}: {requested} required meetings, but room for 1 "
        "(its meeting maximum and the slots it can make allow no more)"
    ]
    assert 'id="headline"' not in page  # no review of an empty schedule
    # No schedule: not a crash's "Failed", and no score or bound of 0.
    assert re.search(r'id="run-status">No schedule</span>', page)
    for stat in ("objective", "bound"):
        assert re.search(rf'<span class="value" id="{stat}">–</span>', page)
    status = client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()
    assert status["objective"] is None and status["bound"] is None
    assert status["label"] == "No schedule" and status["error"] == ""
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    row = re.search(rf'<tr id="run-{run.id}">(.*?)</tr>', history, re.S)
    assert row is not None
    assert "The required meetings cannot all take place: open the run to see why." in row.group(1)
    assert "No schedule" in row.group(1) and ">Review<" not in row.group(1)
    assert "honour" not in history

    client.post("/language", data={"lang": "ja"})
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    card = re.search(r'<section class="card" id="infeasible">.*?</section>', page, re.S)
    assert card is not None and "スケジュールを組めない理由" in card.group(0)
    items = re.findall(r"<li>(.*?)</li>", card.group(0), re.S)
    assert [_plain(item) for item in items] == [
        f"{buyer.code} {buyer.display_name}: 必須の商談が {requested} 件あるが、"
        "入れられるのは 1 件まで（商談数の上限・参加できる時間枠による）"
    ]
    assert "must pairs" not in page and "honour" not in page  # the solver's English stays out


def _plain(html: str) -> str:
    html = re.sub(r'</?span( lang="ja")?>', "", html)  # a language mark is no word break
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_a_run_that_ran_out_of_time_does_not_claim_the_meetings_cannot_fit(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    run = runs.create_run(db_session, fair, parameters={"time_limit": 2, "all_must": True})
    pair = run.problem["pairs"][0]
    run.status = RunStatus.FAILED
    run.error = "No schedule can honour every forced and pinned pair: ..."
    run.result = {
        "format": "matchfair-schedule/1",
        "status": "INFEASIBLE",
        "objective": 0,
        "bound": 0,
        "solve_seconds": 2.0,
        "meetings": [],
        "unscheduled_must": [
            {"a": pair["a"], "b": pair["b"], "reason": "not_found", "detail": "no schedule found"}
        ],
        "stats": {"infeasible_found_by": "timeout"},
    }
    db_session.commit()
    for lang, says in (
        ("en", "nothing was proven impossible. Start a run with a longer time limit."),
        ("ja", "組めないことが証明されたわけではありません。制限時間を延ばして実行してください。"),
    ):
        client.post("/language", data={"lang": lang})
        page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
        card = re.search(r'<section class="card" id="infeasible">.*?</section>', page, re.S)
        assert card is not None and says in _plain(card.group(0))
        assert "<li>" not in card.group(0) and "cannot all take place" not in page
        assert "honour" not in page
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    row = re.search(rf'<tr id="run-{run.id}">(.*?)</tr>', history, re.S)
    assert row is not None and "制限時間内に見つかりませんでした。" in row.group(1)
    assert "スケジュールなし" in row.group(1)


def test_a_wait_cap_that_cannot_hold_names_the_participants(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    run = runs.create_run(
        db_session, fair, parameters={"time_limit": 2, "all_must": True, "max_breaks": 0}
    )
    who = [p["id"] for p in run.problem["participants"][:2]]
    names = {p["id"]: p["name"] for p in run.problem["participants"]}
    run.status = RunStatus.FAILED
    run.error = "No schedule can honour every forced and pinned pair: ..."
    detail = "cannot keep to at most 0 break(s) together with the other participants named"
    run.result = {
        "format": "matchfair-schedule/1",
        "status": "INFEASIBLE",
        "objective": 0,
        "bound": 0,
        "solve_seconds": 0.5,
        "meetings": [],
        "unscheduled_must": [
            {"a": "", "b": "", "reason": "max_breaks", "detail": "every must pair fits, but"},
            *(
                {"a": code, "b": "", "reason": "max_breaks_participant", "detail": detail}
                for code in who
            ),
        ],
        "stats": {"infeasible_found_by": "cp_sat"},
    }
    db_session.commit()
    for lang, general, each in (
        (
            "en",
            "every required meeting fits, but not within the most waits per participant",
            "cannot keep to the most waits together with the other participants listed",
        ),
        (
            "ja",
            "必須の商談はすべて組めるが、参加企業あたりの待ち時間の上限には収まらない",
            "ここに挙げたほかの参加企業と同時には、待ち時間の上限を守れない",
        ),
    ):
        client.post("/language", data={"lang": lang})
        page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
        card = re.search(r'<section class="card" id="infeasible">.*?</section>', page, re.S)
        assert card is not None
        items = [_plain(item) for item in re.findall(r"<li>(.*?)</li>", card.group(0), re.S)]
        assert items[0].startswith(general)
        # One line per participant, with its name and no dangling pair partner.
        assert [item.split(" (")[0] for item in items[1:]] == [
            f"{code} {names[code]}: {each}" for code in who
        ]
        assert " – " not in card.group(0)


def test_a_run_whose_worker_was_lost_says_so_in_the_readers_language(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    run = runs.create_run(db_session, fair, parameters={"time_limit": 2})
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    assert "Project-Id-Version" not in page  # no error: nothing looked up in the catalog
    run.status = RunStatus.RUNNING
    run.started_at = run.heartbeat_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    assert runs.fail_stale_runs(db_session) == [run.id]
    db_session.commit()
    client.post("/language", data={"lang": "ja"})
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    error = re.search(r'<p class="form-errors" id="run-error"\s*>(.*?)</p>', page, re.S)
    assert error is not None and error.group(1).startswith("この実行を処理していたワーカーが停止")
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "この実行を処理していたワーカーが停止" in history
    assert "The worker executing this run stopped" not in page + history


def test_a_crashed_run_says_so_in_the_readers_language_and_keeps_the_detail(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, factory: sessionmaker
) -> None:
    run = runs.create_run(db_session, fair, parameters={"time_limit": 2})
    run.problem = {**run.problem, "pairs": "not a list"}  # the solver cannot read it
    db_session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.FAILED
    client.post("/language", data={"lang": "ja"})
    page = client.get(f"{_base(fair)}/runs/{run.id}").get_data(as_text=True)
    error = re.search(r'<p class="form-errors" id="run-error"\s*>(.*?)</p>', page, re.S)
    assert error is not None and error.group(1).startswith("内部エラーでソルバーが停止しました")
    detail = re.search(
        r'<details class="error-detail" id="run-error-detail">(.*?)</details>', page, re.S
    )
    assert detail is not None and "pairs" in detail.group(1)  # the exception, for a maintainer
    assert "internal error" not in page
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    assert "内部エラーでソルバーが停止しました" in history and "internal error" not in history
    status = client.get(f"{_base(fair)}/runs/{run.id}/status.json").get_json()
    assert status["error"].startswith("内部エラーでソルバーが停止しました")
    assert "pairs" in status["error_detail"] and "pairs" not in status["error"]


def test_a_short_run_shows_tenths_of_a_second(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session, solved: ScheduleRun
) -> None:
    solved.finished_at = solved.started_at + timedelta(seconds=0.43)
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    assert '<span class="value" id="elapsed">0.4</span>' in page  # not "0 seconds"
    solved.finished_at = solved.started_at + timedelta(seconds=42.4)
    db_session.commit()
    page = client.get(f"{_base(fair)}/runs/{solved.id}").get_data(as_text=True)
    assert '<span class="value" id="elapsed">42</span>' in page


def test_the_history_says_which_runs_have_other_settings(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    plain = runs.create_run(db_session, fair, parameters={"time_limit": 5})
    other = runs.create_run(
        db_session,
        fair,
        parameters={
            "time_limit": 5,
            "meeting_bonus": [0, 0, 0, 0],
            "break_penalty": 0,
            "max_breaks": 1,
            "all_must": True,
        },
    )
    db_session.commit()
    history = client.get(f"{_base(fair)}/").get_data(as_text=True)
    rows = {
        run.id: _plain(re.search(rf'<tr id="run-{run.id}">(.*?)</tr>', history, re.S).group(1))
        for run in (plain, other)
    }
    # Their scores are on different scales: the history says why.
    assert (
        "first meeting worth 0 · wait cost 0 · at most 1 wait each · every requested "
        "meeting required" in rows[other.id]
    )
    assert "first meeting" not in rows[plain.id] and "wait cost" not in rows[plain.id]


def test_form_library_messages_read_in_the_apps_own_japanese(
    client: FlaskClient, logged_in: User, fair: Event, db_session: Session
) -> None:
    client.post("/language", data={"lang": "ja"})
    page = client.post(f"{_base(fair)}/runs", data={"time_limit": "abc"}).get_data(as_text=True)
    errors = re.search(r'<ul class="errors" id="time_limit-err">(.*?)</ul>', page, re.S)
    assert errors is not None and "整数を入力してください。" in errors.group(1)
    rule = client.post(f"{_base(fair)}/rules", data={"a": "", "b": "X" * 21, "kind": "nope"})
    page = rule.get_data(as_text=True)
    for name, says in (
        ("a", "入力してください。"),
        ("b", "20 文字以内で入力してください。"),
        ("kind", "一覧から選んでください。"),
    ):
        errors = re.search(rf'<ul class="errors" id="{name}-err">(.*?)</ul>', page, re.S)
        assert errors is not None and says in errors.group(1), name
    assert "フィールド" not in page and "このフィールド" not in page
    client.post("/language", data={"lang": "en"})
    page = client.post(f"{_base(fair)}/rules", data={"a": "", "b": "B001", "kind": "forbid"})
    assert "This field is required." in page.get_data(as_text=True)
