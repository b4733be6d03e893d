"""district connectors

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:52:43.068186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('district_connectors',
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('endpoint', sa.String(length=500), nullable=True),
    sa.Column('status_endpoint', sa.String(length=500), nullable=True),
    sa.Column('secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('connect_timeout', sa.Float(), nullable=False),
    sa.Column('read_timeout', sa.Float(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('paused_by', sa.String(length=100), nullable=True),
    sa.Column('breaker_state', sa.String(length=16), nullable=False),
    sa.Column('breaker_failures', sa.Integer(), nullable=False),
    sa.Column('breaker_opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deliveries_total', sa.Integer(), nullable=False),
    sa.Column('failures_total', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("breaker_state IN ('closed', 'open', 'half_open')", name=op.f('ck_district_connectors_breaker_state')),
    sa.CheckConstraint("kind IN ('internal', 'http')", name=op.f('ck_district_connectors_kind')),
    sa.ForeignKeyConstraint(['district_code'], ['districts.code'], name=op.f('fk_district_connectors_district_code_districts')),
    sa.PrimaryKeyConstraint('district_code', name=op.f('pk_district_connectors'))
    )
    op.add_column('cases', sa.Column('external_updated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('cases', sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('outbox', sa.Column('waiting_on_district', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('outbox', 'waiting_on_district')
    op.drop_column('cases', 'reconciled_at')
    op.drop_column('cases', 'external_updated_at')
    op.drop_table('district_connectors')
