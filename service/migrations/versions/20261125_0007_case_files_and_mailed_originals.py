"""case files and mailed originals

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:01:05.699159
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_files',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=True),
    sa.Column('terminal_id', sa.Integer(), nullable=True),
    sa.Column('material_code', sa.String(length=16), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('intake', 'supplement')", name=op.f('ck_case_files_purpose')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_files_case_id_cases')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_case_files_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_files'))
    )
    op.create_index(op.f('ix_case_files_case_id'), 'case_files', ['case_id'], unique=False)
    op.create_index('ix_case_files_sha256', 'case_files', ['sha256'], unique=False)
    op.create_table('original_mailings',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('materials', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('carrier', sa.String(length=50), nullable=False),
    sa.Column('tracking_no', sa.String(length=64), nullable=False),
    sa.Column('mailed_on', sa.Date(), nullable=False),
    sa.Column('mailed_by', sa.String(length=100), nullable=False),
    sa.Column('arrived_on', sa.Date(), nullable=True),
    sa.Column('received_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_original_mailings_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_original_mailings'))
    )
    op.create_index(op.f('ix_original_mailings_case_id'), 'original_mailings', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_original_mailings_case_id'), table_name='original_mailings')
    op.drop_table('original_mailings')
    op.drop_index('ix_case_files_sha256', table_name='case_files')
    op.drop_index(op.f('ix_case_files_case_id'), table_name='case_files')
    op.drop_table('case_files')
