"""rounds: the allocation result and ranked entries as json, not jsonb, on PostgreSQL

They are stored and read whole, never queried inside; PostgreSQL writes a province's 10 MB result in a third of the
time as json (no binary form to build). SQLite keeps JSON as text either way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = ("result", "ranked")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.alter_column(
            "rounds", column, type_=sa.JSON(), existing_type=postgresql.JSONB(), postgresql_using=f"{column}::json"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.alter_column(
            "rounds", column, type_=postgresql.JSONB(), existing_type=sa.JSON(), postgresql_using=f"{column}::jsonb"
        )
