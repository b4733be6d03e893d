"""case query codes

The public look-up took the case number (guessable) and the last 4 characters of the ID number
(about 11,000 values). Each case now has a random query code, given to the citizen on the
receipt and kept encrypted with the field key. The key is not in the database, so existing
cases cannot be given an encrypted code here: the column is nullable, and such a case gets its
code when the accepting window reprints its receipt.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('query_code_enc', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column('cases', 'query_code_enc')
