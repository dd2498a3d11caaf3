"""nomination withdraw: the reason a nomination was withdrawn gets its own column; one record's audit history is
found by an index (a nomination's page shows it)

Before, a withdrawal appended " [Rút: <reason>]" to the nomination's note (the school's own text). The data
migration moves that reason out of the note of every withdrawn nomination into ``withdrawal_reason`` and gives the
note back as the school wrote it; the downgrade writes it back into the note as before. A note cut at 1,000
characters lost its closing bracket: such a note is left as it is (its reason cannot be told from the school's text).

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-07 13:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0021'
branch_labels = None
depends_on = None

MARKER = "[Rút: "
NOTE_LIMIT = 1000

nominations = sa.table(
    "nominations",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("note", sa.String),
    sa.column("withdrawal_reason", sa.String),
)


def split_note(note: str | None) -> tuple[str | None, str | None]:
    """(the school's note, the withdrawal reason) of a note an old withdrawal wrote; (note, None) when it holds none."""
    if not note or not note.endswith("]"):
        return note, None
    at = note.rfind(MARKER)
    if at < 0:
        return note, None
    return note[:at].rstrip() or None, note[at + len(MARKER) : -1]


def joined_note(note: str | None, reason: str | None) -> str | None:
    """The note as an old withdrawal wrote it (the inverse of ``split_note``)."""
    return note if not reason else f"{note or ''} {MARKER}{reason}]".strip()[:NOTE_LIMIT]


def upgrade():
    op.create_index("ix_audit_events_entity", "audit_events", ["entity", "entity_id", "id"], unique=False)
    op.add_column("nominations", sa.Column("withdrawal_reason", sa.String(length=500), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(nominations.c.id, nominations.c.note).where(
            nominations.c.status == "withdrawn", nominations.c.note.contains(MARKER)
        )
    ).all()
    for nomination_id, note in rows:
        kept, reason = split_note(note)
        if reason is not None:
            conn.execute(
                nominations.update()
                .where(nominations.c.id == nomination_id)
                .values(note=kept, withdrawal_reason=reason[:500])
            )


def downgrade():
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(nominations.c.id, nominations.c.note, nominations.c.withdrawal_reason).where(
            nominations.c.withdrawal_reason.is_not(None)
        )
    ).all()
    for nomination_id, note, reason in rows:
        conn.execute(
            nominations.update().where(nominations.c.id == nomination_id).values(note=joined_note(note, reason))
        )
    with op.batch_alter_table("nominations") as batch_op:
        batch_op.drop_column("withdrawal_reason")
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
