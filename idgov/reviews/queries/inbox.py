"""Page reads of the review read model: inbox, sign-off preview, admin views (no N+1 queries)."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from idgov.errors import InvalidRequest, NotFound
from idgov.identity.models import Identity
from idgov.ids import plausible_id
from idgov.reviews.decisions.signoff import DIGESTED, decisions_digest
from idgov.reviews.models import (
    Campaign,
    CampaignDefinition,
    Remediation,
    ReviewItem,
    ReviewSignoff,
    overdue,
)
from idgov.reviews.queries.views import (
    CampaignDetail,
    CampaignView,
    Group,
    Inbox,
    InboxFilter,
    Item,
    Progress,
    ReviewerProgress,
    SignedOff,
    SignoffPreview,
    source_label,
)
from idgov.signatures.documents import SignatureDocument
from idgov.signatures.models import Signature
from idgov.tokens.loss.rules import temporary_issued
from idgov.tokens.models import OtpToken
from idgov.tokens.signing import HELD

MAX_OVERDUE = 500
OVERDUE_FIELDS = (
    "id holder_name account entitlement_name source_type source due_at escalation stage"
)
I = ReviewItem  # noqa: E741 - the one table every query here reads
CAMPAIGN = tuple(
    getattr(Campaign, key)
    for key in ("id", "name", "state", "started_at", "due_at", "certify_justification")
)


ITEM_COLUMNS = [getattr(I, name) for name in Item.__dataclass_fields__]
OVERDUE_COLUMNS = [getattr(I, name) for name in OVERDUE_FIELDS.split()]


class PageReads:
    """Part of ReviewReader (reader.py): what the reviewer and admin pages show."""

    def my_campaigns(self, session: Session, reviewer_id: str, now: datetime) -> list[CampaignView]:
        """Campaigns where the reviewer has items, newest first, with their progress."""
        rows = session.execute(
            select(*CAMPAIGN, *_counts(now))
            .join(I, I.campaign_id == Campaign.id)
            .where(I.reviewer_id == reviewer_id)
            .group_by(*CAMPAIGN)
            .order_by(Campaign.started_at.desc(), Campaign.id)
        )
        return [_view(row, _progress([row])) for row in rows]

    def inbox(
        self, session: Session, campaign_id: str, reviewer_id: str, view: InboxFilter, now: datetime
    ) -> Inbox:
        """The reviewer's items in the campaign, filtered and grouped; NotFound when the
        reviewer has none there: another reviewer's items are never read."""
        campaign = self._campaign(session, campaign_id)
        mine = (I.campaign_id == campaign.id, I.reviewer_id == reviewer_id)
        per_source = session.execute(
            select(I.source_type, I.source, *_counts(now))
            .where(*mine)
            .group_by(I.source_type, I.source)
            .order_by(I.source_type, I.source)
        ).all()
        if not per_source:
            raise NotFound("you have no items in this campaign")
        sources = {
            f"{r.source_type}:{r.source}": source_label(r.source_type, r.source) for r in per_source
        }
        if view.source and view.source not in sources:
            raise InvalidRequest("source is not one of this campaign's sources", field="source")
        query = select(*ITEM_COLUMNS).where(*mine, *_conditions(view))
        if view.group == "person":
            holder = func.coalesce(I.identity_id, I.account)
            query = query.order_by(I.holder_name, holder, I.entitlement_name, I.id)
        else:
            query = query.order_by(I.source_type, I.source, I.entitlement_name, I.holder_name, I.id)
        items = [Item(*row) for row in session.execute(query)]
        groups, summary = _grouped(items, view.group), _view(campaign, _progress(per_source))
        return Inbox(summary, view, sources, groups, len(items))

    def signoff_preview(
        self, session: Session, campaign_id: str, reviewer_id: str
    ) -> SignoffPreview:
        """What SignoffService.sign_off would sign now: the same items, hence the same digest."""
        campaign = self._campaign(session, campaign_id)
        rows = session.execute(
            select(*(getattr(I, k) for k in DIGESTED), I.holder_name, I.entitlement_description)
            .where(I.campaign_id == campaign.id, I.reviewer_id == reviewer_id)
            .where(I.signoff_id.is_(None))
            .order_by(I.id)
        )
        items = [dict(row._mapping) for row in rows]
        done = self.signoffs(session, campaign.id, reviewer_id)
        if not items and not done:
            raise NotFound("you have no items in this campaign")
        undecided = sum(item["decision"] is None for item in items)
        digest = decisions_digest(items) if items and not undecided else None
        return SignoffPreview(_view(campaign, Progress()), items, digest, undecided, done)

    def signoffs(
        self, session: Session, campaign_id: str, reviewer_id: str | None = None
    ) -> list[SignedOff]:
        """Sign-offs of the campaign (of one reviewer when given) with their manifestation."""
        query = (
            select(ReviewSignoff, Signature)
            .join(Signature, Signature.id == ReviewSignoff.signature_id)
            .where(ReviewSignoff.campaign_id == campaign_id)
            .order_by(ReviewSignoff.signed_at, ReviewSignoff.id)
        )
        if reviewer_id is not None:
            query = query.where(ReviewSignoff.reviewer_id == reviewer_id)
        return [_signed(signoff, signature) for signoff, signature in session.execute(query).all()]

    def signing_inputs(self, session: Session, identity_id: str) -> tuple[bool, bool]:
        """The second components a signature of this person needs, as the signature service
        decides: (a token's one-time code, a temporary credential) (CMP-1, LOSS-2)."""
        query = select(OtpToken.id).where(
            OtpToken.identity_id == identity_id, OtpToken.status.in_(HELD)
        )
        return session.scalar(query.limit(1)) is not None, temporary_issued(session, identity_id)

    def definitions(self, session: Session) -> list[tuple[CampaignDefinition, str]]:
        """Every campaign definition with its fallback reviewer's username, by name."""
        rows = session.execute(
            select(CampaignDefinition, Identity.username)
            .join(Identity, Identity.id == CampaignDefinition.fallback_reviewer_id)
            .order_by(CampaignDefinition.name)
        )
        return [(definition, username) for definition, username in rows.all()]

    def campaigns_with_progress(self, session: Session, now: datetime) -> list[CampaignView]:
        """Every campaign with its state and progress, newest first."""
        rows = session.execute(
            select(*CAMPAIGN, *_counts(now))
            .outerjoin(I, I.campaign_id == Campaign.id)
            .group_by(*CAMPAIGN)
            .order_by(Campaign.started_at.desc(), Campaign.id)
        )
        return [_view(row, _progress([row])) for row in rows]

    def campaign_detail(self, session: Session, campaign_id: str, now: datetime) -> CampaignDetail:
        """Progress per reviewer, the overdue items (undecided past their due time, at most
        MAX_OVERDUE of them), the completeness statement and the sign-offs (REV-1, REV-5)."""
        campaign = self._campaign(session, campaign_id)
        who = (Identity.printed_name, Identity.username)
        rows = session.execute(
            select(*who, *_counts(now))
            .select_from(I)
            .join(Identity, Identity.id == I.reviewer_id)
            .where(I.campaign_id == campaign.id)
            .group_by(I.reviewer_id, *who)
            .order_by(Identity.printed_name, Identity.username)
        ).all()
        late = session.execute(
            select(*OVERDUE_COLUMNS, Identity.username.label("reviewer"))
            .outerjoin(Identity, Identity.id == I.reviewer_id)
            .where(I.campaign_id == campaign.id, overdue(now))
            .order_by(I.due_at, I.id)
            .limit(MAX_OVERDUE)
        ).all()
        return CampaignDetail(
            campaign,
            _progress(rows),
            json.loads(campaign.completeness or "{}"),
            [ReviewerProgress(row.printed_name, row.username, _progress([row])) for row in rows],
            list(late),
            self.signoffs(session, campaign.id),
            self.remediations(session, campaign.id),
        )

    @staticmethod
    def remediations(session: Session, campaign_id: str) -> list[Any]:
        """REV-4: the campaign's revocations, those needing attention first (failed, open,
        done by the host), at most MAX_OVERDUE of them."""
        waiting = case(
            (Remediation.status == "failed", 0), (Remediation.status == "open", 1), else_=2
        )
        return list(
            session.execute(
                select(
                    Remediation.id,
                    Remediation.kind,
                    Remediation.status,
                    Remediation.attempts,
                    Remediation.last_error,
                    Remediation.requested_at,
                    Remediation.done_at,
                    Remediation.verified_at,
                    Remediation.verified_by,
                    I.holder_name,
                    I.account,
                    I.entitlement_name,
                    I.source,
                )
                .join(I, I.id == Remediation.item_id)
                .where(Remediation.campaign_id == campaign_id)
                .order_by(waiting, Remediation.id)
                .limit(MAX_OVERDUE)
            )
        )

    @staticmethod
    def _campaign(session: Session, campaign_id: str) -> Campaign:
        found = session.get(Campaign, campaign_id) if plausible_id(campaign_id) else None
        if found is None:
            raise NotFound("no such campaign")
        return found


