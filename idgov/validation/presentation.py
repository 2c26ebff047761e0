"""report.html, and the wording it shares with report.pdf, read from evidence.json."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from idgov.exports.streams import write_html
from idgov.validation.configuration import flatten

TEMPLATE = "validation/report.html"


def selection_text(evidence: dict[str, Any]) -> str:
    selection = evidence["selection"]
    if not selection["partial"]:
        return "every requirement-tagged test (pytest -m req)"
    parts = []
    if selection["requirements"]:
        parts.append("requirements " + ", ".join(selection["requirements"]))
    if selection["keyword"]:
        parts.append(f"-k {selection['keyword']!r}")
    if selection["tests"]:
        parts.append("a test folder given to test the report itself")
    return "partial: " + "; ".join(parts)


def oq_counts(evidence: dict[str, Any]) -> str:
    counts = Counter(test["outcome"] for test in evidence["oq"]["tests"])
    if not counts:
        return "none run"
    total = sum(counts.values())
    return f"{total} run: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))


def configuration_rows(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    return flatten(evidence["installation"]["configuration"])


def conclusion_heading(evidence: dict[str, Any]) -> tuple[str, str]:
    """The numbers of the last two sections (the comparison is a section only when asked)."""
    return ("5", "6") if evidence.get("comparison") else ("4", "5")


def write_report_html(evidence: dict[str, Any], path: Path) -> None:
    """The whole report as one self-contained page (no scripts, inline CSS)."""
    with path.open("wb") as out:
        write_html(
            TEMPLATE,
            out,
            e=evidence,
            selection_text=selection_text(evidence),
            oq_counts=oq_counts(evidence),
            configuration=configuration_rows(evidence),
        )
