"""The report's conclusion and the command's exit code (docs/validation/report.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from idgov.validation.checks import Check
from idgov.validation.matrix import NOT_IN_SCOPE, MatrixRow, gaps
from idgov.validation.oq import OqRun, OqSelection

EXIT_QUALIFIED = 0
EXIT_NOT_QUALIFIED = 3  # a gap in the matrix, or an IQ check failed
EXIT_PARTIAL = 4  # a selection ran and passed, but the report does not cover every requirement
EXIT_OQ_NOT_RUN = 5  # pytest missing, no shipped suite, or pytest wrote no results


@dataclass(frozen=True)
class Conclusion:
    outcome: str
    exit_code: int
    text: str
    gaps: list[str]
    iq_failed: list[str]
    not_in_scope: list[str]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def conclude(
    checks: list[Check], oq: OqRun, rows: list[MatrixRow], selection: OqSelection, partial_ok: bool
) -> Conclusion:
    failed = [c.id for c in checks if not c.passed]
    open_gaps = gaps(rows)
    outside = [row.requirement.id for row in rows if row.status == NOT_IN_SCOPE]
    traced = len(rows) - len(outside)

    def done(outcome: str, code: int, text: str) -> Conclusion:
        return Conclusion(outcome, code, text, open_gaps, failed, outside)

    if oq.status != "run":
        return done(
            "OQ not run",
            EXIT_OQ_NOT_RUN,
            f"The OQ did not run ({oq.reason}); no requirement is proven by this report.",
        )
    if open_gaps or failed or oq.collection_errors:
        parts = []
        if oq.collection_errors:
            parts.append(f"{len(oq.collection_errors)} test module(s) could not be collected")
        if open_gaps:
            parts.append(
                f"{len(open_gaps)} requirement(s) without a passing test: " + ", ".join(open_gaps)
            )
        if failed:
            parts.append(f"{len(failed)} IQ check(s) failed: " + ", ".join(failed))
        return done(
            "not qualified",
            EXIT_NOT_QUALIFIED,
            "The installation is NOT qualified. " + "; ".join(parts) + ".",
        )
    if selection.partial:
        text = (
            f"Partial report: {traced} of {len(rows)} requirements were in this run's "
            f"selection and are proven; {len(outside)} were not in scope, so this report "
            "does not qualify the installation as a whole."
            if outside
            else f"Partial report: all {len(rows)} requirements are proven by the tests this "
            "run's selection kept, but the selection left tagged tests out, so this report "
            "does not qualify the installation as a whole."
        )
        return done("partial", EXIT_QUALIFIED if partial_ok else EXIT_PARTIAL, text)
    return done(
        "qualified",
        EXIT_QUALIFIED,
        f"Every IQ check passed and all {len(rows)} requirements are traced to passing "
        "tests on this installation.",
    )
