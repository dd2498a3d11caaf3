"""public statements: versioned snapshots of the yearly công khai (figures, PDF, corrections)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:46:04.122538

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('public_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('figures_sha256', sa.String(length=64), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_public_statements_published_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_public_statements_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_statements')),
    sa.UniqueConstraint('unit_id', 'year', 'version', name=op.f('uq_public_statements_unit_id_year_version'))
    )
    with op.batch_alter_table('public_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_statements_unit_id'), ['unit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('public_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_statements_unit_id'))

    op.drop_table('public_statements')
