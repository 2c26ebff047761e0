"""report.pdf: cover page, table of contents, page numbers, IQ, OQ, matrix, comparison,
conclusion and a signature block for QA (fpdf2, the layout of idgov/exports/pdf.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.outline import OutlineSection

from idgov.exports.pdf import BOTTOM_MARGIN, ReportPDF, Table
from idgov.validation.presentation import (
    conclusion_heading,
    configuration_rows,
    oq_counts,
    selection_text,
)

TITLE = "Validation report (IQ, OQ, traceability)"


def write_report_pdf(evidence: dict[str, Any], path: Path) -> None:
    generated = datetime.fromisoformat(evidence["generated_at"].replace("Z", "+00:00"))
    pdf = ReportPDF(f"idgov {evidence['idgov_version']} · {TITLE} · {evidence['generated_at']}")
    pdf.use_unicode_font()
    pdf.footer_text = pdf.clean(pdf.footer_text)
    pdf.set_title(f"idgov {evidence['idgov_version']} {TITLE}")
    pdf.set_creator("idgov")
    pdf.set_creation_date(generated)
    pdf.set_margins(12, 12, 12)
    _cover(pdf, evidence)
    pdf.add_page()
    pdf.insert_toc_placeholder(_contents, pages=1, reset_page_indices=False)
    _iq(pdf, evidence)
    _oq(pdf, evidence)
    _matrix(pdf, evidence)
    if evidence.get("comparison"):
        _comparison(pdf, evidence["comparison"])
    conclusion, approval = conclusion_heading(evidence)
    _section(pdf, f"{conclusion}. Conclusion")
    _text(pdf, evidence["conclusion"]["text"], bold=True)
    _approval(pdf, approval)
    pdf.output(str(path))


def _cover(pdf: ReportPDF, evidence: dict[str, Any]) -> None:
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    pdf.add_page()
    pdf.ln(30)
    pdf.style(bold=True, size=26)
    pdf.cell(
        0, 14, pdf.clean(f"idgov {evidence['idgov_version']}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.style(bold=True, size=18)
    pdf.cell(0, 10, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    target, catalogue, conclusion = (
        evidence["target"],
        evidence["catalogue"],
        evidence["conclusion"],
    )
    for label, value in [
        ("Generated", f"{evidence['generated_at']} (UTC)"),
        ("Issuer", evidence["issuer"]),
        ("Target database", f"{target['version']} · {target['url']}"),
        (
            "Catalogue",
            f"{catalogue['file']} ({catalogue['requirements']} requirements)",
        ),
        ("Selection", selection_text(evidence)),
        (
            "Outcome",
            f"{conclusion['outcome']} (exit code {conclusion['exit_code']})",
        ),
    ]:
        pdf.style(bold=True, size=11)
        pdf.cell(45, 7, label)
        pdf.style(size=11)
        pdf.multi_cell(0, 7, pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _contents(pdf: FPDF, outline: list[OutlineSection]) -> None:
    assert isinstance(pdf, ReportPDF)
    pdf.set_xy(pdf.l_margin, pdf.t_margin)  # fpdf2 calls this last, from wherever it stopped
    pdf.style(bold=True, size=16)
    pdf.cell(0, 10, "Table of contents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(size=11)
    for section in outline:
        link = pdf.add_link(page=section.page_number)
        pdf.cell(pdf.epw - 30, 7, pdf.clean(section.name), link=link)
        pdf.cell(
            30,
            7,
            f"page {section.page_number}",
            align="R",
            link=link,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _section(pdf: ReportPDF, title: str, new_page: bool = True) -> None:
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    if new_page:  # the first section starts on the page the contents placeholder left
        pdf.add_page()
    pdf.start_section(title)
    pdf.style(bold=True, size=14)
    pdf.cell(0, 9, pdf.clean(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _text(pdf: ReportPDF, text: str, bold: bool = False, size: float = 9) -> None:
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    pdf.style(bold=bold, size=size)
    pdf.multi_cell(0, 5, pdf.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _table(pdf: ReportPDF, headings: list[str], widths: list[float], rows: list[list[str]]) -> None:
    table = Table(pdf, headings, widths)
    for cells in rows:
        table.row(cells[0], cells)
    pdf.ln(4)


def _iq(pdf: ReportPDF, evidence: dict[str, Any]) -> None:
    installation = evidence["installation"]
    _section(pdf, "1. Installation qualification (IQ)", new_page=False)
    _table(
        pdf,
        ["Check", "Title", "Expected", "Observed", "Result"],
        [19, 30, 34, 76, 9],
        [
            [c["id"], c["title"], c["expected"], c["observed"], "pass" if c["passed"] else "FAIL"]
            for c in installation["checks"]
        ],
    )
    _text(pdf, "Installed packages against the lock", bold=True)
    _table(
        pdf,
        ["Package", "Expected (lock)", "Observed"],
        [40, 30, 30],
        [[p["name"], p["expected"], p["observed"]] for p in installation["packages"]],
    )
    _text(pdf, "Configuration in force (secrets by reference only)", bold=True)
    _table(pdf, ["Setting", "Value"], [35, 65], [list(row) for row in configuration_rows(evidence)])


def _oq(pdf: ReportPDF, evidence: dict[str, Any]) -> None:
    oq = evidence["oq"]
    _section(pdf, "2. Operational qualification (OQ)")
    for line in [
        f"Status: {oq['status']}" + (f": {oq['reason']}" if oq["reason"] else ""),
        f"Scratch database: {oq['scratch_database'] or 'none'}",
        f"Command: {' '.join(oq['command'])}",
        f"Started {oq['started_at']}, finished {oq['finished_at']} (UTC), "
        f"{oq['duration_seconds']} s",
        f"Tests: {oq_counts(evidence)}",
        *(f"NOT COLLECTED: {error}" for error in oq.get("collection_errors", [])),
    ]:
        _text(pdf, line)
    _table(
        pdf,
        ["Test", "Requirements", "Outcome", "Duration (s)", "Started (UTC)"],
        [90, 22, 12, 11, 24],
        [
            [
                t["nodeid"] + (f"\n{t['message']}" if t.get("message") else ""),
                ", ".join(t["requirements"]),
                t["outcome"],
                str(t["duration_seconds"]),
                t["started_at"],
            ]
            for t in oq["tests"]
        ],
    )


def _matrix(pdf: ReportPDF, evidence: dict[str, Any]) -> None:
    _section(pdf, "3. Traceability matrix")
    rows = []
    for r in evidence["matrix"]:
        tests = "\n".join(f"{t['nodeid']}: {t['outcome']}" for t in r["tests"]) or "none"
        rows.append([r["id"], r["clause"], r["does"], tests, f"{r['status']}\n{r['note']}"])
    _table(
        pdf,
        ["ID", "Clause", "What idgov does", "Tests (outcome on this run)", "Status"],
        [10, 14, 48, 80, 20],
        rows,
    )
    if evidence.get("unknown_requirements"):
        _text(
            pdf,
            "Tests carry IDs the catalogue does not list: "
            + ", ".join(evidence["unknown_requirements"]),
            bold=True,
        )


def _comparison(pdf: ReportPDF, comparison: dict[str, Any]) -> None:
    _section(pdf, f"4. Changes since the previous report ({comparison['previous_generated_at']})")
    version = comparison["version"]
    _text(
        pdf,
        f"idgov version: {version['previous']} -> {version['current']}"
        + ("" if version["changed"] else " (unchanged)"),
    )
    packages = comparison["packages"]
    rows = [["added", p["name"], "", p["version"]] for p in packages["added"]]
    rows += [["removed", p["name"], p["version"], ""] for p in packages["removed"]]
    rows += [["changed", p["name"], p["previous"], p["current"]] for p in packages["changed"]]
    _table(
        pdf,
        ["Change", "Package", "Previous", "Current"],
        [15, 40, 25, 25],
        rows or [["none", "", "", ""]],
    )
    requirement_rows = [
        [
            r["id"],
            f"{r['status']['previous']} -> {r['status']['current']}",
            "\n".join(r["tests_added"]),
            "\n".join(r["tests_removed"]),
            "\n".join(
                f"{o['nodeid']}: {o['previous']} -> {o['current']}" for o in r["outcomes_changed"]
            ),
        ]
        for r in comparison["requirements"]
    ]
    _table(
        pdf,
        ["Requirement", "Status", "Tests added", "Tests removed", "Outcomes changed"],
        [12, 20, 45, 45, 50],
        requirement_rows or [["none", "", "", "", ""]],
    )


def _approval(pdf: ReportPDF, number: str) -> None:
    _section(pdf, f"{number}. Approval")
    _text(
        pdf,
        "Quality assurance reviewed this report. Sign it through idgov's own signature "
        "flow (meaning approval over the SHA-256 of report.pdf, docs/validation/report.md), "
        "or by hand below.",
    )
    pdf.ln(4)
    table = Table(pdf, ["Name", "Meaning", "Date (UTC)", "Signature"], [40, 25, 30, 60])
    for meaning in ("Approval", "Review"):
        table.row("", ["\n\n\n", meaning, "", ""])
