"""Host-system revocations: what a host must remove, its confirmation, and the snapshot that
verifies it (REV-4). A revocation stays open and listed until a snapshot no longer has it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from idgov.audit.context import Target
from idgov.audit.trail import AuditTrail, PendingEvent
from idgov.clients.bearer import client_target
from idgov.clients.models import HostClient
from idgov.clients.rules import printable
from idgov.entitlements.models import Entitlement
from idgov.errors import Conflict, NotFound, RecordedRefusal
from idgov.identity.access import AccessRefused
from idgov.reviews.models import Remediation, ReviewItem

SYSTEM_ROLE_KIND = "system-role"
SCOPE = "entitlements"
MAX_SYSTEM_NAME = 64  # entitlements.source, system_snapshots.system
STATUSES = ("open", "done", "verified", "failed")


class NotTheHostsOwn(RecordedRefusal):
    """A host named another system, or another system's revocation: answered exactly like
    NotFound, so nothing is revealed, and audited as a refused action (ACC-2)."""

    type_slug = "not-found"
    title = "Not found"
    status = 404


@dataclass(frozen=True)
class Revocation:
    """A signed revocation of a host role, as the host sees it."""

    id: int
    campaign_id: str
    role: str
    username: str
    status: str
    requested_at: datetime
    done_at: datetime | None
    verified_at: datetime | None
    verified_by: str | None
    last_error: str | None


@dataclass(frozen=True)
class HostVerification:
    """Revocations a snapshot verified, and those a host called done that it still lists."""

    verified: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)


def host_system(
    session: Session, trail: AuditTrail, client: HostClient, system: str, *, lock: bool = False
) -> str:
    """The system name a host client may act for: its own name, whatever the case. Another
    name is a 404 "unknown system" whether or not it exists (no host learns of another),
    audited. With `lock`, writes for the system are serialized on its client row
    (PostgreSQL; SQLite transactions are serialized already)."""
    if system.casefold() != client.name.casefold():
        _refuse(session, trail, client, "another system", system=printable(system)[:100])
        raise NotTheHostsOwn("unknown system", field="system")
    if SCOPE not in client.scopes.split():  # the bearer check refuses first; kept for callers
        _refuse(session, trail, client, f"no {SCOPE} scope", system=client.name)
        raise AccessRefused(f"this host client does not hold the {SCOPE!r} scope")
    if len(client.name) > MAX_SYSTEM_NAME:
        raise Conflict(
            f"system: a host pushing entitlements needs a name of at most {MAX_SYSTEM_NAME} "
            "characters; register it under a shorter name",
            field="system",
        )
    if lock:
        session.execute(
            select(HostClient.client_id)
            .where(HostClient.client_id == client.client_id)
            .with_for_update()
        ).first()
    return client.name


def revocations_of(
    session: Session, system: str, status: str | None, after: int, limit: int
) -> list[Revocation]:
    """The system's revocations in id order after `after`; `status` None means all."""
    query = _query().where(Remediation.source == system, Remediation.id > after)
    if status is not None:
        query = query.where(Remediation.status == status)
    rows = session.execute(query.order_by(Remediation.id).limit(limit))
    return [_revocation(row) for row in rows]


def confirm(
    session: Session,
    trail: AuditTrail,
    client: HostClient,
    system: str,
    remediation_id: int,
    note: str | None,
    now: datetime,
) -> Revocation:
    """The host says it removed the role: open (or failed) becomes done, awaiting the
    snapshot that verifies it. Done again is answered as it is; verified is a Conflict."""
    found = _owned(session, trail, client, system, remediation_id)
    if found.status == "verified":
        raise Conflict(
            f"revocation {found.id} is verified already ({found.verified_by})",
            status_now="verified",
        )
    if found.status != "done":
        old = {"status": found.status, "last_error": found.last_error}
        found.status, found.done_at, found.last_error = "done", now, None
        trail.record(
            session,
            "review:remediation:done",
            Target("review-remediation", str(found.id)),
            old=old,
            new={"status": "done", "done_at": now.isoformat(), "note": note},
            reason="the host reports the role removed; the next snapshot verifies it",
        )
        session.flush()
    return get_revocation(session, system, found.id)


