"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from scheduler import migrations
from scheduler.db import Base, make_engine
from tests.conftest import EXTERNAL_URL


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


@pytest.mark.postgres
def test_backfilled_timestamps_are_utc_whatever_the_servers_time_zone() -> None:
    """Participants registered before 0002 get ``token_issued_at`` from the column's
    default: UTC like every stored time, also on a server set to Japan's time."""
    from sqlalchemy import create_engine, text

    from scheduler.db import utcnow

    base = EXTERNAL_URL.rsplit("/", 1)[0]
    name = f"matchfair_tz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Tokyo'"))
    try:
        url = f"{base}/{name}"
        migrations.upgrade(url, "0002")
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW timezone")) == "Asia/Tokyo"
            default = connection.scalar(
                text(
                    "SELECT column_default FROM information_schema.columns "
                    "WHERE table_name = 'participants' AND column_name = 'token_issued_at'"
                )
            )
            stored = connection.scalar(text(f"SELECT {default}"))
        engine.dispose()
        assert abs(stored.replace(tzinfo=UTC) - utcnow()) < timedelta(minutes=5), stored
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_foreign_key_leads_an_index() -> None:
    """Deleting a row looks up the rows that point to it: without an index on the
    pointing column, each deleted participant, slot or event scans the whole table."""
    from scheduler import models  # noqa: F401 - every table in the metadata

    lacking = []
    for table in Base.metadata.sorted_tables:
        leading = {next(iter(table.primary_key.columns)).name}
        for index in table.indexes:
            partial = any(index.dialect_options[d].get("where") is not None
                          for d in ("postgresql", "sqlite"))
            if not partial:
                leading.add(next(iter(index.columns)).name)
        for constraint in table.constraints:
            if type(constraint).__name__ == "UniqueConstraint" and constraint.columns:
                leading.add(next(iter(constraint.columns)).name)
        lacking += [f"{table.name}.{fk.parent.name}" for fk in table.foreign_keys
                    if fk.parent.name not in leading]
    assert lacking == [], f"foreign keys without an index: {sorted(lacking)}"
