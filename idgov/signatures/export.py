"""Signature exports (EXP-1, MAN-2): CSV and JSON streamed, HTML and PDF with manifestations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from idgov.clock import Clock, iso_utc
from idgov.counted import counted
from idgov.exports import queries, streams
from idgov.exports.streams import ExportFormat, write_csv, write_html, write_json
from idgov.identity.usernames import normalize_username
from idgov.signatures.documents import SignatureDocument
from idgov.signatures.models import Signature
from idgov.signatures.reads import SIGNING_ORDER
from idgov.signatures.verification import KeyLookup, RecordKey, SignatureVerifier

# fmt: off
CSV_COLUMNS = (
    "signature_id", "signed_at", "printed_name", "username", "identity_id", "meaning",
    "statement", "reason", "manifestation", "record_type", "record_id", "record_version",
    "record_digest", "record_title", "client_id", "signing_session_id", "session_seq",
    "components", "batch_id", "batch_index", "merkle_root", "kid", "token_status", "token",
)
# Identifiers, times, hashes and the token stay verbatim (none starts with a formula trigger);
# names, reasons and record fields are guarded (exports.streams.guard_cell).
EXACT_COLUMNS = frozenset({
    "signature_id", "signed_at", "identity_id", "record_digest", "client_id",
    "signing_session_id", "session_seq", "batch_id", "batch_index", "merkle_root", "kid",
    "token_status", "token",
})
# fmt: on
# The PDF copy's table, in mm on landscape A4 (scaled to the page width).
PDF_HEADINGS = (
    "Signed at (UTC)",
    "Manifestation (as printed with the record)",
    "Record",
    "Record digest",
    "Signature and key",
    "Token",
)
PDF_COLUMN_WIDTHS = (24, 86, 46, 40, 46, 28)


VERIFIED = "verified"
CHECK_STATEMENT = (
    "Each signature's token (compact JWS, RFC 7515) was verified when this export was "
    "generated against the signature keys published at /.well-known/jwks.json, and compared "
    "with the stored manifestation and record (LNK-1)."
)


@dataclass(frozen=True)
class SignatureFilter:
    """Which signatures to export; every given criterion must match."""

    since: datetime | None = None  # aware UTC, inclusive
    until: datetime | None = None  # aware UTC, exclusive
    identity: str | None = None  # the signer's username
    record: str | None = None  # "type:id" matches type and id; a bare value matches the id

    def __post_init__(self) -> None:
        queries.check_window(self.since, self.until)
        if self.identity is not None:
            object.__setattr__(self, "identity", normalize_username(self.identity))

    def conditions(self) -> list[ColumnElement[bool]]:
        conds = queries.window(Signature.signed_at, self.since, self.until)
        if self.identity is not None:
            conds.append(Signature.username == self.identity)
        if self.record is not None:
            conds += queries.type_and_id(self.record, Signature.record_type, Signature.record_id)
        return conds

    def describe(self) -> dict[str, str | None]:
        return {
            "since": None if self.since is None else iso_utc(self.since),
            "until": None if self.until is None else iso_utc(self.until),
            "identity": self.identity,
            "record": self.record,
        }

    def lines(self) -> list[tuple[str, str]]:
        """The filter as printed on a human-readable copy."""
        labels = ("From (inclusive)", "Until (exclusive)", "Signer", "Record")
        described = self.describe().values()
        return [(label, v) for label, v in zip(labels, described, strict=True) if v is not None]


@dataclass(frozen=True)
class Entry:
    """One signature and what its token check found."""

    document: SignatureDocument
    status: str

    @property
    def ok(self) -> bool:
        return self.status == VERIFIED


@dataclass(frozen=True)
class SignatureReport:
    """What heads a human-readable copy (HTML and PDF alike)."""

    title: str
    issuer: str
    generated_at: str
    generated: datetime
    filter_lines: list[tuple[str, str]]
    count: int
    failed: int
    statement: str


class SignatureExporter:
    """Writes signatures, filtered, in signing order as CSV, JSON, HTML or PDF."""

    def __init__(
        self, engine: Engine, clock: Clock, issuer: str, verifier: SignatureVerifier
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._issuer = issuer
        self._verifier = verifier

    def write(self, fmt: ExportFormat, flt: SignatureFilter, out: BinaryIO) -> int:
        """Write the signatures matching `flt`; return how many were written."""
        with queries.read_snapshot(self._engine) as conn, Session(bind=conn) as session:
            query = select(func.count()).select_from(Signature).where(*flt.conditions())
            count = session.scalar(query) or 0
            streams.check_request(fmt, count, "signatures", "time range, signer or record")
            find_key = self._verifier.known_keys(session)
            entries = (self._entry(row, find_key) for row in _stream(session, flt))
            generated = self._clock.now()
            if fmt == "csv":
                return write_csv(out, CSV_COLUMNS, map(_cells, entries), EXACT_COLUMNS)
            if fmt == "json":
                meta = {
                    "generated_at": iso_utc(generated),
                    "issuer": self._issuer,
                    "filter": flt.describe(),
                    "signature_count": count,
                    "token_status": CHECK_STATEMENT,
                }
                documents = ({**e.document.as_dict(), "token_status": e.status} for e in entries)
                return write_json(out, meta, "signatures", documents)
            report = list(entries)
            header = self._header(generated, flt, report)
            if fmt == "html":
                write_html("signatures/export.html", out, h=header, rows=report)
            else:
                _render_pdf(header, report, out)
            return len(report)

    def _entry(self, row: Signature, find_key: KeyLookup) -> Entry:
        return check_stored(self._verifier, SignatureDocument.from_row(row), find_key)

    def _header(
        self, generated: datetime, flt: SignatureFilter, report: list[Entry]
    ) -> SignatureReport:
        failed = sum(not entry.ok for entry in report)
        total = counted(len(report), "token")
        if failed:
            summary = f"{failed} OF {total.upper()} FAILED VERIFICATION: see the Token column."
        else:
            summary = "The 1 token is verified." if len(report) == 1 else f"All {total} verified."
        return SignatureReport(
            title="Electronic signatures export",
            issuer=self._issuer,
            generated_at=iso_utc(generated),
            generated=generated,
            filter_lines=flt.lines() or [("Filter", "none: all signatures")],
            count=len(report),
            failed=failed,
            statement=f"{CHECK_STATEMENT} {summary}",
        )


def check_stored(
    verifier: SignatureVerifier, stored: SignatureDocument, find_key: KeyLookup
) -> Entry:
    """A stored signature's token verified against its own record and digest (LNK-1), and
    compared with the stored manifestation: what an export and the console both show."""
    record = RecordKey(stored.record.type, stored.record.id, stored.record.version)
    result = verifier.check(stored.token or "", find_key, stored.record.digest, record)
    if not result.valid:
        return Entry(stored, "INVALID: " + ", ".join(result.reasons))
    if result.document != replace(stored, token=None):
        return Entry(stored, "MISMATCH: the stored signature differs from its token")
    return Entry(stored, VERIFIED)


def _stream(session: Session, flt: SignatureFilter) -> Iterator[Signature]:
    query = select(Signature).where(*flt.conditions()).order_by(*SIGNING_ORDER)
    yield from session.scalars(query, execution_options={"yield_per": streams.STREAM_BATCH})


def _cells(entry: Entry) -> dict[str, object]:
    d, m, r = entry.document, entry.document.manifestation, entry.document.record
    return {
        "signature_id": d.id,
        "signed_at": iso_utc(m.signed_at),
        "printed_name": m.printed_name,
        "username": m.username,
        "identity_id": d.identity_id,
        "meaning": m.meaning,
        "statement": m.statement,
        "reason": m.reason,
        "manifestation": m.text(),
        "record_type": r.type,
        "record_id": r.id,
        "record_version": r.version,
        "record_digest": r.digest,
        "record_title": r.title,
        "client_id": d.client_id,
        "signing_session_id": d.signing_session,
        "session_seq": d.session_seq,
        "components": " ".join(d.components),
        "batch_id": d.batch_id,
        "batch_index": d.batch_index,
        "merkle_root": d.merkle_root,
        "kid": d.kid,
        "token_status": entry.status,
        "token": d.token,
    }


def _render_pdf(header: SignatureReport, rows: list[Entry], out: BinaryIO) -> None:
    """The header block and one table row per signature, as a PDF document (MAN-2)."""
    from idgov.exports.pdf import Table, start_report  # fpdf2 is slow to import: PDF only

    lines = [("Signatures", str(header.count)), ("Tokens", header.statement)]
    pdf = start_report(header, lines, frozenset({"Tokens"} if header.failed else ()))
    table = Table(pdf, PDF_HEADINGS, PDF_COLUMN_WIDTHS)
    for entry in rows:
        doc, record = entry.document, entry.document.record
        signed_at = doc.manifestation.signed_at.strftime("%Y-%m-%d\n%H:%M:%S UTC")
        title = f"\n{record.title}" if record.title else ""
        cells = [
            signed_at,
            doc.manifestation.text(),
            f"{record.type} {record.id}\nversion {record.version}{title}",
            record.digest,
            f"signature {doc.id}\nkey {doc.kid}",
            entry.status,
        ]
        table.row(signed_at.replace("\n", " "), cells)
    out.write(bytes(pdf.output()))
