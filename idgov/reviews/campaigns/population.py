"""Freezing a campaign's population: every current grant in scope becomes an item (REV-1)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idgov.entitlements.models import DIRECTORY_GROUP, SYSTEM_ROLE, Entitlement, EntitlementGrant
from idgov.identity.models import (
    Identity,
    IdentityRole,
    IdentityStatus,
    Role,
    SignatureCertification,
)
from idgov.providers.directory.models import DirectorySyncRun
from idgov.reviews.campaigns.assignment import Person, Reviewers, primary
from idgov.reviews.campaigns.scope import Scope
from idgov.reviews.models import SystemSnapshot

BATCH = 5000
DORMANT, ORPHAN = "dormant", "orphan"


@dataclass(frozen=True)
class Frozen:
    items: int
    completeness: dict[str, Any]
    population_hash: str
    unassigned: int


def reviewers_for(session: Session, fallback_id: str) -> Reviewers:
    certified = set(session.scalars(select(SignatureCertification.identity_id).distinct()))
    people = {
        row.id: Person(row.id, row.status, row.manager_id, row.id in certified)
        for row in session.execute(select(Identity.id, Identity.status, Identity.manager_id))
    }
    admins = tuple(
        session.scalars(
            select(IdentityRole.identity_id)
            .join(Identity, Identity.id == IdentityRole.identity_id)
            .where(IdentityRole.role == Role.ADMIN)
            .order_by(Identity.username)
        )
    )
    return Reviewers(people, fallback_id, admins)


def freeze(
    session: Session,
    campaign_id: str,
    scope: Scope,
    rule: str,
    reviewers: Reviewers,
    now: datetime,
    due_at: datetime,
    dormant_days: int,
    write: Callable[[list[dict[str, Any]]], object],
) -> Frozen:
    """The items of a new campaign, built from one consistent read of the grants in scope
    (the caller's transaction), with their reviewer, flags and suggestion, handed to `write`
    in batches (a million items never sit in memory at once); the completeness statement
    (counts per source, snapshot times) and a hash over the item list."""
    dormant_before = now - timedelta(days=dormant_days)
    rows: list[dict[str, Any]] = []
    total = 0
    flagged: Counter[str] = Counter()
    per_source: Counter[str] = Counter()
    entitlements: dict[str, set[str]] = {}
    digest = hashlib.sha256()
    unassigned = 0
    for grant in _grants(session, scope):
        holder = grant.identity_id
        flags = _flags(grant, dormant_before)
        manager = grant.manager_id if holder else None
        reviewer = reviewers.first([primary(rule, 1, manager, grant.owner_id)], holder)
        unassigned += reviewer is None
        source = f"{grant.source_type}:{grant.source}"
        per_source[source] += 1
        entitlements.setdefault(source, set()).add(grant.entitlement_id)
        rows.append(
            {
                "campaign_id": campaign_id,
                "grant_id": grant.id,
                "entitlement_id": grant.entitlement_id,
                "identity_id": holder,
                "account": grant.account,
                "holder_name": grant.printed_name or grant.account,
                "source_type": grant.source_type,
                "source": grant.source,
                "entitlement_name": grant.name,
                "entitlement_description": grant.description,
                "via": grant.via,
                "stage": 1,
                "reviewer_id": reviewer,
                "escalation": 0,
                "reminded_at": None,
                "due_at": due_at,
                "flags": ",".join(flags),
                "suggestion": "revoke" if flags else None,  # flagged, never decided (REV-6)
                "decision": None,
                "justification": None,
                "decided_by": None,
                "decided_at": None,
                "signoff_id": None,
            }
        )
        # The population only: who reviews an item can change (escalation, reassignment).
        line = [grant.id, grant.entitlement_id, grant.account, holder, grant.via]
        digest.update(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        flagged.update(flags)
        total += 1
        if len(rows) >= BATCH:
            write(rows)
            rows = []
    if rows:
        write(rows)
    completeness = {
        "items": total,
        "sources": {
            source: {"grants": count, "entitlements": len(entitlements[source])}
            for source, count in sorted(per_source.items())
        },
        "snapshots": _snapshot_times(session, scope, set(per_source)),
        "flagged": {DORMANT: flagged[DORMANT], ORPHAN: flagged[ORPHAN]},
        "hash_algorithm": "sha256 over one JSON line per item, ordered by grant id: "
        "[grant, entitlement, account, identity, via]",
    }
    return Frozen(total, completeness, "sha256:" + digest.hexdigest(), unassigned)


def _grants(session: Session, scope: Scope) -> Iterator[Any]:
    query = (
        select(
            EntitlementGrant.id,
            EntitlementGrant.entitlement_id,
            EntitlementGrant.identity_id,
            EntitlementGrant.account,
            EntitlementGrant.via,
            Entitlement.source_type,
            Entitlement.source,
            Entitlement.name,
            Entitlement.description,
            Entitlement.owner_id,
            Identity.printed_name,
            Identity.status,
            Identity.manager_id,
            Identity.last_login_at,
        )
        .join(Entitlement, Entitlement.id == EntitlementGrant.entitlement_id)
        .outerjoin(Identity, Identity.id == EntitlementGrant.identity_id)
        .where(
            EntitlementGrant.removed_at.is_(None),
            Entitlement.removed_at.is_(None),
            scope.condition(),
        )
        .order_by(EntitlementGrant.id)
        .execution_options(yield_per=BATCH)
    )
    yield from session.execute(query)


def _flags(grant: Any, dormant_before: datetime) -> list[str]:
    """REV-6: orphaned (no identity, or one deactivated or suspended: no active person)
    and dormant (no login within the campaign's dormant window) accounts are flagged."""
    if grant.identity_id is None or grant.status in (
        IdentityStatus.DEACTIVATED,
        IdentityStatus.SUSPENDED,
    ):
        return [ORPHAN]
    if grant.last_login_at is None or grant.last_login_at < dormant_before:
        return [DORMANT]
    return []


def _snapshot_times(session: Session, scope: Scope, sources: set[str]) -> dict[str, str | None]:
    """When each source last reported: a host's last snapshot, a directory's last sync."""
    times: dict[str, str | None] = {}
    for source in sorted(sources | _named_sources(scope)):
        kind, _, name = source.partition(":")
        if kind == SYSTEM_ROLE:
            moment = session.scalar(
                select(func.max(SystemSnapshot.received_at)).where(SystemSnapshot.system == name)
            )
        else:
            moment = session.scalar(
                select(func.max(DirectorySyncRun.finished_at)).where(
                    DirectorySyncRun.provider == name, DirectorySyncRun.status == "succeeded"
                )
            )
        times[source] = moment.isoformat() if moment else None
    return times


def _named_sources(scope: Scope) -> set[str]:
    named = {f"{SYSTEM_ROLE}:{name}" for name in scope.systems}
    named |= {f"{DIRECTORY_GROUP}:{name}" for name in scope.directories}
    named |= {f"{DIRECTORY_GROUP}:{directory}" for directory, _ in scope.groups}
    return named
