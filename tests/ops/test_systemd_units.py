"""The systemd units of deploy/ as systemd reads them: `systemd-analyze verify` finds nothing to say about them.

The units name the installed checkout (/opt/fundsvc); verify checks that every command is an executable file, so
the units are verified in a copy where /opt/fundsvc is a scratch directory holding executable `flask` and
`gunicorn`, nothing else changed. systemd-analyze warns (unknown key, bad value) with exit status 0: any line it
prints fails the test. Skipped when systemd-analyze is not installed (`apt-get install systemd`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.spine.gunicorn_helpers import ROOT

DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/fundsvc"
UNITS = sorted(p.name for p in DEPLOY.iterdir() if p.suffix in {".service", ".timer"})
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def _installed_copy(tmp_path: Path, edit=lambda name, text: text) -> list[Path]:
    """The units, with INSTALLED moved under tmp_path where its two commands exist; `edit` may change a unit."""
    checkout = tmp_path / "opt" / "fundsvc"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    for command in ("flask", "gunicorn"):
        path = checkout / ".venv" / "bin" / command
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace(INSTALLED, str(checkout))
        (units / name).write_text(edit(name, text))
    return [units / name for name in UNITS]


def _verify(paths: list[Path]) -> str:
    result = subprocess.run(
        [ANALYZE, "verify", "--man=no", *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    return (result.stdout + result.stderr).strip() + ("" if result.returncode == 0 else f"\nexit {result.returncode}")


def test_deploy_has_the_units_the_readme_installs():
    assert {"fundsvc-web.service", "fundsvc-worker.service", "fundsvc-backup.service", "fundsvc-backup.timer"} <= set(
        UNITS
    )


@needs_systemd
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    assert _verify(_installed_copy(tmp_path)) == ""


@needs_systemd
def test_verify_would_see_a_mistake(tmp_path):
    """The check can fail: a misspelt value and an unknown key in a unit are reported (with exit status 0)."""

    def misspell(name: str, text: str) -> str:
        if name != "fundsvc-worker.service":
            return text
        return text.replace("Restart=on-failure", "Restart=on-failur\nRestartSecs=5")

    said = _verify(_installed_copy(tmp_path, misspell))
    assert "restart specifier" in said and "RestartSecs" in said


@needs_systemd
def test_the_backup_timer_calendar_is_one_systemd_reads():
    (line,) = [line for line in (DEPLOY / "fundsvc-backup.timer").read_text().splitlines() if line.startswith("OnCal")]
    spec = line.partition("=")[2]
    result = subprocess.run([ANALYZE, "calendar", spec], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Normalized form: \*-\*-\* 02:30:00", result.stdout)
