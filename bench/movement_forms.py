"""Benchmark: the movements' forms (Phiếu chi, Ủy nhiệm chi, Phiếu kế toán) against their own text set as plain
paragraphs on the same page size, in the same run (floor: a form at most 2× its plain text, as bench/receipts.py
holds the gifts' forms to).

    .venv/bin/python bench/movement_forms.py                 # 40 renders of each form and of its plain text
    .venv/bin/python bench/movement_forms.py --renders 100 --strict

A temp dir gets a migrated SQLite database with the demo unit tree and one movement of each series recorded through
`POST /api/v1/movements`: a cash expense (Phiếu chi), an expense paid by bank (Ủy nhiệm chi), bank interest (Phiếu kế
toán, Giấy báo Có), an opening balance and an adjustment (Phiếu kế toán). The HTML of each is made by the service's
own functions (movement_context, render_html). Both cases then render in this one process with one compiled CSS and
one FontConfiguration, taking turns render by render, so the load of a shared machine falls on both alike; each
form's first render is measured on a fresh HTML parse, as the service's first fetch of a document is.
Prints per form the median milliseconds of each and their ratio, ok/MISSED. Exit status 0 unless --strict and a
form misses the floor.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.receipts import FORM_FLOOR, plain_paragraphs  # noqa: E402  (one definition of "plain text")

UNIT = "ST-TP-P2"


def movement_html(tmp: str) -> dict[str, str]:
    """The HTML of one document per form, made as the service makes it."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from fundsvc import create_app
    from fundsvc.auth.models import User
    from fundsvc.auth.service import create_user
    from fundsvc.demo.load import load_demo
    from fundsvc.documents.movement_documents import TEMPLATES, movement_context
    from fundsvc.documents.render import render_html
    from fundsvc.documents.service import DocumentSettings
    from fundsvc.extensions import db
    from fundsvc.ledger.models import Movement

    logging.disable(logging.INFO)  # alembic's progress lines
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(tmp, 'forms.sqlite3')}"})
    with app.app_context():
        upgrade()
        load_demo(db.session, donations=0, users=False)
        _user, token = create_user(db.session, "bench-admin", "admin", full_name="Lê Thị Bench")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        accounts = client.get(f"/api/v1/units/{UNIT}/accounts", headers=headers).get_json()
        cash = next(a["id"] for a in accounts if a["kind"] == "cash")
        bank = next(a["id"] for a in accounts if a["kind"] == "bank")

        def move(kind: str, amount: int, account: int, on: str, **extra) -> dict:
            body = {"kind": kind, "unit": UNIT, "fund": "KH", "account": account, "amount": amount, "date": on}
            answer = client.post("/api/v1/movements", json={"description": "Chi phí", **body, **extra}, headers=headers)
            if answer.status_code != 201:
                raise SystemExit(f"POST /api/v1/movements: {answer.status_code} {answer.get_data(as_text=True)}")
            return answer.get_json()["movements"][0]

        move("opening_balance", 8_000_000, cash, "2023-01-01", description="Tiền mặt tồn quỹ")
        recorded = {
            "opening (DK-)": move("opening_balance", 15_000_000, bank, "2023-01-01", description="Số dư sổ giấy"),
            "voucher (PC-)": move(
                "expense", 3_250_000, cash, "2024-03-02", category="to-chuc-le", description="Thuê âm thanh, sân khấu"
            ),
            "bank payment (UNC-)": move(
                "expense", 1_450_000, bank, "2024-03-03", category="chi-khac", bank_reference="FT24063123456"
            ),
            "bank credit (BC-)": move(
                "income", 120_500, bank, "2024-03-31", category="lai-tien-gui", bank_reference="LAI-Q1-2024"
            ),
        }
        expense = recorded["voucher (PC-)"]
        recorded["adjustment (DC-)"] = move(
            "adjustment", 10_000, cash, "2024-04-02", direction="out", corrects=expense["document"]["code"]
        )
        settings = DocumentSettings.from_config(app.config)
        html = {}
        for name, side in recorded.items():
            movement = db.session.get(Movement, side["id"])
            preparer = db.session.scalar(select(User.full_name).where(User.id == movement.created_by))
            context = movement_context(db.session, movement, settings, preparer)
            html[name] = render_html(TEMPLATES[movement.document_kind], context)
        db.session.remove()
        db.engine.dispose()
    return html


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from fundsvc.documents.render import ASSETS_DIR, PackageURLFetcher

    with tempfile.TemporaryDirectory() as tmp:
        forms = movement_html(tmp)
    fetcher = PackageURLFetcher()
    font_config = FontConfiguration()
    css = CSS(
        string=(ASSETS_DIR / "css" / "base.css").read_text(encoding="utf-8"),
        url_fetcher=fetcher,
        font_config=font_config,
    )

    def render_ms(html: str) -> float:
        # CPU time of this process: the render's own cost, steady on a machine whose other work takes turns on the
        # cores (wall-clock medians of the same renders are printed beside it).
        started, cpu = time.perf_counter(), time.process_time()
        HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=font_config)
        wall.append((time.perf_counter() - started) * 1000)
        return (time.process_time() - cpu) * 1000

    ok = True
    wall: list[float] = []
    print(f"{'form':22} {'n':>4} {'form ms':>8} {'plain ms':>9} {'form/plain':>10}   (CPU; wall-clock form/plain ms)")
    for name, html in forms.items():
        plain = plain_paragraphs(html)
        render_ms(html), render_ms(plain)  # warm-up: fonts and caches of this layout
        wall.clear()
        form_times, plain_times, form_wall, plain_wall = [], [], [], []
        for turn in range(args.renders):
            pair = ((html, form_times, form_wall), (plain, plain_times, plain_wall))
            for source, times, walls in pair if turn % 2 == 0 else reversed(pair):
                times.append(render_ms(source))
                walls.append(wall.pop())
        form_ms, plain_ms = statistics.median(form_times), statistics.median(plain_times)
        ok &= form_ms / plain_ms <= FORM_FLOOR
        print(
            f"{name:22} {args.renders:4d} {form_ms:8.1f} {plain_ms:9.1f} {form_ms / plain_ms:10.2f}"
            f"   ({statistics.median(form_wall):.0f} / {statistics.median(plain_wall):.0f})"
        )
    print(f"a movement form's render over its plain text: at most {FORM_FLOOR}× {'ok' if ok else 'MISSED'}")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
