"""Rendering the document templates with plain-dict contexts (no Flask, no database)."""

import hashlib
import io
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from samples import acknowledgement_context, in_kind_context, receipt_context, statement_context, voucher_context

from fundsvc.documents import render
from fundsvc.documents.render import render_pdf

REPO = Path(__file__).resolve().parents[2]


def _size(pdf: bytes, page: int = 0) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(pdf)).pages[page].mediabox
    return round(float(box.width)), round(float(box.height))


ISSUER_LINES = [
    "HỘI KHUYẾN HỌC TỈNH SÓC TRĂNG",  # the parent line first
    "Đơn vị: Hội Khuyến học phường 2",
    "Địa chỉ: Số 12 Trần Hưng Đạo, Phường 2, TP. Sóc Trăng",
    "Mã số thuế: 2200123456",
    "Mã QHNS: 1123456",
]


def assert_issuer(text):
    for s in ISSUER_LINES:
        assert s in text, s
    assert text.index("HỘI KHUYẾN HỌC TỈNH SÓC TRĂNG") < text.index("Hội Khuyến học phường 2")


def test_receipt_text(pages_text):
    pdf = render_pdf("documents/receipt.html", receipt_context())
    pages = pages_text(pdf)
    assert len(pages) == 2  # two liên by default
    for text, copy in zip(pages, ["Liên 1: Lưu", "Liên 2: Giao người nộp tiền"], strict=True):
        assert_issuer(text)
        for s in [
            "PHIẾU THU",
            "Mẫu số C40-BB",
            "(Ban hành kèm theo Thông tư số 24/2024/TT-BTC",
            copy,
            "Ngày 01 tháng 10 năm 2024",
            "Quyển số:",
            "Số: 15",
            "Nợ: 111",
            "Có: 353",
            "Họ và tên người nộp tiền: Nguyễn Thị Hồng Nhung",
            "Địa chỉ: Ấp Phước Thạnh, xã Mỹ Phước, huyện Mỹ Tú",
            "Lý do nộp: Ủng hộ Quỹ Khuyến học năm 2024",
            "Số tiền: 1.250.000 đồng",
            "(Viết bằng chữ): Một triệu hai trăm năm mươi nghìn đồng",
            "Kèm theo: chứng từ gốc.",  # the count is written by hand
            "Khoản đóng góp: Cho từ thiện, nhân đạo, khuyến học",
            "Lê Văn Thành",
            "Phạm Thị Thu Hà",
            "Võ Ngọc Ánh",
            "Đặng Thị Kiều Oanh",
        ]:
            assert s in text, s
        assert not re.search(r"\b511\b", text) and "107/2017" not in text
        # The cashier writes what was counted: the line is blank, the last thing on the sheet.
        assert text.rstrip().endswith("Đã nhận đủ số tiền (viết bằng chữ):")
        assert text.count("Một triệu hai trăm năm mươi nghìn đồng") == 1
        roles = [
            "THỦ TRƯỞNG ĐƠN VỊ",
            "KẾ TOÁN TRƯỞNG",
            "NGƯỜI NỘP TIỀN",
            "NGƯỜI LẬP PHIẾU",
            "THỦ QUỸ",
        ]
        positions = [text.index(r) for r in roles]
        assert positions == sorted(positions)
        assert "THỦ TRƯỞNG ĐƠN VỊ (Ký, họ tên, đóng dấu) Lê Văn Thành" in text
        assert text.count("(Ký, họ tên)") == 4
        assert "ĐÃ HỦY" not in text


def test_receipt_attachments_and_organisation_tax_code(pages_text):
    ctx = receipt_context(
        attachments="02",
        payer={
            "name": "Công ty TNHH Minh Phát",
            "kind": "organization",
            "address": "88 Lê Lợi",
            "tax_code": "2200654321",
        },
    )
    text = pages_text(render_pdf("documents/receipt.html", ctx))[0]
    assert "Kèm theo: 02 chứng từ gốc." in text
    assert "Mã số thuế: 2200654321" in text


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


