"""bank statements: imported files and their lines, each kept once per account, with what it was matched to

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'statement_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('bank', sa.String(length=20), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['money_accounts.id'], name=op.f('fk_statement_imports_account_id_money_accounts')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_statement_imports_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_imports')),
    )
    op.create_index(op.f('ix_statement_imports_account_id'), 'statement_imports', ['account_id'], unique=False)
    op.create_table(
        'statement_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=1200), nullable=False),
        sa.Column('line_date', sa.Date(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('direction', sa.String(length=4), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=False),
        sa.Column('bank_reference', sa.String(length=100), nullable=True),
        sa.Column('counterparty_account', sa.String(length=40), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('suggested_pledge_id', sa.Integer(), nullable=True),
        sa.Column('suggested_donor_id', sa.Integer(), nullable=True),
        sa.Column('suggested_movement_id', sa.Integer(), nullable=True),
        sa.Column('why', sa.String(length=500), nullable=True),
        sa.Column('donation_id', sa.Integer(), nullable=True),
        sa.Column('movement_id', sa.Integer(), nullable=True),
        sa.Column('ignore_reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint("status IN ('unmatched', 'suggested', 'matched', 'ignored')", name=op.f('ck_statement_lines_status')),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_statement_lines_direction')),
        sa.CheckConstraint('amount > 0', name=op.f('ck_statement_lines_amount_positive')),
        sa.ForeignKeyConstraint(['account_id'], ['money_accounts.id'], name=op.f('fk_statement_lines_account_id_money_accounts')),
        sa.ForeignKeyConstraint(['import_id'], ['statement_imports.id'], name=op.f('fk_statement_lines_import_id_statement_imports')),
        sa.ForeignKeyConstraint(['suggested_pledge_id'], ['pledges.id'], name=op.f('fk_statement_lines_suggested_pledge_id_pledges')),
        sa.ForeignKeyConstraint(['suggested_donor_id'], ['donors.id'], name=op.f('fk_statement_lines_suggested_donor_id_donors')),
        sa.ForeignKeyConstraint(['suggested_movement_id'], ['movements.id'], name=op.f('fk_statement_lines_suggested_movement_id_movements')),
        sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_statement_lines_donation_id_donations')),
        sa.ForeignKeyConstraint(['movement_id'], ['movements.id'], name=op.f('fk_statement_lines_movement_id_movements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
        sa.UniqueConstraint('account_id', 'dedupe_key', name=op.f('uq_statement_lines_account_id_dedupe_key')),
    )
    op.create_index(op.f('ix_statement_lines_account_id'), 'statement_lines', ['account_id'], unique=False)
    op.create_index(op.f('ix_statement_lines_import_id'), 'statement_lines', ['import_id'], unique=False)
    op.create_index(op.f('ix_statement_lines_status'), 'statement_lines', ['status'], unique=False)


def downgrade():
    op.drop_table('statement_lines')
    op.drop_table('statement_imports')
