"""Long documents rendered in chunks in a process pool, merged into one file, page-numbered across the whole.

How it works:
1. The rows are cut into chunks; each chunk is rendered by a worker process (spawn context, whose initializer
   warms the cached stylesheet and fonts) with the template's own page numbers turned off (`chunked` = true).
   A worker writes its chunk's PDF to a temporary file and returns only the page count, so neither the pipes nor
   the calling process ever hold the chunks.
2. Once every page count is known, so is the total. The chunks are then copied, one at a time and in order,
   into the output by a streaming PDF writer: each object is written as soon as it is read, and a chunk's
   parsed objects are dropped before the next chunk is opened. Memory stays that of one chunk, whatever the
   length of the document.
3. While a page is copied, "Trang x/y" is drawn in its bottom-right margin with one small font embedded once for
   the whole document: a glyph sheet (the label's characters and the digits, rendered by WeasyPrint with the
   shipped Noto Serif) gives the font object, its glyph codes and their widths.
Same rows give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import lru_cache
from typing import IO, Any

__all__ = [
    "join_pdfs",
    "make_executor",
    "render_chunked_pdf",
    "stamp_page_numbers",
    "write_chunked_pdf",
    "write_long_pdf",
]

DEFAULT_LABEL = "Trang {page}/{pages}"
LABEL_FONT_SIZE = 9.0  # pt, as the templates' own "Trang x/y" when rendered whole
_STAMP_FONT = "FundsvcPageNo"  # resource name of the label's font on every page
_UNITS = {"pt": 1.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "in": 72.0, "px": 0.75}


def _init_worker() -> None:
    """Process-pool initializer: build the cached stylesheet and fonts once per worker."""
    from . import render

    render.warm()


def make_executor(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool suitable for render_chunked_pdf (spawn context, warmed workers); reuse it across calls."""
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
    )


def _render_chunk(template: str, context: dict[str, Any], stylesheets: tuple, path: str) -> int:
    """Render one chunk into the file `path`; returns its number of pages."""
    from . import render

    pdf, pages = render.render_pdf_with_pages(template, context, stylesheets=stylesheets)
    with open(path, "wb") as f:
        f.write(pdf)
    return pages


# ---------------------------------------------------------------------------------------------------------
# The page-number font: one glyph sheet per label, rendered by WeasyPrint.


@lru_cache(maxsize=8)
def _glyph_sheet(chars: str) -> bytes:
    """A one-page PDF showing `chars` in Noto Serif; its one font carries every glyph a page label needs."""
    from html import escape

    from . import render

    # Spaces between the characters keep the shaper from forming ligatures or kerning pairs: each character
    # is then exactly one glyph, found again through the font's ToUnicode map.
    text = " ".join(escape(c) for c in chars)
    html = (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"></head><body>'
        f"<p style=\"font-family: 'Noto Serif'; font-size: {LABEL_FONT_SIZE}pt; white-space: pre\">{text}</p>"
        "</body></html>"
    )
    return render._write(html, ())[0]


def _label_chars(label: str) -> str:
    return "".join(sorted(set(label.format(page="", pages="")) | set("0123456789 ")))


