"""an index for every foreign key: deleting a participant, a slot or a whole event no
longer scans every meeting, rule and entry of every event

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:20:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): foreign keys that led no index. A delete in the table they point to
# (a participant, a slot, an event's cascade) looked them up by scanning the whole table,
# all events together, once per deleted row.
COLUMNS = [
    ('attendances', 'person_id'),
    ('audit_entries', 'participant_id'),
    ('audit_entries', 'user_id'),
    ('interests', 'to_participant_id'),
    ('meeting_outcomes', 'slot_id'),
    ('meetings', 'participant_a_id'),
    ('meetings', 'participant_b_id'),
    ('meetings', 'slot_id'),
    ('meetings', 'table_id'),
    ('needs', 'participant_id'),
    ('pair_rules', 'created_by_id'),
    ('pair_rules', 'participant_a_id'),
    ('pair_rules', 'participant_b_id'),
    ('pair_rules', 'slot_id'),
    ('pair_rules', 'table_id'),
    ('participant_unavailable_slots', 'slot_id'),
    ('participants', 'organization_id'),
    ('people', 'organization_id'),
    ('proposals', 'supplier_id'),
    ('schedule_runs', 'created_by_id'),
    ('sheet_builds', 'created_by_id'),
    ('slots', 'day_id'),
    ('suggestions_shown', 'need_id'),
    ('suggestions_shown', 'suggested_id'),
    ('tables', 'host_participant_id'),
    ('tables', 'room_id'),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.create_index(op.f(f'ix_{table}_{column}'), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
