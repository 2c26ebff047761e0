"""A pytest plugin the OQ run loads (`-p idgov.validation.results_plugin`): it keeps only the
tests of the requirements asked for and writes each test's node id, requirement IDs, outcome,
duration and UTC start to a JSON file the report reads (VAL-1, 11.10(a)).

It imports nothing from pytest (pytest is the `test` extra, not a run-time dependency of
idgov): the hooks receive pytest's objects and only read documented attributes of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_OPTION = "--idgov-results"
REQUIREMENTS_OPTION = "--idgov-requirements"
# The worst outcome of a test's phases wins: a failed teardown makes a passed test an error.
SEVERITY = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 2, "failed": 3, "error": 4}


def requirement_ids(item: Any) -> list[str]:
    """The IDs a test carries as `@pytest.mark.req("ID")`, in order, without repeats."""
    found: list[str] = []
    for marker in item.iter_markers("req"):
        for value in marker.args:
            if str(value) not in found:
                found.append(str(value))
    return found


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("idgov-validation", "idgov validation report")
    group.addoption(RESULTS_OPTION, help="write the req-tagged tests' results to this JSON file")
    group.addoption(REQUIREMENTS_OPTION, help="comma-separated IDs: only their tests run")


def pytest_configure(config: Any) -> None:
    path = config.getoption(RESULTS_OPTION)
    if path:
        config.pluginmanager.register(ResultsRecorder(Path(path)), "idgov-validation-results")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    wanted = {part.strip() for part in (config.getoption(REQUIREMENTS_OPTION) or "").split(",")}
    wanted.discard("")
    if not wanted:
        return
    kept = [item for item in items if wanted & set(requirement_ids(item))]
    dropped = [item for item in items if not wanted & set(requirement_ids(item))]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


class ResultsRecorder:
    """Collects one record per req-tagged test and writes them when the session ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        self.requirements: dict[str, list[str]] = {}
        self.collection_errors: list[str] = []

    def pytest_collectreport(self, report: Any) -> None:
        # A module that cannot be imported hides its tests (and their IDs) from the matrix.
        if report.outcome == "failed":
            self.collection_errors.append(f"{report.nodeid}: {_first_line(report)}")

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            self.requirements[item.nodeid] = requirement_ids(item)

    def pytest_runtest_logreport(self, report: Any) -> None:
        ids = self.requirements.get(report.nodeid)
        if not ids:
            return  # only tests that prove a requirement feed the matrix
        record = self.records.setdefault(
            report.nodeid,
            {
                "nodeid": report.nodeid,
                "requirements": ids,
                "outcome": "passed",
                "duration_seconds": 0.0,
                "started_at": _utc(getattr(report, "start", None)),
                "message": None,
            },
        )
        record["duration_seconds"] = round(record["duration_seconds"] + report.duration, 4)
        outcome = _phase_outcome(report)
        if SEVERITY[outcome] > SEVERITY[record["outcome"]]:
            record["outcome"] = outcome
            if outcome != "passed":
                record["message"] = _first_line(report)

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        document = {
            "exit_status": int(exitstatus),
            "collected": len(self.requirements),
            "collection_errors": self.collection_errors,
            "tests": sorted(self.records.values(), key=lambda record: record["nodeid"]),
        }
        self.path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def _phase_outcome(report: Any) -> str:
    if hasattr(report, "wasxfail"):
        return "xpassed" if report.outcome == "passed" else "xfailed"
    if report.outcome == "failed":
        return "failed" if report.when == "call" else "error"
    return str(report.outcome)


def _first_line(report: Any) -> str:
    text = str(getattr(report, "longreprtext", "") or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else report.outcome)[:300]


def _utc(timestamp: float | None) -> str:
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
