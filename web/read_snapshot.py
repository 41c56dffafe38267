"""Read a participant's schedule from one snapshot of the database.

Publishing replaces the schedule in one transaction, but a schedule page, its
.ics, feed and PDF are built from several queries (the participant, the event's
published version, the meetings, their purposes, the live state). Under
PostgreSQL's default READ COMMITTED each query sees the newest commit, so a reader
that straddles a publication could mix the old and the new version. The views
here first start their transaction as one snapshot: REPEATABLE READ on
PostgreSQL (a read-only transaction at that level never fails to serialise), and
an explicit ``BEGIN`` on SQLite, whose driver otherwise runs each SELECT on its
own (a WAL reader keeps one snapshot from its first read to the end of the
transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from sqlalchemy.orm import Session

from web.database import get_session


def begin_snapshot(session: Session) -> None:
    """Start ``session``'s next transaction as one consistent snapshot for what follows.

    A transaction already under way (e.g. the logged-in user loaded by a template
    helper) is committed first; the views that call this only read.
    """
    if session.in_transaction():
        session.commit()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN")


def snapshot_reads(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``view`` (read-only) on one snapshot: put it outermost, before any query."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        begin_snapshot(get_session())
        return view(*args, **kwargs)

    return wrapped
