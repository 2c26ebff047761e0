"""ClaimedGroups: the groups an OpenID provider's ID token lists become entitlements, like
directory groups: one per group of the provider, held by the person's subject (REV-1)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail
from idgov.entitlements.models import OIDC_GROUP, Entitlement, EntitlementGrant
from idgov.identity.models import Identity

MAX_GROUPS = 500
MAX_GROUP = 300  # entitlements.key


def claimed_groups(value: object) -> list[str] | None:
    """The claim's groups, or None when it is not a list of short strings (then nothing is
    changed: a provider's misconfigured claim must not silently end everyone's grants)."""
    if not isinstance(value, list) or len(value) > MAX_GROUPS:
        return None
    if not all(isinstance(group, str) and 0 < len(group) <= MAX_GROUP for group in value):
        return None
    return sorted(set(value))


class ClaimedGroups:
    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    def apply(
        self,
        session: Session,
        provider: str,
        identity: Identity,
        account: str,
        groups: Sequence[str],
        now: datetime,
    ) -> None:
        """Make the grants of `account` (the subject) among the provider's groups what the
        sign-in's claim lists: new groups become entitlements, grants no longer listed end
        (kept, REC-1). One audit event per change of holdings (AUD-1)."""
        known = {
            row.key: row
            for row in session.scalars(
                select(Entitlement).where(
                    Entitlement.source_type == OIDC_GROUP, Entitlement.source == provider
                )
            )
        }
        for group in groups:
            if group not in known:
                known[group] = Entitlement(
                    id=str(uuid.uuid4()),
                    source_type=OIDC_GROUP,
                    source=provider,
                    key=group,
                    name=group,
                    created_at=now,
                    updated_at=now,
                )
                session.add(known[group])
        session.flush()
        names = {row.id: key for key, row in known.items()}
        held = {
            grant.entitlement_id: grant
            for grant in session.scalars(
                select(EntitlementGrant).where(
                    EntitlementGrant.entitlement_id.in_(names),
                    EntitlementGrant.account == account,
                    EntitlementGrant.removed_at.is_(None),
                )
            )
        }
        wanted = {known[group].id for group in groups}
        if set(held) == wanted:
            return
        for entitlement_id in set(held) - wanted:
            held[entitlement_id].removed_at, held[entitlement_id].removed_by = now, "source"
        session.add_all(
            EntitlementGrant(
                entitlement_id=entitlement_id,
                identity_id=identity.id,
                account=account,
                granted_at=now,
            )
            for entitlement_id in wanted - set(held)
        )
        source = f"{OIDC_GROUP}:{provider}"
        self._trail.record(
            session,
            "entitlement:grants:changed",
            Target("identity", identity.id),
            old={"source": source, "entitlements": sorted(names[e] for e in held)},
            new={"source": source, "entitlements": sorted(groups)},
            reason=f"as {provider} lists them at sign-in",
        )
