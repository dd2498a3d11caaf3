"""Reorganisation (CONTRACT "Units: identity and lifecycle"): three communes holding gifts, nominations and donors
merge into a new ward on 1 July 2025. Their balances pass by paired transfer documents, their old documents stay
byte-identical and keep printing the old names, they refuse new movements, and the reports before and after the date
show the old units up to it and the new one after. Move and retire too."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from fundsvc.auth.service import create_user
from fundsvc.donations.models import Donor
from fundsvc.extensions import db as _db
from fundsvc.ledger.models import LedgerEntry, MoneyAccount, Period
from fundsvc.students.models import Nomination, Student
from fundsvc.units.models import Unit
from tests.conftest import Api
from tests.documents.conftest import pdf_pages_text
from tests.reports.conftest import give, pay_award

MERGED = ["ST-TP-P2", "ST-TP-P5", "ST-MX-DT"]
INTO = "ST-PST"
ON = "2025-07-01"


def _unit(code: str) -> Unit:
    return _db.session.scalar(select(Unit).where(Unit.code == code))


def _held(code: str) -> dict[str, int]:
    """Money per account kind of a unit, from the ledger."""
    rows = _db.session.execute(
        select(MoneyAccount.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerEntry, LedgerEntry.account_id == MoneyAccount.id)
        .where(MoneyAccount.unit_id == _unit(code).id)
        .group_by(MoneyAccount.kind)
    ).all()
    return {kind: int(amount) for kind, amount in rows if amount}


def _nomination(unit: str, name: str) -> int:
    student = Student(identity_key=f"name:{name}", full_name=name, birth_date=date(2014, 2, 3), school="THCS Phường 2")
    nomination = Nomination(
        student=student,
        academic_year="2025-2026",
        unit_id=_unit(unit).id,
        full_name=name,
        birth_date=date(2014, 2, 3),
        school="THCS Phường 2",
        grade="6",
    )
    _db.session.add_all([student, nomination])
    _db.session.commit()
    return nomination.id


@pytest.fixture
def province(any_app):
    """The admin's API, the new ward with its fund and bank account, and the three communes' history."""
    _user, token = create_user(_db.session, "quantri", "admin", None)
    admin = Api(any_app.test_client(), token)
    made = admin.post(
        "/api/v1/units",
        json={
            "code": INTO,
            "name": "Phường Sóc Trăng",
            "level": "commune",
            "parent": "ST",
            "books_opened_on": "2025-01-01",
        },
    )
    assert made.status_code == 201, made.get_json()
    assert (
        admin.post(
            "/api/v1/funds", json={"code": "KH-PST", "name": "Quỹ KH Phường Sóc Trăng", "unit": INTO}
        ).status_code
        == 201
    )
    bank = {
        "kind": "bank",
        "name": "Tiền gửi Vietcombank",
        "bank_name": "Vietcombank",
        "bank_bin": "970436",
        "account_number": "0011223344",
        "account_holder": "HOI KHUYEN HOC PHUONG SOC TRANG",
    }
    assert admin.post(f"/api/v1/units/{INTO}/accounts", json=bank).status_code == 201
    session = _db.session
    gifts = {
        "p2": give(session, "ST-TP-P2", 1_000_000, on=date(2024, 3, 1), donor="Nguyễn Văn An", phone="0918000111"),
        "p5": give(session, "ST-TP-P5", 500_000, on=date(2024, 4, 1), method="bank_transfer", donor="Trần Thị Bình"),
        "dt_province": give(session, "ST-MX-DT", 300_000, fund="KH", on=date(2024, 5, 1), donor="Lê Văn Cường"),
        "dt": give(session, "ST-MX-DT", 200_000, on=date(2024, 6, 1), donor="Phạm Thị Dung"),
    }
    pay_award(session, "KH-ST-TP-P2", "ST-TP-P2", 200_000, on=date(2024, 9, 5), name="Huỳnh Văn Em")
    assert admin.post("/api/v1/pledges", json={"unit": "ST-TP-P5", "amount": 100_000}).status_code == 201
    waiting = _nomination("ST-TP-P5", "Võ Thị Giang")
    return admin, gifts, waiting


def _merge(admin, **change):
    body = {"from": MERGED, "into": INTO, "on": ON, "reason": "Nghị quyết sắp xếp đơn vị hành chính năm 2025"}
    return admin.post("/api/v1/units/merge", json={**body, **change})


def test_three_communes_merge_into_a_new_ward(province):
    admin, gifts, waiting = province
    p2_receipt = admin.get(f"/api/v1/receipts/{gifts['p2'].receipt.id}.pdf")
    assert p2_receipt.status_code == 200
    merged = _merge(admin)
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["merged"] == MERGED and body["into"] == INTO and body["on"] == ON
    amounts = sorted(t["amount"] for t in body["transfers"])
    assert amounts == [200_000, 300_000, 500_000, 800_000]
    assert body["donors"] == 4 and body["nominations"] == 1 and body["pledges"] == 1
    assert admin.get("/api/v1/pledges?unit=ST-TP-P5&status=open").get_json() == []

    # The balances moved, by documents dated the merger day; nothing else did.
    for code in MERGED:
        assert _held(code) == {}
    assert _held(INTO) == {"cash": 1_300_000, "bank": 500_000}
    funds = {f["code"]: f["balance"] for f in admin.get("/api/v1/funds").get_json()}
    assert funds["KH-PST"] == 1_500_000 and funds["KH-ST-TP-P2"] == 0 and funds["KH-ST-MX-DT"] == 0
    transfers = admin.get(f"/api/v1/movements?unit={INTO}&kind=transfer").get_json()
    assert {m["date"] for m in transfers} == {ON} and len(transfers) == 4

    # Old documents: the one printed before is the same file; one printed first now still names its commune.
    assert admin.get(f"/api/v1/receipts/{gifts['p2'].receipt.id}.pdf").data == p2_receipt.data
    later = admin.get(f"/api/v1/receipts/{gifts['dt'].receipt.id}.pdf")
    assert "Đại Tâm" in " ".join(pdf_pages_text(later.data))

    # The merged units refuse new movements; they are marked merged, their months closed through July 2025.
    gift = {
        "donor": {"name": "Người mới", "kind": "person"},
        "unit": "ST-TP-P2",
        "fund": "KH-ST-TP-P2",
        "amount": 100_000,
        "method": "cash",
        "received_on": "2025-08-01",
    }
    refused = admin.post("/api/v1/donations", json=gift)
    assert refused.status_code == 409 and "unit" in refused.get_json()["errors"]
    assert admin.post(f"/api/v1/donations/{gifts['p5'].id}/void", json={"reason": "thử"}).status_code == 409
    p2 = admin.get("/api/v1/units/ST-TP-P2").get_json()
    assert p2["merged_into"] == INTO and p2["merged_on"] == ON
    closed = _db.session.scalars(
        select(Period.month).where(Period.unit_id == _unit("ST-TP-P2").id, Period.status == "closed")
    )
    assert {"2024-03", "2025-07"} <= set(closed)
    assert _merge(admin, **{"from": ["ST-TP-P2"]}).status_code == 409

    # Donors and the waiting pupil carried over; the pupil already awarded stays with the round that paid it.
    into_id = _unit(INTO).id
    assert {d.unit_id for d in _db.session.scalars(select(Donor))} == {into_id}
    assert _db.session.get(Nomination, waiting).unit_id == into_id
    awarded = _db.session.scalar(select(Nomination).where(Nomination.full_name == "Huỳnh Văn Em"))
    assert awarded.unit_id == _unit("ST-TP-P2").id
    _user, token = create_user(_db.session, "thuquy.pst", "treasurer", INTO)
    ward = Api(admin.client, token)
    assert len(ward.get("/api/v1/donors").get_json()) == 4

    # Reports: before the date the old units hold the money; after it, the new ward does.
    def units(**period):
        answer = admin.get("/api/v1/reports/summary", query_string={"unit": "ST", **period}).get_json()
        return {u["code"]: u for u in answer["units"]}

    before = units(**{"from": "2024-01-01", "to": "2025-06-30"})
    assert before["ST-TP-P2"]["closing_balance"] == 800_000 and before[INTO]["closing_balance"] == 0
    after = units(**{"from": "2025-07-01", "to": "2025-12-31"})
    assert after["ST-TP-P2"]["opening_balance"] == 800_000 and after["ST-TP-P2"]["out_by"]["transfer"] == 800_000
    assert after["ST-TP-P2"]["closing_balance"] == 0
    assert after[INTO]["other_in"]["transfer"] == 1_800_000 and after[INTO]["closing_balance"] == 1_800_000
    assert after["ST"]["closing_balance"] == before["ST"]["closing_balance"]  # the province's money did not change

    events = admin.get("/api/v1/audit?action=unit.merge").get_json()
    assert len(events) == 3 and events[0]["after"]["merged_into"] == INTO


def test_a_merge_is_all_or_nothing(province):
    admin, _gifts, _waiting = province
    # A restricted fund of Đại Tâm (for poor households) has no fund of the same condition in the ward: its money
    # has nowhere to go, so nothing moves at all, not even the other communes' money.
    poor = {"field": "household", "op": "eq", "value": "poor"}
    made = admin.post(
        "/api/v1/funds", json={"code": "HN-DT", "name": "Quỹ hộ nghèo", "unit": "ST-MX-DT", "restriction": poor}
    )
    assert made.status_code == 201, made.get_json()
    give(_db.session, "ST-MX-DT", 70_000, fund="HN-DT", on=date(2024, 7, 1))
    refused = _merge(admin)
    assert refused.status_code == 409 and "into" in refused.get_json()["errors"]
    assert _held("ST-TP-P2") == {"cash": 800_000} and _held(INTO) == {}
    assert _unit("ST-TP-P2").merged_on is None
    assert admin.get(f"/api/v1/movements?unit={INTO}").get_json() == []
    # Once the ward has a fund of the same condition, the restricted money goes there.
    ward_fund = {"code": "HN-PST", "name": "Quỹ hộ nghèo phường", "unit": INTO, "restriction": poor}
    assert admin.post("/api/v1/funds", json=ward_fund).status_code == 201
    assert _merge(admin).status_code == 200
    funds = {f["code"]: f["balance"] for f in admin.get("/api/v1/funds").get_json()}
    assert funds["HN-PST"] == 70_000 and funds["HN-DT"] == 0


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"on": "2024-05-15"}, 409, "on"),  # before Đại Tâm's last document
        ({"from": ["ST-TP-P2", "ST-TP-P2"]}, 422, "from"),
        ({"from": [INTO]}, 422, "from"),
        ({"from": ["ST-TP"]}, 409, "units"),  # a district with communes under it
        ({"into": "NOPE"}, 422, "into"),
        ({"on": "2999-01-01"}, 422, "on"),
    ],
)
def test_a_merge_that_cannot_be_made_says_why(province, change, status, field):
    admin, _gifts, _waiting = province
    answer = _merge(admin, **change)
    assert answer.status_code == status, answer.get_json()
    assert field in answer.get_json()["errors"]
    assert _unit("ST-TP-P2").merged_on is None


def test_only_an_admin_above_every_unit_merges_them(province, any_app):
    _admin, _gifts, _waiting = province
    for role, unit, status in [("admin", "ST-TP", 403), ("treasurer", "ST", 403), ("admin", "ST", 200)]:
        _user, token = create_user(_db.session, f"{role}.{unit}", role, unit)
        answer = _merge(Api(any_app.test_client(), token))
        assert answer.status_code == status, (role, unit, answer.get_json())


def test_a_dissolved_districts_communes_move_up_and_the_district_retires(any_app):
    _user, token = create_user(_db.session, "quantri", "admin", None)
    admin = Api(any_app.test_client(), token)
    early = admin.post("/api/v1/units/ST-MX/retire", json={"on": ON, "reason": "Giải thể cấp huyện"})
    assert early.status_code == 409 and "units" in early.get_json()["errors"]
    for code in ("ST-MX-DT", "ST-MX-TD"):
        moved = admin.post(f"/api/v1/units/{code}/move", json={"parent": "ST", "on": ON})
        assert moved.status_code == 200 and moved.get_json()["parent"] == "ST"
    st = _unit("ST")
    assert _unit("ST-MX-DT").path == f"{st.path}{_unit('ST-MX-DT').id}/"
    assert admin.post("/api/v1/units/ST-MX-DT/move", json={"parent": "ST-MX-DT", "on": ON}).status_code == 422
    assert admin.post("/api/v1/units/ST/move", json={"parent": "ST-MX", "on": ON}).status_code == 422
    retired = admin.post("/api/v1/units/ST-MX/retire", json={"on": ON, "reason": "Giải thể cấp huyện"})
    assert retired.status_code == 200 and retired.get_json()["retired_on"] == ON
    fund = admin.post(
        "/api/v1/movements",
        json={
            "kind": "income",
            "unit": "ST-MX",
            "fund": "KH-ST-MX",
            "account": _db.session.scalar(
                select(MoneyAccount.id).where(MoneyAccount.unit_id == _unit("ST-MX").id, MoneyAccount.kind == "cash")
            ),
            "amount": 1000,
            "date": "2025-08-01",
            "description": "thử",
        },
    )
    assert fund.status_code == 409
    # A unit holding money is merged, not retired.
    give(_db.session, "ST-TD-LHT", 50_000, on=date(2024, 2, 1))
    holding = admin.post("/api/v1/units/ST-TD-LHT/retire", json={"on": ON, "reason": "thử"})
    assert holding.status_code == 409


def test_reports_before_a_move_roll_up_as_the_tree_was(any_app):
    """Đại Tâm's 2024 gift stays in Mỹ Xuyên's 2024 figures after the commune moves up to the province in July 2025;
    from then on it rolls up straight into the province, and the province's totals never change."""
    _user, token = create_user(_db.session, "quantri", "admin", None)
    admin = Api(any_app.test_client(), token)
    give(_db.session, "ST-MX-DT", 400_000, on=date(2024, 3, 1))
    give(_db.session, "ST-MX-DT", 100_000, on=date(2025, 8, 1))

    def summary(unit, start, end):
        answer = admin.get("/api/v1/reports/summary", query_string={"unit": unit, "from": start, "to": end})
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    before = {span: summary("ST", *span) for span in (("2024-01-01", "2024-12-31"), ("2025-07-01", "2025-12-31"))}
    assert admin.post("/api/v1/units/ST-MX-DT/move", json={"parent": "ST", "on": ON}).status_code == 200

    year_2024 = summary("ST-MX", "2024-01-01", "2024-12-31")
    assert year_2024["totals"]["in"]["total"] == 400_000
    units_2024 = {u["code"]: u for u in year_2024["units"]}
    assert units_2024["ST-MX-DT"]["parent"] == "ST-MX" and units_2024["ST-MX-DT"]["depth"] == 1
    province_2024 = {u["code"]: u for u in summary("ST", "2024-01-01", "2024-12-31")["units"]}
    assert province_2024["ST-MX"]["in"]["total"] == 400_000

    after = summary("ST-MX", "2025-07-01", "2025-12-31")
    assert "ST-MX-DT" not in {u["code"] for u in after["units"]} and after["totals"]["in"]["total"] == 0
    province_after = {u["code"]: u for u in summary("ST", "2025-07-01", "2025-12-31")["units"]}
    assert province_after["ST-MX-DT"]["parent"] == "ST" and province_after["ST-MX-DT"]["in"]["total"] == 100_000
    for span, figures in before.items():
        assert summary("ST", *span)["totals"] == figures["totals"]


