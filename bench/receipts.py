"""Benchmark: gifts' documents (Phiếu thu, Giấy xác nhận tài trợ, Biên bản tiếp nhận hiện vật) rendered on first
fetch through the API vs WeasyPrint alone, same run; per kind, each form against its own text as plain paragraphs
on the same page size (plain: floor, a form at most 2× its plain text).

    .venv/bin/python bench/receipts.py                  # 60 receipts per case in turns of 5, 500 stored fetches
    .venv/bin/python bench/receipts.py --receipts 200 --batch 10 --strict

A temp dir gets a migrated SQLite database with the demo unit tree, an admin token and --receipts (+ 5 for the
warm-up) donations recorded through `POST /api/v1/donations` (varied donors, amounts, methods). Each case then
runs in a process of its own (neither shares the other's caches or heap), both warmed up on the same 5 receipts:

* service  : `GET /api/v1/receipts/{id}.pdf` through the Flask test client on a private copy of the database,
             every measured receipt a first fetch: token, scope, loading, template, WeasyPrint, storing the PDF.
             Afterwards --fetches repeated GETs of the now stored receipts (checked to be the first bytes).
* baseline : WeasyPrint alone on the very same HTML (made beforehand by the service's own functions, render_html
             over receipt_context): `HTML(string=...).write_pdf(stylesheets=[css], font_config=fc)` reusing one
             compiled CSS and one FontConfiguration across renders: the floor for overhead.

The cases take turns of --batch receipts, so the load of everything else on a shared machine falls on both
alike. Prints receipts/s, the median latency and the CPU time per receipt of each, the ratio service/baseline
(floor 0.8) as ok/MISSED, and the stored fetches' req/s and median. Exit status 0 unless --strict and the floor
is missed.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

FLOOR = 0.8
FORM_FLOOR = 2.0  # a form may take at most twice its text set as plain paragraphs
WARMUP = 5  # receipts rendered before the measured ones, in every case

DONORS = [
    ("Công ty TNHH Minh Phát", "organization", "Số 12 Lê Lợi, Phường 6, TP. Sóc Trăng"),
    ("Nguyễn Thị Thu Hà", "person", "Ấp Phú Hữu, xã Long Đức, huyện Long Phú"),
    ("Trần Văn Đức", "person", "Khóm 3, Phường 2, thị xã Vĩnh Châu"),
    ("Thạch Thị Sa Ry", "person", "Ấp Trà Quýt A, xã Thuận Hòa, huyện Châu Thành"),
    ("Ngân hàng Nông nghiệp chi nhánh Sóc Trăng", "organization", "Số 2 Trần Hưng Đạo, TP. Sóc Trăng"),
    ("Lâm Quốc Khánh", "person", ""),
]
PURPOSES = [
    "Ủng hộ Quỹ Khuyến học năm 2024",
    "Khuyến học khuyến tài",
    None,
    "Tặng học bổng cho học sinh nghèo vượt khó",
]


def donation_body(i: int, rnd: random.Random, count: int) -> dict:
    name, kind, address = DONORS[i % len(DONORS)]
    method = rnd.choice(["cash", "cash", "bank_transfer", "in_kind"])
    body = {
        "donor": {"name": f"{name} {i}" if kind == "person" else name, "kind": kind, "address": address},
        "fund": "KH",
        "unit": "ST-TP-P2",
        # Round and odd amounts alike, so the amount in words varies (mốt, lăm, linh, nghìn, triệu, tỷ …).
        "amount": rnd.choice([500_000, 1_250_000, 5_000_000, 21_005_000, 100_000_000, 1_001_015_000])
        + rnd.randrange(0, 1000) * 1000,
        "method": method,
        # Spread over the year in order: each series numbers its documents in date order.
        "received_on": (date(2024, 1, 1) + timedelta(days=i * 360 // max(1, count))).isoformat(),
    }
    if PURPOSES[i % len(PURPOSES)]:
        body["purpose"] = PURPOSES[i % len(PURPOSES)]
    if method == "in_kind":
        body["in_kind_description"] = f"{10 + i} bộ sách giáo khoa và {100 + i} quyển vở"
    return body


def prepare(tmp: str, count: int) -> dict:
    """The template database (migrated, demo tree, admin, `count` donations) and the HTML of each receipt."""
    from flask_migrate import upgrade
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from fundsvc import create_app
    from fundsvc.auth.models import User
    from fundsvc.auth.service import create_user
    from fundsvc.demo.load import load_demo
    from fundsvc.documents.render import render_html
    from fundsvc.documents.service import RECEIPT_TEMPLATES, DocumentSettings, receipt_context
    from fundsvc.donations.models import Donation, Receipt
    from fundsvc.extensions import db
    from fundsvc.ledger.models import MoneyAccount

    logging.disable(logging.INFO)  # alembic's progress lines
    path = os.path.join(tmp, "template.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    rnd = random.Random(7)
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0, users=False)
        _user, token = create_user(db.session, "bench-admin", "admin", full_name="Lê Thị Bench")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        ids = []
        for i in range(count):
            response = client.post("/api/v1/donations", json=donation_body(i, rnd, count), headers=headers)
            if response.status_code != 201:
                raise SystemExit(f"POST /api/v1/donations: {response.status_code} {response.get_data(as_text=True)}")
            ids.append(response.get_json()["receipt"]["id"])
        # The same HTML the service renders: the same context and template functions, outside any timing.
        settings = DocumentSettings.from_config(app.config)
        html, kinds = [], []
        for receipt_id in ids:
            receipt = db.session.scalar(
                select(Receipt)
                .where(Receipt.id == receipt_id)
                .options(joinedload(Receipt.donation).joinedload(Donation.donor))
            )
            preparer = db.session.scalar(select(User.full_name).where(User.id == receipt.donation.created_by))
            template = RECEIPT_TEMPLATES[receipt.kind]
            account = db.session.get(MoneyAccount, receipt.donation.account_id) if receipt.donation.account_id else None
            html.append(render_html(template, receipt_context(receipt, settings, preparer, account)))
            kinds.append(receipt.kind)
        db.session.remove()
        db.engine.dispose()  # the last connection closing checkpoints the WAL into the file we copy
    with open(os.path.join(tmp, "receipts.json"), "w", encoding="utf-8") as f:
        json.dump({"ids": ids, "html": html, "kinds": kinds, "token": token}, f)
    return {"db": path, "data": os.path.join(tmp, "receipts.json")}


class Worker:
    """A case in a process of its own, driven batch by batch over a pipe (one JSON line each way)."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--case", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.ask({"op": "ready"})

    def ask(self, message: dict) -> dict:
        self.proc.stdin.write(json.dumps(message) + "\n")
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"bench case {self.proc.args[3]} died (exit {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def serve(handle) -> None:
    """The worker side: answer each command line with one JSON line (anything else printed goes to stderr)."""
    out, sys.stdout = sys.stdout, sys.stderr
    for line in sys.stdin:
        out.write(json.dumps(handle(json.loads(line))) + "\n")
        out.flush()


