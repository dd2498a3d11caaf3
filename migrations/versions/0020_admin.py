"""administration: users' contact, named API tokens with last use and expiry, units merged or retired, the moves
of units in the tree, organisation settings stored in the database

New columns only (all nullable) and one new table: existing rows keep their meaning unchanged (a token without
expiry works until revoked; a unit without merged_on or retired_on is active).

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
    with op.batch_alter_table('units') as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('retired_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_units_merged_into_id_units'), 'units', ['merged_into_id'], ['id'])
    op.create_table(
        'unit_moves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('moved_on', sa.Date(), nullable=False),
        sa.Column('old_path', sa.String(length=400), nullable=False),
        sa.Column('new_path', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_moves_unit_id_units')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_unit_moves_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_moves')),
    )
    op.create_index(op.f('ix_unit_moves_unit_id'), 'unit_moves', ['unit_id'], unique=False)
    op.create_table(
        'organisation_settings',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_organisation_settings_updated_by_users')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_organisation_settings')),
    )


def downgrade():
    op.drop_table('organisation_settings')
    op.drop_index(op.f('ix_unit_moves_unit_id'), table_name='unit_moves')
    op.drop_table('unit_moves')
    with op.batch_alter_table('units') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_units_merged_into_id_units'), type_='foreignkey')
        batch_op.drop_column('retired_on')
        batch_op.drop_column('merged_on')
        batch_op.drop_column('merged_into_id')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('expires_on')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('name')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