def test_paths_before_undoes_the_moves_last_first():
    from fundsvc.units.service import paths_before

    now = {1: "/1/", 2: "/1/2/", 3: "/1/3/", 4: "/1/3/4/", 5: "/1/3/4/5/"}
    # 3 moved from under 2 to the province, then 4 (with 5) from under 2 to under 3.
    moves = [("/1/2/3/", "/1/3/"), ("/1/2/4/", "/1/3/4/")]
    assert paths_before(now, moves[1:]) == {**now, 4: "/1/2/4/", 5: "/1/2/4/5/"}
    assert paths_before(now, moves) == {1: "/1/", 2: "/1/2/", 3: "/1/2/3/", 4: "/1/2/4/", 5: "/1/2/4/5/"}


def _goods(admin, unit: str, fund: str, value: int, on: str, quantity: int | None = None) -> dict:
    body = {
        "donor": {"name": "Nhà sách Phương Nam", "kind": "organization"},
        "unit": unit,
        "fund": fund,
        "amount": value,
        "method": "in_kind",
        "in_kind_description": "Sách giáo khoa lớp 6",
        "received_on": on,
        **({"quantity": quantity, "unit_of_measure": "bộ"} if quantity else {}),
    }
    made = admin.post("/api/v1/donations", json=body)
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _register(api, unit: str, start: str = "2024-01-01", end: str = "2025-12-31") -> dict:
    answer = api.get("/api/v1/reports/in-kind", query_string={"unit": unit, "from": start, "to": end})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_goods_on_hand_pass_by_a_paired_goods_record(province, any_app):
    """Phường 2 holds 6 of 10 sets of books; Đại Tâm a gift of goods under the province's fund. The merger closes
    both registers at zero with an HVX- record each and opens the ward's with their goods under HV- records; the
    ward then hands them out itself. The goods records keep their series gapless, count as no gift received, and the
    goods record printed before is the same file after."""
    from fundsvc.backup.figures import read_figures

    admin, _gifts, _waiting = province
    books = _goods(admin, "ST-TP-P2", "KH-ST-TP-P2", 2_000_000, "2024-03-05", quantity=10)
    handed = admin.post(
        f"/api/v1/in-kind/{books['id']}/hand-out", json={"to": "Trường THCS", "quantity": 4, "date": "2024-04-01"}
    )
    assert handed.status_code == 201, handed.get_json()
    _goods(admin, "ST-MX-DT", "KH", 600_000, "2024-05-02")
    record_before = admin.get(f"/api/v1/receipts/{books['receipt']['id']}.pdf").data

    merged = _merge(admin)
    assert merged.status_code == 200, merged.get_json()
    assert sorted((g["out"], g["in"], g["gifts"], g["value"]) for g in merged.get_json()["goods"]) == [
        ("HVX-ST-MX-DT/2025/00001", "HV-ST-PST/2025/00002", 1, 600_000),
        ("HVX-ST-TP-P2/2025/00001", "HV-ST-PST/2025/00001", 1, 1_200_000),
    ]

    old = _register(admin, "ST-TP-P2")
    assert old["closing_balance"] == 0 and old["held"] == []
    passed_out = old["lines"][-1]
    assert (passed_out["date"], passed_out["document_out"], passed_out["quantity_out"], passed_out["out"]) == (
        ON,
        "HVX-ST-TP-P2/2025/00001",
        6,
        1_200_000,
    )
    assert "Phường Sóc Trăng" in passed_out["description"]
    assert _register(admin, "ST-MX-DT")["closing_balance"] == 0

    new = _register(admin, INTO, ON)
    assert new["opening_balance"] == 0 and new["closing_balance"] == 1_800_000
    assert [(line["document_in"], line["quantity_in"], line["in"]) for line in new["lines"]] == [
        ("HV-ST-PST/2025/00001", 6, 1_200_000),
        ("HV-ST-PST/2025/00002", None, 600_000),
    ]
    assert [(item["document"], item["quantity"], item["value"]) for item in new["held"]] == [
        ("HV-ST-MX-DT/2024/00001", None, 600_000),
        (books["receipt"]["code"], 6, 1_200_000),
    ]
    in_kind = {f["code"]: f["in_kind_value"] for f in admin.get("/api/v1/funds").get_json()}
    assert in_kind["KH-ST-TP-P2"] == 0 and in_kind["KH-PST"] == 1_200_000 and in_kind["KH"] == 600_000

    # The ward hands the goods out in its own series; the merged commune cannot.
    _user, token = create_user(_db.session, "thuquy.pst", "treasurer", INTO)
    ward = Api(any_app.test_client(), token)
    out = ward.post(
        f"/api/v1/in-kind/{books['id']}/hand-out", json={"to": "Trường Tiểu học", "quantity": 2, "date": "2025-08-01"}
    )
    assert out.status_code == 201, out.get_json()
    assert out.get_json()["document"] == "HVX-ST-PST/2025/00001" and out.get_json()["value"] == -400_000
    assert _register(ward, INTO, ON)["closing_balance"] == 1_400_000
    _user, token = create_user(_db.session, "thuquy.p2", "treasurer", "ST-TP-P2")
    commune = Api(any_app.test_client(), token)
    assert (
        commune.post(f"/api/v1/in-kind/{books['id']}/hand-out", json={"to": "X", "date": "2025-08-01"}).status_code
        == 404
    )

    # The goods records are no gift: the ward received no goods; the old record prints as before; no series has a gap.
    summary = admin.get("/api/v1/reports/summary", query_string={"unit": INTO, "from": ON, "to": "2025-12-31"})
    assert summary.get_json()["totals"]["in"]["in_kind"] == 0, summary.get_json()["totals"]
    assert admin.get(f"/api/v1/receipts/{books['receipt']['id']}.pdf").data == record_before
    assert read_figures(_db.session.connection())["series_gaps"] == []
