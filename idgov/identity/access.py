"""Role checks for people: who may do what, with every refusal audited (ACC-2, 11.10(g))."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.orm import Session

from idgov.audit.context import Target, audited_path
from idgov.audit.trail import AuditTrail
from idgov.errors import RecordedRefusal
from idgov.identity.models import Identity, Role
from idgov.identity.services import IdentityService

NOT_SLUG = re.compile(r"[^a-z0-9_-]+")
MAX_SLUG = 64


class AccessRefused(RecordedRefusal):
    """A missing role: the refusal's audit event is committed, nothing else changes (ACC-2)."""

    type_slug = "forbidden"
    title = "Not allowed"
    status = 403


class AccessControl:
    def __init__(self, trail: AuditTrail, identities: IdentityService) -> None:
        self._trail = trail
        self._identities = identities

    def require_roles(
        self,
        session: Session,
        identity: Identity,
        roles: Iterable[str],
        *,
        operation: str,
        path: str,
        method: str,
    ) -> set[str]:
        """The identity's roles if it holds any of `roles`; otherwise records
        `access:<operation>:refused` (who, what, which roles were needed) and raises
        AccessRefused, which `db.transaction` commits before it goes on up."""
        required = sorted({Role(role).value for role in roles})
        held = self._identities.roles(session, identity.id)
        if held & set(required):
            return held
        self._trail.record(
            session,
            f"access:{operation_slug(operation)}:refused",
            Target("identity", identity.id),
            new={
                "operation": operation,
                "method": method,
                "path": audited_path(path),
                "required_roles": required,
                "held_roles": sorted(held),
            },
            reason="the identity holds none of the required roles",
        )
        raise AccessRefused(
            f"this needs one of the roles: {', '.join(required)}", required_roles=required
        )


def operation_slug(operation: str) -> str:
    """An endpoint name as the middle part of an audit action: `account.home` -> `account-home`."""
    slug = NOT_SLUG.sub("-", operation.lower()).strip("-")[:MAX_SLUG]
    return slug if slug[:1].isalpha() else f"op-{slug}"[:MAX_SLUG]
