"""Large reads column by column: a province's nominations as one JSON array per column (see fetch_columns)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice
from operator import gt

import orjson
from sqlalchemy import Boolean, Connection, Date, DateTime, Engine, Integer, Numeric, String, Text, cast, func, select


def fetch_columns(connection: Connection, columns: list, *, where, order_by, parallel: bool = False) -> Columns:
    """The rows `where` holds, in the order of `order_by` (a unique integer or text column), column by column: typed as
    SQLAlchemy would type them, and as JSON texts of the values as the database gave them (what a hash of
    the inputs should cover).

    For large reads (a province's 100,000 nominations). The database gathers each column into one JSON
    array (json_group_array on SQLite, json_agg on PostgreSQL), which orjson reads in C: one row of a
    dozen texts instead of 100,000 rows of driver tuples that would then be transposed. Such columns
    (dates, marks, codes, flags) hold few distinct values, so each distinct value is converted once, and
    equal converted values and texts share one object, which later dict lookups on them compare by identity.
    Supported: integers, strings, booleans, dates and Numerics; anything else raises TypeError.

    `parallel`, on PostgreSQL: the columns are gathered on two other connections of the pool, half on each,
    at once and on one snapshot (see _gather_in_parallel). The read then does not see what `connection`'s
    own transaction has written and not committed.
    """
    dialect = connection.dialect
    if not isinstance(order_by.type, Integer | String):
        raise TypeError(f"fetch_columns: order by an integer or text column, not {order_by.type!r}")
    converters = [_json_converter(column, dialect) for column in columns]
    at = next((i for i, column in enumerate(columns) if column is order_by), None)
    if dialect.name == "postgresql":
        # Numerics as text: a JSON number would come back a float, not the exact Decimal.
        selected = [cast(c, Text) if _is_decimal(c.type) else c for c in columns]
        gather = func.json_agg
    else:
        selected = columns
        gather = func.json_group_array
    # The rows are put in order here, not by the database: they mostly come in order already (SQLite reads
    # them through an index, PostgreSQL in the order they were written), and PostgreSQL would otherwise sort
    # the whole table, or sort it once per column with an ORDER BY inside each aggregate.
    read = selected if at is not None else [*selected, order_by]
    rows = select(*read).where(where).subquery()
    aggregates = [cast(gather(column), Text) for column in rows.c]
    gathered = None
    if parallel and dialect.name == "postgresql" and len(aggregates) > 2:
        gathered = _gather_in_parallel(connection.engine, aggregates, at if at is not None else len(aggregates) - 1)
    if gathered is None:
        gathered = connection.execute(select(*aggregates)).one()
    texts = [text if text is not None else "[]" for text in gathered]
    values = [orjson.loads(text) for text in texts]
    if at is None:  # read only to order the rows by
        order = values.pop()
        texts.pop()
    else:
        order = values[at]
    if any(map(gt, order, islice(order, 1, None))):
        ranks = sorted(range(len(order)), key=order.__getitem__)
        values = [[column[i] for i in ranks] for column in values]
        texts = [orjson.dumps(column).decode() for column in values]
    typed = []
    for column, column_values, convert in zip(columns, values, converters, strict=True):
        if convert is not None:
            # Each distinct value converted once, and its converted value shared by all its rows.
            converted = {value: None if value is None else convert(value) for value in set(column_values)}
            typed.append(list(map(converted.__getitem__, column_values)))
        elif isinstance(column.type, String) and not _mostly_distinct(column_values):
            # The first of the texts equal under == stands for them all (one pass in C): a text's hash is
            # then worked out once, and lookups find their keys by identity.
            first = {}
            typed.append(list(map(first.setdefault, column_values, column_values)))
        else:
            typed.append(column_values)  # numbers, flags (true and false are one object each), ids, codes
    return Columns(texts, typed)


# What pg_export_snapshot() returns, checked before it is written into SET TRANSACTION SNAPSHOT (which takes
# no bound parameter).
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def _gather_in_parallel(engine: Engine, aggregates: list, order_at: int) -> list | None:
    """The one row of `select(*aggregates)`, half of the aggregates computed by a second backend at the same
    time; None if the two halves did not gather the rows in one order.

    PostgreSQL runs a query on one core, and building a province's JSON arrays is most of the read (about
    0.27 s for 100,000 nominations, while the client waits); two backends do it in about half the time on two
    cores. Both halves must describe the same rows in the same order: the first connection exports its
    snapshot (REPEATABLE READ) and the second one reads on it; neither joins the other's scan midway (a
    synchronized scan starts where a running one is), and both gather the order column
    (aggregates[order_at]), which must come out the same.
    """
    order = aggregates[order_at]
    others = [i for i in range(len(aggregates)) if i != order_at]
    halves = [[order_at, *others[0::2]], [order_at, *others[1::2]]]
    rows: dict = {}

    def gather(half: int, connection: Connection) -> None:
        connection.exec_driver_sql("SET LOCAL synchronize_seqscans = off")
        rows[half] = connection.execute(select(order, *(aggregates[i] for i in halves[half][1:]))).one()

    with engine.connect() as first:
        first.execution_options(isolation_level="REPEATABLE READ")
        snapshot = first.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")

        def gather_the_second_half():
            try:
                with engine.connect() as second:
                    second.execution_options(isolation_level="REPEATABLE READ")
                    second.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    gather(1, second)
            except BaseException as error:  # raised again in the calling thread
                rows["error"] = error

        beside = threading.Thread(target=gather_the_second_half, name="fetch_columns", daemon=True)
        beside.start()
        try:
            gather(0, first)
        finally:
            beside.join()
    if "error" in rows:
        raise rows["error"]
    if rows[0][0] != rows[1][0]:
        return None
    gathered: list = [None] * len(aggregates)
    for half, row in rows.items():
        for i, text in zip(halves[half], row, strict=True):
            gathered[i] = text
    return gathered


def _mostly_distinct(values: list, sample: int = 1024) -> bool:
    return len(set(islice(values, sample))) > min(len(values), sample) // 2


def _is_decimal(type_) -> bool:
    return isinstance(type_, Numeric) and type_.asdecimal


def _json_converter(column, dialect):
    """What turns a value of `column` as the database writes it in JSON into SQLAlchemy's typed value."""
    type_ = column.type
    if not isinstance(type_, Integer | String | Boolean | Date | Numeric) or isinstance(type_, DateTime):
        raise TypeError(f"fetch_columns: column {column.key!r} of type {type_!r} is not supported")
    if dialect.name == "postgresql":
        if _is_decimal(type_):
            return Decimal
        return date.fromisoformat if isinstance(type_, Date) else None
    # SQLite's JSON holds the very values its driver would return (integers, reals, text, NULL).
    return type_.dialect_impl(dialect).result_processor(dialect, None)


@dataclass(frozen=True)
class Columns:
    """A query's result column by column: see fetch_columns."""

    texts: list[str]  # each column as the JSON array the database sent
    typed: list[list]  # as SQLAlchemy's column types convert the values (dates, Decimals, bools)
