"""Long documents rendered in chunks in a process pool, merged with pypdf, page-numbered across the whole.

How it works:
1. The rows are cut into chunks; each chunk is rendered by a worker process (spawn context, whose initializer
   warms the cached stylesheet and fonts) with the template's own page numbers turned off (`chunked` = true).
   A worker returns only PDF bytes and a page count: no WeasyPrint Document outlives its chunk.
2. Once every chunk's page count is known, the total is known: each chunk is stamped in a worker with an overlay
   PDF (rendered by WeasyPrint with the shipped fonts) carrying "Trang x/y" in the bottom margin, merged onto the
   chunk's pages with pypdf.
3. The stamped chunks are concatenated, in order, into one PDF.
Same rows give the same bytes.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

__all__ = ["make_executor", "render_chunked_pdf", "stamp_page_numbers"]

DEFAULT_LABEL = "Trang {page}/{pages}"

# Stamp geometry: the label is printed in the bottom-right margin box of a page of the same size, so it falls
# in the bottom margin of the documents (base.css and the list templates keep ≥ 15 mm there).
_STAMP_CSS = """
@page {{ size: {w}pt {h}pt; margin: 0 {right} {bottom} 0;
  @bottom-right {{ content: string(pageno); font-family: "Noto Serif"; font-size: 9pt;
                  vertical-align: middle; text-align: right; }} }}
html, body {{ margin: 0; background: transparent; }}
.p {{ string-set: pageno attr(data-label); height: 1px; }}
.p + .p {{ break-before: page; }}
"""


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


def _render_chunk(
    template: str, context: dict[str, Any], stylesheets: tuple
) -> tuple[bytes, int]:
    from . import render

    return render.render_pdf_with_pages(template, context, stylesheets=stylesheets)


def _stamp_pdf(
    sizes: Sequence[tuple[float, float]], labels: Sequence[str], right: str, bottom: str
) -> bytes:
    """An overlay PDF: one transparent page per label, the label in the bottom-right corner."""
    from html import escape

    from . import render

    w, h = sizes[0]
    html = (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><style>'
        + _STAMP_CSS.format(w=round(w, 3), h=round(h, 3), right=right, bottom=bottom)
        + "</style></head><body>"
        + "".join(
            f'<div class="p" data-label="{escape(label, quote=True)}"></div>'
            for label in labels
        )
        + "</body></html>"
    )
    return render._write(html, ())[0]


def _stamp_chunk(
    pdf: bytes, first_page: int, total: int, label: str, right: str, bottom: str
) -> bytes:
    """Chunk PDF with "Trang x/y" merged onto each page (x counted from first_page)."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    labels = [label.format(page=first_page + i, pages=total) for i in range(n)]
    # Pages of one template share a size; render one overlay per run of equal sizes.
    stamps: list = []
    start = 0
    while start < n:
        end = start
        while end < n and sizes[end] == sizes[start]:
            end += 1
        stamp = PdfReader(
            io.BytesIO(_stamp_pdf(sizes[start:end], labels[start:end], right, bottom))
        )
        stamps.extend(stamp.pages)
        start = end
    writer = PdfWriter()
    for page, stamp in zip(reader.pages, stamps, strict=True):
        added = writer.add_page(page)
        added.merge_page(stamp, over=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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

    n = len(PdfReader(io.BytesIO(pdf)).pages)
    return _stamp_chunk(
        pdf, first_page, total if total is not None else n, label, right, bottom
    )


def _chunks(rows: Iterable[Mapping[str, Any]], size: int) -> list[list[Any]]:
    rows = list(rows)
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


def render_chunked_pdf(
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
) -> bytes:
    """Render a long list in parallel chunks and merge them into one PDF numbered "Trang x/y" throughout.

    The template gets `header_context` plus `rows` (this chunk's rows), `chunk` = {"index", "first", "last",
    "row_offset"} and `chunked` = True (so it leaves page numbers to this function). `progress(done, total)` is
    called in the calling process after each step (chunks rendered, then chunks stamped). `workers=1` or a
    single chunk renders in-process; pass `executor` (see make_executor) to reuse a warm pool.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    from pypdf import PdfReader, PdfWriter

    chunks = _chunks(rows, chunk_size)
    n = len(chunks)
    steps = 2 * n
    done = 0
    contexts = []
    offset = 0
    for i, chunk in enumerate(chunks):
        ctx = dict(header_context)
        ctx.update(
            rows=chunk,
            chunked=True,
            chunk={
                "index": i,
                "first": i == 0,
                "last": i == n - 1,
                "row_offset": offset,
            },
        )
        contexts.append(ctx)
        offset += len(chunk)
    sheets = tuple(stylesheets)

    own_pool = None
    pool: Executor | None = executor
    if pool is None and n > 1 and (workers is None or workers > 1):
        own_pool = pool = make_executor(min(workers or os.cpu_count() or 1, n))
    try:
        # Pass 1: render the chunks (only bytes come back).
        results: list[tuple[bytes, int]] = []
        if pool is None:
            for ctx in contexts:
                results.append(_render_chunk(template, ctx, sheets))
                done += 1
                if progress:
                    progress(done, steps)
        else:
            futures = [
                pool.submit(_render_chunk, template, ctx, sheets) for ctx in contexts
            ]
            del contexts
            for fut in futures:
                results.append(fut.result())
                done += 1
                if progress:
                    progress(done, steps)
            del futures
        total = sum(pages for _, pages in results)
        firsts = []
        acc = 1
        for _, pages in results:
            firsts.append(acc)
            acc += pages

        # Pass 2: stamp page numbers and append in order.
        writer = PdfWriter()
        args = [
            (pdf, first, total, page_label, label_right, label_bottom)
            for (pdf, _), first in zip(results, firsts)
        ]
        results.clear()
        if pool is None:
            stamped = (_stamp_chunk(*a) for a in args)
        else:
            stamped = (
                f.result() for f in [pool.submit(_stamp_chunk, *a) for a in args]
            )
        for i, pdf in enumerate(stamped):
            args[i] = None  # drop the unstamped bytes as we go
            for page in PdfReader(io.BytesIO(pdf)).pages:
                writer.add_page(page)
            done += 1
            if progress:
                progress(done, steps)
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)

    title = header_context.get("title")
    writer.add_metadata(
        {
            "/Producer": "fundsvc (WeasyPrint, pypdf)",
            **({"/Title": str(title)} if title else {}),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
