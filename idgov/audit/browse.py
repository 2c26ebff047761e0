"""The trail as people read it: filtered pages, newest first, by keyset on seq (AUD-1, EXP-1).

A page is found by its edge, never by OFFSET: `before` a sequence number (older) or `after`
one (newer), so every page costs an index range read however deep it is in a 1,000,000-event
trail (docs/audit-trail.md, "Reading the trail in the console").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from idgov.audit.export import ExportFilter
from idgov.audit.models import AuditCheckpoint, AuditEvent, AuditTimeSpan
from idgov.errors import InvalidRequest, NotFound
from idgov.exports import queries

PAGE_SIZE = 50
CHECKPOINTS_SHOWN = 100
# Looks an actor up by username: the identity id, or None (identity/services.by_username).
ActorLookup = Callable[[Session, str], str | None]


@dataclass(frozen=True)
class Cursor:
    """Which page: events older than `before`, newer than `after`, or the newest (neither)."""

    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class TrailPage:
    """One page of events, newest first, and the cursors of its neighbours (None: no more)."""

    events: list[AuditEvent]
    older: int | None  # pass as `before`
    newer: int | None  # pass as `after`


class TrailReader:
    """Reads the trail for the console: pages, one event, checkpoints. Changes nothing."""

    def __init__(self, actor_lookup: ActorLookup, page_size: int = PAGE_SIZE) -> None:
        self._actor_lookup = actor_lookup
        self._page_size = page_size

    def actor_id(self, session: Session, actor: str) -> str:
        """The actor id a filter means: a username's identity, or an id that has acted.
        InvalidRequest naming the field `actor` when it is neither."""
        found = self._actor_lookup(session, actor)
        if found is not None:
            return found
        known = session.scalar(select(AuditEvent.seq).where(AuditEvent.actor_id == actor).limit(1))
        if known is None:
            raise InvalidRequest(
                f"no actor {actor!r}: give a username or the id of an actor in the trail",
                field="actor",
            )
        return actor

    def page(self, session: Session, flt: ExportFilter, cursor: Cursor) -> TrailPage:
        """The events matching `flt` next to `cursor`, newest first (at most one page)."""
        conds = flt.conditions() + _window_bounds(session, flt)
        size = self._page_size
        query = select(AuditEvent).where(*conds)
        if cursor.after is not None:
            # Newer: the `size` events just above the cursor, read upwards, shown downwards.
            found = list(
                session.scalars(
                    query.where(AuditEvent.seq > cursor.after)
                    .order_by(AuditEvent.seq)
                    .limit(size + 1)
                )
            )
            more_newer = len(found) > size
            events = list(reversed(found[:size]))
            edge = events[-1].seq if events else cursor.after + 1
            return TrailPage(events, edge, events[0].seq if more_newer else None)
        if cursor.before is not None:
            query = query.where(AuditEvent.seq < cursor.before)
        found = list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(size + 1)))
        events = found[:size]
        older = events[-1].seq if len(found) > size else None
        newer: int | None = None
        if cursor.before is not None:
            top = events[0].seq if events else cursor.before - 1
            above = select(AuditEvent.seq).where(*conds, AuditEvent.seq > top).limit(1)
            newer = top if session.scalar(above) is not None else None
        return TrailPage(events, older, newer)

    def event(self, session: Session, seq: int) -> AuditEvent:
        found = session.get(AuditEvent, seq)
        if found is None:
            raise NotFound(f"no audit event {seq}")
        return found

    def checkpoints(self, session: Session) -> list[AuditCheckpoint]:
        """The newest checkpoints first (AUD-4)."""
        query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())
        return list(session.scalars(query.limit(CHECKPOINTS_SHOWN)))


def _window_bounds(session: Session, flt: ExportFilter) -> list[ColumnElement[bool]]:
    """The seq range of the time window, as an extra condition that changes no result.

    Times and sequence numbers rise together, almost (a time is read before the head lock is
    taken; an injected clock may go back), and the database cannot know it: it would walk
    the whole trail from the newest event down to an old window. The spans whose times meet
    the window (audit_time_spans, a run of 1024 events each, kept by a trigger) hold every
    event of it, so their lowest and highest seq bound it: a read of one row per span, not
    of the window's events."""
    since, until = flt.since, flt.until
    if since is None and until is None:
        return []
    meets = queries.window(AuditTimeSpan.latest, since, None)
    meets += queries.window(AuditTimeSpan.earliest, None, until)
    low, high = session.execute(
        select(func.min(AuditTimeSpan.first_seq), func.max(AuditTimeSpan.last_seq)).where(*meets)
    ).one()
    if low is None:
        return [false()]
    return [AuditEvent.seq.between(low, high)]


def pretty(values: str) -> str:
    """Canonical JSON values as a person reads them: indented, keys sorted, not escaped."""
    parsed: Any = json.loads(values)
    return json.dumps(parsed, indent=2, sort_keys=True, ensure_ascii=False)
