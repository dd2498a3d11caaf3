"""pledges: gifts announced before their bank transfer arrives, with a memo code and a VietQR

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pledges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('fund_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=True),
        sa.Column('donor', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'), nullable=True),
        sa.Column('purpose', sa.String(length=500), nullable=True),
        sa.Column('code', sa.String(length=25), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('donation_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'matched', 'cancelled')", name=op.f('ck_pledges_status')),
        sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_pledges_amount_positive')),
        sa.ForeignKeyConstraint(['account_id'], ['money_accounts.id'], name=op.f('fk_pledges_account_id_money_accounts')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_pledges_created_by_users')),
        sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_pledges_donation_id_donations')),
        sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_pledges_fund_id_funds')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_pledges_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges')),
        sa.UniqueConstraint('code', name=op.f('uq_pledges_code')),
    )
    op.create_index(op.f('ix_pledges_status'), 'pledges', ['status'], unique=False)
    op.create_index(op.f('ix_pledges_unit_id'), 'pledges', ['unit_id'], unique=False)


def downgrade():
    op.drop_table('pledges')
