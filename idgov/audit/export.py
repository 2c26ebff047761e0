"""Audit trail exports (EXP-1): CSV and JSON streamed, HTML and PDF rendered for people."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection, Engine, Row

from idgov.audit.canonical import HashedFields, reference_document
from idgov.audit.models import AuditEvent
from idgov.audit.verify import ChainReport
from idgov.clock import Clock, iso_utc
from idgov.counted import counted
from idgov.exports import queries, streams
from idgov.exports.streams import ExportFormat, write_csv, write_html, write_json

HASH_ALGORITHM = (
    'sha256 (hex) of the event\'s canonical JSON without its "hash" key: keys sorted, '
    "separators ',' and ':', no whitespace, not ASCII-escaped, UTF-8 (docs/audit-trail.md); "
    "each event's prev_hash is the hash of the event before it, the first links to 64 zeros"
)
# fmt: off
CSV_COLUMNS = (
    "seq", "event_id", "occurred_at", "actor_type", "actor_id", "actor_name", "action",
    "target_type", "target_id", "old_values", "new_values", "reason", "request_id",
    "source_address", "prev_hash", "hash",
)
# The PDF copy's table: in mm on landscape A4 (scaled to the page width), a time fits on
# two lines, an action on one, a hash prefix on one.
PDF_HEADINGS = (
    "Seq", "Time (UTC)", "Actor", "Action", "Target", "Old → new values", "Reason", "Hash",
)
PDF_COLUMN_WIDTHS = (12, 26, 38, 30, 30, 81, 36, 24)
# fmt: on


# Free-text cells are guarded against formula injection (streams.guard_cell). The canonical
# JSON columns and the hashes stay exact: they never start with a trigger character, and an
# inspector recomputes the hashes from them.
UNGUARDED_COLUMNS = frozenset(
    {"seq", "occurred_at", "old_values", "new_values", "prev_hash", "hash"}
)


@dataclass(frozen=True)
class ExportFilter:
    """Which events to export; every given criterion must match."""

    since: datetime | None = None  # aware UTC, inclusive
    until: datetime | None = None  # aware UTC, exclusive
    actor: str | None = None  # matches AuditEvent.actor_id exactly
    target: str | None = None  # "type:id" matches type and id; a bare value matches the id
    action: str | None = None  # matches AuditEvent.action exactly

    def __post_init__(self) -> None:
        queries.check_window(self.since, self.until)

    def conditions(self) -> list[ColumnElement[bool]]:
        conds = queries.window(AuditEvent.occurred_at, self.since, self.until)
        if self.actor is not None:
            conds.append(AuditEvent.actor_id == self.actor)
        if self.target is not None:
            conds += queries.type_and_id(self.target, AuditEvent.target_type, AuditEvent.target_id)
        if self.action is not None:
            conds.append(AuditEvent.action == self.action)
        return conds

    def describe(self) -> dict[str, str | None]:
        return {
            "since": iso_utc(self.since) if self.since is not None else None,
            "until": iso_utc(self.until) if self.until is not None else None,
            "actor": self.actor,
            "target": self.target,
            "action": self.action,
        }


@dataclass(frozen=True)
class ReportHeader:
    """What heads a human-readable export (HTML and PDF alike)."""

    title: str
    issuer: str
    generated_at: str
    generated: datetime
    filter_lines: list[tuple[str, str]]
    event_count: int
    chain_ok: bool | None  # None: not verified for this export
    chain_statement: str
    hash_algorithm: str


@dataclass(frozen=True)
class ReportRow:
    """One event as a person reads it."""

    seq: int
    occurred_at: str
    actor: str
    action: str
    target: str
    old: str
    new: str
    reason: str
    hash: str

    @property
    def hash_prefix(self) -> str:
        return self.hash[:12] + "…"


class AuditExporter:
    """Writes the audit trail, filtered, as CSV, JSON, HTML or PDF to a binary stream."""

    def __init__(self, engine: Engine, clock: Clock, issuer: str) -> None:
        self._engine = engine
        self._clock = clock
        self._issuer = issuer

    def write(
        self,
        fmt: ExportFormat,
        flt: ExportFilter,
        out: BinaryIO,
        chain: ChainReport | None = None,
    ) -> int:
        """Write the events matching `flt` in seq order; return how many were written."""
        with queries.read_snapshot(self._engine) as conn:
            count, last_seq = _count(conn, flt)
            streams.check_request(fmt, count, "events", "time range, actor or target")
            rows = _stream(conn, flt, last_seq)
            generated = self._clock.now()
            if fmt == "csv":
                cells = ({**row._asdict(), "occurred_at": iso_utc(row.occurred_at)} for row in rows)
                return write_csv(out, CSV_COLUMNS, cells, UNGUARDED_COLUMNS)
            if fmt == "json":
                meta = self._metadata(generated, flt, count, chain)
                documents = ({**reference_document(_fields(row)), "hash": row.hash} for row in rows)
                return write_json(out, meta, "events", documents)
            report = [_report_row(row) for row in rows]
            header = self._header(generated, flt, len(report), chain)
            if fmt == "html":
                write_html("audit/export.html", out, h=header, rows=report)
            else:
                _render_pdf(header, report, out)
            return len(report)

    def _metadata(
        self, generated: datetime, flt: ExportFilter, count: int, chain: ChainReport | None
    ) -> dict[str, Any]:
        return {
            "generated_at": iso_utc(generated),
            "issuer": self._issuer,
            "filter": flt.describe(),
            "event_count": count,
            "chain": None if chain is None else _chain_document(chain),
            "hash_algorithm": HASH_ALGORITHM,
        }

    def _header(
        self, generated: datetime, flt: ExportFilter, count: int, chain: ChainReport | None
    ) -> ReportHeader:
        described = flt.describe()
        labels = {
            "since": "From (inclusive)",
            "until": "Until (exclusive)",
            "actor": "Actor id",
            "target": "Target",
            "action": "Action",
        }
        lines = [(labels[key], value) for key, value in described.items() if value is not None]
        return ReportHeader(
            title="Audit trail export",
            issuer=self._issuer,
            generated_at=iso_utc(generated),
            generated=generated,
            filter_lines=lines or [("Filter", "none: all events")],
            event_count=count,
            chain_ok=None if chain is None else chain.ok,
            chain_statement=chain_statement(chain),
            hash_algorithm=HASH_ALGORITHM,
        )


def _chain_document(chain: ChainReport) -> dict[str, Any]:
    return {
        "ok": chain.ok,
        "events_checked": chain.events_checked,
        "head_seq": chain.head_seq,
        "head_hash": chain.head_hash,
        "first_bad_seq": chain.first_bad_seq,
        "problem": chain.problem,
    }


def chain_statement(chain: ChainReport | None) -> str:
    """One sentence on the chain's integrity, as printed on human-readable copies."""
    if chain is None:
        return "The hash chain was not verified for this export (run `idgov audit verify`)."
    if chain.ok:
        return (
            "The hash chain was verified when this export was generated: "
            f"{_linked(chain.events_checked)} correctly up to event {chain.head_seq} "
            f"(head hash {chain.head_hash})."
        )
    return (
        f"CHAIN VERIFICATION FAILED at event {chain.first_bad_seq}: {chain.problem}. "
        f"Events from {chain.first_bad_seq} on cannot be relied on."
    )


