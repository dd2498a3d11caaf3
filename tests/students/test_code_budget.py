"""The domain packages' function-length budget: a function of more than BUDGET lines is split into named steps.

(Complexity is ruff's C901, see ruff.toml.) The few exceptions are listed with their reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_PACKAGES = ("fundsvc/students",)
BUDGET = 60  # lines, from the def to the function's last line, docstring and comments included

#: "path:function" -> why it may be longer
EXCEPTIONS: dict[str, str] = {}


def _lengths():
    for package in DOMAIN_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{path.relative_to(ROOT)}:{node.name}", node.end_lineno - node.lineno + 1


def test_functions_of_the_domain_packages_fit_the_budget():
    lengths = dict(_lengths())
    over = {name: n for name, n in lengths.items() if n > BUDGET and name not in EXCEPTIONS}
    assert over == {}, f"functions over {BUDGET} lines: {over}"
    # an exception that no longer needs to be one is taken off the list
    assert {name for name in EXCEPTIONS if lengths.get(name, 0) <= BUDGET} == set()
