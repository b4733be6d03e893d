"""keyed timeline chain

From this revision on, each timeline event's hash is an HMAC under a key the database does not
hold. Events already written keep their plain SHA-256 links (the key is not here to re-link
them): the last of them is recorded once, and verification accepts a plain link only up to it.
A later edit of one of those old events still breaks the link of the case's first keyed event,
and the signed checkpoints cover them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'chain_cutover',
        sa.Column('id', sa.SmallInteger(), primary_key=True),
        sa.Column('last_plain_event_id', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name='chain_cutover_one_row'),
    )
    op.execute(
        "INSERT INTO chain_cutover (id, last_plain_event_id) "
        "SELECT 1, coalesce(max(id), 0) FROM case_events"
    )


def downgrade() -> None:
    op.drop_table('chain_cutover')
