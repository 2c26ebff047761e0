"""Anonymous refusals audited in aggregate: one event per source address and window (AUD-1).

A refusal that names nobody we know (an unknown username, an unknown client id or a wrong
client secret) is counted in its source's open window rather than written as a permanent
event of its own; a guesser could otherwise grow the append-only trail without bound. Each
refusal still leaves its row in `auth_failures` (pseudonymised, audit/pseudonyms.py) for
attack detection. Failures against a real identity stay audited one by one (LOCK-1, ALERT-1).

Windows are fixed (WINDOW long, aligned to the epoch). A window is recorded once, after its
end plus GRACE: by the next refusal from anywhere, or by the worker for idle windows. Each
refusal counts itself with one upsert that locks its window's row until its transaction
ends, and the flush claims the window with a conditional UPDATE, which waits for those
locks on PostgreSQL (SQLite serialises writers): so no count is lost and no window is
recorded twice, whatever the number of processes. A refusal that finds its window already
recorded (a process with a late clock) is audited on its own, so nothing goes unrecorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from idgov.alerts.models import AuthFailure, RefusalWindow
from idgov.audit.context import SYSTEM_ACTOR, Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.db import dialect_insert

WINDOW = timedelta(minutes=15)
GRACE = timedelta(minutes=1)  # longer than any transaction that counts into a window
FLUSH_BATCH = 100  # windows recorded per call; the rest on the next one
MAX_NAMES_LISTED = 50  # pseudonyms (or client ids) listed in one aggregated event
ACTION = "auth:refusals:aggregated"


def window_start(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(WINDOW.total_seconds()), UTC)


class RefusalAggregator:
    def __init__(self, clock: Clock, trail: AuditTrail) -> None:
        self._clock = clock
        self._trail = trail

    def count(self, session: Session, source: str | None) -> bool:
        """Count one anonymous refusal in its source's open window, then record any window
        that is over. False when the window was recorded already: the caller then audits this
        refusal on its own."""
        start = window_start(self._clock.now())
        insert = dialect_insert(session, RefusalWindow).values(
            source_address=source or "", window_start=start, window_end=start + WINDOW, refusals=1
        )
        counted = session.execute(
            insert.on_conflict_do_update(
                index_elements=[RefusalWindow.source_address, RefusalWindow.window_start],
                set_={"refusals": RefusalWindow.refusals + 1},
                where=RefusalWindow.flushed_at.is_(None),
            ).returning(RefusalWindow.id)
        ).first()
        self.flush_due(session)
        return counted is not None

    def flush_due(self, session: Session) -> int:
        """Record every window over for GRACE: one `auth:refusals:aggregated` event each, in
        the caller's transaction. The number recorded."""
        now = self._clock.now()
        due = session.scalars(
            select(RefusalWindow.id)
            .where(RefusalWindow.flushed_at.is_(None), RefusalWindow.window_end <= now - GRACE)
            .order_by(RefusalWindow.window_end, RefusalWindow.id)
            .limit(FLUSH_BATCH)
        ).all()
        return sum(self._flush(session, window_id, now) for window_id in due)

    def _flush(self, session: Session, window_id: int, now: datetime) -> bool:
        claimed = session.execute(
            update(RefusalWindow)
            .where(RefusalWindow.id == window_id, RefusalWindow.flushed_at.is_(None))
            .values(flushed_at=now)
            .returning(
                RefusalWindow.source_address,
                RefusalWindow.window_start,
                RefusalWindow.window_end,
                RefusalWindow.refusals,
            )
        ).first()
        if claimed is None:
            return False  # another process recorded it
        source, start, end, refusals = claimed
        failures = (
            select(AuthFailure.username, AuthFailure.channel, AuthFailure.reason)
            .where(
                AuthFailure.identity_id.is_(None),
                AuthFailure.occurred_at >= start,
                AuthFailure.occurred_at < end,
                AuthFailure.source_address == source
                if source
                else AuthFailure.source_address.is_(None),
            )
            .subquery()
        )
        by_reason = session.execute(
            select(failures.c.channel, failures.c.reason, func.count())
            .group_by(failures.c.channel, failures.c.reason)
            .order_by(failures.c.channel, failures.c.reason)
        ).all()
        distinct = session.scalar(select(func.count(func.distinct(failures.c.username)))) or 0
        names = session.scalars(
            select(failures.c.username)
            .distinct()
            .order_by(failures.c.username)
            .limit(MAX_NAMES_LISTED)
        ).all()
        self._trail.record(
            session,
            ACTION,
            Target("source", source or "unknown"),
            new={
                "source_address": source or None,
                "window_start": iso_utc(start),
                "window_end": iso_utc(end),
                "refusals": refusals,
                # A list, not a mapping: reasons such as bad-client-secret as keys would meet
                # the redaction of secret-looking key names.
                "by_reason": [
                    {"channel": channel, "reason": reason, "refusals": n}
                    for channel, reason, n in by_reason
                ],
                "distinct_names": int(distinct),
                "names": list(names),
            },
            reason="anonymous refusals from one source in one window, recorded together",
            actor=SYSTEM_ACTOR,
        )
        return True