def timed(fn, items) -> dict:
    """Wall latency of fn(item) for each item, the batch's wall and CPU seconds, and the output sizes."""
    latencies, sizes = [], []
    cpu, start = time.process_time(), time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        sizes.append(fn(item))
        latencies.append(time.perf_counter() - t0)
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "latencies": latencies,
        "bytes": sizes,
    }


def case_service(db_template: str, data_file: str) -> None:
    """GET /api/v1/receipts/{id}.pdf through the Flask test client on a private copy of the database."""
    from fundsvc import create_app

    with open(data_file, encoding="utf-8") as f:
        data = json.load(f)
    tmp = tempfile.mkdtemp(prefix="fundsvc-bench-receipts-")
    try:
        path = os.path.join(tmp, "service.sqlite3")
        shutil.copy(db_template, path)
        logging.disable(logging.INFO)
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {data['token']}"}
        ids = data["ids"]
        first: dict[int, bytes] = {}

        def get(index: int) -> int:
            response = client.get(f"/api/v1/receipts/{ids[index]}.pdf", headers=headers)
            body = response.get_data()
            if response.status_code != 200 or not body.startswith(b"%PDF"):
                raise SystemExit(f"GET receipt {ids[index]}: {response.status_code} {body[:300]!r}")
            if first.setdefault(index, body) != body:
                raise SystemExit(f"GET receipt {ids[index]}: other bytes than at the first fetch")
            return len(body)

        serve(lambda m: timed(get, m["indexes"]) if m["op"] == "render" else {})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_baseline(data_file: str, plain: bool = False) -> None:
    """WeasyPrint alone on the same HTML (or, `plain`, on its text as paragraphs), with one compiled CSS and one
    FontConfiguration reused."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from fundsvc.documents.render import ASSETS_DIR, PackageURLFetcher

    with open(data_file, encoding="utf-8") as f:
        html = json.load(f)["html"]
    if plain:
        html = [plain_paragraphs(h) for h in html]
    # The fonts are package files named by fundsvc: URLs, so WeasyPrint needs a fetcher that can read them;
    # a fetcher of its own, not the service's cached one.
    fetcher = PackageURLFetcher()
    font_config = FontConfiguration()
    css = CSS(
        string=(ASSETS_DIR / "css" / "base.css").read_text(encoding="utf-8"),
        url_fetcher=fetcher,
        font_config=font_config,
    )

    def render(index: int) -> int:
        return len(HTML(string=html[index], url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=font_config))

    serve(lambda m: timed(render, m["indexes"]) if m["op"] == "render" else {})


def plain_paragraphs(html: str) -> str:
    """The same text as the form, as plain paragraphs on the same page size: what the form's layout costs over text."""
    body = re.sub(r"(?s)<(style|script|title)[^>]*>.*?</\1>", "", html)
    text = [html_lib.unescape(t).strip() for t in re.split(r"<[^>]+>", body)]
    paragraphs = "".join(f"<p>{html_lib.escape(t)}</p>" for t in text if t)
    page = "<style>@page { size: A5 landscape; margin: 10mm }</style>"
    return f"<html><head>{page}</head><body>{paragraphs}</body></html>"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=60, help="measured first renders per case")
    parser.add_argument("--batch", type=int, default=5, help="receipts per turn; the cases take turns")
    parser.add_argument("--fetches", type=int, default=500, help="repeated fetches of stored receipts")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a floor is missed")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        name, *rest = args.case
        if name == "service":
            case_service(*rest)
        else:
            case_baseline(*rest, plain=name == "plain")
        return 0

    tmp = tempfile.mkdtemp(prefix="fundsvc-bench-receipts-")
    workers: dict[str, Worker] = {}
    try:
        files = prepare(tmp, args.receipts + WARMUP)
        workers["baseline"] = Worker("baseline", files["data"])
        workers["service"] = Worker("service", files["db"], files["data"])
        workers["plain"] = Worker("plain", files["data"])
        for worker in workers.values():
            worker.ask({"op": "render", "indexes": list(range(WARMUP))})
        totals = {name: {"seconds": 0.0, "cpu": 0.0, "latencies": [], "bytes": []} for name in workers}
        # Small alternating turns, so the load of everything else on the machine falls on both cases alike.
        for turn, first in enumerate(range(WARMUP, WARMUP + args.receipts, args.batch)):
            indexes = list(range(first, min(first + args.batch, WARMUP + args.receipts)))
            order = ("baseline", "service", "plain") if turn % 2 == 0 else ("service", "plain", "baseline")
            for name in order:
                result = workers[name].ask({"op": "render", "indexes": indexes})
                for key in totals[name]:
                    totals[name][key] += result[key]
        # Every measured receipt is stored now: fetch them again and again.
        measured = list(range(WARMUP, WARMUP + args.receipts))
        stored = workers["service"].ask(
            {"op": "render", "indexes": [measured[i % len(measured)] for i in range(args.fetches)]}
        )
        with open(files["data"], encoding="utf-8") as f:
            kinds = json.load(f)["kinds"]
    finally:
        for worker in workers.values():
            worker.close()
        shutil.rmtree(tmp, ignore_errors=True)

    n = args.receipts
    rate = {name: n / t["seconds"] for name, t in totals.items()}
    median = {name: statistics.median(t["latencies"]) * 1000 for name, t in totals.items()}
    cpu = {name: t["cpu"] / n * 1000 for name, t in totals.items()}
    ratio = rate["service"] / rate["baseline"]
    print(
        f"Receipts (Phiếu thu, A5, 2 liên): {n} first renders per case in turns of {args.batch}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':46} {'receipts/s':>10} {'median ms':>10} {'CPU ms':>8} {'PDF kB':>7}")
    for label, name in (
        ("service: GET /api/v1/receipts/{id}.pdf, first", "service"),
        ("baseline: WeasyPrint alone, same HTML", "baseline"),
    ):
        size = statistics.mean(totals[name]["bytes"]) / 1000
        print(f"{label:46} {rate[name]:10.2f} {median[name]:10.1f} {cpu[name]:8.0f} {size:7.1f}")
    ok = ratio >= FLOOR
    print(
        f"ratio service/baseline {ratio:.2f} (floor {FLOOR}) {'ok' if ok else 'MISSED'}; "
        f"CPU per receipt ratio baseline/service {cpu['baseline'] / cpu['service']:.2f}"
    )
    # Per document kind: the service's first renders, and each form against its own text as plain paragraphs.
    measured_kinds = kinds[WARMUP : WARMUP + n]
    print(f"{'by kind':24} {'n':>4} {'service /s':>10} {'form ms':>8} {'plain ms':>9} {'form/plain':>10}")
    form_ok = True
    for kind in sorted(set(measured_kinds)):
        picks = [i for i, k in enumerate(measured_kinds) if k == kind]
        service_ms = statistics.median(totals["service"]["latencies"][i] for i in picks) * 1000
        form_ms = statistics.median(totals["baseline"]["latencies"][i] for i in picks) * 1000
        plain_ms = statistics.median(totals["plain"]["latencies"][i] for i in picks) * 1000
        form_ok &= form_ms / plain_ms <= FORM_FLOOR
        print(
            f"{kind:24} {len(picks):4d} {1000 / service_ms:10.2f} {form_ms:8.0f} {plain_ms:9.0f}"
            f" {form_ms / plain_ms:10.2f}"
        )
    print(f"a form's render over its plain text: at most {FORM_FLOOR}× {'ok' if form_ok else 'MISSED'}")
    print(
        f"stored receipt, repeated GET: {args.fetches / stored['seconds']:.1f} req/s, "
        f"median {statistics.median(stored['latencies']) * 1000:.2f} ms ({args.fetches} fetches, same bytes)"
    )
    return 1 if args.strict and not (ok and form_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
