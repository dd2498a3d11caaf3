"""donors: phones and tax codes stored normalised, names folded and cut into words for search, donors mergeable

Existing donors get their phone in the stored form ("0912 345 678" → "0912345678"), their tax code likewise
("0312345678 001" → "0312345678-001"), their folded name (`name_folded`) and its words (`donor_name_words`), by the
service's own functions (fundsvc.donations.identity), so that an old donor is matched and found exactly as a new one.
A value that cannot be normalised (a phone `phonenumbers` does not hold valid) is kept as it was typed.
`merged_into_id` marks a donor merged into another. Nominations get their folded name (`name_folded`), which the
search by the start of a word of a pupil's name runs on.

The downgrade drops the new columns and table; phones and tax codes stay in their normalised form (which the old
schema accepts: the typed spelling is not kept anywhere).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:45:00

"""

import sqlalchemy as sa
from alembic import op

from fundsvc.donations.identity import WORD_LENGTH, name_words, normalize_phone, normalize_tax_code, stored_or_typed
from fundsvc.students.normalize import fold

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 2000  # donors read and rewritten at a time


def _word_type():
    return sa.String(length=WORD_LENGTH).with_variant(sa.String(length=WORD_LENGTH, collation="C"), "postgresql")


def upgrade():
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_folded", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_donors_merged_into_id_donors"), "donors", ["merged_into_id"], ["id"])
    op.create_table(
        "donor_name_words",
        sa.Column("word", _word_type(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["donor_id"], ["donors.id"], name=op.f("fk_donor_name_words_donor_id_donors")),
        sa.PrimaryKeyConstraint("word", "donor_id", name=op.f("pk_donor_name_words")),
    )
    op.add_column("nominations", sa.Column("name_folded", sa.String(length=200), nullable=True))
    _rewrite_donors()
    _fold_nomination_names()
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.alter_column("name_folded", existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.alter_column("name_folded", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index(batch_op.f("ix_donors_name_folded"), ["name_folded"], unique=False)
    with op.batch_alter_table("donor_name_words", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donor_name_words_donor_id"), ["donor_id"], unique=False)


def _rewrite_donors() -> None:
    donors = sa.table(
        "donors",
        sa.column("id"),
        sa.column("name"),
        sa.column("phone"),
        sa.column("tax_code"),
        sa.column("name_folded"),
    )
    words = sa.table("donor_name_words", sa.column("word"), sa.column("donor_id"))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(donors.c.id, donors.c.name, donors.c.phone, donors.c.tax_code)
            .where(donors.c.id > last)
            .order_by(donors.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            bind.execute(
                sa.update(donors)
                .where(donors.c.id == row.id)
                .values(
                    name_folded=fold(row.name),
                    phone=stored_or_typed(normalize_phone, row.phone),
                    tax_code=stored_or_typed(normalize_tax_code, row.tax_code),
                )
            )
        found = [{"word": word, "donor_id": row.id} for row in rows for word in name_words(row.name)]
        if found:
            bind.execute(sa.insert(words), found)
        last = rows[-1].id


def _fold_nomination_names() -> None:
    nominations = sa.table("nominations", sa.column("id"), sa.column("full_name"), sa.column("name_folded"))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(nominations.c.id, nominations.c.full_name)
            .where(nominations.c.id > last)
            .order_by(nominations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(nominations).where(nominations.c.id == sa.bindparam("row_id")),
            [{"row_id": row.id, "name_folded": fold(row.full_name)} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.drop_column("name_folded")
    with op.batch_alter_table("donor_name_words", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_name_words_donor_id"))
    op.drop_table("donor_name_words")
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donors_name_folded"))
        batch_op.drop_constraint(batch_op.f("fk_donors_merged_into_id_donors"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("name_folded")
