"""the fair survey: each participant's satisfaction, whether it would come again, and
a comment (the 満足度 a local government reports beside the meetings' results)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fair_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=False),
    sa.Column('join_again', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', scheduler.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', scheduler.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('satisfaction BETWEEN 1 AND 5', name=op.f('ck_fair_feedback_satisfaction_on_scale')),
    sa.CheckConstraint("join_again IS NULL OR join_again IN ('yes', 'perhaps', 'no')", name=op.f('ck_fair_feedback_join_again_known')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_fair_feedback_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_fair_feedback_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fair_feedback')),
    sa.UniqueConstraint('participant_id', name='uq_feedback_per_participant')
    )
    with op.batch_alter_table('fair_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fair_feedback_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fair_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fair_feedback_event_id'))

    op.drop_table('fair_feedback')
