"""window sessions

A window PC signs in to the pages with its terminal's key, which does not expire and is not
revoked at logout (the PC's other sessions and the API keep using it). Each page login gets a
row here instead, named by the SHA-256 of a random id the session cookie carries, so logout
ends that login on the server: a copied cookie stops working at once, not at the TTL.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'window_sessions',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('terminal_id', sa.Integer(), nullable=False),
        sa.Column('sid_hash', sa.String(length=64), nullable=False),
        sa.Column(
            'created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False
        ),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['terminal_id'],
            ['terminals.id'],
            name=op.f('fk_window_sessions_terminal_id_terminals'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_window_sessions')),
        sa.UniqueConstraint('sid_hash', name=op.f('uq_window_sessions_sid_hash')),
    )
    op.create_index(
        op.f('ix_window_sessions_terminal_id'), 'window_sessions', ['terminal_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_window_sessions_terminal_id'), table_name='window_sessions')
    op.drop_table('window_sessions')
