"""Benchmark: a worker's memory after a long book (issue #25), laid out in child processes next to laid out whole in
the worker, in the same run.

    .venv/bin/python bench/render_memory.py                 # a fund book of 2,000 lines
    .venv/bin/python bench/render_memory.py --lines 1000 --strict

Each way runs in a fresh Python of its own (as a gunicorn or job worker: WeasyPrint, the fonts and the stylesheet
already loaded by a small document), which reports its resident memory (VmRSS) before the book, after it, and its
peak (VmHWM):
- service: fundsvc.documents.parallel.write_long_pdf, the books' way: chunks of books.CHUNK_LINES lines, each laid
  out by a child process, joined here one chunk at a time;
- baseline: the same template and lines laid out whole by WeasyPrint in the process (how the fund book was printed
  before, and what kept a worker at 1.2 GiB after a month's book).
Floor: the worker's resident memory after the book is within 50 MiB of before it. Exit status 0 unless --strict and
the floor is missed.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

FLOOR_MIB = 50


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024


def _one(way: str, lines: int) -> None:
    """In a fresh Python: warm, then the book `way`; prints JSON with the figures."""
    from fundsvc.documents.parallel import write_long_pdf
    from fundsvc.documents.render import render_pdf
    from fundsvc.reports.books import CHUNK_LINES
    from tests.documents.test_render_memory import TEMPLATE, fund_book_context

    write_long_pdf(io.BytesIO(), TEMPLATE, fund_book_context(20), rows_key="lines", chunk_size=CHUNK_LINES)
    context = fund_book_context(lines)
    gc.collect()
    before = _status("VmRSS")
    started = time.perf_counter()
    out = io.BytesIO()
    if way == "children":
        write_long_pdf(out, TEMPLATE, context, rows_key="lines", chunk_size=CHUNK_LINES)
    else:
        out.write(render_pdf(TEMPLATE, context))
    seconds = time.perf_counter() - started
    size = len(out.getvalue())
    del out, context
    gc.collect()
    print(
        json.dumps(
            {"before": before, "after": _status("VmRSS"), "peak": _status("VmHWM"), "seconds": seconds, "bytes": size}
        )
    )


def _measure(way: str, lines: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--one", way, "--lines", str(lines)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--one", choices=["children", "whole"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one, args.lines)
        return 0
    service, baseline = _measure("children", args.lines), _measure("whole", args.lines)
    print(f"fund book of {args.lines} lines, resident MiB of the worker (before → after, peak), seconds")
    for name, figures in (("service (chunks in children)", service), ("baseline (whole in the worker)", baseline)):
        print(
            f"  {name:32} {figures['before']:7.0f} → {figures['after']:7.0f}  peak {figures['peak']:7.0f}"
            f"  {figures['seconds']:6.1f} s"
        )
    kept = service["after"] - service["before"]
    kept_whole = baseline["after"] - baseline["before"]
    ratio = kept_whole / kept if kept > 0 else float("inf")
    ok = kept <= FLOOR_MIB
    print(
        f"kept after the book: service {kept:.0f} MiB, baseline {kept_whole:.0f} MiB, ratio {ratio:.1f}×; "
        f"floor: service within {FLOOR_MIB} MiB of its start  {'ok' if ok else 'FAIL'}"
    )
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
