"""AuditTrail: append events to the hash chain inside the caller's transaction (AUD-1, AUD-3)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from idgov.audit.canonical import HashedFields, canonical_json, event_hash, redact
from idgov.audit.context import ACTION_PATTERN, Actor, AuditContext, ContextProvider, Target
from idgov.audit.models import AuditEvent, AuditHead
from idgov.clock import Clock, iso_utc, parse_iso_utc
from idgov.errors import AuditIntegrityError

HEAD_ROW_ID = 1


class AuditTrail:
    """The one way regulated changes are recorded.

    `record` must be called with the session that makes the change, before it commits: the
    event and the change then commit or roll back together (DESIGN: same transaction).
    """

    def __init__(self, clock: Clock, context: ContextProvider) -> None:
        self._clock = clock
        self._context = context

    def record(
        self,
        session: Session,
        action: str,
        target: Target,
        *,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        reason: str | None = None,
        actor: Actor | None = None,
    ) -> HashedFields:
        """Append one event and return the fields as hashed.

        `action` is `area:subject:action` (e.g. `policy:password:changed`). Values under
        secret-looking keys are redacted. Appends are serialized on the chain-head row: on
        PostgreSQL the UPDATE takes its row lock until commit, on SQLite the write lock is
        held from BEGIN IMMEDIATE, so concurrent writers never fork the chain or leave gaps.
        """
        if not ACTION_PATTERN.match(action):
            raise ValueError(f"audit action {action!r} is not area:subject:action")
        context = self._context()
        fields = self._fields(context, actor or context.actor, action, target, old, new, reason)
        claimed = session.execute(
            update(AuditHead)
            .where(AuditHead.id == HEAD_ROW_ID)
            .values(seq=AuditHead.seq + 1)
            .returning(AuditHead.seq, AuditHead.hash)
        ).one_or_none()
        if claimed is None:
            raise AuditIntegrityError(
                "the audit chain head is missing; run `idgov db upgrade` on this database"
            )
        seq, prev_hash = claimed
        fields = HashedFields(**{**_as_dict(fields), "seq": seq, "prev_hash": prev_hash})
        digest = event_hash(fields)
        session.execute(insert(AuditEvent).values(**_as_row(fields), hash=digest))
        session.execute(update(AuditHead).where(AuditHead.id == HEAD_ROW_ID).values(hash=digest))
        return fields

    def _fields(
        self,
        context: AuditContext,
        actor: Actor,
        action: str,
        target: Target,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
        reason: str | None,
    ) -> HashedFields:
        return HashedFields(
            seq=0,
            event_id=str(uuid.uuid4()),
            occurred_at=iso_utc(self._clock.now()),
            actor_type=actor.type,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            target_type=target.type,
            target_id=target.id,
            old_values=canonical_json(redact(dict(old)) if old is not None else None),
            new_values=canonical_json(redact(dict(new)) if new is not None else None),
            reason=reason,
            request_id=context.request_id,
            source_address=context.source_address,
            prev_hash="",
        )


def _as_dict(fields: HashedFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in HashedFields.__slots__}


def _as_row(fields: HashedFields) -> dict[str, Any]:
    row = _as_dict(fields)
    row["occurred_at"] = parse_iso_utc(fields.occurred_at)
    return row
