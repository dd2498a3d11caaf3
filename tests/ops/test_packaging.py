"""The dependency lists say the truth: pyproject.toml's runtime dependencies are pinned in requirements.txt with
every package they pull in and no test tool; requirements-dev.txt is the runtime set plus the tools, pinned."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"pytest", "hypothesis", "schemathesis", "playwright", "ruff", "pytest-xdist"}


def pins(path: Path) -> dict[str, str]:
    """name → version of a requirements file's `name==version` lines."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-r")):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{path.name}: {line} is not pinned"
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, as installed here (extras followed)."""
    seen: set[tuple[str, tuple]] = set()
    names: set[str] = set()
    stack = [(r.name, tuple(sorted(r.extras))) for r in requirements]
    while stack:
        name, extras = stack.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        names.add(canonicalize_name(name))
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in ("", *extras)):
                continue
            stack.append((requirement.name, tuple(sorted(requirement.extras))))
    return names


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_runtime_requirements_pin_the_whole_runtime_set_and_no_tool():
    runtime = pins(ROOT / "requirements.txt")
    direct = [Requirement(line) for line in project()["dependencies"]]
    for requirement in direct:
        name = canonicalize_name(requirement.name)
        assert name in runtime, f"{name} is a dependency but not pinned in requirements.txt"
        assert requirement.specifier.contains(runtime[name]), f"{name}=={runtime[name]} outside {requirement}"
    assert closure(direct) == set(runtime), "requirements.txt is not exactly the runtime closure"
    assert not TOOLS & set(runtime)


def test_dev_requirements_add_the_tools_pinned_to_the_runtime_set():
    path = ROOT / "requirements-dev.txt"
    assert "-r requirements.txt" in path.read_text().splitlines()
    dev, runtime = pins(path), pins(ROOT / "requirements.txt")
    assert TOOLS <= set(dev) and not set(dev) & set(runtime)
    tools = [Requirement(line) for line in project()["optional-dependencies"]["dev"]]
    assert closure(tools) <= set(dev) | set(runtime)
    for requirement in tools:
        assert requirement.specifier.contains(dev[canonicalize_name(requirement.name)])
