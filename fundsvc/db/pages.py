"""One page of a list, however deep: counted once, its rows found through the index before they are loaded.

A page of an ORM select with eager joins (a gift with its unit, fund, donor and receipt) read as
`LIMIT n OFFSET k` makes the database build the joined rows of all k rows it skips. Here the page's ids are
taken first, by the same select reduced to the entity's id (an index walk in the list's order, no join it does
not filter on), and only those n rows are then loaded with their eager joins: a "deferred join".
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def count_rows(session: Session, query: Select) -> int:
    """How many rows `query` selects (its eager loads and order left out)."""
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def page_rows(session: Session, query: Select, offset: int, limit: int) -> list:
    """The entities of `query` (an ORM select of one entity with an `id`, ordered) from `offset`, `limit` of them,
    in the query's order."""
    entity = query.column_descriptions[0]["entity"]
    # Unique, in order: a select joined to a one-to-many relation may name an entity twice.
    ids = list(dict.fromkeys(session.scalars(query.with_only_columns(entity.id).limit(limit).offset(offset))))
    if not ids:
        return []
    found = {row.id: row for row in session.scalars(query.where(entity.id.in_(ids)).order_by(None)).unique()}
    return [found[i] for i in ids]
