"""Property: any row the parser accepts survives write_nominations_xlsx → parse_nominations."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundsvc.students.spreadsheet import (
    NOMINATION_COLUMNS,
    parse_nominations,
    write_nominations_xlsx,
)

HEADERS = [c.header for c in NOMINATION_COLUMNS]

# Text as users type it: Vietnamese letters, odd spaces, punctuation, a leading "=" now and then,
# some invisible characters (all of which the parser must normalise or reject consistently).
_alphabet = st.one_of(
    st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĐÊÔƯ0123456789 -_/.,;'\"=+@()")),
    st.sampled_from(["ệ", "ữ", "ỳ", "Ả", "\u0301", "\u00a0", "\t", "\u200b", "  ", "\n", "|", "&", "<", "_x0041_"]),
    st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFFF),
)
text = st.lists(_alphabet, max_size=12).map("".join)


def _words(key):
    c = next(c for c in NOMINATION_COLUMNS if c.key == key)
    return st.sampled_from(["", *c.choices, *(w.lower() for w in c.choices), "???"])


dates = st.one_of(
    st.dates(min_value=dt.date(1945, 1, 1), max_value=dt.date(2030, 12, 31))
    .map(lambda d: st.sampled_from([d.strftime("%d/%m/%Y"), f"{d.day}/{d.month}/{d.year}", d.isoformat()]))
    .flatmap(lambda s: s),
    st.sampled_from(["31/02/2010", "29/02/2012", "", "1/1/10"]),
)
grades = st.one_of(
    st.builds(lambda n, s: f"{n}{s}", st.integers(0, 14), st.sampled_from(["", "A", "B1", "A12", "/1"])),
    st.builds(lambda n: f"Năm {n}", st.integers(0, 8)),
    text,
)
gpas = st.one_of(
    st.decimals(min_value=-1, max_value=11, places=1).map(str),
    st.decimals(min_value=0, max_value=10, places=1).map(lambda d: str(d).replace(".", ",")),
    st.sampled_from(["", "8.55", "tám", "10"]),
)

row = st.fixed_dictionaries(
    {
        "Mã học sinh": st.one_of(st.just(""), st.from_regex(r"HS[0-9]{1,4}", fullmatch=True), text),
        "Họ và tên": text,
        "Ngày sinh": dates,
        "Giới tính": _words("gender"),
        "Dân tộc": st.one_of(st.sampled_from(["", "Kinh", "kinh", "Khmer", "Hoa"]), text),
        "Trường": text,
        "Lớp": grades,
        "Cấp học": _words("level"),
        "Mã đơn vị": st.one_of(st.sampled_from(["ST", "ST-MX-DT", " st-tp "]), text),
        "Hoàn cảnh gia đình": _words("household"),
        "Mồ côi": _words("orphan"),
        "Khuyết tật": _words("disability"),
        "Điểm TB": gpas,
        "Học lực": _words("academic_result"),
        "Rèn luyện": _words("conduct"),
        "Thành tích": _words("achievement"),
        "Phụ huynh": text,
        "Ghi chú": text,
    }
)


def _csv(rows) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(HEADERS)
    for r in rows:
        w.writerow([r[h] for h in HEADERS])
    return buf.getvalue().encode("utf-8")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=6))
def test_accepted_rows_survive_an_xlsx_round_trip(rows):
    first = parse_nominations(_csv(rows), "gen.csv")
    accepted = first.rows
    data = write_nominations_xlsx(accepted)
    again = parse_nominations(data, "gen.xlsx")
    assert again.errors == []
    assert [r["row"] for r in again.rows] == list(range(2, 2 + len(accepted)))
    strip = lambda rs: [{k: v for k, v in r.items() if k != "row"} for r in rs]
    assert strip(again.rows) == strip(accepted)
    # and parsing is a fixed point: writing the re-parsed rows gives the same rows again
    assert strip(parse_nominations(write_nominations_xlsx(again.rows), "x.xlsx").rows) == strip(accepted)
