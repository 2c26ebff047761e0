"""AuditTrail: append events to the hash chain inside the caller's transaction (AUD-1, AUD-3)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from idgov.audit.append import append_event, append_events
from idgov.audit.canonical import HashedFields, canonical_json, redact
from idgov.audit.context import ACTION_PATTERN, Actor, AuditContext, ContextProvider, Target
from idgov.clock import Clock, iso_utc

# The key under which a client's X-Request-ID is kept in an event's new values.
CLIENT_REQUEST_ID = "client_request_id"


@dataclass(frozen=True)
class PendingEvent:
    """One event for `AuditTrail.record_many`."""

    action: str
    target: Target
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    reason: str | None = None


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

        `action` is `area:subject:action` (e.g. `policy:password:changed`). The named secret
        fields are redacted (audit/canonical.py): secrets never reach audit values. Appends are
        serialized on the chain-head row (audit/append.py): no forks, no gaps.
        """
        if not ACTION_PATTERN.match(action):
            raise ValueError(f"audit action {action!r} is not area:subject:action")
        context = self._context()
        fields = self._fields(context, actor or context.actor, action, target, old, new, reason)
        return append_event(session, fields)

    def record_many(self, session: Session, events: list[PendingEvent]) -> int:
        """Append many events in one go (audit/append.append_events), in list order, within
        the caller's transaction; the number appended. Same rules as `record`."""
        context = self._context()
        batch = []
        for event in events:
            if not ACTION_PATTERN.match(event.action):
                raise ValueError(f"audit action {event.action!r} is not area:subject:action")
            batch.append(
                self._fields(
                    context,
                    context.actor,
                    event.action,
                    event.target,
                    event.old,
                    event.new,
                    event.reason,
                )
            )
        return len(append_events(session, batch))

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
            new_values=canonical_json(_with_client_request(context, new)),
            reason=reason,
            request_id=context.request_id,
            source_address=context.source_address,
            prev_hash="",
        )


def _with_client_request(context: AuditContext, new: Mapping[str, Any] | None) -> Any:
    """The new values, redacted, with the client's own X-Request-ID beside our request id:
    hashed with the event, never taken for ours (web/middleware.py)."""
    values = redact(dict(new)) if new is not None else None
    if context.client_request_id is None:
        return values
    return {**(values or {}), CLIENT_REQUEST_ID: context.client_request_id}
