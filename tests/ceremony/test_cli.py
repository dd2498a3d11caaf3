"""`flask documents …` writes the same documents as the API, through the cache."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader

from tests.ceremony.conftest import held


def test_cli_award_list_and_filters(runner, round_id, tmp_path, pdf_text):
    out = tmp_path / "list.pdf"
    result = runner.invoke(args=["documents", "award-list", str(round_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(pdf_text(out.read_bytes()))
    assert all(text.count(p[0]) == 1 for p in held())
    again = runner.invoke(args=["documents", "award-list", str(round_id), "--out", str(out)])
    assert again.exit_code == 0 and "(cached)" in again.output
    sheet = tmp_path / "sheet.pdf"
    result = runner.invoke(
        args=["documents", "signature-sheet", str(round_id), "--out", str(sheet), "--unit", "ST-TP-P5"]
    )
    assert result.exit_code == 0, result.output
    assert "Lâm Quốc Đạt" in " ".join(pdf_text(sheet.read_bytes()))
    certs = tmp_path / "certs.pdf"
    result = runner.invoke(
        args=["documents", "certificates", str(round_id), "--out", str(certs), "--school", "Trường TH Phường 2"]
    )
    assert result.exit_code == 0, result.output
    assert len(PdfReader(io.BytesIO(certs.read_bytes())).pages) == 2
    xlsx = tmp_path / "list.xlsx"
    assert runner.invoke(args=["documents", "award-list-xlsx", str(round_id), "--out", str(xlsx)]).exit_code == 0
    assert xlsx.read_bytes()[:2] == b"PK"
    out_csv = tmp_path / "list.csv"
    assert runner.invoke(args=["documents", "award-list-csv", str(round_id), "--out", str(out_csv)]).exit_code == 0
    rows = list(csv.reader(io.StringIO(out_csv.read_text("utf-8-sig"))))
    assert len(rows) == 1 + len(held())


def test_cli_errors(runner, round_id, tmp_path):
    result = runner.invoke(args=["documents", "award-list", "99999", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "99999" in result.output
