"""the month of a reported order: orders come months after the fair, and a local
government reports them by fiscal year (年度)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 20:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('meeting_outcomes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_month', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('meeting_outcomes', schema=None) as batch_op:
        batch_op.drop_column('order_month')