def _length_pt(value: str) -> float:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(pt|mm|cm|in|px)?\s*", value)
    if not match:
        raise ValueError(f"not a length: {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "pt"]


class _LabelFont:
    """The glyph sheet's font: glyph code and width (1/1000 em) of each character it shows."""

    def __init__(self, sheet: bytes) -> None:
        from pypdf import PdfReader

        self.reader = PdfReader(io.BytesIO(sheet))
        fonts = self.reader.pages[0]["/Resources"]["/Font"]
        if len(fonts) != 1:
            raise ValueError("the page label needs characters outside the shipped font")
        self.ref = next(iter(dict.values(fonts)))  # the Type0 font's indirect reference
        font = self.ref.get_object()
        self.codes = _to_unicode(font["/ToUnicode"].get_data().decode("latin-1"))
        descendant = font["/DescendantFonts"][0].get_object()
        self.widths = _cid_widths(descendant.get("/W", []))
        self.default_width = float(descendant.get("/DW", 1000))

    def show(self, text: str) -> tuple[str, float]:
        """(hex string of glyph codes, width in em) of `text`."""
        missing = [c for c in text if c not in self.codes]
        if missing:
            raise ValueError(f"page label characters missing from the glyph sheet: {missing!r}")
        codes = [self.codes[c] for c in text]
        width = sum(self.widths.get(code, self.default_width) for code in codes) / 1000
        return "".join(f"{code:04x}" for code in codes), width


def _to_unicode(cmap: str) -> dict[str, int]:
    """character -> glyph code, from the single-character entries of a ToUnicode CMap."""
    codes: dict[str, int] = {}

    def add(code: int, hex_text: str) -> None:
        text = bytes.fromhex(hex_text).decode("utf-16-be")
        if len(text) == 1:
            codes.setdefault(text, code)

    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            add(int(code, 16), text)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(text, 16)
            for i, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                add(code, f"{start + i:04x}")
    return codes


def _cid_widths(w: Sequence[Any]) -> dict[int, float]:
    """A CIDFont's /W array ([c [w1 w2 …]] or [c_first c_last w] entries) as code -> width."""
    widths: dict[int, float] = {}
    items = [x.get_object() for x in w]
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], list):
            for k, width in enumerate(items[i + 1]):
                widths[first + k] = float(width)
            i += 2
        else:
            for code in range(first, int(items[i + 1]) + 1):
                widths[code] = float(items[i + 2])
            i += 3
    return widths


# ---------------------------------------------------------------------------------------------------------
# A PDF writer that writes each object as soon as it has it.


class _StreamingPdf:
    """Writes a PDF object by object to a binary file; only the cross-reference offsets stay in memory.

    Pages are copied from source PDFs (pypdf readers) with every object they reach, renumbered; objects not
    reachable from a page (the source's catalog, outline, metadata) are left behind, as pypdf's add_page does.
    """

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._md5 = hashlib.md5()  # of every byte written: the document /ID, deterministic
        self._pos = 0
        self._offsets: list[int | None] = [None]  # object number -> offset; 0 is the free list head
        self.pages: list[int] = []
        self.pages_root = self.reserve()
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._md5.update(data)
        self._pos += len(data)

    def reserve(self) -> int:
        """A new object number, to be written later by put()."""
        self._offsets.append(None)
        return len(self._offsets) - 1

    def put(self, obj, number: int | None = None) -> int:
        """Write `obj` now (as object `number`, or a new one); returns its number."""
        number = self.reserve() if number is None else number
        buffer = io.BytesIO()
        obj.write_to_stream(buffer)
        self._offsets[number] = self._pos
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, buffer.getvalue()))
        return number

    def copy(self, reader, roots: Sequence[Any], page_hook: Callable[[Any, int], Any] | None = None) -> list[int]:  # noqa: C901 — a PDF object graph walk: one case per kind of PDF object
        """Write the objects `roots` (indirect references into `reader`) and all they reach; their new numbers.

        A page among the roots loses its /Parent (it joins this document's page tree), gets its inheritable
        attributes made explicit, and goes through page_hook(page, index) (a source-level copy that the hook
        may change; references it adds to objects already written here have no reader and are kept as is).
        """
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

        numbers: dict[tuple[int, int], int] = {}
        pending: list[IndirectObject] = []
        pages = {(r.idnum, r.generation): i for i, r in enumerate(roots) if r.get_object().get("/Type") == "/Page"}

        def ref(indirect: IndirectObject) -> IndirectObject:
            if indirect.pdf is None:  # already one of ours
                return indirect
            key = (indirect.idnum, indirect.generation)
            if key not in numbers:
                numbers[key] = self.reserve()
                pending.append(indirect)
            return IndirectObject(numbers[key], 0, None)

        def convert(obj):
            if isinstance(obj, IndirectObject):
                return ref(obj)
            if isinstance(obj, StreamObject):
                new = StreamObject()
                new._data = obj._data  # the raw, still encoded bytes: copied as they are, with their /Filter
                for key, value in dict.items(obj):
                    if key != "/Length":  # recomputed when written
                        new[NameObject(key)] = convert(value)
                return new
            if isinstance(obj, DictionaryObject):
                return DictionaryObject({NameObject(k): convert(v) for k, v in dict.items(obj)})
            if isinstance(obj, ArrayObject):
                return ArrayObject(convert(v) for v in obj)
            return obj

        result = [ref(r).idnum for r in roots]
        self.pages.extend(n for r, n in zip(roots, result, strict=True) if (r.idnum, r.generation) in pages)
        while pending:
            indirect = pending.pop()
            key = (indirect.idnum, indirect.generation)
            obj = indirect.get_object()
            if key in pages:
                page = DictionaryObject()
                for name in _INHERITABLE:
                    if name not in obj and (value := _inherited(obj, name)) is not None:
                        page[NameObject(name)] = value
                page.update((NameObject(k), v) for k, v in dict.items(obj) if k != "/Parent")
                if page_hook is not None:
                    page_hook(page, pages[key])
                page[NameObject("/Parent")] = IndirectObject(self.pages_root, 0, None)
                obj = page
            self.put(convert(obj), numbers[key])
        return result

    def close(self, info: Mapping[str, str]) -> None:
        """Write the page tree, catalog, info, cross-reference table and trailer."""
        from pypdf.generic import (
            ArrayObject,
            ByteStringObject,
            DictionaryObject,
            IndirectObject,
            NameObject,
            NumberObject,
            TextStringObject,
        )

        kids = ArrayObject(IndirectObject(n, 0, None) for n in self.pages)
        self.put(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Pages"),
                    NameObject("/Kids"): kids,
                    NameObject("/Count"): NumberObject(len(self.pages)),
                }
            ),
            self.pages_root,
        )
        root = self.put(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Catalog"),
                    NameObject("/Pages"): IndirectObject(self.pages_root, 0, None),
                }
            )
        )
        info_number = self.put(DictionaryObject({NameObject(k): TextStringObject(v) for k, v in info.items()}))
        identifier = ByteStringObject(self._md5.digest())
        trailer = DictionaryObject(
            {
                NameObject("/Size"): NumberObject(len(self._offsets)),
                NameObject("/Root"): IndirectObject(root, 0, None),
                NameObject("/Info"): IndirectObject(info_number, 0, None),
                NameObject("/ID"): ArrayObject([identifier, identifier]),
            }
        )
        xref = self._pos
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % len(self._offsets)]
        for offset in self._offsets[1:]:
            if offset is None:  # pragma: no cover - every reserved number is written above
                raise RuntimeError("PDF object reserved but never written")
            lines.append(b"%010d 00000 n \n" % offset)
        self._write(b"".join(lines))
        buffer = io.BytesIO()
        trailer.write_to_stream(buffer)
        self._write(b"trailer\n" + buffer.getvalue() + b"\nstartxref\n%d\n%%%%EOF\n" % xref)


