"""The validation report's pure parts: catalogue, lock markers, matrix, comparison, redaction."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idgov.config import DatabaseSettings, ServerSettings, Settings, SmtpSettings
from idgov.validation.catalogue import catalogue_text, load_catalogue, parse_catalogue
from idgov.validation.checks import Check
from idgov.validation.compare import compare_evidence
from idgov.validation.conclusion import (
    EXIT_NOT_QUALIFIED,
    EXIT_OQ_NOT_RUN,
    EXIT_PARTIAL,
    EXIT_QUALIFIED,
    conclude,
)
from idgov.validation.configuration import configuration_in_force, flatten
from idgov.validation.lockfile import applicable, marker_holds, read_pins
from idgov.validation.matrix import GAP, NOT_IN_SCOPE, PROVEN, build_matrix, gaps
from idgov.validation.oq import OqRun, OqSelection


@pytest.mark.req("VAL-1")
def test_the_shipped_catalogue_lists_every_id_of_the_requirement_tables() -> None:
    text = catalogue_text()
    ids = re.findall(r"^\| ([A-Z]+-\d+) \|", text, flags=re.MULTILINE)
    catalogue = load_catalogue()
    assert [r.id for r in catalogue] == ids
    assert len(ids) == len(set(ids)) > 30
    by_id = {r.id: r for r in catalogue}
    assert by_id["LOCK-1"].clause == "11.300(d)"
    assert by_id["VAL-1"].does.startswith("`idgov validation-report` runs")
    # A table without a Clause column takes its source from the section heading.
    assert "EU Annex 11" in by_id["REV-2"].clause


def test_a_table_row_that_is_not_a_requirement_is_skipped() -> None:
    rows = parse_catalogue(
        "## A (11.1)\n| ID | What |\n|---|---|\n| X-1 | does x |\n| nope | y |\n"
    )
    assert [(r.id, r.clause, r.does) for r in rows] == [("X-1", "11.1", "does x")]


def test_lock_markers_follow_this_interpreter(tmp_path: Path) -> None:
    assert marker_holds(None)
    assert marker_holds("python_full_version >= '3.11'")
    assert not marker_holds("python_full_version < '3.0'")
    assert not marker_holds("sys_platform == 'win32'") or __import__("sys").platform == "win32"
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "flask==3.1.3 \\\n    --hash=sha256:ab\nColorama==0.4.6 ; sys_platform == 'never' \\\n"
        "Deprecated==1.3.1 ; python_full_version < '3.0' \\\n"
        "deprecated==3.0.1 ; python_full_version >= '3.0' \\\n",
        encoding="utf-8",
    )
    assert applicable(read_pins(lock)) == {"flask": "3.1.3", "deprecated": "3.0.1"}


def _test(nodeid: str, outcome: str, *ids: str) -> dict[str, object]:
    return {"nodeid": nodeid, "requirements": list(ids), "outcome": outcome}


@pytest.mark.req("VAL-1")
def test_a_requirement_needs_a_passing_test_and_none_failing() -> None:
    catalogue = parse_catalogue(
        "## S (11.1)\n| ID | Clause | What |\n|---|---|---|\n"
        "| A-1 | c | a |\n| B-1 | c | b |\n| C-1 | c | c |\n| D-1 | c | d |\n"
    )
    run = OqRun(
        "run",
        tests=[
            _test("t1", "passed", "A-1", "B-1"),
            _test("t2", "failed", "B-1"),
            _test("t3", "skipped", "C-1"),
        ],
    )
    rows = build_matrix(catalogue, run, OqSelection())
    assert [row.status for row in rows] == [PROVEN, GAP, GAP, GAP]
    assert gaps(rows) == ["B-1", "C-1", "D-1"]
    selected = build_matrix(catalogue, run, OqSelection(requirements=("A-1", "B-1", "D-1")))
    assert [row.status for row in selected] == [PROVEN, GAP, NOT_IN_SCOPE, GAP]


def _evidence(version: str, packages: dict[str, str], matrix: dict[str, dict[str, str]]) -> dict:
    return {
        "generated_at": "2026-01-01T00:00:00Z",
        "idgov_version": version,
        "installation": {
            "packages": [{"name": n, "expected": v, "observed": v} for n, v in packages.items()]
        },
        "matrix": [
            {
                "id": rid,
                "status": "gap" if "failed" in tests.values() else "proven",
                "tests": [{"nodeid": n, "outcome": o} for n, o in tests.items()],
            }
            for rid, tests in matrix.items()
        ],
    }


@pytest.mark.req("VAL-1")
def test_the_comparison_lists_exactly_what_changed() -> None:
    before = _evidence(
        "0.1.0",
        {"flask": "3.1.2", "gone": "1.0", "same": "2.0"},
        {"A-1": {"a": "passed"}, "B-1": {"b": "passed"}, "C-1": {"c": "passed", "c2": "passed"}},
    )
    after = _evidence(
        "0.2.0",
        {"flask": "3.1.3", "new": "0.1", "same": "2.0"},
        {"A-1": {"a": "passed"}, "B-1": {"b": "failed"}, "C-1": {"c": "passed", "c3": "passed"}},
    )
    diff = compare_evidence(before, after)
    assert diff["version"] == {"previous": "0.1.0", "current": "0.2.0", "changed": True}
    assert diff["packages"] == {
        "added": [{"name": "new", "version": "0.1"}],
        "removed": [{"name": "gone", "version": "1.0"}],
        "changed": [{"name": "flask", "previous": "3.1.2", "current": "3.1.3"}],
    }
    assert [r["id"] for r in diff["requirements"]] == ["B-1", "C-1"]
    b, c = diff["requirements"]
    assert b["outcomes_changed"] == [{"nodeid": "b", "previous": "passed", "current": "failed"}]
    assert (c["tests_added"], c["tests_removed"]) == (["c3"], ["c2"])
    assert compare_evidence(after, after)["requirements"] == []


def test_the_configuration_shows_secrets_by_reference_only() -> None:
    settings = Settings(
        server=ServerSettings(secret_key="env://IDGOV_SECRET"),
        database=DatabaseSettings(url="postgresql://idgov:s3cret-pw@db.example/idgov"),
        smtp=SmtpSettings(password="literal-smtp-password"),
    )
    rows = dict(flatten(configuration_in_force(settings)))
    assert rows["server.secret_key"] == "env://IDGOV_SECRET"
    assert rows["smtp.password"] == "<redacted> (a literal value)"
    assert rows["database.url"] == "postgresql://idgov:<redacted>@db.example/idgov"
    shown = repr(rows)
    assert "s3cret-pw" not in shown
    assert "literal-smtp-password" not in shown


@pytest.mark.req("VAL-1")
def test_the_conclusion_and_exit_code_follow_gaps_checks_and_scope() -> None:
    catalogue = parse_catalogue("## S (11.1)\n| ID | What |\n|---|---|\n| A-1 | a |\n| B-1 | b |\n")
    run = OqRun("run", tests=[_test("t1", "passed", "A-1"), _test("t2", "passed", "B-1")])
    passed = [Check("IQ-X", "x", "x", "x", True)]
    complete = OqSelection()
    rows = build_matrix(catalogue, run, complete)
    assert conclude(passed, run, rows, complete, False).exit_code == EXIT_QUALIFIED
    failed_check = [Check("IQ-X", "x", "x", "y", False)]
    refused = conclude(failed_check, run, rows, complete, False)
    assert (refused.exit_code, refused.iq_failed) == (EXIT_NOT_QUALIFIED, ["IQ-X"])
    keyword = OqSelection(keyword="t")
    partial = conclude(passed, run, build_matrix(catalogue, run, keyword), keyword, False)
    assert partial.exit_code == EXIT_PARTIAL
    assert "left tagged tests out" in partial.text
    assert conclude(passed, run, rows, keyword, True).exit_code == EXIT_QUALIFIED
    only_a = OqSelection(requirements=("A-1",))
    scoped = conclude(passed, run, build_matrix(catalogue, run, only_a), only_a, False)
    assert (scoped.exit_code, scoped.not_in_scope) == (EXIT_PARTIAL, ["B-1"])
    not_run = OqRun("not-run", reason="pytest is not installed")
    skipped = conclude(passed, not_run, build_matrix(catalogue, not_run, complete), complete, False)
    assert skipped.exit_code == EXIT_OQ_NOT_RUN
