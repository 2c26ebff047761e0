"""DecisionService: reviewers certify or revoke their items, one by one or in bulk (REV-3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.clock import Clock
from idgov.db import chunked
from idgov.errors import Conflict, InvalidRequest, NotFound
from idgov.identity.models import Identity
from idgov.reviews.models import Campaign, CampaignState, ReviewItem
from idgov.text import unprintable

DECISIONS = ("certify", "revoke")
MAX_BULK = 5000
MAX_JUSTIFICATION = 2000


class DecisionService:
    def __init__(self, clock: Clock, trail: AuditTrail) -> None:
        self._clock = clock
        self._trail = trail

    def decide_in_campaign(
        self,
        session: Session,
        campaign_id: str,
        reviewer_id: str,
        item_ids: Sequence[int],
        decision: str,
        justification: str | None,
    ) -> int:
        """`decide` as a page or the API asks it: the campaign its URL names must exist and
        hold every item (NotFound naming the others), decided by the signed-in reviewer."""
        if session.get(Campaign, campaign_id) is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        ids = list(dict.fromkeys(item_ids))
        inside: set[int] = set()
        for batch in chunked(ids):
            query = select(ReviewItem.id).where(
                ReviewItem.id.in_(batch), ReviewItem.campaign_id == campaign_id
            )
            inside.update(session.scalars(query))
        stray = [i for i in ids if i not in inside]
        if stray:
            raise unknown_items(stray)
        reviewer = session.get(Identity, reviewer_id)
        if reviewer is None:
            raise NotFound("no such reviewer")
        return self.decide(session, reviewer, ids, decision, justification)

    def decide(
        self,
        session: Session,
        reviewer: Identity,
        item_ids: Sequence[int],
        decision: str,
        justification: str | None,
    ) -> int:
        """Record `decision` on every item, all or none: each must be assigned to `reviewer`,
        not yet signed off, in an active campaign, and never the reviewer's own access. A
        revocation needs a justification, a certification too where the campaign says so.
        Never applies a suggestion by itself (REV-6). Each item's change is audited with its
        old and new decision (AUD-1)."""
        if decision not in DECISIONS:
            raise InvalidRequest("decision must be certify or revoke", field="decision")
        ids = list(dict.fromkeys(item_ids))
        if not ids or len(ids) > MAX_BULK:
            raise InvalidRequest(f"choose between 1 and {MAX_BULK} items", field="items")
        why = (justification or "").strip() or None
        if why is not None and len(why) > MAX_JUSTIFICATION:
            raise InvalidRequest(
                f"the justification is longer than {MAX_JUSTIFICATION} characters",
                field="justification",
            )
        problem = None if why is None else unprintable(why)
        if problem is not None:  # printed beside the decision in the evidence pack (11.50(a))
            raise InvalidRequest(f"the justification {problem}", field="justification")
        items = self._items(session, ids)
        self._check(session, reviewer, ids, items, decision, why)
        now = self._clock.now()
        changed = 0
        for batch in chunked(ids):
            # The conditions again in the UPDATE: an item escalated or signed meanwhile is not
            # this reviewer's to decide any more (the rows are locked on PostgreSQL as well).
            result = session.execute(
                update(ReviewItem)
                .where(
                    ReviewItem.id.in_(batch),
                    ReviewItem.reviewer_id == reviewer.id,
                    ReviewItem.signoff_id.is_(None),
                )
                .values(
                    decision=decision, justification=why, decided_by=reviewer.id, decided_at=now
                )
                .execution_options(synchronize_session=False)
            )
            changed += result.rowcount  # type: ignore[attr-defined]
        if changed != len(ids):
            raise Conflict("some items changed hands or were signed meanwhile; reload and retry")
        self._trail.record_many(
            session,
            [
                PendingEvent(
                    "review:item:decided",
                    Target("review-item", str(item["id"])),
                    old={"decision": item["decision"], "justification": item["justification"]},
                    new={"decision": decision, "justification": why},
                    reason=why,
                )
                for item in (items[i] for i in ids)
            ],
        )
        return len(ids)

    @staticmethod
    def _items(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for batch in chunked(ids):
            rows = session.execute(
                select(
                    ReviewItem.id,
                    ReviewItem.campaign_id,
                    ReviewItem.reviewer_id,
                    ReviewItem.identity_id,
                    ReviewItem.signoff_id,
                    ReviewItem.decision,
                    ReviewItem.justification,
                )
                .where(ReviewItem.id.in_(batch))
                .with_for_update()
            )
            found.update({row.id: dict(row._mapping) for row in rows})
        return found

    def _refused(
        self, session: Session, reviewer: Identity, ids: list[int], decision: str, refusal: str
    ) -> None:
        self._trail.record(
            session,
            "review:decision:refused",
            Target("identity", reviewer.id),
            new={"items": ids[:MAX_BULK], "decision": decision, "refusal": refusal},
            reason=refusal,
        )

    def _check(
        self,
        session: Session,
        reviewer: Identity,
        ids: list[int],
        items: dict[int, dict[str, Any]],
        decision: str,
        why: str | None,
    ) -> None:
        missing = [i for i in ids if i not in items]
        if missing:
            raise unknown_items(missing)
        # Another reviewer's item, or the reviewer's own access (REV-2: assignment never does
        # this; refused on every path anyway): audited (ACC-2), and answered exactly as an
        # unknown item, so that the answer says nothing of whose it is.
        for refusal, refused in (
            ("not-assigned", [i for i in ids if items[i]["reviewer_id"] != reviewer.id]),
            ("own-access", [i for i in ids if items[i]["identity_id"] == reviewer.id]),
        ):
            if refused:
                self._refused(session, reviewer, refused, decision, refusal)
                raise unknown_items(refused, recorded=True)
        signed = [i for i in ids if items[i]["signoff_id"] is not None]
        if signed:
            raise Conflict(f"items {signed[:20]} are signed off already", field="items")
        campaigns = {items[i]["campaign_id"] for i in ids}
        rows = session.execute(
            select(Campaign.id, Campaign.state, Campaign.certify_justification)
            .where(Campaign.id.in_(campaigns))
            .with_for_update()  # a close waits for this decision, or this one sees it closed
        ).all()
        for row in rows:
            if row.state != CampaignState.ACTIVE:
                raise Conflict(
                    f"campaign {row.id} is {row.state}: decisions are closed", field="items"
                )
            if decision == "certify" and row.certify_justification and why is None:
                raise InvalidRequest(
                    "this campaign needs a justification for certifications too",
                    field="justification",
                )
        if decision == "revoke" and why is None:
            raise InvalidRequest("a revocation needs a justification", field="justification")


def unknown_items(ids: list[int], *, recorded: bool = False) -> NotFound:
    """The one answer for items that are not there for this reviewer (unknown, another's)."""
    return NotFound(
        f"no review items {ids[:20]} in this campaign", field="items", recorded=recorded
    )
