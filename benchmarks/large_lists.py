"""The lists a large fair makes long: time, HTML size and SQL queries of each page.

``python -m benchmarks.large_lists DATABASE_URL [--rounds 5]``

Run it on a database holding a large demo fair, made in a scratch instance folder::

    export MATCHFAIR_INSTANCE_PATH=/tmp/lists-instance
    matchfair db upgrade && matchfair demo load --buyers 150 --suppliers 800
    python -m benchmarks.large_lists sqlite:////tmp/lists-instance/matchfair.sqlite3

It serves the app in-process (Flask's test client, no network), logs in as the demo
organizer and requests, for the largest event: the organizer's participants list,
the organizer's directory, a buyer's and a supplier's directory through their secret
links, and a buyer's and a supplier's suggestions page. Each page is requested once to
warm up, then ``--rounds`` times; the median wall-clock time is reported with the
body's size and the number of SQL statements of the last request. It also times
:func:`scheduler.suggestions.suggestions_by_need` alone for the buyer with the most
needs. Suggestions pages record what they showed (``SuggestionShown``) and so write
to the database: use a scratch copy.
"""

from __future__ import annotations

import argparse
import statistics
import time

from flask import Flask
from sqlalchemy import func, select

from benchmarks.responsiveness import PASSWORD, machine
from scheduler import suggestions
from scheduler.db import make_engine, make_session_factory, recorded_statements
from scheduler.models import Need, Participant, ParticipantRole, ParticipantStatus
from web import create_app
from web.database import get_engine


def counted(app: Flask):  # type: ignore[no-untyped-def]
    """The SQL statements the app's engine runs inside the block."""
    return recorded_statements(get_engine(app))


def _fair(url: str) -> tuple[int, Participant, Participant]:
    """The largest event, its buyer with the most needs, and its first approved supplier."""
    session = make_session_factory(make_engine(url))()
    event_id = session.scalar(
        select(Participant.event_id).group_by(Participant.event_id)
        .order_by(func.count(Participant.id).desc()).limit(1)
    )
    approved = (Participant.event_id == event_id,
                Participant.status == ParticipantStatus.APPROVED)
    buyer = session.scalars(
        select(Participant).join(Need, Need.participant_id == Participant.id)
        .where(*approved, Participant.role == ParticipantRole.BUYER)
        .group_by(Participant.id).order_by(func.count(Need.id).desc(), Participant.id).limit(1)
    ).one()
    supplier = session.scalars(
        select(Participant).where(*approved, Participant.role == ParticipantRole.SUPPLIER)
        .order_by(Participant.code).limit(1)
    ).one()
    session.expunge_all()
    session.close()
    return event_id, buyer, supplier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    event_id, buyer, supplier = _fair(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "PARTICIPANT_PAGE_LIMIT": "10000/minute"})
    client = app.test_client()
    login = client.post("/auth/login",
                        data={"email": "organizer@example.jp", "password": PASSWORD})
    assert login.status_code == 302, "the demo organizer could not log in"
    client.post("/language", data={"lang": "ja"})
    pages = {
        "organizer: participants": f"/events/{event_id}/participants",
        "organizer: participants, searched": f"/events/{event_id}/participants?q=株式会社",
        "organizer: participants, suppliers, page 2":
            f"/events/{event_id}/participants?role=supplier&page=2",
        "organizer: directory": f"/events/{event_id}/directory",
        "organizer: directory, searched": f"/events/{event_id}/directory?q=切削+アルミ",
        "buyer: directory (suppliers)": f"/p/{buyer.access_token}/directory",
        "buyer: directory, searched": f"/p/{buyer.access_token}/directory?q=試作",
        "buyer: directory, page 5": f"/p/{buyer.access_token}/directory?page=5",
        "supplier: directory (buyers)": f"/p/{supplier.access_token}/directory",
        "buyer: suggestions": f"/p/{buyer.access_token}/suggestions",
        "supplier: suggestions": f"/p/{supplier.access_token}/suggestions",
    }
    print(machine())
    print("| page | ms (median) | ms (fastest) | HTML bytes | SQL queries |")
    print("|---|---:|---:|---:|---:|")
    for label, path in pages.items():
        assert client.get(path).status_code == 200, path  # warm-up
        times = []
        for _ in range(args.rounds):
            with counted(app) as statements:
                start = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, path
        size = len(response.get_data())
        print(f"| {label} | {statistics.median(times) * 1000:.0f} | {min(times) * 1000:.0f} | "
              f"{size:,} | {len(statements)} |")

    session = make_session_factory(make_engine(args.database_url))()
    viewer = session.get(Participant, buyer.id)
    assert viewer is not None
    times = []
    for _ in range(args.rounds):
        session.expire_all()
        start = time.perf_counter()
        suggestions.suggestions_by_need(session, viewer)
        times.append(time.perf_counter() - start)
    print(f"suggestions_by_need for {buyer.code} ({len(viewer.needs)} needs): "
          f"{statistics.median(times) * 1000:.0f} ms (median of {args.rounds}), "
          f"fastest {min(times) * 1000:.0f} ms")
    session.close()


if __name__ == "__main__":
    main()
