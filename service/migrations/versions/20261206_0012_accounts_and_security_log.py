"""accounts and security log

Separation of duties (三员分立) adds two staff roles: security_admin (accounts, terminal keys,
sessions) and security_auditor (reads the security log). Both, like auditors and admins, may be
city-wide. Staff get a second factor (TOTP, its secret encrypted with the app's data key) and a
flag forcing a password change after a reset; tokens and window logins remember when they were
last used (idle timeout) and from where. The security log is evidence, like the case timeline:
the database refuses to change or remove an entry.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "('clerk', 'supervisor', 'auditor', 'admin')"
NEW_ROLES = "('clerk', 'supervisor', 'auditor', 'admin', 'security_admin', 'security_auditor')"
OLD_CITY_WIDE = "('auditor', 'admin')"
NEW_CITY_WIDE = "('auditor', 'admin', 'security_admin', 'security_auditor')"

APPEND_ONLY = """
CREATE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_events is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE ON security_events
    FOR EACH ROW EXECUTE FUNCTION security_events_append_only();
CREATE TRIGGER security_events_no_truncate BEFORE TRUNCATE ON security_events
    FOR EACH STATEMENT EXECUTE FUNCTION security_events_append_only();
"""


def _role_checks(roles: str, city_wide: str) -> None:
    op.drop_constraint(op.f('ck_staff_users_role'), 'staff_users', type_='check')
    op.drop_constraint(op.f('ck_staff_users_district_scope'), 'staff_users', type_='check')
    op.create_check_constraint(op.f('ck_staff_users_role'), 'staff_users', f'role IN {roles}')
    op.create_check_constraint(
        op.f('ck_staff_users_district_scope'),
        'staff_users',
        f'district_code IS NOT NULL OR role IN {city_wide}',
    )


def upgrade() -> None:
    _role_checks(NEW_ROLES, NEW_CITY_WIDE)
    op.add_column(
        'staff_users',
        sa.Column(
            'must_change_password', sa.Boolean(), server_default=sa.text('false'), nullable=False
        ),
    )
    op.add_column(
        'staff_users', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column('staff_users', sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True))
    op.add_column(
        'staff_users',
        sa.Column('totp_enabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    )
    op.add_column('staff_users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    op.add_column(
        'staff_tokens',
        sa.Column('purpose', sa.String(length=16), server_default='full', nullable=False),
    )
    op.create_check_constraint(
        op.f('ck_staff_tokens_purpose'),
        'staff_tokens',
        "purpose IN ('full', 'change_password', 'enroll_totp')",
    )
    for table in ('staff_tokens', 'window_sessions'):
        op.add_column(
            table,
            sa.Column(
                'last_seen_at',
                sa.DateTime(timezone=True),
                server_default=sa.text('now()'),
                nullable=True,
            ),
        )
        op.add_column(table, sa.Column('address', sa.String(length=45), nullable=True))
    # Listing the open sessions of a user reads these.
    op.create_index('ix_staff_tokens_user_id', 'staff_tokens', ['user_id'], unique=False)

    op.create_table(
        'security_events',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column(
            'occurred_at',
            sa.DateTime(timezone=True),
            server_default=sa.text('now()'),
            nullable=False,
        ),
        sa.Column('actor_kind', sa.String(length=16), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=100), nullable=True),
        sa.Column('actor_role', sa.String(length=32), nullable=True),
        sa.Column('address', sa.String(length=45), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('district_code', sa.String(length=6), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column(
            'details',
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events')),
    )
    op.create_index('ix_security_events_occurred', 'security_events', ['occurred_at'])
    op.create_index(
        'ix_security_events_action_occurred', 'security_events', ['action', 'occurred_at']
    )
    op.create_index(
        op.f('ix_security_events_district_code'), 'security_events', ['district_code']
    )
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute('DROP TRIGGER security_events_no_truncate ON security_events')
    op.execute('DROP TRIGGER security_events_append_only ON security_events')
    op.execute('DROP FUNCTION security_events_append_only()')
    op.drop_table('security_events')
    op.drop_index('ix_staff_tokens_user_id', table_name='staff_tokens')
    for table in ('window_sessions', 'staff_tokens'):
        op.drop_column(table, 'address')
        op.drop_column(table, 'last_seen_at')
    op.drop_constraint(op.f('ck_staff_tokens_purpose'), 'staff_tokens', type_='check')
    op.drop_column('staff_tokens', 'purpose')
    for column in (
        'totp_last_step',
        'totp_enabled',
        'totp_secret_enc',
        'password_changed_at',
        'must_change_password',
    ):
        op.drop_column('staff_users', column)
    # Accounts of the new roles cannot be kept under the old checks; that is the downgrade's cost.
    op.execute(
        "DELETE FROM staff_users WHERE role IN ('security_admin', 'security_auditor')"
    )
    _role_checks(OLD_ROLES, OLD_CITY_WIDE)
