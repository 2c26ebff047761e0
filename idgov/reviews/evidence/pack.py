"""A campaign's evidence pack: facts, totals and integrity checks, with its items streamed."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.counted import counted, plural
from idgov.identity.models import Identity
from idgov.reviews.evidence.items import (
    EXCEPTION_KINDS,
    DecisionsDigest,
    EvidenceItem,
    Person,
    SignoffEvidence,
    exceptions_of,
    item_query,
    stream,
    to_item,
)
from idgov.reviews.models import (
    Campaign,
    CampaignDefinition,
    CampaignState,
    ReviewItem,
    ReviewSignoff,
)
from idgov.signatures.documents import SignatureDocument
from idgov.signatures.models import Signature

DECISIONS_CLOSED = (CampaignState.CLOSING, CampaignState.CLOSED)


@dataclass(frozen=True)
class CampaignFacts:
    id: str
    name: str
    state: str
    definition_id: str
    definition_name: str
    schedule: str | None  # None: on demand only
    duration_days: int
    reminder_days: int
    escalation_days: int
    dormant_days: int
    reviewer_rule: str
    certify_justification: bool
    fallback: Person
    started_by: str
    started_at: datetime
    due_at: datetime
    closing_at: datetime | None
    closed_at: datetime | None
    item_count: int  # items frozen at the start (stage 1)
    scope: dict[str, Any]
    completeness: dict[str, Any]  # counts per source, snapshot times, flags, hash algorithm
    population_hash: str


@dataclass(frozen=True)
class Totals:
    items: int  # every item, both stages
    stages: dict[int, int]
    certified: int  # signed certifications only: an unsigned decision certifies nothing
    revoked: int  # signed revocations only
    undecided: int
    unsigned: int  # decided, never signed off: exceptions, not decisions
    signed: int
    with_exceptions: int  # items with at least one exception
    exceptions: dict[str, int]  # every kind, zeros included
    remediation: dict[str, int]  # by status


@dataclass(frozen=True)
class PopulationCheck:
    """REV-1 completeness, checked again when the pack is made."""

    frozen: int
    found: int
    expected: str
    recomputed: str
    escalated: int  # stage-1 items that moved to another reviewer

    @property
    def complete(self) -> bool:
        return self.found == self.frozen

    @property
    def matches(self) -> bool:
        return self.recomputed == self.expected

    @property
    def alarming(self) -> bool:
        return not self.complete or not self.matches

    def statement(self) -> str:
        if not self.complete:
            return (
                f"INCOMPLETE: {counted(self.frozen, 'item')} "
                f"{plural(self.frozen, 'was', 'were')} frozen at the start but {self.found} "
                f"{plural(self.found, 'is', 'are')} present"
            )
        found = (
            "The 1 item frozen at the start is present"
            if self.frozen == 1
            else f"All {counted(self.frozen, 'item')} frozen at the start are present"
        )
        if self.matches:
            return f"{found}; the population hash recomputed from them matches."
        return f"{found}, BUT THE POPULATION HASH RECOMPUTED FROM THEM DIFFERS ({self.recomputed})."


@dataclass(frozen=True)
class EvidencePack:
    """Everything the evidence holds; the items stream from `session` when asked for, so a
    pack of a million items is never held in memory."""

    campaign: CampaignFacts
    issuer: str
    as_of: datetime  # closed: when it closed (the pack is reproducible); otherwise: now
    deadline: datetime  # undecided items due before then are overdue (ReviewItem.overdue)
    totals: Totals
    population: PopulationCheck
    signoffs: tuple[SignoffEvidence, ...]
    session: Session = field(repr=False, compare=False)

    @property
    def decisions_closed(self) -> bool:
        return self.campaign.state in DECISIONS_CLOSED

    def items(
        self, *, exceptions: bool = False, remediated: bool = False
    ) -> Generator[EvidenceItem, None, None]:
        """Items in id order: all, those with exceptions, or the revocations being remediated."""
        signoffs = {signoff.id: signoff for signoff in self.signoffs}
        query = item_query(self.campaign.id, exceptions=exceptions, remediated=remediated)
        for row in stream(self.session, query):
            item = to_item(row, signoffs, self.deadline, self.decisions_closed)
            if item.exceptions or not exceptions:
                yield item


def build_pack(session: Session, campaign: Campaign, issuer: str, now: datetime) -> EvidencePack:
    """Read the campaign's facts and check its items: one pass over all of them (totals,
    exceptions, the signed digests) and one over the frozen population (its hash)."""
    facts = _facts(session, campaign)
    closed = campaign.state == CampaignState.CLOSED and campaign.closed_at is not None
    as_of = campaign.closed_at if closed and campaign.closed_at else now
    deadline = campaign.closing_at or as_of
    decisions_closed = campaign.state in DECISIONS_CLOSED
    signed = _signoff_rows(session, campaign.id)
    digests = {row.ReviewSignoff.id: DecisionsDigest() for row in signed}
    counts: Counter[str] = Counter()
    stages: Counter[int] = Counter()
    remediation: Counter[str] = Counter()
    for row in stream(session, item_query(campaign.id)):
        stages[row.stage] += 1
        if row.decision is None:
            counts["decision:none"] += 1
        elif row.signoff_id is None:
            counts["unsigned-decision"] += 1  # never counted as certified or revoked
        else:
            counts[f"decision:{row.decision}"] += 1
        counts["signed"] += row.signoff_id is not None
        counts["escalated-frozen"] += row.stage == 1 and row.escalation > 0
        if row.rem_status is not None:
            remediation[row.rem_status] += 1
        kinds = exceptions_of(row, deadline, decisions_closed)
        counts["with-exceptions"] += bool(kinds)
        counts.update(kinds)
        if row.signoff_id in digests:
            digests[row.signoff_id].add(row)
    totals = Totals(
        items=sum(stages.values()),
        stages=dict(sorted(stages.items())),
        certified=counts["decision:certify"],
        revoked=counts["decision:revoke"],
        undecided=counts["decision:none"],
        unsigned=counts["unsigned-decision"],
        signed=counts["signed"],
        with_exceptions=counts["with-exceptions"],
        exceptions={kind: counts[kind] for kind in EXCEPTION_KINDS},
        remediation=dict(sorted(remediation.items())),
    )
    signoffs = tuple(_signoff(row, digests[row.ReviewSignoff.id].value()) for row in signed)
    population = _population(session, campaign, stages[1], counts["escalated-frozen"])
    return EvidencePack(facts, issuer, as_of, deadline, totals, population, signoffs, session)


def _facts(session: Session, campaign: Campaign) -> CampaignFacts:
    definition = session.get(CampaignDefinition, campaign.definition_id)
    assert definition is not None  # a foreign key
    fallback = session.get(Identity, campaign.fallback_reviewer_id)
    return CampaignFacts(
        id=campaign.id,
        name=campaign.name,
        state=campaign.state,
        definition_id=definition.id,
        definition_name=definition.name,
        schedule=definition.schedule,
        duration_days=definition.duration_days,
        reminder_days=campaign.reminder_days,
        escalation_days=campaign.escalation_days,
        dormant_days=definition.dormant_days,
        reviewer_rule=campaign.reviewer_rule,
        certify_justification=campaign.certify_justification,
        fallback=Person(
            campaign.fallback_reviewer_id,
            fallback.printed_name if fallback else None,
            fallback.username if fallback else None,
        ),
        started_by=campaign.started_by,
        started_at=campaign.started_at,
        due_at=campaign.due_at,
        closing_at=campaign.closing_at,
        closed_at=campaign.closed_at,
        item_count=campaign.item_count,
        scope=json.loads(campaign.scope),
        completeness=json.loads(campaign.completeness or "{}"),
        population_hash=campaign.population_hash,
    )


def _signoff_rows(session: Session, campaign_id: str) -> list[Any]:
    return list(
        session.execute(
            select(ReviewSignoff, Signature, Identity.printed_name, Identity.username)
            .join(Signature, Signature.id == ReviewSignoff.signature_id)
            .outerjoin(Identity, Identity.id == ReviewSignoff.reviewer_id)
            .where(ReviewSignoff.campaign_id == campaign_id)
            .order_by(ReviewSignoff.signed_at, ReviewSignoff.id)
        )
    )


def _signoff(row: Any, recomputed: str) -> SignoffEvidence:
    signoff: ReviewSignoff = row.ReviewSignoff
    signature: Signature = row.Signature
    return SignoffEvidence(
        id=signoff.id,
        reviewer=Person(signoff.reviewer_id, row.printed_name, row.username),
        stage=signoff.stage,
        item_count=signoff.item_count,
        digest=signoff.digest,
        signature_id=signature.id,
        manifestation=SignatureDocument.from_row(signature).manifestation,
        record_digest=signature.record_digest,
        token=signature.token,
        recomputed=recomputed,
    )


def _population(
    session: Session, campaign: Campaign, found: int, escalated: int
) -> PopulationCheck:
    """The hash population.freeze made, recomputed from the stage-1 items: one JSON line per
    item in grant order, [grant, entitlement, account, identity, via]."""
    digest = hashlib.sha256()
    query = (
        select(
            ReviewItem.grant_id,
            ReviewItem.entitlement_id,
            ReviewItem.account,
            ReviewItem.identity_id,
            ReviewItem.via,
        )
        .where(ReviewItem.campaign_id == campaign.id, ReviewItem.stage == 1)
        .order_by(ReviewItem.grant_id)
    )
    for row in stream(session, query):
        digest.update(json.dumps(list(row), separators=(",", ":")).encode() + b"\n")
    return PopulationCheck(
        frozen=campaign.item_count,
        found=found,
        expected=campaign.population_hash,
        recomputed="sha256:" + digest.hexdigest(),
        escalated=escalated,
    )
