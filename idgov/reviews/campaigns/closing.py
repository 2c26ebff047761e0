"""Closing a campaign: active to closing, closing to closed once remediation is verified (SEQ-1)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from idgov.counted import counted, plural
from idgov.db import transaction
from idgov.errors import Conflict, InvalidRequest, NotFound, OutOfSequence
from idgov.reviews.campaigns.services import CampaignService
from idgov.reviews.evidence.services import EvidenceService
from idgov.reviews.models import Campaign, CampaignState, ReviewItem

MAX_REASON = 2000


class OpenRemediations(Protocol):
    def open_count(self, session: Session, campaign_id: str) -> int:
        """Revocations of the campaign not verified yet (REV-4)."""
        ...


@dataclass(frozen=True)
class ClosingOutcome:
    campaign_id: str
    state: str
    moved: tuple[str, ...]  # the states entered by this call, in order
    not_signed: int  # items without a sign-off: exceptions in the evidence, never certified
    unverified: int  # remediations not verified
    evidence: dict[str, str] = field(default_factory=dict)  # format -> SHA-256, once closed

    @property
    def closed(self) -> bool:
        return self.state == CampaignState.CLOSED


class CampaignCloser:
    """What an administrator does to end a campaign, from the CLI or the admin pages."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        campaigns: CampaignService,
        evidence: EvidenceService,
        remediation: OpenRemediations,
    ) -> None:
        self._session_factory = session_factory
        self._campaigns = campaigns
        self._evidence = evidence
        self._remediation = remediation

    def close(
        self, campaign_id: str, closed_by: str, reason: str, *, with_exceptions: bool
    ) -> ClosingOutcome:
        """Close (see `_close`) in one transaction; once closed, seal the evidence pack in
        transactions of its own: making the pack of a large campaign takes minutes, and no
        write lock (the audit chain's head, SQLite's database lock) is held meanwhile."""
        with transaction(self._session_factory) as session:
            outcome = self._close(
                session, campaign_id, closed_by, reason, with_exceptions=with_exceptions
            )
        if not outcome.closed:
            return outcome
        return replace(outcome, evidence=self._evidence.seal(campaign_id))

    def _close(
        self,
        session: Session,
        campaign_id: str,
        closed_by: str,
        reason: str,
        *,
        with_exceptions: bool,
    ) -> ClosingOutcome:
        """Move the campaign forward as far as it may go, each move audited with `reason`
        (SEQ-1: draft, active, closing, closed, never back or skipping):

        - active -> closing: decisions and sign-offs stop. Items not signed off are never
          certified: the evidence lists them as exceptions (undecided, overdue, unsigned).
        - closing -> closed: once every remediation is verified (REV-4), or, with
          `with_exceptions`, with the unverified ones listed as exceptions. Closing makes the
          evidence pack and audits its SHA-256 per format (EvidenceService.seal).

        The reason is required. Refused: a draft or closed campaign (OutOfSequence); a closing
        campaign with unverified remediation and no `with_exceptions` (Conflict). A campaign
        moved to closing that cannot close yet is returned in state closing."""
        why = " ".join(reason.split())
        if not why or len(why) > MAX_REASON:
            raise InvalidRequest(
                f"a reason is required to close a campaign (at most {MAX_REASON} characters)",
                field="reason",
            )
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r}", field="campaign")
        if campaign.state == CampaignState.DRAFT:
            raise OutOfSequence(
                f"campaign {campaign_id} is a draft: start it before it can close", field="state"
            )
        if campaign.state == CampaignState.CLOSED:
            raise OutOfSequence(f"campaign {campaign_id} is closed already", field="state")
        moved: list[str] = []
        not_signed = _not_signed(session, campaign_id)
        if campaign.state == CampaignState.ACTIVE:
            note = (
                f"{counted(not_signed, 'item')} not signed off "
                f"{plural(not_signed, 'is an exception', 'are exceptions')}, never certified"
                if not_signed
                else "every item signed off"
            )
            self._advance(session, campaign, CampaignState.CLOSING, why, closed_by, note)
            moved.append(CampaignState.CLOSING)
        unverified = self._remediation.open_count(session, campaign_id)
        if unverified and not with_exceptions:
            if not moved:
                raise Conflict(
                    f"{counted(unverified, 'remediation')} of campaign {campaign_id} "
                    f"{plural(unverified, 'is', 'are')} not verified yet: "
                    "wait for their verification, or close with exceptions (and a reason)",
                    field="with_exceptions",
                )
            return ClosingOutcome(campaign_id, campaign.state, tuple(moved), not_signed, unverified)
        note = (
            f"with exceptions: {counted(unverified, 'remediation')} not verified"
            if unverified
            else "every remediation verified"
        )
        self._advance(session, campaign, CampaignState.CLOSED, why, closed_by, note)
        moved.append(CampaignState.CLOSED)
        return ClosingOutcome(campaign_id, campaign.state, tuple(moved), not_signed, unverified)

    def _advance(
        self, session: Session, campaign: Campaign, state: str, why: str, by: str, note: str
    ) -> None:
        self._campaigns.advance(session, campaign, state, f"{why} [closed by {by}; {note}]")


def _not_signed(session: Session, campaign_id: str) -> int:
    count = session.scalar(
        select(func.count(ReviewItem.id)).where(
            ReviewItem.campaign_id == campaign_id, ReviewItem.signoff_id.is_(None)
        )
    )
    return int(count or 0)
