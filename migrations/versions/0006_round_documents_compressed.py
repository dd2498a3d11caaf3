"""rounds: the allocation result and ranked entries stored zstd-compressed (bytea on PostgreSQL, BLOB on SQLite)

A province's result is 10.8 MB of JSON and its ranked entries 7.6 MB: writing them was most of the cost of storing
an allocation. Compressed (fundsvc.db.CompressedJSON), they are 0.9 and 0.5 MB. Each stored text is compressed
as it is, byte for byte, so result_hash (the sha256 of the result's text) still holds, and so does the downgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
import sqlalchemy as sa
import zstandard
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = ("result", "ranked")
# zstd's fastest level, as CompressedJSON writes (a copy: a migration must do the same whenever it runs).
LEVEL = 1


def _move_documents(new_type, read, write) -> None:
    """Give each document column of rounds `new_type`, its values carried over: `read(column)` selects a stored
    document, `write(value)` makes the new column's value of what it selected.

    Through a new column filled row by row, which then takes the old one's place: SQLite cannot change a
    column's type in place, and batch mode's copy of the table cannot drop `rounds` while awards refer to it
    (the app's connections enforce foreign keys), so no table is recreated. SQLite's ALTER TABLE … DROP COLUMN
    needs 3.35 (2021).
    """
    with op.batch_alter_table("rounds", recreate="never") as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(f"{column}_new", new_type, nullable=True))
    rounds = sa.table("rounds", sa.column("id"), *(sa.column(name) for c in COLUMNS for name in (c, f"{c}_new")))
    bind = op.get_bind()
    stored = sa.or_(*(rounds.c[c].is_not(None) for c in COLUMNS))
    # One round at a time: a province's documents are megabytes each.
    for round_id in bind.scalars(sa.select(rounds.c.id).where(stored).order_by(rounds.c.id)).all():
        row = bind.execute(sa.select(*(read(rounds.c[c]) for c in COLUMNS)).where(rounds.c.id == round_id)).one()
        values = {f"{c}_new": write(value) for c, value in zip(COLUMNS, row, strict=True) if value is not None}
        bind.execute(sa.update(rounds).where(rounds.c.id == round_id).values(values))
    with op.batch_alter_table("rounds", recreate="never") as batch_op:
        for column in COLUMNS:
            batch_op.drop_column(column)
            batch_op.alter_column(f"{column}_new", new_column_name=column)


def upgrade():
    _move_documents(
        sa.LargeBinary(),
        # As text: the json text PostgreSQL kept as written (its driver would decode it), SQLite's as it is.
        read=lambda column: sa.cast(column, sa.Text),
        write=lambda text: sa.literal(zstandard.compress(text.encode(), LEVEL), sa.LargeBinary),
    )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"

    def write(data: bytes):
        text = sa.literal(zstandard.decompress(data).decode(), sa.Text)
        # PostgreSQL takes text into json only cast; on SQLite a cast to JSON would make a number of it.
        return sa.cast(text, sa.JSON) if postgresql else text

    _move_documents(sa.JSON(), read=lambda column: sa.type_coerce(column, sa.LargeBinary), write=write)
