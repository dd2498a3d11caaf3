"""movements: opening balances, other income, expenses, transfers and adjustments, with their categories;
awards paid by bank transfer keep the bank's reference; a list of awards paid at once shares one voucher

Existing books hold no such movement; the categories an association starts with are created.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 14:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

DEFAULT_CATEGORIES = [
    ("lai-tien-gui", "Lãi tiền gửi ngân hàng", "in"),
    ("hoan-tra", "Tiền hoàn trả", "in"),
    ("thu-khac", "Thu khác", "in"),
    ("to-chuc-le", "Chi tổ chức lễ trao học bổng", "out"),
    ("mua-hien-vat", "Mua sách vở, đồ dùng học tập cho học sinh", "out"),
    ("phi-ngan-hang", "Phí ngân hàng", "out"),
    ("chi-khac", "Chi khác", "out"),
]


def upgrade():
    categories = op.create_table(
        'movement_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('direction', sa.String(length=4), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_movement_categories_direction')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_movement_categories')),
        sa.UniqueConstraint('code', name=op.f('uq_movement_categories_code')),
    )
    op.bulk_insert(categories, [{"code": c, "name": n, "direction": d} for c, n, d in DEFAULT_CATEGORIES])
    op.create_table(
        'movements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('direction', sa.String(length=4), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('fund_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('movement_date', sa.Date(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('counterparty_name', sa.String(length=200), nullable=True),
        sa.Column('counterparty_address', sa.String(length=300), nullable=True),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('corrects', sa.String(length=60), nullable=True),
        sa.Column('bank_reference', sa.String(length=100), nullable=True),
        sa.Column('document_kind', sa.String(length=16), nullable=False),
        sa.Column('document_number', sa.Integer(), nullable=False),
        sa.Column('document_code', sa.String(length=60), nullable=False),
        sa.Column('transfer_id', sa.Integer(), nullable=True),
        sa.Column('issuer', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('void_reason', sa.String(length=500), nullable=True),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('voided_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.CheckConstraint('amount > 0', name=op.f('ck_movements_amount_positive')),
        sa.CheckConstraint("kind IN ('opening_balance', 'income', 'expense', 'transfer', 'adjustment')",
                           name=op.f('ck_movements_kind')),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_movements_direction')),
        sa.CheckConstraint("status IN ('recorded', 'void')", name=op.f('ck_movements_status')),
        sa.ForeignKeyConstraint(['account_id'], ['money_accounts.id'], name=op.f('fk_movements_account_id_money_accounts')),
        sa.ForeignKeyConstraint(['category_id'], ['movement_categories.id'],
                                name=op.f('fk_movements_category_id_movement_categories')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_movements_created_by_users')),
        sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_movements_fund_id_funds')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_movements_unit_id_units')),
        sa.ForeignKeyConstraint(['voided_by'], ['users.id'], name=op.f('fk_movements_voided_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_movements')),
        sa.UniqueConstraint('document_code', name=op.f('uq_movements_document_code')),
    )
    for column in ('account_id', 'fund_id', 'movement_date', 'transfer_id', 'unit_id'):
        op.create_index(op.f(f'ix_movements_{column}'), 'movements', [column], unique=False)
    with op.batch_alter_table('awards') as batch_op:
        batch_op.add_column(sa.Column('bank_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('paid_in_list', sa.Boolean(), nullable=False, server_default=sa.false()))
        # A list paid at once shares one Phiếu chi: the code is no longer one award's alone.
        batch_op.drop_constraint('uq_awards_voucher_code', type_='unique')
        batch_op.create_index(batch_op.f('ix_awards_voucher_code'), ['voucher_code'], unique=False)
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.add_column(sa.Column('movement_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_entries_movement_id'), ['movement_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_movement_id_movements'), 'movements',
                                    ['movement_id'], ['id'])


def downgrade():
    # Version 0009 knew no movement: their ledger entries go with them.
    op.execute("DELETE FROM ledger_entries WHERE movement_id IS NOT NULL")
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_movement_id_movements'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_movement_id'))
        batch_op.drop_column('movement_id')
    with op.batch_alter_table('awards') as batch_op:
        batch_op.drop_index(batch_op.f('ix_awards_voucher_code'))
        batch_op.create_unique_constraint('uq_awards_voucher_code', ['voucher_code'])
        batch_op.drop_column('paid_in_list')
        batch_op.drop_column('bank_reference')
    op.drop_table('movements')
    op.drop_table('movement_categories')
