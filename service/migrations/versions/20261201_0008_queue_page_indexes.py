"""queue page indexes

The back office's queue is a district's cases newest first (created_at, then id), and may be
filtered by the state of the running clock. At 1,000,000 cases the first needs an index in
that order, and the second one that finds the few open deadlines in a due state without
reading every deadline (bench/run.py measures the queue page).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_cases_responsible_created', 'cases', ['responsible_district', 'created_at', 'id']
    )
    op.create_index(
        'ix_deadlines_open_due_state',
        'deadlines',
        ['due_state', 'case_id'],
        postgresql_where=sa.text("state = 'open'"),
    )


def downgrade() -> None:
    op.drop_index('ix_deadlines_open_due_state', table_name='deadlines')
    op.drop_index('ix_cases_responsible_created', table_name='cases')
