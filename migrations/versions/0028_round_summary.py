"""rounds: the last allocation's summary (allocated, remaining, each list's count) and its entries one row each
(round_decisions), so that the round's page reads a page of them instead of the whole result

A round allocated before keeps its compressed result (still the API's answer), and gets its summary and decisions
written from it here. The downgrade drops both: the result still holds everything.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-07 13:00:00

"""

import json

import sqlalchemy as sa
import zstandard
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None

# As fundsvc.allocation.decisions writes them (a copy: a migration must do the same whenever it runs).
OUTCOMES = ("awarded", "waitlisted", "ineligible")
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# The key of the decisions written here (an allocation's are random; any number names them).
ALLOCATION = 1
# A province's round is 100,000 decisions: written a batch at a time.
BATCH = 5000


def upgrade():
    with op.batch_alter_table("rounds") as batch_op:
        batch_op.add_column(sa.Column("result_summary", JSON_TYPE, nullable=True))
    op.create_table(
        "round_decisions",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("allocation", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name="fk_round_decisions_round_id_rounds"),
        sa.PrimaryKeyConstraint("round_id", "allocation", "outcome", "position", name="pk_round_decisions"),
    )
    op.create_index(
        "ix_round_decisions_nomination", "round_decisions", ["round_id", "allocation", "nomination_id"], unique=False
    )
    op.create_index(
        "ix_round_decisions_rank", "round_decisions", ["round_id", "allocation", "outcome", "rank"], unique=False
    )
    _write_from_results()
    # The planner's statistics, with the new table (fundsvc.db.statistics).
    op.execute(sa.text("ANALYZE"))


def _write_from_results() -> None:
    rounds = sa.table(
        "rounds", sa.column("id"), sa.column("result", sa.LargeBinary), sa.column("result_summary", JSON_TYPE)
    )
    decisions = sa.table(
        "round_decisions",
        *(
            sa.column(name)
            for name in ("round_id", "allocation", "outcome", "position", "nomination_id", "rank", "amount", "entry")
        ),
    )
    bind = op.get_bind()
    # One round at a time: a province's result is megabytes.
    for round_id in bind.scalars(
        sa.select(rounds.c.id).where(rounds.c.result.is_not(None)).order_by(rounds.c.id)
    ).all():
        result = json.loads(
            zstandard.decompress(bind.scalar(sa.select(rounds.c.result).where(rounds.c.id == round_id)))
        )
        # A result stored by an early version may lack a list or `remaining` (none, then).
        lists = {outcome: result.get(outcome) or [] for outcome in OUTCOMES}
        summary = {
            "allocation": ALLOCATION,
            "allocated": result.get("allocated", 0),
            "remaining": result.get("remaining", 0),
            "counts": {outcome: len(entries) for outcome, entries in lists.items()},
        }
        bind.execute(sa.update(rounds).where(rounds.c.id == round_id).values(result_summary=summary))
        rows = [
            {
                "round_id": round_id,
                "allocation": ALLOCATION,
                "outcome": outcome,
                "position": position,
                "nomination_id": entry["nomination_id"],
                "rank": entry.get("rank"),
                "amount": entry.get("amount"),
                "entry": json.dumps(entry, ensure_ascii=False, separators=(",", ":")),
            }
            for outcome, entries in lists.items()
            for position, entry in enumerate(entries)
        ]
        for start in range(0, len(rows), BATCH):
            bind.execute(sa.insert(decisions), rows[start : start + BATCH])


def downgrade():
    op.drop_index("ix_round_decisions_rank", table_name="round_decisions")
    op.drop_index("ix_round_decisions_nomination", table_name="round_decisions")
    op.drop_table("round_decisions")
    with op.batch_alter_table("rounds") as batch_op:
        batch_op.drop_column("result_summary")
