"""Moving review items between reviewers: where an overdue item goes, and the move itself."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.clock import Clock, iso_utc
from idgov.db import chunked
from idgov.reviews.campaigns.assignment import Reviewers, escalation_target
from idgov.reviews.campaigns.notices import ReviewNotices
from idgov.reviews.models import Campaign, ReviewItem

MANAGER, FALLBACK = 1, 2  # ReviewItem.escalation: 0 the first reviewer, 1 manager, 2 fallback


@dataclass(frozen=True)
class Move:
    """One item going from one reviewer to another (or staying, when nobody else may take it)."""

    item_id: int
    old: str | None
    new: str | None
    old_due: datetime
    due: datetime
    old_level: int
    level: int


class ItemMover:
    def __init__(self, clock: Clock, trail: AuditTrail, notices: ReviewNotices) -> None:
        self._clock = clock
        self._trail = trail
        self._notices = notices

    def apply(
        self,
        session: Session,
        campaign: Campaign,
        moves: list[Move],
        action: str,
        reason: str,
        by: str | None = None,
    ) -> None:
        """Write the moves (the notice to the new reviewer counts as their reminder), audit
        each with its old and new reviewer (AUD-1), and tell every new and old reviewer once."""
        now = self._clock.now()
        groups: dict[tuple[str | None, int, datetime], list[int]] = defaultdict(list)
        for move in moves:
            groups[(move.new, move.level, move.due)].append(move.item_id)
        for (new, level, due), ids in groups.items():
            for batch in chunked(ids):
                session.execute(
                    update(ReviewItem)
                    .where(ReviewItem.id.in_(batch))
                    .values(reviewer_id=new, escalation=level, due_at=due, reminded_at=now)
                    .execution_options(synchronize_session=False)
                )
        extra = {} if by is None else {"by": by}
        self._trail.record_many(
            session,
            [
                PendingEvent(
                    action,
                    Target("review-item", str(m.item_id)),
                    old={
                        "reviewer_id": m.old,
                        "escalation": m.old_level,
                        "due_at": iso_utc(m.old_due),
                    },
                    new={
                        "reviewer_id": m.new,
                        "escalation": m.level,
                        "due_at": iso_utc(m.due),
                        **extra,
                    },
                    reason=reason,
                )
                for m in moves
            ],
        )
        self._notices.moved(session, campaign, [(m.old, m.new, m.due) for m in moves], reason)


def next_reviewer(
    reviewers: Reviewers, current: str | None, holder: str | None, level: int
) -> tuple[str | None, int]:
    """Where an overdue item goes: the reviewer's manager first (escalation 1), then the
    fallback chain - the fallback reviewer, their manager, the administrators - skipping the
    reviewer who let it lapse (escalation 2). Never the holder (REV-2); the item stays where
    it is when nobody else is eligible."""
    fallback = reviewers.fallback_id
    if level == 0 and current != fallback:
        target = escalation_target(reviewers, current, holder)
        if target is not None and target == reviewers.manager_of(current):
            return target, MANAGER
    chain = (fallback, reviewers.manager_of(fallback), *reviewers.admins)
    target = reviewers.first([c for c in chain if c != current], holder)
    return target or current, FALLBACK


def locked_items(session: Session, ids: list[int]) -> dict[int, Row[Any]]:
    """The items' reviewer, holder, decision and due date, locked until the end of the
    transaction (PostgreSQL) so that a reassignment and a decision do not cross."""
    found: dict[int, Row[Any]] = {}
    for batch in chunked(ids):
        rows = session.execute(
            select(
                ReviewItem.id,
                ReviewItem.campaign_id,
                ReviewItem.reviewer_id,
                ReviewItem.identity_id,
                ReviewItem.decision,
                ReviewItem.escalation,
                ReviewItem.due_at,
            )
            .where(ReviewItem.id.in_(batch))
            .with_for_update()
        )
        found.update({row.id: row for row in rows})
    return found
