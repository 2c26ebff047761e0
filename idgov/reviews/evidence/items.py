"""One review item as evidence: grant, decision, signature, remediation and exceptions (REV-5)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import Executable

from idgov.identity.models import Identity
from idgov.reviews.decisions.signoff import DIGESTED
from idgov.reviews.models import Remediation, ReviewItem, is_overdue
from idgov.signatures.tokens import Manifestation

STREAM_BATCH = 2000
# Exception kinds, in the order reports list them (REV-5, REV-6).
OVERDUE = "overdue"  # undecided past its due time
UNDECIDED = "undecided"  # no decision when decisions closed, though not yet due
UNSIGNED = "unsigned"  # decided but never signed off: the decision does not count
ESCALATED = "escalated"  # reminders went unanswered; the item moved up (REV-5)
ORPHANED = "orphaned"  # no matching active person (REV-6)
DORMANT = "dormant"  # no login within the dormant window (REV-6)
UNVERIFIED = "remediation-unverified"  # revoked, not yet verified against a snapshot (REV-4)
FAILED = "remediation-failed"  # the revocation could not be carried out
EXCEPTION_KINDS = (OVERDUE, UNDECIDED, UNSIGNED, ESCALATED, ORPHANED, DORMANT, UNVERIFIED, FAILED)
PENDING_REMEDIATION = ("open", "done")

REVIEWER = aliased(Identity, name="reviewer")
DECIDER = aliased(Identity, name="decider")
# fmt: off
ITEM_FIELDS = (
    "id", "stage", "grant_id", "account", "holder_name", "identity_id", "entitlement_name",
    "entitlement_description", "source_type", "source", "via", "flags", "suggestion",
    "reviewer_id", "escalation", "due_at", "decision", "justification", "decided_by",
    "decided_at", "signoff_id",
)
# fmt: on
COLUMNS = (
    *(getattr(ReviewItem, name) for name in ITEM_FIELDS),
    REVIEWER.printed_name.label("reviewer_name"),
    REVIEWER.username.label("reviewer_username"),
    DECIDER.printed_name.label("decider_name"),
    DECIDER.username.label("decider_username"),
    Remediation.kind.label("rem_kind"),
    Remediation.status.label("rem_status"),
    Remediation.attempts.label("rem_attempts"),
    Remediation.requested_at.label("rem_requested_at"),
    Remediation.done_at.label("rem_done_at"),
    Remediation.verified_at.label("rem_verified_at"),
    Remediation.verified_by.label("rem_verified_by"),
    Remediation.last_error.label("rem_last_error"),
)


@dataclass(frozen=True)
class Person:
    id: str | None
    name: str | None
    username: str | None

    def label(self) -> str:
        """As printed: "Printed Name (username)", or the bare id of an unknown identity."""
        if self.name is None:
            return self.id or ""
        return self.name if self.username is None else f"{self.name} ({self.username})"


@dataclass(frozen=True)
class SignoffEvidence:
    """A reviewer's sign-off: the e-signature (meaning review) over their decisions (REV-3)."""

    id: int
    reviewer: Person
    stage: int
    item_count: int
    digest: str  # sha256 of the signed decisions (reviews/decisions/signoff.py)
    signature_id: str
    manifestation: Manifestation  # MAN-1: printed name, time (UTC), meaning
    record_digest: str  # the digest the signature's JWS is bound to (LNK-1)
    token: str
    recomputed: str  # the digest recomputed from the items as they are now

    @property
    def intact(self) -> bool:
        return self.digest == self.recomputed == self.record_digest

    def check(self) -> str:
        if self.intact:
            return "decisions unchanged since signing: the digest recomputed from the items matches"
        return (
            "DECISIONS CHANGED SINCE SIGNING: the digest recomputed from the items "
            f"({self.recomputed}) differs from the signed one"
        )


@dataclass(frozen=True)
class RemediationEvidence:
    kind: str
    status: str
    attempts: int
    requested_at: datetime
    done_at: datetime | None
    verified_at: datetime | None
    verified_by: str | None
    last_error: str | None


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    stage: int
    grant_id: int
    holder: Person  # id, printed name (as frozen) and the account
    account: str
    entitlement: str
    entitlement_description: str | None
    source_type: str
    source: str
    via: str | None
    flags: tuple[str, ...]
    suggestion: str | None
    reviewer: Person
    escalation: int
    due_at: datetime
    decision: str | None
    justification: str | None
    decided_by: Person | None
    decided_at: datetime | None
    signoff: SignoffEvidence | None
    remediation: RemediationEvidence | None
    exceptions: tuple[str, ...]


