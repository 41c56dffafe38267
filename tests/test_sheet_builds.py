"""Every company's sheets, printed outside the request: the batch schedules equal the
per-company ones, the organizer's flow (prepare, progress, download), the cache keyed by
what the sheets show, builds whose process died, and who may print them."""

from __future__ import annotations

import html
import io
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, url_for
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import printing, sheet_builds
from scheduler.db import make_session_factory, recorded_statements, utcnow
from scheduler.demo import generate_demo
from scheduler.models import (
    AuditEntry,
    Event,
    Interest,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantStatus,
    Phase,
    SheetBuild,
    SheetBuildStatus,
)
from scheduler.schedule_view import PersonalSchedule, personal_schedule, personal_schedules
from tests.conftest import PASSWORD
from tests.published_fair import busiest_participant, published_fair
from tests.sheet_build_flow import build_status, needs_printing, prepare_sheets, wait_for_build
from web.database import get_engine
from web.schedules import sheets_html


@pytest.fixture(autouse=True)
def _english(client) -> None:  # type: ignore[no-untyped-def]
    """The pages' words are asserted in English (the site's default is Japanese)."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302


@pytest.fixture
def fair(db_session: Session) -> Event:
    return published_fair(db_session)


def _approved(session: Session, event: Event) -> list[Participant]:
    return list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
            .order_by(Participant.code, Participant.id)
        )
    )


def _other_event(session: Session) -> Event:
    event = generate_demo(session, seed=5, buyers=2, suppliers=3, slug="other-fair")
    session.commit()
    return event


def _builds(session: Session, event: Event) -> list[SheetBuild]:
    session.expire_all()
    return list(session.scalars(select(SheetBuild).where(SheetBuild.event_id == event.id)))


def _uploads(app: Flask) -> Path:
    return Path(app.config["INSTANCE_UPLOADS"])


# --------------------------------------------------------------------------- batch


def _seen(schedule: PersonalSchedule) -> tuple:  # type: ignore[type-arg]
    """Everything a page, sheet or feed reads from a schedule, in comparable form."""

    def views(items):  # type: ignore[no-untyped-def]
        return [
            (
                v.meeting.id,
                v.counterpart.id,
                v.counterpart.display_name,
                v.purpose,
                v.slot.id,
                v.table.label if v.table else None,
                v.room.name if v.room else None,
                v.cancelled,
            )
            for v in items
        ]

    return (
        schedule.participant.id,
        schedule.published,
        views(schedule.meetings),
        views(schedule.cancelled),
        [slot.id for slot in schedule.free_slots],
        schedule.free_desks,
        [schedule.desks_free(slot) for slot in schedule.free_slots],
    )


def _varied(session: Session, event: Event) -> None:
    """Cancellations, a second desk, unavailable slots, a late arrival, purposes set on a
    meeting and written with requests, a withdrawn counterpart: what the schedules show."""
    meetings = list(
        session.scalars(select(Meeting).where(Meeting.event_id == event.id).order_by(Meeting.id))
    )
    assert len(meetings) >= 6
    meetings[0].status = MeetingStatus.CANCELLED
    meetings[1].purpose = "試作品の相談"
    busiest = busiest_participant(session, event)
    busiest.parallel_desks = 2
    participants = _approved(session, event)
    slots = sorted(event.slots, key=lambda s: s.starts_at)
    participants[2].unavailable_slots.append(slots[-1])
    participants[3].available_from = slots[2].starts_at
    interest = session.scalar(
        select(Interest).where(
            Interest.from_participant_id == meetings[2].participant_a_id,
            Interest.to_participant_id == meetings[2].participant_b_id,
        )
    )
    if interest is not None:
        interest.note = "精密加工について"
    session.get(Participant, meetings[3].participant_b_id).status = ParticipantStatus.WITHDRAWN
    session.commit()


def test_batch_schedules_equal_each_participants_own(app, db_session, fair) -> None:
    _varied(db_session, fair)
    participants = _approved(db_session, fair)
    batch = personal_schedules(db_session, fair, participants)
    # Each one alone, in a session of its own: nothing loaded by the batch helps it.
    with make_session_factory(get_engine(app))() as alone:
        one_by_one = [personal_schedule(alone, alone.get(Participant, p.id)) for p in participants]
        assert [_seen(s) for s in batch] == [_seen(s) for s in one_by_one]
    assert any(s.cancelled for s in batch)
    assert any(s.desks_free(slot) == 1 for s in batch for slot in s.free_slots)
    assert any(v.purpose for s in batch for v in s.meetings)


def test_batch_schedules_take_the_same_queries_for_any_number_of_companies(
    app, db_session, fair
) -> None:
    participants = _approved(db_session, fair)

    def queries(some: list[Participant]) -> int:
        db_session.expire_all()
        event = db_session.get(Event, fair.id)
        event.slots  # noqa: B018 - loaded before counting, as the view has it
        statements.clear()
        schedules = personal_schedules(db_session, event, some)
        for schedule in schedules:  # what the sheet reads, lazy loads included
            for view in schedule.meetings:
                _ = (view.room, view.counterpart.display_name, view.slot.starts_at)
            _ = schedule.participant.display_name
        return len(statements)

    with recorded_statements(get_engine(app)) as statements:
        few, every = queries(participants[:2]), queries(participants)
    assert few == every
    assert every < 20


def test_batch_schedules_are_empty_before_publication(db_session, fair) -> None:
    fair.phase, fair.published_at = Phase.SCHEDULING, None
    db_session.commit()
    schedules = personal_schedules(db_session, fair, _approved(db_session, fair))
    assert schedules and all(not s.published and not s.meetings for s in schedules)


def test_batch_schedules_refuse_another_events_participant(db_session, fair) -> None:
    other = _other_event(db_session)
    with pytest.raises(ValueError):
        personal_schedules(db_session, fair, _approved(db_session, other)[:1])


# --------------------------------------------------------------------------- QR codes


def test_sheets_rendered_with_qr_placeholders_print_the_same_qr_codes(
    app, db_session, fair
) -> None:
    """The request leaves the QR codes (12 ms each) to the printing process; once drawn,
    the sheets are exactly those drawn in the request, as one company's sheet is."""
    participants = _approved(db_session, fair)
    schedules = personal_schedules(db_session, fair, participants)
    with app.test_request_context():
        urls = [
            url_for("schedules.page", token=p.access_token, _external=True) for p in participants
        ]
        drawn = sheets_html(
            fair, [printing.company_sheet(s, u) for s, u in zip(schedules, urls, strict=True)]
        )
        left = sheets_html(
            fair,
            [
                printing.company_sheet(s, u, draw_qr=False)
                for s, u in zip(schedules, urls, strict=True)
            ],
        )
    assert "data:image/svg+xml" not in "".join(left)
    assert all(printing.qr_placeholder(u) in "".join(left) for u in urls)
    assert [printing.draw_qr_codes(document) for document in left] == drawn


