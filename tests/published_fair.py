"""A small demo fair with a schedule placed greedily and published, for the output tests.

The solver is not the subject of these tests, so a plain greedy placement stands in
for it: every requested pair that both sides did not decline meets at the buyer's
own table in the first slot both can make.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.demo import generate_demo
from scheduler.models import (
    Event,
    Interest,
    Meeting,
    Participant,
    ParticipantRole,
    Phase,
    Table,
)


def place_greedily(session: Session, event: Event) -> list[Meeting]:
    """Meetings for the requested, undeclined pairs: at the buyer's table, first free slot."""
    interests = session.scalars(
        select(Interest).where(Interest.event_id == event.id).order_by(Interest.id)
    ).all()
    declined = {(i.from_participant_id, i.to_participant_id) for i in interests if i.declined}
    tables_of: dict[int, list[Table]] = defaultdict(list)
    for table in session.scalars(select(Table).where(Table.event_id == event.id)):
        if table.host_participant_id is not None:
            tables_of[table.host_participant_id].append(table)
    participants = {p.id: p for p in event.participants}
    busy: set[tuple[int, int]] = set()  # (participant id or -table id, slot id)
    met: set[frozenset[int]] = set()
    meetings: list[Meeting] = []
    for interest in interests:
        if interest.declined or interest.level == 0:
            continue
        a, b = participants[interest.from_participant_id], participants[interest.to_participant_id]
        pair = frozenset((a.id, b.id))
        if pair in met or (b.id, a.id) in declined:
            continue
        buyer, supplier = (a, b) if a.role == ParticipantRole.BUYER else (b, a)
        if buyer.role != ParticipantRole.BUYER or supplier.role != ParticipantRole.SUPPLIER:
            continue
        for slot in event.slots:
            if not (buyer.is_available(slot) and supplier.is_available(slot)):
                continue
            if (supplier.id, slot.id) in busy:
                continue
            table = next((t for t in tables_of[buyer.id] if (-t.id, slot.id) not in busy), None)
            if table is None:
                continue
            meeting = Meeting(
                event_id=event.id,
                participant_a=buyer,
                participant_b=supplier,
                slot=slot,
                table=table,
                purpose="",
            )
            session.add(meeting)
            meetings.append(meeting)
            busy.update({(supplier.id, slot.id), (-table.id, slot.id)})
            met.add(pair)
            break
    session.flush()
    return meetings


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