def test_documents_stay_small():
    """A receipt is rendered on the first fetch: what makes it heavy (dotted borders drew each dot as a path of its
    own, ten times the bytes and three times the time) must not come back."""
    for template, ctx in [
        ("documents/receipt.html", receipt_context()),
        ("documents/voucher.html", voucher_context()),
        ("documents/acknowledgement.html", acknowledgement_context()),
        ("documents/in_kind_record.html", in_kind_context()),
    ]:
        assert len(render_pdf(template, ctx)) < 60_000, template


def test_receipt_paper_sizes():
    a5 = render_pdf("documents/receipt.html", receipt_context())
    a4 = render_pdf("documents/receipt.html", receipt_context(paper="A4"))
    assert _size(a5) == (595, 420)  # A5 landscape, in points
    assert _size(a4) == (595, 842)


def test_receipt_in_kind_of_before_goods_records(pages_text):
    """A goods gift receipted before goods records existed still renders as the receipt it was issued as."""
    ctx = receipt_context(
        method="in_kind",
        in_kind={"description": "200 quyển vở học sinh"},
        amount=1_000_000,
        receipt={**receipt_context()["receipt"], "debit": ""},
    )
    text = pages_text(render_pdf("documents/receipt.html", ctx))[0]
    assert "Hiện vật: 200 quyển vở học sinh (giá trị thỏa thuận: 1.000.000 đồng)" in text
    assert "Một triệu đồng" in text
    assert text.rstrip().endswith("Đã nhận đủ số tiền (viết bằng chữ):")


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
    assert_issuer(text)
    for s in [
        "PHIẾU CHI",
        "Mẫu số C41-BB",
        "(Ban hành kèm theo Thông tư số 24/2024/TT-BTC",
        "Ngày 20 tháng 11 năm 2024",
        "Nợ: 353",
        "Có: 111",
        "Họ và tên người nhận tiền: Trần Đức Phước",
        "Lý do chi: Chi học bổng Khuyến học",
        "Số tiền: 1.500.000 đồng",
        "Một triệu năm trăm nghìn đồng",
        "Kèm theo: 01 chứng từ gốc.",
        "Liên 1: Lưu",
        "THỦ TRƯỞNG ĐƠN VỊ (Ký, họ tên, đóng dấu) Lê Văn Thành",
    ]:
        assert s in text, s
    assert text.rstrip().endswith("Đã nhận đủ số tiền (viết bằng chữ):")
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


def test_acknowledgement_text(pages_text):
    pages = pages_text(render_pdf("documents/acknowledgement.html", acknowledgement_context()))
    assert len(pages) == 2
    for text, copy in zip(pages, ["Liên 1: Lưu", "Liên 2: Giao nhà tài trợ"], strict=True):
        assert_issuer(text)
        for s in [
            copy,
            "GIẤY XÁC NHẬN TÀI TRỢ",
            "Số: XN-ST-TP-P2/2024/00004",
            "Nợ: 112",
            "Có: 353",
            "Sóc Trăng, ngày 02 tháng 10 năm 2024",
            "Nhà tài trợ: Công ty TNHH Minh Phát",
            "Mã số thuế: 2200654321",
            "Số tiền: 5.000.000 đồng",
            "Ngày ghi có: 02/10/2024",
            "(Viết bằng chữ): Năm triệu đồng",
            "Tài khoản nhận: Số 1002880001 tại Ngân hàng TMCP Ngoại thương Việt Nam (Vietcombank)",
            "Mã giao dịch ngân hàng: FT24276123456",
            "Mục đích: Ủng hộ Quỹ Khuyến học năm 2024",
            "THỦ TRƯỞNG ĐƠN VỊ (Ký, họ tên, đóng dấu) Lê Văn Thành",
            "KẾ TOÁN TRƯỞNG (Ký, họ tên) Phạm Thị Thu Hà",
            "NGƯỜI LẬP (Ký, họ tên) Võ Ngọc Ánh",
        ]:
            assert s in text, s
        # Money that came by bank was never counted by a cashier.
        for s in ["PHIẾU THU", "Đã nhận đủ", "THỦ QUỸ"]:
            assert s not in text, s
        assert not re.search(r"\b(111|511)\b", text)


