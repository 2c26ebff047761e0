"""EntitlementReader: what a person holds now, with where it comes from (REV-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.entitlements.models import Entitlement, EntitlementGrant


@dataclass(frozen=True)
class Holding:
    grant_id: int
    entitlement_id: str
    source_type: str
    source: str
    name: str
    description: str | None
    owner_id: str | None
    account: str
    via: str | None
    granted_at: datetime


class EntitlementReader:
    def of_identity(self, session: Session, identity_id: str) -> list[Holding]:
        """Current grants of one identity, by source and name."""
        rows = session.execute(
            select(EntitlementGrant, Entitlement)
            .join(Entitlement, Entitlement.id == EntitlementGrant.entitlement_id)
            .where(
                EntitlementGrant.identity_id == identity_id,
                EntitlementGrant.removed_at.is_(None),
            )
            .order_by(Entitlement.source, Entitlement.name)
        ).all()
        return [
            Holding(
                grant.id,
                entitlement.id,
                entitlement.source_type,
                entitlement.source,
                entitlement.name,
                entitlement.description,
                entitlement.owner_id,
                grant.account,
                grant.via,
                grant.granted_at,
            )
            for grant, entitlement in rows
        ]
