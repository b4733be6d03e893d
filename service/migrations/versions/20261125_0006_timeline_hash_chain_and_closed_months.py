"""timeline hash chain and closed months

Events already in the database are chained in place, in seq order per case, with the same rule
new events followed then (service/audit/chain.py at this revision, frozen below); the
append-only trigger steps aside for that alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 11:03:59.675494
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


GENESIS = "0" * 64


def link(prev_hash: str, event: dict) -> str:
    """The chain rule as it stood at this revision, frozen here: a migration must mean the
    same thing whatever the application's code becomes (service/audit/chain.py may change)."""
    at = event["occurred_at"]
    if isinstance(at, datetime):
        at = at.astimezone(UTC).isoformat(timespec="microseconds")
    names = (
        "case_id", "seq", "type", "status_from", "status_to", "actor_kind", "actor_id",
        "actor_name", "district_code", "reason",
    )
    fields = {name: event[name] for name in names}
    fields |= {"data": event["data"] or {}, "occurred_at": at}
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(prev_hash.encode() + canonical.encode()).hexdigest()


def _chain_existing_events() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, case_id, seq, type, status_from, status_to, actor_kind, actor_id,"
            " actor_name, district_code, reason, data, occurred_at FROM case_events"
            " ORDER BY case_id, seq"
        )
    ).mappings().all()
    if not rows:
        return
    op.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
    prev, case_id = GENESIS, None
    for row in rows:
        if row["case_id"] != case_id:
            prev, case_id = GENESIS, row["case_id"]
        digest = link(prev, dict(row))
        bind.execute(
            sa.text("UPDATE case_events SET prev_hash = :p, hash = :h WHERE id = :id"),
            {"p": prev, "h": digest, "id": row["id"]},
        )
        prev = digest
    op.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")


def upgrade() -> None:
    op.create_table('stat_months',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=False),
    sa.Column('reports', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('manifest', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('watermark', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_stat_months'))
    )
    op.create_table('stat_month_files',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('scope', sa.String(length=6), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['month'], ['stat_months.month'], name=op.f('fk_stat_month_files_month_stat_months')),
    sa.PrimaryKeyConstraint('month', 'scope', 'format', name=op.f('pk_stat_month_files'))
    )
    op.add_column('case_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('case_events', sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_events()
    op.alter_column('case_events', 'prev_hash', nullable=False)
    op.alter_column('case_events', 'hash', nullable=False)
    op.create_index('ix_case_events_type_occurred', 'case_events', ['type', 'occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_events_type_occurred', table_name='case_events')
    op.drop_column('case_events', 'hash')
    op.drop_column('case_events', 'prev_hash')
    op.drop_table('stat_month_files')
    op.drop_table('stat_months')
