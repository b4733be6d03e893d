"""sealed applicant names

Applicants' names were kept in clear (cases.applicant_name). They are now encrypted like the
other personal fields (applicant_name_enc, bound to the case number), with a keyed hash for
exact search (applicant_name_hash) and the masked form lists and exports show
(applicant_name_masked).

The key is not in the database, so this migration cannot encrypt: it adds the columns and lets
the plain one be empty. `python -m service reencrypt` (resumable, in batches) seals each
existing name and empties the plain column; the application never writes it again and reads
it only for rows not yet sealed. A later migration drops it once every installation has run
the command (README, "Keys").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('applicant_name_enc', sa.LargeBinary(), nullable=True))
    op.add_column('cases', sa.Column('applicant_name_hash', sa.String(length=64), nullable=True))
    op.add_column('cases', sa.Column('applicant_name_masked', sa.String(length=40), nullable=True))
    op.create_index(op.f('ix_cases_applicant_name_hash'), 'cases', ['applicant_name_hash'])
    op.alter_column('cases', 'applicant_name', existing_type=sa.String(length=40), nullable=True)


def downgrade() -> None:
    # A sealed name can only come back with the key, which this migration does not have.
    sealed = op.get_bind().scalar(sa.text("SELECT count(*) FROM cases WHERE applicant_name IS NULL"))
    if sealed:
        raise RuntimeError(f"{sealed} applicant names are only encrypted; downgrade would lose them")
    op.drop_index(op.f('ix_cases_applicant_name_hash'), table_name='cases')
    op.drop_column('cases', 'applicant_name_masked')
    op.drop_column('cases', 'applicant_name_hash')
    op.drop_column('cases', 'applicant_name_enc')
    op.alter_column('cases', 'applicant_name', existing_type=sa.String(length=40), nullable=False)
