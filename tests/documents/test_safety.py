"""Hostile text in a document prints literally; nothing is fetched, embedded or requested."""

import io
import socket
import threading

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject
from samples import ISSUER, receipt_context, statement_context

from fundsvc.documents import render
from fundsvc.documents.render import DocumentURLError, render_pdf, resolve_asset


@pytest.fixture
def listener():
    """A local TCP server that counts every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the document fetcher is asked for."""
    seen = []
    real = render.resolve_asset

    def spy(url):
        seen.append(url)
        return real(url)

    monkeypatch.setattr(render, "resolve_asset", spy)
    return seen


def hostile(port):
    return [
        '<link rel="attachment" href="file:///etc/passwd">',
        f'<img src="http://127.0.0.1:{port}/x">',
        "<style>body{background:url(file:///etc/passwd)}</style>",
        f"url(http://127.0.0.1:{port}/y) url('file:///etc/passwd')",
        f'"><img src=http://127.0.0.1:{port}/z><a rel=attachment href=/etc/passwd>',
        f"@import url(http://127.0.0.1:{port}/c.css);",
    ]


def all_objects(reader):
    n = int(reader.trailer["/Size"])
    for i in range(1, n):
        try:
            obj = reader.get_object(IndirectObject(i, 0, reader))
        except Exception:
            continue
        if obj is not None:
            yield obj


def assert_nothing_embedded(pdf: bytes):
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.attachments
    assert b"/EmbeddedFile" not in pdf and b"/FileAttachment" not in pdf
    assert "/Names" not in reader.trailer["/Root"] or "/EmbeddedFiles" not in reader.trailer["/Root"]["/Names"]
    for obj in all_objects(reader):
        if isinstance(obj, DictionaryObject):
            assert obj.get("/Type") != "/EmbeddedFile"
            assert obj.get("/Subtype") not in ("/Image", "/FileAttachment")
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject", {})
        for xobj in xobjects.values():
            assert xobj.get_object().get("/Subtype") != "/Image"


def test_hostile_donor_text_prints_literally(listener, fetched, pages_text):
    port, hits = listener
    name, addr, purpose, reason, extra, extra2 = hostile(port)
    ctx = receipt_context(
        payer={"name": name, "address": addr},
        reason=purpose + " " + reason,
        in_kind={"description": extra},
        method="in_kind",
        attachments=extra2,
        issuer={**ISSUER, "printed_name": extra, "address": extra2},
        void={"on": "2024-10-03", "reason": name},
    )
    pdf = render_pdf("documents/receipt.html", ctx)
    text = " ".join(pages_text(pdf))
    for s in hostile(port):
        assert s.replace("\n", " ") in text, s
    assert_nothing_embedded(pdf)
    assert hits == []
    assert all(u.startswith("fundsvc:") for u in fetched), fetched


def test_hostile_statement(listener, fetched, pages_text):
    port, hits = listener
    gifts = [{"date": "2024-01-01", "code": s, "purpose": s, "amount": 1} for s in hostile(port)]
    ctx = statement_context(
        donor={"name": hostile(port)[0], "address": hostile(port)[2]},
        gifts=gifts,
        message=hostile(port)[1],
    )
    pdf = render_pdf("documents/donor_statement.html", ctx)
    text = " ".join(pages_text(pdf))
    assert hostile(port)[0] in text and hostile(port)[2] in text
    assert_nothing_embedded(pdf)
    assert hits == []
    assert all(u.startswith("fundsvc:") for u in fetched), fetched


def test_raw_hostile_html_fetches_nothing(listener, fetched):
    """Defence in depth: even unescaped markup cannot reach the network or the disk through the fetcher."""
    port, hits = listener
    html = f"""<html><head>
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">
      <style>@import url(http://127.0.0.1:{port}/b.css);
             body {{ background: url(file:///etc/passwd) }}
             @font-face {{ font-family: X; src: url(http://127.0.0.1:{port}/f.ttf) }}
             p {{ background-image: url(fundsvc:../../etc/passwd) }}</style></head>
      <body><p style="font-family: X">x</p>
      <img src="http://127.0.0.1:{port}/x.png"><img src="file:///etc/passwd"><img src="/etc/passwd">
      <img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">
      <object data="http://127.0.0.1:{port}/o"></object><embed src="file:///etc/passwd">
      <iframe src="http://127.0.0.1:{port}/i"></iframe>
      <a rel="attachment" href="file:///etc/hostname">a</a>
      <svg><image href="http://127.0.0.1:{port}/s.png" width="10" height="10"/></svg>
      </body></html>"""
    pdf, _ = render._write(html, ())
    assert_nothing_embedded(pdf)
    assert hits == []
    # Asked, and refused: nothing outside fundsvc: was served.
    assert any("127.0.0.1" in u for u in fetched)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/x",
        "https://example.org/font.ttf",
        "ftp://example.org/x",
        "data:text/css,body{}",
        "fundsvc:../../etc/passwd",
        "fundsvc:fonts/../../../../etc/passwd",
        "fundsvc:fonts/..%2f..%2fetc%2fpasswd",
        "fundsvc:fonts/%2e%2e/x",
        "fundsvc:/etc/passwd",
        "fundsvc://etc/passwd",
        "fundsvc:fonts\\..\\..\\x",
        "fundsvc:fonts/",
        "fundsvc:fonts",
        "fundsvc:nope/x.css",
        "fundsvc:css/missing.css",
        "fundsvc:css/base.css?x=1",
        "FILE:///etc/passwd",
        "/etc/passwd",
        "",
    ],
)
def test_fetcher_refuses(url):
    with pytest.raises(DocumentURLError):
        resolve_asset(url)
    with pytest.raises(DocumentURLError):
        render.get_url_fetcher().fetch(url)


def test_fetcher_refuses_symlink_escape(tmp_path, monkeypatch):
    link_root = tmp_path / "img"
    link_root.mkdir()
    (link_root / "evil.svg").symlink_to("/etc/passwd")
    monkeypatch.setitem(render._ROOTS, "img", link_root)
    with pytest.raises(DocumentURLError):
        resolve_asset("fundsvc:img/evil.svg")


@pytest.mark.parametrize(
    ("url", "mime"),
    [
        ("fundsvc:fonts/NotoSerif-Regular.ttf", "font/ttf"),
        ("fundsvc:css/base.css", "text/css"),
        ("fundsvc:img/logo.svg", "image/svg+xml"),
    ],
)
def test_fetcher_serves_package_files(url, mime):
    response = render.get_url_fetcher().fetch(url)
    try:
        assert response.content_type == mime
        assert len(response.read()) > 100
    finally:
        response.close()


def test_fetcher_has_no_network_handlers():
    fetcher = render.get_url_fetcher()
    assert fetcher.handlers == []
    with pytest.raises(DocumentURLError):
        fetcher.open("http://127.0.0.1:9/")
