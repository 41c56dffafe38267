"""sheet builds: every company's schedule sheet as one PDF, printed outside the request

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:14:04.016133
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sheet_builds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('content_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('sheets', sa.Integer(), nullable=False),
    sa.Column('sheets_done', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('started_at', scheduler.db.UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', scheduler.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', scheduler.db.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', scheduler.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', scheduler.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f('ck_sheet_builds_status_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sheet_builds_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_sheet_builds_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sheet_builds')),
    sa.UniqueConstraint('event_id', 'content_key', name='uq_sheet_build_once_per_content')
    )


def downgrade() -> None:
    op.drop_table('sheet_builds')
