"""Managers from the directory's manager attribute, resolved to identities, loops refused."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.identity.models import Identity
from idgov.providers.directory.attributes import DirectoryUser
from idgov.providers.directory.models import LINKED, DirectoryAccount
from idgov.providers.directory.reports import MirrorReport
from idgov.providers.directory.syntax import normalize_dn

SET_MANAGER = (
    update(Identity)
    .where(Identity.id == bindparam("identity"))
    .values(manager_id=bindparam("manager"))
)


class ManagerResolver:
    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    def apply(
        self, session: Session, provider: str, users: list[DirectoryUser], report: MirrorReport
    ) -> int:
        """Set each mirrored person's manager to the identity of the entry their manager
        attribute names (alerts go to managers, ALERT-1; reviews assign to them). A manager
        outside the mirror leaves the manager empty, reported; a loop is refused, reported."""
        rows = session.execute(
            select(
                DirectoryAccount.key, DirectoryAccount.dn_norm, DirectoryAccount.identity_id
            ).where(DirectoryAccount.provider == provider, DirectoryAccount.state == LINKED)
        ).all()
        by_dn = {row.dn_norm: row.identity_id for row in rows}
        by_key = {row.key: row.identity_id for row in rows}
        chain: dict[str, str | None] = {
            row.id: row.manager_id
            for row in session.execute(select(Identity.id, Identity.manager_id))
        }
        changes: list[dict[str, str | None]] = []
        events: list[PendingEvent] = []
        for user in users:
            identity = by_key.get(user.key)
            if identity is None:
                continue
            manager = by_dn.get(normalize_dn(user.manager_dn)) if user.manager_dn else None
            if user.manager_dn and manager is None:
                report.problem(user.dn, f"manager {user.manager_dn} is not a mirrored account")
            old = chain.get(identity)
            if old == manager:
                continue
            chain[identity] = manager
            if _loops(chain, identity):
                chain[identity] = old
                report.problem(user.dn, "manager would create a management loop; left unchanged")
                continue
            changes.append({"identity": identity, "manager": manager})
            events.append(
                PendingEvent(
                    "identity:manager:changed",
                    Target("identity", identity),
                    old={"manager_id": old},
                    new={"manager_id": manager},
                    reason=f"manager in the directory {provider}",
                )
            )
        if changes:
            session.connection().execute(SET_MANAGER, changes)
        self._trail.record_many(session, events)
        return len(changes)


def _loops(chain: dict[str, str | None], start: str) -> bool:
    seen = {start}
    cursor = chain.get(start)
    while cursor is not None:
        if cursor in seen:
            return True
        seen.add(cursor)
        cursor = chain.get(cursor)
    return False
