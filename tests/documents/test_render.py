"""Rendering the document templates with plain-dict contexts (no Flask, no database)."""

import hashlib
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from samples import receipt_context, statement_context, voucher_context

from fundsvc.documents import render
from fundsvc.documents.render import render_pdf

REPO = Path(__file__).resolve().parents[2]


def _size(pdf: bytes, page: int = 0) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(pdf)).pages[page].mediabox
    return round(float(box.width)), round(float(box.height))


def test_receipt_text(pages_text):
    pdf = render_pdf("documents/receipt.html", receipt_context())
    pages = pages_text(pdf)
    assert len(pages) == 2  # two liên by default
    for text, copy in zip(pages, ["Liên 1: Lưu", "Liên 2: Giao người nộp tiền"], strict=True):
        for s in [
            "PHIẾU THU",
            "Mẫu số C40-BB",
            copy,
            "Hội Khuyến học Phường 2",
            "Ngày 01 tháng 10 năm 2024",
            "Quyển số:",
            "Số: 15",
            "Nợ: 111",
            "Có: 511",
            "Họ và tên người nộp tiền: Nguyễn Thị Hồng Nhung",
            "Địa chỉ: Ấp Phước Thạnh, xã Mỹ Phước, huyện Mỹ Tú",
            "Lý do nộp: Ủng hộ Quỹ Khuyến học năm 2024",
            "Số tiền: 1.250.000 đồng",
            "(Viết bằng chữ): Một triệu hai trăm năm mươi nghìn đồng",
            "Kèm theo: 01 chứng từ gốc",
            "Khoản đóng góp: Cho từ thiện, nhân đạo, khuyến học",
            "Đã nhận đủ số tiền (viết bằng chữ): Một triệu hai trăm năm mươi nghìn đồng",
            "Đặng Thị Kiều Oanh",
        ]:
            assert s in text, s
        roles = [
            "THỦ TRƯỞNG ĐƠN VỊ",
            "KẾ TOÁN TRƯỞNG",
            "NGƯỜI NỘP TIỀN",
            "NGƯỜI LẬP PHIẾU",
            "THỦ QUỸ",
        ]
        positions = [text.index(r) for r in roles]
        assert positions == sorted(positions)
        assert text.count("(Ký, họ tên)") == 5
        assert "ĐÃ HỦY" not in text


def test_receipt_every_diacritic_name_and_south_style(pages_text):
    ctx = receipt_context(
        payer={
            "name": "Trần Đức Phước",
            "address": "Ấp Bưng Tròn, xã Hòa Tú 1, huyện Mỹ Xuyên",
        },
        amount=1_005,
        words_style="south",
        chan=True,
        copies=["Liên 2: Giao người nộp tiền"],
    )
    (text,) = pages_text(render_pdf("documents/receipt.html", ctx))
    assert "Trần Đức Phước" in text
    assert "Ấp Bưng Tròn, xã Hòa Tú 1, huyện Mỹ Xuyên" in text
    assert "Một ngàn không trăm lẻ năm đồng chẵn" in text
    assert "Số tiền: 1.005 đồng" in text


def test_receipt_paper_sizes():
    a5 = render_pdf("documents/receipt.html", receipt_context())
    a4 = render_pdf("documents/receipt.html", receipt_context(paper="A4"))
    assert _size(a5) == (595, 420)  # A5 landscape, in points
    assert _size(a4) == (595, 842)


def test_receipt_in_kind(pages_text):
    ctx = receipt_context(
        method="in_kind",
        in_kind={"description": "200 quyển vở học sinh"},
        amount=1_000_000,
    )
    text = pages_text(render_pdf("documents/receipt.html", ctx))[0]
    assert "Hiện vật: 200 quyển vở học sinh (giá trị thỏa thuận: 1.000.000 đồng)" in text
    assert "Một triệu đồng" in text


def test_void_receipt_stamped_on_every_copy(pages_text):
    ctx = receipt_context(
        void={"on": date(2024, 10, 3), "reason": "Ghi sai số tiền"},
        copies=["Liên 1: Lưu", "Liên 2: Giao người nộp tiền", "Liên 3: Thủ quỹ"],
    )
    pages = pages_text(render_pdf("documents/receipt.html", ctx))
    assert len(pages) == 3
    for text in pages:
        assert "ĐÃ HỦY" in text
        assert "03/10/2024" in text
        assert "Lý do: Ghi sai số tiền" in text


