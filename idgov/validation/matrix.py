"""The traceability matrix: requirement -> clause -> what idgov does -> tests -> outcome.

A requirement in scope is proven when it has at least one passing test and none failing; any
other state is a gap. Out of scope: a selected run (--requirement, -k) did not cover it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idgov.validation.catalogue import Requirement
from idgov.validation.oq import OqRun, OqSelection

PROVEN, GAP, NOT_IN_SCOPE, NOT_RUN = "proven", "gap", "not in scope", "not run"
FAILING = frozenset({"failed", "error", "xpassed"})


@dataclass(frozen=True)
class MatrixRow:
    requirement: Requirement
    tests: tuple[dict[str, Any], ...]
    status: str
    note: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.requirement.id,
            "clause": self.requirement.clause,
            "does": self.requirement.does,
            "section": self.requirement.section,
            "tests": [{"nodeid": t["nodeid"], "outcome": t["outcome"]} for t in self.tests],
            "status": self.status,
            "note": self.note,
        }


def build_matrix(
    catalogue: list[Requirement], oq: OqRun, selection: OqSelection
) -> list[MatrixRow]:
    by_requirement: dict[str, list[dict[str, Any]]] = {}
    for test in oq.tests:
        for requirement_id in test["requirements"]:
            by_requirement.setdefault(requirement_id, []).append(test)
    rows = []
    for requirement in catalogue:
        tests = tuple(by_requirement.get(requirement.id, []))
        status, note = _status(requirement.id, tests, oq, selection)
        rows.append(MatrixRow(requirement, tests, status, note))
    return rows


def _status(
    requirement_id: str, tests: tuple[dict[str, Any], ...], oq: OqRun, selection: OqSelection
) -> tuple[str, str]:
    if oq.status != "run":
        return NOT_RUN, "the OQ did not run"
    if selection.requirements and requirement_id not in selection.requirements:
        return NOT_IN_SCOPE, "not selected (--requirement)"
    outcomes = [test["outcome"] for test in tests]
    failing = [outcome for outcome in outcomes if outcome in FAILING]
    passed = outcomes.count("passed")
    if not tests:
        if selection.keyword or selection.tests:
            return NOT_IN_SCOPE, "no test of this run's selection carries it"
        return GAP, "no test carries this requirement"
    if failing:
        return GAP, f"{len(failing)} of {len(tests)} tests did not pass"
    if not passed:
        return GAP, f"no passing test ({', '.join(sorted(set(outcomes)))})"
    return PROVEN, f"{passed} of {len(tests)} tests passed"


def gaps(rows: list[MatrixRow]) -> list[str]:
    return [row.requirement.id for row in rows if row.status == GAP]


def unknown_requirements(oq: OqRun, catalogue: list[Requirement]) -> list[str]:
    """IDs that tests carry but the catalogue does not list (a typo, or a stale catalogue)."""
    known = {requirement.id for requirement in catalogue}
    return sorted({rid for test in oq.tests for rid in test["requirements"]} - known)
