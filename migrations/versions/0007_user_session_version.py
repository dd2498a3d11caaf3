"""users: session_version, so that logout and a password change end every session of the user

A web session remembers the version it was opened under; logging out or changing the password increments it,
and a cookie copied before then no longer opens a session. Existing users start at 0; sessions opened before
this revision carry no version and so end once (their users log in again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 09:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_version')