def get_revocation(session: Session, system: str, remediation_id: int) -> Revocation:
    row = session.execute(
        _query().where(Remediation.source == system, Remediation.id == remediation_id)
    ).one()
    return _revocation(row)


def verify_snapshot(
    session: Session,
    trail: AuditTrail,
    system: str,
    snapshot_id: int,
    present: Collection[tuple[str, str]],
    now: datetime,
) -> HostVerification:
    """REV-4: each open or done revocation of the system that the snapshot (a set of (role,
    username)) no longer has is verified; one the host called done but that is still
    there goes back to open, with the snapshot named in `last_error`."""
    rows = session.execute(
        select(Remediation, Entitlement.key, ReviewItem.account)
        .join(ReviewItem, ReviewItem.id == Remediation.item_id)
        .join(Entitlement, Entitlement.id == ReviewItem.entitlement_id)
        .where(
            Remediation.kind == SYSTEM_ROLE_KIND,
            Remediation.source == system,
            Remediation.status.in_(("open", "done")),
        )
        .order_by(Remediation.id)
    ).all()
    result = HostVerification()
    events: list[PendingEvent] = []
    for remediation, role, account in rows:
        target = Target("review-remediation", str(remediation.id))
        old: dict[str, Any] = {"status": remediation.status}
        if (role, account) not in present:
            remediation.status, remediation.verified_at = "verified", now
            remediation.verified_by = f"snapshot:{snapshot_id}"
            remediation.done_at = remediation.done_at or now
            remediation.last_error = None
            new = {"status": "verified", "verified_by": remediation.verified_by}
            events.append(
                PendingEvent(
                    "review:remediation:verified",
                    target,
                    old=old,
                    new=new,
                    reason=f"{account} no longer holds {role} in snapshot {snapshot_id}",
                )
            )
            result.verified.append(remediation.id)
        elif remediation.status == "done":
            remediation.status, remediation.done_at = "open", None
            remediation.last_error = f"still present in snapshot {snapshot_id}"
            events.append(
                PendingEvent(
                    "review:remediation:reopened",
                    target,
                    old=old,
                    new={"status": "open", "last_error": remediation.last_error},
                    reason=f"the host said done, but {account} still holds {role}",
                )
            )
            result.reopened.append(remediation.id)
    trail.record_many(session, events)
    session.flush()
    return result


def _owned(
    session: Session, trail: AuditTrail, client: HostClient, system: str, remediation_id: int
) -> Remediation:
    """The system's own revocation, locked. Any other id is a 404; one that exists but is
    not this system's is audited as refused (ACC-2) and answered the same way."""
    found = session.scalars(
        select(Remediation).where(Remediation.id == remediation_id).with_for_update()
    ).first()
    detail = f"no revocation {str(remediation_id)!r} for this system"
    if found is None:
        raise NotFound(detail, field="id")
    if found.kind != SYSTEM_ROLE_KIND or found.source != system:
        _refuse(session, trail, client, "another system's revocation", remediation=found.id)
        raise NotTheHostsOwn(detail, field="id")
    return found


def _refuse(
    session: Session, trail: AuditTrail, client: HostClient, refusal: str, **what: object
) -> None:
    trail.record(
        session,
        "access:host-system:refused",
        client_target(client.client_id),
        new={"client_id": client.client_id, "refusal": refusal, **what},
        reason="a host acts only for its own system",
    )


def _query() -> Select[Remediation, str, str]:
    return (
        select(Remediation, Entitlement.key, ReviewItem.account)
        .join(ReviewItem, ReviewItem.id == Remediation.item_id)
        .join(Entitlement, Entitlement.id == ReviewItem.entitlement_id)
        .where(Remediation.kind == SYSTEM_ROLE_KIND)
    )


def _revocation(row: Any) -> Revocation:
    remediation, role, username = row
    return Revocation(
        id=remediation.id,
        campaign_id=remediation.campaign_id,
        role=role,
        username=username,
        status=remediation.status,
        requested_at=remediation.requested_at,
        done_at=remediation.done_at,
        verified_at=remediation.verified_at,
        verified_by=remediation.verified_by,
        last_error=remediation.last_error,
    )
