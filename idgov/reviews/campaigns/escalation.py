"""EscalationService: scheduled starts, reminders, escalation and reassignment (REV-1, REV-5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from idgov.alerts.outbox import AlertOutbox
from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clock import Clock, iso_utc
from idgov.errors import Conflict, Forbidden, InvalidRequest, NotFound, UnprocessableRequest
from idgov.identity.models import Identity
from idgov.reviews.campaigns.moves import FALLBACK, ItemMover, Move, locked_items, next_reviewer
from idgov.reviews.campaigns.notices import ReviewNotices
from idgov.reviews.campaigns.population import reviewers_for
from idgov.reviews.campaigns.schedule import parse_schedule
from idgov.reviews.campaigns.services import CampaignService
from idgov.reviews.models import (
    Campaign,
    CampaignDefinition,
    CampaignState,
    ReviewItem,
    overdue,
)

SCHEDULER = "idgov scheduler"
BATCH = 5000  # overdue items escalated per campaign per tick; the rest on the next one
MAX_ITEMS = 5000
MAX_REASON = 2000


class EscalationService:
    """The worker's "review-escalation" job and the administrators' reassignment. No path
    ever decides an item (REV-6) nor gives it to its holder (REV-2)."""

    def __init__(
        self, clock: Clock, trail: AuditTrail, alerts: AlertOutbox, campaigns: CampaignService
    ) -> None:
        self._clock = clock
        self._trail = trail
        self._campaigns = campaigns
        self._notices = ReviewNotices(alerts)
        self._mover = ItemMover(clock, trail, self._notices)

    def run(self, session: Session) -> int:
        """Worker job: start scheduled campaigns that are due, escalate overdue items, remind
        reviewers whose items fall due soon; the number of actions. Idempotent: a second run
        at the same time does nothing more."""
        now = self._clock.now()
        actions = self.start_due(session, now)
        active = session.scalars(
            select(Campaign).where(Campaign.state == CampaignState.ACTIVE).order_by(Campaign.id)
        ).all()
        for campaign in active:
            actions += self.escalate(session, campaign, now)
            actions += self.remind(session, campaign, now)
        return actions

    def start_due(self, session: Session, now: datetime) -> int:
        """Draft and start each scheduled definition whose time has come (REV-1). A refused
        start (nothing in scope, no eligible reviewer) changes nothing but the definition's
        last start time, so it is tried again at the next scheduled time, not every tick; the
        refusal is audited and alerted to the security unit and the administrators."""
        done = 0
        for definition in self._campaigns.due_definitions(session, now):
            try:
                with session.begin_nested():  # a refused start leaves no draft, no items
                    self._campaigns.launch(session, definition.id, SCHEDULER)
            except (Conflict, InvalidRequest) as refused:
                self._start_refused(session, definition, now, refused.detail)
            done += 1
        return done

    def remind(self, session: Session, campaign: Campaign, now: datetime) -> int:
        """REV-5: one notice per reviewer per campaign for their items not signed off yet
        (undecided, or decided and waiting for the sign-off) falling due within the
        campaign's reminder days and not reminded yet; those items are marked."""
        window = (
            ReviewItem.campaign_id == campaign.id,
            ReviewItem.signoff_id.is_(None),
            ReviewItem.reviewer_id.is_not(None),
            ReviewItem.reminded_at.is_(None),
            ReviewItem.due_at > now,  # overdue items are escalated instead
            ReviewItem.due_at <= now + timedelta(days=campaign.reminder_days),
        )
        rows = session.execute(
            select(ReviewItem.reviewer_id, func.count(), func.min(ReviewItem.due_at))
            .where(*window)
            .group_by(ReviewItem.reviewer_id)
            .order_by(ReviewItem.reviewer_id)
        ).all()
        for reviewer_id, count, due in rows:
            reviewer = session.get(Identity, reviewer_id)
            assert reviewer is not None
            self._notices.reminder(session, campaign, reviewer, count, due)
            self._trail.record(
                session,
                "review:campaign:reminded",
                Target("review-campaign", campaign.id),
                new={"reviewer_id": reviewer_id, "items": count, "due_at": iso_utc(due)},
            )
        session.execute(
            update(ReviewItem)
            .where(*window)
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        return len(rows)

    def escalate(self, session: Session, campaign: Campaign, now: datetime) -> int:
        """REV-5: undecided items past their due date go to the reviewer's manager (escalation
        1), and when overdue again down the fallback chain (escalation 2), each with a new
        due date `escalation_days` ahead. Never to the holder; never decided."""
        rows = session.execute(
            select(
                ReviewItem.id,
                ReviewItem.reviewer_id,
                ReviewItem.identity_id,
                ReviewItem.escalation,
                ReviewItem.due_at,
            )
            .where(
                ReviewItem.campaign_id == campaign.id,
                overdue(now),
                ReviewItem.escalation < FALLBACK,
            )
            .order_by(ReviewItem.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)  # an item being decided right now is left be
        ).all()
        if not rows:
            return 0
        reviewers = reviewers_for(session, campaign.fallback_reviewer_id)
        due = now + timedelta(days=campaign.escalation_days)
        moves = []
        for row in rows:
            new, level = next_reviewer(reviewers, row.reviewer_id, row.identity_id, row.escalation)
            moves.append(Move(row.id, row.reviewer_id, new, row.due_at, due, row.escalation, level))
        reason = "overdue: escalated (REV-5)"
        self._mover.apply(session, campaign, moves, "review:item:escalated", reason)
        stuck = sum(1 for m in moves if not reviewers.eligible(m.new, None))
        if stuck:
            self._notices.to_security(
                session,
                "review-unassignable",
                f"{stuck} overdue access-review items of {campaign.name} have no eligible reviewer",
                {
                    "campaign": {"id": campaign.id, "name": campaign.name},
                    "items": stuck,
                    "next_step": "Reassign them to an active reviewer who does not hold them.",
                },
            )
        return len(moves)

    def reassign(
        self,
        session: Session,
        item_ids: Sequence[int],
        new_reviewer_id: str,
        by: Identity,
        reason: str,
        *,
        campaign_id: str | None = None,
    ) -> int:
        """An administrator gives undecided items of an active campaign (of `campaign_id` when
        given) to another reviewer, all or none; the number moved. Refused: the holder of any
        of the items (REV-2), an identity that is not active, decided items (a decision is
        signed by whoever made it). The new reviewer gets at least `escalation_days` to decide.
        Audited per item with the old and new reviewer and the reason (AUD-1)."""
        if campaign_id is not None:
            self._campaigns.get(session, campaign_id)  # NotFound for a campaign's URL
        why = reason.strip()
        if not why or len(why) > MAX_REASON:
            raise InvalidRequest(
                f"a reason is needed (at most {MAX_REASON} characters)", field="reason"
            )
        ids = list(dict.fromkeys(item_ids))
        if not ids or len(ids) > MAX_ITEMS:
            raise InvalidRequest(f"choose between 1 and {MAX_ITEMS} items", field="items")
        reviewer = session.get(Identity, new_reviewer_id)
        able = reviewer is not None and reviewers_for(session, new_reviewer_id).eligible(
            new_reviewer_id, None
        )
        if reviewer is None or not able:
            raise UnprocessableRequest(
                "the new reviewer must be able to sign: an active identity with a signature "
                "certification (TRN-1)",
                field="reviewer_id",
            )
        rows = locked_items(session, ids)
        missing = [
            i
            for i in ids
            if i not in rows or (campaign_id is not None and rows[i].campaign_id != campaign_id)
        ]
        if missing:
            raise NotFound(f"no review items {missing[:20]} in this campaign", field="items")
        own = [i for i in ids if rows[i].identity_id == reviewer.id]
        if own:  # REV-2: never the person whose access it is
            raise Forbidden(
                f"items {own[:20]} are {reviewer.username}'s own access", field="reviewer_id"
            )
        decided = [i for i in ids if rows[i].decision is not None]
        if decided:
            raise Conflict(f"items {decided[:20]} are decided already", field="items")
        campaigns = {rows[i].campaign_id for i in ids}
        if len(campaigns) > 1:
            raise InvalidRequest("reassign items of one campaign at a time", field="items")
        campaign = self._campaigns.get(session, campaigns.pop())
        if campaign.state != CampaignState.ACTIVE:
            raise Conflict(f"the campaign is {campaign.state}: reviews are closed", field="items")
        now = self._clock.now()
        floor = now + timedelta(days=campaign.escalation_days)
        moves = [
            Move(
                i,
                r.reviewer_id,
                reviewer.id,
                r.due_at,
                max(r.due_at, floor),
                r.escalation,
                r.escalation,
            )
            for i, r in ((i, rows[i]) for i in ids)
            if r.reviewer_id != reviewer.id
        ]
        self._mover.apply(session, campaign, moves, "review:item:reassigned", why, by.id)
        return len(moves)

    def _start_refused(
        self, session: Session, definition: CampaignDefinition, now: datetime, why: str
    ) -> None:
        assert definition.schedule is not None
        old = definition.last_started_at
        definition.last_started_at = now  # back off to the next scheduled time
        next_at = parse_schedule(definition.schedule).next_after(now)
        self._trail.record(
            session,
            "review:definition:start-refused",
            Target("review-definition", definition.id),
            old={"last_started_at": iso_utc(old) if old else None},
            new={"last_started_at": iso_utc(now), "next_start_at": iso_utc(next_at)},
            reason=why,
        )
        self._notices.to_security(
            session,
            "review-start-refused",
            f"The scheduled access review {definition.name} did not start",
            {
                "definition": {"id": definition.id, "name": definition.name},
                "why": why,
                "next_start_at": iso_utc(next_at),
                "next_steps": [
                    "Correct the definition's scope, the sources' data or the fallback reviewer.",
                    "Then start a campaign of this definition on demand; otherwise the next "
                    "scheduled start is at next_start_at.",
                ],
            },
        )
