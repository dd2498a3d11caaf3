"""rounds: a ranking stored as one dict per entry (rounds allocated before the ranking was kept by column) rewritten
by column, as the engine now stores it (Ranking.stored()), so that one shape is read

{"nomination_id": [...], "score": [...], "amount": [...], "tier": [...], "outcome": [...], "groups"?: {g: [...]}},
the entries in rank order. The downgrade writes columns back as entries.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:45:00

"""

import json

import sqlalchemy as sa
import zstandard
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ("nomination_id", "score", "amount", "tier", "outcome")
# zstd's fastest level, as CompressedJSON writes (a copy: a migration must do the same whenever it runs).
LEVEL = 1


def by_column(entries: list[dict]) -> dict:
    ordered = sorted(entries, key=lambda e: e.get("rank") or 0)
    doc = {name: [e.get(name) for e in ordered] for name in COLUMNS}
    if any("groups" in e for e in ordered):
        names = sorted({g for e in ordered for g in (e.get("groups") or {})})
        doc["groups"] = {g: [(e.get("groups") or {}).get(g) for e in ordered] for g in names}
    return doc


def by_entry(doc: dict) -> list[dict]:
    entries = []
    for i, values in enumerate(zip(*(doc[name] for name in COLUMNS), strict=True)):
        entry = {"rank": i + 1, **dict(zip(COLUMNS, values, strict=True))}
        if doc.get("groups") is not None:
            entry["groups"] = {g: column[i] for g, column in doc["groups"].items()}
        entries.append(entry)
    return entries


def _rewrite(wanted: type, convert) -> None:
    rounds = sa.table("rounds", sa.column("id"), sa.column("ranked", sa.LargeBinary))
    bind = op.get_bind()
    # One round at a time: a province's ranking is megabytes.
    for round_id in bind.scalars(
        sa.select(rounds.c.id).where(rounds.c.ranked.is_not(None)).order_by(rounds.c.id)
    ).all():
        data = bind.scalar(sa.select(rounds.c.ranked).where(rounds.c.id == round_id))
        document = json.loads(zstandard.decompress(data))
        if isinstance(document, wanted):
            continue
        text = json.dumps(convert(document), ensure_ascii=False, separators=(",", ":"))
        bind.execute(
            sa.update(rounds).where(rounds.c.id == round_id).values(ranked=zstandard.compress(text.encode(), LEVEL))
        )


def upgrade():
    _rewrite(dict, by_column)


def downgrade():
    _rewrite(list, by_entry)
