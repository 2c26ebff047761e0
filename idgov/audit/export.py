"""Audit trail exports (EXP-1): CSV and JSON streamed, HTML and PDF rendered for people."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, BinaryIO, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection, Engine, Row

from idgov.audit.canonical import HashedFields, reference_document
from idgov.audit.models import AuditEvent
from idgov.audit.verify import ChainReport
from idgov.clock import Clock, iso_utc

ExportFormat = Literal["csv", "json", "html", "pdf"]
STREAM_BATCH = 2000
FLUSH_BYTES = 64 * 1024
# HTML and PDF hold every event they render; past this, the caller must narrow or stream.
RENDER_CAP = 50_000
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
# fmt: on
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection), so
# free-text cells get a leading apostrophe (a reader strips it; the JSON export is verbatim).
# The canonical JSON columns and the hashes stay exact: they never start with a trigger
# character, and an inspector recomputes the hashes from them.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
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

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"export filter {name}: give an aware (UTC) time, not a naive one")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("export filter: 'until' must be later than 'since'")

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.since is not None:
            conds.append(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            conds.append(AuditEvent.occurred_at < self.until)
        if self.actor is not None:
            conds.append(AuditEvent.actor_id == self.actor)
        if self.target is not None:
            # Split at the first colon: a target id containing colons is given as type:id.
            kind, colon, ident = self.target.partition(":")
            if colon:
                conds += [AuditEvent.target_type == kind, AuditEvent.target_id == ident]
            else:
                conds.append(AuditEvent.target_id == self.target)
        return conds

    def describe(self) -> dict[str, str | None]:
        return {
            "since": iso_utc(self.since) if self.since is not None else None,
            "until": iso_utc(self.until) if self.until is not None else None,
            "actor": self.actor,
            "target": self.target,
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
        if fmt not in ("csv", "json", "html", "pdf"):
            raise ValueError(f"unknown export format {fmt!r} (use csv, json, html or pdf)")
        with self._engine.connect().execution_options(readonly=True) as conn, conn.begin():
            count, last_seq = _count(conn, flt)
            if fmt in ("html", "pdf") and count > RENDER_CAP:
                raise ValueError(
                    f"{count} events match this filter, but {fmt.upper()} exports hold at most "
                    f"{RENDER_CAP}: narrow the filter (time range, actor or target) or export "
                    "as CSV or JSON, which stream any number of events"
                )
            rows = _stream(conn, flt, last_seq)
            generated = self._clock.now()
            if fmt == "csv":
                return _write_csv(rows, out)
            if fmt == "json":
                meta = self._metadata(generated, flt, count, chain)
                return _write_json(rows, meta, out)
            report = [_report_row(row) for row in rows]
            header = self._header(generated, flt, len(report), chain)
            if fmt == "html":
                _write_html(header, report, out)
            else:
                from idgov.audit import export_pdf  # fpdf2 is slow to import; only PDF needs it

                export_pdf.render_pdf(header, report, out)
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
            f"The hash chain was verified when this export was generated: all "
            f"{chain.events_checked} events link correctly up to event {chain.head_seq} "
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
    result = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(
        select(*[AuditEvent.__table__.c[name] for name in CSV_COLUMNS])
        .where(AuditEvent.seq <= last_seq, *flt.conditions())
        .order_by(AuditEvent.seq)
    )
    yield from result


def _fields(row: Row[Any]) -> HashedFields:
    values = {name: getattr(row, name) for name in HashedFields.__slots__}
    values["occurred_at"] = iso_utc(row.occurred_at)
    return HashedFields(**values)


class _Sink:
    """Buffers text and writes it to the binary stream as UTF-8 in large pieces."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        self.buffer.write(text)
        if self.buffer.tell() >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        self._out.write(self.buffer.getvalue().encode("utf-8"))
        self.buffer = io.StringIO()


def _guard(column: str, value: object) -> str:
    text = "" if value is None else str(value)
    if column not in UNGUARDED_COLUMNS and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _write_csv(rows: Iterator[Row[Any]], out: BinaryIO) -> int:
    sink = _Sink(out)
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    written = 0
    for row in rows:
        values = {**row._asdict(), "occurred_at": iso_utc(row.occurred_at)}
        writer.writerow([_guard(column, values[column]) for column in CSV_COLUMNS])
        written += 1
    sink.flush()
    return written


def _write_json(rows: Iterator[Row[Any]], meta: dict[str, Any], out: BinaryIO) -> int:
    sink = _Sink(out)
    sink.write('{"export":' + json.dumps(meta, ensure_ascii=False) + ',\n"events":[')
    written = 0
    for row in rows:
        document = {**reference_document(_fields(row)), "hash": row.hash}
        sink.write(("\n" if written == 0 else ",\n") + json.dumps(document, ensure_ascii=False))
        written += 1
    sink.write("\n]}\n")
    sink.flush()
    return written


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


@cache
def _templates() -> Environment:
    # Autoescape always: actor names, reasons and values are user-controlled text.
    return Environment(
        loader=PackageLoader("idgov", "templates"), autoescape=True, undefined=StrictUndefined
    )


def _write_html(header: ReportHeader, report: list[ReportRow], out: BinaryIO) -> None:
    sink = _Sink(out)
    for chunk in _templates().get_template("audit/export.html").generate(h=header, rows=report):
        sink.write(chunk)
    sink.flush()