def _counts(now: datetime) -> tuple[Any, ...]:
    return (
        func.count(I.id).label("total"),
        func.count(I.decision).label("decided"),
        func.count(I.signoff_id).label("signed"),
        func.count(I.id).filter(overdue(now)).label("overdue"),
    )


def _progress(rows: Any) -> Progress:
    total = decided = signed = overdue = 0
    for row in rows:
        total, decided = total + row.total, decided + row.decided
        signed, overdue = signed + row.signed, overdue + row.overdue
    return Progress(total, decided, signed, overdue)


def _view(row: Any, progress: Progress) -> CampaignView:
    """From a row of CAMPAIGN columns, or a Campaign."""
    return CampaignView(
        **{column.key: getattr(row, column.key) for column in CAMPAIGN}, progress=progress
    )


def _conditions(view: InboxFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if view.status != "all":
        found.append(
            I.decision.is_(None) if view.status == "undecided" else I.decision.is_not(None)
        )
    if view.flagged:
        found.append(I.flags != "")
    if view.source:
        kind, _, name = view.source.partition(":")
        found += [I.source_type == kind, I.source == name]
    text = view.q.strip().lower()
    if text:
        columns = (I.holder_name, I.account, I.entitlement_name, I.entitlement_description)
        found.append(or_(*(func.lower(c).contains(text, autoescape=True) for c in columns)))
    return found


def _grouped(items: list[Item], by: str) -> list[Group]:
    groups = []
    if by == "person":
        for key, members in groupby(items, lambda i: i.identity_id or f"account:{i.account}"):
            found = list(members)
            accounts = ", ".join(sorted({i.account for i in found}))
            groups.append(Group(key, found[0].holder_name, accounts, found))
    else:
        for key, members in groupby(items, lambda i: f"{i.source_type}:{i.source}"):
            found = list(members)
            groups.append(Group(key, found[0].source_label, "", found))
    return groups


def _signed(signoff: ReviewSignoff, signature: Signature) -> SignedOff:
    manifestation = SignatureDocument.from_row(signature).manifestation
    return SignedOff(signoff.id, signature.id, signoff.digest, signoff.item_count, manifestation)
