"""The evidence pack as a human-readable PDF: scope, completeness, sign-offs, items, exceptions."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from idgov.clock import iso_utc
from idgov.counted import counted, plural
from idgov.reviews.evidence.items import EvidenceItem
from idgov.reviews.evidence.pack import EvidencePack

if TYPE_CHECKING:
    from idgov.exports.pdf import ReportPDF

# Each table of the PDF lists at most this many rows (the CSV and JSON copies list all):
# a million items must never become a million rows held by the PDF writer.
PDF_ROW_CAP = 5_000
# fmt: off
SIGNOFF_HEADINGS = (
    "Reviewer", "Stage, items", "Manifestation (as printed with the record)", "Signature",
    "Signed decisions digest", "Check",
)
SIGNOFF_WIDTHS = (34, 16, 92, 30, 46, 50)
ITEM_HEADINGS = (
    "Item", "Holder, account", "Entitlement, source", "Flags", "Reviewer", "Decision",
    "Justification", "Signed", "Remediation",
)
ITEM_WIDTHS = (14, 34, 40, 16, 32, 36, 42, 34, 22)
REMEDIATION_HEADINGS = (
    "Item", "Holder, account", "Entitlement, source", "Kind", "Status", "Requested",
    "Done", "Verified (by)", "Last error",
)
REMEDIATION_WIDTHS = (14, 36, 40, 22, 18, 26, 26, 40, 46)
EXCEPTION_HEADINGS = (
    "Item", "Holder, account", "Entitlement, source", "Reviewer", "Exceptions", "Details",
)
EXCEPTION_WIDTHS = (14, 40, 46, 40, 44, 84)
# fmt: on


def stamp(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class EvidenceHeading:
    """What heads the PDF (exports.pdf.Heading)."""

    title: str
    issuer: str
    generated_at: str
    generated: datetime
    filter_lines: list[tuple[str, str]]


def render_pdf(pack: EvidencePack) -> bytes:
    """The whole document; fully determined by the pack, so a closed campaign's PDF comes
    out byte for byte the same each time it is made from unchanged records."""
    from idgov.exports.pdf import start_report  # fpdf2 is slow to import: PDF only

    c = pack.campaign
    heading = EvidenceHeading(
        title="Access review evidence",
        issuer=pack.issuer,
        generated_at=iso_utc(pack.as_of),
        generated=pack.as_of,
        filter_lines=[("Campaign", f"{c.name} ({c.id})")],
    )
    alarm = {"Completeness"} if pack.population.alarming else set()
    if not all(signoff.intact for signoff in pack.signoffs):
        alarm.add("Sign-offs")
    pdf = start_report(heading, _title_lines(pack), frozenset(alarm))
    _signoffs(pdf, pack)
    t = pack.totals
    counts = ", ".join(f"{kind} {n}" for kind, n in t.exceptions.items())
    remediation = "Remediation of revocations, with verification times (REV-4)"
    for title, headings, widths, which, total, cells in (
        ("Items (REV-3)", ITEM_HEADINGS, ITEM_WIDTHS, {}, t.items, _item),
        (remediation, REMEDIATION_HEADINGS, REMEDIATION_WIDTHS, {"remediated": True},
         sum(t.remediation.values()), _remediation),
        (f"Exceptions (REV-5, REV-6): {counts}", EXCEPTION_HEADINGS, EXCEPTION_WIDTHS,
         {"exceptions": True}, t.with_exceptions, _exception),
    ):  # fmt: skip
        _table(pdf, title, headings, widths, pack.items(**which), total, cells)
    return bytes(pdf.output())


def _title_lines(pack: EvidencePack) -> list[tuple[str, str]]:
    c, t, p = pack.campaign, pack.totals, pack.population
    completeness = c.completeness
    sources = [
        (
            "Source",
            f"{name}: {counted(n.get('grants', 0), 'grant')} over "
            f"{counted(n.get('entitlements', 0), 'entitlement')}; "
            f"last snapshot {completeness.get('snapshots', {}).get(name) or 'none'}",
        )
        for name, n in completeness.get("sources", {}).items()
    ]
    flagged = completeness.get("flagged", {})
    as_of = (
        "the campaign is closed: this pack is made from its records as they stand, so a pack "
        "made again from unchanged records has the same SHA-256 as the one sealed at closing"
        if c.state == "closed"
        else f"the campaign is {c.state}: this pack shows its progress at this time"
    )
    bad = sum(not signoff.intact for signoff in pack.signoffs)
    return [
        ("State", c.state),
        (
            "Definition",
            f"{c.definition_name}: reviewer rule {c.reviewer_rule}; fallback reviewer "
            f"{c.fallback.label()}; {c.schedule or 'on demand'}; "
            f"{counted(c.duration_days, 'day')} to review, reminders "
            f"{counted(c.reminder_days, 'day')} before the due date, escalation after "
            f"{counted(c.escalation_days, 'day')}, dormant after "
            f"{counted(c.dormant_days, 'day')} without login"
            + ("; certifications need a justification" if c.certify_justification else ""),
        ),
        ("Started", f"{stamp(c.started_at)} by {c.started_by}; due {stamp(c.due_at)}"),
        ("Closing", f"{stamp(c.closing_at)} (decisions closed)"),
        ("Closed", stamp(c.closed_at)),
        ("As of", f"{stamp(pack.as_of)}: {as_of}"),
        ("Scope", json.dumps(c.scope, sort_keys=True)),
        ("Population", f"{counted(c.item_count, 'item')} frozen at the start (REV-1)"),
        *sources,
        ("Flagged", ", ".join(f"{k} {v}" for k, v in flagged.items()) + " (REV-6)"),
        ("Population hash", c.population_hash),
        ("Recompute", str(completeness.get("hash_algorithm", "-"))),
        ("Completeness", p.statement()),
        (
            "Decisions",
            f"{counted(t.items, 'item')} "
            f"({', '.join(f'stage {s}: {n}' for s, n in t.stages.items())}): "
            f"certified {t.certified}, revoked {t.revoked} (signed); undecided {t.undecided}, "
            f"decided but not signed {t.unsigned}; signed off {t.signed}",
        ),
        (
            "Sign-offs",
            f"{counted(len(pack.signoffs), 'electronic signature')}, meaning review"
            + (f"; {bad} DO NOT MATCH THE DECISIONS" if bad else "; every one matches"),
        ),
        ("Remediation", ", ".join(f"{s} {n}" for s, n in t.remediation.items()) or "none"),
        ("Exceptions", f"{counted(t.with_exceptions, 'item')} with exceptions"),
        (
            "This copy",
            f"each table lists at most {counted(PDF_ROW_CAP, 'row')}, in item order; the CSV "
            "and JSON copies list every item",
        ),
    ]


def _section(pdf: ReportPDF, title: str, note: str | None = None) -> None:
    from fpdf.enums import XPos, YPos

    pdf.add_page()
    pdf.style(bold=True, size=11)
    pdf.multi_cell(0, 6, pdf.clean(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if note:
        pdf.style(size=8)
        pdf.multi_cell(0, 4.2, pdf.clean(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.style()


def _signoffs(pdf: ReportPDF, pack: EvidencePack) -> None:
    from idgov.exports.pdf import Table

    _section(
        pdf,
        "Sign-offs: electronic signatures, meaning review (REV-3, MAN-1, LNK-1)",
        "Each reviewer signed exactly the decisions they made: the signature's record digest is "
        "the SHA-256 of those decisions, recomputed here from the items as they are now.",
    )
    table = Table(pdf, SIGNOFF_HEADINGS, SIGNOFF_WIDTHS)
    for signoff in pack.signoffs[:PDF_ROW_CAP]:
        table.row(
            signoff.signature_id,
            [
                signoff.reviewer.label(),
                f"stage {signoff.stage}\n{counted(signoff.item_count, 'item')}",
                signoff.manifestation.text(),
                signoff.signature_id,
                signoff.digest,
                signoff.check(),
            ],
        )
    _more(pdf, len(pack.signoffs), "sign-off")


def _table(
    pdf: ReportPDF,
    title: str,
    headings: tuple[str, ...],
    widths: tuple[int, ...],
    items: Generator[EvidenceItem, None, None],
    total: int,
    cells: Callable[[EvidenceItem], list[str]],
) -> None:
    from idgov.exports.pdf import Table

    _section(pdf, title)
    table = Table(pdf, headings, widths)
    with closing(items):
        for n, item in enumerate(items):
            if n == PDF_ROW_CAP:
                break
            table.row(f"item {item.id}", cells(item))
    if not total:
        table.row("none", ["none", *([""] * (len(headings) - 1))])
    _more(pdf, total, "row")


def _more(pdf: ReportPDF, total: int, noun: str) -> None:
    """`noun` in the singular: "1 more row is", "3 more rows are"."""
    if total <= PDF_ROW_CAP:
        return
    if pdf.get_y() > pdf.h - 30:
        pdf.add_page()
    pdf.ln(2)
    pdf.style(bold=True, size=8)
    rest = total - PDF_ROW_CAP
    note = (
        f"{rest} more {plural(rest, noun)} {plural(rest, 'is', 'are')} in the CSV and JSON "
        f"copies ({total} in all)."
    )
    pdf.cell(0, 4.2, note)
    pdf.style()


def _holder(item: EvidenceItem) -> str:
    return f"{item.holder.name}\n{item.account}"


def _entitlement(item: EvidenceItem) -> str:
    via = f"\nvia {item.via}" if item.via else ""
    return f"{item.entitlement}\n{item.source_type}:{item.source}{via}"


def _item(item: EvidenceItem) -> list[str]:
    flags = " ".join(item.flags) + (f"\nsuggest {item.suggestion}" if item.suggestion else "")
    escalated = f"\nescalated ({item.escalation})" if item.escalation else ""
    decision = "undecided"
    if item.decision is not None:
        by = item.decided_by.label() if item.decided_by else "-"
        decision = f"{item.decision}\nby {by}\n{stamp(item.decided_at)}"
    signed = "not signed"
    if item.signoff is not None:
        signed = f"{stamp(item.signoff.manifestation.signed_at)}\n{item.signoff.signature_id}"
    return [
        f"{item.id}\nstage {item.stage}",
        _holder(item),
        _entitlement(item),
        flags,
        item.reviewer.label() + escalated,
        decision,
        item.justification or "",
        signed,
        item.remediation.status if item.remediation else "",
    ]


def _remediation(item: EvidenceItem) -> list[str]:
    rem = item.remediation
    assert rem is not None  # only remediated items are asked for
    verified = stamp(rem.verified_at) + (f"\nby {rem.verified_by}" if rem.verified_by else "")
    return [
        str(item.id),
        _holder(item),
        _entitlement(item),
        rem.kind,
        rem.status,
        stamp(rem.requested_at),
        stamp(rem.done_at),
        verified,
        rem.last_error or "",
    ]


def _exception(item: EvidenceItem) -> list[str]:
    rem = item.remediation
    details = [
        f"due {stamp(item.due_at)}",
        f"decision {item.decision or 'none'}",
        f"escalation level {item.escalation}" if item.escalation else "",
        f"flags {' '.join(item.flags)}" if item.flags else "",
        f"remediation {rem.status}" if rem else "",
        f"error: {rem.last_error}" if rem and rem.last_error else "",
    ]
    return [
        str(item.id),
        _holder(item),
        _entitlement(item),
        item.reviewer.label(),
        "\n".join(item.exceptions),
        "; ".join(detail for detail in details if detail),
    ]
