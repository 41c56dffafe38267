"""where a meeting was before its last move, so that a participant reads "moved from
14:30, table A05" beside the change, not only that something changed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_from_slot_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('moved_from_table_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_meetings_moved_from_slot_id_slots'), 'slots',
            ['moved_from_slot_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(
            batch_op.f('fk_meetings_moved_from_table_id_tables'), 'tables',
            ['moved_from_table_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_meetings_moved_from_slot_id'),
                              ['moved_from_slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_moved_from_table_id'),
                              ['moved_from_table_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_moved_from_table_id'))
        batch_op.drop_index(batch_op.f('ix_meetings_moved_from_slot_id'))
        batch_op.drop_constraint(
            batch_op.f('fk_meetings_moved_from_table_id_tables'), type_='foreignkey')
        batch_op.drop_constraint(
            batch_op.f('fk_meetings_moved_from_slot_id_slots'), type_='foreignkey')
        batch_op.drop_column('moved_from_table_id')
        batch_op.drop_column('moved_from_slot_id')
