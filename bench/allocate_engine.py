"""Bench of the pure allocation engine, and helpers the full bench reuses.

`make_nominations(n, seed=...)` makes N random nominations as the plain dicts `allocate` takes
(deterministic for a seed). Run as a script: times `allocate` on 100,000 nominations with each preset,
beside the reference implementation (fundsvc/allocation/reference.py) on the same nominations, and checks
that they agree.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _names import FAMILY, GIVEN, MIDDLE

from fundsvc.allocation import reference
from fundsvc.allocation.engine import allocate
from fundsvc.allocation.rules import PRESETS

ETHNICITIES = ["Kinh"] * 6 + ["Khmer"] * 3 + ["Hoa", None]
LEVEL_GRADES = {
    "primary": range(1, 6),
    "lower_secondary": range(6, 10),
    "upper_secondary": range(10, 13),
}
SCHOOL_PREFIX = {
    "primary": "TH",
    "lower_secondary": "THCS",
    "upper_secondary": "THPT",
    "university": "ĐH",
}


def make_units(districts: int = 10, communes: int = 12, province: str = "ST") -> list[tuple[str, str]]:
    """(commune code, district code) pairs: ST-D01-C01 under ST-D01, …"""
    return [
        (f"{province}-D{d:02d}-C{c:02d}", f"{province}-D{d:02d}")
        for d in range(1, districts + 1)
        for c in range(1, communes + 1)
    ]


def make_nominations(
    n: int,
    *,
    seed: int = 2024,
    units: list[tuple[str, str]] | None = None,
    academic_year: str = "2024-2025",
    start_id: int = 1,
) -> list[dict]:
    """N random nominations shaped as the engine's input (ids start_id…, deterministic for a seed)."""
    rng = random.Random(seed)
    units = units or make_units()
    first_year = int(academic_year[:4])
    out = []
    for i in range(n):
        unit, district = units[rng.randrange(len(units))]
        level = rng.choices(
            ["primary", "lower_secondary", "upper_secondary", "university"],
            weights=[40, 35, 20, 5],
        )[0]
        if level == "university":
            year = rng.randint(1, 4)
            grade, grade_number, age = f"Năm {year}", None, 17 + year
        else:
            grade_number = rng.choice(LEVEL_GRADES[level])
            grade, age = f"{grade_number}{rng.choice('ABCD')}", 5 + grade_number
        birth = dt.date(first_year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        eth = rng.choice(ETHNICITIES)
        gpa = None if rng.random() < 0.02 else Decimal(rng.randint(50, 100)) / 10
        out.append(
            {
                "id": start_id + i,
                "student_code": None if rng.random() < 0.05 else f"HS{start_id + i:07d}",
                "full_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                "birth_date": birth,
                "gender": rng.choice(["male", "female", None]),
                "ethnicity": eth,
                "ethnic_minority": eth is not None and eth != "Kinh",
                "school": f"Trường {SCHOOL_PREFIX[level]} {unit}-{rng.randint(1, 3)}",
                "grade": grade,
                "grade_number": grade_number,
                "level": level,
                "unit": unit,
                "district": district,
                "household": rng.choices(["poor", "near_poor", "hardship", "none"], weights=[30, 20, 25, 25])[0],
                "orphan": rng.random() < 0.05,
                "disability": rng.random() < 0.03,
                "gpa": gpa,
                "academic_result": rng.choice(["excellent", "good", "pass", "fail", None]),
                "conduct": rng.choices(
                    ["excellent", "good", "pass", "fail", None],
                    weights=[50, 30, 12, 3, 5],
                )[0],
                "achievement": rng.choices(
                    ["national", "province", "district", "school", "none"],
                    weights=[1, 4, 10, 15, 70],
                )[0],
                "guardian": None,
                "note": None,
                "status": "withdrawn" if rng.random() < 0.01 else "active",
                "in_round_unit": rng.random() >= 0.01,
                "awarded_elsewhere": rng.random() < 0.02,
            }
        )
    return out


def time_allocate(nominations: list[dict], rules: dict, *, repeat: int = 3, **kwargs) -> float:
    """Best wall time of `allocate(...).as_dict()` over `repeat` runs, in seconds."""
    kwargs.setdefault("academic_year", "2024-2025")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        allocate(nominations, rules, **kwargs).as_dict()
        best = min(best, time.perf_counter() - t0)
    return best


def time_reference(nominations: list[dict], rules: dict, **kwargs) -> tuple[float, dict]:
    """Wall time of the reference implementation (fundsvc/allocation/reference.py), once, and its result."""
    t0 = time.perf_counter()
    result = reference.allocate(nominations, rules, academic_year="2024-2025", **kwargs)
    return time.perf_counter() - t0, result


def main(n: int = 100_000) -> None:
    noms = make_nominations(n)
    rows = []
    for name, rules in PRESETS.items():
        rules = dict(
            rules,
            quotas=[
                {"group": "unit", "max_awards": 300},
                {"group": "school", "max_amount": 60_000_000},
            ],
        )
        budget = 20_000_000_000
        secs = time_allocate(noms, rules, budget=budget, available=budget)
        a = allocate(noms, rules, budget=budget, available=budget, academic_year="2024-2025")
        ref_secs, ref = time_reference(noms, rules, budget=budget, available=budget)
        ref.pop("ranked")
        same = json.dumps(a.as_dict()) == json.dumps(ref)
        rows.append((name, n, secs, ref_secs, same, len(a.awarded), len(a.waitlisted), len(a.ineligible)))
    base = rows[0][2]
    header = ("rules", "nominations", "engine s", "ratio", "reference s", "ref/engine", "same", "awarded")
    print("{:<12} {:>11} {:>8} {:>6} {:>11} {:>10} {:>5} {:>8}".format(*header))
    for name, count, secs, ref_secs, same, aw, _wl, _inel in rows:
        print(
            f"{name:<12} {count:>11,} {secs:>8.3f} {secs / base:>6.2f} {ref_secs:>11.3f} "
            f"{ref_secs / secs:>10.1f} {'yes' if same else 'NO':>5} {aw:>8,}"
        )
    if not all(row[4] for row in rows):
        raise SystemExit("the engine and the reference disagree")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
