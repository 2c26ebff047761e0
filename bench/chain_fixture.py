"""Builds a valid audit chain of N events fast (bulk insert), for the verification benchmark."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from idgov.audit.canonical import HashedFields, canonical_json, event_hash
from idgov.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from idgov.clock import iso_utc

BATCH = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def document_approval(
    seq: int, occurred_at: datetime, actor: str, action: str, target: str, prev: str
) -> HashedFields:
    """One event of a bench chain: a person approving a document, linked to `prev`."""
    return HashedFields(
        seq=seq,
        event_id=str(uuid.UUID(int=seq)),
        occurred_at=iso_utc(occurred_at),
        actor_type="identity",
        actor_id=actor,
        actor_name=f"Person {actor}",
        action=action,
        target_type="document",
        target_id=target,
        old_values=canonical_json({"status": "in review", "version": seq % 7}),
        new_values=canonical_json({"status": "approved", "version": seq % 7}),
        reason="approved after review" if seq % 3 else None,
        request_id=uuid.UUID(int=seq).hex,
        source_address="10.0.0.1",
        prev_hash=prev,
    )


def _events(count: int) -> Iterator[dict[str, Any]]:
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        moment = START + timedelta(milliseconds=seq)
        fields = document_approval(
            seq, moment, f"id-{seq % 500}", "record:document:approved", f"DOC-{seq % 20_000}", prev
        )
        prev = event_hash(fields)
        row = {name: getattr(fields, name) for name in HashedFields.__slots__}
        yield {**row, "occurred_at": moment, "hash": prev}


def build_chain(engine: Engine, count: int) -> None:
    batch: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    with engine.begin() as conn:
        for event in _events(count):
            batch.append(event)
            if len(batch) == BATCH:
                conn.execute(insert(AuditEvent), batch)
                last, batch = batch[-1], []
        if batch:
            conn.execute(insert(AuditEvent), batch)
            last = batch[-1]
        conn.execute(update(AuditHead).values(seq=last["seq"], hash=last["hash"]))
