"""security log retention

The security log is kept at least 180 days (等保三级 安全审计: six months), then old entries may
go. The table stays append-only: the trigger now lets a DELETE through only for a row older
than the cut-off the deleting transaction names in `tongban.security_log_purge_before`
(`SET LOCAL`), and only if that cut-off is itself at least 180 days before the transaction
began. No setting, no cut-off in the last 180 days, and no row younger than the cut-off is ever
deleted; UPDATE and TRUNCATE stay refused. The floor is in the database, not the application,
so a mistaken or hostile retention setting cannot shorten it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURGE_AWARE = """
CREATE OR REPLACE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    purge_before timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        purge_before := NULLIF(
            current_setting('tongban.security_log_purge_before', true), ''
        )::timestamptz;
        IF purge_before IS NOT NULL
           AND purge_before <= now() - interval '180 days'
           AND OLD.occurred_at < purge_before THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'security_events is append-only (% refused)', TG_OP;
END $$;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security_events is append-only (% refused)', TG_OP;
END $$;
"""


def upgrade() -> None:
    op.execute(PURGE_AWARE)


def downgrade() -> None:
    op.execute(APPEND_ONLY)