def test_a_qr_placeholder_needs_the_templates_own_attribute() -> None:
    url = "https://fair.example.jp/p/a-B_9/schedule?x=1&y=2"
    drawn = printing.draw_qr_codes(f'<img src="{printing.qr_placeholder(url)}">')
    assert drawn == f'<img src="{html.escape(printing.qr_svg_data_uri(url))}">'
    # Text (escaped by the templates) that merely names the placeholder stays text.
    text = f"&#34;{printing.qr_placeholder(url)}&#34;"
    assert printing.draw_qr_codes(text) == text


# --------------------------------------------------------------------------- the flow


def _page_texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


@needs_printing
def test_organizer_prepares_follows_and_downloads_every_sheet(
    app, client, logged_in, db_session, fair
) -> None:
    outputs = client.get(f"/events/{fair.id}/schedule/outputs").get_data(as_text=True)
    assert f'action="/events/{fair.id}/print/sheets"' in outputs
    build_url = prepare_sheets(client, fair.id)
    status, page = wait_for_build(client, build_url)
    assert status == "done", page
    assert 'http-equiv="refresh"' not in page  # done: the page stops reloading
    assert f'href="{build_url}.pdf"' in page
    participants = _approved(db_session, fair)
    texts = _page_texts(client.get(f"{build_url}.pdf", buffered=True))
    # One sheet per company, in the order of their codes, each naming its company.
    assert len(texts) == len(participants)
    for participant, text in zip(participants, texts, strict=True):
        assert participant.display_name in text and participant.code in text
    (build,) = _builds(db_session, fair)
    assert build.status == SheetBuildStatus.DONE
    assert (build.sheets, build.sheets_done, build.pages) == (len(participants),) * 3
    assert build.created_by_id == logged_in.id and build.worker
    # Only the PDF stays in the shared uploads folder; the HTML it was printed from goes.
    folder = sheet_builds.event_folder(_uploads(app), fair.id)
    assert [p.name for p in folder.iterdir()] == [f"sheets-{build.id}.pdf"]
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "sheets.prepare"))
    assert entry.user_id == logged_in.id and entry.details["sheets"] == len(participants)
    outputs = client.get(f"/events/{fair.id}/schedule/outputs").get_data(as_text=True)
    assert build_url in outputs  # the outputs page leads back to the sheets


