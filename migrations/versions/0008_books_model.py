"""the books model: money accounts, the in-kind register, periods, unit identity, documents by kind

What exists is carried over (docs/books.md):
- every unit gets its cash account (111); a unit that received bank transfers gets a bank account (112) named
  "Tài khoản ngân hàng (chưa khai báo)", to be completed by its treasurer;
- every ledger entry names its money account: a bank transfer's the unit's bank account, everything else its cash;
- in-kind gifts leave the ledger (goods are not money) for the in-kind register, with their agreed value;
- a void's reversal is moved to the voided gift's own date, so the pair annuls itself in its own period;
- an award payment is charged to the unit that paid it (the round's), not to the pupil's commune;
- each unit's books open on the date of its first document, else on 1 January of the year it was created.
Documents already issued keep their numbers, codes and kind ("receipt"): what was handed out is not renumbered.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 13:30:00

"""
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

UNCONFIGURED_BANK = "Tài khoản ngân hàng (chưa khai báo)"
CASH = "Quỹ tiền mặt"

IDENTITY = ("printed_name", "parent_printed_name", "phone", "tax_code", "budget_code",
            "head_name", "accountant_name", "cashier_name", "preparer_name")
IDENTITY_SIZES = {"phone": 40, "tax_code": 20, "budget_code": 20}


