"""Walk the chain, streamed, and name the first bad sequence number (AUD-3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from idgov.audit.canonical import hash_row
from idgov.audit.models import GENESIS_HASH, AuditHead
from idgov.counted import counted

FETCH_BATCH = 10_000
# Columns in HashedFields order, then the stored hash. occurred_at is read as the exact text
# the hash covers (ISO 8601 UTC, microseconds, Z), formatted by the database itself.
_SELECT = (
    "SELECT seq, event_id, {occurred_at}, actor_type, actor_id, actor_name, action, "
    "target_type, target_id, old_values, new_values, reason, request_id, source_address, "
    "prev_hash, hash FROM audit_events WHERE seq BETWEEN {start:d} AND {end:d} ORDER BY seq"
)
OCCURRED_AT_TEXT = {
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (always 6 digits).
    "sqlite": "replace(occurred_at, ' ', 'T') || 'Z'",
    "postgresql": "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
}


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a walk: ok, or the first bad sequence number and what is wrong there."""

    events_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    hashes_at: dict[int, str] | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


@dataclass
class _Walk:
    """What one walk up to the head found."""

    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    bad_seq: int | None = None
    problem: str | None = None
    hashes_at: dict[int, str] = field(default_factory=dict)


class ChainVerifier:
    """Verifies the chain up to the head read at the start; appends made meanwhile are
    outside the walk, so a busy system verifies without false alarms."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def verify(self, remember: frozenset[int] = frozenset()) -> ChainReport:
        """Verify the whole chain; `remember` asks for the hashes at some sizes (checkpoints)."""
        with self._engine.connect().execution_options(readonly=True) as conn, conn.begin():
            head = conn.execute(select(AuditHead.seq, AuditHead.hash)).first()
            if head is None:
                return ChainReport(0, 0, GENESIS_HASH, 1, "chain head row missing")
            walk = _walk(conn, head.seq, remember)
        return _report(walk, head.seq, head.hash, remember)


def _walk(conn: Connection, head_seq: int, remember: frozenset[int]) -> _Walk:
    walk = _Walk()
    with _rows(conn, 1, head_seq) as rows:
        # The hot loop: plain tuples from the driver, no ORM, no per-row objects.
        for row in rows:
            seq, expected = row[0], walk.last_seq + 1
            if seq != expected:
                walk.bad_seq = expected
                walk.problem = f"event {expected} is missing (next stored event is {seq})"
                return walk
            if row[14] != walk.last_hash:
                walk.bad_seq = seq
                walk.problem = (
                    f"event {seq} does not link to event {seq - 1}: "
                    "an earlier event was altered, removed or reordered"
                )
                return walk
            if hash_row(*row[:15]) != row[15]:
                walk.bad_seq = seq
                walk.problem = f"event {seq} was altered: its content does not match its hash"
                return walk
            walk.last_seq, walk.last_hash = seq, row[15]
            if seq in remember:
                walk.hashes_at[seq] = walk.last_hash
    return walk


@contextmanager
def _rows(conn: Connection, start: int, end: int) -> Iterator[Iterator[tuple[Any, ...]]]:
    """Stream raw driver rows in seq order: a server-side cursor on PostgreSQL."""
    dialect = conn.dialect.name
    sql = _SELECT.format(occurred_at=OCCURRED_AT_TEXT[dialect], start=start, end=end)
    raw = conn.connection.dbapi_connection
    assert raw is not None
    postgres = dialect == "postgresql"
    # The driver's own cursor (psycopg named cursor / sqlite3), typed loosely by SQLAlchemy.
    cursor: Any = raw.cursor(f"idgov_audit_verify_{start}") if postgres else raw.cursor()
    try:
        if postgres:
            cursor.itersize = FETCH_BATCH
        cursor.arraysize = FETCH_BATCH
        cursor.execute(sql)
        yield iter(cursor)
    finally:
        cursor.close()


def _report(walk: _Walk, head_seq: int, head_hash: str, remember: frozenset[int]) -> ChainReport:
    hashes_at = {0: GENESIS_HASH} if 0 in remember else {}
    hashes_at.update(walk.hashes_at)
    last, last_hash = walk.last_seq, walk.last_hash
    if walk.bad_seq is not None:
        return ChainReport(last, last, last_hash, walk.bad_seq, walk.problem, hashes_at)
    if last < head_seq:
        problem = (
            f"the head records {counted(head_seq, 'event')} but the chain ends at {last}: "
            "events were removed from the end"
        )
        return ChainReport(last, last, last_hash, last + 1, problem, hashes_at)
    if last_hash != head_hash:
        problem = "the head does not match the last event"
        return ChainReport(last, last, last_hash, last, problem, hashes_at)
    return ChainReport(last, last, last_hash, hashes_at=hashes_at)
