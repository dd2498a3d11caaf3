"""CompressedJSON: a JSON document stored zstd-compressed, read back decoded, or as its JSON text untouched."""

from __future__ import annotations

import orjson
import pytest
import zstandard
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, type_coerce
from sqlalchemy.types import LargeBinary

from fundsvc.db import CompressedDocument, CompressedJSON, encode_json, write_transaction
from fundsvc.extensions import db

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DOCUMENT = {"round": 3, "awarded": [{"nomination_id": 7, "full_name": "Nguyễn Thị Ánh", "score": "9.25"}]}


@pytest.fixture
def documents(any_app) -> Table:
    """A table of one CompressedJSON column, on SQLite and on PostgreSQL in turn."""
    table = Table(
        "compressed_documents", MetaData(), Column("id", Integer, primary_key=True), Column("doc", CompressedJSON)
    )
    table.create(db.engine)
    return table


def _store(table: Table, value) -> int:
    with write_transaction(db.session):
        return db.session.execute(insert(table).values(doc=value).returning(table.c.id)).scalar_one()


def _read(table: Table, row_id: int, column):
    return db.session.execute(select(column).where(table.c.id == row_id)).scalar_one()


@pytest.mark.parametrize(
    "value, text",
    [
        pytest.param(DOCUMENT, encode_json(DOCUMENT), id="document"),
        # JSON text is stored as given, spaces and all (so a hash of it still holds): it is not encoded again.
        pytest.param('{"round": 3, "tên": "Ánh"}'.encode(), '{"round": 3, "tên": "Ánh"}'.encode(), id="bytes"),
        pytest.param('{"round": 3, "tên": "Ánh"}', '{"round": 3, "tên": "Ánh"}'.encode(), id="str"),
        pytest.param(CompressedJSON.compress(DOCUMENT), encode_json(DOCUMENT), id="compressed"),
    ],
)
def test_a_value_is_stored_compressed_and_read_back(documents, value, text):
    row_id = _store(documents, value)
    stored = _read(documents, row_id, type_coerce(documents.c.doc, LargeBinary))
    assert stored.startswith(ZSTD_MAGIC)
    assert zstandard.decompress(stored) == text  # compressed once, even when given compressed
    assert _read(documents, row_id, CompressedJSON.text(documents.c.doc)) == text
    assert _read(documents, row_id, documents.c.doc) == orjson.loads(text)


def test_none_is_null(documents):
    row_id = _store(documents, None)
    assert _read(documents, row_id, documents.c.doc.is_(None)) in (True, 1)
    assert _read(documents, row_id, documents.c.doc) is None
    assert _read(documents, row_id, CompressedJSON.text(documents.c.doc)) is None


def test_a_document_is_encoded_as_the_services_encode_it():
    """Compact, in the document's own key order, so the same document gives the same text; only string keys."""
    document = {"z": 1, "a": {"7": "bảy", "12": None}}
    compressed = CompressedJSON.compress(document)
    assert isinstance(compressed, CompressedDocument)
    assert zstandard.decompress(compressed) == '{"z":1,"a":{"7":"bảy","12":null}}'.encode()
    assert CompressedJSON.compress(compressed) is compressed
    assert (
        CompressedJSON.compress(bytearray(b"[1]")) == CompressedJSON.compress(b"[1]") == CompressedJSON.compress("[1]")
    )
    with pytest.raises(TypeError):
        CompressedJSON.compress({7: "bảy"})
