"""Every company's sheets of a large fair: where the time goes, and the background build.

``python -m benchmarks.all_sheets DATABASE_URL [--compare]``

Run it on a scratch copy of a database holding a large published fair (it adds sheet
builds and writes their files into a temporary uploads folder)::

    export MATCHFAIR_INSTANCE_PATH=/tmp/sheets-instance
    matchfair db upgrade && matchfair demo load --buyers 150 --suppliers 800
    # schedule and publish it (scheduler.runs.execute_run, scheduler.publishing.publish_run)
    python -m benchmarks.all_sheets sqlite:////tmp/sheets-instance/matchfair.sqlite3

In-process (Flask's test client, logged in as the demo organizer), for the largest
event: the schedules one company at a time (``--compare``: what the PDF did before)
and in one batch, the sheets' HTML; then the organizer's requests: "prepare" (what the
web process does: render, hash, claim, start the printing process), the wait until
the printing process is done (its progress, wall-clock time and peak memory), a second
"prepare" of the same content (served from the cache), and the download (which renders
the sheets again to check that they are still current).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from flask import url_for
from sqlalchemy import func, select

from benchmarks.large_lists import counted
from benchmarks.responsiveness import PASSWORD, machine
from scheduler import printing
from scheduler.db import make_engine, make_session_factory
from scheduler.models import Event, Participant, ParticipantStatus, SheetBuild
from scheduler.schedule_view import personal_schedule, personal_schedules
from web import create_app
from web.database import get_session
from web.schedules import sheets_html


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _process_peak_mb(worker: str) -> float:
    """The peak RSS so far (VmHWM) of the printing process ``host:pid``, if it runs here."""
    pid = worker.rpartition(":")[2]
    try:
        status = Path(f"/proc/{pid}/status").read_text() if pid.isdigit() else ""
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _touch(schedules) -> None:  # type: ignore[no-untyped-def]
    """Read what a sheet reads, so lazy loads are counted where they happen."""
    for schedule in schedules:
        for view in schedule.meetings:
            _ = (view.room, view.counterpart.display_name, view.slot.starts_at)
        _ = schedule.participant.display_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--compare", action="store_true", help="also one company at a time")
    parser.add_argument(
        "--requests-only",
        action="store_true",
        help="only the organizer's requests (the web process's peak memory is theirs)",
    )
    args = parser.parse_args()

    engine = make_engine(args.database_url)
    with make_session_factory(engine)() as session:
        event_id = session.scalar(
            select(Participant.event_id)
            .group_by(Participant.event_id)
            .order_by(func.count(Participant.id).desc())
            .limit(1)
        )
    engine.dispose()
    uploads = Path(tempfile.mkdtemp(prefix="matchfair-sheets-"))
    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "INSTANCE_UPLOADS": str(uploads),
        }
    )
    print(machine())

    if not args.requests_only:
        _phases(app, event_id, compare=args.compare)
    _requests(app, event_id, args.database_url)
    print(f"files in {uploads}")


def _phases(app, event_id: int, *, compare: bool) -> None:  # type: ignore[no-untyped-def]
    """Schedules (one by one, in a batch), QR codes and HTML, each timed alone."""
    with app.test_request_context():
        session = get_session()
        event = session.get(Event, event_id)
        participants = list(
            session.scalars(
                select(Participant)
                .where(
                    Participant.event_id == event_id,
                    Participant.status == ParticipantStatus.APPROVED,
                )
                .order_by(Participant.code, Participant.id)
            )
        )
        print(f"{len(participants)} approved companies")
        if compare:
            with counted(app) as statements:
                start = time.perf_counter()
                one_by_one = [personal_schedule(session, p) for p in participants]
                _touch(one_by_one)
            print(
                f"schedules one company at a time: {time.perf_counter() - start:.2f} s, "
                f"{len(statements)} queries"
            )
            session.expire_all()
            event = session.get(Event, event_id)
            participants = [session.get(Participant, p.id) for p in participants]
        with counted(app) as statements:
            start = time.perf_counter()
            schedules = personal_schedules(session, event, participants)
            _touch(schedules)
        took = time.perf_counter() - start
        print(f"schedules in one batch: {took:.2f} s, {len(statements)} queries")
        urls = [
            url_for("schedules.page", token=s.participant.access_token, _external=True)
            for s in schedules
        ]
        start = time.perf_counter()
        drawn = [printing.company_sheet(s, u) for s, u in zip(schedules, urls, strict=True)]
        print(f"QR codes drawn (before: in the request): {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        later = [
            printing.company_sheet(s, u, draw_qr=False)
            for s, u in zip(schedules, urls, strict=True)
        ]
        html = sheets_html(event, later)
        print(
            f"HTML with QR placeholders: {time.perf_counter() - start:.2f} s, "
            f"{sum(map(len, html)) / 1e6:.1f} MB"
        )
        del drawn, later, html, schedules


def _requests(app, event_id: int, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """The organizer's requests: prepare, wait, prepare again, download."""
    client = app.test_client()
    login = client.post("/auth/login", data={"email": "organizer@example.jp", "password": PASSWORD})
    assert login.status_code == 302, "the demo organizer could not log in"
    before = _peak_mb()
    with counted(app) as statements:
        start = time.perf_counter()
        response = client.post(f"/events/{event_id}/print/sheets")
        requested = time.perf_counter() - start
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    build_url = response.headers["Location"]
    print(
        f"prepare request (web process): {requested:.2f} s, {len(statements)} queries, "
        f"peak RSS {_peak_mb():.0f} MB (before it {before:.0f} MB)"
    )
    build_id = int(build_url.rsplit("/", 1)[1])
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    last, peak = None, 0.0
    while True:
        with factory() as session:
            build = session.get(SheetBuild, build_id)
            state = (build.status, build.sheets_done)
        peak = max(peak, _process_peak_mb(build.worker))
        if state != last:
            print(f"  {time.perf_counter() - start:6.1f} s  {state[0]} {state[1]}/{build.sheets}")
            last = state
        if state[0] != "running":
            break
        time.sleep(0.5)
    total = time.perf_counter() - start
    print(
        f"printed: {build.status} in {total:.1f} s from the click; {build.pages} pages, "
        f"{(build.size_bytes or 0) / 1e6:.1f} MB; printing process peak RSS {peak:.0f} MB "
        "(sampled; it logs its own at the end)"
    )
    engine.dispose()

    start = time.perf_counter()
    again = client.post(f"/events/{event_id}/print/sheets")
    assert again.headers["Location"] == build_url, "the same content was printed again"
    print(f"prepare again, same content (cached): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    pdf = client.get(f"{build_url}.pdf", buffered=True)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    print(
        f"download (checks the sheets are current): {time.perf_counter() - start:.2f} s, "
        f"{len(pdf.data) / 1e6:.1f} MB"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
