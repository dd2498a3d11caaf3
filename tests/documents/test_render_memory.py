"""A worker's memory comes back after a big document (issue #25): a long book is laid out in child processes, one
chunk each (fundsvc.documents.parallel.write_long_pdf), so the process that asked for it, a gunicorn worker or a
job worker, is back near its resident size once the document is written. bench/render_memory.py shows the same
next to the whole document laid out in the process."""

from __future__ import annotations

import gc
import io
from datetime import date

from pypdf import PdfReader

from fundsvc.documents.parallel import write_long_pdf
from fundsvc.reports.books import CHUNK_LINES

TEMPLATE = "documents/fund_book.html"


def fund_book_context(lines: int) -> dict:
    """A fund book of `lines` lines, as fundsvc.reports.service.write_fund_book_pdf hands it to its template."""
    rows, balance = [], 50_000_000
    for i in range(lines):
        amount = 150_000 + 1_000 * (i % 50) if i % 5 else -400_000
        balance += amount
        rows.append(
            {
                "date": date(2024, 1 + i * 12 // lines, 1 + i % 28),
                "document_code": f"PT-2024-{i:06d}" if amount > 0 else f"PC-2024-{i:06d}",
                "kind": "donation" if amount > 0 else "expense",
                "description": f"Ủng hộ Quỹ Khuyến học của Nhà hảo tâm Nguyễn Thị Hồng Nhung {i}",
                "in": max(0, amount),
                "out": max(0, -amount),
                "balance": balance,
            }
        )
    return {
        "fund": {"code": "KH-ST-TP-P2", "name": "Quỹ Khuyến học phường 2"},
        "unit": {"code": "ST-TP-P2", "name": "Hội Khuyến học phường 2", "address": ""},
        "org_name": "Hội Khuyến học tỉnh Sóc Trăng",
        "date_from": date(2024, 1, 1),
        "date_to": date(2024, 12, 31),
        "period": "Từ ngày 01/01/2024 đến ngày 31/12/2024",
        "opening_balance": 50_000_000,
        "total_in": sum(r["in"] for r in rows),
        "total_out": sum(r["out"] for r in rows),
        "closing_balance": balance,
        "lines": rows,
        "today": date(2025, 1, 2),
        "signers": {"preparer": "Trần Thị Bé", "accountant": "Lê Văn Cường", "head": "Phạm Văn Dũng"},
        "title": "Sổ quỹ Quỹ Khuyến học phường 2",
    }


def resident_mib() -> float:
    """This process's resident set now (not its peak)."""
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kib / 1024


def test_the_parent_is_back_near_its_size_after_a_long_book(tmp_path):
    # Warm: WeasyPrint, the fonts and the stylesheet loaded here by a one-piece document, as a worker has them.
    write_long_pdf(io.BytesIO(), TEMPLATE, fund_book_context(20), rows_key="lines", chunk_size=CHUNK_LINES)
    gc.collect()
    before = resident_mib()
    lines = 2 * CHUNK_LINES  # laid out whole here it takes hundreds of MiB (bench/render_memory.py)
    steps = []
    with open(tmp_path / "book.pdf", "wb") as out:
        write_long_pdf(
            out,
            TEMPLATE,
            fund_book_context(lines),
            rows_key="lines",
            chunk_size=CHUNK_LINES,
            progress=lambda done, total: steps.append((done, total)),
        )
    gc.collect()
    after = resident_mib()
    assert steps[-1] == (4, 4)  # two chunks rendered (in two children), two joined
    assert len(PdfReader(tmp_path / "book.pdf").pages) > 2 * 10
    print(f"resident {before:.0f} MiB before, {after:.0f} MiB after")
    assert after - before < 40, f"resident {before:.0f} MiB before, {after:.0f} MiB after"
