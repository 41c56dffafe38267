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
