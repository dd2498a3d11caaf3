"""VietQR payloads (NAPAS EMVCo) and the QR endpoints of a bank account."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fundsvc.bank import vietqr

# A published NAPAS payload (a merchant code): its checksum, computed by the bank's side, is 5802.
PUBLISHED = (
    "00020101021138480010A00000072701300006970403011621129950446040255204581253037045802VN"
    "5910PHUONG CAC6005HANOI62110307NPS6869"
)


def test_checksum_matches_a_published_payload():
    assert vietqr.crc16(PUBLISHED + "6304") == "5802"


def test_a_static_and_a_dynamic_payload():
    static = vietqr.payload("970436", "1012345678")
    assert static == (
        "000201"
        "010211"
        "3854"
        "0010A000000727"
        "0124"
        "0006970436"
        "01101012345678"
        "0208QRIBFTTA"
        "5303704"
        "5802VN"
        "6304" + vietqr.crc16(static[:-4])
    )
    dynamic = vietqr.parse(vietqr.payload("970436", "1012345678", 500_000, "Ủng hộ Quỹ Khuyến học phường 2"))
    assert dynamic["01"] == "12" and dynamic["54"] == "500000"
    assert dynamic["62"] == "0825Ung ho Quy Khuyen hoc phu"  # diacritics gone, cut at 25


@given(st.text(max_size=80))
def test_memos_are_plain_ascii_within_25(memo):
    text = vietqr.memo_text(memo)
    assert len(text) <= 25 and all(c.isascii() and (c.isalnum() or c == " ") for c in text)


@given(
    st.sampled_from(["970436", "970405", "970422"]),
    st.from_regex(r"[0-9]{6,19}", fullmatch=True),
    st.none() | st.integers(1, 10**12),
    st.none() | st.text(max_size=40),
)
def test_every_payload_parses_back(bank_bin, account, amount, memo):
    fields = vietqr.parse(vietqr.payload(bank_bin, account, amount, memo))
    assert fields["38"].startswith("0010A000000727") and account in fields["38"] and fields["53"] == "704"


def test_the_qr_endpoints(app, tree, make_api):
    treasurer = make_api(app, "treasurer", "ST-TP-P2")
    (bank,) = [a for a in treasurer.get("/api/v1/units/ST-TP-P2/accounts").json if a["kind"] == "bank"]
    text = treasurer.get(f"/api/v1/accounts/{bank['id']}/qr.txt?amount=200000&memo=Ủng hộ khuyến học")
    assert text.status_code == 200 and text.mimetype == "text/plain"
    fields = vietqr.parse(text.get_data(as_text=True))
    assert fields["54"] == "200000" and bank["account_number"] in fields["38"] and "Ung ho khuyen hoc" in fields["62"]
    png = treasurer.get(f"/api/v1/accounts/{bank['id']}/qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    svg = treasurer.get(f"/api/v1/accounts/{bank['id']}/qr.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data[:500]
    (cash,) = [a for a in treasurer.get("/api/v1/units/ST-TP-P2/accounts").json if a["kind"] == "cash"]
    assert treasurer.get(f"/api/v1/accounts/{cash['id']}/qr.png").status_code == 422
    assert treasurer.get(f"/api/v1/accounts/{bank['id']}/qr.png?amount=-5").status_code == 422
    other = make_api(app, "treasurer", "ST-TP-P5")
    assert other.get(f"/api/v1/accounts/{bank['id']}/qr.png").status_code == 404


def test_a_pledge_gets_a_memo_code_and_its_qr(app, tree, make_api):
    treasurer = make_api(app, "treasurer", "ST-TP-P2")
    pledge = treasurer.post(
        "/api/v1/pledges", {"unit": "ST-TP-P2", "amount": 300_000, "donor": {"name": "Chị Hoa"}, "purpose": "Học bổng"}
    )
    assert pledge.status_code == 201, pledge.json
    assert pledge.json["code"] == f"KH P2 {pledge.json['id']:05d}" and pledge.json["status"] == "open"
    qr = treasurer.get(pledge.json["qr"])
    assert qr.status_code == 200 and qr.data.startswith(b"\x89PNG")
    listed = treasurer.get("/api/v1/pledges?status=open").json
    assert [p["code"] for p in listed] == [pledge.json["code"]]
    assert treasurer.post(f"/api/v1/pledges/{pledge.json['id']}/cancel").json["status"] == "cancelled"
    assert treasurer.post(f"/api/v1/pledges/{pledge.json['id']}/cancel").status_code == 409
    assert make_api(app, "viewer", "ST").post("/api/v1/pledges", {"unit": "ST-TP-P2"}).status_code == 403
