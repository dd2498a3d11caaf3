"""Chunked parallel rendering: correct "Trang x/y" across the merged document, every row exactly once."""

import io
import re

import pytest
from pypdf import PdfReader

from fundsvc.documents.parallel import (
    make_executor,
    render_chunked_pdf,
    stamp_page_numbers,
)
from fundsvc.documents.render import render_pdf

HEADER = {
    "title": "DANH SÁCH HỌC SINH NHẬN HỌC BỔNG NĂM HỌC 2024–2025",
    "subtitle": "Quỹ Khuyến học phường 2",
    "columns": [
        {"key": "name", "label": "Họ và tên"},
        {"key": "school", "label": "Trường"},
        {"key": "amount", "label": "Số tiền (đồng)", "money": True, "width": "32mm"},
    ],
    "totals": {"amount": 300 * 1_000_000},
    "signatures": [
        {"role": "Người lập danh sách", "name": "Võ Ngọc Ánh"},
        {"role": "Chủ tịch", "name": "Lê Văn Thành"},
    ],
}
ROWS = [
    {
        "name": f"Nguyễn Thị Hồng Nhung {i:04d}",
        "school": "Trường THCS Lê Lợi",
        "amount": 1_000_000,
    }
    for i in range(1, 301)
]


def check(pdf, pages_text, n_rows=300):
    pages = pages_text(pdf)
    total = len(pages)
    assert total > 3
    for i, text in enumerate(pages, 1):
        assert re.findall(r"Trang \d+/\d+", text) == [f"Trang {i}/{total}"], (
            i,
            text[-80:],
        )
    everything = " ".join(pages)
    names = re.findall(r"Nguyễn Thị Hồng Nhung (\d{4})", everything)
    assert names == [f"{i:04d}" for i in range(1, n_rows + 1)]  # each once, in order
    assert everything.count("DANH SÁCH HỌC SINH NHẬN HỌC BỔNG") == 1
    assert everything.count("300.000.000") == 1
    assert "Người lập danh sách".upper() in pages[-1].upper()
    return pages


def test_chunked_parallel_page_numbers(pages_text):
    progress = []
    pdf = render_chunked_pdf(
        "documents/table.html",
        HEADER,
        ROWS,
        chunk_size=40,
        workers=2,
        progress=lambda done, total: progress.append((done, total)),
    )
    check(pdf, pages_text)
    assert progress[-1][0] == progress[-1][1] and len(progress) == progress[-1][1]
    # The same rows give the same bytes, rendered in a pool or in-process.
    assert render_chunked_pdf("documents/table.html", HEADER, ROWS, chunk_size=40, workers=1) == pdf


def test_chunked_with_reused_executor(pages_text):
    with make_executor(2) as pool:
        a = render_chunked_pdf("documents/table.html", HEADER, ROWS, chunk_size=75, executor=pool)
        b = render_chunked_pdf("documents/table.html", HEADER, ROWS[:120], chunk_size=50, executor=pool)
    check(a, pages_text)
    check(b, pages_text, n_rows=120)


def test_single_chunk_and_empty(pages_text):
    pdf = render_chunked_pdf("documents/table.html", HEADER, ROWS[:5], chunk_size=100)
    (text,) = pages_text(pdf)
    assert re.findall(r"Trang \d+/\d+", text) == ["Trang 1/1"]
    empty = render_chunked_pdf("documents/table.html", HEADER, [], chunk_size=100)
    assert len(PdfReader(io.BytesIO(empty)).pages) == 1


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError):
        render_chunked_pdf("documents/table.html", HEADER, ROWS, chunk_size=0)


def test_stamp_page_numbers(pages_text):
    body = render_pdf("documents/table.html", {**HEADER, "rows": ROWS[:100], "chunked": True})
    pages = pages_text(stamp_page_numbers(body))
    assert [re.findall(r"Trang \d+/\d+", t) for t in pages] == [
        [f"Trang {i}/{len(pages)}"] for i in range(1, len(pages) + 1)
    ]
