"""The attack view's reads (LOCK-3): failed authentications by source address and by unknown
username, and the anonymous refusals' fixed windows over time, for security officers.

Unknown usernames are shown as they are stored, as `hmac-sha256:` pseudonyms
(audit/pseudonyms.py): the same typed name gives the same pseudonym, so a guessing run is
visible without anyone reading what was typed (it may be a password).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.alerts.models import AuthFailure, RefusalWindow
from idgov.clock import Clock
from idgov.errors import InvalidRequest

MAX_HOURS = 24 * 31
MAX_ROWS = 100  # per table: the busiest sources and names, the newest windows


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Failures sharing a source address (or an unknown username's pseudonym)."""

    key: str | None
    failures: int
    distinct: int  # usernames tried from the source; sources a pseudonym came from
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class AttackView:
    since: datetime
    until: datetime
    by_source: Sequence[FailureGroup]
    by_unknown_username: Sequence[FailureGroup]
    windows: Sequence[RefusalWindow]  # anonymous refusals per source and window, newest first


class AttackReader:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def view(self, session: Session, hours: int = 24) -> AttackView:
        """The last `hours` (1..MAX_HOURS): the MAX_ROWS busiest sources and unknown
        usernames, and the newest MAX_ROWS refusal windows that overlap the span."""
        if not 1 <= hours <= MAX_HOURS:
            raise InvalidRequest(f"hours must be between 1 and {MAX_HOURS}", field="hours")
        until = self._clock.now()
        since = until - timedelta(hours=hours)
        recent = AuthFailure.occurred_at >= since
        by_source = _groups(
            session,
            AuthFailure.source_address,
            func.count(func.distinct(AuthFailure.username)),
            recent,
        )
        by_name = _groups(
            session,
            AuthFailure.username,
            func.count(func.distinct(AuthFailure.source_address)),
            recent,
            AuthFailure.identity_id.is_(None),
        )
        windows = session.scalars(
            select(RefusalWindow)
            .where(RefusalWindow.window_end > since)
            .order_by(RefusalWindow.window_start.desc(), RefusalWindow.source_address)
            .limit(MAX_ROWS)
        ).all()
        return AttackView(since, until, by_source, by_name, windows)


def _groups(session: Session, key: object, distinct: object, *where: object) -> list[FailureGroup]:
    count = func.count()
    query = (
        select(
            key,
            count,
            distinct,
            func.min(AuthFailure.occurred_at),
            func.max(AuthFailure.occurred_at),
        )  # type: ignore[call-overload]
        .where(*where)
        .group_by(key)
        .order_by(count.desc(), key)
        .limit(MAX_ROWS)
    )
    return [
        FailureGroup(name, int(n), int(spread), first, last)
        for name, n, spread, first, last in session.execute(query)
    ]
