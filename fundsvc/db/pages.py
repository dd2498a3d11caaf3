"""One page of a list, however deep: counted once, its rows found through the index before they are loaded.

A page of an ORM select with eager joins (a gift with its unit, fund, donor and receipt) read as
`LIMIT n OFFSET k` makes the database build the joined rows of all k rows it skips. Here the page's ids are
taken first, by the same select reduced to the entity's id (an index walk in the list's order, no join it does
not filter on), and only those n rows are then loaded with their eager joins: a "deferred join".
"""

from __future__ import annotations

from collections import namedtuple
from functools import cache

from sqlalchemy import Result, Select, func, select
from sqlalchemy.orm import Session


def plain_rows(result: Result) -> list:
    """The rows of `result` as named tuples of their columns: a SQLAlchemy Row's attribute takes about twenty times
    as long to read as a named tuple's, which counts for a serialiser of a thousand rows."""
    return list(map(row_class(tuple(result.keys()))._make, result))


@cache
def row_class(names: tuple[str, ...]) -> type:
    """The named tuple of rows with these columns (one class for each set of names)."""
    return namedtuple("PlainRow", names)


def count_rows(session: Session, query: Select) -> int:
    """How many rows `query` selects (its eager loads and order left out)."""
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def page_rows(session: Session, query: Select, offset: int, limit: int, *, rows: Select | None = None) -> list:
    """The entities of `query` (an ORM select of one entity with an `id`, ordered) from `offset`, `limit` of them,
    in the query's order.

    With `rows` (a select of plain columns, the entity's `id` among them, joined to what they name), the page's
    rows are read by it instead: no ORM object, for a hot list whose answer is written from plain rows."""
    entity = query.column_descriptions[0]["entity"]
    # Unique, in order: a select joined to a one-to-many relation may name an entity twice.
    ids = list(dict.fromkeys(session.scalars(query.with_only_columns(entity.id).limit(limit).offset(offset))))
    if not ids:
        return []
    if rows is not None:
        found = {row.id: row for row in plain_rows(session.execute(rows.where(entity.id.in_(ids))))}
    else:
        found = {row.id: row for row in session.scalars(query.where(entity.id.in_(ids)).order_by(None)).unique()}
    return [found[i] for i in ids]