def _as_date(value):
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def upgrade():
    bind = op.get_bind()
    op.create_table(
        'money_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('bank_name', sa.String(length=200), nullable=True),
        sa.Column('bank_bin', sa.String(length=8), nullable=True),
        sa.Column('account_number', sa.String(length=40), nullable=True),
        sa.Column('account_holder', sa.String(length=200), nullable=True),
        sa.Column('ledger_account', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('cash', 'bank')", name=op.f('ck_money_accounts_kind')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_money_accounts_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_money_accounts')),
    )
    op.create_index(op.f('ix_money_accounts_unit_id'), 'money_accounts', ['unit_id'], unique=False)
    op.create_index('uq_money_accounts_one_cash', 'money_accounts', ['unit_id'], unique=True,
                    sqlite_where=sa.text("kind = 'cash'"), postgresql_where=sa.text("kind = 'cash'"))
    op.create_table(
        'periods',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by', sa.Integer(), nullable=True),
        sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reopened_by', sa.Integer(), nullable=True),
        sa.Column('reopen_reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_periods_status')),
        sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_periods_closed_by_users')),
        sa.ForeignKeyConstraint(['reopened_by'], ['users.id'], name=op.f('fk_periods_reopened_by_users')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_periods_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_periods')),
        sa.UniqueConstraint('unit_id', 'month', name=op.f('uq_periods_unit_id_month')),
    )
    op.create_index(op.f('ix_periods_unit_id'), 'periods', ['unit_id'], unique=False)
    op.create_table(
        'in_kind_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('fund_id', sa.Integer(), nullable=True),
        sa.Column('donation_id', sa.Integer(), nullable=True),
        sa.Column('entry_date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=True),
        sa.Column('unit_of_measure', sa.String(length=40), nullable=True),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.Column('document_code', sa.String(length=60), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_in_kind_entries_created_by_users')),
        sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_in_kind_entries_donation_id_donations')),
        sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_in_kind_entries_fund_id_funds')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_in_kind_entries_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_in_kind_entries')),
    )
    for column in ('donation_id', 'entry_date', 'fund_id', 'unit_id'):
        op.create_index(op.f(f'ix_in_kind_entries_{column}'), 'in_kind_entries', [column], unique=False)

    with op.batch_alter_table('units') as batch_op:
        for name in IDENTITY:
            batch_op.add_column(sa.Column(name, sa.String(length=IDENTITY_SIZES.get(name, 200)), nullable=True))
        batch_op.add_column(sa.Column('books_opened_on', sa.Date(), nullable=True))
    with op.batch_alter_table('funds') as batch_op:
        batch_op.add_column(sa.Column('ledger_account', sa.String(length=20), nullable=True))
    with op.batch_alter_table('donations') as batch_op:
        batch_op.add_column(sa.Column('quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unit_of_measure', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('bank_reference', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_donations_account_id'), ['account_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_donations_account_id_money_accounts'), 'money_accounts',
                                    ['account_id'], ['id'])
    with op.batch_alter_table('receipts') as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='receipt'))
        batch_op.add_column(sa.Column('issuer', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'),
                                      nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_receipts_kind'), "kind IN ('receipt', 'acknowledgement', 'in_kind_record')")
    with op.batch_alter_table('awards') as batch_op:
        batch_op.add_column(sa.Column('paid_from_account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('voucher_issuer',
                                      sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_awards_paid_from_account_id_money_accounts'), 'money_accounts',
                                    ['paid_from_account_id'], ['id'])
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('receipt_books') as batch_op:
        batch_op.add_column(sa.Column('last_date', sa.Date(), nullable=True))
    # Each series remembers the date of its last document (numbers follow dates from now on).
    bind.execute(sa.text(
        "UPDATE receipt_books SET last_date = (SELECT MAX(d.received_on) FROM receipts r JOIN donations d"
        " ON d.id = r.donation_id WHERE r.book_id = receipt_books.id) WHERE kind = 'receipt'"))
    paid = bind.execute(sa.text(
        "SELECT r.unit_id, a.paid_on FROM awards a JOIN rounds r ON r.id = a.round_id WHERE a.voucher_code IS NOT NULL"
    )).all()
    for book_id, unit_id, year in bind.execute(sa.text(
            "SELECT id, unit_id, year FROM receipt_books WHERE kind = 'voucher'")).all():
        dates = [_as_date(d) for u, d in paid if u == unit_id and d is not None and _as_date(d).year == year]
        if dates:
            bind.execute(sa.text("UPDATE receipt_books SET last_date = :d WHERE id = :id"),
                         {"d": max(dates), "id": book_id})

    now = datetime.now(UTC).isoformat(sep=" ")
    # Every unit's cash account; a bank account to be completed where bank transfers were received.
    bind.execute(sa.text(
        "INSERT INTO money_accounts (unit_id, kind, name, ledger_account, created_at)"
        " SELECT id, 'cash', :name, '111', :now FROM units"), {"name": CASH, "now": now})
    bind.execute(sa.text(
        "INSERT INTO money_accounts (unit_id, kind, name, ledger_account, created_at)"
        " SELECT id, 'bank', :name, '112', :now FROM units WHERE id IN"
        " (SELECT unit_id FROM donations WHERE method = 'bank_transfer')"), {"name": UNCONFIGURED_BANK, "now": now})

    # Goods are not money: in-kind gifts and their voids move from the ledger to the in-kind register.
    bind.execute(sa.text(
        "INSERT INTO in_kind_entries (unit_id, fund_id, donation_id, entry_date, kind, description, value,"
        " document_code, created_at, created_by)"
        " SELECT e.unit_id, e.fund_id, e.donation_id, e.entry_date,"
        " CASE WHEN e.kind = 'reversal' THEN 'reversal' ELSE 'received' END,"
        " COALESCE(d.in_kind_description, e.description), e.amount, e.document_code, e.created_at, e.created_by"
        " FROM ledger_entries e JOIN donations d ON d.id = e.donation_id WHERE d.method = 'in_kind'"
        " ORDER BY e.id"))
    bind.execute(sa.text(
        "DELETE FROM ledger_entries WHERE donation_id IN (SELECT id FROM donations WHERE method = 'in_kind')"))
    # A void annuls in its own period: the reversal takes the gift's date (ledger and register alike).
    for table in ("ledger_entries", "in_kind_entries"):
        bind.execute(sa.text(
            f"UPDATE {table} SET entry_date = (SELECT d.received_on FROM donations d WHERE d.id = {table}.donation_id)"
            f" WHERE kind = 'reversal' AND donation_id IS NOT NULL"))
    # A payment belongs to the unit that paid it: the round's.
    bind.execute(sa.text(
        "UPDATE ledger_entries SET unit_id = (SELECT r.unit_id FROM awards a JOIN rounds r ON r.id = a.round_id"
        " WHERE a.id = ledger_entries.award_id) WHERE kind = 'disbursement' AND award_id IS NOT NULL"))
    bind.execute(sa.text(
        "UPDATE ledger_entries SET account_id = (SELECT m.id FROM money_accounts m WHERE m.unit_id ="
        " ledger_entries.unit_id AND m.kind = CASE WHEN ledger_entries.method = 'bank_transfer' THEN 'bank'"
        " ELSE 'cash' END)"))
    bind.execute(sa.text(
        "UPDATE donations SET account_id = (SELECT m.id FROM money_accounts m WHERE m.unit_id = donations.unit_id"
        " AND m.kind = CASE WHEN donations.method = 'bank_transfer' THEN 'bank' ELSE 'cash' END)"
        " WHERE method <> 'in_kind'"))
    bind.execute(sa.text(
        "UPDATE awards SET paid_from_account_id = (SELECT m.id FROM money_accounts m JOIN rounds r ON"
        " r.unit_id = m.unit_id WHERE r.id = awards.round_id AND m.kind = 'cash') WHERE status = 'paid'"))

    # Ngày mở sổ: the first document's date, else 1 January of the year the unit was created.
    first = {}
    for query in ("SELECT unit_id, MIN(received_on) FROM donations GROUP BY unit_id",
                  "SELECT r.unit_id, MIN(a.paid_on) FROM awards a JOIN rounds r ON r.id = a.round_id"
                  " WHERE a.paid_on IS NOT NULL GROUP BY r.unit_id"):
        for unit_id, earliest in bind.execute(sa.text(query)):
            earliest = _as_date(earliest)
            if earliest is not None and (unit_id not in first or earliest < first[unit_id]):
                first[unit_id] = earliest
    for unit_id, created_at in bind.execute(sa.text("SELECT id, created_at FROM units")).all():
        created = _as_date(created_at) or date.today()
        opened = first.get(unit_id, date(created.year, 1, 1))
        bind.execute(sa.text("UPDATE units SET books_opened_on = :d WHERE id = :id"), {"d": opened, "id": unit_id})

    with op.batch_alter_table('units') as batch_op:
        batch_op.alter_column('books_opened_on', existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_account_id'), ['account_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_account_id_money_accounts'), 'money_accounts',
                                    ['account_id'], ['id'])
    with op.batch_alter_table('receipts') as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=16), server_default=None)


def downgrade():
    bind = op.get_bind()
    # The register's gift lines go back into the ledger as version 1 kept them (goods counted as money).
    bind.execute(sa.text(
        "INSERT INTO ledger_entries (fund_id, unit_id, account_id, entry_date, kind, amount, method, donation_id,"
        " document_code, description, created_at, created_by)"
        " SELECT COALESCE(i.fund_id, d.fund_id), i.unit_id,"
        " (SELECT m.id FROM money_accounts m WHERE m.unit_id = i.unit_id AND m.kind = 'cash'), i.entry_date,"
        " CASE WHEN i.kind = 'reversal' THEN 'reversal' ELSE 'donation' END, i.value, 'in_kind', i.donation_id,"
        " i.document_code, SUBSTR(i.description, 1, 500), i.created_at, i.created_by"
        " FROM in_kind_entries i JOIN donations d ON d.id = i.donation_id WHERE i.kind IN ('received', 'reversal')"))
    bind.execute(sa.text(
        "UPDATE ledger_entries SET unit_id = (SELECT n.unit_id FROM awards a JOIN nominations n ON"
        " n.id = a.nomination_id WHERE a.id = ledger_entries.award_id) WHERE kind = 'disbursement'"
        " AND award_id IS NOT NULL"))
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_account_id_money_accounts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_account_id'))
        batch_op.drop_column('account_id')
    with op.batch_alter_table('receipt_books') as batch_op:
        batch_op.drop_column('last_date')
    with op.batch_alter_table('awards') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_awards_paid_from_account_id_money_accounts'), type_='foreignkey')
        batch_op.drop_column('voucher_issuer')
        batch_op.drop_column('paid_from_account_id')
    with op.batch_alter_table('receipts') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_receipts_kind'), type_='check')
        batch_op.drop_column('issuer')
        batch_op.drop_column('kind')
    with op.batch_alter_table('donations') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_donations_account_id_money_accounts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_donations_account_id'))
        for name in ('bank_reference', 'account_id', 'unit_of_measure', 'quantity'):
            batch_op.drop_column(name)
    with op.batch_alter_table('funds') as batch_op:
        batch_op.drop_column('ledger_account')
    with op.batch_alter_table('units') as batch_op:
        batch_op.drop_column('books_opened_on')
        for name in reversed(IDENTITY):
            batch_op.drop_column(name)
    op.drop_table('in_kind_entries')
    op.drop_table('periods')
    op.drop_index('uq_money_accounts_one_cash', table_name='money_accounts')
    op.drop_table('money_accounts')
