"""Walk the chain, streamed, and name the first bad sequence number (AUD-3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine, Row

from idgov.audit.canonical import HashedFields, event_hash
from idgov.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from idgov.clock import iso_utc

STREAM_BATCH = 5000
HASHED_COLUMNS = [
    AuditEvent.seq,
    AuditEvent.event_id,
    AuditEvent.occurred_at,
    AuditEvent.actor_type,
    AuditEvent.actor_id,
    AuditEvent.actor_name,
    AuditEvent.action,
    AuditEvent.target_type,
    AuditEvent.target_id,
    AuditEvent.old_values,
    AuditEvent.new_values,
    AuditEvent.reason,
    AuditEvent.request_id,
    AuditEvent.source_address,
    AuditEvent.prev_hash,
    AuditEvent.hash,
]


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


class ChainVerifier:
    """Reads the chain in seq order on a read-only connection; memory stays flat."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def verify(self, remember: frozenset[int] = frozenset()) -> ChainReport:
        """Verify the whole chain; `remember` asks for the hashes at some sizes (checkpoints)."""
        with self._engine.connect().execution_options(readonly=True) as conn, conn.begin():
            return self._walk(conn, remember)

    def _walk(self, conn: Connection, remember: frozenset[int]) -> ChainReport:
        expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
        hashes_at: dict[int, str] = {0: GENESIS_HASH} if 0 in remember else {}
        statement = select(*HASHED_COLUMNS).order_by(AuditEvent.seq)
        streaming = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH)
        with streaming.execute(statement) as rows:  # closes the server-side cursor early too
            for row in rows:
                problem = _check_row(row, expected_seq, prev_hash)
                if problem is not None:
                    bad_seq, text = problem
                    return ChainReport(
                        checked, expected_seq - 1, prev_hash, bad_seq, text, hashes_at
                    )
                prev_hash = row.hash
                if row.seq in remember:
                    hashes_at[row.seq] = row.hash
                expected_seq += 1
                checked += 1
        last_seq = expected_seq - 1
        head = conn.execute(select(AuditHead.seq, AuditHead.hash)).first()
        if head is None:
            return ChainReport(checked, last_seq, prev_hash, last_seq + 1, "chain head row missing")
        if head.seq > last_seq:
            return ChainReport(
                checked,
                last_seq,
                prev_hash,
                last_seq + 1,
                f"the head records {head.seq} events but the chain ends at {last_seq}: "
                "events were removed from the end",
                hashes_at,
            )
        if head.seq != last_seq or head.hash != prev_hash:
            return ChainReport(
                checked, last_seq, prev_hash, last_seq, "the head does not match the last event"
            )
        return ChainReport(checked, last_seq, prev_hash, hashes_at=hashes_at)


def _check_row(row: Row[Any], expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    if row.seq != expected_seq:
        return expected_seq, f"event {expected_seq} is missing (next stored event is {row.seq})"
    if row.prev_hash != prev_hash:
        return row.seq, (
            f"event {row.seq} does not link to event {row.seq - 1}: "
            "an earlier event was altered, removed or reordered"
        )
    fields = HashedFields(
        seq=row.seq,
        event_id=row.event_id,
        occurred_at=iso_utc(row.occurred_at),
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        old_values=row.old_values,
        new_values=row.new_values,
        reason=row.reason,
        request_id=row.request_id,
        source_address=row.source_address,
        prev_hash=row.prev_hash,
    )
    if event_hash(fields) != row.hash:
        return row.seq, f"event {row.seq} was altered: its content does not match its hash"
    return None
