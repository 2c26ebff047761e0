"""What changed since a previous report: idgov's version, packages, and the requirements whose
tests or outcomes changed; exactly those, so a release's impact can be assessed."""

from __future__ import annotations

from typing import Any


def compare_evidence(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    return {
        "previous_generated_at": previous.get("generated_at"),
        "version": {
            "previous": previous.get("idgov_version"),
            "current": current.get("idgov_version"),
            "changed": previous.get("idgov_version") != current.get("idgov_version"),
        },
        "packages": _packages(previous, current),
        "requirements": _requirements(previous, current),
    }


def _versions(evidence: dict[str, Any]) -> dict[str, str]:
    rows = evidence.get("installation", {}).get("packages", [])
    return {row["name"]: row["observed"] for row in rows if row.get("observed") != "not installed"}


def _packages(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    old, new = _versions(previous), _versions(current)
    return {
        "added": [{"name": n, "version": new[n]} for n in sorted(set(new) - set(old))],
        "removed": [{"name": n, "version": old[n]} for n in sorted(set(old) - set(new))],
        "changed": [
            {"name": n, "previous": old[n], "current": new[n]}
            for n in sorted(set(old) & set(new))
            if old[n] != new[n]
        ],
    }


def _outcomes(evidence: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """requirement id -> {"status": ..., "tests": {nodeid: outcome}}."""
    return {
        row["id"]: {
            "status": row["status"],
            "tests": {test["nodeid"]: test["outcome"] for test in row["tests"]},
        }
        for row in evidence.get("matrix", [])
    }


def _requirements(previous: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    old, new = _outcomes(previous), _outcomes(current)
    changed = []
    empty: dict[str, Any] = {"status": "absent", "tests": {}}
    for requirement_id in sorted(set(old) | set(new)):
        before, after = old.get(requirement_id, empty), new.get(requirement_id, empty)
        tests_before, tests_after = before["tests"], after["tests"]
        entry = {
            "id": requirement_id,
            "status": {"previous": before["status"], "current": after["status"]},
            "tests_added": sorted(set(tests_after) - set(tests_before)),
            "tests_removed": sorted(set(tests_before) - set(tests_after)),
            "outcomes_changed": [
                {"nodeid": nodeid, "previous": tests_before[nodeid], "current": tests_after[nodeid]}
                for nodeid in sorted(set(tests_before) & set(tests_after))
                if tests_before[nodeid] != tests_after[nodeid]
            ],
        }
        if (
            entry["tests_added"]
            or entry["tests_removed"]
            or entry["outcomes_changed"]
            or before["status"] != after["status"]
        ):
            changed.append(entry)
    return changed