def test_in_kind_record_text(pages_text):
    pages = pages_text(render_pdf("documents/in_kind_record.html", in_kind_context()))
    assert len(pages) == 2
    for text, copy in zip(pages, ["Liên 1: Bên giao giữ", "Liên 2: Bên nhận giữ"], strict=True):
        assert_issuer(text)
        for s in [
            copy,
            "BIÊN BẢN TIẾP NHẬN HIỆN VẬT",
            "Số: HV-ST-TP-P2/2024/00002",
            "Bên giao (nhà tài trợ): Ông/Bà Nguyễn Thị Hồng Nhung",
            "Bên nhận: Hội Khuyến học phường 2",
            "Giá trị ước tính",
            "1 Vở học sinh 96 trang cuốn 200 1.600.000",
            "Giá trị ước tính (viết bằng chữ): Một triệu sáu trăm nghìn đồng",
            "ĐẠI DIỆN BÊN GIAO (Ký, họ tên) Nguyễn Thị Hồng Nhung",
            "NGƯỜI LẬP BIÊN BẢN (Ký, họ tên) Võ Ngọc Ánh",
            "ĐẠI DIỆN BÊN NHẬN (Ký, họ tên, đóng dấu) Lê Văn Thành",
        ]:
            assert s in text, s
        # Goods are not money: no cash receipt wording, no money account.
        for s in ["PHIẾU THU", "Đã nhận đủ số tiền", "Nợ:"]:
            assert s not in text, s
        assert not re.search(r"\b(111|112|511)\b", text)


def test_void_documents_of_every_kind_are_stamped(pages_text):
    void = {"on": date(2024, 10, 3), "reason": "Ghi nhầm"}
    for template, ctx in [
        ("documents/acknowledgement.html", acknowledgement_context(void=void)),
        ("documents/in_kind_record.html", in_kind_context(void=void)),
    ]:
        for text in pages_text(render_pdf(template, ctx)):
            assert "ĐÃ HỦY" in text and "Lý do: Ghi nhầm" in text, template


def test_donor_statement(pages_text):
    pages = pages_text(render_pdf("documents/donor_statement.html", statement_context()))
    text = " ".join(pages)
    assert "THƯ CẢM ƠN" in text
    assert "HỘI KHUYẾN HỌC TỈNH SÓC TRĂNG HỘI KHUYẾN HỌC PHƯỜNG 2" in text
    assert "Kính gửi: Công ty TNHH Minh Phát" in text and "Ông/Bà" not in text
    assert "ST-PH2/2024/41" in text and "19/05/2024" in text
    assert "Tổng cộng 8.000.005" in text  # money only
    assert "Tám triệu không trăm linh năm đồng" in text
    # Goods apart, with their quantity and unit, never added to the money.
    assert "Vở học sinh 96 trang 200 cuốn 1.600.000" in text
    assert "Cộng giá trị hiện vật 1.600.000" in text
    assert "Sóc Trăng, ngày 10 tháng 01 năm 2025" in text
    assert "(Ký, họ tên, đóng dấu) Lê Văn Thành" in text
    assert f"Trang 1/{len(pages)}" in pages[0]


def test_donor_statement_salutation_of_a_person(pages_text):
    ctx = statement_context(donor={"name": "Trần Văn Tư", "kind": "person", "address": ""}, goods=[])
    text = pages_text(render_pdf("documents/donor_statement.html", ctx))[0]
    assert "Kính gửi: Ông/Bà Trần Văn Tư" in text
    assert "cảm ơn Ông/Bà Trần Văn Tư" in text
    assert "Hiện vật" not in text


def test_donor_statement_of_goods_only(pages_text):
    text = " ".join(pages_text(render_pdf("documents/donor_statement.html", statement_context(gifts=[]))))
    assert "Vở học sinh 96 trang" in text
    assert "Tổng số tiền" not in text  # no money table when the donor gave only goods


def test_signatures_keep_with_the_end_of_a_long_statement(pages_text):
    gifts = statement_context()["gifts"] * 14
    pages = pages_text(render_pdf("documents/donor_statement.html", statement_context(gifts=gifts)))
    assert len(pages) > 1
    last = pages[-1]
    # The signature's page also carries the end of the list it signs.
    assert "Lê Văn Thành" in last and "Cộng giá trị hiện vật" in last


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
        ("documents/acknowledgement.html", acknowledgement_context()),
        ("documents/in_kind_record.html", in_kind_context()),
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
