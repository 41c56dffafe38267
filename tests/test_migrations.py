"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from scheduler import migrations
from scheduler.db import Base, make_engine


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_database_is_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    assert migrations.current_revision(engine) == migrations.head_revision(database_url)
    engine.dispose()


def test_migrating_down_and_up_again_keeps_every_row_on_sqlite(tmp_path) -> None:
    """SQLite rebuilds a table to alter it (copy, drop, rename). With foreign keys on,
    the drop would first delete the rows of every table pointing at it: an upgrade
    emptied meetings, interests and outcomes. A fair with data survives both ways."""
    from alembic import command
    from sqlalchemy import func, select

    from scheduler.db import make_session_factory
    from scheduler.demo import generate_demo
    from scheduler.models import Attendance, Interest, Meeting, Participant

    url = f"sqlite:///{tmp_path / 'fair.sqlite3'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    event = generate_demo(session, seed=3, buyers=3, suppliers=8)
    session.flush()
    first = event.participants[0]
    other = event.participants[-1]
    session.add(Meeting(event_id=event.id, participant_a_id=first.id,
                        participant_b_id=other.id, slot_id=event.slots[0].id))
    session.commit()
    tables = (Participant, Attendance, Interest, Meeting)

    def counts() -> list[int]:
        with make_session_factory(make_engine(url))() as fresh:
            return [fresh.scalar(select(func.count()).select_from(t)) for t in tables]

    before = counts()
    assert all(before), before
    session.close()
    engine.dispose()
    command.downgrade(migrations.alembic_config(url), "0005")
    command.upgrade(migrations.alembic_config(url), "head")
    assert counts() == before
