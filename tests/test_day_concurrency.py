"""Two staff acting at the same moment: exactly one wins, the other gets a Conflict.

Each writer is a thread with its own session (its own database connection), released
together by a barrier. Validation is slowed a little so both writers are inside their
transactions at once: without the row locks both would read the old state and both
would write (``test_without_the_locks_the_race_double_books`` shows the harness catches
exactly that). The end state is checked for double bookings with a fresh session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import day_operations as ops
from scheduler.db import make_engine, make_session_factory
from scheduler.errors import Conflict
from scheduler.models import Event, Meeting, MeetingStatus
from scheduler.users import create_user
from tests.day_fair import Clock, assert_no_double_booking, meeting, slot, table
from tests.published_fair import published_fair

ROUNDS = 4
HOLD_SECONDS = 0.05

Writer = Callable[[Session, Event, int], object]


@dataclass
class Outcome:
    wins: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def _slow_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the locks a moment while validating, so the racing writer surely arrives."""
    original = ops._problems

    def slow(*args: object, **kwargs: object) -> list[ops.Problem]:
        time.sleep(HOLD_SECONDS)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ops, "_problems", slow)


def race(url: str, event_id: int, writers: list[Writer], user_ids: list[int]) -> Outcome:
    """Run the writers at the same moment, each in its own session; commit the winners."""
    engine = make_engine(url, pool_size=len(writers) + 1)
    factory = make_session_factory(engine)
    barrier = threading.Barrier(len(writers))
    outcome = Outcome()
    guard = threading.Lock()

    def run(writer: Writer, user_id: int) -> None:
        session = factory()
        try:
            event = session.get(Event, event_id)
            assert event is not None
            barrier.wait(timeout=10)
            writer(session, event, user_id)
            session.commit()
            with guard:
                outcome.wins += 1
        except Conflict as conflict:
            session.rollback()
            with guard:
                outcome.conflicts.append(conflict.message)
        except BaseException as error:
            session.rollback()
            with guard:
                outcome.errors.append(error)
        finally:
            session.close()

    threads = [
        threading.Thread(target=run, args=(w, u)) for w, u in zip(writers, user_ids, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    assert not outcome.errors, outcome.errors
    return outcome


@pytest.fixture
def setting(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> tuple[Event, list[int]]:
    """The committed fair at 09:00 on the day, two staff accounts, slow validation."""
    Clock(monkeypatch)
    event = published_fair(db_session)
    users = [
        create_user(
            db_session,
            email=f"staff{i}@example.jp",
            name=f"係員{i}",
            password="x" * 12,
            role="staff",
        )
        for i in (1, 2)
    ]
    db_session.commit()
    _slow_validation(monkeypatch)
    return event, [u.id for u in users]


def _ids(session: Session, event: Event, *pairs: tuple[str, str]) -> list[tuple[int, int]]:
    found = [meeting(session, event, a, b) for a, b in pairs]
    return [(m.id, m.version) for m in found]


def _same_table_writers(session: Session, event: Event) -> list[Writer]:
    """Two different meetings of 10:00 moved onto the one spare table A04."""
    spare = table(session, event, "A04").id
    writers: list[Writer] = []
    for meeting_id, version in _ids(session, event, ("B003", "S002"), ("B002", "S003")):

        def write(s: Session, e: Event, user: int, mid: int = meeting_id, v: int = version):
            return ops.move_meeting(s, e, mid, expected_version=v, table_id=spare, user_id=user)

        writers.append(write)
    return writers


def _same_person_writers(session: Session, event: Event) -> list[Writer]:
    """Two meetings of S003 (with B001 at A01, with B003 at A03) moved into the 15:00 slot."""
    late = slot(session, event, "15:00").id
    writers: list[Writer] = []
    for meeting_id, version in _ids(session, event, ("B001", "S003"), ("B003", "S003")):

        def write(s: Session, e: Event, user: int, mid: int = meeting_id, v: int = version):
            return ops.move_meeting(s, e, mid, expected_version=v, slot_id=late, user_id=user)

        writers.append(write)
    return writers


def _same_meeting_writers(session: Session, event: Event) -> list[Writer]:
    """Two staff change one meeting from the same version they both saw: a lost update."""
    [(meeting_id, version)] = _ids(session, event, ("B003", "S002"))
    late, spare = slot(session, event, "15:00").id, table(session, event, "A04").id

    def move_later(s: Session, e: Event, user: int):
        return ops.move_meeting(
            s, e, meeting_id, expected_version=version, slot_id=late, user_id=user
        )

    def move_table(s: Session, e: Event, user: int):
        return ops.move_meeting(
            s, e, meeting_id, expected_version=version, table_id=spare, user_id=user
        )

    return [move_later, move_table]


def _walk_in_writers(session: Session, event: Event) -> list[Writer]:
    """Two desks add a meeting at the same table and slot for different pairs."""
    b003 = meeting(session, event, "B003", "S002").participant_a_id
    target_slot, target_table = slot(session, event, "15:00").id, table(session, event, "A05").id
    writers: list[Writer] = []
    for code in ("B001", "B002"):
        buyer = meeting(session, event, code, "S003").participant_a_id

        def write(s: Session, e: Event, user: int, a: int = buyer):
            return ops.add_meeting(
                s, e, a_id=a, b_id=b003, slot_id=target_slot, table_id=target_table, user_id=user
            )

        writers.append(write)
    return writers


SCENARIOS = {
    "same table and slot": _same_table_writers,
    "same person in one slot": _same_person_writers,
    "same meeting, same version": _same_meeting_writers,
}


def _check_one_winner(database_url: str, event: Event, outcome: Outcome) -> None:
    assert outcome.wins == 1, outcome
    assert len(outcome.conflicts) == 1, outcome
    engine = make_engine(database_url)
    fresh = make_session_factory(engine)()
    try:
        fresh_event = fresh.get(Event, event.id)
        assert fresh_event is not None
        assert_no_double_booking(fresh, fresh_event)
        changed = fresh.scalars(select(Meeting).where(Meeting.version > 0)).all()
        assert len(changed) == 1, "the loser must leave no trace"
        assert changed[0].version == 1
    finally:
        fresh.close()
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_two_staff_racing_never_double_book(
    database_url: str,
    db_session: Session,
    setting: tuple[Event, list[int]],
    scenario: str,
    round_: int,
) -> None:
    event, users = setting
    writers = SCENARIOS[scenario](db_session, event)
    db_session.rollback()
    outcome = race(database_url, event.id, writers, users)
    _check_one_winner(database_url, event, outcome)


@pytest.mark.postgres
def test_the_loser_is_told_clearly_with_the_fresh_state(
    database_url: str, db_session: Session, setting: tuple[Event, list[int]]
) -> None:
    event, users = setting
    outcome = race(database_url, event.id, _same_meeting_writers(db_session, event), users)
    [message] = outcome.conflicts
    assert "Someone else changed this meeting a moment ago" in message
    assert "B003" in message and ("15:00 A03" in message or "10:00 A04" in message)


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_desks_adding_at_one_table_never_double_book(
    database_url: str, db_session: Session, setting: tuple[Event, list[int]], round_: int
) -> None:
    event, users = setting
    outcome = race(database_url, event.id, _walk_in_writers(db_session, event), users)
    assert outcome.wins == 1 and len(outcome.conflicts) == 1, outcome
    db_session.expire_all()
    added = db_session.scalars(select(Meeting).where(Meeting.source == "staff")).all()
    assert len(added) == 1 and added[0].status == MeetingStatus.PLANNED
    assert_no_double_booking(db_session, event)


@pytest.mark.postgres
def test_without_the_locks_the_race_double_books(
    database_url: str,
    db_session: Session,
    setting: tuple[Event, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The harness is able to fail: with locking switched off, both writers win."""
    event, users = setting
    monkeypatch.setattr(ops, "lock_for_change", _unlocked_read)
    outcome = race(database_url, event.id, _same_person_writers(db_session, event), users)
    assert outcome.wins == 2
    db_session.expire_all()
    with pytest.raises(AssertionError, match="in 2 meetings"):
        assert_no_double_booking(db_session, event)


def _unlocked_read(session: Session, event_id: int, **ids: object) -> dict[int, Meeting]:
    meeting_ids = list(ids.get("meeting_ids", ()))  # type: ignore[call-overload]
    return {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids)))}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_sqlite_serialises_the_same_races(
    database_url: str, db_session: Session, setting: tuple[Event, list[int]], scenario: str
) -> None:
    """The embedded SQLite set-up: its single writer lock, taken up front, gives the same."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite variant of the races")
    event, users = setting
    writers = SCENARIOS[scenario](db_session, event)
    db_session.rollback()
    outcome = race(database_url, event.id, writers, users)
    _check_one_winner(database_url, event, outcome)