_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _inherited(page, name: str):
    """A page attribute set on an ancestor in the page tree (raw, as stored there)."""
    node = page.get("/Parent")
    while node is not None:
        node = node.get_object()
        if name in node:
            return dict.__getitem__(node, name)
        node = node.get("/Parent")
    return None


class _Labeller:
    """Draws "Trang x/y" on pages as they are copied: one shared font, a few bytes of content per page."""

    def __init__(self, writer: _StreamingPdf, sheet: bytes, label: str, right: str, bottom: str, total: int):
        from pypdf.generic import IndirectObject

        self.writer, self.label, self.total = writer, label, total
        self.right, self.bottom = _length_pt(right), _length_pt(bottom)
        font = _LabelFont(sheet)
        self.show = font.show
        # The font (with its descendant, descriptor, file and ToUnicode map) is written once for the document.
        (number,) = writer.copy(font.reader, [font.ref])
        self.font = IndirectObject(number, 0, None)
        # Every page's own content runs inside q … Q, so the label is drawn in the default coordinate system.
        self.save = IndirectObject(writer.put(_stream(b"q\n")), 0, None)

    def hook(self, first: int) -> Callable[[Any, int], None]:
        """The page_hook for a source whose first page is page number `first` of the document."""
        return lambda page, index: self.stamp(page, first + index)

    def stamp(self, page, number: int) -> None:
        """Add the label's content stream and font to a (source-level) page dictionary."""
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

        box = page["/MediaBox"]
        x1, y0 = float(box[2]), float(box[1])
        codes, width = self.show(self.label.format(page=number, pages=self.total))
        x = x1 - self.right - width * LABEL_FONT_SIZE
        # Centred in the bottom margin: half the margin, less half a capital's height.
        y = y0 + self.bottom / 2 - 0.36 * LABEL_FONT_SIZE
        text = b"Q\nBT\n/%s %g Tf\n1 0 0 1 %.3f %.3f Tm\n<%s> Tj\nET\n" % (
            _STAMP_FONT.encode(),
            LABEL_FONT_SIZE,
            x,
            y,
            codes.encode(),
        )
        old = dict.get(page, "/Contents")
        old = old.get_object() if isinstance(old, IndirectObject) and isinstance(old.get_object(), list) else old
        contents = ArrayObject([self.save])
        contents.extend(old if isinstance(old, list) else [] if old is None else [old])
        contents.append(IndirectObject(self.writer.put(_stream(text)), 0, None))
        page[NameObject("/Contents")] = contents
        # New direct dictionaries for the resources and fonts: a chunk's shared ones stay as they were.
        resources = DictionaryObject(dict.items(page["/Resources"]) if "/Resources" in page else ())
        fonts = DictionaryObject(dict.items(resources["/Font"]) if "/Font" in resources else ())
        fonts[NameObject("/" + _STAMP_FONT)] = self.font
        resources[NameObject("/Font")] = fonts
        page[NameObject("/Resources")] = resources