class DecisionsDigest:
    """reviews.signoff.decisions_digest, computed one item at a time: the canonical JSON of a
    list is "[" + the items' canonical JSON joined by "," + "]"."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(b"[")
        self._first = True

    def add(self, row: Any) -> None:
        mapping = row._mapping
        text = json.dumps(
            {key: mapping[key] for key in DIGESTED},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        self._hash.update(("" if self._first else ",").encode() + text.encode("utf-8"))
        self._first = False

    def value(self) -> str:
        final = self._hash.copy()
        final.update(b"]")
        return "sha256:" + final.hexdigest()


def exceptions_of(row: Any, deadline: datetime, decisions_closed: bool) -> tuple[str, ...]:
    """The item's exceptions. `deadline` is when undecided items count as overdue (now, or
    when decisions closed); once decisions closed, whatever is undecided or unsigned is an
    exception, never a certification."""
    kinds = []
    if row.decision is None:
        if is_overdue(row.decision, row.due_at, deadline):
            kinds.append(OVERDUE)
        elif decisions_closed:
            kinds.append(UNDECIDED)
    elif row.signoff_id is None and decisions_closed:
        kinds.append(UNSIGNED)
    if row.escalation:
        kinds.append(ESCALATED)
    flags = set(row.flags.split(",")) if row.flags else set()
    if "orphan" in flags:
        kinds.append(ORPHANED)
    if "dormant" in flags:
        kinds.append(DORMANT)
    if row.rem_status in PENDING_REMEDIATION:
        kinds.append(UNVERIFIED)
    elif row.rem_status == "failed":
        kinds.append(FAILED)
    return tuple(kinds)


def item_query(
    campaign_id: str, *, exceptions: bool = False, remediated: bool = False
) -> Select[Any]:
    """Every item of the campaign in id order with its people and remediation; `exceptions`
    narrows to a superset of the items with exceptions, `remediated` to revoked-and-signed."""
    query = (
        select(*COLUMNS)
        .outerjoin(REVIEWER, REVIEWER.id == ReviewItem.reviewer_id)
        .outerjoin(DECIDER, DECIDER.id == ReviewItem.decided_by)
        .outerjoin(Remediation, Remediation.item_id == ReviewItem.id)
        .where(ReviewItem.campaign_id == campaign_id)
        .order_by(ReviewItem.id)
    )
    if exceptions:
        query = query.where(
            or_(
                ReviewItem.decision.is_(None),
                ReviewItem.signoff_id.is_(None),
                ReviewItem.escalation > 0,
                ReviewItem.flags != "",
                Remediation.status.in_((*PENDING_REMEDIATION, "failed")),
            )
        )
    if remediated:
        query = query.where(Remediation.id.is_not(None))
    return query


def stream(session: Session, query: Executable) -> Iterator[Any]:
    """Rows in batches (a server-side cursor on PostgreSQL); the cursor closes with the
    generator, also when the reader stops early."""
    result = session.execute(query, execution_options={"yield_per": STREAM_BATCH})
    try:
        yield from result
    finally:
        result.close()


def to_item(
    row: Any,
    signoffs: Mapping[int, SignoffEvidence],
    deadline: datetime,
    decisions_closed: bool,
) -> EvidenceItem:
    decided_by = (
        None
        if row.decided_by is None
        else Person(row.decided_by, row.decider_name, row.decider_username)
    )
    remediation = (
        None
        if row.rem_status is None
        else RemediationEvidence(
            row.rem_kind,
            row.rem_status,
            row.rem_attempts,
            row.rem_requested_at,
            row.rem_done_at,
            row.rem_verified_at,
            row.rem_verified_by,
            row.rem_last_error,
        )
    )
    return EvidenceItem(
        id=row.id,
        stage=row.stage,
        grant_id=row.grant_id,
        holder=Person(row.identity_id, row.holder_name, None),
        account=row.account,
        entitlement=row.entitlement_name,
        entitlement_description=row.entitlement_description,
        source_type=row.source_type,
        source=row.source,
        via=row.via,
        flags=tuple(flag for flag in row.flags.split(",") if flag),
        suggestion=row.suggestion,
        reviewer=Person(row.reviewer_id, row.reviewer_name, row.reviewer_username),
        escalation=row.escalation,
        due_at=row.due_at,
        decision=row.decision,
        justification=row.justification,
        decided_by=decided_by,
        decided_at=row.decided_at,
        signoff=None if row.signoff_id is None else signoffs.get(row.signoff_id),
        remediation=remediation,
        exceptions=exceptions_of(row, deadline, decisions_closed),
    )
