"""report.html: the whole report as one self-contained page (no scripts, inline CSS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idgov.exports.streams import write_html
from idgov.validation.presentation import configuration_rows, oq_counts, selection_text

TEMPLATE = "validation/report.html"


def write_report_html(evidence: dict[str, Any], path: Path) -> None:
    with path.open("wb") as out:
        write_html(
            TEMPLATE,
            out,
            e=evidence,
            selection_text=selection_text(evidence),
            oq_counts=oq_counts(evidence),
            configuration=configuration_rows(evidence),
        )