@needs_printing
def test_the_same_content_is_served_again_without_printing(
    app, client, logged_in, db_session, fair, monkeypatch
) -> None:
    build_url = prepare_sheets(client, fair.id)
    assert wait_for_build(client, build_url)[0] == "done"
    (build,) = _builds(db_session, fair)
    printed = sheet_builds.pdf_file(_uploads(app), build).stat().st_mtime_ns

    def no_printing(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the same sheets were printed again")

    monkeypatch.setattr(sheet_builds, "launch", no_printing)
    assert prepare_sheets(client, fair.id) == build_url
    assert build_status(client, build_url)[0] == "done"
    assert _page_texts(client.get(f"{build_url}.pdf", buffered=True))
    (again,) = _builds(db_session, fair)
    assert (again.id, again.attempt) == (build.id, 1)
    assert sheet_builds.pdf_file(_uploads(app), again).stat().st_mtime_ns == printed


@needs_printing
def test_a_changed_meeting_is_printed_anew_and_the_old_file_removed(
    app, client, logged_in, db_session, fair
) -> None:
    first_url = prepare_sheets(client, fair.id)
    assert wait_for_build(client, first_url)[0] == "done"
    (first,) = _builds(db_session, fair)
    old_file, old_key = sheet_builds.pdf_file(_uploads(app), first), first.content_key
    meeting = db_session.scalar(
        select(Meeting).where(Meeting.event_id == fair.id).order_by(Meeting.id)
    )
    moved_to = next(
        slot
        for slot in sorted(fair.slots, key=lambda s: s.starts_at, reverse=True)
        if slot.id != meeting.slot_id
        and not db_session.scalar(
            select(Meeting.id).where(
                Meeting.table_id == meeting.table_id, Meeting.slot_id == slot.id
            )
        )
    )
    meeting.slot, meeting.version = moved_to, meeting.version + 1
    db_session.commit()
    # The old sheets are not handed out any more: they would show the old time.
    stale = client.get(f"{first_url}.pdf")
    assert stale.status_code == 409 and stale.mimetype == "text/html"
    assert 'data-status="outdated"' in stale.get_data(as_text=True)
    second_url = prepare_sheets(client, fair.id)
    assert second_url != first_url
    assert wait_for_build(client, second_url)[0] == "done"
    (second,) = _builds(db_session, fair)  # the old build is gone with its file
    assert second.content_key != old_key
    assert not old_file.exists() and sheet_builds.pdf_file(_uploads(app), second).exists()
    gone = client.get(first_url)
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/schedule/outputs#sheets")
    texts = _page_texts(client.get(f"{second_url}.pdf", buffered=True))
    when = fair.local(moved_to.starts_at).strftime("%H:%M")
    for side in (meeting.participant_a, meeting.participant_b):
        # The sheet of each side: its top margin names it ("B001 Name").
        (text,) = [t for t in texts if f"{side.code} {side.display_name}" in t]
        assert when in text


@needs_printing
def test_two_clicks_on_the_same_content_start_one_build(
    client, logged_in, db_session, fair, monkeypatch
) -> None:
    launched: list[int] = []
    real_launch = sheet_builds.launch

    def counted(uploads, build, database_url):  # type: ignore[no-untyped-def]
        launched.append(build.id)
        return real_launch(uploads, build, database_url)

    monkeypatch.setattr(sheet_builds, "launch", counted)
    first, second = prepare_sheets(client, fair.id), prepare_sheets(client, fair.id)
    assert first == second
    assert wait_for_build(client, first)[0] == "done"
    assert len(launched) == 1 and len(_builds(db_session, fair)) == 1


@pytest.fixture
def fake_printer(app: Flask, monkeypatch) -> Iterator[list[subprocess.Popen]]:  # type: ignore[type-arg]
    """Builds "printed" by a process that does nothing (the test kills it, and so does
    the fixture at the end, whatever happened)."""
    started: list[subprocess.Popen] = []  # type: ignore[type-arg]

    def launch(_uploads, build, database_url):  # type: ignore[no-untyped-def]
        process = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)"],
            stdout=subprocess.DEVNULL,
        )
        started.append(process)
        with make_session_factory(get_engine(app))() as session:
            row = session.get(SheetBuild, build.id)
            row.worker = f"{sheet_builds._this_machine()}:{process.pid}"
            session.commit()
        return process.pid

    monkeypatch.setattr(sheet_builds, "launch", launch)
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