def _stream(data: bytes):
    from pypdf.generic import StreamObject

    stream = StreamObject()
    stream._data = data
    return stream


# ---------------------------------------------------------------------------------------------------------
# The public functions.


def _merge(
    out: IO[bytes],
    sources: Iterable[Any],
    *,
    total: int,
    label: str,
    right: str,
    bottom: str,
    sheet: bytes | None,
    info: Mapping[str, str],
    first_page: int = 1,
    done: Callable[[], None] | None = None,
) -> None:
    """Copy the pages of `sources` (paths or binary files, `total` pages together) into `out`, numbered."""
    from pypdf import PdfReader

    writer = _StreamingPdf(out)
    labeller = _Labeller(writer, sheet, label, right, bottom, total) if label and sheet else None
    first = first_page
    for source in sources:
        reader = PdfReader(source)
        roots = [page.indirect_reference for page in reader.pages]
        writer.copy(reader, roots, labeller.hook(first) if labeller else None)
        first += len(roots)
        del reader, roots  # this chunk's parsed objects go before the next chunk is read
        if done:
            done()
    writer.close(info)


def stamp_page_numbers(
    pdf: bytes,
    *,
    label: str = DEFAULT_LABEL,
    right: str = "12mm",
    bottom: str = "16mm",
    first_page: int = 1,
    total: int | None = None,
) -> bytes:
    """Overlay "Trang x/y" on every page of a PDF (in its bottom-right margin)."""
    from pypdf import PdfReader

    if total is None:
        total = first_page - 1 + len(PdfReader(io.BytesIO(pdf)).pages)
    out = io.BytesIO()
    _merge(
        out,
        [io.BytesIO(pdf)],
        total=total,
        label=label,
        right=right,
        bottom=bottom,
        sheet=_glyph_sheet(_label_chars(label)),
        info={"/Producer": "fundsvc (WeasyPrint, pypdf)"},
        first_page=first_page,
    )
    return out.getvalue()


def join_pdfs(
    out: IO[bytes], sources: Iterable[Any], *, done: Callable[[], None] | None = None, title: str | None = None
) -> None:
    """The pages of `sources` (PDF bytes, paths or binary files; a generator is read one at a time) one after the
    other into `out`, as they are: each source's objects are written and dropped before the next one is read, so
    memory stays that of one source. `done()` after each."""
    _merge(
        out,
        (io.BytesIO(source) if isinstance(source, bytes) else source for source in sources),
        total=0,
        label="",
        right="0",
        bottom="0",
        sheet=None,
        info={"/Producer": "fundsvc (WeasyPrint, pypdf)", **({"/Title": title} if title else {})},
        done=done,
    )


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> list[list[Any]]:
    rows = list(rows)
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


