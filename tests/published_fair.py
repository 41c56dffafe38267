"""A small demo fair with a schedule placed greedily and published, for the output tests.

The solver is not the subject of these tests, so a plain greedy placement stands in
for it (:func:`scheduler.demo_past.place_greedily`, which the past demo fair uses too):
every requested pair that both sides did not decline meets at the buyer's own table in
the first slot both can make.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.demo import generate_demo
from scheduler.demo_past import place_greedily
from scheduler.models import Event, Meeting, Participant, Phase

__all__ = [
    "ReportsClock",
    "busiest_participant",
    "english_participant",
    "fair_on_the_day",
    "place_greedily",
    "published_fair",
]


def published_fair(session: Session, *, buyers: int = 3, suppliers: int = 8) -> Event:
    """A demo fair with a greedy schedule, published as publishing would (committed)."""
    event = generate_demo(
        session, seed=11, buyers=buyers, suppliers=suppliers, phase=Phase.PUBLISHED
    )
    place_greedily(session, event)
    event.published_version = 1
    event.published_at = datetime.now(UTC)
    session.commit()
    return event


def busiest_participant(session: Session, event: Event) -> Participant:
    """The participant with the most meetings (ties: lowest id), for tests that need some."""
    counts: dict[int, int] = defaultdict(int)
    for meeting in session.scalars(select(Meeting).where(Meeting.event_id == event.id)):
        counts[meeting.participant_a_id] += 1
        counts[meeting.participant_b_id] += 1
    best = min(counts, key=lambda pid: (-counts[pid], pid))
    return session.get(Participant, best)


def fair_on_the_day(session: Session) -> Event:
    """:func:`published_fair` in its fair-day phase, where reports and the survey open
    (the outcome tests' fair; committed)."""
    event = published_fair(session)
    event.phase = Phase.ON_THE_DAY
    session.commit()
    return event


def english_participant(session: Session, event: Event) -> Participant:
    """:func:`busiest_participant`, reading its pages in English (the msgids the tests
    quote; committed)."""
    participant = busiest_participant(session, event)
    participant.locale = "en"
    session.commit()
    return participant


class ReportsClock:
    """The clock of the reports and results pages (``web.outcomes``), frozen at ``now``
    (None until a test sets it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: datetime | None = None) -> None:
        self.now = now
        monkeypatch.setattr("web.outcomes.utcnow", lambda: self.now)
