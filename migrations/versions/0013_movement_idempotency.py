"""movement idempotency: an Idempotency-Key of POST /movements remembers the movement it recorded

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotency_records') as batch:
        batch.add_column(sa.Column('movement_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_idempotency_records_movement_id_movements'), 'movements', ['movement_id'], ['id']
        )


def downgrade():
    # Keys of movements go with the column: a replay after a downgrade would record the movement again.
    op.execute('DELETE FROM idempotency_records WHERE movement_id IS NOT NULL')
    with op.batch_alter_table('idempotency_records') as batch:
        batch.drop_constraint(op.f('fk_idempotency_records_movement_id_movements'), type_='foreignkey')
        batch.drop_column('movement_id')
