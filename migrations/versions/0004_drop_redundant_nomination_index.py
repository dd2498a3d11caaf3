"""nominations: drop ix_nominations_student_id

The unique constraint (student_id, academic_year) already indexes student_id as its leading column, so the
separate index only cost every imported row one more B-tree insert.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:30:00

"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nominations_student_id'))


def downgrade():
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nominations_student_id'), ['student_id'], unique=False)
