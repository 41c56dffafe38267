"""re-issuable staff links; self-registered contacts of known companies edit their profile only once confirmed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 01:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('staff_links_version', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(
            # A plain "1" (true on both databases): an expression default would make
            # SQLite rebuild the whole table.
            sa.Column('company_edit_allowed', sa.Boolean(), server_default='1',
                      nullable=False)
        )
    # Self-registrations still waiting, under a company that takes part elsewhere too:
    # approved after this upgrade, they must not get the company's profile unasked.
    op.execute(
        "UPDATE participants SET company_edit_allowed = false "
        "WHERE registered_via = 'self' AND status = 'pending' AND organization_id IN "
        "(SELECT organization_id FROM participants GROUP BY organization_id "
        "HAVING COUNT(*) > 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('company_edit_allowed')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('staff_links_version')
