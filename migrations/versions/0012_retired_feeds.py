"""retired calendar feeds: the digests of subscription addresses whose event was deleted
or whose secret was re-issued, answered with an empty calendar so calendar apps remove
the meetings instead of keeping them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 13:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'retired_feeds',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('calendar_name', sa.String(length=300), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('retired_at', scheduler.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_retired_feeds')),
    )
    with op.batch_alter_table('retired_feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_feeds_retired_at'), ['retired_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('retired_feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retired_feeds_retired_at'))
    op.drop_table('retired_feeds')
