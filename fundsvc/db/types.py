"""Column types and the declarative base every model shares: money, JSON, compressed documents, UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import zstandard
from sqlalchemy import JSON, BigInteger, DateTime, LargeBinary, MetaData, TypeDecorator, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, registry

# Alembic needs deterministic constraint names to be able to alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money is an integer number of đồng; BIGINT so a province's yearly total never overflows.
Money = BigInteger
# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def encode_json(document) -> bytes:
    """A document as compact JSON text, keys in the document's own order (so the same document gives the same
    bytes). orjson: a province's 10 MB allocation result takes the json module half a second to write. Every
    key must be a string (else TypeError): allowing others (OPT_NON_STR_KEYS) makes orjson half as slow again."""
    return orjson.dumps(document)


class CompressedDocument(bytes):
    """A JSON document compressed by `CompressedJSON.compress`: a CompressedJSON column stores it as it is."""


class CompressedJSON(TypeDecorator):
    """A JSON document stored whole, zstd-compressed (bytea on PostgreSQL, BLOB on SQLite); read back decoded.

    For documents written and read whole and never queried inside, like a round's allocation result: 10.8 MB of
    JSON for 100,000 nominations, 0.9 MB compressed. Storing the text was most of the cost of an allocation's
    write (PostgreSQL validates json, pglz-compresses it into TOAST and WAL-logs it: 0.2-0.5 s; SQLite writes
    it through its page cache and WAL), and on SQLite every other writer waits for it; zstd's fastest level
    makes a twelfth of the bytes in about 2 ms a MB, and reads them back in 1 ms a MB.

    A value to store may be a document (encoded by `encode_json`), its JSON text already encoded (`bytes` or
    `str`: a service that encodes a document anyway, for its answer or a hash, does not encode it twice, so a
    document that is itself a JSON string must be given encoded), or a CompressedDocument from `compress`
    (stored as it is: compressed before a write transaction, the lock is not held meanwhile). None is NULL.
    Read, a value is the decoded document; `text` selects the stored JSON text instead, decompressed only.
    """

    impl = LargeBinary
    cache_ok = True

    # zstd's fastest level: higher ones take several times as long for a few percent fewer bytes.
    LEVEL = 1

    @classmethod
    def compress(cls, value) -> CompressedDocument:
        """A document, or its JSON text, compressed as a CompressedJSON column stores it."""
        if isinstance(value, CompressedDocument):
            return value
        if isinstance(value, str):
            value = value.encode()
        elif not isinstance(value, bytes | bytearray | memoryview):
            value = encode_json(value)
        # The module's function makes a compression context per call (9 µs): one context must not be shared
        # between threads, and a threaded worker stores from several.
        return CompressedDocument(zstandard.compress(value, cls.LEVEL))

    @staticmethod
    def text(column):
        """`column` selected as the stored document's JSON text (bytes, or None): decompressed, not decoded,
        for an answer that is the document itself."""
        return type_coerce(column, _CompressedJSONText())

    def process_bind_param(self, value, dialect):
        return None if value is None else self.compress(value)

    def process_result_value(self, value, dialect):
        return None if value is None else orjson.loads(zstandard.decompress(value))


class _CompressedJSONText(TypeDecorator):
    """A CompressedJSON column read as its JSON text (see CompressedJSON.text)."""

    impl = LargeBinary
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else zstandard.decompress(value)


class UTCDateTime(TypeDecorator):
    """A UTC instant, timezone-aware when read back on every engine.

    SQLite keeps no offset, so it would hand back naive datetimes: an idempotent replay (read from the
    database) would then print `created_at` without the `+00:00` its first answer had.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # Timestamps are UTC instants (timestamptz on PostgreSQL); printing converts to Asia/Ho_Chi_Minh.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (stored as such on both engines)."""
    return datetime.now(UTC)