def _count(conn: Connection, flt: ExportFilter) -> tuple[int, int | None]:
    # The highest matching seq bounds the stream that follows, so the count announced in the
    # metadata is exactly what is written even if events are appended meanwhile (commits
    # only ever extend the chain's prefix: appends are serialized on the head row).
    found = conn.execute(
        select(func.count(), func.max(AuditEvent.seq)).where(*flt.conditions())
    ).one()
    return int(found[0]), None if found[1] is None else int(found[1])


def _stream(conn: Connection, flt: ExportFilter, last_seq: int | None) -> Iterator[Row[Any]]:
    if last_seq is None:
        return
    result = conn.execution_options(stream_results=True, yield_per=streams.STREAM_BATCH).execute(
        select(*[AuditEvent.__table__.c[name] for name in CSV_COLUMNS])
        .where(AuditEvent.seq <= last_seq, *flt.conditions())
        .order_by(AuditEvent.seq)
    )
    yield from result


def _fields(row: Row[Any]) -> HashedFields:
    values = {name: getattr(row, name) for name in HashedFields.__slots__}
    values["occurred_at"] = iso_utc(row.occurred_at)
    return HashedFields(**values)


def _report_row(row: Row[Any]) -> ReportRow:
    return ReportRow(
        seq=row.seq,
        occurred_at=iso_utc(row.occurred_at),
        actor=f"{row.actor_name} ({row.actor_type}:{row.actor_id})",
        action=row.action,
        target=f"{row.target_type}:{row.target_id}",
        old=row.old_values,
        new=row.new_values,
        reason=row.reason or "",
        hash=row.hash,
    )


def _render_pdf(header: ReportHeader, rows: list[ReportRow], out: BinaryIO) -> None:
    """The header block and the event table as a PDF document."""
    from idgov.exports.pdf import Table, start_report  # fpdf2 is slow to import: PDF only

    lines = [
        ("Events", str(header.event_count)),
        ("Chain", header.chain_statement),
        ("Hashes", header.hash_algorithm),
    ]
    pdf = start_report(header, lines, frozenset({"Chain"} if header.chain_ok is False else ()))
    table = Table(pdf, PDF_HEADINGS, PDF_COLUMN_WIDTHS)
    for event in rows:
        cells = [
            str(event.seq),
            event.occurred_at.replace("T", "\n", 1),  # date above time: fits a narrow column
            event.actor,
            event.action,
            event.target,
            f"{event.old} → {event.new}",
            event.reason,
            event.hash_prefix,
        ]
        table.row(str(event.seq), cells)
    out.write(bytes(pdf.output()))


def _linked(events: int) -> str:
    if events == 1:
        return "its 1 event links"
    return f"all {counted(events, 'event')} link"
