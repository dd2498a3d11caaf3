"""scale: the indexes a province's year is read through (keyset pages of a fund's ledger, the summary's per-unit
aggregates read from the index alone, the awards in rank order, the gifts newest first), then fresh statistics

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-07 09:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# name, table, columns: as the models declare them (fundsvc.ledger.models, fundsvc.donations.models,
# fundsvc.allocation.models).
INDEXES = (
    ('ix_ledger_entries_fund_date', 'ledger_entries', ['fund_id', 'entry_date', 'id', 'amount']),
    (
        'ix_ledger_entries_unit_date',
        'ledger_entries',
        ['unit_id', 'entry_date', 'fund_id', 'kind', 'method', 'amount', 'movement_id', 'donation_id'],
    ),
    ('ix_donations_unit_received', 'donations', ['unit_id', 'received_on', 'status', 'fund_id', 'donor_id', 'amount']),
    ('ix_donations_received_id', 'donations', ['received_on', 'id']),
    ('ix_awards_round_rank', 'awards', ['round_id', 'rank', 'id']),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    # The planner's statistics, with the new indexes (fundsvc.db.statistics).
    op.execute(sa.text('ANALYZE'))


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
