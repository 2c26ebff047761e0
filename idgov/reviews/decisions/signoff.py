"""SignoffService: a reviewer completes their part with an electronic signature (REV-3).

The signed record is the reviewer's decisions themselves: its digest is the SHA-256 of the
canonical JSON of exactly the items they decided (item, grant, holder, entitlement, decision,
justification), so the signature proves what was decided and changes to any decision after
signing are detectable. Signing goes through the signature service like any host's signing:
re-authentication, lockout, eligibility, the meaning `review` (MAN-1, LNK-1).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.clients.models import REVIEWS_CLIENT_ID
from idgov.clock import Clock
from idgov.counted import counted
from idgov.db import chunked, transaction
from idgov.entitlements.models import DIRECTORY_GROUP, OIDC_GROUP, Entitlement
from idgov.errors import Conflict, NotFound
from idgov.identity.models import Identity
from idgov.reviews.campaigns.assignment import primary
from idgov.reviews.campaigns.population import reviewers_for
from idgov.reviews.campaigns.services import CampaignService
from idgov.reviews.models import (
    Campaign,
    CampaignState,
    Remediation,
    ReviewerRule,
    ReviewItem,
    ReviewSignoff,
)
from idgov.signatures.requests import SignRequest
from idgov.signatures.services import SignatureService

RECORD_TYPE = "access-review"
DIGESTED = (
    "id",
    "grant_id",
    "account",
    "identity_id",
    "source",
    "entitlement_name",
    "via",
    "decision",
    "justification",
)


@dataclass(frozen=True)
class InternalHost:
    client_id: str = REVIEWS_CLIENT_ID
    name: str = "idgov access reviews"


@dataclass(frozen=True)
class Credentials:
    password: str
    otp: str | None = None
    temporary_credential: str | None = None


def decisions_digest(items: list[dict[str, Any]]) -> str:
    """sha256 over the canonical JSON of the decided items, ordered by item id."""
    rows = [{key: item[key] for key in DIGESTED} for item in sorted(items, key=lambda i: i["id"])]
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class SignoffService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        trail: AuditTrail,
        signatures: SignatureService,
        campaigns: CampaignService,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._trail = trail
        self._signatures = signatures
        self._campaigns = campaigns

    def pending(self, session: Session, campaign_id: str, reviewer_id: str) -> list[dict[str, Any]]:
        """The reviewer's items in the campaign that are not signed off yet."""
        rows = session.execute(
            select(
                *(getattr(ReviewItem, key) for key in DIGESTED),
                ReviewItem.stage,
                ReviewItem.source_type,
            )
            .where(
                ReviewItem.campaign_id == campaign_id,
                ReviewItem.reviewer_id == reviewer_id,
                ReviewItem.signoff_id.is_(None),
            )
            .order_by(ReviewItem.id)
        )
        return [dict(row._mapping) for row in rows]

    def sign_off(
        self,
        campaign_id: str,
        reviewer_id: str,
        credentials: Credentials,
        source: str | None,
    ) -> ReviewSignoff:
        """Sign every decided item of the reviewer in the campaign. Refused while any is
        undecided; refused if a decision changed between reading and recording (sign again)."""
        with self._session_factory() as session:
            campaign = self._campaigns.get(session, campaign_id)
            reviewer = session.get(Identity, reviewer_id)
            if reviewer is None:
                raise NotFound("no such reviewer")
            if campaign.state != CampaignState.ACTIVE:
                raise Conflict(f"the campaign is {campaign.state}: sign-off is closed")
            items = self.pending(session, campaign_id, reviewer_id)
            done = session.scalar(
                select(func.count(ReviewSignoff.id)).where(
                    ReviewSignoff.campaign_id == campaign_id,
                    ReviewSignoff.reviewer_id == reviewer_id,
                )
            )
            username, name = reviewer.username, campaign.name
        if not items:
            raise Conflict("you have no items left to sign off in this campaign")
        undecided = [item["id"] for item in items if item["decision"] is None]
        if undecided:
            raise Conflict(
                f"decide all your items first: {len(undecided)} are undecided",
                undecided=undecided[:50],
            )
        digest = decisions_digest(items)
        request = SignRequest(
            username=username,
            password=credentials.password,
            otp=credentials.otp,
            temporary_credential=credentials.temporary_credential,
            meaning="review",
            reason=f"access review: {counted(len(items), 'decision')}",
            record={
                "type": RECORD_TYPE,
                "id": f"{campaign_id}/{username}",
                "version": str((done or 0) + 1),
                "digest": digest,
                "title": f"Access review {name}: decisions of {username}",
            },
        )
        outcome = self._signatures.sign(request, InternalHost(), source)
        signature = outcome.signatures[0]
        with transaction(self._session_factory) as session:
            # Locked: a close or an escalation waits for this sign-off, or it sees theirs.
            locked = session.get(Campaign, campaign_id, with_for_update=True)
            if locked is None:
                raise NotFound(f"no campaign {campaign_id!r}")
            campaign = locked
            again = self.pending(session, campaign_id, reviewer_id)
            if decisions_digest(again) != digest or campaign.state != CampaignState.ACTIVE:
                raise Conflict(
                    "your decisions changed while signing; review them and sign again "
                    f"(signature {signature.id} covers the earlier decisions only)"
                )
            return self._record(session, campaign, reviewer_id, again, digest, signature.id)

    def _record(
        self,
        session: Session,
        campaign: Campaign,
        reviewer_id: str,
        items: list[dict[str, Any]],
        digest: str,
        signature_id: str,
    ) -> ReviewSignoff:
        now = self._clock.now()
        stage = max(item["stage"] for item in items)
        signoff = ReviewSignoff(
            campaign_id=campaign.id,
            reviewer_id=reviewer_id,
            stage=stage,
            signature_id=signature_id,
            digest=digest,
            item_count=len(items),
            signed_at=now,
        )
        session.add(signoff)
        session.flush()
        ids = [item["id"] for item in items]
        for batch in chunked(ids):
            session.execute(
                update(ReviewItem)
                .where(ReviewItem.id.in_(batch))
                .values(signoff_id=signoff.id)
                .execution_options(synchronize_session=False)
            )
        revoked = [item for item in items if item["decision"] == "revoke"]
        self._request_remediation(session, campaign.id, revoked, now)
        second = self._second_stage(session, campaign, items, now)
        self._trail.record(
            session,
            "review:signoff:signed",
            Target("review-campaign", campaign.id),
            new={
                "reviewer_id": reviewer_id,
                "signature_id": signature_id,
                "digest": digest,
                "items": len(items),
                "revoked": len(revoked),
                "to_second_stage": second,
            },
        )
        if not session.scalar(
            select(func.count(ReviewItem.id)).where(
                ReviewItem.campaign_id == campaign.id, ReviewItem.signoff_id.is_(None)
            )
        ):
            self._campaigns.advance(session, campaign, CampaignState.CLOSING, "every item signed")
        return signoff

    def _request_remediation(
        self, session: Session, campaign_id: str, revoked: list[dict[str, Any]], now: Any
    ) -> None:
        """REV-4: each signed revocation is a remediation, open until verified."""
        if not revoked:
            return
        session.execute(
            insert(Remediation),
            [
                {
                    "item_id": item["id"],
                    "campaign_id": campaign_id,
                    # A host's role goes to the host; a group of an OpenID provider stays
                    # open for the provider's administrators (docs/oidc.md).
                    "kind": (
                        "system-role"
                        if item["source_type"] not in (DIRECTORY_GROUP, OIDC_GROUP)
                        else item["source_type"]
                    ),
                    "source": item["source"],
                    "status": "open",
                    "attempts": 0,
                    "last_error": None,
                    "requested_at": now,
                    "done_at": None,
                    "verified_at": None,
                    "verified_by": None,
                }
                for item in revoked
            ],
        )

    def _second_stage(
        self, session: Session, campaign: Campaign, items: list[dict[str, Any]], now: datetime
    ) -> int:
        """manager-then-owner: what the manager certified goes to the entitlement's owner."""
        if campaign.reviewer_rule != ReviewerRule.MANAGER_THEN_OWNER:
            return 0
        certified = [i["id"] for i in items if i["decision"] == "certify" and i["stage"] == 1]
        if not certified:
            return 0
        reviewers = reviewers_for(session, campaign.fallback_reviewer_id)
        rows = session.execute(
            select(ReviewItem, Entitlement.owner_id)
            .join(Entitlement, Entitlement.id == ReviewItem.entitlement_id)
            .where(ReviewItem.id.in_(certified))
        ).all()
        columns = [c.key for c in ReviewItem.__table__.columns if c.key != "id"]
        copies = []
        for item, owner_id in rows:
            target = primary(campaign.reviewer_rule, 2, None, owner_id)
            copies.append(
                {
                    **{key: getattr(item, key) for key in columns},
                    "stage": 2,
                    # The owner gets time of their own, not what the manager left over.
                    "due_at": max(item.due_at, now + timedelta(days=campaign.escalation_days)),
                    "reviewer_id": reviewers.first([target], item.identity_id),
                    "escalation": 0,
                    "reminded_at": None,
                    "decision": None,
                    "justification": None,
                    "decided_by": None,
                    "decided_at": None,
                    "signoff_id": None,
                }
            )
        session.execute(insert(ReviewItem).execution_options(render_nulls=True), copies)
        return len(copies)
