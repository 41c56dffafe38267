"""the supplier's own level on each proposal sheet: when a direct request of the supplier
to the same buyer ends, the interest its sheet stands for goes back to that level
instead of "high"

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 11:05:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sheets sent before: None (their interest keeps the level it has; recreated, "high").
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplier_level', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('supplier_level')
