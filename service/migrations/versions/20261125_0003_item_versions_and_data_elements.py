"""item versions and data elements, deferred materials

Each existing item becomes version 1 of itself (with the data elements it lacked set to the
common case), and each existing case points at that version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:10:24.101649
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FIRST_VERSIONS = """
INSERT INTO item_versions (
    item_id, version_no, effective_from, source, implementation_code, name, aliases, item_type,
    department, exercise_level, territorial_basis, statutory_limit_days, promised_limit_days,
    visits_required, fee_charged, delivery_modes, handling_modes, materials,
    search_names, search_pinyin, search_initials)
SELECT id, 1, LEAST(CURRENT_DATE, (SELECT min(created_at)::date FROM cases)), 'migration 0003',
    implementation_code, name, '[]', 'public_service', department, 'county', territorial_basis,
    statutory_limit_days, promised_limit_days, 1, false, '["window", "mail"]', '["proxy"]',
    (SELECT coalesce(jsonb_agg(
        (m - 'required') || jsonb_build_object(
            'necessity', CASE WHEN (m->>'required')::boolean THEN 'required' ELSE 'optional' END,
            'deferrable', false, 'notes', NULL)
        ORDER BY n), '[]') FROM jsonb_array_elements(items.materials) WITH ORDINALITY AS t(m, n)),
    '|' || lower(name) || '|', '||', '||'
FROM items
"""

LATEST_BACK = """
UPDATE items SET implementation_code = v.implementation_code, name = v.name,
    department = v.department, territorial_basis = v.territorial_basis,
    statutory_limit_days = v.statutory_limit_days, promised_limit_days = v.promised_limit_days,
    materials = (SELECT coalesce(jsonb_agg(m || jsonb_build_object(
        'required', m->>'necessity' = 'required') ORDER BY n), '[]')
        FROM jsonb_array_elements(v.materials) WITH ORDINALITY AS t(m, n))
FROM (SELECT DISTINCT ON (item_id) * FROM item_versions
      ORDER BY item_id, effective_from DESC, version_no DESC) v
WHERE v.item_id = items.id
"""


def upgrade() -> None:
    op.create_table('item_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('implementation_code', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('aliases', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('item_type', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('exercise_level', sa.String(length=16), nullable=False),
    sa.Column('territorial_basis', sa.String(length=32), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.Column('statutory_limit_days', sa.Integer(), nullable=False),
    sa.Column('statutory_limit_note', sa.Text(), nullable=True),
    sa.Column('promised_limit_days', sa.Integer(), nullable=False),
    sa.Column('promised_limit_note', sa.Text(), nullable=True),
    sa.Column('acceptance_conditions', sa.Text(), nullable=True),
    sa.Column('visits_required', sa.Integer(), nullable=False),
    sa.Column('fee_charged', sa.Boolean(), nullable=False),
    sa.Column('fee_basis', sa.Text(), nullable=True),
    sa.Column('delivery_modes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('handling_modes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('materials', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('search_names', sa.Text(), nullable=False),
    sa.Column('search_pinyin', sa.Text(), nullable=False),
    sa.Column('search_initials', sa.Text(), nullable=False),
    sa.CheckConstraint("exercise_level IN ('national', 'provincial', 'municipal', 'county', 'township', 'village')", name=op.f('ck_item_versions_exercise_level')),
    sa.CheckConstraint("item_type IN ('licensing', 'payment', 'confirmation', 'adjudication', 'reward', 'other_power', 'public_service')", name=op.f('ck_item_versions_item_type')),
    sa.CheckConstraint("territorial_basis IN ('household', 'residence', 'property', 'enterprise', 'insured')", name=op.f('ck_item_versions_territorial_basis')),
    sa.CheckConstraint('promised_limit_days <= statutory_limit_days', name=op.f('ck_item_versions_promised_within')),
    sa.CheckConstraint('visits_required >= 0', name=op.f('ck_item_versions_visits')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_versions_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_versions')),
    sa.UniqueConstraint('item_id', 'version_no', name='uq_item_versions_item_version')
    )
    op.create_index(op.f('ix_item_versions_department'), 'item_versions', ['department'], unique=False)
    op.create_index('ix_item_versions_in_force', 'item_versions', ['item_id', 'effective_from', 'version_no'], unique=False)
    op.execute(FIRST_VERSIONS)
    op.add_column('cases', sa.Column('item_version_id', sa.Integer(), nullable=True))
    op.add_column('cases', sa.Column('deferred_materials', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False))
    op.execute(
        "UPDATE cases SET item_version_id = v.id FROM item_versions v"
        " WHERE v.item_id = cases.item_id AND v.version_no = 1"
    )
    op.alter_column('cases', 'item_version_id', nullable=False)
    op.alter_column('cases', 'deferred_materials', server_default=None)
    op.create_foreign_key(op.f('fk_cases_item_version_id_item_versions'), 'cases', 'item_versions', ['item_version_id'], ['id'])
    op.add_column('items', sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.drop_column('items', 'promised_limit_days')
    op.drop_column('items', 'materials')
    op.drop_column('items', 'implementation_code')
    op.drop_column('items', 'statutory_limit_days')
    op.drop_column('items', 'name')
    op.drop_column('items', 'territorial_basis')
    op.drop_column('items', 'department')


def downgrade() -> None:
    columns = {
        'implementation_code': (sa.String(length=64), True),
        'name': (sa.String(length=200), False),
        'department': (sa.String(length=100), False),
        'territorial_basis': (sa.String(length=32), False),
        'statutory_limit_days': (sa.Integer(), False),
        'promised_limit_days': (sa.Integer(), False),
        'materials': (postgresql.JSONB(astext_type=sa.Text()), False),
    }
    for name, (type_, _) in columns.items():
        op.add_column('items', sa.Column(name, type_, nullable=True))
    op.execute(LATEST_BACK)
    for name, (_, nullable) in columns.items():
        if not nullable:
            op.alter_column('items', name, nullable=False)
    op.drop_column('items', 'created_at')
    op.drop_constraint(op.f('fk_cases_item_version_id_item_versions'), 'cases', type_='foreignkey')
    op.drop_column('cases', 'deferred_materials')
    op.drop_column('cases', 'item_version_id')
    op.drop_index('ix_item_versions_in_force', table_name='item_versions')
    op.drop_index(op.f('ix_item_versions_department'), table_name='item_versions')
    op.drop_table('item_versions')