@needs_printing
def test_two_simultaneous_clicks_start_one_build(
    app, db_session, fair, organizer, fake_printer
) -> None:
    """A double click, or two organizers at once: both requests render and claim at the
    same moment; the event's lock lets one of them start the build, the other finds it."""
    started = fake_printer
    clients = [app.test_client() for _ in range(2)]
    for one in clients:
        login = one.post("/auth/login", data={"email": organizer.email, "password": PASSWORD})
        assert login.status_code == 302
    barrier = threading.Barrier(len(clients))
    answers: list[str] = []

    def click(one) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        answers.append(one.post(f"/events/{fair.id}/print/sheets").headers["Location"])

    threads = [threading.Thread(target=click, args=(one,)) for one in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert len(answers) == 2 and answers[0] == answers[1]
        assert len(started) == 1 and len(_builds(db_session, fair)) == 1
    finally:
        for process in started:
            process.kill()
            process.wait()


@needs_printing
def test_a_build_whose_process_died_is_failed_and_can_be_started_again(
    app, client, logged_in, db_session, fair, monkeypatch, fake_printer
) -> None:
    started = fake_printer
    build_url = prepare_sheets(client, fair.id)
    status, page = build_status(client, build_url)
    assert status == "running" and 'http-equiv="refresh"' in page
    (process,) = started
    os.kill(process.pid, signal.SIGKILL)  # out of memory, say
    process.wait()
    status, page = build_status(client, build_url)
    assert status == "failed"
    assert "stopped before it finished" in page and 'http-equiv="refresh"' not in page
    assert 'data-test="prepare-sheets"' in page
    monkeypatch.undo()  # the real printing process from here on
    assert prepare_sheets(client, fair.id) == build_url  # same content, same build
    assert wait_for_build(client, build_url)[0] == "done"
    (build,) = _builds(db_session, fair)
    assert build.attempt == 2 and build.error == ""
    # The dead attempt's input went with the new one's: only the PDF is left.
    folder = sheet_builds.event_folder(_uploads(app), fair.id)
    assert [p.name for p in folder.iterdir()] == [f"sheets-{build.id}.pdf"]


@needs_printing
def test_a_build_silent_on_another_machine_is_failed_after_its_heartbeat_goes_stale(
    app, client, logged_in, db_session, fair, fake_printer
) -> None:
    started = fake_printer
    build_url = prepare_sheets(client, fair.id)
    (build,) = _builds(db_session, fair)
    build.worker = "another-web-machine:4242"  # its process cannot be looked up here
    db_session.commit()
    assert build_status(client, build_url)[0] == "running"
    build.heartbeat_at = utcnow() - sheet_builds.STALE_AFTER - timedelta(seconds=1)
    db_session.commit()
    status, page = build_status(client, build_url)
    assert status == "failed" and "stopped before it finished" in page
    for process in started:
        process.kill()
        process.wait()


@needs_printing
def test_new_content_stops_the_build_of_the_old(
    app, client, logged_in, db_session, fair, fake_printer
) -> None:
    started = fake_printer
    first_url = prepare_sheets(client, fair.id)
    company = busiest_participant(db_session, fair)
    company.department = "営業二部"  # printed under the company's name
    db_session.commit()
    second_url = prepare_sheets(client, fair.id)
    assert second_url != first_url and len(started) == 2
    status, page = build_status(client, first_url)
    assert status == "failed" and "newer sheets are being prepared" in page
    assert build_status(client, second_url)[0] == "running"
    for process in started:
        process.kill()
        process.wait()


@needs_printing
def test_a_printing_error_is_reported_with_its_detail(
    app, client, logged_in, db_session, fair, monkeypatch
) -> None:
    def lost_input(uploads, build, parts):  # type: ignore[no-untyped-def]
        folder = sheet_builds.event_folder(uploads, build.event_id) / (
            f"build-{build.id}-{build.attempt}"
        )
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(
            '{"parts": [{"documents": ["gone.html"], "sheets": 1}]}'
        )

    monkeypatch.setattr(sheet_builds, "write_input", lost_input)
    status, page = wait_for_build(client, prepare_sheets(client, fair.id))
    assert status == "failed"
    assert "internal error" in page and "FileNotFoundError" in page  # the technical detail
    assert "Traceback" not in page


def test_printing_not_set_up_says_what_to_install(
    client, logged_in, db_session, fair, monkeypatch
) -> None:
    monkeypatch.setattr(printing, "japanese_font_installed", lambda: False)
    outputs = f"/events/{fair.id}/schedule/outputs"
    response = client.post(f"/events/{fair.id}/print/sheets", headers={"Referer": outputs})
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "fonts-noto-cjk" in body
    direct = client.post(f"/events/{fair.id}/print/sheets")
    assert direct.status_code == 503 and "fonts-noto-cjk" in direct.get_data(as_text=True)
    assert _builds(db_session, fair) == []


@needs_printing
def test_no_approved_company_no_build(client, logged_in, db_session, fair) -> None:
    for participant in _approved(db_session, fair):
        participant.status = ParticipantStatus.WITHDRAWN
    db_session.commit()
    response = client.post(f"/events/{fair.id}/print/sheets", follow_redirects=True)
    assert "no sheets to print" in response.get_data(as_text=True)
    assert _builds(db_session, fair) == []


def test_every_companys_sheets_are_for_organizers_only(
    app, client, auth, staff, db_session, fair
) -> None:
    build = SheetBuild(event_id=fair.id, content_key="0" * 64, status=SheetBuildStatus.DONE)
    db_session.add(build)
    db_session.commit()
    addresses = [
        ("POST", f"/events/{fair.id}/print/sheets"),
        ("GET", f"/events/{fair.id}/print/sheets/{build.id}"),
        ("GET", f"/events/{fair.id}/print/sheets/{build.id}.pdf"),
    ]
    for method, url in addresses:  # nobody logged in: the login page
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    auth.login("staff@example.jp")
    for method, url in addresses:
        assert client.open(url, method=method).status_code == 403, url
    assert client.get(f"/events/{fair.id}/print/sheets.pdf").status_code == 403


def test_a_build_of_another_event_is_not_found_here(client, logged_in, db_session, fair) -> None:
    other = _other_event(db_session)
    build = SheetBuild(event_id=other.id, content_key="1" * 64, status=SheetBuildStatus.DONE)
    db_session.add(build)
    db_session.commit()
    response = client.get(f"/events/{fair.id}/print/sheets/{build.id}.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{fair.id}/schedule/outputs#sheets")


def test_the_old_address_of_every_sheet_leads_to_the_outputs_page(client, logged_in, fair) -> None:
    response = client.get(f"/events/{fair.id}/print/sheets.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{fair.id}/schedule/outputs#sheets")
