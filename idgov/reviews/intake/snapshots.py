"""SnapshotService: host systems push who holds which role, as full snapshots (REV-1, REV-4)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.clients.models import HostClient
from idgov.clock import Clock
from idgov.db import chunked
from idgov.entitlements.grants import GrantKey, GrantLedger, GrantReport, Holder
from idgov.entitlements.models import SYSTEM_ROLE, Entitlement
from idgov.identity.ledger import USERNAME
from idgov.identity.models import IdentifierBinding
from idgov.reviews.intake.snapshot_input import Normalized, SnapshotBody, normalize
from idgov.reviews.models import SystemSnapshot
from idgov.reviews.remediation.host_revocations import (
    HostVerification,
    host_system,
    verify_snapshot,
)

AUDITED_UNKNOWN = 200  # the audit event names this many; the snapshot row keeps them all


@dataclass(frozen=True)
class SnapshotResult:
    """What a received snapshot changed, and the usernames idgov does not know (REV-6)."""

    snapshot_id: int
    system: str
    received_at: datetime
    digest: str
    roles: int
    assignments: int
    roles_created: int
    roles_updated: int
    roles_removed: int
    grants: GrantReport
    unknown_usernames: list[str]
    verification: HostVerification = field(default_factory=HostVerification)


@dataclass
class _RoleChanges:
    ids: dict[str, str] = field(default_factory=dict)  # role name -> entitlement id (all)
    events: list[PendingEvent] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    removed: int = 0


class SnapshotService:
    def __init__(self, clock: Clock, trail: AuditTrail, grants: GrantLedger) -> None:
        self._clock = clock
        self._trail = trail
        self._grants = grants

    def receive(
        self, session: Session, client: HostClient, system: str, body: SnapshotBody
    ) -> SnapshotResult:
        """Take a host's full snapshot of its roles and who holds them (REV-1).

        The caller must be the host client named `system` (case-insensitive) holding the
        `entitlements` scope; any other name is a 404 "unknown system", audited, so no host
        learns of another. Bad input (duplicate rows or roles, undeclared roles, unknown owners, too
        many rows) is UnprocessableRequest naming the fields, and nothing changes. Otherwise,
        in the caller's transaction: roles become entitlements (gone ones get `removed_at`),
        grants are reconciled (usernames no identity has become orphan grants and are
        returned as `unknown_usernames`), the snapshot is kept and audited, and this
        system's open or done revocations are verified against it (REV-4)."""
        name = host_system(session, self._trail, client, system, lock=True)
        wanted = normalize(body)
        now = self._clock.now()
        owners = _identities(session, wanted.owners())
        unknown_owners = sorted(set(wanted.owners()) - set(owners))
        if unknown_owners:
            wanted.refuse_owners(unknown_owners)
        holders = _identities(session, wanted.usernames())
        roles = self._roles(session, name, wanted, owners, now)
        self._trail.record_many(session, roles.events)
        grants = self._reconcile(session, name, wanted, roles, holders, now)
        unknown = sorted(set(wanted.usernames()) - set(holders))
        snapshot = SystemSnapshot(
            system=name,
            client_id=client.client_id,
            received_at=now,
            digest=wanted.digest(),
            roles=len(wanted.roles),
            assignments=len(wanted.assignments),
            unknown_usernames=json.dumps(unknown),
        )
        session.add(snapshot)
        session.flush()
        self._trail.record(
            session,
            "system:snapshot:received",
            Target("system-snapshot", str(snapshot.id)),
            new={
                "system": name,
                "digest": snapshot.digest,
                "roles": snapshot.roles,
                "assignments": snapshot.assignments,
                "roles_created": roles.created,
                "roles_updated": roles.updated,
                "roles_removed": roles.removed,
                "grants_added": grants.granted,
                "grants_removed": grants.removed,
                "grants_changed": grants.changed,
                "unknown_usernames": len(unknown),
                "unknown_usernames_first": unknown[:AUDITED_UNKNOWN],
            },
            reason=f"full snapshot from host {client.name}",
        )
        verification = verify_snapshot(
            session, self._trail, name, snapshot.id, wanted.assignments, now
        )
        return SnapshotResult(
            snapshot_id=snapshot.id,
            system=name,
            received_at=now,
            digest=snapshot.digest,
            roles=snapshot.roles,
            assignments=snapshot.assignments,
            roles_created=roles.created,
            roles_updated=roles.updated,
            roles_removed=roles.removed,
            grants=grants,
            unknown_usernames=unknown,
            verification=verification,
        )

    def _roles(
        self,
        session: Session,
        system: str,
        wanted: Normalized,
        owners: dict[str, str],
        now: datetime,
    ) -> _RoleChanges:
        """Create, update and mark removed the system's role entitlements; audit each."""
        existing = {
            row.key: row
            for row in session.scalars(
                select(Entitlement).where(
                    Entitlement.source_type == SYSTEM_ROLE, Entitlement.source == system
                )
            )
        }
        changes = _RoleChanges(ids={key: row.id for key, row in existing.items()})
        reason = f"snapshot from {system}"
        for role in wanted.roles.values():
            values: dict[str, Any] = {
                "description": role.description,
                "owner_id": owners.get(role.owner) if role.owner else None,
            }
            found = existing.get(role.name)
            if found is None:
                found = Entitlement(
                    id=str(uuid.uuid4()),
                    source_type=SYSTEM_ROLE,
                    source=system,
                    key=role.name,
                    name=role.name,
                    created_at=now,
                    updated_at=now,
                    removed_at=None,
                    **values,
                )
                session.add(found)
                changes.ids[role.name] = found.id
                changes.created += 1
                changes.events.append(
                    PendingEvent(
                        "entitlement:role:created",
                        Target("entitlement", found.id),
                        new={"system": system, "name": role.name, **values},
                        reason=reason,
                    )
                )
                continue
            old = {key: getattr(found, key) for key, value in values.items()}
            old = {key: value for key, value in old.items() if value != values[key]}
            new = {key: values[key] for key in old}
            if found.removed_at is not None:
                old["removed"], new["removed"] = True, False
            if new:
                for key, value in values.items():
                    setattr(found, key, value)
                found.removed_at, found.updated_at = None, now
                changes.updated += 1
                changes.events.append(
                    PendingEvent(
                        "entitlement:role:updated",
                        Target("entitlement", found.id),
                        old=old,
                        new=new,
                        reason=reason,
                    )
                )
        for key, row in existing.items():
            if key not in wanted.roles and row.removed_at is None:
                row.removed_at, row.updated_at = now, now
                changes.removed += 1
                changes.events.append(
                    PendingEvent(
                        "entitlement:role:removed",
                        Target("entitlement", row.id),
                        old={"system": system, "name": row.name},
                        reason=f"gone from the snapshot of {system}",
                    )
                )
        session.flush()
        return changes

    def _reconcile(
        self,
        session: Session,
        system: str,
        wanted: Normalized,
        roles: _RoleChanges,
        holders: dict[str, str],
        now: datetime,
    ) -> GrantReport:
        """Grants as the snapshot lists them; a removed role's grants all end."""
        grants: dict[GrantKey, Holder] = {
            (roles.ids[role], username): (holders.get(username), None)
            for role, username in wanted.assignments
        }
        names = {entitlement_id: role for role, entitlement_id in roles.ids.items()}
        return self._grants.reconcile(session, list(roles.ids.values()), grants, names, now, system)


def _identities(session: Session, usernames: list[str]) -> dict[str, str]:
    """Username -> identity id, through the identifier ledger: a username is bound to one
    identity forever (UNQ-1), so a deactivated holder still counts as that person."""
    found: dict[str, str] = {}
    for batch in chunked(usernames):
        rows = session.execute(
            select(IdentifierBinding.value, IdentifierBinding.identity_id).where(
                IdentifierBinding.kind == USERNAME,
                IdentifierBinding.namespace == "",
                IdentifierBinding.value.in_(batch),
            )
        )
        found.update({row.value: row.identity_id for row in rows})
    return found