def test_voucher_text(pages_text):
    pdf = render_pdf("documents/voucher.html", voucher_context())
    pages = pages_text(pdf)
    assert len(pages) == 2
    text = pages[0]
    for s in [
        "PHIẾU CHI",
        "Mẫu số C41-BB",
        "Ngày 20 tháng 11 năm 2024",
        "Họ và tên người nhận tiền: Trần Đức Phước",
        "Lý do chi: Chi học bổng Khuyến học",
        "Số tiền: 1.500.000 đồng",
        "Một triệu năm trăm nghìn đồng",
        "Đã nhận đủ số tiền (viết bằng chữ): Một triệu năm trăm nghìn đồng",
        "Liên 1: Lưu",
    ]:
        assert s in text, s
    roles = [
        "THỦ TRƯỞNG ĐƠN VỊ",
        "KẾ TOÁN TRƯỞNG",
        "THỦ QUỸ",
        "NGƯỜI LẬP PHIẾU",
        "NGƯỜI NHẬN TIỀN",
    ]
    positions = [text.index(r) for r in roles]
    assert positions == sorted(positions)
    assert "Liên 2: Giao người nhận tiền" in pages[1]


def test_donor_statement(pages_text):
    pages = pages_text(render_pdf("documents/donor_statement.html", statement_context()))
    text = " ".join(pages)
    assert "THƯ CẢM ƠN" in text
    assert "Kính gửi: Công ty TNHH Minh Phát" in text
    assert "ST-PH2/2024/41" in text and "19/05/2024" in text
    assert "Tổng cộng 8.000.005" in text
    assert "Tám triệu không trăm linh năm đồng" in text
    assert "Sóc Trăng, ngày 10 tháng 01 năm 2025" in text
    assert f"Trang 1/{len(pages)}" in pages[0]


def test_donor_statement_without_gifts(pages_text):
    text = pages_text(render_pdf("documents/donor_statement.html", statement_context(gifts=[])))[0]
    assert "Không có khoản đóng góp nào trong năm 2024" in text
    assert "Không đồng" in text


def test_table_alone_numbers_its_pages(pages_text):
    rows = [{"name": f"Học sinh {i:03d}", "amount": 500_000} for i in range(80)]
    ctx = {
        "title": "DANH SÁCH",
        "columns": [
            {"key": "name", "label": "Họ và tên"},
            {"key": "amount", "label": "Số tiền", "money": True},
        ],
        "rows": rows,
        "totals": {"amount": 40_000_000},
    }
    pages = pages_text(render_pdf("documents/table.html", ctx))
    assert len(pages) > 1
    for i, text in enumerate(pages, 1):
        assert f"Trang {i}/{len(pages)}" in text
    assert "40.000.000" in pages[-1]


@pytest.mark.parametrize(
    ("template", "ctx"),
    [
        ("documents/receipt.html", receipt_context()),
        (
            "documents/receipt.html",
            receipt_context(void={"on": date(2024, 10, 3), "reason": "Nhập trùng"}),
        ),
        ("documents/voucher.html", voucher_context()),
        ("documents/donor_statement.html", statement_context()),
    ],
)
def test_deterministic_bytes(template, ctx):
    assert render_pdf(template, ctx) == render_pdf(template, ctx)


def test_deterministic_across_processes():
    """Another interpreter (another hash seed, cold caches) prints the very same bytes."""
    here = hashlib.sha256(render_pdf("documents/receipt.html", receipt_context())).hexdigest()
    code = (
        "import hashlib, sys; sys.path.insert(0, 'tests/documents');"
        "from samples import receipt_context;"
        "from fundsvc.documents.render import render_pdf;"
        "print(hashlib.sha256(render_pdf('documents/receipt.html', receipt_context())).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={
            "PYTHONHASHSEED": "12345",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
        },
    )
    assert out.stdout.strip() == here


def test_metadata_date_from_context():
    reader = PdfReader(io.BytesIO(render_pdf("documents/receipt.html", receipt_context())))
    assert reader.metadata["/CreationDate"].startswith("D:20241001023000")
    assert reader.metadata["/Title"] == "Phiếu thu ST-PH2/2024/15"


def test_only_shipped_fonts_are_embedded():
    reader = PdfReader(
        io.BytesIO(
            render_pdf(
                "documents/receipt.html",
                receipt_context(void={"on": date(2024, 1, 2), "reason": "x"}),
            )
        )
    )
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    assert fonts and all(f.startswith(("Noto-Serif", "Noto-Sans", "NotoSerif", "NotoSans")) for f in fonts), fonts


def test_caches_are_built_once():
    render_pdf("documents/receipt.html", receipt_context())
    css, fonts = render._stylesheet("base.css"), render._font_config()
    render_pdf("documents/voucher.html", voucher_context())
    assert render._stylesheet("base.css") is css
    assert render._font_config() is fonts


def test_filters():
    env = render.get_environment()
    out = env.from_string("{{ 1250000|vnd }} | {{ 24|words }} | {{ d|vndate }} | {{ 24|words('south') }}").render(
        d=date(2024, 1, 2)
    )
    assert out == "1.250.000 | Hai mươi tư đồng | 02/01/2024 | Hai mươi bốn đồng"
