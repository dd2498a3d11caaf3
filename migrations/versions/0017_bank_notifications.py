"""bank notifications: a statement line may come from a provider's transfer notification (kept once per provider
transaction id), carries the balance the bank prints and the award it paid; the providers' keys per account; the
generic column mapping remembered per account

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 09:45:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('statement_lines') as batch:
        batch.alter_column('import_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('balance', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('provider', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('provider_id', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('award_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_statement_lines_award_id_awards'), 'awards', ['award_id'], ['id'])
        batch.create_unique_constraint(
            op.f('uq_statement_lines_provider_provider_id'), ['provider', 'provider_id']
        )
        batch.create_check_constraint(
            op.f('ck_statement_lines_provider'), "provider IS NULL OR provider IN ('sepay', 'casso')"
        )
    op.create_table(
        'notification_secrets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=10), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("provider IN ('sepay', 'casso')", name=op.f('ck_notification_secrets_provider')),
        sa.ForeignKeyConstraint(['account_id'], ['money_accounts.id'], name=op.f('fk_notification_secrets_account_id_money_accounts')),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_notification_secrets_updated_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_secrets')),
        sa.UniqueConstraint('account_id', 'provider', name=op.f('uq_notification_secrets_account_id_provider')),
    )
    op.create_index(op.f('ix_notification_secrets_account_id'), 'notification_secrets', ['account_id'], unique=False)
    op.create_table(
        'statement_mappings',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('mapping', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['money_accounts.id'], name=op.f('fk_statement_mappings_account_id_money_accounts')),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_statement_mappings_updated_by_users')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_statement_mappings')),
    )


def downgrade():
    op.drop_table('statement_mappings')
    op.drop_table('notification_secrets')
    # Lines a notification brought have no file to belong to: they go with the columns that describe them.
    op.execute('DELETE FROM statement_lines WHERE import_id IS NULL')
    with op.batch_alter_table('statement_lines') as batch:
        batch.drop_constraint(op.f('ck_statement_lines_provider'), type_='check')
        batch.drop_constraint(op.f('uq_statement_lines_provider_provider_id'), type_='unique')
        batch.drop_constraint(op.f('fk_statement_lines_award_id_awards'), type_='foreignkey')
        batch.drop_column('award_id')
        batch.drop_column('provider_id')
        batch.drop_column('provider')
        batch.drop_column('balance')
        batch.alter_column('import_id', existing_type=sa.Integer(), nullable=False)
