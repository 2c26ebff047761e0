"""OQ: the requirement-tagged tests, run by pytest in a subprocess against a scratch database
of the target's engine, never the target itself (VAL-1, 11.10(a))."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from idgov.validation.results_plugin import REQUIREMENTS_OPTION, RESULTS_OPTION
from idgov.validation.shipped import ShippedSuite, install_node_packages, run_directory

TEST_DATABASE_ENV = "IDGOV_TEST_DATABASE_URL"  # tests/harness/database.py
INSTALL_TEST_EXTRA = "pip install --require-hashes -r requirements/test.txt (the `test` extra)"
MAINTENANCE_DATABASE = "postgres"


@dataclass(frozen=True)
class OqSelection:
    """Which tagged tests run: all by default; `tests` replaces the suite's tests/ folder
    (to test the report itself, docs/validation/report.md)."""

    requirements: tuple[str, ...] = ()
    keyword: str | None = None
    tests: Path | None = None

    @property
    def partial(self) -> bool:
        return bool(self.requirements or self.keyword or self.tests)

    def as_json(self) -> dict[str, Any]:
        return {
            "requirements": list(self.requirements),
            "keyword": self.keyword,
            "tests": str(self.tests) if self.tests else None,
            "partial": self.partial,
        }


@dataclass
class OqRun:
    status: str  # "run", "not-run" or "error"
    reason: str = ""
    scratch_database: str = ""
    command: list[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""
    duration_seconds: float = 0.0
    exit_status: int | None = None
    tests: list[dict[str, Any]] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pytest_available() -> bool:
    return importlib.util.find_spec("pytest") is not None


def run_oq(suite: ShippedSuite | None, selection: OqSelection, target: URL, log: Path) -> OqRun:
    """Run the selection; pytest's own output goes to `log` (part of the package)."""
    if not pytest_available():
        return OqRun("not-run", f"pytest is not installed: {INSTALL_TEST_EXTRA}")
    if suite is None:
        return OqRun("not-run", "the test suite is not shipped with this installation")
    env, scratch = _environment(target)
    copied = suite.kind == "package" or selection.tests is not None
    workdir = run_directory(suite, selection.tests) if copied else suite.root
    with tempfile.TemporaryDirectory(prefix="idgov-oq-results-") as holder:
        results = Path(holder) / "results.json"
        try:
            missing = install_node_packages(workdir) if copied else []
            run = _run(_command(selection, results), workdir, env, scratch, results, log)
            if missing:  # shown beside the status: the tests that need them failed
                run.reason = "; ".join([run.reason, *missing] if run.reason else missing)
            return run
        finally:
            if copied:
                shutil.rmtree(workdir, ignore_errors=True)


def _run(
    command: list[str], workdir: Path, env: dict[str, str], scratch: str, results: Path, log: Path
) -> OqRun:
    started, clock = datetime.now(UTC), time.monotonic()
    with log.open("wb") as sink:
        done = subprocess.run(  # noqa: S603 - our interpreter, our arguments
            command, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT, check=False
        )
    run = OqRun(
        "run",
        scratch_database=scratch,
        command=_shown(command),
        started_at=_iso(started),
        finished_at=_iso(datetime.now(UTC)),
        duration_seconds=round(time.monotonic() - clock, 1),
        exit_status=done.returncode,
    )
    if not results.is_file():
        run.status, run.reason = "error", "pytest wrote no results: see oq-pytest.log"
        return run
    recorded = json.loads(results.read_text(encoding="utf-8"))
    run.tests, run.collection_errors = recorded["tests"], recorded["collection_errors"]
    return run


def _command(selection: OqSelection, results: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "idgov.validation.results_plugin",
        f"{RESULTS_OPTION}={results}",
        "-m",
        "req",
    ]
    if selection.requirements:
        command.append(f"{REQUIREMENTS_OPTION}={','.join(selection.requirements)}")
    if selection.keyword:
        command += ["-k", selection.keyword]
    return command


def _shown(command: list[str]) -> list[str]:
    """The command as the report prints it: no paths of this machine beyond the interpreter's."""
    return ["python", *[part for part in command[1:] if not part.startswith(RESULTS_OPTION)]]


def _environment(target: URL) -> tuple[dict[str, str], str]:
    """No idgov settings reach the tests (they build their own); on PostgreSQL the tests make
    and drop databases of their own on the target's server, from its maintenance database."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDGOV_")}
    if target.get_backend_name() == "postgresql":
        server = target.set(database=MAINTENANCE_DATABASE)
        env[TEST_DATABASE_ENV] = server.render_as_string(hide_password=False)
        shown = server.render_as_string(hide_password=True)
        return env, f"PostgreSQL: per-test databases created and dropped on {shown}"
    return env, "SQLite: per-test database files in the tests' temporary directories"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
