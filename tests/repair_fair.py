"""A small demo fair scheduled by the solver and published, for the repair tests: the
same path the organizer takes (build, solve, publish), shared with the repair benchmark."""

from __future__ import annotations

from sqlalchemy.orm import Session

from benchmarks.repair_roundtrip import publish_initial
from scheduler.demo import generate_demo
from scheduler.models import Event, Phase


def scheduled_fair(
    session: Session,
    *,
    buyers: int = 4,
    suppliers: int = 40,
    seed: int = 7,
    time_limit: float = 2.0,
    workers: int = 1,
    slug: str = "repair-fair",
) -> Event:
    """A demo fair with a solved and published schedule, on the day (committed)."""
    event = generate_demo(
        session, seed=seed, buyers=buyers, suppliers=suppliers, slug=slug, phase=Phase.SCHEDULING
    )
    publish_initial(session, event, time_limit, workers)
    return event
