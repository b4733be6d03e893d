"""reference revisions

The catalog and the official calendar change a few times a year and are read by every
application and delivery. A process keeps what it built from them while their revision holds;
triggers on their tables give a kind a new revision in the same transaction as any change, so
no code path that writes them can forget to. A revision is a random UUID, never a counter: a
number given to a change that was rolled back, or counted again after a database was restored
from a backup, could name other contents than the ones a process built for it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = {
    'catalog': (
        'districts',
        'items',
        'item_versions',
        'agreements',
        'agreement_districts',
        'agreement_items',
    ),
    'calendar': ('calendar_years', 'calendar_days'),
}


def upgrade() -> None:
    op.create_table(
        'reference_revisions',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('revision', sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_revisions')),
    )
    op.execute(
        """
        CREATE FUNCTION bump_reference_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE reference_revisions SET revision = gen_random_uuid()
            WHERE name = TG_ARGV[0];
            RETURN NULL;
        END $$
        """
    )
    for kind, tables in WATCHED.items():
        op.execute(
            "INSERT INTO reference_revisions (name, revision)"
            f" VALUES ('{kind}', gen_random_uuid())"
        )
        for table in tables:
            op.execute(
                f'CREATE TRIGGER {table}_revision'
                f' AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}'
                f" FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_revision('{kind}')"
            )


def downgrade() -> None:
    for tables in WATCHED.values():
        for table in tables:
            op.execute(f'DROP TRIGGER {table}_revision ON {table}')
    op.execute('DROP FUNCTION bump_reference_revision()')
    op.drop_table('reference_revisions')