def write_chunked_pdf(
    out: IO[bytes],
    template: str,
    header_context: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    *,
    chunk_size: int = 250,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    stylesheets: Sequence[Any] = (),
    page_label: str = DEFAULT_LABEL,
    label_right: str = "12mm",
    label_bottom: str = "16mm",
    temp_dir: str | os.PathLike | None = None,
) -> int:
    """Render a long list in parallel chunks into the binary file `out`, numbered "Trang x/y" throughout.

    Returns the number of pages. The template gets `header_context` plus `rows` (this chunk's rows), `chunk` =
    {"index", "first", "last", "row_offset"} and `chunked` = True (so it leaves page numbers to this function).
    `progress(done, total)` is called in the calling process after each step (each chunk rendered, then each
    chunk merged). `workers=1` or a single chunk renders in-process; pass `executor` (see make_executor) to
    reuse a warm pool. The chunks wait in temporary files under `temp_dir` (default: the system's).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    chunks = _chunks(rows, chunk_size)
    n = len(chunks)
    steps = 2 * n
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, steps)

    sheets = tuple(stylesheets)
    own_pool = None
    pool: Executor | None = executor
    if pool is None and n > 1 and (workers is None or workers > 1):
        own_pool = pool = make_executor(min(workers or os.cpu_count() or 1, n))
    try:
        with tempfile.TemporaryDirectory(prefix="fundsvc-chunks-", dir=temp_dir) as tmp:
            paths = [os.path.join(tmp, f"chunk-{i:06d}.pdf") for i in range(n)]
            calls = []
            offset = 0
            for i, (chunk, path) in enumerate(zip(chunks, paths, strict=True)):
                ctx = dict(header_context)
                ctx.update(
                    rows=chunk,
                    chunked=True,
                    chunk={"index": i, "first": i == 0, "last": i == n - 1, "row_offset": offset},
                )
                calls.append((template, ctx, sheets, path))
                offset += len(chunk)
            del chunks
            chars = _label_chars(page_label) if page_label else None
            # Pass 1: render the chunks to files (only page counts come back).
            pages: list[int] = []
            if pool is None:
                for call in calls:
                    pages.append(_render_chunk(*call))
                    step()
                sheet = _glyph_sheet(chars) if chars else None
            else:
                futures = [pool.submit(_render_chunk, *call) for call in calls]
                sheet_future = pool.submit(_glyph_sheet, chars) if chars else None
                for future in futures:
                    pages.append(future.result())
                    step()
                del futures
                sheet = sheet_future.result() if sheet_future else None
            del calls
            # Pass 2: copy them, in order and numbered, into `out`.
            title = header_context.get("title")
            _merge(
                out,
                _unlinking(paths),
                total=sum(pages),
                label=page_label,
                right=label_right,
                bottom=label_bottom,
                sheet=sheet,
                info={"/Producer": "fundsvc (WeasyPrint, pypdf)", **({"/Title": str(title)} if title else {})},
                done=step,
            )
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
    return sum(pages)


def _unlinking(paths: Iterable[str]):
    """Each path in turn, deleted once the next is asked for (the disk holds the chunks not yet merged)."""
    for path in paths:
        with open(path, "rb") as f:
            yield f
        os.unlink(path)


def render_chunked_pdf(template: str, header_context: Mapping[str, Any], rows: Iterable[Mapping[str, Any]], **kwargs):
    """Like write_chunked_pdf, returning the PDF's bytes (for documents that fit in memory)."""
    out = io.BytesIO()
    write_chunked_pdf(out, template, header_context, rows, **kwargs)
    return out.getvalue()


def write_long_pdf(
    out: IO[bytes],
    template: str,
    context: Mapping[str, Any],
    *,
    rows_key: str,
    chunk_size: int,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """A document whose `context[rows_key]` may be long (a book's lines) into the binary file `out`.

    Up to `chunk_size` rows it is one document rendered here; a longer one is rendered by write_chunked_pdf in
    chunks of `chunk_size` rows, each in a child process, so this process never holds more than one chunk's pages
    and the memory a render takes goes with its child. The template reads its rows from `rows_key` when whole and
    from `rows` (with `chunk`, `chunked`) in chunks. `progress(done, total)` as write_chunked_pdf calls it, or once
    at the end of a one-piece document.
    """
    from .render import render_pdf

    rows = context[rows_key]
    if len(rows) <= chunk_size:
        out.write(render_pdf(template, dict(context)))
        if progress:
            progress(1, 1)
        return
    header = {key: value for key, value in context.items() if key != rows_key}
    write_chunked_pdf(out, template, header, rows, chunk_size=chunk_size, progress=progress)
