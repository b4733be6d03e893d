"""clocks, calendar, ratings and rectification

Cases made before this migration have no deadlines; their clocks start with their next step.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:38:23.403537
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f('ck_calendar_days_kind')),
    sa.ForeignKeyConstraint(['year'], ['calendar_years.year'], name=op.f('fk_calendar_days_year_calendar_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('clock_pauses',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('procedure', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_note', sa.Text(), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.CheckConstraint("procedure IN ('hearing', 'testing', 'expert_review', 'inspection', 'public_notice')", name=op.f('ck_clock_pauses_procedure')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_clock_pauses_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_pauses'))
    )
    op.create_index(op.f('ix_clock_pauses_case_id'), 'clock_pauses', ['case_id'], unique=False)
    op.create_table('deadlines',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('paused_days', sa.Integer(), nullable=False),
    sa.Column('paused_since', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_state', sa.String(length=16), nullable=False),
    sa.Column('due_state_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("due_state IN ('on_time', 'due_soon', 'overdue', 'paused')", name=op.f('ck_deadlines_due_state')),
    sa.CheckConstraint("kind IN ('forward', 'accept', 'complete', 'rectify')", name=op.f('ck_deadlines_kind')),
    sa.CheckConstraint("state IN ('open', 'met', 'cancelled')", name=op.f('ck_deadlines_state')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_deadlines_case_id_cases')),
    sa.ForeignKeyConstraint(['district_code'], ['districts.code'], name=op.f('fk_deadlines_district_code_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadlines')),
    sa.UniqueConstraint('case_id', 'kind', name='uq_deadlines_case_kind')
    )
    op.create_index('ix_deadlines_open', 'deadlines', ['state', 'due_on'], unique=False)
    op.create_table('ratings',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('level', sa.String(length=24), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('terminal_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("level IN ('very_satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied', 'very_dissatisfied')", name=op.f('ck_ratings_level')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_ratings_case_id_cases')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_ratings_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_ratings_case_id'))
    )
    op.create_table('rectifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('rating_id', sa.BigInteger(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('callback_by', sa.String(length=100), nullable=True),
    sa.Column('callback_summary', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('appeal_reason', sa.Text(), nullable=True),
    sa.Column('appealed_by', sa.String(length=100), nullable=True),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_before_appeal', sa.String(length=16), nullable=True),
    sa.Column('review_decision', sa.String(length=16), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'called_back', 'appealed', 'closed', 'voided')", name=op.f('ck_rectifications_status')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_rectifications_case_id_cases')),
    sa.ForeignKeyConstraint(['district_code'], ['districts.code'], name=op.f('fk_rectifications_district_code_districts')),
    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], name=op.f('fk_rectifications_rating_id_ratings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications')),
    sa.UniqueConstraint('case_id', name=op.f('uq_rectifications_case_id'))
    )
    op.create_index(op.f('ix_rectifications_district_code'), 'rectifications', ['district_code'], unique=False)
    op.add_column('agreements', sa.Column('forward_limit_days', sa.Integer(), server_default='1', nullable=False))
    op.add_column('notifications', sa.Column('role', sa.String(length=16), nullable=True))
    op.alter_column('notifications', 'event_seq',
               existing_type=sa.INTEGER(),
               nullable=True)


def downgrade() -> None:
    # Supervision's warnings have no event; they go with the feature.
    op.execute("DELETE FROM notifications WHERE event_seq IS NULL")
    op.alter_column('notifications', 'event_seq',
               existing_type=sa.INTEGER(),
               nullable=False)
    op.drop_column('notifications', 'role')
    op.drop_column('agreements', 'forward_limit_days')
    op.drop_index(op.f('ix_rectifications_district_code'), table_name='rectifications')
    op.drop_table('rectifications')
    op.drop_table('ratings')
    op.drop_index('ix_deadlines_open', table_name='deadlines')
    op.drop_table('deadlines')
    op.drop_index(op.f('ix_clock_pauses_case_id'), table_name='clock_pauses')
    op.drop_table('clock_pauses')
    op.drop_table('calendar_days')
    op.drop_table('calendar_years')
