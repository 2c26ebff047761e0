"""`idgov validation-report` from an installed wheel, in a fresh virtual environment outside the
checkout: the OQ runs the suite the wheel ships (idgov/validation/suite/, setup.py) and the IQ
checks every installed file against the wheel's RECORD (VAL-1).

The environment installs the test lock from pip's cache of locked wheels, then idgov's wheel
without resolving anything; the report runs a two-test selection so the run stays short."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.smoke.quickstart import clean_environment, copy_checkout, make_venv, run

pytestmark = [pytest.mark.integration, pytest.mark.req("VAL-1")]

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ("--requirement", "AUD-3", "-k", "test_any_field_change or test_fast_input")


def report(venv: Path, site: Path, output: str) -> tuple[int, dict]:
    import subprocess

    done = subprocess.run(  # the exit code is the point here: run() would raise on non-zero
        [str(venv / "idgov"), "validation-report", "--output", output, *SELECTION, "--partial-ok"],
        cwd=site,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    evidence_file = site / output / "evidence.json"
    assert evidence_file.is_file(), done.stdout + done.stderr
    return done.returncode, json.loads(evidence_file.read_text(encoding="utf-8"))


@pytest.mark.skipif(
    not (ROOT / ".git").exists(),
    reason="building the wheel needs the project's git checkout; this suite runs from an "
    "installed wheel (its own report is the proof that the wheel path works)",
)
@pytest.mark.skipif(
    bool(os.environ.get("IDGOV_TEST_DATABASE_URL")),
    reason="the wheel is built and its report run once per suite run, in the SQLite pass; the "
    "report on PostgreSQL is tests/functional/test_validation_report.py",
)
def test_the_report_runs_from_an_installed_wheel(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "source")
    run(
        "wheel",
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", source],
        tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("idgov-*.whl")
    venv = make_venv(tmp_path / "venv")
    run(
        "lock",
        [
            venv / "pip",
            "install",
            "-q",
            "--require-hashes",
            "-r",
            ROOT / "requirements" / "test.txt",
        ],
        tmp_path,
    )
    run("wheel", [venv / "pip", "install", "-q", "--no-deps", wheel], tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    run("init", [venv / "idgov", "init"], site, clean_environment())

    code, evidence = report(venv, site, "out")
    checks = {c["id"]: c for c in evidence["installation"]["checks"]}
    assert code == 0, [c for c in checks.values() if not c["passed"]]
    assert evidence["suite"] == "package"
    assert "wheel (RECORD checked)" in checks["IQ-FILES"]["observed"]
    assert checks["IQ-PACKAGES"]["passed"]
    assert evidence["oq"]["tests"]
    assert {t["outcome"] for t in evidence["oq"]["tests"]} == {"passed"}
    assert {r["id"]: r["status"] for r in evidence["matrix"]}["AUD-3"] == "proven"
    run("verify", [venv / "idgov", "validation-report-verify", "out"], site, clean_environment())

    # An installed file edited after installation fails the IQ (its RECORD hash differs).
    (edited,) = (tmp_path / "venv").glob("lib/python*/site-packages/idgov/text.py")
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    code, evidence = report(venv, site, "edited")
    files = next(c for c in evidence["installation"]["checks"] if c["id"] == "IQ-FILES")
    assert code == 3
    assert not files["passed"]
    assert "idgov/text.py" in files["observed"]
