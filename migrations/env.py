"""Alembic environment: the models' metadata, the URL from scheduler.migrations."""

from __future__ import annotations

from alembic import context

import scheduler.models  # noqa: F401  (registers every table on Base.metadata)
from scheduler.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table (copy, DROP, rename). With foreign keys on,
            # SQLite's DROP TABLE first deletes every row, cascading into every table
            # that points at it: a migration would wipe meetings, interests, outcomes.
            # The pragma only takes effect outside a transaction, so it is set here.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER constraints in place; batch mode recreates the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
