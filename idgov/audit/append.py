"""Appending one event at the chain head, serialized on the head row (AUD-3: no forks, no gaps).

The head row's lock is held from the append until commit, so the time spent inside it bounds
the chain's throughput. On PostgreSQL the whole append is one statement: the head moves and
the event is inserted with its hash computed by the database from the locked head. SQLite
holds the database write lock from BEGIN IMMEDIATE instead, and appends in three statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from idgov.audit.canonical import HashedFields, event_hash, hash_input_parts
from idgov.audit.models import AuditEvent, AuditHead
from idgov.clock import parse_iso_utc
from idgov.db import UTCDateTime
from idgov.errors import AuditIntegrityError

HEAD_ROW_ID = 1
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "old_values",
    "new_values",
    "reason",
    "request_id",
    "source_address",
)
# SET expressions read the old row and RETURNING the new one, so prev_hash returns the old head.
POSTGRES_APPEND = text(
    """
    WITH moved AS (
        UPDATE audit_head
        SET seq = seq + 1,
            prev_hash = hash,
            hash = encode(sha256(convert_to(
                :before_prev || '"' || hash || '"' || :before_seq || (seq + 1)::text || :rest,
                'UTF8')), 'hex')
        WHERE id = 1
        RETURNING seq, prev_hash, hash
    )
    INSERT INTO audit_events (
        seq, prev_hash, hash, event_id, occurred_at, actor_type, actor_id, actor_name, action,
        target_type, target_id, old_values, new_values, reason, request_id, source_address)
    SELECT moved.seq, moved.prev_hash, moved.hash, :event_id, :occurred_at, :actor_type,
        :actor_id, :actor_name, :action, :target_type, :target_id, :old_values, :new_values,
        :reason, :request_id, :source_address
    FROM moved
    RETURNING seq, prev_hash, hash
    """
).bindparams(bindparam("occurred_at", type_=UTCDateTime))
CLAIM_NEXT_SEQ = (
    update(AuditHead)
    .where(AuditHead.id == HEAD_ROW_ID)
    .values(seq=AuditHead.seq + 1, prev_hash=AuditHead.hash)
    .returning(AuditHead.seq, AuditHead.hash)
)
INSERT_EVENT = insert(AuditEvent)
MOVE_HEAD = update(AuditHead).where(AuditHead.id == HEAD_ROW_ID).values(hash=bindparam("hash"))


def append_event(session: Session, fields: HashedFields) -> HashedFields:
    """Insert `fields` (seq and prev_hash still unset) at the head; return them as chained."""
    if session.get_bind().dialect.name == "postgresql":
        return _append_postgres(session, fields)
    return _append_serialized(session, fields)


def append_events(session: Session, batch: list[HashedFields]) -> list[HashedFields]:
    """Append a batch at the head in three statements whatever its size: claim len(batch)
    sequence numbers under the head row's lock, chain the hashes here, insert them all, then
    move the head. For bulk changes (a directory sync) that record thousands of events in one
    transaction; the chain is the same as appending them one by one (AUD-3)."""
    if not batch:
        return []
    claimed = session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ROW_ID)
        .values(seq=AuditHead.seq + len(batch))
        .returning(AuditHead.seq, AuditHead.hash)
    ).one_or_none()
    if claimed is None:
        raise _head_missing()
    seq, prev_hash = claimed.seq - len(batch), claimed.hash
    chained, rows = [], []
    moments: dict[str, datetime] = {}  # a batch shares a handful of timestamps: parse each once
    for fields in batch:
        seq += 1
        linked = _with_link(fields, seq, prev_hash)
        digest = event_hash(linked)
        params = {name: getattr(linked, name) for name in EVENT_COLUMNS}
        when = linked.occurred_at
        params["occurred_at"] = moments.get(when) or moments.setdefault(when, parse_iso_utc(when))
        rows.append({**params, "seq": seq, "prev_hash": prev_hash, "hash": digest})
        chained.append(linked)
        prev_hash = digest
    # render_nulls: one multi-row statement for the whole batch; without it SQLAlchemy splits
    # the rows wherever the set of None values changes (most events), one round trip each.
    session.execute(INSERT_EVENT.execution_options(render_nulls=True), rows)
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ROW_ID)
        .values(prev_hash=rows[-1]["prev_hash"], hash=rows[-1]["hash"])
    )
    return chained


def _append_postgres(session: Session, fields: HashedFields) -> HashedFields:
    before_prev, before_seq, rest = hash_input_parts(fields)
    params = _event_params(fields)
    params.update(before_prev=before_prev, before_seq=before_seq, rest=rest)
    chained = session.execute(POSTGRES_APPEND, params).one_or_none()
    if chained is None:
        raise _head_missing()
    return _with_link(fields, chained.seq, chained.prev_hash)


def _append_serialized(session: Session, fields: HashedFields) -> HashedFields:
    claimed = session.execute(CLAIM_NEXT_SEQ).one_or_none()
    if claimed is None:
        raise _head_missing()
    linked = _with_link(fields, claimed.seq, claimed.hash)
    digest = event_hash(linked)
    session.execute(
        INSERT_EVENT,
        {**_event_params(linked), "seq": linked.seq, "prev_hash": linked.prev_hash, "hash": digest},
    )
    session.execute(MOVE_HEAD, {"hash": digest})
    return linked


def _event_params(fields: HashedFields) -> dict[str, Any]:
    params = {name: getattr(fields, name) for name in EVENT_COLUMNS}
    params["occurred_at"] = parse_iso_utc(fields.occurred_at)
    return params


def _with_link(fields: HashedFields, seq: int, prev_hash: str) -> HashedFields:
    values = {name: getattr(fields, name) for name in HashedFields.__slots__}
    return HashedFields(**{**values, "seq": seq, "prev_hash": prev_hash})


def _head_missing() -> AuditIntegrityError:
    return AuditIntegrityError(
        "the audit chain head is missing; run `idgov db upgrade` on this database"
    )
