"""statement balances: the opening and closing balance a statement file prints and the totals of its lines, kept with
its import (fundsvc.bank.statements.balance_gap checks them); imports made before keep NULL (never read)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 12:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

# The file's own figures: an earlier import's totals cannot be rebuilt from its stored lines (the lines a file
# repeated from an earlier one were skipped), so its columns stay NULL: "not recorded", not zero.
COLUMNS = ('opening_balance', 'closing_balance', 'money_in', 'money_out')


def upgrade():
    with op.batch_alter_table('statement_imports') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('statement_imports') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
