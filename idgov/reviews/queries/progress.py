"""Campaign reads of the review read model: listings, progress per reviewer, item pages (REV-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session

from idgov.identity.models import Identity
from idgov.reviews.models import Campaign, ReviewItem, overdue

ItemStatus = Literal["undecided", "decided", "all"]
MAX_PAGE = 1000
MAX_CAMPAIGNS = 500


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer_id: str | None
    username: str | None
    printed_name: str | None
    items: int
    decided: int
    certified: int
    revoked: int
    signed_off: int
    overdue: int


@dataclass(frozen=True)
class Progress:
    """Counts over every item of a campaign (or of one reviewer), and per reviewer."""

    reviewers: list[ReviewerProgress]

    def total(self, field: str) -> int:
        return sum(int(getattr(row, field)) for row in self.reviewers)


@dataclass(frozen=True)
class ItemPage:
    items: list[ReviewItem]
    total: int


class CampaignReads:
    """Part of ReviewReader (reader.py): what the API and the commands list and count."""

    def campaigns(
        self, session: Session, state: str | None, reviewer_id: str | None = None
    ) -> list[Campaign]:
        """Newest first, at most MAX_CAMPAIGNS; with `reviewer_id`, only campaigns in which
        that person has items."""
        query = select(Campaign)
        if state is not None:
            query = query.where(Campaign.state == state)
        if reviewer_id is not None:
            query = query.where(exists().where(_items_of(reviewer_id, Campaign.id)))
        query = query.order_by(Campaign.started_at.desc(), Campaign.id).limit(MAX_CAMPAIGNS)
        return list(session.scalars(query))

    def has_items(self, session: Session, campaign_id: str, reviewer_id: str) -> bool:
        return bool(session.scalar(select(exists().where(_items_of(reviewer_id, campaign_id)))))

    def progress(
        self, session: Session, campaign_id: str, now: datetime, reviewer_id: str | None = None
    ) -> Progress:
        """Items, decisions, sign-offs and overdue items (undecided past their due date) per
        current reviewer."""
        query = (
            select(
                ReviewItem.reviewer_id,
                Identity.username,
                Identity.printed_name,
                func.count(ReviewItem.id),
                func.count(ReviewItem.decision),
                _count(ReviewItem.decision == "certify"),
                _count(ReviewItem.decision == "revoke"),
                func.count(ReviewItem.signoff_id),
                _count(overdue(now)),
            )
            .outerjoin(Identity, Identity.id == ReviewItem.reviewer_id)
            .where(ReviewItem.campaign_id == campaign_id)
            .group_by(ReviewItem.reviewer_id, Identity.username, Identity.printed_name)
            .order_by(Identity.username)
        )
        if reviewer_id is not None:
            query = query.where(ReviewItem.reviewer_id == reviewer_id)
        return Progress([ReviewerProgress(*row) for row in session.execute(query)])

    def items(
        self,
        session: Session,
        campaign_id: str,
        reviewer_id: str | None,
        status: ItemStatus,
        limit: int,
        offset: int,
    ) -> ItemPage:
        """One page of the campaign's items (of one reviewer when given) in id order, and how
        many there are in all."""
        condition = [ReviewItem.campaign_id == campaign_id]
        if reviewer_id is not None:
            condition.append(ReviewItem.reviewer_id == reviewer_id)
        if status == "undecided":
            condition.append(ReviewItem.decision.is_(None))
        elif status == "decided":
            condition.append(ReviewItem.decision.is_not(None))
        total = session.scalar(select(func.count(ReviewItem.id)).where(*condition)) or 0
        page = session.scalars(
            select(ReviewItem)
            .where(*condition)
            .order_by(ReviewItem.id)
            .limit(min(limit, MAX_PAGE))
            .offset(offset)
        ).all()
        return ItemPage(list(page), total)


def _items_of(reviewer_id: str, campaign_id: object) -> ColumnElement[bool]:
    return and_(ReviewItem.campaign_id == campaign_id, ReviewItem.reviewer_id == reviewer_id)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
