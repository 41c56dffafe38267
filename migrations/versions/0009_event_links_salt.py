"""a random salt in each new event's staff calendar and hall-board links: SQLite gives
a deleted event's id to the next event, which opened with the deleted one's links

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing events keep "" (the links given out for them keep working); new events get
    # a random salt from the model.
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('links_salt', sa.String(length=32), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('links_salt')
